//! "Forgot password": a code to the account's phone, then a new password. Neither step's answer
//! says whether the username exists.

use super::guess::{Guessed, Guesser};
use super::{hashing, AuthService, OrInternal, Who};
use crate::error::AppError;
use crate::model::CodePurpose;
use crate::server::auth::{token, validate};
use crate::server::client::ClientInfo;
use crate::server::db::otp_challenge::{self, NewChallenge};
use crate::server::db::{audit_event, login_guard, transactions, user};
use crate::server::metrics;
use crate::server::sms::templates::FALLBACK;
use crate::server::sms::CodeSms;

impl AuthService {
    /// Starts a reset and returns the challenge key for the browser. Unknown usernames get a
    /// key too, one stored nowhere; the code itself is sent after the answer, so neither the
    /// answer nor its timing tells the two apart.
    #[tracing::instrument(skip_all)]
    pub async fn start_reset(
        &self,
        username: &str,
        client: &ClientInfo,
    ) -> Result<String, AppError> {
        let result = self.start_reset_steps(username, client).await;
        metrics::password_reset("start", &result);
        result
    }

    async fn start_reset_steps(
        &self,
        username: &str,
        client: &ClientInfo,
    ) -> Result<String, AppError> {
        self.count_attempt_from_ip("reset_ip", client).await?;
        let username = username.trim().to_lowercase();
        validate::username(&username).map_err(|e| AppError::invalid(|f| f.username = Some(e)))?;
        let user = user::find_by_username(&self.db, &username)
            .await
            .or_internal("reset: lookup")?;
        // An account whose phone was never verified has no phone to prove.
        let Some(user) = user.filter(|u| u.phone_verified) else {
            return Ok(token::new_token());
        };
        let now = self.clock.now_ms();
        let language = user.language.clone().unwrap_or_else(|| FALLBACK.into());
        let (challenge, code) = self.new_challenge(
            (user.id.clone(), &user.username),
            CodePurpose::ResetPassword,
            &user.phone,
            &language,
            now,
        );
        let key = challenge.key.clone();
        let (service, client) = (self.clone(), client.clone());
        tokio::spawn(async move {
            service
                .send_reset_code(user, challenge, code, client, now)
                .await
        });
        Ok(key)
    }

    /// The part of starting a reset that only a real account has. Failures are logged; the
    /// browser was already told to look for an SMS either way.
    async fn send_reset_code(
        &self,
        user: user::UserRow,
        challenge: NewChallenge,
        code: String,
        client: ClientInfo,
        now: i64,
    ) {
        let (key, language) = (challenge.key.clone(), challenge.language.clone());
        let sms = CodeSms {
            purpose: CodePurpose::ResetPassword,
            to: &user.phone,
            code: &code,
            language: &language,
            challenge: &key,
            after: None,
            event: Some(self.event(
                audit_event::Kind::ResetRequested,
                Who::user(&user),
                "",
                &client,
            )),
        };
        let planned = match self
            .may_send_code(&sms, &challenge, user.phone_verified, &client, now)
            .await
        {
            Ok(planned) => planned,
            Err(e) => {
                tracing::warn!("reset code not sent: {e}");
                return;
            }
        };
        if let Err(e) = self.deliver(sms, planned, now).await {
            tracing::warn!("reset code not sent: {e}");
            if let Err(e) = otp_challenge::delete(&self.db, &key).await {
                tracing::error!("reset: cleanup after failed send: {e}");
            }
        }
    }

    /// Checks the reset code and sets the new password; every session of the account ends and
    /// its lock is cleared.
    #[tracing::instrument(skip_all)]
    pub async fn finish_reset(
        &self,
        challenge_key: &str,
        code: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let result = self
            .finish_reset_steps(challenge_key, code, password, client)
            .await;
        metrics::password_reset("finish", &result);
        result
    }

    async fn finish_reset_steps(
        &self,
        challenge_key: &str,
        code: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let code = self.code_to_check(code, client).await?;
        validate::password(&password).map_err(|e| AppError::invalid(|f| f.password = Some(e)))?;
        let now = self.clock.now_ms();
        let max = self.config.otp.max_attempts;
        let (_, user) = self
            .challenge_and_account(challenge_key, |r| {
                r.purpose() == Some(CodePurpose::ResetPassword)
            })
            .await?
            .ok_or(AppError::ResetCodeRefused)?;
        let user = user.ok_or(AppError::ResetCodeRefused)?;
        match self
            .guess(
                challenge_key,
                |row| self.codes_match(challenge_key, &code, None, row),
                Guesser {
                    user: Some(&user),
                    what: "reset",
                    lockout: false,
                },
                client,
            )
            .await?
        {
            // Tries left would tell a real reset from a made-up one: one sentence for all.
            Guessed::Dead | Guessed::Wrong { .. } => Err(AppError::ResetCodeRefused),
            Guessed::Right(row) => {
                let hash = self
                    .hasher
                    .hash(password)
                    .await
                    .map_err(|e| hashing("reset: hash", e))?;
                let guard = login_guard::record(&user.username);
                let won = transactions::redeem_reset(
                    &self.db,
                    challenge_key,
                    &row.code_mac,
                    max,
                    now,
                    &hash,
                    guard,
                )
                .await
                .or_internal("reset: redeem")?;
                if !won {
                    return Err(AppError::ResetCodeRefused);
                }
                self.audit(
                    audit_event::Kind::PasswordReset,
                    Who::user(&user),
                    "",
                    client,
                )
                .await;
                Ok(())
            }
        }
    }
}
