//! The end-session endpoint an app sends its user to when they sign out there. A request the
//! app cannot prove (no ID token of this person) is confirmed on a page of ours with a form
//! POST, which the same-origin rule covers like every other browser POST.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};

use super::{escape_html, plain_page};
use crate::server::client::ClientInfo;
use crate::server::cookies;
use crate::server::service::{Logout, LogoutParams};
use crate::server::state::AppState;

pub const END_SESSION_PATH: &str = "/oauth2/logout";

pub fn routes() -> Router<AppState> {
    Router::new().route(END_SESSION_PATH, get(asked).post(confirmed))
}

async fn asked(
    State(state): State<AppState>,
    parts: Parts,
    Query(params): Query<LogoutParams>,
) -> Response {
    answer(&state, &parts, params, false).await
}

async fn confirmed(
    State(state): State<AppState>,
    parts: Parts,
    Form(params): Form<LogoutParams>,
) -> Response {
    answer(&state, &parts, params, true).await
}

async fn answer(
    state: &AppState,
    parts: &Parts,
    params: LogoutParams,
    confirmed: bool,
) -> Response {
    let session = cookies::read_from(parts, cookies::SESSION).unwrap_or_default();
    let from = ClientInfo::from_parts(parts, &state.auth.config.trusted_proxies);
    match state
        .auth
        .app_logout(&params, &session, confirmed, &from)
        .await
    {
        Ok(Logout::Done { to }) => {
            let mut response = Redirect::to(&to).into_response();
            let clearing = cookies::clearing(cookies::SESSION, state.auth.config.cookie_secure);
            if let Ok(value) = HeaderValue::from_str(&clearing) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Logout::Confirm { app_name }) => confirm_page(&params, app_name.as_deref()),
        Ok(Logout::Refused) => {
            let body = "<h1>Sign-out stopped</h1>\
                <p>The app's sign-out request could not be checked, or named an address it did not register. You are still signed in here; sign out from your account page.</p>\
                <p lang=\"hi\">ऐप का साइन-आउट अनुरोध जाँचा नहीं जा सका, या उसने ऐसा पता दिया जो पंजीकृत नहीं है। आप यहाँ अब भी साइन इन हैं; अपने खाते के पेज से साइन आउट करें।</p>";
            (
                StatusCode::BAD_REQUEST,
                plain_page("Sign-out stopped", body),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again in a moment.",
        )
            .into_response(),
    }
}

/// "Sign out?" with the request carried in hidden fields, so the yes repeats it exactly.
fn confirm_page(params: &LogoutParams, app_name: Option<&str>) -> Response {
    let hidden: String = [
        ("id_token_hint", &params.id_token_hint),
        ("client_id", &params.client_id),
        ("post_logout_redirect_uri", &params.post_logout_redirect_uri),
        ("state", &params.state),
    ]
    .iter()
    .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    .map(|(name, value)| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape_html(value)
        )
    })
    .collect();
    let app = app_name.map(escape_html).unwrap_or_else(|| "An app".into());
    let body = format!(
        "<h1>Sign out?</h1>\
         <p>{app} asks to sign you out of Dynamic OTP on this device.</p>\
         <p lang=\"hi\">{app} इस डिवाइस पर आपको Dynamic OTP से साइन आउट करना चाहता है।</p>\
         <form method=\"post\" action=\"{END_SESSION_PATH}\">{hidden}\
         <button type=\"submit\">Sign out / साइन आउट करें</button></form>\
         <p><a href=\"/\">Stay signed in / साइन इन रहें</a></p>"
    );
    let mut response = plain_page("Sign out?", &body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
