//! The calendar entry attached to an e-mail appointment reminder: one iCalendar event
//! (RFC 5545) that a mail program offers to add to the recipient's calendar.
//!
//! Privacy: the entry holds what the reminder may say and nothing more — the appointment's
//! exact time, the practice's name, address and phone. Never the appointment type, the
//! therapist, the room or any note (treatment data, REFERENCE.md); the summary is a fixed
//! "Termin – Praxis …" in the template's language.
//!
//! Pure: the time stamp (`DTSTAMP`) is given by the caller. Appointment times are local
//! times of the practice (Europe/Berlin), written with that time zone and its rules, so a
//! calendar abroad shows the same moment.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::address;
use super::model::{Appointment, Channel, PracticeSettings, Purpose};
use super::template::Language;

/// File name and MIME type of the attachment.
pub const FILE_NAME: &str = "termin.ics";
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8; method=PUBLISH";

/// The practice's time zone (appointment times are stored as its local times).
const TZID: &str = "Europe/Berlin";

/// Europe/Berlin since 1996: CEST from the last Sunday in March 02:00 to the last Sunday in
/// October 03:00.
const VTIMEZONE: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// Whether a message of this channel and purpose carries the calendar entry of its
/// appointment: e-mail appointment reminders do (a letter has no attachment, an SMS none).
pub fn is_attached(channel: Channel, purpose: Purpose) -> bool {
    channel == Channel::Email && purpose == Purpose::AppointmentReminder
}

/// The `.ics` text (CRLF line ends, lines folded at 75 octets) for `appointment`.
///
/// The event's UID is the appointment's, so a second reminder for the same appointment
/// updates the calendar entry instead of adding another one.
pub fn reminder_event(
    appointment: &Appointment,
    practice: &PracticeSettings,
    language: Language,
    stamp: DateTime<Utc>,
) -> String {
    let name = practice.name.trim();
    let summary = match (language, name.is_empty()) {
        (Language::De, false) => format!("Termin – {name}"),
        (Language::De, true) => "Termin".to_owned(),
        (Language::En, false) => format!("Appointment – {name}"),
        (Language::En, true) => "Appointment".to_owned(),
    };
    let place = address::one_line(&practice.address);
    let location = [name, place.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let phone = practice.phone.trim();
    let description = match (language, phone.is_empty()) {
        (_, true) => String::new(),
        (Language::De, false) => {
            format!("Wenn Sie den Termin nicht wahrnehmen können, rufen Sie uns bitte an: {phone}")
        }
        (Language::En, false) => {
            format!("If you cannot keep this appointment, please call us: {phone}")
        }
    };

    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//praxisbote//Terminerinnerung//DE".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
    ];
    lines.extend(VTIMEZONE.iter().map(|l| l.to_string()));
    lines.push("BEGIN:VEVENT".into());
    lines.push(format!("UID:{}", uid(appointment, practice)));
    lines.push(format!("DTSTAMP:{}", stamp.format("%Y%m%dT%H%M%SZ")));
    lines.push(format!("DTSTART;TZID={TZID}:{}", local(appointment.start)));
    let end = if appointment.end > appointment.start {
        appointment.end
    } else {
        appointment.start
    };
    lines.push(format!("DTEND;TZID={TZID}:{}", local(end)));
    lines.push(format!("SUMMARY:{}", text(&summary)));
    if !location.is_empty() {
        lines.push(format!("LOCATION:{}", text(&location)));
    }
    if !description.is_empty() {
        lines.push(format!("DESCRIPTION:{}", text(&description)));
    }
    lines.push("STATUS:CONFIRMED".into());
    lines.push("TRANSP:OPAQUE".into());
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());

    let mut out = String::new();
    for line in &lines {
        fold_into(&mut out, line);
    }
    out
}

/// "termin-<appointment id>@<practice e-mail domain>" (a UID is global: the practice's domain
/// keeps two practices' appointment numbers apart), characters outside the safe set
/// replaced.
fn uid(appointment: &Appointment, practice: &PracticeSettings) -> String {
    let domain = practice
        .email
        .rsplit_once('@')
        .map(|(_, d)| d.trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("praxisbote.invalid");
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("termin-{}@{}", safe(&appointment.id.0), safe(domain))
}

fn local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded to lines of at most 75 octets (RFC 5545 3.1; a continuation starts
/// with one space), never inside a UTF-8 character, each ended by CRLF.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests;
