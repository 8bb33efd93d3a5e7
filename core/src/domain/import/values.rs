//! Parsers for single cell values: dates, yes/no, genders, names, streets.

use chrono::{Datelike, NaiveDate};

use crate::domain::model::{Gender, InsuranceKind, Kind};

/// A cell value that is not one of the accepted spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidValue;

/// Parses German and ISO dates: `26.11.2026`, `6.1.2026`, `26.11.26`, `2026-11-26`,
/// `26/11/2026`; a trailing time (`26.11.2026 00:00`) is ignored. Two-digit years are put
/// into the current century, or the one before when `past` is true (birth dates) and the
/// date would otherwise lie after `today`.
pub fn parse_date_de(s: &str, today: NaiveDate, past: bool) -> Option<NaiveDate> {
    let s = s.trim();
    let s = s.split_whitespace().next().unwrap_or("");
    if s.is_empty() {
        return None;
    }
    let (d, m, y, two_digit) = if let Some((y, rest)) = s.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        if y.len() != 4 {
            return None;
        }
        (d, m, y, false)
    } else {
        let sep = if s.contains('.') { '.' } else { '/' };
        let mut parts = s.split(sep);
        let d = parts.next()?;
        let m = parts.next()?;
        let y = parts.next()?;
        if parts.next().is_some_and(|rest| !rest.is_empty()) {
            return None;
        }
        match y.len() {
            2 => (d, m, y, true),
            4 => (d, m, y, false),
            _ => return None,
        }
    };
    let all_digits =
        |x: &str| !x.is_empty() && x.len() <= 4 && x.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(d) && all_digits(m) && all_digits(y)) || d.len() > 2 || m.len() > 2 {
        return None;
    }
    let (d, m, mut y): (u32, u32, i32) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
    if two_digit {
        y += today.year() / 100 * 100;
        // Birth dates lie in the past: "27.11.26" read on 26.11.2026 is 1926.
        let this_century = NaiveDate::from_ymd_opt(y, m, d);
        if past && this_century.is_none_or(|date| date > today) {
            y -= 100;
        }
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Yes/no cells of consent columns: `ja/j/yes/y/x/1/true/wahr/✓` → `Some(true)`,
/// `nein/n/no/0/false/falsch/-` → `Some(false)`, empty → `None`, anything else → `Err`.
pub fn parse_consent_value(s: &str) -> Result<Option<bool>, InvalidValue> {
    let v = s.trim().to_lowercase();
    match v.as_str() {
        "" => Ok(None),
        "ja" | "j" | "yes" | "y" | "x" | "1" | "true" | "wahr" | "✓" | "✔" | "erlaubt" => {
            Ok(Some(true))
        }
        "nein" | "n" | "no" | "0" | "false" | "falsch" | "-" | "nicht erlaubt" => Ok(Some(false)),
        _ => Err(InvalidValue),
    }
}

/// Gender cells: `w/weiblich/f/female/Frau`, `m/männlich/male/Herr`, `d/divers/x`,
/// `u/unbekannt/keine Angabe`; `Err` for other text.
pub fn parse_gender(s: &str) -> Result<Option<Gender>, InvalidValue> {
    let v = s.trim().trim_end_matches('.').to_lowercase();
    Ok(Some(match v.as_str() {
        "" => return Ok(None),
        "w" | "weiblich" | "f" | "female" | "frau" | "fr" => Gender::Female,
        "m" | "männlich" | "maennlich" | "male" | "herr" | "herrn" | "hr" => Gender::Male,
        "d" | "divers" | "diverse" | "x" | "nonbinary" | "non-binary" => Gender::Diverse,
        "u" | "unbekannt" | "unknown" | "keine angabe" | "k.a" | "ka" | "o" | "ohne angabe" => {
            Gender::Unknown
        }
        _ => return Err(InvalidValue),
    }))
}

/// Salutation cells ("Frau", "Herrn Dr.", "Frau Prof. Dr.", "Divers", "Familie"):
/// gender and title.
pub fn parse_salutation(s: &str) -> (Option<Gender>, String) {
    let mut gender = None;
    let mut title = Vec::new();
    for tok in s.split_whitespace() {
        match tok.to_lowercase().trim_end_matches('.') {
            "frau" | "fr" => gender = Some(Gender::Female),
            "herr" | "herrn" | "hr" => gender = Some(Gender::Male),
            "divers" | "mx" => gender = Some(Gender::Diverse),
            "familie" | "firma" => gender = Some(Gender::Unknown),
            _ if is_title_token(tok) => title.push(tok),
            _ => {}
        }
    }
    (gender, title.join(" "))
}

fn is_title_token(tok: &str) -> bool {
    matches!(
        tok.to_lowercase().as_str(),
        "dr."
            | "dr"
            | "prof."
            | "prof"
            | "med."
            | "dent."
            | "rer."
            | "nat."
            | "phil."
            | "dipl.-ing."
            | "dr.-ing."
            | "pd"
    )
}

const NAME_PARTICLES: &[&str] = &[
    "von", "van", "de", "der", "zu", "vom", "zum", "della", "di", "da", "ten", "ter",
];

/// Splits a full-name cell into (title, first name, last name): "Müller, Anna",
/// "Dr. Anna Müller", "Anna von Bülow", "Müller" (last name only).
pub fn split_full_name(s: &str) -> (String, String, String) {
    let s = s.trim();
    if let Some((last, first)) = s.split_once(',') {
        let (title, first) = take_titles(first.trim());
        return (title, first, last.trim().to_string());
    }
    let (title, rest) = take_titles(s);
    let toks: Vec<&str> = rest.split_whitespace().collect();
    if toks.len() <= 1 {
        return (title, String::new(), rest);
    }
    // The last name starts at the first particle after the first token, else is the last token.
    let start = (1..toks.len())
        .find(|&i| NAME_PARTICLES.contains(&toks[i].to_lowercase().as_str()) && i < toks.len() - 1)
        .unwrap_or(toks.len() - 1);
    (title, toks[..start].join(" "), toks[start..].join(" "))
}

fn take_titles(s: &str) -> (String, String) {
    let toks: Vec<&str> = s.split_whitespace().collect();
    let n = toks.iter().take_while(|t| is_title_token(t)).count();
    (toks[..n].join(" "), toks[n..].join(" "))
}

/// Splits "Hauptstraße 12a" into ("Hauptstraße", "12a"); "Am Weißen Haus 3-5",
/// "Hauptstr. 12 a" work too; "Straße des 17. Juni" without a number stays whole.
pub fn split_street(s: &str) -> (String, String) {
    let s = s.trim();
    let toks: Vec<&str> = s.split_whitespace().collect();
    if let Some(i) = toks
        .iter()
        .rposition(|t| t.chars().next().is_some_and(|c| c.is_ascii_digit()))
    {
        let tail_ok = toks[i + 1..]
            .iter()
            .all(|t| t.chars().count() <= 2 && !t.ends_with('.'));
        if i > 0 && tail_ok && !toks[i].ends_with('.') {
            return (toks[..i].join(" "), toks[i..].join(" "));
        }
    }
    (s.to_string(), String::new())
}

/// Splits "50667 Köln" into ("50667", "Köln").
pub fn split_postcode_city(s: &str) -> (String, String) {
    let s = s.trim();
    match s.split_once(char::is_whitespace) {
        Some((a, b)) if a.bytes().all(|c| c.is_ascii_digit()) => {
            (a.to_string(), b.trim().to_string())
        }
        _ => (String::new(), s.to_string()),
    }
}

/// Country cells to ISO codes; empty for Germany. `Err` for unknown names.
pub fn parse_country(s: &str) -> Result<String, InvalidValue> {
    let v = s.trim().to_lowercase();
    Ok(match v.as_str() {
        "" | "d" | "de" | "deu" | "deutschland" | "germany" | "brd" => "",
        "a" | "at" | "aut" | "österreich" | "oesterreich" | "austria" => "AT",
        "ch" | "che" | "schweiz" | "switzerland" => "CH",
        "nl" | "niederlande" | "netherlands" | "holland" => "NL",
        "pl" | "polen" | "poland" => "PL",
        "tr" | "türkei" | "tuerkei" | "turkey" | "türkiye" => "TR",
        "gr" | "griechenland" | "greece" => "GR",
        "fr" | "frankreich" | "france" => "FR",
        "be" | "belgien" | "belgium" => "BE",
        "lu" | "luxemburg" | "luxembourg" => "LU",
        "dk" | "dänemark" | "daenemark" | "denmark" => "DK",
        "it" | "italien" | "italy" => "IT",
        "es" | "spanien" | "spain" => "ES",
        _ if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) => {
            return Ok(v.to_uppercase())
        }
        _ => return Err(InvalidValue),
    }
    .to_string())
}

