//! MSG91 Flow API (India, DLT): `POST {base}/api/v5/flow` with header `authkey` and JSON
//! `{"template_id", "short_url": "0", "recipients": [{"mobiles": "91…", "<var>": "<code>"}]}`.
//! The approved template at MSG91 holds the text; we send its id and the code variable.
//! MSG91 answers `{"type": "success", "message": "<request id>"}` or `{"type": "error", …}`.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::settings::DltTemplates;
use super::{
    http_client, read_answer, rejected, Accepted, Outgoing, SendFuture, SmsError, SmsProvider,
};
use crate::server::config::Secret;

pub struct Msg91 {
    authkey: Secret,
    templates: DltTemplates,
    api_base: String,
    client: reqwest::Client,
}

impl Msg91 {
    pub fn new(
        authkey: Secret,
        templates: DltTemplates,
        api_base: String,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(Msg91 {
            authkey,
            templates,
            api_base,
            client: http_client(timeout)?,
        })
    }
}

/// The request body for one message with `template_id` and, when there is a code, its variable.
pub fn flow_body(template_id: &str, var: &str, mobiles: &str, code: Option<&str>) -> Value {
    let mut recipient = Map::new();
    recipient.insert("mobiles".into(), json!(mobiles));
    if let Some(code) = code {
        recipient.insert(var.into(), json!(code));
    }
    json!({
        "template_id": template_id,
        "short_url": "0",
        "recipients": [recipient],
    })
}

impl SmsProvider for Msg91 {
    fn name(&self) -> &'static str {
        "msg91"
    }

    fn send<'a>(&'a self, message: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            let template = self
                .templates
                .get(message.kind, message.language)
                .ok_or(SmsError::Unsupported("no MSG91 template for this message"))?;
            let body = flow_body(&template.id, &template.var, message.digits(), message.code);
            let response = self
                .client
                .post(format!("{}/api/v5/flow", self.api_base))
                .header("authkey", self.authkey.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body)
                .send()
                .await?;
            let (status, answer) = read_answer(response).await;
            if (200..300).contains(&status) && answer["type"] == "success" {
                return Ok(Accepted::queued(
                    answer["message"].as_str().map(str::to_string),
                ));
            }
            // MSG91 documents no numeric code for a bad recipient; its message names the number.
            let text = answer["message"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            if status < 500
                && (text.contains("mobile") || text.contains("number"))
                && text.contains("invalid")
            {
                return Err(SmsError::BadNumber {
                    code: "invalid_mobile".into(),
                });
            }
            Err(rejected(status, &answer["message"]))
        })
    }
}
