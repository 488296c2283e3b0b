//! The `recovery_set` table: an account's recovery codes, one row holding the MACs of the codes
//! not used yet. Using one removes it from the row in one conditional write, so a code works
//! once however many requests carry it. Until the owner says they saved them, the codes are
//! also kept sealed, so the page can show them again (with or without JavaScript).

use std::future::IntoFuture;

use surrealdb::types::{RecordId, SurrealValue};

use super::factors::ENROLLED;
use super::{retry_conflicts, Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct RecoveryRow {
    pub account: RecordId,
    pub unused: Vec<String>,
    /// The codes themselves, sealed, until the owner has saved them.
    pub reveal: Option<String>,
    pub created_at: i64,
}

pub async fn of_account(db: &Db, account: &RecordId) -> Result<Option<RecoveryRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM recovery_set WHERE account = $account LIMIT 1")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    let rows: Vec<RecoveryRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// A new set, replacing the old one whole: its codes stop working.
pub async fn replace(
    db: &Db,
    account: &RecordId,
    macs: Vec<String>,
    reveal: String,
    now: i64,
) -> Result<(), DbError> {
    db.query(format!(
        "BEGIN TRANSACTION;
         DELETE recovery_set WHERE account = $account;
         CREATE recovery_set CONTENT {{ account: $account, unused: $macs, reveal: $reveal, \
             created_at: $now }};
         {ENROLLED}
         COMMIT TRANSACTION;"
    ))
    .bind(("account", account.clone()))
    .bind(("macs", macs))
    .bind(("reveal", reveal))
    .bind(("now", now))
    .await?
    .check()?;
    Ok(())
}

/// Uses the code with this MAC; how many are left, or None when it was not (or no longer) one.
pub async fn use_code(db: &Db, account: &RecordId, mac: &str) -> Result<Option<usize>, DbError> {
    let mut res = retry_conflicts("recovery code", 20, || {
        db.query(
            "UPDATE recovery_set SET unused -= $mac \
             WHERE account = $account AND $mac IN unused RETURN VALUE array::len(unused)",
        )
        .bind(("account", account.clone()))
        .bind(("mac", mac.to_string()))
        .into_future()
    })
    .await?;
    let left: Vec<i64> = res.take(0)?;
    Ok(left.first().map(|n| (*n).max(0) as usize))
}

/// The owner saved the codes: the sealed copy goes.
pub async fn forget_reveal(db: &Db, account: &RecordId) -> Result<(), DbError> {
    db.query("UPDATE recovery_set SET reveal = NONE WHERE account = $account")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    Ok(())
}

pub async fn remove(db: &Db, account: &RecordId) -> Result<(), DbError> {
    db.query("DELETE recovery_set WHERE account = $account")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    Ok(())
}
