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
    /// On a sign-in, the number range of the account's phone: the SMS-pumping alarm weighs the
    /// codes sent to a range against the sign-ins it finds here.
    pub verified_range: Option<String>,
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

/// Walks the range's index (`audit_event_range`), so it reads only that range's rows.
const SIGNED_IN_IN_RANGE: &str =
    "SELECT VALUE id FROM audit_event WHERE verified_range = $range AND at >= $since LIMIT $limit";

/// The sign-ins of accounts in a number range since a time, counted up to `cap`: the pumping
/// alarm needs only to know whether there are enough, and a busy range has many.
pub async fn signed_in_in_range(
    db: &Db,
    range: &str,
    since: i64,
    cap: u32,
) -> Result<u32, DbError> {
    let mut res = db
        .query(SIGNED_IN_IN_RANGE)
        .bind(("range", range.to_string()))
        .bind(("since", since))
        .bind(("limit", i64::from(cap)))
        .await?
        .check()?;
    let ids: Vec<RecordId> = res.take(0)?;
    Ok(ids.len() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ranges_sign_ins_are_read_by_its_own_index() {
        let db = super::super::memory().await;
        let mut res = db
            .query(format!("{SIGNED_IN_IN_RANGE} EXPLAIN"))
            .bind(("range", "+9198"))
            .bind(("since", 0_i64))
            .bind(("limit", 10_i64))
            .await
            .unwrap();
        let plan: surrealdb::types::Value = res.take(0).unwrap();
        let plan = format!("{plan:?}");
        assert!(plan.contains("audit_event_range"), "{plan}");
    }

    /// Every event is written to each of the table's indexes; one no request reads is a cost
    /// for nothing. A store from before keeps none either.
    #[tokio::test]
    async fn no_index_by_kind_is_kept_even_by_a_store_that_had_one() {
        let db = super::super::memory().await;
        let indexes = || async {
            let mut res = db.query("INFO FOR TABLE audit_event").await.unwrap();
            let info: surrealdb::types::Value = res.take(0).unwrap();
            format!("{info:?}")
        };
        assert!(indexes().await.contains("audit_event_at"));
        assert!(!indexes().await.contains("audit_event_kind"));
        db.query("DEFINE INDEX audit_event_kind ON audit_event FIELDS kind, at")
            .await
            .unwrap()
            .check()
            .unwrap();
        assert!(indexes().await.contains("audit_event_kind"));
        db.query(super::super::SCHEMA)
            .await
            .unwrap()
            .check()
            .unwrap();
        assert!(!indexes().await.contains("audit_event_kind"));
    }
}
