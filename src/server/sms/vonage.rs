//! Vonage SMS API: `POST {base}/sms/json`, form fields api_key, api_secret, from, to (digits,
//! no plus), text, `type=unicode` for non-Latin text, client-ref (our record), callback (the
//! delivery-receipt URL) and, for India, entity-id and content-id (DLT). Vonage answers 200 with
//! `messages[0].status` "0" for accepted and a non-zero status otherwise.

use std::time::Duration;

use super::settings::VonageAccount;
use super::{
    http_client, read_answer, rejected, Accepted, Outgoing, SendFuture, SmsError, SmsProvider,
};

/// Statuses that are about the number: 7 number barred, 33 number de-activated.
const BAD_NUMBER_STATUSES: &[&str] = &["7", "33"];

pub struct Vonage {
    account: VonageAccount,
    /// Our delivery-receipt URL, when receipts are on.
    callback: Option<String>,
    client: reqwest::Client,
}

impl Vonage {
    pub fn new(
        account: VonageAccount,
        callback: Option<String>,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(Vonage {
            account,
            callback,
            client: http_client(timeout)?,
        })
    }
}

impl SmsProvider for Vonage {
    fn name(&self) -> &'static str {
        "vonage"
    }

    fn send<'a>(&'a self, message: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            let account = &self.account;
            let mut form: Vec<(&str, &str)> = vec![
                ("api_key", &account.api_key),
                ("api_secret", account.api_secret.expose()),
                ("from", &account.from),
                ("to", message.digits()),
                ("text", message.text),
                ("client-ref", message.reference),
            ];
            if !message.text.is_ascii() {
                form.push(("type", "unicode"));
            }
            if let Some(url) = &self.callback {
                form.push(("callback", url));
            }
            let content_id;
            if message.to.starts_with("+91") {
                if let (Some(entity), Some(template)) = (
                    &account.entity_id,
                    account.templates.get(message.kind, message.language),
                ) {
                    content_id = template.id.clone();
                    form.push(("entity-id", entity));
                    form.push(("content-id", &content_id));
                }
            }
            let response = self
                .client
                .post(format!("{}/sms/json", account.api_base))
                .form(&form)
                .send()
                .await?;
            let (status, answer) = read_answer(response).await;
            let first = &answer["messages"][0];
            let code = first["status"].as_str().unwrap_or_default();
            if (200..300).contains(&status) && code == "0" {
                return Ok(Accepted::queued(
                    first["message-id"].as_str().map(str::to_string),
                ));
            }
            if BAD_NUMBER_STATUSES.contains(&code) {
                return Err(SmsError::BadNumber {
                    code: code.to_string(),
                });
            }
            Err(rejected(status, &first["status"]))
        })
    }
}
