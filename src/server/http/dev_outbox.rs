//! `/dev/outbox`: what the console SMS provider would have sent, as a page and as JSON, so
//! anyone can try the flow without an SMS account. It holds live codes: development mode only.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::server::db::sms_outbox as outbox;
use crate::server::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dev/outbox", get(outbox_page))
        .route("/dev/outbox.json", get(outbox_json))
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
                super::escape_html(&m.recipient),
                super::escape_html(&m.body)
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
