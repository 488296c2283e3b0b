//! Development provider: prints the message to the log and keeps it in the outbox table so
//! /dev/outbox can show it. Config refuses it outside dev mode.

use super::{Accepted, DeliveryStatus, Outgoing, SendFuture, SmsError, SmsProvider};
use crate::server::auth::phone::mask_e164;
use crate::server::clock::now_ms;
use crate::server::db::sms_outbox as outbox;
use crate::server::db::Db;

pub struct Console {
    db: Db,
}

impl Console {
    pub fn new(db: Db) -> Self {
        Console { db }
    }
}

impl SmsProvider for Console {
    fn name(&self) -> &'static str {
        "console"
    }

    fn send<'a>(&'a self, message: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(
                "[dev outbox] to {}: {}",
                mask_e164(message.to),
                message.text
            );
            let entry = outbox::OutboxMessage {
                recipient: message.to.to_string(),
                body: message.text.to_string(),
                created_at: now_ms(),
            };
            outbox::push(&self.db, entry)
                .await
                .map_err(|e| SmsError::Outbox(e.to_string()))?;
            // It is in the outbox: as delivered as it will get.
            Ok(Accepted {
                message_id: None,
                status: DeliveryStatus::Delivered,
            })
        })
    }
}
