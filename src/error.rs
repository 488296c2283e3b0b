//! One error type for every server function: a short sentence the user can act on, and an
//! HTTP status the server answers with. Detail about infrastructure faults stays in the log.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Per-field validation messages for the registration form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors {
    pub username: Option<String>,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    /// Changing the password: the current one, typed again.
    pub current_password: Option<String>,
}

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.full_name.is_none()
            && self.phone.is_none()
            && self.email.is_none()
            && self.password.is_none()
            && self.current_password.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please correct the highlighted fields.")]
    /// Boxed: the fields are many, and every Result that can fail carries this enum.
    InvalidFields(Box<FieldErrors>),
    #[error("{0}")]
    BadRequest(String),
    /// Same sentence whether the username is unknown or the password is wrong.
    #[error("That username and password do not match. Please try again.")]
    SignInFailed,
    #[error("That code is not right. {}", tries_left_sentence(*.tries_left))]
    WrongCode { tries_left: u32 },
    #[error(
        "This code has expired or can no longer be used. Please sign in again to get a new code."
    )]
    CodeExpired,
    /// The reset step: one sentence whether the code is wrong, dead, or there was no account,
    /// so the page cannot be used to learn which usernames exist.
    #[error("That code is not right or no longer works. Check the SMS, or start again to get a new code.")]
    ResetCodeRefused,
    #[error("Please wait {wait_secs} seconds before asking for another code.")]
    ResendTooSoon { wait_secs: u64 },
    /// A rate limit: says in plain words when trying again can work.
    #[error("Too many attempts. Please try again in {}.", human_wait(*.wait_secs))]
    TooManyRequests { wait_secs: u64 },
    #[error("We could not send the code. Please try again in a moment.")]
    SmsFailed,
    /// The SMS provider says the number itself cannot receive messages.
    #[error("This phone number cannot receive SMS. Check the number or use another one.")]
    NumberCannotReceiveSms,
    #[error("Please sign in first.")]
    NotSignedIn,
    /// Sending to this number range is paused (SMS-pumping alarm).
    #[error("We cannot send codes to this number right now. Please try again in {}.", human_wait(*.wait_secs))]
    SendingPaused { wait_secs: u64 },
    #[error(
        "This account is locked after too many failed attempts. Reset your password to unlock it."
    )]
    AccountLocked,
    /// A state-changing request sent by another site's page (CSRF).
    #[error("This request came from another site and was refused.")]
    ForeignOrigin,
    #[error("The server is busy. Please try again in a few seconds.")]
    Busy,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("Could not reach the server. Check your connection and try again.")]
    Transport(String),
}

/// "45 seconds", "3 minutes", "2 hours".
pub fn human_wait(secs: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match secs {
        0..=59 => plural(secs.max(1), "second"),
        60..=3599 => plural(secs.div_ceil(60), "minute"),
        _ => plural(secs.div_ceil(3600), "hour"),
    }
}

fn tries_left_sentence(tries_left: u32) -> String {
    match tries_left {
        0 => "No tries left: please ask for a new code.".to_string(),
        1 => "1 try left.".to_string(),
        n => format!("{n} tries left."),
    }
}

impl AppError {
    /// A field error: `set` fills in the one field that is wrong.
    pub fn invalid(set: impl FnOnce(&mut FieldErrors)) -> AppError {
        let mut fields = FieldErrors::default();
        set(&mut fields);
        AppError::InvalidFields(Box::new(fields))
    }

    /// The HTTP status the server answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::InvalidFields(_) => 422,
            AppError::BadRequest(_) => 400,
            AppError::SignInFailed | AppError::NotSignedIn => 401,
            AppError::ForeignOrigin | AppError::AccountLocked => 403,
            AppError::WrongCode { .. } | AppError::ResetCodeRefused => 400,
            AppError::CodeExpired => 410,
            AppError::ResendTooSoon { .. } | AppError::TooManyRequests { .. } => 429,
            AppError::SendingPaused { .. } => 503,
            AppError::SmsFailed => 502,
            AppError::NumberCannotReceiveSms => 422,
            AppError::Busy => 503,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }

    /// Seconds after which trying again can succeed, for the `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::ResendTooSoon { wait_secs }
            | AppError::TooManyRequests { wait_secs }
            | AppError::SendingPaused { wait_secs } => Some((*wait_secs).max(1)),
            AppError::Busy => Some(1),
            _ => None,
        }
    }

    /// The message for one registration field, if this error names it.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::InvalidFields(fields) => Some(fields),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::BadRequest("The form was incomplete. Please fill in every field.".into())
            }
            // On the server this is a request body that is not text; the sender's fault.
            ServerFnErrorErr::Deserialization(_) => {
                AppError::BadRequest("The request could not be read. Please try again.".into())
            }
            ServerFnErrorErr::UnsupportedRequestMethod(_) => {
                AppError::BadRequest("This address only accepts form submissions.".into())
            }
            ServerFnErrorErr::Request(detail) | ServerFnErrorErr::Response(detail) => {
                AppError::Transport(detail)
            }
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_naturally() {
        assert_eq!(human_wait(1), "1 second");
        assert_eq!(human_wait(45), "45 seconds");
        assert_eq!(human_wait(61), "2 minutes");
        assert_eq!(human_wait(3600), "1 hour");
        assert_eq!(
            AppError::TooManyRequests { wait_secs: 600 }.to_string(),
            "Too many attempts. Please try again in 10 minutes."
        );
        assert_eq!(
            AppError::WrongCode { tries_left: 1 }.to_string(),
            "That code is not right. 1 try left."
        );
    }
}
