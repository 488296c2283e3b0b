//! The OpenID Connect provider over real HTTP: an app registered with the admin command sends
//! its user to /oauth2/authorize, the user signs in (password and SMS code) and consents, the app
//! trades the code and its PKCE verifier for tokens and reads UserInfo. Then what must be
//! refused is. (Playwright's oidc.spec.ts runs the flow with a certified client library.)

use base64::Engine;
use dynamic_otp::server::admin_oidc;
use dynamic_otp::server::auth::jws::{self, PublicJwk};
use sha2::{Digest, Sha256};

use super::*;

pub(crate) const APP_REDIRECT: &str = "https://shop.example.in/callback";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub(crate) struct App {
    pub id: String,
    pub secret: Option<String>,
}

pub(crate) async fn register_app(app: &TestApp, flags: &str) -> App {
    let args: Vec<String> = format!("add Shop --redirect {APP_REDIRECT} {flags}")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let out = admin_oidc::client(&app.db, &args, app.clock.now_ms())
        .await
        .unwrap();
    let line = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    App {
        id: line("client_id:").unwrap(),
        secret: line("client_secret:"),
    }
}

pub(crate) fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn authorize_url(app: &TestApp, client: &App, extra: &str) -> String {
    format!(
        "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20profile%20phone&state=s-42&nonce=n-7&code_challenge={}&code_challenge_method=S256{extra}",
        app.base,
        client.id,
        APP_REDIRECT,
        challenge(VERIFIER)
    )
}

