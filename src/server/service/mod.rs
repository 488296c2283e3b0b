//! The sign-in flows: registration, password sign-in, the code step, sessions. Server functions
//! call these and only translate cookies and redirects.

use std::fmt::Display;
use std::sync::Arc;

use crate::error::AppError;
use crate::model::{CodePurpose, PendingCode};
use crate::server::auth::otp::{self, CodeKey};
use crate::server::auth::password::{PasswordError, PasswordHasher};
use crate::server::auth::phone::{mask_e164, mask_e164_for_display, Phone};
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::clock::{Clock, Zone};
use crate::server::db::otp_challenge::{self, ChallengeRow, NewChallenge, SignInAs};
use crate::server::db::{challenge_read, login_guard, session, user, Db};
use crate::server::settings::Config;
use crate::server::sms::SmsSender;

mod account;
mod audit;
mod code_step;
mod device;
mod factors;
mod guess;
mod oidc_authorize;
mod oidc_client_auth;
mod oidc_clients;
mod oidc_connected;
mod oidc_keys;
mod oidc_logout;
mod oidc_token;
mod oidc_token_status;
mod passkey_step;
mod passkeys;
mod phone_change;
mod phone_wait;
mod register;
mod reset;
mod second_factor;
mod send_gate;
mod sign_in;
mod signed_in;
mod sms_code;

use audit::Who;
pub use oidc_authorize::{AuthorizeParams, Authorized, Refusal};
pub use oidc_client_auth::{ClientCredentials, OAuthError};
pub use oidc_keys::SigningKeys;
pub use oidc_logout::{Logout, LogoutParams};
pub use oidc_token::TokenForm;
pub use oidc_token_status::TokenQuery;
pub use phone_change::PhoneChangeEnd;
pub use register::Registration;

/// A sign-in finished: the new session, and the device token that lets this browser past the
/// delay other clients cause on the account.
pub struct SignedInTokens {
    pub session: String,
    pub device: Option<String>,
    /// Signed in with a recovery code: how many are left.
    pub recovery_left: Option<usize>,
}

/// A code is on its way; the challenge key goes into the browser's cookie.
pub struct CodeSent {
    pub challenge_key: String,
    pub pending: PendingCode,
}

#[derive(Clone)]
pub struct AuthService {
    pub db: Db,
    pub hasher: PasswordHasher,
    pub code_key: CodeKey,
    pub sms: SmsSender,
    pub config: Arc<Config>,
    pub clock: Clock,
    /// The passkey relying party (auth::passkey), from `public_url`.
    pub webauthn: Arc<webauthn_rs::prelude::Webauthn>,
}

/// A full hashing queue is load, not a fault: tell the user to retry shortly.
fn hashing(context: &str, e: PasswordError) -> AppError {
    match e {
        PasswordError::Busy => {
            tracing::warn!("{context}: password hashing queue full, shedding");
            AppError::Busy
        }
        other => internal(context, other),
    }
}

/// Logs the detail, gives the user the short sentence.
fn internal(context: &str, e: impl Display) -> AppError {
    tracing::error!("{context}: {e}");
    AppError::Internal
}

/// `.or_internal("what")`: a store or infrastructure failure becomes the user's short
/// sentence, with the detail in the log.
trait OrInternal<T> {
    fn or_internal(self, context: &str) -> Result<T, AppError>;
}

impl<T, E: Display> OrInternal<T> for Result<T, E> {
    fn or_internal(self, context: &str) -> Result<T, AppError> {
        self.map_err(|e| internal(context, e))
    }
}

const SECOND_MS: i64 = 1000;

impl AuthService {
    fn ms(secs: u64) -> i64 {
        secs as i64 * SECOND_MS
    }

    /// What the code step shows for a stored challenge; None if its purpose is unknown.
    fn pending_of(&self, row: &ChallengeRow, now: i64) -> Option<PendingCode> {
        let pending = pending(
            row.purpose()?,
            &row.phone,
            row.expires_at,
            row.resend_after,
            now,
        );
        Some(PendingCode {
            sms_sent: row.sends != Some(0),
            ..pending
        })
    }

