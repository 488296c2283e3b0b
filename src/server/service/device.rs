//! Device cookies (OWASP's defence against lockout as a weapon): a browser that has finished a
//! sign-in to an account carries a token the server signed for that account, and the delay that
//! other clients' failures put on the username does not hold it back. A device that fails too
//! often itself loses that standing for a day.

use super::{AuthService, OrInternal};
use crate::error::AppError;
use crate::server::auth::limits;
use crate::server::auth::token;
use crate::server::db::rate_counter;

const FAILURES: &str = "device_failures";

/// What the token signs: the account's username, so a token is good for that account only.
fn subject(username: &str) -> String {
    format!("device:{username}")
}

impl AuthService {
    /// A new device token for a browser that just signed in as `username`.
    pub(super) fn device_token(&self, username: &str) -> String {
        let nonce = token::new_token();
        let mac = self.code_key.mac(&subject(username), &nonce);
        format!("{nonce}.{mac}")
    }

    /// The device's id when `presented` is a token this server signed for `username` and the
    /// device has not failed too often since; None otherwise.
    pub(super) async fn trusted_device(
        &self,
        presented: Option<&str>,
        username: &str,
        now: i64,
    ) -> Result<Option<String>, AppError> {
        let Some((nonce, mac)) = presented.and_then(|token| token.split_once('.')) else {
            return Ok(None);
        };
        if !token::is_well_formed(nonce) || !self.code_key.matches(&subject(username), nonce, mac) {
            return Ok(None);
        }
        let failures = rate_counter::peek(&self.db, FAILURES, nonce, limits::DAY, now)
            .await
            .or_internal("device failures")?;
        Ok((failures < self.config.lockout.delay_after).then(|| nonce.to_string()))
    }

    /// A failed sign-in from a trusted device counts against that device too.
    pub(super) async fn device_failed(&self, device: &str, now: i64) -> Result<(), AppError> {
        rate_counter::hit(&self.db, FAILURES, device, limits::DAY, now)
            .await
            .or_internal("device failure")?;
        Ok(())
    }
}
