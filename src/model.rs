//! Types the browser and the server share. Nothing here carries a secret.

use serde::{Deserialize, Serialize};

/// What the signed-in home page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub username: String,
    pub full_name: String,
    /// For example "+91 ******3210".
    pub masked_phone: String,
    pub email: String,
    /// Signs in with SMS alone and has not said "not now": the home page suggests an app.
    pub suggest_stronger: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodePurpose {
    /// Proves a new account's phone; verifying also signs the user in.
    VerifyPhone,
    SignIn,
    /// "Forgot password": proves the account's phone before a new password is set.
    ResetPassword,
    /// Proves a new phone number before it replaces the account's.
    ChangePhone,
}

impl CodePurpose {
    /// Whether entering this code on the sign-in code step may start a session.
    pub fn signs_in(self) -> bool {
        matches!(self, CodePurpose::VerifyPhone | CodePurpose::SignIn)
    }
}

/// The code step: where the code went and how long it and the resend wait last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    pub purpose: CodePurpose,
    pub masked_phone: String,
    pub expires_in_secs: u64,
    pub resend_in_secs: u64,
    /// False while a sign-in waits for the user to pick a factor: no SMS went yet.
    pub sms_sent: bool,
    /// The account's other ways to answer, last used first.
    pub others: Vec<SignInMethod>,
}

/// The account's sign-in factors beyond the password and SMS, as the security page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    pub app: AppState,
    /// Recovery codes not used yet; None when the account has none.
    pub recovery_left: Option<usize>,
    /// New recovery codes the owner has not yet said are saved: shown until they do.
    pub recovery_codes: Option<Vec<String>>,
    pub passkeys: Vec<PasskeyInfo>,
}

/// One passkey as the security page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    /// Names the passkey to rename or remove it.
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: Option<String>,
    /// Synced between the owner's devices, rather than bound to one.
    pub synced: bool,
}

/// A passkey ceremony's first step: its key, and the options for navigator.credentials (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyCeremony {
    pub key: String,
    pub options: String,
}

/// The authenticator app of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppState {
    Off,
    /// Set up, waiting for its first code: the key as a QR code (SVG) and as text.
    Pending {
        key: String,
        qr_svg: String,
    },
    On {
        since: String,
        last_used: Option<String>,
    },
}

/// The pages that ask for a fresh sign-in before their change; after it, the sign-in returns
/// there. Only these: a `next` of any other value is ignored, so no link can send a user
/// elsewhere.
pub const STEP_UP_PAGES: [&str; 4] = [
    "/account/password",
    "/account/phone",
    "/account/profile",
    "/account/security",
];

/// `next` when it is one of the step-up pages.
pub fn step_up_page(next: &str) -> Option<&'static str> {
    STEP_UP_PAGES.into_iter().find(|page| *page == next)
}

/// Where an app's authorization request waits while its user signs in (then its 64-hex key).
pub const OIDC_CONTINUE: &str = "/oauth2/continue/";
/// The consent screen for an app's request (`?r=` its key).
pub const CONSENT_PAGE: &str = "/oauth2/consent";
/// The apps an account lets sign it in.
pub const CONNECTED_APPS_PAGE: &str = "/account/apps";

/// Where a sign-in may go on to: a step-up page, or an app's waiting authorization request.
/// Anything else is refused, so `next` is never an open redirect.
pub fn return_page(next: &str) -> Option<String> {
    if let Some(page) = step_up_page(next) {
        return Some(page.to_string());
    }
    let key = next.strip_prefix(OIDC_CONTINUE)?;
    (key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())).then(|| next.to_string())
}

/// The consent screen: which app asks to know what (scopes: openid, profile, phone, email).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcConsent {
    /// The waiting request's key, sent back with the answer.
    pub request: String,
    pub app_name: String,
    pub scopes: Vec<String>,
}

/// An app the account lets sign it in (it allowed it, or the app holds live tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// When it was allowed or last signed in, in the reader's zone.
    pub since: String,
}

/// How long a phone change waits when the current number cannot confirm it.
pub const LOST_PHONE_WAIT_HOURS: u64 = 72;

/// The page the waiting change's notice links to, with the link's token as `t`.
pub const PHONE_CANCEL_PAGE: &str = "/phone/cancel";

/// Where the signed-in account's phone change stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhoneChangeState {
    /// Nothing under way: the form.
    Idle,
    /// Codes are out; `asks_current` when one went to the current number too.
    Code {
        pending: PendingCode,
        asks_current: bool,
    },
    /// The new number is proven and the move waits, as the current number was not.
    Waiting {
        masked_phone: String,
        /// "2026-12-05 00:13 IST" in the reader's zone, formatted on the server.
        moves_at: String,
    },
}

/// One line of the signed-in user's recent activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// "2026-11-25 00:13 IST" in the reader's zone, formatted on the server so both renders
    /// agree.
    pub when: String,
    pub kind: ActivityKind,
    pub ip: String,
    pub device: String,
}

/// One signed-in device on the sessions page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session to end it; useless as a credential.
    pub id: String,
    /// "Chrome on Android", from the browser's user agent.
    pub device: Device,
    pub ip: String,
    pub signed_in: String,
    pub last_seen: String,
    /// The session this page is being viewed in.
    pub current: bool,
    /// How it was made: the password and which second factor; empty for older sessions.
    pub methods: Vec<SignInMethod>,
}

