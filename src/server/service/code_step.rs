//! The code step of sign-in and registration: what is pending, checking a code (a correct
//! one makes the session), and "Resend code".

use super::guess::{Guessed, Guesser};
use super::{secs_until, AuthService, OrInternal, SignedInTokens, Who};
use crate::error::AppError;
use crate::model::{CodePurpose, PendingCode, SignInMethod};
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::db::otp_challenge::{self, ChallengeRow, NewCode};
use crate::server::db::transactions::{self, Redemption, WithSend};
use crate::server::db::{audit_event, sms_message};
use crate::server::metrics;
use crate::server::sms::templates::FALLBACK;
use crate::server::sms::CodeSms;

impl AuthService {
    #[tracing::instrument(skip_all)]
    pub async fn pending(&self, challenge_key: &str) -> Result<Option<PendingCode>, AppError> {
        let now = self.clock.now_ms();
        let row = self
            .challenge(challenge_key, |r| {
                r.signs_in() && !r.consumed && r.created_at > self.stale_before(now)
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(pending) = self.pending_of(&row, now) else {
            return Ok(None);
        };
        let others = match (row.purpose(), self.account_of(&row).await?) {
            (Some(CodePurpose::SignIn), Some(user)) => self.other_methods(&user).await?,
            _ => Vec::new(),
        };
        Ok(Some(PendingCode { others, ..pending }))
    }

    /// Checks an answer to the sign-in step (the SMS code, or by `method` an authenticator-app
    /// or recovery code); on success returns a new session token and, for an account, a device
    /// token.
    #[tracing::instrument(skip_all)]
    pub async fn verify(
        &self,
        challenge_key: &str,
        code: &str,
        method: SignInMethod,
        client: &ClientInfo,
    ) -> Result<SignedInTokens, AppError> {
        let result = match method {
            SignInMethod::Sms => self.verify_sms_code(challenge_key, code, client).await,
            _ => self.verify_steps(challenge_key, code, method, client).await,
        };
        metrics::verification(&result);
        result
    }

    pub(super) async fn verify_steps(
        &self,
        challenge_key: &str,
        code: &str,
        method: SignInMethod,
        client: &ClientInfo,
    ) -> Result<SignedInTokens, AppError> {
        let now = self.clock.now_ms();
        let max = self.config.otp.max_attempts;
        // Reset and phone-change codes prove a phone only; they never stand in for the password.
        // The answer is counted per IP before the challenge is looked up, as `code_to_check` is.
        let read = self.challenge_and_account(challenge_key, ChallengeRow::signs_in);
        let (row, user) = match read.await {
            Ok(Some((row, user))) => (Ok(Some(row)), user),
            Ok(None) => (Ok(None), None),
            Err(e) => (Err(e), None),
        };
        let proof = self.proof_for(method, code, user.as_ref(), client).await?;
        let row = row?.ok_or(AppError::CodeExpired)?;
        // Only a sign-in may be answered by another factor; verifying a phone needs its code.
        if method != SignInMethod::Sms && row.purpose() != Some(CodePurpose::SignIn) {
            return Err(AppError::CodeExpired);
        }
        match self
            .guess(
                challenge_key,
                |row| self.proves(&proof, challenge_key, row),
                Guesser {
                    user: user.as_ref(),
                    what: method.stored(),
                    lockout: true,
                },
                client,
            )
            .await?
        {
            Guessed::Dead => Err(AppError::CodeExpired),
            Guessed::Wrong { tries_left } => Err(AppError::WrongCode { tries_left }),
            Guessed::Right(row) => {
                let spent = match &user {
                    Some(user) => self.spend(&proof, user).await?,
                    None => None,
                };
                let Some(spent) = spent else {
                    // Another request spent this very answer a moment ago.
                    let used = row.attempts.clamp(0, i64::from(max)) as u32;
                    return Err(AppError::WrongCode {
                        tries_left: max - used,
                    });
                };
                let session_token = token::new_token();
                let redemption = self.redemption(&session_token, spent.method, client, now);
                let won = transactions::redeem(
                    &self.db,
                    challenge_key,
                    &row.code_mac,
                    max,
                    now,
                    redemption,
                )
                .await
                .or_internal("verify: redeem")?;
                if won {
                    let device = user.as_ref().map(|u| self.device_token(&u.username));
                    if let Some(user) = user {
                        let entered = self.signed_in_event(&user, spent.method.stored(), client);
                        let outcome = transactions::SignedIn {
                            username: &user.username,
                            used: Some((&user.id, spent.method.stored())),
                            events: vec![entered],
                        };
                        transactions::signed_in(&self.db, outcome)
                            .await
                            .or_internal("verify: bookkeeping")?;
                    }
                    Ok(SignedInTokens {
                        session: session_token,
                        device,
                        recovery_left: spent.recovery_left,
                    })
                } else {
                    Err(AppError::CodeExpired)
                }
            }
        }
    }

    /// The session a right answer makes: after the password, with `method`.
    pub(super) fn redemption(
        &self,
        session_token: &str,
        method: SignInMethod,
        client: &ClientInfo,
        now: i64,
    ) -> Redemption {
        Redemption {
            session_key: token::storage_key(session_token),
            session_expires_at: now + Self::ms(self.config.session_ttl_secs),
            ip: client.ip_text(),
            user_agent: client.user_agent.chars().take(300).collect(),
            methods: vec![
                SignInMethod::Password.stored().to_string(),
                method.stored().to_string(),
            ],
        }
    }

    /// A new code for the same challenge, once the cooldown allows; the old code stops working.
    #[tracing::instrument(skip_all)]
    pub async fn resend(
        &self,
        challenge_key: &str,
        client: &ClientInfo,
    ) -> Result<PendingCode, AppError> {
        let result = self.resend_steps(challenge_key, client).await;
        metrics::resend(&result);
        result
    }

    async fn resend_steps(
        &self,
        challenge_key: &str,
        client: &ClientInfo,
    ) -> Result<PendingCode, AppError> {
        let now = self.clock.now_ms();
        let row = self
            .challenge(challenge_key, ChallengeRow::signs_in)
            .await?
            .ok_or(AppError::CodeExpired)?;
        // Out of tries, the sign-in starts over: a new code would not bring tries back.
        let out_of_tries = row.attempts >= i64::from(self.config.otp.max_attempts);
        if row.consumed || out_of_tries || row.created_at <= self.stale_before(now) {
            return Err(AppError::CodeExpired);
        }
        if row.resend_after > now {
            return Err(AppError::ResendTooSoon {
                wait_secs: secs_until(row.resend_after, now),
            });
        }
        // Sign-in codes only ever go to a verified phone.
        let proven = row.purpose() == Some(CodePurpose::SignIn);
        let purpose = row.purpose().ok_or(AppError::CodeExpired)?;
        self.may_send(
            &row.phone,
            purpose,
            proven,
            client,
            now,
            WithSend::default(),
        )
        .await?;
        let code = self.code_for(&row.phone, now);
        let code_mac = self.code_key.mac(challenge_key, &code);
        let sends = row.sends.unwrap_or(1).max(1) + 1;
        let new_code = NewCode {
            code_mac: &code_mac,
            expires_at: now + Self::ms(self.config.otp.ttl_secs),
            resend_after: now + Self::ms(self.resend_wait(sends as u32)),
            sends,
        };
        let updated = otp_challenge::replace_code(
            &self.db,
            challenge_key,
            new_code,
            now,
            self.stale_before(now),
        )
        .await
        .or_internal("resend: replace")?
        // Another resend won the race; its cooldown now applies.
        .ok_or(AppError::ResendTooSoon {
            wait_secs: self.config.otp.resend_cooldown_secs,
        })?;
        // "Didn't get it?": the resend goes first through the provider after the one that
        // carried the last code.
        let last_carrier = sms_message::last_carrier(&self.db, challenge_key)
            .await
            .or_internal("resend: last carrier")?;
        let who = Who {
            account: Some(&updated.account),
            username: "",
            phone: Some(&updated.phone),
        };
        let sms = CodeSms {
            purpose,
            to: &updated.phone,
            code: &code,
            language: updated.language.as_deref().unwrap_or(FALLBACK),
            challenge: challenge_key,
            after: last_carrier.as_deref(),
            event: Some(self.event(audit_event::Kind::CodeSent, who, "", client)),
        };
        if let Err(error) = self.deliver(sms, None, now).await {
            if let Err(e) = otp_challenge::allow_resend_now(&self.db, challenge_key, now).await {
                tracing::error!("resend: reset cooldown: {e}");
            }
            return Err(error);
        }
        self.pending_of(&updated, now).ok_or(AppError::CodeExpired)
    }
}
