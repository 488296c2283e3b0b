//! Everything that runs only on the server.

pub mod admin;
pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod cookies;
pub mod db;
pub mod janitor;
pub mod language;
pub mod metrics;
pub mod probes;
pub mod receipts_http;
pub mod request_log;
pub mod run;
pub mod secret;
pub mod service;
pub mod sms;
pub mod web;
