//! "Forgot password" over HTTP: neutral for unknown accounts, a code to the account's own phone,
//! a new password that ends every session and clears the lock.

use super::*;

/// Waits for the background send of a reset code: messages to `phone` beyond `seen`.
async fn reset_code_to(app: &TestApp, phone: &str, seen: usize) -> String {
    for _ in 0..100 {
        let mine: Vec<String> = app
            .gateway
            .messages()
            .into_iter()
            .filter(|(to, _)| to == phone)
            .map(|(_, text)| text)
            .collect();
        if mine.len() > seen {
            return code_in(mine.last().unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no reset code reached {phone}");
}

async fn reset(
    app: &TestApp,
    client: &reqwest::Client,
    code: &str,
    password: &str,
) -> reqwest::Response {
    let form = [("code", code), ("password", password)];
    app.call(client, "reset_password", &form).await
}

fn sent_to(app: &TestApp, phone: &str) -> usize {
    app.gateway
        .messages()
        .iter()
        .filter(|(to, _)| to == phone)
        .count()
}

#[tokio::test]
async fn forgot_password_is_neutral_and_sets_a_new_password_that_ends_every_session() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let signed_in = browser();
    app.sign_up(&signed_in, raj).await;
    let seen = sent_to(&app, raj.phone);

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
    let code = reset_code_to(&app, raj.phone, seen).await;
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
    let seen = sent_to(&app, priya.phone);
    let client = browser();
    let res = app
        .call(&client, "forgot_password", &[("username", priya.username)])
        .await;
    assert_eq!(res.status(), 200);
    let code = reset_code_to(&app, priya.phone, seen).await;
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
    let seen = sent_to(&app, amit.phone);
    let client = browser();
    app.call(&client, "forgot_password", &[("username", amit.username)])
        .await;
    let code = reset_code_to(&app, amit.phone, seen).await;
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
