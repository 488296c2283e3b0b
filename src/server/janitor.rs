//! Removes what can no longer matter: ended rate-limit windows, expired sessions and challenges
//! too old to resend. Safe to run on every instance at once; each sweep is idempotent.

use std::time::Duration;

use crate::server::clock::Clock;
use crate::server::db::{Db, DbError};

const EVERY: Duration = Duration::from_secs(600);

pub fn spawn(db: Db, clock: Clock, challenge_max_age_secs: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let now = clock.now_ms();
            let challenges_before = now - (challenge_max_age_secs * 1000) as i64;
            if let Err(e) = sweep(&db, now, challenges_before).await {
                tracing::warn!("janitor: {e}");
            }
        }
    });
}

pub async fn sweep(db: &Db, now: i64, challenges_before: i64) -> Result<(), DbError> {
    db.query(
        "DELETE rate_counter WHERE expires_at < $now;
         DELETE session WHERE expires_at < $now;
         DELETE otp_challenge WHERE created_at < $challenges_before;",
    )
    .bind(("now", now))
    .bind(("challenges_before", challenges_before))
    .await?
    .check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::{counters, memory};

    #[tokio::test]
    async fn sweeps_only_what_has_ended() {
        let db = memory().await;
        counters::hit(&db, "s", "old", 60, 0).await.unwrap();
        counters::hit(&db, "s", "live", 60, 100_000).await.unwrap();
        db.query(
            "CREATE session:old SET account = user:a, created_at = 0, expires_at = 10;
             CREATE session:live SET account = user:a, created_at = 0, expires_at = 999999;",
        )
        .await
        .unwrap()
        .check()
        .unwrap();
        sweep(&db, 100_000, 0).await.unwrap();
        let mut res = db
            .query("SELECT VALUE id FROM rate_counter; SELECT VALUE id FROM session")
            .await
            .unwrap();
        let counters: Vec<surrealdb::types::RecordId> = res.take(0).unwrap();
        let sessions: Vec<surrealdb::types::RecordId> = res.take(1).unwrap();
        assert_eq!(counters.len(), 1, "only the live window remains");
        assert_eq!(
            sessions,
            [surrealdb::types::RecordId::new("session", "live")]
        );
    }
}
