//! Durability: the real server binary on the on-disk embedded store, killed with SIGKILL in the
//! middle of a burst of registrations, restarted. Everything it said was saved is there and
//! works; nothing is half-written; sessions outlive restarts and sign-outs stay final.
//! `CRASH_ROUNDS` (default 3) and `CRASH_REGISTRATIONS` (default 1000) size it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

use dynamic_otp::server::config::DatabaseConfig;
use rand::Rng as _;
use surrealdb::types::SurrealValue;

use super::*;

const CONCURRENCY: usize = 50;

struct Setup {
    dir: PathBuf,
    port: u16,
    sms: Gateway,
}

impl Setup {
    /// An empty store folder of its own, a free port and a gateway that takes every SMS.
    async fn fresh(name: &str) -> Setup {
        let dir = std::env::temp_dir().join(format!("dotp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Setup {
            dir,
            port: free_port(),
            sms: Gateway::start(StatusCode::OK).await,
        }
    }

    fn start(&self) -> ServerProcess {
        ServerBuilder::new()
            .dir(&self.dir)
            .port(self.port)
            .env(
                "DOTP_DATABASE_URL",
                format!("surrealkv://{}", self.store().display()),
            )
            .env("DOTP_SMS_PROVIDER", "webhook")
            .env("DOTP_SMS_WEBHOOK_URL", format!("{}/sms", self.sms.base))
            .env("DOTP_OTP_SECRET", "crash-test-secret-0123456789abcdef")
            .env("DOTP_LIMIT_PHONE_PER_HOUR", "1000")
            .env("DOTP_LIMIT_PHONE_PER_DAY", "1000")
            .env("DOTP_LIMIT_IP_SENDS_PER_HOUR", "1000000")
            .env("DOTP_LIMIT_IP_SIGNINS_PER_10MIN", "1000000")
            .env("DOTP_LIMIT_IP_CODE_CHECKS_PER_10MIN", "1000000")
            .env("DOTP_PUMPING_MIN_SENDS", "1000000")
            .env("DOTP_ARGON2_MAX_QUEUE", "1000")
            .env("RUST_LOG", "error")
            .stderr(Stdio::inherit())
            .spawn()
    }

    fn store(&self) -> PathBuf {
        self.dir.join("app.db")
    }
}

/// The crash test's client for a server.
fn api_of(server: &ServerProcess) -> Api {
    Api {
        base: server.base.clone(),
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn phone_of(round: usize, i: usize) -> String {
    format!("+9197{round:02}{i:06}")
}

fn username_of(round: usize, i: usize) -> String {
    format!("crash_{round}_{i}")
}

/// The newest code the SMS sink got for `phone`.
fn code_for(sms: &Gateway, phone: &str) -> Option<String> {
    sms.messages()
        .into_iter()
        .rev()
        .find(|(to, _)| to == phone)
        .map(|(_, message)| code_in(&message))
}

/// Registers and verifies users `0..count` of `round`, 50 at a time, until killed.
/// Returns who got a success answer to registering, and to verifying.
async fn burst(
    base: String,
    sms: Gateway,
    round: usize,
    count: usize,
    registered: Arc<Mutex<BTreeSet<usize>>>,
    verified: Arc<Mutex<BTreeSet<usize>>>,
) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (base, sms, next) = (base.clone(), sms.clone(), next.clone());
            let (registered, verified) = (registered.clone(), verified.clone());
            tokio::spawn(async move {
                let server = Api { base };
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= count {
                        return;
                    }
                    let client = browser();
                    let (username, phone) = (username_of(round, i), phone_of(round, i));
                    let form = [
                        ("username", username.as_str()),
                        ("full_name", "राज शर्मा"),
                        ("phone", phone.as_str()),
                        ("email", "crash@example.in"),
                        ("password", "crash-test-password"),
                    ];
                    match server.call(&client, "register", &form).await {
                        Some(200) => {
                            registered.lock().unwrap().insert(i);
                        }
                        Some(_) => continue,
                        None => return, // the server is gone
                    }
                    let Some(code) = code_for(&sms, &phone) else {
                        continue;
                    };
                    match server
                        .call(&client, "verify_code", &[("code", &code)])
                        .await
                    {
                        Some(200) => {
                            verified.lock().unwrap().insert(i);
                        }
                        Some(_) => {}
                        None => return,
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
}

/// Calls to a running server, by its address.
struct Api {
    base: String,
}

impl Api {
    /// A call that must succeed.
    async fn ok(&self, client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) {
        assert_eq!(
            self.call(client, endpoint, form).await,
            Some(200),
            "{endpoint}"
        );
    }

    async fn call(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Option<u16> {
        client
            .post(format!("{}/api/{endpoint}", self.base))
            .header(ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }
}

/// Whether `username` can sign in, and whether its code is a sign-in code (verified phone).
async fn signs_in(base: &str, username: &str) -> (u16, Option<String>) {
    let client = browser();
    let server = Api {
        base: base.to_string(),
    };
    let status = server
        .call(
            &client,
            "login",
            &[("username", username), ("password", "crash-test-password")],
        )
        .await
        .unwrap();
    let purpose = client
        .post(format!("{base}/api/code_status"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["purpose"].as_str().map(str::to_string));
    (status, purpose)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_loses_no_answered_registration_and_sessions_outlive_restarts() {
    let rounds = env_number("CRASH_ROUNDS", 3);
    let count = env_number("CRASH_REGISTRATIONS", 1000);
    let setup = Setup::fresh("crash").await;
    let mut all_registered = Vec::new();
    for round in 0..rounds {
        let server = setup.start().ready().await;
        let registered = Arc::new(Mutex::new(BTreeSet::new()));
        let verified = Arc::new(Mutex::new(BTreeSet::new()));
        let work = tokio::spawn(burst(
            server.base.clone(),
            setup.sms.clone(),
            round,
            count,
            registered.clone(),
            verified.clone(),
        ));
        // Kill mid-burst: after a random number of answers, at a random instant after that.
        let started = Instant::now();
        let answers = rand::thread_rng().gen_range(5..=(count / 2).clamp(5, 150));
        while registered.lock().unwrap().len() < answers
            && started.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rand::thread_rng().gen_range(0..250))).await;
        let kill_after = started.elapsed();
        server.kill_9();
        let _ = work.await;
        let registered = registered.lock().unwrap().clone();
        let verified = verified.lock().unwrap().clone();
        eprintln!(
            "round {round}: killed after {kill_after:?}; {} registrations and {} verifications answered",
            registered.len(),
            verified.len()
        );

        // Every answered registration is there and can sign in; every answered verification
        // left a verified phone (its code is a sign-in code, not a phone check).
        let server = setup.start().ready().await;
        for &i in &registered {
            let (status, purpose) = signs_in(&server.base, &username_of(round, i)).await;
            assert_eq!(
                status, 200,
                "round {round}: user {i} was told it registered"
            );
            if verified.contains(&i) {
                assert_eq!(
                    purpose.as_deref(),
                    Some("SignIn"),
                    "round {round}: user {i} was verified"
                );
            }
        }
        all_registered.push(registered);
        server.kill_9();
    }

    // Sessions outlive a clean stop and a kill; a sign-out stays final after a kill.
    let server = setup.start().ready().await;
    let client = browser();
    let (username, phone) = ("crash_session", "+919799999999");
    let form = [
        ("username", username),
        ("full_name", "प्रिया पटेल"),
        ("phone", phone),
        ("email", "s@example.in"),
        ("password", "crash-test-password"),
    ];
    api_of(&server).ok(&client, "register", &form).await;
    let code = code_for(&setup.sms, phone).unwrap();
    api_of(&server)
        .ok(&client, "verify_code", &[("code", &code)])
        .await;
    let other = browser();
    api_of(&server)
        .ok(
            &other,
            "login",
            &[("username", username), ("password", "crash-test-password")],
        )
        .await;
    let code = code_for(&setup.sms, phone).unwrap();
    api_of(&server)
        .ok(&other, "verify_code", &[("code", &code)])
        .await;
    let signed_in = |base: String, client: reqwest::Client| async move {
        let user: Option<SignedInUser> = client
            .post(format!("{base}/api/current_user"))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        user.is_some()
    };
    let status = server.terminate();
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
    let server = setup.start().ready().await;
    assert!(
        signed_in(server.base.clone(), client.clone()).await,
        "after SIGTERM"
    );
    server.kill_9();
    let server = setup.start().ready().await;
    assert!(
        signed_in(server.base.clone(), client.clone()).await,
        "after kill -9"
    );
    api_of(&server).ok(&other, "logout", &[]).await;
    server.kill_9();
    let server = setup.start().ready().await;
    assert!(
        !signed_in(server.base.clone(), other.clone()).await,
        "signed out stays signed out"
    );
    assert!(signed_in(server.base.clone(), client.clone()).await);
    let status = server.terminate();
    assert!(status.success(), "a clean exit on SIGTERM: {status}");

    // Nothing half-written: read the store itself.
    let db = dynamic_otp::server::db::connect(&DatabaseConfig {
        url: format!("surrealkv://{}", setup.store().display()),
        namespace: "dynamic_otp".into(),
        database: "main".into(),
        user: None,
        pass: Default::default(),
        store_bounds: Default::default(),
    })
    .await
    .unwrap();
    check_store(&db, &all_registered).await;
    drop(db);
    let _ = std::fs::remove_dir_all(&setup.dir);
}

/// Every stored user is whole, an unverified one still has the challenge it was created with,
/// and every user that was told it registered is there.
async fn check_store(db: &Db, registered: &[BTreeSet<usize>]) {
    let mut res = db
        .query(
            "SELECT username, phone, phone_verified, password_hash FROM user;
             SELECT VALUE id FROM user WHERE phone_verified = false;
             SELECT VALUE account FROM otp_challenge;",
        )
        .await
        .unwrap()
        .check()
        .unwrap();
    let users: Vec<StoredUser> = res.take(0).unwrap();
    let unverified: Vec<surrealdb::types::RecordId> = res.take(1).unwrap();
    let with_challenge: Vec<surrealdb::types::RecordId> = res.take(2).unwrap();
    let orphans: Vec<_> = unverified
        .iter()
        .filter(|id| !with_challenge.contains(id))
        .collect();
    assert!(
        orphans.is_empty(),
        "unverified users without their challenge: {orphans:?}"
    );
    for user in &users {
        assert!(
            user.password_hash.starts_with("$argon2id$"),
            "{}",
            user.username
        );
        assert!(user.phone.starts_with("+91") && !user.username.is_empty());
    }
    let names: BTreeSet<&str> = users.iter().map(|u| u.username.as_str()).collect();
    for (round, answered) in registered.iter().enumerate() {
        for &i in answered {
            assert!(names.contains(username_of(round, i).as_str()));
        }
    }
    let verified = users.iter().filter(|u| u.phone_verified).count();
    eprintln!(
        "store: {} users, {verified} verified, none half-written",
        users.len()
    );
}

#[derive(SurrealValue)]
struct StoredUser {
    username: String,
    phone: String,
    phone_verified: bool,
    password_hash: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_answers_every_request_already_sent() {
    let setup = Setup::fresh("sigterm").await;
    let server = setup.start().ready().await;
    let base = server.base.clone();
    // 40 registrations, each a password hash: on 2 cores most are still waiting at SIGTERM,
    // some not yet taken from the listen backlog.
    let burst: Vec<_> = (0..40)
        .map(|i| {
            let base = base.clone();
            tokio::spawn(async move {
                let (username, phone) = (format!("term_{i}"), format!("+919600{i:06}"));
                let form = [
                    ("username", username.as_str()),
                    ("full_name", "अमित कुमार"),
                    ("phone", phone.as_str()),
                    ("email", "t@example.in"),
                    ("password", "crash-test-password"),
                ];
                let res = api_client()
                    .post(format!("{base}/api/register"))
                    .header(ACCEPT, "application/json")
                    .form(&form)
                    .send()
                    .await
                    .expect("a request sent before SIGTERM gets an answer");
                let status = res.status().as_u16();
                (status, res.text().await.expect("the whole answer"))
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = tokio::task::spawn_blocking(move || {
        let status = server.terminate();
        assert!(status.success(), "a clean exit on SIGTERM: {status}");
    });
    // Within the 2 s drain the load balancer is told to go away. Polled: on a busy machine the
    // signal can take a moment to be handled.
    let mut draining = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
        if ready.status() == 503 {
            draining = true;
            break;
        }
    }
    assert!(draining, "draining: /readyz answers 503");
    let mut created = 0;
    for request in burst {
        let (status, body) = request.await.unwrap();
        assert!(status == 200 || status == 503, "{status}: {body}");
        created += usize::from(status == 200);
    }
    stopping.await.unwrap();
    eprintln!("SIGTERM mid-burst: {created} of 40 registrations made, every one answered");
    let _ = std::fs::remove_dir_all(&setup.dir);
}
