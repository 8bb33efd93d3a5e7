//! The storage conformance suite against IndexedDB in headless Chromium, plus the
//! IndexedDB-only tests (forced abort, reopen, migrations).
//!
//! Run:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test storage_idb`
#![cfg(target_arch = "wasm32")]

use praxisbote::storage::idb::IdbStore;
use praxisbote::storage::memory::MemoryStore;
use praxisbote::storage::migrate::{self, names, Change, Migration, SchemaModel, SchemaVersion};
use praxisbote::storage::{Collection, Doc, Store, StoreError};
use praxisbote_testkit::conformance;
use praxisbote_testkit::legacy;
use praxisbote_testkit::sample::{by_id, by_start, sample_appointments, sample_persons};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_name() -> String {
    format!("pb-test-{}", uuid::Uuid::new_v4())
}

macro_rules! idb_case {
    ($name:ident) => {
        #[wasm_bindgen_test]
        async fn $name() {
            let name = fresh_name();
            let store = IdbStore::open(&name).await.expect("open");
            conformance::$name(&store).await;
            store.close();
            IdbStore::delete_database(&name).await.expect("delete");
        }
    };
}

praxisbote_testkit::for_each_storage_case!(idb_case);

/// The encryption-at-rest cases against IndexedDB.
mod encryption {
    use super::*;
    use praxisbote_testkit::encryption;

    macro_rules! encryption_case {
        ($name:ident) => {
            #[wasm_bindgen_test]
            async fn $name() {
                let name = fresh_name();
                let store = IdbStore::open(&name).await.expect("open");
                encryption::$name(&store).await;
                store.close();
                IdbStore::delete_database(&name).await.expect("delete");
            }
        };
    }

    praxisbote_testkit::for_each_encryption_case!(encryption_case);
}

/// The whole conformance suite against an encrypted IndexedDB store.
mod encrypted {
    use super::*;
    use praxisbote_testkit::encryption;

    macro_rules! encrypted_case {
        ($name:ident) => {
            #[wasm_bindgen_test]
            async fn $name() {
                let name = fresh_name();
                let store = IdbStore::open(&name).await.expect("open");
                encryption::encrypt(&store).await;
                conformance::$name(&store).await;
                store.close();
                IdbStore::delete_database(&name).await.expect("delete");
            }
        };
    }

    praxisbote_testkit::for_each_storage_case!(encrypted_case);
}

/// Every key and value of every object store, read with the plain IndexedDB API (no
/// praxisbote code), as JSON text.
async fn raw_dump(store: &IdbStore) -> String {
    let db = store.raw_database();
    let names = db.object_store_names();
    let mut out = String::new();
    for i in 0..names.length() {
        let name = names.get(i).unwrap();
        let tx = db.transaction_with_str(&name).unwrap();
        let os = tx.object_store(&name).unwrap();
        for req in [os.get_all().unwrap(), os.get_all_keys().unwrap()] {
            let v = request(req).await;
            let text = js_sys::JSON::stringify(&v).unwrap();
            out.push_str(&String::from(text));
            out.push('\n');
        }
    }
    out
}

/// `text` as UTF-16 (little endian) bytes.
fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `dump` (raw IndexedDB rows) holds none of the test persons' values, in UTF-8 or UTF-16.
fn assert_no_secrets(dump: &str) {
    let dump16 = utf16(dump);
    for secret in praxisbote_testkit::encryption::secret_values() {
        assert!(!dump.contains(&secret), "{secret} found (UTF-8)");
        let needle = utf16(&secret);
        assert!(
            !dump16.windows(needle.len()).any(|w| w == needle.as_slice()),
            "{secret} found (UTF-16)"
        );
    }
}

