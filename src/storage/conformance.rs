//! The one conformance suite every [`Store`] implementation must pass.
//!
//! Each case is an async function taking a fresh, empty `&dyn Store`; it panics on a
//! mismatch. [`for_each_case!`](crate::for_each_storage_case) lists every case once, so the
//! native test (memory store, `pollster`) and the browser test (IndexedDB,
//! `tests/storage_idb.rs`) always run the same set.
//!
//! Also home of [`sample_person`], a small deterministic person generator for tests and
//! benchmarks (not the demo practice).

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use super::keys::MonthDay;
use super::{Collection, Doc, DocOp, Store, StoreError, StoreExt, WriteBatch};
use crate::domain::{
    Appointment, AppointmentId, AppointmentStatus, Channel, Evidence, Gender, InsuranceKind, Kind,
    LetterForm, Person, PersonId, PersonRecord, PostalAddress, PracticeSettings, Purpose,
    SenderNames, Sensitive,
};

/// Calls `$m!(case_name)` for every conformance case.
#[macro_export]
macro_rules! for_each_storage_case {
    ($m:ident) => {
        $m!(persons_round_trip);
        $m!(failed_person_batch_leaves_nothing);
        $m!(failed_appointment_batch_leaves_nothing);
        $m!(mixed_batch_is_atomic);
        $m!(failed_clear_keeps_everything);
        $m!(kind_and_tag_indices);
        $m!(birthday_index_wraps_year_end);
        $m!(name_prefix_index_folds);
        $m!(replacing_a_record_moves_index_entries);
        $m!(appointments_by_day_and_person);
        $m!(delete_person_cascades);
        $m!(settings_round_trip);
        $m!(documents);
        $m!(large_doc_batch_is_atomic);
        $m!(empty_and_clear_all);
    };
}

// ---------------------------------------------------------------------------------------
// Deterministic sample data
// ---------------------------------------------------------------------------------------

const FIRST: [&str; 16] = [
    "Anna",
    "Jürgen",
    "Ayşe",
    "Łukasz",
    "Eleni",
    "Mehmet",
    "Sophie",
    "Grzegorz",
    "Dimitrios",
    "Zoë",
    "Emre",
    "Małgorzata",
    "Heinz-Günter",
    "Yıldız",
    "Katarzyna",
    "Jörg",
];
const LAST: [&str; 16] = [
    "Müller",
    "Schäfer",
    "Yılmaz",
    "Wójcik",
    "Papadopoulos",
    "Öztürk",
    "Weiß",
    "Kowalski",
    "Nikolaidis",
    "Groß",
    "Şahin",
    "Krämer",
    "Zieliński",
    "Demir",
    "Böhm",
    "Georgiou",
];
const STREETS: [&str; 8] = [
    "Hauptstraße",
    "Lindenallee",
    "Am Mühlbach",
    "Königsweg",
    "Bahnhofstraße",
    "Schloßgasse",
    "Ringstraße",
    "Gartenweg",
];
const CITIES: [(&str, &str); 4] = [
    ("50667", "Köln"),
    ("80331", "München"),
    ("20095", "Hamburg"),
    ("04109", "Leipzig"),
];
const TAGS: [&str; 6] = [
    "Rücken",
    "Knie",
    "Schulter",
    "Sport",
    "Senioren",
    "Lymphdrainage",
];

