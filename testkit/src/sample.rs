//! Sample data for tests. Persons come from the one person generator of praxisbote
//! (`domain::demo::generate_person`); the small builders make records with exactly the
//! fields a test is about.

use chrono::{NaiveDate, NaiveDateTime};
use praxisbote::domain::demo;
use praxisbote::domain::{
    Appointment, AppointmentId, AppointmentStatus, LetterForm, Person, PersonId, PersonRecord,
    PostalAddress, PracticeSettings, SenderNames, Sensitive,
};

/// The seed and day of the sample persons.
pub const SEED: u64 = 0x5A3;

pub fn today() -> NaiveDate {
    d(2026, 11, 26)
}

/// Sample person number `i`: always the same record (the demo generator's person `i` of
/// seed [`SEED`]); every 7th is a prospect.
pub fn sample_person(i: u64) -> PersonRecord {
    demo::generate_person(SEED, i, today())
}

/// `n` sample persons starting at number `start`.
pub fn sample_persons(start: u64, n: usize) -> Vec<PersonRecord> {
    (start..start + n as u64).map(sample_person).collect()
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

pub fn dt(y: i32, m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
    d(y, m, day)
        .and_hms_opt(h, min, 0)
        .expect("valid test time")
}

pub fn pid(s: &str) -> PersonId {
    PersonId(s.into())
}

/// A person with only an id and a name.
pub fn person(id: &str, first: &str, last: &str) -> PersonRecord {
    PersonRecord {
        person: Person {
            id: PersonId(id.into()),
            first_name: first.into(),
            last_name: last.into(),
            ..Default::default()
        },
        sensitive: Sensitive::default(),
    }
}

pub fn with_birthday(mut p: PersonRecord, date: NaiveDate) -> PersonRecord {
    p.sensitive.birth_date = Some(date);
    p
}

/// A planned 30-minute appointment.
pub fn appointment(id: &str, person: &str, start: NaiveDateTime) -> Appointment {
    Appointment {
        id: AppointmentId(id.into()),
        person_id: PersonId(person.into()),
        start,
        end: start + chrono::Duration::minutes(30),
        therapist: "Frau Krämer".into(),
        location: "Raum 2".into(),
        kind: "Krankengymnastik".into(),
        status: AppointmentStatus::Planned,
    }
}

/// `n` appointments (n ≤ persons) over 1–3 March 2026, one per person.
pub fn sample_appointments(people: &[PersonRecord], n: u32) -> Vec<Appointment> {
    (0..n)
        .map(|i| {
            let start = dt(2026, 3, 1 + i % 3, 8 + i / 3, 0);
            let mut a = appointment(&format!("t{i:02}"), &people[i as usize].person.id.0, start);
            a.location = "Raum 1".into();
            a
        })
        .collect()
}

/// Practice settings with umlauts in every field.
pub fn settings() -> PracticeSettings {
    PracticeSettings {
        name: "Physiotherapie Sonnenschein".into(),
        address: PostalAddress {
            street: "Große Straße".into(),
            house_number: "12a".into(),
            extra: String::new(),
            postcode: "50667".into(),
            city: "Köln".into(),
            country: String::new(),
        },
        phone: "0221 123456".into(),
        email: "info@praxis-sonnenschein.de".into(),
        web: "https://praxis-sonnenschein.de".into(),
        sender_names: SenderNames {
            email_from_name: "Praxis Sonnenschein".into(),
            sms_sender_id: "Sonnensch".into(),
            letter_contact: "Frau Weiß".into(),
        },
        bank_details: String::new(),
        letter_form: LetterForm::A,
        appointment_labels: [("Rückenschule".into(), "Kurs Rückenschule".into())].into(),
        therapist_in_messages: true,
        minor_age: 16,
    }
}

/// `persons` in the order stores list them: by id (UTF-16 order, like IndexedDB).
pub fn by_id(persons: &[PersonRecord]) -> Vec<PersonRecord> {
    let mut v = persons.to_vec();
    v.sort_by(|a, b| praxisbote::storage::keys::cmp_js(&a.person.id.0, &b.person.id.0));
    v
}

/// `appointments` in the order stores list them: by start, then id.
pub fn by_start(appointments: &[Appointment]) -> Vec<Appointment> {
    let mut v = appointments.to_vec();
    v.sort_by(|a, b| (a.start, &a.id.0).cmp(&(b.start, &b.id.0)));
    v
}

/// Ids of persons, in order.
pub fn ids(v: &[PersonRecord]) -> Vec<&str> {
    v.iter().map(|p| p.person.id.0.as_str()).collect()
}

/// Ids of appointments, in order.
pub fn appt_ids(v: &[Appointment]) -> Vec<&str> {
    v.iter().map(|a| a.id.0.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_persons_are_deterministic_valid_and_varied() {
        let a = sample_persons(0, 200);
        assert_eq!(a, sample_persons(0, 200));
        assert_eq!(sample_person(150), a[150]);
        assert!(a
            .iter()
            .all(|p| praxisbote::storage::validate_person(p).is_ok()));
        assert!(a.iter().any(|p| p.sensitive.birth_date.is_none()));
        assert!(a.iter().any(|p| !p.person.tags.is_empty()));
        let distinct_last: std::collections::HashSet<_> =
            a.iter().map(|p| &p.person.last_name).collect();
        assert!(distinct_last.len() > 10);
        let ids: std::collections::HashSet<_> = a.iter().map(|p| &p.person.id).collect();
        assert_eq!(ids.len(), 200);
    }
}
