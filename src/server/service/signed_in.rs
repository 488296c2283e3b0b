//! The signed-in user: who it is, signing out, their recent activity; and the countries the
//! phone field offers.

use super::{AuthService, OrInternal, Who};
use crate::error::AppError;
use crate::model::{Activity, ActivityKind, PhoneCountry, SignedInUser};
use crate::server::auth::phone::mask_e164_for_display;
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::clock::format_in;
use crate::server::db::{audit_event, session, user};

impl AuthService {
    #[tracing::instrument(skip_all)]
    pub async fn current_user(
        &self,
        session_token: &str,
    ) -> Result<Option<SignedInUser>, AppError> {
        if !token::is_well_formed(session_token) {
            return Ok(None);
        }
        let user = self
            .session_user(&token::storage_key(session_token))
            .await
            .or_internal("session lookup")?;
        let Some(u) = user else { return Ok(None) };
        // NIST 800-63B-4: users of a restricted authenticator (SMS) are told of the risk and
        // offered an alternative.
        let suggest_stronger =
            u.stronger_dismissed != Some(true) && self.other_methods(&u).await?.is_empty();
        Ok(Some(SignedInUser {
            masked_phone: mask_e164_for_display(&u.phone),
            username: u.username,
            full_name: u.full_name,
            email: u.email,
            suggest_stronger,
        }))
    }

    /// "Not now" to the suggestion of a factor stronger than SMS.
    #[tracing::instrument(skip_all)]
    pub async fn dismiss_stronger(&self, session_token: &str) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        user::dismiss_stronger(&self.db, &user.id)
            .await
            .or_internal("dismiss suggestion")
    }

    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, session_token: &str, client: &ClientInfo) -> Result<(), AppError> {
        if !token::is_well_formed(session_token) {
            return Ok(());
        }
        // Delete first: the session must end even if what follows fails.
        let key = token::storage_key(session_token);
        let account = session::delete(&self.db, &key)
            .await
            .or_internal("sign-out")?;
        let user = match account {
            Some(account) => user::find(&self.db, &account)
                .await
                .or_internal("sign-out: account")?,
            None => None,
        };
        if let Some(user) = user {
            self.audit(audit_event::Kind::SignedOut, Who::user(&user), "", client)
                .await;
        }
        Ok(())
    }

    /// The signed-in user's newest security events.
    #[tracing::instrument(skip_all)]
    pub async fn recent_activity(
        &self,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<Vec<Activity>, AppError> {
        if !token::is_well_formed(session_token) {
            return Err(AppError::NotSignedIn);
        }
        let user = self
            .session_user(&token::storage_key(session_token))
            .await
            .or_internal("activity")?
            .ok_or(AppError::NotSignedIn)?;
        let zone = self.zone_for(&user, client);
        let events = audit_event::recent_for(&self.db, &user.id, 10)
            .await
            .or_internal("activity")?;
        Ok(events
            .into_iter()
            .map(|e| Activity {
                when: format_in(e.at, zone),
                kind: ActivityKind::from_name(&e.kind),
                ip: e.ip,
                device: e.user_agent.chars().take(80).collect(),
            })
            .collect())
    }

    /// The countries the phone field offers: the ones we send SMS to, the default first.
    pub fn phone_countries(&self) -> Vec<PhoneCountry> {
        self.reach().countries()
    }
}
