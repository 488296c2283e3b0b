//! What was typed into a refused form comes back with the form. Forms post as plain HTML forms:
//! a refusal sends the browser back to the form's page, which would otherwise open empty. The
//! fields that are no secret ride along in a short cookie for the next page only; passwords
//! and codes never do.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::cookies;

/// Form fields worth putting back; every other name is left out, secrets with them.
const KEPT: [&str; 5] = ["username", "full_name", "phone", "country", "email"];
/// Forms are small; a bigger body is passed on as it is, without keeping anything.
const MAX_FORM_BYTES: u64 = 16 * 1024;
/// Longer than any field's own limit, so a value is never cut short of what was typed.
const MAX_VALUE_CHARS: usize = 256;
/// Enough to come back from a refusal; the next page clears it anyway.
const LIFETIME_SECS: u64 = 300;

pub async fn keep(State(secure): State<bool>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let had_cookie = cookies::read_from(&parts, cookies::TYPED).is_some();
    if !is_small_form_post(&parts) {
        let mut response = next.run(Request::from_parts(parts, body)).await;
        // The page that showed the values has used them up.
        if had_cookie && super::middleware::is_page(&response) {
            append(&mut response, cookies::clearing(cookies::TYPED, secure));
        }
        return response;
    }
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES as usize).await else {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let typed = kept_fields(&bytes);
    let mut response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if is_refusal(&response) && !typed.is_empty() {
        append(
            &mut response,
            cookies::setting(cookies::TYPED, &typed, LIFETIME_SECS, secure),
        );
    } else if had_cookie {
        append(&mut response, cookies::clearing(cookies::TYPED, secure));
    }
    response
}

fn is_small_form_post(parts: &axum::http::request::Parts) -> bool {
    let header_text = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    parts.method == Method::POST
        && parts.uri.path().starts_with("/api/")
        && header_text(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
        && header_text(header::ACCEPT).is_some_and(|a| a.contains("text/html"))
        && header_text(header::CONTENT_LENGTH)
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n <= MAX_FORM_BYTES)
}

/// The cookie value: the kept fields, form-encoded (no character a cookie may not hold).
fn kept_fields(body: &[u8]) -> String {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let kept: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(name, value)| KEPT.contains(&name.as_str()) && !value.trim().is_empty())
        .map(|(name, value)| (name, value.chars().take(MAX_VALUE_CHARS).collect()))
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// A refused form post goes back to its page with the error in the address.
fn is_refusal(response: &Response) -> bool {
    response.status().is_redirection()
        && response
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.contains("__err="))
}

fn append(response: &mut Response, cookie: String) {
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fields_that_are_no_secret_are_kept() {
        let body = b"username=raj_sharma&password=hunter2-secret&full_name=%E0%A4%B0%E0%A4%BE%E0%A4%9C&phone=98765+43210&code=123456&email=";
        let kept = kept_fields(body);
        assert!(!kept.contains("hunter2"), "{kept}");
        assert!(!kept.contains("123456"), "{kept}");
        assert_eq!(
            cookies::form_field(&kept, "username").as_deref(),
            Some("raj_sharma")
        );
        assert_eq!(
            cookies::form_field(&kept, "full_name").as_deref(),
            Some("राज")
        );
        assert_eq!(
            cookies::form_field(&kept, "phone").as_deref(),
            Some("98765 43210")
        );
        assert_eq!(cookies::form_field(&kept, "email"), None);
        assert_eq!(cookies::form_field(&kept, "password"), None);
        // Nothing a cookie value may not hold.
        assert!(!kept.contains([';', ',', ' ', '"', '\\']), "{kept}");
    }
}
