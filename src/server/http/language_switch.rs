//! `/lang/<code>`: remembers the reader's language in a cookie and goes back to the page they
//! were on. A plain link, so switching works without JavaScript; the next page is rendered on
//! the server in the new language, with no flash of the old one.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use http::header::SET_COOKIE;

use crate::i18n::Locale;
use crate::server::cookies::{wire_name, LANGUAGE};
use crate::server::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/lang/{code}", get(switch))
}

async fn switch(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let back = Redirect::to(local_path(query.get("next").map(String::as_str)));
    if code.parse::<Locale>().is_err() {
        return back.into_response();
    }
    let secure = state.auth.config.cookie_secure;
    let name = wire_name(LANGUAGE, secure);
    let flag = if secure { "; Secure" } else { "" };
    // Not HttpOnly: it names a language, not a secret.
    let cookie = format!("{name}={code}; Path=/; Max-Age=31536000; SameSite=Lax{flag}");
    ([(SET_COOKIE, cookie)], back).into_response()
}

/// Only a path on this site: anything else (another host, `//host`, `/\host`) goes home, so the
/// link cannot be used to send people elsewhere.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/account/phone?x=1")), "/account/phone?x=1");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/a\r\nSet-Cookie: x=1")), "/");
        assert_eq!(local_path(None), "/");
    }
}
