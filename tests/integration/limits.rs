//! Limits: per phone, per IP, behind proxies, the allowlist, resend waits, lockout, pumping.

use super::*;

/// Moves the app's clock to just after the next UTC midnight, so hour and day windows line up.
fn start_of_next_day(app: &TestApp) {
    let day_ms = 86_400_000;
    let now = app.clock.now_ms();
    let next = (now / day_ms + 1) * day_ms + 60_000;
    app.clock
        .advance(Duration::from_millis((next - now) as u64));
}

/// A failed sign-in arriving through a proxy that sent these X-Forwarded-For lines.
fn failed_login_forwarded(
    app: &TestApp,
    lines: &[String],
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    let mut request = api_client()
        .post(format!("{}/api/login", app.base))
        .header(ACCEPT, "application/json");
    for line in lines {
        request = request.header("x-forwarded-for", line.as_str());
    }
    request
        .form(&[("username", "nobody"), ("password", "wrong-password")])
        .send()
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
    // The registration's code spends the quota of verifying a new account, not of signing in.
    app.sign_up(&browser(), &SEED[0]).await;
    for _ in 0..5 {
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
        6,
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
    let from = |ip: &'static str| failed_login_forwarded(&app, &[format!("203.0.113.250, {ip}")]);
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

/// Password guesses are counted per address before any hash, in the query that reads the
/// account: a burst of 200 from one address (names that could be accounts and names that
/// cannot) gets exactly the limit's answers, and another address is untouched.
#[tokio::test]
async fn a_burst_of_password_guesses_from_one_address_gets_exactly_its_limit() {
    let app = start_app(&[
        ("LIMIT_IP_SIGNINS_PER_10MIN", "10"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    start_of_next_day(&app);
    // One client for the burst, as one attacker's script would be.
    let attacker = api_client();
    let guess = |ip: &'static str, username: String| {
        let request = attacker
            .post(format!("{}/api/login", app.base))
            .header(ACCEPT, "application/json")
            .header("x-forwarded-for", ip)
            .form(&[
                ("username", username),
                ("password", "wrong-password".into()),
            ]);
        tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
    };
    let burst: Vec<_> = (0..200)
        .map(|n| {
            let name = if n % 2 == 0 {
                format!("guess_{n}")
            } else {
                format!("not a name {n}!")
            };
            guess("198.51.100.9", name)
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for answer in burst {
        *statuses.entry(answer.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&401), Some(&10), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&190), "{statuses:?}");
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    let elsewhere = guess("198.51.100.10", "nobody".into()).await.unwrap();
    assert_eq!(elsewhere, 401, "another address has its own count");
}

/// A second proxy adds its own X-Forwarded-For line; an IPv6 client is counted by its /64, so
/// it cannot step around the limit by changing its address within its network.
#[tokio::test]
async fn ipv6_clients_count_by_their_64_through_every_forwarded_for_line() {
    let app = start_app(&[
        ("LIMIT_IP_SIGNINS_PER_10MIN", "2"),
        ("TRUSTED_PROXIES", "127.0.0.1,10.0.0.3"),
    ])
    .await;
    start_of_next_day(&app);
    let from = |ip: &'static str| {
        let lines = [format!("203.0.113.250, {ip}"), "10.0.0.3".to_string()];
        failed_login_forwarded(&app, &lines)
    };
    assert_eq!(from("2001:db8:1:2::a").await.unwrap().status(), 401);
    assert_eq!(from("2001:db8:1:2::b").await.unwrap().status(), 401);
    assert_eq!(
        from("2001:db8:1:2:ffff::c").await.unwrap().status(),
        429,
        "a third address of the same /64"
    );
    assert_eq!(
        from("2001:db8:1:3::a").await.unwrap().status(),
        401,
        "another network"
    );
    assert_eq!(
        from("203.0.113.7").await.unwrap().status(),
        401,
        "an IPv4 client beside them"
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
        app.events(dynamic_otp::server::db::audit_event::Kind::PumpingAlarm)
            .await,
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

/// Forty addresses register never-verified numbers of one range until the alarm goes off; the
/// range's verified user still signs in, and only new numbers and the tripping address wait.
#[tokio::test]
async fn the_pumping_alarm_pauses_new_numbers_never_a_verified_user_of_the_range() {
    let app = start_app(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    start_of_next_day(&app);
    let raj = &SEED[0]; // +9198…
    app.sign_up(&browser(), raj).await;
    let register_from = |n: u32| {
        let form = [
            ("username", format!("pump_{n}")),
            ("full_name", "Pump".to_string()),
            ("phone", format!("+91987654{:04}", 1000 + n)),
            ("email", "pump@example.in".to_string()),
            ("password", "pumping-password-9".to_string()),
        ];
        api_client()
            .post(format!("{}/api/register", app.base))
            .header(ACCEPT, "application/json")
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .form(&form)
            .send()
    };
    let mut statuses = BTreeMap::new();
    for n in 0..40 {
        let status = register_from(n).await.unwrap().status().as_u16();
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert!(
        statuses.get(&503).copied().unwrap_or(0) > 0,
        "the alarm went off: {statuses:?}"
    );
    let sent_before = app.gateway.messages().len();
    let res = app.login_fresh(raj.username, raj.password).await;
    assert_eq!(res.status(), 200, "the verified user of the range signs in");
    assert_eq!(app.gateway.messages().len(), sent_before + 1);
    assert_eq!(app.last_code_to(raj.phone).len(), 6);
    // A new number of the range still waits, from any address.
    let (status, _) = error_of(register_from(77).await.unwrap()).await;
    assert_eq!(status, 503);
}

/// Anyone can hold a username at the lockout delay; the owner's own browser, which signed in
/// before and carries its device token, is not held by them. A device that fails itself is.
#[tokio::test]
async fn a_browser_that_signed_in_before_is_not_held_by_another_clients_failures() {
    let app = start_app(&[
        ("LOCKOUT_DELAY_AFTER", "3"),
        ("LIMIT_IP_SIGNINS_PER_10MIN", "1000"),
    ])
    .await;
    let (raj, priya) = (&SEED[0], &SEED[1]);
    let own = browser();
    app.sign_up(&own, raj).await;
    app.sign_up(&browser(), priya).await;
    // Eight failures, waiting out each delay: the last wait, 2^5 s, outlasts the test.
    for person in [raj, priya] {
        let mut failures = 0;
        while failures < 8 {
            let res = app.login_fresh(person.username, "not-the-password-1").await;
            match error_of(res).await {
                (401, _) => failures += 1,
                (429, error) => app.clock.advance(Duration::from_secs(too_many(&error) + 1)),
                other => panic!("{other:?}"),
            }
        }
    }
    // Waiting out one's delays may have ended the other's: one more try holds each again.
    for person in [raj, priya] {
        let res = app.login_fresh(person.username, "not-the-password-1").await;
        assert!([401, 429].contains(&res.status().as_u16()));
    }
    let (status, _) = error_of(app.login_fresh(raj.username, raj.password).await).await;
    assert_eq!(status, 429, "a new browser waits");
    let res = app.login(&own, raj.username, raj.password).await;
    assert_eq!(res.status(), 200, "the owner's browser does not");
    let (status, _) = error_of(app.login(&own, priya.username, priya.password).await).await;
    assert_eq!(status, 429, "its token is good for its own account only");

    for _ in 0..3 {
        let res = app.login(&own, raj.username, "not-the-password-1").await;
        assert_eq!(res.status(), 401);
    }
    let (status, _) = error_of(app.login(&own, raj.username, raj.password).await).await;
    assert_eq!(status, 429, "a device that fails itself loses its standing");
}
