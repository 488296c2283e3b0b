//! The sign-in flow end to end: codes to each user's own phone, wrong and used codes,
//! resend, registration errors, test numbers, session lifetimes, the audit trail.

use dynamic_otp::model::ActivityKind;
use dynamic_otp::server::db::otp_challenge;

use super::*;

#[tokio::test]
async fn every_user_gets_codes_on_their_own_phone() {
    let app = start_app(&[]).await;
    for p in &SEED {
        let client = browser();
        let before = app.gateway.messages().len();
        let res = app.register(&client, p).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        assert_eq!(
            app.gateway.messages().len(),
            before + 1,
            "one SMS per registration"
        );
        let code = app.last_code_to(p.phone);
        assert_eq!(app.verify(&client, &code).await.status(), 200);
        let me = app.me(&client).await.expect("signed in after verifying");
        assert_eq!(me.username, p.username);
        assert_eq!(me.full_name, p.full_name);
        assert!(me.masked_phone.ends_with(&p.phone[p.phone.len() - 4..]));
        assert!(!me.masked_phone.contains(&p.phone[3..9]), "phone is masked");

        assert_eq!(app.call(&client, "logout", &[]).await.status(), 200);
        assert_eq!(app.me(&client).await, None);
    }
    // Now sign each in: the code goes to the number stored for that username and no other.
    for p in SEED.iter().rev() {
        let client = browser();
        let before = app.gateway.messages().len();
        let res = app
            .login(&client, &p.username.to_uppercase(), p.password)
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let messages = app.gateway.messages();
        assert_eq!(messages.len(), before + 1);
        let code = app.last_code_to(p.phone);
        assert_eq!(app.verify(&client, &code).await.status(), 200);
        assert_eq!(app.me(&client).await.unwrap().username, p.username);
    }
    // Every message carries the code, its validity and the WebOTP line.
    for (_, message) in app.gateway.messages() {
        let code = code_in(&message);
        assert!(message.contains("It expires in 5 minutes."), "{message}");
        assert!(
            message.ends_with(&format!("@otp.example.in #{code}")),
            "{message}"
        );
    }
    // The webhook carries its bearer token.
    let first = &app.gateway.all()[0];
    assert_eq!(first.headers["authorization"], "Bearer gateway-token");
}

#[tokio::test]
async fn wrong_password_or_unknown_user_sends_nothing_and_reads_the_same() {
    let app = start_app(&[]).await;
    let client = browser();
    app.sign_up(&client, &SEED[0]).await;
    let before = app.gateway.messages().len();

    let wrong = error_of(
        app.login(&browser(), "raj_sharma", "not-the-password")
            .await,
    )
    .await;
    let unknown = error_of(
        app.login(&browser(), "nobody_here", "not-the-password")
            .await,
    )
    .await;
    let malformed = error_of(app.login(&browser(), "x", "not-the-password").await).await;
    assert_eq!(wrong, (401, AppError::SignInFailed));
    assert_eq!(unknown, wrong, "unknown users get the same answer");
    assert_eq!(malformed, wrong);
    assert_eq!(app.gateway.messages().len(), before, "nothing was sent");
}

/// A signed-up user past her password: her browser, its challenge and the code sent to her.
async fn priya_at_the_code_step(app: &TestApp) -> (reqwest::Client, String, String) {
    app.sign_up(&browser(), &SEED[1]).await;
    let client = browser();
    let res = app.login(&client, "priya_patel", SEED[1].password).await;
    let challenge = cookie_value(&res, "otp_challenge").expect("challenge cookie");
    let code = app.last_code_to(SEED[1].phone);
    (client, challenge, code)
}

#[tokio::test]
async fn a_used_code_is_refused() {
    let app = start_app(&[]).await;
    let (client, challenge, code) = priya_at_the_code_step(&app).await;
    assert_eq!(app.verify(&client, &code).await.status(), 200);

    // Replay the same challenge and code from another client.
    let replay = submit_code(app.base.clone(), challenge, code)
        .await
        .unwrap();
    assert_eq!(error_of(replay).await, (410, AppError::CodeExpired));
}

/// Signing in again retires the first code step: its right code is refused as if used, from
/// its own browser, and the second signs in.
#[tokio::test]
async fn a_second_sign_in_retires_the_first_code() {
    let app = start_app(&[]).await;
    let (first_tab, _, first_code) = priya_at_the_code_step(&app).await;
    let second_tab = browser();
    let res = app
        .login(&second_tab, "priya_patel", SEED[1].password)
        .await;
    assert_eq!(res.status(), 200);
    let second_code = app.last_code_to(SEED[1].phone);
    assert_eq!(
        error_of(app.verify(&first_tab, &first_code).await).await,
        (410, AppError::CodeExpired)
    );
    assert_eq!(app.verify(&second_tab, &second_code).await.status(), 200);
    let me = app.me(&second_tab).await.expect("signed in");
    assert_eq!(me.username, "priya_patel");
}

