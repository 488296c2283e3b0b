//! Generic provider: POSTs `{"to", "message", "language", "reference"}` as JSON to a URL of the
//! site owner's choosing, with an optional bearer token.

use std::time::Duration;

use super::{http_client, read_answer, rejected, Accepted, Outgoing, SendFuture, SmsProvider};
use crate::server::config::Secret;

pub struct Webhook {
    url: String,
    token: Secret,
    client: reqwest::Client,
}

impl Webhook {
    pub fn new(url: String, token: Secret, timeout: Duration) -> Result<Self, String> {
        Ok(Webhook {
            url,
            token,
            client: http_client(timeout)?,
        })
    }
}

#[derive(serde::Serialize)]
struct Payload<'a> {
    to: &'a str,
    message: &'a str,
    language: &'a str,
    reference: &'a str,
}

impl SmsProvider for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, message: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            let mut request = self.client.post(&self.url).json(&Payload {
                to: message.to,
                message: message.text,
                language: message.language,
                reference: message.reference,
            });
            if !self.token.is_empty() {
                request = request.bearer_auth(self.token.expose());
            }
            let (status, body) = read_answer(request.send().await?).await;
            if (200..300).contains(&status) {
                let id = body["id"].as_str().map(str::to_string);
                Ok(Accepted::queued(id))
            } else {
                Err(rejected(status, &body["error"]))
            }
        })
    }
}