/// One way a session was proven, as the sessions page and (later) `amr` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    Sms,
    App,
    RecoveryCode,
    Passkey,
}

impl SignInMethod {
    /// The name a session record stores (RFC 8176 `amr` values where one exists).
    pub fn stored(self) -> &'static str {
        match self {
            SignInMethod::Password => "pwd",
            SignInMethod::Sms => "sms",
            SignInMethod::App => "otp",
            SignInMethod::RecoveryCode => "recovery",
            // RFC 8176: a hardware-protected key, verified by the user on the device.
            SignInMethod::Passkey => "hwk",
        }
    }

    pub fn from_stored(name: &str) -> Option<SignInMethod> {
        [
            SignInMethod::Password,
            SignInMethod::Sms,
            SignInMethod::App,
            SignInMethod::RecoveryCode,
            SignInMethod::Passkey,
        ]
        .into_iter()
        .find(|m| m.stored() == name)
    }
}

/// A country the phone field offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCountry {
    /// ISO region, the picker's value: "IN".
    pub region: String,
    pub calling_code: u16,
    /// A mobile number as people write it there, without the country code: "81234 56789".
    /// The field groups digits the same way as they are typed.
    pub example: String,
    pub is_default: bool,
}

/// A browser and system named from a user agent; each page words them in its language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Device {
    /// "Chrome" on "Android"; either may be unknown.
    Known {
        browser: Option<String>,
        system: Option<String>,
    },
    /// Neither is known: the start of what the user agent says ("curl/8.5.0").
    Other(String),
    /// No user agent at all.
    Unknown,
}

/// A security event in the audit log: what the log stores (by `as_str`) and what the activity
/// list shows, worded by each page in its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Registered,
    CodeSent,
    CodeFailed,
    CodeVerified,
    SignedIn,
    SignInFailed,
    SignedOut,
    Locked,
    LimitHit,
    PumpingAlarm,
    /// An operator cleared the lock (admin CLI).
    Unlocked,
    /// An operator removed the account (admin CLI).
    Removed,
    /// A reset code was asked for.
    ResetRequested,
    /// A new password was set with a reset code.
    PasswordReset,
    /// The signed-in owner changed the password.
    PasswordChanged,
    /// The owner ended a session (detail: how many, when several).
    SessionEnded,
    /// The account moved to a new phone number (detail: the new number, masked).
    PhoneChanged,
    /// A move to a new number without the current one began its wait (detail: the new number).
    PhoneChangeWaiting,
    /// A waiting move was cancelled: by its link, by the owner, or because the number was taken.
    PhoneChangeCancelled,
    /// A sign-in factor was added (detail: which).
    FactorAdded,
    /// A sign-in factor was removed (detail: which).
    FactorRemoved,
    /// New recovery codes replaced the old ones.
    RecoveryCodesRenewed,
    /// The owner changed their name or email.
    ProfileChanged,
    /// An app got tokens for the account (detail: the app's id).
    AppSignedIn,
    /// An app's access ended: the owner disconnected it or the app signed out.
    AppRevoked,
    /// An app's request was refused because a code or refresh token was used twice, and its
    /// access was withdrawn.
    AppRefused,
    /// A name this build does not know (a newer instance wrote it).
    #[serde(other)]
    Other,
}

impl ActivityKind {
    const NAMES: [(ActivityKind, &'static str); 26] = [
        (ActivityKind::Registered, "registered"),
        (ActivityKind::CodeSent, "code_sent"),
        (ActivityKind::CodeFailed, "code_failed"),
        (ActivityKind::CodeVerified, "code_verified"),
        (ActivityKind::SignedIn, "signed_in"),
        (ActivityKind::SignInFailed, "sign_in_failed"),
        (ActivityKind::SignedOut, "signed_out"),
        (ActivityKind::Locked, "locked"),
        (ActivityKind::LimitHit, "limit_hit"),
        (ActivityKind::PumpingAlarm, "pumping_alarm"),
        (ActivityKind::Unlocked, "unlocked"),
        (ActivityKind::Removed, "removed"),
        (ActivityKind::ResetRequested, "reset_requested"),
        (ActivityKind::PasswordReset, "password_reset"),
        (ActivityKind::PasswordChanged, "password_changed"),
        (ActivityKind::SessionEnded, "session_ended"),
        (ActivityKind::PhoneChanged, "phone_changed"),
        (ActivityKind::PhoneChangeWaiting, "phone_change_waiting"),
        (ActivityKind::PhoneChangeCancelled, "phone_change_cancelled"),
        (ActivityKind::FactorAdded, "factor_added"),
        (ActivityKind::FactorRemoved, "factor_removed"),
        (ActivityKind::RecoveryCodesRenewed, "recovery_codes_renewed"),
        (ActivityKind::ProfileChanged, "profile_changed"),
        (ActivityKind::AppSignedIn, "app_signed_in"),
        (ActivityKind::AppRevoked, "app_revoked"),
        (ActivityKind::AppRefused, "app_refused"),
    ];

    /// The name the audit log stores.
    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("other", |(_, name)| name)
    }

    pub fn from_name(name: &str) -> ActivityKind {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map_or(ActivityKind::Other, |(kind, _)| *kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_names_are_their_serde_names_both_ways() {
        for (kind, name) in ActivityKind::NAMES {
            assert_eq!(ActivityKind::from_name(name), kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
        assert_eq!(
            ActivityKind::from_name("from_the_future"),
            ActivityKind::Other
        );
    }
}
