//! The sign-in flows: registration, password sign-in, the code step, sessions. Server functions
//! call these and only translate cookies and redirects.

use std::fmt::Display;
use std::sync::Arc;

use crate::error::{AppError, FieldErrors, Problem};
use crate::model::{Activity, ActivityKind, CodePurpose, PendingCode, PhoneCountry, SignedInUser};
use crate::server::auth::limits::{self, Window};
use crate::server::auth::otp::{self, CodeCheck, CodeKey};
use crate::server::auth::password::{PasswordError, PasswordHasher};
use crate::server::auth::phone::{self, mask_e164, Phone, PhoneError};
use crate::server::auth::{pumping, test_numbers};
use crate::server::auth::{token, validate};
use crate::server::client::ClientInfo;
use crate::server::clock::Clock;
use crate::server::config::Config;
use crate::server::db::challenges::{self, ChallengeRow, NewChallenge, NewCode, Redemption};
use crate::server::db::users::{self, CreateError, NewUser, Taken};
use crate::server::db::{audit, counters, guards};
use crate::server::db::{sessions, signed_in, sms_log, Db};
use crate::server::metrics;
use crate::server::sms::templates::FALLBACK;
use crate::server::sms::{CodeSms, MessageKind, SmsError, SmsSender};

mod account;
mod reset;

/// What registration asks for, as typed.
pub struct Registration {
    pub username: String,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub password: String,
    /// The region picked beside the number ("IN"), for numbers typed without +country code.
    pub country: Option<String>,
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

const SECOND_MS: i64 = 1000;

impl AuthService {
    fn ms(secs: u64) -> i64 {
        secs as i64 * SECOND_MS
    }

    fn pending_of(&self, row: &ChallengeRow, now: i64) -> PendingCode {
        pending(
            row.purpose(),
            &row.phone,
            row.expires_at,
            row.resend_after,
            now,
        )
    }

    fn new_challenge(
        &self,
        account: surrealdb::types::RecordId,
        purpose: CodePurpose,
        phone: &str,
        language: &str,
        now: i64,
    ) -> (NewChallenge, String) {
        let key = token::new_token();
        let code = self.code_for(phone, now);
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
        };
        (challenge, code)
    }

    fn resend_wait(&self, sends: u32) -> u64 {
        let otp = &self.config.otp;
        limits::resend_wait_secs(
            sends,
            otp.resend_cooldown_secs,
            otp.resend_cooldown_max_secs,
            rand::random(),
        )
    }

    /// Writes a security event; failing to write one is logged, never shown to the user.
    async fn audit(&self, kind: audit::Kind, who: Who<'_>, detail: &str, client: &ClientInfo) {
        let event = self.event(kind, who, detail, client);
        if let Err(e) = audit::record(&self.db, event).await {
            tracing::error!("audit: {e}");
        }
    }

    fn event(
        &self,
        kind: audit::Kind,
        who: Who<'_>,
        detail: &str,
        client: &ClientInfo,
    ) -> audit::Event {
        audit::Event {
            at: self.clock.now_ms(),
            kind: kind.as_str().to_string(),
            account: who.account.cloned(),
            username: who.username.chars().take(64).collect(),
            masked_phone: who.phone.map(mask_e164).unwrap_or_default(),
            ip: client.ip_key(),
            user_agent: client.user_agent.clone(),
            detail: detail.to_string(),
        }
    }

    /// Counts one event against a limit; refuses once the window is full.
    async fn count(
        &self,
        window: Window,
        key: &str,
        now: i64,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let hit = counters::hit(&self.db, window.scope, key, window.secs, now)
            .await
            .map_err(|e| internal("rate limit", e))?;
        if hit.count > window.max {
            tracing::warn!(
                "limit hit: {} ({} per {} s)",
                window.scope,
                window.max,
                window.secs
            );
            self.audit(audit::Kind::LimitHit, Who::nobody(), window.scope, client)
                .await;
            return Err(AppError::TooManyRequests {
                wait_secs: secs_until(hit.window_ends_at, now),
            });
        }
        Ok(())
    }

