//! One error type for every server function: a short sentence the user can act on, and an
//! HTTP status the server answers with. Detail about infrastructure faults stays in the log.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::i18n::Locale;

/// What is wrong with one form field. The server decides; each page says it in the reader's
/// language, so the words live in `locales/`, not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    UsernameLength,
    UsernameCharacters,
    UsernameTaken,
    NameMissing,
    NameTooLong,
    NameCharacters,
    EmailMissing,
    EmailInvalid,
    PasswordTooShort,
    PasswordTooLong,
    PasswordCommon,
    PhoneMissing,
    PhoneInvalid,
    PhoneNotMobile,
    /// The number's country is not one we send SMS to; the list names those we do.
    PhoneCountry,
    PhoneRegistered,
    PhoneSame,
    PhoneOtherAccount,
    CannotReceiveSms,
    CurrentPasswordWrong,
    /// Setting up an authenticator app: its code does not match the key.
    AppCodeWrong,
}

/// Per-field problems of a form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors {
    pub username: Option<Problem>,
    pub full_name: Option<Problem>,
    pub phone: Option<Problem>,
    pub email: Option<Problem>,
    pub password: Option<Problem>,
    /// Changing the password: the current one, typed again.
    pub current_password: Option<Problem>,
    /// A code typed to confirm something (an authenticator app being set up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Problem>,
    /// With `PhoneCountry`: the calling codes that work, e.g. "+91, +44".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_countries: Option<String>,
}

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.full_name.is_none()
            && self.phone.is_none()
            && self.email.is_none()
            && self.password.is_none()
            && self.current_password.is_none()
            && self.code.is_none()
    }

    /// One field's problem in the reader's language.
    pub fn message(&self, problem: Problem, locale: Locale) -> String {
        problem.message(locale, self.allowed_countries.as_deref().unwrap_or(""))
    }
}

impl Problem {
    /// `allowed` fills in the countries of `PhoneCountry`.
    pub fn message(self, locale: Locale, allowed: &str) -> String {
        use leptos_i18n::td_string as t;
        match self {
            Problem::UsernameLength => t!(locale, problem.username_length).to_string(),
            Problem::UsernameCharacters => t!(locale, problem.username_characters).to_string(),
            Problem::UsernameTaken => t!(locale, problem.username_taken).to_string(),
            Problem::NameMissing => t!(locale, problem.name_missing).to_string(),
            Problem::NameTooLong => t!(locale, problem.name_too_long).to_string(),
            Problem::NameCharacters => t!(locale, problem.name_characters).to_string(),
            Problem::EmailMissing => t!(locale, problem.email_missing).to_string(),
            Problem::EmailInvalid => t!(locale, problem.email_invalid).to_string(),
            Problem::PasswordTooShort => t!(locale, problem.password_too_short).to_string(),
            Problem::PasswordTooLong => t!(locale, problem.password_too_long).to_string(),
            Problem::PasswordCommon => t!(locale, problem.password_common).to_string(),
            Problem::PhoneMissing => t!(locale, problem.phone_missing).to_string(),
            Problem::PhoneInvalid => t!(locale, problem.phone_invalid).to_string(),
            Problem::PhoneNotMobile => t!(locale, problem.phone_not_mobile).to_string(),
            Problem::PhoneCountry => t!(locale, problem.phone_country, codes = allowed).to_string(),
            Problem::PhoneRegistered => t!(locale, problem.phone_registered).to_string(),
            Problem::PhoneSame => t!(locale, problem.phone_same).to_string(),
            Problem::PhoneOtherAccount => t!(locale, problem.phone_other_account).to_string(),
            Problem::CannotReceiveSms => t!(locale, problem.cannot_receive_sms).to_string(),
            Problem::CurrentPasswordWrong => t!(locale, problem.current_password_wrong).to_string(),
            Problem::AppCodeWrong => t!(locale, problem.app_code_wrong).to_string(),
        }
    }
}

/// English, for logs and tests; pages use `message` with the reader's language.
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::en, "…"))
    }
}

/// Every way a server function can fail. `Display` is English for logs and tests; pages show
/// `message(locale)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// Boxed: the fields are many, and every Result that can fail carries this enum.
    InvalidFields(Box<FieldErrors>),
    /// Arguments missing from the request.
    FormIncomplete,
    /// A request body that is not what the form sends.
    Unreadable,
    /// A GET (or other method) at a form-only address.
    FormsOnly,
    /// A code that is not six digits, however separated.
    CodeFormat,
    /// Same sentence whether the username is unknown or the password is wrong.
    SignInFailed,
    WrongCode {
        tries_left: u32,
    },
    CodeExpired,
    /// A link from a notice whose change no longer waits (cancelled, carried out, replaced).
    LinkExpired,
    /// The reset step: one sentence whether the code is wrong, dead, or there was no account,
    /// so the page cannot be used to learn which usernames exist.
    ResetCodeRefused,
    ResendTooSoon {
        wait_secs: u64,
    },
    /// A rate limit: says in plain words when trying again can work.
    TooManyRequests {
        wait_secs: u64,
    },
    SmsFailed,
    /// The SMS provider says the number itself cannot receive messages.
    NumberCannotReceiveSms,
    NotSignedIn,
    /// Sending to this number range is paused (SMS-pumping alarm).
    SendingPaused {
        wait_secs: u64,
    },
    AccountLocked,
    /// A sensitive change from a session whose second factor is not recent: sign in again.
    StepUpNeeded,
    /// A state-changing request sent by another site's page (CSRF).
    ForeignOrigin,
    Busy,
    Internal,
    /// The browser could not reach the server; the detail is for the console only.
    Transport(String),
}

