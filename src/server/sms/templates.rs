//! SMS texts per language: English and Hindi built in, more (or replacements) from
//! `<sms_templates_dir>/<language>.toml`. Every template is checked at start, so a text that
//! would send no code never reaches a phone.

use crate::model::CodePurpose;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::MessageKind;

const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("templates/en.toml")),
    ("hi", include_str!("templates/hi.toml")),
];

/// The language every other one falls back to.
pub const FALLBACK: &str = "en";

const PLACEHOLDERS: &[&str] = &["code", "purpose", "minutes", "host", "link", "hours"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageFile {
    code: String,
    locked: Option<String>,
    phone_changed: Option<String>,
    phone_change_waiting: Option<String>,
    factor_changed: Option<String>,
    /// What `{purpose}` says for each kind of code.
    purposes: Option<Purposes>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Purposes {
    sign_in: Option<String>,
    verify_phone: Option<String>,
    reset_password: Option<String>,
    change_phone: Option<String>,
}

impl Purposes {
    fn of(&self, purpose: CodePurpose) -> Option<&str> {
        match purpose {
            CodePurpose::SignIn => self.sign_in.as_deref(),
            CodePurpose::VerifyPhone => self.verify_phone.as_deref(),
            CodePurpose::ResetPassword => self.reset_password.as_deref(),
            CodePurpose::ChangePhone => self.change_phone.as_deref(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Templates {
    by_language: BTreeMap<String, LanguageFile>,
}

/// What fills a template's placeholders.
pub struct Fill<'a> {
    pub code: &'a str,
    /// What the code is for; notices have none.
    pub purpose: Option<CodePurpose>,
    pub minutes: u64,
    pub host: &'a str,
    /// A notice's link and how many hours until what it announces; empty and 0 otherwise.
    pub link: &'a str,
    pub hours: u64,
}

impl Templates {
    /// The built-in languages, then every `*.toml` in `dir`, each checked.
    pub fn load(dir: Option<&Path>) -> Result<Templates, String> {
        let mut by_language = BTreeMap::new();
        for (language, text) in BUILT_IN {
            by_language.insert(language.to_string(), parse(language, text)?);
        }
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| format!("sms_templates_dir `{}`: {e}", dir.display()))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                    continue;
                }
                let language = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if language.is_empty()
                    || !language
                        .chars()
                        .all(|c| c.is_ascii_alphabetic() || c == '-')
                {
                    return Err(format!(
                        "SMS template `{}`: the file name must be a language tag, like hi.toml",
                        path.display()
                    ));
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("SMS template `{}`: {e}", path.display()))?;
                by_language.insert(language.clone(), parse(&language, &text)?);
            }
        }
        Ok(Templates { by_language })
    }

    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.by_language.keys().map(String::as_str)
    }

    /// The first of the client's preferred languages we have texts for, else English.
    pub fn pick(&self, preferred: &[String]) -> String {
        preferred
            .iter()
            .find(|lang| self.by_language.contains_key(lang.as_str()))
            .cloned()
            .unwrap_or_else(|| FALLBACK.to_string())
    }

    /// The text of `kind` in `language` (English when that language lacks it).
    pub fn render(&self, kind: MessageKind, language: &str, fill: &Fill<'_>) -> String {
        let text = self
            .text(kind, language)
            .or_else(|| self.text(kind, FALLBACK))
            .unwrap_or_default();
        let purpose = fill
            .purpose
            .and_then(|p| {
                self.purpose_text(language, p)
                    .or_else(|| self.purpose_text(FALLBACK, p))
            })
            .unwrap_or_default();
        text.replace("{code}", fill.code)
            .replace("{purpose}", purpose)
            .replace("{minutes}", &fill.minutes.to_string())
            .replace("{host}", fill.host)
            .replace("{link}", fill.link)
            .replace("{hours}", &fill.hours.to_string())
    }

    fn purpose_text(&self, language: &str, purpose: CodePurpose) -> Option<&str> {
        self.by_language
            .get(language)?
            .purposes
            .as_ref()?
            .of(purpose)
    }

    fn text(&self, kind: MessageKind, language: &str) -> Option<&str> {
        let file = self.by_language.get(language)?;
        match kind {
            MessageKind::Code => Some(file.code.as_str()),
            MessageKind::Locked => file.locked.as_deref(),
            MessageKind::PhoneChanged => file.phone_changed.as_deref(),
            MessageKind::PhoneChangeWaiting => file.phone_change_waiting.as_deref(),
            MessageKind::FactorChanged => file.factor_changed.as_deref(),
        }
    }
}

