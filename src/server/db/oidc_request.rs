//! The `oidc_request` table: an app's authorization request, waiting while its user signs in
//! or answers the consent screen.

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct RequestRow {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// The sign-in must be newer than this (prompt=login, max_age); 0 when any will do.
    pub signed_in_after: i64,
    /// prompt=consent: ask even if the user said yes before.
    pub consent: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

fn record(key: &str) -> RecordId {
    RecordId::new("oidc_request", key)
}

pub async fn create(db: &Db, key: &str, row: RequestRow) -> Result<(), DbError> {
    db.query("CREATE $id CONTENT $row")
        .bind(("id", record(key)))
        .bind(("row", row))
        .await?
        .check()?;
    Ok(())
}

pub async fn get(db: &Db, key: &str, now: i64) -> Result<Option<RequestRow>, DbError> {
    let mut res = db
        .query("SELECT * OMIT id FROM $id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let rows: Vec<RequestRow> = res.take(0)?;
    Ok(rows.into_iter().next().filter(|r| r.expires_at > now))
}

/// Answered: gone, so one request makes at most one code.
pub async fn take(db: &Db, key: &str, now: i64) -> Result<Option<RequestRow>, DbError> {
    let mut res = db
        .query("DELETE $id RETURN BEFORE")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let rows: Vec<RequestRow> = res.take(0)?;
    Ok(rows.into_iter().next().filter(|r| r.expires_at > now))
}
