//! Twilio Programmable Messaging: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form
//! fields To, From, Body and StatusCallback, HTTP basic auth (account SID : auth token).
//! Twilio answers 201 with the message `sid`; errors carry a numeric `code`.

use std::time::Duration;

use super::{
    http_client, read_answer, rejected, short_code, Accepted, Outgoing, SendFuture, SmsError,
    SmsProvider,
};
use crate::server::config::Secret;

/// Error codes that say the number itself cannot take the message: invalid 'To' number, not a
/// mobile number, the recipient replied STOP, no route to the number.
const BAD_NUMBER_CODES: &[i64] = &[21211, 21614, 21610, 21612];

pub struct Twilio {
    account_sid: String,
    auth_token: Secret,
    from: String,
    api_base: String,
    /// Our status-callback URL without the query; None when there is no public URL to give.
    status_callback: Option<String>,
    client: reqwest::Client,
}

impl Twilio {
    pub fn new(
        account_sid: String,
        auth_token: Secret,
        from: String,
        api_base: String,
        status_callback: Option<String>,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(Twilio {
            account_sid,
            auth_token,
            from,
            api_base,
            status_callback,
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

    fn send<'a>(&'a self, message: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            let callback = self
                .status_callback
                .as_ref()
                .map(|url| format!("{url}?ref={}", message.reference));
            let mut form = vec![
                ("To", message.to),
                ("From", self.from.as_str()),
                ("Body", message.text),
            ];
            if let Some(url) = &callback {
                form.push(("StatusCallback", url.as_str()));
            }
            let response = self
                .client
                .post(self.messages_url())
                .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
                .form(&form)
                .send()
                .await?;
            let (status, body) = read_answer(response).await;
            if (200..300).contains(&status) {
                return Ok(Accepted::queued(body["sid"].as_str().map(str::to_string)));
            }
            match body["code"].as_i64() {
                Some(code) if BAD_NUMBER_CODES.contains(&code) => Err(SmsError::BadNumber {
                    code: short_code(&body["code"]),
                }),
                _ => Err(rejected(status, &body["code"])),
            }
        })
    }
}
