//! The development outbox: messages the console provider "sent", shown at /dev/outbox.

use serde::Serialize;
use surrealdb::types::SurrealValue;

use super::{Db, DbError};

#[derive(Debug, Clone, Serialize, SurrealValue)]
pub struct OutboxMessage {
    pub recipient: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn push(db: &Db, message: OutboxMessage) -> Result<(), DbError> {
    db.query("CREATE sms_outbox CONTENT $message")
        .bind(("message", message))
        .await?
        .check()?;
    Ok(())
}

/// Newest first.
pub async fn latest(db: &Db, limit: u32) -> Result<Vec<OutboxMessage>, DbError> {
    let mut res = db
        .query("SELECT recipient, body, created_at FROM sms_outbox ORDER BY created_at DESC LIMIT $limit")
        .bind(("limit", limit as i64))
        .await?
        .check()?;
    Ok(res.take(0)?)
}
