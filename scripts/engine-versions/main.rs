//! The engine's price for the code check's writes, the same workload on each SurrealDB version
//! `run.sh` builds this against: its one-record update (figure 3's divisor), the challenge used
//! and the session made (figure 3's floor), and the app's own check transaction, extracted from
//! `src/server/db/transactions/code_check.rs`. Each on a new SurrealKV store through the SDK,
//! six workers for five seconds, with the process's CPU per transaction.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use surrealdb::engine::local::{Db, SurrealKv};
use surrealdb::types::RecordId;
use surrealdb::Surreal;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const N: usize = 20000;
const WORKERS: usize = 6;

async fn closed_loop<F, Fut>(name: &str, f: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let cpu0 = cpu();
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (f, next, ok) = (f.clone(), next.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < Duration::from_secs(5) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= N {
                    break;
                }
                if f(i).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    let cpu_ms = (cpu() - cpu0) * 1000.0 / n.max(1) as f64;
    let rate = n as f64 / secs;
    println!("{name}: {rate:.0}/s ({n} ok), {cpu_ms:.3} ms CPU each");
    rate
}

fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit(')').next().unwrap();
    let f: Vec<&str> = after.split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}

async fn run(db: Surreal<Db>, tag: &str) {
    let now: i64 = 1_800_000_000_000;
    for from in (0..N).step_by(500) {
        let mut r = db
            .query("FOR $i IN $from..$to { CREATE type::record('bench_op', $i) SET used = false; }")
            .bind(("from", from as i64))
            .bind(("to", (from + 500) as i64))
            .await
            .unwrap();
        assert!(r.take_errors().is_empty());
        let mut r = db
            .query(
                "FOR $i IN $from..$to {
                   LET $u = type::record('user', 'bv' + <string>$i);
                   CREATE $u CONTENT { username: 'bv' + <string>$i, full_name: 'B', phone: '+9197' + <string>(10000000 + $i),
                     email: 'b@e', password_hash: 'x', phone_verified: false, created_at: $now };
                   CREATE type::record('otp_challenge', 'c' + <string>$i) CONTENT { account: $u, purpose: 'sign_in',
                     phone: '+91', code_mac: 'right', attempts: 0, consumed: false, created_at: $now,
                     expires_at: $now + 600000, resend_after: $now, username: 'bv' + <string>$i,
                     masked_phone: '+91******0000', phone_range: '+9197', guard: type::record('login_guard', 'bv' + <string>$i) };
                   CREATE type::record('otp_challenge', 'd' + <string>$i) CONTENT { account: $u, purpose: 'sign_in',
                     phone: '+91', code_mac: 'right', attempts: 0, consumed: false, created_at: $now,
                     expires_at: $now + 600000, resend_after: $now, username: 'bv' + <string>$i,
                     masked_phone: '+91******0000', phone_range: '+9197', guard: type::record('login_guard', 'bv' + <string>$i) };
                 }",
            )
            .bind(("from", from as i64))
            .bind(("to", (from + 500) as i64))
            .bind(("now", now))
            .await
            .unwrap();
        let e = r.take_errors();
        assert!(e.is_empty(), "{e:?}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let d = db.clone();
    closed_loop(&format!("{tag} engine update"), move |i| {
        let d = d.clone();
        async move {
            d.query("BEGIN TRANSACTION; UPDATE type::record('bench_op', $i) SET used = true WHERE used = false; COMMIT TRANSACTION;")
                .bind(("i", i as i64)).await.map(|mut r| r.take_errors().is_empty()).unwrap_or(false)
        }
    })
    .await;
    let d = db.clone();
    closed_loop(&format!("{tag} least (challenge used + session)"), move |i| {
        let d = d.clone();
        async move {
            d.query("BEGIN TRANSACTION;
                UPDATE $challenge SET attempts += 1, consumed = true;
                CREATE $session_id CONTENT { account: $account, created_at: $now, last_seen: $now,
                    proven_at: $now, expires_at: $now + 3600000, ip: '10.0.0.1', user_agent: 'bench',
                    methods: ['pwd', 'sms'] };
                COMMIT TRANSACTION;")
                .bind(("challenge", RecordId::new("otp_challenge", format!("c{i}"))))
                .bind(("account", RecordId::new("user", format!("bv{i}"))))
                .bind(("session_id", RecordId::new("session", format!("e{i:063x}"))))
                .bind(("now", now))
                .await.map(|mut r| r.take_errors().is_empty()).unwrap_or(false)
        }
    })
    .await;
    let d = db.clone();
    closed_loop(&format!("{tag} the check's transaction"), move |i| {
        let d = d.clone();
        async move {
            let mut r = d
                .query(include_str!("check.surql"))
                .bind((
                    "ip_counter",
                    RecordId::new("rate_counter", format!("ip{}", i % 200)),
                ))
                .bind(("ip_ends", now + 600000))
                .bind(("ip_max", 1_000_000i64))
                .bind(("id", RecordId::new("otp_challenge", format!("d{i}"))))
                .bind(("max", 5i64))
                .bind(("now", now))
                .bind(("macs", vec!["right".to_string()]))
                .bind(("session_id", RecordId::new("session", format!("f{i:063x}"))))
                .bind(("expires", now + 3600000))
                .bind(("ip", "10.0.0.1".to_string()))
                .bind(("agent", "bench".to_string()))
                .bind(("methods", vec!["pwd".to_string(), "sms".to_string()]))
                .bind(("kind", "signed_in".to_string()))
                .bind(("method", "sms".to_string()))
                .bind((
                    "signs_in",
                    vec!["verify_phone".to_string(), "sign_in".to_string()],
                ))
                .await
                .unwrap();
            let e = r.take_errors();
            if !e.is_empty() {
                eprintln!("{e:?}");
                return false;
            }
            // The outcome is the statement before COMMIT.
            let at = r.num_statements() - 2;
            let v: Option<bool> = r.take((at, "right")).unwrap();
            v == Some(true)
        }
    })
    .await;
}

#[tokio::main]
async fn main() {
    let dir = std::env::args().nth(1).expect("store dir");
    let _ = std::fs::remove_dir_all(&dir);
    let db = Surreal::new::<SurrealKv>(dir.as_str()).await.unwrap();
    db.use_ns("t").use_db("t").await.unwrap();
    let mut r = db.query(include_str!("schema.surql")).await.unwrap();
    let e = r.take_errors();
    assert!(e.is_empty(), "schema: {e:?}");
    let tag = std::env::args().nth(2).unwrap_or_default();
    run(db, &tag).await;
}
