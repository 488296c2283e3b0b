//! OpenID Connect over HTTP: discovery and the signing keys (public, cached by relying
//! parties), the authorization endpoint the browser visits, and the back-channel endpoints an
//! app's server calls (token, userinfo), which answer OAuth JSON errors, never HTML.

use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use base64::Engine;

use crate::model::CONSENT_PAGE;
use crate::server::client::ClientInfo;
use crate::server::cookies;
use crate::server::service::{
    AuthorizeParams, Authorized, ClientCredentials, OAuthError, Refusal, TokenForm, TokenQuery,
};
use crate::server::state::AppState;

pub const JWKS_PATH: &str = "/oauth2/jwks";
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const USERINFO_PATH: &str = "/oauth2/userinfo";
pub const REVOCATION_PATH: &str = "/oauth2/revoke";
pub const INTROSPECTION_PATH: &str = "/oauth2/introspect";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(JWKS_PATH, get(jwks))
        .route(AUTHORIZE_PATH, get(authorize))
        .route("/oauth2/continue/{key}", get(resume))
        .route(TOKEN_PATH, axum::routing::post(token))
        .route(USERINFO_PATH, get(userinfo).post(userinfo))
        .route(REVOCATION_PATH, axum::routing::post(revoke))
        .route(INTROSPECTION_PATH, axum::routing::post(introspect))
}

/// Back-channel paths: called by an app's server, with no browser Origin; the client or the
/// token authenticates instead (http::middleware lets their POSTs through).
pub fn is_back_channel(path: &str) -> bool {
    [
        TOKEN_PATH,
        USERINFO_PATH,
        REVOCATION_PATH,
        INTROSPECTION_PATH,
    ]
    .contains(&path)
}

