#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    // Before the runtime starts its threads.
    dynamic_otp::server::startup::no_backtraces_for_errors();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(dynamic_otp::server::run::main()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser entry point is `hydrate` in lib.rs.
}