pub(crate) fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(reqwest::header::LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

/// The query of a redirect back to the app.
pub(crate) fn back_at_app(url: &str) -> BTreeMap<String, String> {
    let (at, query) = url.split_once('?').expect("a query");
    assert_eq!(at, APP_REDIRECT);
    serde_urlencoded_pairs(query)
}

pub(crate) async fn token(
    app: &TestApp,
    client: &App,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    api_client()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", APP_REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

pub(crate) async fn userinfo(app: &TestApp, access_token: &str) -> reqwest::Response {
    api_client()
        .get(format!("{}/oauth2/userinfo", app.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn jwks(app: &TestApp) -> Vec<PublicJwk> {
    let res = api_client()
        .get(format!("{}/oauth2/jwks", app.base))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    serde_json::from_value(body["keys"].clone()).unwrap()
}

/// Signs `p` in through /login?next=… as the authorization endpoint sends them; returns where
/// the code step leads.
pub(crate) async fn sign_in_for(
    app: &TestApp,
    browser: &reqwest::Client,
    p: &Person,
    next: &str,
) -> String {
    let res = app
        .call(
            browser,
            "login",
            &[
                ("username", p.username),
                ("password", p.password),
                ("next", next),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app.verify(browser, &app.last_code_to(p.phone)).await;
    assert_eq!(res.status(), 200);
    location(&res)
}

#[tokio::test]
async fn an_app_signs_its_user_in_with_a_code_pkce_consent_and_gets_the_verified_phone() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    app.sign_up(&browser(), raj).await;
    let shop = register_app(&app, "").await;

    let discovery: serde_json::Value = api_client()
        .get(format!("{}/.well-known/openid-configuration", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], "https://otp.example.in");
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );

    // Not signed in: to our sign-in, which comes back to the waiting request.
    let browser = browser();
    let res = browser
        .get(authorize_url(&app, &shop, ""))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let to_login = location(&res);
    let next = serde_urlencoded_pairs(to_login.split_once('?').unwrap().1)["next"].clone();
    assert!(next.starts_with("/oauth2/continue/"), "{to_login}");
    // The code step takes the request up: a third-party app asks for consent first. The
    // continue address (where a no-JS sign-in lands) leads to the same page.
    let consent = sign_in_for(&app, &browser, raj, &next).await;
    let request = consent
        .strip_prefix("/oauth2/consent?r=")
        .expect("the consent page")
        .to_string();
    let res = browser
        .get(format!("{}{next}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), consent);
    let asked: dynamic_otp::model::OidcConsent = app
        .call(&browser, "consent_request", &[("request", &request)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asked.app_name, "Shop");
    assert_eq!(asked.scopes, ["openid", "profile", "phone"]);
    let res = app
        .call(
            &browser,
            "answer_consent",
            &[("request", &request), ("allow", "yes")],
        )
        .await;
    let answer = back_at_app(&location(&res));
    assert_eq!(answer["state"], "s-42");
    assert_eq!(answer["iss"], "https://otp.example.in");
    let code = &answer["code"];

    let res = token(&app, &shop, code, VERIFIER).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let tokens: serde_json::Value = res.json().await.unwrap();
    let keys = jwks(&app).await;
    let id =
        jws::verify(tokens["id_token"].as_str().unwrap(), &keys).expect("signed by a JWKS key");
    assert_eq!(id["iss"], "https://otp.example.in");
    assert_eq!(id["aud"], shop.id.as_str());
    assert_eq!(id["nonce"], "n-7");
    assert_eq!(id["phone_number"], raj.phone);
    assert_eq!(id["phone_number_verified"], true);
    assert_eq!(id["preferred_username"], raj.username);
    assert_eq!(id["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    assert!(id.get("email").is_none(), "email was not asked for");
    let sub = id["sub"].as_str().unwrap();
    assert!(
        sub.len() >= 32 && !sub.contains(raj.username),
        "opaque: {sub}"
    );

    let access = tokens["access_token"].as_str().unwrap();
    let info: serde_json::Value = userinfo(&app, access).await.json().await.unwrap();
    assert_eq!(info["sub"], sub);
    assert_eq!(info["phone_number"], raj.phone);

    // Consent is remembered: the next visit goes straight back with a code.
    let res = browser
        .get(authorize_url(&app, &shop, ""))
        .send()
        .await
        .unwrap();
    assert!(back_at_app(&location(&res)).contains_key("code"));

    // The code again: refused, and the tokens it made stop working.
    let res = token(&app, &shop, code, VERIFIER).await;
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(userinfo(&app, access).await.status(), 401);
}

#[tokio::test]
async fn requests_and_exchanges_that_must_fail_do() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let signed_in = browser();
    app.sign_up(&signed_in, raj).await;
    let shop = register_app(&app, "--first-party").await;
    let get = |url: String| {
        let signed_in = signed_in.clone();
        async move { signed_in.get(url).send().await.unwrap() }
    };

    // Answers that cannot go back to the app stay on our page.
    let res = get(authorize_url(
        &app,
        &App {
            id: "app_nobody".into(),
            secret: None,
        },
        "",
    ))
    .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("not registered"));
    let wrong = authorize_url(&app, &shop, "").replace("/callback", "/other");
    let res = get(wrong).await;
    assert_eq!(res.status(), 400);

    // The rest go back with an error and the state.
    let no_pkce = authorize_url(&app, &shop, "").replace("&code_challenge_method=S256", "");
    let answer = back_at_app(&location(&get(no_pkce).await));
    assert_eq!(
        (answer["error"].as_str(), answer["state"].as_str()),
        ("invalid_request", "s-42")
    );
    let no_openid = authorize_url(&app, &shop, "").replace("scope=openid%20", "scope=");
    assert_eq!(
        back_at_app(&location(&get(no_openid).await))["error"],
        "invalid_scope"
    );
    let res = browser()
        .get(authorize_url(&app, &shop, "&prompt=none"))
        .send()
        .await
        .unwrap();
    assert_eq!(back_at_app(&location(&res))["error"], "login_required");

    // A first-party app skips consent; each code then meets every check of the exchange.
    let code = || async {
        let answer = back_at_app(&location(&get(authorize_url(&app, &shop, "")).await));
        answer["code"].clone()
    };
    let res = token(
        &app,
        &shop,
        &code().await,
        "wrong-verifier-wrong-verifier-wrong-verifier",
    )
    .await;
    assert_eq!(res.status(), 400);
    let fresh = code().await;
    let bad_secret = App {
        id: shop.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let res = token(&app, &bad_secret, &fresh, VERIFIER).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // That refusal spent nothing: the code still works, once.
    assert_eq!(token(&app, &shop, &fresh, VERIFIER).await.status(), 200);
    let late = code().await;
    app.clock.advance(Duration::from_secs(61));
    assert_eq!(token(&app, &shop, &late, VERIFIER).await.status(), 400);
}