/// Insurance cells: "gesetzlich", "GKV", names of statutory funds → statutory; "privat",
/// "PKV", "Beihilfe" → private; "Selbstzahler" → self-pay; else unknown.
pub fn parse_insurance_kind(s: &str) -> InsuranceKind {
    let v = s.trim().to_lowercase();
    if v.is_empty() {
        return InsuranceKind::Unknown;
    }
    let has = |w: &str| v.contains(w);
    if has("selbst") || has("self") {
        InsuranceKind::SelfPay
    } else if has("privat") || has("pkv") || has("beihilfe") || has("private") || v == "p" {
        InsuranceKind::Private
    } else if has("gesetzlich")
        || has("gkv")
        || has("aok")
        || has("barmer")
        || has("dak")
        || has("ikk")
        || has("bkk")
        || has("kkh")
        || has("hkk")
        || has("hek")
        || has("techniker")
        || v == "tk"
        || has("knappschaft")
        || has("kasse")
        || has("statutory")
        || v == "g"
    {
        InsuranceKind::Statutory
    } else {
        InsuranceKind::Unknown
    }
}

/// Kind cells: "Patient", "Interessent", "prospect", "lead".
pub fn parse_kind(s: &str) -> Result<Option<Kind>, InvalidValue> {
    let v = s.trim().to_lowercase();
    Ok(Some(match v.as_str() {
        "" => return Ok(None),
        "patient" | "patientin" | "pat" | "p" => Kind::Patient,
        "interessent" | "interessentin" | "prospect" | "lead" | "i" => Kind::Prospect,
        _ => return Err(InvalidValue),
    }))
}

/// Very small e-mail syntax check: one `@`, non-empty local part, a dot in the domain,
/// no spaces.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Digits of a phone number with a leading `+` kept.
fn phone_digits(s: &str) -> String {
    let t = s.trim();
    let mut out = String::new();
    if t.starts_with('+') {
        out.push('+');
    }
    out.extend(t.chars().filter(char::is_ascii_digit));
    out
}

/// True when a German number is a mobile number (015x, 016x, 017x, also written +49/0049).
pub fn is_german_mobile(s: &str) -> bool {
    let d = phone_digits(s);
    let national = if let Some(r) = d.strip_prefix("+49") {
        r.trim_start_matches('0').to_string()
    } else if let Some(r) = d.strip_prefix("0049") {
        r.trim_start_matches('0').to_string()
    } else if let Some(r) = d.strip_prefix('0') {
        if r.starts_with('0') {
            return false; // other international prefix
        }
        r.to_string()
    } else {
        return false;
    };
    national.starts_with("15") || national.starts_with("16") || national.starts_with("17")
}

/// True when the text has at least 5 digits and only phone punctuation.
pub fn looks_like_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    digits >= 5
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +()/-.".contains(c))
}
