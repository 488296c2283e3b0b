//! Figure 9, the store at scale (`BENCH_SCALE_USERS`; off by default, as seeding a million
//! accounts takes minutes): accounts and a tenth as many open challenges written straight into
//! a store of their own, then start-up, sign-ins and code checks measured as in figures 7, 1
//! and 3, so each can be set beside its empty-store figure from the same run.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dynamic_otp::server::auth::password::PasswordHasher;
use serde_json::{json, Value};

use super::{
    argon2_rate, code_checks, cpu_seconds, engine_rate, load_config, memory_mib, now_ms,
    resident_split, settings, sign_ins, start_server, Bench, IDLE_WAIT, PASSWORD,
};

/// Records per statement: one transaction each, big enough that commits do not dominate.
const BATCH: usize = 1000;

/// How many accounts `BENCH_SCALE_USERS` asks for; 0 leaves the figure out.
pub fn users_asked() -> usize {
    std::env::var("BENCH_SCALE_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn scale_username(i: usize) -> String {
    format!("scale_user_{i}")
}

/// Waits until process `pid` has used under 5% of a core for 3 s in a row (at most 10 minutes):
/// a store that has just taken a million records may still be compacting them, and that is not
/// what a sign-in or the engine's update costs. Returns how long it took.
async fn settled(pid: u32) -> Duration {
    let started = Instant::now();
    let mut quiet = 0;
    let mut before = cpu_seconds(pid);
    while quiet < 3 && started.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = cpu_seconds(pid);
        quiet = if now - before < 0.05 { quiet + 1 } else { 0 };
        before = now;
    }
    started.elapsed()
}

pub async fn run(
    sms: SocketAddr,
    root: &Path,
    users: usize,
    workers: usize,
    for_: Duration,
) -> Value {
    let challenges = (users / 10).max(1);
    let settings = settings(&root.join("scale"), sms);
    let config = load_config(&settings, "127.0.0.1:0");
    let (seed_secs, store_settle, engine, keys) = {
        let db = dynamic_otp::server::db::connect(&config.database)
            .await
            .unwrap();
        let hash = PasswordHasher::new(&config.argon2)
            .unwrap()
            .hash(PASSWORD.into())
            .await
            .unwrap();
        let now = now_ms();
        let started = Instant::now();
        for from in (0..users).step_by(BATCH) {
            // Indian mobiles +91 95…: unique per account, as the phone index demands.
            db.query(
                "FOR $i IN $from..$to {
                     CREATE type::record('user', 's' + <string>$i) CONTENT {
                         username: 'scale_user_' + <string>$i, full_name: 'राज शर्मा',
                         phone: '+91' + <string>(9500000000 + $i), email: 'scale@example.in',
                         password_hash: $hash, phone_verified: true, created_at: $now,
                         language: 'en', factors_enrolled: false
                     };
                 }",
            )
            .bind(("from", from as i64))
            .bind(("to", (from + BATCH).min(users) as i64))
            .bind(("hash", hash.clone()))
            .bind(("now", now))
            .await
            .unwrap()
            .check()
            .unwrap();
            if from % 100_000 == 0 {
                eprintln!("    {from} accounts written");
            }
        }
        let code_key = dynamic_otp::server::code_key::load_code_key(&config, 0).unwrap();
        // Challenge keys are 64 hex digits, like the tokens the server makes.
        let keys: Vec<String> = (0..challenges).map(|i| format!("5c{i:062x}")).collect();
        for (n, chunk) in keys.chunks(BATCH).enumerate() {
            let macs: Vec<String> = chunk.iter().map(|k| code_key.mac(k, "123456")).collect();
            db.query(
                "FOR $n IN 0..$count {
                     LET $i = $from + $n;
                     CREATE type::record('otp_challenge', $keys[$n]) CONTENT {
                         account: type::record('user', 's' + <string>$i), purpose: 'sign_in',
                         phone: '+91' + <string>(9500000000 + $i), code_mac: $macs[$n],
                         attempts: 0, consumed: false, created_at: $now,
                         expires_at: $now + 3600000, resend_after: $now, sends: 1,
                         language: 'en', username: 'scale_user_' + <string>$i,
                         guard: type::record('login_guard', 'scale_user_' + <string>$i),
                         masked_phone: '+91******0000', phone_range: '+9195'
                     };
                 }",
            )
            .bind(("count", chunk.len() as i64))
            .bind(("from", (n * BATCH) as i64))
            .bind(("keys", chunk.to_vec()))
            .bind(("macs", macs))
            .bind(("now", now))
            .await
            .unwrap()
            .check()
            .unwrap();
        }
        let seed_secs = started.elapsed().as_secs_f64();
        eprintln!("    {users} accounts and {challenges} challenges in {seed_secs:.0} s");
        // The store may still be compacting what was just written, in this process. Right after
        // seeding, the engine's rate spread 1714–5914/s between runs.
        let store_settle = settled(std::process::id()).await;
        let engine = engine_rate(&db, workers, Duration::from_secs(5)).await;
        (seed_secs, store_settle, engine, keys)
    };
    // The embedded store shuts down in the background once its last handle is gone; the server
    // opens it once that is over (it has written out what it held), as after an import.
    store_closed(&root.join("scale/app.db/LOCK")).await;
    let (server, base, startup) = start_server(&settings).await;
    let bench = Arc::new(Bench {
        base,
        http: super::client(),
        sink: Arc::default(),
        server,
    });
    let settle = settled(bench.pid()).await;
    tokio::time::sleep(IDLE_WAIT).await;
    let (idle_rss, _) = memory_mib(bench.pid());
    // Its own memory against pages of mapped files (the binary, and whatever the store maps).
    let (idle_own, idle_files) = resident_split(bench.pid());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (hash_rate, _) = argon2_rate(&config, cores, Duration::from_secs(5));
    // Accounts spread over the whole table, each from its own address.
    let spread = move |i: usize| i.wrapping_mul(7919) % users;
    let (signin_rate, _) = sign_ins(&bench, workers, for_, spread, scale_username).await;
    // Addresses after the accounts', so the checks share no counter with the sign-ins.
    let (verify_rate, _) = code_checks(&bench, Arc::new(keys), workers, users).await;
    json!({
        "users": users, "open_challenges": challenges, "seed_secs": seed_secs,
        "startup_ms": startup.as_secs_f64() * 1000.0, "settle_secs": settle.as_secs_f64(),
        "store_settle_secs": store_settle.as_secs_f64(),
        "idle_rss_mib": idle_rss, "idle_own_mib": idle_own, "idle_files_mib": idle_files,
        "argon2_raw_per_sec": hash_rate, "signins_per_sec": signin_rate,
        "signin_ratio": signin_rate / hash_rate,
        "engine_updates_per_sec": engine, "verifications_per_sec": verify_rate,
        "verify_ratio": verify_rate / engine,
    })
}

/// Waits until no one holds the store's lock file: the store shuts down in the background, and
/// releases it last.
async fn store_closed(lock: &Path) {
    use std::os::fd::AsRawFd;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if let Ok(file) = std::fs::File::open(lock) {
            // SAFETY: flock on a descriptor this function owns; the lock goes with the file.
            let free = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if free {
                eprintln!(
                    "    store closed after {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the seeded store is still open after 120 s");
}
