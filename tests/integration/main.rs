//! The whole flow over real HTTP: the real server on a free port, the in-memory SurrealDB engine,
//! real argon2, and loopback HTTP servers playing the SMS providers. One binary on purpose:
//! each test binary is another long link.
#![cfg(feature = "ssr")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use axum::Router;
use dynamic_otp::error::{AppError, Problem};
use dynamic_otp::i18n::Locale;
use dynamic_otp::model::SignedInUser;
use dynamic_otp::server::clock::Clock;
use dynamic_otp::server::config::{Config, Sources};
use dynamic_otp::server::db::{sessions, users, Db};
use dynamic_otp::server::web::{build_state, router};
use leptos::config::LeptosOptions;
use reqwest::header::{ACCEPT, COOKIE, SET_COOKIE};

/// One request as a loopback provider received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: HeaderMap,
    body: String,
    /// The status the gateway answered with.
    answered: u16,
}

/// What the gateway answers: a status, a body, after a delay.
#[derive(Debug, Clone)]
struct Reply {
    status: StatusCode,
    body: String,
    delay: Duration,
}

/// A loopback HTTP server that plays an SMS provider: records every request, answers with the
/// current `Reply`.
#[derive(Clone)]
struct Gateway {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
    reply: Arc<Mutex<Reply>>,
    normal: Reply,
}

type GatewayState = (Arc<Mutex<Vec<Received>>>, Arc<Mutex<Reply>>);

impl Gateway {
    async fn start(success: StatusCode) -> Gateway {
        Gateway::answering(success, "{\"sid\":\"SM123\",\"status\":\"queued\"}").await
    }

