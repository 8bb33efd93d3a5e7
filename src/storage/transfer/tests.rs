use super::*;
use crate::domain::backup;
use crate::domain::demo;
use crate::domain::import::{plan_person_import, read_table, ImportKind, ImportOptions, Mapping};
use crate::domain::PersonId;
use crate::storage::memory::MemoryStore;
use pollster::block_on;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn plan(bytes: &[u8], existing: &[PersonRecord]) -> ImportPlan {
    let table = read_table(bytes).unwrap();
    let mapping = Mapping::auto(&table.headers, ImportKind::Persons);
    let mut n = 0;
    plan_person_import(
        &table,
        &mapping,
        existing,
        &ImportOptions::new(today()),
        &mut || {
            n += 1;
            PersonId(format!("imp-{n}"))
        },
    )
    .unwrap()
}

/// Everything a store holds, for comparisons.
async fn dump(s: &dyn Store) -> (Vec<PersonRecord>, usize, Option<String>, Vec<Vec<Doc>>) {
    let mut docs = Vec::new();
    for c in Collection::ALL {
        docs.push(s.list_docs(c).await.unwrap());
    }
    (
        s.all_persons().await.unwrap(),
        s.appointments_between(ALL_FROM, ALL_TO)
            .await
            .unwrap()
            .len(),
        s.settings().await.unwrap().map(|x| x.name),
        docs,
    )
}

#[test]
fn import_stores_inserts_and_updates_at_once() {
    let s = MemoryStore::new();
    let first = plan(&fixture("patients_cp1252.csv"), &[]);
    assert!(!first.inserts.is_empty());
    let n = first.inserts.len();
    let (records, result) = import_records(first);
    block_on(apply_person_import(&s, &records, result, today())).unwrap();
    assert_eq!(block_on(s.count_persons()).unwrap(), n);
    let note = block_on(s.get_doc(Collection::Meta, LAST_IMPORT_KEY))
        .unwrap()
        .unwrap();
    assert_eq!(note["inserted"], n);

    // The same file again with "update": no new persons, all updated.
    let existing = block_on(s.all_persons()).unwrap();
    let table = read_table(&fixture("patients_cp1252.csv")).unwrap();
    let mapping = Mapping::auto(&table.headers, ImportKind::Persons);
    let mut options = ImportOptions::new(today());
    options.on_duplicate = crate::domain::import::DuplicateAction::Update;
    let again = plan_person_import(&table, &mapping, &existing, &options, &mut || {
        PersonId("never".into())
    })
    .unwrap();
    assert!(again.inserts.is_empty());
    assert_eq!(again.updates.len(), n);
    let (records, result) = import_records(again);
    assert_eq!(result.updated, n);
    block_on(apply_person_import(&s, &records, result, today())).unwrap();
    assert_eq!(block_on(s.count_persons()).unwrap(), n);
}

#[test]
fn failing_import_leaves_the_store_unchanged() {
    let s = MemoryStore::new();
    let d = demo::generate(3, today());
    block_on(s.write(WriteBatch {
        persons: &d.persons,
        appointments: &d.appointments,
        settings: Some(&d.settings),
        ..Default::default()
    }))
    .unwrap();
    let before = block_on(dump(&s));
    let p = plan(&fixture("patients_utf8_semicolon.csv"), &before.0);
    let (mut records, result) = import_records(p);
    assert!(records.len() > 2);
    // One broken record at the end (no name) makes the whole import fail.
    let last = records.len() - 1;
    records[last].person.first_name.clear();
    records[last].person.last_name.clear();
    let err = block_on(apply_person_import(&s, &records, result, today())).unwrap_err();
    assert!(err.to_string().contains("nichts gespeichert"), "{err}");
    assert_eq!(block_on(dump(&s)), before);
}

fn filled_store() -> MemoryStore {
    let s = MemoryStore::new();
    let d = demo::generate(5, today());
    let docs = [
        DocOp::Put {
            collection: Collection::Templates,
            key: "eigene-sms".into(),
            value: json!({"id": "eigene-sms", "name": "Eigene SMS", "body": "Hallo"}),
        },
        DocOp::Put {
            collection: Collection::Queries,
            key: "Recall".into(),
            value: json!({"name": "Recall", "conditions": []}),
        },
        DocOp::Put {
            collection: Collection::Sendlog,
            key: "s-1".into(),
            value: json!("a plain string document"),
        },
        DocOp::Put {
            collection: Collection::Outbox,
            key: "m-1".into(),
            value: json!({"state": "queued"}),
        },
        DocOp::Put {
            collection: Collection::Meta,
            key: "demo".into(),
            value: json!(true),
        },
    ];
    block_on(s.write(WriteBatch {
        persons: &d.persons,
        appointments: &d.appointments,
        settings: Some(&d.settings),
        docs: &docs,
        ..Default::default()
    }))
    .unwrap();
    block_on(mark_backup(&s, today())).unwrap();
    s
}

