//! What follows a correct code, in one transaction: the username's failure count resets, the
//! factor used is remembered and the events are recorded (the sign-in's row also counts as its
//! number range's verified one, which the SMS-pumping alarm weighs sends against). One commit.

use std::future::IntoFuture;

use surrealdb::types::RecordId;

use super::super::{audit_event, login_guard, retry_conflicts, Db, DbError};

pub struct SignedIn<'a> {
    pub username: &'a str,
    /// The account and the second factor it used, remembered so the next sign-in offers that
    /// one first; none in tests of the counters alone.
    pub used: Option<(&'a RecordId, &'a str)>,
    pub events: Vec<audit_event::Event>,
}

/// `code_check.rs` writes the same bookkeeping inside its own transaction for SMS codes; a
/// change here belongs there too.
pub async fn signed_in(db: &Db, outcome: SignedIn<'_>) -> Result<(), DbError> {
    // Only the guard and the account are shared, and only with the same user's other requests.
    retry_conflicts("sign-in bookkeeping", 8, || {
        db.query(
            "BEGIN TRANSACTION;
             UPDATE $guard SET failures = 0, retry_at = 0 \
                 WHERE locked = false AND (failures > 0 OR retry_at > 0);
             IF $account != NONE { UPDATE $account SET last_method = $method WHERE last_method != $method };
             INSERT INTO audit_event $events;
             COMMIT TRANSACTION;",
        )
        .bind(("guard", login_guard::record(outcome.username)))
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
            verified_range: Some("9198".into()),
        }
    }

    #[tokio::test]
    async fn resets_failures_and_records_events_the_alarm_counts_even_when_racing() {
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
                        events: vec![event("signed_in")],
                    };
                    signed_in(&db, outcome).await
                })
            })
            .collect();
        for racer in racers {
            racer.await.unwrap().unwrap();
        }
        assert_eq!(login_guard::get(&db, "raj").await.unwrap().failures, 0);
        let counted = audit_event::signed_in_in_range(&db, "9198", 0, 100);
        assert_eq!(counted.await.unwrap(), 20);
        let capped = audit_event::signed_in_in_range(&db, "9198", 0, 7);
        assert_eq!(capped.await.unwrap(), 7, "counted no further than asked");
        let elsewhere = audit_event::signed_in_in_range(&db, "9176", 0, 100);
        assert_eq!(elsewhere.await.unwrap(), 0);
        let later = audit_event::signed_in_in_range(&db, "9198", 2, 100);
        assert_eq!(later.await.unwrap(), 0, "none since the window began");
    }
}
