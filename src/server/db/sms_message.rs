//! The `sms_message` table: every SMS attempt, with its provider, the provider's id for it, the
//! masked number and where it stands. Receipts move a message forward, never back.

use serde::Serialize;
use surrealdb::types::{RecordId, SurrealValue};

use super::{audit_event, Db, DbError};

#[derive(Debug, Clone, Serialize, SurrealValue)]
pub struct SmsRecord {
    pub provider: String,
    pub provider_message_id: Option<String>,
    pub masked_phone: String,
    pub kind: String,
    pub language: String,
    pub challenge: Option<String>,
    /// 1 for the first provider tried for this message, 2 for the one it failed over to, …
    pub attempt: i64,
    pub status: String,
    pub error_code: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a message stands. Each step ranks above the one before, so a late or repeated receipt
/// never moves a message backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Accepted by the provider, not yet handed to a carrier.
    Queued,
    /// Handed to the carrier.
    Sent,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn rank(self) -> i64 {
        match self {
            DeliveryStatus::Queued => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delivered | DeliveryStatus::Failed => 2,
        }
    }
}

pub struct NewSms<'a> {
    pub key: &'a str,
    pub provider: &'static str,
    pub masked_phone: String,
    /// What the message is for: `code`, `locked`, `phone_changed`.
    pub kind: &'static str,
    pub language: &'a str,
    pub challenge: Option<&'a str>,
    pub attempt: i64,
    pub now: i64,
}

/// How a receipt names its message: by our reference, or by the provider's message id.
pub enum MessageRef<'a> {
    Ours(&'a str),
    Provider(&'a str),
}

pub fn record(key: &str) -> RecordId {
    RecordId::new("sms_message", key)
}

fn start_row(sms: &NewSms<'_>) -> SmsRecord {
    SmsRecord {
        provider: sms.provider.to_string(),
        provider_message_id: None,
        masked_phone: sms.masked_phone.clone(),
        kind: sms.kind.to_string(),
        language: sms.language.to_string(),
        challenge: sms.challenge.map(str::to_string),
        attempt: sms.attempt,
        status: DeliveryStatus::Queued.as_str().to_string(),
        error_code: None,
        created_at: sms.now,
        updated_at: sms.now,
    }
}

/// `start`'s statement, for a transaction that records an attempt along with other records
/// (`transactions::count_send`); `bind_start` gives it its values. status_rank defaults to 0,
/// the rank of queued.
pub(super) const START: &str = "CREATE $sms_id CONTENT $sms_row;\n";

pub(super) fn bind_start<'a>(
    query: super::StoreQuery<'a>,
    sms: &NewSms<'_>,
) -> super::StoreQuery<'a> {
    query
        .bind(("sms_id", record(sms.key)))
        .bind(("sms_row", start_row(sms)))
}

/// Written before the provider is asked, so a receipt that beats the provider's answer finds it.
pub async fn start(db: &Db, sms: NewSms<'_>) -> Result<(), DbError> {
    bind_start(db.query(START), &sms).await?.check()?;
    Ok(())
}

/// An attempt recorded but never made (the send was refused after it was counted).
pub async fn discard(db: &Db, key: &str) -> Result<(), DbError> {
    db.query("DELETE $id WHERE status = 'queued'")
        .bind(("id", record(key)))
        .await?
        .check()?;
    Ok(())
}

/// The provider took the message: keep its id, and its status if that is further along.
/// `events` are recorded in the same commit: what the acceptance means (a code sent).
pub async fn accepted(
    db: &Db,
    key: &str,
    message_id: Option<String>,
    status: DeliveryStatus,
    now: i64,
    events: Vec<audit_event::Event>,
) -> Result<(), DbError> {
    // One commit; an earlier receipt may already have moved the status on.
    db.query(
        "BEGIN TRANSACTION;
         UPDATE $id SET provider_message_id = $message_id ?? provider_message_id, updated_at = $now,
             status = IF status_rank < $rank THEN $status ELSE status END,
             status_rank = IF status_rank < $rank THEN $rank ELSE status_rank END;
         INSERT INTO audit_event $events;
         COMMIT TRANSACTION;",
    )
    .bind(("id", record(key)))
    .bind(("message_id", message_id))
    .bind(("now", now))
    .bind(("status", status.as_str()))
    .bind(("rank", status.rank()))
    .bind(("events", events))
    .await?
    .check()?;
    Ok(())
}

/// The provider said no, or could not be reached.
pub async fn failed(db: &Db, key: &str, error_code: String, now: i64) -> Result<(), DbError> {
    db.query(
        "UPDATE $id SET status = 'failed', status_rank = 2, error_code = $code, updated_at = $now",
    )
    .bind(("id", record(key)))
    .bind(("code", error_code))
    .bind(("now", now))
    .await?
    .check()?;
    Ok(())
}

