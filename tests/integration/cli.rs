//! The admin CLI through the real binary, on an on-disk embedded store.

use std::process::Command;

use super::{api_client, ServerBuilder};

fn admin(store: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dynamic_otp"))
        .arg("admin")
        .args(args)
        .env("LEPTOS_ENV", "PROD")
        .env(
            "DOTP_DATABASE_URL",
            format!("surrealkv://{}", store.display()),
        )
        .env("DOTP_SMS_PROVIDER", "webhook")
        .env("DOTP_SMS_WEBHOOK_URL", "http://127.0.0.1:9/sms")
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn admin_commands_run_against_the_embedded_store() {
    let dir = std::env::temp_dir().join(format!("dotp-admin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = dir.join("app.db");
    let (code, out, _) = admin(&store, &["users"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("username") && out.lines().count() == 1,
        "{out}"
    );
    let (code, _, err) = admin(&store, &["unlock", "nobody"]);
    assert_eq!((code, err.trim()), (2, "no account named `nobody`"));
    let (code, _, err) = admin(&store, &["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("usage: dynamic_otp admin"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn json_logs_put_the_request_id_on_every_line_and_no_secret_anywhere() {
    let sms = super::Gateway::start(axum::http::StatusCode::OK).await;
    let env = [
        ("SMS_PROVIDER", "webhook".to_string()),
        ("SMS_WEBHOOK_URL", format!("{}/sms", sms.base)),
        ("SMS_CALLBACK_SECRET", "receipt-secret-in-the-path".into()),
        ("LOG_FORMAT", "json".into()),
    ];
    let mut server = ServerBuilder::new()
        .envs(&env)
        .stdout(std::process::Stdio::piped())
        .start()
        .await;
    let base = server.base.clone();
    let client = api_client();
    let res = client
        .post(format!("{base}/api/register"))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("username", "log_user"),
            ("full_name", "राज शर्मा"),
            ("phone", "+919876543210"),
            ("email", "log@example.in"),
            ("password", "log-user-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let receipt = client
        .post(format!(
            "{base}/sms/status/msg91/receipt-secret-in-the-path"
        ))
        .form(&[("data", "[]")])
        .send()
        .await
        .unwrap();
    assert_eq!(receipt.status(), 400);
    server.child.kill().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut server.child.stdout.take().unwrap(), &mut text).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    // Every line a request causes carries its id in its list of spans, however deep the flow.
    let of_request: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| {
            l["spans"]
                .as_array()
                .is_some_and(|spans| spans.iter().any(|s| s["request_id"] == id.as_str()))
        })
        .collect();
    let messages: Vec<&str> = of_request
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"Sending OTP via webhook to +91******3210"),
        "{messages:?}"
    );
    assert!(messages
        .iter()
        .any(|m| m.starts_with("POST /api/register 200")));
    let sent = of_request
        .iter()
        .find(|l| l["fields"]["message"] == "Sending OTP via webhook to +91******3210")
        .expect("the dispatch line");
    assert_eq!(sent["span"]["name"], "register", "the flow names its span");
    let code = super::code_in(&sms.messages()[0].1);
    assert!(!text.contains(&code), "no code in the log");
    assert!(!text.contains("9876543210") && !text.contains("log-user-password-1"));
    assert!(!text.contains("receipt-secret-in-the-path"));
    assert!(text.contains("/sms/status/msg91/<redacted>"));
}

#[tokio::test]
async fn rotate_secret_keeps_codes_already_sent_valid_and_new_codes_use_the_new_key() {
    let dir = std::env::temp_dir().join(format!("dotp-rotate-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sms = super::Gateway::start(axum::http::StatusCode::OK).await;
    let env = [
        ("SMS_PROVIDER", "webhook".to_string()),
        ("SMS_WEBHOOK_URL", format!("{}/sms", sms.base)),
        ("DATA_DIR", dir.display().to_string()),
        (
            "DATABASE_URL",
            format!("surrealkv://{}/app.db", dir.display()),
        ),
        // Empty: the server generates and owns its key file.
        ("OTP_SECRET", String::new()),
    ];
    let raj = &super::SEED[0];
    let server = ServerBuilder::new().envs(&env).start().await;
    let res = super::post(
        &super::browser(),
        &server.base,
        "register",
        &raj.registration(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let challenge = super::cookie_value(&res, "otp_challenge").expect("challenge cookie");
    let code = super::code_in(&sms.messages()[0].1);
    let key_before = std::fs::read_to_string(dir.join("otp_secret")).unwrap();

    // Rotated while the server runs (the key is not in the database), then a restart.
    let out = Command::new(env!("CARGO_BIN_EXE_dynamic_otp"))
        .args(["admin", "rotate-secret"])
        .env("LEPTOS_ENV", "PROD")
        .env("DATA_DIR", &dir)
        .env("OTP_SECRET", "")
        .env("SMS_PROVIDER", "webhook")
        .env("SMS_WEBHOOK_URL", format!("{}/sms", sms.base))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("codes already sent stay valid"));
    let key_after = std::fs::read_to_string(dir.join("otp_secret")).unwrap();
    assert_ne!(key_before.trim(), key_after.trim());
    drop(server);
    let server = ServerBuilder::new().envs(&env).start().await;

    let verified = super::submit_code(server.base.clone(), challenge, code)
        .await
        .unwrap();
    assert_eq!(verified.status(), 200, "the code sent before the rotation");
    let browser = super::browser();
    let password = [("username", raj.username), ("password", raj.password)];
    let res = super::post(&browser, &server.base, "login", &password).await;
    assert_eq!(res.status(), 200);
    let challenge = super::cookie_value(&res, "otp_challenge").unwrap();
    let code = super::code_in(&sms.messages().last().unwrap().1);
    let signed_in = super::submit_code(server.base.clone(), challenge, code)
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200, "a code made with the new key");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn admin_commands_reach_a_running_server_that_holds_the_embedded_store() {
    let dir = std::env::temp_dir().join(format!("dotp-admin-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("app.db");
    let server = ServerBuilder::new()
        .dir(&dir)
        .env("DATABASE_URL", format!("surrealkv://{}", store.display()))
        .env("PUBLIC_URL", "https://otp.example.in")
        .env("SMS_PROVIDER", "webhook")
        .env("SMS_WEBHOOK_URL", "http://127.0.0.1:9/sms")
        .start()
        .await;
    let socket = dir.join("app.db.admin.sock");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&socket)
            .expect("the admin socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the operator's user may open it");
    }

    // The server holds the store; the command goes through it rather than failing on the lock.
    let (code, out, err) = admin(
        &store,
        &[
            "client",
            "add",
            "Shop",
            "--redirect",
            "https://shop.example.in/cb",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("client_id:"))
        .expect("the new client's id")
        .trim()
        .to_string();
    let (code, out, _) = admin(&store, &["client", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains(&id), "{out}");
    let (code, _, err) = admin(&store, &["unlock", "nobody"]);
    assert_eq!((code, err.trim()), (2, "no account named `nobody`"));

    // The running server knows the app at once: its sign-in request is taken, not refused.
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={id}&redirect_uri=https://shop.example.in/cb&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        server.base,
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(authorize)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "to our sign-in page");

    // Stopped, the server leaves the store to the command again.
    drop(server);
    let (code, out, _) = admin(&store, &["client", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains(&id), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
