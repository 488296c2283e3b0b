//! The benchmark suite: the real server binary in a process of its own on the on-disk embedded
//! store, a loopback SMS gateway, and this process as the load generator, so the server's
//! memory is its own. Every figure is a ratio to a limit measured in the same run on the same
//! machine. Run with `./scripts/bench.sh` (a release build); it prints a table and writes
//! `target/bench/results.json`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};
use axum::routing::post;
use axum::Router;
use dynamic_otp::model::CodePurpose;
use dynamic_otp::server::auth::otp::CodeKey;
use dynamic_otp::server::config::Sources;
use dynamic_otp::server::db::otp_challenge::{NewChallenge, SignInAs};
use dynamic_otp::server::db::user::{self, NewUser};
use dynamic_otp::server::db::Db;
use dynamic_otp::server::db::{login_guard, rate_counter, transactions};
use dynamic_otp::server::settings::Config;
use serde_json::{json, Value};

#[path = "load/floor.rs"]
mod floor;
#[path = "load/scale.rs"]
mod scale;

const PASSWORD: &str = "bench-password-1";
const SEEDED_USERS: usize = 16;
/// Records for the engine's own update rate: more than it can update in the phase.
const OPS: usize = 20_000;
/// Challenges for the verify phase.
const CHALLENGES: usize = 4_000;

fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// Fields of `/proc/<pid>/status` given in kB, in MiB (NaN where absent).
fn status_mib<const N: usize>(pid: u32, names: [&str; N]) -> [f64; N] {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    names.map(|name| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    })
}

/// Resident memory of process `pid` now and at its peak since the last reset, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let [now, peak] = status_mib(pid, ["VmRSS:", "VmHWM:"]);
    (now, peak)
}

/// The server frees hashing memory unused for 10 s, looking every 5 s (`server::memory`):
/// "idle" is read once that has had time to happen.
const IDLE_WAIT: Duration = Duration::from_secs(16);

/// Resident memory of `pid` split into its own (anonymous) pages and pages of mapped files (the
/// binary's code, shared with the page cache), in MiB.
fn resident_split(pid: u32) -> (f64, f64) {
    let [own, files] = status_mib(pid, ["RssAnon:", "RssFile:"]);
    (own, files)
}

/// CPU seconds (user + system) the process `pid` has used so far, from the kernel's own
/// accounting, so the load generator's CPU is not counted against the server.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3, the state;
    // utime and stime are fields 14 and 15, in clock ticks.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |n: usize| fields.get(n - 3).and_then(|t| t.parse::<f64>().ok());
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    match (ticks(14), ticks(15)) {
        (Some(user), Some(system)) => (user + system) / per_second,
        _ => f64::NAN,
    }
}

