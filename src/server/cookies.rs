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
/// The fields (no secrets) of the last refused form, put back into it (http::typed_fields).
pub const TYPED: &str = "typed";
/// Where to return after signing in again to make a sensitive change (model::STEP_UP_PAGES).
pub const NEXT: &str = "next";
/// The browser's offset from UTC in minutes, written by the app's script (see lib.rs).
pub const TIME_ZONE: &str = "tz";
/// The language picked with the switcher (see crate::language).
pub const LANGUAGE: &str = "lang";
/// The device token of a browser that has signed in (see service::device).
pub const DEVICE: &str = "device";
/// How long a device token lasts: a year.
pub const DEVICE_MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// Marks a request served with Secure cookies (http::middleware puts it there). Their names
/// then carry the `__Host-` prefix, which a browser accepts only from this very host, over
/// HTTPS and for every path: a sibling subdomain cannot plant or overwrite one.
#[derive(Debug, Clone, Copy)]
pub struct SecureCookies;

/// The name a cookie goes by on the wire.
pub fn wire_name(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_string()
    }
}

/// A cookie of the request being served.
pub fn read(name: &str) -> Option<String> {
    read_from(&use_context::<Parts>()?, name)
}

/// A cookie of `parts`' request.
pub fn read_from(parts: &Parts, name: &str) -> Option<String> {
    let name = wire_name(name, parts.extensions.get::<SecureCookies>().is_some());
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name.as_str())
        .map(|(_, value)| value.to_string())
}

/// One field of a cookie that holds form fields, form-encoded (TYPED).
pub fn form_field(value: &str, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(value)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// HttpOnly always; Secure (and `__Host-`) unless turned off for plain-HTTP development.
pub fn set(name: &str, value: &str, max_age_secs: u64, secure: bool) {
    write(header_value(name, value, max_age_secs, secure));
}

pub fn clear(name: &str, secure: bool) {
    set(name, "", 0, secure);
}

/// The `Set-Cookie` value that removes a cookie, for handlers outside Leptos.
pub fn clearing(name: &str, secure: bool) -> String {
    header_value(name, "", 0, secure)
}

/// The `Set-Cookie` value that sets a cookie, for handlers outside Leptos.
pub fn setting(name: &str, value: &str, max_age_secs: u64, secure: bool) -> String {
    header_value(name, value, max_age_secs, secure)
}

fn header_value(name: &str, value: &str, max_age_secs: u64, secure: bool) -> String {
    let name = wire_name(name, secure);
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

fn write(cookie: String) {
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&cookie),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}
