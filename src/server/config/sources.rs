//! The layering engine: a setting's value is the environment's, else the `[app]` table's of
//! Leptos.toml, else the built-in default. Unknown keys in the file are refused so a typo never
//! silently falls back to a default.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::registry::{ENV_PREFIX, SECRETS, SETTINGS};
use super::secret::Secret;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("Leptos.toml: {0}")]
    File(String),
    #[error("Leptos.toml [app]: unknown setting `{0}` (see README for the list)")]
    UnknownKey(String),
    #[error("Leptos.toml [app]: `{0}` is a secret; set it in the environment as DOTP_{upper} or name a file holding it with {0}_file", upper = .0.to_ascii_uppercase())]
    SecretInFile(String),
    #[error("setting `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

/// Where the raw values come from: the file's `[app]` table and a lookup into the environment.
pub struct Sources<E: Fn(&str) -> Option<String>> {
    file: BTreeMap<String, String>,
    env: E,
    /// Variables found under their old, unprefixed name, to warn about once logging is up.
    legacy: RefCell<BTreeSet<String>>,
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
        Ok(Sources {
            file,
            env,
            legacy: RefCell::default(),
        })
    }

    /// The environment's value of `key`: `DOTP_KEY`, else the old name `KEY`.
    fn env(&self, key: &str) -> Option<String> {
        let name = key.to_ascii_uppercase();
        if let Some(value) = (self.env)(&format!("{ENV_PREFIX}{name}")) {
            return Some(value);
        }
        let value = (self.env)(&name)?;
        self.legacy.borrow_mut().insert(name);
        Some(value)
    }

    /// What start-up should warn about: settings read from old, unprefixed variable names.
    pub fn warnings(&self) -> Vec<String> {
        self.legacy
            .borrow()
            .iter()
            .map(|name| format!("environment variable {name} is read as {ENV_PREFIX}{name}; rename it, the old name will go"))
            .collect()
    }

    fn raw(&self, key: &str) -> String {
        if let Some(value) = self.env(key) {
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
        if let Some(value) = self.env(key) {
            return Ok(Secret::new(value.trim()));
        }
        let file_key = format!("{key}_file");
        let path = self
            .env(&file_key)
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
                    "must be set {why} (environment {ENV_PREFIX}{} or {key}_file)",
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

/// Prefixed variables that name no setting: a typo would otherwise fall back to a default
/// without a word.
pub fn unknown_variables(names: impl IntoIterator<Item = String>) -> Vec<String> {
    names
        .into_iter()
        .filter_map(|name| {
            let key = name.strip_prefix(ENV_PREFIX)?.to_ascii_lowercase();
            let secret_file = key
                .strip_suffix("_file")
                .is_some_and(|secret| SECRETS.contains(&secret));
            let known = secret_file || SETTINGS.iter().any(|(known, _, _)| *known == key);
            (!known).then(|| format!("environment variable {name} names no setting (see README)"))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An environment of just these variables, for tests that load settings.
    pub(crate) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
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
}
