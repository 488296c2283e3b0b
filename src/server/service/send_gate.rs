//! Whether a code may leave, and sending it: every limit on SMS in one place (per phone,
//! per IP, the SMS-pumping alarm), the resend wait, test numbers, and the provider chain.

use super::{secs_until, AuthService, OrInternal, Who};
use crate::error::AppError;
use crate::model::CodePurpose;
use crate::server::auth::limits::{self, Window};
use crate::server::auth::phone::{calling_code, mask_e164};
use crate::server::auth::{otp, pumping, test_numbers};
use crate::server::client::ClientInfo;
use crate::server::db::otp_challenge::{self, NewChallenge};
use crate::server::db::transactions::{self, Limit, SendCounts, WithSend};
use crate::server::db::{audit_event, rate_counter, sms_message};
use crate::server::sms::{CodeSms, PlannedAttempt, SmsError};

impl AuthService {
    /// Counts one event against a limit; refuses once the window is full.
    pub(super) async fn count(
        &self,
        window: Window,
        key: &str,
        now: i64,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let hit = rate_counter::hit(&self.db, window.scope, key, window.secs, now)
            .await
            .or_internal("rate limit")?;
        if hit.count > window.max {
            return Err(self
                .limit_hit(&window, hit.window_ends_at, now, client)
                .await);
        }
        Ok(())
    }

    /// A request over `window`'s limit: logged, audited, and answered with the wait.
    pub(super) async fn limit_hit(
        &self,
        window: &Window,
        window_ends_at: i64,
        now: i64,
        client: &ClientInfo,
    ) -> AppError {
        tracing::warn!(
            "limit hit: {} ({} per {} s)",
            window.scope,
            window.max,
            window.secs
        );
        self.audit(
            audit_event::Kind::LimitHit,
            Who::nobody(),
            window.scope,
            client,
        )
        .await;
        AppError::TooManyRequests {
            wait_secs: secs_until(window_ends_at, now),
        }
    }

    /// A fresh random code, or a test number's fixed one.
    pub(super) fn code_for(&self, phone: &str, now: i64) -> String {
        test_numbers::fixed_code(&self.config.test_numbers, phone, now)
            .map(str::to_string)
            .unwrap_or_else(otp::generate_code)
    }

    /// `may_send` for `sms` with its new `challenge`, both stored in the commit that counts the
    /// send. For a number that has returned a code before, the first provider's attempt is
    /// decided now and recorded there too; it is returned for `deliver`. Test numbers get no
    /// SMS, and numbers never proven may still be refused by the pumping alarm after the count,
    /// so neither has an attempt recorded ahead.
    pub(super) async fn may_send_code(
        &self,
        sms: &CodeSms<'_>,
        challenge: &NewChallenge,
        proven: bool,
        client: &ClientInfo,
        now: i64,
    ) -> Result<Option<PlannedAttempt>, AppError> {
        let test_number = test_numbers::fixed_code(&self.config.test_numbers, sms.to, now);
        let planned = if proven && test_number.is_none() {
            self.sms.plan_code(sms, now).await
        } else {
            None
        };
        let first_attempt = planned.as_ref().map(PlannedAttempt::record);
        let with = WithSend {
            challenge: Some(challenge),
            first_attempt: first_attempt.as_ref(),
        };
        self.may_send(sms.to, sms.purpose, proven, client, now, with)
            .await?;
        Ok(planned)
    }

    /// Sends the code by SMS; test numbers get none (their code is fixed and known). The SMS's
    /// event, naming the provider that took it, is recorded either way once it counts as sent.
    /// `planned` is the first attempt `may_send_code` recorded.
    pub(super) async fn deliver(
        &self,
        sms: CodeSms<'_>,
        planned: Option<PlannedAttempt>,
        now: i64,
    ) -> Result<(), AppError> {
        if test_numbers::fixed_code(&self.config.test_numbers, sms.to, now).is_some() {
            tracing::info!("Test number {}: no SMS sent", mask_e164(sms.to));
            if let Some(event) = sms.event {
                let detail = "test_number".into();
                self.record(audit_event::Event { detail, ..event }).await;
            }
            return Ok(());
        }
        match self.sms.send_code(sms, planned, now).await {
            Ok(_provider) => Ok(()),
            Err(SmsError::BadNumber { .. }) => Err(AppError::NumberCannotReceiveSms),
            Err(_) => Err(AppError::SmsFailed),
        }
    }

