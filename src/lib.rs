#![cfg_attr(all(feature = "ssr", not(test)), deny(clippy::unwrap_used))]
//! Dynamic OTP: password + SMS one-time-code sign-in where every user gets the code on the
//! phone stored for them.

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
