//! Two app instances on one real SurrealDB server (built from crates.io by
//! scripts/surreal-server.sh), and an instance whose database goes away and comes back.
//! Ignored without a server (`needs SURREAL_BIN`); scripts/cluster-test.sh builds one and runs
//! them with `--ignored`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use super::*;

/// Each test runs two to three servers and a database; on two cores, side by side they would
/// starve each other past the readiness probe's 2 s deadline.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A SurrealDB server process on loopback.
struct Surreal {
    child: Child,
    port: u16,
}

impl Surreal {
    /// The server binary; these tests are `#[ignore]`d, so reaching here without one is an
    /// error, not a pass.
    fn binary() -> PathBuf {
        std::env::var_os("SURREAL_BIN")
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .expect(
                "SURREAL_BIN must name a SurrealDB server binary; \
                 ./scripts/cluster-test.sh builds one and runs these tests",
            )
    }

    /// `store` is `memory` or `surrealkv://<path>`.
    async fn start(binary: &PathBuf, port: u16, store: &str) -> Surreal {
        // Owned before the wait, so a panic below still stops the process (Drop).
        let server = Surreal {
            child: Command::new(binary)
                .args(["start", "--user", "root", "--pass", "root", "--bind"])
                .arg(format!("127.0.0.1:{port}"))
                .arg(store)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("surreal starts"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let health = reqwest::get(format!("http://127.0.0.1:{port}/health")).await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("SurrealDB server did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Surreal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn instance_env(db: &Surreal, sms: &Gateway, database: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DOTP_DATABASE_URL", db.url()),
        ("DOTP_DATABASE_USER", "root".into()),
        ("DOTP_DATABASE_PASS", "root".into()),
        ("DOTP_DATABASE_NS", "cluster".into()),
        ("DOTP_DATABASE_DB", database.into()),
        ("DOTP_SMS_PROVIDER", "webhook".into()),
        ("DOTP_SMS_WEBHOOK_URL", format!("{}/sms", sms.base)),
        ("DOTP_LIMIT_PHONE_PER_HOUR", "3".into()),
    ]
}

async fn signed_in_as(client: &reqwest::Client, base: &str) -> Option<String> {
    let res = post(client, base, "current_user", &[]).await;
    assert_eq!(res.status(), 200);
    res.json::<Option<SignedInUser>>()
        .await
        .unwrap()
        .map(|u| u.username)
}

#[tokio::test]
#[ignore = "needs SURREAL_BIN"]
async fn two_instances_on_one_surrealdb_server_share_every_piece_of_state() {
    let binary = Surreal::binary();
    let _alone = ONE_AT_A_TIME.lock().await;
    let db = Surreal::start(&binary, free_port(), "memory").await;
    let sms = Gateway::start(StatusCode::OK).await;
    let env = instance_env(&db, &sms, "two_instances");
    // Started together: both apply the schema at once.
    let (a, b) = tokio::join!(
        ServerBuilder::new().envs(&env).start(),
        ServerBuilder::new().envs(&env).start()
    );
    let (a, b) = (a.base.clone(), b.base.clone());
    let raj = &SEED[0];
    let code_of_last = || code_in(&sms.messages().last().unwrap().1);
    // One browser behind a load balancer: its cookies go to whichever instance answers.
    let browser = browser();

    // Register on A, verify the phone on B.
    let form = raj.registration();
    assert_eq!(post(&browser, &a, "register", &form).await.status(), 200);
    let code = code_of_last();
    assert_eq!(
        post(&browser, &b, "verify_code", &[("code", &code)])
            .await
            .status(),
        200
    );
    assert_eq!(
        signed_in_as(&browser, &a).await.as_deref(),
        Some(raj.username)
    );

    // Sign in on A, enter the code on B; the session is good on A too.
    let other = super::browser();
    let password = [("username", raj.username), ("password", raj.password)];
    assert_eq!(post(&other, &a, "login", &password).await.status(), 200);
    let code = code_of_last();
    assert_eq!(
        post(&other, &b, "verify_code", &[("code", &code)])
            .await
            .status(),
        200
    );
    assert_eq!(
        signed_in_as(&other, &a).await.as_deref(),
        Some(raj.username)
    );

    // Signing out on B ends the session on A.
    let status = post(&other, &b, "logout", &[]).await.status();
    assert!(status.is_success() || status.is_redirection(), "{status}");
    assert_eq!(signed_in_as(&other, &a).await, None);
    assert_eq!(
        signed_in_as(&browser, &a).await.as_deref(),
        Some(raj.username),
        "only that one"
    );

    // The per-phone sign-in limit (3 an hour here; the account's verification code counts
    // apart) counts sends through both: 1 so far, then B, A, and B is refused.
    assert_eq!(
        post(&super::browser(), &b, "login", &password)
            .await
            .status(),
        200
    );
    assert_eq!(
        post(&super::browser(), &a, "login", &password)
            .await
            .status(),
        200
    );
    let refused = post(&super::browser(), &b, "login", &password).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(sms.messages().len(), 4, "no fifth code left the building");

    // A passkey ceremony begun on A is found on B (a forged answer is judged, 401, not unknown,
    // 410), and once taken there it is gone on A too.
    let passkey = super::browser();
    let start = post(&passkey, &a, "passkey_sign_in_start", &[]).await;
    assert_eq!(start.status(), 200);
    let ceremony: dynamic_otp::model::PasskeyCeremony = start.json().await.unwrap();
    let forged = forged_passkey_assertion();
    let answer = [
        ("key", ceremony.key.as_str()),
        ("credential", forged.as_str()),
    ];
    let on_b = post(&passkey, &b, "passkey_sign_in_finish", &answer).await;
    assert_eq!(on_b.status(), 401, "B found A's ceremony");
    let on_a = post(&passkey, &a, "passkey_sign_in_finish", &answer).await;
    assert_eq!(on_a.status(), 410, "taken once, across instances");
}

#[tokio::test]
#[ignore = "needs SURREAL_BIN"]
async fn readyz_follows_the_database_away_and_back_while_healthz_keeps_answering() {
    let binary = Surreal::binary();
    let _alone = ONE_AT_A_TIME.lock().await;
    let dir = std::env::temp_dir().join(format!("dotp-readyz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = format!("surrealkv://{}", dir.join("surreal").display());
    let port = free_port();
    let db = Surreal::start(&binary, port, &store).await;
    let sms = Gateway::start(StatusCode::OK).await;
    let env = instance_env(&db, &sms, "readiness");
    let app = ServerBuilder::new().envs(&env).start().await;
    let client = api_client();
    let probe = |path: &'static str| {
        let client = client.clone();
        let url = format!("{}{path}", app.base);
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    let until = |want: u16| {
        let probe = &probe;
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if probe("/readyz").await == want {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            false
        }
    };
    assert!(until(200).await, "ready once started");

    db.kill();
    assert!(until(503).await, "unready once the database is gone");
    assert_eq!(probe("/healthz").await, 200, "the process still answers");

    let db = Surreal::start(&binary, port, &store).await;
    assert!(until(200).await, "ready again once the database is back");
    drop(db);
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}
