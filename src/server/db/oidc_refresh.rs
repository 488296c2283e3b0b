//! The `oidc_refresh` table: refresh tokens, stored as their hashes. Each belongs to a grant
//! (its family); using one marks it used and makes a new one, and a used token shown again
//! revokes the whole family (RFC 9700 4.14.2).

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct RefreshRow {
    /// The `oidc_grant` key of its family.
    pub grant: String,
    pub client_id: String,
    pub used: bool,
    pub expires_at: i64,
}

fn record(key: &str) -> RecordId {
    RecordId::new("oidc_refresh", key)
}

pub async fn create(db: &Db, key: &str, row: RefreshRow) -> Result<(), DbError> {
    db.query("CREATE $id CONTENT $row")
        .bind(("id", record(key)))
        .bind(("row", row))
        .await?
        .check()?;
    Ok(())
}

pub enum Rotated {
    /// This request used the token: the row as it was.
    First(Box<RefreshRow>),
    /// Used before: the family it belongs to, now revoked.
    Again(RefreshRow),
    Unknown,
}

/// Uses the token for `client_id`. Of racing requests exactly one is `First`; each later use
/// revokes the family. Another app's token is `Unknown` to this one and stays unspent.
pub async fn rotate(db: &Db, key: &str, client_id: &str) -> Result<Rotated, DbError> {
    let mut res = db
        .query(
            "UPDATE $id SET used = true WHERE used = false AND client_id = $client RETURN BEFORE",
        )
        .bind(("id", record(key)))
        .bind(("client", client_id.to_string()))
        .await?
        .check()?;
    let first: Vec<RefreshRow> = res.take(0)?;
    if let Some(row) = first.into_iter().next() {
        return Ok(Rotated::First(Box::new(row)));
    }
    let Some(row) = find(db, key)
        .await?
        .filter(|row| row.client_id == client_id)
    else {
        return Ok(Rotated::Unknown);
    };
    super::oidc_grant::revoke(db, &row.grant).await?;
    Ok(Rotated::Again(row))
}

pub async fn find(db: &Db, key: &str) -> Result<Option<RefreshRow>, DbError> {
    let mut res = db
        .query("SELECT * OMIT id FROM $id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let rows: Vec<RefreshRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}
