use chrono::NaiveDate;

use super::*;
use crate::domain::demo;
use crate::domain::{Appointment, PersonRecord, PracticeSettings};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

/// A person exactly as schema 1–2 stored it (the domain's JSON of that time, no version).
const LEGACY_PERSON: &str = r#"{"person":{"id":"p-1","kind":"prospect","title":"Dr.","first_name":"Ayşe","last_name":"Yılmaz","gender":"female","address":{"street":"Venloer Straße","house_number":"212","extra":"","postcode":"50823","city":"Köln","country":""},"email":"ayse@example.org","mobile":"+49 151 1234567","landline":"","tags":["Pilates"],"consents":[{"channel":"sms","purpose":"appointment_reminder","given_at":"2024-03-01","evidence":"written_form","withdrawn_at":"2025-01-02","withdrawn_source":"unsubscribe_link"}],"external_id":"P-10001"},"sensitive":{"birth_date":"1980-02-29","profession":"Lehrerin","insurance_kind":"self_pay","insurance_number":"A123"}}"#;

/// The shortest persons schema 1 accepted: optional fields missing.
const LEGACY_PERSON_MINIMAL: &str = r#"{"person":{"id":"p-2","kind":"patient","first_name":"Jörg","last_name":"Weiß","gender":"unknown"}}"#;

const LEGACY_APPOINTMENT: &str = r#"{"id":"t-1","person_id":"p-1","start":"2026-03-02T09:30:00","end":"2026-03-02T10:00:00","therapist":"Frau Krämer","location":"Raum 2","kind":"Krankengymnastik","status":"cancelled"}"#;

const LEGACY_SETTINGS: &str = r#"{"name":"Physiotherapie Sonnenschein","address":{"street":"Große Straße","house_number":"12a","extra":"","postcode":"50667","city":"Köln","country":""},"phone":"0221 123456","email":"info@example.org","web":"","sender_names":{"email_from_name":"Praxis","sms_sender_id":"Sonne","letter_contact":"Frau Weiß"},"bank_details":"","letter_form":"a"}"#;

fn v1(body: &str) -> Stored {
    Stored {
        v: 1,
        body: body.to_string(),
    }
}

