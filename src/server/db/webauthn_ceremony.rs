//! The `webauthn_ceremony` table: a passkey ceremony between its two steps. In the database,
//! not in memory, so a ceremony begun on one instance finishes on another; taken once.

use surrealdb::types::{RecordId, SurrealValue};

use super::{Db, DbError};

#[derive(Debug, Clone, SurrealValue)]
pub struct CeremonyRow {
    /// "register", "sign_in", or "step" (a passkey answering the sign-in step).
    pub kind: String,
    /// The account adding a passkey or signing in; none for a sign-in with no username (who it
    /// is, the passkey says).
    pub account: Option<RecordId>,
    /// webauthn-rs's state, as JSON.
    pub state: String,
    pub expires_at: i64,
}

pub async fn create(db: &Db, key: &str, row: CeremonyRow) -> Result<(), DbError> {
    db.query("CREATE $id CONTENT $row")
        .bind(("id", RecordId::new("webauthn_ceremony", key)))
        .bind(("row", row))
        .await?
        .check()?;
    Ok(())
}

/// Takes the ceremony: it is gone for every other request, whoever asked first wins.
pub async fn take(db: &Db, key: &str, now: i64) -> Result<Option<CeremonyRow>, DbError> {
    let mut res = db
        .query("DELETE $id RETURN BEFORE")
        .bind(("id", RecordId::new("webauthn_ceremony", key)))
        .await?
        .check()?;
    let rows: Vec<CeremonyRow> = res.take(0)?;
    Ok(rows.into_iter().next().filter(|row| row.expires_at > now))
}
