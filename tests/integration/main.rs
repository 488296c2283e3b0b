//! The whole flow over real HTTP: the real server on a free port, the in-memory SurrealDB engine,
//! real argon2, and loopback HTTP servers playing the SMS providers. One binary on purpose:
//! each test binary is another long link.
#![cfg(feature = "ssr")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use dynamic_otp::error::{AppError, Problem};
use dynamic_otp::i18n::Locale;
use dynamic_otp::model::SignedInUser;
use dynamic_otp::server::config::Sources;
use dynamic_otp::server::db::{session, user, Db};
use dynamic_otp::server::http::router;
use dynamic_otp::server::settings::Config;
use dynamic_otp::server::state::build_state;
use leptos::config::LeptosOptions;
use reqwest::header::{ACCEPT, COOKIE, SET_COOKIE};

mod support;
#[allow(unused_imports)]
use support::*;

mod account;
mod cli;
mod cluster;
mod crash;
mod factors;
mod flow;
mod guessing;
mod hardening;
mod language;
mod limits;
mod malformed;
mod oidc;
mod oidc_tokens;
mod ops;
mod passkeys;
mod phone_wait;
mod plans;
mod providers;
mod races;
mod reset;
mod step_up;