fn mix(i: u64) -> u64 {
    // SplitMix64: cheap, deterministic, good spread.
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<T: Copy>(xs: &[T], r: u64) -> T {
    xs[(r % xs.len() as u64) as usize]
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

fn dt(y: i32, m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
    d(y, m, day)
        .and_hms_opt(h, min, 0)
        .expect("valid test time")
}

/// A deterministic, realistic person number `i` (id `p-{i:07}`): German, Turkish, Polish
/// and Greek names, an address, contact data, consents, tags and sensitive data. Every 10th
/// person has no birth date; every 4th is a prospect.
pub fn sample_person(i: u64) -> PersonRecord {
    let r = mix(i);
    let first = pick(&FIRST, r);
    let last = pick(&LAST, r >> 8);
    let (postcode, city) = pick(&CITIES, r >> 16);
    let mut person = Person {
        id: PersonId(format!("p-{i:07}")),
        kind: if i % 4 == 3 {
            Kind::Prospect
        } else {
            Kind::Patient
        },
        title: if r.is_multiple_of(17) {
            "Dr.".into()
        } else {
            String::new()
        },
        first_name: first.into(),
        last_name: last.into(),
        gender: pick(&Gender::ALL, r >> 20),
        address: PostalAddress {
            street: pick(&STREETS, r >> 24).into(),
            house_number: format!("{}", 1 + (r >> 28) % 120),
            extra: String::new(),
            postcode: postcode.into(),
            city: city.into(),
            country: String::new(),
        },
        email: if r.is_multiple_of(5) {
            String::new()
        } else {
            format!("person{i}@example.org")
        },
        mobile: format!("+49 151 {:08}", (r >> 32) % 100_000_000),
        landline: String::new(),
        tags: (0..(r >> 36) % 3)
            .map(|k| pick(&TAGS, (r >> 40) + k).to_string())
            .collect(),
        consents: Default::default(),
        external_id: Some(format!("EXT{i}")),
    };
    let given = d(
        2024,
        1 + ((r >> 44) % 12) as u32,
        1 + ((r >> 48) % 28) as u32,
    );
    person.consents.grant(
        Channel::Sms,
        Purpose::AppointmentReminder,
        given,
        Evidence::WrittenForm,
    );
    if r.is_multiple_of(3) {
        person.consents.grant(
            Channel::Email,
            Purpose::Birthday,
            given,
            Evidence::DoubleOptIn,
        );
    }
    let birth_date = if i % 10 == 9 {
        None
    } else {
        let year = 1935 + ((r >> 50) % 70) as i32;
        let ordinal = 1 + ((r >> 52) % 365) as u32;
        NaiveDate::from_yo_opt(year, ordinal)
    };
    PersonRecord {
        person,
        sensitive: Sensitive {
            birth_date,
            profession: if r.is_multiple_of(2) {
                "Lehrerin".into()
            } else {
                String::new()
            },
            insurance_kind: pick(&InsuranceKind::ALL, r >> 56),
            insurance_number: format!("A{:09}", r % 1_000_000_000),
        },
    }
}

/// `n` sample persons starting at number `start`.
pub fn sample_persons(start: u64, n: usize) -> Vec<PersonRecord> {
    (start..start + n as u64).map(sample_person).collect()
}

fn person(id: &str, first: &str, last: &str) -> PersonRecord {
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

fn with_birthday(mut p: PersonRecord, date: NaiveDate) -> PersonRecord {
    p.sensitive.birth_date = Some(date);
    p
}

fn appointment(id: &str, person: &str, start: NaiveDateTime) -> Appointment {
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

fn ids(v: &[PersonRecord]) -> Vec<&str> {
    v.iter().map(|p| p.person.id.0.as_str()).collect()
}

fn appt_ids(v: &[Appointment]) -> Vec<&str> {
    v.iter().map(|a| a.id.0.as_str()).collect()
}

fn pid(s: &str) -> PersonId {
    PersonId(s.into())
}

fn settings() -> PracticeSettings {
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
    }
}

/// Snapshot of everything observable, to prove a failed write changed nothing.
async fn snapshot(s: &dyn Store) -> String {
    let mut out = format!("{:?}\n", s.all_persons().await.expect("all_persons"));
    out += &format!(
        "{:?}\n",
        s.appointments_between(d(1900, 1, 1), d(2999, 12, 31))
            .await
            .expect("appointments")
    );
    out += &format!("{:?}\n", s.settings().await.expect("settings"));
    for c in Collection::ALL {
        out += &format!("{:?}\n", s.list_docs(c).await.expect("list_docs"));
    }
    // Index entries must be unchanged too.
    out += &format!("{:?}\n", ids(&s.persons_by_name_prefix("").await.unwrap()));
    out += &format!("{:?}\n", ids(&s.persons_by_tag("rücken").await.unwrap()));
    out
}

// ---------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------

pub async fn persons_round_trip(s: &dyn Store) {
    let people = vec![sample_person(3), sample_person(1), sample_person(2)];
    s.put_persons(&people).await.unwrap();
    for p in &people {
        assert_eq!(s.get_person(p.id()).await.unwrap().as_ref(), Some(p));
    }
    assert_eq!(s.get_person(&pid("p-nope")).await.unwrap(), None);
    let all = s.all_persons().await.unwrap();
    assert_eq!(ids(&all), ["p-0000001", "p-0000002", "p-0000003"]);
    assert_eq!(all[0], people[1], "full record survives the round trip");
    assert_eq!(s.count_persons().await.unwrap(), 3);

    // Put replaces.
    let mut changed = people[0].clone();
    changed.person.email = "neu@example.org".into();
    changed.sensitive.profession = "Bäckerin".into();
    s.put_persons(std::slice::from_ref(&changed)).await.unwrap();
    assert_eq!(s.get_person(changed.id()).await.unwrap(), Some(changed));
    assert_eq!(s.count_persons().await.unwrap(), 3);

    // A larger batch in one go.
    let many = sample_persons(100, 500);
    s.put_persons(&many).await.unwrap();
    assert_eq!(s.count_persons().await.unwrap(), 503);
    assert_eq!(
        s.get_person(many[321].id()).await.unwrap().as_ref(),
        Some(&many[321])
    );
}

pub async fn failed_person_batch_leaves_nothing(s: &dyn Store) {
    let base = sample_person(1);
    s.put_persons(std::slice::from_ref(&base)).await.unwrap();
    let before = snapshot(s).await;

    // A modified existing record first, then new ones, an invalid one in the middle.
    let mut batch = vec![{
        let mut p = base.clone();
        p.person.last_name = "Geändert".into();
        p.person.tags = vec!["Rücken".into()];
        p
    }];
    batch.extend(sample_persons(10, 40));
    let mut bad = sample_person(999);
    bad.person.first_name.clear();
    bad.person.last_name = "  ".into();
    batch.insert(20, bad);
    batch.extend(sample_persons(60, 40));

    let err = s.put_persons(&batch).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { what: "Person", id, .. } if id == "p-0000999"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("Es wurde nichts gespeichert"),
        "{err}"
    );
    assert_eq!(snapshot(s).await, before);
    assert_eq!(s.get_person(base.id()).await.unwrap(), Some(base));

    // An empty id fails too, also as the very last record.
    let mut batch = sample_persons(200, 10);
    let mut no_id = sample_person(300);
    no_id.person.id = PersonId(String::new());
    batch.push(no_id);
    assert!(matches!(
        s.put_persons(&batch).await,
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(snapshot(s).await, before);
}

pub async fn failed_appointment_batch_leaves_nothing(s: &dyn Store) {
    s.put_persons(&[person("a", "Anna", "Alt")]).await.unwrap();
    s.put_appointments(&[appointment("t0", "a", dt(2026, 3, 2, 9, 0))])
        .await
        .unwrap();
    let before = snapshot(s).await;

    // New persons, appointments for them, and one appointment for a person nobody knows.
    let persons = vec![person("b", "Berta", "Neu"), person("c", "Cem", "Neu")];
    let appointments = vec![
        appointment("t1", "b", dt(2026, 3, 2, 10, 0)),
        appointment("t2", "a", dt(2026, 3, 3, 10, 0)),
        appointment("t3", "ghost", dt(2026, 3, 3, 11, 0)),
        appointment("t4", "c", dt(2026, 3, 4, 10, 0)),
    ];
    let err = s
        .write(WriteBatch {
            persons: &persons,
            appointments: &appointments,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::UnknownPerson {
            appointment: "t3".into(),
            person: "ghost".into()
        }
    );
    assert_eq!(snapshot(s).await, before);

    // An appointment for a person deleted by the same batch is unknown, too.
    let err = s
        .write(WriteBatch {
            delete_persons: &[pid("a")],
            appointments: &[appointment("t5", "a", dt(2026, 3, 5, 8, 0))],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownPerson { .. }), "{err:?}");
    assert_eq!(snapshot(s).await, before);

    // Ending before the start is invalid.
    let mut backwards = appointment("t6", "a", dt(2026, 3, 5, 8, 0));
    backwards.end = dt(2026, 3, 5, 7, 0);
    let err = s
        .put_appointments(&[appointment("t7", "a", dt(2026, 3, 6, 8, 0)), backwards])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid { what: "Termin", .. }),
        "{err:?}"
    );
    assert_eq!(snapshot(s).await, before);
}

pub async fn mixed_batch_is_atomic(s: &dyn Store) {
    let persons = sample_persons(1, 20);
    let appointments: Vec<Appointment> = persons
        .iter()
        .enumerate()
        .map(|(k, p)| {
            appointment(
                &format!("t{k:02}"),
                &p.person.id.0,
                dt(2026, 4, 1 + (k % 5) as u32, 8 + (k % 8) as u32, 0),
            )
        })
        .collect();
    let practice = settings();
    let mut docs = vec![
        DocOp::Put {
            collection: Collection::Templates,
            key: "geburtstag".into(),
            value: json!({"name": "Geburtstagsgruß", "body": "Liebe {{vorname}} …"}),
        },
        DocOp::Put {
            collection: Collection::Meta,
            key: "demo".into(),
            value: json!(true),
        },
        DocOp::Put {
            collection: Collection::Outbox,
            key: "".into(),
            value: json!({"broken": true}),
        },
    ];
    fn batch<'a>(
        persons: &'a [PersonRecord],
        appointments: &'a [Appointment],
        practice: &'a PracticeSettings,
        docs: &'a [DocOp],
    ) -> WriteBatch<'a> {
        WriteBatch {
            persons,
            appointments,
            settings: Some(practice),
            docs,
            ..Default::default()
        }
    }
    let before = snapshot(s).await;
    let err = s
        .write(batch(&persons, &appointments, &practice, &docs))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                what: "Dokument",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(snapshot(s).await, before);
    assert!(s.is_empty().await.unwrap());

    docs.pop();
    s.write(batch(&persons, &appointments, &practice, &docs))
        .await
        .unwrap();
    assert_eq!(s.count_persons().await.unwrap(), 20);
    assert_eq!(
        s.appointments_between(d(2026, 4, 1), d(2026, 4, 30))
            .await
            .unwrap()
            .len(),
        20
    );
    assert_eq!(s.settings().await.unwrap(), Some(practice.clone()));
    assert_eq!(
        s.get_doc(Collection::Meta, "demo").await.unwrap(),
        Some(json!(true))
    );
}

pub async fn failed_clear_keeps_everything(s: &dyn Store) {
    s.put_persons(&sample_persons(0, 30)).await.unwrap();
    s.put_settings(&settings()).await.unwrap();
    s.put_docs(
        Collection::Queries,
        &[Doc {
            key: "q1".into(),
            value: json!({"kind": "patient"}),
        }],
    )
    .await
    .unwrap();
    let before = snapshot(s).await;
    let mut bad = sample_person(50);
    bad.person.id = PersonId("\u{0}".into());
    let err = s
        .write(WriteBatch {
            clear_all: true,
            persons: &[sample_person(40), bad],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(snapshot(s).await, before);

    // The same replacement without the bad record: only the new data remains.
    s.write(WriteBatch {
        clear_all: true,
        persons: &[sample_person(40)],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&s.all_persons().await.unwrap()), ["p-0000040"]);
    assert_eq!(s.settings().await.unwrap(), None);
    assert!(s.list_docs(Collection::Queries).await.unwrap().is_empty());
}

pub async fn kind_and_tag_indices(s: &dyn Store) {
    let mut a = person("a", "Anna", "Arslan");
    a.person.tags = vec!["Rücken".into(), "Sport".into(), "rücken".into()];
    let mut b = person("b", "Bernd", "Böhm");
    b.person.kind = Kind::Prospect;
    b.person.tags = vec!["Rucken".into()];
    let mut c = person("c", "Cem", "Çelik");
    c.person.tags = vec!["Knie".into()];
    let mut dd = person("d", "Dora", "Dąbrowska");
    dd.person.kind = Kind::Prospect;
    s.put_persons(&[dd, c, b, a]).await.unwrap();

    assert_eq!(
        ids(&s.persons_by_kind(Kind::Patient).await.unwrap()),
        ["a", "c"]
    );
    assert_eq!(
        ids(&s.persons_by_kind(Kind::Prospect).await.unwrap()),
        ["b", "d"]
    );
    // Tags are compared folded; a person with a tag twice is found once.
    assert_eq!(ids(&s.persons_by_tag("RÜCKEN").await.unwrap()), ["a", "b"]);
    assert_eq!(ids(&s.persons_by_tag("rucken").await.unwrap()), ["a", "b"]);
    assert_eq!(ids(&s.persons_by_tag("Sport").await.unwrap()), ["a"]);
    assert_eq!(ids(&s.persons_by_tag("knie").await.unwrap()), ["c"]);
    assert!(s.persons_by_tag("Schulter").await.unwrap().is_empty());
    assert!(s.persons_by_tag("").await.unwrap().is_empty());
}

pub async fn birthday_index_wraps_year_end(s: &dyn Store) {
    let people = vec![
        with_birthday(person("dec31", "A", "Silvester"), d(1970, 12, 31)),
        with_birthday(person("jan01", "B", "Neujahr"), d(1985, 1, 1)),
        with_birthday(person("dec20", "C", "Advent"), d(2001, 12, 20)),
        with_birthday(person("jan10", "D", "Januar"), d(1999, 1, 10)),
        with_birthday(person("jan11", "E", "Januar"), d(1999, 1, 11)),
        with_birthday(person("feb29", "F", "Schalt"), d(1996, 2, 29)),
        with_birthday(person("mar01", "G", "März"), d(1950, 3, 1)),
        with_birthday(person("dec19", "H", "Dezember"), d(1960, 12, 19)),
        with_birthday(person("a-dec31", "I", "Silvester"), d(1990, 12, 31)),
        person("none", "J", "Ohne"),
    ];
    s.put_persons(&people).await.unwrap();
    let md = |m, day| MonthDay::new(m, day).unwrap();

    assert_eq!(
        ids(&s.persons_by_birthday(md(12, 20), md(1, 10)).await.unwrap()),
        ["dec20", "a-dec31", "dec31", "jan01", "jan10"]
    );
    assert_eq!(
        ids(&s.persons_by_birthday(md(2, 28), md(3, 1)).await.unwrap()),
        ["feb29", "mar01"]
    );
    assert_eq!(
        ids(&s.persons_by_birthday(md(2, 29), md(2, 29)).await.unwrap()),
        ["feb29"]
    );
    assert_eq!(
        ids(&s.persons_by_birthday(md(1, 1), md(1, 1)).await.unwrap()),
        ["jan01"]
    );
    assert_eq!(
        s.persons_by_birthday(MonthDay::FIRST, MonthDay::LAST)
            .await
            .unwrap()
            .len(),
        9,
        "everybody with a birth date, nobody without"
    );
}

pub async fn name_prefix_index_folds(s: &dyn Store) {
    let people = vec![
        person("1", "Anna", "Müller"),
        person("2", "Bernd", "Mueller"),
        person("3", "Jörg", "Muller"),
        person("4", "Ayşe", "Yılmaz"),
        person("5", "Łukasz", "Łęcki"),
        person("6", "Anton", "Müller"),
        person("7", "Eleni", "Papadopoulou"),
    ];
    s.put_persons(&people).await.unwrap();
    // "muller anna" < "muller anton" < "muller jorg" (ids break no tie here).
    assert_eq!(
        ids(&s.persons_by_name_prefix("Mül").await.unwrap()),
        ["1", "6", "3"]
    );
    assert_eq!(
        ids(&s.persons_by_name_prefix("MULLER AN").await.unwrap()),
        ["1", "6"]
    );
    assert_eq!(ids(&s.persons_by_name_prefix("mue").await.unwrap()), ["2"]);
    assert_eq!(ids(&s.persons_by_name_prefix("yil").await.unwrap()), ["4"]);
    assert_eq!(
        ids(&s.persons_by_name_prefix("Lecki").await.unwrap()),
        ["5"]
    );
    assert!(s.persons_by_name_prefix("anna").await.unwrap().is_empty());
    assert_eq!(s.persons_by_name_prefix("").await.unwrap().len(), 7);
    assert_eq!(ids(&s.persons_by_name_prefix("  ").await.unwrap()).len(), 7);
}

pub async fn replacing_a_record_moves_index_entries(s: &dyn Store) {
    let mut p = with_birthday(person("x", "Anna", "Müller"), d(1980, 5, 5));
    p.person.tags = vec!["Knie".into()];
    s.put_persons(std::slice::from_ref(&p)).await.unwrap();
    p.person.last_name = "Schmidt".into();
    p.person.kind = Kind::Prospect;
    p.person.tags = vec!["Schulter".into()];
    p.sensitive.birth_date = None;
    s.put_persons(std::slice::from_ref(&p)).await.unwrap();

    assert!(s.persons_by_name_prefix("muller").await.unwrap().is_empty());
    assert_eq!(
        ids(&s.persons_by_name_prefix("schmidt").await.unwrap()),
        ["x"]
    );
    assert!(s.persons_by_tag("knie").await.unwrap().is_empty());
    assert_eq!(ids(&s.persons_by_tag("schulter").await.unwrap()), ["x"]);
    assert!(s.persons_by_kind(Kind::Patient).await.unwrap().is_empty());
    assert!(s
        .persons_by_birthday(MonthDay::FIRST, MonthDay::LAST)
        .await
        .unwrap()
        .is_empty());

    // Appointments move between days when replaced.
    s.put_appointments(&[appointment("t", "x", dt(2026, 5, 1, 9, 0))])
        .await
        .unwrap();
    s.put_appointments(&[appointment("t", "x", dt(2026, 5, 7, 9, 0))])
        .await
        .unwrap();
    assert!(s
        .appointments_between(d(2026, 5, 1), d(2026, 5, 1))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        appt_ids(
            &s.appointments_between(d(2026, 5, 7), d(2026, 5, 7))
                .await
                .unwrap()
        ),
        ["t"]
    );
}

pub async fn appointments_by_day_and_person(s: &dyn Store) {
    s.put_persons(&[person("a", "Anna", "A"), person("b", "Berta", "B")])
        .await
        .unwrap();
    let appts = vec![
        appointment("z-late", "a", dt(2026, 3, 2, 17, 30)),
        appointment("early", "b", dt(2026, 3, 2, 7, 0)),
        appointment("midnight", "a", dt(2026, 3, 3, 0, 0)),
        appointment("last-minute", "b", dt(2026, 3, 2, 23, 59)),
        appointment("before", "a", dt(2026, 3, 1, 23, 59)),
        appointment("after", "b", dt(2026, 3, 5, 0, 0)),
        appointment("a-same-time", "b", dt(2026, 3, 2, 17, 30)),
    ];
    s.put_appointments(&appts).await.unwrap();
    let day = |from, to| s.appointments_between(from, to);

    assert_eq!(
        appt_ids(&day(d(2026, 3, 2), d(2026, 3, 2)).await.unwrap()),
        ["early", "a-same-time", "z-late", "last-minute"]
    );
    assert_eq!(
        appt_ids(&day(d(2026, 3, 2), d(2026, 3, 4)).await.unwrap()),
        ["early", "a-same-time", "z-late", "last-minute", "midnight"]
    );
    assert!(day(d(2026, 3, 4), d(2026, 3, 4)).await.unwrap().is_empty());
    assert!(day(d(2026, 3, 3), d(2026, 3, 2)).await.unwrap().is_empty());
    assert_eq!(
        day(d(2026, 3, 1), d(2026, 3, 1)).await.unwrap(),
        vec![appts[4].clone()],
        "full record survives the round trip"
    );

    assert_eq!(
        appt_ids(&s.appointments_of(&pid("a")).await.unwrap()),
        ["before", "z-late", "midnight"]
    );
    assert_eq!(
        appt_ids(&s.appointments_of(&pid("b")).await.unwrap()),
        ["early", "a-same-time", "last-minute", "after"]
    );
    assert!(s.appointments_of(&pid("zz")).await.unwrap().is_empty());

    s.delete_appointments(&[AppointmentId("early".into()), AppointmentId("nope".into())])
        .await
        .unwrap();
    assert_eq!(
        appt_ids(&s.appointments_of(&pid("b")).await.unwrap()),
        ["a-same-time", "last-minute", "after"]
    );
}

pub async fn delete_person_cascades(s: &dyn Store) {
    let mut a = with_birthday(person("a", "Anna", "Adler"), d(1980, 1, 2));
    a.person.tags = vec!["Knie".into()];
    s.put_persons(&[a, person("b", "Berta", "Bär")])
        .await
        .unwrap();
    s.put_appointments(&[
        appointment("a1", "a", dt(2026, 3, 2, 9, 0)),
        appointment("a2", "a", dt(2026, 3, 9, 9, 0)),
        appointment("b1", "b", dt(2026, 3, 2, 10, 0)),
    ])
    .await
    .unwrap();

    s.delete_person(&pid("a")).await.unwrap();
    assert_eq!(s.get_person(&pid("a")).await.unwrap(), None);
    assert!(s.appointments_of(&pid("a")).await.unwrap().is_empty());
    assert_eq!(
        appt_ids(
            &s.appointments_between(d(2026, 3, 1), d(2026, 3, 31))
                .await
                .unwrap()
        ),
        ["b1"]
    );
    assert!(s.persons_by_tag("knie").await.unwrap().is_empty());
    assert!(s.persons_by_name_prefix("adler").await.unwrap().is_empty());
    assert!(s
        .persons_by_birthday(MonthDay::FIRST, MonthDay::LAST)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(ids(&s.all_persons().await.unwrap()), ["b"]);

    // Deleting an unknown person is no error and changes nothing.
    let before = snapshot(s).await;
    s.delete_person(&pid("nobody")).await.unwrap();
    assert_eq!(snapshot(s).await, before);

    // Delete and re-create in one batch: old appointments go, new ones stay.
    s.write(WriteBatch {
        delete_persons: &[pid("b")],
        persons: &[person("b", "Berta", "Bär")],
        appointments: &[appointment("b2", "b", dt(2026, 3, 3, 10, 0))],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        appt_ids(&s.appointments_of(&pid("b")).await.unwrap()),
        ["b2"]
    );
}

pub async fn settings_round_trip(s: &dyn Store) {
    assert_eq!(s.settings().await.unwrap(), None);
    let mut practice = settings();
    s.put_settings(&practice).await.unwrap();
    assert_eq!(s.settings().await.unwrap(), Some(practice.clone()));
    practice.name = "Praxis für Ergotherapie Größe & Söhne".into();
    practice.letter_form = LetterForm::B;
    s.put_settings(&practice).await.unwrap();
    assert_eq!(s.settings().await.unwrap(), Some(practice));
}

pub async fn documents(s: &dyn Store) {
    let doc = |k: &str, v| Doc {
        key: k.into(),
        value: v,
    };
    s.put_docs(
        Collection::Templates,
        &[
            doc(
                "b-brief",
                json!({"body": "Sehr geehrte Frau {{nachname}},"}),
            ),
            doc("a-sms", json!({"body": "Termin morgen 9 Uhr", "n": 1})),
            doc("c-mail", json!(["liste", 2, null])),
        ],
    )
    .await
    .unwrap();
    s.put_docs(Collection::Sendlog, &[doc("a-sms", json!("anderes"))])
        .await
        .unwrap();

    let keys = |v: Vec<Doc>| v.into_iter().map(|d| d.key).collect::<Vec<_>>();
    assert_eq!(
        keys(s.list_docs(Collection::Templates).await.unwrap()),
        ["a-sms", "b-brief", "c-mail"]
    );
    assert_eq!(
        s.get_doc(Collection::Templates, "a-sms").await.unwrap(),
        Some(json!({"body": "Termin morgen 9 Uhr", "n": 1}))
    );
    assert_eq!(
        s.get_doc(Collection::Sendlog, "a-sms").await.unwrap(),
        Some(json!("anderes")),
        "collections are separate"
    );
    assert_eq!(s.get_doc(Collection::Outbox, "a-sms").await.unwrap(), None);

    // Replace, delete.
    s.put_docs(
        Collection::Templates,
        &[doc("a-sms", json!({"body": "neu"}))],
    )
    .await
    .unwrap();
    s.delete_doc(Collection::Templates, "b-brief")
        .await
        .unwrap();
    s.delete_doc(Collection::Templates, "gibt-es-nicht")
        .await
        .unwrap();
    let all = s.list_docs(Collection::Templates).await.unwrap();
    assert_eq!(
        all,
        vec![
            doc("a-sms", json!({"body": "neu"})),
            doc("c-mail", json!(["liste", 2, null]))
        ]
    );

    // Put and delete across collections in one batch: all or nothing.
    let ops = vec![
        DocOp::Delete {
            collection: Collection::Templates,
            key: "a-sms".into(),
        },
        DocOp::Put {
            collection: Collection::Outbox,
            key: "m1".into(),
            value: json!({"to": "+491511234567"}),
        },
        DocOp::Put {
            collection: Collection::Outbox,
            key: " ".into(),
            value: json!(1),
        },
    ];
    assert!(s
        .write(WriteBatch {
            docs: &ops,
            ..Default::default()
        })
        .await
        .is_err());
    assert_eq!(s.list_docs(Collection::Templates).await.unwrap(), all);
    assert!(s.list_docs(Collection::Outbox).await.unwrap().is_empty());
    s.write(WriteBatch {
        docs: &ops[..2],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        keys(s.list_docs(Collection::Templates).await.unwrap()),
        ["c-mail"]
    );
    assert_eq!(keys(s.list_docs(Collection::Outbox).await.unwrap()), ["m1"]);

    // Typed access.
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Query {
        name: String,
        tags: Vec<String>,
    }
    let q = Query {
        name: "Rücken-Patienten".into(),
        tags: vec!["Rücken".into()],
    };
    s.put_typed(Collection::Queries, "rücken", &q)
        .await
        .unwrap();
    assert_eq!(
        s.get_typed::<Query>(Collection::Queries, "rücken")
            .await
            .unwrap(),
        Some(q)
    );
    assert!(matches!(
        s.get_typed::<Query>(Collection::Templates, "c-mail").await,
        Err(StoreError::Corrupt(_))
    ));
}

/// A batch far larger than one write chunk (IndexedDB issues documents in chunks inside ONE
/// transaction): it lands completely, and a failure in a late chunk leaves nothing of the
/// earlier chunks (nor of the replaced documents) changed.
pub async fn large_doc_batch_is_atomic(s: &dyn Store) {
    const N: usize = 1_203;
    let op = |c: Collection, key: String, v: serde_json::Value| DocOp::Put {
        collection: c,
        key,
        value: v,
    };
    let mut first = vec![op(Collection::Sendlog, "b1".into(), json!({"n": N}))];
    first.extend((0..N).map(|i| {
        op(
            Collection::Outbox,
            format!("m{i:05}"),
            json!({"v": 1, "i": i}),
        )
    }));
    s.write(WriteBatch {
        docs: &first,
        ..Default::default()
    })
    .await
    .unwrap();
    let outbox = s.list_docs(Collection::Outbox).await.unwrap();
    assert_eq!(outbox.len(), N);
    assert_eq!(outbox[N - 1].value, json!({"v": 1, "i": N - 1}));
    assert_eq!(s.list_docs(Collection::Sendlog).await.unwrap().len(), 1);

    // Second batch: replaces every message, adds as many new ones and a second batch
    // record; one invalid key near the end must roll everything back.
    for bad_at in [N + 500, 2 * N - 1] {
        let mut second = vec![op(Collection::Sendlog, "b2".into(), json!({"n": 2}))];
        second.extend((0..2 * N).map(|i| {
            op(
                Collection::Outbox,
                format!("m{i:05}"),
                json!({"v": 2, "i": i}),
            )
        }));
        second[bad_at] = op(Collection::Outbox, "".into(), json!({"v": 2}));
        assert!(s
            .write(WriteBatch {
                docs: &second,
                ..Default::default()
            })
            .await
            .is_err());
        assert_eq!(
            s.list_docs(Collection::Outbox).await.unwrap(),
            outbox,
            "a failure in a late chunk rolls back the earlier chunks (bad at {bad_at})"
        );
        assert_eq!(s.list_docs(Collection::Sendlog).await.unwrap().len(), 1);
    }
}

pub async fn empty_and_clear_all(s: &dyn Store) {
    assert!(s.is_empty().await.unwrap());
    s.put_docs(
        Collection::Meta,
        &[Doc {
            key: "seen".into(),
            value: json!(1),
        }],
    )
    .await
    .unwrap();
    assert!(
        !s.is_empty().await.unwrap(),
        "a document alone makes it non-empty"
    );
    s.clear_all().await.unwrap();
    assert!(s.is_empty().await.unwrap());

    s.put_settings(&settings()).await.unwrap();
    assert!(
        !s.is_empty().await.unwrap(),
        "settings alone make it non-empty"
    );

    s.put_persons(&sample_persons(0, 10)).await.unwrap();
    s.put_appointments(&[appointment("t", "p-0000001", dt(2026, 1, 1, 8, 0))])
        .await
        .unwrap();
    for c in Collection::ALL {
        s.put_docs(
            c,
            &[Doc {
                key: "k".into(),
                value: json!({"c": c.store_name()}),
            }],
        )
        .await
        .unwrap();
    }
    assert!(!s.is_empty().await.unwrap());
    s.clear_all().await.unwrap();
    assert!(s.is_empty().await.unwrap());
    assert!(s.all_persons().await.unwrap().is_empty());
    assert_eq!(s.count_persons().await.unwrap(), 0);
    assert!(s
        .appointments_between(d(2000, 1, 1), d(2100, 1, 1))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.settings().await.unwrap(), None);
    for c in Collection::ALL {
        assert!(s.list_docs(c).await.unwrap().is_empty(), "{c:?}");
    }
    assert!(s.persons_by_tag("rücken").await.unwrap().is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_persons_are_deterministic_and_valid() {
        let a = sample_persons(0, 200);
        assert_eq!(a, sample_persons(0, 200));
        assert!(a.iter().all(|p| super::super::validate_person(p).is_ok()));
        assert_eq!(
            a.iter()
                .filter(|p| p.sensitive.birth_date.is_none())
                .count(),
            20
        );
        assert_eq!(
            a.iter().filter(|p| p.person.kind == Kind::Prospect).count(),
            50
        );
        let distinct_last: std::collections::HashSet<_> =
            a.iter().map(|p| &p.person.last_name).collect();
        assert!(distinct_last.len() > 10);
    }
}
