//! The `login_guard` table: consecutive failures per username as typed, whether or not such a
//! user exists, so throttling never tells real accounts from unknown ones.

use surrealdb::types::{RecordId, SurrealValue};

use std::future::IntoFuture;

use super::{retry_conflicts, Db, DbError};

#[derive(Debug, Clone, Default, PartialEq, Eq, SurrealValue)]
pub struct Guard {
    pub failures: i64,
    pub retry_at: i64,
    pub locked: bool,
}

pub fn record(username: &str) -> RecordId {
    // Bounded so arbitrary input cannot make huge keys.
    let key: String = username.trim().to_lowercase().chars().take(64).collect();
    RecordId::new("login_guard", key)
}

/// A username's guard, at `$guard`.
pub(super) const GET: &str = "SELECT failures, retry_at, locked FROM $guard;";

pub async fn get(db: &Db, username: &str) -> Result<Guard, DbError> {
    let mut res = db
        .query(GET)
        .bind(("guard", record(username)))
        .await?
        .check()?;
    let rows: Vec<Guard> = res.take(0)?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Clears the failure count and the lock (an operator's decision). Returns whether it was locked.
pub async fn unlock(db: &Db, username: &str) -> Result<bool, DbError> {
    let was = get(db, username).await?.locked;
    db.query("UPDATE $id SET failures = 0, retry_at = 0, locked = false")
        .bind(("id", record(username)))
        .await?
        .check()?;
    Ok(was)
}

/// The guard after a failure, and whether this very failure locked the account.
pub struct Failure {
    pub guard: Guard,
    pub newly_locked: bool,
}

/// Counts a failure and applies its consequence: `consequence(failures)` is the wait in seconds
/// before the next attempt and whether the account locks, by the lockout policy.
pub async fn record_failure(
    db: &Db,
    username: &str,
    now: i64,
    consequence: impl Fn(u32) -> (u64, bool),
) -> Result<Failure, DbError> {
    let id = record(username);
    // This statement leaves `locked` as it was, so it also tells whether the lock is new.
    // A burst of failures for one username collides on its record; retried, never a 500.
    let mut res = retry_conflicts("failure count", 20, || {
        db.query("UPSERT $id SET failures = (failures ?? 0) + 1, retry_at = retry_at ?? 0, locked = locked ?? false RETURN failures, retry_at, locked")
            .bind(("id", id.clone()))
            .into_future()
    })
    .await?;
    let counted: Vec<Guard> = res.take(0)?;
    let (failures, was_locked) = counted
        .first()
        .map(|g| (g.failures, g.locked))
        .unwrap_or((1, false));
    let (wait_secs, locks) = consequence(failures.clamp(0, u32::MAX as i64) as u32);
    let retry_at = now + (wait_secs * 1000) as i64;
    let mut res = retry_conflicts("failure consequence", 20, || {
        db.query(
            "UPDATE $id SET retry_at = math::max([retry_at, $retry_at]), locked = locked OR $locked \
             RETURN failures, retry_at, locked",
        )
        .bind(("id", id.clone()))
        .bind(("retry_at", retry_at))
        .bind(("locked", locks))
        .into_future()
    })
    .await?;
    let rows: Vec<Guard> = res.take(0)?;
    Ok(Failure {
        guard: rows.into_iter().next().unwrap_or_default(),
        newly_locked: locks && !was_locked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::auth::lockout::{after_failures, LockoutPolicy};
    use crate::server::db::memory;
    use crate::server::db::transactions::{self, SignedIn};

    fn by(policy: LockoutPolicy) -> impl Fn(u32) -> (u64, bool) {
        move |failures| {
            let c = after_failures(&policy, failures);
            (c.wait_secs, c.locked)
        }
    }

    /// A correct code, as the sign-in records it.
    async fn succeed(db: &Db, username: &str) -> Result<(), DbError> {
        let outcome = SignedIn {
            used: None,
            username,
            events: Vec::new(),
        };
        transactions::signed_in(db, outcome).await
    }

    #[tokio::test]
    async fn failures_delay_then_lock_and_success_resets() {
        let db = memory().await;
        let policy = LockoutPolicy {
            delay_after: 2,
            lock_after: 4,
            max_delay_secs: 900,
        };
        assert_eq!(get(&db, "Raj").await.unwrap(), Guard::default());
        let first = record_failure(&db, "raj", 1_000, by(policy))
            .await
            .unwrap()
            .guard;
        assert_eq!(
            first,
            Guard {
                failures: 1,
                retry_at: 1_000,
                locked: false
            }
        );
        let second = record_failure(&db, "RAJ", 2_000, by(policy))
            .await
            .unwrap()
            .guard;
        assert_eq!(
            second,
            Guard {
                failures: 2,
                retry_at: 3_000,
                locked: false
            },
            "case-insensitive"
        );
        succeed(&db, "raj").await.unwrap();
        assert_eq!(get(&db, "raj").await.unwrap().failures, 0);
        for n in 1..=4 {
            let failure = record_failure(&db, "raj", 10_000, by(policy))
                .await
                .unwrap();
            assert_eq!(failure.guard.locked, n == 4);
            assert_eq!(failure.newly_locked, n == 4);
        }
        let after_lock = record_failure(&db, "raj", 10_000, by(policy))
            .await
            .unwrap();
        assert!(
            after_lock.guard.locked && !after_lock.newly_locked,
            "a lock is new once"
        );
        succeed(&db, "raj").await.unwrap();
        assert!(
            get(&db, "raj").await.unwrap().locked,
            "only a reset or an admin unlocks"
        );
    }
}
