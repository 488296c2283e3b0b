//! The login flow, limits, lockout and hardening, end to end.

use dynamic_otp::model::ActivityKind;

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

#[tokio::test]
async fn a_used_code_is_refused() {
    let app = start_app(&[]).await;
    app.sign_up(&browser(), &SEED[1]).await;
    let client = browser();
    let res = app.login(&client, "priya_patel", SEED[1].password).await;
    let challenge = cookie_value(&res, "otp_challenge").expect("challenge cookie");
    let code = app.last_code_to(SEED[1].phone);
    assert_eq!(app.verify(&client, &code).await.status(), 200);

    // Replay the same challenge and code from another client.
    let replay = submit_code(app.base.clone(), challenge, code)
        .await
        .unwrap();
    assert_eq!(error_of(replay).await, (410, AppError::CodeExpired));
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
async fn two_racing_correct_submissions_make_one_session() {
    let app = start_app(&[
        ("LIMIT_PHONE_PER_HOUR", "100"),
        ("LIMIT_PHONE_PER_DAY", "100"),
    ])
    .await;
    app.sign_up(&browser(), &SEED[3]).await;
    let user = users::find_by_username(&app.db, "your_username")
        .await
        .unwrap()
        .unwrap();
    let sessions_before = sessions::count_for(&app.db, &user.id).await.unwrap();

    for round in 0..5 {
        let res = app
            .login(&browser(), "your_username", SEED[3].password)
            .await;
        let challenge = cookie_value(&res, "otp_challenge").unwrap();
        let code = app.last_code_to(SEED[3].phone);
        let submit = || submit_code(app.base.clone(), challenge.clone(), code.clone());
        let (a, b) = tokio::join!(submit(), submit());
        let (a, b) = (a.unwrap(), b.unwrap());
        let winners = [&a, &b]
            .iter()
            .filter(|r| cookie_value(r, "sid").is_some())
            .count();
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(winners, 1, "round {round}: exactly one session cookie");
        assert_eq!(statuses, [200, 410], "round {round}");
        assert_eq!(
            sessions::count_for(&app.db, &user.id).await.unwrap(),
            sessions_before + round + 1,
            "round {round}: exactly one session stored"
        );
    }
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
    assert!(users::find_by_username(&app.db, "amit_kumar")
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
        users::find_by_username(&app.db, "your_username")
            .await
            .unwrap()
            .unwrap()
            .phone_verified
    );
}

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
        .find(|c| c.starts_with("sid="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("Secure"),
        "{session}"
    );
    // Secure cookies are not sent over plain HTTP by a cookie jar, so present it by hand.
    let token = session
        .trim_start_matches("sid=")
        .split(';')
        .next()
        .unwrap();
    assert!(token.len() >= 32, "session tokens carry at least 128 bits");
    let page = reqwest::Client::new()
        .get(format!("{}/", app.base))
        .header(COOKIE, format!("sid={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
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
                reqwest::Client::new()
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
    assert_eq!(post(None).await.unwrap().status(), 401);
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
async fn fifty_concurrent_submissions_of_one_code_make_one_session() {
    let app = start_app(&[]).await;
    app.sign_up(&browser(), &SEED[0]).await;
    let user = users::find_by_username(&app.db, "raj_sharma")
        .await
        .unwrap()
        .unwrap();
    let before = sessions::count_for(&app.db, &user.id).await.unwrap();
    let res = app.login(&browser(), "raj_sharma", SEED[0].password).await;
    let challenge = cookie_value(&res, "otp_challenge").unwrap();
    let code = app.last_code_to(SEED[0].phone);
    let submissions: Vec<_> = (0..50)
        .map(|_| submit_code(app.base.clone(), challenge.clone(), code.clone()))
        .collect();
    let mut statuses = BTreeMap::new();
    let mut cookies = 0;
    for task in submissions {
        let res = task.await.unwrap();
        cookies += usize::from(cookie_value(&res, "sid").is_some());
        *statuses.entry(res.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(cookies, 1);
    assert_eq!(statuses, BTreeMap::from([(200, 1), (410, 49)]));
    assert_eq!(
        sessions::count_for(&app.db, &user.id).await.unwrap(),
        before + 1
    );
}

/// Registers `count` people at once who differ only where `vary` says.
async fn register_at_once(
    app: &TestApp,
    count: usize,
    same_username: bool,
) -> BTreeMap<u16, usize> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let base = app.base.clone();
            let username = if same_username {
                "contested".to_string()
            } else {
                format!("user_{i}")
            };
            let phone = if same_username {
                format!("+9198{:08}", 10_000_000 + i)
            } else {
                "+919876543210".to_string()
            };
            tokio::spawn(async move {
                let res = reqwest::Client::new()
                    .post(format!("{base}/api/register"))
                    .header(ACCEPT, "application/json")
                    .form(&[
                        ("username", username.as_str()),
                        ("full_name", "राज शर्मा"),
                        ("phone", phone.as_str()),
                        ("email", "raj@example.in"),
                        ("password", "contested-password"),
                    ])
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                if status == 422 {
                    let (_, error) = error_of(res).await;
                    let fields = error.fields().cloned().unwrap_or_default();
                    assert!(
                        fields.username.is_some() || fields.phone.is_some(),
                        "{error:?}"
                    );
                }
                status
            })
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    statuses
}

#[tokio::test]
async fn a_hundred_concurrent_registrations_of_one_username_or_phone_make_one_account() {
    let app = start_app(&[("ARGON2_MAX_QUEUE", "200")]).await;
    let by_username = register_at_once(&app, 100, true).await;
    assert_eq!(
        by_username,
        BTreeMap::from([(200, 1), (422, 99)]),
        "one username"
    );
    let by_phone = register_at_once(&app, 100, false).await;
    assert_eq!(by_phone, BTreeMap::from([(200, 1), (422, 99)]), "one phone");

    let mut res = app
        .db
        .query("SELECT count() AS n FROM user GROUP ALL; SELECT count() AS n FROM otp_challenge GROUP ALL")
        .await
        .unwrap()
        .check()
        .unwrap();
    let users: Option<i64> = res.take((0, "n")).unwrap();
    let challenges: Option<i64> = res.take((1, "n")).unwrap();
    assert_eq!(
        (users, challenges),
        (Some(2), Some(2)),
        "no half-written records"
    );
}

/// Moves the app's clock to just after the next UTC midnight, so hour and day windows line up.
fn start_of_next_day(app: &TestApp) {
    let day_ms = 86_400_000;
    let now = app.clock.now_ms();
    let next = (now / day_ms + 1) * day_ms + 60_000;
    app.clock
        .advance(Duration::from_millis((next - now) as u64));
}

fn too_many(error: &AppError) -> u64 {
    match error {
        AppError::TooManyRequests { wait_secs } => *wait_secs,
        other => panic!("expected a rate limit, got {other:?}"),
    }
}

#[tokio::test]
async fn a_phone_gets_at_most_five_codes_an_hour_and_ten_a_day() {
    let app = start_app(&[]).await;
    start_of_next_day(&app);
    app.sign_up(&browser(), &SEED[0]).await; // code 1 of the hour
    for _ in 0..4 {
        assert_eq!(
            app.login(&browser(), "raj_sharma", SEED[0].password)
                .await
                .status(),
            200
        );
    }
    let res = app.login(&browser(), "raj_sharma", SEED[0].password).await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, error) = error_of(res).await;
    assert_eq!(status, 429);
    let wait = too_many(&error);
    assert!(
        (3500..=3600).contains(&wait) && retry_after == wait,
        "wait {wait}, header {retry_after}"
    );
    assert!(
        error.to_string().contains("try again in 59 minutes")
            || error.to_string().contains("try again in 60 minutes"),
        "{error}"
    );
    assert_eq!(
        app.gateway.messages().len(),
        5,
        "the refused sign-in sent nothing"
    );

    app.clock.advance(Duration::from_secs(3600));
    for _ in 0..5 {
        assert_eq!(
            app.login(&browser(), "raj_sharma", SEED[0].password)
                .await
                .status(),
            200
        );
    }
    // Ten today: in the next hour the day limit answers, with the wait until tomorrow.
    app.clock.advance(Duration::from_secs(3600));
    let (status, error) =
        error_of(app.login(&browser(), "raj_sharma", SEED[0].password).await).await;
    assert_eq!(status, 429);
    assert!(too_many(&error) > 3600, "{error:?}");
    app.clock.advance(Duration::from_secs(too_many(&error)));
    assert_eq!(
        app.login(&browser(), "raj_sharma", SEED[0].password)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn one_client_ip_is_limited_in_sends_and_sign_in_attempts() {
    let app = start_app(&[
        ("LIMIT_IP_SENDS_PER_HOUR", "3"),
        ("LIMIT_IP_SIGNINS_PER_10MIN", "3"),
    ])
    .await;
    start_of_next_day(&app);
    for p in &SEED[..3] {
        assert_eq!(app.register(&browser(), p).await.status(), 200);
    }
    let (status, error) = error_of(app.register(&browser(), &SEED[3]).await).await;
    assert_eq!(status, 429);
    too_many(&error);
    app.clock.advance(Duration::from_secs(3600));
    assert_eq!(app.register(&browser(), &SEED[3]).await.status(), 200);

    for _ in 0..3 {
        assert_eq!(
            app.login(&browser(), "nobody", "wrong-password")
                .await
                .status(),
            401
        );
    }
    let (status, error) = error_of(app.login(&browser(), "nobody", "wrong-password").await).await;
    assert_eq!(status, 429);
    assert!(too_many(&error) <= 600);
    app.clock.advance(Duration::from_secs(600));
    assert_eq!(
        app.login(&browser(), "nobody", "wrong-password")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let app = start_app(&[
        ("LIMIT_IP_SIGNINS_PER_10MIN", "2"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    start_of_next_day(&app);
    let from = |ip: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/api/login", app.base))
            .header(ACCEPT, "application/json")
            .header("x-forwarded-for", format!("203.0.113.250, {ip}"))
            .form(&[("username", "nobody"), ("password", "wrong-password")])
            .send()
    };
    for _ in 0..2 {
        assert_eq!(from("198.51.100.1").await.unwrap().status(), 401);
    }
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(
        from("198.51.100.2").await.unwrap().status(),
        401,
        "another client behind the proxy"
    );
}

#[tokio::test]
async fn numbers_outside_the_allowlist_landlines_and_premium_rate_are_refused() {
    let app = start_app(&[]).await;
    let attempt = |phone: &'static str| Person {
        typed_phone: phone,
        ..SEED[0]
    };
    // The field's sentence as an English page shows it.
    let phone_error = |error: AppError| {
        error
            .fields()
            .and_then(|f| Some(f.message(f.phone?, Locale::en)))
            .unwrap_or_default()
    };

    let (status, error) =
        error_of(app.register(&browser(), &attempt("+44 7400 123456")).await).await;
    assert_eq!(status, 422);
    assert_eq!(
        phone_error(error),
        "We cannot send SMS to that country yet. Numbers starting with +91 work."
    );
    let (_, error) = error_of(app.register(&browser(), &attempt("+91 11 2345 6789")).await).await;
    assert_eq!(
        phone_error(error),
        "That number cannot receive SMS. Please enter a mobile number."
    );

    let (_, error) = error_of(
        app.register(&browser(), &attempt("+91 1861 123 456 789"))
            .await,
    )
    .await;
    assert_eq!(
        phone_error(error),
        "That number cannot receive SMS. Please enter a mobile number.",
        "Indian premium rate"
    );
    let wider = start_app(&[("SMS_ALLOWED_COUNTRIES", "91, 44")]).await;
    let (_, error) = error_of(
        wider
            .register(&browser(), &attempt("+44 901 234 5678"))
            .await,
    )
    .await;
    assert_eq!(
        phone_error(error),
        "That number cannot receive SMS. Please enter a mobile number.",
        "premium rate"
    );
    assert_eq!(
        wider
            .register(&browser(), &attempt("+44 7400 123456"))
            .await
            .status(),
        200
    );
    assert!(app.gateway.messages().is_empty());
}

#[tokio::test]
async fn resend_waits_grow() {
    let app = start_app(&[]).await;
    let client = browser();
    assert_eq!(app.register(&client, &SEED[2]).await.status(), 200);
    let mut waited = Vec::new();
    for _ in 0..3 {
        let res = app.call(&client, "resend_code", &[]).await;
        let (status, error) = error_of(res).await;
        assert_eq!(status, 429);
        let AppError::ResendTooSoon { wait_secs } = error else {
            panic!("{error:?}")
        };
        waited.push(wait_secs);
        app.clock.advance(Duration::from_secs(wait_secs));
        assert_eq!(app.call(&client, "resend_code", &[]).await.status(), 200);
    }
    assert_eq!(waited[0], 30);
    assert!(
        (60..=66).contains(&waited[1]) && (120..=132).contains(&waited[2]),
        "{waited:?}"
    );
    let code = app.last_code_to(SEED[2].phone);
    assert_eq!(app.verify(&client, &code).await.status(), 200);
}

#[tokio::test]
async fn repeated_failures_slow_down_then_lock_with_an_sms_notice() {
    let app = start_app(&[("LOCKOUT_DELAY_AFTER", "3"), ("LOCKOUT_LOCK_AFTER", "6")]).await;
    app.sign_up(&browser(), &SEED[1]).await;
    let sent_before = app.gateway.messages().len();
    let attempt =
        |username: &'static str, password: &'static str| app.login_fresh(username, password);

    // Unknown and known usernames are throttled alike, so the waits reveal nothing.
    for username in ["priya_patel", "nobody_at_all"] {
        for _ in 0..3 {
            assert_eq!(attempt(username, "wrong-password").await.status(), 401);
        }
        let (status, error) = error_of(attempt(username, "wrong-password").await).await;
        assert_eq!((status, too_many(&error)), (429, 1), "{username}");
    }
    // Each further failure doubles the wait, until the lock.
    for wait in [1, 2, 4] {
        app.clock.advance(Duration::from_secs(wait));
        assert_eq!(attempt("priya_patel", "wrong-password").await.status(), 401);
    }
    let notices: Vec<_> = app
        .gateway
        .messages()
        .into_iter()
        .skip(sent_before)
        .collect();
    assert_eq!(notices.len(), 1, "one lock notice");
    assert_eq!(notices[0].0, SEED[1].phone);
    assert!(notices[0].1.contains("locked"), "{}", notices[0].1);

    app.clock.advance(Duration::from_secs(900));
    // The right password now learns of the lock; a wrong one still gets the usual sentence.
    assert_eq!(
        error_of(attempt("priya_patel", SEED[1].password).await).await,
        (403, AppError::AccountLocked)
    );
    app.clock.advance(Duration::from_secs(900));
    assert_eq!(
        error_of(attempt("priya_patel", "wrong-password").await)
            .await
            .1,
        AppError::SignInFailed
    );
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let app = start_app(&[("LOCKOUT_DELAY_AFTER", "3")]).await;
    app.sign_up(&browser(), &SEED[0]).await;
    for _ in 0..2 {
        assert_eq!(
            app.login(&browser(), "raj_sharma", "wrong-password")
                .await
                .status(),
            401
        );
    }
    let client = browser();
    assert_eq!(
        app.login(&client, "raj_sharma", SEED[0].password)
            .await
            .status(),
        200
    );
    let code = app.last_code_to(SEED[0].phone);
    assert_eq!(app.verify(&client, &code).await.status(), 200);
    for _ in 0..2 {
        assert_eq!(
            app.login(&browser(), "raj_sharma", "wrong-password")
                .await
                .status(),
            401,
            "count restarted"
        );
    }
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
            ActivityKind::CodeVerified,
            ActivityKind::CodeSent,
            ActivityKind::Registered
        ]
    );
    assert!(activity
        .iter()
        .all(|a| a.ip == "127.0.0.1" && a.when.ends_with(" UTC")));

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

async fn snapshot(db: &Db) -> String {
    let mut res = db
        .query("SELECT * FROM user ORDER BY id; SELECT * FROM otp_challenge ORDER BY id; SELECT * FROM session ORDER BY id")
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
async fn a_thousand_malformed_requests_get_4xx_and_change_nothing() {
    let app = start_app(&[]).await;
    let client = browser();
    app.sign_up(&client, &SEED[0]).await;
    let before = snapshot(&app.db).await;

    let endpoints: [(&str, &[&str]); 8] = [
        (
            "register",
            &["username", "full_name", "phone", "email", "password"],
        ),
        ("login", &["username", "password"]),
        ("verify_code", &["code"]),
        ("resend_code", &[]),
        ("code_status", &[]),
        ("current_user", &[]),
        ("recent_activity", &[]),
        ("logout", &[]),
    ];
    let content_types = [
        "application/x-www-form-urlencoded",
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded; charset=latin1",
    ];
    let cookies = [
        "",
        "otp_challenge=../../etc",
        "sid=%00%FF",
        "otp_challenge=zz; sid=zz",
        "sid=; otp_challenge=",
    ];
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for case in 0..1200 {
        let (endpoint, fields) = *rng.pick(&endpoints);
        let mut pairs: Vec<(&str, Vec<u8>)> = Vec::new();
        for field in fields {
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
        if pairs.len() == fields.len()
            && !fields.is_empty()
            && pairs.iter().all(|(_, v)| v == b"ok-value")
        {
            pairs.pop();
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
            _ => reqwest::Method::POST,
        };
        let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let res = raw
            .request(method.clone(), format!("{}/api/{endpoint}", app.base))
            .header("content-type", *rng.pick(&content_types))
            .header(
                ACCEPT,
                if rng.below(3) == 0 {
                    "text/html"
                } else {
                    "application/json"
                },
            )
            .header(COOKIE, *rng.pick(&cookies))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("case {case}: the server dropped the connection: {e}"));
        let status = res.status().as_u16();
        assert!(
            status < 500,
            "case {case}: {method} /api/{endpoint} answered {status}: {} for {shown}",
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
async fn a_burst_of_unverified_sends_to_one_range_trips_the_pumping_alarm() {
    let app = start_app(&[
        ("PUMPING_MIN_SENDS", "5"),
        ("PUMPING_MAX_RATIO", "2"),
        ("LIMIT_IP_SENDS_PER_HOUR", "1000"),
    ])
    .await;
    start_of_next_day(&app);
    // A verified user in another range still gets codes throughout.
    app.sign_up(&browser(), &SEED[2]).await; // +9176…
    let mut refused = None;
    for i in 0..10 {
        let phone = format!("+91987654{:04}", 3000 + i);
        let fraud = Person {
            username: "x",
            typed_phone: "",
            ..SEED[0]
        };
        let res = app
            .call(
                &browser(),
                "register",
                &[
                    ("username", &format!("pump_{i}")),
                    ("full_name", fraud.full_name),
                    ("phone", &phone),
                    ("email", fraud.email),
                    ("password", fraud.password),
                ],
            )
            .await;
        if res.status() != 200 {
            refused = Some((i, error_of(res).await));
            break;
        }
    }
    let (at, (status, error)) = refused.expect("the alarm tripped");
    assert_eq!(at, 4, "the fifth unverified send in the range trips it");
    assert_eq!(
        (status, error),
        (503, AppError::SendingPaused { wait_secs: 3600 })
    );
    assert_eq!(
        dynamic_otp::server::db::audit::count_since(
            &app.db,
            dynamic_otp::server::db::audit::Kind::PumpingAlarm,
            0
        )
        .await
        .unwrap(),
        1
    );
    // The range stays stopped, other ranges are untouched, and after the hour it opens again.
    let again = Person {
        username: "pump_late",
        typed_phone: "+91 98765 49999",
        ..SEED[0]
    };
    assert_eq!(
        error_of(app.register(&browser(), &again).await).await.0,
        503
    );
    assert_eq!(
        app.login(&browser(), "amit_kumar", SEED[2].password)
            .await
            .status(),
        200
    );
    app.clock.advance(Duration::from_secs(3600));
    assert_eq!(app.register(&browser(), &again).await.status(), 200);
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
