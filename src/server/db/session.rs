//! The `session` table. Keys are hashes of the cookie token (see auth::token).

use surrealdb::types::{RecordId, SurrealValue};

use super::user::UserRow;
use std::future::IntoFuture;

use super::{retry_conflicts, Db, DbError};

pub fn record(key: &str) -> RecordId {
    RecordId::new("session", key)
}

/// The signed-in account of a live session: not past its lifetime and used since
/// `idle_since`. Each use moves the inactivity clock on.
pub async fn account(
    db: &Db,
    key: &str,
    now: i64,
    idle_since: i64,
) -> Result<Option<UserRow>, DbError> {
    // A browser's parallel requests all move the same clock: collisions are retried.
    let mut res = retry_conflicts("session lookup", 20, || {
        db.query(
            "LET $live = (UPDATE $id SET last_seen = $now \
                 WHERE expires_at > $now AND (last_seen ?? created_at) > $idle_since RETURN VALUE account);
             SELECT * FROM $live;",
        )
        .bind(("id", record(key)))
        .bind(("now", now))
        .bind(("idle_since", idle_since))
        .into_future()
    })
    .await?;
    let rows: Vec<UserRow> = res.take(1)?;
    Ok(rows.into_iter().next())
}

/// What a new session records.
pub struct NewSession {
    pub key: String,
    pub account: RecordId,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    pub methods: Vec<String>,
}

/// A session begun without a code challenge (a passkey sign-in).
pub async fn create(db: &Db, session: NewSession, now: i64) -> Result<(), DbError> {
    db.query(
        "CREATE $id CONTENT { account: $account, created_at: $now, last_seen: $now, \
             proven_at: $now, expires_at: $expires, ip: $ip, user_agent: $agent, methods: $methods }",
    )
    .bind(("id", record(&session.key)))
    .bind(("account", session.account))
    .bind(("now", now))
    .bind(("expires", session.expires_at))
    .bind(("ip", session.ip))
    .bind(("agent", session.user_agent))
    .bind(("methods", session.methods))
    .await?
    .check()?;
    Ok(())
}

/// When the session's second factor was last proven (its sign-in, for sessions made before
/// this was kept).
pub async fn proven_at(db: &Db, key: &str) -> Result<Option<i64>, DbError> {
    let mut res = db
        .query("SELECT VALUE proven_at ?? created_at FROM $id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let at: Vec<i64> = res.take(0)?;
    Ok(at.into_iter().next())
}

/// How the session's sign-in was proven, and when last: what a token made from it reports.
#[derive(Debug, Clone, SurrealValue)]
pub struct Proof {
    pub proven_at: i64,
    pub methods: Vec<String>,
}

pub async fn proof(db: &Db, key: &str) -> Result<Option<Proof>, DbError> {
    let mut res = db
        .query("SELECT proven_at ?? created_at AS proven_at, methods ?? [] AS methods FROM $id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let rows: Vec<Proof> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// Ends a session, whatever else is touching it (a collision with its own last-seen update is
/// retried), and names the account it belonged to.
pub async fn delete(db: &Db, key: &str) -> Result<Option<RecordId>, DbError> {
    let mut res = retry_conflicts("session delete", 20, || {
        db.query("DELETE $id RETURN BEFORE")
            .bind(("id", record(key)))
            .into_future()
    })
    .await?;
    let ended: Vec<Ended> = res.take(0)?;
    Ok(ended.into_iter().next().map(|e| e.account))
}

#[derive(SurrealValue)]
struct Ended {
    account: RecordId,
}

/// A live session as its owner sees it.
#[derive(Debug, Clone, SurrealValue)]
pub struct SessionRow {
    pub key: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// How it was made ("pwd", "sms", "otp", "recovery"); none on sessions made before.
    pub methods: Option<Vec<String>>,
}

/// The account's live sessions, most recently used first.
pub async fn live_for(
    db: &Db,
    account: &RecordId,
    now: i64,
    idle_since: i64,
) -> Result<Vec<SessionRow>, DbError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS key, created_at, last_seen ?? created_at AS last_seen, ip, \
                 user_agent, methods FROM session WHERE account = $account AND expires_at > $now \
                 AND (last_seen ?? created_at) > $idle_since ORDER BY last_seen DESC",
        )
        .bind(("account", account.clone()))
        .bind(("now", now))
        .bind(("idle_since", idle_since))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// Ends one of the account's sessions; another account's session is left alone. Whether one
/// ended.
pub async fn end_one(db: &Db, account: &RecordId, key: &str) -> Result<bool, DbError> {
    let mut res = db
        .query("DELETE $id WHERE account = $account RETURN BEFORE")
        .bind(("id", record(key)))
        .bind(("account", account.clone()))
        .await?
        .check()?;
    let ended: Vec<surrealdb::types::Value> = res.take(0)?;
    Ok(!ended.is_empty())
}

/// Ends every session of the account but `keep`; how many ended.
pub async fn end_others(db: &Db, account: &RecordId, keep: &str) -> Result<usize, DbError> {
    let mut res = db
        .query("DELETE session WHERE account = $account AND id != $keep RETURN BEFORE")
        .bind(("account", account.clone()))
        .bind(("keep", record(keep)))
        .await?
        .check()?;
    let ended: Vec<surrealdb::types::Value> = res.take(0)?;
    Ok(ended.len())
}

#[derive(Debug, SurrealValue)]
pub struct SessionCount {
    pub count: i64,
}

/// How many live sessions an account has (used by tests and the race check).
pub async fn count_for(db: &Db, account: &RecordId) -> Result<i64, DbError> {
    let mut res = db
        .query("SELECT count() AS count FROM session WHERE account = $account GROUP ALL")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    let rows: Vec<SessionCount> = res.take(0)?;
    Ok(rows.first().map(|r| r.count).unwrap_or(0))
}
