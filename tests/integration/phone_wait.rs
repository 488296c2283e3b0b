//! A phone change by someone who lost the current phone, over HTTP: the new number's code, then
//! a 72-hour wait announced to the current number, whose holder can cancel it with the link.

use dynamic_otp::model::{PhoneChangeState, LOST_PHONE_WAIT_HOURS};

use super::account::{signed_in_browser, WINDOWS};
use super::*;

const NEW_PHONE: &str = "+919999912345";

/// Sessions outlive the wait here, so a session that ends did so because of the move.
async fn start() -> TestApp {
    start_app(&[("DOTP_SESSION_IDLE_TIMEOUT_SECS", "604800")]).await
}

/// Starts a lost-phone change to NEW_PHONE and enters its code: the wait begins.
async fn begin_wait(app: &TestApp, client: &reqwest::Client, p: &Person) {
    let before = app.gateway.messages().len();
    let form = [
        ("password", p.password),
        ("phone", "99999 12345"),
        ("lost_current", "on"),
    ];
    assert_eq!(app.call(client, "change_phone", &form).await.status(), 200);
    let sent = app.gateway.messages();
    assert_eq!(sent.len(), before + 1, "one code, to the new number only");
    let code = app.last_code_to(NEW_PHONE);
    assert_eq!(
        state_of(app, client).await,
        PhoneChangeState::Code {
            pending: pending_now(app, client).await,
            asks_current: false
        }
    );
    let res = app
        .call(client, "confirm_phone_change", &[("code", &code)])
        .await;
    assert_eq!(res.status(), 200);
}

async fn state_of(app: &TestApp, client: &reqwest::Client) -> PhoneChangeState {
    let res = app.call(client, "phone_change_status", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn pending_now(app: &TestApp, client: &reqwest::Client) -> dynamic_otp::model::PendingCode {
    match state_of(app, client).await {
        PhoneChangeState::Code { pending, .. } => pending,
        other => panic!("no code pending: {other:?}"),
    }
}

/// The link token in the newest notice to `phone`.
fn cancel_token_sent_to(app: &TestApp, phone: &str) -> String {
    let (to, text) = app.gateway.messages().last().unwrap().clone();
    assert_eq!(to, phone, "the notice goes to the current number");
    assert!(text.contains("72 hours"), "{text}");
    let start = text
        .find("https://otp.example.in/phone/cancel?t=")
        .expect("a cancel link")
        + "https://otp.example.in/phone/cancel?t=".len();
    text[start..start + 32].to_string()
}

#[tokio::test]
async fn without_the_current_phone_the_change_waits_72_hours_then_happens() {
    let app = start().await;
    let raj = &SEED[0];
    let here = browser();
    app.sign_up(&here, raj).await;
    let elsewhere = signed_in_browser(&app, raj, WINDOWS).await;
    begin_wait(&app, &here, raj).await;
    cancel_token_sent_to(&app, raj.phone);
    let PhoneChangeState::Waiting { masked_phone, .. } = state_of(&app, &here).await else {
        panic!("not waiting");
    };
    assert_eq!(masked_phone, "+91 ******2345");
    assert_eq!(app.me(&here).await.unwrap().masked_phone, "+91 ******3210");

    // Until the wait is over, sign-in codes still go to the current number.
    assert_eq!(app.auth.carry_out_phone_waits().await.unwrap(), 0);
    app.clock
        .advance(Duration::from_secs(LOST_PHONE_WAIT_HOURS * 3600 - 60));
    assert_eq!(app.auth.carry_out_phone_waits().await.unwrap(), 0);
    assert_eq!(
        app.login_fresh(raj.username, raj.password).await.status(),
        200
    );
    assert_eq!(app.gateway.messages().last().unwrap().0, raj.phone);

    assert!(app.me(&elsewhere).await.is_some());
    // Then every instance tries at once; the account moves once, and the old number is told once.
    app.clock.advance(Duration::from_secs(61));
    let sent_before = app.gateway.messages().len();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let auth = app.auth.clone();
            tokio::spawn(async move { auth.carry_out_phone_waits().await.unwrap() })
        })
        .collect();
    let mut moved = 0;
    for racer in racers {
        moved += racer.await.unwrap();
    }
    assert_eq!(moved, 1);
    let notices = &app.gateway.messages()[sent_before..];
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].0, raj.phone);
    assert!(notices[0]
        .1
        .contains("phone number on your account was changed"));
    // The asking browser stays signed in; every other one is out.
    assert_eq!(app.me(&here).await.unwrap().masked_phone, "+91 ******2345");
    assert_eq!(app.me(&elsewhere).await, None, "other devices signed out");
    assert_eq!(
        app.login_fresh(raj.username, raj.password).await.status(),
        200
    );
    assert_eq!(app.gateway.messages().last().unwrap().0, NEW_PHONE);
    let events = app
        .db
        .query("SELECT VALUE kind FROM audit_event ORDER BY at")
        .await;
    let kinds: Vec<String> = events.unwrap().take(0).unwrap();
    let waited = kinds.iter().position(|k| k == "phone_change_waiting");
    let changed = kinds.iter().position(|k| k == "phone_changed");
    assert!(waited.is_some() && waited < changed, "{kinds:?}");
}

