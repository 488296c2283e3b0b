//! Where a page's forms may lead. Forms post to us, and our answer may send the browser on to a
//! registered app (its redirect address, after sign-in or consent); browsers hold every redirect
//! of a form's submission to the page's `form-action`. So pages allow our own origin and the
//! origins of the apps' redirect addresses, as the store lists them now.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::server::db::oidc_client;
use crate::server::state::AppState;

pub async fn policy(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if !super::middleware::is_page(&response) {
        return response;
    }
    // Unreadable list: our own origin only (an app's sign-in then needs its link followed).
    let apps = oidc_client::all(&state.auth.db).await.unwrap_or_default();
    let mut origins: Vec<&str> = apps
        .iter()
        .flat_map(|app| app.redirect_uris.iter())
        .filter_map(|uri| origin(uri))
        .collect();
    origins.sort_unstable();
    origins.dedup();
    let policy = format!("form-action 'self' {}", origins.join(" "));
    if let Ok(value) = HeaderValue::from_str(policy.trim_end()) {
        // A second policy: browsers enforce each, so the fixed one's directives still hold.
        response
            .headers_mut()
            .append(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `scheme://host[:port]` of an address, if it is nothing else a policy could misread.
fn origin(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = &uri[..scheme.len() + 3 + end];
    let plain = |c: char| c.is_ascii_alphanumeric() || ":/.-[]".contains(c);
    (end > 0 && origin.chars().all(plain)).then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port_only() {
        assert_eq!(
            origin("https://shop.example.in/cb?x=1"),
            Some("https://shop.example.in")
        );
        assert_eq!(
            origin("http://127.0.0.1:3108/callback"),
            Some("http://127.0.0.1:3108")
        );
        assert_eq!(origin("http://[::1]:8080"), Some("http://[::1]:8080"));
        assert_eq!(origin("https://a.example;script-src *"), None);
        assert_eq!(origin("https:///path"), None);
        assert_eq!(origin("no-scheme"), None);
    }
}
