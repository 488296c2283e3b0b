//! The `sms_breaker` table: each provider's consecutive failures and when its open circuit
//! allows a trial again. Shared by every app instance.

use std::collections::HashMap;

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

/// A provider's recorded health.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    pub failures: u32,
    pub open_until: i64,
}

#[derive(Debug, Clone, SurrealValue)]
struct Row {
    id: RecordId,
    failures: i64,
    open_until: i64,
}

fn record(provider: &str) -> RecordId {
    RecordId::new("sms_breaker", provider)
}

/// Every provider's health, by name; providers never failed are absent (healthy).
pub async fn all(db: &Db) -> Result<HashMap<String, Health>, DbError> {
    let mut res = db
        .query("SELECT id, failures, open_until FROM sms_breaker")
        .await?
        .check()?;
    let rows: Vec<Row> = res.take(0)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let name = match row.id.key {
                surrealdb::types::RecordIdKey::String(s) => s,
                _ => return None,
            };
            Some((
                name,
                Health {
                    failures: row.failures.clamp(0, u32::MAX as i64) as u32,
                    open_until: row.open_until,
                },
            ))
        })
        .collect())
}

/// Claims the one trial send of a half-open circuit: true for exactly one caller per cooldown,
/// because the claim itself pushes the next trial a cooldown away.
pub async fn claim_trial(
    db: &Db,
    provider: &str,
    threshold: u32,
    cooldown_secs: u64,
    now: i64,
) -> Result<bool, DbError> {
    let mut res = db
        .query(
            "UPDATE $breaker SET open_until = $next \
             WHERE failures >= $threshold AND open_until <= $now RETURN VALUE id",
        )
        .bind(("breaker", record(provider)))
        .bind(("next", now + cooldown_secs as i64 * 1000))
        .bind(("threshold", threshold as i64))
        .bind(("now", now))
        .await?
        .check()?;
    let claimed: Vec<RecordId> = res.take(0)?;
    Ok(!claimed.is_empty())
}

/// A send went through: the circuit closes.
pub async fn succeeded(db: &Db, provider: &str) -> Result<(), DbError> {
    db.query("UPSERT $breaker SET failures = 0, open_until = 0")
        .bind(("breaker", record(provider)))
        .await?
        .check()?;
    Ok(())
}

/// A send failed; at the threshold (and at every failure past it) the circuit opens for the
/// cooldown. Returns the failures in a row so far.
pub async fn failed(
    db: &Db,
    provider: &str,
    threshold: u32,
    cooldown_secs: u64,
    now: i64,
) -> Result<u32, DbError> {
    let mut res = db
        .query(
            "UPSERT $breaker SET failures = (failures ?? 0) + 1, open_until = open_until ?? 0;
             UPDATE $breaker SET open_until = $until WHERE failures >= $threshold;
             SELECT VALUE failures FROM ONLY $breaker;",
        )
        .bind(("breaker", record(provider)))
        .bind(("until", now + cooldown_secs as i64 * 1000))
        .bind(("threshold", threshold as i64))
        .await?
        .check()?;
    let failures: Option<i64> = res.take(2)?;
    Ok(failures.unwrap_or_default().clamp(0, u32::MAX as i64) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sms::breaker::{circuit, Circuit};
    use crate::server::sms::settings::BreakerPolicy;

    const POLICY: BreakerPolicy = BreakerPolicy {
        failures: 2,
        cooldown_secs: 30,
    };

    #[tokio::test]
    async fn failures_open_the_circuit_one_trial_at_a_time_and_success_closes_it() {
        let db = crate::server::db::memory().await;
        let health = |db: Db| async move {
            all(&db)
                .await
                .unwrap()
                .get("msg91")
                .copied()
                .unwrap_or_default()
        };
        assert_eq!(
            failed(&db, "msg91", POLICY.failures, POLICY.cooldown_secs, 1_000)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            circuit(health(db.clone()).await, POLICY, 1_000),
            Circuit::Closed
        );
        assert_eq!(
            failed(&db, "msg91", POLICY.failures, POLICY.cooldown_secs, 2_000)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            circuit(health(db.clone()).await, POLICY, 2_000),
            Circuit::Open
        );
        assert!(
            !claim_trial(&db, "msg91", POLICY.failures, POLICY.cooldown_secs, 20_000)
                .await
                .unwrap(),
            "still cooling down"
        );

        let after = 32_000;
        assert_eq!(
            circuit(health(db.clone()).await, POLICY, after),
            Circuit::HalfOpen
        );
        assert!(
            claim_trial(&db, "msg91", POLICY.failures, POLICY.cooldown_secs, after)
                .await
                .unwrap()
        );
        assert!(
            !claim_trial(&db, "msg91", POLICY.failures, POLICY.cooldown_secs, after)
                .await
                .unwrap(),
            "one trial per cooldown"
        );

        succeeded(&db, "msg91").await.unwrap();
        assert_eq!(
            circuit(health(db.clone()).await, POLICY, after),
            Circuit::Closed
        );
        assert!(!all(&db).await.unwrap().contains_key("twilio"));
    }
}
