//! What follows a correct code, in one transaction: the username's failure count resets, the
//! number range's verified count goes up (the SMS-pumping alarm weighs sends against it), and
//! the events are recorded. One commit instead of four, each of which waits for fsync.

use std::future::IntoFuture;

use surrealdb::types::RecordId;

use super::super::{audit_event, login_guard, rate_counter, retry_conflicts, Db, DbError};

pub struct SignedIn<'a> {
    pub username: &'a str,
    /// The account and the second factor it used, remembered so the next sign-in offers that
    /// one first; none in tests of the counters alone.
    pub used: Option<(&'a RecordId, &'a str)>,
    /// The phone's number range, as the pumping alarm counts it.
    pub range: &'a str,
    pub events: Vec<audit_event::Event>,
    pub now: i64,
}

/// `code_check.rs` writes the same bookkeeping inside its own transaction for SMS codes; a
/// change here belongs there too.
pub async fn signed_in(
    db: &Db,
    outcome: SignedIn<'_>,
    range_window_secs: u64,
) -> Result<(), DbError> {
    let (counter, ends) = rate_counter::shard_window(
        "range_verified",
        outcome.range,
        range_window_secs,
        outcome.now,
    );
    // The range's counter is sharded, so sign-ins in one range seldom collide; when they do,
    // the transaction runs again.
    retry_conflicts("sign-in bookkeeping", 8, || {
        db.query(
            "BEGIN TRANSACTION;
             UPDATE $guard SET failures = 0, retry_at = 0 \
                 WHERE locked = false AND (failures > 0 OR retry_at > 0);
             IF $account != NONE { UPDATE $account SET last_method = $method WHERE last_method != $method };
             UPSERT $counter SET count = (count ?? 0) + 1, expires_at = $ends;
             INSERT INTO audit_event $events;
             COMMIT TRANSACTION;",
        )
        .bind(("guard", login_guard::record(outcome.username)))
        .bind(("counter", counter.clone()))
        .bind(("ends", ends))
        .bind(("events", outcome.events.clone()))
        .bind(("account", outcome.used.map(|(account, _)| account.clone())))
        .bind(("method", outcome.used.map(|(_, method)| method.to_string())))
        .into_future()
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::auth::lockout::{after_failures, LockoutPolicy};

    fn event(kind: &str) -> audit_event::Event {
        audit_event::Event {
            at: 1,
            kind: kind.into(),
            account: None,
            username: "raj".into(),
            masked_phone: "+91******3210".into(),
            ip: "127.0.0.1".into(),
            user_agent: String::new(),
            detail: String::new(),
        }
    }

    #[tokio::test]
    async fn resets_failures_counts_the_range_and_records_events_even_when_racing() {
        let db = crate::server::db::memory().await;
        let policy = LockoutPolicy {
            delay_after: 10,
            lock_after: 100,
            max_delay_secs: 900,
        };
        login_guard::record_failure(&db, "raj", 1, |n| {
            let c = after_failures(&policy, n);
            (c.wait_secs, c.locked)
        })
        .await
        .unwrap();
        let racers: Vec<_> = (0..20)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let outcome = SignedIn {
                        username: if i == 0 { "raj" } else { "other" },
                        used: None,
                        range: "9198",
                        events: vec![event("signed_in")],
                        now: 5,
                    };
                    signed_in(&db, outcome, 3600).await
                })
            })
            .collect();
        for racer in racers {
            racer.await.unwrap().unwrap();
        }
        assert_eq!(login_guard::get(&db, "raj").await.unwrap().failures, 0);
        assert_eq!(
            rate_counter::peek_sharded(&db, "range_verified", "9198", 3600, 5)
                .await
                .unwrap(),
            20
        );
        let mut res = db.query("SELECT VALUE id FROM audit_event").await.unwrap();
        let ids: Vec<surrealdb::types::RecordId> = res.take(0).unwrap();
        assert_eq!(ids.len(), 20);
    }
}
