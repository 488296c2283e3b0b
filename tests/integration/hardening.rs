//! Hardening: redirects and cookies, overload shedding, foreign origins, security headers,
//! malformed input, probes.

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

/// A small seeded generator, so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A field value that is wrong in one of many ways.
fn bad_value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(12) {
        0 => Vec::new(),
        1 => "x".repeat(100_000).into_bytes(),
        2 => vec![0xff, 0xfe, 0xfd], // invalid UTF-8
        3 => b"%FF%FE%00".to_vec(),  // percent-encoded invalid UTF-8 and NUL
        4 => "\u{0}\u{7}\u{1b}[31m".as_bytes().to_vec(),
        5 => "राज".repeat(5_000).into_bytes(),
        6 => b"[1,2,3]".to_vec(),
        7 => b"{\"$ne\":null}".to_vec(),
        8 => b"' OR 1=1; DELETE user; --".to_vec(),
        9 => b"-1".to_vec(),
        10 => (0..64).map(|_| (rng.next() & 0xff) as u8).collect(),
        _ => b"12345678901234567890".to_vec(),
    }
}

fn form_body(pairs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        body.extend_from_slice(key.as_bytes());
        body.push(b'=');
        for &b in value {
            if b.is_ascii_alphanumeric() {
                body.push(b);
            } else {
                body.extend_from_slice(format!("%{b:02X}").as_bytes());
            }
        }
    }
    body
}

/// Accounts, challenges and sessions; not when a session was last used, which any request
/// signed in with it may move.
async fn snapshot(db: &Db) -> String {
    let mut res = db
        .query("SELECT * FROM user ORDER BY id; SELECT * FROM otp_challenge ORDER BY id; SELECT * OMIT last_seen FROM session ORDER BY id")
        .await
        .unwrap()
        .check()
        .unwrap();
    let mut out = String::new();
    for i in 0..3 {
        let rows: Vec<surrealdb::types::Value> = res.take(i).unwrap();
        out.push_str(&format!("{rows:?}\n"));
    }
    out
}

#[tokio::test]
async fn malformed_requests_to_every_server_function_get_4xx_and_change_nothing() {
    let app = start_app(&[]).await;
    let client = browser();
    assert_eq!(app.register(&client, &SEED[0]).await.status(), 200);
    let code = app.last_code_to(SEED[0].phone);
    let verified = app.verify(&client, &code).await;
    assert_eq!(verified.status(), 200);
    let session = cookie_value(&verified, "sid").expect("a session cookie");
    let before = snapshot(&app.db).await;

    // Every server function the app registers, so one added later is fuzzed without being
    // listed here; the names of their arguments, so a request can also be nearly right.
    let endpoints: Vec<(&str, reqwest::Method)> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(path, _)| path.starts_with("/api/"))
        .map(|(path, method)| {
            (
                path,
                reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
            )
        })
        .collect();
    for known in [
        "/api/register",
        "/api/login",
        "/api/verify_code",
        "/api/change_phone",
    ] {
        assert!(
            endpoints.iter().any(|(path, _)| *path == known),
            "{known} is among the registered server functions"
        );
    }
    let fields = [
        "username",
        "full_name",
        "phone",
        "country",
        "email",
        "password",
        "current_password",
        "new_password",
        "code",
        "current_code",
        "method",
        "first",
        "step",
        "next",
        "id",
        "t",
        "request",
        "allow",
        "app",
        "key",
        "credential",
        "name",
        "lost_current",
    ];
    let content_types = [
        "application/x-www-form-urlencoded",
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded; charset=latin1",
    ];
    let signed_in = format!("sid={session}");
    let cookies = [
        "",
        "otp_challenge=../../etc",
        "sid=%00%FF",
        "otp_challenge=zz; sid=zz",
        "sid=; otp_challenge=",
        signed_in.as_str(),
    ];
    // Signed in, these change the account with no argument to get wrong (or end the session
    // the rest of the cases use), so a request to them cannot be malformed: the signed-in cases
    // leave them out. One missing here shows as a changed snapshot below.
    let act_without_arguments = [
        "/api/logout",
        "/api/dismiss_stronger",
        "/api/start_app",
        "/api/renew_recovery_codes",
        "/api/recovery_codes_saved",
        "/api/passkey_register_start",
        "/api/passkey_step_start",
        "/api/end_other_sessions",
        "/api/cancel_phone_change",
    ];
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for case in 0..2400 {
        let cookie = *rng.pick(&cookies);
        let (endpoint, registered_method) = loop {
            let picked = rng.pick(&endpoints).clone();
            if cookie != signed_in || !act_without_arguments.contains(&picked.0) {
                break picked;
            }
        };
        let mut pairs: Vec<(&str, Vec<u8>)> = Vec::new();
        let named = rng.below(5);
        for _ in 0..named {
            let field = *rng.pick(&fields);
            match rng.below(4) {
                0 => {}                                        // missing
                1 => pairs.push((field, bad_value(&mut rng))), // malformed
                2 => {
                    pairs.push((field, bad_value(&mut rng))); // repeated
                    pairs.push((field, bad_value(&mut rng)));
                }
                _ => pairs.push((field, b"ok-value".to_vec())),
            }
        }
        if rng.below(5) == 0 {
            pairs.push(("unexpected[field]", bad_value(&mut rng)));
        }
        // Keep every request malformed: a well-formed one is not this test's business.
        if pairs.iter().all(|(_, v)| v == b"ok-value") {
            if let Some(last) = pairs.last_mut() {
                last.1 = bad_value(&mut rng);
            }
        }
        let body = match rng.below(6) {
            0 => (0..rng.below(512))
                .map(|_| (rng.next() & 0xff) as u8)
                .collect(),
            1 => b"{\"username\": 42, \"password\": [true]}".to_vec(),
            _ => form_body(&pairs),
        };
        let method = match rng.below(10) {
            0 => reqwest::Method::GET,
            1 => reqwest::Method::PUT,
            _ => registered_method,
        };
        let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let res = raw
            .request(method.clone(), format!("{}{endpoint}", app.base))
            .header("content-type", *rng.pick(&content_types))
            .header(
                ACCEPT,
                if rng.below(3) == 0 {
                    "text/html"
                } else {
                    "application/json"
                },
            )
            .header(COOKIE, cookie)
            // Same-origin, as the app's own pages post, so the request reaches the server
            // function; now and then a foreign one, which the origin check refuses first.
            .header(
                "sec-fetch-site",
                if rng.below(10) == 0 {
                    "cross-site"
                } else {
                    "same-origin"
                },
            )
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("case {case}: the server dropped the connection: {e}"));
        let status = res.status().as_u16();
        assert!(
            status < 500,
            "case {case}: {method} {endpoint} answered {status}: {} for {shown}",
            res.text().await.unwrap_or_default()
        );
        *statuses.entry(status).or_default() += 1;
    }
    assert_eq!(
        snapshot(&app.db).await,
        before,
        "nothing stored was changed"
    );
    // The server is still healthy and the user can still sign in.
    assert_eq!(app.me(&client).await.unwrap().username, "raj_sharma");
    eprintln!("statuses: {statuses:?}");
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
