//! The keys codes are stored under: from config, or generated once and kept in the data dir.
//! Instances that share a database must share them (set OTP_SECRET).
//!
//! Rotation keeps the retired key for checking only, so codes already sent stay good until
//! they expire. With the generated file, `admin rotate-secret` does it; with OTP_SECRET, the
//! operator moves the old value to OTP_SECRET_PREVIOUS.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::server::auth::otp::CodeKey;
use crate::server::auth::token;
use crate::server::settings::Config;

/// How long a retired generated key is still tried. Codes live minutes; this also covers a
/// server that kept running on the old key for a while after the rotation.
const RETIRED_KEY_GRACE_SECS: i64 = 24 * 3600;
const MIN_LEN: usize = 32;

pub fn load_code_key(config: &Config, now_secs: i64) -> Result<CodeKey, String> {
    if !config.otp_secret.is_empty() {
        let previous = config
            .otp_secret_previous
            .expose()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
            .collect();
        return Ok(CodeKey::with_previous(
            config.otp_secret.expose().as_bytes(),
            previous,
        ));
    }
    let path = current_path(config);
    let current = match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= MIN_LEN => text.trim().as_bytes().to_vec(),
        Ok(_) => {
            return Err(format!(
                "{} is too short; delete it to generate a new one",
                path.display()
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path)?,
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let previous = retired(config, now_secs)?
        .into_iter()
        .map(|(_, key)| key.into_bytes())
        .collect();
    Ok(CodeKey::with_previous(&current, previous))
}

/// `admin rotate-secret`: a new generated key; the old one is kept for checking. Returns what
/// to tell the operator.
pub fn rotate(config: &Config, now_secs: i64) -> Result<String, String> {
    if !config.otp_secret.is_empty() {
        return Err(
            "OTP_SECRET is set, so this server does not own its key. Rotate it where it \
                    is set: move the current value to OTP_SECRET_PREVIOUS, put a new one \
                    (at least 32 characters) in OTP_SECRET, restart every instance, and drop \
                    OTP_SECRET_PREVIOUS a day later. With several instances, first add the \
                    new value to OTP_SECRET_PREVIOUS everywhere, then swap."
                .into(),
        );
    }
    let path = current_path(config);
    let old = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .trim()
        .to_string();
    // The old key is kept before the new one takes its place: a crash in between leaves the
    // old key current and also retired, which is harmless.
    let mut keep = retired(config, now_secs)?;
    keep.push((now_secs, old));
    let lines: String = keep
        .iter()
        .map(|(at, key)| format!("{at} {key}\n"))
        .collect();
    write_private(&retired_path(config), &lines)?;
    write_private(&path, &token::new_token())?;
    Ok(format!(
        "New code-hashing key in {}. Restart the server to use it; codes already sent stay \
         valid until they expire.\n",
        path.display()
    ))
}

fn current_path(config: &Config) -> PathBuf {
    config.data_dir.join("otp_secret")
}

fn retired_path(config: &Config) -> PathBuf {
    config.data_dir.join("otp_secret.retired")
}

/// Retired keys still in their grace period, as (retired at, key).
fn retired(config: &Config, now_secs: i64) -> Result<Vec<(i64, String)>, String> {
    let path = retired_path(config);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|line| {
            let (at, key) = line.split_once(' ')?;
            Some((at.parse::<i64>().ok()?, key.trim().to_string()))
        })
        .filter(|(at, key)| now_secs - at < RETIRED_KEY_GRACE_SECS && key.len() >= MIN_LEN)
        .collect())
}

/// Replaces a file whole (write aside, fsync, rename), readable by the owner only.
fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    let aside = path.with_extension("new");
    let _ = std::fs::remove_file(&aside);
    let mut file = private_file(&aside)?;
    file.write_all(contents.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", aside.display()))?;
    std::fs::rename(&aside, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

fn private_file(path: &Path) -> Result<std::fs::File, String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn create(path: &Path) -> Result<Vec<u8>, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let secret = token::new_token();
    match private_file(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            tracing::info!("generated a new code-hashing secret in {}", path.display());
            Ok(secret.into_bytes())
        }
        // Another instance on the same data dir won the race: use its secret.
        Err(_) if path.exists() => std::fs::read_to_string(path)
            .map(|t| t.trim().as_bytes().to_vec())
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_in(dir: &Path) -> Config {
        let sources = crate::server::config::Sources::new(None, |_| None).unwrap();
        let mut config = Config::load(&sources, true, "127.0.0.1:3000").unwrap();
        config.data_dir = dir.to_path_buf();
        config
    }

    #[test]
    fn a_rotated_key_checks_old_codes_for_a_day_and_makes_new_ones_with_the_new_key() {
        let dir = std::env::temp_dir().join(format!("dotp-rotate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = config_in(&dir);
        let before = load_code_key(&config, 1_000).unwrap();
        let old_code = before.mac("challenge", "123456");

        rotate(&config, 1_000).unwrap();
        let after = load_code_key(&config, 1_100).unwrap();
        assert!(after.matches("challenge", "123456", &old_code));
        assert_ne!(after.mac("challenge", "123456"), old_code);

        let a_day_later = load_code_key(&config, 1_000 + RETIRED_KEY_GRACE_SECS).unwrap();
        assert!(!a_day_later.matches("challenge", "123456", &old_code));
        assert!(a_day_later.matches("challenge", "123456", &after.mac("challenge", "123456")));

        // Rotating twice keeps both retired keys; the file stays private.
        rotate(&config, 1_200).unwrap();
        let twice = load_code_key(&config, 1_300).unwrap();
        assert!(twice.matches("challenge", "123456", &old_code));
        assert!(twice.matches("challenge", "123456", &after.mac("challenge", "123456")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(retired_path(&config))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn with_otp_secret_set_the_previous_values_are_accepted_and_rotation_is_refused() {
        let env = |key: &str| match key {
            "OTP_SECRET" => Some("the-new-secret-0123456789abcdef-0123".to_string()),
            "OTP_SECRET_PREVIOUS" => Some("the-old-secret-0123456789abcdef-0123".to_string()),
            _ => None,
        };
        let sources = crate::server::config::Sources::new(None, env).unwrap();
        let config = Config::load(&sources, true, "127.0.0.1:3000").unwrap();
        let old = CodeKey::new(b"the-old-secret-0123456789abcdef-0123");
        let key = load_code_key(&config, 0).unwrap();
        assert!(key.matches("c", "111111", &old.mac("c", "111111")));
        assert!(rotate(&config, 0)
            .unwrap_err()
            .contains("OTP_SECRET_PREVIOUS"));
    }
}