    /// A fresh random code, or a test number's fixed one.
    fn code_for(&self, phone: &str, now: i64) -> String {
        test_numbers::fixed_code(&self.config.test_numbers, phone, now)
            .map(str::to_string)
            .unwrap_or_else(otp::generate_code)
    }

    /// Sends the code by SMS and names the provider that took it; test numbers get none
    /// (their code is fixed and known).
    async fn deliver(&self, sms: CodeSms<'_>, now: i64) -> Result<&'static str, AppError> {
        if test_numbers::fixed_code(&self.config.test_numbers, sms.to, now).is_some() {
            tracing::info!("Test number {}: no SMS sent", mask_e164(sms.to));
            return Ok("test_number");
        }
        self.sms.send_code(sms, now).await.map_err(|e| match e {
            SmsError::BadNumber { .. } => AppError::NumberCannotReceiveSms,
            _ => AppError::SmsFailed,
        })
    }

    /// Whether a code may go to `phone` now: not in a paused range, within every limit.
    async fn may_send(&self, phone: &str, client: &ClientInfo, now: i64) -> Result<(), AppError> {
        let range = self.range_of(phone);
        let block_key = format!("pumping|{range}");
        if let Some(until) = counters::blocked_until(&self.db, &block_key, now)
            .await
            .map_err(|e| internal("pumping check", e))?
        {
            return Err(AppError::SendingPaused {
                wait_secs: secs_until(until, now),
            });
        }
        self.within_limits(phone, client, now).await?;
        // Judge the range with this send counted.
        let sends = counters::hit(&self.db, "range_sends", &range, limits::HOUR, now)
            .await
            .map_err(|e| internal("pumping count", e))?
            .count;
        let verified = counters::peek(&self.db, "range_verified", &range, limits::HOUR, now)
            .await
            .map_err(|e| internal("pumping count", e))?;
        if pumping::is_pumped(&self.config.pumping, sends, verified) {
            let until = now + Self::ms(limits::HOUR);
            counters::block(&self.db, &block_key, until)
                .await
                .map_err(|e| internal("pumping block", e))?;
            tracing::warn!(
                "SMS-pumping alarm: {sends} codes to {range}* this hour, {verified} verified; \
                 sending to that range is stopped for an hour"
            );
            self.audit(audit::Kind::PumpingAlarm, Who::nobody(), &range, client)
                .await;
            return Err(AppError::SendingPaused {
                wait_secs: limits::HOUR,
            });
        }
        Ok(())
    }

    /// The number range the pumping alarm judges a phone by.
    fn range_of(&self, phone: &str) -> String {
        let digits = self.config.pumping.prefix_digits;
        Phone::from_e164(phone)
            .map(|p| pumping::prefix(p.e164(), p.country_code(), digits))
            .unwrap_or_else(|| phone.chars().take(4).collect())
    }

    /// Every code that leaves counts against its phone (hour and day) and the client's IP.
    async fn within_limits(
        &self,
        phone: &str,
        client: &ClientInfo,
        now: i64,
    ) -> Result<(), AppError> {
        let l = &self.config.limits;
        let phone_hour = Window {
            scope: "sms_phone_hour",
            max: l.phone_per_hour,
            secs: limits::HOUR,
        };
        let phone_day = Window {
            scope: "sms_phone_day",
            max: l.phone_per_day,
            secs: limits::DAY,
        };
        let ip_hour = Window {
            scope: "sms_ip_hour",
            max: l.ip_sends_per_hour,
            secs: limits::HOUR,
        };
        self.count(phone_hour, phone, now, client).await?;
        self.count(phone_day, phone, now, client).await?;
        self.count(ip_hour, &client.ip_key(), now, client).await
    }

    /// Counts a wrong code on the challenge and against the account; returns what to tell
    /// the user: the tries left, or that the code is dead.
    async fn wrong_code(
        &self,
        challenge_key: &str,
        user: Option<&users::UserRow>,
        what: &str,
        now: i64,
        client: &ClientInfo,
    ) -> Result<AppError, AppError> {
        let max = self.config.otp.max_attempts;
        let used = challenges::record_wrong_attempt(&self.db, challenge_key, max)
            .await
            .map_err(|e| internal("wrong code: count attempt", e))?;
        if let Some(user) = user {
            self.audit(audit::Kind::CodeFailed, Who::user(user), what, client)
                .await;
            self.failed(Who::user(user), now, client).await?;
        }
        Ok(match used {
            Some(used) => AppError::WrongCode {
                tries_left: max.saturating_sub(used),
            },
            None => AppError::CodeExpired,
        })
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
        let row = challenges::get(&self.db, key)
            .await
            .map_err(|e| internal("challenge: read", e))?;
        Ok(row.filter(|r| fits(r)))
    }

    /// A submitted code against its challenge row.
    fn check_code(&self, row: &ChallengeRow, key: &str, code: &str, now: i64) -> CodeCheck {
        let state = otp::ChallengeState {
            consumed: row.consumed,
            attempts: row.attempts.max(0) as u32,
            expires_at_ms: row.expires_at,
        };
        let max = self.config.otp.max_attempts;
        otp::check_code(&self.code_key, key, &state, &row.code_mac, code, max, now)
    }

    /// The code as typed or pasted, or what is wrong with it.
    fn normalised(code: &str) -> Result<String, AppError> {
        otp::normalise_code(code).ok_or(AppError::CodeFormat)
    }

    /// Password attempts and reset requests from one client IP, per 10 minutes.
    async fn count_attempt_from_ip(
        &self,
        scope: &'static str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let attempts = Window {
            scope,
            max: self.config.limits.ip_signins_per_10min,
            secs: limits::TEN_MINUTES,
        };
        self.count(attempts, &client.ip_key(), self.clock.now_ms(), client)
            .await
    }

