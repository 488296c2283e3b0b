//! What both the server and the admin command do first: settle TLS, read the settings, set up
//! logging.

use leptos::config::{get_configuration, Env, LeptosOptions};
use tracing_subscriber::EnvFilter;

use crate::server::config::{unknown_variables, Sources};
use crate::server::settings::Config;

const CONFIG_FILE: &str = "Leptos.toml";

fn hash_file_beside_binary(leptos: &LeptosOptions) -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(leptos.hash_file.as_ref())))
        .is_some_and(|path| path.is_file())
}

/// With `RUST_BACKTRACE=1`, as many machines and images set it, every `anyhow` error captures a
/// backtrace, and SurrealDB's engine makes such errors in the course of ordinary queries: 3% of
/// the server's CPU during sign-ins here, in stack unwinding. Errors leave theirs off; panics
/// still print one. An operator's own `RUST_LIB_BACKTRACE` wins. Called before any thread
/// exists, as changing the environment requires.
pub fn no_backtraces_for_errors() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}

/// Two rustls crypto providers (ring, aws-lc-rs) end up in the tree through different crates;
/// with both, rustls cannot choose and a `wss://` database connection panics. Name one.
pub fn use_one_tls_provider() {
    // Err means one is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Leptos' options and ours, from Leptos.toml and the environment, and what to warn about
/// once logging is up.
pub fn configuration() -> Result<(Config, LeptosOptions, Vec<String>), String> {
    let file = std::fs::read_to_string(CONFIG_FILE).ok();
    let mut leptos = get_configuration(file.as_ref().map(|_| CONFIG_FILE))
        .map_err(|e| format!("Leptos configuration: {e}"))?
        .leptos_options;
    // Leptos panics while rendering a page when hashing is on but cargo-leptos left no hash
    // file beside this binary (a binary built by plain `cargo build`); link unhashed names.
    if leptos.hash_files && !hash_file_beside_binary(&leptos) {
        leptos.hash_files = false;
    }
    let sources =
        Sources::new(file.as_deref(), |key| std::env::var(key).ok()).map_err(|e| e.to_string())?;
    let asked = std::env::var_os("LEPTOS_ENV").is_some();
    let dev = dev_by_default(leptos.env == Env::DEV, asked, cfg!(debug_assertions));
    let config =
        Config::load(&sources, dev, &leptos.site_addr.to_string()).map_err(|e| e.to_string())?;
    let mut warnings = sources.warnings();
    warnings.extend(unknown_variables(std::env::vars().map(|(name, _)| name)));
    Ok((config, leptos, warnings))
}

/// Whether dev mode (every code at /dev/outbox, the console provider) is on unless `dev_mode`
/// says otherwise. Leptos calls an unset LEPTOS_ENV "DEV"; a debug build (what `cargo leptos
/// watch` runs) may take that default, a release binary is production unless asked.
fn dev_by_default(leptos_dev: bool, leptos_env_set: bool, debug_build: bool) -> bool {
    leptos_dev && (debug_build || leptos_env_set)
}

/// Text lines for people or JSON for collectors; `RUST_LOG` filters either.
pub fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,surrealdb=warn,surrealkv=warn,surrealdb_core=warn")
    });
    // Each line carries the request's span (its id) and the flow's, in either format; JSON
    // lists them all under "spans", the innermost under "span".
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_release_binary_is_production_unless_asked() {
        use super::dev_by_default;
        assert!(
            !dev_by_default(true, false, false),
            "release, LEPTOS_ENV unset"
        );
        assert!(dev_by_default(true, true, false), "release, LEPTOS_ENV=DEV");
        assert!(
            !dev_by_default(false, true, false),
            "release, LEPTOS_ENV=PROD"
        );
        assert!(
            dev_by_default(true, false, true),
            "debug build, as cargo leptos runs it"
        );
        assert!(
            !dev_by_default(false, true, true),
            "debug build, LEPTOS_ENV=PROD"
        );
    }

    #[tokio::test]
    async fn a_wss_database_url_reaches_the_tls_handshake_without_panicking() {
        super::use_one_tls_provider();
        // A peer that accepts and hangs up: the client gets as far as starting TLS.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                drop(socket);
            }
        });
        let connected = surrealdb::engine::any::connect(format!("wss://{addr}")).await;
        let error = match connected {
            Ok(_) => panic!("no server there"),
            Err(e) => e.to_string(),
        };
        assert!(
            !error.contains("nsupported"),
            "wss:// is compiled in: {error}"
        );
    }
}
