//! The chain of providers a server sends through, in the configured order, each built from its
//! settings.

use std::sync::Arc;

use super::settings::{ProviderKind, SmsSettings};
use super::{console, fast2sms, msg91, twilio, vonage, webhook, SmsProvider};
use crate::server::db::Db;

/// `public` is the site's address as providers see it (for delivery-receipt callbacks), without
/// a trailing slash.
pub fn build(
    settings: &SmsSettings,
    public: &str,
    db: &Db,
) -> Result<Vec<Arc<dyn SmsProvider>>, String> {
    let secret_url = |provider: &str| {
        (!settings.callback_secret.is_empty()).then(|| {
            format!(
                "{public}/sms/status/{provider}/{}",
                settings.callback_secret.expose()
            )
        })
    };
    let mut providers: Vec<Arc<dyn SmsProvider>> = Vec::new();
    for provider in &settings.providers {
        let timeout = provider.timeout;
        providers.push(match provider.kind.clone() {
            ProviderKind::Console => Arc::new(console::Console::new(db.clone())),
            ProviderKind::Webhook { url, token } => {
                Arc::new(webhook::Webhook::new(url, token, timeout)?)
            }
            ProviderKind::Twilio {
                account_sid,
                auth_token,
                from,
                api_base,
            } => Arc::new(twilio::Twilio::new(
                account_sid,
                auth_token,
                from,
                api_base,
                Some(format!("{public}/sms/status/twilio")),
                timeout,
            )?),
            ProviderKind::Msg91 {
                authkey,
                templates,
                api_base,
            } => Arc::new(msg91::Msg91::new(authkey, templates, api_base, timeout)?),
            ProviderKind::Fast2Sms {
                api_key,
                sender_id,
                messages,
                api_base,
            } => Arc::new(fast2sms::Fast2Sms::new(
                api_key, sender_id, messages, api_base, timeout,
            )?),
            ProviderKind::Vonage(account) => {
                Arc::new(vonage::Vonage::new(account, secret_url("vonage"), timeout)?)
            }
        });
    }
    Ok(providers)
}
