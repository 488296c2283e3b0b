//! The signed-in account's pages over HTTP: sessions and password.

use dynamic_otp::model::{Device, SessionInfo};

use super::*;

/// A browser with its own user agent, signed in as `p` (already registered).
pub(super) async fn signed_in_browser(app: &TestApp, p: &Person, agent: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(agent)
        .default_headers(own_page_headers())
        .build()
        .unwrap();
    assert_eq!(
        app.login(&client, p.username, p.password).await.status(),
        200
    );
    let code = app.last_code_to(p.phone);
    assert_eq!(app.verify(&client, &code).await.status(), 200);
    client
}

async fn sessions_of(app: &TestApp, client: &reqwest::Client) -> Vec<SessionInfo> {
    let res = app.call(client, "sessions", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub(super) const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
pub(super) const WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/133.0";

#[tokio::test]
async fn the_owner_sees_each_device_and_signs_out_one_or_all_others() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    app.sign_up(&browser(), raj).await;
    let phone = signed_in_browser(&app, raj, ANDROID).await;
    let laptop = signed_in_browser(&app, raj, WINDOWS).await;
    let tablet = signed_in_browser(&app, raj, WINDOWS).await;

    let seen = sessions_of(&app, &phone).await;
    assert_eq!(seen.len(), 4, "registration's session and three sign-ins");
    let current: Vec<_> = seen.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    let named = |browser: &str, system: &str| Device::Known {
        browser: Some(browser.into()),
        system: Some(system.into()),
    };
    assert_eq!(current[0].device, named("Chrome", "Android"));
    assert!(seen.iter().any(|s| s.device == named("Firefox", "Windows")));
    assert_eq!(current[0].ip, "127.0.0.1");

    // Another account cannot end these sessions, even knowing an id.
    let priya = &SEED[1];
    let stranger = browser();
    app.sign_up(&stranger, priya).await;
    let laptop_id = sessions_of(&app, &laptop)
        .await
        .into_iter()
        .find(|s| s.current)
        .unwrap()
        .id;
    let form = [("id", laptop_id.as_str())];
    assert_eq!(
        app.call(&stranger, "end_session", &form).await.status(),
        200
    );
    assert!(app.me(&laptop).await.is_some(), "still signed in");

    // The owner ends the laptop from the phone, then every other device.
    assert_eq!(app.call(&phone, "end_session", &form).await.status(), 200);
    assert_eq!(app.me(&laptop).await, None);
    assert!(app.me(&tablet).await.is_some());
    assert_eq!(
        app.call(&phone, "end_other_sessions", &[]).await.status(),
        200
    );
    assert_eq!(app.me(&tablet).await, None);
    assert!(app.me(&phone).await.is_some(), "this device stays");
    assert_eq!(sessions_of(&app, &phone).await.len(), 1);
    assert!(
        app.me(&stranger).await.is_some(),
        "other accounts untouched"
    );

    // Signed out, the list is refused.
    let (status, error) = error_of(app.call(&browser(), "sessions", &[]).await).await;
    assert_eq!((status, error), (401, AppError::NotSignedIn));
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_other_devices() {
    let app = start_app(&[]).await;
    let amit = &SEED[2];
    let here = browser();
    app.sign_up(&here, amit).await;
    let elsewhere = signed_in_browser(&app, amit, WINDOWS).await;
    let change = |current: &'static str, new: &'static str| {
        [("current_password", current), ("new_password", new)]
    };

    let res = app
        .call(
            &here,
            "change_password",
            &change("not-it-at-all", "amit-new-password-4"),
        )
        .await;
    let (status, error) = error_of(res).await;
    assert_eq!(status, 422);
    assert!(error.fields().unwrap().current_password.is_some());
    let res = app
        .call(&here, "change_password", &change(amit.password, "short"))
        .await;
    let (status, error) = error_of(res).await;
    assert_eq!(status, 422);
    assert!(error.fields().unwrap().password.is_some());
    assert!(app.me(&elsewhere).await.is_some(), "nothing changed yet");

    let res = app
        .call(
            &here,
            "change_password",
            &change(amit.password, "amit-new-password-4"),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(app.me(&here).await.is_some(), "this device stays signed in");
    assert_eq!(app.me(&elsewhere).await, None, "the other device is out");
    assert_eq!(
        app.login_fresh(amit.username, amit.password).await.status(),
        401
    );
    assert_eq!(
        app.login_fresh(amit.username, "amit-new-password-4")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_new_phone_number_needs_the_password_its_own_code_and_one_from_the_current_number() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let here = browser();
    app.sign_up(&here, raj).await;
    app.sign_up(&browser(), &SEED[1]).await;
    let elsewhere = signed_in_browser(&app, raj, WINDOWS).await;
    let new_phone = "+919999912345";
    let start =
        |password: &'static str, phone: &'static str| [("password", password), ("phone", phone)];
    let field_errors = |res: reqwest::Response| async move {
        let (status, error) = error_of(res).await;
        assert_eq!(status, 422);
        error.fields().unwrap().clone()
    };

    let wrong = app
        .call(
            &here,
            "change_phone",
            &start("not-my-password", "99999 12345"),
        )
        .await;
    assert!(field_errors(wrong).await.current_password.is_some());
    let same = app
        .call(&here, "change_phone", &start(raj.password, raj.typed_phone))
        .await;
    assert!(field_errors(same).await.phone.is_some());
    let taken = app
        .call(
            &here,
            "change_phone",
            &start(raj.password, SEED[1].typed_phone),
        )
        .await;
    assert_eq!(
        field_errors(taken).await.phone,
        Some(Problem::PhoneOtherAccount)
    );

    let sent = app
        .call(&here, "change_phone", &start(raj.password, "99999 12345"))
        .await;
    assert_eq!(sent.status(), 200);
    let code = app.last_code_to(new_phone);
    // The number being replaced got a code of its own, sent first.
    let messages = app.gateway.messages();
    let (to, text) = &messages[messages.len() - 2];
    assert_eq!(to, raj.phone);
    let current = code_in(text);
    let status = app.call(&here, "phone_change_status", &[]).await;
    let state: dynamic_otp::model::PhoneChangeState = status.json().await.unwrap();
    let dynamic_otp::model::PhoneChangeState::Code {
        pending,
        asks_current: true,
    } = state
    else {
        panic!("both codes pending: {state:?}");
    };
    assert_eq!(pending.masked_phone, "+91 ******2345");
    // The code proves the number; it does not sign anyone in.
    assert_eq!(error_of(app.verify(&here, &code).await).await.0, 410);
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let res = app
        .call(
            &here,
            "confirm_phone_change",
            &[("code", wrong_code), ("current_code", &current)],
        )
        .await;
    assert_eq!(
        error_of(res).await,
        (400, AppError::WrongCode { tries_left: 4 })
    );
    // The new number's code alone does not do: the password holder must hold the old phone.
    let res = app
        .call(&here, "confirm_phone_change", &[("code", &code)])
        .await;
    assert_eq!(
        error_of(res).await,
        (400, AppError::WrongCode { tries_left: 3 })
    );
    let wrong_current = if current == "000000" {
        "111111"
    } else {
        "000000"
    };
    let res = app
        .call(
            &here,
            "confirm_phone_change",
            &[("code", &code), ("current_code", wrong_current)],
        )
        .await;
    assert_eq!(
        error_of(res).await,
        (400, AppError::WrongCode { tries_left: 2 })
    );
    assert_eq!(
        app.me(&here).await.unwrap().masked_phone,
        "+91 ******3210",
        "not yet"
    );

    let res = app
        .call(
            &here,
            "confirm_phone_change",
            &[("code", &code), ("current_code", &current)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.me(&here).await.unwrap().masked_phone, "+91 ******2345");
    assert_eq!(app.me(&elsewhere).await, None, "other devices signed out");
    let (to, notice) = app.gateway.messages().last().unwrap().clone();
    assert_eq!(to, raj.phone, "the old number is told");
    assert!(
        notice.contains("phone number on your account was changed"),
        "{notice}"
    );

    // Sign-in codes now go to the new number.
    assert_eq!(
        app.login_fresh(raj.username, raj.password).await.status(),
        200
    );
    assert_eq!(app.gateway.messages().last().unwrap().0, new_phone);
}

#[tokio::test]
async fn the_profile_changes_name_and_email_but_never_the_username() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let client = browser();
    app.sign_up(&client, raj).await;
    let res = app
        .call(
            &client,
            "update_profile",
            &[("full_name", "राज कुमार शर्मा"), ("email", "not-an-email")],
        )
        .await;
    let (status, error) = error_of(res).await;
    assert_eq!(status, 422);
    assert!(error.fields().unwrap().email.is_some());
    let form = [
        ("full_name", "राज कुमार शर्मा"),
        ("email", "raj.k@example.in"),
        ("username", "someone_else"),
    ];
    assert_eq!(
        app.call(&client, "update_profile", &form).await.status(),
        200
    );
    let me = app.me(&client).await.unwrap();
    assert_eq!(
        (
            me.full_name.as_str(),
            me.email.as_str(),
            me.username.as_str()
        ),
        ("राज कुमार शर्मा", "raj.k@example.in", raj.username)
    );
    let stranger = app.call(&browser(), "update_profile", &form[..2]).await;
    assert_eq!(error_of(stranger).await, (401, AppError::NotSignedIn));
}

#[tokio::test]
async fn times_read_in_the_browsers_zone_else_the_account_countrys() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let client = browser();
    assert_eq!(app.register(&client, raj).await.status(), 200);
    let res = app.verify(&client, &app.last_code_to(raj.phone)).await;
    let sid = cookie_value(&res, "sid").unwrap();
    let when = |cookies: String, endpoint: &'static str| {
        let base = app.base.clone();
        async move {
            let res = api_client()
                .post(format!("{base}/api/{endpoint}"))
                .header(ACCEPT, "application/json")
                .header(COOKIE, cookies)
                .send()
                .await
                .unwrap();
            let body: serde_json::Value = res.json().await.unwrap();
            let first = &body[0];
            first["signed_in"]
                .as_str()
                .or(first["when"].as_str())
                .unwrap()
                .to_string()
        }
    };
    // An Indian number and no word from the browser: India's one zone.
    let ist = when(format!("sid={sid}"), "sessions").await;
    assert!(ist.ends_with(" IST"), "{ist}");
    let activity = when(format!("sid={sid}"), "recent_activity").await;
    assert!(activity.ends_with(" IST"), "{activity}");
    // The browser's own offset wins; a nonsense one is ignored.
    let new_york = when(format!("sid={sid}; tz=-300"), "sessions").await;
    assert!(new_york.ends_with(" UTC-05:00"), "{new_york}");
    let junk = when(format!("sid={sid}; tz=99999"), "recent_activity").await;
    assert!(junk.ends_with(" IST"), "{junk}");
}
