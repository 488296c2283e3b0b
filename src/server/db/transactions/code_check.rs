//! An SMS code answering a sign-in or a new account's phone check, in one transaction and one
//! trip to the store: the client's address is counted, the guess is counted on the challenge,
//! the code is compared and, when right, the challenge is used, the phone marked verified, the
//! session created and the bookkeeping of a sign-in written. Whom it signs in comes from the
//! challenge itself (`otp_challenge::SignInAs`), so nothing is read before.

use std::future::IntoFuture;

use surrealdb::types::{RecordId, SurrealValue};

use super::super::{
    audit_event, first_error, is_conflict, otp_challenge, until_settled, Db, DbError,
};
use super::Redemption;
use crate::model::SignInMethod;

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
        account: RecordId,
    },
    /// Signed in as this account's user.
    Right {
        username: String,
    },
    /// A live challenge written before challenges named whom they sign in: nothing but the
    /// address was counted, and the code is for the general path to check.
    Unnamed,
    /// Kept colliding with concurrent writers of the same records; nothing was counted.
    Busy,
}

#[derive(SurrealValue)]
struct Outcome {
    limited: bool,
    found: bool,
    right: bool,
    unnamed: bool,
    attempts: Option<i64>,
    account: Option<RecordId>,
    username: Option<String>,
}

/// The statement whose value is the outcome: BEGIN, four LETs, the IF, then the RETURN.
const OUTCOME: usize = 6;

