//! The server side of passkey ceremonies over HTTP, without an authenticator (Playwright's
//! virtual one does the whole ceremony): what the browser is asked for, and how bad or
//! replayed answers are refused, never with a 5xx.

use dynamic_otp::model::PasskeyCeremony;

use super::*;

async fn ceremony(res: reqwest::Response) -> (PasskeyCeremony, serde_json::Value) {
    assert_eq!(res.status(), 200);
    let ceremony: PasskeyCeremony = res.json().await.unwrap();
    let options = serde_json::from_str(&ceremony.options).unwrap();
    (ceremony, options)
}

#[tokio::test]
async fn ceremonies_name_our_relying_party_and_refuse_bad_or_replayed_answers() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let here = browser();
    app.sign_up(&here, raj).await;

    let (start, options) = ceremony(app.call(&here, "passkey_register_start", &[]).await).await;
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "otp.example.in");
    assert_eq!(public_key["user"]["name"], raj.username);
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    let junk = [
        ("key", start.key.as_str()),
        ("credential", "{}"),
        ("name", "x"),
    ];
    let res = app.call(&here, "passkey_register_finish", &junk).await;
    assert_eq!(error_of(res).await.0, 400, "an unreadable credential");
    // The ceremony was taken by that answer: it cannot be answered again.
    let res = app.call(&here, "passkey_register_finish", &junk).await;
    assert_eq!(error_of(res).await.0, 410, "a ceremony already taken");

    // Signing in names no account, and the options are the same for everyone.
    let stranger = browser();
    let (start, options) = ceremony(app.call(&stranger, "passkey_sign_in_start", &[]).await).await;
    assert_eq!(options["publicKey"]["rpId"], "otp.example.in");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(options["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(|list| list.is_empty()));
    let forged = forged_passkey_assertion();
    let form = [("key", start.key.as_str()), ("credential", forged.as_str())];
    let res = app.call(&stranger, "passkey_sign_in_finish", &form).await;
    assert_eq!(error_of(res).await, (401, AppError::SignInFailed));
    let res = app.call(&stranger, "passkey_sign_in_finish", &form).await;
    assert_eq!(
        error_of(res).await,
        (410, AppError::CodeExpired),
        "taken once"
    );
    assert_eq!(app.me(&stranger).await, None);

    // Adding a passkey is a sensitive change: it needs a recent second factor.
    app.clock.advance(Duration::from_secs(16 * 60));
    let res = app.call(&here, "passkey_register_start", &[]).await;
    assert_eq!(error_of(res).await, (403, AppError::StepUpNeeded));
}

#[tokio::test]
async fn passkey_starts_are_bounded_per_ip_under_a_burst_and_do_not_use_up_sign_in_attempts() {
    // Every visit to /login begins a passkey sign-in for the browser's autofill: those starts
    // have their own loose bound, and only a finished ceremony is a sign-in attempt.
    let app = start_app(&[
        ("LIMIT_IP_PASSKEY_STARTS_PER_10MIN", "40"),
        ("LIMIT_IP_SIGNINS_PER_10MIN", "3"),
    ])
    .await;
    let burst: Vec<_> = (0..200)
        .map(|_| {
            let (client, base) = (browser(), app.base.clone());
            tokio::spawn(async move { post(&client, &base, "passkey_sign_in_start", &[]).await })
        })
        .collect();
    let (mut started, mut refused) = (Vec::new(), 0);
    for task in burst {
        let res = task.await.unwrap();
        match res.status().as_u16() {
            200 => started.push(res.json::<PasskeyCeremony>().await.unwrap()),
            429 => refused += 1,
            other => panic!("a start answered {other}"),
        }
    }
    assert_eq!((started.len(), refused), (40, 160));

    // The three sign-in attempts this IP has are all still there ...
    let forged = forged_passkey_assertion();
    for start in &started[..3] {
        let form = [("key", start.key.as_str()), ("credential", forged.as_str())];
        let res = app.call(&browser(), "passkey_sign_in_finish", &form).await;
        assert_eq!(error_of(res).await, (401, AppError::SignInFailed));
    }
    // ... and each finished ceremony used one.
    let form = [
        ("key", started[3].key.as_str()),
        ("credential", forged.as_str()),
    ];
    let (status, _) = error_of(app.call(&browser(), "passkey_sign_in_finish", &form).await).await;
    assert_eq!(status, 429);
    let (status, _) = error_of(app.login(&browser(), "nobody", "wrong-password").await).await;
    assert_eq!(status, 429);
}
