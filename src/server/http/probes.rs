//! Probes for load balancers and orchestrators: cheap, unauthenticated, never a secret.
//! `/healthz`: the process answers. `/readyz`: the database answers and holds our schema, and
//! an SMS provider is configured; 503 otherwise, so traffic goes to another instance.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::server::db::{self, Db};
use crate::server::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], "ok").into_response()
}

/// A probe must answer in time even when the database server has gone silent.
const DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn readyz(State(state): State<AppState>) -> Response {
    let checked = tokio::time::timeout(DATABASE_WAIT, schema_present(&state.auth.db)).await;
    let database = match checked {
        Ok(Ok(true)) => "ok",
        Ok(Ok(false)) => "schema missing",
        Ok(Err(e)) => {
            tracing::warn!("readyz: {e}");
            "unreachable"
        }
        Err(_) => {
            tracing::warn!("readyz: no answer from the database in {DATABASE_WAIT:?}");
            "unreachable"
        }
    };
    let providers = state.auth.sms.describe();
    let draining = state.draining.load(std::sync::atomic::Ordering::Relaxed);
    let ready = database == "ok" && !providers.is_empty() && !draining;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "ready": ready,
        "database": database,
        "sms_providers": providers,
        "draining": draining,
    });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Whether every table of our schema is defined in the database.
pub async fn schema_present(db: &Db) -> Result<bool, db::DbError> {
    let mut res = db
        .query("RETURN object::keys((INFO FOR DB).tables)")
        .await?
        .check()?;
    let tables: Vec<String> = res.take(0)?;
    Ok(db::TABLES
        .iter()
        .all(|t| tables.iter().any(|have| have == t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_schema_is_seen_once_applied() {
        let db = crate::server::db::memory().await;
        assert!(schema_present(&db).await.unwrap());
        db.query("REMOVE TABLE sms_breaker")
            .await
            .unwrap()
            .check()
            .unwrap();
        assert!(!schema_present(&db).await.unwrap());
    }
}
