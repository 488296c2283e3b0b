//! Settings underneath everything else: the layering engine (environment, then Leptos.toml's
//! `[app]` table, then defaults), the registry of every setting, the `Secret` type, and the
//! plain settings of the database, codes and limits. Each area that has settings of its own
//! (argon2, lockout, pumping, SMS) loads them from `Sources` itself; `server::settings`
//! gathers them into one `Config`.

mod registry;
mod secret;
mod sources;

pub use registry::{ENV_PREFIX, SECRETS, SETTINGS};
pub use secret::Secret;
#[cfg(test)]
pub(crate) use sources::tests::env_of;
pub use sources::{unknown_variables, ConfigError, Sources};

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
    pub reset_phone_per_hour: u32,
    pub reset_phone_per_day: u32,
    pub ip_sends_per_hour: u32,
    pub ip_signins_per_10min: u32,
    pub ip_passkey_starts_per_10min: u32,
    pub ip_code_checks_per_10min: u32,
    pub ip_oidc_client_failures_per_10min: u32,
}

impl DatabaseConfig {
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
    ) -> Result<DatabaseConfig, ConfigError> {
        Ok(DatabaseConfig {
            url: sources.raw_setting("database_url").trim().to_string(),
            namespace: sources.raw_setting("database_ns").trim().to_string(),
            database: sources.raw_setting("database_db").trim().to_string(),
            user: sources.optional("database_user"),
            pass: sources.secret("database_pass")?,
        })
    }

    /// The embedded on-disk store's path (`surrealkv://PATH?options`), if that is the store.
    pub fn disk_path(&self) -> Option<&str> {
        let rest = self.url.strip_prefix("surrealkv://")?;
        rest.split('?').next()
    }

    /// Whether the store lives in this process (on disk or in memory), so no other process
    /// writes to it.
    pub fn is_embedded(&self) -> bool {
        self.disk_path().is_some() || self.url.starts_with("mem://")
    }
}

impl OtpConfig {
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
    ) -> Result<OtpConfig, ConfigError> {
        let max_attempts: u32 = sources.parse("otp_max_attempts")?;
        if max_attempts == 0 {
            return Err(ConfigError::Invalid {
                key: "otp_max_attempts".into(),
                problem: "must be at least 1".into(),
            });
        }
        Ok(OtpConfig {
            ttl_secs: sources.parse("otp_ttl_secs")?,
            max_attempts,
            resend_cooldown_secs: sources.parse("otp_resend_cooldown_secs")?,
            resend_cooldown_max_secs: sources.parse("otp_resend_cooldown_max_secs")?,
            challenge_max_age_secs: sources.parse("challenge_max_age_secs")?,
        })
    }
}

impl LimitsConfig {
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
    ) -> Result<LimitsConfig, ConfigError> {
        Ok(LimitsConfig {
            phone_per_hour: sources.parse("limit_phone_per_hour")?,
            phone_per_day: sources.parse("limit_phone_per_day")?,
            reset_phone_per_hour: sources.parse("limit_reset_phone_per_hour")?,
            reset_phone_per_day: sources.parse("limit_reset_phone_per_day")?,
            ip_sends_per_hour: sources.parse("limit_ip_sends_per_hour")?,
            ip_signins_per_10min: sources.parse("limit_ip_signins_per_10min")?,
            ip_passkey_starts_per_10min: sources.parse("limit_ip_passkey_starts_per_10min")?,
            ip_code_checks_per_10min: sources.parse("limit_ip_code_checks_per_10min")?,
            ip_oidc_client_failures_per_10min: sources
                .parse("limit_ip_oidc_client_failures_per_10min")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_store_is_on_disk_and_which_this_process_owns() {
        let config = |url: &str| DatabaseConfig {
            url: url.into(),
            namespace: "n".into(),
            database: "d".into(),
            user: None,
            pass: Secret::default(),
        };
        // Which store is whose: the path of the on-disk one, and which ones this process owns.
        assert_eq!(
            config("surrealkv://data/app.db?x=1").disk_path(),
            Some("data/app.db")
        );
        assert_eq!(config("mem://").disk_path(), None);
        assert!(config("mem://").is_embedded());
        assert!(!config("ws://db:8000").is_embedded());
    }
}
