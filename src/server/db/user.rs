//! The `user` table.

use std::fmt;

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

#[derive(Clone, SurrealValue)]
pub struct UserRow {
    pub id: RecordId,
    pub username: String,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub password_hash: String,
    pub phone_verified: bool,
    pub created_at: i64,
    /// Language of the user's SMS texts; absent on accounts made before it was kept.
    pub language: Option<String>,
    /// The owner said "not now" to the suggestion of a factor stronger than SMS.
    pub stronger_dismissed: Option<bool>,
    /// False while the account has never had a factor besides SMS; true, for good, once one
    /// was added; absent on accounts made before it was kept (see `factors::HELD_IF_ENROLLED`, `factors::mark_none_added`).
    pub factors_enrolled: Option<bool>,
    /// The user handle the account's passkeys carry (a UUID), once it has one.
    pub webauthn_id: Option<String>,
    /// The second factor of the last sign-in ("sms", "otp", "recovery"): offered first.
    pub last_method: Option<String>,
}

/// Never prints the password hash or the phone number.
impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("username", &self.username)
            .field("phone_verified", &self.phone_verified)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct NewUser {
    pub key: String,
    pub username: String,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub password_hash: String,
    pub language: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub username: bool,
    pub phone: bool,
}

pub fn record(key: &str) -> RecordId {
    RecordId::new("user", key)
}

/// The account named `$username`, as a one-row list.
pub(super) const BY_USERNAME: &str = "SELECT * FROM user WHERE username = $username LIMIT 1";

pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<UserRow>, DbError> {
    let mut res = db
        .query(BY_USERNAME)
        .bind(("username", username.to_string()))
        .await?
        .check()?;
    let rows: Vec<UserRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

pub async fn find(db: &Db, id: &RecordId) -> Result<Option<UserRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM $id")
        .bind(("id", id.clone()))
        .await?
        .check()?;
    let rows: Vec<UserRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// Which of username and phone belong to a verified account, or to a registration still
/// within its time (`stale_before` is when abandoned registrations stop holding them).
pub async fn taken(
    db: &Db,
    username: &str,
    phone: &str,
    stale_before: i64,
) -> Result<Taken, DbError> {
    let mut res = db
        .query(
            "SELECT username, phone FROM user \
             WHERE (username = $username OR phone = $phone) \
             AND (phone_verified = true OR created_at >= $stale_before)",
        )
        .bind(("username", username.to_string()))
        .bind(("phone", phone.to_string()))
        .bind(("stale_before", stale_before))
        .await?
        .check()?;
    #[derive(SurrealValue)]
    struct Holder {
        username: String,
        phone: String,
    }
    let rows: Vec<Holder> = res.take(0)?;
    Ok(Taken {
        username: rows.iter().any(|r| r.username == username),
        phone: rows.iter().any(|r| r.phone == phone),
    })
}

/// Removes an account that never got verified, with its challenges (after a failed send).
pub async fn delete_unverified(db: &Db, id: &RecordId) -> Result<(), DbError> {
    db.query(
        "BEGIN TRANSACTION;
         DELETE otp_challenge WHERE account = $id;
         DELETE $id WHERE phone_verified = false;
         COMMIT TRANSACTION;",
    )
    .bind(("id", id.clone()))
    .await?
    .check()?;
    Ok(())
}

/// Removes an account with everything that belongs to it: codes, sessions, a waiting change,
/// its authenticator app and recovery codes.
pub async fn remove(db: &Db, id: &RecordId) -> Result<(), DbError> {
    db.query(
        "BEGIN TRANSACTION;
         DELETE otp_challenge WHERE account = $id;
         DELETE session WHERE account = $id;
         DELETE phone_wait WHERE account = $id;
         DELETE totp WHERE account = $id;
         DELETE recovery_set WHERE account = $id;
         DELETE passkey WHERE account = $id;
         DELETE $id;
         COMMIT TRANSACTION;",
    )
    .bind(("id", id.clone()))
    .await?
    .check()?;
    Ok(())
}

/// The name and email the account owner may change.
pub async fn set_profile(
    db: &Db,
    id: &RecordId,
    full_name: &str,
    email: &str,
) -> Result<(), DbError> {
    db.query("UPDATE $id SET full_name = $full_name, email = $email")
        .bind(("id", id.clone()))
        .bind(("full_name", full_name.to_string()))
        .bind(("email", email.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// The language the account's SMS are written in.
/// The account's passkey user handle: the one it has, or `fresh` stored now.
pub async fn webauthn_id(db: &Db, id: &RecordId, fresh: &str) -> Result<String, DbError> {
    let mut res = db
        .query("UPDATE $id SET webauthn_id = webauthn_id ?? $fresh RETURN VALUE webauthn_id")
        .bind(("id", id.clone()))
        .bind(("fresh", fresh.to_string()))
        .await?
        .check()?;
    let handle: Vec<String> = res.take(0)?;
    Ok(handle
        .into_iter()
        .next()
        .unwrap_or_else(|| fresh.to_string()))
}

/// The account whose passkeys carry this user handle.
pub async fn by_webauthn_id(db: &Db, handle: &str) -> Result<Option<UserRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM user WHERE webauthn_id = $handle LIMIT 1")
        .bind(("handle", handle.to_string()))
        .await?
        .check()?;
    let rows: Vec<UserRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// The second factor to offer first at the next sign-in.
pub async fn set_last_method(db: &Db, id: &RecordId, method: &str) -> Result<(), DbError> {
    db.query("UPDATE $id SET last_method = $method")
        .bind(("id", id.clone()))
        .bind(("method", method.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// The owner said "not now" to a factor stronger than SMS: the home page stops suggesting it.
pub async fn dismiss_stronger(db: &Db, id: &RecordId) -> Result<(), DbError> {
    db.query("UPDATE $id SET stronger_dismissed = true")
        .bind(("id", id.clone()))
        .await?
        .check()?;
    Ok(())
}

pub async fn set_language(db: &Db, id: &RecordId, language: &str) -> Result<(), DbError> {
    db.query("UPDATE $id SET language = $language")
        .bind(("id", id.clone()))
        .bind(("language", language.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// A new password hash; in the same transaction every other session of the account ends and
/// every code and phone change it has pending dies, so whoever knew the old password is out.
pub async fn set_password(
    db: &Db,
    id: &RecordId,
    password_hash: &str,
    keep_session: RecordId,
) -> Result<(), DbError> {
    db.query(
        "BEGIN TRANSACTION;
         UPDATE $id SET password_hash = $hash;
         DELETE session WHERE account = $id AND id != $keep;
         DELETE otp_challenge WHERE account = $id AND consumed = false;
         DELETE phone_wait WHERE account = $id;
         COMMIT TRANSACTION;",
    )
    .bind(("id", id.clone()))
    .bind(("hash", password_hash.to_string()))
    .bind(("keep", keep_session))
    .await?
    .check()?;
    Ok(())
}

/// The newest accounts first.
pub async fn newest(db: &Db, limit: u32) -> Result<Vec<UserRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM user ORDER BY created_at DESC LIMIT $limit")
        .bind(("limit", limit as i64))
        .await?
        .check()?;
    Ok(res.take(0)?)
}