/// After persons are written (before and after the passphrase is set), nothing in the raw
/// IndexedDB shows a name, phone number, e-mail or date of them, in UTF-8 or UTF-16; after
/// reopening the database is locked, and the passphrase or the recovery key unlocks it.
/// A second tab that opened the database before another tab encrypted it must not store
/// plain records afterwards: its writes (persons, documents, update) are refused inside
/// their transaction, and nothing of them is stored.
#[wasm_bindgen_test]
async fn a_tab_that_opened_the_database_unencrypted_cannot_write_after_it_was_encrypted() {
    use praxisbote_testkit::encryption::{encrypt, secret_persons};

    let name = fresh_name();
    let first = IdbStore::open(&name).await.unwrap();
    let other = IdbStore::open(&name).await.unwrap();
    let persons = secret_persons();
    // Before the set-up the other tab writes as usual.
    other.put_persons(&persons[..1]).await.unwrap();
    encrypt(&first).await;

    assert_eq!(
        other.put_persons(&persons[1..]).await.err(),
        Some(StoreError::EncryptedElsewhere)
    );
    let doc = Doc {
        key: "q1".into(),
        value: serde_json::json!({"name": persons[1].person.last_name}),
    };
    assert_eq!(
        other
            .put_docs(Collection::Queries, std::slice::from_ref(&doc))
            .await
            .err(),
        Some(StoreError::EncryptedElsewhere)
    );
    let changed = other
        .update(&[persons[0].id().clone()], &mut |read| {
            let mut p = read[0].clone().expect("stored");
            p.person.last_name = "Überschrieben".into();
            Ok(praxisbote::storage::OwnedWriteBatch {
                persons: vec![p],
                ..Default::default()
            })
        })
        .await;
    assert!(changed.is_err(), "{changed:?}");
    // Reading: the other tab sees sealed records it cannot open, and must not set them aside.
    assert_eq!(
        other.all_persons().await.err(),
        Some(StoreError::EncryptedElsewhere)
    );

    let dump = raw_dump(&first).await;
    assert_no_secrets(&dump);
    assert!(!dump.contains("Überschrieben"));
    assert_eq!(first.count_persons().await.unwrap(), 1);
    assert_eq!(first.quarantined().await.unwrap(), 0);
    first.close();
    other.close();
    IdbStore::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn raw_indexeddb_shows_no_personal_data_and_reopens_locked() {
    use praxisbote::storage::crypto::{self, LockState};
    use praxisbote_testkit::encryption::{encrypt, secret_persons, PASSPHRASE};

    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let persons = secret_persons();
    store.put_persons(&persons[..1]).await.unwrap();
    let plain = raw_dump(&store).await;
    // The check can fail: before encryption the values are there.
    assert!(plain.contains(&persons[0].person.last_name), "{plain}");
    let recovery = encrypt(&store).await;
    store.put_persons(&persons[1..]).await.unwrap();
    store.put_persons(&sample_persons(0, 200)).await.unwrap();
    assert_eq!(store.all_persons().await.unwrap().len(), 202);

    let dump = raw_dump(&store).await;
    assert_no_secrets(&dump);
    store.close();

    let store = IdbStore::open(&name).await.unwrap();
    assert_eq!(crypto::lock_state(&store), LockState::Locked);
    assert_eq!(store.all_persons().await.err(), Some(StoreError::Locked));
    assert_eq!(
        crypto::unlock(&store, "falsch").await.err(),
        Some(StoreError::WrongPassphrase)
    );
    crypto::unlock(&store, PASSPHRASE).await.unwrap();
    assert_eq!(store.count_persons().await.unwrap(), 202);
    store.close();

    let store = IdbStore::open(&name).await.unwrap();
    crypto::unlock_with_recovery(&store, &recovery.to_string())
        .await
        .unwrap();
    let got = store.get_persons(&[persons[0].person.id.clone()]).await;
    assert_eq!(got.unwrap(), [Some(persons[0].clone())]);
    assert_eq!(store.quarantined().await.unwrap(), 0);
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// The birthday index keys of `persons` as they would be stored unblinded, as JSON strings
/// (`"04-23"`, quotes included: a bare "04-23" could be part of any other value).
fn quoted_birthday_keys(persons: &[praxisbote::domain::PersonRecord]) -> Vec<String> {
    let mut v: Vec<String> = persons
        .iter()
        .filter_map(praxisbote::storage::keys::birthday_key)
        .map(|k| format!("\"{k}\""))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The quoted birthday keys of `keys` that `dump` contains.
fn found_in(dump: &str, keys: &[String]) -> Vec<String> {
    keys.iter()
        .filter(|k| dump.contains(k.as_str()))
        .cloned()
        .collect()
}

/// Persons by birthday over ranges that wrap the year end, hold 29.02. and cover the year.
async fn birthday_queries(store: &IdbStore) -> Vec<Vec<String>> {
    use praxisbote::domain::query::DayMonth;
    let md = |m, day| DayMonth::new(day, m).unwrap();
    let mut out = Vec::new();
    for (from, to) in [
        (md(12, 20), md(1, 10)),
        (md(2, 28), md(3, 1)),
        (md(4, 1), md(4, 30)),
        (md(1, 1), md(12, 31)),
        (md(3, 1), md(2, 29)),
    ] {
        let found = store.persons_by_birthday(from, to).await.unwrap();
        out.push(found.iter().map(|p| p.person.id.0.clone()).collect());
    }
    out
}

/// Persons whose birthdays fill the year, 29.02. and the year end included.
fn persons_of_every_season() -> Vec<praxisbote::domain::PersonRecord> {
    use praxisbote_testkit::sample::{d, with_birthday};
    let mut persons = praxisbote_testkit::encryption::secret_persons();
    persons.extend(sample_persons(0, 300));
    for (i, (m, day)) in [(2, 29), (12, 31), (1, 1), (12, 24), (2, 28), (3, 1)]
        .into_iter()
        .enumerate()
    {
        let p = sample_persons(1_000 + i as u64, 1).remove(0);
        persons.push(with_birthday(p, d(1980 + i as i32 * 4, m, day)));
    }
    persons
}

/// In an encrypted store no raw IndexedDB row holds a person's birthday key "MM-DD": not
/// after the migration of a plain database (`crypto::set_up`), nor after later writes. In
/// the plain store they are there (the check can fail), and the queries find the same
/// persons in the same order before and after.
#[wasm_bindgen_test]
async fn encrypted_rows_hold_no_birthday_key() {
    use praxisbote_testkit::encryption::encrypt;
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let persons = persons_of_every_season();
    let (old, new) = persons.split_at(200);
    let keys = quoted_birthday_keys(&persons);
    assert!(keys.len() > 150 && keys.contains(&"\"02-29\"".to_string()));
    store.put_persons(old).await.unwrap();
    let plain = raw_dump(&store).await;
    let shown = found_in(&plain, &quoted_birthday_keys(old));
    assert_eq!(shown, quoted_birthday_keys(old), "a plain store shows them");
    let before = birthday_queries(&store).await;

    encrypt(&store).await;
    assert_eq!(
        found_in(&raw_dump(&store).await, &keys),
        Vec::<String>::new()
    );
    assert_eq!(birthday_queries(&store).await, before);
    store.put_persons(new).await.unwrap();
    assert_eq!(
        found_in(&raw_dump(&store).await, &keys),
        Vec::<String>::new()
    );
    let mem = MemoryStore::new();
    mem.put_persons(&persons).await.unwrap();
    let md = |m, day| praxisbote::domain::query::DayMonth::new(day, m).unwrap();
    for (from, to) in [(md(12, 20), md(1, 10)), (md(3, 1), md(2, 29))] {
        assert_eq!(
            store.persons_by_birthday(from, to).await.unwrap(),
            mem.persons_by_birthday(from, to).await.unwrap()
        );
    }
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// The stored keyring (unsealed) as JSON.
async fn keyring_json(store: &IdbStore) -> serde_json::Value {
    use praxisbote::storage::crypto::KEYRING_KEY;
    use praxisbote::storage::records::Origin;
    let keyring = Origin::Document(Collection::Meta, KEYRING_KEY.into());
    let stored = store.get_raw(&keyring).await.unwrap().expect("a keyring");
    serde_json::from_str(&stored.body).unwrap()
}

/// A database encrypted by an earlier version holds "MM-DD" birthday keys and a keyring
/// without the blinding mark. The first unlock blinds every key and marks the keyring, in
/// one transaction; the birthday queries find the same persons; a later unlock writes
/// nothing.
#[wasm_bindgen_test]
async fn unlock_blinds_the_birthday_keys_of_an_older_encrypted_database() {
    use praxisbote::storage::crypto::{self, BIRTHDAY_INDEX_BLINDED, KEYRING_KEY};
    use praxisbote::storage::keys::birthday_key;
    use praxisbote::storage::records::{Origin, Stored};
    use praxisbote_testkit::encryption::{encrypt, PASSPHRASE};

    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let persons = persons_of_every_season();
    let keys = quoted_birthday_keys(&persons);
    let recovery = encrypt(&store).await;
    store.put_persons(&persons).await.unwrap();
    let expected = birthday_queries(&store).await;

    // What an earlier version stored: the same sealed records with "MM-DD" keys, and a
    // keyring without `birthday_index`.
    for p in &persons {
        let origin = Origin::Person(p.person.id.clone());
        let sealed = store.get_raw(&origin).await.unwrap().unwrap();
        let bday = birthday_key(p).unwrap_or_default();
        store
            .put_raw_person(&p.person.id, &bday, &sealed)
            .await
            .unwrap();
    }
    let keyring = Origin::Document(Collection::Meta, KEYRING_KEY.into());
    let mut body = keyring_json(&store).await;
    assert_eq!(body["birthday_index"], BIRTHDAY_INDEX_BLINDED);
    body.as_object_mut().unwrap().remove("birthday_index");
    let old = Stored {
        v: store.get_raw(&keyring).await.unwrap().unwrap().v,
        body: body.to_string(),
    };
    store.put_raw(&keyring, &old).await.unwrap();
    assert_eq!(
        found_in(&raw_dump(&store).await, &keys),
        keys,
        "the old form"
    );
    store.close();

    let store = IdbStore::open(&name).await.unwrap();
    crypto::unlock(&store, PASSPHRASE).await.unwrap();
    let dump = raw_dump(&store).await;
    assert_eq!(found_in(&dump, &keys), Vec::<String>::new());
    assert_eq!(keyring_json(&store).await["birthday_index"], 1);
    assert_eq!(birthday_queries(&store).await, expected);
    assert_eq!(store.quarantined().await.unwrap(), 0);
    // The keyring the store holds is the marked one (a backup or a passphrase change
    // writes it on).
    crypto::change_passphrase(&store, "Ein anderer Satz 2027!", crypto::KdfParams::TESTING)
        .await
        .unwrap();
    assert_eq!(keyring_json(&store).await["birthday_index"], 1);
    store.close();

    // Marked: the next unlock (here with the recovery key) writes nothing.
    let store = IdbStore::open(&name).await.unwrap();
    let before = raw_dump(&store).await;
    crypto::unlock_with_recovery(&store, &recovery.to_string())
        .await
        .unwrap();
    assert_eq!(raw_dump(&store).await, before);
    assert_eq!(birthday_queries(&store).await, expected);
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// A bulk person write of an encrypted store is sealed with WebCrypto before its transaction
/// opens, a single one with RustCrypto inside it; the raw IndexedDB shows nothing of them, and
/// every record opens with the RustCrypto path, also after reopening and unlocking.
#[wasm_bindgen_test]
async fn bulk_person_writes_are_sealed_with_webcrypto() {
    use praxisbote::storage::crypto::{self, web_sealed_count};
    use praxisbote::storage::Origin;
    use praxisbote_testkit::encryption::{encrypt, secret_persons, PASSPHRASE};

    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    encrypt(&store).await;
    let mut people = secret_persons();
    people.extend(sample_persons(0, 2_345));
    let before = web_sealed_count();
    store.put_persons(&people).await.unwrap();
    assert_eq!(web_sealed_count() - before, people.len() as u64);

    // One person: the synchronous RustCrypto path.
    let mut one = people[7].clone();
    one.person.last_name = "Einzeln".into();
    store.put_persons(std::slice::from_ref(&one)).await.unwrap();
    assert_eq!(web_sealed_count() - before, people.len() as u64);
    people[7] = one;

    let raw = store
        .get_raw(&Origin::Person(people[0].id().clone()))
        .await
        .unwrap()
        .unwrap();
    assert!(crypto::is_sealed(&raw.body), "{}", raw.body);
    let dump = raw_dump(&store).await;
    assert_no_secrets(&dump);
    assert_eq!(store.all_persons().await.unwrap(), by_id(&people));
    store.close();

    let store = IdbStore::open(&name).await.unwrap();
    crypto::unlock(&store, PASSPHRASE).await.unwrap();
    assert_eq!(store.all_persons().await.unwrap(), by_id(&people));
    assert_eq!(store.quarantined().await.unwrap(), 0);
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// A transaction that fails inside IndexedDB itself (a request error after many successful
/// puts, seen only at commit) leaves nothing behind.
#[wasm_bindgen_test]
async fn forced_abort_inside_indexeddb_rolls_back() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    store.put_persons(&sample_persons(0, 5)).await.unwrap();
    let before = store.all_persons().await.unwrap();

    store.fail_after_puts(Some(150));
    let err = store
        .put_persons(&sample_persons(0, 300))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    store.fail_after_puts(None);

    assert_eq!(store.all_persons().await.unwrap(), before);
    assert_eq!(store.count_persons().await.unwrap(), 5);
    // The store is still usable afterwards.
    store.put_persons(&sample_persons(5, 5)).await.unwrap();
    assert_eq!(store.count_persons().await.unwrap(), 10);
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn data_survives_reopening() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let people = sample_persons(0, 50);
    store.put_persons(&people).await.unwrap();
    store
        .put_docs(
            Collection::Meta,
            &[Doc {
                key: "demo".into(),
                value: serde_json::json!(true),
            }],
        )
        .await
        .unwrap();
    store.close();

    let store = IdbStore::open(&name).await.unwrap();
    assert_eq!(store.all_persons().await.unwrap(), by_id(&people));
    assert!(!store.is_empty().await.unwrap());
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn persistent_storage_request_answers() {
    // Headless Chromium may grant or refuse; the helper must answer without failing.
    let _granted: bool = praxisbote::storage::idb::request_persistent_storage().await;
}

/// The schema as IndexedDB reports it: store → (key path, index → (key path, multiEntry)).
fn actual_schema(store: &IdbStore) -> SchemaModel {
    use praxisbote::storage::migrate::StoreModel;
    let db: &web_sys::IdbDatabase = store.raw_database();
    let names = db.object_store_names();
    let list: Vec<String> = (0..names.length()).filter_map(|i| names.item(i)).collect();
    let mut model = SchemaModel::default();
    if list.is_empty() {
        return model;
    }
    let arr: js_sys::Array = list
        .iter()
        .map(|s| wasm_bindgen::JsValue::from_str(s))
        .collect();
    let tx = db.transaction_with_str_sequence(&arr).unwrap();
    for name in list {
        let os = tx.object_store(&name).unwrap();
        let mut sm = StoreModel {
            key_path: os.key_path().unwrap().as_string().unwrap_or_default(),
            ..Default::default()
        };
        let idx = os.index_names();
        for i in 0..idx.length() {
            let iname = idx.item(i).unwrap();
            let index = os.index(&iname).unwrap();
            sm.indices.insert(
                iname,
                (
                    index.key_path().unwrap().as_string().unwrap_or_default(),
                    index.multi_entry(),
                ),
            );
        }
        model.stores.insert(name, sm);
    }
    model
}

/// Migration 0 → 1: a fresh database gets exactly the V1 schema.
#[wasm_bindgen_test]
async fn migration_v1_from_nothing() {
    let name = fresh_name();
    let store = IdbStore::open_with(&name, vec![SchemaVersion::V1.migration()], 1)
        .await
        .unwrap();
    assert_eq!(store.database().version() as u32, 1);
    assert_eq!(
        actual_schema(&store),
        SchemaModel::build(&[SchemaVersion::V1.migration()]).unwrap()
    );
    // And the app's current schema equals the simulated one.
    store.close();
    let store = IdbStore::open(&name).await.unwrap();
    assert_eq!(
        actual_schema(&store),
        SchemaModel::build(&migrate::migrations()).unwrap()
    );
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// The app's migrations up to schema `version`.
fn up_to(version: u32) -> Vec<Migration> {
    migrate::migrations()
        .into_iter()
        .filter(|m| m.version <= version)
        .collect()
}

/// A database at schema `version` holding `people`, appointments, templates and settings in
/// the shapes of that version: written as schema-1 rows (one row per person, rows without a
/// record version), then upgraded by the app's own steps up to `version`.
async fn old_database(
    version: u32,
    people: &[praxisbote::domain::PersonRecord],
    appts: &[praxisbote::domain::Appointment],
) -> String {
    let name = fresh_name();
    let store = IdbStore::open_with(&name, up_to(1), 1).await.unwrap();
    let db: wasm_bindgen::JsValue = store.raw_database().clone().into();
    legacy::put_rows(&db, names::PERSONS, &legacy::person_rows_v1(people)).await;
    let appointment_rows: js_sys::Array = appts.iter().map(legacy::appointment_row_v1).collect();
    legacy::put_rows(&db, names::APPOINTMENTS, &appointment_rows).await;
    let docs = js_sys::Array::of2(
        &legacy::doc_row_v1("t1", &serde_json::json!({"name": "Alt", "body": "Hallo"})),
        &legacy::doc_row_v1("t2", &serde_json::json!(["liste"])),
    );
    legacy::put_rows(&db, "templates", &docs).await;
    let settings = serde_json::to_value(settings_v1()).unwrap();
    legacy::put_rows(
        &db,
        names::SETTINGS,
        &js_sys::Array::of1(&legacy::doc_row_v1(names::SETTINGS_KEY, &settings)),
    )
    .await;
    store.close();
    if version > 1 {
        IdbStore::open_with(&name, up_to(version), version)
            .await
            .unwrap()
            .close();
    }
    name
}

/// The persons as records written before guardians existed (person record < 4) read back:
/// without the guardians the sample's minors have.
fn without_guardians(
    people: &[praxisbote::domain::PersonRecord],
) -> Vec<praxisbote::domain::PersonRecord> {
    people
        .iter()
        .cloned()
        .map(|mut r| {
            r.person.guardians.clear();
            r
        })
        .collect()
}

/// The sample settings as a version-1 settings record could hold them: without the message
/// labels of appointment types and the therapist switch (settings record 2, issue 15), which
/// read as their defaults.
fn settings_v1() -> praxisbote::domain::PracticeSettings {
    praxisbote::domain::PracticeSettings {
        appointment_labels: Default::default(),
        therapist_in_messages: false,
        ..praxisbote_testkit::sample::settings()
    }
}

/// Every old schema version upgrades to the latest with every record readable (rows
/// without a record version read as version 1), the schema equal to the simulated one, and
/// nothing set aside.
#[wasm_bindgen_test]
async fn migrations_upgrade_data_of_every_old_version() {
    let all = migrate::migrations();
    let people = sample_persons(0, 60);
    let appts = sample_appointments(&people, 30);
    let mem = MemoryStore::new();
    mem.put_persons(&without_guardians(&people)).await.unwrap();
    for old in 1..SchemaVersion::LATEST.number() {
        let name = old_database(old, &people, &appts).await;
        let store = IdbStore::open(&name).await.unwrap();
        assert_eq!(
            store.database().version() as u32,
            SchemaVersion::LATEST.number()
        );
        assert_eq!(
            store.all_persons().await.unwrap(),
            mem.all_persons().await.unwrap(),
            "from v{old}"
        );
        assert_eq!(store.count_persons().await.unwrap(), people.len());
        assert_eq!(
            store
                .appointments_between(start(1, 0).date(), start(3, 0).date())
                .await
                .unwrap(),
            by_start(&appts),
            "from v{old}"
        );
        assert_eq!(
            store.settings().await.unwrap(),
            Some(settings_v1()),
            "from v{old}"
        );
        assert_eq!(
            store.list_docs(Collection::Templates).await.unwrap().len(),
            2
        );
        assert_eq!(store.quarantined().await.unwrap(), 0, "from v{old}");
        assert_eq!(actual_schema(&store), SchemaModel::build(&all).unwrap());
        store.close();
        IdbStore::delete_database(&name).await.unwrap();
    }
}

/// Migration 2 → 3: the buckets lose the keys of the deleted indices (folded by a second,
/// different text fold) and gain record versions; the birthday query answers as before.
#[wasm_bindgen_test]
async fn migration_v2_to_v3_drops_the_old_keys_and_keeps_the_birthday_query() {
    use praxisbote::domain::query::DayMonth;
    use wasm_bindgen::JsCast;
    let people = sample_persons(0, 400);
    let name = old_database(2, &people, &[]).await;
    let store = IdbStore::open(&name).await.unwrap();
    // The raw bucket rows: only the fields of schema 3.
    let db: &web_sys::IdbDatabase = store.raw_database();
    let tx = db.transaction_with_str(names::PERSONS).unwrap();
    let rows = request(tx.object_store(names::PERSONS).unwrap().get_all().unwrap()).await;
    let rows: js_sys::Array = rows.unchecked_into();
    assert!(rows.length() > 300, "{} buckets", rows.length());
    for row in rows.iter() {
        let mut fields: Vec<String> = js_sys::Object::keys(row.unchecked_ref::<js_sys::Object>())
            .iter()
            .map(|k| k.as_string().unwrap())
            .collect();
        fields.sort();
        let b = js_sys::Reflect::get(&row, &"b".into()).unwrap().as_f64();
        if b == Some(-1.0) {
            assert_eq!(fields, ["b", "n"]);
        } else {
            assert_eq!(fields, ["b", "bdays", "ids", "json", "vs"]);
        }
    }
    let mem = MemoryStore::new();
    mem.put_persons(&without_guardians(&people)).await.unwrap();
    let md = |m, d| DayMonth::new(d, m).unwrap();
    for (from, to) in [
        (md(1, 1), md(12, 31)),
        (md(3, 10), md(4, 2)),
        (md(12, 20), md(1, 10)),
        (md(2, 28), md(3, 1)),
    ] {
        let got = store.persons_by_birthday(from, to).await.unwrap();
        assert!(!got.is_empty(), "{from}–{to}");
        assert_eq!(got, mem.persons_by_birthday(from, to).await.unwrap());
    }
    // The migrated store keeps working: update, delete, count.
    let mut changed = people[3].clone();
    changed.person.first_name = "Geändert".into();
    store.put_persons(&[changed.clone()]).await.unwrap();
    store.delete_person(&people[4].person.id).await.unwrap();
    assert_eq!(store.count_persons().await.unwrap(), people.len() - 1);
    assert_eq!(
        store.get_person(&changed.person.id).await.unwrap(),
        Some(changed)
    );
    assert_eq!(store.get_person(&people[4].person.id).await.unwrap(), None);
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// Test-only next version: every appointment row gets its day, indexed.
fn add_day_field(row: &mut serde_json::Value) -> Result<(), String> {
    let start = row["start"].as_str().ok_or("start fehlt")?;
    row["day"] = serde_json::Value::String(start.get(..10).ok_or("start zu kurz")?.into());
    Ok(())
}

fn broken_rewrite(_: &mut serde_json::Value) -> Result<(), String> {
    Err("absichtlich kaputt".into())
}

const NEXT_DAY: &[Change] = &[
    Change::RewriteRows {
        store: names::APPOINTMENTS,
        rewrite: add_day_field,
    },
    Change::CreateIndex {
        store: names::APPOINTMENTS,
        index: "day",
        key_path: "day",
        multi_entry: false,
    },
];

const NEXT_BROKEN: &[Change] = &[
    Change::CreateIndex {
        store: names::APPOINTMENTS,
        index: "day",
        key_path: "day",
        multi_entry: false,
    },
    Change::RewriteRows {
        store: names::APPOINTMENTS,
        rewrite: broken_rewrite,
    },
];

/// The version after the app's latest (a test-only step).
const NEXT: u32 = SchemaVersion::ALL.len() as u32 + 1;

fn with_next(changes: &'static [Change]) -> Vec<Migration> {
    let mut v = migrate::migrations();
    v.push(Migration {
        version: NEXT,
        changes,
    });
    v
}

fn start(day: u32, h: u32) -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 3, day)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

/// The framework steps through a (test-only) next version with a data rewrite and a new index.
#[wasm_bindgen_test]
async fn migration_steps_to_a_new_version_with_rewrite_and_index() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let people = sample_persons(0, 40);
    store.put_persons(&people).await.unwrap();
    let appts = sample_appointments(&people, 30);
    store.put_appointments(&appts).await.unwrap();
    store.close();

    let store = IdbStore::open_with(&name, with_next(NEXT_DAY), NEXT)
        .await
        .unwrap();
    assert_eq!(store.database().version() as u32, NEXT);
    assert_eq!(
        actual_schema(&store),
        SchemaModel::build(&with_next(NEXT_DAY)).unwrap()
    );
    // Every row got the field, so the new index has every appointment under its day.
    let db: &web_sys::IdbDatabase = store.raw_database();
    let tx = db.transaction_with_str(names::APPOINTMENTS).unwrap();
    let index = tx
        .object_store(names::APPOINTMENTS)
        .unwrap()
        .index("day")
        .unwrap();
    let found = request(
        index
            .get_all_keys_with_key(&wasm_bindgen::JsValue::from_str("2026-03-02"))
            .unwrap(),
    )
    .await;
    let found: Vec<String> = found
        .unchecked_into::<js_sys::Array>()
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    let want: Vec<String> = appts
        .iter()
        .filter(|a| a.start.date() == start(2, 0).date())
        .map(|a| a.id.0.clone())
        .collect();
    assert_eq!(found, want);
    let total = request(index.count().unwrap()).await.as_f64().unwrap() as usize;
    assert_eq!(total, appts.len());
    // The records themselves are untouched and queries still work.
    assert_eq!(store.all_persons().await.unwrap(), by_id(&people));
    assert_eq!(
        store
            .appointments_between(start(1, 0).date(), start(3, 0).date())
            .await
            .unwrap()
            .len(),
        appts.len()
    );
    store.close();

    // The app (which does not know NEXT) refuses the newer database with a German message.
    let err = IdbStore::open(&name).await.unwrap_err();
    assert_eq!(
        err,
        StoreError::TooNew {
            found: NEXT,
            supported: NEXT - 1
        }
    );
    assert!(err.to_string().contains("neueren Version"));
    IdbStore::delete_database(&name).await.unwrap();
}

/// A failing step aborts the whole upgrade: the database stays at the old version, intact.
#[wasm_bindgen_test]
async fn failing_migration_leaves_old_version_intact() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let people = sample_persons(0, 10);
    store.put_persons(&people).await.unwrap();
    let appts = sample_appointments(&people, 5);
    store.put_appointments(&appts).await.unwrap();
    store.close();

    let err = IdbStore::open_with(&name, with_next(NEXT_BROKEN), NEXT)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("absichtlich kaputt"), "{err}");

    let store = IdbStore::open(&name).await.unwrap();
    assert_eq!(store.database().version() as u32, NEXT - 1);
    assert_eq!(
        actual_schema(&store),
        SchemaModel::build(&migrate::migrations()).unwrap()
    );
    assert_eq!(store.all_persons().await.unwrap(), by_id(&people));
    assert_eq!(
        store
            .appointments_between(start(1, 0).date(), start(3, 0).date())
            .await
            .unwrap()
            .len(),
        appts.len()
    );
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export function pb_test_request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
"#)]
extern "C" {
    fn pb_test_request(req: &web_sys::IdbRequest) -> js_sys::Promise;
}

async fn request(req: web_sys::IdbRequest) -> wasm_bindgen::JsValue {
    wasm_bindgen_futures::JsFuture::from(pb_test_request(&req))
        .await
        .expect("request")
}

/// The same id twice in one batch (packed into one bucket string): the later record wins.
#[wasm_bindgen_test]
async fn the_later_of_two_records_with_one_id_wins() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let mut people = sample_persons(0, 60);
    let mut again = people[7].clone();
    again.person.first_name = "Zweitfassung".into();
    people.push(again.clone());
    let mem = MemoryStore::new();
    for s in [&store as &dyn Store, &mem as &dyn Store] {
        s.put_persons(&people).await.unwrap();
    }
    assert_eq!(store.count_persons().await.unwrap(), 60);
    assert_eq!(
        store.get_person(&again.person.id).await.unwrap(),
        Some(again)
    );
    assert_eq!(
        store.all_persons().await.unwrap(),
        mem.all_persons().await.unwrap()
    );
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// Updates started at the same time each read the person and write it back incremented; as
/// each one reads and writes in ONE transaction, IndexedDB runs them one after the other and
/// no increment is lost (with a read and a separate write, all would read 0 and write 1).
#[wasm_bindgen_test]
async fn concurrent_updates_lose_no_write() {
    use praxisbote::storage::OwnedWriteBatch;
    use std::rc::Rc;
    let name = fresh_name();
    let store = Rc::new(IdbStore::open(&name).await.unwrap());
    let person = sample_persons(0, 1).remove(0);
    let id = person.person.id.clone();
    store.put_persons(&[person]).await.unwrap();
    let bump = |store: Rc<IdbStore>, id: praxisbote::domain::PersonId| {
        wasm_bindgen_futures::future_to_promise(async move {
            store
                .update(&[id], &mut |read| {
                    let mut p = read[0].clone().expect("stored");
                    let n: u32 = p.sensitive.profession.parse().unwrap_or(0);
                    p.sensitive.profession = (n + 1).to_string();
                    Ok(OwnedWriteBatch {
                        persons: vec![p],
                        ..Default::default()
                    })
                })
                .await
                .map(|()| wasm_bindgen::JsValue::UNDEFINED)
                .map_err(|e| wasm_bindgen::JsValue::from_str(&e.to_string()))
        })
    };
    let all: js_sys::Array = (0..4).map(|_| bump(store.clone(), id.clone())).collect();
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::all(&all))
        .await
        .expect("every update succeeds");
    let stored = store.get_person(&id).await.unwrap().unwrap();
    assert_eq!(stored.sensitive.profession, "4");
    Rc::try_unwrap(store).expect("no other owner").close();
    IdbStore::delete_database(&name).await.unwrap();
}