/// Applies a delivery receipt. Returns whether it moved the message; a duplicate or a step
/// backwards changes nothing.
pub async fn receipt(
    db: &Db,
    provider: &str,
    message: MessageRef<'_>,
    status: DeliveryStatus,
    error_code: Option<String>,
    now: i64,
) -> Result<bool, DbError> {
    let set = "SET status = $status, status_rank = $rank, error_code = $code ?? error_code, \
               updated_at = $now";
    let query = match message {
        MessageRef::Ours(_) => format!(
            "UPDATE $id {set} WHERE provider = $provider AND status_rank < $rank RETURN VALUE id"
        ),
        MessageRef::Provider(_) => format!(
            "UPDATE sms_message {set} WHERE provider = $provider \
             AND provider_message_id = $message_id AND status_rank < $rank RETURN VALUE id"
        ),
    };
    let (id, message_id) = match message {
        MessageRef::Ours(key) => (Some(record(key)), None),
        MessageRef::Provider(id) => (None, Some(id.to_string())),
    };
    let mut res = db
        .query(query)
        .bind(("id", id))
        .bind(("message_id", message_id))
        .bind(("provider", provider.to_string()))
        .bind(("status", status.as_str()))
        .bind(("rank", status.rank()))
        .bind(("code", error_code))
        .bind(("now", now))
        .await?
        .check()?;
    let moved: Vec<RecordId> = res.take(0)?;
    Ok(!moved.is_empty())
}

pub async fn get(db: &Db, key: &str) -> Result<Option<SmsRecord>, DbError> {
    let mut res = db
        .query("SELECT * OMIT id, status_rank FROM ONLY $id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// A challenge's messages, oldest first.
pub async fn for_challenge(db: &Db, challenge: &str) -> Result<Vec<SmsRecord>, DbError> {
    let mut res = db
        .query(
            "SELECT * OMIT id, status_rank FROM sms_message WHERE challenge = $challenge \
             ORDER BY created_at, attempt",
        )
        .bind(("challenge", challenge.to_string()))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

/// The provider that last carried (or is carrying) a code for this challenge.
pub async fn last_carrier(db: &Db, challenge: &str) -> Result<Option<String>, DbError> {
    let mut res = db
        .query(
            "SELECT VALUE provider FROM sms_message WHERE challenge = $challenge \
             AND status != 'failed' ORDER BY created_at DESC, attempt DESC LIMIT 1",
        )
        .bind(("challenge", challenge.to_string()))
        .await?
        .check()?;
    let providers: Vec<String> = res.take(0)?;
    Ok(providers.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn started(db: &Db, key: &str) {
        start(
            db,
            NewSms {
                key,
                provider: "twilio",
                masked_phone: "+91******3210".into(),
                kind: "code",
                language: "en",
                challenge: Some("ch1"),
                attempt: 1,
                now: 1,
            },
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn receipts_move_forward_only_and_duplicates_change_nothing() {
        let db = crate::server::db::memory().await;
        started(&db, "m1").await;
        accepted(
            &db,
            "m1",
            Some("SM1".into()),
            DeliveryStatus::Queued,
            2,
            Vec::new(),
        )
        .await
        .unwrap();
        let by_id = |s| receipt(&db, "twilio", MessageRef::Provider("SM1"), s, None, 3);
        assert!(by_id(DeliveryStatus::Sent).await.unwrap());
        assert!(by_id(DeliveryStatus::Delivered).await.unwrap());
        assert!(
            !by_id(DeliveryStatus::Delivered).await.unwrap(),
            "duplicate"
        );
        assert!(
            !by_id(DeliveryStatus::Sent).await.unwrap(),
            "late, out of order"
        );
        assert!(
            !by_id(DeliveryStatus::Failed).await.unwrap(),
            "first final status wins"
        );
        let row = get(&db, "m1").await.unwrap().unwrap();
        assert_eq!(row.status, "delivered");
        assert_eq!(row.provider_message_id.as_deref(), Some("SM1"));

        let other_provider = receipt(
            &db,
            "vonage",
            MessageRef::Ours("m1"),
            DeliveryStatus::Failed,
            None,
            4,
        );
        assert!(
            !other_provider.await.unwrap(),
            "a receipt must come from the message's provider"
        );
    }

    #[tokio::test]
    async fn the_last_carrier_skips_failed_attempts() {
        let db = crate::server::db::memory().await;
        started(&db, "a").await;
        failed(&db, "a", "timeout".into(), 2).await.unwrap();
        assert_eq!(last_carrier(&db, "ch1").await.unwrap(), None);
        started(&db, "b").await;
        assert_eq!(
            last_carrier(&db, "ch1").await.unwrap().as_deref(),
            Some("twilio")
        );
        assert_eq!(for_challenge(&db, "ch1").await.unwrap().len(), 2);
    }
}
