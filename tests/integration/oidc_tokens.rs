//! What an app does with its tokens after sign-in, over real HTTP and from a client with no
//! browser headers (an app's server): refresh with rotation and reuse detection, also under a
//! burst of parallel refreshes; revocation and introspection; and ending the session at ours
//! when the user signs out of the app.

use dynamic_otp::model::{Activity, ActivityKind};
use dynamic_otp::server::auth::jws;

use super::oidc::*;
use super::*;

/// An app's server: no cookies, no Origin or Sec-Fetch headers.
fn app_server() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `raj` registered and signed in at ours (the browser), and a first-party app registered.
async fn raj_and_an_app(app: &TestApp) -> (reqwest::Client, App) {
    let signed_in = browser();
    app.sign_up(&signed_in, &SEED[0]).await;
    (signed_in, register_app(app, "--first-party").await)
}

/// The tokens a first-party app got for the person signed in in `signed_in`.
async fn tokens_for(app: &TestApp, shop: &App, signed_in: &reqwest::Client) -> serde_json::Value {
    let res = signed_in
        .get(authorize_url(app, shop, ""))
        .send()
        .await
        .unwrap();
    let code = back_at_app(&location(&res))["code"].clone();
    let res = token(app, shop, &code, VERIFIER).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn refresh(
    app: &TestApp,
    shop: &App,
    refresh_token: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    app_server()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&shop.id, shop.secret.as_deref())
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn ask(app: &TestApp, path: &str, shop: &App, token: &str) -> reqwest::Response {
    app_server()
        .post(format!("{}{path}", app.base))
        .basic_auth(&shop.id, shop.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

async fn introspect(app: &TestApp, shop: &App, token: &str) -> serde_json::Value {
    let res = ask(app, "/oauth2/introspect", shop, token).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn text<'a>(value: &'a serde_json::Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

async fn activity_kinds(app: &TestApp, signed_in: &reqwest::Client) -> Vec<ActivityKind> {
    let list: Vec<Activity> = app
        .call(signed_in, "recent_activity", &[])
        .await
        .json()
        .await
        .unwrap();
    list.into_iter().map(|a| a.kind).collect()
}

#[tokio::test]
async fn refresh_tokens_rotate_narrow_expire_and_a_reused_one_ends_the_family() {
    let app = start_app(&[]).await;
    let (signed_in, shop) = raj_and_an_app(&app).await;
    let first = tokens_for(&app, &shop, &signed_in).await;
    let keys = jwks(&app).await;
    let first_id = jws::verify(text(&first, "id_token"), &keys).unwrap();

    // Used, a refresh token gives new tokens and a new refresh token; the ID token keeps who
    // and when, without the nonce of the first sign-in (Core 12.2).
    let res = refresh(&app, &shop, text(&first, "refresh_token"), None).await;
    assert_eq!(res.status(), 200);
    let second: serde_json::Value = res.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let second_id = jws::verify(text(&second, "id_token"), &keys).unwrap();
    assert_eq!(second_id["sub"], first_id["sub"]);
    assert_eq!(second_id["auth_time"], first_id["auth_time"]);
    assert!(second_id.get("nonce").is_none());
    assert_eq!(
        userinfo(&app, text(&second, "access_token")).await.status(),
        200
    );

    // A refresh may narrow the scope, never widen it.
    let res = refresh(
        &app,
        &shop,
        text(&second, "refresh_token"),
        Some("openid email"),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    let res = refresh(&app, &shop, text(&second, "refresh_token"), Some("openid")).await;
    // The refused widening spent the token: a careful client asks with the right scope.
    assert_eq!(res.status(), 400);

    // The spent first token shown again: the whole family ends, the newest tokens too.
    let fresh = tokens_for(&app, &shop, &signed_in).await;
    let next: serde_json::Value =
        refresh(&app, &shop, text(&fresh, "refresh_token"), Some("openid"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(next["scope"], "openid");
    let info: serde_json::Value = userinfo(&app, text(&next, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        info.get("phone_number").is_none(),
        "narrowed to openid: {info}"
    );
    let res = refresh(&app, &shop, text(&fresh, "refresh_token"), None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        refresh(&app, &shop, text(&next, "refresh_token"), None)
            .await
            .status(),
        400
    );
    assert_eq!(
        userinfo(&app, text(&next, "access_token")).await.status(),
        401
    );
    assert!(activity_kinds(&app, &signed_in)
        .await
        .contains(&ActivityKind::AppRefused));

    // Another app cannot use (or spend) this app's refresh token.
    let other = register_app(&app, "--first-party").await;
    let mine = tokens_for(&app, &shop, &signed_in).await;
    assert_eq!(
        refresh(&app, &other, text(&mine, "refresh_token"), None)
            .await
            .status(),
        400
    );
    let res = refresh(&app, &shop, text(&mine, "refresh_token"), None).await;
    assert_eq!(res.status(), 200);

    // Unused for 30 days, it has ended.
    let idle = tokens_for(&app, &shop, &signed_in).await;
    app.clock.advance(Duration::from_secs(31 * 24 * 3600));
    assert_eq!(
        refresh(&app, &shop, text(&idle, "refresh_token"), None)
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn of_a_burst_of_parallel_refreshes_with_one_token_one_wins_and_the_family_ends() {
    let app = start_app(&[]).await;
    let (signed_in, shop) = raj_and_an_app(&app).await;
    let tokens = tokens_for(&app, &shop, &signed_in).await;
    let stolen = text(&tokens, "refresh_token").to_string();

    let racers: Vec<_> = (0..200)
        .map(|_| {
            let (base, id, secret, stolen) = (
                app.base.clone(),
                shop.id.clone(),
                shop.secret.clone(),
                stolen.clone(),
            );
            tokio::spawn(async move {
                let res = app_server()
                    .post(format!("{base}/oauth2/token"))
                    .basic_auth(id, secret)
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", &stolen)])
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                (status, res.json::<serde_json::Value>().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for racer in racers {
        answers.push(racer.await.unwrap());
    }
    let won: Vec<&serde_json::Value> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(won.len(), 1, "exactly one refresh succeeds");
    assert!(answers.iter().all(
        |(status, body)| *status == 200 || (*status == 400 && body["error"] == "invalid_grant")
    ));
    // Two parties held one token: what the winner got is revoked with the rest.
    let winner = won[0];
    assert_eq!(
        refresh(&app, &shop, text(winner, "refresh_token"), None)
            .await
            .status(),
        400
    );
    assert_eq!(
        userinfo(&app, text(winner, "access_token")).await.status(),
        401
    );
}

#[tokio::test]
async fn an_app_revokes_its_tokens_and_its_api_introspects_them() {
    let app = start_app(&[]).await;
    let (signed_in, shop) = raj_and_an_app(&app).await;
    let tokens = tokens_for(&app, &shop, &signed_in).await;
    let access = text(&tokens, "access_token");
    let refresh_token = text(&tokens, "refresh_token");

    let about = introspect(&app, &shop, access).await;
    assert_eq!(about["active"], true);
    assert_eq!(about["client_id"], shop.id.as_str());
    assert_eq!(about["scope"], "openid profile phone");
    assert_eq!(introspect(&app, &shop, refresh_token).await["active"], true);
    assert_eq!(
        introspect(&app, &shop, "not-a-token").await,
        serde_json::json!({ "active": false })
    );

    // Introspection is for confidential apps; a public one is refused, as is a wrong secret.
    let public = register_app(&app, "--public --first-party").await;
    assert_eq!(
        ask(&app, "/oauth2/introspect", &public, access)
            .await
            .status(),
        401
    );
    let impostor = App {
        id: shop.id.clone(),
        secret: Some("wrong".into()),
    };
    assert_eq!(
        ask(&app, "/oauth2/revoke", &impostor, refresh_token)
            .await
            .status(),
        401
    );
    // Another app's revocation of this app's token is answered alike and changes nothing.
    let other = register_app(&app, "--first-party").await;
    assert_eq!(
        ask(&app, "/oauth2/revoke", &other, refresh_token)
            .await
            .status(),
        200
    );
    assert_eq!(introspect(&app, &shop, access).await["active"], true);

    // Revoked by its app, the refresh token ends the grant: its access token goes with it.
    assert_eq!(
        ask(&app, "/oauth2/revoke", &shop, refresh_token)
            .await
            .status(),
        200
    );
    assert_eq!(introspect(&app, &shop, access).await["active"], false);
    assert_eq!(
        introspect(&app, &shop, refresh_token).await["active"],
        false
    );
    assert_eq!(userinfo(&app, access).await.status(), 401);
    assert_eq!(
        refresh(&app, &shop, refresh_token, None).await.status(),
        400
    );
    // Revoking again, or an unknown token, is still a 200 (RFC 7009 2.2).
    assert_eq!(
        ask(&app, "/oauth2/revoke", &shop, refresh_token)
            .await
            .status(),
        200
    );
    assert_eq!(
        ask(&app, "/oauth2/revoke", &shop, "nothing-we-issued")
            .await
            .status(),
        200
    );

    // An access token revokes its grant as well; expired, it introspects as inactive.
    let more = tokens_for(&app, &shop, &signed_in).await;
    assert_eq!(
        ask(&app, "/oauth2/revoke", &shop, text(&more, "access_token"))
            .await
            .status(),
        200
    );
    assert_eq!(
        refresh(&app, &shop, text(&more, "refresh_token"), None)
            .await
            .status(),
        400
    );
    let last = tokens_for(&app, &shop, &signed_in).await;
    app.clock.advance(Duration::from_secs(11 * 60));
    assert_eq!(
        introspect(&app, &shop, text(&last, "access_token")).await["active"],
        false
    );

    let kinds = activity_kinds(&app, &signed_in).await;
    assert!(kinds.contains(&ActivityKind::AppSignedIn));
    assert!(kinds.contains(&ActivityKind::AppRevoked));
}

#[tokio::test]
async fn signing_out_of_an_app_ends_the_session_here_and_goes_back_only_where_registered() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let shop = register_app(
        &app,
        "--first-party --logout-redirect https://shop.example.in/bye",
    )
    .await;
    let logout = |query: String| format!("{}/oauth2/logout?{query}", app.base);

    // With an ID token of this very person: signed out at once, back to the app with its state.
    let signed_in = browser();
    app.sign_up(&signed_in, raj).await;
    let tokens = tokens_for(&app, &shop, &signed_in).await;
    let query = serde_urlencoded::to_string([
        ("id_token_hint", text(&tokens, "id_token")),
        ("post_logout_redirect_uri", "https://shop.example.in/bye"),
        ("state", "st-9"),
    ])
    .unwrap();
    let res = signed_in.get(logout(query)).send().await.unwrap();
    assert_eq!(location(&res), "https://shop.example.in/bye?state=st-9");
    assert!(app.me(&signed_in).await.is_none());

    // An address the app did not register: our own page, and the session stays.
    let signed_in = browser();
    app.login(&signed_in, raj.username, raj.password).await;
    let res = app.verify(&signed_in, &app.last_code_to(raj.phone)).await;
    assert_eq!(res.status(), 200);
    let query = format!(
        "client_id={}&post_logout_redirect_uri=https://evil.example/x",
        shop.id
    );
    let res = signed_in.get(logout(query)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(app.me(&signed_in).await.is_some());
    // A hint we did not sign: refused too.
    let res = signed_in
        .get(logout("id_token_hint=eyJ.forged.sig".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // Without proof the request is the app's, the person confirms on our page first.
    let query = format!(
        "client_id={}&post_logout_redirect_uri=https://shop.example.in/bye",
        shop.id
    );
    let res = signed_in.get(logout(query)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Shop asks to sign you out"), "{page}");
    assert!(
        app.me(&signed_in).await.is_some(),
        "a GET alone signs no one out"
    );
    // The confirmation is a browser POST: from another site it is refused.
    let form = [
        ("client_id", shop.id.as_str()),
        ("post_logout_redirect_uri", "https://shop.example.in/bye"),
    ];
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/logout", app.base))
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = signed_in
        .post(format!("{}/oauth2/logout", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "https://shop.example.in/bye");
    assert!(app.me(&signed_in).await.is_none());
}

#[tokio::test]
async fn a_burst_of_wrong_client_secrets_meets_the_ip_limit_and_apps_elsewhere_are_untouched() {
    let app = start_app(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let (signed_in, shop) = raj_and_an_app(&app).await;
    let tokens = tokens_for(&app, &shop, &signed_in).await;
    // One client for the burst, as one attacker's script would be: 200 connections at once.
    let attacker = app_server();
    let send = |ip: &'static str, secret: String, refresh_token: String| {
        let (base, id, attacker) = (app.base.clone(), shop.id.clone(), attacker.clone());
        tokio::spawn(async move {
            attacker
                .post(format!("{base}/oauth2/token"))
                .header("x-forwarded-for", ip)
                .basic_auth(id, Some(secret))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh_token),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    let guesses: Vec<_> = (0..200)
        .map(|n| send("198.51.100.7", format!("guess-{n}"), "0".repeat(64)))
        .collect();
    let mut statuses = BTreeMap::new();
    for guess in guesses {
        *statuses.entry(guess.await.unwrap()).or_insert(0) += 1;
    }
    // The default limit is 20 failures per IP per 10 minutes, and the burst cannot outrun it.
    assert_eq!(statuses.get(&401), Some(&20), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&180), "{statuses:?}");

    // The app, from its own address, goes on as before; nothing it holds was spent.
    let secret = shop.secret.clone().unwrap();
    let refresh_token = text(&tokens, "refresh_token").to_string();
    let ok = send("203.0.113.5", secret.clone(), refresh_token)
        .await
        .unwrap();
    assert_eq!(ok, 200);
    // Its successes use none of the limit: many more than 20 in a row are all answered.
    for _ in 0..30 {
        let res = ask(&app, "/oauth2/introspect", &shop, "not-a-token").await;
        assert_eq!(res.status(), 200);
    }
}

#[tokio::test]
async fn tokens_signed_before_a_key_rotation_still_verify_against_the_jwks_after_it() {
    let app = start_app(&[]).await;
    let (signed_in, shop) = raj_and_an_app(&app).await;
    let before = tokens_for(&app, &shop, &signed_in).await;
    let kid_of = |token: &str| -> String {
        let header = token.split('.').next().unwrap();
        let header =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                .unwrap();
        serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let old_kid = kid_of(text(&before, "id_token"));

    let new_kid = app.auth.signing_keys().rotate().await.unwrap();
    assert_ne!(new_kid, old_kid);
    // The JWKS lists both: what was signed before verifies, and new tokens carry the new key.
    let keys = jwks(&app).await;
    assert!(jws::verify(text(&before, "id_token"), &keys).is_some());
    assert_eq!(
        userinfo(&app, text(&before, "access_token")).await.status(),
        200
    );
    let after = refresh(&app, &shop, text(&before, "refresh_token"), None).await;
    let after: serde_json::Value = after.json().await.unwrap();
    assert_eq!(kid_of(text(&after, "id_token")), new_kid);
    assert!(jws::verify(text(&after, "id_token"), &keys).is_some());

    // A day on, every token of the old key has long expired: it leaves the JWKS.
    app.clock.advance(Duration::from_secs(25 * 3600));
    let kids: Vec<String> = jwks(&app).await.into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, [new_kid]);
}
