//! The admin CLI through the real binary, on an on-disk embedded store.

use std::process::Command;

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
