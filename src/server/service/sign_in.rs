//! Password sign-in: the password, then a fresh code to the phone stored for *this* user;
//! and the failure count behind the lockout.

use super::second_factor::methods_besides_sms;
use super::{hashing, pending_of_new, secs_until, AuthService, CodeSent, OrInternal, Who};
use crate::error::AppError;
use crate::model::{CodePurpose, PendingCode, SignInMethod};
use crate::server::auth::lockout;
use crate::server::auth::validate;
use crate::server::client::ClientInfo;
use crate::server::db::sign_in_read::{sign_in_read, SignInRead};
use crate::server::db::{audit_event, login_guard, otp_challenge, rate_counter, user};
use crate::server::metrics;
use crate::server::sms::templates::FALLBACK;
use crate::server::sms::{CodeSms, MessageKind};

impl AuthService {
    /// Checks the password; on success sends a fresh code to the phone stored for *this* user.
    /// Unknown users and wrong passwords get the same answer after the same work.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let result = self.sign_in_steps(username, password, client).await;
        metrics::sign_in(&result);
        result
    }

    async fn sign_in_steps(
        &self,
        username: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let username = username.trim().to_lowercase();
        let now = self.clock.now_ms();
        // The address's attempt is counted in the read's query, before the hash is spent.
        let limit = self.ip_attempts("signin_ip");
        let counter = rate_counter::window(limit.scope, &client.ip_key(), limit.secs, now);
        let window_ends_at = counter.1;
        // A name no account can have reads only its guard.
        let possible = validate::username(&username).is_ok();
        let SignInRead {
            attempts,
            guard,
            user,
            held,
        } = sign_in_read(&self.db, &username, possible, counter)
            .await
            .or_internal("sign-in: read")?;
        if attempts > limit.max {
            return Err(self.limit_hit(&limit, window_ends_at, now, client).await);
        }
        let device = self
            .trusted_device(client.device.as_deref(), &username, now)
            .await?;
        // Other clients' failures must not keep out a browser this account signed in from.
        if guard.retry_at > now && device.is_none() {
            return Err(AppError::TooManyRequests {
                wait_secs: secs_until(guard.retry_at, now),
            });
        }
        let matched = self
            .hasher
            .verify(user.as_ref().map(|u| u.password_hash.clone()), password)
            .await
            .map_err(|e| hashing("sign-in: verify", e))?;
        let user = match user {
            Some(user) if matched => user,
            other => {
                let who = Who {
                    account: other.as_ref().map(|u| &u.id),
                    username: &username,
                    phone: other.as_ref().map(|u| u.phone.as_str()),
                };
                self.audit(audit_event::Kind::SignInFailed, who, "password", client)
                    .await;
                if let Some(device) = &device {
                    self.device_failed(device, now).await?;
                }
                self.failed(who, now, client).await?;
                return Err(AppError::SignInFailed);
            }
        };
        // Only someone who knows the password learns that the account is locked.
        if guard.locked {
            return Err(AppError::AccountLocked);
        }

        // An account whose phone was never verified finishes that step now.
        let purpose = if user.phone_verified {
            CodePurpose::SignIn
        } else {
            CodePurpose::VerifyPhone
        };
        let others = match purpose {
            CodePurpose::SignIn => methods_besides_sms(held, &user),
            _ => Vec::new(),
        };
        // The last factor used comes first: after an app, no SMS leaves until asked for; after
        // SMS, the code goes at once as before, and the other ways are offered beside it.
        let sms_last = user.last_method.as_deref() == Some(SignInMethod::Sms.stored());
        if !others.is_empty() && !sms_last {
            return self.offer_methods(&user, others, client, now).await;
        }
        let language = self.language_of(&user, client).await;
        let language = language.as_str();
        let (challenge, code) = self.new_challenge(
            (user.id.clone(), &user.username),
            purpose,
            &user.phone,
            language,
            now,
        );
        let challenge_key = challenge.key.clone();
        let sms = CodeSms {
            purpose,
            to: &user.phone,
            code: &code,
            language,
            challenge: &challenge_key,
            after: None,
            event: Some(self.event(audit_event::Kind::CodeSent, Who::user(&user), "", client)),
        };
        // Counted and stored in one commit, with the record of the first provider's attempt:
        // the challenge exists only if the code may leave.
        let planned = self
            .may_send_code(&sms, &challenge, user.phone_verified, client, now)
            .await?;
        let pending = pending_of_new(&challenge, now);
        if let Err(error) = self.deliver(sms, planned, now).await {
            if let Err(e) = otp_challenge::delete(&self.db, &challenge_key).await {
                tracing::error!("sign-in: cleanup after failed send: {e}");
            }
            return Err(error);
        }
        Ok(CodeSent {
            pending: PendingCode { others, ..pending },
            challenge_key,
        })
    }

    /// The password was right and the account has more than SMS: the step waits for the user
    /// to pick (the app first); no SMS leaves until they ask for one ("resend" sends it).
    async fn offer_methods(
        &self,
        user: &user::UserRow,
        others: Vec<crate::model::SignInMethod>,
        client: &ClientInfo,
        now: i64,
    ) -> Result<CodeSent, AppError> {
        let language = self.language_of(user, client).await;
        let (mut challenge, _unsent) = self.new_challenge(
            (user.id.clone(), &user.username),
            CodePurpose::SignIn,
            &user.phone,
            &language,
            now,
        );
        challenge.resend_after = now;
        let challenge_key = challenge.key.clone();
        let pending = crate::model::PendingCode {
            sms_sent: false,
            others,
            ..pending_of_new(&challenge, now)
        };
        otp_challenge::create_unsent(&self.db, challenge)
            .await
            .or_internal("sign-in: challenge")?;
        Ok(CodeSent {
            pending,
            challenge_key,
        })
    }

    /// Counts a failed password or code against the username; at the lock, tells the owner.
    pub(super) async fn failed(
        &self,
        who: Who<'_>,
        now: i64,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let (username, phone) = (who.username, who.phone);
        // No account can have such a name, and it may be a password typed in the wrong field:
        // no lock record is keyed by it.
        if validate::username(username).is_err() {
            return Ok(());
        }
        let policy = &self.config.lockout;
        let failure = login_guard::record_failure(&self.db, username, now, |failures| {
            let consequence = lockout::after_failures(policy, failures);
            (consequence.wait_secs, consequence.locked)
        })
        .await
        .or_internal("failure count")?;
        if failure.newly_locked {
            tracing::warn!(
                "account locked after {} consecutive failures",
                failure.guard.failures
            );
            self.audit(audit_event::Kind::Locked, who, "", client).await;
            if let Some(phone) = phone {
                let language = match who.account {
                    Some(account) => user::find(&self.db, account)
                        .await
                        .ok()
                        .flatten()
                        .and_then(|u| u.language),
                    None => None,
                };
                let language = language.as_deref().unwrap_or(FALLBACK);
                if let Err(e) = self
                    .sms
                    .send_notice(phone, MessageKind::Locked, language, now)
                    .await
                {
                    tracing::error!("lock notice: {e}");
                }
            }
        }
        Ok(())
    }

    /// The SMS language of someone who has proved the password: the one this browser picked
    /// on the site when we have texts in it (remembered on the account, so later notices sent
    /// without a browser speak it too), else the one stored at registration.
    pub(super) async fn language_of(&self, user: &user::UserRow, client: &ClientInfo) -> String {
        let stored = user.language.as_deref().unwrap_or(FALLBACK);
        let Some(picked) = client
            .chosen_language
            .as_deref()
            .filter(|language| self.sms.speaks(language))
        else {
            return stored.to_string();
        };
        if picked != stored {
            if let Err(e) = user::set_language(&self.db, &user.id, picked).await {
                tracing::warn!("could not remember the account's language: {e}");
            }
        }
        picked.to_string()
    }
}
