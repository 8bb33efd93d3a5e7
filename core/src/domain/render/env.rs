//! The minijinja environment every render and check starts from: strict undefined, fuel and
//! recursion limits, and the German date/time filters `datum`, `uhrzeit`, `wochentag`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

use super::{FUEL, RECURSION_LIMIT};
use crate::domain::placeholders::{format_date, format_date_long, weekday_name};
use crate::domain::template::Language;

fn parse_date_time(s: &str) -> Option<(Option<NaiveDate>, Option<NaiveTime>)> {
    let s = s.trim();
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d.%m.%Y %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Some((Some(dt.date()), Some(dt.time())));
        }
    }
    for f in ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some((Some(d), None));
        }
    }
    for f in ["%H:%M", "%H:%M:%S"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, f) {
            return Some((None, Some(t)));
        }
    }
    None
}

fn filter_error(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

fn datum_filter(lang: Language, value: &str, format: Option<&str>) -> Result<String, Error> {
    let date = parse_date_time(value)
        .and_then(|(d, _)| d)
        .ok_or_else(|| filter_error(format!("„{value}“ ist kein Datum (Filter datum).")))?;
    match format.unwrap_or("kurz") {
        "kurz" | "short" => Ok(format_date(date, lang)),
        "lang" | "long" => Ok(format_date_long(date, lang)),
        "iso" => Ok(format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            date.month(),
            date.day()
        )),
        other => Err(filter_error(format!(
            "Unbekanntes Datumsformat „{other}“ (erlaubt: \"kurz\", \"lang\", \"iso\")."
        ))),
    }
}

fn wochentag_filter(lang: Language, value: &str) -> Result<String, Error> {
    let date = parse_date_time(value)
        .and_then(|(d, _)| d)
        .ok_or_else(|| filter_error(format!("„{value}“ ist kein Datum (Filter wochentag).")))?;
    Ok(weekday_name(date.weekday(), lang).to_string())
}

fn uhrzeit_filter(value: &str) -> Result<String, Error> {
    let time = parse_date_time(value)
        .and_then(|(_, t)| t)
        .ok_or_else(|| filter_error(format!("„{value}“ ist keine Uhrzeit (Filter uhrzeit).")))?;
    Ok(format!("{:02}:{:02}", time.hour(), time.minute()))
}

pub(super) fn base_env<'s>(lang: Language) -> Environment<'s> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_debug(false);
    env.add_filter("datum", move |v: &str, f: Option<&str>| {
        datum_filter(lang, v, f)
    });
    env.add_filter("wochentag", move |v: &str| wochentag_filter(lang, v));
    env.add_filter("uhrzeit", uhrzeit_filter);
    env
}
