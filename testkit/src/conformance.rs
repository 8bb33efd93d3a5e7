//! The one conformance suite every [`Store`] implementation must pass.
//!
//! Each case is an async function taking a fresh, empty `&dyn Store`; it panics on a
//! mismatch. [`for_each_storage_case!`](crate::for_each_storage_case) lists every case once,
//! so the native test (memory store, `tests/storage_memory.rs`) and the browser test
//! (IndexedDB, `tests/storage_idb.rs`) always run the same set.

use praxisbote::domain::outbox::{Batch, MessageState, OutboxMessage};
use praxisbote::domain::query::DayMonth;
use praxisbote::domain::retention::{ArchivedBatch, Retention};
use praxisbote::domain::{
    Appointment, AppointmentId, Kind, LetterForm, PersonId, PersonRecord, PracticeSettings,
};
use praxisbote::storage::keys::{FIRST_DAY, LAST_DAY};
use praxisbote::storage::records::{self, quarantined_records, Origin, Stored};
use praxisbote::storage::{
    retention, Collection, Doc, DocOp, Invalid, OwnedWriteBatch, Store, StoreError, StoreExt,
    WriteBatch,
};
use serde_json::json;

use crate::sample::*;

/// Calls `$m!(case_name)` for every conformance case.
#[macro_export]
macro_rules! for_each_storage_case {
    ($m:ident) => {
        $m!(persons_round_trip);
        $m!(failed_person_batch_leaves_nothing);
        $m!(failed_appointment_batch_leaves_nothing);
        $m!(mixed_batch_is_atomic);
        $m!(failed_clear_keeps_everything);
        $m!(birthday_index_wraps_year_end);
        $m!(replacing_a_record_moves_index_entries);
        $m!(appointments_by_day_and_person);
        $m!(delete_person_cascades);
        $m!(settings_round_trip);
        $m!(documents);
        $m!(large_doc_batch_is_atomic);
        $m!(empty_and_clear_all);
        $m!(get_persons_in_order);
        $m!(update_reads_and_writes_in_one_transaction);
        $m!(update_error_leaves_everything_unchanged);
        $m!(update_with_returns_value_or_own_error);
        $m!(update_docs_reads_and_writes_in_one_transaction);
        $m!(unreadable_records_are_set_aside_and_counted);
        $m!(unreadable_records_in_update_and_typed_reads);
        $m!(set_aside_keeps_a_record_written_since);
        $m!(outbox_compaction_moves_old_final_messages);
        $m!(older_person_records_read_forward);
    };
}

/// Puts one document.
async fn put_doc(s: &dyn Store, c: Collection, key: &str, value: serde_json::Value) {
    s.put_docs(
        c,
        &[Doc {
            key: key.into(),
            value,
        }],
    )
    .await
    .unwrap();
}

/// Snapshot of everything observable, to prove a failed write changed nothing.
pub async fn snapshot(s: &dyn Store) -> String {
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
    out += &format!(
        "{:?}\n",
        ids(&s.persons_by_birthday(FIRST_DAY, LAST_DAY).await.unwrap())
    );
    out += &format!("{}\n", s.count_persons().await.unwrap());
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
    assert_eq!(
        all,
        by_id(&people),
        "ordered by id; full records survive the round trip"
    );
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
        matches!(&err, StoreError::Invalid { problem: Invalid::PersonWithoutName, id }
            if *id == sample_person(999).person.id.0),
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
        Err(StoreError::Invalid {
            problem: Invalid::PersonWithoutId,
            ..
        })
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
        matches!(
            err,
            StoreError::Invalid {
                problem: Invalid::AppointmentEndsBeforeStart,
                ..
            }
        ),
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
                problem: Invalid::DocumentWithoutKey,
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
    put_doc(s, Collection::Queries, "q1", json!({"kind": "patient"})).await;
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
    assert_eq!(s.all_persons().await.unwrap(), [sample_person(40)]);
    assert_eq!(s.settings().await.unwrap(), None);
    assert!(s.list_docs(Collection::Queries).await.unwrap().is_empty());
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
    let md = |m, day| DayMonth::new(day, m).unwrap();

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
        s.persons_by_birthday(FIRST_DAY, LAST_DAY)
            .await
            .unwrap()
            .len(),
        9,
        "everybody with a birth date, nobody without"
    );
}

