//! Process start-up: logging, configuration, state, listening, graceful shutdown.

use std::process::ExitCode;

use axum::serve::ListenerExt;
use leptos::config::LeptosOptions;

use crate::server::http::router;
use crate::server::janitor;
use crate::server::settings::{Config, MetricsAt};
use crate::server::startup::{configuration, init_logging, use_one_tls_provider};
use crate::server::state::build_state;

pub async fn main() -> ExitCode {
    use_one_tls_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("admin") {
        return crate::server::admin_cli::main(&args[1..]).await;
    }
    let (config, leptos, warnings) = match configuration() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(config.json_logs);
    for warning in warnings {
        tracing::warn!("{warning}");
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

async fn start(config: Config, leptos: LeptosOptions) -> Result<(), String> {
    let site_addr = leptos.site_addr;
    let json_logs = config.json_logs;
    let state = build_state(config, leptos).await?;
    let auth = &state.auth;
    auth.register_listed_clients().await?;
    janitor::spawn(
        auth.db.clone(),
        auth.clock.clone(),
        auth.config.otp.challenge_max_age_secs,
    );
    spawn_phone_waits(auth.clone());
    crate::server::memory::spawn_release(auth.hasher.clone());
    if crate::server::admin_socket::store_is_embedded(&auth.config) {
        crate::server::admin_socket::serve(auth.db.clone(), (*auth.config).clone())?;
    }
    let listener = tokio::net::TcpListener::bind(site_addr)
        .await
        .map_err(|e| format!("cannot listen on {site_addr}: {e}"))?
        .tap_io(no_delay);
    if let MetricsAt::Own(addr) = state.auth.config.metrics {
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

/// Carries out phone changes whose wait is over, a minute late at most. Every instance runs it;
/// each change happens once.
fn spawn_phone_waits(auth: crate::server::service::AuthService) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            match auth.carry_out_phone_waits().await {
                Ok(0) => {}
                Ok(moved) => tracing::info!("{moved} waiting phone changes carried out"),
                Err(e) => tracing::warn!("waiting phone changes: {e}"),
            }
        }
    });
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