    fn stale_before(&self, now: i64) -> i64 {
        now - Self::ms(self.config.otp.challenge_max_age_secs)
    }

    pub async fn register(
        &self,
        input: Registration,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let result = self.register_counted(input, client).await;
        metrics::registration(&result);
        result
    }

    async fn register_counted(
        &self,
        input: Registration,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let mut errors = FieldErrors::default();
        let username = validate::username(&input.username)
            .map_err(|e| errors.username = Some(e))
            .ok();
        let full_name = validate::full_name(&input.full_name)
            .map_err(|e| errors.full_name = Some(e))
            .ok();
        let phone = match self.parse_phone(&input.phone, input.country.as_deref()) {
            Ok(phone) => Some(phone),
            Err(problem) => {
                self.phone_problem(&mut errors, problem);
                None
            }
        };
        let email = validate::email(&input.email)
            .map_err(|e| errors.email = Some(e))
            .ok();
        let _ = validate::password(&input.password).map_err(|e| errors.password = Some(e));
        let (Some(username), Some(full_name), Some(phone), Some(email), true) =
            (username, full_name, phone, email, errors.is_empty())
        else {
            return Err(AppError::InvalidFields(Box::new(errors)));
        };

        let now = self.clock.now_ms();
        // Cheap check first so a taken name costs no hash; the unique indexes still decide races.
        let taken = users::taken(&self.db, &username, phone.e164(), self.stale_before(now))
            .await
            .map_err(|e| internal("register: taken check", e))?;
        if taken != Taken::default() {
            return Err(taken_error(&taken));
        }
        let password_hash = self
            .hasher
            .hash(input.password)
            .await
            .map_err(|e| hashing("register: hash", e))?;

        let user_key = token::new_token();
        let account = users::record(&user_key);
        let language = self.sms.language_for(&client.languages);
        let (challenge, code) = self.new_challenge(
            account.clone(),
            CodePurpose::VerifyPhone,
            phone.e164(),
            &language,
            now,
        );
        let challenge_key = challenge.key.clone();
        let pending = pending_of_new(&challenge, now);
        let audit_name = username.clone();
        let user = NewUser {
            key: user_key,
            username,
            full_name,
            phone: phone.e164().to_string(),
            email,
            password_hash,
            language: language.clone(),
        };
        match users::create_with_challenge(&self.db, user, challenge, now, self.stale_before(now))
            .await
        {
            Ok(()) => {}
            Err(CreateError::Taken(taken)) => return Err(taken_error(&taken)),
            Err(e) => return Err(internal("register: create", e)),
        }

        // Limits count only once the account exists: racers for one name or phone get a clean
        // "taken" from the unique indexes, not a limit.
        let sms = CodeSms {
            to: phone.e164(),
            code: &code,
            language: &language,
            challenge: &challenge_key,
            after: None,
        };
        let sent = match self.may_send(phone.e164(), client, now).await {
            Ok(()) => self.deliver(sms, now).await,
            Err(refused) => Err(refused),
        };
        let provider = match sent {
            Ok(provider) => provider,
            Err(error) => {
                // Leave nothing half-made: the account only exists once its phone can be verified.
                if let Err(e) = users::delete_unverified(&self.db, &account).await {
                    tracing::error!("register: cleanup after unsent code: {e}");
                }
                return Err(match error {
                    AppError::NumberCannotReceiveSms => {
                        AppError::invalid(|f| f.phone = Some(Problem::CannotReceiveSms))
                    }
                    other => other,
                });
            }
        };
        let who = Who {
            account: Some(&account),
            username: &audit_name,
            phone: Some(phone.e164()),
        };
        self.audit(audit::Kind::Registered, who, "", client).await;
        self.audit(audit::Kind::CodeSent, who, provider, client)
            .await;
        Ok(CodeSent {
            pending,
            challenge_key,
        })
    }

