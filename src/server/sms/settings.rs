//! SMS settings: the ordered provider list, each provider's credentials and DLT template ids,
//! timeouts and the circuit breaker. Keys only come from the environment or a named file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::MessageKind;
use crate::server::config::{ConfigError, Secret, Sources};

#[derive(Debug, Clone)]
pub struct SmsSettings {
    /// Failover order: the first is tried first.
    pub providers: Vec<ProviderSettings>,
    pub breaker: BreakerPolicy,
    pub templates_dir: Option<PathBuf>,
    pub callback_secret: Secret,
}

#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub kind: ProviderKind,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    pub failures: u32,
    pub cooldown_secs: u64,
}

#[derive(Debug, Clone)]
pub enum ProviderKind {
    Console,
    Webhook {
        url: String,
        token: Secret,
    },
    Twilio {
        account_sid: String,
        auth_token: Secret,
        from: String,
        api_base: String,
    },
    Msg91 {
        authkey: Secret,
        templates: DltTemplates,
        api_base: String,
    },
    Fast2Sms {
        api_key: Secret,
        sender_id: String,
        messages: DltTemplates,
        api_base: String,
    },
    Vonage(VonageAccount),
}

#[derive(Debug, Clone)]
pub struct VonageAccount {
    pub api_key: String,
    pub api_secret: Secret,
    pub from: String,
    /// DLT principal entity id, for messages to India.
    pub entity_id: Option<String>,
    /// DLT content template ids, for messages to India.
    pub templates: DltTemplates,
    pub api_base: String,
}

impl ProviderKind {
    pub fn name(&self) -> &'static str {
        match self {
            ProviderKind::Console => "console",
            ProviderKind::Webhook { .. } => "webhook",
            ProviderKind::Twilio { .. } => "twilio",
            ProviderKind::Msg91 { .. } => "msg91",
            ProviderKind::Fast2Sms { .. } => "fast2sms",
            ProviderKind::Vonage(_) => "vonage",
        }
    }
}

/// A DLT-registered template at a provider: its id and, where the provider names variables,
/// the variable that carries the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DltTemplate {
    pub id: String,
    pub var: String,
}

/// DLT templates by message kind and language, written `code.en=ID[:var],code.hi=ID,locked.en=ID`
/// (a bare `en=ID` means the code message).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DltTemplates(BTreeMap<(MessageKind, String), DltTemplate>);

