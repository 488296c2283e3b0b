//! The `oidc_consent` table: what each account allowed each app to know.

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
struct ConsentRow {
    scopes: Vec<String>,
}

/// One app the account allowed, and when.
#[derive(Debug, Clone, SurrealValue)]
pub struct Allowed {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub at: i64,
}

/// Every app the account allowed, newest first.
pub async fn of_account(db: &Db, account: &RecordId) -> Result<Vec<Allowed>, DbError> {
    let mut res = db
        .query("SELECT client_id, scopes, at FROM oidc_consent WHERE account = $account ORDER BY at DESC")
        .bind(("account", account.clone()))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// The scopes `account` allowed `client_id`, if it ever did.
pub async fn scopes(
    db: &Db,
    account: &RecordId,
    client_id: &str,
) -> Result<Option<Vec<String>>, DbError> {
    let mut res = db
        .query("SELECT scopes FROM oidc_consent WHERE account = $account AND client_id = $client LIMIT 1")
        .bind(("account", account.clone()))
        .bind(("client", client_id.to_string()))
        .await?
        .check()?;
    let rows: Vec<ConsentRow> = res.take(0)?;
    Ok(rows.into_iter().next().map(|r| r.scopes))
}

/// Records a yes, replacing an earlier one for the same app.
pub async fn allow(
    db: &Db,
    account: &RecordId,
    client_id: &str,
    scopes: Vec<String>,
    now: i64,
) -> Result<(), DbError> {
    db.query(
        "BEGIN TRANSACTION;
         DELETE oidc_consent WHERE account = $account AND client_id = $client;
         CREATE oidc_consent CONTENT { account: $account, client_id: $client, scopes: $scopes, at: $now };
         COMMIT TRANSACTION;",
    )
    .bind(("account", account.clone()))
    .bind(("client", client_id.to_string()))
    .bind(("scopes", scopes))
    .bind(("now", now))
    .await?
    .check()?;
    Ok(())
}

/// Forgets the yes: the app must ask again.
pub async fn remove(db: &Db, account: &RecordId, client_id: &str) -> Result<(), DbError> {
    db.query("DELETE oidc_consent WHERE account = $account AND client_id = $client")
        .bind(("account", account.clone()))
        .bind(("client", client_id.to_string()))
        .await?
        .check()?;
    Ok(())
}
