//! "Forgot password" over HTTP: neutral for unknown accounts, a code to the account's own phone,
//! a new password that ends every session and clears the lock.

use super::*;

async fn reset(
    app: &TestApp,
    client: &reqwest::Client,
    code: &str,
    password: &str,
) -> reqwest::Response {
    let form = [("code", code), ("password", password)];
    app.call(client, "reset_password", &form).await
}

#[tokio::test]
async fn forgot_password_is_neutral_and_sets_a_new_password_that_ends_every_session() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let signed_in = browser();
    app.sign_up(&signed_in, raj).await;
    let seen = app.sent_to(raj.phone);

    // A real and an unknown username get the same answer and both a challenge cookie.
    let owner = browser();
    let real = app
        .call(&owner, "forgot_password", &[("username", raj.username)])
        .await;
    let stranger = browser();
    let unknown = app
        .call(&stranger, "forgot_password", &[("username", "nobody_here")])
        .await;
    assert_eq!(
        (real.status().as_u16(), unknown.status().as_u16()),
        (200, 200)
    );
    assert!(cookie_value(&real, "otp_challenge").is_some());
    assert!(cookie_value(&unknown, "otp_challenge").is_some());
    assert_eq!(real.text().await.unwrap(), unknown.text().await.unwrap());
    let code = app.reset_code_to(raj.phone, seen).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    // Wrong codes, with or without an account behind them, get one sentence.
    let new_password = "raj-new-password-9";
    let refused = (400, AppError::ResetCodeRefused);
    assert_eq!(
        error_of(reset(&app, &stranger, &code, new_password).await).await,
        refused
    );
    assert_eq!(
        error_of(reset(&app, &owner, wrong, new_password).await).await,
        refused
    );
    let (status, weak) = error_of(reset(&app, &owner, &code, "short").await).await;
    assert_eq!(status, 422);
    assert!(weak.fields().unwrap().password.is_some());

    assert_eq!(reset(&app, &owner, &code, new_password).await.status(), 200);
    assert_eq!(app.me(&signed_in).await, None, "every session ended");
    assert_eq!(
        reset(&app, &owner, &code, "another-password-1")
            .await
            .status(),
        400,
        "single use"
    );
    assert_eq!(
        app.login_fresh(raj.username, raj.password).await.status(),
        401
    );
    assert_eq!(
        app.login_fresh(raj.username, new_password).await.status(),
        200
    );
    // The unknown username sent nothing anywhere: one reset code and one sign-in code in all.
    assert_eq!(app.gateway.messages().len(), seen + 2);
}

#[tokio::test]
async fn a_reset_code_never_signs_anyone_in() {
    let app = start_app(&[]).await;
    let priya = &SEED[1];
    app.sign_up(&browser(), priya).await;
    let client = browser();
    let (_, code) = app.forgot(&client, priya).await;
    assert_eq!(
        error_of(app.verify(&client, &code).await).await,
        (410, AppError::CodeExpired)
    );
    assert_eq!(app.me(&client).await, None);
    let status = app
        .call(
            &client,
            "reset_password",
            &[
                ("code", code.as_str()),
                ("password", "priya-new-password-7"),
            ],
        )
        .await
        .status();
    assert_eq!(status, 200, "the code still works for what it was sent for");
}

#[tokio::test]
async fn a_reset_unlocks_a_locked_account() {
    let app = start_app(&[("LOCKOUT_DELAY_AFTER", "100"), ("LOCKOUT_LOCK_AFTER", "3")]).await;
    let amit = &SEED[2];
    app.sign_up(&browser(), amit).await;
    for _ in 0..3 {
        assert_eq!(
            app.login_fresh(amit.username, "wrong-password")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        error_of(app.login_fresh(amit.username, amit.password).await).await,
        (403, AppError::AccountLocked)
    );
    let seen = app.sent_to(amit.phone);
    let client = browser();
    app.call(&client, "forgot_password", &[("username", amit.username)])
        .await;
    let code = app.reset_code_to(amit.phone, seen).await;
    let form = [("code", code.as_str()), ("password", "amit-new-password-5")];
    assert_eq!(
        app.call(&client, "reset_password", &form).await.status(),
        200
    );
    assert_eq!(
        app.login_fresh(amit.username, "amit-new-password-5")
            .await
            .status(),
        200
    );
}

/// "Forgot password" needs only a username, so it has a quota of its own: a stranger asking
/// ten times spends none of the owner's sign-in codes.
#[tokio::test]
async fn ten_reset_requests_by_a_stranger_leave_the_owners_sign_in_alone() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    app.sign_up(&browser(), raj).await;
    // Start just after an hour begins, so the ten requests share one hour's window.
    let hour_ms = 3_600_000;
    let now = app.clock.now_ms();
    let next_hour = (now / hour_ms + 1) * hour_ms + 1_000;
    app.clock
        .advance(Duration::from_millis((next_hour - now) as u64));
    let before = app.sent_to(raj.phone);
    for _ in 0..10 {
        let res = app
            .call(&browser(), "forgot_password", &[("username", raj.username)])
            .await;
        assert_eq!(res.status(), 200);
        app.clock.advance(Duration::from_secs(60));
    }
    // Sends happen in the background; wait until the two the reset quota allows arrived.
    for _ in 0..100 {
        if app.sent_to(raj.phone) >= before + 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.sent_to(raj.phone),
        before + 2,
        "two reset codes an hour"
    );
    let res = app.login_fresh(raj.username, raj.password).await;
    assert_eq!(res.status(), 200, "the owner still gets a sign-in code");
    assert_eq!(app.sent_to(raj.phone), before + 3);
}

/// A new password ends every code the account had pending: a reset asked for before the change
/// cannot undo it.
#[tokio::test]
async fn changing_the_password_kills_a_pending_reset_code() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let owner = browser();
    app.sign_up(&owner, raj).await;
    let seen = app.sent_to(raj.phone);
    let stranger = browser();
    let res = app
        .call(&stranger, "forgot_password", &[("username", raj.username)])
        .await;
    assert_eq!(res.status(), 200);
    let code = app.reset_code_to(raj.phone, seen).await;

    let new_password = "a-fresh-password-77";
    let change = [
        ("current_password", raj.password),
        ("new_password", new_password),
    ];
    let res = app.call(&owner, "change_password", &change).await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    assert_eq!(
        error_of(reset(&app, &stranger, &code, "the-strangers-password-1").await).await,
        (400, AppError::ResetCodeRefused)
    );
    assert_eq!(
        app.login_fresh(raj.username, new_password).await.status(),
        200
    );
}

/// A made-up username has no account whose lockout wrong reset codes could feed, so a real
/// one's must not either: otherwise the delay after them would tell the two apart.
#[tokio::test]
async fn wrong_reset_codes_do_not_feed_the_lockout() {
    let app = start_app(&[("LOCKOUT_DELAY_AFTER", "3")]).await;
    let raj = &SEED[0];
    app.sign_up(&browser(), raj).await;
    let seen = app.sent_to(raj.phone);
    let asker = browser();
    let res = app
        .call(&asker, "forgot_password", &[("username", raj.username)])
        .await;
    assert_eq!(res.status(), 200);
    let code = app.reset_code_to(raj.phone, seen).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let (status, _) = error_of(reset(&app, &asker, wrong, "another-password-1").await).await;
        assert_eq!(status, 400);
    }
    let res = app.login_fresh(raj.username, raj.password).await;
    assert_eq!(res.status(), 200, "no delay came of them");
}
