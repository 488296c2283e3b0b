//! Running it as a service: Prometheus metrics through the real binary (the recorder is one
//! per process, so only a process of its own gives exact counts).

use std::collections::BTreeMap;

use super::*;

/// A scrape as (metric name, labels) → value.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

fn parse_scrape(text: &str) -> Samples {
    let mut samples = Samples::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("a value");
        let (name, labels) = match (series.find('{'), series.rfind('}')) {
            (Some(open), Some(close)) => (&series[..open], &series[open + 1..close]),
            _ => (series, ""),
        };
        let labels = labels
            .split("\",")
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("key=value");
                (key.to_string(), value.trim_matches('"').to_string())
            })
            .collect();
        samples.insert((name.to_string(), labels), value.parse().expect("a number"));
    }
    samples
}

fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .get(&(name.to_string(), labels))
        .copied()
        .unwrap_or(0.0)
}

async fn status_of(
    client: &reqwest::Client,
    base: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> u16 {
    super::post(client, base, endpoint, form)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn metrics_count_a_scripted_sequence_exactly() {
    let sms = Gateway::start(StatusCode::OK).await;
    let metrics_port = free_port();
    let env = [
        ("SMS_PROVIDER", "webhook".to_string()),
        ("SMS_WEBHOOK_URL", format!("{}/sms", sms.base)),
        ("METRICS_ADDR", format!("127.0.0.1:{metrics_port}")),
    ];
    let server = ServerBuilder::new().envs(&env).start().await;
    let base = server.base.as_str();
    let raj = &SEED[0];
    let code_of_last = || code_in(&sms.messages().last().unwrap().1);
    let not = |code: &str| if code == "000000" { "111111" } else { "000000" }.to_string();

    // Register, one wrong code, the right one.
    let first = browser();
    let form = raj.registration();
    assert_eq!(status_of(&first, base, "register", &form).await, 200);
    let code = code_of_last();
    assert_eq!(
        status_of(&first, base, "verify_code", &[("code", &not(&code))]).await,
        400
    );
    assert_eq!(
        status_of(&first, base, "verify_code", &[("code", &code)]).await,
        200
    );

    // Two wrong passwords, an unknown user, then a full sign-in.
    let second = browser();
    let wrong = [("username", raj.username), ("password", "not-the-password")];
    let unknown = [("username", "nobody_here"), ("password", "whatever-it-is")];
    let right = [("username", raj.username), ("password", raj.password)];
    assert_eq!(status_of(&second, base, "login", &wrong).await, 401);
    assert_eq!(status_of(&second, base, "login", &wrong).await, 401);
    assert_eq!(status_of(&second, base, "login", &unknown).await, 401);
    assert_eq!(status_of(&second, base, "login", &right).await, 200);
    let code = code_of_last();
    assert_eq!(
        status_of(&second, base, "verify_code", &[("code", &code)]).await,
        200
    );

    // The provider goes down: the right password, but no code can be sent.
    sms.fail(true);
    assert_eq!(status_of(&browser(), base, "login", &right).await, 502);

    let unknown_page = reqwest::get(format!("{base}/no-such-page-7f3a"))
        .await
        .unwrap();
    assert_eq!(unknown_page.status(), 404);
    let main_scrape = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(
        main_scrape.status(),
        404,
        "METRICS_ADDR moves /metrics off the site"
    );
    let scrape = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    let s = parse_scrape(&scrape.text().await.unwrap());

    let outcome = |name: &str, outcome: &str| value(&s, name, &[("outcome", outcome)]);
    assert_eq!(outcome("dotp_registrations_total", "code_sent"), 1.0);
    assert_eq!(outcome("dotp_sign_ins_total", "bad_credentials"), 3.0);
    assert_eq!(outcome("dotp_sign_ins_total", "code_sent"), 1.0);
    assert_eq!(outcome("dotp_sign_ins_total", "sms_failed"), 1.0);
    assert_eq!(outcome("dotp_code_verifications_total", "wrong_code"), 1.0);
    assert_eq!(outcome("dotp_code_verifications_total", "accepted"), 2.0);
    let sends = |outcome: &str| {
        value(
            &s,
            "dotp_sms_sends_total",
            &[
                ("provider", "webhook"),
                ("kind", "code"),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(sends("accepted"), 2.0);
    assert_eq!(sends("rejected"), 1.0);
    let latency = [("provider", "webhook")];
    assert_eq!(
        value(&s, "dotp_sms_send_duration_seconds_count", &latency),
        3.0
    );
    let login = |status: &str| {
        value(
            &s,
            "dotp_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/login"),
                ("status", status),
            ],
        )
    };
    assert_eq!((login("200"), login("401"), login("502")), (1.0, 3.0, 1.0));
    assert_eq!(value(&s, "dotp_argon2_queue_depth", &[]), 0.0);
    assert_eq!(value(&s, "dotp_database_errors_total", &[]), 0.0);
    // Unknown paths share one label rather than minting a series each.
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(value(&s, "dotp_http_requests_total", &unmatched), 2.0);
    assert!(s
        .keys()
        .all(|(_, labels)| labels.values().all(|v| !v.contains("7f3a"))));
}

/// Hashed assets are cached for a year and sent compressed; plain names must be revalidated.
#[tokio::test]
async fn assets_are_compressed_and_hashed_ones_cached_for_a_year() {
    let site = std::env::temp_dir().join(format!("dotp-site-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let css = "body { margin: 0; } ".repeat(200);
    std::fs::write(site.join("pkg/dynamic_otp.abc123.css"), &css).unwrap();
    for (hashed, policy) in [
        (true, "public, max-age=31536000, immutable"),
        (false, "no-cache"),
    ] {
        let sources = Sources::new(None, |key| match key {
            "DATABASE_URL" => Some("mem://".into()),
            "SMS_PROVIDER" => Some("webhook".into()),
            "SMS_WEBHOOK_URL" => Some("http://127.0.0.1:9/sms".into()),
            "OTP_SECRET" => Some("asset-test-secret-0123456789abcdef".into()),
            _ => None,
        })
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config::load(&sources, false, &addr.to_string()).unwrap();
        let options = LeptosOptions::builder()
            .output_name("dynamic_otp")
            .site_root(site.display().to_string())
            .site_addr(addr)
            .hash_files(hashed)
            .build();
        let app = router(build_state(config, options).await.unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        // This client decompresses nothing, so the bytes counted are the bytes sent.
        let res = api_client()
            .get(format!("http://{addr}/pkg/dynamic_otp.abc123.css"))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], policy);
        assert_eq!(res.headers()["content-encoding"], "br");
        let sent = res.bytes().await.unwrap().len();
        assert!(sent * 10 < css.len(), "{sent} bytes sent for {}", css.len());
    }
    let _ = std::fs::remove_dir_all(&site);
}

#[tokio::test]
async fn every_page_loads_the_islands_and_its_forms_post_without_script() {
    let app = start_app(&[]).await;
    for (path, endpoint) in [
        ("/login", "/api/login"),
        ("/register", "/api/register"),
        ("/forgot", "/api/forgot_password"),
    ] {
        let html = reqwest::get(format!("{}{path}", app.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!(r#"<form action="{endpoint}" method="post""#)),
            "{path}: {html}"
        );
        assert!(html.contains(r#"<script type="module""#), "{path}");
        assert!(html.contains(".wasm"), "{path}");
    }
}

/// Past its limit, one address learns nothing about which names are taken and makes the server
/// compute no hash: the refusal comes before both.
#[tokio::test]
async fn registrations_past_the_ip_limit_are_refused_before_any_hash() {
    let sms = Gateway::start(StatusCode::OK).await;
    let env = [
        ("SMS_PROVIDER", "webhook".to_string()),
        ("SMS_WEBHOOK_URL", format!("{}/sms", sms.base)),
        ("LIMIT_IP_SIGNINS_PER_10MIN", "2".to_string()),
        ("METRICS_ADDR", "site".to_string()),
    ];
    let server = ServerBuilder::new().envs(&env).start().await;
    let base = server.base.as_str();
    let hashes = || async {
        let scrape = reqwest::get(format!("{base}/metrics")).await.unwrap();
        value(
            &parse_scrape(&scrape.text().await.unwrap()),
            "dotp_argon2_runs_total",
            &[],
        )
    };
    for person in &SEED[..2] {
        assert_eq!(
            status_of(&browser(), base, "register", &person.registration()).await,
            200
        );
    }
    assert_eq!(hashes().await, 2.0);
    // A new person, and one whose name is taken: the same refusal, no hash.
    let taken = Person {
        phone: SEED[3].phone,
        ..SEED[0]
    };
    for person in [&SEED[2], &taken] {
        let res = super::post(&browser(), base, "register", &person.registration()).await;
        let (status, error) = error_of(res).await;
        assert_eq!(status, 429);
        assert!(
            matches!(error, AppError::TooManyRequests { .. }),
            "{error:?}"
        );
    }
    assert_eq!(hashes().await, 2.0, "no hash past the limit");
}

/// Pages and files served at the same moment, by the binary: each answer carries its own
/// status and headers (leptos_axum's file handler once applied another request's, so a page's
/// redirect lost its Location and files went out as that redirect).
#[tokio::test]
async fn concurrent_pages_and_files_keep_their_own_headers() {
    let site = std::env::temp_dir().join(format!("dotp-site-race-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("passkey.js"), "// script\n".repeat(50)).unwrap();
    std::fs::write(site.join("pkg/dynamic_otp.css"), "body { margin: 0; }\n").unwrap();
    let server = ServerBuilder::new()
        .env("LEPTOS_SITE_ROOT", site.display().to_string())
        .env("SMS_PROVIDER", "webhook")
        .env("SMS_WEBHOOK_URL", "http://127.0.0.1:9/sms")
        .start()
        .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // Twelve clients at once, each asking for the home page and the two files in turn.
    let mut clients = tokio::task::JoinSet::new();
    for first in 0..12 {
        let (client, base) = (client.clone(), server.base.clone());
        clients.spawn(async move {
            let mut wrong = Vec::new();
            for i in first..first + 25 {
                let path = ["/", "/passkey.js", "/pkg/dynamic_otp.css"][i % 3];
                let res = client
                    .get(format!("{base}{path}"))
                    .header(ACCEPT, "text/html,*/*")
                    .send()
                    .await
                    .unwrap();
                let location = res.headers().get("location").cloned();
                let location = location.as_ref().and_then(|l| l.to_str().ok());
                let expected = match path {
                    "/" => (302, Some("/login")),
                    _ => (200, None),
                };
                if (res.status().as_u16(), location) != expected {
                    wrong.push(format!("{path}: {} {location:?}", res.status()));
                }
            }
            wrong
        });
    }
    let wrong: Vec<String> = clients.join_all().await.concat();
    drop(server);
    let _ = std::fs::remove_dir_all(&site);
    assert!(wrong.is_empty(), "{} of 300 wrong: {wrong:?}", wrong.len());
}
