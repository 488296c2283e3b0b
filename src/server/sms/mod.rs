//! Sending codes by SMS: a small provider trait, one file per provider, and the dispatcher that
//! logs each send with a masked number and never the message.

pub mod console;
pub mod twilio;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::server::auth::phone::mask_e164;
use crate::server::config::{Config, SmsConfig};
use crate::server::db::Db;

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// The provider answered, but not with success. `status` is its HTTP status.
    #[error("provider refused the message (HTTP {status})")]
    Rejected { status: u16 },
    #[error("provider unreachable: {0}")]
    Transport(String),
    #[error("outbox: {0}")]
    Outbox(String),
}

impl From<reqwest::Error> for SmsError {
    /// reqwest errors can carry the request URL, which for some providers holds an account id;
    /// keep only the kind of failure.
    fn from(e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        SmsError::Transport(kind.to_string())
    }
}

pub trait SmsProvider: Send + Sync {
    /// Short name for logs: "console", "webhook", "twilio".
    fn name(&self) -> &'static str;
    /// Sends `body` to `to` (E.164).
    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> SendFuture<'a>;
}

/// The one way codes leave the server.
#[derive(Clone)]
pub struct SmsSender {
    provider: Arc<dyn SmsProvider>,
    host: String,
    ttl_minutes: u64,
}

impl SmsSender {
    pub fn new(provider: Arc<dyn SmsProvider>, host: String, ttl_secs: u64) -> Self {
        SmsSender {
            provider,
            host,
            ttl_minutes: ttl_secs.div_ceil(60).max(1),
        }
    }

    pub fn from_config(config: &Config, db: Db) -> Result<Self, String> {
        let timeout = Duration::from_secs(config.sms_timeout_secs.max(1));
        let provider: Arc<dyn SmsProvider> = match &config.sms {
            SmsConfig::Console => Arc::new(console::Console::new(db)),
            SmsConfig::Webhook { url, token } => {
                Arc::new(webhook::Webhook::new(url.clone(), token.clone(), timeout)?)
            }
            SmsConfig::Twilio {
                account_sid,
                auth_token,
                from,
                api_base,
            } => Arc::new(twilio::Twilio::new(
                account_sid.clone(),
                auth_token.clone(),
                from.clone(),
                api_base.clone(),
                timeout,
            )?),
        };
        Ok(SmsSender::new(
            provider,
            config.public_host(),
            config.otp.ttl_secs,
        ))
    }

    pub fn provider_name(&self) -> &'static str {
        self.provider.name()
    }

    pub async fn send_code(&self, to: &str, code: &str) -> Result<(), SmsError> {
        let body = code_message(code, self.ttl_minutes, &self.host);
        tracing::info!(
            "Sending OTP via {} to {}",
            self.provider.name(),
            mask_e164(to)
        );
        self.dispatch(to, &body).await
    }

    /// A security notice (account locked), not a code.
    pub async fn send_notice(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let provider = self.provider.name();
        tracing::info!("Sending notice via {provider} to {}", mask_e164(to));
        self.dispatch(to, text).await
    }

    async fn dispatch(&self, to: &str, body: &str) -> Result<(), SmsError> {
        let result = self.provider.send(to, body).await;
        if let Err(e) = &result {
            tracing::warn!(
                "SMS via {} to {} failed: {e}",
                self.provider.name(),
                mask_e164(to)
            );
        }
        result
    }
}

/// The SMS text; the last line lets browsers fill the code in by themselves (WebOTP).
pub fn code_message(code: &str, ttl_minutes: u64, host: &str) -> String {
    let unit = if ttl_minutes == 1 {
        "minute"
    } else {
        "minutes"
    };
    format!(
        "Your verification code is {code}. It expires in {ttl_minutes} {unit}.\n\n@{host} #{code}"
    )
}

pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("SMS HTTP client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_code_validity_and_webotp_line() {
        let text = code_message("123456", 5, "otp.example.in");
        assert_eq!(
            text,
            "Your verification code is 123456. It expires in 5 minutes.\n\n@otp.example.in #123456"
        );
    }
}
