//! Layers every response passes through: caching of assets, security headers, the same-origin
//! rule for POSTs, and each server-function error's own status.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use leptos::server_fn::error::FromServerFnError;

use crate::error::AppError;
use crate::server::cookies::SecureCookies;

/// Hashed asset names change whenever their content does, so browsers may keep them a year
/// without asking again. Without hashing (a plain dev build), they must ask every time.
pub async fn asset_caching(
    State(hashed): State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let asset = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if asset && response.status().is_success() {
        let policy = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(policy),
        );
    }
    response
}

/// Headers every response carries. Script rules live in the page's own CSP (see `app::shell`),
/// which needs the per-response nonce; these directives only work as a header. Where forms may
/// lead is a policy of its own (http::form_action).
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

/// Whether the response is a page (HTML), not an asset or a server function's answer.
pub fn is_page(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"))
}

/// With Secure cookies (the site is served over HTTPS): marks the request so cookies go by
/// their `__Host-` names, and tells browsers to use HTTPS only for a year (HSTS).
pub async fn secure_transport(
    State(secure): State<bool>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !secure {
        return next.run(request).await;
    }
    request.extensions_mut().insert(SecureCookies);
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    response
}

/// State-changing requests (every server function and form is a POST) must come from our own
/// pages: the browser's Origin must be the host it is sending to, or, where a browser sends no
/// Origin, its Sec-Fetch-Site must say same-origin. A POST with neither is refused: browsers send
/// one or the other, so only a forged or stripped request lacks both. Provider receipts are
/// machine-to-machine and authenticate their caller instead (http::receipts), as the OpenID
/// Connect back channel does (http::oidc).
pub async fn same_origin_posts(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    let machine_to_machine =
        path.starts_with(RECEIPTS_PREFIX) || super::oidc::is_back_channel(path);
    if request.method() == axum::http::Method::POST
        && !machine_to_machine
        && !from_own_page(request.headers())
    {
        return error_response(&AppError::ForeignOrigin);
    }
    next.run(request).await
}

/// Where provider delivery receipts arrive.
const RECEIPTS_PREFIX: &str = "/sms/status/";

fn from_own_page(headers: &header::HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    match text(header::ORIGIN) {
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            origin_host.is_some() && origin_host == text(header::HOST)
        }
        None => text(header::HeaderName::from_static("sec-fetch-site")) == Some("same-origin"),
    }
}

fn error_response(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(error)).into_response()
}

/// Server functions answer every error with 500; give each its own status (400, 401, 429 …)
/// from the error itself, so API clients see what kind of failure it was.
pub async fn server_fn_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let error = AppError::de(bytes.clone());
    parts.status =
        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(secs) = error.retry_after_secs() {
        parts
            .headers
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    Response::from_parts(parts, Body::from(bytes))
}
