//! Fast2SMS DLT route (India): `POST {base}/dev/bulkV2` with header `authorization` and JSON
//! `{"route": "dlt", "sender_id", "message": <DLT message id>, "variables_values", "numbers"}`;
//! numbers are 10 digits without +91. Fast2SMS answers `{"return": true, "request_id": …}` or
//! `{"return": false, "status_code": …, "message": …}`.

use std::time::Duration;

use serde_json::json;

use super::settings::DltTemplates;
use super::{
    http_client, read_answer, rejected, Accepted, Outgoing, SendFuture, SmsError, SmsProvider,
};
use crate::server::config::Secret;

/// Fast2SMS's status code for "Invalid Numbers".
const INVALID_NUMBERS: i64 = 411;

pub struct Fast2Sms {
    api_key: Secret,
    sender_id: String,
    messages: DltTemplates,
    api_base: String,
    client: reqwest::Client,
}

impl Fast2Sms {
    pub fn new(
        api_key: Secret,
        sender_id: String,
        messages: DltTemplates,
        api_base: String,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(Fast2Sms {
            api_key,
            sender_id,
            messages,
            api_base,
            client: http_client(timeout)?,
        })
    }
}

impl SmsProvider for Fast2Sms {
    fn name(&self) -> &'static str {
        "fast2sms"
    }

    fn send<'a>(&'a self, message: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            // Fast2SMS reaches Indian numbers only.
            let national = message
                .to
                .strip_prefix("+91")
                .filter(|n| n.len() == 10)
                .ok_or(SmsError::Unsupported("Fast2SMS sends to +91 numbers only"))?;
            let template =
                self.messages
                    .get(message.kind, message.language)
                    .ok_or(SmsError::Unsupported(
                        "no Fast2SMS message id for this message",
                    ))?;
            let body = json!({
                "route": "dlt",
                "sender_id": self.sender_id,
                "message": template.id,
                "variables_values": message.code.unwrap_or_default(),
                "numbers": national,
            });
            let response = self
                .client
                .post(format!("{}/dev/bulkV2", self.api_base))
                .header("authorization", self.api_key.expose())
                .json(&body)
                .send()
                .await?;
            let (status, answer) = read_answer(response).await;
            if (200..300).contains(&status) && answer["return"] == true {
                return Ok(Accepted::queued(
                    answer["request_id"].as_str().map(str::to_string),
                ));
            }
            if answer["status_code"].as_i64() == Some(INVALID_NUMBERS) {
                return Err(SmsError::BadNumber {
                    code: INVALID_NUMBERS.to_string(),
                });
            }
            Err(rejected(status, &answer["status_code"]))
        })
    }
}
