//! Whether a code may leave, and sending it: every limit on SMS in one place (per phone,
//! per IP, the SMS-pumping alarm), the resend wait, test numbers, and the provider chain.

use super::{secs_until, AuthService, OrInternal, Who};
use crate::error::AppError;
use crate::server::auth::limits::{self, Window};
use crate::server::auth::phone::{mask_e164, Phone};
use crate::server::auth::{otp, pumping, test_numbers};
use crate::server::client::ClientInfo;
use crate::server::db::{audit_event, rate_counter};
use crate::server::sms::{CodeSms, SmsError};

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
            return Err(AppError::TooManyRequests {
                wait_secs: secs_until(hit.window_ends_at, now),
            });
        }
        Ok(())
    }

    /// A fresh random code, or a test number's fixed one.
    pub(super) fn code_for(&self, phone: &str, now: i64) -> String {
        test_numbers::fixed_code(&self.config.test_numbers, phone, now)
            .map(str::to_string)
            .unwrap_or_else(otp::generate_code)
    }

    /// Sends the code by SMS and names the provider that took it; test numbers get none
    /// (their code is fixed and known).
    pub(super) async fn deliver(
        &self,
        sms: CodeSms<'_>,
        now: i64,
    ) -> Result<&'static str, AppError> {
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
    pub(super) async fn may_send(
        &self,
        phone: &str,
        client: &ClientInfo,
        now: i64,
    ) -> Result<(), AppError> {
        let range = self.range_of(phone);
        let block_key = format!("pumping|{range}");
        if let Some(until) = rate_counter::blocked_until(&self.db, &block_key, now)
            .await
            .or_internal("pumping check")?
        {
            return Err(AppError::SendingPaused {
                wait_secs: secs_until(until, now),
            });
        }
        self.within_limits(phone, client, now).await?;
        // Judge the range with this send counted.
        let sends = rate_counter::hit(&self.db, "range_sends", &range, limits::HOUR, now)
            .await
            .or_internal("pumping count")?
            .count;
        let verified = rate_counter::peek(&self.db, "range_verified", &range, limits::HOUR, now)
            .await
            .or_internal("pumping count")?;
        if pumping::is_pumped(&self.config.pumping, sends, verified) {
            let until = now + Self::ms(limits::HOUR);
            rate_counter::block(&self.db, &block_key, until)
                .await
                .or_internal("pumping block")?;
            tracing::warn!(
                "SMS-pumping alarm: {sends} codes to {range}* this hour, {verified} verified; \
                 sending to that range is stopped for an hour"
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

    /// The number range the pumping alarm judges a phone by.
    pub(super) fn range_of(&self, phone: &str) -> String {
        let digits = self.config.pumping.prefix_digits;
        Phone::from_e164(phone)
            .map(|p| pumping::prefix(p.e164(), p.country_code(), digits))
            .unwrap_or_else(|| phone.chars().take(4).collect())
    }

    /// Every code that leaves counts against its phone (hour and day) and the client's IP.
    pub(super) async fn within_limits(
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

    /// Password attempts, registrations and reset requests from one client IP, per 10 minutes.
    pub(super) async fn count_attempt_from_ip(
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
