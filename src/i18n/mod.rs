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

pub mod import;
pub mod labels;
pub mod outbox;
pub mod query;
pub mod render;
pub mod review;

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
/// stays as it is (the domain's one filler, [`crate::domain::message::fill`]).
pub fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    crate::domain::message::fill(template, args)
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

/// Every key used as `t("…")` or `tf("…", …)` in a piece of source code, or as the kind of an
/// app error (`AppError::msg("…", …)`, `AppError::context("…", …)`); whitespace after the
/// parenthesis allowed, as rustfmt may break the line there.
pub fn keys_used_in(source: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for call in ["t(", "tf(", "msg(", "context("] {
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

/// A string literal in Rust source: its line (1-based), the source before it, and its text.
#[derive(Debug, PartialEq)]
pub struct Literal<'a> {
    pub line: usize,
    pub before: &'a str,
    pub text: &'a str,
}

/// The string literals of a piece of Rust source (plain, raw and byte strings; comments,
/// char literals and lifetimes skipped). A small lexer for the UI-string scan, not a parser.
pub fn string_literals(source: &str) -> Vec<Literal<'_>> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let line_of = |pos: usize| source[..pos].matches('\n').count() + 1;
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let b = bytes[i];
        let prev_ident = i > 0 && ident(bytes[i - 1]);
        if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i = source[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2);
        } else if b == b'\'' {
            // A char literal ('x', '\n', '"') or a lifetime ('a).
            if bytes.get(i + 1) == Some(&b'\\') {
                i = source[i + 2..]
                    .find('\'')
                    .map_or(bytes.len(), |n| i + 2 + n + 1);
            } else if let Some(c) = source[i + 1..].chars().next() {
                let after = i + 1 + c.len_utf8();
                i = if bytes.get(after) == Some(&b'\'') {
                    after + 1
                } else {
                    i + 1
                };
            } else {
                i += 1;
            }
        } else if !prev_ident && (b == b'r' || (b == b'b' && bytes.get(i + 1) == Some(&b'r'))) && {
            let s = if b == b'b' { i + 2 } else { i + 1 };
            let hashes = bytes[s..].iter().take_while(|&&c| c == b'#').count();
            bytes.get(s + hashes) == Some(&b'"')
        } {
            let s = if b == b'b' { i + 2 } else { i + 1 };
            let hashes = bytes[s..].iter().take_while(|&&c| c == b'#').count();
            let start = s + hashes + 1;
            let close = format!("\"{}", "#".repeat(hashes));
            let end = source[start..]
                .find(&close)
                .map_or(bytes.len(), |n| start + n);
            out.push(Literal {
                line: line_of(i),
                before: &source[..i],
                text: &source[start..end],
            });
            i = end + close.len();
        } else if b == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(bytes.len());
            let open = if i > 0 && bytes[i - 1] == b'b' && !(i > 1 && ident(bytes[i - 2])) {
                i - 1
            } else {
                i
            };
            out.push(Literal {
                line: line_of(i),
                before: &source[..open],
                text: &source[start..end],
            });
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Does a string literal look like text for a human (and so belong in the catalogue)? True
/// for German letters, for several words, and for a capitalised word ("Senden"). Keys
/// (`t("…")`), attribute values that are no text (`class=`, `type=` …) and developer messages
/// (`expect`, `panic!` …) are not UI text.
pub fn looks_like_ui_text(lit: &Literal<'_>) -> bool {
    const CODE_ATTRS: &[&str] = &[
        "class",
        "type",
        "role",
        "value",
        "style",
        "href",
        "accept",
        "id",
        "name",
        "for",
        "rows",
        "tabindex",
        "scope",
        "autocomplete",
        "inputmode",
        "aria-haspopup",
        "aria-hidden",
        "aria-live",
        "aria-current",
        "data-state",
        "lang",
        "rel",
        "target",
        "method",
        "step",
        "min",
        "max",
        "pattern",
    ];
    const DEV_CALLS: &[&str] = &[
        "expect(",
        "panic!(",
        "assert!(",
        "assert_eq!(",
        "debug_assert!(",
        "unreachable!(",
        "todo!(",
        "log(",
        "warn(",
        "error_1(",
        "log_1(",
        "warn_1(",
    ];
    let text = lit.text;
    let before = lit.before.trim_end();
    // `#[wasm_bindgen(inline_js = r#"…"#)]`: JavaScript source, not text.
    let code_prefix = before.trim_end_matches(['r', '#']).trim_end();
    if code_prefix.ends_with("inline_js =") {
        return false;
    }
    if before.ends_with("t(") || before.ends_with("tf(") {
        // A catalogue key (checked against the catalogues by another test).
        let call_start = before.len() - if before.ends_with("tf(") { 3 } else { 2 };
        let prev = before[..call_start].chars().next_back();
        if !prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return false;
        }
    }
    if let Some(attr_end) = before.strip_suffix('=') {
        let name: String = attr_end
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if CODE_ATTRS.contains(&name.as_str()) || name.starts_with("data-") {
            return false;
        }
    }
    let tail: String = before
        .chars()
        .rev()
        .take(40)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if DEV_CALLS.iter().any(|c| tail.trim_end().ends_with(c)) {
        return false;
    }
    let german = text.chars().any(|c| "äöüÄÖÜß„“".contains(c));
    let words = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 3)
        .count();
    let several_words = text.contains(' ') && words >= 2;
    let mut chars = text.chars();
    let capitalised = matches!((chars.next(), chars.next()), (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase());
    german || several_words || capitalised
}

/// A domain message in the current language: its catalogue key filled with its arguments.
pub fn msg(m: &dyn crate::domain::message::UiMessage) -> String {
    msg_in(lang(), m)
}

/// A domain message in the given language.
pub fn msg_in(lang: Lang, m: &dyn crate::domain::message::UiMessage) -> String {
    let args = m.args();
    let dyn_args: Vec<(&str, &dyn Display)> =
        args.iter().map(|(k, v)| (*k, v as &dyn Display)).collect();
    fill(t_in(lang, m.key()), &dyn_args)
}