fn reset_peak_memory(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Password sign-ins for `for_`: the `i`th as user `user(i)` (named by `name`), from that
/// user's own address. Returns successes per second and their latencies.
async fn sign_ins(
    b: &Arc<Bench>,
    workers: usize,
    for_: Duration,
    user: impl Fn(usize) -> usize + Copy + Send + Sync + 'static,
    name: fn(usize) -> String,
) -> (f64, Vec<Duration>) {
    let b = b.clone();
    closed_loop(workers, for_, usize::MAX, move |i| {
        let b = b.clone();
        async move {
            let u = user(i);
            let form = [("username", name(u)), ("password", PASSWORD.to_string())];
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post(u, "login", &form).await.status() == 200
        }
    })
    .await
}

/// Right codes for the challenges `keys` (code 123456) for up to 5 s, each from an address of
/// its own counted from `first_address`.
async fn code_checks(
    b: &Arc<Bench>,
    keys: Arc<Vec<String>>,
    workers: usize,
    first_address: usize,
) -> (f64, Vec<Duration>) {
    let b = b.clone();
    closed_loop(workers, Duration::from_secs(5), keys.len(), move |i| {
        let (b, keys) = (b.clone(), keys.clone());
        async move {
            let Some(key) = keys.get(i) else {
                return false;
            };
            b.http
                .post(format!("{}/api/verify_code", b.base))
                .header("accept", "application/json")
                .header("cookie", format!("otp_challenge={key}"))
                .header("x-forwarded-for", address(first_address + i))
                .form(&[("code", "123456")])
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await
}

/// Raw argon2id verifications per second with the app's parameters, one thread per core, and
/// the CPU seconds one took (this process's CPU over the hashes done).
fn argon2_rate(config: &Config, threads: usize, for_: Duration) -> (f64, f64) {
    let a = &config.argon2;
    let params = Params::new(a.memory_kib, a.iterations, a.parallelism, None).unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_seconds(std::process::id());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (done, params) = (done.clone(), params.clone());
            scope.spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let mut out = [0u8; 32];
                while started.elapsed() < for_ {
                    argon2
                        .hash_password_into(PASSWORD.as_bytes(), b"bench-salt-16byt", &mut out)
                        .unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let hashes = done.load(Ordering::Relaxed) as f64;
    let cpu = cpu_seconds(std::process::id()) - cpu_before;
    (hashes / started.elapsed().as_secs_f64(), cpu / hashes)
}

/// Runs `make(i)` for i = 0, 1, … from `workers` loops for `for_` or until `i` reaches `limit`;
/// returns (successes per second, their latencies).
async fn closed_loop<F, Fut>(
    workers: usize,
    for_: Duration,
    limit: usize,
    make: F,
) -> (f64, Vec<Duration>)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let make = Arc::new(make);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (make, latencies, next) = (make.clone(), latencies.clone(), next.clone());
            tokio::spawn(async move {
                while started.elapsed() < for_ {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= limit {
                        return;
                    }
                    let t = Instant::now();
                    if make(i).await {
                        latencies.lock().unwrap().push(t.elapsed());
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = Arc::try_unwrap(latencies).unwrap().into_inner().unwrap();
    latencies.sort();
    (latencies.len() as f64 / elapsed, latencies)
}

struct Bench {
    base: String,
    http: reqwest::Client,
    sink: Arc<Mutex<Vec<(String, String)>>>,
    server: std::process::Child,
}

impl Bench {
    /// A request as user `i` would make it, from that user's own address.
    async fn post(&self, i: usize, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("accept", "application/json")
            .header("x-forwarded-for", address(i))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    fn code_for(&self, phone: &str) -> String {
        let sink = self.sink.lock().unwrap();
        let (_, message) = sink.iter().rev().find(|(to, _)| to == phone).unwrap();
        let start = message.find("code is ").unwrap() + 8;
        message[start..start + 6].to_string()
    }

    fn pid(&self) -> u32 {
        self.server.id()
    }
}

impl Drop for Bench {
    /// Gracefully: a later phase opens the same store.
    fn drop(&mut self) {
        terminate(&mut self.server);
    }
}

/// A loopback SMS gateway that keeps every message it is given.
async fn sms_gateway() -> (SocketAddr, Arc<Mutex<Vec<(String, String)>>>) {
    let sink: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let gateway = {
        let sink = sink.clone();
        Router::new().route(
            "/sms",
            post(move |body: axum::Json<Value>| {
                let sink = sink.clone();
                async move {
                    let to = body["to"].as_str().unwrap_or_default().to_string();
                    let message = body["message"].as_str().unwrap_or_default().to_string();
                    sink.lock().unwrap().push((to, message));
                    "{}"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sms = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });
    (sms, sink)
}

/// The server's settings for a store in `dir`, without the DOTP_ prefix.
fn settings(dir: &std::path::Path, sms: SocketAddr) -> Vec<(String, String)> {
    [
        (
            "DATABASE_URL",
            format!("surrealkv://{}/app.db", dir.display()),
        ),
        ("DATA_DIR", dir.display().to_string()),
        ("SMS_PROVIDER", "webhook".into()),
        ("SMS_WEBHOOK_URL", format!("http://{sms}/sms")),
        ("DEV_MODE", "false".into()),
        ("COOKIE_SECURE", "false".into()),
        ("OTP_SECRET", "bench-secret-0123456789abcdef0123".into()),
        ("METRICS_ADDR", "off".into()),
        ("LIMIT_PHONE_PER_HOUR", "100000000".into()),
        ("LIMIT_PHONE_PER_DAY", "100000000".into()),
        ("LIMIT_IP_SENDS_PER_HOUR", "100000000".into()),
        ("LIMIT_IP_SIGNINS_PER_10MIN", "100000000".into()),
        // Each user of the bench comes from an address of its own, as behind a proxy; its
        // counters then collide no more than real users' would.
        ("TRUSTED_PROXIES", "127.0.0.1".into()),
        ("PUMPING_MIN_SENDS", "100000000".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The same settings as the server reads them, for what this process does to the store itself.
fn load_config(settings: &[(String, String)], addr: &str) -> Config {
    let settings = settings.to_vec();
    let sources = Sources::new(None, move |key| {
        let key = key.strip_prefix("DOTP_").unwrap_or(key);
        settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    Config::load(&sources, false, addr).unwrap()
}

/// The server measured: `BENCH_SERVER` when set (scripts/bench.sh builds it with the shipped
/// build's own command, so its dependencies' features, and with them its function names and
/// the link order `scripts/link-order.txt` gives them, are those of the binary that ships; a
/// bench build unifies features with the dev-dependencies), else the one built for this bench.
fn server_binary() -> std::ffi::OsString {
    std::env::var_os("BENCH_SERVER").unwrap_or_else(|| env!("CARGO_BIN_EXE_dynamic_otp").into())
}

/// How many of the functions `scripts/link-order.txt` lists the measured server has (read with
/// `nm`). Function names change with the code, so the list goes stale, and the mapped code of
/// figure 6 grows with it: this says when to run `scripts/link-order.py` again.
fn link_order_coverage() -> Value {
    let list = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/link-order.txt"
    ))
    .unwrap_or_default();
    let listed: HashSet<&str> = list
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let symbols = match std::process::Command::new("nm")
        .arg("--defined-only")
        .arg(server_binary())
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        // Without nm the count is unknown, not zero: zero would say the list is stale.
        _ => return json!({"listed": listed.len(), "found": null}),
    };
    let found: HashSet<&str> = symbols
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .filter(|name| listed.contains(name))
        .collect();
    json!({"listed": listed.len(), "found": found.len()})
}

/// Starts the release server binary and waits for `/readyz`; returns it, its address and the
/// time from exec to the first 200.
// The child is returned, and its owner waits for it (`terminate`, `Bench`'s Drop).
#[allow(clippy::zombie_processes)]
async fn start_server(settings: &[(String, String)]) -> (std::process::Child, String, Duration) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut command = std::process::Command::new(server_binary());
    command
        .env("LEPTOS_SITE_ADDR", addr.to_string())
        .env("LEPTOS_SITE_ROOT", site_root())
        .env("LEPTOS_OUTPUT_NAME", "dynamic_otp")
        .env("LEPTOS_ENV", "PROD")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    for (key, value) in settings {
        command.env(format!("DOTP_{key}"), value);
    }
    let base = format!("http://{addr}");
    let probe = reqwest::Client::new();
    let started = Instant::now();
    let mut server = command.spawn().expect("the server binary starts");
    loop {
        let ready = probe.get(format!("{base}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return (server, base, started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = server.kill();
            let _ = server.wait();
            panic!("server never ready");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// SIGTERM, and the wait for the server's graceful exit.
fn terminate(server: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .default_headers(own_page_headers())
        .build()
        .unwrap()
}

/// User `i`'s address, as the trusted proxy (loopback) reports it.
fn address(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

fn username(i: usize) -> String {
    format!("bench_user_{i}")
}

async fn seed_users(bench: &Bench) {
    for i in 0..SEEDED_USERS {
        let phone = format!("+9198{i:08}");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(own_page_headers())
            .build()
            .unwrap();
        let name = username(i);
        let form = [
            ("username", name.as_str()),
            ("full_name", "राज शर्मा"),
            ("phone", phone.as_str()),
            ("email", "bench@example.in"),
            ("password", PASSWORD),
        ];
        let res = client
            .post(format!("{}/api/register", bench.base))
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let code = bench.code_for(&phone);
        let res = client
            .post(format!("{}/api/verify_code", bench.base))
            .header("accept", "application/json")
            .form(&[("code", code.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

/// Challenges with a known code, written straight to the store: the verify phase measures
/// checking codes, not hashing the passwords of thousands of registrations.
async fn seed_challenges(
    db: &Db,
    code_key: &CodeKey,
    numbers: std::ops::Range<usize>,
) -> Vec<String> {
    let now = now_ms();
    let mut keys = Vec::with_capacity(numbers.len());
    for i in numbers {
        let user_key = format!("bv{i}");
        // Challenge keys are 64 hex digits, like the tokens the server makes.
        let key = format!("{i:064x}");
        let phone = format!("+9197{i:08}");
        let user = NewUser {
            key: user_key.clone(),
            username: format!("bench_verify_{i}"),
            full_name: "प्रिया पटेल".into(),
            phone: phone.clone(),
            email: "v@example.in".into(),
            password_hash: "$argon2id$unused".into(),
            language: "en".into(),
        };
        // Named as the server names a new account's phone check (`service::new_challenge`).
        let sign_in_as = SignInAs {
            guard: login_guard::record(&user.username),
            username: user.username.clone(),
            masked_phone: "+91******0000".into(),
            range: "+9197".into(),
        };
        let challenge = NewChallenge {
            code_mac: code_key.mac(&key, "123456"),
            key: key.clone(),
            account: user::record(&user_key),
            purpose: CodePurpose::VerifyPhone,
            phone,
            now,
            expires_at: now + 3_600_000,
            resend_after: now,
            language: "en".into(),
            sign_in_as: Some(sign_in_as),
        };
        transactions::create_with_challenge(db, user, challenge, now, 0)
            .await
            .unwrap();
        keys.push(key);
    }
    keys
}

/// Milliseconds since the Unix epoch, as the server's clock counts them.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The code check's one transaction (`transactions::check_code`, right codes) straight on the
/// store from the same workers: what figure 3 would be without HTTP and the app around it.
async fn check_rate(db: &Db, code_key: &CodeKey, keys: Vec<String>, workers: usize) -> f64 {
    let (db, code_key, keys) = (db.clone(), Arc::new(code_key.clone()), Arc::new(keys));
    let (rate, _) = closed_loop(workers, Duration::from_secs(5), keys.len(), move |i| {
        let (db, code_key, keys) = (db.clone(), code_key.clone(), keys.clone());
        async move {
            let key = &keys[i];
            let now = now_ms();
            let check = transactions::CodeCheck {
                key,
                macs: code_key.macs(key, "123456"),
                max_attempts: 5,
                now,
                ip_counter: rate_counter::window("code_checks_ip", &address(i), 600, now),
                ip_max: 100,
                redemption: transactions::Redemption {
                    session_key: format!("{:064x}", (i + 1) << 40),
                    session_expires_at: now + 3_600_000,
                    ip: address(i),
                    user_agent: "bench".into(),
                    methods: vec!["pwd".into(), "sms".into()],
                },
            };
            let checked = transactions::check_code(&db, check).await.unwrap();
            matches!(checked, transactions::Checked::Right { .. })
        }
    })
    .await;
    rate
}

/// The store's own rate for what a code check must do at least once: a conditional update of
/// one record in a transaction, through the SDK, on the same store.
async fn engine_rate(db: &Db, workers: usize, for_: Duration) -> f64 {
    let db = db.clone();
    // In chunks: one huge transaction is slow to build in this engine.
    for from in (0..OPS).step_by(500) {
        db.query("FOR $i IN $from..$to { CREATE type::record('bench_op', $i) SET used = false; }")
            .bind(("from", from as i64))
            .bind(("to", (from + 500) as i64))
            .await
            .unwrap()
            .check()
            .unwrap();
    }
    eprintln!("    {OPS} records for the engine's own rate written");
    let (rate, _) = closed_loop(workers, for_, OPS, move |i| {
        let db = db.clone();
        async move {
            db.query(
                "BEGIN TRANSACTION;
                 UPDATE type::record('bench_op', $i) SET used = true WHERE used = false;
                 COMMIT TRANSACTION;",
            )
            .bind(("i", i as i64))
            .await
            .map(|mut r| r.take_errors().is_empty())
            .unwrap_or(false)
        }
    })
    .await;
    rate
}

fn gzip_size(bytes: &[u8]) -> usize {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-9")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip on PATH");
    // Feed gzip from another thread while its output is read, or both pipes fill and stall.
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let size = child.wait_with_output().unwrap().stdout.len();
    feeder.join().unwrap().unwrap();
    size
}

/// The built file a served path names. The release server names assets with a content hash
/// (`dynamic_otp.<hash>.css`); a site built without hashes has the plain name.
/// The site the server serves and figure 5 weighs: the shipped one (./scripts/release.sh) when
/// this checkout has it, else the development build's, whose WASM is several times larger.
fn site_root() -> &'static str {
    if std::path::Path::new("target/site-release/pkg").is_dir() {
        "target/site-release"
    } else {
        "target/site"
    }
}

fn site_file(path: &str) -> Vec<u8> {
    let root = site_root();
    let exact = format!("{root}{path}");
    if let Ok(bytes) = std::fs::read(&exact) {
        return bytes;
    }
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let parts: Vec<&str> = name.split('.').collect();
    let plain = match parts.as_slice() {
        [stem, _hash, ext] => format!("{root}{dir}/{stem}.{ext}"),
        _ => exact.clone(),
    };
    std::fs::read(&plain).unwrap_or_else(|e| panic!("{exact} (or {plain}): {e}"))
}

/// JS, WASM and CSS that the page at `path` loads, as its HTML links them: raw and gzip bytes.
async fn page_bytes(bench: &Bench, path: &str) -> Value {
    let html = bench
        .http
        .get(format!("{}{path}", bench.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Every file the HTML names in src= or href=, read from the built site it is served from.
    let linked: Vec<String> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with('/') && !part.starts_with("//"))
        .map(|part| part.split(['?', '#']).next().unwrap_or(part).to_string())
        .filter(|path| {
            [".js", ".wasm", ".css"]
                .iter()
                .any(|ext| path.ends_with(ext))
        })
        .collect();
    let mut rows = serde_json::Map::new();
    let (mut raw_total, mut gzip_total) = (0, 0);
    for kind in ["js", "wasm", "css"] {
        let (mut raw, mut gzip) = (0, 0);
        for path in linked.iter().filter(|p| p.ends_with(&format!(".{kind}"))) {
            let bytes = site_file(path);
            raw += bytes.len();
            gzip += gzip_size(&bytes);
        }
        raw_total += raw;
        gzip_total += gzip;
        rows.insert(kind.into(), json!({"raw": raw, "gzip": gzip}));
    }
    rows.insert(
        "total".into(),
        json!({"raw": raw_total, "gzip": gzip_total}),
    );
    Value::Object(rows)
}

#[tokio::main]
async fn main() {
    floor::serve_bare_sign_in_if_asked().await;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let short = env_secs("BENCH_SECS", 10);
    let overload_for = env_secs("BENCH_OVERLOAD_SECS", 20);
    let (sms, sink) = sms_gateway().await;
    let root = std::env::temp_dir().join(format!("dotp-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);

    // 0. Start-up on an empty store, then the store prepared without the server: the engine's
    // own rate and the challenges of phase 3 (this process opens it, so it is shut meanwhile).
    eprintln!("0/6 start-up on an empty store; the engine's own rate…");
    let (mut empty, _, startup_empty) = start_server(&settings(&root.join("empty"), sms)).await;
    let (empty_idle, _) = memory_mib(empty.id());
    terminate(&mut empty);
    let settings = settings(&root.join("main"), sms);
    let config = load_config(&settings, "127.0.0.1:0");
    let workers = 3 * cores;
    let (engine, keys, transaction, bare, least) = {
        let db = dynamic_otp::server::db::connect(&config.database)
            .await
            .unwrap();
        let engine = engine_rate(&db, workers, Duration::from_secs(5)).await;
        eprintln!("    engine: {engine:.0} conditional-update transactions/s");
        let code_key = dynamic_otp::server::code_key::load_code_key(&config, 0).unwrap();
        let keys = seed_challenges(&db, &code_key, 0..CHALLENGES).await;
        let direct = seed_challenges(&db, &code_key, CHALLENGES..2 * CHALLENGES).await;
        eprintln!("    {} challenges written", 2 * CHALLENGES);
        let transaction = check_rate(&db, &code_key, direct.clone(), workers).await;
        eprintln!("    the code check's transaction alone: {transaction:.0}/s");
        // The same challenges and accounts again: bare writes ask nothing of what they hold.
        let bare =
            floor::bare_writes_rate(&db, direct.clone(), CHALLENGES, workers, floor::Writes::All)
                .await;
        eprintln!("    the records it writes, bare: {bare:.0}/s");
        let least =
            floor::bare_writes_rate(&db, direct, CHALLENGES, workers, floor::Writes::Least).await;
        eprintln!(
            "    the challenge and the session alone, bare: {least:.0}/s ({:.2})",
            least / engine
        );
        drop(db);
        (engine, keys, transaction, bare, least)
    };
    // The embedded store shuts down in the background once its last handle is gone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (server, base, startup_seeded) = start_server(&settings).await;
    let bench = Bench {
        base,
        http: client(),
        sink,
        server,
    };
    eprintln!("seeding {SEEDED_USERS} users…");
    seed_users(&bench).await;
    tokio::time::sleep(IDLE_WAIT).await;
    let (idle_rss, _) = memory_mib(bench.pid());
    let (idle_anon, idle_file) = resident_split(bench.pid());

    // 1. Password sign-ins against the raw hash rate.
    eprintln!("1/6 argon2id raw rate, then password sign-ins…");
    let (hash_rate, hash_cpu) = argon2_rate(&config, cores, Duration::from_secs(5));
    let pid = bench.pid();
    reset_peak_memory(pid);
    let server_cpu_before = cpu_seconds(pid);
    let b = Arc::new(bench);
    let (signin_rate, signin_lat) =
        sign_ins(&b, workers, short, |i| i % SEEDED_USERS, username).await;
    let (_, peak_signin) = memory_mib(pid);
    // Every sign-in answered 200 hashed once; what the server spent beyond that is the rest.
    let signin_cpu = (cpu_seconds(pid) - server_cpu_before) / signin_lat.len().max(1) as f64;
    let outside_argon2 = (signin_cpu - hash_cpu) / hash_cpu;

    // 2. Overload: three times that rate, open loop.
    eprintln!("2/6 overload at 3x…");
    reset_peak_memory(pid);
    let offered = 3.0 * signin_rate;
    let results: Arc<Mutex<Vec<(u16, bool, Duration)>>> = Arc::default();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / offered));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut in_flight = Vec::new();
    let mut i = 0;
    while started.elapsed() < overload_for {
        tick.tick().await;
        i += 1;
        let (b, results) = (b.clone(), results.clone());
        in_flight.push(tokio::spawn(async move {
            let t = Instant::now();
            let name = username(i % SEEDED_USERS);
            let res = b
                .post(
                    i % SEEDED_USERS,
                    "login",
                    &[("username", &name), ("password", PASSWORD)],
                )
                .await;
            let retry_after = res.headers().contains_key("retry-after");
            results
                .lock()
                .unwrap()
                .push((res.status().as_u16(), retry_after, t.elapsed()));
        }));
    }
    for task in in_flight {
        let _ = task.await;
    }
    let (_, peak_overload) = memory_mib(pid);
    let results = results.lock().unwrap().clone();
    let mut shed: Vec<Duration> = results
        .iter()
        .filter(|(s, retry, _)| *s == 503 && *retry)
        .map(|r| r.2)
        .collect();
    let mut accepted: Vec<Duration> = results.iter().filter(|r| r.0 == 200).map(|r| r.2).collect();
    shed.sort();
    accepted.sort();
    let other = results.len() - shed.len() - accepted.len();

    // 3. Code checks against the engine's own conditional-update rate.
    eprintln!("3/6 code verification…");
    let keys = Arc::new(keys);
    reset_peak_memory(pid);
    let (verify_rate, verify_lat) = code_checks(&b, keys.clone(), workers, SEEDED_USERS).await;

    let (_, peak_verify) = memory_mib(pid);

    // 4. Server-rendered /login against a static file from the same server.
    eprintln!("4/6 SSR /login against a static file…");
    let get_rate = |path: &'static str| {
        let b = b.clone();
        closed_loop(workers * 4, Duration::from_secs(5), usize::MAX, move |_| {
            let b = b.clone();
            async move {
                match b.http.get(format!("{}{path}", b.base)).send().await {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                }
            }
        })
    };
    // Static first and last: background work left by the phases before (the store settling
    // thousands of writes) must not count against either side.
    let (first_static, first_lat) = get_rate("/favicon.svg").await;
    let (ssr_rate, ssr_lat) = get_rate("/login").await;
    let (second_static, second_lat) = get_rate("/favicon.svg").await;
    let (static_rate, static_lat) = if first_static >= second_static {
        (first_static, first_lat)
    } else {
        (second_static, second_lat)
    };

    eprintln!("5/6 bytes on /login and on the code step…");
    let bytes = page_bytes(&b, "/login").await;
    let app_bytes = page_bytes(&b, "/verify").await;
    tokio::time::sleep(IDLE_WAIT).await;
    let (after_load_rss, _) = memory_mib(pid);
    // Figure 1's floor: the same requests answered with the hash and nothing else. Last, so
    // that the server's idle time meanwhile changes no other figure; divided by the hash rate
    // measured again right before it, as the machine's speed moves over a run.
    let (floor_hash_rate, floor_hash_cpu) = argon2_rate(&config, cores, Duration::from_secs(5));
    let bare_signin = floor::bare_sign_ins(&b.http, &config.argon2, workers, short, None).await;
    // Then the least a sign-in writes around the same hash, on a store of its own.
    let least_dir = root.join("least");
    let least_signin =
        floor::bare_sign_ins(&b.http, &config.argon2, workers, short, Some(&least_dir)).await;
    eprintln!("6/6 done");
    let mut results = json!({
        "machine": {"cores": cores, "os": std::env::consts::OS},
        "parameters": {
            "argon2": {"memory_kib": config.argon2.memory_kib, "iterations": config.argon2.iterations,
                       "parallelism": config.argon2.parallelism, "max_concurrent": config.argon2.max_concurrent,
                       "max_queue": config.argon2.max_queue},
            "store": "surrealkv (on disk, fsync on commit)",
            "client_workers": workers,
            "phase_secs": short.as_secs(),
            "overload_secs": overload_for.as_secs(),
        },
        "signin": {"argon2_raw_per_sec": hash_rate, "signins_per_sec": signin_rate,
                   "ratio": signin_rate / hash_rate, "p50_ms": percentile(&signin_lat, 0.5),
                   "p99_ms": percentile(&signin_lat, 0.99),
                   "argon2_cpu_ms": hash_cpu * 1000.0, "signin_server_cpu_ms": signin_cpu * 1000.0,
                   "cpu_outside_argon2_share": outside_argon2,
                   "bare_argon2_raw_per_sec": floor_hash_rate, "bare_argon2_cpu_ms": floor_hash_cpu * 1000.0,
                   "bare_per_sec": bare_signin.per_sec, "bare_ratio": bare_signin.per_sec / floor_hash_rate,
                   "bare_server_cpu_ms": bare_signin.cpu_per_request * 1000.0,
                   "bare_cpu_outside_argon2_share": (bare_signin.cpu_per_request - floor_hash_cpu) / floor_hash_cpu,
                   "least_per_sec": least_signin.per_sec, "least_ratio": least_signin.per_sec / floor_hash_rate,
                   "least_server_cpu_ms": least_signin.cpu_per_request * 1000.0,
                   "least_cpu_outside_argon2_share": (least_signin.cpu_per_request - floor_hash_cpu) / floor_hash_cpu},
        "overload": {"offered_per_sec": offered, "requests": results.len(),
                     "shed_share": shed.len() as f64 / results.len().max(1) as f64,
                     "other_answers": other,
                     "shed_p50_ms": percentile(&shed, 0.5), "shed_p99_ms": percentile(&shed, 0.99),
                     "accepted_per_sec": accepted.len() as f64 / overload_for.as_secs_f64(),
                     "accepted_p95_ms": percentile(&accepted, 0.95)},
        "verify": {"engine_updates_per_sec": engine, "verifications_per_sec": verify_rate,
                   "transaction_alone_per_sec": transaction, "transaction_ratio": transaction / engine,
                   "bare_writes_per_sec": bare, "bare_writes_ratio": bare / engine,
                   "least_writes_per_sec": least, "least_writes_ratio": least / engine,
                   "ratio": verify_rate / engine, "p50_ms": percentile(&verify_lat, 0.5),
                   "p99_ms": percentile(&verify_lat, 0.99)},
        "ssr": {"static_per_sec": static_rate, "login_per_sec": ssr_rate, "ratio": ssr_rate / static_rate,
                "static_p50_ms": percentile(&static_lat, 0.5), "static_p99_ms": percentile(&static_lat, 0.99),
                "login_p50_ms": percentile(&ssr_lat, 0.5), "login_p99_ms": percentile(&ssr_lat, 0.99)},
        "site": site_root(),
        "login_bytes": bytes,
        "verify_bytes": app_bytes,
        "memory_mib": {"idle_rss": idle_rss, "idle_anon": idle_anon, "idle_file": idle_file, "idle_rss_empty_store": empty_idle,
                       "peak_signin": peak_signin, "peak_verify": peak_verify, "peak_overload": peak_overload,
                       "peak": peak_signin.max(peak_verify).max(peak_overload), "after_load_rss": after_load_rss,
                       "link_order": link_order_coverage()},
        "startup_ms": {"empty_store": startup_empty.as_secs_f64() * 1000.0,
                       "seeded_store": startup_seeded.as_secs_f64() * 1000.0,
                       "seeded_users": 2 * CHALLENGES, "seeded_other_records": OPS},
        "scale": null,
    });
    let out = std::path::Path::new("target/bench");
    std::fs::create_dir_all(out).unwrap();
    let file = out.join("results.json");
    // Written before figure 9, which takes minutes, and again with it.
    std::fs::write(&file, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    let scale_users = scale::users_asked();
    // The main store's server goes first: one server at a time on these cores.
    drop(b);
    if scale_users > 0 {
        eprintln!("9. {scale_users} accounts straight into a store of their own…");
        results["scale"] = scale::run(sms, &root, scale_users, workers, short).await;
        std::fs::write(&file, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    }
    // The run's stores are of no use after it (the million-account one is near a gigabyte).
    let _ = std::fs::remove_dir_all(&root);
    print_table(&results);
    println!("\nJSON: {}", file.display());
}

fn print_table(r: &Value) {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    println!("\nDynamic OTP benchmark — {} cores, argon2id m={} KiB t={} p={}, store surrealkv (fsync on commit)\n",
        r["machine"]["cores"], r["parameters"]["argon2"]["memory_kib"], r["parameters"]["argon2"]["iterations"],
        r["parameters"]["argon2"]["parallelism"]);
    println!("| # | figure | measured | limit (same run) | ratio | goal |");
    println!("|---|---|---|---|---|---|");
    let s = &r["signin"];
    println!("| 1 | password sign-ins ÷ raw argon2id rate | {:.1}/s (p50 {:.0} ms, p99 {:.0} ms) | {:.1}/s | **{:.2}** | ≥ 0.90 |",
        f(&s["signins_per_sec"]), f(&s["p50_ms"]), f(&s["p99_ms"]), f(&s["argon2_raw_per_sec"]), f(&s["ratio"]));
    println!("| 1b | server CPU per sign-in outside argon2id, as a share of one hash | {:.1} ms per sign-in (server's own CPU) | {:.1} ms per hash | **{:.0}%** | ≤ 10% |",
        f(&s["signin_server_cpu_ms"]), f(&s["argon2_cpu_ms"]), 100.0 * f(&s["cpu_outside_argon2_share"]));
    println!("| 1 | its floor: a bare server that only checks the password, over the same HTTP (last in the run) | {:.1}/s; {:.1} ms of its CPU per sign-in, **{:.0}%** outside the hash ({:.1} ms) | {:.1}/s, measured again before it | **{:.2}** | — |",
        f(&s["bare_per_sec"]), f(&s["bare_server_cpu_ms"]), 100.0 * f(&s["bare_cpu_outside_argon2_share"]),
        f(&s["bare_argon2_cpu_ms"]), f(&s["bare_argon2_raw_per_sec"]), f(&s["bare_ratio"]));
    println!("| 1 | and the least a sign-in writes around the same hash (the attempt counted and the account read before it, the challenge after), on a store of its own | {:.1}/s; {:.1} ms of its CPU per sign-in, **{:.0}%** outside the hash | the same | **{:.2}** | — |",
        f(&s["least_per_sec"]), f(&s["least_server_cpu_ms"]), 100.0 * f(&s["least_cpu_outside_argon2_share"]),
        f(&s["least_ratio"]));
    let o = &r["overload"];
    println!("| 2 | overload at 3× capacity ({:.1}/s offered): shed with 503 + Retry-After | {:.0}% shed, shed p50 {:.1} ms / p99 **{:.1} ms**; accepted {:.1}/s, p95 {:.0} ms | p99 ≤ 50 ms | — | p99 ≤ 50 ms |",
        f(&o["offered_per_sec"]), 100.0 * f(&o["shed_share"]), f(&o["shed_p50_ms"]), f(&o["shed_p99_ms"]),
        f(&o["accepted_per_sec"]), f(&o["accepted_p95_ms"]));
    let v = &r["verify"];
    println!("| 3 | code verifications ÷ engine's conditional-update transactions | {:.0}/s (p50 {:.1} ms, p99 {:.1} ms); its one transaction alone {:.0}/s ({:.2}); the records it writes, bare, {:.0}/s ({:.2}); the challenge used and the session made, bare, {:.0}/s ({:.2}) | {:.0}/s | **{:.2}** | ≥ 0.50 |",
        f(&v["verifications_per_sec"]), f(&v["p50_ms"]), f(&v["p99_ms"]), f(&v["transaction_alone_per_sec"]),
        f(&v["transaction_ratio"]), f(&v["bare_writes_per_sec"]), f(&v["bare_writes_ratio"]),
        f(&v["least_writes_per_sec"]), f(&v["least_writes_ratio"]),
        f(&v["engine_updates_per_sec"]), f(&v["ratio"]));
    let s = &r["ssr"];
    println!("| 4 | SSR /login ÷ static file, same server | {:.0}/s (p50 {:.1} ms, p99 {:.1} ms) | {:.0}/s (p50 {:.1} ms, p99 {:.1} ms) | **{:.2}** | ≥ 0.30 |",
        f(&s["login_per_sec"]), f(&s["login_p50_ms"]), f(&s["login_p99_ms"]), f(&s["static_per_sec"]),
        f(&s["static_p50_ms"]), f(&s["static_p99_ms"]), f(&s["ratio"]));
    let (b, v) = (&r["login_bytes"], &r["verify_bytes"]);
    println!("| 5 | bytes a page loads (JS + WASM + CSS; every page loads the one islands bundle), from {} | /login: raw {} B, gzip **{} B** (JS {} / WASM {} / CSS {} gzip); /verify: gzip {} B (JS {} / WASM {} / CSS {}) | — | — | ≤ 100 KB gzip JS+WASM on every page |",
        r["site"].as_str().unwrap_or("?"), b["total"]["raw"], b["total"]["gzip"], b["js"]["gzip"], b["wasm"]["gzip"], b["css"]["gzip"],
        v["total"]["gzip"], v["js"]["gzip"], v["wasm"]["gzip"], v["css"]["gzip"]);
    let m = &r["memory_mib"];
    println!("| 6 | resident memory of the server process alone | idle **{:.0} MiB** ({:.0} own + {:.0} of the binary's mapped code, {} of the {} functions scripts/link-order.txt lists found in it; {:.0} MiB on an empty store); peak **{:.0} MiB** (sign-ins {:.0}, overload {:.0}, code checks {:.0}); {:.0} MiB after the load | — | — | idle ≤ 64 MiB, peak ≤ 192 MiB |",
        f(&m["idle_rss"]), f(&m["idle_anon"]), f(&m["idle_file"]), m["link_order"]["found"], m["link_order"]["listed"],
        f(&m["idle_rss_empty_store"]), f(&m["peak"]), f(&m["peak_signin"]),
        f(&m["peak_overload"]), f(&m["peak_verify"]), f(&m["after_load_rss"]));
    let t = &r["startup_ms"];
    println!("| 7 | start-up: exec to /readyz 200 on the embedded store | empty store **{:.0} ms**; {} users and {} other records **{:.0} ms** | — | — | ≤ 300 ms empty |",
        f(&t["empty_store"]), t["seeded_users"], t["seeded_other_records"], f(&t["seeded_store"]));
    let sc = &r["scale"];
    if !sc.is_null() {
        let (signin, verify) = (f(&sc["signin_ratio"]), f(&sc["verify_ratio"]));
        println!("| 9 | at scale: {} accounts and {} open challenges, seeded straight into the store in {:.0} s, which settled in {:.0} s before the engine's rate | start-up **{:.0} ms**; the server settled in {:.0} s, then idle {:.0} MiB ({:.0} own + {:.0} of mapped files); sign-ins {:.1}/s ÷ argon2id {:.1}/s = {:.2}; code checks {:.0}/s ÷ engine {:.0}/s = {:.2} | figures 1 and 3 on the small store | sign-ins **{:.2}**, code checks **{:.2}** of the small store's ratios | ≥ 0.90 of them; start-up ≤ 1 s |",
            sc["users"], sc["open_challenges"], f(&sc["seed_secs"]), f(&sc["store_settle_secs"]), f(&sc["startup_ms"]), f(&sc["settle_secs"]), f(&sc["idle_rss_mib"]),
            f(&sc["idle_own_mib"]), f(&sc["idle_files_mib"]),
            f(&sc["signins_per_sec"]), f(&sc["argon2_raw_per_sec"]), signin, f(&sc["verifications_per_sec"]),
            f(&sc["engine_updates_per_sec"]), verify, signin / f(&r["signin"]["ratio"]), verify / f(&r["verify"]["ratio"]));
    }
}

/// What a browser sends with a POST from the site's own pages; the server refuses POSTs
/// without it (or a matching Origin).
fn own_page_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    headers
}