    /// A gateway whose success answer is `body`.
    async fn answering(status: StatusCode, body: &str) -> Gateway {
        let normal = Reply {
            status,
            body: body.to_string(),
            delay: Duration::ZERO,
        };
        let received = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(Mutex::new(normal.clone()));
        let app = Router::new()
            .route("/{*path}", any(record))
            .with_state((received.clone(), reply.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Gateway {
            base: format!("http://{addr}"),
            received,
            reply,
            normal,
        }
    }

    /// Requests it answered with success.
    fn all(&self) -> Vec<Received> {
        self.tried()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Every request, whatever it was answered.
    fn tried(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Webhook messages as (to, message).
    fn messages(&self) -> Vec<(String, String)> {
        self.all()
            .iter()
            .map(|r| {
                let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                (
                    json["to"].as_str().unwrap().to_string(),
                    json["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn fail(&self, on: bool) {
        if on {
            self.answer(StatusCode::SERVICE_UNAVAILABLE, "{\"error\":\"down\"}");
        } else {
            *self.reply.lock().unwrap() = self.normal.clone();
        }
    }

    fn answer(&self, status: StatusCode, body: &str) {
        let mut reply = self.reply.lock().unwrap();
        reply.status = status;
        reply.body = body.to_string();
    }

    fn stall(&self, delay: Duration) {
        self.reply.lock().unwrap().delay = delay;
    }
}

async fn record(
    State((received, reply)): State<GatewayState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (
    StatusCode,
    [(axum::http::HeaderName, &'static str); 1],
    String,
) {
    let reply = reply.lock().unwrap().clone();
    received.lock().unwrap().push(Received {
        method: method.to_string(),
        path: uri.path().to_string(),
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
        answered: reply.status.as_u16(),
    });
    tokio::time::sleep(reply.delay).await;
    (
        reply.status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        reply.body,
    )
}

/// The app, booted for real on a free loopback port.
struct TestApp {
    base: String,
    gateway: Gateway,
    db: Db,
    clock: Clock,
}

async fn start_app(overrides: &[(&str, &str)]) -> TestApp {
    let gateway = Gateway::start(StatusCode::OK).await;
    start_app_with(gateway, overrides).await
}

async fn start_app_with(gateway: Gateway, overrides: &[(&str, &str)]) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let hook = format!("{}/sms", gateway.base);
    let mut env: BTreeMap<String, String> = [
        ("DATABASE_URL", "mem://"),
        ("SMS_PROVIDER", "webhook"),
        ("SMS_WEBHOOK_URL", hook.as_str()),
        ("SMS_WEBHOOK_TOKEN", "gateway-token"),
        ("DEV_MODE", "false"),
        ("COOKIE_SECURE", "false"),
        ("OTP_SECRET", "integration-test-secret-0123456789abcdef"),
        ("PUBLIC_URL", "https://otp.example.in"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in overrides {
        env.insert(key.to_string(), value.to_string());
    }
    let sources = Sources::new(None, move |key| env.get(key).cloned()).unwrap();
    let config = Config::load(&sources, false, &addr.to_string()).unwrap();
    let options = LeptosOptions::builder()
        .output_name("dynamic_otp")
        .site_addr(addr)
        .build();
    let state = build_state(config, options).await.unwrap();
    let db = state.auth.db.clone();
    let clock = state.auth.clock.clone();
    let app = router(state);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    TestApp {
        base: format!("http://{addr}"),
        gateway,
        db,
        clock,
    }
}

/// One browser: its own cookie jar, no automatic redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Person {
    username: &'static str,
    full_name: &'static str,
    phone: &'static str,
    typed_phone: &'static str,
    email: &'static str,
    password: &'static str,
}

const SEED: [Person; 4] = [
    Person {
        username: "raj_sharma",
        full_name: "राज शर्मा",
        phone: "+919876543210",
        typed_phone: "98765 43210",
        email: "raj@example.in",
        password: "raj-password-1",
    },
    Person {
        username: "priya_patel",
        full_name: "प्रिया पटेल",
        phone: "+918765432109",
        typed_phone: "+91 87654 32109",
        email: "priya@example.in",
        password: "priya-password-2",
    },
    Person {
        username: "amit_kumar",
        full_name: "अमित कुमार",
        phone: "+917654321098",
        typed_phone: "+917654321098",
        email: "amit@example.in",
        password: "amit-password-3",
    },
    Person {
        username: "your_username",
        full_name: "Your Name",
        phone: "+918780378086",
        typed_phone: "87803 78086",
        email: "you@example.in",
        password: "your-password-4",
    },
];

impl Person {
    /// The registration form as this person types it.
    fn registration(&self) -> [(&'static str, &'static str); 5] {
        [
            ("username", self.username),
            ("full_name", self.full_name),
            ("phone", self.typed_phone),
            ("email", self.email),
            ("password", self.password),
        ]
    }
}

/// A server function call as the page's script makes it.
async fn post(
    client: &reqwest::Client,
    base: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(format!("{base}/api/{endpoint}"))
        .header(ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
}

impl TestApp {
    async fn call(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        post(client, &self.base, endpoint, form).await
    }

    async fn register(&self, client: &reqwest::Client, p: &Person) -> reqwest::Response {
        self.call(client, "register", &p.registration()).await
    }

    async fn login(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        self.call(
            client,
            "login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// A sign-in attempt from a fresh browser.
    async fn login_fresh(&self, username: &str, password: &str) -> reqwest::Response {
        self.login(&browser(), username, password).await
    }

    async fn verify(&self, client: &reqwest::Client, code: &str) -> reqwest::Response {
        self.call(client, "verify_code", &[("code", code)]).await
    }

    async fn me(&self, client: &reqwest::Client) -> Option<SignedInUser> {
        let res = self.call(client, "current_user", &[]).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// The code in the newest message, checking it went to `phone`.
    fn last_code_to(&self, phone: &str) -> String {
        let messages = self.gateway.messages();
        let (to, message) = messages.last().expect("a message was sent");
        assert_eq!(to, phone, "the code went to the wrong phone");
        code_in(message)
    }

    /// Registers and verifies; leaves the client signed in.
    async fn sign_up(&self, client: &reqwest::Client, p: &Person) {
        let res = self.register(client, p).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let code = self.last_code_to(p.phone);
        let res = self.verify(client, &code).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
}

/// Submits a code for a challenge from a fresh client (as a racer or a replaying attacker would).
fn submit_code(
    base: String,
    challenge: String,
    code: String,
) -> tokio::task::JoinHandle<reqwest::Response> {
    tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{base}/api/verify_code"))
            .header(ACCEPT, "application/json")
            .header(COOKIE, format!("otp_challenge={challenge}"))
            .form(&[("code", code.as_str())])
            .send()
            .await
            .unwrap()
    })
}

fn code_in(message: &str) -> String {
    let start = message.find("code is ").expect("code sentence") + "code is ".len();
    message[start..start + 6].to_string()
}

async fn error_of(res: reqwest::Response) -> (u16, AppError) {
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("not an AppError: {body}")),
    )
}

fn cookie_value(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
        })
        .filter(|v| !v.is_empty())
}

/// Decodes an application/x-www-form-urlencoded body.
fn serde_urlencoded_pairs(body: &str) -> BTreeMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{body}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The server binary as an operator runs it, on a free port, with `env` on top of a
/// production-like base.
struct Binary {
    child: std::process::Child,
    base: String,
}

impl Binary {
    async fn start(env: &[(&str, String)], stdout: std::process::Stdio) -> Binary {
        let port = free_port();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dynamic_otp"));
        command
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_ENV", "PROD")
            .env("DATABASE_URL", "mem://")
            .env("COOKIE_SECURE", "false")
            .env("OTP_SECRET", "binary-test-secret-0123456789abcdef")
            .env("RUST_LOG", "info")
            .stdout(stdout)
            .stderr(std::process::Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        // Owned before the wait, so a panic below still stops the process (Drop).
        let server = Binary {
            child: command.spawn().expect("server binary starts"),
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if client
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not start");
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

mod account;
mod cli;
mod cluster;
mod crash;
mod flow;
mod language;
mod ops;
mod providers;
mod reset;
