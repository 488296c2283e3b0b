//! The one way SMS leave the server: render the text, then try the providers in order —
//! skipping any whose circuit is open — until one takes it. Every attempt is a record; the log
//! gets one line per dispatch with a masked number, never the text.

use crate::model::CodePurpose;
use std::sync::Arc;

use super::breaker::HealthCopy;
use super::settings::{BreakerPolicy, SmsSettings};
use super::templates::{Fill, Templates};
use super::{chain, MessageKind, Outgoing, SmsError, SmsProvider};
use crate::server::auth::phone::mask_e164;
use crate::server::auth::token;
use crate::server::db::sms_message::{self, NewSms};
use crate::server::db::{audit_event, sms_breaker, Db};
use crate::server::metrics;

mod circuits;
mod planned;
pub use planned::PlannedAttempt;

#[derive(Clone)]
pub struct SmsSender {
    providers: Vec<Arc<dyn SmsProvider>>,
    templates: Arc<Templates>,
    db: Db,
    breaker: BreakerPolicy,
    host: String,
    /// The site's address as phones see it, for links in notices.
    public_url: String,
    ttl_minutes: u64,
    /// The breakers as last read, so a sign-in need not read them again at once.
    health: Arc<HealthCopy>,
}

/// A code to send.
pub struct CodeSms<'a> {
    pub to: &'a str,
    pub code: &'a str,
    /// What the code is for; the text says so.
    pub purpose: CodePurpose,
    pub language: &'a str,
    pub challenge: &'a str,
    /// The provider that carried the previous code of this challenge: a resend starts with the
    /// one after it, since the user did not get that one.
    pub after: Option<&'a str>,
    /// Recorded in the same commit as a provider's acceptance, naming it as the detail.
    pub event: Option<audit_event::Event>,
}

impl SmsSender {
    /// `public_url` is the site's address as providers and phones see it; `code_ttl_secs` how
    /// long a code lives, for the message text.
    pub fn new(
        settings: &SmsSettings,
        public_url: &str,
        code_ttl_secs: u64,
        db: Db,
    ) -> Result<Self, String> {
        let public = public_url.trim_end_matches('/');
        let providers = chain::build(settings, public, &db)?;
        let templates = Templates::load(settings.templates_dir.as_deref())?;
        Ok(SmsSender {
            providers,
            templates: Arc::new(templates),
            db,
            breaker: settings.breaker,
            host: host_of(public_url),
            public_url: public.to_string(),
            ttl_minutes: code_ttl_secs.div_ceil(60).max(1),
            health: Arc::default(),
        })
    }

    /// "msg91 → twilio", for the start-up log.
    pub fn describe(&self) -> String {
        let names: Vec<&str> = self.providers.iter().map(|p| p.name()).collect();
        names.join(" → ")
    }

    /// Whether there are SMS texts in `language`.
    pub fn speaks(&self, language: &str) -> bool {
        self.templates.languages().any(|l| l == language)
    }

    /// The SMS language for a client's preferences (Accept-Language order).
    pub fn language_for(&self, preferred: &[String]) -> String {
        self.templates.pick(preferred)
    }

    fn fill<'a>(&'a self, code: &'a str, purpose: Option<CodePurpose>) -> Fill<'a> {
        Fill {
            code,
            purpose,
            minutes: self.ttl_minutes,
            host: &self.host,
            link: "",
            hours: 0,
        }
    }