    /// Whether a code may go to `phone` now: within every limit, and for a number never proven
    /// (`proven`: it has returned a code before) not in a paused range nor asked for by an
    /// address that set off the pumping alarm. Pumpers need fresh numbers; a number with a
    /// verified history keeps getting codes, so the alarm cannot lock a range's real users out.
    /// When it may, `with`'s challenge replaces the account's earlier one of its purpose, and its
    /// first attempt is recorded, in the same commit as the counts; when it may not, neither is
    /// left.
    pub(super) async fn may_send(
        &self,
        phone: &str,
        purpose: CodePurpose,
        proven: bool,
        client: &ClientInfo,
        now: i64,
        with: WithSend<'_>,
    ) -> Result<(), AppError> {
        let range = self.range_of(phone);
        let block_key = format!("pumping|{range}");
        let source_key = format!("pumping_source|{}", client.ip_key());
        if !proven {
            for key in [&block_key, &source_key] {
                if let Some(until) = rate_counter::blocked_until(&self.db, key, now)
                    .await
                    .or_internal("pumping check")?
                {
                    return Err(AppError::SendingPaused {
                        wait_secs: secs_until(until, now),
                    });
                }
            }
        }
        let windows = self.send_limits(phone, purpose, client);
        let counters: Vec<Limit> = windows
            .iter()
            .map(|(window, key)| {
                let (counter, window_ends_at) =
                    rate_counter::window(window.scope, key, window.secs, now);
                Limit {
                    counter,
                    window_ends_at,
                    max: window.max,
                }
            })
            .collect();
        // The limits, the range's sends with this one counted, and the challenge, in one commit.
        let range_window = (range.as_str(), limits::HOUR);
        let counted =
            transactions::count_send(&self.db, &counters, range_window, !proven, now, with)
                .await
                .or_internal("send counters")?;
        let sends = match counted {
            SendCounts::Counted { range_sends } => range_sends,
            SendCounts::Over(i) => {
                let ends = counters[i].window_ends_at;
                return Err(self.limit_hit(&windows[i].0, ends, now, client).await);
            }
        };
        if let Some((sends, verified)) = self.pumped(&range, sends, now).await? {
            if let Some(challenge) = with.challenge {
                otp_challenge::delete(&self.db, &challenge.key)
                    .await
                    .or_internal("pumping: challenge")?;
            }
            if let Some(attempt) = with.first_attempt {
                sms_message::discard(&self.db, attempt.key)
                    .await
                    .or_internal("pumping: SMS record")?;
            }
            let until = now + Self::ms(limits::HOUR);
            for key in [&block_key, &source_key] {
                rate_counter::block(&self.db, key, until)
                    .await
                    .or_internal("pumping block")?;
            }
            tracing::warn!(
                "SMS-pumping alarm: {sends} codes to {range}* this hour, {verified} verified; \
                 codes to its never-verified numbers, and from this address to any such \
                 number, are stopped for an hour"
            );
            self.audit(
                audit_event::Kind::PumpingAlarm,
                Who::nobody(),
                &range,
                client,
            )
            .await;
            return Err(AppError::SendingPaused {
                wait_secs: limits::HOUR,
            });
        }
        Ok(())
    }

