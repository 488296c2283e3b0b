//! Process start-up: logging, configuration, state, listening, graceful shutdown.

use std::process::ExitCode;

use axum::serve::ListenerExt;
use leptos::config::{get_configuration, Env, LeptosOptions};
use tracing_subscriber::EnvFilter;

use crate::server::config::{Config, Sources};
use crate::server::janitor;
use crate::server::web::{build_state, router};

const CONFIG_FILE: &str = "Leptos.toml";

pub async fn main() -> ExitCode {
    use_one_tls_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("admin") {
        return crate::server::admin::main(&args[1..]).await;
    }
    let (config, leptos) = match configuration() {
        Ok(both) => both,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,surrealdb=warn,surrealkv=warn,surrealdb_core=warn")
    });
    // Each line carries the request's span (its id), in either format.
    if config.json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    match start(config, leptos).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn hash_file_beside_binary(leptos: &LeptosOptions) -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(leptos.hash_file.as_ref())))
        .is_some_and(|path| path.is_file())
}

/// Two rustls crypto providers (ring, aws-lc-rs) end up in the tree through different crates;
/// with both, rustls cannot choose and a `wss://` database connection panics. Name one.
pub fn use_one_tls_provider() {
    // Err means one is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Leptos' options and ours, from Leptos.toml and the environment.
pub fn configuration() -> Result<(Config, LeptosOptions), String> {
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
    let config = Config::load(
        &sources,
        leptos.env == Env::DEV,
        &leptos.site_addr.to_string(),
    )
    .map_err(|e| e.to_string())?;
    Ok((config, leptos))
}

async fn start(config: Config, leptos: LeptosOptions) -> Result<(), String> {
    let site_addr = leptos.site_addr;
    let json_logs = config.json_logs;
    let state = build_state(config, leptos).await?;
    let auth = &state.auth;
    janitor::spawn(
        auth.db.clone(),
        auth.clock.clone(),
        auth.config.otp.challenge_max_age_secs,
    );
    let listener = tokio::net::TcpListener::bind(site_addr)
        .await
        .map_err(|e| format!("cannot listen on {site_addr}: {e}"))?
        .tap_io(no_delay);
    if let Some(addr) = state.auth.config.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for metrics: {e}"))?;
        let metrics = axum::Router::new().route(
            "/metrics",
            axum::routing::get(crate::server::metrics::scrape),
        );
        tracing::info!("metrics at http://{addr}/metrics");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics).await {
                tracing::error!("metrics listener: {e}");
            }
        });
    }
    let draining = state.draining.clone();
    let drain = std::time::Duration::from_secs(state.auth.config.shutdown_drain_secs);
    let app = router(state);
    tracing::info!("Dynamic OTP is ready at http://{site_addr}");
    // With JSON logs, stdout carries JSON only; the line above says it.
    if !json_logs {
        println!("Dynamic OTP is ready at http://{site_addr}");
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // Keep accepting a moment with /readyz at 503: the load balancer moves new traffic away,
        // and connections already queued in the listen backlog are taken and answered rather
        // than reset when the listener closes.
        draining.store(true, std::sync::atomic::Ordering::Relaxed);
        if !drain.is_zero() {
            tracing::info!("draining for {} s", drain.as_secs());
            tokio::time::sleep(drain).await;
        }
        tracing::info!("no new connections; finishing the requests in flight");
    })
    .await
    .map_err(|e| format!("server: {e}"))
}

/// Responses streamed in pieces (static files) would otherwise wait on Nagle's algorithm for the
/// client's delayed ACK: about 40 ms per file.
pub fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!("TCP_NODELAY: {e}");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
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
