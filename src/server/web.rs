//! The HTTP server: shared state, routes, the dev outbox, and error statuses for server fns.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::*;
use leptos::server_fn::error::FromServerFnError;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::app::{shell, App};
use crate::error::AppError;
use crate::server::auth::password::PasswordHasher;
use crate::server::clock::Clock;
use crate::server::config::Config;
use crate::server::db::{self, outbox};
use crate::server::secret::load_code_key;
use crate::server::service::AuthService;
use crate::server::sms::SmsSender;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub auth: AuthService,
    /// Set on SIGTERM: /readyz answers 503 while requests still get served.
    pub draining: Arc<AtomicBool>,
}

/// Connects the database, loads the code key, builds the hasher and the SMS sender.
pub async fn build_state(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<AppState, String> {
    let db = db::connect(&config.database)
        .await
        .map_err(|e| e.to_string())?;
    let code_key = load_code_key(&config, db::now_ms() / 1000)?;
    let hasher = PasswordHasher::new(&config.argon2).map_err(|e| e.to_string())?;
    let sms = SmsSender::from_config(&config, db.clone())?;
    tracing::info!("SMS providers: {}", sms.describe());
    crate::server::metrics::install();
    Ok(AppState {
        leptos_options,
        auth: AuthService {
            db,
            hasher,
            code_key,
            sms,
            config: Arc::new(config),
            clock: Clock::default(),
        },
        draining: Arc::default(),
    })
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let mut app = Router::new();
    if state.auth.config.metrics_addr.is_none() {
        app = app.route("/metrics", get(crate::server::metrics::scrape));
    }
    app.route("/dev/outbox", get(outbox_page))
        .route("/dev/outbox.json", get(outbox_json))
        .merge(crate::server::receipts_http::routes())
        .merge(crate::server::probes::routes())
        .merge(crate::server::language::routes())
        .leptos_routes_with_context(&state, routes, || (), move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.leptos_options.hash_files,
            asset_caching,
        ))
        // Brotli or gzip, whichever the browser takes; the WASM bundle shrinks about 3×.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::map_response(server_fn_status))
        .layer(axum::middleware::from_fn(same_origin_posts))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(
            crate::server::request_log::request_id,
        ))
        .with_state(state)
}

/// Hashed asset names change whenever their content does, so browsers may keep them a year
/// without asking again. Without hashing (a plain dev build), they must ask every time.
async fn asset_caching(
    State(hashed): State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let asset = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if asset && response.status().is_success() {
        let policy = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(policy),
        );
    }
    response
}

/// Headers every response carries. Script rules live in the page's own CSP (see `app::shell`),
/// which needs the per-response nonce; these directives only work as a header.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'",
        ),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

/// State-changing requests (every server function is a POST) must come from our own pages:
/// a browser names the page's origin, and it must be the host it is sending to. Clients that
/// send no Origin at all are not browsers and cannot carry a victim's cookies.
async fn same_origin_posts(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.method() == axum::http::Method::POST {
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        if let Some(origin) = origin {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            if origin_host.is_none() || origin_host != host {
                return error_response(&AppError::ForeignOrigin);
            }
        }
    }
    next.run(request).await
}

fn error_response(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(error)).into_response()
}

/// Server functions answer every error with 500; give each its own status (400, 401, 429 …)
/// from the error itself, so API clients see what kind of failure it was.
async fn server_fn_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let error = AppError::de(bytes.clone());
    parts.status =
        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(secs) = error.retry_after_secs() {
        parts
            .headers
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn outbox_json(State(state): State<AppState>) -> Response {
    // The outbox holds live codes: it exists only in development.
    if !state.auth.config.dev_mode {
        return StatusCode::NOT_FOUND.into_response();
    }
    match outbox::latest(&state.auth.db, 100).await {
        Ok(messages) => Json(messages).into_response(),
        Err(e) => {
            tracing::error!("outbox: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn outbox_page(State(state): State<AppState>) -> Response {
    // The outbox holds live codes: it exists only in development.
    if !state.auth.config.dev_mode {
        return StatusCode::NOT_FOUND.into_response();
    }
    let messages = match outbox::latest(&state.auth.db, 100).await {
        Ok(messages) => messages,
        Err(e) => {
            tracing::error!("outbox: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let rows: String = messages
        .iter()
        .map(|m| {
            format!(
                "<li><p class=\"to\">To {}</p><pre>{}</pre></li>",
                escape(&m.recipient),
                escape(&m.body)
            )
        })
        .collect();
    let empty = if messages.is_empty() {
        "<p>No messages yet.</p>"
    } else {
        ""
    };
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"5\"><title>Dev outbox</title>\
         <link rel=\"stylesheet\" href=\"/pkg/{}.css\"></head><body><main class=\"card outbox\">\
         <h1>Dev outbox</h1><p class=\"hint\">Messages the console SMS provider would have sent, newest first. \
         Development mode only.</p>{empty}<ul>{rows}</ul></main></body></html>",
        state.leptos_options.output_name
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
