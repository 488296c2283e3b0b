//! Compiles the translations in `locales/` into the `i18n` module. Every `<lang>.toml` there is
//! a language: adding one is adding its file. English is the default and the reference every
//! other file is checked against: a missing or extra key, or a sentence whose `{{ name }}`
//! placeholders differ from the English one, stops the build.
//!
//! It also links the server with packed relative relocations (see `link_relocations_packed`), and
//! a release server with its hot code together (see `link_hot_code_together`).

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::path::{Path, PathBuf};

use leptos_i18n_build::{Config, FileFormat, ParseOptions, TranslationsInfos};

const DEFAULT: &str = "en";
const DIR: &str = "locales";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={DIR}");
    link_relocations_packed();
    link_hot_code_together();
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
    let reference = sentences(&Path::new(DIR).join(format!("{DEFAULT}.toml")))?;
    for language in languages(Path::new(DIR))? {
        let file = Path::new(DIR).join(format!("{language}.toml"));
        same_shape(&reference, &sentences(&file)?, &file)?;
    }
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    translations.generate_i18n_module(out.join("i18n"))?;
    Ok(())
}

/// The server is position-independent (address randomisation), so the loader patches ~200,000
/// pointers at start-up from a table that, stored the classic way (24 bytes each), is 4.5 MiB of
/// the binary read into memory and kept there. Packed (DT_RELR, glibc 2.36+) it is a few KiB.
/// Only the binaries: a flag for every crate would rebuild every dependency.
fn link_relocations_packed() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Release servers get the functions that run at start-up and on the common requests placed
/// together (`scripts/link-order.txt`, made by `scripts/link-order.py`): the kernel maps code
/// in 64 KiB runs around each page touched, so scattered code costs resident memory. Only
/// where rustc links with its own lld (x86-64 Linux since 1.90); GNU ld has no such option.
/// Names the list has and the binary lacks are skipped, so a stale list costs only memory.
fn link_hot_code_together() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let list = Path::new(&var("CARGO_MANIFEST_DIR")).join("scripts/link-order.txt");
    println!("cargo::rerun-if-changed={}", list.display());
    let lld_by_default = var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && rustc_minor().is_some_and(|minor| minor >= 90);
    if var("PROFILE") == "release" && lld_by_default && list.exists() {
        println!(
            "cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo::rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// The minor version of the rustc building this crate (`rustc 1.95.0 (…)` gives 95).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace()
        .nth(1)?
        .split('.')
        .nth(1)?
        .parse()
        .ok()
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

/// Every sentence of a translation file by its dotted key, with its placeholder names.
fn sentences(file: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, Box<dyn Error>> {
    let text = std::fs::read_to_string(file)?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let mut found = BTreeMap::new();
    flatten("", &table, &mut found);
    Ok(found)
}

fn flatten(prefix: &str, table: &toml::Table, found: &mut BTreeMap<String, BTreeSet<String>>) {
    for (key, value) in table {
        let key = format!("{prefix}{key}");
        match value {
            toml::Value::Table(inner) => flatten(&format!("{key}."), inner, found),
            toml::Value::String(text) => {
                found.insert(key, placeholders(text));
            }
            _ => {
                found.insert(key, BTreeSet::new());
            }
        }
    }
}

/// "{{ code }} and {{ wait }}" → {"code", "wait"}.
fn placeholders(text: &str) -> BTreeSet<String> {
    text.split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}"))
        .map(|(name, _)| name.trim().to_string())
        .collect()
}

fn same_shape(
    reference: &BTreeMap<String, BTreeSet<String>>,
    other: &BTreeMap<String, BTreeSet<String>>,
    file: &Path,
) -> Result<(), Box<dyn Error>> {
    let file = file.display();
    for (key, names) in reference {
        match other.get(key) {
            None => {
                return Err(format!("{file}: `{key}` is missing (it is in {DEFAULT}.toml)").into())
            }
            Some(theirs) if theirs != names => {
                return Err(format!(
                    "{file}: `{key}` must use the placeholders {names:?}, not {theirs:?}"
                )
                .into())
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = other.keys().find(|key| !reference.contains_key(*key)) {
        return Err(format!("{file}: `{extra}` is not in {DEFAULT}.toml").into());
    }
    Ok(())
}