impl DltTemplates {
    pub fn parse(text: &str) -> Result<DltTemplates, String> {
        let mut map = BTreeMap::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, value) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not <message>.<language>=<id>"))?;
            let (kind, lang) = match key.trim().split_once('.') {
                Some((kind, lang)) => (
                    MessageKind::from_name(kind.trim()).ok_or_else(|| {
                        format!("`{kind}` is not a message (code, locked, phone_changed, phone_change_waiting, factor_changed)")
                    })?,
                    lang.trim(),
                ),
                None => (MessageKind::Code, key.trim()),
            };
            let (id, var) = match value.trim().split_once(':') {
                Some((id, var)) => (id.trim(), var.trim()),
                None => (value.trim(), "otp"),
            };
            if lang.is_empty() || id.is_empty() || var.is_empty() {
                return Err(format!("`{entry}` has an empty part"));
            }
            map.insert(
                (kind, lang.to_ascii_lowercase()),
                DltTemplate {
                    id: id.to_string(),
                    var: var.to_string(),
                },
            );
        }
        Ok(DltTemplates(map))
    }

    /// The template for this message in `lang`, else in English: an English SMS beats none.
    pub fn get(&self, kind: MessageKind, lang: &str) -> Option<&DltTemplate> {
        self.0
            .get(&(kind, lang.to_string()))
            .or_else(|| self.0.get(&(kind, "en".to_string())))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl SmsSettings {
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
        dev_mode: bool,
    ) -> Result<SmsSettings, ConfigError> {
        let invalid = |key: &str, problem: String| ConfigError::Invalid {
            key: key.into(),
            problem,
        };
        let default_timeout: u64 = sources.parse("sms_timeout_secs")?;
        let timeouts: BTreeMap<String, u64> = sources
            .list("sms_provider_timeouts", |item| {
                let (name, secs) = item.split_once('=')?;
                Some((name.trim().to_string(), secs.trim().parse().ok()?))
            })?
            .into_iter()
            .collect();
        let names = sources.list("sms_provider", |name| Some(name.to_string()))?;
        if names.is_empty() {
            return Err(invalid("sms_provider", "names no provider".into()));
        }
        let mut providers = Vec::new();
        for name in &names {
            if names.iter().filter(|n| *n == name).count() > 1 {
                return Err(invalid("sms_provider", format!("`{name}` is listed twice")));
            }
            let kind = provider(sources, name)?;
            if matches!(kind, ProviderKind::Console) && !dev_mode {
                return Err(invalid(
                    "sms_provider",
                    "console only prints codes to the log and is for development; \
                     set dev_mode=true or choose a real provider"
                        .into(),
                ));
            }
            let secs = timeouts.get(name).copied().unwrap_or(default_timeout);
            providers.push(ProviderSettings {
                kind,
                timeout: Duration::from_secs(secs.max(1)),
            });
        }
        if let Some(unknown) = timeouts.keys().find(|k| !names.contains(k)) {
            return Err(invalid(
                "sms_provider_timeouts",
                format!("`{unknown}` is not in sms_provider"),
            ));
        }
        let failures: u32 = sources.parse("sms_breaker_failures")?;
        if failures == 0 {
            return Err(invalid("sms_breaker_failures", "must be at least 1".into()));
        }
        Ok(SmsSettings {
            providers,
            breaker: BreakerPolicy {
                failures,
                cooldown_secs: sources.parse("sms_breaker_cooldown_secs")?,
            },
            templates_dir: sources.optional("sms_templates_dir").map(PathBuf::from),
            callback_secret: sources.secret("sms_callback_secret")?,
        })
    }
}