fn parse(language: &str, text: &str) -> Result<LanguageFile, String> {
    let file: LanguageFile = toml::from_str(text)
        .map_err(|e| format!("SMS template {language}.toml: {}", e.message()))?;
    if !file.code.contains("{code}") {
        return Err(format!(
            "SMS template {language}.toml: `code` has no {{code}} placeholder, so the SMS would not carry the code"
        ));
    }
    let notices = [
        ("code", Some(&file.code)),
        ("locked", file.locked.as_ref()),
        ("phone_changed", file.phone_changed.as_ref()),
        ("phone_change_waiting", file.phone_change_waiting.as_ref()),
        ("factor_changed", file.factor_changed.as_ref()),
    ];
    for (name, text) in notices {
        if let Some(text) = text {
            check_placeholders(language, name, text)?;
        }
    }
    Ok(file)
}

fn check_placeholders(language: &str, name: &str, text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            format!("SMS template {language}.toml: `{name}` has a {{ that is never closed")
        })?;
        let placeholder = &after[..close];
        if !PLACEHOLDERS.contains(&placeholder) {
            return Err(format!(
                "SMS template {language}.toml: `{name}` has an unknown placeholder {{{placeholder}}} (known: {{code}}, {{purpose}}, {{minutes}}, {{host}}, {{link}}, {{hours}})"
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill() -> Fill<'static> {
        Fill {
            code: "123456",
            purpose: Some(CodePurpose::SignIn),
            minutes: 5,
            host: "otp.example.in",
            link: "",
            hours: 0,
        }
    }

    #[test]
    fn english_has_code_validity_and_webotp_line() {
        let t = Templates::load(None).unwrap();
        assert_eq!(
            t.render(MessageKind::Code, "en", &fill()),
            "Your sign-in code is 123456. Do not share it: we never ask for it. It expires in 5 minutes.\n\n@otp.example.in #123456"
        );
    }

    #[test]
    fn hindi_renders_devanagari_with_the_same_webotp_line() {
        let t = Templates::load(None).unwrap();
        let text = t.render(MessageKind::Code, "hi", &fill());
        assert!(text.starts_with("आपका साइन-इन कोड 123456 है।"), "{text}");
        assert!(text.contains("किसी को न बताएं"), "do not share: {text}");
        assert!(text.contains("5 मिनट"));
        assert!(text.ends_with("\n\n@otp.example.in #123456"));
        assert!(t.render(MessageKind::Locked, "hi", &fill()).contains("लॉक"));
    }

    #[test]
    fn unknown_languages_fall_back_to_english() {
        let t = Templates::load(None).unwrap();
        assert_eq!(t.pick(&["fr".into(), "hi".into()]), "hi");
        assert_eq!(t.pick(&["fr".into()]), "en");
        assert!(t
            .render(MessageKind::Code, "fr", &fill())
            .starts_with("Your"));
    }

    #[test]
    fn a_language_file_adds_a_language_and_bad_ones_are_refused_at_load() {
        let dir = std::env::temp_dir().join(format!("dotp-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ta.toml"),
            "code = \"உங்கள் குறியீடு {code}\\n\\n@{host} #{code}\"\n",
        )
        .unwrap();
        let t = Templates::load(Some(&dir)).unwrap();
        assert!(t.languages().any(|l| l == "ta"));
        assert!(t
            .render(MessageKind::Code, "ta", &fill())
            .contains("123456"));
        assert!(
            t.render(MessageKind::Locked, "ta", &fill())
                .starts_with("Your account"),
            "a missing message falls back to English"
        );

        std::fs::write(dir.join("bn.toml"), "code = \"আপনার কোড\"\n").unwrap();
        let error = Templates::load(Some(&dir)).unwrap_err();
        assert!(
            error.contains("bn.toml") && error.contains("{code}"),
            "{error}"
        );

        std::fs::write(dir.join("bn.toml"), "code = \"{code} {cod}\"\n").unwrap();
        assert!(Templates::load(Some(&dir)).unwrap_err().contains("{cod}"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
