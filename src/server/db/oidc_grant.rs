//! The `oidc_grant` table: one authorization code (stored as its hash) and what the tokens
//! made from it say. The code is redeemed once; a second try revokes the grant.

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct GrantRow {
    pub client_id: String,
    pub account: RecordId,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub auth_time: i64,
    pub methods: Vec<String>,
    pub code_expires_at: i64,
    pub redeemed: bool,
    pub revoked: bool,
    pub expires_at: i64,
}

fn record(key: &str) -> RecordId {
    RecordId::new("oidc_grant", key)
}

pub async fn create(db: &Db, key: &str, row: GrantRow) -> Result<(), DbError> {
    db.query("CREATE $id CONTENT $row")
        .bind(("id", record(key)))
        .bind(("row", row))
        .await?
        .check()?;
    Ok(())
}

pub enum Redeemed {
    /// This request redeemed the code: the grant as it was.
    First(Box<GrantRow>),
    /// The code was redeemed before: the grant is revoked now.
    Again,
    Unknown,
}

/// Redeems the code. Of racing requests exactly one is `First`; every other use revokes.
pub async fn redeem(db: &Db, key: &str) -> Result<Redeemed, DbError> {
    let mut res = db
        .query("UPDATE $id SET redeemed = true WHERE redeemed = false RETURN BEFORE")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let first: Vec<GrantRow> = res.take(0)?;
    if let Some(row) = first.into_iter().next() {
        return Ok(Redeemed::First(Box::new(row)));
    }
    let mut res = db
        .query("UPDATE $id SET revoked = true RETURN VALUE id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let revoked: Vec<RecordId> = res.take(0)?;
    Ok(if revoked.is_empty() {
        Redeemed::Unknown
    } else {
        Redeemed::Again
    })
}

/// The grant behind a token, while it is neither revoked nor past its end.
pub async fn live(db: &Db, key: &str, now: i64) -> Result<Option<GrantRow>, DbError> {
    let mut res = db
        .query("SELECT * OMIT id FROM $id WHERE revoked = false AND expires_at > $now")
        .bind(("id", record(key)))
        .bind(("now", now))
        .await?
        .check()?;
    let rows: Vec<GrantRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// Revokes a grant: its code, access tokens and refresh tokens stop working at once.
pub async fn revoke(db: &Db, key: &str) -> Result<(), DbError> {
    db.query("UPDATE $id SET revoked = true")
        .bind(("id", record(key)))
        .await?
        .check()?;
    Ok(())
}

/// Keeps a grant (and so its refresh tokens) alive until `expires_at`, never shortening it.
pub async fn extend(db: &Db, key: &str, expires_at: i64) -> Result<(), DbError> {
    db.query("UPDATE $id SET expires_at = math::max([expires_at, $end]) WHERE revoked = false")
        .bind(("id", record(key)))
        .bind(("end", expires_at))
        .await?
        .check()?;
    Ok(())
}

/// The grant as stored, revoked or not.
pub async fn find(db: &Db, key: &str) -> Result<Option<GrantRow>, DbError> {
    let mut res = db
        .query("SELECT * OMIT id FROM $id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let rows: Vec<GrantRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// An app holding live tokens for the account: the app, and when its first live grant began.
#[derive(Debug, Clone, SurrealValue)]
pub struct Holder {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub auth_time: i64,
}

/// The grants of an account whose tokens still work (codes not yet redeemed are left out).
pub async fn live_of_account(
    db: &Db,
    account: &RecordId,
    now: i64,
) -> Result<Vec<Holder>, DbError> {
    let mut res = db
        .query(
            "SELECT client_id, scopes, auth_time FROM oidc_grant
             WHERE account = $account AND redeemed = true AND revoked = false AND expires_at > $now
             ORDER BY auth_time DESC",
        )
        .bind(("account", account.clone()))
        .bind(("now", now))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// Revokes every grant the account gave `client_id`: the app's tokens stop working.
pub async fn revoke_all(db: &Db, account: &RecordId, client_id: &str) -> Result<(), DbError> {
    db.query(
        "UPDATE oidc_grant SET revoked = true WHERE account = $account AND client_id = $client",
    )
    .bind(("account", account.clone()))
    .bind(("client", client_id.to_string()))
    .await?
    .check()?;
    Ok(())
}
