//! The list of every setting with its default and meaning, and which of them are secrets.
//! README's settings table mirrors this list (`scripts/readme-settings.py` writes it).

/// Environment variables are this prefix and the key in upper case (`DOTP_OTP_TTL_SECS`).
pub const ENV_PREFIX: &str = "DOTP_";

/// Every setting: (key, default, what it does). README's settings table mirrors this list.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("database_url", "surrealkv://data/app.db", "SurrealDB endpoint: surrealkv://PATH (embedded, fsync on commit), mem:// or ws://HOST:PORT"),
    ("database_ns", "dynamic_otp", "SurrealDB namespace"),
    ("database_db", "main", "SurrealDB database"),
    ("database_user", "", "root user for a remote SurrealDB server (empty: no sign-in)"),
    ("database_pass", "", "password for database_user"),
    ("store_write_buffer_mib", "16", "embedded store: writes collect in memory up to this many MiB, then go to disk as one table file; bounds the largest transaction (at least 4)"),
    ("store_cache_mib", "2", "embedded store: MiB of on-disk table blocks kept in memory after a read (the system's page cache holds the files as well)"),
    ("data_dir", "data", "where the embedded store and the generated code secret live"),
    ("dev_mode", "", "true enables /dev/outbox and the console provider (loopback addresses only); empty means: on in a debug build unless LEPTOS_ENV=PROD, off in a release binary unless LEPTOS_ENV=DEV"),
    ("cookie_secure", "", "Secure flag on cookies; empty means: on unless dev_mode"),
    ("public_url", "", "the site's public URL, for the WebOTP line; empty means http://<site-addr>"),
    ("otp_secret", "", "HMAC key for stored codes, at least 32 characters; empty means: generated once into <data_dir>/otp_secret"),
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
    ("sms_allowed_countries", "IN", "regions we send SMS to, comma-separated (e.g. IN,GB); a calling code stands for its main region only (1 is the US, never the Caribbean ranges that share +1)"),
    ("oidc_clients_file", "", "a TOML file of apps (OpenID Connect clients) to register or update at start-up, as [[client]] tables with id, name, redirect (a list), and optionally secret (32+ characters; stored hashed), logout_redirect, first_party; apps can also be added with `admin client add`"),
    ("limit_phone_per_hour", "5", "codes sent to one phone number per hour, for each purpose (sign-in, verifying a new account, phone change) separately"),
    ("limit_phone_per_day", "10", "codes sent to one phone number per day, for each purpose separately"),
    ("limit_reset_phone_per_hour", "2", "password-reset codes sent to one phone number per hour (a quota of their own, since anyone who knows a username can ask)"),
    ("limit_reset_phone_per_day", "4", "password-reset codes sent to one phone number per day"),
    ("limit_ip_sends_per_hour", "20", "codes sent on behalf of one client IP per hour"),
    ("limit_ip_signins_per_10min", "30", "sign-in attempts from one client IP per 10 minutes"),
    ("limit_ip_passkey_starts_per_10min", "300", "passkey sign-ins begun for one client IP per 10 minutes (the login page begins one on every visit, for the browser's passkey autofill; each finished one counts as a sign-in attempt)"),
    ("limit_ip_oidc_client_failures_per_10min", "20", "failed app authentications (a wrong client secret) at the token, revocation and introspection endpoints from one IP per 10 minutes; beyond it that IP gets 429 until the window ends, while apps that authenticate never use any of it"),
    ("limit_ip_code_checks_per_10min", "100", "codes checked for one client IP per 10 minutes that were not right (wrong, expired or made up), over all its challenges; a right code is not counted, so people behind one address who sign in never use it up (each challenge also allows only otp_max_attempts)"),
    ("lockout_delay_after", "10", "consecutive failed sign-ins (password or code) before each next attempt must wait, doubling"),
    ("lockout_max_delay_secs", "900", "longest wait between attempts before the lock"),
    ("lockout_lock_after", "100", "consecutive failures that lock the account until a password reset or an admin unlocks it"),
    ("pumping_prefix_digits", "2", "national digits after the calling code that make up a number range for the SMS-pumping alarm"),
    ("pumping_min_sends", "20", "codes sent to one range in an hour before the alarm judges it"),
    ("pumping_max_ratio", "5", "codes sent per verified code above which a range is stopped for an hour"),
    ("test_numbers", "", "demo/app-review numbers with a fixed code and an expiry day, e.g. +919999900001=123456@2027-01-31; refused outside dev mode"),
    ("shutdown_drain_secs", "", "on SIGTERM, seconds to keep accepting while /readyz says 503 so the load balancer moves traffic away, before finishing what is in flight; empty means 0 in dev mode, else 2"),
    ("metrics_addr", "", "address that alone serves Prometheus /metrics (keep it private: its counters move for real accounts only); site serves it on the site address, off serves it nowhere; empty means 127.0.0.1:9464, or the site address in dev mode (loopback only)"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_every_setting_as_it_is() {
        let readme = include_str!("../../../README.md");
        for (key, default, doc) in SETTINGS {
            let default = if default.is_empty() {
                "—".to_string()
            } else {
                format!("`{default}`")
            };
            let secret = if SECRETS.contains(key) {
                format!(
                    " (secret: environment or `{ENV_PREFIX}{}_FILE` only)",
                    key.to_uppercase()
                )
            } else {
                String::new()
            };
            let row = format!(
                "| `{ENV_PREFIX}{}` | {default} | {doc}{secret} |",
                key.to_uppercase()
            );
            assert!(readme.contains(&row), "README lacks or misstates:\n{row}");
        }
    }
}
