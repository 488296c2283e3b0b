//! The HTTP side: the router and what it mounts besides the Leptos pages and server functions.

mod assets;
pub mod dev_outbox;
mod form_action;
pub mod language_switch;
pub mod middleware;
pub mod oidc;
mod oidc_logout;
pub mod probes;
pub mod receipts;
pub mod request_log;
mod typed_fields;

use axum::routing::get;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::app::{shell, App};
use crate::server::settings::MetricsAt;
use crate::server::state::AppState;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let mut app = Router::new();
    if state.auth.config.metrics == MetricsAt::Site {
        app = app.route("/metrics", get(crate::server::metrics::scrape));
    }
    app.merge(dev_outbox::routes())
        .merge(receipts::routes())
        .merge(probes::routes())
        .merge(oidc::routes())
        .merge(oidc_logout::routes())
        .merge(language_switch::routes())
        .leptos_routes_with_context(&state, routes, || (), move || shell(options.clone()))
        .fallback(assets::service(&state))
        .layer(axum::middleware::from_fn_with_state(
            state.leptos_options.hash_files,
            middleware::asset_caching,
        ))
        // Inside compression: it reads the error from the body, which must still be plain.
        .layer(axum::middleware::map_response(middleware::server_fn_status))
        // Brotli or gzip, whichever the browser takes; the WASM bundle shrinks about 3×.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.auth.config.cookie_secure,
            typed_fields::keep,
        ))
        .layer(axum::middleware::from_fn(middleware::same_origin_posts))
        .layer(axum::middleware::map_response(middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            form_action::FormTargets::new(state.auth.db.clone()),
            form_action::policy,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.auth.config.cookie_secure,
            middleware::secure_transport,
        ))
        .layer(axum::middleware::from_fn(request_log::request_id))
        .with_state(state)
}

/// Text placed in the few pages written here without Leptos.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A page of our own for the few answers outside the app's pages (no script, no stylesheet).
fn plain_page(title: &str, body: &str) -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main>{body}</main></body></html>"
    ))
}
