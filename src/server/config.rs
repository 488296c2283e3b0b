//! Runtime settings: built-in defaults, then the `[app]` table of Leptos.toml, then environment
//! variables of the same name in upper case. Unknown keys in the file are refused so a typo
//! never silently falls back to a default.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::server::sms::settings::SmsSettings;

/// Every setting: (key, default, what it does). README's settings table mirrors this list.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("database_url", "surrealkv://data/app.db", "SurrealDB endpoint: surrealkv://PATH (embedded, fsync on commit), mem:// or ws://HOST:PORT"),
    ("database_ns", "dynamic_otp", "SurrealDB namespace"),
    ("database_db", "main", "SurrealDB database"),
    ("database_user", "", "root user for a remote SurrealDB server (empty: no sign-in)"),
    ("database_pass", "", "password for database_user"),
    ("data_dir", "data", "where the embedded store and the generated code secret live"),
    ("dev_mode", "", "true enables /dev/outbox and the console provider; empty means: on when LEPTOS_ENV is DEV"),
    ("cookie_secure", "", "Secure flag on cookies; empty means: on unless dev_mode"),
    ("public_url", "", "the site's public URL, for the WebOTP line; empty means http://<site-addr>"),
    ("otp_secret", "", "HMAC key for stored codes; empty means: generated once into <data_dir>/otp_secret"),
    ("otp_secret_previous", "", "retired OTP_SECRET values, comma-separated: codes made with them are still checked, new codes never use them (see docs/deploy.md, secret rotation)"),
    ("otp_ttl_secs", "300", "how long a code is valid"),
    ("otp_max_attempts", "5", "wrong tries before a code is dead"),
    ("otp_resend_cooldown_secs", "30", "wait before the first \"Resend code\"; each later wait doubles"),
    ("otp_resend_cooldown_max_secs", "1800", "longest wait between two codes of one sign-in"),
    ("challenge_max_age_secs", "1800", "how long one sign-in or registration may keep asking for codes; unverified registrations older than this free their username and phone"),
    ("session_ttl_secs", "604800", "longest a session lasts, however active (absolute timeout)"),
    ("session_idle_timeout_secs", "86400", "a session unused this long ends (inactivity timeout)"),
    ("argon2_memory_kib", "19456", "argon2id memory (OWASP minimum: 19456)"),
    ("argon2_iterations", "2", "argon2id passes (OWASP minimum with 19 MiB: 2)"),
    ("argon2_parallelism", "1", "argon2id lanes"),
    ("argon2_max_concurrent", "0", "password hashes at once; 0 means one per core"),
    ("argon2_max_queue", "0", "password checks that may wait for a hash slot before the server answers 503; 0 means 8 per slot"),
    ("default_region", "IN", "region for phone numbers typed without +country code"),
    ("sms_allowed_countries", "91", "calling codes we send SMS to, comma-separated (e.g. 91,44)"),
    ("limit_phone_per_hour", "5", "codes sent to one phone number per hour"),
    ("limit_phone_per_day", "10", "codes sent to one phone number per day"),
    ("limit_ip_sends_per_hour", "20", "codes sent on behalf of one client IP per hour"),
    ("limit_ip_signins_per_10min", "30", "sign-in attempts from one client IP per 10 minutes"),
    ("lockout_delay_after", "10", "consecutive failed sign-ins (password or code) before each next attempt must wait, doubling"),
    ("lockout_max_delay_secs", "900", "longest wait between attempts before the lock"),
    ("lockout_lock_after", "100", "consecutive failures that lock the account until a password reset or an admin unlocks it"),
    ("pumping_prefix_digits", "2", "national digits after the calling code that make up a number range for the SMS-pumping alarm"),
    ("pumping_min_sends", "20", "codes sent to one range in an hour before the alarm judges it"),
    ("pumping_max_ratio", "5", "codes sent per verified code above which a range is stopped for an hour"),
    ("test_numbers", "", "demo/app-review numbers with a fixed code and an expiry day, e.g. +919999900001=123456@2027-01-31; refused outside dev mode"),
    ("shutdown_drain_secs", "", "on SIGTERM, seconds to keep accepting while /readyz says 503 so the load balancer moves traffic away, before finishing what is in flight; empty means 0 in dev mode, else 2"),
    ("metrics_addr", "", "address that alone serves Prometheus /metrics, e.g. 127.0.0.1:9100; empty serves it on the site address"),
    ("log_format", "text", "text (for people) or json (one object per line, for log collectors); RUST_LOG filters, e.g. info,dynamic_otp=debug"),
    ("trusted_proxies", "", "IPs of reverse proxies whose X-Forwarded-For is believed, comma-separated"),
    ("sms_provider", "console", "SMS providers in failover order, comma-separated: console, webhook, twilio, msg91, fast2sms, vonage"),
    ("sms_timeout_secs", "5", "HTTP timeout for one SMS send, per provider"),
    ("sms_provider_timeouts", "", "per-provider timeouts overriding sms_timeout_secs, e.g. twilio=8,msg91=3"),
    ("sms_breaker_failures", "5", "consecutive failures after which a provider is skipped (circuit open)"),
    ("sms_breaker_cooldown_secs", "60", "how long an open circuit skips its provider before one trial send"),
    ("sms_templates_dir", "", "folder of <language>.toml SMS templates that add to or replace the built-in en and hi"),
    ("sms_callback_secret", "", "secret in the MSG91 and Vonage delivery-receipt URLs (/sms/status/<provider>/<secret>); empty: those receipts are off"),
    ("sms_webhook_url", "", "webhook provider: URL that receives POST {\"to\",\"message\"}"),
    ("sms_webhook_token", "", "webhook provider: optional bearer token"),
    ("twilio_account_sid", "", "Twilio account SID"),
    ("twilio_auth_token", "", "Twilio auth token"),
    ("twilio_from", "", "Twilio sender number or messaging service SID"),
    ("twilio_api_base", "https://api.twilio.com", "Twilio API base URL (tests point it at loopback)"),
    ("msg91_authkey", "", "MSG91 auth key"),
    ("msg91_templates", "", "MSG91 Flow template per message and language: code.en=<template id>[:<variable>],code.hi=…,locked.en=…; variable defaults to otp"),
    ("msg91_api_base", "https://control.msg91.com", "MSG91 API base URL"),
    ("fast2sms_api_key", "", "Fast2SMS API authorization key"),
    ("fast2sms_sender_id", "", "Fast2SMS DLT sender id (header), e.g. DYNOTP"),
    ("fast2sms_messages", "", "Fast2SMS DLT message id per message and language: code.en=<id>,code.hi=<id>"),
    ("fast2sms_api_base", "https://www.fast2sms.com", "Fast2SMS API base URL"),
    ("vonage_api_key", "", "Vonage API key"),
    ("vonage_api_secret", "", "Vonage API secret"),
    ("vonage_from", "", "Vonage sender id or number"),
    ("vonage_entity_id", "", "Vonage: your DLT principal entity id, for messages to India"),
    ("vonage_templates", "", "Vonage: DLT content template id per message and language, for India: code.en=<id>,code.hi=<id>"),
    ("vonage_api_base", "https://rest.nexmo.com", "Vonage SMS API base URL"),
];

