//! Factors stronger than SMS over HTTP: an authenticator app set up and used, recovery codes
//! used once each, replays and bursts refused, SMS still there as the fallback.

use dynamic_otp::model::{AppState, PendingCode, SecurityView, SessionInfo, SignInMethod};
use hmac::{Hmac, Mac};

use super::*;

/// RFC 6238 with SHA-1, six digits, written here from the RFC rather than taken from the app.
fn app_code(key: &[u8], unix_ms: i64) -> String {
    let step = (unix_ms / 1000 / 30) as u64;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0xf) as usize;
    let value = u32::from_be_bytes(digest[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

/// RFC 4648 base32, as the page shows the key (grouped by spaces).
fn key_bytes(shown: &str) -> Vec<u8> {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bytes, mut buffer, mut bits) = (Vec::new(), 0u32, 0);
    for c in shown.chars().filter(|c| !c.is_whitespace()) {
        buffer = (buffer << 5) | alphabet.find(c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
    }
    bytes
}

async fn security(app: &TestApp, client: &reqwest::Client) -> SecurityView {
    let res = app.call(client, "security_status", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Signs `p` up and turns on an authenticator app; returns its key and the recovery codes.
async fn with_app(app: &TestApp, client: &reqwest::Client, p: &Person) -> (Vec<u8>, Vec<String>) {
    app.sign_up(client, p).await;
    assert_eq!(security(app, client).await.app, AppState::Off);
    assert_eq!(app.call(client, "start_app", &[]).await.status(), 200);
    let AppState::Pending { key, qr_svg } = security(app, client).await.app else {
        panic!("no key shown");
    };
    assert!(qr_svg.starts_with("<svg"), "{qr_svg}");
    let key = key_bytes(&key);
    assert_eq!(key.len(), 20, "160-bit key");
    let now = app.clock.now_ms();
    let wrong = if app_code(&key, now) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let res = app.call(client, "confirm_app", &[("code", wrong)]).await;
    let (status, error) = error_of(res).await;
    assert_eq!(status, 422);
    assert_eq!(error.fields().unwrap().code, Some(Problem::AppCodeWrong));
    let res = app
        .call(client, "confirm_app", &[("code", &app_code(&key, now))])
        .await;
    assert_eq!(res.status(), 200);
    let view = security(app, client).await;
    assert!(matches!(view.app, AppState::On { .. }), "{view:?}");
    assert_eq!(view.recovery_left, Some(10));
    let codes = view.recovery_codes.expect("codes shown until saved");
    assert_eq!(codes.len(), 10);
    let (to, notice) = app.gateway.messages().last().unwrap().clone();
    assert_eq!(to, p.phone);
    assert!(
        notice.contains("sign-in method on your account changed"),
        "{notice}"
    );
    assert_eq!(
        app.call(client, "recovery_codes_saved", &[]).await.status(),
        200
    );
    assert_eq!(security(app, client).await.recovery_codes, None);
    // The step used to confirm is spent: the next sign-in needs the next one.
    app.clock.advance(Duration::from_secs(30));
    (key, codes)
}

/// Password right: the challenge cookie, and what the code step offers.
async fn password_step(app: &TestApp, p: &Person) -> (String, PendingCode) {
    let client = browser();
    let res = app.login(&client, p.username, p.password).await;
    assert_eq!(res.status(), 200);
    let challenge = cookie_value(&res, "otp_challenge").unwrap();
    let res = app.call(&client, "code_status", &[]).await;
    let pending: Option<PendingCode> = res.json().await.unwrap();
    (challenge, pending.unwrap())
}

/// Answers the code step from a fresh client holding only the challenge cookie.
async fn answer(app: &TestApp, challenge: &str, method: &str, code: &str) -> reqwest::Response {
    api_client()
        .post(format!("{}/api/verify_code", app.base))
        .header(ACCEPT, "application/json")
        .header(COOKIE, format!("otp_challenge={challenge}"))
        .form(&[("code", code), ("method", method)])
        .send()
        .await
        .unwrap()
}

async fn methods_of_new_session(app: &TestApp, res: &reqwest::Response) -> Vec<SignInMethod> {
    let session = cookie_value(res, "sid").expect("signed in");
    let sessions: Vec<SessionInfo> = api_client()
        .post(format!("{}/api/sessions", app.base))
        .header(ACCEPT, "application/json")
        .header(COOKIE, format!("sid={session}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sessions.into_iter().find(|s| s.current).unwrap().methods
}

#[tokio::test]
async fn an_app_signs_in_without_sms_and_each_of_its_codes_works_once() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let (key, _) = with_app(&app, &browser(), raj).await;
    let sent = app.gateway.messages().len();
    let (challenge, pending) = password_step(&app, raj).await;
    assert!(!pending.sms_sent, "no SMS until asked for");
    assert_eq!(
        pending.others,
        [SignInMethod::App, SignInMethod::RecoveryCode]
    );
    assert_eq!(app.gateway.messages().len(), sent);

    let now = app.clock.now_ms();
    let old = app_code(&key, now - 60_000);
    let res = answer(&app, &challenge, "app", &old).await;
    assert_eq!(
        error_of(res).await,
        (400, AppError::WrongCode { tries_left: 4 })
    );
    let code = app_code(&key, now);
    let res = answer(&app, &challenge, "app", &code).await;
    assert_eq!(res.status(), 200);
    let methods = methods_of_new_session(&app, &res).await;
    assert_eq!(methods, [SignInMethod::Password, SignInMethod::App]);

    // The same code again, on a new sign-in, is a replay.
    let (challenge, _) = password_step(&app, raj).await;
    let res = answer(&app, &challenge, "app", &code).await;
    assert_eq!(
        error_of(res).await,
        (400, AppError::WrongCode { tries_left: 4 })
    );
    app.clock.advance(Duration::from_secs(30));
    let next = app_code(&key, app.clock.now_ms());
    assert_eq!(answer(&app, &challenge, "app", &next).await.status(), 200);
}

#[tokio::test]
async fn a_burst_of_one_right_app_code_signs_in_once_and_wrong_ones_meet_the_limit() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let (key, _) = with_app(&app, &browser(), raj).await;
    let (challenge, _) = password_step(&app, raj).await;
    let code = app_code(&key, app.clock.now_ms());
    let racers: Vec<_> = (0..40)
        .map(|_| {
            let (base, challenge, code) = (app.base.clone(), challenge.clone(), code.clone());
            tokio::spawn(async move {
                api_client()
                    .post(format!("{base}/api/verify_code"))
                    .header(ACCEPT, "application/json")
                    .header(COOKIE, format!("otp_challenge={challenge}"))
                    .form(&[("code", code.as_str()), ("method", "app")])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for racer in racers {
        statuses.push(racer.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s < 500), "{statuses:?}");

    // Wrong app codes are guesses like wrong SMS codes: five, then the step is dead.
    app.clock.advance(Duration::from_secs(30));
    let (challenge, _) = password_step(&app, raj).await;
    let right = app_code(&key, app.clock.now_ms());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        assert_eq!(answer(&app, &challenge, "app", wrong).await.status(), 400);
    }
    let res = answer(&app, &challenge, "app", &right).await;
    assert_eq!(error_of(res).await, (410, AppError::CodeExpired));
}

#[tokio::test]
async fn recovery_codes_work_once_each_and_new_ones_end_the_old() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let owner = browser();
    let (_, codes) = with_app(&app, &owner, raj).await;
    let (challenge, _) = password_step(&app, raj).await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    let res = answer(&app, &challenge, "recovery", &typed).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        methods_of_new_session(&app, &res).await,
        [SignInMethod::Password, SignInMethod::RecoveryCode]
    );
    assert_eq!(
        res.headers()["location"].to_str().unwrap_or_default(),
        "/?recovery_left=9"
    );
    let (challenge, _) = password_step(&app, raj).await;
    let again = answer(&app, &challenge, "recovery", &codes[0]).await;
    assert_eq!(
        error_of(again).await,
        (400, AppError::WrongCode { tries_left: 4 })
    );
    assert_eq!(security(&app, &owner).await.recovery_left, Some(9));

    assert_eq!(
        app.call(&owner, "renew_recovery_codes", &[]).await.status(),
        200
    );
    let fresh = security(&app, &owner).await.recovery_codes.unwrap();
    let old = answer(&app, &challenge, "recovery", &codes[1]).await;
    assert_eq!(
        error_of(old).await,
        (400, AppError::WrongCode { tries_left: 3 })
    );
    assert_eq!(
        answer(&app, &challenge, "recovery", &fresh[0])
            .await
            .status(),
        200
    );
    let malformed = answer(&app, &challenge, "recovery", "not a code").await;
    assert_eq!(error_of(malformed).await, (400, AppError::CodeFormat));
}

#[tokio::test]
async fn sms_stays_the_fallback_and_removing_the_app_needs_the_password() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let owner = browser();
    let (key, _) = with_app(&app, &owner, raj).await;
    let client = browser();
    assert_eq!(
        app.login(&client, raj.username, raj.password)
            .await
            .status(),
        200
    );
    assert_eq!(app.call(&client, "resend_code", &[]).await.status(), 200);
    let code = app.last_code_to(raj.phone);
    let res = app.verify(&client, &code).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        methods_of_new_session(&app, &res).await,
        [SignInMethod::Password, SignInMethod::Sms]
    );
    // The last factor used comes first: after SMS, the code goes at once, the app beside it.
    let sent = app.gateway.messages().len();
    let (challenge, pending) = password_step(&app, raj).await;
    assert!(pending.sms_sent, "{pending:?}");
    assert_eq!(
        pending.others,
        [SignInMethod::App, SignInMethod::RecoveryCode]
    );
    assert_eq!(app.gateway.messages().len(), sent + 1);
    let code = app_code(&key, app.clock.now_ms());
    assert_eq!(answer(&app, &challenge, "app", &code).await.status(), 200);
    let (_, pending) = password_step(&app, raj).await;
    assert!(!pending.sms_sent, "after the app, no SMS until asked for");

    let res = app
        .call(&owner, "remove_app", &[("password", "not-the-password")])
        .await;
    assert_eq!(error_of(res).await.0, 422);
    assert!(matches!(
        security(&app, &owner).await.app,
        AppState::On { .. }
    ));
    let res = app
        .call(&owner, "remove_app", &[("password", raj.password)])
        .await;
    assert_eq!(res.status(), 200);
    let view = security(&app, &owner).await;
    assert_eq!((view.app, view.recovery_left), (AppState::Off, None));
    // Without the app, the password sends the SMS code straight away again.
    let sent = app.gateway.messages().len();
    let (_, pending) = password_step(&app, raj).await;
    assert!(pending.sms_sent && pending.others.is_empty());
    assert_eq!(app.gateway.messages().len(), sent + 1);
}

#[tokio::test]
async fn sms_only_accounts_are_told_of_the_risk_until_they_add_an_app_or_say_not_now() {
    let app = start_app(&[]).await;
    let (raj, priya) = (&SEED[0], &SEED[1]);
    let client = browser();
    app.sign_up(&client, raj).await;
    assert!(app.me(&client).await.unwrap().suggest_stronger);
    assert_eq!(
        app.call(&client, "dismiss_stronger", &[]).await.status(),
        200
    );
    assert!(!app.me(&client).await.unwrap().suggest_stronger);

    let other = browser();
    with_app(&app, &other, priya).await;
    assert!(!app.me(&other).await.unwrap().suggest_stronger);
}

#[tokio::test]
async fn a_passkey_answer_to_the_sign_in_step_is_one_counted_guess_and_needs_the_accounts_passkeys()
{
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    with_app(&app, &browser(), raj).await;
    let (challenge, pending) = password_step(&app, raj).await;
    assert!(
        !pending.others.contains(&SignInMethod::Passkey),
        "no passkey, none offered"
    );
    // No passkey on the account: no ceremony to begin.
    let res = api_client()
        .post(format!("{}/api/passkey_step_start", app.base))
        .header(ACCEPT, "application/json")
        .header(COOKIE, format!("otp_challenge={challenge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (410, AppError::CodeExpired));
    // An answer that is not even JSON is refused before it is counted ...
    let res = answer(&app, &challenge, "passkey", "123456").await;
    assert_eq!(error_of(res).await, (400, AppError::Unreadable));
    // ... and a well-formed one that does not verify is a wrong guess like a wrong code.
    let forged = serde_json::json!({
        "key": "ab".repeat(32),
        "credential": forged_passkey_assertion(),
    })
    .to_string();
    let res = answer(&app, &challenge, "passkey", &forged).await;
    assert_eq!(
        error_of(res).await,
        (400, AppError::WrongCode { tries_left: 4 })
    );
}
