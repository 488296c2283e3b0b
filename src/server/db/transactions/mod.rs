//! The transactions that span tables. Each table's own statements live in its module; these
//! change several tables at once, so that a step either happens whole or not at all.

mod code_check;
mod redeem;
mod registration;
mod send_counts;
mod signed_in;

pub use code_check::{check_code, Checked, CodeCheck};
pub use redeem::{redeem, redeem_phone_change, redeem_reset, PhoneChange, Redemption};
pub use registration::{create_with_challenge, CreateError};
pub use send_counts::{count_send, Limit, SendCounts, WithSend};
pub use signed_in::{signed_in, SignedIn};

/// An unverified account `u<key>` with one challenge `key` of `purpose` whose stored MAC is
/// `code_mac`, as a registration leaves them; for the tests of the store's sign-in steps.
#[cfg(test)]
pub(in crate::server::db) async fn account_with_challenge(
    db: &super::Db,
    key: &str,
    purpose: crate::model::CodePurpose,
    code_mac: &str,
    now: i64,
) -> surrealdb::types::RecordId {
    use super::otp_challenge::{NewChallenge, SignInAs};
    use super::user::{self, NewUser};
    let user = NewUser {
        key: format!("u{key}"),
        username: format!("user_{key}"),
        full_name: "राज शर्मा".into(),
        phone: format!("+9198765{key:0>5}"),
        email: "raj@example.in".into(),
        password_hash: "$argon2id$stub".into(),
        language: "hi".into(),
    };
    let account = user::record(&user.key);
    let sign_in_as = purpose.signs_in().then(|| SignInAs {
        username: user.username.clone(),
        guard: super::login_guard::record(&user.username),
        masked_phone: "+91******".to_string() + &user.phone[user.phone.len() - 4..],
        range: "919876".into(),
    });
    let challenge = NewChallenge {
        key: key.into(),
        account: account.clone(),
        purpose,
        phone: user.phone.clone(),
        code_mac: code_mac.into(),
        now,
        expires_at: now + 300_000,
        resend_after: now + 30_000,
        language: "hi".into(),
        sign_in_as,
    };
    create_with_challenge(db, user, challenge, now, now - 1_800_000)
        .await
        .unwrap();
    account
}
