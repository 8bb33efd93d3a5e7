//! Dates, times and weekdays as messages print them (German and English).
//!
//! Written digit by digit rather than through `format!`: the context of every recipient of a
//! batch formats several of them, and the formatting machinery dominated building contexts.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};

use crate::domain::template::Language;

const WEEKDAYS_DE: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Name of a weekday in the language.
pub fn weekday_name(w: Weekday, lang: Language) -> &'static str {
    let i = w.num_days_from_monday() as usize;
    match lang {
        Language::De => WEEKDAYS_DE[i],
        Language::En => WEEKDAYS_EN[i],
    }
}

/// "00" to "99", two characters each.
const TWO_DIGITS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

fn push_2(out: &mut String, n: u32) {
    let i = (n % 100) as usize * 2;
    out.push_str(&TWO_DIGITS[i..i + 2]);
}

fn push_year(out: &mut String, y: i32) {
    if (1000..=9999).contains(&y) {
        let y = y as u32;
        push_2(out, y / 100);
        push_2(out, y % 100);
    } else {
        out.push_str(&y.to_string());
    }
}

/// Short date: "27.11.2026" (de) or "27/11/2026" (en).
pub fn format_date(d: NaiveDate, lang: Language) -> String {
    let mut out = String::with_capacity(10);
    push_date(&mut out, d, lang);
    out
}

/// Appends the short date ([`format_date`]).
pub fn push_date(out: &mut String, d: NaiveDate, lang: Language) {
    let sep = match lang {
        Language::De => '.',
        Language::En => '/',
    };
    push_2(out, d.day());
    out.push(sep);
    push_2(out, d.month());
    out.push(sep);
    push_year(out, d.year());
}

/// Long date: "27. November 2026" (de) or "27 November 2026" (en).
pub fn format_date_long(d: NaiveDate, lang: Language) -> String {
    let m = d.month0() as usize;
    match lang {
        Language::De => format!("{}. {} {}", d.day(), MONTHS_DE[m], d.year()),
        Language::En => format!("{} {} {}", d.day(), MONTHS_EN[m], d.year()),
    }
}

/// "14:30".
pub fn format_time(t: NaiveDateTime) -> String {
    let mut out = String::with_capacity(5);
    push_time(&mut out, t);
    out
}

/// Appends the time ([`format_time`]).
pub fn push_time(out: &mut String, t: NaiveDateTime) {
    push_2(out, t.hour());
    out.push(':');
    push_2(out, t.minute());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_formats() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        assert_eq!(format_date(d, Language::De), "05.03.2026");
        assert_eq!(format_date(d, Language::En), "05/03/2026");
        assert_eq!(format_date_long(d, Language::De), "5. März 2026");
        assert_eq!(format_date_long(d, Language::En), "5 March 2026");
        let far = NaiveDate::from_ymd_opt(12345, 12, 31).unwrap();
        assert_eq!(format_date(far, Language::De), "31.12.12345");
        let t = d.and_hms_opt(7, 5, 0).unwrap();
        assert_eq!(format_time(t), "07:05");
        assert_eq!(format_time(d.and_hms_opt(23, 59, 0).unwrap()), "23:59");
    }
}
