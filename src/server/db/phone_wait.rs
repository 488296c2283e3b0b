//! The `phone_wait` table: a phone change whose owner no longer has the current number. The
//! new number is proven; the move waits, so the current number's holder can cancel it.

use std::future::IntoFuture;

use surrealdb::types::{RecordId, SurrealValue};

use super::{errors_mention, first_error, is_conflict, otp_challenge, until_settled, Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct WaitRow {
    pub id: RecordId,
    pub account: RecordId,
    /// The new number, E.164, proven by its code.
    pub phone: String,
    pub started_at: i64,
    pub ready_at: i64,
    /// The session that asked: it stays signed in when the move happens.
    pub keep_session: RecordId,
}

/// What a new wait stores besides the account the challenge names.
pub struct NewWait {
    pub started_at: i64,
    pub ready_at: i64,
    /// SHA-256 of the cancel link's token, the only way the link is found.
    pub cancel_key: String,
    pub keep_session: RecordId,
}

/// A correct code for a change that could not prove the current number: uses the challenge and
/// starts (or replaces) the account's wait, in one transaction only one racer can win. False
/// when the challenge was no longer usable.
pub async fn begin(
    db: &Db,
    key: &str,
    code_mac: &str,
    max_attempts: u32,
    now: i64,
    wait: NewWait,
) -> Result<bool, DbError> {
    let (_, errors) = until_settled(20, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $won = (UPDATE $id SET consumed = true WHERE consumed = false \
                 AND purpose = 'change_phone' AND current_phone_mac = NONE AND attempts <= $max \
                 AND expires_at > $now AND code_mac = $mac RETURN VALUE { account: account, phone: phone });
             IF array::len($won) != 1 { THROW 'challenge_unavailable' };
             DELETE phone_wait WHERE account = $won[0].account;
             CREATE phone_wait CONTENT { account: $won[0].account, phone: $won[0].phone, \
                 started_at: $started, ready_at: $ready, cancel_key: $cancel, keep_session: $keep };
             COMMIT TRANSACTION;",
        )
        .bind(("id", otp_challenge::record(key)))
        .bind(("max", max_attempts as i64))
        .bind(("now", now))
        .bind(("mac", code_mac.to_string()))
        .bind(("started", wait.started_at))
        .bind(("ready", wait.ready_at))
        .bind(("cancel", wait.cancel_key.clone()))
        .bind(("keep", wait.keep_session.clone()))
        .into_future()
    })
    .await?;
    if errors_mention(&errors, "challenge_unavailable") || is_conflict(&errors) {
        return Ok(false);
    }
    if !errors.is_empty() {
        return Err(first_error(errors, "phone wait: begin"));
    }
    Ok(true)
}

/// The account's waiting change, if any.
pub async fn of_account(db: &Db, account: &RecordId) -> Result<Option<WaitRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM phone_wait WHERE account = $account LIMIT 1")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    let rows: Vec<WaitRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// Cancels the account's waiting change; the one cancelled, if there was one.
pub async fn cancel_of_account(db: &Db, account: &RecordId) -> Result<Option<WaitRow>, DbError> {
    let mut res = db
        .query("DELETE phone_wait WHERE account = $account RETURN BEFORE")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    let rows: Vec<WaitRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// Cancels the change the link with this token's key was sent for.
pub async fn cancel_by_key(db: &Db, cancel_key: &str) -> Result<Option<WaitRow>, DbError> {
    let mut res = db
        .query("DELETE phone_wait WHERE cancel_key = $key RETURN BEFORE")
        .bind(("key", cancel_key.to_string()))
        .await?
        .check()?;
    let rows: Vec<WaitRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// Every change whose wait is over.
pub async fn due(db: &Db, now: i64) -> Result<Vec<WaitRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM phone_wait WHERE ready_at <= $now")
        .bind(("now", now))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// How carrying out a due change ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Moved {
    Moved,
    /// Cancelled, replaced or carried out by another instance meanwhile.
    Gone,
    /// Another account took the number during the wait; the change is dropped.
    NumberTaken,
}

/// Carries out a due change in one transaction: the account moves to the new number, every
/// other session and pending code of the account ends, the wait goes.
pub async fn carry_out(db: &Db, wait: &WaitRow, now: i64) -> Result<Moved, DbError> {
    let (_, errors) = until_settled(20, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $gone = (DELETE $id WHERE ready_at <= $now RETURN BEFORE);
             IF array::len($gone) != 1 { THROW 'wait_gone' };
             UPDATE $account SET phone = $phone, phone_verified = true;
             DELETE session WHERE account = $account AND id != $keep;
             DELETE otp_challenge WHERE account = $account AND consumed = false;
             COMMIT TRANSACTION;",
        )
        .bind(("id", wait.id.clone()))
        .bind(("now", now))
        .bind(("account", wait.account.clone()))
        .bind(("phone", wait.phone.clone()))
        .bind(("keep", wait.keep_session.clone()))
        .into_future()
    })
    .await?;
    if errors.is_empty() {
        return Ok(Moved::Moved);
    }
    if errors_mention(&errors, "user_phone") {
        db.query("DELETE $id")
            .bind(("id", wait.id.clone()))
            .await?
            .check()?;
        return Ok(Moved::NumberTaken);
    }
    if errors_mention(&errors, "wait_gone") || is_conflict(&errors) {
        return Ok(Moved::Gone);
    }
    Err(first_error(errors, "phone wait: carry out"))
}
