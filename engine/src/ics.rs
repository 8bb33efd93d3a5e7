//! Calendar exports (`.ics`, iCalendar RFC 5545) with the `icalendar` crate's parser: every
//! VEVENT as a [`CalendarEvent`] for the matching in
//! `praxisbote_core::domain::import::plan_calendar_import`.
//!
//! Times: UTC times (`…Z`) become German local time ([`berlin_from_utc`]); times with a
//! `TZID` and floating times are taken as the practice's wall-clock time. DESCRIPTION is
//! never read (it may hold treatment notes).

use icalendar::{
    Calendar, CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, EventLike,
};
use praxisbote_core::domain::import::{berlin_from_utc, CalendarError, CalendarEvent};

/// Why a file is no calendar.
fn unreadable(detail: &str) -> CalendarError {
    CalendarError::Unreadable {
        detail: detail.to_string(),
    }
}

fn local(t: &DatePerhapsTime) -> (Option<chrono::NaiveDateTime>, bool) {
    match t {
        DatePerhapsTime::Date(_) => (None, true),
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(u)) => {
            (Some(berlin_from_utc(u.naive_utc())), false)
        }
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(n)) => (Some(*n), false),
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, .. }) => {
            (Some(*date_time), false)
        }
    }
}

/// Phone numbers written in a text ("Rückruf 0171 1234567"): runs of digits, spaces, `/`,
/// `-` and a leading `+` with at least 7 digits.
fn phones_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        let t = cur.trim().trim_end_matches(['-', '/']).trim().to_string();
        if t.chars().filter(char::is_ascii_digit).count() >= 7 {
            out.push(t);
        }
        cur.clear();
    };
    for c in text.chars() {
        let starts = c.is_ascii_digit() || (c == '+' && cur.trim().is_empty());
        let continues = !cur.is_empty() && matches!(c, ' ' | '/' | '-');
        if starts || continues {
            cur.push(c);
        } else {
            flush(&mut cur, &mut out);
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Reads every VEVENT of the calendar.
pub fn read_events(text: &str) -> Result<Vec<CalendarEvent>, CalendarError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.trim_start().starts_with("BEGIN:VCALENDAR") {
        return Err(CalendarError::NotACalendar);
    }
    let cal: Calendar = text.parse().map_err(|e: String| {
        unreadable(
            e.lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim(),
        )
    })?;
    // Lines of the BEGIN:VEVENT lines in the file as it is (folded lines counted as lines).
    let begins: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end() == "BEGIN:VEVENT")
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let mut out = Vec::new();
    for c in &cal.components {
        let CalendarComponent::Event(e) = c else {
            continue;
        };
        let n = out.len();
        let (start, all_day) = e.get_start().map_or((None, false), |s| local(&s));
        let end = e.get_end().and_then(|s| local(&s).0);
        let mut ev = CalendarEvent {
            number: n + 1,
            line: begins.get(n).copied().unwrap_or(0),
            uid: e.get_uid().unwrap_or("").trim().to_string(),
            summary: e.get_summary().unwrap_or("").trim().to_string(),
            location: e
                .property_value("LOCATION")
                .unwrap_or("")
                .trim()
                .to_string(),
            categories: e.get_categories().unwrap_or_default().join(", "),
            start,
            end,
            all_day,
            recurring: e.property_value("RRULE").is_some(),
            cancelled: e
                .property_value("STATUS")
                .is_some_and(|s| s.trim().eq_ignore_ascii_case("CANCELLED")),
            ..Default::default()
        };
        if let Some(attendees) = e.multi_properties().get("ATTENDEE") {
            for a in attendees {
                let v = a.value().trim();
                let lower = v.to_ascii_lowercase();
                if let Some(mail) = lower.strip_prefix("mailto:") {
                    ev.emails.push(mail.to_string());
                } else if lower.starts_with("tel:") {
                    ev.phones.push(v[4..].to_string());
                }
                if let Some(cn) = a.params().get("CN") {
                    ev.names.push(cn.value().trim_matches('"').to_string());
                }
            }
        }
        ev.phones.extend(phones_in(&ev.summary));
        out.push(ev);
    }
    Ok(out)
}