    /// A new challenge for the account `account` named `username`, its code to `phone`.
    fn new_challenge(
        &self,
        (account, username): (surrealdb::types::RecordId, &str),
        purpose: CodePurpose,
        phone: &str,
        language: &str,
        now: i64,
    ) -> (NewChallenge, String) {
        let key = token::new_token();
        let code = self.code_for(phone, now);
        // A code that signs in goes to the account's own phone: the one its audit row shows and
        // the alarm counts.
        let sign_in_as = purpose.signs_in().then(|| SignInAs {
            username: username.to_string(),
            guard: login_guard::record(username),
            masked_phone: mask_e164(phone),
            range: self.range_of(phone),
        });
        let challenge = NewChallenge {
            code_mac: self.code_key.mac(&key, &code),
            key,
            account,
            purpose,
            phone: phone.to_string(),
            now,
            expires_at: now + Self::ms(self.config.otp.ttl_secs),
            resend_after: now + Self::ms(self.resend_wait(1)),
            language: language.to_string(),
            sign_in_as,
        };
        (challenge, code)
    }

    /// The challenge behind a browser's key, when the key is well formed, the challenge exists
    /// and `fits` decides it belongs to the step asking.
    async fn challenge(
        &self,
        key: &str,
        fits: impl Fn(&ChallengeRow) -> bool,
    ) -> Result<Option<ChallengeRow>, AppError> {
        if !token::is_well_formed(key) {
            return Ok(None);
        }
        let row = otp_challenge::get(&self.db, key)
            .await
            .or_internal("challenge: read")?;
        Ok(row.filter(|r| fits(r)))
    }

    /// [`Self::challenge`] and its account, read together.
    async fn challenge_and_account(
        &self,
        key: &str,
        fits: impl Fn(&ChallengeRow) -> bool,
    ) -> Result<Option<(ChallengeRow, Option<user::UserRow>)>, AppError> {
        if !token::is_well_formed(key) {
            return Ok(None);
        }
        let read = challenge_read::challenge_and_account(&self.db, key)
            .await
            .or_internal("challenge and account: read")?;
        Ok(read.filter(|(row, _)| fits(row)))
    }

    /// The code as typed or pasted, or what is wrong with it.
    fn normalised(code: &str) -> Result<String, AppError> {
        otp::normalise_code(code).ok_or(AppError::CodeFormat)
    }

    /// The zone a reader sees times in: their browser's, else their account country's, else UTC.
    fn zone_for(&self, user: &user::UserRow, client: &ClientInfo) -> Zone {
        client
            .zone
            .or_else(|| {
                Phone::from_e164(&user.phone)
                    .and_then(|p| p.region())
                    .and_then(|region| Zone::of_region(region.as_ref()))
            })
            .unwrap_or(Zone::UTC)
    }

    fn stale_before(&self, now: i64) -> i64 {
        now - Self::ms(self.config.otp.challenge_max_age_secs)
    }

    async fn account_of(&self, row: &ChallengeRow) -> Result<Option<user::UserRow>, AppError> {
        user::find(&self.db, &row.account)
            .await
            .or_internal("challenge account")
    }

    /// The account behind a live session; using it counts as activity.
    async fn session_user(
        &self,
        key: &str,
    ) -> Result<Option<user::UserRow>, crate::server::db::DbError> {
        let now = self.clock.now_ms();
        let idle_since = now - Self::ms(self.config.session_idle_timeout_secs);
        session::account(&self.db, key, now, idle_since).await
    }
}

fn pending_of_new(challenge: &NewChallenge, now: i64) -> PendingCode {
    pending(
        challenge.purpose,
        &challenge.phone,
        challenge.expires_at,
        challenge.resend_after,
        now,
    )
}

/// What the code step shows: where the code went and how long it and the resend wait last.
fn pending(
    purpose: CodePurpose,
    phone: &str,
    expires_at: i64,
    resend_after: i64,
    now: i64,
) -> PendingCode {
    PendingCode {
        purpose,
        masked_phone: mask_e164_for_display(phone),
        expires_in_secs: secs_until(expires_at, now),
        resend_in_secs: secs_until(resend_after, now),
        sms_sent: true,
        others: Vec::new(),
    }
}

/// A number the user has just typed that no provider can text is a problem of the phone field.
fn at_phone_field(error: AppError) -> AppError {
    match error {
        AppError::NumberCannotReceiveSms => {
            AppError::invalid(|f| f.phone = Some(crate::error::Problem::CannotReceiveSms))
        }
        other => other,
    }
}

fn secs_until(at_ms: i64, now_ms: i64) -> u64 {
    ((at_ms - now_ms).max(0) as u64).div_ceil(1000)
}
