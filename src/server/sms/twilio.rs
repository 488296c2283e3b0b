//! Twilio Programmable Messaging: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json` with the
//! form fields To, From, Body and HTTP basic auth (account SID : auth token).

use std::time::Duration;

use super::{http_client, SendFuture, SmsError, SmsProvider};
use crate::server::config::Secret;

pub struct Twilio {
    account_sid: String,
    auth_token: Secret,
    from: String,
    api_base: String,
    client: reqwest::Client,
}

impl Twilio {
    pub fn new(
        account_sid: String,
        auth_token: Secret,
        from: String,
        api_base: String,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(Twilio {
            account_sid,
            auth_token,
            from,
            api_base,
            client: http_client(timeout)?,
        })
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_base, self.account_sid
        )
    }
}

impl SmsProvider for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let response = self
                .client
                .post(self.messages_url())
                .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
                .form(&[("To", to), ("From", self.from.as_str()), ("Body", body)])
                .send()
                .await?;
            // Twilio answers 201 Created for an accepted message.
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
