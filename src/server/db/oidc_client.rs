//! The `oidc_client` table: the apps that sign their users in through us (OpenID Connect
//! relying parties), registered by the operator with `dynamic_otp admin client …`.

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct ClientRow {
    pub id: RecordId,
    pub name: String,
    /// SHA-256 of the secret, hex; None for a public client (PKCE alone).
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    /// Our own apps: no consent screen.
    pub first_party: bool,
    pub created_at: i64,
}

impl ClientRow {
    /// The `client_id` the app sends.
    pub fn client_id(&self) -> String {
        super::key_text(&self.id)
    }
}

#[derive(Debug, Clone, SurrealValue)]
pub struct NewClient {
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    pub first_party: bool,
    pub created_at: i64,
}

pub async fn add(db: &Db, client_id: &str, client: NewClient) -> Result<(), DbError> {
    db.query("CREATE $id CONTENT $client")
        .bind(("id", RecordId::new("oidc_client", client_id)))
        .bind(("client", client))
        .await?
        .check()?;
    Ok(())
}

pub async fn find(db: &Db, client_id: &str) -> Result<Option<ClientRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM $id")
        .bind(("id", RecordId::new("oidc_client", client_id)))
        .await?
        .check()?;
    let rows: Vec<ClientRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

pub async fn all(db: &Db) -> Result<Vec<ClientRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM oidc_client ORDER BY created_at")
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// Registers `client_id`, or updates it to `client` (apps listed in the clients file).
pub async fn put(db: &Db, client_id: &str, client: NewClient) -> Result<(), DbError> {
    db.query("UPSERT $id CONTENT $client")
        .bind(("id", RecordId::new("oidc_client", client_id)))
        .bind(("client", client))
        .await?
        .check()?;
    Ok(())
}

/// False when there was no such client.
pub async fn remove(db: &Db, client_id: &str) -> Result<bool, DbError> {
    let mut res = db
        .query("DELETE $id RETURN BEFORE")
        .bind(("id", RecordId::new("oidc_client", client_id)))
        .await?
        .check()?;
    let gone: Vec<ClientRow> = res.take(0)?;
    Ok(!gone.is_empty())
}

/// A new secret for a confidential client; false when there is no such client or it is public.
pub async fn set_secret(db: &Db, client_id: &str, secret_hash: &str) -> Result<bool, DbError> {
    let mut res = db
        .query("UPDATE $id SET secret_hash = $hash WHERE secret_hash != NONE RETURN VALUE id")
        .bind(("id", RecordId::new("oidc_client", client_id)))
        .bind(("hash", secret_hash.to_string()))
        .await?
        .check()?;
    let changed: Vec<RecordId> = res.take(0)?;
    Ok(!changed.is_empty())
}
