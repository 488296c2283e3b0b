//! Removes what can no longer matter: ended rate-limit windows, expired sessions, challenges
//! too old to resend, and SMS records past the days anyone looks into a delivery question. Safe to run on every instance at once; each sweep is idempotent.

use std::time::Duration;

use crate::server::clock::Clock;
use crate::server::db::{Db, DbError};

const EVERY: Duration = Duration::from_secs(600);

/// How long SMS delivery records are kept.
pub const SMS_RECORDS_KEPT_MS: i64 = 30 * 24 * 3600 * 1000;

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
         DELETE otp_challenge WHERE created_at < $challenges_before;
         DELETE sms_message WHERE created_at < $sms_before;",
    )
    .bind(("now", now))
    .bind(("sms_before", now - SMS_RECORDS_KEPT_MS))
    .bind(("challenges_before", challenges_before))
    .await?
    .check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::{memory, rate_counter};

    #[tokio::test]
    async fn sweeps_only_what_has_ended() {
        let db = memory().await;
        rate_counter::hit(&db, "s", "old", 60, 0).await.unwrap();
        rate_counter::hit(&db, "s", "live", 60, 100_000)
            .await
            .unwrap();
        db.query(
            "CREATE session:old SET account = user:a, created_at = 0, expires_at = 10;
             CREATE session:live SET account = user:a, created_at = 0, expires_at = 999999;
             CREATE sms_message:old SET provider = 'twilio', masked_phone = '+91******3210',
                 kind = 'code', language = 'en', attempt = 1, status = 'delivered',
                 created_at = 0, updated_at = 0;",
        )
        .await
        .unwrap()
        .check()
        .unwrap();
        sweep(&db, 100_000, 0).await.unwrap();
        let mut res = db
            .query("SELECT VALUE id FROM rate_counter; SELECT VALUE id FROM session; SELECT VALUE id FROM sms_message")
            .await
            .unwrap();
        let counters: Vec<surrealdb::types::RecordId> = res.take(0).unwrap();
        let sessions: Vec<surrealdb::types::RecordId> = res.take(1).unwrap();
        let sms: Vec<surrealdb::types::RecordId> = res.take(2).unwrap();
        assert_eq!(sms.len(), 1, "SMS records stay 30 days");
        sweep(&db, SMS_RECORDS_KEPT_MS + 1, 0).await.unwrap();
        let mut res = db.query("SELECT VALUE id FROM sms_message").await.unwrap();
        let sms: Vec<surrealdb::types::RecordId> = res.take(0).unwrap();
        assert!(sms.is_empty());
        assert_eq!(counters.len(), 1, "only the live window remains");
        assert_eq!(
            sessions,
            [surrealdb::types::RecordId::new("session", "live")]
        );
    }
}
