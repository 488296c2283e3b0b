//! Generic provider: POSTs `{"to", "message"}` as JSON to a URL of the site owner's choosing.

use std::time::Duration;

use super::{http_client, SendFuture, SmsError, SmsProvider};
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
}

impl SmsProvider for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let mut request = self
                .client
                .post(&self.url)
                .json(&Payload { to, message: body });
            if !self.token.is_empty() {
                request = request.bearer_auth(self.token.expose());
            }
            let response = request.send().await?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(SmsError::Rejected {
                    status: response.status().as_u16(),
                })
            }
        })
    }
}