/// Settings that hold secrets: never read from Leptos.toml (it is committed and shared), only
/// from the environment or from a file named by `<key>_file` (in Leptos.toml or the environment).
pub const SECRETS: &[&str] = &[
    "database_pass",
    "otp_secret",
    "otp_secret_previous",
    "sms_callback_secret",
    "sms_webhook_token",
    "twilio_auth_token",
    "msg91_authkey",
    "fast2sms_api_key",
    "vonage_api_secret",
];

/// A value that must never reach a log line or a response.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "<unset>"
        } else {
            "<redacted>"
        })
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: String,
    pub namespace: String,
    pub database: String,
    pub user: Option<String>,
    pub pass: Secret,
}

#[derive(Debug, Clone)]
pub struct OtpConfig {
    pub ttl_secs: u64,
    pub max_attempts: u32,
    pub resend_cooldown_secs: u64,
    pub resend_cooldown_max_secs: u64,
    pub challenge_max_age_secs: u64,
}

/// Fixed-window limits, all counted in the database.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub phone_per_hour: u32,
    pub phone_per_day: u32,
    pub ip_sends_per_hour: u32,
    pub ip_signins_per_10min: u32,
}

#[derive(Debug, Clone)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
    pub max_queue: usize,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub data_dir: PathBuf,
    pub dev_mode: bool,
    pub cookie_secure: bool,
    pub public_url: String,
    pub otp_secret: Secret,
    pub otp_secret_previous: Secret,
    pub otp: OtpConfig,
    pub session_ttl_secs: u64,
    pub session_idle_timeout_secs: u64,
    pub argon2: Argon2Config,
    pub default_region: phonenumber::country::Id,
    pub sms_allowed_countries: Vec<u16>,
    pub limits: LimitsConfig,
    pub lockout: crate::server::auth::lockout::LockoutPolicy,
    pub pumping: crate::server::auth::pumping::PumpingPolicy,
    pub test_numbers: Vec<crate::server::auth::test_numbers::TestNumber>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub json_logs: bool,
    pub shutdown_drain_secs: u64,
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub sms: SmsSettings,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("Leptos.toml: {0}")]
    File(String),
    #[error("Leptos.toml [app]: unknown setting `{0}` (see README for the list)")]
    UnknownKey(String),
    #[error("Leptos.toml [app]: `{0}` is a secret; set it in the environment as {upper} or name a file holding it with {0}_file", upper = .0.to_ascii_uppercase())]
    SecretInFile(String),
    #[error("setting `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

