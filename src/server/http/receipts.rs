//! The delivery-receipt endpoints providers call: Twilio's status callback (checked by its
//! signature) and MSG91's and Vonage's (checked by a secret in the URL). Logs never show that
//! URL: the secret in its path stays out of them.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::routing::{any, post};
use axum::Router;
use subtle::ConstantTimeEq;

use crate::server::db::sms_message::{self, MessageRef};
use crate::server::sms::receipts::{self, Receipt, ReceiptRef};
use crate::server::sms::settings::ProviderKind;
use crate::server::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sms/status/twilio", post(twilio))
        .route("/sms/status/msg91/{secret}", post(msg91))
        .route("/sms/status/vonage/{secret}", any(vonage))
}

async fn twilio(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let config = &state.auth.config;
    let Some(auth_token) = config.sms.providers.iter().find_map(|p| match &p.kind {
        ProviderKind::Twilio { auth_token, .. } => Some(auth_token.clone()),
        _ => None,
    }) else {
        return StatusCode::NOT_FOUND;
    };
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    // Twilio signs the URL it was given: our public URL, this path, the query with our ref.
    let url = format!(
        "{}{}",
        config.public_url.trim_end_matches('/'),
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !receipts::twilio_signature_valid(auth_token.expose(), &url, &params, signature) {
        tracing::warn!("SMS receipt from twilio refused: bad signature");
        return StatusCode::FORBIDDEN;
    }
    let reference = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|q| q.into_iter().find(|(k, _)| k == "ref").map(|(_, v)| v));
    let Some(receipt) = reference.and_then(|r| receipts::twilio(&r, &params)) else {
        return StatusCode::BAD_REQUEST;
    };
    apply(&state, "twilio", receipt).await
}

async fn msg91(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if !secret_matches(&state, &secret) {
        return StatusCode::NOT_FOUND;
    }
    let json = is_json(&headers)
        .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .flatten();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let found = receipts::msg91(json.as_ref(), &form);
    if found.is_empty() {
        return StatusCode::BAD_REQUEST;
    }
    let mut answer = StatusCode::OK;
    for receipt in found {
        answer = apply(&state, "msg91", receipt).await;
    }
    answer
}

/// Vonage calls with GET (query) or POST (JSON or form), as the account is set up.
async fn vonage(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if !secret_matches(&state, &secret) {
        return StatusCode::NOT_FOUND;
    }
    let params: Vec<(String, String)> = if method == Method::GET {
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default()
    } else if is_json(&headers) {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| {
                    let text = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    (k, text)
                })
                .collect(),
            _ => Vec::new(),
        }
    } else {
        serde_urlencoded::from_bytes(&body).unwrap_or_default()
    };
    match receipts::vonage(&params) {
        Some(receipt) => apply(&state, "vonage", receipt).await,
        None => StatusCode::BAD_REQUEST,
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Receipts with a secret URL exist only once a secret is set; compared in constant time.
fn secret_matches(state: &AppState, given: &str) -> bool {
    let expected = &state.auth.config.sms.callback_secret;
    !expected.is_empty() && bool::from(expected.expose().as_bytes().ct_eq(given.as_bytes()))
}

/// Records the receipt. Unknown or repeated receipts still get 200, so the provider does not
/// keep retrying something that will never change.
async fn apply(state: &AppState, provider: &str, receipt: Receipt) -> StatusCode {
    let message = match &receipt.message {
        ReceiptRef::Ours(key) => MessageRef::Ours(key),
        ReceiptRef::Provider(id) => MessageRef::Provider(id),
    };
    let now = state.auth.clock.now_ms();
    match sms_message::receipt(
        &state.auth.db,
        provider,
        message,
        receipt.status,
        receipt.error_code.clone(),
        now,
    )
    .await
    {
        Ok(moved) => {
            tracing::info!(
                "SMS receipt from {provider}: {}{}",
                receipt.status.as_str(),
                if moved { "" } else { " (no change)" }
            );
            StatusCode::OK
        }
        Err(e) => {
            tracing::error!("SMS receipt from {provider}: {e}");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
