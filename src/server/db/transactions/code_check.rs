//! An SMS code answering a sign-in or a new account's phone check, in one transaction: the
//! client's address is counted, the guess is counted on the challenge, the code is compared
//! and, when right, the challenge is used, the phone marked verified, the session created and
//! the bookkeeping of a sign-in written. One commit (one fsync) instead of four.

use std::future::IntoFuture;

use surrealdb::types::{RecordId, SurrealValue};

use super::super::{
    audit_event, first_error, is_conflict, login_guard, otp_challenge, session, until_settled, Db,
    DbError,
};
use super::Redemption;

/// One typed code for one challenge.
pub struct CodeCheck<'a> {
    pub key: &'a str,
    /// The typed code's MAC under every code key (current first); the challenge stores one.
    /// The guess is counted and, when right, the challenge used in the same write.
    pub macs: Vec<String>,
    pub max_attempts: u32,
    pub now: i64,
    /// The client address's check counter, when its window ends, and how many it allows.
    pub ip_counter: (RecordId, i64),
    pub ip_max: u32,
    /// Whose sign-in this is (as the challenge says; checked again in the transaction): their
    /// failure count resets when the code is right.
    pub account: RecordId,
    pub username: &'a str,
    /// Recorded only when the code is right; the sign-in's row names the number range the
    /// pumping alarm counts it in.
    pub events: Vec<audit_event::Event>,
    pub redemption: Redemption,
}

/// What the check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// The address had used up its checks; nothing else was counted.
    AddressLimited {
        window_ends_at: i64,
    },
    /// Used, expired, out of tries, of another purpose, or gone.
    Dead,
    Wrong {
        attempts: i64,
    },
    Right,
    /// Kept colliding with concurrent writers of the same records; nothing was counted.
    Busy,
}

#[derive(SurrealValue)]
struct Outcome {
    limited: bool,
    found: bool,
    right: bool,
    attempts: Option<i64>,
}

/// The statement whose value is the outcome: BEGIN, three LETs, four writes, then the RETURN.
const OUTCOME: usize = 8;