/// What this provider supports, as OpenID Connect Discovery 1.0 lists it. Only what is built is
/// listed; a client that reads it never tries an endpoint we lack.
pub fn discovery_document(public_url: &str) -> serde_json::Value {
    let issuer = crate::server::auth::oauth::issuer(public_url);
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "userinfo_endpoint": format!("{issuer}{USERINFO_PATH}"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "revocation_endpoint": format!("{issuer}{REVOCATION_PATH}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECTION_PATH}"),
        "end_session_endpoint": format!("{issuer}{}", super::oidc_logout::END_SESSION_PATH),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "prompt_values_supported": ["none", "login", "consent"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [crate::server::auth::jws::ALG],
        "scopes_supported": ["openid", "profile", "phone", "email"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr",
            "name", "preferred_username", "locale",
            "phone_number", "phone_number_verified", "email", "email_verified"
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ["en", "hi"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

async fn discovery(State(state): State<AppState>) -> Response {
    let document = discovery_document(&state.auth.config.public_url);
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(document),
    )
        .into_response()
}

async fn jwks(State(state): State<AppState>) -> Response {
    match state.auth.jwks().await {
        // Short: a client that meets a new kid fetches again, but a rotation should show soon.
        Ok(keys) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys)).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response(),
    }
}

async fn authorize(
    State(state): State<AppState>,
    parts: Parts,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    let session = cookies::read_from(&parts, cookies::SESSION).unwrap_or_default();
    browser_answer(state.auth.authorize(params, &session).await)
}

async fn resume(State(state): State<AppState>, parts: Parts, Path(key): Path<String>) -> Response {
    let session = cookies::read_from(&parts, cookies::SESSION).unwrap_or_default();
    browser_answer(state.auth.resume_authorization(&key, &session, false).await)
}

/// Where the browser goes from the authorization endpoint.
pub fn browser_answer(outcome: Result<Authorized, crate::error::AppError>) -> Response {
    match outcome {
        Ok(Authorized::ToApp(url)) => Redirect::to(&url).into_response(),
        Ok(Authorized::SignIn(back)) => {
            let query = serde_urlencoded::to_string([("next", back)]).unwrap_or_default();
            Redirect::to(&format!("/login?{query}")).into_response()
        }
        Ok(Authorized::Consent(key)) => {
            Redirect::to(&format!("{CONSENT_PAGE}?r={key}")).into_response()
        }
        Ok(Authorized::Refused(why)) => refused_page(why),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again in a moment.",
        )
            .into_response(),
    }
}

/// Our own page, never a redirect: the app or the address it gave cannot be trusted with one.
fn refused_page(why: Refusal) -> Response {
    let (en, hi) = match why {
        Refusal::UnknownApp => (
            "The app that sent you here is not registered with this sign-in service.",
            "जिस ऐप ने आपको यहाँ भेजा, वह इस साइन-इन सेवा में पंजीकृत नहीं है।",
        ),
        Refusal::UnregisteredRedirect => (
            "The app asked to send you back to an address it did not register, so we stopped.",
            "ऐप ने आपको ऐसे पते पर लौटाना चाहा जो उसने पंजीकृत नहीं किया, इसलिए हमने रोक दिया।",
        ),
        Refusal::Expired => (
            "This sign-in request has ended. Go back to the app and start again.",
            "यह साइन-इन अनुरोध समाप्त हो गया है। ऐप पर लौटकर फिर से शुरू करें।",
        ),
    };
    let body = format!("<h1>Sign-in stopped</h1><p>{en}</p><p lang=\"hi\">{hi}</p>");
    (
        StatusCode::BAD_REQUEST,
        super::plain_page("Sign-in stopped", &body),
    )
        .into_response()
}

async fn token(
    State(state): State<AppState>,
    parts: Parts,
    Form(form): Form<TokenForm>,
) -> Response {
    let basic = match basic_credentials(&parts.headers) {
        Ok(basic) => basic,
        Err(error) => return oauth_error(&error),
    };
    let from = ClientInfo::from_parts(&parts, &state.auth.config.trusted_proxies);
    match state.auth.token(basic, form, &from).await {
        Ok(tokens) => no_store(Json(tokens).into_response()),
        Err(error) => oauth_error(&error),
    }
}

async fn revoke(
    State(state): State<AppState>,
    parts: Parts,
    Form(query): Form<TokenQuery>,
) -> Response {
    let answer = async {
        let (credentials, from) = caller(&state, &parts, &query)?;
        state.auth.revoke_token(credentials, query, &from).await
    };
    match answer.await {
        // RFC 7009 2.2: 200 whether or not the token was known.
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(error) => oauth_error(&error),
    }
}

async fn introspect(
    State(state): State<AppState>,
    parts: Parts,
    Form(query): Form<TokenQuery>,
) -> Response {
    let answer = async {
        let (credentials, from) = caller(&state, &parts, &query)?;
        state.auth.introspect(credentials, query, &from).await
    };
    match answer.await {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(error) => oauth_error(&error),
    }
}

/// Who calls revocation or introspection: the app's credentials, and where the call came from.
fn caller(
    state: &AppState,
    parts: &Parts,
    query: &TokenQuery,
) -> Result<(ClientCredentials, ClientInfo), OAuthError> {
    let credentials = ClientCredentials {
        basic: basic_credentials(&parts.headers)?,
        client_id: query.client_id.clone(),
        client_secret: query.client_secret.clone(),
    };
    let from = ClientInfo::from_parts(parts, &state.auth.config.trusted_proxies);
    Ok((credentials, from))
}

async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match state.auth.userinfo(bearer.trim()).await {
        Ok(claims) => no_store(Json(claims).into_response()),
        Err(error) => oauth_error(&error),
    }
}

/// RFC 6749 2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    const BAD: OAuthError = OAuthError {
        error: "invalid_client",
        description: "unreadable Authorization header",
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let encoded = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Basic "))
        .ok_or(BAD)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| BAD)?;
    let text = String::from_utf8(decoded).map_err(|_| BAD)?;
    let (id, secret) = text.split_once(':').ok_or(BAD)?;
    let unescape = |part: &str| -> Result<String, OAuthError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={part}")).map_err(|_| BAD)?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// RFC 6749 5.2 (and RFC 6750 3 for a bad bearer token).
fn oauth_error(error: &OAuthError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({ "error": error.error, "error_description": error.description });
    let mut response = no_store((status, Json(body)).into_response());
    let challenge = match error.error {
        "invalid_client" => Some("Basic realm=\"oauth2\"".to_string()),
        "invalid_token" => Some("Bearer error=\"invalid_token\"".to_string()),
        _ => None,
    };
    if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Tokens and their errors are never cached (RFC 6749 5.1).
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
