//! Security events: who did what, from where. Failing to write one is logged, never shown.

use super::AuthService;
use crate::server::auth::phone::mask_e164;
use crate::server::auth::validate;
use crate::server::client::ClientInfo;
use crate::server::db::{audit_event, user};

/// Who an audit event is about, as far as it is known.
#[derive(Clone, Copy)]
pub struct Who<'a> {
    pub account: Option<&'a surrealdb::types::RecordId>,
    pub username: &'a str,
    pub phone: Option<&'a str>,
}

impl<'a> Who<'a> {
    pub fn user(user: &'a user::UserRow) -> Self {
        Who {
            account: Some(&user.id),
            username: &user.username,
            phone: Some(&user.phone),
        }
    }

    pub fn nobody() -> Self {
        Who {
            account: None,
            username: "",
            phone: None,
        }
    }
}

impl AuthService {
    /// Writes a security event; failing to write one is logged, never shown to the user.
    pub(super) async fn audit(
        &self,
        kind: audit_event::Kind,
        who: Who<'_>,
        detail: &str,
        client: &ClientInfo,
    ) {
        self.record(self.event(kind, who, detail, client)).await;
    }

    /// Writes an event made earlier (`event`); failing is logged, never shown.
    pub(super) async fn record(&self, event: audit_event::Event) {
        if let Err(e) = audit_event::record(&self.db, event).await {
            tracing::error!("audit: {e}");
        }
    }

    pub(super) fn event(
        &self,
        kind: audit_event::Kind,
        who: Who<'_>,
        detail: &str,
        client: &ClientInfo,
    ) -> audit_event::Event {
        audit_event::Event {
            at: self.clock.now_ms(),
            kind: kind.as_str().to_string(),
            account: who.account.cloned(),
            // People type passwords into the username field: keep only what could be a name.
            username: if validate::username(who.username).is_ok() {
                who.username.to_string()
            } else {
                String::new()
            },
            masked_phone: who.phone.map(mask_e164).unwrap_or_default(),
            ip: client.ip_text(),
            user_agent: client.user_agent.clone(),
            detail: detail.to_string(),
            verified_range: None,
        }
    }

    /// A sign-in's event. It carries the account's number range: the SMS-pumping alarm counts
    /// these rows as the range's verified numbers, so no counter is written beside them.
    pub(super) fn signed_in_event(
        &self,
        user: &user::UserRow,
        method: &str,
        client: &ClientInfo,
    ) -> audit_event::Event {
        audit_event::Event {
            verified_range: Some(self.range_of(&user.phone)),
            ..self.event(audit_event::Kind::SignedIn, Who::user(user), method, client)
        }
    }
}
