//! Compiles the translations in `locales/` into the `i18n` module. Every `<lang>.toml` there is
//! a language: adding one is adding its file. English is the default and the reference every
//! other file is checked against (a missing key is a build error).

use std::error::Error;
use std::path::{Path, PathBuf};

use leptos_i18n_build::{Config, FileFormat, ParseOptions, TranslationsInfos};

const DEFAULT: &str = "en";
const DIR: &str = "locales";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={DIR}");
    let mut config = Config::new(DEFAULT)?.locales_path(DIR).parse_options(
        ParseOptions::default()
            .file_format(FileFormat::Toml)
            .interpolate_display(true),
    );
    for language in languages(Path::new(DIR))? {
        if language != DEFAULT {
            config = config.add_locale(&language)?;
        }
    }
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    translations.generate_i18n_module(out.join("i18n"))?;
    Ok(())
}

/// The stem of every `.toml` file in `dir`, sorted so the generated code is stable.
fn languages(dir: &Path) -> Result<Vec<String>, Box<dyn Error>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                found.push(stem.to_string());
            }
        }
    }
    found.sort();
    Ok(found)
}