#[test]
fn backup_round_trip_restores_everything() {
    let source = filled_store();
    let at = today().and_hms_opt(9, 30, 0).unwrap();
    let b = block_on(collect_backup(&source, at)).unwrap();
    assert_eq!(b.documents.len(), 5, "{:?}", b.documents.keys());
    assert!(!b.documents["meta"]
        .iter()
        .any(|d| d["key"] == LAST_BACKUP_KEY));
    let json = backup::export(&b);
    let parsed = backup::parse(&json).unwrap();

    // Restore into a store holding other data: everything is replaced.
    let target = MemoryStore::new();
    let other = demo::generate_persons(20, 9, today());
    block_on(target.put_persons(&other)).unwrap();
    let earlier = today() - chrono::Duration::days(3);
    block_on(restore_backup(&target, &parsed, Some(earlier))).unwrap();

    let (sp, sa, ss, mut sd) = block_on(dump(&source));
    let (tp, ta, ts, mut td) = block_on(dump(&target));
    assert_eq!(tp, sp);
    assert_eq!((ta, ts), (sa, ss));
    assert!(ta > 0);
    // Meta differs only by the last-backup mark (kept from the target).
    let meta = Collection::ALL
        .iter()
        .position(|c| *c == Collection::Meta)
        .unwrap();
    assert_eq!(
        block_on(last_backup(&target)).unwrap(),
        Some(earlier),
        "the target's own mark is kept"
    );
    sd[meta].retain(|d| d.key != LAST_BACKUP_KEY);
    td[meta].retain(|d| d.key != LAST_BACKUP_KEY);
    assert_eq!(td, sd);
}

#[test]
fn restore_of_version_1_and_broken_documents() {
    let v1 = json!({
        "format": "praxisbote-backup", "version": 1,
        "created_at": "2025-03-01T10:00:00", "settings": null,
        "persons": [{"id": "p1", "kind": "patient", "first_name": "Anna",
                     "last_name": "Müller", "gender": "female", "birth_date": "1980-11-26"}],
        "appointments": [],
        "templates": [{"id": "t1", "name": "Alt"}],
        "sendlog": [{"id": "s1"}]
    });
    let b = backup::parse(&v1.to_string()).unwrap();
    let s = filled_store();
    block_on(restore_backup(&s, &b, None)).unwrap();
    let persons = block_on(s.all_persons()).unwrap();
    assert_eq!(persons.len(), 1);
    assert_eq!(
        persons[0].sensitive.birth_date,
        NaiveDate::from_ymd_opt(1980, 11, 26)
    );
    assert_eq!(
        block_on(s.get_doc(Collection::Templates, "t1")).unwrap(),
        Some(json!({"id": "t1", "name": "Alt"}))
    );
    assert_eq!(block_on(s.list_docs(Collection::Sendlog)).unwrap().len(), 1);
    assert_eq!(block_on(last_backup(&s)).unwrap(), None);

    // Broken documents: the restore is refused and nothing changes.
    let s = filled_store();
    let before = block_on(dump(&s));
    for (store, doc) in [
        ("templates", json!(42)),
        ("templates", json!({"body": "ohne Schlüssel"})),
        ("unbekannt", json!({"id": "x"})),
    ] {
        let mut bad = b.clone();
        bad.documents.insert(store.to_string(), vec![doc]);
        let err = block_on(restore_backup(&s, &bad, None)).unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
        assert_eq!(block_on(dump(&s)), before);
    }
}

/// The fixture the end-to-end test imports: Windows-1252, `;`, a Diagnose column, three
/// broken rows (impossible date, no name, bad consent value) and two good ones.
#[test]
fn e2e_fixture_gives_the_expected_report() {
    let p = plan(&fixture("e2e_diagnose_cp1252.csv"), &[]);
    assert_eq!(p.treatment_columns, ["Diagnose"]);
    let names: Vec<&str> = p
        .inserts
        .iter()
        .map(|r| r.person.last_name.as_str())
        .collect();
    assert_eq!(names, ["Größlich", "Zwölfer"]);
    let errors: Vec<String> = p.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].starts_with("Zeile 3 (Datensatz 2), Spalte „Geburtsdatum“"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with("Zeile 4 (Datensatz 3)"),
        "{errors:#?}"
    );
    assert!(errors[1].contains("Name fehlt"), "{errors:#?}");
    assert!(
        errors[2].starts_with("Zeile 5 (Datensatz 4), Spalte „SMS erlaubt“"),
        "{errors:#?}"
    );
}

#[test]
fn appointment_import_needs_stored_persons() {
    use crate::domain::import::{plan_appointment_import, AppointmentImportOptions};
    let s = MemoryStore::new();
    let (persons, result) = import_records(plan(&fixture("patients_utf8_semicolon.csv"), &[]));
    let table = read_table(&fixture("appointments.csv")).unwrap();
    let mapping = Mapping::auto(&table.headers, ImportKind::Appointments);
    let mut n = 0;
    let p = plan_appointment_import(
        &table,
        &mapping,
        &persons,
        &AppointmentImportOptions::new(today()),
        &mut || {
            n += 1;
            crate::domain::AppointmentId(format!("a{n}"))
        },
    )
    .unwrap();
    assert!(!p.inserts.is_empty());
    // The persons are not stored yet: refused, nothing written.
    let err = block_on(apply_appointment_import(&s, &p.inserts, today())).unwrap_err();
    assert!(matches!(err, StoreError::UnknownPerson { .. }), "{err:?}");
    assert!(block_on(s.is_empty()).unwrap());
    block_on(apply_person_import(&s, &persons, result, today())).unwrap();
    block_on(apply_appointment_import(&s, &p.inserts, today())).unwrap();
    let stored = block_on(s.appointments_between(ALL_FROM, ALL_TO)).unwrap();
    assert_eq!(stored.len(), p.inserts.len());
}

#[test]
fn last_backup_mark() {
    let s = MemoryStore::new();
    assert_eq!(block_on(last_backup(&s)).unwrap(), None);
    block_on(mark_backup(&s, today())).unwrap();
    assert_eq!(block_on(last_backup(&s)).unwrap(), Some(today()));
    assert!(!backup::backup_due(
        block_on(last_backup(&s)).unwrap(),
        today()
    ));
}
