//! SMS providers against loopback servers that play them: the exact requests each one gets,
//! failover, the circuit breaker, delivery receipts, and the Hindi templates.

use std::time::Instant;

use base64::Engine as _;
use dynamic_otp::server::db::sms_message::SmsRecord;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::*;

const MSG91_OK: &str = r#"{"type":"success","message":"3763646c3058373530393938"}"#;
const FAST2SMS_OK: &str =
    r#"{"return":true,"request_id":"lwdtp7cjyqxvfe9","message":["SMS sent successfully."]}"#;
const VONAGE_OK: &str = r#"{"message-count":"1","messages":[{"to":"918765432109","message-id":"0A0000000123ABCD1","status":"0","remaining-balance":"3.14","message-price":"0.03","network":"40410"}]}"#;
const TWILIO_TOKEN: &str = "twilio-secret-token";
const CALLBACK_SECRET: &str = "receipt-secret-0123456789";

/// A browser whose user reads `languages` (an Accept-Language value).
fn browser_reading(languages: &str) -> reqwest::Client {
    let mut headers = own_page_headers();
    headers.insert(reqwest::header::ACCEPT_LANGUAGE, languages.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Settings for Twilio played by `gateway`.
fn twilio_settings(gateway: &Gateway) -> Vec<(&'static str, String)> {
    vec![
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef".into()),
        ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN.into()),
        ("TWILIO_FROM", "+15005550006".into()),
        ("TWILIO_API_BASE", gateway.base.clone()),
    ]
}

async fn start_with(gateway: Gateway, settings: &[(&'static str, String)]) -> TestApp {
    let borrowed: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    start_app_with(gateway, &borrowed).await
}

/// The app with a webhook gateway and a Twilio one, tried in `order` ("webhook,twilio").
async fn webhook_and_twilio(
    order: &str,
    extra: &[(&'static str, &str)],
) -> (TestApp, Gateway, Gateway) {
    let webhook = Gateway::start(StatusCode::OK).await;
    let twilio = Gateway::start(StatusCode::CREATED).await;
    let mut settings = twilio_settings(&twilio);
    settings.push(("SMS_PROVIDER", order.to_string()));
    settings.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let app = start_with(webhook.clone(), &settings).await;
    (app, webhook, twilio)
}

/// Every SMS record, in the order the attempts were made.
async fn sms_records(db: &Db) -> Vec<SmsRecord> {
    let mut res = db
        .query("SELECT * OMIT id, status_rank FROM sms_message ORDER BY created_at, attempt")
        .await
        .unwrap()
        .check()
        .unwrap();
    res.take(0).unwrap()
}

fn json_of(request: &Received) -> serde_json::Value {
    serde_json::from_str(&request.body).unwrap()
}

fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn msg91_gets_the_documented_request_with_the_template_of_the_users_language() {
    let gateway = Gateway::answering(StatusCode::OK, MSG91_OK).await;
    let app = start_with(
        gateway.clone(),
        &[
            ("SMS_PROVIDER", "msg91".into()),
            ("MSG91_AUTHKEY", "msg91-auth-key".into()),
            (
                "MSG91_TEMPLATES",
                "code.en=en-template,code.hi=hi-template:otp_code".into(),
            ),
            ("MSG91_API_BASE", gateway.base.clone()),
            ("SMS_CALLBACK_SECRET", CALLBACK_SECRET.into()),
        ],
    )
    .await;

    let english = browser_reading("en-IN,en;q=0.9");
    assert_eq!(app.register(&english, &SEED[0]).await.status(), 200);
    let request = &gateway.all()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/v5/flow")
    );
    assert_eq!(request.headers["authkey"], "msg91-auth-key");
    assert_eq!(request.headers["content-type"], "application/json");
    let body = json_of(request);
    let code = body["recipients"][0]["otp"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        serde_json::json!({
            "template_id": "en-template",
            "short_url": "0",
            "recipients": [{"mobiles": "919876543210", "otp": code}],
        })
    );
    assert_eq!(app.verify(&english, &code).await.status(), 200);

    // A Hindi reader gets the Hindi template and its own variable name, now and at sign-in.
    let hindi = browser_reading("hi-IN,hi;q=0.9,en;q=0.5");
    assert_eq!(app.register(&hindi, &SEED[1]).await.status(), 200);
    let body = json_of(&gateway.all()[1]);
    assert_eq!(body["template_id"], "hi-template");
    assert_eq!(body["recipients"][0]["mobiles"], "918765432109");
    let code = body["recipients"][0]["otp_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.verify(&hindi, &code).await.status(), 200);
    let res = app
        .login(&browser(), SEED[1].username, SEED[1].password)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(json_of(&gateway.all()[2])["template_id"], "hi-template");

    // MSG91's delivery webhook (version 2: a form field holding JSON) names its request id.
    let records = sms_records(&app.db).await;
    assert_eq!(
        records[0].provider_message_id.as_deref(),
        Some("3763646c3058373530393938")
    );
    assert_eq!(records[0].masked_phone, "+91******3210");
    let report = r#"[{"senderId":"DYNOTP","requestId":"3763646c3058373530393938","report":[{"date":"2026-11-24 10:06:20","number":"919876543210","status":"1","desc":"DELIVERED"}],"userId":"1"}]"#;
    let wrong = api_client()
        .post(format!("{}/sms/status/msg91/not-the-secret", app.base))
        .form(&[("data", report)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    assert_eq!(sms_records(&app.db).await[0].status, "queued");
    let right = api_client()
        .post(format!("{}/sms/status/msg91/{CALLBACK_SECRET}", app.base))
        .form(&[("data", report)])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(sms_records(&app.db).await[0].status, "delivered");
}

#[tokio::test]
async fn fast2sms_gets_the_documented_request_and_a_bad_number_is_a_field_error() {
    let gateway = Gateway::answering(StatusCode::OK, FAST2SMS_OK).await;
    let app = start_with(
        gateway.clone(),
        &[
            ("SMS_PROVIDER", "fast2sms".into()),
            ("FAST2SMS_API_KEY", "fast2sms-key".into()),
            ("FAST2SMS_SENDER_ID", "DYNOTP".into()),
            ("FAST2SMS_MESSAGES", "en=161234,hi=161235".into()),
            ("FAST2SMS_API_BASE", gateway.base.clone()),
        ],
    )
    .await;
    let client = browser();
    assert_eq!(app.register(&client, &SEED[0]).await.status(), 200);
    let request = &gateway.all()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/dev/bulkV2")
    );
    assert_eq!(request.headers["authorization"], "fast2sms-key");
    assert_eq!(request.headers["content-type"], "application/json");
    let body = json_of(request);
    let code = body["variables_values"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        serde_json::json!({
            "route": "dlt",
            "sender_id": "DYNOTP",
            "message": "161234",
            "variables_values": code,
            "numbers": "9876543210",
        })
    );
    assert_eq!(app.verify(&client, &code).await.status(), 200);
    assert_eq!(
        sms_records(&app.db).await[0].provider_message_id.as_deref(),
        Some("lwdtp7cjyqxvfe9")
    );

    gateway.answer(
        StatusCode::BAD_REQUEST,
        r#"{"return":false,"status_code":411,"message":"Invalid Numbers"}"#,
    );
    let (status, error) = error_of(app.register(&browser(), &SEED[1]).await).await;
    assert_eq!(status, 422);
    let phone_error = error.fields().and_then(|f| f.phone);
    assert_eq!(phone_error, Some(Problem::CannotReceiveSms));
    assert!(user::find_by_username(&app.db, SEED[1].username)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn vonage_gets_the_documented_request_in_unicode_for_hindi_and_its_receipts_count() {
    let gateway = Gateway::answering(StatusCode::OK, VONAGE_OK).await;
    let app = start_with(
        gateway.clone(),
        &[
            ("SMS_PROVIDER", "vonage".into()),
            ("VONAGE_API_KEY", "abcd1234".into()),
            ("VONAGE_API_SECRET", "vonage-api-secret".into()),
            ("VONAGE_FROM", "DYNOTP".into()),
            ("VONAGE_ENTITY_ID", "1201159000000000001".into()),
            ("VONAGE_TEMPLATES", "code.en=1207001,code.hi=1207002".into()),
            ("VONAGE_API_BASE", gateway.base.clone()),
            ("SMS_CALLBACK_SECRET", CALLBACK_SECRET.into()),
        ],
    )
    .await;
    let hindi = browser_reading("hi");
    assert_eq!(app.register(&hindi, &SEED[1]).await.status(), 200);
    let request = &gateway.all()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/sms/json")
    );
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form = serde_urlencoded_pairs(&request.body);
    assert_eq!(
        form.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "api_key",
            "api_secret",
            "callback",
            "client-ref",
            "content-id",
            "entity-id",
            "from",
            "text",
            "to",
            "type"
        ]
    );
    assert_eq!(form["api_key"], "abcd1234");
    assert_eq!(form["api_secret"], "vonage-api-secret");
    assert_eq!(form["from"], "DYNOTP");
    assert_eq!(form["to"], "918765432109");
    assert_eq!(form["type"], "unicode");
    assert_eq!(form["entity-id"], "1201159000000000001");
    assert_eq!(form["content-id"], "1207002", "the Hindi DLT template");
    assert_eq!(
        form["callback"],
        format!("https://otp.example.in/sms/status/vonage/{CALLBACK_SECRET}")
    );
    let text = &form["text"];
    let code = text
        .split_whitespace()
        .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
        .unwrap()
        .to_string();
    assert_eq!(
        text,
        &format!(
            "आपका फ़ोन पुष्टि कोड {code} है। इसे किसी को न बताएं, हम इसे कभी नहीं मांगते। यह 5 मिनट में समाप्त हो जाएगा।\n\n@otp.example.in #{code}"
        )
    );
    assert_eq!(app.verify(&hindi, &code).await.status(), 200);

    // Vonage's receipt (GET with a query, as Vonage sends by default) names our client-ref.
    let receipt = |secret: &str, status: &str| {
        let url = format!(
            "{}/sms/status/vonage/{secret}?msisdn=918765432109&to=DYNOTP&messageId=0A0000000123ABCD1&status={status}&err-code=0&client-ref={}",
            app.base, form["client-ref"]
        );
        async move { reqwest::get(url).await.unwrap().status() }
    };
    assert_eq!(receipt("guess", "failed").await, 404);
    assert_eq!(receipt(CALLBACK_SECRET, "delivered").await, 200);
    assert_eq!(
        receipt(CALLBACK_SECRET, "failed").await,
        200,
        "a late receipt is accepted…"
    );
    let record = &sms_records(&app.db).await[0];
    assert_eq!(record.status, "delivered", "…and changes nothing");
    assert_eq!(
        record.provider_message_id.as_deref(),
        Some("0A0000000123ABCD1")
    );
}

#[tokio::test]
async fn twilio_gets_the_documented_request_and_only_signed_callbacks_count() {
    let twilio = Gateway::start(StatusCode::CREATED).await;
    let app = start_with(
        twilio.clone(),
        &[
            &[("SMS_PROVIDER", "twilio".to_string())][..],
            &twilio_settings(&twilio),
        ]
        .concat(),
    )
    .await;
    let client = browser();
    assert_eq!(app.register(&client, &SEED[0]).await.status(), 200);
    let requests = twilio.all();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    );
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let expected =
        base64::engine::general_purpose::STANDARD.encode("AC0123456789abcdef:twilio-secret-token");
    assert_eq!(
        request.headers["authorization"],
        format!("Basic {expected}")
    );
    let form: BTreeMap<String, String> = serde_urlencoded_pairs(&request.body);
    assert_eq!(
        form.keys().cloned().collect::<Vec<_>>(),
        ["Body", "From", "StatusCallback", "To"]
    );
    assert_eq!(form["To"], "+919876543210");
    assert_eq!(form["From"], "+15005550006");
    let callback = form["StatusCallback"].clone();
    assert!(callback.starts_with("https://otp.example.in/sms/status/twilio?ref="));
    let code = code_in(&form["Body"]);
    assert_eq!(app.verify(&client, &code).await.status(), 200);

    let path = callback.trim_start_matches("https://otp.example.in");
    let post = |params: Vec<(&'static str, &'static str)>, signature: String| {
        let url = format!("{}{path}", app.base);
        async move {
            api_client()
                .post(url)
                .header("x-twilio-signature", signature)
                .form(&params)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let params = |status: &'static str| {
        vec![
            ("MessageSid", "SM123"),
            ("MessageStatus", status),
            ("AccountSid", "AC0123456789abcdef"),
            ("To", "+919876543210"),
        ]
    };
    let status = || async { sms_records(&app.db).await[0].status.clone() };
    assert_eq!(status().await, "queued");

    // Forged: signed with another key, or a valid signature over other parameters.
    let forged = twilio_signature("not-the-token", &callback, &params("failed"));
    assert_eq!(post(params("failed"), forged).await, 403);
    let for_sent = twilio_signature(TWILIO_TOKEN, &callback, &params("sent"));
    assert_eq!(post(params("failed"), for_sent.clone()).await, 403);
    assert_eq!(status().await, "queued", "refused callbacks change nothing");

    assert_eq!(post(params("sent"), for_sent).await, 200);
    assert_eq!(status().await, "sent");
    let delivered = twilio_signature(TWILIO_TOKEN, &callback, &params("delivered"));
    assert_eq!(post(params("delivered"), delivered.clone()).await, 200);
    assert_eq!(post(params("delivered"), delivered).await, 200, "duplicate");
    let late = twilio_signature(TWILIO_TOKEN, &callback, &params("sent"));
    assert_eq!(post(params("sent"), late).await, 200, "late, out of order");
    assert_eq!(status().await, "delivered");
}

#[tokio::test]
async fn a_503_fails_over_and_the_second_provider_carries_the_same_code() {
    let (app, first, second) = webhook_and_twilio("webhook,twilio", &[]).await;
    first.fail(true);
    let client = browser();
    let res = app.register(&client, &SEED[0]).await;
    assert_eq!(res.status(), 200);
    let challenge = cookie_value(&res, "otp_challenge").unwrap();

    let refused = first.tried();
    assert_eq!(refused.len(), 1);
    let first_code = code_in(json_of(&refused[0])["message"].as_str().unwrap());
    let carried = second.all();
    assert_eq!(carried.len(), 1);
    let code = code_in(&serde_urlencoded_pairs(&carried[0].body)["Body"]);
    assert_eq!(
        code, first_code,
        "one challenge, one code, whichever provider carries it"
    );

    let records = dynamic_otp::server::db::sms_message::for_challenge(&app.db, &challenge)
        .await
        .unwrap();
    let summary: Vec<(&str, i64, &str)> = records
        .iter()
        .map(|r| (r.provider.as_str(), r.attempt, r.status.as_str()))
        .collect();
    assert_eq!(summary, [("webhook", 1, "failed"), ("twilio", 2, "queued")]);
    assert!(records[0]
        .error_code
        .as_deref()
        .unwrap()
        .starts_with("http_503"));

    let mut res = app
        .db
        .query("SELECT VALUE detail FROM audit_event WHERE kind = 'code_sent'")
        .await
        .unwrap();
    let carriers: Vec<String> = res.take(0).unwrap();
    assert_eq!(
        carriers,
        ["twilio"],
        "the audit names the provider that carried it"
    );
    assert_eq!(app.verify(&client, &code).await.status(), 200);
}

#[tokio::test]
async fn a_provider_that_hangs_is_left_after_its_timeout() {
    let (app, first, second) =
        webhook_and_twilio("webhook,twilio", &[("SMS_PROVIDER_TIMEOUTS", "webhook=1")]).await;
    first.stall(Duration::from_secs(8));
    let started = Instant::now();
    let res = app.register(&browser(), &SEED[0]).await;
    let took = started.elapsed();
    assert_eq!(res.status(), 200);
    assert_eq!(second.all().len(), 1);
    // The 1 s timeout, plus a margin for hashing the password on a busy machine.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let records = sms_records(&app.db).await;
    assert_eq!(records[0].error_code.as_deref(), Some("timeout"));
    assert_eq!(records[1].provider, "twilio");
}

#[tokio::test]
async fn an_invalid_number_does_not_fail_over() {
    let (app, webhook, twilio) = webhook_and_twilio("twilio,webhook", &[]).await;
    // An account made while all was well, for the sign-in half.
    let client = browser();
    assert_eq!(app.register(&client, &SEED[3]).await.status(), 200);
    let code = code_in(&serde_urlencoded_pairs(&twilio.all()[0].body)["Body"]);
    assert_eq!(app.verify(&client, &code).await.status(), 200);
    let webhook_before = webhook.tried().len();

    twilio.answer(
        StatusCode::BAD_REQUEST,
        r#"{"code":21211,"message":"The 'To' number +919876543210 is not a valid phone number.","status":400}"#,
    );
    let (status, error) = error_of(app.register(&browser(), &SEED[0]).await).await;
    assert_eq!(status, 422);
    assert_eq!(
        error.fields().and_then(|f| f.phone),
        Some(Problem::CannotReceiveSms)
    );
    assert!(user::find_by_username(&app.db, SEED[0].username)
        .await
        .unwrap()
        .is_none());

    let res = app.login_fresh(SEED[3].username, SEED[3].password).await;
    assert_eq!(error_of(res).await, (422, AppError::NumberCannotReceiveSms));
    assert_eq!(
        webhook.tried().len(),
        webhook_before,
        "no failover for a bad number"
    );
    let records = sms_records(&app.db).await;
    let last = records.last().unwrap();
    assert_eq!(last.error_code.as_deref(), Some("bad_number:21211"));
    assert!(
        !format!("{records:?}").contains("9876543210"),
        "records keep numbers masked"
    );
}

#[tokio::test]
async fn when_every_provider_fails_the_user_is_told_and_nothing_is_left_behind() {
    let (app, webhook, twilio) = webhook_and_twilio("webhook,twilio", &[]).await;
    app.sign_up(&browser(), &SEED[3]).await;
    webhook.fail(true);
    twilio.fail(true);
    let pending = || async {
        let mut res = app
            .db
            .query("SELECT VALUE id FROM otp_challenge WHERE consumed = false")
            .await
            .unwrap();
        let ids: Vec<surrealdb::types::RecordId> = res.take(0).unwrap();
        ids.len()
    };

    let res = app.register(&browser(), &SEED[0]).await;
    assert_eq!(error_of(res).await, (502, AppError::SmsFailed));
    assert_eq!(
        AppError::SmsFailed.to_string(),
        "We could not send the code. Please try again in a moment."
    );
    assert!(user::find_by_username(&app.db, SEED[0].username)
        .await
        .unwrap()
        .is_none());
    let res = app.login_fresh(SEED[3].username, SEED[3].password).await;
    assert_eq!(error_of(res).await, (502, AppError::SmsFailed));
    assert_eq!(pending().await, 0, "no orphan challenge");
    assert_eq!((webhook.tried().len(), twilio.tried().len()), (3, 2));
    // The sign-up's one code is the only one on record as sent: a code no provider took is not.
    let mut res = app
        .db
        .query("SELECT VALUE detail FROM audit_event WHERE kind = 'code_sent'")
        .await
        .unwrap();
    let sent: Vec<String> = res.take(0).unwrap();
    assert_eq!(sent, ["webhook"]);
}

#[tokio::test]
async fn the_circuit_breaker_skips_a_failing_provider_then_tries_it_again() {
    let (app, webhook, twilio) = webhook_and_twilio(
        "webhook,twilio",
        &[
            ("SMS_BREAKER_FAILURES", "2"),
            ("SMS_BREAKER_COOLDOWN_SECS", "60"),
        ],
    )
    .await;
    webhook.fail(true);
    for person in &SEED[..3] {
        assert_eq!(app.register(&browser(), person).await.status(), 200);
    }
    assert_eq!(
        webhook.tried().len(),
        2,
        "open after two failures: the third send skips it"
    );
    assert_eq!(twilio.all().len(), 3);

    // Healthy again, but the circuit stays open until the cooldown ends.
    webhook.fail(false);
    assert_eq!(app.register(&browser(), &SEED[3]).await.status(), 200);
    assert_eq!((webhook.tried().len(), twilio.all().len()), (2, 4));

    app.clock.advance(Duration::from_secs(61));
    let res = app.login_fresh(SEED[3].username, SEED[3].password).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        webhook.all().len(),
        1,
        "the trial send went through: closed again"
    );
    let res = app.login_fresh(SEED[3].username, SEED[3].password).await;
    assert_eq!(res.status(), 200);
    assert_eq!((webhook.all().len(), twilio.all().len()), (2, 4));
}

#[tokio::test]
async fn didnt_get_it_resends_through_the_next_provider() {
    let (app, webhook, twilio) = webhook_and_twilio("webhook,twilio", &[]).await;
    let client = browser();
    assert_eq!(app.register(&client, &SEED[0]).await.status(), 200);
    assert_eq!((webhook.all().len(), twilio.all().len()), (1, 0));
    app.clock.advance(Duration::from_secs(31));
    assert_eq!(app.call(&client, "resend_code", &[]).await.status(), 200);
    assert_eq!((webhook.all().len(), twilio.all().len()), (1, 1));
    let code = code_in(&serde_urlencoded_pairs(&twilio.all()[0].body)["Body"]);
    assert_eq!(app.verify(&client, &code).await.status(), 200);
}
