//! The app booted in this process on a free port (real HTTP, real engine, real argon2), and
//! what a test does with it: browsers, seeded people, server-function calls, codes from SMS.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::http::StatusCode;
use dynamic_otp::error::AppError;
use dynamic_otp::model::SignedInUser;
use dynamic_otp::server::clock::Clock;
use dynamic_otp::server::config::Sources;
use dynamic_otp::server::db::{audit_event, Db};
use dynamic_otp::server::http::router;
use dynamic_otp::server::service::AuthService;
use dynamic_otp::server::settings::Config;
use dynamic_otp::server::state::build_state;
use leptos::config::LeptosOptions;
use reqwest::header::{ACCEPT, COOKIE, SET_COOKIE};

use super::gateway::Gateway;

/// The app, booted for real on a free loopback port.
pub struct TestApp {
    pub base: String,
    pub gateway: Gateway,
    pub db: Db,
    pub clock: Clock,
    /// The app's own service, for the work its background tasks do on a timer.
    pub auth: AuthService,
}

pub async fn start_app(overrides: &[(&str, &str)]) -> TestApp {
    let gateway = Gateway::start(StatusCode::OK).await;
    start_app_with(gateway, overrides).await
}

pub async fn start_app_with(gateway: Gateway, overrides: &[(&str, &str)]) -> TestApp {
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
    let auth = state.auth.clone();
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
        auth,
    }
}

/// One browser: its own cookie jar, no automatic redirects, and the Sec-Fetch-Site header a
/// browser sends with requests from the site's own pages.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(own_page_headers())
        .build()
        .unwrap()
}

/// A client without a cookie jar that posts as the site's own pages do (a racer, an attacker
/// scripting the site's forms).
pub fn api_client() -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(own_page_headers())
        .build()
        .unwrap()
}

pub fn own_page_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    headers
}

pub struct Person {
    pub username: &'static str,
    pub full_name: &'static str,
    pub phone: &'static str,
    pub typed_phone: &'static str,
    pub email: &'static str,
    pub password: &'static str,
}

pub const SEED: [Person; 4] = [
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
    pub fn registration(&self) -> [(&'static str, &'static str); 5] {
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
pub async fn post(
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
    pub async fn call(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        post(client, &self.base, endpoint, form).await
    }

    pub async fn register(&self, client: &reqwest::Client, p: &Person) -> reqwest::Response {
        self.call(client, "register", &p.registration()).await
    }

    pub async fn login(
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
    pub async fn login_fresh(&self, username: &str, password: &str) -> reqwest::Response {
        self.login(&browser(), username, password).await
    }

    pub async fn verify(&self, client: &reqwest::Client, code: &str) -> reqwest::Response {
        self.call(client, "verify_code", &[("code", code)]).await
    }

    pub async fn me(&self, client: &reqwest::Client) -> Option<SignedInUser> {
        let res = self.call(client, "current_user", &[]).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// The code in the newest message, checking it went to `phone`.
    pub fn last_code_to(&self, phone: &str) -> String {
        let messages = self.gateway.messages();
        let (to, message) = messages.last().expect("a message was sent");
        assert_eq!(to, phone, "the code went to the wrong phone");
        code_in(message)
    }

    /// Messages sent to `phone` so far.
    pub fn sent_to(&self, phone: &str) -> usize {
        self.gateway
            .messages()
            .iter()
            .filter(|(to, _)| to == phone)
            .count()
    }

    /// How many events of a kind the audit log holds (no index: a test's log is small).
    pub async fn events(&self, kind: audit_event::Kind) -> i64 {
        let mut res = self
            .db
            .query("SELECT count() AS n FROM audit_event WHERE kind = $kind GROUP ALL")
            .bind(("kind", kind.as_str().to_string()))
            .await
            .unwrap()
            .check()
            .unwrap();
        let n: Option<i64> = res.take((0, "n")).unwrap();
        n.unwrap_or(0)
    }

    /// The code of a password reset sent to `phone` after its first `seen` messages, once every
    /// reset send has finished. A reset's code goes out after the answer, and the gateway sees it
    /// before the app reads the gateway's reply; a test that moved on then could race a send
    /// the app still counts as failing (a reply slower than the timeout takes the challenge away).
    pub async fn reset_code_to(&self, phone: &str, seen: usize) -> String {
        for _ in 0..200 {
            let messages = self.gateway.messages();
            let resets = messages
                .iter()
                .filter(|(_, text)| text.contains("password reset code"))
                .count();
            let finished = self.events(audit_event::Kind::ResetRequested).await;
            let mine: Vec<&String> = messages
                .iter()
                .filter(|(to, _)| to == phone)
                .map(|(_, text)| text)
                .collect();
            if mine.len() > seen
                && mine.last().unwrap().contains("password reset code")
                && finished as usize >= resets
            {
                return code_in(mine.last().unwrap());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no reset code reached {phone}, or its send did not finish");
    }

    /// Asks for `p`'s password reset from `client`: the answer, and the code it sent.
    pub async fn forgot(
        &self,
        client: &reqwest::Client,
        p: &Person,
    ) -> (reqwest::Response, String) {
        let seen = self.sent_to(p.phone);
        let res = self
            .call(client, "forgot_password", &[("username", p.username)])
            .await;
        assert_eq!(res.status(), 200);
        (res, self.reset_code_to(p.phone, seen).await)
    }

    /// Registers and verifies; leaves the client signed in.
    pub async fn sign_up(&self, client: &reqwest::Client, p: &Person) {
        let res = self.register(client, p).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let code = self.last_code_to(p.phone);
        let res = self.verify(client, &code).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
}

/// Submits a code for a challenge from a fresh client (as a racer or a replaying attacker would).
pub fn submit_code(
    base: String,
    challenge: String,
    code: String,
) -> tokio::task::JoinHandle<reqwest::Response> {
    tokio::spawn(async move {
        api_client()
            .post(format!("{base}/api/verify_code"))
            .header(ACCEPT, "application/json")
            .header(COOKIE, format!("otp_challenge={challenge}"))
            .form(&[("code", code.as_str())])
            .send()
            .await
            .unwrap()
    })
}

/// A passkey assertion no authenticator made: well-formed JSON, nothing in it verifies.
pub fn forged_passkey_assertion() -> String {
    serde_json::json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {
            "authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA",
            "userHandle": "AAAAAAAAAAAAAAAAAAAAAA"
        },
        "extensions": {}
    })
    .to_string()
}

pub fn code_in(message: &str) -> String {
    let start = message.find("code is ").expect("code sentence") + "code is ".len();
    message[start..start + 6].to_string()
}

pub async fn error_of(res: reqwest::Response) -> (u16, AppError) {
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("not an AppError: {body}")),
    )
}

pub fn cookie_value(res: &reqwest::Response, name: &str) -> Option<String> {
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
pub fn serde_urlencoded_pairs(body: &str) -> BTreeMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{body}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