/// The writes after a right code are `signed_in.rs`'s bookkeeping, each guarded by `$right`; a
/// change to one belongs in the other.
pub async fn check_code(db: &Db, check: CodeCheck<'_>) -> Result<Checked, DbError> {
    let session_id = session::record(&check.redemption.session_key);
    let r = &check.redemption;
    // The MAC comparison happens in the store: it compares keyed MACs, which an attacker can
    // neither choose nor learn, so its timing tells nothing.
    let (mut res, errors) = until_settled(50, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $hits = (UPSERT $ip_counter SET count = (count ?? 0) + 1, expires_at = $ip_ends \
                 RETURN VALUE count)[0];
             LET $c = (UPDATE $id SET attempts += 1, consumed = code_mac IN $macs AND account = $account \
                 WHERE $hits <= $ip_max AND consumed = false AND attempts < $max AND expires_at > $now \
                 AND purpose IN ['sign_in', 'verify_phone'] RETURN AFTER)[0];
             LET $right = $c.consumed = true;
             UPDATE $account SET phone_verified = true, last_method = 'sms' \
                 WHERE $right AND (phone_verified != true OR last_method != 'sms');
             INSERT INTO session [{ id: $session_id, account: $account, created_at: $now, \
                 last_seen: $now, proven_at: $now, expires_at: $expires, ip: $ip, \
                 user_agent: $agent, methods: $methods }][WHERE $right];
             UPDATE $guard SET failures = 0, retry_at = 0 \
                 WHERE $right AND locked = false AND (failures > 0 OR retry_at > 0);
             INSERT INTO audit_event $events[WHERE $right];
             RETURN { limited: $hits > $ip_max, found: $c != NONE, right: $right, attempts: $c.attempts };
             COMMIT TRANSACTION;",
        )
        .bind(("ip_counter", check.ip_counter.0.clone()))
        .bind(("ip_ends", check.ip_counter.1))
        .bind(("ip_max", i64::from(check.ip_max)))
        .bind(("id", otp_challenge::record(check.key)))
        .bind(("account", check.account.clone()))
        .bind(("max", i64::from(check.max_attempts)))
        .bind(("now", check.now))
        .bind(("macs", check.macs.clone()))
        .bind(("session_id", session_id.clone()))
        .bind(("expires", r.session_expires_at))
        .bind(("ip", r.ip.clone()))
        .bind(("agent", r.user_agent.clone()))
        .bind(("methods", r.methods.clone()))
        .bind(("guard", login_guard::record(check.username)))
        .bind(("events", check.events.clone()))
        .into_future()
    })
    .await?;
    if is_conflict(&errors) {
        return Ok(Checked::Busy);
    }
    if !errors.is_empty() {
        return Err(first_error(errors, "code check transaction"));
    }
    let outcome: Option<Outcome> = res.take(OUTCOME)?;
    let Some(outcome) = outcome else {
        return Err(DbError::from(surrealdb::Error::internal(
            "code check: no outcome".to_string(),
        )));
    };
    Ok(if outcome.limited {
        Checked::AddressLimited {
            window_ends_at: check.ip_counter.1,
        }
    } else if !outcome.found {
        Checked::Dead
    } else if outcome.right {
        Checked::Right
    } else {
        Checked::Wrong {
            attempts: outcome.attempts.unwrap_or(i64::from(check.max_attempts)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::db::{memory, rate_counter, user as users};

    const NOW: i64 = 1_000_000;

    async fn setup(db: &Db, key: &str) {
        super::super::account_with_challenge(db, key, CodePurpose::SignIn, "right", NOW).await;
    }

    fn check<'a>(key: &'a str, mac: &str, ip: &str, ip_max: u32, session: &str) -> CodeCheck<'a> {
        CodeCheck {
            key,
            macs: vec!["old-key".into(), mac.into()],
            max_attempts: 5,
            now: NOW,
            account: users::record(&format!("u{key}")),
            ip_counter: rate_counter::window("code_checks_ip", ip, 600, NOW),
            ip_max,
            username: "user",
            events: vec![audit_event::Event {
                at: NOW,
                kind: "signed_in".into(),
                account: Some(users::record(&format!("u{key}"))),
                username: "user".into(),
                masked_phone: "+91******3210".into(),
                ip: ip.into(),
                user_agent: "test".into(),
                detail: "sms".into(),
                verified_range: Some("919876".into()),
            }],
            redemption: Redemption {
                session_key: session.into(),
                session_expires_at: NOW + 3_600_000,
                ip: ip.into(),
                user_agent: "test".into(),
                methods: vec!["pwd".into(), "sms".into()],
            },
        }
    }

    async fn sessions(db: &Db) -> usize {
        let mut res = db.query("SELECT VALUE id FROM session").await.unwrap();
        let ids: Vec<RecordId> = res.take(0).unwrap();
        ids.len()
    }

    #[tokio::test]
    async fn counts_the_address_and_the_guess_and_a_right_code_signs_in_once() {
        let db = memory().await;
        setup(&db, "k").await;
        let wrong = check_code(&db, check("k", "wrong", "10.0.0.1", 2, "s1")).await;
        assert_eq!(wrong.unwrap(), Checked::Wrong { attempts: 1 });
        let right = check_code(&db, check("k", "right", "10.0.0.1", 2, "s1")).await;
        assert_eq!(right.unwrap(), Checked::Right);
        assert_eq!(sessions(&db).await, 1);
        let verified = audit_event::signed_in_in_range(&db, "919876", NOW, 10).await;
        assert_eq!(
            verified.unwrap(),
            1,
            "the right code's row, not the wrong one's"
        );
        // The address has used its two checks; the third is refused before the challenge.
        let limited = check_code(&db, check("k", "right", "10.0.0.1", 2, "s2")).await;
        assert!(matches!(limited.unwrap(), Checked::AddressLimited { .. }));
        let again = check_code(&db, check("k", "right", "10.0.0.2", 2, "s3")).await;
        assert_eq!(again.unwrap(), Checked::Dead, "used once");
        assert_eq!(sessions(&db).await, 1);
    }

    #[tokio::test]
    async fn a_burst_of_guesses_checks_five_and_a_burst_of_right_codes_signs_in_once() {
        let db = memory().await;
        setup(&db, "k").await;
        let guesses: Vec<_> = (0..100)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let ip = format!("10.0.1.{i}");
                    check_code(&db, check("k", "wrong", &ip, 100, "s")).await
                })
            })
            .collect();
        let mut wrong = 0;
        for guess in guesses {
            match guess.await.unwrap().unwrap() {
                Checked::Wrong { .. } => wrong += 1,
                Checked::Dead | Checked::Busy => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(wrong, 5, "no more than the tries a patient guesser gets");

        setup(&db, "m").await;
        let rights: Vec<_> = (0..100)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let session = format!("s{i}");
                    check_code(&db, check("m", "right", "10.0.2.1", 1000, &session)).await
                })
            })
            .collect();
        let mut signed_in = 0;
        for right in rights {
            if right.await.unwrap().unwrap() == Checked::Right {
                signed_in += 1;
            }
        }
        assert_eq!(signed_in, 1);
        assert_eq!(sessions(&db).await, 1);
    }
}
