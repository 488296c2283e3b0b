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
    /// The embedded store's block cache and write buffer, in MiB (surrealkv:// only).
    pub store_cache_mib: u64,
    pub store_memtable_mib: u64,
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
            store_cache_mib: sources.parse("store_cache_mib")?,
            store_memtable_mib: sources.parse("store_memtable_mib")?,
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

    /// The URL the engine opens. For the embedded store it carries the memory bounds, which
    /// SurrealKV otherwise sizes from the machine's memory (half of it for the cache, and up
    /// to 1 GiB of write buffer that fills before it is flushed); a bound already in the URL
    /// wins.
    pub fn engine_url(&self) -> String {
        if self.disk_path().is_none() {
            return self.url.clone();
        }
        let mut url = self.url.clone();
        const MIB: u64 = 1024 * 1024;
        let bounds = [
            ("surrealkv_block_cache_capacity", self.store_cache_mib * MIB),
            ("surrealkv_max_memtable_size", self.store_memtable_mib * MIB),
            // A read copies the whole block that holds its key: 4 KiB, not the default 64 KiB,
            // once the records no longer all fit in the write buffer.
            ("surrealkv_block_size", 4096),
        ];
        for (key, bytes) in bounds {
            if !url.contains(&format!("{key}=")) {
                let separator = if url.contains('?') { '&' } else { '?' };
                url.push_str(&format!("{separator}{key}={bytes}"));
            }
        }
        url
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
    fn the_embedded_store_gets_memory_bounds_unless_the_url_sets_them() {
        let config = |url: &str| DatabaseConfig {
            url: url.into(),
            namespace: "n".into(),
            database: "d".into(),
            user: None,
            pass: Secret::default(),
            store_cache_mib: 8,
            store_memtable_mib: 16,
        };
        assert_eq!(
            config("surrealkv://data/app.db").engine_url(),
            "surrealkv://data/app.db?surrealkv_block_cache_capacity=8388608\
             &surrealkv_max_memtable_size=16777216&surrealkv_block_size=4096"
        );
        assert_eq!(
            config("surrealkv://x?surrealkv_max_memtable_size=1").engine_url(),
            "surrealkv://x?surrealkv_max_memtable_size=1&surrealkv_block_cache_capacity=8388608\
             &surrealkv_block_size=4096"
        );
        assert_eq!(config("ws://db:8000").engine_url(), "ws://db:8000");
        assert_eq!(config("mem://").engine_url(), "mem://");
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
