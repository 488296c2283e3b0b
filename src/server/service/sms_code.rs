//! The common case of the code step: the SMS code of a sign-in or of a new account, checked
//! and, when right, turned into a session in one transaction (`transactions::check_code`).
//! Other answers (authenticator app, recovery code, passkey) take `code_step`'s general path.

use super::{AuthService, OrInternal, SignedInTokens, Who};
use crate::error::AppError;
use crate::model::SignInMethod;
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::db::otp_challenge::ChallengeRow;
use crate::server::db::transactions::{self, Checked, CodeCheck};
use crate::server::db::{audit_event, rate_counter, user};

impl AuthService {
    pub(super) async fn verify_sms_code(
        &self,
        challenge_key: &str,
        typed: &str,
        client: &ClientInfo,
    ) -> Result<SignedInTokens, AppError> {
        let code = Self::normalised(typed)?;
        if !token::is_well_formed(challenge_key) {
            // Nothing to check, but counted against the address all the same, so the limit
            // answers alike for a made-up challenge.
            self.count_code_check(client).await?;
            return Err(AppError::CodeExpired);
        }
        let now = self.clock.now_ms();
        let max = self.config.otp.max_attempts;
        let per_ip = self.code_checks_per_ip();
        let session_token = token::new_token();
        // Reset and phone-change codes prove a phone only; the transaction takes only codes
        // that sign in, and reads whom they sign in from the challenge.
        let checked = transactions::check_code(
            &self.db,
            CodeCheck {
                key: challenge_key,
                macs: self.code_key.macs(challenge_key, &code),
                max_attempts: max,
                now,
                ip_counter: rate_counter::window(per_ip.scope, &client.ip_key(), per_ip.secs, now),
                ip_max: per_ip.max,
                redemption: self.redemption(&session_token, SignInMethod::Sms, client, now),
            },
        )
        .await
        .or_internal("verify: code check")?;
        match checked {
            Checked::Right { username } => Ok(SignedInTokens {
                session: session_token,
                device: Some(self.device_token(&username)),
                recovery_left: None,
            }),
            Checked::Wrong { attempts, account } => {
                if let Some(user) = user::find(&self.db, &account)
                    .await
                    .or_internal("verify: account")?
                {
                    let who = Who::user(&user);
                    self.audit(audit_event::Kind::CodeFailed, who, "sms", client)
                        .await;
                    self.failed(who, now, client).await?;
                }
                let used = attempts.clamp(0, i64::from(max)) as u32;
                Err(AppError::WrongCode {
                    tries_left: max - used,
                })
            }
            Checked::Dead => Err(AppError::CodeExpired),
            Checked::AddressLimited { window_ends_at } => {
                Err(self.limit_hit(&per_ip, window_ends_at, now, client).await)
            }
            // Written by a build before this one; checked the way other answers are, for these
            // few minutes after an upgrade.
            Checked::Unnamed => {
                self.verify_steps(challenge_key, typed, SignInMethod::Sms, client)
                    .await
            }
            Checked::Busy => {
                // Refused unchecked, and counted as a failure, as `guess` does.
                tracing::warn!("code check refused unchecked: it kept colliding");
                if let Some((_, Some(user))) = self
                    .challenge_and_account(challenge_key, ChallengeRow::signs_in)
                    .await?
                {
                    self.failed(Who::user(&user), now, client).await?;
                }
                Err(AppError::TooManyRequests { wait_secs: 1 })
            }
        }
    }
}