fn provider<E: Fn(&str) -> Option<String>>(
    sources: &Sources<E>,
    name: &str,
) -> Result<ProviderKind, ConfigError> {
    let why = format!("when sms_provider lists {name}");
    let base = |key: &str| {
        sources
            .raw_setting(key)
            .trim()
            .trim_end_matches('/')
            .to_string()
    };
    let templates = |key: &str| -> Result<DltTemplates, ConfigError> {
        let templates = DltTemplates::parse(&sources.raw_setting(key)).map_err(|problem| {
            ConfigError::Invalid {
                key: key.into(),
                problem,
            }
        })?;
        Ok(templates)
    };
    let needs_code_template = |key: &str, templates: &DltTemplates| {
        if templates.get(MessageKind::Code, "en").is_none() {
            return Err(ConfigError::Invalid {
                key: key.into(),
                problem: format!("needs at least code.en=<id> {why}"),
            });
        }
        Ok(())
    };
    Ok(match name {
        "console" => ProviderKind::Console,
        "webhook" => ProviderKind::Webhook {
            url: sources.required("sms_webhook_url", &why)?,
            token: sources.secret("sms_webhook_token")?,
        },
        "twilio" => ProviderKind::Twilio {
            account_sid: sources.required("twilio_account_sid", &why)?,
            auth_token: sources.required_secret("twilio_auth_token", &why)?,
            from: sources.required("twilio_from", &why)?,
            api_base: base("twilio_api_base"),
        },
        "msg91" => {
            let templates = templates("msg91_templates")?;
            needs_code_template("msg91_templates", &templates)?;
            ProviderKind::Msg91 {
                authkey: sources.required_secret("msg91_authkey", &why)?,
                templates,
                api_base: base("msg91_api_base"),
            }
        }
        "fast2sms" => {
            let messages = templates("fast2sms_messages")?;
            needs_code_template("fast2sms_messages", &messages)?;
            ProviderKind::Fast2Sms {
                api_key: sources.required_secret("fast2sms_api_key", &why)?,
                sender_id: sources.required("fast2sms_sender_id", &why)?,
                messages,
                api_base: base("fast2sms_api_base"),
            }
        }
        "vonage" => ProviderKind::Vonage(VonageAccount {
            api_key: sources.required("vonage_api_key", &why)?,
            api_secret: sources.required_secret("vonage_api_secret", &why)?,
            from: sources.required("vonage_from", &why)?,
            entity_id: sources.optional("vonage_entity_id"),
            templates: templates("vonage_templates")?,
            api_base: base("vonage_api_base"),
        }),
        other => {
            return Err(ConfigError::Invalid {
                key: "sms_provider".into(),
                problem: format!(
                    "`{other}` is not one of console, webhook, twilio, msg91, fast2sms, vonage"
                ),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(pairs: &[(&str, &str)]) -> Sources<impl Fn(&str) -> Option<String>> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Sources::new(None, move |key| map.get(key).cloned()).unwrap()
    }

    #[test]
    fn dlt_templates_parse_with_kinds_languages_and_variables() {
        let t = DltTemplates::parse("en=111, code.hi=222:code ,locked.en=333").unwrap();
        assert_eq!(t.get(MessageKind::Code, "en").unwrap().id, "111");
        assert_eq!(t.get(MessageKind::Code, "en").unwrap().var, "otp");
        let hi = t.get(MessageKind::Code, "hi").unwrap();
        assert_eq!((hi.id.as_str(), hi.var.as_str()), ("222", "code"));
        assert_eq!(
            t.get(MessageKind::Code, "ta").unwrap().id,
            "111",
            "falls back to English"
        );
        assert_eq!(t.get(MessageKind::Locked, "hi").unwrap().id, "333");
        assert!(DltTemplates::parse("otp.en=1").is_err());
        assert!(DltTemplates::parse("en").is_err());
        assert!(DltTemplates::parse("en=").is_err());
    }

    #[test]
    fn an_ordered_provider_list_with_per_provider_timeouts() {
        let s = sources(&[
            ("SMS_PROVIDER", "msg91, twilio"),
            ("SMS_PROVIDER_TIMEOUTS", "twilio=8"),
            ("MSG91_AUTHKEY", "k"),
            ("MSG91_TEMPLATES", "en=1,hi=2"),
            ("TWILIO_ACCOUNT_SID", "AC1"),
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_FROM", "+15005550006"),
        ]);
        let settings = SmsSettings::load(&s, false).unwrap();
        let names: Vec<_> = settings.providers.iter().map(|p| p.kind.name()).collect();
        assert_eq!(names, ["msg91", "twilio"]);
        assert_eq!(settings.providers[0].timeout, Duration::from_secs(5));
        assert_eq!(settings.providers[1].timeout, Duration::from_secs(8));
    }

    #[test]
    fn missing_keys_unknown_names_and_duplicates_are_refused() {
        for (pairs, needle) in [
            (vec![("SMS_PROVIDER", "msg91")], "msg91_templates"),
            (
                vec![("SMS_PROVIDER", "msg91"), ("MSG91_TEMPLATES", "en=1")],
                "MSG91_AUTHKEY",
            ),
            (vec![("SMS_PROVIDER", "textlocal")], "textlocal"),
            (vec![("SMS_PROVIDER", "console,console")], "twice"),
            (
                vec![
                    ("SMS_PROVIDER", "console"),
                    ("SMS_PROVIDER_TIMEOUTS", "twilio=3"),
                ],
                "not in sms_provider",
            ),
        ] {
            let error = SmsSettings::load(&sources(&pairs), true)
                .expect_err("refused")
                .to_string();
            assert!(error.contains(needle), "{error}");
        }
    }
}
