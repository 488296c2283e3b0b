//! A correct code's transactions: each uses the challenge and makes its change to the account
//! in one step that only one racer can win.

use std::collections::HashMap;
use std::future::IntoFuture;

use surrealdb::types::RecordId;

use super::super::{
    errors_mention, first_error, is_conflict, otp_challenge, session, until_settled, Db, DbError,
};

/// What redeeming a correct code starts.
pub struct Redemption {
    pub session_key: String,
    pub session_expires_at: i64,
    /// Where the session began, for the owner's sessions page.
    pub ip: String,
    pub user_agent: String,
    /// How the session was made: "pwd" and the second factor ("sms", "otp", "recovery").
    pub methods: Vec<String>,
}

/// Marks the challenge used, marks the phone verified and creates the session, all in one
/// transaction that only one racer can win. False if the challenge was no longer usable (used,
/// expired, out of tries, replaced by a resend, or lost a race).
pub async fn redeem(
    db: &Db,
    key: &str,
    code_mac: &str,
    max_attempts: u32,
    now: i64,
    redemption: Redemption,
) -> Result<bool, DbError> {
    let session_id = session::record(&redemption.session_key);
    let errors = settle("redeem transaction", || {
        db.query(
            "BEGIN TRANSACTION;
             LET $won = (UPDATE $id SET consumed = true WHERE consumed = false AND attempts <= $max \
                 AND expires_at > $now AND code_mac = $mac AND purpose IN ['sign_in', 'verify_phone'] \
                 RETURN VALUE account);
             IF array::len($won) != 1 { THROW 'challenge_unavailable' };
             LET $account = $won[0];
             UPDATE $account SET phone_verified = true;
             CREATE $session_id CONTENT { account: $account, created_at: $now, last_seen: $now, proven_at: $now, \
                 expires_at: $expires, ip: $ip, user_agent: $agent, methods: $methods };
             COMMIT TRANSACTION;",
        )
        .bind(("id", otp_challenge::record(key)))
        .bind(("max", max_attempts as i64))
        .bind(("now", now))
        .bind(("mac", code_mac.to_string()))
        .bind(("session_id", session_id.clone()))
        .bind(("expires", redemption.session_expires_at))
        .bind(("ip", redemption.ip.clone()))
        .bind(("agent", redemption.user_agent.clone()))
        .bind(("methods", redemption.methods.clone()))
        .into_future()
    })
    .await?;
    won_of(errors, "redeem transaction")
}

/// How a correct phone-change code ended.
#[derive(Debug, PartialEq, Eq)]
pub enum PhoneChange {
    Changed,
    /// Used, expired, out of tries, or lost a race.
    Unavailable,
    /// Another account took the number meanwhile.
    NumberTaken,
}

/// A correct pair of phone-change codes: in one transaction, uses the challenge, moves the
/// account to the challenge's (new, now proven) number and ends every other session, every
/// pending code and any waiting change of the account (sent to the old number or not).
pub async fn redeem_phone_change(
    db: &Db,
    key: &str,
    code_mac: &str,
    max_attempts: u32,
    now: i64,
    keep_session: RecordId,
) -> Result<PhoneChange, DbError> {
    let errors = settle("phone change transaction", || {
        db.query(
            "BEGIN TRANSACTION;
             LET $won = (UPDATE $id SET consumed = true WHERE consumed = false \
                 AND purpose = 'change_phone' AND current_phone_mac != NONE AND attempts <= $max \
                 AND expires_at > $now AND code_mac = $mac RETURN VALUE { account: account, phone: phone });
             IF array::len($won) != 1 { THROW 'challenge_unavailable' };
             LET $account = $won[0].account;
             UPDATE $account SET phone = $won[0].phone, phone_verified = true;
             DELETE session WHERE account = $account AND id != $keep;
             DELETE otp_challenge WHERE account = $account AND consumed = false;
             DELETE phone_wait WHERE account = $account;
             COMMIT TRANSACTION;",
        )
        .bind(("id", otp_challenge::record(key)))
        .bind(("max", max_attempts as i64))
        .bind(("now", now))
        .bind(("mac", code_mac.to_string()))
        .bind(("keep", keep_session.clone()))
        .into_future()
    })
    .await?;
    if errors_mention(&errors, "user_phone") {
        return Ok(PhoneChange::NumberTaken);
    }
    Ok(match won_of(errors, "phone change transaction")? {
        true => PhoneChange::Changed,
        false => PhoneChange::Unavailable,
    })
}

/// Runs a redeeming transaction again while it only collided with concurrent writers of the
/// challenge (a guess being counted, say), so a right code is not refused for a race it did not
/// lose; then its statement errors, none when it won.
async fn settle<F, Fut>(what: &str, run: F) -> Result<HashMap<usize, surrealdb::Error>, DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<surrealdb::IndexedResults, surrealdb::Error>>,
{
    let (_, errors) = until_settled(20, run).await?;
    if is_conflict(&errors) {
        tracing::warn!("{what}: still colliding after 20 tries");
    }
    Ok(errors)
}

/// Whether a redeeming transaction won. Losing shows up as our own THROW or as a write conflict
/// that retries did not resolve; both mean "not usable".
fn won_of(errors: HashMap<usize, surrealdb::Error>, what: &str) -> Result<bool, DbError> {
    if errors.is_empty() {
        return Ok(true);
    }
    if errors_mention(&errors, "challenge_unavailable") || is_conflict(&errors) {
        return Ok(false);
    }
    Err(first_error(errors, what))
}