/// The writes after a right code are `signed_in.rs`'s bookkeeping; a change to one belongs in
/// the other.
pub async fn check_code(db: &Db, check: CodeCheck<'_>) -> Result<Checked, DbError> {
    let r = &check.redemption;
    // The MAC comparison happens in the store: it compares keyed MACs, which an attacker can
    // neither choose nor learn, so its timing tells nothing.
    let (mut res, errors) = until_settled(50, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $hits = (UPSERT $ip_counter SET count = (count ?? 0) + 1, expires_at = $ip_ends \
                 RETURN VALUE count)[0];
             LET $c = (UPDATE $id SET attempts += 1, consumed = code_mac IN $macs \
                 WHERE $hits <= $ip_max AND consumed = false AND attempts < $max AND expires_at > $now \
                 AND purpose IN $signs_in AND username != NONE RETURN AFTER)[0];
             LET $right = $c.consumed = true;
             LET $unnamed = $c = NONE AND $hits <= $ip_max AND $id.username = NONE \
                 AND $id.consumed = false AND $id.purpose IN $signs_in;
             IF $right {
                 LET $account = $c.account;
                 LET $guard = $c.guard;
                 UPDATE $account SET phone_verified = true, last_method = $method \
                     WHERE phone_verified != true OR last_method != $method;
                 CREATE $session_id CONTENT { account: $account, created_at: $now, last_seen: $now, \
                     proven_at: $now, expires_at: $expires, ip: $ip, user_agent: $agent, methods: $methods };
                 UPDATE $guard SET failures = 0, retry_at = 0 \
                     WHERE locked = false AND (failures > 0 OR retry_at > 0);
                 CREATE audit_event CONTENT { at: $now, kind: $kind, account: $account, \
                     username: $c.username, masked_phone: $c.masked_phone, ip: $ip, user_agent: $agent, \
                     detail: $method, verified_range: $c.phone_range };
             };
             RETURN { limited: $hits > $ip_max, found: $c != NONE, right: $right, unnamed: $unnamed, \
                 attempts: $c.attempts, account: $c.account, username: $c.username };
             COMMIT TRANSACTION;",
        )
        .bind(("ip_counter", check.ip_counter.0.clone()))
        .bind(("ip_ends", check.ip_counter.1))
        .bind(("ip_max", i64::from(check.ip_max)))
        .bind(("id", otp_challenge::record(check.key)))
        .bind(("max", i64::from(check.max_attempts)))
        .bind(("now", check.now))
        .bind(("macs", check.macs.clone()))
        .bind(("session_id", super::super::session::record(&r.session_key)))
        .bind(("expires", r.session_expires_at))
        .bind(("ip", r.ip.clone()))
        .bind(("agent", r.user_agent.clone()))
        .bind(("methods", r.methods.clone()))
        .bind(("kind", audit_event::Kind::SignedIn.as_str()))
        .bind(("method", SignInMethod::Sms.stored()))
        .bind(("signs_in", otp_challenge::signing_purposes()))
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
    Ok(match outcome {
        Outcome { limited: true, .. } => Checked::AddressLimited {
            window_ends_at: check.ip_counter.1,
        },
        Outcome { unnamed: true, .. } => Checked::Unnamed,
        Outcome {
            found: true,
            right: true,
            username: Some(username),
            ..
        } => Checked::Right { username },
        Outcome {
            found: true,
            right: false,
            account: Some(account),
            attempts,
            ..
        } => Checked::Wrong {
            attempts: attempts.unwrap_or(i64::from(check.max_attempts)),
            account,
        },
        _ => Checked::Dead,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::db::{login_guard, memory, rate_counter, user as users};

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
            ip_counter: rate_counter::window("code_checks_ip", ip, 600, NOW),
            ip_max,
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
        let account = users::record("uk");
        assert_eq!(
            wrong.unwrap(),
            Checked::Wrong {
                attempts: 1,
                account
            }
        );
        let right = check_code(&db, check("k", "right", "10.0.0.1", 2, "s1")).await;
        let username = "user_k".to_string();
        assert_eq!(right.unwrap(), Checked::Right { username });
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
            if matches!(right.await.unwrap().unwrap(), Checked::Right { .. }) {
                signed_in += 1;
            }
        }
        assert_eq!(signed_in, 1);
        assert_eq!(sessions(&db).await, 1);
    }

    #[tokio::test]
    async fn a_right_code_signs_in_whom_the_challenge_names() {
        let db = memory().await;
        super::super::account_with_challenge(&db, "v", CodePurpose::VerifyPhone, "right", NOW)
            .await;
        login_guard::record_failure(&db, "user_v", NOW, |_| (30, false))
            .await
            .unwrap();
        let right = check_code(&db, check("v", "right", "10.0.3.1", 10, "s")).await;
        let username = "user_v".to_string();
        assert_eq!(right.unwrap(), Checked::Right { username });

        let account = users::record("uv");
        let user = users::find(&db, &account).await.unwrap().unwrap();
        assert!(user.phone_verified, "a new account's phone is proven");
        let guard = login_guard::get(&db, "user_v").await.unwrap();
        assert_eq!((guard.failures, guard.retry_at), (0, 0));
        #[derive(SurrealValue, Debug, PartialEq)]
        struct Row {
            kind: String,
            account: Option<RecordId>,
            username: String,
            masked_phone: String,
            ip: String,
            detail: String,
            verified_range: Option<String>,
        }
        let fields = "kind, account, username, masked_phone, ip, detail, verified_range";
        let mut res = db
            .query(format!("SELECT {fields} FROM audit_event"))
            .await
            .unwrap();
        let rows: Vec<Row> = res.take(0).unwrap();
        let expected = Row {
            kind: "signed_in".into(),
            account: Some(account),
            username: "user_v".into(),
            masked_phone: "+91******000v".into(),
            ip: "10.0.3.1".into(),
            detail: "sms".into(),
            verified_range: Some("919876".into()),
        };
        assert_eq!(rows, vec![expected]);
    }

    #[tokio::test]
    async fn a_challenge_written_before_it_named_its_user_is_left_unchecked() {
        let db = memory().await;
        setup(&db, "o").await;
        db.query(
            "UPDATE $id SET username = NONE, guard = NONE, masked_phone = NONE, phone_range = NONE",
        )
        .bind(("id", otp_challenge::record("o")))
        .await
        .unwrap()
        .check()
        .unwrap();
        let checked = check_code(&db, check("o", "right", "10.0.4.1", 10, "s")).await;
        assert_eq!(checked.unwrap(), Checked::Unnamed);
        let row = otp_challenge::get(&db, "o").await.unwrap().unwrap();
        assert_eq!(
            (row.attempts, row.consumed),
            (0, false),
            "left for the general path"
        );
        assert_eq!(sessions(&db).await, 0);
    }
}