#[tokio::test]
async fn the_current_numbers_holder_cancels_with_the_link_and_no_sign_in() {
    let app = start().await;
    let raj = &SEED[0];
    let here = browser();
    app.sign_up(&here, raj).await;
    begin_wait(&app, &here, raj).await;
    let token = cancel_token_sent_to(&app, raj.phone);
    let stranger = browser();
    for bad in ["", "not-a-token", &"0".repeat(32)] {
        let res = app
            .call(&stranger, "cancel_phone_change_by_link", &[("t", bad)])
            .await;
        assert_eq!(error_of(res).await, (410, AppError::LinkExpired), "{bad:?}");
    }
    assert!(matches!(
        state_of(&app, &here).await,
        PhoneChangeState::Waiting { .. }
    ));
    let res = app
        .call(&stranger, "cancel_phone_change_by_link", &[("t", &token)])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(state_of(&app, &here).await, PhoneChangeState::Idle);
    let again = app
        .call(&stranger, "cancel_phone_change_by_link", &[("t", &token)])
        .await;
    assert_eq!(error_of(again).await, (410, AppError::LinkExpired));
    app.clock
        .advance(Duration::from_secs(LOST_PHONE_WAIT_HOURS * 3600 + 60));
    assert_eq!(app.auth.carry_out_phone_waits().await.unwrap(), 0);
    assert_eq!(app.me(&here).await.unwrap().masked_phone, "+91 ******3210");
    // The link is a secret: no log line, response or audit detail carries it.
    let res = app.db.query("SELECT VALUE detail FROM audit_event").await;
    let details: Vec<String> = res.unwrap().take(0).unwrap();
    assert!(details.iter().all(|d| !d.contains(&token)), "{details:?}");
}

#[tokio::test]
async fn the_owner_cancels_and_a_new_password_or_a_reset_from_the_current_phone_cancels_too() {
    let app = start().await;
    let raj = &SEED[0];
    let here = browser();
    app.sign_up(&here, raj).await;
    begin_wait(&app, &here, raj).await;
    assert_eq!(
        app.call(&here, "cancel_phone_change", &[]).await.status(),
        200
    );
    assert_eq!(state_of(&app, &here).await, PhoneChangeState::Idle);

    // A new password: whoever knew the old one loses the wait they began.
    begin_wait(&app, &here, raj).await;
    let form = [
        ("current_password", raj.password),
        ("new_password", "raj-changed-password-9"),
    ];
    assert_eq!(
        app.call(&here, "change_password", &form).await.status(),
        200
    );
    assert_eq!(state_of(&app, &here).await, PhoneChangeState::Idle);
    let raj = &Person {
        password: "raj-changed-password-9",
        ..SEED[0]
    };

    // A password reset proves the current phone: whoever asked for the wait loses it.
    begin_wait(&app, &here, raj).await;
    let owner = browser();
    let (_, code) = app.forgot(&owner, raj).await;
    let form = [("code", code.as_str()), ("password", "raj-new-password-42")];
    assert_eq!(
        app.call(&owner, "reset_password", &form).await.status(),
        200
    );
    app.clock
        .advance(Duration::from_secs(LOST_PHONE_WAIT_HOURS * 3600 + 60));
    assert_eq!(app.auth.carry_out_phone_waits().await.unwrap(), 0);
    assert_eq!(
        app.login_fresh(raj.username, "raj-new-password-42")
            .await
            .status(),
        200
    );
    assert_eq!(app.gateway.messages().last().unwrap().0, raj.phone);
}

#[tokio::test]
async fn a_number_taken_during_the_wait_is_not_moved_to() {
    let app = start().await;
    let raj = &SEED[0];
    let here = browser();
    app.sign_up(&here, raj).await;
    begin_wait(&app, &here, raj).await;
    let squatter = Person {
        username: "squatter",
        phone: NEW_PHONE,
        typed_phone: "99999 12345",
        ..SEED[2]
    };
    app.sign_up(&browser(), &squatter).await;
    app.clock
        .advance(Duration::from_secs(LOST_PHONE_WAIT_HOURS * 3600 + 60));
    assert_eq!(app.auth.carry_out_phone_waits().await.unwrap(), 0);
    assert_eq!(app.me(&here).await.unwrap().masked_phone, "+91 ******3210");
    assert_eq!(state_of(&app, &here).await, PhoneChangeState::Idle);
}

#[tokio::test]
async fn nothing_waits_when_the_current_number_cannot_be_told() {
    let app = start().await;
    let raj = &SEED[0];
    let here = browser();
    app.sign_up(&here, raj).await;
    let form = [
        ("password", raj.password),
        ("phone", "99999 12345"),
        ("lost_current", "on"),
    ];
    assert_eq!(app.call(&here, "change_phone", &form).await.status(), 200);
    let code = app.last_code_to(NEW_PHONE);
    app.gateway.fail(true);
    let res = app
        .call(&here, "confirm_phone_change", &[("code", &code)])
        .await;
    assert_eq!(error_of(res).await, (502, AppError::SmsFailed));
    app.gateway.fail(false);
    assert_eq!(state_of(&app, &here).await, PhoneChangeState::Idle);
    app.clock
        .advance(Duration::from_secs(LOST_PHONE_WAIT_HOURS * 3600 + 60));
    assert_eq!(app.auth.carry_out_phone_waits().await.unwrap(), 0);
    assert_eq!(app.me(&here).await.unwrap().masked_phone, "+91 ******3210");
}