/// A correct reset code: in one transaction that only one racer can win, uses the challenge,
/// sets the new password hash, ends every session, pending code and waiting phone change of
/// the account (the current phone just proved itself) and clears its failure count and lock. False if the challenge was no longer usable.
pub async fn redeem_reset(
    db: &Db,
    key: &str,
    code_mac: &str,
    max_attempts: u32,
    now: i64,
    password_hash: &str,
    guard: RecordId,
) -> Result<bool, DbError> {
    let errors = settle("reset transaction", || {
        db.query(
            "BEGIN TRANSACTION;
             LET $won = (UPDATE $id SET consumed = true WHERE consumed = false \
                 AND purpose = 'reset_password' AND attempts <= $max AND expires_at > $now \
                 AND code_mac = $mac RETURN VALUE account);
             IF array::len($won) != 1 { THROW 'challenge_unavailable' };
             LET $account = $won[0];
             UPDATE $account SET password_hash = $hash;
             DELETE session WHERE account = $account;
             DELETE otp_challenge WHERE account = $account AND consumed = false;
             DELETE phone_wait WHERE account = $account;
             UPSERT $guard SET failures = 0, retry_at = 0, locked = false;
             COMMIT TRANSACTION;",
        )
        .bind(("id", otp_challenge::record(key)))
        .bind(("max", max_attempts as i64))
        .bind(("now", now))
        .bind(("mac", code_mac.to_string()))
        .bind(("hash", password_hash.to_string()))
        .bind(("guard", guard.clone()))
        .into_future()
    })
    .await?;
    won_of(errors, "reset transaction")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::db::otp_challenge::{replace_code, take_guess, Guess, NewCode};
    use crate::server::db::{memory, session as sessions, user as users};
    use surrealdb::types::RecordId;

    async fn setup(db: &Db, key: &str, now: i64) -> RecordId {
        super::super::account_with_challenge(db, key, CodePurpose::VerifyPhone, "mac", now).await
    }

    fn redemption(session: &str) -> Redemption {
        Redemption {
            session_key: session.into(),
            session_expires_at: i64::MAX,
            ip: "127.0.0.1".into(),
            user_agent: "test".into(),
            methods: vec!["pwd".into(), "sms".into()],
        }
    }

    #[tokio::test]
    async fn redeem_wins_once_and_verifies_the_phone() {
        let db = memory().await;
        let account = setup(&db, "1", 1_000).await;
        let won = redeem(&db, "1", "mac", 5, 2_000, redemption("s1"))
            .await
            .unwrap();
        assert!(won);
        assert!(
            users::find(&db, &account)
                .await
                .unwrap()
                .unwrap()
                .phone_verified
        );
        let again = redeem(&db, "1", "mac", 5, 2_000, redemption("s2"))
            .await
            .unwrap();
        assert!(!again, "a used challenge cannot be redeemed again");
        assert_eq!(sessions::count_for(&db, &account).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn concurrent_redeems_make_one_session() {
        let db = memory().await;
        let account = setup(&db, "2", 1_000).await;
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    redeem(&db, "2", "mac", 5, 2_000, redemption(&format!("r{i}"))).await
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
        assert_eq!(sessions::count_for(&db, &account).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn expired_wrong_mac_or_exhausted_challenges_do_not_redeem() {
        let db = memory().await;
        setup(&db, "3", 1_000).await;
        let expired = redeem(&db, "3", "mac", 5, 301_000, redemption("a")).await;
        assert!(!expired.unwrap(), "expired");
        let replaced = redeem(&db, "3", "other", 5, 2_000, redemption("b")).await;
        assert!(!replaced.unwrap(), "replaced code");
        for expected in 1..=5 {
            let guess = take_guess(&db, "3", 5, 2_000).await.unwrap();
            assert!(
                matches!(&guess, Guess::Counted(row) if row.attempts == expected),
                "{guess:?}"
            );
        }
        // The fifth counted guess may still be the right one.
        let last = redeem(&db, "3", "other", 5, 2_000, redemption("c")).await;
        assert!(!last.unwrap(), "a wrong MAC never redeems");
        let past = take_guess(&db, "3", 5, 2_000).await.unwrap();
        assert!(matches!(past, Guess::Dead), "never past the limit");
        let expired = take_guess(&db, "3", 9, 301_000).await.unwrap();
        assert!(
            matches!(expired, Guess::Dead),
            "no guess at an expired code"
        );
        let exhausted = redeem(&db, "3", "mac", 4, 2_000, redemption("c")).await;
        assert!(!exhausted.unwrap(), "out of tries");
    }

    #[tokio::test]
    async fn resend_waits_and_replaces_the_code() {
        let db = memory().await;
        setup(&db, "4", 1_000).await;
        let code = |resend_after| NewCode {
            code_mac: "mac2",
            expires_at: 331_000,
            resend_after,
            sends: 2,
        };
        let early = replace_code(&db, "4", code(32_000), 2_000, 0)
            .await
            .unwrap();
        assert!(early.is_none(), "cooldown not over");
        let fresh = replace_code(&db, "4", code(61_000), 31_000, 0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fresh.sends, Some(2));
        assert_eq!(
            (fresh.code_mac.as_str(), fresh.attempts, fresh.resend_after),
            ("mac2", 0, 61_000)
        );
        let old = redeem(&db, "4", "mac", 5, 32_000, redemption("old")).await;
        assert!(!old.unwrap(), "the old code died with the resend");
    }
}
