//! Development provider: prints the message to the log and keeps it in the outbox table so
//! /dev/outbox can show it. Config refuses it outside dev mode.

use super::{SendFuture, SmsError, SmsProvider};
use crate::server::auth::phone::mask_e164;
use crate::server::db::{now_ms, outbox, Db};

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

    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!("[dev outbox] to {}: {body}", mask_e164(to));
            let message = outbox::OutboxMessage {
                recipient: to.to_string(),
                body: body.to_string(),
                created_at: now_ms(),
            };
            outbox::push(&self.db, message)
                .await
                .map_err(|e| SmsError::Outbox(e.to_string()))
        })
    }
}