    /// Checks the password; on success sends a fresh code to the phone stored for *this* user.
    /// Unknown users and wrong passwords get the same answer after the same work.
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let result = self.sign_in_counted(username, password, client).await;
        metrics::sign_in(&result);
        result
    }

    async fn sign_in_counted(
        &self,
        username: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        self.count_attempt_from_ip("signin_ip", client).await?;
        let username = username.trim().to_lowercase();
        let guard = guards::get(&self.db, &username)
            .await
            .map_err(|e| internal("sign-in: guard", e))?;
        let now = self.clock.now_ms();
        if guard.retry_at > now {
            return Err(AppError::TooManyRequests {
                wait_secs: secs_until(guard.retry_at, now),
            });
        }
        let user = if validate::username(&username).is_ok() {
            users::find_by_username(&self.db, &username)
                .await
                .map_err(|e| internal("sign-in: lookup", e))?
        } else {
            None
        };
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
                self.audit(audit::Kind::SignInFailed, who, "password", client)
                    .await;
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
        self.may_send(&user.phone, client, now).await?;
        let language = self.language_of(&user, client).await;
        let language = language.as_str();
        let (challenge, code) =
            self.new_challenge(user.id.clone(), purpose, &user.phone, language, now);
        let challenge_key = challenge.key.clone();
        let pending = pending_of_new(&challenge, now);
        challenges::create(&self.db, challenge)
            .await
            .map_err(|e| internal("sign-in: challenge", e))?;
        let sms = CodeSms {
            to: &user.phone,
            code: &code,
            language,
            challenge: &challenge_key,
            after: None,
        };
        let provider = match self.deliver(sms, now).await {
            Ok(provider) => provider,
            Err(error) => {
                if let Err(e) = challenges::delete(&self.db, &challenge_key).await {
                    tracing::error!("sign-in: cleanup after failed send: {e}");
                }
                return Err(error);
            }
        };
        let who = Who::user(&user);
        self.audit(audit::Kind::CodeSent, who, provider, client)
            .await;
        Ok(CodeSent {
            pending,
            challenge_key,
        })
    }

    async fn account_of(&self, row: &ChallengeRow) -> Result<Option<users::UserRow>, AppError> {
        users::find(&self.db, &row.account)
            .await
            .map_err(|e| internal("challenge account", e))
    }

    /// Counts a failed password or code against the username; at the lock, tells the owner.
    async fn failed(&self, who: Who<'_>, now: i64, client: &ClientInfo) -> Result<(), AppError> {
        let (username, phone) = (who.username, who.phone);
        let policy = &self.config.lockout;
        let failure = guards::record_failure(&self.db, username, policy, now)
            .await
            .map_err(|e| internal("failure count", e))?;
        if failure.newly_locked {
            tracing::warn!(
                "account locked after {} consecutive failures",
                failure.guard.failures
            );
            self.audit(audit::Kind::Locked, who, "", client).await;
            if let Some(phone) = phone {
                let language = match who.account {
                    Some(account) => users::find(&self.db, account)
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

    pub async fn pending(&self, challenge_key: &str) -> Result<Option<PendingCode>, AppError> {
        let now = self.clock.now_ms();
        let row = self
            .challenge(challenge_key, |r| {
                r.purpose().signs_in() && !r.consumed && r.created_at > self.stale_before(now)
            })
            .await?;
        Ok(row.map(|r| self.pending_of(&r, now)))
    }

    /// Checks a code; on success returns a new session token.
    pub async fn verify(
        &self,
        challenge_key: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<String, AppError> {
        let result = self.verify_counted(challenge_key, code, client).await;
        metrics::verification(&result);
        result
    }

    async fn verify_counted(
        &self,
        challenge_key: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<String, AppError> {
        let code = Self::normalised(code)?;
        let now = self.clock.now_ms();
        let max = self.config.otp.max_attempts;
        // Reset and phone-change codes prove a phone only; they never stand in for the password.
        let row = self
            .challenge(challenge_key, |r| r.purpose().signs_in())
            .await?
            .ok_or(AppError::CodeExpired)?;
        match self.check_code(&row, challenge_key, &code, now) {
            CodeCheck::Dead => Err(AppError::CodeExpired),
            CodeCheck::Wrong => {
                let user = self.account_of(&row).await?;
                Err(self
                    .wrong_code(challenge_key, user.as_ref(), "", now, client)
                    .await?)
            }
            CodeCheck::Accept => {
                let session_token = token::new_token();
                let redemption = Redemption {
                    session_key: token::storage_key(&session_token),
                    session_expires_at: now + Self::ms(self.config.session_ttl_secs),
                    ip: client.ip_key(),
                    user_agent: client.user_agent.chars().take(300).collect(),
                };
                let won = challenges::redeem(
                    &self.db,
                    challenge_key,
                    &row.code_mac,
                    max,
                    now,
                    redemption,
                )
                .await
                .map_err(|e| internal("verify: redeem", e))?;
                if won {
                    if let Some(user) = self.account_of(&row).await? {
                        let who = Who::user(&user);
                        let verified = self.event(audit::Kind::CodeVerified, who, "", client);
                        let mut entered = self.event(audit::Kind::SignedIn, who, "", client);
                        // Written together, they could share a millisecond; the activity list
                        // must still show the sign-in after the accepted code.
                        entered.at = entered.at.max(verified.at + 1);
                        let outcome = signed_in::SignedIn {
                            username: &user.username,
                            range: &self.range_of(&user.phone),
                            events: vec![verified, entered],
                            now,
                        };
                        signed_in::record(&self.db, outcome, limits::HOUR)
                            .await
                            .map_err(|e| internal("verify: bookkeeping", e))?;
                    }
                    Ok(session_token)
                } else {
                    Err(AppError::CodeExpired)
                }
            }
        }
    }

    /// A new code for the same challenge, once the cooldown allows; the old code stops working.
    pub async fn resend(
        &self,
        challenge_key: &str,
        client: &ClientInfo,
    ) -> Result<PendingCode, AppError> {
        let result = self.resend_counted(challenge_key, client).await;
        metrics::resend(&result);
        result
    }

    async fn resend_counted(
        &self,
        challenge_key: &str,
        client: &ClientInfo,
    ) -> Result<PendingCode, AppError> {
        let now = self.clock.now_ms();
        let row = self
            .challenge(challenge_key, |r| r.purpose().signs_in())
            .await?
            .ok_or(AppError::CodeExpired)?;
        if row.consumed || row.created_at <= self.stale_before(now) {
            return Err(AppError::CodeExpired);
        }
        if row.resend_after > now {
            return Err(AppError::ResendTooSoon {
                wait_secs: secs_until(row.resend_after, now),
            });
        }
        self.may_send(&row.phone, client, now).await?;
        let code = self.code_for(&row.phone, now);
        let code_mac = self.code_key.mac(challenge_key, &code);
        let sends = row.sends.unwrap_or(1).max(1) + 1;
        let new_code = NewCode {
            code_mac: &code_mac,
            expires_at: now + Self::ms(self.config.otp.ttl_secs),
            resend_after: now + Self::ms(self.resend_wait(sends as u32)),
            sends,
        };
        let updated = challenges::replace_code(
            &self.db,
            challenge_key,
            new_code,
            now,
            self.stale_before(now),
        )
        .await
        .map_err(|e| internal("resend: replace", e))?
        // Another resend won the race; its cooldown now applies.
        .ok_or(AppError::ResendTooSoon {
            wait_secs: self.config.otp.resend_cooldown_secs,
        })?;
        // "Didn't get it?": the resend goes first through the provider after the one that
        // carried the last code.
        let last_carrier = sms_log::last_carrier(&self.db, challenge_key)
            .await
            .map_err(|e| internal("resend: last carrier", e))?;
        let sms = CodeSms {
            to: &updated.phone,
            code: &code,
            language: updated.language.as_deref().unwrap_or(FALLBACK),
            challenge: challenge_key,
            after: last_carrier.as_deref(),
        };
        let provider = match self.deliver(sms, now).await {
            Ok(provider) => provider,
            Err(error) => {
                if let Err(e) = challenges::allow_resend_now(&self.db, challenge_key, now).await {
                    tracing::error!("resend: reset cooldown: {e}");
                }
                return Err(error);
            }
        };
        let who = Who {
            account: Some(&updated.account),
            username: "",
            phone: Some(&updated.phone),
        };
        self.audit(audit::Kind::CodeSent, who, provider, client)
            .await;
        Ok(self.pending_of(&updated, now))
    }

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
            .map_err(|e| internal("session lookup", e))?;
        Ok(user.map(|u| SignedInUser {
            masked_phone: Phone::from_e164(&u.phone)
                .map(|p| p.masked_for_display())
                .unwrap_or_else(|| mask_e164(&u.phone)),
            username: u.username,
            full_name: u.full_name,
            email: u.email,
        }))
    }

    pub async fn sign_out(&self, session_token: &str, client: &ClientInfo) -> Result<(), AppError> {
        if !token::is_well_formed(session_token) {
            return Ok(());
        }
        let key = token::storage_key(session_token);
        let user = self
            .session_user(&key)
            .await
            .map_err(|e| internal("sign-out", e))?;
        sessions::delete(&self.db, &key)
            .await
            .map_err(|e| internal("sign-out", e))?;
        if let Some(user) = user {
            self.audit(audit::Kind::SignedOut, Who::user(&user), "", client)
                .await;
        }
        Ok(())
    }

    /// The account behind a live session; using it counts as activity.
    async fn session_user(
        &self,
        key: &str,
    ) -> Result<Option<users::UserRow>, crate::server::db::DbError> {
        let now = self.clock.now_ms();
        let idle_since = now - Self::ms(self.config.session_idle_timeout_secs);
        sessions::account(&self.db, key, now, idle_since).await
    }

    /// The signed-in user's newest security events.
    pub async fn recent_activity(&self, session_token: &str) -> Result<Vec<Activity>, AppError> {
        if !token::is_well_formed(session_token) {
            return Err(AppError::NotSignedIn);
        }
        let user = self
            .session_user(&token::storage_key(session_token))
            .await
            .map_err(|e| internal("activity", e))?
            .ok_or(AppError::NotSignedIn)?;
        let events = audit::recent_for(&self.db, &user.id, 10)
            .await
            .map_err(|e| internal("activity", e))?;
        Ok(events
            .into_iter()
            .map(|e| Activity {
                when: format_utc(e.at),
                kind: ActivityKind::from_name(&e.kind),
                ip: e.ip,
                device: e.user_agent.chars().take(80).collect(),
            })
            .collect())
    }
}

impl AuthService {
    /// A phone number as typed, in a country we send SMS to.
    fn parse_phone(&self, input: &str, country: Option<&str>) -> Result<Phone, Problem> {
        let region = self.region_or_default(country);
        let phone = Phone::parse(input, region).map_err(|e| match e {
            PhoneError::Empty => Problem::PhoneMissing,
            PhoneError::Invalid => Problem::PhoneInvalid,
            PhoneError::NotMobile => Problem::PhoneNotMobile,
        })?;
        if !self
            .config
            .sms_allowed_countries
            .contains(&phone.country_code())
        {
            return Err(Problem::PhoneCountry);
        }
        Ok(phone)
    }

    /// Puts a phone problem on `fields`, with the countries that work when that is the problem.
    fn phone_problem(&self, fields: &mut FieldErrors, problem: Problem) {
        fields.phone = Some(problem);
        if problem == Problem::PhoneCountry {
            fields.allowed_countries = Some(self.allowed_prefixes());
        }
    }

    /// The SMS language of someone who has proved the password: the one this browser picked
    /// on the site when we have texts in it (remembered on the account, so later notices sent
    /// without a browser speak it too), else the one stored at registration.
    async fn language_of(&self, user: &users::UserRow, client: &ClientInfo) -> String {
        let stored = user.language.as_deref().unwrap_or(FALLBACK);
        let Some(picked) = client
            .chosen_language
            .as_deref()
            .filter(|language| self.sms.speaks(language))
        else {
            return stored.to_string();
        };
        if picked != stored {
            if let Err(e) = users::set_language(&self.db, &user.id, picked).await {
                tracing::warn!("could not remember the account's language: {e}");
            }
        }
        picked.to_string()
    }

    /// The picked region when it is one we send to; anything else means the default.
    fn region_or_default(&self, picked: Option<&str>) -> phonenumber::country::Id {
        picked
            .and_then(|code| code.trim().to_ascii_uppercase().parse().ok())
            .filter(|region| {
                phone::calling_code_of(*region)
                    .is_some_and(|code| self.config.sms_allowed_countries.contains(&code))
            })
            .unwrap_or(self.config.default_region)
    }

    /// The countries the phone field offers: the ones we send SMS to, the default first.
    pub fn phone_countries(&self) -> Vec<PhoneCountry> {
        let default = self.config.default_region;
        let mut countries: Vec<PhoneCountry> = self
            .config
            .sms_allowed_countries
            .iter()
            .filter_map(|code| phone::country_for_code(*code, default))
            .collect();
        countries.sort_by_key(|c| !c.is_default);
        countries
    }

    fn allowed_prefixes(&self) -> String {
        let prefixes: Vec<String> = self
            .config
            .sms_allowed_countries
            .iter()
            .map(|c| format!("+{c}"))
            .collect();
        prefixes.join(", ")
    }
}

/// Who an audit event is about, as far as it is known.
#[derive(Clone, Copy)]
struct Who<'a> {
    account: Option<&'a surrealdb::types::RecordId>,
    username: &'a str,
    phone: Option<&'a str>,
}

impl<'a> Who<'a> {
    fn user(user: &'a users::UserRow) -> Self {
        Who {
            account: Some(&user.id),
            username: &user.username,
            phone: Some(&user.phone),
        }
    }

    fn nobody() -> Self {
        Who {
            account: None,
            username: "",
            phone: None,
        }
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
        masked_phone: Phone::from_e164(phone)
            .map(|p| p.masked_for_display())
            .unwrap_or_else(|| mask_e164(phone)),
        expires_in_secs: secs_until(expires_at, now),
        resend_in_secs: secs_until(resend_after, now),
    }
}

/// "2026-11-24 18:43 UTC" from Unix milliseconds (civil-from-days, proleptic Gregorian).
pub(crate) fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn taken_error(taken: &Taken) -> AppError {
    AppError::InvalidFields(Box::new(FieldErrors {
        username: taken.username.then_some(Problem::UsernameTaken),
        phone: taken.phone.then_some(Problem::PhoneRegistered),
        ..FieldErrors::default()
    }))
}

fn secs_until(at_ms: i64, now_ms: i64) -> u64 {
    ((at_ms - now_ms).max(0) as u64).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn utc_times_format_like_people_read_them() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_795_545_780_000), "2026-11-24 18:43 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
