//! The UI string catalogue: German (default) and English.
//!
//! Every string the app shows comes from `src/i18n/de.txt` / `src/i18n/en.txt` (simple
//! `key = value` lines, compiled in). [`t`] looks a key up in the current language, [`tf`]
//! also fills `{name}` placeholders. The language is a setting chosen once at
//! start (the app reads it from `localStorage` and reloads the page to switch), so no
//! component needs reactive plumbing for it.
//!
//! Pure and natively tested: both catalogues have the same keys, no empty values, the same
//! placeholders, and every key used under `src/app/` exists (a source scan).

pub mod labels;

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

const DE_TXT: &str = include_str!("de.txt");
const EN_TXT: &str = include_str!("en.txt");

/// The `localStorage` key that remembers the chosen language.
pub const STORAGE_KEY: &str = "praxisbote.lang";

/// A language of the user interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    /// The BCP 47 code (`<html lang>`, the stored setting).
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Parses a stored code; anything unknown is `None` (the caller falls back to German).
    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language's own name, as offered in the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::De => DE_TXT,
            Lang::En => EN_TXT,
        }
    }

    /// The parsed catalogue of this language.
    pub fn catalogue(self) -> &'static HashMap<&'static str, &'static str> {
        static DE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
        static EN: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
        let cell = match self {
            Lang::De => &DE,
            Lang::En => &EN,
        };
        cell.get_or_init(|| {
            parse(self.source())
                .unwrap_or_else(|e| panic!("catalogue {}: {e}", self.code()))
                .into_iter()
                .collect()
        })
    }
}

thread_local! {
    // The app runs on one thread (wasm); natively each test thread has its own language.
    static CURRENT: Cell<Lang> = const { Cell::new(Lang::De) };
}

/// Sets the language of the user interface (once, at start).
pub fn set_lang(lang: Lang) {
    CURRENT.with(|c| c.set(lang));
}

/// The current language of the user interface (German unless set).
pub fn lang() -> Lang {
    CURRENT.with(Cell::get)
}

/// Parses a catalogue: `key = value` per line; blank lines and lines starting with `#` are
/// ignored. Keys are `[a-z0-9_.]`; a value runs to the end of the line (trimmed). Errors name
/// the line.
pub fn parse(text: &'static str) -> Result<Vec<(&'static str, &'static str)>, String> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {n}: no '=' in {line:?}"));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || !key.chars().all(is_key_char) {
            return Err(format!("line {n}: invalid key {key:?}"));
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(format!("line {n}: duplicate key {key:?}"));
        }
        out.push((key, value));
    }
    Ok(out)
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'
}

/// The text for `key` in the given language; an unknown key shows as itself (and trips a
/// debug assertion — the catalogue tests keep this from happening).
pub fn t_in(lang: Lang, key: &'static str) -> &'static str {
    match lang.catalogue().get(key) {
        Some(v) => v,
        None => {
            debug_assert!(false, "missing UI string {key:?} ({})", lang.code());
            key
        }
    }
}

/// The text for `key` in the current language.
pub fn t(key: &'static str) -> &'static str {
    t_in(lang(), key)
}

/// The text for `key` in the current language with its `{name}` placeholders filled in.
pub fn tf(key: &'static str, args: &[(&str, &dyn Display)]) -> String {
    fill(t(key), args)
}

/// Replaces every `{name}` in `template` by the matching argument; an unknown placeholder
/// stays as it is.
pub fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(&v.to_string()),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a catalogue value, sorted and deduplicated.
pub fn placeholders(value: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.push(name);
        }
        rest = &after[close + 1..];
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// Every key used as `t("…")` or `tf("…", …)` in a piece of source code (whitespace after the
/// parenthesis allowed, as rustfmt may break the line there).
pub fn keys_used_in(source: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for call in ["t(", "tf("] {
        let mut from = 0;
        while let Some(pos) = source[from..].find(call) {
            let start = from + pos;
            from = start + call.len();
            let prev = source[..start].chars().next_back();
            if prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = source[from..].trim_start();
            let Some(literal) = rest.strip_prefix('"') else {
                continue;
            };
            if let Some(end) = literal.find('"') {
                keys.push(literal[..end].to_string());
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests;
