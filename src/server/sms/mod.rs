//! Sending SMS: a small provider trait with one file per provider, the templates, and the
//! sender that tries the providers in order, skips broken ones and records every message.

pub mod breaker;
mod chain;
pub mod console;
pub mod fast2sms;
pub mod msg91;
pub mod receipts;
pub mod sender;
pub mod settings;
pub mod templates;
pub mod twilio;
pub mod vonage;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use sender::{CodeSms, PlannedAttempt, SmsSender};

/// Which message: the code, or a security notice. Each has its own template (and DLT id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    Code,
    Locked,
    /// To the old number when the account's phone number changes.
    PhoneChanged,
    /// To the current number when someone without it asks to move the account: the cancel link.
    PhoneChangeWaiting,
    /// A sign-in factor (the authenticator app) was added or removed.
    FactorChanged,
}

impl MessageKind {
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Code => "code",
            MessageKind::Locked => "locked",
            MessageKind::PhoneChanged => "phone_changed",
            MessageKind::PhoneChangeWaiting => "phone_change_waiting",
            MessageKind::FactorChanged => "factor_changed",
        }
    }

    pub fn from_name(name: &str) -> Option<MessageKind> {
        match name {
            "code" => Some(MessageKind::Code),
            "locked" => Some(MessageKind::Locked),
            "phone_changed" => Some(MessageKind::PhoneChanged),
            "phone_change_waiting" => Some(MessageKind::PhoneChangeWaiting),
            "factor_changed" => Some(MessageKind::FactorChanged),
            _ => None,
        }
    }
}

/// One message as a provider gets it: the rendered text for providers that take text, the code
/// and language for DLT providers that fill an approved template themselves.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// E.164, with the plus.
    pub to: &'a str,
    pub kind: MessageKind,
    pub language: &'a str,
    pub text: &'a str,
    /// The template's variable: the code, or a notice's link (a DLT template's one variable).
    pub code: Option<&'a str>,
    /// Our record of this message (`sms_message` key), for providers that echo a reference.
    pub reference: &'a str,
}

impl Outgoing<'_> {
    /// The number without the plus, as most APIs want it.
    pub fn digits(&self) -> &str {
        self.to.trim_start_matches('+')
    }
}

pub use crate::server::db::sms_message::DeliveryStatus;

/// A provider's yes: its id for the message, which its receipts will name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub message_id: Option<String>,
    pub status: DeliveryStatus,
}

impl Accepted {
    pub fn queued(message_id: Option<String>) -> Accepted {
        Accepted {
            message_id,
            status: DeliveryStatus::Queued,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The provider says this number cannot get SMS; another provider would not do better.
    #[error("the number cannot receive SMS (provider code {code})")]
    BadNumber { code: String },
    /// This provider cannot carry this message (country, no template); not the provider's fault.
    #[error("provider cannot carry this message: {0}")]
    Unsupported(&'static str),
    /// The provider answered, but not with success.
    #[error("provider refused the message (HTTP {status}, code {code})")]
    Rejected { status: u16, code: String },
    #[error("provider unreachable: {0}")]
    Transport(&'static str),
    #[error("outbox: {0}")]
    Outbox(String),
    #[error("no provider could be tried: every circuit is open")]
    AllOpen,
}

impl SmsError {
    /// The kind of failure, in a word fit for a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            SmsError::BadNumber { .. } => "bad_number",
            SmsError::Unsupported(_) => "unsupported",
            SmsError::Rejected { .. } => "rejected",
            SmsError::Transport("timeout") => "timeout",
            SmsError::Transport(_) => "transport_error",
            SmsError::Outbox(_) => "outbox_error",
            SmsError::AllOpen => "all_open",
        }
    }

    /// Whether the next provider should get the message.
    pub fn fails_over(&self) -> bool {
        !matches!(self, SmsError::BadNumber { .. })
    }

    /// Whether this counts toward the provider's circuit breaker.
    pub fn counts_against_provider(&self) -> bool {
        matches!(
            self,
            SmsError::Rejected { .. } | SmsError::Transport(_) | SmsError::Outbox(_)
        )
    }

    /// A short code for the message record.
    pub fn record_code(&self) -> String {
        match self {
            SmsError::BadNumber { code } => format!("bad_number:{code}"),
            SmsError::Unsupported(why) => format!("unsupported:{why}"),
            SmsError::Rejected { status, code } => format!("http_{status}:{code}"),
            SmsError::Transport(kind) => (*kind).to_string(),
            SmsError::Outbox(_) => "outbox".into(),
            SmsError::AllOpen => "all_open".into(),
        }
    }
}

impl From<reqwest::Error> for SmsError {
    /// reqwest errors can carry the request URL, which for some providers holds an account id;
    /// keep only the kind of failure.
    fn from(e: reqwest::Error) -> Self {
        SmsError::Transport(if e.is_timeout() {
            "timeout"
        } else if e.is_connect() {
            "connection_failed"
        } else if e.is_decode() {
            "bad_response"
        } else {
            "request_failed"
        })
    }
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Accepted, SmsError>> + Send + 'a>>;

pub trait SmsProvider: Send + Sync {
    /// Short name for logs and records: "msg91", "twilio", …
    fn name(&self) -> &'static str;
    fn send<'a>(&'a self, message: &'a Outgoing<'a>) -> SendFuture<'a>;
}

pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("SMS HTTP client: {e}"))
}

/// A provider's answer: its HTTP status and JSON body (`Null` when the body is not JSON).
pub(crate) async fn read_answer(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// A provider's error code as text, cut short: it lands in records and logs. Long digit runs
/// become `#`, so a provider that echoes the phone number cannot put it there.
pub(crate) fn short_code(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        out.push_str(if digits.len() > 5 { "#" } else { digits });
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        flush(&mut digits, &mut out);
        if c.is_ascii_alphabetic() || c == '_' || c == '-' {
            out.push(c);
        } else if c == ' ' && !out.ends_with('_') {
            out.push('_');
        }
    }
    flush(&mut digits, &mut out);
    out.chars().take(32).collect()
}

/// Any other failure of an HTTP provider: 5xx, throttling, bad credentials.
pub(crate) fn rejected(status: u16, code: &serde_json::Value) -> SmsError {
    SmsError::Rejected {
        status,
        code: short_code(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_rank_so_receipts_only_move_forward() {
        assert!(DeliveryStatus::Queued.rank() < DeliveryStatus::Sent.rank());
        assert!(DeliveryStatus::Sent.rank() < DeliveryStatus::Delivered.rank());
        assert_eq!(
            DeliveryStatus::Delivered.rank(),
            DeliveryStatus::Failed.rank()
        );
    }

    #[test]
    fn only_a_bad_number_stops_failover() {
        assert!(!SmsError::BadNumber {
            code: "21211".into()
        }
        .fails_over());
        assert!(SmsError::Transport("timeout").fails_over());
        assert!(SmsError::Unsupported("country").fails_over());
        assert!(!SmsError::Unsupported("country").counts_against_provider());
        assert!(SmsError::Rejected {
            status: 503,
            code: String::new()
        }
        .counts_against_provider());
    }

    #[test]
    fn provider_codes_are_cut_to_safe_characters() {
        let long = serde_json::json!("Invalid <script> number: +919876543210 and more and more");
        let code = short_code(&long);
        assert!(
            code.len() <= 32 && !code.contains('<') && !code.contains("9876"),
            "{code}"
        );
        assert_eq!(short_code(&serde_json::json!(21211)), "21211");
    }
}
