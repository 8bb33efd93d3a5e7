//! Appointments from a calendar export (`.ics`, iCalendar). The engine wasm parses the file
//! with the `icalendar` crate into [`CalendarEvent`]s (`engine/src/ics.rs`); here every event
//! is matched to a person by e-mail, phone number or name, and the result is a plan the user
//! confirms: matched events become appointments, ambiguous ones list their candidates for
//! the user to choose, unmatched and unusable ones are listed with the reason. Nothing is
//! stored before the confirmation; then all appointments go into one transaction.
//!
//! Privacy: an event's SUMMARY may become the appointment type (without the person's name);
//! the description is never read into an appointment.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use serde::{Deserialize, Serialize};

use super::messages::msg;
use crate::domain::message::Msg;
use crate::domain::model::{Appointment, AppointmentId, AppointmentStatus, PersonId, PersonRecord};
use crate::domain::phone::parse_phone;
use crate::domain::search::fold;

/// A calendar file the engine could not read (a kind with its arguments; the German text is
/// its `Display`, the UI shows it from the catalogue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum CalendarError {
    #[error("Die Datei ist kein lesbarer Kalender (iCalendar/.ics): sie beginnt nicht mit BEGIN:VCALENDAR.")]
    NotACalendar,
    /// The parser's own (English, technical) first line as the detail.
    #[error("Die Datei ist kein lesbarer Kalender (iCalendar/.ics): {detail}")]
    Unreadable { detail: String },
}

impl crate::domain::message::UiMessage for CalendarError {
    fn key(&self) -> &'static str {
        match self {
            CalendarError::NotACalendar => "domain.import.calendar.not_a_calendar",
            CalendarError::Unreadable { .. } => "domain.import.calendar.unreadable",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            CalendarError::NotACalendar => vec![],
            CalendarError::Unreadable { detail } => vec![("detail", detail.clone())],
        }
    }
}

/// One VEVENT as the engine read it. Times are local wall-clock times of the practice
/// (UTC times converted with [`berlin_from_utc`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEvent {
    /// 1-based number of the event in the file.
    pub number: usize,
    /// Line of its `BEGIN:VEVENT`.
    pub line: u64,
    pub uid: String,
    pub summary: String,
    pub location: String,
    pub categories: String,
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
    /// DTSTART was a date without a time.
    pub all_day: bool,
    /// The event has an RRULE (a series).
    pub recurring: bool,
    /// STATUS:CANCELLED.
    pub cancelled: bool,
    /// E-mail addresses of the attendees (`mailto:`), not the organizer's.
    pub emails: Vec<String>,
    /// Names (`CN`) of the attendees.
    pub names: Vec<String>,
    /// Phone numbers of the attendees (`tel:`) and any in the summary.
    pub phones: Vec<String>,
}

/// How an event was matched to its person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalendarMatchedBy {
    Email,
    Phone,
    Name,
}

/// An event with its person and the appointment it becomes.
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarMatch {
    /// Index into [`CalendarPlan::events`].
    pub event: usize,
    pub person: PersonId,
    pub person_name: String,
    pub by: CalendarMatchedBy,
    pub appointment: Appointment,
}

/// One of several persons an ambiguous event may belong to.
pub type Candidate = CalendarMatch;

/// An event that is not imported, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarSkip {
    pub event: usize,
    pub reason: Msg,
}

/// What the confirmation step shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CalendarPlan {
    pub events: Vec<CalendarEvent>,
    pub matched: Vec<CalendarMatch>,
    /// Per event, all its candidates (two or more).
    pub ambiguous: Vec<Vec<Candidate>>,
    /// Events no person matches.
    pub unmatched: Vec<CalendarSkip>,
    /// Events that are no usable appointment (all-day, series, cancelled, already imported).
    pub skipped: Vec<CalendarSkip>,
}

