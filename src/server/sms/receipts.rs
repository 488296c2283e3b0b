//! Delivery receipts as providers send them, read into one shape; and Twilio's request
//! signature. The HTTP routes that take them live in `server::http::receipts`.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::{short_code, DeliveryStatus};

/// Which message a receipt is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptRef {
    /// Our own `sms_message` key, echoed back (Twilio callback URL, Vonage client-ref).
    Ours(String),
    /// The provider's message id (MSG91 request id).
    Provider(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub message: ReceiptRef,
    pub status: DeliveryStatus,
    pub error_code: Option<String>,
}

/// Twilio signs a callback with HMAC-SHA1 (key: the auth token) over the full URL it called
/// followed by every POST parameter, sorted by name, as name then value; base64.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub fn twilio_signature_valid(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    header: &str,
) -> bool {
    let expected = twilio_signature(auth_token, url, params);
    expected.as_bytes().ct_eq(header.trim().as_bytes()).into()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Twilio's MessageStatus values in our four steps.
pub fn twilio_status(status: &str) -> Option<DeliveryStatus> {
    Some(match status {
        "accepted" | "scheduled" | "queued" | "sending" => DeliveryStatus::Queued,
        "sent" => DeliveryStatus::Sent,
        "delivered" | "read" => DeliveryStatus::Delivered,
        "undelivered" | "failed" | "canceled" => DeliveryStatus::Failed,
        _ => return None,
    })
}

/// A Twilio status callback; `reference` is the `ref` we put in the callback URL.
pub fn twilio(reference: &str, params: &[(String, String)]) -> Option<Receipt> {
    let status = twilio_status(param(params, "MessageStatus")?)?;
    Some(Receipt {
        message: ReceiptRef::Ours(reference.to_string()),
        status,
        error_code: param(params, "ErrorCode")
            .filter(|c| !c.is_empty())
            .map(|c| short_code(&serde_json::json!(c))),
    })
}

/// MSG91's report status codes: 1 delivered; 2 failed; 9 NDNC; 16, 25 rejected; 17 blocked.
/// Anything else is still on its way.
fn msg91_status(code: &str) -> DeliveryStatus {
    match code {
        "1" => DeliveryStatus::Delivered,
        "2" | "9" | "16" | "17" | "25" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Sent,
    }
}

fn msg91_report(request_id: &str, report: &serde_json::Value) -> Option<Receipt> {
    let code = match &report["status"] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let status = msg91_status(&code);
    Some(Receipt {
        message: ReceiptRef::Provider(request_id.to_string()),
        status,
        error_code: (status == DeliveryStatus::Failed).then(|| short_code(&report["desc"])),
    })
}

/// MSG91's delivery webhook: version 2 posts a form field `data` holding a JSON array of
/// `{requestId, report: [{status, desc, …}]}`; version 3 posts one JSON object
/// `{requestId, status, desc, …}`.
pub fn msg91(json_body: Option<&serde_json::Value>, form: &[(String, String)]) -> Vec<Receipt> {
    let parsed;
    let value = match json_body {
        Some(value) => value,
        None => {
            let Some(data) = param(form, "data") else {
                return Vec::new();
            };
            parsed = serde_json::from_str::<serde_json::Value>(data).unwrap_or_default();
            &parsed
        }
    };
    let items: Vec<&serde_json::Value> = match value {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut receipts = Vec::new();
    for item in items {
        let Some(request_id) = item["requestId"].as_str() else {
            continue;
        };
        match item["report"].as_array() {
            Some(reports) => {
                receipts.extend(reports.iter().filter_map(|r| msg91_report(request_id, r)))
            }
            None => receipts.extend(msg91_report(request_id, item)),
        }
    }
    receipts
}

/// A Vonage delivery receipt (query string or form or JSON, flattened to pairs): our
/// `client-ref`, `status` and `err-code`.
pub fn vonage(params: &[(String, String)]) -> Option<Receipt> {
    let status = match param(params, "status")? {
        "accepted" | "buffered" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "expired" | "failed" | "rejected" => DeliveryStatus::Failed,
        _ => return None,
    };
    let reference = param(params, "client-ref")?;
    Some(Receipt {
        message: ReceiptRef::Ours(reference.to_string()),
        status,
        error_code: param(params, "err-code")
            .filter(|c| *c != "0" && !c.is_empty())
            .map(|c| short_code(&serde_json::json!(c))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn twilio_signature_covers_url_and_sorted_params() {
        let params = pairs(&[("MessageStatus", "delivered"), ("MessageSid", "SM1")]);
        let url = "https://otp.example.in/sms/status/twilio?ref=abc";
        let signature = twilio_signature("token", url, &params);
        // Computed independently: HMAC-SHA1("token", url + "MessageSidSM1MessageStatusdelivered").
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(b"token").unwrap();
        mac.update(format!("{url}MessageSidSM1MessageStatusdelivered").as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(signature, expected);
        assert!(twilio_signature_valid("token", url, &params, &signature));
        assert!(!twilio_signature_valid("other", url, &params, &signature));
        let forged = pairs(&[("MessageStatus", "failed"), ("MessageSid", "SM1")]);
        assert!(!twilio_signature_valid("token", url, &forged, &signature));
    }

    #[test]
    fn msg91_v2_form_and_v3_json_both_read() {
        let data = r#"[{"senderId":"DYNOTP","requestId":"3365","report":[{"date":"2024-05-22 10:06:20","number":"919876543210","status":"1","desc":"DELIVERED"}],"userId":"1"}]"#;
        let v2 = msg91(None, &pairs(&[("data", data)]));
        assert_eq!(
            v2,
            vec![Receipt {
                message: ReceiptRef::Provider("3365".into()),
                status: DeliveryStatus::Delivered,
                error_code: None
            }]
        );
        let v3 = serde_json::json!({"requestId": "77", "status": "17", "desc": "Blocked number 919876543210"});
        let receipt = &msg91(Some(&v3), &[])[0];
        assert_eq!(receipt.status, DeliveryStatus::Failed);
        assert!(!receipt.error_code.as_deref().unwrap().contains("9876"));
        assert!(msg91(None, &pairs(&[("data", "not json")])).is_empty());
    }

    #[test]
    fn vonage_receipts_name_our_reference() {
        let receipt = vonage(&pairs(&[
            ("messageId", "0A0000"),
            ("status", "failed"),
            ("err-code", "6"),
            ("client-ref", "ref1"),
        ]))
        .unwrap();
        assert_eq!(receipt.message, ReceiptRef::Ours("ref1".into()));
        assert_eq!(receipt.status, DeliveryStatus::Failed);
        assert_eq!(receipt.error_code.as_deref(), Some("6"));
        assert!(vonage(&pairs(&[("status", "delivered")])).is_none());
    }
}
