//! Reading and writing our cookies inside server functions.

use http::header::{COOKIE, SET_COOKIE};
use http::request::Parts;
use http::HeaderValue;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// The session token.
pub const SESSION: &str = "sid";
/// The code challenge of this browser's sign-in or registration in progress.
pub const CHALLENGE: &str = "otp_challenge";
/// The username of the last refused sign-in, put back into the plain-HTML /login form.
pub const TYPED_USERNAME: &str = "typed_username";
/// The language picked with the switcher (see crate::language).
pub const LANGUAGE: &str = "lang";

/// A cookie of the request being served.
pub fn read(name: &str) -> Option<String> {
    read_from(&use_context::<Parts>()?, name)
}

/// A cookie of `parts`' request.
pub fn read_from(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// HttpOnly always; Secure unless turned off for plain-HTTP development.
pub fn set(name: &str, value: &str, max_age_secs: u64, secure: bool) {
    write(format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    ));
}

pub fn clear(name: &str, secure: bool) {
    set(name, "", 0, secure);
}

fn write(cookie: String) {
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&cookie),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}
