//! Everything that runs only on the server.

pub mod auth;
pub mod config;
pub mod cookies;
pub mod db;
pub mod secret;
pub mod run;
pub mod service;
pub mod sms;
pub mod web;
