//! Removes what can no longer matter: ended rate-limit windows, expired sessions, challenges
//! too old to resend, and, after their retention periods, SMS records, quiet lock records,
//! audit events and accounts whose phone was never verified. Safe to run on every instance at
//! once; each sweep is idempotent.

use std::time::Duration;

use crate::server::clock::Clock;
use crate::server::db::{Db, DbError};

const EVERY: Duration = Duration::from_secs(600);

const DAY_MS: i64 = 24 * 3600 * 1000;

/// How long SMS delivery records are kept: the days anyone looks into a delivery question.
pub const SMS_RECORDS_KEPT_MS: i64 = 30 * DAY_MS;
/// A failure count with no failure for this long starts again; a lock stays until lifted.
pub const QUIET_GUARDS_KEPT_MS: i64 = 30 * DAY_MS;
/// Security events are kept a year, then go.
pub const AUDIT_KEPT_MS: i64 = 365 * DAY_MS;
/// A registration never verified in a week is abandoned: its name and number went free after
/// the challenge's age; the account itself goes now.
pub const UNVERIFIED_KEPT_MS: i64 = 7 * DAY_MS;

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
         DELETE sms_message WHERE created_at < $sms_before;
         DELETE login_guard WHERE locked = false AND retry_at < $guards_before;
         DELETE audit_event WHERE at < $audit_before;
         DELETE user WHERE phone_verified = false AND created_at < $unverified_before;
         DELETE webauthn_ceremony WHERE expires_at < $now;
         DELETE oidc_request WHERE expires_at < $now;
         DELETE oidc_grant WHERE expires_at < $now;
         DELETE oidc_refresh WHERE expires_at < $now;",
    )
    .bind(("now", now))
    .bind(("sms_before", now - SMS_RECORDS_KEPT_MS))
    .bind(("guards_before", now - QUIET_GUARDS_KEPT_MS))
    .bind(("audit_before", now - AUDIT_KEPT_MS))
    .bind(("unverified_before", now - UNVERIFIED_KEPT_MS))
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

    #[tokio::test]
    async fn lock_records_audit_events_and_unverified_accounts_go_after_their_retention() {
        let db = memory().await;
        db.query(
            "CREATE login_guard:quiet SET failures = 3, retry_at = 0, locked = false;
             CREATE login_guard:locked SET failures = 100, retry_at = 0, locked = true;
             CREATE audit_event:old SET at = 0, kind = 'signed_in', username = 'raj', \
                 masked_phone = '', ip = '', user_agent = '', detail = '';
             CREATE user:unverified SET username = 'u1', full_name = 'U', phone = '+919876543210', \
                 email = 'u@example.in', password_hash = 'x', phone_verified = false, created_at = 0;
             CREATE user:verified SET username = 'u2', full_name = 'V', phone = '+919876543211', \
                 email = 'v@example.in', password_hash = 'x', phone_verified = true, created_at = 0;",
        )
        .await
        .unwrap()
        .check()
        .unwrap();
        let ids = |table: &'static str| {
            let db = db.clone();
            async move {
                let mut res = db
                    .query(format!("SELECT VALUE id FROM {table}"))
                    .await
                    .unwrap();
                let ids: Vec<surrealdb::types::RecordId> = res.take(0).unwrap();
                ids.len()
            }
        };
        sweep(&db, UNVERIFIED_KEPT_MS - 1, 0).await.unwrap();
        assert_eq!(
            (
                ids("login_guard").await,
                ids("audit_event").await,
                ids("user").await
            ),
            (2, 1, 2)
        );
        sweep(&db, UNVERIFIED_KEPT_MS + 1, 0).await.unwrap();
        assert_eq!(
            ids("user").await,
            1,
            "the never-verified account went after a week"
        );
        sweep(&db, QUIET_GUARDS_KEPT_MS + 1, 0).await.unwrap();
        assert_eq!(ids("login_guard").await, 1, "a lock stays until lifted");
        sweep(&db, AUDIT_KEPT_MS + 1, 0).await.unwrap();
        assert_eq!((ids("audit_event").await, ids("user").await), (0, 1));
    }
}
