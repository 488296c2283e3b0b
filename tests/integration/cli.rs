//! The admin CLI through the real binary, on an on-disk embedded store.

use std::process::Command;
use std::time::Duration;

fn admin(store: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dynamic_otp"))
        .arg("admin")
        .args(args)
        .env("LEPTOS_ENV", "PROD")
        .env("DATABASE_URL", format!("surrealkv://{}", store.display()))
        .env("SMS_PROVIDER", "webhook")
        .env("SMS_WEBHOOK_URL", "http://127.0.0.1:9/sms")
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_dynamic_otp"))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_ENV", "PROD")
        .env("DATABASE_URL", "mem://")
        .env("SMS_PROVIDER", "webhook")
        .env("SMS_WEBHOOK_URL", format!("{}/sms", sms.base))
        .env("OTP_SECRET", "log-test-secret-0123456789abcdef")
        .env("SMS_CALLBACK_SECRET", "receipt-secret-in-the-path")
        .env("COOKIE_SECURE", "false")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "server started");
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
    server.kill().unwrap();
    let output = server.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let of_request: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == id.as_str())
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
    let code = super::code_in(&sms.messages()[0].1);
    assert!(!text.contains(&code), "no code in the log");
    assert!(!text.contains("9876543210") && !text.contains("log-user-password-1"));
    assert!(!text.contains("receipt-secret-in-the-path"));
    assert!(text.contains("/sms/status/msg91/<redacted>"));
}
