//! The `passkey` table: an account's passkeys. `data` is webauthn-rs's record of the credential
//! (public key, counter, backup flags): nothing in it signs anyone in.

use std::future::IntoFuture;

use surrealdb::types::{RecordId, SurrealValue};

use super::factors::ENROLLED;
use super::{errors_mention, first_error, until_settled, Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct PasskeyRow {
    pub id: RecordId,
    pub account: RecordId,
    /// The credential id, base64url: how a sign-in finds it.
    pub cred_id: String,
    pub data: String,
    pub name: String,
    /// Synced between devices (a password manager, iCloud Keychain), not bound to one.
    pub synced: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub struct NewPasskey {
    pub cred_id: String,
    pub data: String,
    pub name: String,
    pub synced: bool,
}

pub async fn of_account(db: &Db, account: &RecordId) -> Result<Vec<PasskeyRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM passkey WHERE account = $account ORDER BY created_at")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// Adds a passkey; false when its credential is already registered (to any account).
pub async fn add(
    db: &Db,
    account: &RecordId,
    passkey: NewPasskey,
    now: i64,
) -> Result<bool, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
         CREATE passkey CONTENT {{ account: $account, cred_id: $cred_id, data: $data, \
             name: $name, synced: $synced, created_at: $now }};
         {ENROLLED}
         COMMIT TRANSACTION;"
    );
    let (_, errors) = until_settled(20, || {
        db.query(sql.as_str())
            .bind(("account", account.clone()))
            .bind(("cred_id", passkey.cred_id.clone()))
            .bind(("data", passkey.data.clone()))
            .bind(("name", passkey.name.clone()))
            .bind(("synced", passkey.synced))
            .bind(("now", now))
            .into_future()
    })
    .await?;
    if errors.is_empty() {
        return Ok(true);
    }
    if errors_mention(&errors, "passkey_cred") {
        return Ok(false);
    }
    Err(first_error(errors, "passkey: add"))
}

/// After a sign-in: the credential's new counter and backup flags, and when it was used.
pub async fn used(db: &Db, id: &RecordId, data: &str, now: i64) -> Result<(), DbError> {
    db.query("UPDATE $id SET data = $data, last_used_at = $now")
        .bind(("id", id.clone()))
        .bind(("data", data.to_string()))
        .bind(("now", now))
        .await?
        .check()?;
    Ok(())
}

/// Renames one of the account's passkeys; another account's is left alone.
pub async fn rename(db: &Db, account: &RecordId, key: &str, name: &str) -> Result<bool, DbError> {
    let mut res = db
        .query("UPDATE $id SET name = $name WHERE account = $account RETURN VALUE id")
        .bind(("id", RecordId::new("passkey", key)))
        .bind(("account", account.clone()))
        .bind(("name", name.to_string()))
        .await?
        .check()?;
    let changed: Vec<RecordId> = res.take(0)?;
    Ok(!changed.is_empty())
}

/// Removes one of the account's passkeys; whether it was there.
pub async fn remove(db: &Db, account: &RecordId, key: &str) -> Result<bool, DbError> {
    let mut res = db
        .query("DELETE $id WHERE account = $account RETURN BEFORE")
        .bind(("id", RecordId::new("passkey", key)))
        .bind(("account", account.clone()))
        .await?
        .check()?;
    let gone: Vec<PasskeyRow> = res.take(0)?;
    Ok(!gone.is_empty())
}
