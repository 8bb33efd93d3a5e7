//! Import and backup against real IndexedDB in headless Chromium: the import is applied in one
//! transaction (a failure inside IndexedDB leaves the database unchanged), and a backup
//! survives the round trip store → JSON file → another store, also when the restore fails
//! half-way.
//!
//! Run: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test import_idb`
#![cfg(target_arch = "wasm32")]

use chrono::NaiveDate;
use praxisbote::domain::backup;
use praxisbote::domain::demo;
use praxisbote::domain::import::{
    plan_person_import, read_table, ImportKind, ImportOptions, ImportPlan, Mapping,
};
use praxisbote::domain::{PersonId, PersonRecord};
use praxisbote::storage::idb::IdbStore;
use praxisbote::storage::transfer::{self, import_records};
use praxisbote::storage::{Collection, Doc, DocOp, Store, StoreError, WriteBatch};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CP1252: &[u8] = include_bytes!("fixtures/import/patients_cp1252.csv");
const E2E_FIXTURE: &[u8] = include_bytes!("fixtures/import/e2e_diagnose_cp1252.csv");

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn fresh_name() -> String {
    format!("pb-import-test-{}", uuid::Uuid::new_v4())
}

fn plan(bytes: &[u8], existing: &[PersonRecord]) -> ImportPlan {
    let table = read_table(bytes).unwrap();
    let mapping = Mapping::auto(&table.headers, ImportKind::Persons);
    plan_person_import(
        &table,
        &mapping,
        existing,
        &ImportOptions::new(today()),
        &mut || PersonId(uuid::Uuid::new_v4().to_string()),
    )
    .unwrap()
}

type Dump = (Vec<PersonRecord>, usize, Option<String>, Vec<Vec<Doc>>);

async fn dump(s: &dyn Store) -> Dump {
    let mut docs = Vec::new();
    for c in Collection::ALL {
        docs.push(s.list_docs(c).await.unwrap());
    }
    let from = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap();
    (
        s.all_persons().await.unwrap(),
        s.appointments_between(from, to).await.unwrap().len(),
        s.settings().await.unwrap().map(|x| x.name),
        docs,
    )
}

/// The demo practice plus one document in every collection.
async fn fill(s: &IdbStore) {
    let d = demo::generate(7, today());
    let docs: Vec<DocOp> = Collection::ALL
        .iter()
        .map(|&c| DocOp::Put {
            collection: c,
            key: format!("{}-1", c.store_name()),
            value: json!({"von": c.store_name(), "text": "Grüße aus Köln"}),
        })
        .collect();
    s.write(WriteBatch {
        persons: &d.persons,
        appointments: &d.appointments,
        settings: Some(&d.settings),
        docs: &docs,
        ..Default::default()
    })
    .await
    .unwrap();
}

#[wasm_bindgen_test]
async fn import_is_stored_and_searchable() {
    let name = fresh_name();
    let s = IdbStore::open(&name).await.unwrap();
    fill(&s).await;
    let before = s.count_persons().await.unwrap();
    let p = plan(E2E_FIXTURE, &s.all_persons().await.unwrap());
    assert_eq!(p.treatment_columns, ["Diagnose"]);
    assert_eq!(p.inserts.len(), 2, "{}", p.summary_de());
    assert_eq!(p.errors.len(), 3, "{:?}", p.errors);
    let (records, result) = import_records(p);
    transfer::apply_person_import(&s, &records, result, today())
        .await
        .unwrap();
    assert_eq!(s.count_persons().await.unwrap(), before + 2);
    let found: Vec<_> = s
        .all_persons()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.person.last_name == "Größlich")
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].person.first_name, "Jürgen");
    assert_eq!(found[0].person.external_id.as_deref(), Some("E-1001"));
    s.close();
    IdbStore::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn failing_import_leaves_the_database_unchanged() {
    let name = fresh_name();
    let s = IdbStore::open(&name).await.unwrap();
    fill(&s).await;
    let before = dump(&s).await;

    // 1. A failure inside IndexedDB after some puts (seen only at commit).
    let mut big = plan(CP1252, &[]);
    let extra = praxisbote_testkit::sample::sample_persons(0, 300);
    big.inserts.extend(extra);
    let (records, result) = import_records(big);
    s.fail_after_puts(Some(150));
    let err = transfer::apply_person_import(&s, &records, result, today())
        .await
        .unwrap_err();
    s.fail_after_puts(None);
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert_eq!(dump(&s).await, before);

    // 2. An invalid record at the end of the batch.
    let (mut records, result) = import_records(plan(CP1252, &[]));
    let last = records.len() - 1;
    records[last].person.first_name.clear();
    records[last].person.last_name.clear();
    let err = transfer::apply_person_import(&s, &records, result, today())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(dump(&s).await, before);
    s.close();
    IdbStore::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn backup_round_trip_through_indexeddb() {
    let (a, b) = (fresh_name(), fresh_name());
    let source = IdbStore::open(&a).await.unwrap();
    fill(&source).await;
    transfer::mark_backup(&source, today()).await.unwrap();
    let at = today().and_hms_opt(8, 0, 0).unwrap();
    let file = backup::export(&transfer::collect_backup(&source, at).await.unwrap());
    let parsed = backup::parse(&file).unwrap();
    assert_eq!(parsed.created_at, at);

    let target = IdbStore::open(&b).await.unwrap();
    target
        .put_persons(&praxisbote_testkit::sample::sample_persons(0, 30))
        .await
        .unwrap();
    transfer::restore_backup(&target, &parsed, None)
        .await
        .unwrap();
    let (sp, sa, ss, mut sd) = dump(&source).await;
    let (tp, ta, ts, td) = dump(&target).await;
    assert_eq!(tp, sp);
    assert_eq!((ta, ts), (sa, ss));
    assert!(ta > 0);
    // The source's last-backup mark is not part of the backup.
    let meta = Collection::ALL
        .iter()
        .position(|c| *c == Collection::Meta)
        .unwrap();
    sd[meta].retain(|d| d.key != transfer::LAST_BACKUP_KEY);
    assert_eq!(td, sd);

    // A restore that fails inside IndexedDB (after clearing and many puts) changes nothing.
    let c = fresh_name();
    let other = IdbStore::open(&c).await.unwrap();
    let small = praxisbote_testkit::sample::sample_persons(1000, 10);
    other.put_persons(&small).await.unwrap();
    let before = dump(&other).await;
    other.fail_after_puts(Some(200));
    let err = transfer::restore_backup(&other, &parsed, None)
        .await
        .unwrap_err();
    other.fail_after_puts(None);
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert_eq!(dump(&other).await, before);

    source.close();
    target.close();
    other.close();
    IdbStore::delete_database(&a).await.unwrap();
    IdbStore::delete_database(&b).await.unwrap();
    IdbStore::delete_database(&c).await.unwrap();
}
