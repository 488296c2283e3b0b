//! The `totp` table: an account's authenticator app, its key sealed (auth::seal). Pending
//! until a right code confirms it; each step it accepted is remembered so no code works twice.

use surrealdb::types::{RecordId, SurrealValue};

use std::future::IntoFuture;

use super::factors::ENROLLED;
use super::{
    errors_mention, first_error, is_conflict, retry_conflicts, until_settled, Db, DbError,
};

#[derive(Debug, Clone, SurrealValue)]
pub struct TotpRow {
    pub account: RecordId,
    pub sealed: String,
    pub enabled: bool,
    /// The newest step a code was accepted for; only later ones work.
    pub last_step: i64,
    pub created_at: i64,
    pub enabled_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

pub async fn of_account(db: &Db, account: &RecordId) -> Result<Option<TotpRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM totp WHERE account = $account LIMIT 1")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    let rows: Vec<TotpRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// A new key waiting for its first code, replacing an earlier unconfirmed one. False when the
/// account already has a confirmed app (remove it first): the unique index refuses a second.
pub async fn start(db: &Db, account: &RecordId, sealed: &str, now: i64) -> Result<bool, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
         DELETE totp WHERE account = $account AND enabled = false;
         CREATE totp CONTENT {{ account: $account, sealed: $sealed, enabled: false, \
             last_step: 0, created_at: $now }};
         {ENROLLED}
         COMMIT TRANSACTION;"
    );
    let (_, errors) = until_settled(20, || {
        db.query(sql.as_str())
            .bind(("account", account.clone()))
            .bind(("sealed", sealed.to_string()))
            .bind(("now", now))
            .into_future()
    })
    .await?;
    if errors.is_empty() {
        return Ok(true);
    }
    if errors_mention(&errors, "totp_account") || is_conflict(&errors) {
        return Ok(false);
    }
    Err(first_error(errors, "totp: start"))
}

/// Uses `step` of the account's app (confirming it, when `confirm`), only if no code of that
/// step or a later one was accepted before: of two requests with one code, one wins.
pub async fn use_step(
    db: &Db,
    account: &RecordId,
    step: i64,
    confirm: bool,
    now: i64,
) -> Result<bool, DbError> {
    let mut res = retry_conflicts("totp step", 20, || {
        db.query(
            "UPDATE totp SET last_step = $step, last_used_at = $now, \
                 enabled = true, enabled_at = enabled_at ?? $now \
             WHERE account = $account AND last_step < $step AND enabled = $was RETURN VALUE id",
        )
        .bind(("account", account.clone()))
        .bind(("step", step))
        .bind(("now", now))
        .bind(("was", !confirm))
        .into_future()
    })
    .await?;
    let used: Vec<RecordId> = res.take(0)?;
    Ok(!used.is_empty())
}

/// Seals the key again (after a rotation), unless it changed meanwhile.
pub async fn reseal(db: &Db, account: &RecordId, old: &str, new: &str) -> Result<(), DbError> {
    db.query("UPDATE totp SET sealed = $new WHERE account = $account AND sealed = $old")
        .bind(("account", account.clone()))
        .bind(("old", old.to_string()))
        .bind(("new", new.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// Removes the account's app; whether there was one.
pub async fn remove(db: &Db, account: &RecordId) -> Result<bool, DbError> {
    let mut res = db
        .query("DELETE totp WHERE account = $account RETURN BEFORE")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    let gone: Vec<TotpRow> = res.take(0)?;
    Ok(!gone.is_empty())
}
