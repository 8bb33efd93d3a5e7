//! Index keys, computed the same way by every [`Store`](super::Store) implementation.
//!
//! Pure functions, natively tested. IndexedDB compares string keys by UTF-16 code units;
//! all keys built here are ASCII or folded lower-case text, and the memory store sorts with
//! [`cmp_js`], the same comparison.

use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::domain::{Appointment, PersonRecord};

/// A birthday without a year ("MM-DD"). Feb 29 is a valid month-day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthDay {
    month: u8,
    day: u8,
}

impl MonthDay {
    /// `None` for impossible month-days (04-31, 02-30, 13-01).
    pub fn new(month: u32, day: u32) -> Option<MonthDay> {
        // 2000 is a leap year, so 02-29 is accepted.
        NaiveDate::from_ymd_opt(2000, month, day).map(|_| MonthDay {
            month: month as u8,
            day: day as u8,
        })
    }

    pub fn of(date: NaiveDate) -> MonthDay {
        MonthDay {
            month: date.month() as u8,
            day: date.day() as u8,
        }
    }

    pub fn month(self) -> u32 {
        self.month.into()
    }

    pub fn day(self) -> u32 {
        self.day.into()
    }

    /// "MM-DD", the index key.
    pub fn key(self) -> String {
        format!("{:02}-{:02}", self.month, self.day)
    }

    pub const FIRST: MonthDay = MonthDay { month: 1, day: 1 };
    pub const LAST: MonthDay = MonthDay { month: 12, day: 31 };

    /// The inclusive key ranges of `from..=to`, two when the range wraps the year end.
    pub fn ranges(from: MonthDay, to: MonthDay) -> Vec<(MonthDay, MonthDay)> {
        if from <= to {
            vec![(from, to)]
        } else {
            vec![(from, MonthDay::LAST), (MonthDay::FIRST, to)]
        }
    }
}

/// Folds text for searching and sorting: lower case, diacritics removed (ä→a, ß→ss, ı→i,
/// ł→l, ş→s, é→e …), control characters dropped, whitespace trimmed and collapsed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || ('\u{0300}'..='\u{036f}').contains(&c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        for l in c.to_lowercase() {
            // Lower-casing may produce combining marks ("İ" → "i̇"): drop them.
            if !('\u{0300}'..='\u{036f}').contains(&l) {
                push_folded(&mut out, l);
            }
        }
    }
    out
}

fn push_folded(out: &mut String, c: char) {
    let s: &str = match c {
        'ä' | 'á' | 'à' | 'â' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'é' | 'è' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'ĕ' => "e",
        'ğ' | 'ĝ' | 'ġ' | 'ģ' => "g",
        'ı' | 'í' | 'ì' | 'î' | 'ï' | 'ī' | 'į' | 'ĩ' | 'ĭ' => "i",
        'ķ' => "k",
        'ł' | 'ľ' | 'ĺ' | 'ļ' | 'ŀ' => "l",
        'ñ' | 'ń' | 'ň' | 'ņ' => "n",
        'ö' | 'ó' | 'ò' | 'ô' | 'õ' | 'ō' | 'ő' | 'ø' | 'ŏ' => "o",
        'œ' => "oe",
        'ř' | 'ŕ' | 'ŗ' => "r",
        'ß' => "ss",
        'ś' | 'š' | 'ş' | 'ș' | 'ŝ' => "s",
        'ť' | 'ţ' | 'ț' => "t",
        'þ' => "th",
        'ü' | 'ú' | 'ù' | 'û' | 'ū' | 'ů' | 'ű' | 'ų' | 'ũ' | 'ŭ' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(s);
}

/// Name index key: folded "lastname firstname".
pub fn name_key(r: &PersonRecord) -> String {
    let last = fold(&r.person.last_name);
    let first = fold(&r.person.first_name);
    match (last.is_empty(), first.is_empty()) {
        (false, false) => format!("{last} {first}"),
        (true, _) => first,
        (false, true) => last,
    }
}

/// Birthday index key "MM-DD", none without a birth date.
pub fn birthday_key(r: &PersonRecord) -> Option<String> {
    r.sensitive.birth_date.map(|d| MonthDay::of(d).key())
}

/// Tag index keys: folded, non-empty, deduplicated, sorted.
pub fn tag_keys(r: &PersonRecord) -> Vec<String> {
    let mut tags: Vec<String> = r
        .person
        .tags
        .iter()
        .map(|t| fold(t))
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort_by(|a, b| cmp_js(a, b));
    tags.dedup();
    tags
}

/// Appointment start key, ISO 8601 ("2026-03-04T08:30:00"); sorts chronologically.
pub fn start_key(start: NaiveDateTime) -> String {
    start.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
}

pub fn appointment_start_key(a: &Appointment) -> String {
    start_key(a.start)
}

/// Day key "YYYY-MM-DD": every start key of that day is `>=` it, and `<` the next day's.
pub fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Upper bound (exclusive) for a prefix search on string keys: every string starting with
/// `prefix` is `>= prefix` and `< prefix_end(prefix)`.
pub fn prefix_end(prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 3);
    s.push_str(prefix);
    s.push('\u{ffff}');
    s
}

