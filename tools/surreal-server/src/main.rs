//! `surreal`, the SurrealDB server, from the crates.io library of the same version as our SDK.
#![recursion_limit = "256"]

fn main() -> std::process::ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