#[test]
fn legacy_rows_read_as_version_1() {
    let p = person::decode(&v1(LEGACY_PERSON)).unwrap();
    assert_eq!(p.person.last_name, "Yılmaz");
    assert_eq!(p.person.kind, crate::domain::Kind::Prospect);
    assert_eq!(p.sensitive.birth_date, NaiveDate::from_ymd_opt(1980, 2, 29));
    assert_eq!(
        p.sensitive.insurance_kind,
        crate::domain::InsuranceKind::SelfPay
    );
    // A version-1 consent reads as its history: granted by the practice, then withdrawn.
    let events = p.person.consents.events(
        crate::domain::Channel::Sms,
        crate::domain::Purpose::AppointmentReminder,
    );
    assert_eq!(
        events,
        [
            crate::domain::ConsentEvent::granted(
                NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
                crate::domain::Evidence::WrittenForm,
                crate::domain::ConsentSource::Practice,
            ),
            crate::domain::ConsentEvent::withdrawn(
                NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
                crate::domain::ConsentSource::UnsubscribeLink,
            ),
        ]
    );
    // The version-1 encoder (for tests of old databases) gives the legacy shape back.
    let old = person::encode_v1(&p).unwrap();
    assert_eq!(old.v, 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&old.body).unwrap(),
        serde_json::from_str::<serde_json::Value>(LEGACY_PERSON).unwrap()
    );
    // Re-encoding writes the current version (consent events, addressing), which reads back
    // as the same record.
    let again = person::encode(&p).unwrap();
    assert_eq!(again.v, person::VERSION);
    assert_eq!(person::decode(&again).unwrap(), p);
    let body: serde_json::Value = serde_json::from_str(&again.body).unwrap();
    assert_eq!(
        body["person"]["consents"][0]["events"][1]["source"],
        "unsubscribe_link"
    );

    let m = person::decode(&v1(LEGACY_PERSON_MINIMAL)).unwrap();
    assert_eq!(m.person.first_name, "Jörg");
    assert_eq!(m.sensitive, Default::default());
    assert!(m.person.consents.is_empty());

    let a = appointment::decode(&v1(LEGACY_APPOINTMENT)).unwrap();
    assert_eq!(a.status, crate::domain::AppointmentStatus::Cancelled);
    assert_eq!(a.person_id.0, "p-1");

    let s = settings::decode(&v1(LEGACY_SETTINGS)).unwrap();
    assert_eq!(s.letter_form, crate::domain::LetterForm::A);
    assert_eq!(s.sender_names.letter_contact, "Frau Weiß");
    // Version 1 had no message labels and no therapist switch: none, and names stay out.
    assert!(s.appointment_labels.is_empty());
    assert!(!s.therapist_in_messages);
    let mut labelled = s.clone();
    labelled
        .appointment_labels
        .insert("Lymphdrainage".into(), "Ihr Termin".into());
    labelled.therapist_in_messages = true;
    let again = settings::encode(&labelled).unwrap();
    assert_eq!(again.v, 3);
    assert_eq!(settings::decode(&again).unwrap(), labelled);
    // Versions 1 and 2 knew no minor age: the default (16); version 3 stores it.
    assert_eq!(s.minor_age, crate::domain::guardian::DEFAULT_MINOR_AGE);
    let v2 = Stored {
        v: 2,
        body: serde_json::to_string(&settings::PracticeSettingsV2::from(&labelled)).unwrap(),
    };
    assert_eq!(settings::decode(&v2).unwrap().minor_age, 16);
    labelled.minor_age = 18;
    let again = settings::encode(&labelled).unwrap();
    assert!(again.body.contains(r#""minor_age":18"#), "{}", again.body);
    assert_eq!(settings::decode(&again).unwrap(), labelled);
}

#[test]
fn domain_values_survive_the_round_trip() {
    let practice = demo::generate(3, today());
    let large = demo::generate_large(300, 4, today());
    for p in practice.persons.iter().chain(&large.persons) {
        let back: PersonRecord = person::decode(&person::encode(p).unwrap()).unwrap();
        assert_eq!(&back, p);
    }
    for a in practice.appointments.iter().chain(&large.appointments) {
        let back: Appointment = appointment::decode(&appointment::encode(a).unwrap()).unwrap();
        assert_eq!(&back, a);
    }
    let back: PracticeSettings =
        settings::decode(&settings::encode(&practice.settings).unwrap()).unwrap();
    assert_eq!(back, practice.settings);
    let doc = serde_json::json!({"name": "Recall", "conditions": [1, null, "ä"]});
    assert_eq!(
        document::decode(&document::encode("q", &doc).unwrap()).unwrap(),
        doc
    );
}

#[test]
fn unknown_versions_and_broken_bodies_are_errors_not_panics() {
    let newer = Stored {
        v: person::VERSION + 1,
        body: LEGACY_PERSON.into(),
    };
    assert_eq!(
        person::decode(&newer),
        Err(DecodeError::UnknownVersion(person::VERSION + 1))
    );
    assert_eq!(
        appointment::decode(&Stored {
            v: 0,
            body: "{}".into()
        }),
        Err(DecodeError::UnknownVersion(0))
    );
    for body in ["", "{", "null", "{\"person\":{}}", "\u{0}\u{1}garbage"] {
        assert!(
            matches!(person::decode(&v1(body)), Err(DecodeError::Malformed(_))),
            "{body:?}"
        );
        assert!(settings::decode(&v1(body)).is_err(), "{body:?}");
    }
    // A status no version knows.
    let odd = LEGACY_APPOINTMENT.replace("cancelled", "postponed");
    assert!(matches!(
        appointment::decode(&v1(&odd)),
        Err(DecodeError::Malformed(_))
    ));
    assert!(document::decode(&v1("{\"a\": ")).is_err());
}

#[test]
fn origins_name_store_key_and_quarantine_key() {
    let o = Origin::Document(Collection::Outbox, "m-1".into());
    assert_eq!(o.store_name(), "outbox");
    assert_eq!(o.quarantine_key(), "outbox/m-1");
    assert_eq!(
        Origin::Person(crate::domain::PersonId("p".into())).quarantine_key(),
        "persons/p"
    );
    assert_eq!(Origin::Settings.quarantine_key(), "settings/practice");
    let u = Unreadable::new(o, v1("{"), DecodeError::Malformed("eof".into()));
    let q = u.quarantined();
    assert_eq!(
        (q.store.as_str(), q.key.as_str(), q.v, q.body.as_str()),
        ("outbox", "m-1", 1, "{")
    );
    assert!(q.error.contains("eof"));
}

/// A person exactly as version 2 stored it (consent events, no salutation).
const V2_PERSON: &str = r#"{"person":{"id":"p-3","kind":"patient","title":"","first_name":"Tim","last_name":"Weber","gender":"male","address":{"street":"Lindenstraße","house_number":"1","extra":"","postcode":"10115","city":"Berlin","country":""},"email":"tim@example.org","mobile":"","landline":"","tags":[],"consents":[{"channel":"email","purpose":"appointment_reminder","events":[{"action":"granted","date":"2025-02-01","evidence":"written_form","source":"practice"}]}],"external_id":null},"sensitive":{"birth_date":null,"profession":"","insurance_kind":"unknown","insurance_number":""}}"#;

#[test]
fn version_2_reads_forward_to_version_3_with_salutation_and_du() {
    let old = Stored {
        v: 2,
        body: V2_PERSON.to_string(),
    };
    let mut p = person::decode(&old).unwrap();
    // Version 2 knew no salutation: by etiquette, formal.
    assert_eq!(p.person.salutation, "");
    assert!(!p.person.du);
    assert_eq!(p.person.first_name, "Tim");
    assert_eq!(
        p.person
            .consents
            .events(
                crate::domain::Channel::Email,
                crate::domain::Purpose::AppointmentReminder
            )
            .len(),
        1
    );
    // The version-2 encoder gives the old shape back.
    let v2 = person::encode_v2(&p).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&v2.body).unwrap(),
        serde_json::from_str::<serde_json::Value>(V2_PERSON).unwrap()
    );
    // Unchanged addressing is left out of version 3: the body is version 2's.
    let v3 = person::encode_v3(&p).unwrap();
    assert_eq!(v3.v, 3);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&v3.body).unwrap(),
        serde_json::from_str::<serde_json::Value>(V2_PERSON).unwrap()
    );
    // Salutation and Du are stored in version 3 and read back.
    p.person.salutation = "Hallo Tim".into();
    p.person.du = true;
    let v3 = person::encode_v3(&p).unwrap();
    let body: serde_json::Value = serde_json::from_str(&v3.body).unwrap();
    assert_eq!(body["addressing"]["salutation"], "Hallo Tim");
    assert_eq!(body["addressing"]["du"], true);
    assert_eq!(person::decode(&v3).unwrap(), p);
    // A version-2 reader's shape never had them: written as version 2 they are lost, which is
    // why the version changed.
    let lossy = person::decode(&person::encode_v2(&p).unwrap()).unwrap();
    assert_eq!(lossy.person.salutation, "");
    assert!(!lossy.person.du);
}