/// Where the raw values come from: the file's `[app]` table and a lookup into the environment.
pub struct Sources<E: Fn(&str) -> Option<String>> {
    file: BTreeMap<String, String>,
    env: E,
}

impl<E: Fn(&str) -> Option<String>> Sources<E> {
    pub fn new(leptos_toml: Option<&str>, env: E) -> Result<Self, ConfigError> {
        let mut file = BTreeMap::new();
        if let Some(text) = leptos_toml {
            let doc: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| ConfigError::File(e.message().to_string()))?;
            if let Some(app) = doc.get("app") {
                let table = app
                    .as_table()
                    .ok_or_else(|| ConfigError::File("[app] must be a table".into()))?;
                for (key, value) in table {
                    if SECRETS.contains(&key.as_str()) {
                        return Err(ConfigError::SecretInFile(key.clone()));
                    }
                    let names_secret_file = key
                        .strip_suffix("_file")
                        .is_some_and(|secret| SECRETS.contains(&secret));
                    if !names_secret_file && !SETTINGS.iter().any(|(known, _, _)| known == key) {
                        return Err(ConfigError::UnknownKey(key.clone()));
                    }
                    let text = match value {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    file.insert(key.clone(), text);
                }
            }
        }
        Ok(Sources { file, env })
    }

    fn raw(&self, key: &str) -> String {
        if let Some(value) = (self.env)(&key.to_ascii_uppercase()) {
            return value;
        }
        if let Some(value) = self.file.get(key) {
            return value.clone();
        }
        SETTINGS
            .iter()
            .find(|(known, _, _)| *known == key)
            .map(|(_, default, _)| default.to_string())
            .unwrap_or_default()
    }

