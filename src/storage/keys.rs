//! Index keys, computed the same way by every [`Store`](super::Store) implementation.
//!
//! Pure functions, natively tested. IndexedDB compares string keys by UTF-16 code units;
//! all keys built here are ASCII, and the memory store sorts with [`cmp_js`], the same
//! comparison.

use std::cmp::Ordering;

use chrono::{NaiveDate, NaiveDateTime};

use crate::domain::query::DayMonth;
use crate::domain::{Appointment, PersonRecord};

/// The first and the last day-month of a year.
pub const FIRST_DAY: DayMonth = DayMonth { month: 1, day: 1 };
pub const LAST_DAY: DayMonth = DayMonth { month: 12, day: 31 };

/// "MM-DD", the birthday index key of a day-month.
pub fn month_day_key(d: DayMonth) -> String {
    format!("{:02}-{:02}", d.month, d.day)
}

/// Birthday index key "MM-DD" of a person, none without a birth date. Feb 29 is "02-29".
pub fn birthday_key(r: &PersonRecord) -> Option<String> {
    r.sensitive
        .birth_date
        .map(|d| month_day_key(DayMonth::of(d)))
}

/// The inclusive day-month ranges of `from..=to`: two when the range wraps the year end
/// (Dec 20 – Jan 10).
pub fn birthday_ranges(from: DayMonth, to: DayMonth) -> Vec<(DayMonth, DayMonth)> {
    if from <= to {
        vec![(from, to)]
    } else {
        vec![(from, LAST_DAY), (FIRST_DAY, to)]
    }
}

/// Every day-month of `from..=to` (wrapping the year end), in that order; Feb 29 included.
/// An encrypted store looks its blinded birthday keys up one day at a time.
pub fn days_of(from: DayMonth, to: DayMonth) -> Vec<DayMonth> {
    let mut out = Vec::new();
    for (lo, hi) in birthday_ranges(from, to) {
        // 2000 is a leap year: its days are every day-month, 29.02. included.
        let (mut day, last) = (lo.in_year(2000), hi.in_year(2000));
        while day <= last {
            out.push(DayMonth::of(day));
            day = day.succ_opt().expect("within 2000");
        }
    }
    out
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
    use crate::domain::Sensitive;

    fn dm(month: u32, day: u32) -> DayMonth {
        DayMonth::new(day, month).unwrap()
    }

    #[test]
    fn birthday_keys_and_ranges() {
        assert_eq!(month_day_key(dm(2, 29)), "02-29");
        assert_eq!(month_day_key(dm(12, 20)), "12-20");
        let r = |birth| PersonRecord {
            sensitive: Sensitive {
                birth_date: birth,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            birthday_key(&r(NaiveDate::from_ymd_opt(1996, 2, 29))).as_deref(),
            Some("02-29")
        );
        assert_eq!(birthday_key(&r(None)), None);
        assert_eq!(
            birthday_ranges(dm(12, 20), dm(1, 10)),
            vec![(dm(12, 20), LAST_DAY), (FIRST_DAY, dm(1, 10))]
        );
        assert_eq!(
            birthday_ranges(dm(1, 10), dm(12, 20)),
            vec![(dm(1, 10), dm(12, 20))]
        );
        // Day-months order by month, then day, like their keys.
        assert!(dm(1, 31) < dm(2, 1));
        assert!(month_day_key(dm(1, 31)) < month_day_key(dm(2, 1)));
    }

    #[test]
    fn days_of_ranges_wrap_and_hold_feb_29() {
        assert_eq!(days_of(FIRST_DAY, LAST_DAY).len(), 366);
        assert_eq!(
            days_of(dm(2, 27), dm(3, 1)),
            [dm(2, 27), dm(2, 28), dm(2, 29), dm(3, 1)]
        );
        assert_eq!(
            days_of(dm(12, 30), dm(1, 2)),
            [dm(12, 30), dm(12, 31), dm(1, 1), dm(1, 2)]
        );
        assert_eq!(days_of(dm(2, 29), dm(2, 29)), [dm(2, 29)]);
        // A range ending the day before it starts is the whole year, from `from` on.
        let all = days_of(dm(3, 1), dm(2, 29));
        assert_eq!((all.len(), all[0], all[365]), (366, dm(3, 1), dm(2, 29)));
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
