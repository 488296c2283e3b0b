//! Everything that runs only on the server.

pub mod admin;
pub mod admin_cli;
pub mod admin_oidc;
pub mod admin_socket;
pub mod auth;
pub mod client;
pub mod clock;
pub mod code_key;
pub mod config;
pub mod cookies;
pub mod db;
pub mod http;
pub mod janitor;
pub mod memory;
pub mod metrics;
pub mod run;
pub mod service;
pub mod settings;
pub mod sms;
pub mod startup;
pub mod state;