    /// A judged send's range counts, when they set off the pumping alarm: the sends this hour
    /// and the sign-ins of the range's accounts in the same window (audit rows, read only as
    /// far as the alarm needs, since a busy range has many; so when it goes off, exact).
    async fn pumped(
        &self,
        range: &str,
        sends: Option<u32>,
        now: i64,
    ) -> Result<Option<(u32, u32)>, AppError> {
        let policy = &self.config.pumping;
        let Some(sends) = sends.filter(|&sends| sends >= policy.min_sends) else {
            return Ok(None);
        };
        let window_began = rate_counter::window_start(limits::HOUR, now);
        let enough = pumping::verified_enough(policy, sends);
        let verified = audit_event::signed_in_in_range(&self.db, range, window_began, enough)
            .await
            .or_internal("pumping: sign-ins")?;
        Ok(pumping::is_pumped(policy, sends, verified).then_some((sends, verified)))
    }

    /// The number range the pumping alarm judges a phone by.
    pub(super) fn range_of(&self, phone: &str) -> String {
        let digits = self.config.pumping.prefix_digits;
        calling_code(phone)
            .map(|(code, _)| pumping::prefix(phone, code, digits))
            .unwrap_or_else(|| phone.chars().take(4).collect())
    }

    /// The limits every code that leaves counts against, in order: its phone's hour and day and
    /// the client's IP. Each
    /// purpose has its own quota per phone, so an anonymous "forgot password", which needs only
    /// a username, cannot spend the owner's sign-ins; resets get the smaller one.
    fn send_limits(
        &self,
        phone: &str,
        purpose: CodePurpose,
        client: &ClientInfo,
    ) -> [(Window, String); 3] {
        let l = &self.config.limits;
        let (hour_scope, day_scope, per_hour, per_day) = match purpose {
            CodePurpose::SignIn => (
                "sms_phone_hour",
                "sms_phone_day",
                l.phone_per_hour,
                l.phone_per_day,
            ),
            CodePurpose::VerifyPhone => (
                "sms_phone_hour_verify",
                "sms_phone_day_verify",
                l.phone_per_hour,
                l.phone_per_day,
            ),
            CodePurpose::ChangePhone => (
                "sms_phone_hour_change",
                "sms_phone_day_change",
                l.phone_per_hour,
                l.phone_per_day,
            ),
            CodePurpose::ResetPassword => (
                "sms_phone_hour_reset",
                "sms_phone_day_reset",
                l.reset_phone_per_hour,
                l.reset_phone_per_day,
            ),
        };
        let phone_hour = Window {
            scope: hour_scope,
            max: per_hour,
            secs: limits::HOUR,
        };
        let phone_day = Window {
            scope: day_scope,
            max: per_day,
            secs: limits::DAY,
        };
        let ip_hour = Window {
            scope: "sms_ip_hour",
            max: l.ip_sends_per_hour,
            secs: limits::HOUR,
        };
        [
            (phone_hour, phone.to_string()),
            (phone_day, phone.to_string()),
            (ip_hour, client.ip_key()),
        ]
    }

    /// Password attempts, registrations and reset requests from one client IP, per 10 minutes.
    pub(super) async fn count_attempt_from_ip(
        &self,
        scope: &'static str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        self.count(
            self.ip_attempts(scope),
            &client.ip_key(),
            self.clock.now_ms(),
            client,
        )
        .await
    }

    /// The limit on password attempts, registrations or reset requests (`scope`) per IP.
    pub(super) fn ip_attempts(&self, scope: &'static str) -> Window {
        Window {
            scope,
            max: self.config.limits.ip_signins_per_10min,
            secs: limits::TEN_MINUTES,
        }
    }

    /// A passkey sign-in begun: a ceremony row for each, so bounded per IP, but loosely, as
    /// every visit to /login begins one for the browser's autofill.
    pub(super) async fn count_passkey_start_from_ip(
        &self,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let starts = Window {
            scope: "passkey_start_ip",
            max: self.config.limits.ip_passkey_starts_per_10min,
            secs: limits::TEN_MINUTES,
        };
        self.count(starts, &client.ip_key(), self.clock.now_ms(), client)
            .await
    }

    pub(super) fn resend_wait(&self, sends: u32) -> u64 {
        let otp = &self.config.otp;
        limits::resend_wait_secs(
            sends,
            otp.resend_cooldown_secs,
            otp.resend_cooldown_max_secs,
            rand::random(),
        )
    }
}