    /// A secret: the environment variable, else the file named by `<key>_file`; empty if neither.
    pub(crate) fn secret(&self, key: &str) -> Result<Secret, ConfigError> {
        if let Some(value) = (self.env)(&key.to_ascii_uppercase()) {
            return Ok(Secret::new(value.trim()));
        }
        let file_key = format!("{key}_file");
        let path = (self.env)(&file_key.to_ascii_uppercase())
            .or_else(|| self.file.get(&file_key).cloned());
        match path.filter(|p| !p.trim().is_empty()) {
            None => Ok(Secret::default()),
            Some(path) => std::fs::read_to_string(path.trim())
                .map(|text| Secret::new(text.trim()))
                .map_err(|e| ConfigError::Invalid {
                    key: file_key,
                    problem: format!("cannot read `{}`: {}", path.trim(), e.kind()),
                }),
        }
    }

    pub(crate) fn required_secret(&self, key: &str, why: &str) -> Result<Secret, ConfigError> {
        let secret = self.secret(key)?;
        if secret.is_empty() {
            return Err(ConfigError::Invalid {
                key: key.into(),
                problem: format!(
                    "must be set {why} (environment {} or {key}_file)",
                    key.to_ascii_uppercase()
                ),
            });
        }
        Ok(secret)
    }

    pub(crate) fn raw_setting(&self, key: &str) -> String {
        self.raw(key)
    }

    pub(crate) fn optional(&self, key: &str) -> Option<String> {
        let value = self.raw(key);
        (!value.trim().is_empty()).then(|| value.trim().to_string())
    }

    pub(crate) fn parse<T: std::str::FromStr>(&self, key: &str) -> Result<T, ConfigError> {
        let value = self.raw(key);
        value.trim().parse().map_err(|_| ConfigError::Invalid {
            key: key.into(),
            problem: format!("`{value}` is not a valid value"),
        })
    }

    pub(crate) fn flag(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(key).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError::Invalid {
                key: key.into(),
                problem: format!("`{other}` is not true or false"),
            }),
        }
    }

    /// A comma-separated list; every item must parse.
    pub(crate) fn list<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, ConfigError> {
        self.raw(key)
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                parse(item).ok_or_else(|| ConfigError::Invalid {
                    key: key.into(),
                    problem: format!("`{item}` is not valid"),
                })
            })
            .collect()
    }

    pub(crate) fn required(&self, key: &str, why: &str) -> Result<String, ConfigError> {
        self.optional(key).ok_or_else(|| ConfigError::Invalid {
            key: key.into(),
            problem: format!("must be set {why}"),
        })
    }
}

