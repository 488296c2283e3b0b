//! Every setting of the running service in one value, each area's part loaded by that area.

use std::path::PathBuf;

use crate::server::auth::lockout::LockoutPolicy;
use crate::server::auth::password::Argon2Config;
use crate::server::auth::pumping::PumpingPolicy;
use crate::server::auth::reach::region_named;
use crate::server::auth::test_numbers::{self, TestNumber};
use crate::server::config::{
    ConfigError, DatabaseConfig, LimitsConfig, OtpConfig, Secret, Sources,
};
use crate::server::sms::settings::SmsSettings;

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
    pub sms_allowed_countries: Vec<phonenumber::country::Id>,
    pub limits: LimitsConfig,
    pub lockout: LockoutPolicy,
    pub pumping: PumpingPolicy,
    pub test_numbers: Vec<TestNumber>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub json_logs: bool,
    pub shutdown_drain_secs: u64,
    pub metrics: MetricsAt,
    pub sms: SmsSettings,
    /// Apps to register at start-up (service::oidc_clients).
    pub oidc_clients_file: Option<PathBuf>,
}

/// The shortest OTP_SECRET accepted: 32 bytes, the 256 bits HMAC-SHA256 can use.
const MIN_OTP_SECRET_LEN: usize = 32;

/// Where production serves /metrics unless told: loopback, on the port OpenTelemetry's
/// Prometheus exporter uses (9100 is node_exporter's, often taken on the same machine).
const DEFAULT_METRICS_ADDR: std::net::SocketAddr = std::net::SocketAddr::V4(
    std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 9464),
);

/// Where Prometheus' /metrics is served. Its counters move with real accounts only (an SMS is
/// sent to real phones alone), so by default only this machine reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAt {
    /// A listener of its own.
    Own(std::net::SocketAddr),
    /// On the site's address, for a proxy that keeps it from the public.
    Site,
    Off,
}

impl Config {
    /// `leptos_dev` is whether Leptos itself runs in DEV; `site_addr` is its listen address.
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
        leptos_dev: bool,
        site_addr: &str,
    ) -> Result<Config, ConfigError> {
        let dev_mode = sources.flag("dev_mode", leptos_dev)?;
        if dev_mode && !listens_on_loopback_only(site_addr) {
            return Err(ConfigError::Invalid {
                key: "dev_mode".into(),
                problem: format!(
                    "dev mode shows every code at /dev/outbox, so it listens on loopback only, \
                     not {site_addr}: set LEPTOS_SITE_ADDR=127.0.0.1:3000, or run in production \
                     (LEPTOS_ENV=PROD or DOTP_DEV_MODE=false)"
                ),
            });
        }
        let sms = SmsSettings::load(sources, dev_mode)?;
        let region: String = sources
            .raw_setting("default_region")
            .trim()
            .to_ascii_uppercase();
        let default_region = region.parse().map_err(|_| ConfigError::Invalid {
            key: "default_region".into(),
            problem: format!("`{region}` is not a two-letter region code"),
        })?;
        let otp_secret = sources.secret("otp_secret")?;
        // A short key could be guessed, and with it every code from its MAC: refuse to start.
        if !otp_secret.is_empty() && otp_secret.expose().len() < MIN_OTP_SECRET_LEN {
            return Err(ConfigError::Invalid {
                key: "otp_secret".into(),
                problem: format!(
                    "must be at least {MIN_OTP_SECRET_LEN} characters (this one has {}); \
                     empty lets the server generate one",
                    otp_secret.expose().len()
                ),
            });
        }
        Ok(Config {
            database: DatabaseConfig::load(sources)?,
            data_dir: PathBuf::from(sources.raw_setting("data_dir").trim()),
            dev_mode,
            cookie_secure: sources.flag("cookie_secure", !dev_mode)?,
            public_url: sources
                .optional("public_url")
                .unwrap_or_else(|| format!("http://{site_addr}")),
            otp_secret,
            otp_secret_previous: sources.secret("otp_secret_previous")?,
            otp: OtpConfig::load(sources)?,
            session_ttl_secs: sources.parse("session_ttl_secs")?,
            session_idle_timeout_secs: sources.parse("session_idle_timeout_secs")?,
            argon2: Argon2Config::load(sources)?,
            default_region,
            sms_allowed_countries: sources.list("sms_allowed_countries", region_named)?,
            limits: LimitsConfig::load(sources)?,
            lockout: LockoutPolicy::load(sources)?,
            pumping: PumpingPolicy::load(sources)?,
            test_numbers: test_numbers::load(sources, default_region, dev_mode)?,
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
            metrics: match sources.raw_setting("metrics_addr").trim() {
                "site" => MetricsAt::Site,
                "off" => MetricsAt::Off,
                // Dev mode listens on loopback alone: no second port to collide with.
                "" if dev_mode => MetricsAt::Site,
                "" => MetricsAt::Own(DEFAULT_METRICS_ADDR),
                _ => MetricsAt::Own(sources.parse("metrics_addr")?),
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
            oidc_clients_file: sources.optional("oidc_clients_file").map(PathBuf::from),
        })
    }
}

