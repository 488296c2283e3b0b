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
    pub store_bounds: StoreBounds,
}

/// How much memory the embedded store may keep, in bytes (a SurrealDB server has its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreBounds {
    /// Writes collect here until it is full, then go to disk as one table file. It also bounds
    /// the largest transaction.
    pub write_buffer: u64,
    /// Blocks of the on-disk tables kept after a read.
    pub block_cache: u64,
}

pub const MIB: u64 = 1024 * 1024;

impl Default for StoreBounds {
    /// The registry's defaults (`store_write_buffer_mib`, `store_cache_mib`).
    fn default() -> Self {
        StoreBounds {
            write_buffer: 16 * MIB,
            // The system's page cache holds the table files too. 4 and 16 MiB here measured as
            // 3 and 18 MiB more idle memory and no faster check; 4 MiB not at a million
            // accounts either (docs/benchmarks.md).
            block_cache: 2 * MIB,
        }
    }
}

impl StoreBounds {
    fn load<E: Fn(&str) -> Option<String>>(sources: &Sources<E>) -> Result<Self, ConfigError> {
        let mib = |key: &str, least: u64| -> Result<u64, ConfigError> {
            let value: u64 = sources.parse(key)?;
            if value < least {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    problem: format!("must be at least {least} (MiB)"),
                });
            }
            value.checked_mul(MIB).ok_or_else(|| ConfigError::Invalid {
                key: key.into(),
                problem: "is too large".into(),
            })
        };
        Ok(StoreBounds {
            // The schema goes in as one transaction, and the buffer must hold it.
            write_buffer: mib("store_write_buffer_mib", 4)?,
            block_cache: mib("store_cache_mib", 1)?,
        })
    }
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
            store_bounds: StoreBounds::load(sources)?,
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
            store_bounds: StoreBounds::default(),
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

    #[test]
    fn the_store_bounds_default_to_the_registry_and_refuse_a_buffer_the_schema_cannot_fit() {
        let load = |pairs: &[(&str, &str)]| {
            let sources = Sources::new(None, env_of(pairs)).unwrap();
            DatabaseConfig::load(&sources).map(|c| c.store_bounds)
        };
        assert_eq!(load(&[]).unwrap(), StoreBounds::default());
        let set = load(&[
            ("DOTP_STORE_WRITE_BUFFER_MIB", "64"),
            ("DOTP_STORE_CACHE_MIB", "8"),
        ])
        .unwrap();
        assert_eq!((set.write_buffer, set.block_cache), (64 * MIB, 8 * MIB));
        let small = load(&[("DOTP_STORE_WRITE_BUFFER_MIB", "3")]).unwrap_err();
        assert!(
            small.to_string().contains("store_write_buffer_mib"),
            "{small}"
        );
        assert!(small.to_string().contains("at least 4"), "{small}");
        assert!(load(&[("DOTP_STORE_CACHE_MIB", "0")]).is_err());
        assert!(load(&[("DOTP_STORE_CACHE_MIB", "99999999999999")]).is_err());
    }
}
