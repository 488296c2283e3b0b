//! The key codes are stored under: from config, or generated once and kept in the data dir.
//! Instances that share a database must share this key (set OTP_SECRET).

use std::io::Write;
use std::path::Path;

use crate::server::auth::token;
use crate::server::config::Config;

pub fn load_code_key(config: &Config) -> Result<Vec<u8>, String> {
    if !config.otp_secret.is_empty() {
        return Ok(config.otp_secret.expose().as_bytes().to_vec());
    }
    let path = config.data_dir.join("otp_secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 32 => Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => Err(format!(
            "{} is too short; delete it to generate a new one",
            path.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn create(path: &Path) -> Result<Vec<u8>, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let secret = token::new_token();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            tracing::info!("generated a new code-hashing secret in {}", path.display());
            Ok(secret.into_bytes())
        }
        // Another instance on the same data dir won the race: use its secret.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(path)
            .map(|t| t.trim().as_bytes().to_vec())
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}