/// Version 4 adds the guardians: a version-3 record reads without any, and without guardians
/// the version-4 body is version 3's; guardians (own address, consents) are stored and read
/// back, and a version-3 writer would lose them (why the version changed).
#[test]
fn version_3_reads_without_guardians_and_version_4_keeps_them() {
    use crate::domain::{Channel, Evidence, Gender, Guardian, PostalAddress, Purpose};
    let old = Stored {
        v: 2,
        body: V2_PERSON.to_string(),
    };
    let mut p = person::decode(&old).unwrap();
    let v3 = person::encode_v3(&p).unwrap();
    let from_v3 = person::decode(&v3).unwrap();
    assert!(from_v3.person.guardians.is_empty());
    assert_eq!(from_v3, p);
    let v4 = person::encode(&p).unwrap();
    assert_eq!(v4.v, 4);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&v4.body).unwrap(),
        serde_json::from_str::<serde_json::Value>(&v3.body).unwrap()
    );
    let mut anna = Guardian {
        first_name: "Anna".into(),
        last_name: "Weber".into(),
        gender: Gender::Female,
        address: Some(PostalAddress {
            street: "Ringstraße".into(),
            house_number: "12".into(),
            postcode: "53111".into(),
            city: "Bonn".into(),
            ..Default::default()
        }),
        email: "anna@example.org".into(),
        mobile: "0171 5550001".into(),
        ..Default::default()
    };
    anna.consents.grant(
        Channel::Email,
        Purpose::Recall,
        chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        Evidence::WrittenForm,
    );
    p.person.guardians = vec![
        anna,
        Guardian {
            email: "eltern@example.org".into(),
            ..Default::default()
        },
    ];
    let v4 = person::encode(&p).unwrap();
    let body: serde_json::Value = serde_json::from_str(&v4.body).unwrap();
    assert_eq!(body["guardians"][0]["first_name"], "Anna");
    assert_eq!(body["guardians"][0]["address"]["city"], "Bonn");
    assert!(body["guardians"][1].get("address").is_none());
    assert_eq!(person::decode(&v4).unwrap(), p);
    let mut packed = String::new();
    person::encode_into(&p, &mut packed).unwrap();
    assert_eq!(packed, v4.body);
    let lossy = person::decode(&person::encode_v3(&p).unwrap()).unwrap();
    assert!(lossy.person.guardians.is_empty());
}
