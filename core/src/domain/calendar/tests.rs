use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::domain::model::{AppointmentId, AppointmentStatus, PersonId, PostalAddress};

fn appointment(id: &str) -> Appointment {
    let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    Appointment {
        id: AppointmentId(id.into()),
        person_id: PersonId("p1".into()),
        start: day.and_hms_opt(9, 30, 0).unwrap(),
        end: day.and_hms_opt(10, 15, 0).unwrap(),
        therapist: "Dr. Kranich".into(),
        location: "Raum 2".into(),
        kind: "Lymphdrainage".into(),
        status: AppointmentStatus::Planned,
    }
}

fn practice() -> PracticeSettings {
    PracticeSettings {
        name: "Praxis Sonnenschein".into(),
        address: PostalAddress {
            street: "Lindenstraße".into(),
            house_number: "12".into(),
            postcode: "50667".into(),
            city: "Köln".into(),
            ..Default::default()
        },
        phone: "0221 123456".into(),
        email: "info@praxis-sonnenschein.de".into(),
        ..Default::default()
    }
}

fn stamp() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 8, 0, 0).unwrap()
}

/// The unfolded content lines.
fn lines(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_event_holds_the_exact_time_and_the_practice_address() {
    let ics = reminder_event(&appointment("A-17"), &practice(), Language::De, stamp());
    let l = lines(&ics);
    for want in [
        "BEGIN:VCALENDAR",
        "METHOD:PUBLISH",
        "TZID:Europe/Berlin",
        "UID:termin-A-17@praxis-sonnenschein.de",
        "DTSTAMP:20261206T080000Z",
        "DTSTART;TZID=Europe/Berlin:20261207T093000",
        "DTEND;TZID=Europe/Berlin:20261207T101500",
        "SUMMARY:Termin – Praxis Sonnenschein",
        "LOCATION:Praxis Sonnenschein\\, Lindenstraße 12\\, 50667 Köln",
        "END:VCALENDAR",
    ] {
        assert!(l.iter().any(|x| x == want), "missing {want:?} in\n{ics}");
    }
    assert_eq!(l.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(l.last().map(String::as_str), Some("END:VCALENDAR"));
    let en = lines(&reminder_event(
        &appointment("A-17"),
        &practice(),
        Language::En,
        stamp(),
    ));
    assert!(en.contains(&"SUMMARY:Appointment – Praxis Sonnenschein".to_owned()));
}

#[test]
fn no_treatment_data_reaches_the_calendar() {
    let mut a = appointment("A-1");
    a.kind = "Psychotherapie Depression".into();
    a.therapist = "Dr. Kranich".into();
    a.location = "Raum Trauma".into();
    let ics = reminder_event(&a, &practice(), Language::De, stamp());
    for secret in [
        "Psychotherapie",
        "Depression",
        "Kranich",
        "Raum Trauma",
        "p1",
    ] {
        assert!(!ics.contains(secret), "{secret:?} leaked into\n{ics}");
    }
}

#[test]
fn lines_end_in_crlf_and_fold_at_75_octets_without_splitting_characters() {
    let mut p = practice();
    p.name =
        "Gemeinschaftspraxis für Physiotherapie, Ergotherapie und Logopädie Müller & Söhne".into();
    p.address.street = "Straße des Siebzehnten Juni; Hinterhof".into();
    let ics = reminder_event(&appointment("A-2"), &p, Language::De, stamp());
    assert!(ics.ends_with("\r\n"));
    assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF in\n{ics}");
    for physical in ics.split("\r\n") {
        assert!(
            physical.len() <= 75,
            "{} octets: {physical:?}",
            physical.len()
        );
    }
    // Folding loses nothing, and TEXT escaping applies.
    let l = lines(&ics);
    let location = l.iter().find(|x| x.starts_with("LOCATION:")).unwrap();
    assert_eq!(
        location,
        "LOCATION:Gemeinschaftspraxis für Physiotherapie\\, Ergotherapie und Logopädie \
         Müller & Söhne\\, Straße des Siebzehnten Juni\\; Hinterhof 12\\, 50667 Köln"
    );
}

#[test]
fn uid_is_stable_per_appointment_and_safe() {
    let a = reminder_event(&appointment("7 / 2026"), &practice(), Language::De, stamp());
    let later = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
    let b = reminder_event(&appointment("7 / 2026"), &practice(), Language::De, later);
    let uid = |s: &str| {
        lines(s)
            .into_iter()
            .find(|l| l.starts_with("UID:"))
            .unwrap()
    };
    assert_eq!(uid(&a), uid(&b));
    assert_eq!(uid(&a), "UID:termin-7___2026@praxis-sonnenschein.de");
    let mut p = practice();
    p.email.clear();
    let c = reminder_event(&appointment("9"), &p, Language::De, stamp());
    assert_eq!(uid(&c), "UID:termin-9@praxisbote.invalid");
}

#[test]
fn an_appointment_without_an_end_ends_when_it_starts() {
    let mut a = appointment("A-3");
    a.end = a.start - chrono::Duration::minutes(5);
    let l = lines(&reminder_event(&a, &practice(), Language::De, stamp()));
    assert!(l.contains(&"DTEND;TZID=Europe/Berlin:20261207T093000".to_owned()));
}

#[test]
fn only_email_reminders_carry_the_entry() {
    use crate::domain::model::{Channel, Purpose};
    assert!(is_attached(Channel::Email, Purpose::AppointmentReminder));
    assert!(!is_attached(Channel::Sms, Purpose::AppointmentReminder));
    assert!(!is_attached(Channel::Letter, Purpose::AppointmentReminder));
    assert!(!is_attached(Channel::Email, Purpose::Birthday));
}
