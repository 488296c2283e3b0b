//! The `audit_event` table: security events, never a code or a password.

use serde::Serialize;
use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

pub use crate::model::ActivityKind as Kind;

#[derive(Debug, Clone, SurrealValue)]
pub struct Event {
    pub at: i64,
    pub kind: String,
    pub account: Option<RecordId>,
    pub username: String,
    pub masked_phone: String,
    pub ip: String,
    pub user_agent: String,
    /// Which limit, which provider: never a secret.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, SurrealValue)]
pub struct Recent {
    pub at: i64,
    pub kind: String,
    pub ip: String,
    pub user_agent: String,
}

pub async fn record(db: &Db, event: Event) -> Result<(), DbError> {
    db.query("CREATE audit_event CONTENT $event")
        .bind(("event", event))
        .await?
        .check()?;
    Ok(())
}

/// One account's newest events.
pub async fn recent_for(db: &Db, account: &RecordId, limit: u32) -> Result<Vec<Recent>, DbError> {
    let mut res = db
        .query(
            "SELECT at, kind, ip, user_agent FROM audit_event WHERE account = $account \
             ORDER BY at DESC LIMIT $limit",
        )
        .bind(("account", account.clone()))
        .bind(("limit", limit as i64))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// How many events of a kind happened since a time (for tests and alarms).
pub async fn count_since(db: &Db, kind: Kind, since: i64) -> Result<i64, DbError> {
    let mut res = db
        .query("SELECT count() AS n FROM audit_event WHERE kind = $kind AND at >= $since GROUP ALL")
        .bind(("kind", kind.as_str().to_string()))
        .bind(("since", since))
        .await?
        .check()?;
    let n: Option<i64> = res.take((0, "n"))?;
    Ok(n.unwrap_or(0))
}