pub async fn replacing_a_record_moves_index_entries(s: &dyn Store) {
    let md = |m, day| DayMonth::new(day, m).unwrap();
    let mut p = with_birthday(person("x", "Anna", "Müller"), d(1980, 5, 5));
    p.person.tags = vec!["Knie".into()];
    s.put_persons(std::slice::from_ref(&p)).await.unwrap();
    p.sensitive.birth_date = Some(d(1980, 7, 9));
    s.put_persons(std::slice::from_ref(&p)).await.unwrap();
    assert!(s
        .persons_by_birthday(md(5, 5), md(5, 5))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(&s.persons_by_birthday(md(7, 1), md(7, 31)).await.unwrap()),
        ["x"]
    );
    p.person.last_name = "Schmidt".into();
    p.person.kind = Kind::Prospect;
    p.person.tags = vec!["Schulter".into()];
    p.sensitive.birth_date = None;
    s.put_persons(std::slice::from_ref(&p)).await.unwrap();
    assert_eq!(s.all_persons().await.unwrap(), [p]);
    assert!(s
        .persons_by_birthday(FIRST_DAY, LAST_DAY)
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
    assert!(s
        .persons_by_birthday(FIRST_DAY, LAST_DAY)
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
    // A document that is not a `Query` is set aside, not returned, not dropped.
    assert_eq!(
        s.get_typed::<Query>(Collection::Templates, "c-mail")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.get_doc(Collection::Templates, "c-mail").await.unwrap(),
        None
    );
    assert_eq!(s.quarantined().await.unwrap(), 1);
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
    put_doc(s, Collection::Meta, "seen", json!(1)).await;
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

    let people = sample_persons(0, 10);
    s.put_persons(&people).await.unwrap();
    s.put_appointments(&[appointment(
        "t",
        &people[1].person.id.0,
        dt(2026, 1, 1, 8, 0),
    )])
    .await
    .unwrap();
    for c in Collection::ALL {
        put_doc(s, c, "k", json!({"c": c.store_name()})).await;
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
    assert!(s
        .persons_by_birthday(FIRST_DAY, LAST_DAY)
        .await
        .unwrap()
        .is_empty());
}

pub async fn get_persons_in_order(s: &dyn Store) {
    let people = sample_persons(0, 40);
    s.put_persons(&people).await.unwrap();
    let want = [
        people[17].id().clone(),
        pid("p-unknown"),
        people[3].id().clone(),
        people[17].id().clone(),
    ];
    let got = s.get_persons(&want).await.unwrap();
    assert_eq!(
        got,
        vec![
            Some(people[17].clone()),
            None,
            Some(people[3].clone()),
            Some(people[17].clone())
        ]
    );
    assert!(s.get_persons(&[]).await.unwrap().is_empty());
}

/// The number kept in a person's profession by the update cases (a counter that only a
/// read-then-write in one transaction increments correctly).
fn counter(p: &PersonRecord) -> u32 {
    p.sensitive.profession.parse().unwrap_or(0)
}

pub async fn update_reads_and_writes_in_one_transaction(s: &dyn Store) {
    let people = sample_persons(0, 10);
    s.put_persons(&people).await.unwrap();
    let ids = [people[2].id().clone(), pid("p-new"), people[7].id().clone()];

    // The closure sees the stored records (None for the unknown id), aligned with the ids,
    // and what it returns is written: changed persons, a new one, an appointment for the new
    // one, a document and a deletion.
    let mut calls = 0;
    s.update(&ids, &mut |read| {
        calls += 1;
        assert_eq!(read.len(), 3);
        assert_eq!(read[0].as_ref(), Some(&people[2]));
        assert_eq!(read[1], None);
        assert_eq!(read[2].as_ref(), Some(&people[7]));
        let mut changed = read[0].clone().unwrap();
        changed.person.email = "neu@example.org".into();
        Ok(OwnedWriteBatch {
            persons: vec![changed, person("p-new", "Neue", "Person")],
            appointments: vec![appointment("t-new", "p-new", dt(2026, 5, 4, 9, 0))],
            delete_persons: vec![people[7].id().clone()],
            docs: vec![DocOp::Put {
                collection: Collection::Meta,
                key: "updated".into(),
                value: json!(true),
            }],
            ..Default::default()
        })
    })
    .await
    .unwrap();
    assert_eq!(calls, 1, "the closure runs exactly once");
    let after = s.get_persons(&ids).await.unwrap();
    assert_eq!(
        after[0].as_ref().map(|p| p.person.email.as_str()),
        Some("neu@example.org")
    );
    assert_eq!(
        after[1].as_ref().map(|p| p.person.first_name.as_str()),
        Some("Neue")
    );
    assert_eq!(after[2], None);
    assert_eq!(s.count_persons().await.unwrap(), 10);
    assert_eq!(
        appt_ids(&s.appointments_of(&pid("p-new")).await.unwrap()),
        ["t-new"]
    );
    assert_eq!(
        s.get_doc(Collection::Meta, "updated").await.unwrap(),
        Some(json!(true))
    );

    // Each update sees what the one before wrote (a read-modify-write counter).
    let id = [people[0].id().clone()];
    for _ in 0..5 {
        s.update(&id, &mut |read| {
            let mut p = read[0].clone().expect("stored");
            p.sensitive.profession = (counter(&p) + 1).to_string();
            Ok(OwnedWriteBatch {
                persons: vec![p],
                ..Default::default()
            })
        })
        .await
        .unwrap();
    }
    assert_eq!(counter(&s.get_person(&id[0]).await.unwrap().unwrap()), 5);

    // An empty batch writes nothing; no ids at all is allowed too.
    let before = snapshot(s).await;
    s.update(&id, &mut |_| Ok(OwnedWriteBatch::default()))
        .await
        .unwrap();
    s.update(&[], &mut |read| {
        assert!(read.is_empty());
        Ok(OwnedWriteBatch::default())
    })
    .await
    .unwrap();
    assert_eq!(snapshot(s).await, before);
}

pub async fn update_error_leaves_everything_unchanged(s: &dyn Store) {
    let people = sample_persons(0, 20);
    s.put_persons(&people).await.unwrap();
    put_doc(s, Collection::Outbox, "m1", json!({"state": "queued"})).await;
    let before = snapshot(s).await;
    let ids: Vec<PersonId> = people.iter().map(|p| p.id().clone()).collect();

    // The closure's own error: nothing written, the error comes back.
    let err = s
        .update(&ids, &mut |_| {
            Err(StoreError::invalid("p-1", Invalid::PersonWithoutName))
        })
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { id, .. } if id == "p-1"));
    assert_eq!(snapshot(s).await, before);

    // A batch that fails while being written (an invalid record after valid ones, an
    // appointment of an unknown person) rolls back everything the closure asked for.
    let invalid = |read: &[Option<PersonRecord>]| {
        let mut persons: Vec<PersonRecord> = read.iter().flatten().cloned().collect();
        for p in &mut persons {
            p.person.last_name = "Geändert".into();
        }
        let mut bad = sample_person(999);
        bad.person.first_name.clear();
        bad.person.last_name.clear();
        persons.push(bad);
        persons
    };
    let err = s
        .update(&ids, &mut |read| {
            Ok(OwnedWriteBatch {
                persons: invalid(read),
                docs: vec![DocOp::Delete {
                    collection: Collection::Outbox,
                    key: "m1".into(),
                }],
                ..Default::default()
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(snapshot(s).await, before);
    let err = s
        .update(&ids, &mut |_| {
            Ok(OwnedWriteBatch {
                delete_persons: vec![ids[0].clone()],
                appointments: vec![appointment("t", "ghost", dt(2026, 5, 4, 9, 0))],
                ..Default::default()
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownPerson { .. }), "{err:?}");
    assert_eq!(snapshot(s).await, before);

    // The store is still usable afterwards.
    s.update(&ids[..1], &mut |read| {
        Ok(OwnedWriteBatch {
            persons: read.iter().flatten().cloned().collect(),
            ..Default::default()
        })
    })
    .await
    .unwrap();
    assert_eq!(snapshot(s).await, before);
}

pub async fn update_with_returns_value_or_own_error(s: &dyn Store) {
    #[derive(Debug, PartialEq)]
    enum Refused {
        NoConsent(String),
        Store(StoreError),
    }
    impl From<StoreError> for Refused {
        fn from(e: StoreError) -> Refused {
            Refused::Store(e)
        }
    }
    let people = sample_persons(0, 5);
    s.put_persons(&people).await.unwrap();
    let before = snapshot(s).await;
    let ids = [people[1].id().clone()];

    let r: Result<usize, Refused> = s
        .update_with(&ids, |read| {
            Err(Refused::NoConsent(
                read[0].as_ref().unwrap().person.id.0.clone(),
            ))
        })
        .await;
    assert_eq!(r, Err(Refused::NoConsent(people[1].person.id.0.clone())));
    assert_eq!(snapshot(s).await, before);

    let n: Result<usize, Refused> = s
        .update_with(&ids, |read| {
            let mut p = read[0].clone().unwrap();
            p.person.tags = vec!["Geprüft".into()];
            Ok((
                OwnedWriteBatch {
                    persons: vec![p],
                    ..Default::default()
                },
                read.len(),
            ))
        })
        .await;
    assert_eq!(n, Ok(1));
    assert_eq!(
        s.get_person(&ids[0]).await.unwrap().unwrap().person.tags,
        ["Geprüft"]
    );

    // A store error (invalid batch) comes back as the caller's error.
    let r: Result<(), Refused> = s
        .update_with(&ids, |_| {
            let mut bad = sample_person(7);
            bad.person.id = PersonId(String::new());
            Ok((
                OwnedWriteBatch {
                    persons: vec![bad],
                    ..Default::default()
                },
                (),
            ))
        })
        .await;
    assert!(
        matches!(r, Err(Refused::Store(StoreError::Invalid { .. }))),
        "{r:?}"
    );
}

pub async fn update_docs_reads_and_writes_in_one_transaction(s: &dyn Store) {
    let doc = |k: &str, v| Doc {
        key: k.into(),
        value: v,
    };
    s.put_docs(
        Collection::Outbox,
        &[
            doc("m2", json!({"n": 2})),
            doc("m1", json!({"n": 1})),
            doc("m3", json!({"n": 3})),
        ],
    )
    .await
    .unwrap();
    s.put_docs(Collection::Meta, &[doc("seen", json!(0))])
        .await
        .unwrap();
    s.update_docs(&[Collection::Outbox, Collection::Meta], &mut |read| {
        assert_eq!(read.len(), 2);
        let keys: Vec<&str> = read[0].iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["m1", "m2", "m3"]);
        assert_eq!(read[1], [doc("seen", json!(0))]);
        Ok(OwnedWriteBatch {
            docs: vec![
                DocOp::delete(Collection::Outbox, "m2"),
                DocOp::put(Collection::Meta, "seen", &read[0].len())?,
            ],
            ..Default::default()
        })
    })
    .await
    .unwrap();
    assert_eq!(s.list_docs(Collection::Outbox).await.unwrap().len(), 2);
    assert_eq!(
        s.get_doc(Collection::Meta, "seen").await.unwrap(),
        Some(json!(3))
    );
    // Each run sees what the one before wrote.
    for _ in 0..4 {
        s.update_docs(&[Collection::Meta], &mut |read| {
            let n = read[0][0].value.as_u64().unwrap();
            Ok(OwnedWriteBatch {
                docs: vec![DocOp::put(Collection::Meta, "seen", &(n + 1))?],
                ..Default::default()
            })
        })
        .await
        .unwrap();
    }
    assert_eq!(
        s.get_doc(Collection::Meta, "seen").await.unwrap(),
        Some(json!(7))
    );
    // The closure's error leaves everything unchanged; so does a failing batch.
    let before = snapshot(s).await;
    let err = s
        .update_docs(&[Collection::Outbox], &mut |_| Err(StoreError::Aborted))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::Aborted);
    s.update_docs(&[Collection::Outbox], &mut |read| {
        Ok(OwnedWriteBatch {
            docs: read[0]
                .iter()
                .map(|d| DocOp::delete(Collection::Outbox, &d.key))
                .chain([DocOp::delete(Collection::Outbox, " ")])
                .collect(),
            ..Default::default()
        })
    })
    .await
    .unwrap_err();
    assert_eq!(snapshot(s).await, before);
}

/// A record as a newer praxisbote (or a bug, or a flipped byte) might leave it.
fn raw(v: u32, body: &str) -> Stored {
    Stored {
        v,
        body: body.to_string(),
    }
}

pub async fn unreadable_records_are_set_aside_and_counted(s: &dyn Store) {
    let md = |m, day| DayMonth::new(day, m).unwrap();
    let good = vec![
        with_birthday(person("a", "Anna", "Adler"), d(1980, 5, 5)),
        with_birthday(person("b", "Bernd", "Bär"), d(1975, 5, 6)),
        person("c", "Cem", "Çelik"),
    ];
    s.put_persons(&good).await.unwrap();
    s.put_appointments(&[appointment("t1", "a", dt(2026, 3, 2, 9, 0))])
        .await
        .unwrap();
    put_doc(s, Collection::Templates, "gut", json!({"body": "Hallo"})).await;

    // Unreadable records in every store: a person whose shape no version knows (with a
    // birthday key, so the index finds it), a person of an unknown version, an appointment
    // with a status no version knows, broken settings, a document that is no JSON.
    let bad_person = raw(
        1,
        r#"{"person":{"id":"x1","vorname":"?"},"sensitive":{"birth_date":"1990-05-05"}}"#,
    );
    let newer_person = raw(
        9,
        &records::person::encode(&person("x2", "Neu", "Version"))
            .unwrap()
            .body,
    );
    let mut odd =
        records::appointment::encode(&appointment("t-x", "a", dt(2026, 3, 2, 11, 0))).unwrap();
    odd.body = odd.body.replace("planned", "verschoben");
    let bad_settings = raw(1, "[1, 2]");
    let bad_doc = raw(1, "{\"body\": ");
    let puts = [
        (Origin::Person(pid("x1")), bad_person.clone()),
        (Origin::Person(pid("x2")), newer_person.clone()),
        (
            Origin::Appointment(AppointmentId("t-x".into())),
            odd.clone(),
        ),
        (Origin::Settings, bad_settings.clone()),
        (
            Origin::Document(Collection::Templates, "kaputt".into()),
            bad_doc.clone(),
        ),
    ];
    for (origin, stored) in &puts {
        s.put_raw(origin, stored).await.unwrap();
    }
    assert_eq!(s.quarantined().await.unwrap(), 0, "nothing read yet");

    // Each read leaves the unreadable records out and sets them aside, counted.
    assert_eq!(
        ids(&s.persons_by_birthday(md(5, 1), md(5, 31)).await.unwrap()),
        ["a", "b"]
    );
    assert_eq!(s.quarantined().await.unwrap(), 1);
    assert_eq!(s.all_persons().await.unwrap(), good);
    assert_eq!(s.quarantined().await.unwrap(), 2);
    assert_eq!(s.count_persons().await.unwrap(), 3);
    assert_eq!(
        appt_ids(
            &s.appointments_between(d(2026, 3, 2), d(2026, 3, 2))
                .await
                .unwrap()
        ),
        ["t1"]
    );
    assert_eq!(s.settings().await.unwrap(), None);
    let keys: Vec<String> = s
        .list_docs(Collection::Templates)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .collect();
    assert_eq!(keys, ["gut"]);
    assert_eq!(s.quarantined().await.unwrap(), 5);

    // Kept exactly as they were, with where they came from and why.
    let q = quarantined_records(s).await.unwrap();
    assert_eq!(q.len(), 5);
    for (origin, stored) in &puts {
        let r = q
            .iter()
            .find(|r| r.store == origin.store_name() && r.key == origin.key())
            .unwrap_or_else(|| panic!("{origin:?} not in quarantine: {q:?}"));
        assert_eq!((r.v, r.body.as_str()), (stored.v, stored.body.as_str()));
        assert!(!r.error.is_empty());
    }
    assert!(q.iter().any(|r| r.error.contains("version 9")), "{q:?}");

    // Reading again finds nothing new; the good data is untouched.
    assert_eq!(s.all_persons().await.unwrap(), good);
    assert_eq!(s.appointments_of(&pid("a")).await.unwrap().len(), 1);
    assert_eq!(s.quarantined().await.unwrap(), 5);
    // A fresh record under a quarantined key is stored normally.
    s.put_settings(&settings()).await.unwrap();
    assert_eq!(s.settings().await.unwrap(), Some(settings()));
    // Clearing everything clears the quarantine too.
    s.clear_all().await.unwrap();
    assert_eq!(s.quarantined().await.unwrap(), 0);
}

pub async fn unreadable_records_in_update_and_typed_reads(s: &dyn Store) {
    let a = person("a", "Anna", "Adler");
    s.put_persons(std::slice::from_ref(&a)).await.unwrap();
    s.put_raw(&Origin::Person(pid("b")), &raw(7, "{}"))
        .await
        .unwrap();
    s.put_raw(&Origin::Person(pid("c")), &raw(7, "{}"))
        .await
        .unwrap();

    // A failing update changes nothing, not even the quarantine.
    s.update(&[pid("c")], &mut |read| {
        assert_eq!(read, [None]);
        Err(StoreError::Aborted)
    })
    .await
    .unwrap_err();
    assert_eq!(s.quarantined().await.unwrap(), 0);

    // The closure sees an unreadable person as missing; it is set aside in the same
    // transaction, and a new record may take its id.
    let fresh = person("b", "Berta", "Neu");
    s.update(&[a.person.id.clone(), pid("b")], &mut |read| {
        assert_eq!(read, [Some(a.clone()), None]);
        Ok(OwnedWriteBatch {
            persons: vec![fresh.clone()],
            ..Default::default()
        })
    })
    .await
    .unwrap();
    assert_eq!(s.get_person(&pid("b")).await.unwrap(), Some(fresh));
    assert_eq!(s.quarantined().await.unwrap(), 1);
    assert_eq!(s.get_persons(&[pid("c")]).await.unwrap(), [None]);
    assert_eq!(s.quarantined().await.unwrap(), 2);
    assert_eq!(s.count_persons().await.unwrap(), 2);

    // Typed reads: documents that do not read as the type are set aside too.
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Query {
        name: String,
    }
    put_doc(s, Collection::Queries, "a", json!({"name": "Recall"})).await;
    put_doc(s, Collection::Queries, "b", json!({"conditions": []})).await;
    let loaded: Vec<Query> = s.load_docs(Collection::Queries).await.unwrap();
    assert_eq!(
        loaded,
        [Query {
            name: "Recall".into()
        }]
    );
    assert_eq!(s.quarantined().await.unwrap(), 3);
    assert_eq!(s.list_docs(Collection::Queries).await.unwrap().len(), 1);
    // Stored with other whitespace than serde writes: still the same document.
    s.put_raw(
        &Origin::Document(Collection::Meta, "odd".into()),
        &raw(1, "{ \"x\" : 1 }"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_typed::<String>(Collection::Meta, "odd")
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.get_doc(Collection::Meta, "odd").await.unwrap(), None);
    assert_eq!(s.quarantined().await.unwrap(), 4);
    // Kept byte for byte as it was stored.
    let q = quarantined_records(s).await.unwrap();
    let odd = q.iter().find(|r| r.key == "odd").expect("odd set aside");
    assert_eq!(
        (odd.store.as_str(), odd.body.as_str()),
        ("meta", "{ \"x\" : 1 }")
    );
}

pub async fn set_aside_keeps_a_record_written_since(s: &dyn Store) {
    let old = raw(5, "{\"alt\": true}");
    s.put_raw(&Origin::Person(pid("p")), &old).await.unwrap();
    s.put_raw(&Origin::Document(Collection::Outbox, "m".into()), &old)
        .await
        .unwrap();
    let stale = [
        records::Unreadable::new(Origin::Person(pid("p")), old.clone(), "read before"),
        records::Unreadable::new(
            Origin::Document(Collection::Outbox, "m".into()),
            old.clone(),
            "read before",
        ),
    ];
    // Meanwhile both were written anew.
    let fresh = person("p", "Paula", "Neu");
    s.put_persons(std::slice::from_ref(&fresh)).await.unwrap();
    put_doc(s, Collection::Outbox, "m", json!({"neu": 1})).await;
    s.set_aside(&stale).await.unwrap();
    assert_eq!(s.quarantined().await.unwrap(), 0);
    assert_eq!(s.get_person(&pid("p")).await.unwrap(), Some(fresh));
    assert_eq!(
        s.get_doc(Collection::Outbox, "m").await.unwrap(),
        Some(json!({"neu": 1}))
    );
    // Nothing to set aside is no error.
    s.set_aside(&[]).await.unwrap();
}

/// One message of the compaction case, in `state`, last changed at `at`.
fn message(batch: &Batch, i: u32, state: MessageState, at: chrono::NaiveDateTime) -> OutboxMessage {
    use praxisbote::domain::outbox::{queue_batch, ConsentBasis, Content, QueueItem};
    let mut m = queue_batch(
        batch,
        vec![QueueItem {
            id: format!("{}-m{i}", batch.id),
            person_id: pid(&format!("p{i}")),
            appointment_id: None,
            recipient_name: format!("Müller, Anna {i}"),
            address: format!("anna{i}@example.org"),
            content: Content {
                subject: Some("Termin".into()),
                text: "Guten Tag".repeat(50),
                html: None,
                calendar: None,
            },
            consent: ConsentBasis::Consent {
                given_at: d(2024, 1, 2),
                evidence: praxisbote::domain::Evidence::WrittenForm,
            },
        }],
    )
    .unwrap()
    .remove(0);
    m.seq = i;
    m.state = state;
    m.updated_at = at;
    m
}

pub async fn outbox_compaction_moves_old_final_messages(s: &dyn Store) {
    use praxisbote::domain::sendlog::log_rows;
    let batch = |id: &str, at| Batch {
        claim: None,
        id: id.into(),
        created_at: at,
        channel: praxisbote::domain::Channel::Email,
        purpose: praxisbote::domain::Purpose::AppointmentReminder,
        template_name: "Terminerinnerung".into(),
        template_version: 1,
        paused: false,
        files: Vec::new(),
    };
    let old = batch("b-old", dt(2025, 1, 10, 9, 0));
    let new = batch("b-new", dt(2026, 10, 1, 9, 0));
    let msgs = vec![
        message(&old, 0, MessageState::Sent, dt(2025, 1, 10, 10, 0)),
        message(&old, 1, MessageState::Printed, dt(2025, 1, 10, 10, 0)),
        message(&old, 2, MessageState::Queued, dt(2025, 1, 10, 10, 0)),
        message(
            &old,
            3,
            MessageState::Failed {
                reason: "550".into(),
            },
            dt(2025, 1, 10, 10, 0),
        ),
        message(&new, 0, MessageState::Sent, dt(2026, 10, 1, 10, 0)),
    ];
    let mut docs = vec![
        DocOp::put(Collection::Sendlog, &old.id, &old).unwrap(),
        DocOp::put(Collection::Sendlog, &new.id, &new).unwrap(),
    ];
    for m in &msgs {
        docs.push(DocOp::put(Collection::Outbox, &m.id, m).unwrap());
    }
    // A document that is no outbox message stays where it is.
    docs.push(DocOp::Put {
        collection: Collection::Outbox,
        key: "fremd".into(),
        value: json!({"state": {"state": "sent"}}),
    });
    s.write(WriteBatch {
        docs: &docs,
        ..Default::default()
    })
    .await
    .unwrap();
    let batches = vec![old.clone(), new.clone()];
    let log = log_rows(&batches, &msgs, None);

    let now = dt(2026, 11, 26, 8, 0);
    assert_eq!(retention::retention(s).await.unwrap(), Retention::default());
    assert_eq!(retention::compact_outbox(s, now).await.unwrap(), 2);
    let keys = |c| async move {
        s.list_docs(c)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(Collection::Outbox).await,
        ["b-new-m0", "b-old-m2", "b-old-m3", "fremd"]
    );
    let archive: Vec<ArchivedBatch> = s.load_docs(Collection::SendlogArchive).await.unwrap();
    assert_eq!(archive.len(), 1);
    assert_eq!(archive[0].batch_id, "b-old");
    assert_eq!(archive[0].messages.len(), 2);
    assert!(archive[0]
        .messages
        .iter()
        .all(|m| m.content.text.is_empty()));
    // The send log reads the same from outbox and archive together.
    let outbox: Vec<OutboxMessage> = s
        .list_docs(Collection::Outbox)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|d| serde_json::from_value(d.value).ok())
        .collect();
    let after = praxisbote::domain::retention::with_archive(outbox, archive);
    assert_eq!(log_rows(&batches, &after, None), log);
    // Again: nothing to do.
    assert_eq!(retention::compact_outbox(s, now).await.unwrap(), 0);
    // A shorter retention moves the young message too; the others stay (not final, not
    // re-sent).
    retention::set_retention(s, Retention { outbox_months: 1 })
        .await
        .unwrap();
    assert_eq!(retention::compact_outbox(s, now).await.unwrap(), 1);
    assert_eq!(keys(Collection::SendlogArchive).await, ["b-new", "b-old"]);
    assert_eq!(s.quarantined().await.unwrap(), 0);
}

/// Persons stored as versions 1 and 2 (before the salutation) read as the current domain
/// person — by etiquette, formal — and are written as the current version once changed, with
/// the salutation and the Du flag.
pub async fn older_person_records_read_forward(s: &dyn Store) {
    let v1 = with_birthday(person("v1", "Anna", "Adler"), d(1980, 5, 5));
    let v2 = person("v2", "Tim", "Weber");
    s.put_raw(
        &Origin::Person(pid("v1")),
        &records::person::encode_v1(&v1).unwrap(),
    )
    .await
    .unwrap();
    s.put_raw(
        &Origin::Person(pid("v2")),
        &records::person::encode_v2(&v2).unwrap(),
    )
    .await
    .unwrap();
    let read = s.all_persons().await.unwrap();
    assert_eq!(ids(&read), ["v1", "v2"]);
    for p in &read {
        assert_eq!(p.person.salutation, "");
        assert!(!p.person.du);
    }
    assert_eq!(read[1], v2);
    assert_eq!(s.quarantined().await.unwrap(), 0);

    let mut tim = read[1].clone();
    tim.person.salutation = "Hallo Tim".into();
    tim.person.du = true;
    s.put_persons(std::slice::from_ref(&tim)).await.unwrap();
    assert_eq!(s.get_person(&pid("v2")).await.unwrap(), Some(tim.clone()));
    let raw = s
        .get_raw(&Origin::Person(pid("v2")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.v, records::person::VERSION);
    // The version-1 person is still found by its birthday and unchanged.
    let md = |m, day| DayMonth::new(day, m).unwrap();
    assert_eq!(
        ids(&s.persons_by_birthday(md(5, 1), md(5, 31)).await.unwrap()),
        ["v1"]
    );
    assert_eq!(s.all_persons().await.unwrap(), [read[0].clone(), tim]);
}
