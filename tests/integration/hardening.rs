//! Hardening: redirects and cookies, overload shedding, foreign origins, security headers,
//! probes. Malformed input is `malformed.rs`.

use super::*;

#[tokio::test]
async fn pages_redirect_and_cookies_are_locked_down() {
    let app = start_app(&[("COOKIE_SECURE", "true")]).await;
    let client = browser();
    let home = client
        .get(format!("{}/", app.base))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 302);
    assert_eq!(home.headers()["location"], "/login");

    let res = app.register(&client, &SEED[0]).await;
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
        "{cookie}"
    );
    let code = app.last_code_to(SEED[0].phone);
    let res = app.verify(&client, &code).await;
    let session = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-sid="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("Secure"),
        "{session}"
    );
    // Secure cookies are not sent over plain HTTP by a cookie jar, so present it by hand.
    let token = session
        .trim_start_matches("__Host-sid=")
        .split(';')
        .next()
        .unwrap();
    assert!(token.len() >= 32, "session tokens carry at least 128 bits");
    let page = api_client()
        .get(format!("{}/", app.base))
        .header(COOKIE, format!("__Host-sid={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    // A plain-named cookie, as a sibling subdomain could plant, is not ours.
    let planted = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", app.base))
        .header(ACCEPT, "text/html")
        .header(COOKIE, format!("sid={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        planted.status(),
        302,
        "not signed in by a cookie without the prefix"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("राज शर्मा") && html.contains("+91 ******3210"),
        "{html}"
    );
    assert!(
        !html.contains("+919876543210"),
        "the full number never reaches the page"
    );

    let missing = client
        .get(format!("{}/no-such-page", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        client
            .get(format!("{}/dev/outbox.json", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "no outbox outside dev mode"
    );
}

#[tokio::test]
async fn overload_is_shed_with_503_and_retry_after() {
    let app = start_app(&[("ARGON2_MAX_CONCURRENT", "1"), ("ARGON2_MAX_QUEUE", "1")]).await;
    let burst: Vec<_> = (0..12)
        .map(|i| {
            let base = app.base.clone();
            tokio::spawn(async move {
                api_client()
                    .post(format!("{base}/api/login"))
                    .header(ACCEPT, "application/json")
                    .form(&[
                        ("username", format!("user_{i}")),
                        ("password", "whatever-password".into()),
                    ])
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let (mut shed, mut answered) = (0, 0);
    for task in burst {
        let res = task.await.unwrap();
        match res.status().as_u16() {
            503 => {
                assert_eq!(res.headers()["retry-after"], "1");
                assert_eq!(error_of(res).await.1, AppError::Busy);
                shed += 1;
            }
            401 => answered += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        shed >= 1 && answered >= 1,
        "shed {shed}, answered {answered}"
    );
}

#[tokio::test]
async fn posts_from_other_sites_are_refused() {
    let app = start_app(&[]).await;
    let host = app.base.trim_start_matches("http://").to_string();
    let post = |origin: Option<String>| {
        let mut request = reqwest::Client::new()
            .post(format!("{}/api/login", app.base))
            .header(ACCEPT, "application/json")
            .form(&[
                ("username", "raj_sharma"),
                ("password", "whatever-password"),
            ]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let foreign = post(Some("https://evil.example".into())).await.unwrap();
    assert_eq!(error_of(foreign).await, (403, AppError::ForeignOrigin));
    let lookalike = post(Some(format!("http://{host}.evil.example")))
        .await
        .unwrap();
    assert_eq!(lookalike.status(), 403);
    let own = post(Some(format!("http://{host}"))).await.unwrap();
    assert_eq!(own.status(), 401, "our own pages get the normal answer");
    let (status, error) = error_of(post(None).await.unwrap()).await;
    assert_eq!(
        (status, error),
        (403, AppError::ForeignOrigin),
        "neither Origin nor Sec-Fetch-Site: a forged or stripped request"
    );
    let fetch_site = |value: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/api/login", app.base))
            .header(ACCEPT, "application/json")
            .header("sec-fetch-site", value)
            .form(&[
                ("username", "raj_sharma"),
                ("password", "whatever-password"),
            ])
            .send()
    };
    assert_eq!(fetch_site("same-origin").await.unwrap().status(), 401);
    assert_eq!(fetch_site("cross-site").await.unwrap().status(), 403);
    assert_eq!(fetch_site("same-site").await.unwrap().status(), 403);
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_csp() {
    let app = start_app(&[]).await;
    let res = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = res.text().await.unwrap();
    let nonce_at = html.find("'nonce-").expect("script CSP with a nonce");
    let nonce = &html[nonce_at + 7..html[nonce_at + 7..].find('\'').unwrap() + nonce_at + 7];
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline script carries the nonce"
    );
    assert!(html.contains("'wasm-unsafe-eval'"));
}

#[tokio::test]
async fn probes_say_alive_and_ready_without_revealing_anything() {
    let app = start_app(&[]).await;
    let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"ready": true, "database": "ok", "sms_providers": "webhook", "draining": false})
    );

    // A database without our schema is not ready.
    app.db
        .query("REMOVE TABLE sms_breaker")
        .await
        .unwrap()
        .check()
        .unwrap();
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(health.status(), 200, "alive all the same");
}

/// Browsers accept brotli and gzip; a refusal keeps its own status and Retry-After for them too.
#[tokio::test]
async fn refusals_keep_their_status_when_the_answer_is_compressed() {
    let app = start_app(&[]).await;
    let client = browser();
    let compressed = |endpoint: &str, form: &[(&str, &str)]| {
        client
            .post(format!("{}/api/{endpoint}", app.base))
            .header(ACCEPT, "application/json")
            .header("accept-encoding", "br, gzip")
            .form(form)
            .send()
    };
    let invalid = compressed(
        "register",
        &[
            ("username", "x"),
            ("full_name", ""),
            ("phone", "1"),
            ("email", "x"),
            ("password", "x"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(invalid.status(), 422);
    assert!(
        invalid.headers().contains_key("content-encoding"),
        "the answer was compressed"
    );

    assert_eq!(app.register(&client, &SEED[0]).await.status(), 200);
    let too_soon = compressed("resend_code", &[]).await.unwrap();
    assert_eq!(too_soon.status(), 429);
    assert_eq!(too_soon.headers()["retry-after"], "30");
}

/// People type passwords into the username field; what cannot be a username is neither a lock
/// key nor written into the audit trail.
#[tokio::test]
async fn a_password_typed_as_the_username_is_stored_nowhere() {
    let app = start_app(&[]).await;
    let typed = "Tr0ub4dor&3 horse";
    let res = app.login_fresh(typed, "whatever-password").await;
    assert_eq!(res.status(), 401);
    let guard = dynamic_otp::server::db::login_guard::get(&app.db, &typed.to_lowercase())
        .await
        .unwrap();
    assert_eq!(guard.failures, 0, "no lock record under it");
    let mut res = app
        .db
        .query("SELECT VALUE username FROM audit_event WHERE kind = 'sign_in_failed'")
        .await
        .unwrap();
    let names: Vec<String> = res.take(0).unwrap();
    assert_eq!(
        names,
        [String::new()],
        "the failure is recorded, the text is not"
    );
}
