//! The `oidc_key` table: OpenID Connect signing keys. Rows never change but for `retired_at`
//! (and a reseal after the code key rotates), so instances that race to make the first key
//! merely publish two, and all sign with the same newest one.

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct KeyRow {
    pub id: RecordId,
    pub kid: String,
    pub sealed: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

#[derive(Debug, Clone, SurrealValue)]
pub struct NewKey {
    pub kid: String,
    pub sealed: String,
    pub public_jwk: String,
    pub created_at: i64,
}

pub async fn add(db: &Db, key: NewKey) -> Result<(), DbError> {
    db.query("CREATE oidc_key CONTENT $key")
        .bind(("key", key))
        .await?
        .check()?;
    Ok(())
}

/// The key to sign with: the newest not retired (the kid breaks a tie of two made at once).
pub async fn signing(db: &Db) -> Result<Option<KeyRow>, DbError> {
    let mut res = db
        .query(
            "SELECT * FROM oidc_key WHERE retired_at = NONE
             ORDER BY created_at DESC, kid DESC LIMIT 1",
        )
        .await?
        .check()?;
    let rows: Vec<KeyRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// Every key a token still in use may carry: those not retired, and those retired after `since`.
pub async fn published(db: &Db, since: i64) -> Result<Vec<KeyRow>, DbError> {
    let mut res = db
        .query(
            "SELECT * FROM oidc_key WHERE retired_at = NONE OR retired_at > $since
             ORDER BY created_at DESC, kid DESC",
        )
        .bind(("since", since))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// Retires every key but `kid`: the new key signs from now on.
pub async fn retire_all_but(db: &Db, kid: &str, now: i64) -> Result<(), DbError> {
    db.query("UPDATE oidc_key SET retired_at = $now WHERE retired_at = NONE AND kid != $kid")
        .bind(("kid", kid.to_string()))
        .bind(("now", now))
        .await?
        .check()?;
    Ok(())
}

/// The same key sealed again under the current code key, unless another instance did it first.
pub async fn reseal(db: &Db, id: &RecordId, old: &str, new: &str) -> Result<(), DbError> {
    db.query("UPDATE $id SET sealed = $new WHERE sealed = $old")
        .bind(("id", id.clone()))
        .bind(("old", old.to_string()))
        .bind(("new", new.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// Keys retired before `before` are no longer published; the janitor deletes them.
pub async fn delete_retired_before(db: &Db, before: i64) -> Result<(), DbError> {
    db.query("DELETE oidc_key WHERE retired_at != NONE AND retired_at < $before")
        .bind(("before", before))
        .await?
        .check()?;
    Ok(())
}