#[tokio::test]
async fn a_code_sent_by_an_older_build_still_signs_in() {
    let app = start_app(&[]).await;
    let (client, challenge, code) = priya_at_the_code_step(&app).await;
    // As a build before challenges named whom they sign in wrote it.
    app.db
        .query(
            "UPDATE $id SET username = NONE, guard = NONE, masked_phone = NONE, phone_range = NONE",
        )
        .bind(("id", otp_challenge::record(&challenge)))
        .await
        .unwrap()
        .check()
        .unwrap();
    assert_eq!(app.verify(&client, &code).await.status(), 200);
    let me = app.me(&client).await.expect("signed in");
    assert_eq!(me.username, "priya_patel");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = start_app(&[]).await;
    let client = browser();
    assert_eq!(app.register(&client, &SEED[2]).await.status(), 200);
    let code = app.last_code_to(SEED[2].phone);
    app.clock.advance(Duration::from_secs(301));
    assert_eq!(
        error_of(app.verify(&client, &code).await).await,
        (410, AppError::CodeExpired)
    );
    assert_eq!(app.me(&client).await, None);
}

#[tokio::test]
async fn five_wrong_tries_kill_the_code() {
    let app = start_app(&[]).await;
    let client = browser();
    assert_eq!(app.register(&client, &SEED[0]).await.status(), 200);
    let code = app.last_code_to(SEED[0].phone);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let (status, error) = error_of(app.verify(&client, wrong).await).await;
        assert_eq!(
            (status, error),
            (400, AppError::WrongCode { tries_left: left })
        );
    }
    // The sixth try is refused even with the right code.
    assert_eq!(
        error_of(app.verify(&client, &code).await).await,
        (410, AppError::CodeExpired)
    );
    // Malformed input is a 400 that does not cost a try.
    let (status, error) = error_of(app.verify(&client, "12ab").await).await;
    assert_eq!(status, 400);
    assert_eq!(error, AppError::CodeFormat);
}

#[tokio::test]
async fn resend_waits_for_the_cooldown_and_kills_the_old_code() {
    let app = start_app(&[]).await;
    let client = browser();
    assert_eq!(app.register(&client, &SEED[1]).await.status(), 200);
    let first = app.last_code_to(SEED[1].phone);
    let res = app.call(&client, "resend_code", &[]).await;
    assert_eq!(res.headers()["retry-after"], "30");
    let (status, error) = error_of(res).await;
    assert_eq!(
        (status, error),
        (429, AppError::ResendTooSoon { wait_secs: 30 })
    );

    app.clock.advance(Duration::from_secs(30));
    assert_eq!(app.call(&client, "resend_code", &[]).await.status(), 200);
    let second = app.last_code_to(SEED[1].phone);
    assert_eq!(app.gateway.messages().len(), 2);
    if first != second {
        let (status, _) = error_of(app.verify(&client, &first).await).await;
        assert_eq!(status, 400, "the old code no longer works");
    }
    assert_eq!(app.verify(&client, &second).await.status(), 200);
}

#[tokio::test]
async fn bad_registrations_get_field_errors_and_store_nothing() {
    let app = start_app(&[]).await;
    let client = browser();
    let res = app
        .call(
            &client,
            "register",
            &[
                ("username", "Raj Sharma"),
                ("full_name", ""),
                ("phone", "+91 11 2345 6789"),
                ("email", "raj@"),
                ("password", "short"),
            ],
        )
        .await;
    let (status, error) = error_of(res).await;
    assert_eq!(status, 422);
    let fields = error.fields().expect("field errors").clone();
    assert!(
        fields.username.is_some()
            && fields.full_name.is_some()
            && fields.email.is_some()
            && fields.password.is_some()
    );
    assert_eq!(fields.phone, Some(Problem::PhoneNotMobile));
    assert!(app.gateway.messages().is_empty());

    // A missing field is a 400, not a crash.
    let (status, _) = error_of(app.call(&client, "register", &[("username", "raj")]).await).await;
    assert_eq!(status, 400);

    app.sign_up(&browser(), &SEED[0]).await;
    let taken = Person {
        username: "RAJ_SHARMA",
        typed_phone: "+91 98765 43210",
        ..SEED[1]
    };
    let (status, error) = error_of(app.register(&browser(), &taken).await).await;
    assert_eq!(status, 422);
    let fields = error.fields().unwrap();
    assert_eq!(fields.username, Some(Problem::UsernameTaken));
    assert_eq!(fields.phone, Some(Problem::PhoneRegistered));
}

#[tokio::test]
async fn a_failed_send_leaves_no_account_behind() {
    let app = start_app(&[]).await;
    app.gateway.fail(true);
    let client = browser();
    let (status, error) = error_of(app.register(&client, &SEED[2]).await).await;
    assert_eq!((status, error), (502, AppError::SmsFailed));
    assert!(user::find_by_username(&app.db, "amit_kumar")
        .await
        .unwrap()
        .is_none());

    app.gateway.fail(false);
    app.sign_up(&client, &SEED[2]).await;
    assert_eq!(app.me(&client).await.unwrap().username, "amit_kumar");
}

