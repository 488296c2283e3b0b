// What SurrealDB's own server runs on (see Cargo.toml); its background threads give freed pages
// back to the OS while the server idles.
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    // Before the runtime starts its threads.
    dynamic_otp::server::startup::no_backtraces_for_errors();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // A code check's future (middleware, service, store transaction) nests deep; in a debug
        // build it overflowed tokio's 2 MiB. Untouched stack costs address space, not memory.
        .thread_stack_size(8 * 1024 * 1024)
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