impl CalendarPlan {
    /// The appointments to store: every match, plus the user's choice per ambiguous event
    /// (event index → person); an ambiguous event without a choice is not imported.
    pub fn appointments(&self, choices: &HashMap<usize, PersonId>) -> Vec<Appointment> {
        let mut out: Vec<Appointment> =
            self.matched.iter().map(|m| m.appointment.clone()).collect();
        for cands in &self.ambiguous {
            let Some(first) = cands.first() else { continue };
            if let Some(chosen) = choices.get(&first.event) {
                if let Some(c) = cands.iter().find(|c| &c.person == chosen) {
                    out.push(c.appointment.clone());
                }
            }
        }
        out
    }

    /// German summary line.
    pub fn summary_de(&self) -> String {
        format!(
            "{} Termine gelesen: {} zugeordnet, {} mehrdeutig, {} ohne passende Person, {} übersprungen.",
            self.events.len(),
            self.matched.len(),
            self.ambiguous.len(),
            self.unmatched.len(),
            self.skipped.len()
        )
    }
}

/// Last Sunday of a month (for the EU summer-time rule).
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap_or(NaiveDate::MIN);
    let mut d = next - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// A UTC time as German local time (CET, and CEST from the last Sunday of March 01:00 UTC to
/// the last Sunday of October 01:00 UTC — the EU rule since 1996).
pub fn berlin_from_utc(utc: NaiveDateTime) -> NaiveDateTime {
    let y = utc.year();
    let begin = last_sunday(y, 3).and_hms_opt(1, 0, 0).unwrap_or_default();
    let end = last_sunday(y, 10).and_hms_opt(1, 0, 0).unwrap_or_default();
    let offset = if utc >= begin && utc < end { 2 } else { 1 };
    utc + Duration::hours(offset)
}

/// Deterministic appointment id from the event's UID, so importing the same calendar twice
/// finds the appointments already there (FNV-1a, 64 bit).
pub fn appointment_id_for_uid(uid: &str) -> AppointmentId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in uid.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    AppointmentId(format!("ics-{h:016x}"))
}

fn e164(s: &str) -> Option<String> {
    parse_phone(s).ok().map(|p| p.e164())
}

/// Folded words of a text ("Müller-Lüdenscheidt, Anna" → ["muller", "ludenscheidt", "anna"]).
fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The summary without the person's name parts, phone numbers, e-mail addresses and the
/// separators around them: the appointment type ("Müller, Anna – Massage" → "Massage").
fn type_from_summary(summary: &str, rec: &PersonRecord) -> String {
    let name_words: HashSet<String> = words(&rec.person.first_name)
        .into_iter()
        .chain(words(&rec.person.last_name))
        .chain(words(&rec.person.title))
        .collect();
    let kept: Vec<&str> = summary
        .split_whitespace()
        .filter(|tok| {
            // Phone numbers and e-mail addresses are contact data, not a type.
            let contact = tok.contains('@')
                || (tok.chars().any(|c| c.is_ascii_digit())
                    && tok
                        .chars()
                        .all(|c| c.is_ascii_digit() || "+/-()".contains(c)));
            let w = words(tok);
            !contact && (w.is_empty() || !w.iter().all(|x| name_words.contains(x)))
        })
        .collect();
    kept.join(" ")
        .trim_matches(|c: char| c.is_whitespace() || "-–—:,;/|()".contains(c))
        .to_string()
}

