//! A code's first attempt, decided before its send is counted, so the attempt's record goes in
//! the commit that counts the send (one commit fewer per code). Only a provider whose circuit
//! is closed is planned: claiming an open circuit's trial is a write of its own, which must not
//! happen for a send the limits then refuse.

use super::super::breaker::{circuit, Circuit};
use super::{CodeSms, SmsSender};
use crate::server::auth::phone::mask_e164;
use crate::server::auth::token;
use crate::server::db::sms_message::NewSms;

pub struct PlannedAttempt {
    pub(super) key: String,
    pub(super) provider: &'static str,
    masked_phone: String,
    language: String,
    challenge: String,
    now: i64,
}

impl PlannedAttempt {
    /// The attempt's record as it stands before the provider is asked.
    pub fn record(&self) -> NewSms<'_> {
        NewSms {
            key: &self.key,
            provider: self.provider,
            masked_phone: self.masked_phone.clone(),
            kind: super::super::MessageKind::Code.name(),
            language: &self.language,
            challenge: Some(&self.challenge),
            attempt: 1,
            now: self.now,
        }
    }
}

impl SmsSender {
    /// The provider `sms` goes to first, when its circuit is closed; otherwise none, and the
    /// send records its attempts as it makes them.
    pub async fn plan_code(&self, sms: &CodeSms<'_>, now: i64) -> Option<PlannedAttempt> {
        let first = self.order(sms.after).into_iter().next()?;
        let provider = first.name();
        let health = self.health(now).await;
        let health = health.get(provider).copied().unwrap_or_default();
        if circuit(health, self.breaker, now) != Circuit::Closed {
            return None;
        }
        Some(PlannedAttempt {
            key: token::new_token(),
            provider,
            masked_phone: mask_e164(sms.to),
            language: sms.language.to_string(),
            challenge: sms.challenge.to_string(),
            now,
        })
    }
}