/// Compares strings the way IndexedDB compares string keys (by UTF-16 code units).
pub fn cmp_js(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Person, PersonId, Sensitive};

    #[test]
    fn fold_table() {
        let cases = [
            ("Müller", "muller"),
            ("  Straße  der   Einheit ", "strasse der einheit"),
            ("YILDIZ", "yildiz"),
            ("Yıldız", "yildiz"),
            ("Łukasz Wójcik", "lukasz wojcik"),
            ("Öztürk-Şahin", "ozturk-sahin"),
            ("Çelik", "celik"),
            ("Ğülşen", "gulsen"),
            ("Ἀλέξανδρος", "ἀλέξανδρος"),
            ("İlker", "ilker"),
            ("Zoë\u{7}", "zoe"),
            ("Æsir Œuvre", "aesir oeuvre"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(fold(input), want, "fold({input:?})");
        }
    }

    fn rec(first: &str, last: &str) -> PersonRecord {
        PersonRecord {
            person: Person {
                id: PersonId("x".into()),
                first_name: first.into(),
                last_name: last.into(),
                ..Default::default()
            },
            sensitive: Sensitive::default(),
        }
    }

    #[test]
    fn name_key_handles_missing_parts() {
        assert_eq!(name_key(&rec("Anna", "Müller")), "muller anna");
        assert_eq!(name_key(&rec("", "Müller")), "muller");
        assert_eq!(name_key(&rec("Anna", " ")), "anna");
    }

    #[test]
    fn month_day_validation_and_ranges() {
        assert!(MonthDay::new(2, 29).is_some());
        assert!(MonthDay::new(2, 30).is_none());
        assert!(MonthDay::new(4, 31).is_none());
        assert!(MonthDay::new(13, 1).is_none());
        let dec20 = MonthDay::new(12, 20).unwrap();
        let jan10 = MonthDay::new(1, 10).unwrap();
        assert_eq!(dec20.key(), "12-20");
        assert_eq!(
            MonthDay::ranges(dec20, jan10),
            vec![(dec20, MonthDay::LAST), (MonthDay::FIRST, jan10)]
        );
        assert_eq!(MonthDay::ranges(jan10, dec20), vec![(jan10, dec20)]);
    }

    #[test]
    fn tag_keys_fold_and_dedup() {
        let mut r = rec("A", "B");
        r.person.tags = vec!["Rücken".into(), "rucken".into(), " ".into(), "Knie".into()];
        assert_eq!(tag_keys(&r), vec!["knie".to_string(), "rucken".to_string()]);
    }

    #[test]
    fn day_and_start_keys_order() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        let start = d.and_hms_opt(8, 30, 0).unwrap();
        let k = start_key(start);
        assert_eq!(k, "2026-03-04T08:30:00");
        assert!(day_key(d) <= k);
        assert!(k < day_key(d.succ_opt().unwrap()));
    }

    #[test]
    fn prefix_end_bounds_prefix() {
        let end = prefix_end("mul");
        for s in ["mul", "muller", "mulzzzz", "mul\u{fffe}"] {
            assert_ne!(cmp_js("mul", s), Ordering::Greater, "{s}");
            assert_eq!(cmp_js(s, &end), Ordering::Less, "{s}");
        }
        assert_eq!(cmp_js("mum", &end), Ordering::Greater);
    }
}
