//! Every request gets an id, kept in a tracing span so every log line the request causes
//! carries it, sent back as `X-Request-Id`, and one access line when it ends. Paths are logged
//! with the secret of receipt URLs cut out.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const HEADER: &str = "x-request-id";

pub async fn request_id(request: Request, next: Next) -> Response {
    // A proxy's id is kept when it is a plain token; anything else gets a fresh one.
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| crate::server::auth::token::new_token()[..16].to_string());
    let method = request.method().clone();
    let path = loggable_path(request.uri().path());
    let route = route_label(&request);
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            "{method} {path} {status} {:.1} ms",
            elapsed.as_secs_f64() * 1000.0
        )
    });
    let route = if status == 404 { "unmatched" } else { &route };
    crate::server::metrics::request(method.as_str(), route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// The route pattern, not the path: a metric label must come from a closed set. Each server
/// function is a route of its own; assets share one label.
fn route_label(request: &Request) -> String {
    let path = request.uri().path();
    match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_string(),
        None if path.starts_with("/pkg/") || path == "/favicon.ico" => "static".into(),
        None => "other".into(),
    }
}

/// The path as it may appear in a log: receipt URLs end in a secret, which is cut out.
pub fn loggable_path(path: &str) -> String {
    let short: String = path.chars().take(200).collect();
    match short.strip_prefix("/sms/status/") {
        Some(rest) if rest.contains('/') => {
            let provider = rest.split('/').next().unwrap_or_default();
            format!("/sms/status/{provider}/<redacted>")
        }
        _ => short,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_secrets_never_reach_the_log() {
        assert_eq!(
            loggable_path("/sms/status/msg91/s3cret-value"),
            "/sms/status/msg91/<redacted>"
        );
        assert_eq!(loggable_path("/sms/status/twilio"), "/sms/status/twilio");
        assert_eq!(loggable_path("/api/login"), "/api/login");
    }
}