impl std::error::Error for AppError {}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::en))
    }
}

/// "45 seconds", "3 minutes", "2 hours", in the reader's language.
pub fn human_wait(secs: u64, locale: Locale) -> String {
    use leptos_i18n::td_string as t;
    match secs {
        0..=1 => t!(locale, wait.second).to_string(),
        2..=59 => t!(locale, wait.seconds, count = secs).to_string(),
        60 => t!(locale, wait.minute).to_string(),
        61..=3599 => t!(locale, wait.minutes, count = secs.div_ceil(60)).to_string(),
        3600 => t!(locale, wait.hour).to_string(),
        _ => t!(locale, wait.hours, count = secs.div_ceil(3600)).to_string(),
    }
}

impl AppError {
    /// The sentence for the reader, in their language.
    pub fn message(&self, locale: Locale) -> String {
        use leptos_i18n::td_string as t;
        match self {
            AppError::InvalidFields(_) => t!(locale, error.invalid_fields).to_string(),
            AppError::FormIncomplete => t!(locale, error.form_incomplete).to_string(),
            AppError::Unreadable => t!(locale, error.unreadable).to_string(),
            AppError::FormsOnly => t!(locale, error.forms_only).to_string(),
            AppError::CodeFormat => t!(locale, error.code_format).to_string(),
            AppError::SignInFailed => t!(locale, error.sign_in_failed).to_string(),
            AppError::WrongCode { tries_left } => {
                let tries = match tries_left {
                    0 => t!(locale, error.no_tries_left).to_string(),
                    1 => t!(locale, error.one_try_left).to_string(),
                    n => t!(locale, error.tries_left, count = *n).to_string(),
                };
                format!("{} {tries}", t!(locale, error.wrong_code))
            }
            AppError::CodeExpired => t!(locale, error.code_expired).to_string(),
            AppError::LinkExpired => t!(locale, error.link_expired).to_string(),
            AppError::ResetCodeRefused => t!(locale, error.reset_code_refused).to_string(),
            AppError::ResendTooSoon { wait_secs } => {
                t!(locale, error.resend_too_soon, count = *wait_secs).to_string()
            }
            AppError::TooManyRequests { wait_secs } => {
                let wait = human_wait(*wait_secs, locale);
                t!(locale, error.too_many, wait).to_string()
            }
            AppError::SmsFailed => t!(locale, error.sms_failed).to_string(),
            AppError::NumberCannotReceiveSms => t!(locale, error.cannot_receive_sms).to_string(),
            AppError::NotSignedIn => t!(locale, error.not_signed_in).to_string(),
            AppError::SendingPaused { wait_secs } => {
                let wait = human_wait(*wait_secs, locale);
                t!(locale, error.sending_paused, wait).to_string()
            }
            AppError::AccountLocked => t!(locale, error.account_locked).to_string(),
            AppError::StepUpNeeded => t!(locale, error.step_up).to_string(),
            AppError::ForeignOrigin => t!(locale, error.foreign_origin).to_string(),
            AppError::Busy => t!(locale, error.busy).to_string(),
            AppError::Internal => t!(locale, error.internal).to_string(),
            AppError::Transport(_) => t!(locale, error.transport).to_string(),
        }
    }

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
            AppError::FormIncomplete | AppError::Unreadable | AppError::CodeFormat => 400,
            AppError::FormsOnly => 405,
            AppError::SignInFailed | AppError::NotSignedIn => 401,
            AppError::ForeignOrigin | AppError::AccountLocked | AppError::StepUpNeeded => 403,
            AppError::WrongCode { .. } | AppError::ResetCodeRefused => 400,
            AppError::CodeExpired | AppError::LinkExpired => 410,
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
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => AppError::FormIncomplete,
            // On the server this is a request body that is not text; the sender's fault.
            ServerFnErrorErr::Deserialization(_) => AppError::Unreadable,
            ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::FormsOnly,
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
        assert_eq!(human_wait(1, Locale::en), "1 second");
        assert_eq!(human_wait(45, Locale::en), "45 seconds");
        assert_eq!(human_wait(61, Locale::en), "2 minutes");
        assert_eq!(human_wait(3600, Locale::en), "1 hour");
        assert_eq!(human_wait(7200, Locale::hi), "2 घंटे");
        assert_eq!(
            AppError::TooManyRequests { wait_secs: 600 }.to_string(),
            "Too many attempts. Please try again in 10 minutes."
        );
        assert_eq!(
            AppError::WrongCode { tries_left: 1 }.to_string(),
            "That code is not right. 1 try left."
        );
    }

    #[test]
    fn hindi_readers_get_hindi_sentences() {
        assert_eq!(
            AppError::WrongCode { tries_left: 2 }.message(Locale::hi),
            "यह कोड सही नहीं है। 2 प्रयास बाकी हैं।"
        );
        let fields = FieldErrors {
            phone: Some(Problem::PhoneCountry),
            allowed_countries: Some("+91".into()),
            ..FieldErrors::default()
        };
        assert_eq!(
            fields.message(Problem::PhoneCountry, Locale::hi),
            "हम अभी उस देश में SMS नहीं भेज सकते। +91 से शुरू होने वाले नंबर चलते हैं।"
        );
    }
}