struct Index<'a> {
    persons: &'a [PersonRecord],
    by_email: HashMap<String, Vec<usize>>,
    by_phone: HashMap<String, Vec<usize>>,
    /// Folded last-name words → persons.
    by_last: HashMap<String, Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(persons: &'a [PersonRecord]) -> Self {
        let mut ix = Index {
            persons,
            by_email: HashMap::new(),
            by_phone: HashMap::new(),
            by_last: HashMap::new(),
        };
        for (i, r) in persons.iter().enumerate() {
            let p = &r.person;
            let email = p.email.trim().to_lowercase();
            if !email.is_empty() {
                ix.by_email.entry(email).or_default().push(i);
            }
            for n in [&p.mobile, &p.landline] {
                if let Some(e) = e164(n) {
                    ix.by_phone.entry(e).or_default().push(i);
                }
            }
            if let Some(last) = words(&p.last_name).last() {
                ix.by_last.entry(last.clone()).or_default().push(i);
            }
        }
        ix
    }

    fn email_hits(&self, ev: &CalendarEvent) -> Vec<usize> {
        let mut v: Vec<usize> = ev
            .emails
            .iter()
            .filter_map(|e| self.by_email.get(&e.trim().to_lowercase()))
            .flatten()
            .copied()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    fn phone_hits(&self, ev: &CalendarEvent) -> Vec<usize> {
        let mut v: Vec<usize> = ev
            .phones
            .iter()
            .filter_map(|p| e164(p))
            .filter_map(|p| self.by_phone.get(&p))
            .flatten()
            .copied()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Persons whose every last-name word and first first-name word occur in the summary or
    /// an attendee's name.
    fn name_hits(&self, ev: &CalendarEvent) -> Vec<usize> {
        let mut text = words(&ev.summary);
        for n in &ev.names {
            text.extend(words(n));
        }
        let set: HashSet<&str> = text.iter().map(String::as_str).collect();
        let mut v = Vec::new();
        for w in &text {
            let Some(cands) = self.by_last.get(w) else {
                continue;
            };
            for &i in cands {
                let p = &self.persons[i].person;
                let last_ok = words(&p.last_name).iter().all(|x| set.contains(x.as_str()));
                let first_ok = words(&p.first_name)
                    .first()
                    .is_none_or(|f| set.contains(f.as_str()));
                if last_ok && first_ok {
                    v.push(i);
                }
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Options of a calendar import.
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarOptions {
    /// Length of events without an end.
    pub default_minutes: i64,
}

impl Default for CalendarOptions {
    fn default() -> Self {
        CalendarOptions {
            default_minutes: 30,
        }
    }
}

/// Matches every event to a person and plans the appointments. `existing` are the stored
/// appointments (an event imported before is skipped).
pub fn plan_calendar_import(
    events: Vec<CalendarEvent>,
    persons: &[PersonRecord],
    existing: &[Appointment],
    options: &CalendarOptions,
) -> CalendarPlan {
    let ix = Index::new(persons);
    let known: HashSet<&str> = existing.iter().map(|a| a.id.0.as_str()).collect();
    let mut seen_uid: HashMap<String, usize> = HashMap::new();
    let mut plan = CalendarPlan::default();
    for (i, ev) in events.iter().enumerate() {
        let skip = |key: &'static str, args: Vec<(&'static str, String)>| CalendarSkip {
            event: i,
            reason: msg(key, args),
        };
        let id = appointment_id_for_uid(if ev.uid.is_empty() {
            // Without a UID, the event's content identifies it.
            &ev.summary
        } else {
            &ev.uid
        });
        let reason = if ev.cancelled {
            Some(skip("domain.import.ics.cancelled", vec![]))
        } else if ev.recurring {
            Some(skip("domain.import.ics.recurring", vec![]))
        } else if ev.all_day {
            Some(skip("domain.import.ics.all_day", vec![]))
        } else if ev.start.is_none() {
            Some(skip("domain.import.ics.no_start", vec![]))
        } else if let Some(&first) = seen_uid.get(&id.0) {
            Some(skip(
                "domain.import.ics.duplicate",
                vec![("n", events[first].number.to_string())],
            ))
        } else if known.contains(id.0.as_str()) {
            Some(skip("domain.import.ics.already", vec![]))
        } else {
            None
        };
        seen_uid.entry(id.0.clone()).or_insert(i);
        if let Some(r) = reason {
            plan.skipped.push(r);
            continue;
        }
        let Some(start) = ev.start else { continue };
        let end = match ev.end {
            Some(e) if e > start => e,
            _ => start + Duration::minutes(options.default_minutes),
        };
        let (hits, by) = {
            let email = ix.email_hits(ev);
            let phone = ix.phone_hits(ev);
            let name = ix.name_hits(ev);
            let (strong, by) = if !email.is_empty() {
                (email, CalendarMatchedBy::Email)
            } else if !phone.is_empty() {
                (phone, CalendarMatchedBy::Phone)
            } else {
                (Vec::new(), CalendarMatchedBy::Name)
            };
            if strong.is_empty() {
                (name, CalendarMatchedBy::Name)
            } else {
                // A shared e-mail or phone (a family) is narrowed by the name.
                let both: Vec<usize> = strong
                    .iter()
                    .copied()
                    .filter(|x| name.contains(x))
                    .collect();
                if both.is_empty() {
                    (strong, by)
                } else {
                    (both, by)
                }
            }
        };
        let candidate = |pi: usize| {
            let rec = &persons[pi];
            let kind = if ev.categories.trim().is_empty() {
                type_from_summary(&ev.summary, rec)
            } else {
                ev.categories.trim().to_string()
            };
            CalendarMatch {
                event: i,
                person: rec.person.id.clone(),
                person_name: rec.person.sort_name(),
                by,
                appointment: Appointment {
                    id: id.clone(),
                    person_id: rec.person.id.clone(),
                    start,
                    end,
                    therapist: String::new(),
                    location: ev.location.trim().to_string(),
                    kind,
                    status: AppointmentStatus::Planned,
                },
            }
        };
        match hits.len() {
            0 => plan
                .unmatched
                .push(skip("domain.import.ics.unmatched", vec![])),
            1 => plan.matched.push(candidate(hits[0])),
            _ => plan
                .ambiguous
                .push(hits.into_iter().map(candidate).collect()),
        }
    }
    plan.events = events;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Person;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn person(id: &str, first: &str, last: &str, email: &str, mobile: &str) -> PersonRecord {
        PersonRecord {
            person: Person {
                id: PersonId(id.into()),
                first_name: first.into(),
                last_name: last.into(),
                email: email.into(),
                mobile: mobile.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn event(n: usize, summary: &str) -> CalendarEvent {
        CalendarEvent {
            number: n,
            line: n as u64 * 10,
            uid: format!("uid-{n}@praxis"),
            summary: summary.into(),
            start: Some(dt("2026-12-01 10:00")),
            end: Some(dt("2026-12-01 10:45")),
            ..Default::default()
        }
    }

    #[test]
    fn summer_time_follows_the_eu_rule() {
        let table = [
            // (UTC, Berlin)
            ("2026-01-15 09:00", "2026-01-15 10:00"),
            ("2026-03-29 00:59", "2026-03-29 01:59"), // before the switch
            ("2026-03-29 01:00", "2026-03-29 03:00"), // CEST from 01:00 UTC
            ("2026-07-01 12:00", "2026-07-01 14:00"),
            ("2026-10-25 00:59", "2026-10-25 02:59"),
            ("2026-10-25 01:00", "2026-10-25 02:00"), // back to CET
            ("2027-03-28 01:00", "2027-03-28 03:00"),
        ];
        for (utc, local) in table {
            assert_eq!(berlin_from_utc(dt(utc)), dt(local), "{utc}");
        }
    }

    #[test]
    fn events_are_matched_by_email_phone_and_name() {
        let persons = vec![
            person("p1", "Anna", "Müller", "anna@example.de", "0171 1234567"),
            person("p2", "Jürgen", "Weiß", "", "0160 7654321"),
            person("p3", "Björn", "Zwölfer", "", ""),
            // Two Schmidts sharing one e-mail (a family): the name decides.
            person("p4", "Eva", "Schmidt", "familie@schmidt.de", ""),
            person("p5", "Tom", "Schmidt", "familie@schmidt.de", ""),
            // Two persons with the same name: ambiguous.
            person("p6", "Maria", "Meier", "", ""),
            person("p7", "Maria", "Meier", "", ""),
        ];
        let mut e1 = event(1, "Krankengymnastik");
        e1.emails = vec!["ANNA@example.de".into()];
        let mut e2 = event(2, "Massage");
        e2.phones = vec!["+49 160 7654321".into()];
        let e3 = event(3, "Zwoelfer, Björn – Erstgespräch");
        let mut e4 = event(4, "Tom Schmidt Kontrolle");
        e4.emails = vec!["familie@schmidt.de".into()];
        let e5 = event(5, "Maria Meier");
        let e6 = event(6, "Unbekannt Niemand");
        let mut e7 = event(7, "Urlaub");
        e7.all_day = true;
        let mut e8 = event(8, "Anna Müller");
        e8.recurring = true;
        let mut e9 = event(9, "Anna Müller");
        e9.cancelled = true;
        let mut e10 = event(10, "Anna Müller – Nachsorge");
        e10.uid = "uid-1@praxis".into();
        let plan = plan_calendar_import(
            vec![e1, e2, e3, e4, e5, e6, e7, e8, e9, e10],
            &persons,
            &[],
            &CalendarOptions::default(),
        );
        let m: Vec<(&str, CalendarMatchedBy, &str)> = plan
            .matched
            .iter()
            .map(|m| (m.person.0.as_str(), m.by, m.appointment.kind.as_str()))
            .collect();
        assert_eq!(
            m,
            vec![
                ("p1", CalendarMatchedBy::Email, "Krankengymnastik"),
                ("p2", CalendarMatchedBy::Phone, "Massage"),
                ("p3", CalendarMatchedBy::Name, "Erstgespräch"),
                ("p5", CalendarMatchedBy::Email, "Kontrolle"),
            ]
        );
        assert_eq!(plan.ambiguous.len(), 1);
        assert_eq!(
            plan.ambiguous[0]
                .iter()
                .map(|c| c.person.0.as_str())
                .collect::<Vec<_>>(),
            vec!["p6", "p7"]
        );
        assert_eq!(plan.unmatched.len(), 1);
        assert_eq!(plan.events[plan.unmatched[0].event].number, 6);
        let reasons: Vec<&str> = plan.skipped.iter().map(|s| s.reason.key).collect();
        assert_eq!(
            reasons,
            vec![
                "domain.import.ics.all_day",
                "domain.import.ics.recurring",
                "domain.import.ics.cancelled",
                "domain.import.ics.duplicate",
            ]
        );
        assert!(plan.skipped[3].reason.contains("Termin 1"));
        // Nothing for the ambiguous event until the user chooses.
        assert_eq!(plan.appointments(&HashMap::new()).len(), 4);
        let choice: HashMap<usize, PersonId> = [(4, PersonId("p7".into()))].into();
        let all = plan.appointments(&choice);
        assert_eq!(all.len(), 5);
        assert_eq!(all[4].person_id.0, "p7");
        // The name never stays in the type.
        assert!(all.iter().all(|a| !a.kind.contains("Maria")));
        assert!(plan
            .summary_de()
            .starts_with("10 Termine gelesen: 4 zugeordnet"));
    }

    #[test]
    fn importing_the_same_calendar_again_skips_what_is_there() {
        let persons = vec![person("p1", "Anna", "Müller", "", "")];
        let plan = plan_calendar_import(
            vec![event(1, "Anna Müller")],
            &persons,
            &[],
            &CalendarOptions::default(),
        );
        let stored = plan.appointments(&HashMap::new());
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].id, appointment_id_for_uid("uid-1@praxis"));
        let again = plan_calendar_import(
            vec![event(1, "Anna Müller")],
            &persons,
            &stored,
            &CalendarOptions::default(),
        );
        assert!(again.matched.is_empty());
        assert_eq!(again.skipped[0].reason.key, "domain.import.ics.already");
    }

    #[test]
    fn end_defaults_to_the_default_length() {
        let persons = vec![person("p1", "Anna", "Müller", "", "")];
        let mut e = event(1, "Anna Müller");
        e.end = None;
        let plan = plan_calendar_import(vec![e], &persons, &[], &CalendarOptions::default());
        let a = &plan.matched[0].appointment;
        assert_eq!(a.end - a.start, Duration::minutes(30));
        assert_eq!(a.kind, "");
    }
}
