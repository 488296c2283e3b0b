//! The code check's transaction against the real engine, in memory.

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

async fn attempts(db: &Db, key: &str) -> i64 {
    otp_challenge::get(db, key).await.unwrap().unwrap().attempts
}

#[tokio::test]
async fn counts_what_is_not_right_against_the_address_and_a_right_code_signs_in_once() {
    let db = memory().await;
    setup(&db, "k").await;
    setup(&db, "n").await;
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
    // The right code left the address one check; a used code takes it.
    let used = check_code(&db, check("k", "right", "10.0.0.1", 2, "s2")).await;
    assert_eq!(used.unwrap(), Checked::Dead, "used once");
    // Two answers that were not right: the next is refused before its challenge.
    let limited = check_code(&db, check("n", "right", "10.0.0.1", 2, "s3")).await;
    assert!(matches!(limited.unwrap(), Checked::AddressLimited { .. }));
    assert_eq!(
        attempts(&db, "n").await,
        0,
        "nothing counted on the challenge"
    );
    let again = check_code(&db, check("k", "right", "10.0.0.2", 2, "s4")).await;
    assert_eq!(again.unwrap(), Checked::Dead, "used once");
    assert_eq!(sessions(&db).await, 1);
}

#[tokio::test]
async fn people_behind_one_address_who_sign_in_never_use_up_its_checks() {
    let db = memory().await;
    let keys: Vec<String> = (0..30).map(|i| format!("p{i}")).collect();
    for key in &keys {
        setup(&db, key).await;
    }
    let rights: Vec<_> = keys
        .iter()
        .map(|key| {
            let (db, key) = (db.clone(), key.clone());
            tokio::spawn(async move {
                let session = format!("s{key}");
                check_code(&db, check(&key, "right", "10.0.5.1", 1, &session)).await
            })
        })
        .collect();
    for right in rights {
        let checked = right.await.unwrap().unwrap();
        assert!(matches!(checked, Checked::Right { .. }), "{checked:?}");
    }
    assert_eq!(
        sessions(&db).await,
        30,
        "a limit of one, and thirty signed in"
    );
    setup(&db, "q").await;
    let wrong = check_code(&db, check("q", "wrong", "10.0.5.1", 1, "x")).await;
    assert!(matches!(wrong.unwrap(), Checked::Wrong { .. }));
    let limited = check_code(&db, check("q", "right", "10.0.5.1", 1, "y")).await;
    assert!(matches!(limited.unwrap(), Checked::AddressLimited { .. }));
}

#[tokio::test]
async fn a_burst_of_guesses_from_one_address_across_challenges_checks_its_limit() {
    let db = memory().await;
    let keys: Vec<String> = (0..40).map(|i| format!("g{i}")).collect();
    for key in &keys {
        setup(&db, key).await;
    }
    let guesses: Vec<_> = (0..200)
        .map(|i| {
            let (db, key) = (db.clone(), keys[i % keys.len()].clone());
            tokio::spawn(
                async move { check_code(&db, check(&key, "wrong", "10.0.6.1", 7, "s")).await },
            )
        })
        .collect();
    let mut wrong = 0;
    for guess in guesses {
        match guess.await.unwrap().unwrap() {
            Checked::Wrong { .. } => wrong += 1,
            Checked::AddressLimited { .. } | Checked::Busy => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        wrong, 7,
        "the address's limit, though the challenges allow 200"
    );
    let mut counted = 0;
    for key in &keys {
        counted += attempts(&db, key).await;
    }
    assert_eq!(
        counted, 7,
        "a refused guess counts nothing on its challenge"
    );
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
    super::super::account_with_challenge(&db, "v", CodePurpose::VerifyPhone, "right", NOW).await;
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
