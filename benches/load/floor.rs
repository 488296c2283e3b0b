//! The floors under figures 1 and 3: what the machine and the engine allow before any of the
//! app's own work.
//!
//! Figure 3's: the records a right code check writes (the challenge, the account, the session
//! and the audit row; the address's counter only for answers that are not right), written bare in one transaction, on the same store
//! from the same workers: no condition, no comparison, nothing read back. What
//! `transactions::check_code` costs above this is its logic; this much is the engine's price
//! for the records themselves. Under it, the least any sign-in by code must write: the
//! challenge used and the session made, the same way.
//!
//! Figure 1's: a process of its own, like the server, that answers the sign-in's POST by
//! checking its password against a stored argon2id hash with the app's own hasher, and does
//! nothing else: HTTP and the hash, driven by the same load generator on the same cores. What
//! the server costs above this is its sign-in.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Form, Router};
use dynamic_otp::server::auth::password::{Argon2Config, PasswordHasher};
use dynamic_otp::server::db::{otp_challenge, session, user, Db};
use reqwest::StatusCode;

use super::{address, closed_loop, cpu_seconds, now_ms, PASSWORD};

/// Set for the bench binary run as figure 1's floor: "address memory_kib iterations
/// parallelism max_concurrent max_queue".
const BARE_SIGN_IN: &str = "DOTP_BENCH_BARE_SIGN_IN";

/// Which of a right check's records a bare transaction writes.
#[derive(Clone, Copy)]
pub enum Writes {
    /// All four: the challenge, the account, the session and the audit row.
    All,
    /// The two no sign-in by code can do without: the challenge used, the session made.
    Least,
}

const ALL: &str = "BEGIN TRANSACTION;
     UPDATE $challenge SET attempts += 1, consumed = true;
     UPDATE $account SET phone_verified = true, last_method = 'sms';
     CREATE $session_id CONTENT { account: $account, created_at: $now, last_seen: $now,
         proven_at: $now, expires_at: $now + 3600000, ip: $ip, user_agent: 'bench',
         methods: ['pwd', 'sms'] };
     CREATE audit_event CONTENT { at: $now, kind: 'signed_in', account: $account,
         username: 'bench', masked_phone: '+91******0000', ip: $ip,
         user_agent: 'bench', detail: 'sms', verified_range: '+9197' };
     COMMIT TRANSACTION;";

const LEAST: &str = "BEGIN TRANSACTION;
     UPDATE $challenge SET attempts += 1, consumed = true;
     CREATE $session_id CONTENT { account: $account, created_at: $now, last_seen: $now,
         proven_at: $now, expires_at: $now + 3600000, ip: $ip, user_agent: 'bench',
         methods: ['pwd', 'sms'] };
     COMMIT TRANSACTION;";

/// Right-code checks' writes a second, over `keys` (challenges `seed_challenges` made, with
/// their accounts numbered from `first`; used or not, as nothing here reads them).
pub async fn bare_writes_rate(
    db: &Db,
    keys: Vec<String>,
    first: usize,
    workers: usize,
    writes: Writes,
) -> f64 {
    // Sessions named apart, so the two floors write records of their own.
    let (text, tag) = match writes {
        Writes::All => (ALL, 'f'),
        Writes::Least => (LEAST, 'e'),
    };
    let (db, keys) = (db.clone(), Arc::new(keys));
    let (rate, _) = closed_loop(workers, Duration::from_secs(5), keys.len(), move |i| {
        let (db, keys) = (db.clone(), keys.clone());
        async move {
            let now = now_ms();
            let mut res = db
                .query(text)
                .bind(("challenge", otp_challenge::record(&keys[i])))
                .bind(("account", user::record(&format!("bv{}", first + i))))
                .bind(("session_id", session::record(&format!("{tag}{i:063x}"))))
                .bind(("now", now))
                .bind(("ip", address(i)))
                .into_future()
                .await
                .expect("bare writes: sent");
            // Each writes records of its own (sessions named apart from `check_rate`'s): nothing
            // to collide with, so any error is the floor's own mistake, not a figure.
            let errors = res.take_errors();
            assert!(errors.is_empty(), "bare writes: {errors:?}");
            true
        }
    })
    .await;
    rate
}

/// Figure 1's floor: sign-ins a second against the bare server, and the CPU it spent on each.
pub struct BareSignIns {
    pub per_sec: f64,
    pub cpu_per_request: f64,
}

/// Starts this binary as the bare sign-in server with the app's hashing settings, drives it
/// like figure 1 drives the server for `for_`, and stops it.
pub async fn bare_sign_ins(
    http: &reqwest::Client,
    argon2: &Argon2Config,
    workers: usize,
    for_: Duration,
) -> BareSignIns {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let a = argon2;
    let spec = format!(
        "{addr} {} {} {} {} {}",
        a.memory_kib, a.iterations, a.parallelism, a.max_concurrent, a.max_queue
    );
    let mut server = std::process::Command::new(std::env::current_exe().unwrap())
        .env(BARE_SIGN_IN, spec)
        .spawn()
        .expect("the bare sign-in server starts");
    let url = format!("http://{addr}/api/login");
    let started = Instant::now();
    while http.get(&url).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "bare server never ready"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = server.id();
    let cpu_before = cpu_seconds(pid);
    let (http, url) = (http.clone(), Arc::new(url));
    let (per_sec, answered) = closed_loop(workers, for_, usize::MAX, move |i| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let form = [
                ("username", super::username(i % super::SEEDED_USERS)),
                ("password", PASSWORD.into()),
            ];
            http.post(url.as_str())
                .header("accept", "application/json")
                .header("x-forwarded-for", address(i))
                .form(&form)
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
        }
    })
    .await;
    let cpu = cpu_seconds(pid) - cpu_before;
    let _ = server.kill();
    let _ = server.wait();
    BareSignIns {
        per_sec,
        cpu_per_request: cpu / answered.len().max(1) as f64,
    }
}

/// When this process was started as the bare sign-in server, serves until killed and never
/// returns; otherwise returns at once.
pub async fn serve_bare_sign_in_if_asked() {
    let Ok(spec) = std::env::var(BARE_SIGN_IN) else {
        return;
    };
    let parts: Vec<&str> = spec.split(' ').collect();
    let number = |i: usize| parts[i].parse::<usize>().expect("bare server spec");
    let config = Argon2Config {
        memory_kib: number(1) as u32,
        iterations: number(2) as u32,
        parallelism: number(3) as u32,
        max_concurrent: number(4),
        max_queue: number(5),
    };
    let hasher = PasswordHasher::new(&config).expect("argon2 parameters");
    let stored: Arc<str> = hasher.hash(PASSWORD.into()).await.unwrap().into();
    let check = move |Form(form): Form<Vec<(String, String)>>| {
        let (hasher, stored) = (hasher.clone(), stored.clone());
        async move {
            let password = form
                .into_iter()
                .find_map(|(k, v)| (k == "password").then_some(v))
                .unwrap_or_default();
            match hasher.verify(Some(stored.to_string()), password).await {
                Ok(true) => (StatusCode::OK, r#"{"sent":true}"#),
                _ => (StatusCode::UNAUTHORIZED, r#"{"error":"sign_in_failed"}"#),
            }
        }
    };
    let app = Router::new().route("/api/login", post(check).get(|| async { "" }));
    // Accepted like the server's own connections (`run::no_delay`).
    let listener = tokio::net::TcpListener::bind(parts[0])
        .await
        .unwrap()
        .tap_io(dynamic_otp::server::run::no_delay);
    axum::serve(listener, app).await.unwrap();
    std::process::exit(0);
}