    /// Sends a code; returns the provider that took it. `planned` is its first attempt, already
    /// recorded (`plan_code`).
    pub async fn send_code(
        &self,
        sms: CodeSms<'_>,
        planned: Option<PlannedAttempt>,
        now: i64,
    ) -> Result<&'static str, SmsError> {
        let fill = self.fill(sms.code, Some(sms.purpose));
        let text = self
            .templates
            .render(MessageKind::Code, sms.language, &fill);
        let message = Message {
            to: sms.to,
            kind: MessageKind::Code,
            language: sms.language,
            text: &text,
            code: Some(sms.code),
            challenge: Some(sms.challenge),
            event: sms.event,
        };
        self.dispatch(message, sms.after, planned, now).await
    }

    /// A security notice, not a code.
    pub async fn send_notice(
        &self,
        to: &str,
        kind: MessageKind,
        language: &str,
        now: i64,
    ) -> Result<&'static str, SmsError> {
        let text = self.templates.render(kind, language, &self.fill("", None));
        let message = Message {
            to,
            kind,
            language,
            text: &text,
            code: None,
            challenge: None,
            event: None,
        };
        self.dispatch(message, None, None, now).await
    }

    /// A security notice with a link into the site (`path` on the public address) and the hours
    /// until what it announces. The link is a secret: it is the template's variable, never logged.
    pub async fn send_linked_notice(
        &self,
        to: &str,
        kind: MessageKind,
        language: &str,
        path: &str,
        hours: u64,
        now: i64,
    ) -> Result<&'static str, SmsError> {
        let link = format!("{}{path}", self.public_url);
        let fill = Fill {
            link: &link,
            hours,
            ..self.fill("", None)
        };
        let text = self.templates.render(kind, language, &fill);
        let message = Message {
            to,
            kind,
            language,
            text: &text,
            code: Some(&link),
            challenge: None,
            event: None,
        };
        self.dispatch(message, None, None, now).await
    }

    /// The providers in the order to try: configured order, or for a resend starting after
    /// the one that carried the last message.
    fn order(&self, after: Option<&str>) -> Vec<Arc<dyn SmsProvider>> {
        let start = after
            .and_then(|name| self.providers.iter().position(|p| p.name() == name))
            .map_or(0, |i| (i + 1) % self.providers.len());
        let mut order = self.providers[start..].to_vec();
        order.extend_from_slice(&self.providers[..start]);
        order
    }

    async fn dispatch(
        &self,
        message: Message<'_>,
        after: Option<&str>,
        mut planned: Option<PlannedAttempt>,
        now: i64,
    ) -> Result<&'static str, SmsError> {
        let masked = mask_e164(message.to);
        let health = self.health(now).await;
        let mut last_error = SmsError::AllOpen;
        let mut attempt = 0;
        for provider in self.order(after) {
            let name = provider.name();
            // The planned first provider was found closed when its attempt was recorded.
            let recorded = planned.take_if(|p| p.provider == name).map(|p| p.key);
            if recorded.is_none()
                && !self
                    .may_try(name, health.get(name).copied().unwrap_or_default(), now)
                    .await
            {
                tracing::warn!("SMS via {name} skipped: circuit open");
                metrics::sms_skipped(name, message.kind.name());
                continue;
            }
            match message.kind {
                MessageKind::Code => tracing::info!("Sending OTP via {name} to {masked}"),
                _ => tracing::info!(
                    "Sending {} notice via {name} to {masked}",
                    message.kind.name()
                ),
            }
            attempt += 1;
            match self
                .attempt(provider.as_ref(), &message, &masked, attempt, recorded, now)
                .await
            {
                Ok(()) => {
                    if health.get(name).is_some_and(|h| h.failures > 0) {
                        self.health.forget();
                        if let Err(e) = sms_breaker::succeeded(&self.db, name).await {
                            tracing::error!("SMS circuit breaker {name}: {e}");
                        }
                    }
                    return Ok(name);
                }
                Err(error) => {
                    tracing::warn!("SMS via {name} to {masked} failed: {error}");
                    if error.counts_against_provider() {
                        self.health.forget();
                        match sms_breaker::failed(
                            &self.db,
                            name,
                            self.breaker.failures,
                            self.breaker.cooldown_secs,
                            now,
                        )
                        .await
                        {
                            Ok(n) if n == self.breaker.failures => {
                                tracing::warn!(
                                    "SMS via {name}: circuit open after {n} failures in a row"
                                )
                            }
                            Ok(_) => {}
                            Err(e) => tracing::error!("SMS circuit breaker {name}: {e}"),
                        }
                    }
                    if !error.fails_over() {
                        return Err(error);
                    }
                    last_error = error;
                }
            }
        }
        Err(last_error)
    }

    /// One provider, one try, recorded before (unless `recorded` names its record already
    /// written) and after.
    async fn attempt(
        &self,
        provider: &dyn SmsProvider,
        message: &Message<'_>,
        masked: &str,
        attempt: i64,
        recorded: Option<String>,
        now: i64,
    ) -> Result<(), SmsError> {
        let key = match recorded {
            Some(key) => key,
            None => {
                let key = token::new_token();
                let record = NewSms {
                    key: &key,
                    provider: provider.name(),
                    masked_phone: masked.to_string(),
                    kind: message.kind.name(),
                    language: message.language,
                    challenge: message.challenge,
                    attempt,
                    now,
                };
                if let Err(e) = sms_message::start(&self.db, record).await {
                    tracing::error!("SMS record: {e}");
                }
                key
            }
        };
        let outgoing = Outgoing {
            to: message.to,
            kind: message.kind,
            language: message.language,
            text: message.text,
            code: message.code,
            reference: &key,
        };
        let started = std::time::Instant::now();
        let result = provider.send(&outgoing).await;
        let outcome = result.as_ref().map_or_else(SmsError::kind, |_| "accepted");
        metrics::sms_attempt(
            provider.name(),
            message.kind.name(),
            outcome,
            started.elapsed(),
        );
        let recorded = match &result {
            Ok(accepted) => {
                let events = message
                    .event
                    .iter()
                    .cloned()
                    .map(|event| audit_event::Event {
                        detail: provider.name().to_string(),
                        ..event
                    });
                sms_message::accepted(
                    &self.db,
                    &key,
                    accepted.message_id.clone(),
                    accepted.status,
                    now,
                    events.collect(),
                )
                .await
            }
            Err(error) => sms_message::failed(&self.db, &key, error.record_code(), now).await,
        };
        if let Err(e) = recorded {
            tracing::error!("SMS record: {e}");
        }
        result.map(|_| ())
    }
}

struct Message<'a> {
    to: &'a str,
    kind: MessageKind,
    language: &'a str,
    text: &'a str,
    code: Option<&'a str>,
    challenge: Option<&'a str>,
    event: Option<audit_event::Event>,
}

/// The host name browsers match the WebOTP line against: `public_url` without scheme, port
/// or path.
fn host_of(public_url: &str) -> String {
    let without_scheme = public_url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(public_url);
    let authority = without_scheme.split('/').next().unwrap_or_default();
    authority
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map(|(host, _)| host)
        .unwrap_or(authority)
        .to_string()
}
