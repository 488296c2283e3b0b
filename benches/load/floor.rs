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
//! the server costs above this is its sign-in. Above it, the same process doing the least a
//! sign-in writes around the hash, on a store of its own (`least_sign_in`).

use std::future::IntoFuture;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Form, Router};
use dynamic_otp::model::CodePurpose;
use dynamic_otp::server::auth::password::{Argon2Config, PasswordHasher};
use dynamic_otp::server::db::otp_challenge::{NewChallenge, SignInAs};
use dynamic_otp::server::db::user::UserRow;
use dynamic_otp::server::db::{login_guard, otp_challenge, rate_counter, session, user, Db};
use reqwest::StatusCode;

use super::{address, closed_loop, cpu_seconds, now_ms, PASSWORD};

/// Set for the bench binary run as figure 1's floor: "address memory_kib iterations
/// parallelism max_concurrent max_queue".
const BARE_SIGN_IN: &str = "DOTP_BENCH_BARE_SIGN_IN";

/// Set beside it for the least sign-in: the directory of its store (a path may hold spaces).
const LEAST_STORE: &str = "DOTP_BENCH_LEAST_STORE";

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
///
/// With `store`, a directory, the bare server also does the least a password sign-in writes,
/// on an embedded store of its own there (`least_sign_in`).
pub async fn bare_sign_ins(
    http: &reqwest::Client,
    argon2: &Argon2Config,
    workers: usize,
    for_: Duration,
    store: Option<&std::path::Path>,
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
    let mut server = std::process::Command::new(std::env::current_exe().unwrap());
    server.env(BARE_SIGN_IN, spec);
    if let Some(dir) = store {
        server.env(LEAST_STORE, dir);
    }
    let mut server = server.spawn().expect("the bare sign-in server starts");
    let url = format!("http://{addr}/api/login");
    let started = Instant::now();
    while http.get(&url).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "bare server never ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
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
    let app = match std::env::var_os(LEAST_STORE) {
        None => hash_only(hasher, stored),
        Some(dir) => least_sign_in(hasher, &stored, std::path::Path::new(&dir)).await,
    };
    // Accepted like the server's own connections (`run::no_delay`).
    let listener = tokio::net::TcpListener::bind(parts[0])
        .await
        .unwrap()
        .tap_io(dynamic_otp::server::run::no_delay);
    axum::serve(listener, app).await.unwrap();
    std::process::exit(0);
}

/// HTTP and the hash, and nothing else.
fn hash_only(hasher: PasswordHasher, stored: Arc<str>) -> Router {
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
    Router::new().route("/api/login", post(check).get(|| async { "" }))
}

/// The least a password sign-in writes, on a store of its own in `dir` holding the bench's
/// accounts: before the hash, the address's attempt counted and the account read by its name
/// (one trip, as `sign_in_read` makes it); after a right password, the code's challenge written
/// (`otp_challenge::create`, which also spends the account's earlier one). No lockout guard, no
/// factors, no send limits, no SMS record, no SMS sent, no audit row: what the app does above
/// this is its own.
async fn least_sign_in(hasher: PasswordHasher, stored: &str, dir: &std::path::Path) -> Router {
    let settings = super::settings(dir, "127.0.0.1:9".parse().unwrap());
    let config = super::load_config(&settings, "127.0.0.1:0");
    let db = dynamic_otp::server::db::connect(&config.database)
        .await
        .expect("the least sign-in's store opens");
    db.query(
        "FOR $i IN 0..$n {
             CREATE type::record('user', 'bl' + <string> $i) CONTENT {
                 username: 'bench_user_' + <string> $i, full_name: 'प्रिया पटेल',
                 phone: '+91980000' + <string> (1000 + $i), email: 'l@example.in',
                 password_hash: $hash, phone_verified: true, created_at: $now, language: 'en' };
         }",
    )
    .bind(("n", super::SEEDED_USERS as i64))
    .bind(("hash", stored.to_string()))
    .bind(("now", now_ms()))
    .await
    .unwrap()
    .check()
    .unwrap();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let check = move |headers: HeaderMap, Form(form): Form<Vec<(String, String)>>| {
        let (hasher, db, next) = (hasher.clone(), db.clone(), next.clone());
        async move {
            let field = |name: &str| {
                form.iter()
                    .find_map(|(k, v)| (k == name).then(|| v.clone()))
                    .unwrap_or_default()
            };
            let ip = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string();
            let now = now_ms();
            let counter = rate_counter::window("signin_ip", &ip, 600, now);
            let mut res = db
                .query(
                    "UPSERT $counter SET count = (count ?? 0) + 1, expires_at = $ends RETURN VALUE count;
                     SELECT * FROM user WHERE username = $username LIMIT 1;",
                )
                .bind(("counter", counter.0))
                .bind(("ends", counter.1))
                .bind(("username", field("username")))
                .await
                .expect("least sign-in: read");
            let user: Option<UserRow> = res.take(1).expect("least sign-in: the account");
            let right = hasher
                .verify(
                    user.as_ref().map(|u| u.password_hash.clone()),
                    field("password"),
                )
                .await
                .unwrap_or(false);
            let Some(user) = user.filter(|_| right) else {
                return (StatusCode::UNAUTHORIZED, r#"{"error":"sign_in_failed"}"#);
            };
            let challenge = NewChallenge {
                key: format!("{:064x}", next.fetch_add(1, Ordering::Relaxed) + 1),
                account: user.id.clone(),
                purpose: CodePurpose::SignIn,
                phone: user.phone.clone(),
                code_mac: "least".into(),
                now,
                expires_at: now + 300_000,
                resend_after: now + 30_000,
                language: "en".into(),
                sign_in_as: Some(SignInAs {
                    guard: login_guard::record(&user.username),
                    username: user.username.clone(),
                    masked_phone: "+91******0000".into(),
                    range: "+9198".into(),
                }),
            };
            otp_challenge::create(&db, challenge)
                .await
                .expect("least sign-in: the challenge");
            (StatusCode::OK, r#"{"sent":true}"#)
        }
    };
    Router::new().route("/api/login", post(check).get(|| async { "" }))
}
