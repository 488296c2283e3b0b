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
}

/// One line of the signed-in user's recent activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// "2026-11-24 18:43 UTC", formatted on the server so both renders agree.
    pub when: String,
    /// "Signed in", "Wrong code entered", …
    pub what: String,
    pub ip: String,
    pub device: String,
}

/// One signed-in device on the sessions page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session to end it; useless as a credential.
    pub id: String,
    /// "Chrome on Android", from the browser's user agent.
    pub device: String,
    pub ip: String,
    pub signed_in: String,
    pub last_seen: String,
    /// The session this page is being viewed in.
    pub current: bool,
}