#[tokio::test]
async fn unverified_accounts_cannot_sign_in_without_the_code() {
    let app = start_app(&[]).await;
    assert_eq!(app.register(&browser(), &SEED[3]).await.status(), 200);
    let client = browser();
    // Right password: a code goes to the stored phone, and only the code finishes sign-in.
    assert_eq!(
        app.login(&client, "your_username", SEED[3].password)
            .await
            .status(),
        200
    );
    assert_eq!(app.me(&client).await, None);
    let code = app.last_code_to(SEED[3].phone);
    assert_eq!(app.verify(&client, &code).await.status(), 200);
    assert!(
        user::find_by_username(&app.db, "your_username")
            .await
            .unwrap()
            .unwrap()
            .phone_verified
    );
}

#[tokio::test]
async fn test_numbers_get_their_fixed_code_and_no_sms_until_they_expire() {
    let app = start_app(&[
        ("DEV_MODE", "true"),
        (
            "TEST_NUMBERS",
            "+919999900001=246810@2099-12-31, +919999900002=135790@2001-01-01",
        ),
    ])
    .await;
    let reviewer = Person {
        username: "app_review",
        typed_phone: "+91 99999 00001",
        ..SEED[0]
    };
    let client = browser();
    assert_eq!(app.register(&client, &reviewer).await.status(), 200);
    assert!(app.gateway.messages().is_empty(), "no SMS to a test number");
    assert_eq!(app.verify(&client, "246810").await.status(), 200);
    assert_eq!(app.me(&client).await.unwrap().username, "app_review");

    // An expired test number is an ordinary number again.
    let expired = Person {
        username: "old_review",
        typed_phone: "+91 99999 00002",
        ..SEED[0]
    };
    assert_eq!(app.register(&browser(), &expired).await.status(), 200);
    let code = app.last_code_to("+919999900002");
    assert_ne!(code, "135790");
}

#[tokio::test]
async fn idle_sessions_end_and_active_ones_last_until_their_lifetime() {
    let app = start_app(&[
        ("SESSION_IDLE_TIMEOUT_SECS", "600"),
        ("SESSION_TTL_SECS", "1500"),
    ])
    .await;
    let client = browser();
    app.sign_up(&client, &SEED[0]).await;
    // Used every 5 minutes, the session lives on past the idle timeout…
    for _ in 0..4 {
        app.clock.advance(Duration::from_secs(300));
        assert!(app.me(&client).await.is_some());
    }
    // …until its absolute lifetime.
    app.clock.advance(Duration::from_secs(300));
    assert_eq!(app.me(&client).await, None, "absolute timeout");

    let idle = browser();
    assert_eq!(
        app.login(&idle, "raj_sharma", SEED[0].password)
            .await
            .status(),
        200
    );
    let code = app.last_code_to(SEED[0].phone);
    assert_eq!(app.verify(&idle, &code).await.status(), 200);
    app.clock.advance(Duration::from_secs(601));
    assert_eq!(app.me(&idle).await, None, "inactivity timeout");
}

#[tokio::test]
async fn common_passwords_are_refused_at_registration() {
    let app = start_app(&[]).await;
    let weak = Person {
        password: "password123",
        ..SEED[0]
    };
    let (status, error) = error_of(app.register(&browser(), &weak).await).await;
    assert_eq!(status, 422);
    assert_eq!(
        error.fields().unwrap().password,
        Some(Problem::PasswordCommon)
    );
}

#[tokio::test]
async fn security_events_are_audited_without_secrets_and_shown_to_the_user() {
    let app = start_app(&[]).await;
    let client = browser();
    app.sign_up(&client, &SEED[0]).await;
    assert_eq!(
        app.login(&browser(), "raj_sharma", "wrong-password")
            .await
            .status(),
        401
    );
    let res = app.call(&client, "recent_activity", &[]).await;
    assert_eq!(res.status(), 200);
    let activity: Vec<dynamic_otp::model::Activity> = res.json().await.unwrap();
    let kinds: Vec<ActivityKind> = activity.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            ActivityKind::SignInFailed,
            ActivityKind::SignedIn,
            ActivityKind::CodeSent,
            ActivityKind::Registered
        ]
    );
    assert!(activity
        .iter()
        .all(|a| a.ip == "127.0.0.1" && a.when.ends_with(" IST")));

    // Nothing secret is stored: no code, no password, no full phone number.
    let code = app.last_code_to(SEED[0].phone);
    let mut res = app
        .db
        .query("SELECT * FROM audit_event")
        .await
        .unwrap()
        .check()
        .unwrap();
    let rows: Vec<surrealdb::types::Value> = res.take(0).unwrap();
    let dump = format!("{rows:?}");
    assert!(
        !dump.contains(&code)
            && !dump.contains("wrong-password")
            && !dump.contains(SEED[0].password)
    );
    assert!(
        !dump.contains("9876543210") && dump.contains("+91******3210"),
        "{dump}"
    );

    // Signed out, the activity is not available.
    assert_eq!(app.call(&client, "logout", &[]).await.status(), 200);
    assert_eq!(
        error_of(app.call(&client, "recent_activity", &[]).await).await,
        (401, AppError::NotSignedIn)
    );
}
