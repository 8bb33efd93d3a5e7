//! Days and months without a year, birthdays (29.02. → 28.02.), ages and windows.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A day and month without a year ("28.12.").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DayMonth {
    pub month: u32,
    pub day: u32,
}

impl DayMonth {
    pub fn new(day: u32, month: u32) -> Option<DayMonth> {
        // 29.02. is a valid day-month (resolved to 28.02. in non-leap years).
        NaiveDate::from_ymd_opt(2000, month, day).map(|_| DayMonth { month, day })
    }

    /// Parses "28.12." or "28.12" or "5.1.".
    pub fn parse(s: &str) -> Option<DayMonth> {
        let s = s.trim().trim_end_matches('.');
        let (d, m) = s.split_once('.')?;
        DayMonth::new(d.trim().parse().ok()?, m.trim().parse().ok()?)
    }

    /// The date in `year`; 29.02. becomes 28.02. in non-leap years.
    pub fn in_year(self, year: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
            .or_else(|| NaiveDate::from_ymd_opt(year, self.month, self.day - 1))
            .expect("valid day-month")
    }

    pub fn of(date: NaiveDate) -> DayMonth {
        DayMonth {
            month: date.month(),
            day: date.day(),
        }
    }
}

impl std::fmt::Display for DayMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}.{:02}.", self.day, self.month)
    }
}

/// The date on which someone born on `birth` celebrates in `year` (29.02. → 28.02.).
pub fn birthday_in_year(birth: NaiveDate, year: i32) -> NaiveDate {
    DayMonth::of(birth).in_year(year)
}

/// Age in completed years on `on`; `None` before birth.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    if on < birth {
        return None;
    }
    let mut age = on.year() - birth.year();
    if on < birthday_in_year(birth, on.year()) {
        age -= 1;
    }
    Some(age as u32)
}

/// Whether `birth` has a birthday (age ≥ 1) within `[start, end]`.
pub fn has_birthday_between(birth: NaiveDate, start: NaiveDate, end: NaiveDate) -> bool {
    (start.year()..=end.year()).any(|y| {
        let d = birthday_in_year(birth, y);
        d > birth && d >= start && d <= end
    })
}

/// Resolves a day-month window against `today` (see the module documentation).
pub fn resolve_window(from: DayMonth, to: DayMonth, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let mut end = to.in_year(today.year());
    if end < today {
        end = to.in_year(today.year() + 1);
    }
    let mut start = from.in_year(end.year());
    if start > end {
        start = from.in_year(end.year() - 1);
    }
    (start, end)
}

/// Birthdays as (month, day) packed into a u16 for fast window checks.
pub(super) fn md_key(month: u32, day: u32) -> u16 {
    (month * 32 + day) as u16
}

pub(super) const LEAP_DAY: u16 = 2 * 32 + 29;

pub(super) fn is_leap(year: i32) -> bool {
    NaiveDate::from_ymd_opt(year, 2, 29).is_some()
}