/// Whether a listen address reaches this machine only.
fn listens_on_loopback_only(site_addr: &str) -> bool {
    site_addr
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|addr| addr.ip().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::env_of;

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
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let unknown = Sources::new(Some("[app]\notp_ttl = 3\n"), env_of(&[]));
        assert_eq!(
            unknown.err(),
            Some(ConfigError::UnknownKey("otp_ttl".into()))
        );
        let sources = Sources::new(None, env_of(&[("OTP_MAX_ATTEMPTS", "many")])).unwrap();
        assert!(Config::load(&sources, true, "127.0.0.1:3000").is_err());
    }

    #[test]
    fn a_short_otp_secret_is_refused_without_showing_it() {
        let short = env_of(&[("OTP_SECRET", "only-twenty-characte")]);
        let sources = Sources::new(None, short).unwrap();
        let refused = Config::load(&sources, true, "127.0.0.1:3000")
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("at least 32"), "{refused}");
        assert!(
            !refused.contains("only-twenty"),
            "the secret is never echoed"
        );
    }

    #[test]
    fn metrics_stay_on_loopback_unless_told() {
        let production = env_of(&[
            ("SMS_PROVIDER", "webhook"),
            ("SMS_WEBHOOK_URL", "http://127.0.0.1:9/"),
        ]);
        let sources = Sources::new(None, production).unwrap();
        let config = Config::load(&sources, false, "0.0.0.0:3000").unwrap();
        assert_eq!(
            config.metrics,
            MetricsAt::Own("127.0.0.1:9464".parse().unwrap())
        );
        let dev = Sources::new(None, env_of(&[])).unwrap();
        let config = Config::load(&dev, true, "127.0.0.1:3000").unwrap();
        assert_eq!(
            config.metrics,
            MetricsAt::Site,
            "dev mode is loopback-only already"
        );
    }

    #[test]
    fn dev_mode_listens_on_loopback_only() {
        let sources = Sources::new(None, env_of(&[])).unwrap();
        for addr in ["0.0.0.0:3000", "[::]:3000", "192.0.2.10:3000"] {
            let refused = Config::load(&sources, true, addr)
                .err()
                .unwrap()
                .to_string();
            assert!(refused.contains("loopback only"), "{addr}: {refused}");
        }
        assert!(Config::load(&sources, true, "[::1]:3000").is_ok());
        let production = env_of(&[
            ("SMS_PROVIDER", "webhook"),
            ("SMS_WEBHOOK_URL", "http://127.0.0.1:9/"),
        ]);
        let sources = Sources::new(None, production).unwrap();
        assert!(Config::load(&sources, false, "0.0.0.0:3000").is_ok());
    }

    #[test]
    fn console_provider_needs_dev_mode() {
        let sources = Sources::new(None, env_of(&[])).unwrap();
        assert!(Config::load(&sources, false, "127.0.0.1:3000").is_err());
        let config = Config::load(&sources, true, "127.0.0.1:3000").unwrap();
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
            Config::load(&sources, false, "127.0.0.1:3000").is_err(),
            "refused in production"
        );
        assert_eq!(
            Config::load(&sources, true, "127.0.0.1:3000")
                .unwrap()
                .test_numbers
                .len(),
            1
        );
    }

    #[test]
    fn prefixed_names_win_and_old_names_still_work_with_a_warning() {
        let env = env_of(&[
            ("DOTP_OTP_TTL_SECS", "90"),
            ("OTP_TTL_SECS", "60"),
            ("SESSION_TTL_SECS", "7"),
        ]);
        let sources = Sources::new(None, env).unwrap();
        let config = Config::load(&sources, true, "127.0.0.1:3000").unwrap();
        assert_eq!(config.otp.ttl_secs, 90, "the prefixed name wins");
        assert_eq!(config.session_ttl_secs, 7, "the old name is still read");
        let warnings = sources.warnings().join("\n");
        assert!(
            warnings.contains("SESSION_TTL_SECS") && warnings.contains("DOTP_SESSION_TTL_SECS")
        );
        let unknown = crate::server::config::unknown_variables([
            "DOTP_OTP_TTL".to_string(),
            "DOTP_OTP_SECRET_FILE".into(),
            "PATH".into(),
            "DOTP_LOG_FORMAT".into(),
        ]);
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert!(unknown[0].contains("DOTP_OTP_TTL"));
    }
}
