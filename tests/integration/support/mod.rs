//! What the integration tests, the crash test, the cluster tests and the benchmark share: the
//! server process (a builder with `Drop`), the in-process app, the SMS gateway. Time moves
//! with the app's own `Clock` (`TestApp::clock`), the one clock the flows read.
#![allow(dead_code)]

pub mod app;
pub mod gateway;
pub mod server;

pub use app::*;
pub use gateway::*;
pub use server::*;