impl Config {
    /// `leptos_dev` is whether Leptos itself runs in DEV; `site_addr` is its listen address.
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
        leptos_dev: bool,
        site_addr: &str,
    ) -> Result<Config, ConfigError> {
        let dev_mode = sources.flag("dev_mode", leptos_dev)?;
        let sms = SmsSettings::load(sources, dev_mode)?;
        let region: String = sources.raw("default_region").trim().to_ascii_uppercase();
        let default_region = region.parse().map_err(|_| ConfigError::Invalid {
            key: "default_region".into(),
            problem: format!("`{region}` is not a two-letter region code"),
        })?;
        let max_concurrent: usize = match sources.parse("argon2_max_concurrent")? {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n => n,
        };
        let max_queue: usize = match sources.parse("argon2_max_queue")? {
            0 => 8 * max_concurrent,
            n => n,
        };
        let max_attempts: u32 = sources.parse("otp_max_attempts")?;
        if max_attempts == 0 {
            return Err(ConfigError::Invalid {
                key: "otp_max_attempts".into(),
                problem: "must be at least 1".into(),
            });
        }
        Ok(Config {
            database: DatabaseConfig {
                url: sources.raw("database_url").trim().to_string(),
                namespace: sources.raw("database_ns").trim().to_string(),
                database: sources.raw("database_db").trim().to_string(),
                user: sources.optional("database_user"),
                pass: sources.secret("database_pass")?,
            },
            data_dir: PathBuf::from(sources.raw("data_dir").trim()),
            dev_mode,
            cookie_secure: sources.flag("cookie_secure", !dev_mode)?,
            public_url: sources
                .optional("public_url")
                .unwrap_or_else(|| format!("http://{site_addr}")),
            otp_secret: sources.secret("otp_secret")?,
            otp_secret_previous: sources.secret("otp_secret_previous")?,
            otp: OtpConfig {
                ttl_secs: sources.parse("otp_ttl_secs")?,
                max_attempts,
                resend_cooldown_secs: sources.parse("otp_resend_cooldown_secs")?,
                resend_cooldown_max_secs: sources.parse("otp_resend_cooldown_max_secs")?,
                challenge_max_age_secs: sources.parse("challenge_max_age_secs")?,
            },
            session_ttl_secs: sources.parse("session_ttl_secs")?,
            session_idle_timeout_secs: sources.parse("session_idle_timeout_secs")?,
            argon2: Argon2Config {
                memory_kib: sources.parse("argon2_memory_kib")?,
                iterations: sources.parse("argon2_iterations")?,
                parallelism: sources.parse("argon2_parallelism")?,
                max_concurrent,
                max_queue,
            },
            default_region,
            sms_allowed_countries: sources.list("sms_allowed_countries", |s| {
                s.trim_start_matches('+').parse().ok()
            })?,
            limits: LimitsConfig {
                phone_per_hour: sources.parse("limit_phone_per_hour")?,
                phone_per_day: sources.parse("limit_phone_per_day")?,
                ip_sends_per_hour: sources.parse("limit_ip_sends_per_hour")?,
                ip_signins_per_10min: sources.parse("limit_ip_signins_per_10min")?,
            },
            lockout: crate::server::auth::lockout::LockoutPolicy {
                delay_after: sources.parse("lockout_delay_after")?,
                lock_after: sources.parse("lockout_lock_after")?,
                max_delay_secs: sources.parse("lockout_max_delay_secs")?,
            },
            pumping: crate::server::auth::pumping::PumpingPolicy {
                prefix_digits: sources.parse("pumping_prefix_digits")?,
                min_sends: sources.parse("pumping_min_sends")?,
                max_ratio: sources.parse("pumping_max_ratio")?,
            },
            test_numbers: {
                let numbers = sources.list("test_numbers", |entry| {
                    crate::server::auth::test_numbers::parse(entry, default_region)
                })?;
                if !numbers.is_empty() && !dev_mode {
                    return Err(ConfigError::Invalid {
                        key: "test_numbers".into(),
                        problem: "test numbers skip the SMS and are refused in production; \
                                  remove them or run with dev_mode=true"
                            .into(),
                    });
                }
                numbers
            },
            trusted_proxies: sources.list("trusted_proxies", |s| s.parse().ok())?,
            shutdown_drain_secs: match sources.optional("shutdown_drain_secs") {
                None => {
                    if dev_mode {
                        0
                    } else {
                        2
                    }
                }
                Some(_) => sources.parse("shutdown_drain_secs")?,
            },
            metrics_addr: match sources.optional("metrics_addr") {
                None => None,
                Some(_) => Some(sources.parse("metrics_addr")?),
            },
            json_logs: match sources.raw_setting("log_format").trim() {
                "text" | "" => false,
                "json" => true,
                other => {
                    return Err(ConfigError::Invalid {
                        key: "log_format".into(),
                        problem: format!("`{other}` is not text or json"),
                    })
                }
            },
            sms,
        })
    }

    /// The host name browsers match the WebOTP line against.
    pub fn public_host(&self) -> String {
        let without_scheme = self
            .public_url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(&self.public_url);
        let authority = without_scheme.split('/').next().unwrap_or_default();
        authority
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map(|(host, _)| host)
            .unwrap_or(authority)
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn the_readme_lists_every_setting_as_it_is() {
        let readme = include_str!("../../README.md");
        for (key, default, doc) in SETTINGS {
            let default = if default.is_empty() {
                "—".to_string()
            } else {
                format!("`{default}`")
            };
            let secret = if SECRETS.contains(key) {
                format!(
                    " (secret: environment or `{}_FILE` only)",
                    key.to_uppercase()
                )
            } else {
                String::new()
            };
            let row = format!("| `{}` | {default} | {doc}{secret} |", key.to_uppercase());
            assert!(readme.contains(&row), "README lacks or misstates:\n{row}");
        }
    }

    #[test]
    fn defaults_then_file_then_env() {
        let file = "[package.metadata.leptos]\noutput-name = \"x\"\n[app]\notp_ttl_secs = 120\nsms_provider = \"webhook\"\nsms_webhook_url = \"http://127.0.0.1:9/hook\"\n";
        let sources = Sources::new(Some(file), env_of(&[("OTP_TTL_SECS", "60")])).unwrap();
        let config = Config::load(&sources, true, "127.0.0.1:3000").unwrap();
        assert_eq!(config.otp.ttl_secs, 60, "env beats file");
        assert_eq!(config.otp.max_attempts, 5, "default");
        assert!(matches!(
            config.sms.providers[0].kind,
            crate::server::sms::settings::ProviderKind::Webhook { ref url, .. } if url == "http://127.0.0.1:9/hook"
        ));
        assert!(config.dev_mode && !config.cookie_secure);
        assert_eq!(config.public_host(), "127.0.0.1");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let unknown = Sources::new(Some("[app]\notp_ttl = 3\n"), env_of(&[]));
        assert_eq!(
            unknown.err(),
            Some(ConfigError::UnknownKey("otp_ttl".into()))
        );
        let sources = Sources::new(None, env_of(&[("OTP_MAX_ATTEMPTS", "many")])).unwrap();
        assert!(Config::load(&sources, true, "x:1").is_err());
    }

    #[test]
    fn console_provider_needs_dev_mode() {
        let sources = Sources::new(None, env_of(&[])).unwrap();
        assert!(Config::load(&sources, false, "x:1").is_err());
        let config = Config::load(&sources, true, "x:1").unwrap();
        assert!(matches!(
            config.sms.providers[0].kind,
            crate::server::sms::settings::ProviderKind::Console
        ));
    }

    #[test]
    fn test_numbers_only_in_dev_mode() {
        let env = env_of(&[
            ("SMS_PROVIDER", "webhook"),
            ("SMS_WEBHOOK_URL", "http://127.0.0.1:9/"),
            ("TEST_NUMBERS", "+919999900001=123456@2027-01-31"),
        ]);
        let sources = Sources::new(None, env).unwrap();
        assert!(
            Config::load(&sources, false, "x:1").is_err(),
            "refused in production"
        );
        assert_eq!(
            Config::load(&sources, true, "x:1")
                .unwrap()
                .test_numbers
                .len(),
            1
        );
    }

    #[test]
    fn secrets_come_from_env_or_a_named_file_never_from_leptos_toml() {
        let in_file = Sources::new(Some("[app]\ntwilio_auth_token = \"abc\"\n"), env_of(&[]));
        let refused = in_file.err().expect("refused").to_string();
        assert!(refused.contains("TWILIO_AUTH_TOKEN") && !refused.contains("abc"));

        let dir = std::env::temp_dir().join(format!("dotp-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "from-file\n").unwrap();
        let file = format!("[app]\nmsg91_authkey_file = \"{}\"\n", path.display());
        let sources = Sources::new(Some(&file), env_of(&[])).unwrap();
        assert_eq!(
            sources.secret("msg91_authkey").unwrap().expose(),
            "from-file"
        );
        let env = Sources::new(Some(&file), env_of(&[("MSG91_AUTHKEY", "from-env")])).unwrap();
        assert_eq!(env.secret("msg91_authkey").unwrap().expose(), "from-env");
        let missing = Sources::new(None, env_of(&[("OTP_SECRET_FILE", "/nonexistent/x")])).unwrap();
        assert!(missing.secret("otp_secret").is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
    }
}
