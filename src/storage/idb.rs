//! IndexedDB [`Store`] (browser only), built on `indexed_db_futures` 0.6.
//!
//! Layout (schema v2, see [`migrate`](super::migrate)):
//! - persons are packed into [`PERSON_BUCKETS`] bucket rows keyed by `b` = [`bucket_of`]
//!   (a hash of the person id): `{b, ids[], names[], bdays[], kinds[], tagsets[], tags[],
//!   json[]}` with one entry per person in the parallel arrays (`json` = the full record as
//!   JSON text) and multiEntry indices over `names`, `bdays`, `kinds` and `tags`. The row
//!   `b = -1` holds the person count. Why: in Chromium every IndexedDB request costs about
//!   100 µs, so a bulk write of N persons is ~1,000 requests instead of N (see
//!   docs/design/idb-person-buckets.md). A write reads the buckets it touches, changes them in JS and
//!   puts them back, all in its one transaction. A query asks the index for the bucket keys,
//!   reads those buckets and filters/sorts their entries in JS exactly like the index
//!   (value, then id, in UTF-16 order), so results equal the one-row-per-person layout.
//! - appointments `{id, start, person, json}`, settings/documents `{key, json}`: one row each.
//!
//! Every [`Store::write`] runs in one read-write transaction over the stores it touches.
//! `indexed_db_futures` aborts a transaction that is dropped without `commit`, so any `?`
//! (validation, unknown person, a failing request) rolls the whole batch back.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use async_trait::async_trait;
use chrono::NaiveDate;
use indexed_db_futures::database::Database;
use indexed_db_futures::internals::{QuerySourceInternal, SystemRepr};
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyRange;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::keys::{self, MonthDay};
use super::migrate::{self, names::*, Change, Migration, SchemaVersion};
use super::{
    validate_appointment, validate_doc, validate_person, Collection, Doc, DocOp, Result, Store,
    StoreError, UpdateFn, WriteBatch,
};
use crate::domain::{Appointment, Kind, PersonId, PersonRecord, PracticeSettings};

#[wasm_bindgen(module = "/src/js/idb_rows.js")]
extern "C" {
    fn pb_bucket_new(b: u32) -> JsValue;
    fn pb_bucket_upsert(
        bk: &JsValue,
        id: &str,
        name: &str,
        bday: &str,
        kind: &str,
        tagset: &str,
        json: &str,
    );
    fn pb_bucket_merge(bk: &JsValue, packed: &str);
    fn pb_fetch_buckets(store: &JsValue, keys: &js_sys::Array) -> js_sys::Promise;
    fn pb_bucket_remove(bk: &JsValue, id: &str) -> bool;
    fn pb_bucket_has(bk: &JsValue, id: &str) -> bool;
    fn pb_bucket_len(bk: &JsValue) -> u32;
    fn pb_bucket_json_of(bk: &JsValue, id: &str) -> Option<String>;
    fn pb_bucket_add_v1_row(bk: &JsValue, row: &JsValue);
    fn pb_row_id(row: &JsValue) -> Option<String>;
    fn pb_bucket_finish(bk: &JsValue) -> JsValue;
    fn pb_get_rows(store: &JsValue, keys: &js_sys::Array) -> js_sys::Promise;
    fn pb_query_buckets(
        store: &JsValue,
        index: Option<&str>,
        lo: &str,
        hi: &str,
        hi_open: bool,
    ) -> js_sys::Promise;
    fn pb_select(
        buckets: &JsValue,
        field: Option<&str>,
        lo: &str,
        hi: &str,
        hi_open: bool,
    ) -> js_sys::Array;
    fn pb_count_row(n: f64) -> JsValue;
    fn pb_count_of(row: &JsValue) -> f64;
    fn pb_person_row(
        id: &str,
        name: &str,
        bday: Option<String>,
        kind: &str,
        tags: &str,
        json: &str,
    ) -> JsValue;
    fn pb_appointment_row(id: &str, start: &str, person: &str, json: &str) -> JsValue;
    fn pb_doc_row(key: &str, json: &str) -> JsValue;
    fn pb_row_json(row: &JsValue) -> Option<String>;
}

/// The schema-v2 rows (`PERSON_BUCKETS` buckets + count row) holding `persons`, exactly as
/// [`Store::write`] stores them into an empty store (benchmark baseline).
#[doc(hidden)]
pub fn person_bucket_rows(persons: &[PersonRecord]) -> Result<js_sys::Array> {
    let mut buckets: std::collections::BTreeMap<u32, JsValue> = Default::default();
    for p in persons {
        validate_person(p)?;
        let id = p.person.id.0.as_str();
        let json = to_json("Person", id, p)?;
        let b = bucket_of(id);
        let bk = buckets.entry(b).or_insert_with(|| pb_bucket_new(b));
        pb_bucket_upsert(
            bk,
            id,
            &keys::name_key(p),
            keys::birthday_key(p).as_deref().unwrap_or(""),
            p.person.kind.key(),
            &keys::tag_keys(p).join("\u{1f}"),
            &json,
        );
    }
    let rows: js_sys::Array = buckets.values().map(pb_bucket_finish).collect();
    if !persons.is_empty() {
        rows.push(&pb_count_row(persons.len() as f64));
    }
    Ok(rows)
}

/// Appends one person in the form `pb_bucket_merge` reads (fields separated by U+001D, the
/// record ended by U+001E). Returns `false` (appending nothing) when a key field holds one of
/// the separators; serde_json escapes control characters, so the JSON text never does.
fn pack_person(out: &mut String, p: &PersonRecord) -> Result<bool> {
    const SEPS: [char; 2] = ['\u{1d}', '\u{1e}'];
    let id = p.person.id.0.as_str();
    let name = keys::name_key(p);
    let tags = keys::tag_keys(p).join("\u{1f}");
    if [id, name.as_str(), tags.as_str()]
        .iter()
        .any(|s| s.contains(SEPS))
    {
        return Ok(false);
    }
    let start = out.len();
    out.push_str(id);
    out.push('\u{1d}');
    out.push_str(&name);
    out.push('\u{1d}');
    if let Some(b) = keys::birthday_key(p) {
        out.push_str(&b);
    }
    out.push('\u{1d}');
    out.push_str(p.person.kind.key());
    out.push('\u{1d}');
    out.push_str(&tags);
    out.push('\u{1d}');
    // serde_json writes UTF-8 and escapes U+0000–U+001F, so the separators stay unique.
    let mut buf = std::mem::take(out).into_bytes();
    let res = serde_json::to_writer(&mut buf, p);
    *out = String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    if let Err(e) = res {
        out.truncate(start);
        return Err(StoreError::Invalid {
            what: "Person",
            id: id.to_string(),
            reason: format!("Nicht speicherbar: {e}."),
        });
    }
    out.push('\u{1e}');
    Ok(true)
}

/// The key of the row holding the person count in the v2 persons store.
const COUNT_KEY: f64 = -1.0;

/// The bucket of a person id (FNV-1a over the UTF-8 bytes). Must never change: stored
/// rows are found by it.
pub fn bucket_of(id: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h % PERSON_BUCKETS
}

async fn await_js(p: js_sys::Promise) -> Result<JsValue> {
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .map_err(|e| backend(format!("{e:?}")))
}

/// Fetches bucket rows (missing ones as fresh empty buckets) plus the count row.
async fn fetch_buckets(raw: &JsValue, buckets: &[u32]) -> Result<(Vec<(u32, JsValue, u32)>, f64)> {
    let keys: js_sys::Array = buckets.iter().map(|b| JsValue::from(*b)).collect();
    let rows: js_sys::Array = await_js(pb_fetch_buckets(raw, &keys))
        .await?
        .unchecked_into();
    let count = pb_count_of(&rows.get(buckets.len() as u32));
    let out = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let row = rows.get(i as u32);
            if row.is_undefined() {
                (*b, pb_bucket_new(*b), 0)
            } else {
                let len = pb_bucket_len(&row);
                (*b, row, len)
            }
        })
        .collect();
    Ok((out, count))
}

/// How schema-v1 person rows (`{id, name, bday?, kind, tags[], json}`, one per person) are
/// built in JS. The store writes v2 buckets; v1 rows remain for the migration tests and the
/// benchmark's old-shape reference line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RowEncoding {
    /// One call into a small JS constructor with the index fields and the JSON text.
    #[default]
    InlineJs,
    /// The same row object built by `serde-wasm-bindgen` from a Rust struct.
    SerdeWasmBindgen,
}

#[derive(Serialize)]
struct PersonRowSer<'a> {
    id: &'a str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    bday: Option<String>,
    kind: &'static str,
    tags: Vec<String>,
    json: String,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    let msg = e.to_string();
    if msg.contains("QuotaExceeded") {
        StoreError::QuotaExceeded
    } else {
        StoreError::Backend(msg)
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn to_json<T: Serialize>(what: &'static str, id: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid {
        what,
        id: id.to_string(),
        reason: format!("Nicht speicherbar: {e}."),
    })
}

/// Builds the schema-v1 row of a person (validating it first).
pub fn person_row(p: &PersonRecord, encoding: RowEncoding) -> Result<JsValue> {
    validate_person(p)?;
    let id = p.person.id.0.as_str();
    let json = to_json("Person", id, p)?;
    match encoding {
        RowEncoding::InlineJs => {
            let tags = keys::tag_keys(p).join("\u{1f}");
            Ok(pb_person_row(
                id,
                &keys::name_key(p),
                keys::birthday_key(p),
                p.person.kind.key(),
                &tags,
                &json,
            ))
        }
        RowEncoding::SerdeWasmBindgen => serde_wasm_bindgen::to_value(&PersonRowSer {
            id,
            name: keys::name_key(p),
            bday: keys::birthday_key(p),
            kind: p.person.kind.key(),
            tags: keys::tag_keys(p),
            json,
        })
        .map_err(backend),
    }
}

fn appointment_row(a: &Appointment) -> Result<JsValue> {
    validate_appointment(a)?;
    let json = to_json("Termin", &a.id.0, a)?;
    Ok(pb_appointment_row(
        &a.id.0,
        &keys::appointment_start_key(a),
        &a.person_id.0,
        &json,
    ))
}

fn parse_json<T: serde::de::DeserializeOwned>(what: &str, json: &JsValue) -> Result<T> {
    let json = json
        .as_string()
        .ok_or_else(|| corrupt(what, "kein JSON-Text"))?;
    serde_json::from_str(&json).map_err(|e| corrupt(what, e))
}

fn parse_row<T: serde::de::DeserializeOwned>(what: &str, row: &JsValue) -> Result<T> {
    let json = pb_row_json(row).ok_or_else(|| corrupt(what, "Feld json fehlt"))?;
    serde_json::from_str(&json).map_err(|e| corrupt(what, e))
}

/// Asks the browser to keep our storage when space runs low (`navigator.storage.persist()`).
/// Returns whether storage is persistent now. Never fails: browsers without the API, or a
/// refusal, give `false`.
pub async fn request_persistent_storage() -> bool {
    async fn ask(p: std::result::Result<js_sys::Promise, JsValue>) -> Option<bool> {
        wasm_bindgen_futures::JsFuture::from(p.ok()?)
            .await
            .ok()?
            .as_bool()
    }
    let Some(window) = web_sys::window() else {
        return false;
    };
    let storage = window.navigator().storage();
    if ask(storage.persisted()).await == Some(true) {
        return true;
    }
    ask(storage.persist()).await.unwrap_or(false)
}

/// The IndexedDB store.
pub struct IdbStore {
    db: Database,
    fail_after_puts: std::cell::Cell<Option<usize>>,
    _on_version_change: Closure<dyn FnMut(web_sys::Event)>,
}

impl std::fmt::Debug for IdbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdbStore")
            .field("name", &self.db.name())
            .finish()
    }
}

/// Applies one schema change inside the version-change transaction.
async fn apply_change(
    db: &web_sys::IdbDatabase,
    tx: &web_sys::IdbTransaction,
    change: &Change,
) -> std::result::Result<(), String> {
    let js = |e: JsValue| format!("{e:?}");
    match *change {
        Change::CreateStore { store, key_path } => {
            let params = web_sys::IdbObjectStoreParameters::new();
            params.set_key_path(&JsValue::from_str(key_path));
            db.create_object_store_with_optional_parameters(store, &params)
                .map_err(js)?;
        }
        Change::DeleteStore { store } => db.delete_object_store(store).map_err(js)?,
        Change::CreateIndex {
            store,
            index,
            key_path,
            multi_entry,
        } => {
            let params = web_sys::IdbIndexParameters::new();
            params.set_multi_entry(multi_entry);
            tx.object_store(store)
                .map_err(js)?
                .create_index_with_str_and_optional_parameters(index, key_path, &params)
                .map_err(js)?;
        }
        Change::DeleteIndex { store, index } => {
            tx.object_store(store)
                .map_err(js)?
                .delete_index(index)
                .map_err(js)?;
        }
        Change::RewriteRows { store, rewrite } => {
            let os = tx.object_store(store).map_err(js)?;
            let rows = request(os.get_all().map_err(js)?).await.map_err(js)?;
            let rows: js_sys::Array = rows.unchecked_into();
            let ser = serde_wasm_bindgen::Serializer::json_compatible();
            for row in rows.iter() {
                let mut v: serde_json::Value =
                    serde_wasm_bindgen::from_value(row).map_err(|e| e.to_string())?;
                rewrite(&mut v)?;
                let row = v.serialize(&ser).map_err(|e| e.to_string())?;
                os.put(&row).map_err(js)?;
            }
        }
        Change::PersonsToBuckets => {
            let os = tx.object_store(PERSONS).map_err(js)?;
            let rows = request(os.get_all().map_err(js)?).await.map_err(js)?;
            let rows: js_sys::Array = rows.unchecked_into();
            db.delete_object_store(PERSONS).map_err(js)?;
            let params = web_sys::IdbObjectStoreParameters::new();
            params.set_key_path(&JsValue::from_str(F_BUCKET));
            let os = db
                .create_object_store_with_optional_parameters(PERSONS, &params)
                .map_err(js)?;
            for (index, key_path) in V2_PERSON_INDICES {
                let params = web_sys::IdbIndexParameters::new();
                params.set_multi_entry(true);
                os.create_index_with_str_and_optional_parameters(index, key_path, &params)
                    .map_err(js)?;
            }
            let mut buckets: std::collections::BTreeMap<u32, JsValue> = Default::default();
            for row in rows.iter() {
                let id = pb_row_id(&row).ok_or("Person ohne id")?;
                let b = bucket_of(&id);
                let bk = buckets.entry(b).or_insert_with(|| pb_bucket_new(b));
                pb_bucket_add_v1_row(bk, &row);
            }
            for bk in buckets.values() {
                os.put(&pb_bucket_finish(bk)).map_err(js)?;
            }
            if rows.length() > 0 {
                os.put(&pb_count_row(rows.length() as f64)).map_err(js)?;
            }
        }
    }
    Ok(())
}

#[wasm_bindgen(module = "/src/js/idb_request.js")]
extern "C" {
    fn pb_request(req: &web_sys::IdbRequest) -> js_sys::Promise;
}

/// Awaits a raw request (only used inside the version-change transaction, where
/// `indexed_db_futures` offers no handle).
async fn request(req: web_sys::IdbRequest) -> std::result::Result<JsValue, JsValue> {
    wasm_bindgen_futures::JsFuture::from(pb_request(&req)).await
}

/// Runs the planned migrations; aborts the version-change transaction on any error.
async fn upgrade(
    db: Database,
    found: u32,
    target: u32,
    migrations: Vec<Migration>,
) -> std::result::Result<(), StoreError> {
    let steps = migrate::plan(&migrations, found, target)?;
    let raw: &web_sys::IdbDatabase = db.as_sys();
    // `indexed_db_futures` gives no handle on the version-change transaction; any object store
    // created now belongs to it, so a scratch store hands it to us.
    const SCRATCH: &str = "__praxisbote_upgrade";
    let tx = raw
        .create_object_store(SCRATCH)
        .map_err(|e| StoreError::Backend(format!("{e:?}")))?
        .transaction();
    raw.delete_object_store(SCRATCH)
        .map_err(|e| StoreError::Backend(format!("{e:?}")))?;
    for step in steps {
        for change in step.changes {
            if let Err(e) = apply_change(raw, &tx, change).await {
                let _ = tx.abort();
                return Err(StoreError::Backend(format!(
                    "Aktualisierung auf Schema {} fehlgeschlagen: {e}",
                    step.version
                )));
            }
        }
    }
    Ok(())
}

impl IdbStore {
    /// The database name the app uses.
    pub const DEFAULT_NAME: &'static str = "praxisbote";

    /// Opens (creating or upgrading) the app's schema in database `name`.
    pub async fn open(name: &str) -> Result<IdbStore> {
        Self::open_with(name, migrate::migrations(), SchemaVersion::LATEST.number()).await
    }

    /// Opens database `name` at schema version `target` using `migrations` (tests use this
    /// to create old versions and to try new steps).
    pub async fn open_with(
        name: &str,
        migrations: Vec<Migration>,
        target: u32,
    ) -> Result<IdbStore> {
        let failure: Rc<RefCell<Option<StoreError>>> = Rc::default();
        let fail = failure.clone();
        let opened = Database::open(name)
            .with_version(target)
            .with_on_upgrade_needed_fut(move |event, db| async move {
                let found = event.old_version() as u32;
                match upgrade(db, found, target, migrations).await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        let msg = e.to_string();
                        *fail.borrow_mut() = Some(e);
                        Err(JsValue::from_str(&msg).into())
                    }
                }
            })
            .await;
        let db = match opened {
            Ok(db) => db,
            Err(e) => {
                if let Some(e) = failure.borrow_mut().take() {
                    return Err(e);
                }
                let msg = e.to_string();
                if msg.contains("VersionError") || msg.contains("less than") {
                    let found = match Database::open(name).await {
                        Ok(db) => {
                            let v = db.version() as u32;
                            db.close();
                            v
                        }
                        Err(_) => 0,
                    };
                    return Err(StoreError::TooNew {
                        found,
                        supported: target,
                    });
                }
                if msg.contains("UnsupportedEnvironment") || msg.contains("NullFactory") {
                    return Err(StoreError::Unavailable(msg));
                }
                return Err(backend(msg));
            }
        };
        if let Some(e) = failure.borrow_mut().take() {
            db.close();
            return Err(e);
        }
        // Let another tab upgrade the schema: close our connection when it asks.
        let raw: web_sys::IdbDatabase = db.as_sys().clone().unchecked_into();
        let on_version_change = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| raw.close());
        let raw: &web_sys::IdbDatabase = db.as_sys();
        raw.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        Ok(IdbStore {
            db,
            fail_after_puts: Default::default(),
            _on_version_change: on_version_change,
        })
    }

    /// Deletes a whole database (tests, "reset").
    pub async fn delete_database(name: &str) -> Result<()> {
        Database::delete_by_name(name)
            .map_err(backend)?
            .await
            .map_err(backend)
    }

    pub fn close(self) {
        let raw: &web_sys::IdbDatabase = self.db.as_sys();
        raw.set_onversionchange(None);
        self.db.clone().close();
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn raw_database(&self) -> &web_sys::IdbDatabase {
        self.db.as_sys()
    }

    /// Fault injection for tests: in a batch of more than `n` persons, after writing the
    /// buckets, issue a request that IndexedDB itself rejects (an `add` of a bucket already
    /// written), so the transaction aborts at commit. `None` switches it off.
    #[doc(hidden)]
    pub fn fail_after_puts(&self, n: Option<usize>) {
        self.fail_after_puts.set(n);
    }

    fn read_tx(&self, stores: &[&str]) -> Result<indexed_db_futures::transaction::Transaction<'_>> {
        self.db
            .transaction(stores)
            .with_mode(TransactionMode::Readonly)
            .build()
            .map_err(backend)
    }

    async fn rows_of<Q, R>(
        &self,
        source: &Q,
        range: Option<KeyRange<String>>,
    ) -> Result<Vec<JsValue>>
    where
        Q: QuerySource + SystemRepr<Repr = R>,
        R: QuerySourceInternal,
    {
        let rows = match range {
            None => source.get_all::<JsValue>().primitive(),
            Some(r) => source
                .get_all::<JsValue>()
                .with_query::<String, _>(r)
                .primitive(),
        }
        .map_err(backend)?
        .await
        .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    /// The raw persons store of a read-only transaction.
    fn persons_raw(&self) -> Result<(web_sys::IdbTransaction, JsValue)> {
        let raw: &web_sys::IdbDatabase = self.db.as_sys();
        let tx = raw
            .transaction_with_str(PERSONS)
            .map_err(|e| backend(format!("{e:?}")))?;
        let os = tx
            .object_store(PERSONS)
            .map_err(|e| backend(format!("{e:?}")))?;
        Ok((tx, os.into()))
    }

    /// Persons whose index `index` (row field `field`) has a key in one of `ranges`
    /// (`(lo, hi, hi_open)`, `lo` inclusive), in index order, range after range.
    async fn persons_from_index(
        &self,
        index: &str,
        field: &str,
        ranges: Vec<(String, String, bool)>,
    ) -> Result<Vec<PersonRecord>> {
        let (_tx, raw) = self.persons_raw()?;
        let mut out = Vec::new();
        for (lo, hi, hi_open) in ranges {
            let buckets = await_js(pb_query_buckets(&raw, Some(index), &lo, &hi, hi_open)).await?;
            for json in pb_select(&buckets, Some(field), &lo, &hi, hi_open).iter() {
                out.push(parse_json("Person", &json)?);
            }
        }
        Ok(out)
    }

    async fn appointments_from_index(
        &self,
        index: &str,
        range: KeyRange<String>,
    ) -> Result<Vec<Appointment>> {
        let tx = self.read_tx(&[APPOINTMENTS])?;
        let store = tx.object_store(APPOINTMENTS).map_err(backend)?;
        let idx = store.index(index).map_err(backend)?;
        self.rows_of(&idx, Some(range))
            .await?
            .iter()
            .map(|r| parse_row("Termin", r))
            .collect()
    }

    async fn get_json_row(&self, store: &str, key: &str) -> Result<Option<JsValue>> {
        let tx = self.read_tx(&[store])?;
        let os = tx.object_store(store).map_err(backend)?;
        os.get::<JsValue, _, _>(key)
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)
    }
}

fn only(key: &str) -> KeyRange<String> {
    KeyRange::Only(key.to_string())
}

fn all_store_names() -> Vec<&'static str> {
    let mut v = vec![PERSONS, APPOINTMENTS, SETTINGS];
    v.extend(Collection::ALL.iter().map(|c| c.store_name()));
    v
}

/// The stores a batch touches.
fn stores_of(batch: &WriteBatch<'_>) -> Vec<&'static str> {
    if batch.clear_all {
        return all_store_names();
    }
    let mut v = Vec::new();
    if !batch.delete_persons.is_empty()
        || !batch.appointments.is_empty()
        || !batch.persons.is_empty()
    {
        v.push(PERSONS);
    }
    if !batch.delete_persons.is_empty()
        || !batch.delete_appointments.is_empty()
        || !batch.appointments.is_empty()
    {
        v.push(APPOINTMENTS);
    }
    if batch.settings.is_some() {
        v.push(SETTINGS);
    }
    for op in batch.docs {
        let name = op.collection().store_name();
        if !v.contains(&name) {
            v.push(name);
        }
    }
    v
}

/// Documents written per chunk inside one [`Store::write`] transaction (see there).
pub const DOC_CHUNK: usize = 250;

fn put(store: &ObjectStore<'_>, row: JsValue) -> Result<()> {
    // The request goes out now; its outcome is part of the transaction's commit result.
    let _request = store.put(row).primitive().map_err(backend)?;
    Ok(())
}

/// The persons `ids` (aligned; `None` when not stored) from the raw persons store of a
/// transaction.
async fn read_persons(raw: &JsValue, ids: &[PersonId]) -> Result<Vec<Option<PersonRecord>>> {
    let keys: js_sys::Array = ids
        .iter()
        .map(|id| JsValue::from(bucket_of(&id.0)))
        .collect();
    let rows: js_sys::Array = await_js(pb_get_rows(raw, &keys)).await?.unchecked_into();
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let bk = rows.get(i as u32);
            if bk.is_undefined() {
                return Ok(None);
            }
            pb_bucket_json_of(&bk, &id.0)
                .map(|json| serde_json::from_str(&json).map_err(|e| corrupt("Person", e)))
                .transpose()
        })
        .collect()
}

impl IdbStore {
    fn write_tx(&self, names: &[&str]) -> Result<indexed_db_futures::transaction::Transaction<'_>> {
        self.db
            .transaction(names)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .map_err(backend)
    }

    /// Issues every request of `batch` in the read-write transaction `tx` (which must cover
    /// [`stores_of`] the batch). The caller commits; an `Err` leaves `tx` to be dropped, which
    /// aborts it.
    async fn apply(
        &self,
        tx: &indexed_db_futures::transaction::Transaction<'_>,
        batch: &WriteBatch<'_>,
    ) -> Result<()> {
        let store = |name: &str| tx.object_store(name).map_err(backend);

        if batch.clear_all {
            for name in stores_of(batch) {
                let _request = store(name)?.clear().map_err(backend)?;
            }
        }

        // Person buckets this batch reads or changes (schema v2: persons live in buckets).
        let mut wanted: Vec<u32> = Vec::new();
        {
            let mut seen = HashSet::new();
            let ids = batch
                .delete_persons
                .iter()
                .map(|p| p.0.as_str())
                .chain(batch.persons.iter().map(|p| p.id().0.as_str()))
                .chain(batch.appointments.iter().map(|a| a.person_id.0.as_str()));
            for id in ids {
                let b = bucket_of(id);
                if seen.insert(b) {
                    wanted.push(b);
                }
            }
        }
        let mut buckets: HashMap<u32, (JsValue, u32, bool)> = HashMap::new();
        let mut count = 0.0;
        let mut persons_raw: Option<web_sys::IdbObjectStore> = None;
        if !wanted.is_empty() {
            let raw: web_sys::IdbObjectStore = store(PERSONS)?.as_sys().clone();
            let (fetched, n) = fetch_buckets(raw.as_ref(), &wanted).await?;
            count = n;
            for (b, bk, len) in fetched {
                buckets.insert(b, (bk, len, false));
            }
            persons_raw = Some(raw);
        }
        let mut bucket = |id: &str, dirty: bool| -> JsValue {
            let e = buckets
                .get_mut(&bucket_of(id))
                .expect("every person id of the batch has its bucket fetched");
            e.2 |= dirty;
            e.0.clone()
        };

        if !batch.delete_persons.is_empty() {
            let appointments = store(APPOINTMENTS)?;
            let by_person = appointments.index(IDX_PERSON).map_err(backend)?;
            for id in batch.delete_persons {
                pb_bucket_remove(&bucket(&id.0, true), &id.0);
                let keys = by_person
                    .get_all_keys::<JsValue>()
                    .with_query::<String, _>(only(&id.0))
                    .primitive()
                    .map_err(backend)?
                    .await
                    .map_err(backend)?;
                for key in keys {
                    let key = key.map_err(backend)?;
                    let _request = appointments.delete(key).primitive().map_err(backend)?;
                }
            }
        }

        if !batch.delete_appointments.is_empty() {
            let appointments = store(APPOINTMENTS)?;
            for id in batch.delete_appointments {
                let _request = appointments
                    .delete(id.0.as_str())
                    .primitive()
                    .map_err(backend)?;
            }
        }

        // Entries are packed per bucket and handed to JS in one call per bucket (one string
        // crossing instead of six per person).
        let mut packed: HashMap<u32, (JsValue, String)> = HashMap::new();
        for p in batch.persons {
            validate_person(p)?;
            let id = p.person.id.0.as_str();
            let b = bucket_of(id);
            let (bk, text) = packed
                .entry(b)
                .or_insert_with(|| (bucket(id, true), String::new()));
            if !pack_person(text, p)? {
                // A key holding a separator: flush what is packed, then this one alone.
                pb_bucket_merge(bk, text);
                text.clear();
                pb_bucket_upsert(
                    bk,
                    id,
                    &keys::name_key(p),
                    keys::birthday_key(p).as_deref().unwrap_or(""),
                    p.person.kind.key(),
                    &keys::tag_keys(p).join("\u{1f}"),
                    &to_json("Person", id, p)?,
                );
            }
        }
        for (bk, text) in packed.values() {
            if !text.is_empty() {
                pb_bucket_merge(bk, text);
            }
        }

        if !batch.appointments.is_empty() {
            let appointments = store(APPOINTMENTS)?;
            for a in batch.appointments {
                put(&appointments, appointment_row(a)?)?;
                let pid = a.person_id.0.as_str();
                if !pb_bucket_has(&bucket(pid, false), pid) {
                    return Err(StoreError::UnknownPerson {
                        appointment: a.id.0.clone(),
                        person: pid.to_string(),
                    });
                }
            }
        }

        if let Some(raw) = &persons_raw {
            let js = |e: JsValue| backend(format!("{e:?}"));
            let mut dirty: Vec<u32> = buckets
                .iter()
                .filter(|(_, e)| e.2)
                .map(|(b, _)| *b)
                .collect();
            dirty.sort_unstable();
            let mut first_put = None;
            for b in &dirty {
                let (bk, old, _) = &buckets[b];
                let len = pb_bucket_len(bk);
                count += len as f64 - *old as f64;
                if len == 0 {
                    if *old > 0 {
                        raw.delete(&JsValue::from(*b)).map_err(js)?;
                    }
                } else {
                    let row = pb_bucket_finish(bk);
                    raw.put(&row).map_err(js)?;
                    first_put.get_or_insert(row);
                }
            }
            if !dirty.is_empty() {
                if count > 0.0 {
                    raw.put(&pb_count_row(count)).map_err(js)?;
                } else {
                    raw.delete(&JsValue::from(COUNT_KEY)).map_err(js)?;
                }
            }
            let fail_after = self.fail_after_puts.get();
            if let (Some(n), Some(row)) = (fail_after, first_put) {
                if n > 0 && batch.persons.len() > n {
                    // A key written above: IndexedDB rejects the add, the commit fails.
                    raw.add(&row).map_err(js)?;
                }
            }
        }

        if let Some(s) = batch.settings {
            let json = to_json("Einstellungen", SETTINGS_KEY, s)?;
            put(&store(SETTINGS)?, pb_doc_row(SETTINGS_KEY, &json))?;
        }

        // Documents go out in chunks of `DOC_CHUNK` requests; before the next chunk the last
        // request of the previous one is awaited. The continuation runs in that request's
        // success event (a new task of the event loop), where the transaction is still
        // active, so a large batch stays ONE transaction (all or nothing) without blocking
        // the main thread in one long task. A failure in a later chunk (`?`) drops the
        // transaction uncommitted, which aborts it and rolls back the earlier chunks too.
        let mut last: Option<indexed_db_futures::future::VoidRequest> = None;
        for (i, op) in batch.docs.iter().enumerate() {
            if i > 0 && i % DOC_CHUNK == 0 {
                if let Some(req) = last.take() {
                    req.await.map_err(backend)?;
                }
            }
            validate_doc(op)?;
            let os = store(op.collection().store_name())?;
            last = Some(match op {
                DocOp::Put { key, value, .. } => {
                    let json = to_json("Dokument", key, value)?;
                    os.put(pb_doc_row(key, &json))
                        .primitive()
                        .map_err(backend)?
                }
                DocOp::Delete { key, .. } => {
                    os.delete(key.as_str()).primitive().map_err(backend)?
                }
            });
        }
        drop(last);
        Ok(())
    }
}

#[async_trait(?Send)]
impl Store for IdbStore {
    async fn write(&self, batch: WriteBatch<'_>) -> Result<()> {
        let names = stores_of(&batch);
        if names.is_empty() {
            return Ok(());
        }
        let tx = self.write_tx(&names)?;
        self.apply(&tx, &batch).await?;
        tx.commit().await.map_err(backend)
    }

    async fn update(&self, ids: &[PersonId], f: &mut UpdateFn<'_>) -> Result<()> {
        // The batch is known only after `f` ran, so the transaction covers every store.
        let tx = self.write_tx(&all_store_names())?;
        let raw: web_sys::IdbObjectStore =
            tx.object_store(PERSONS).map_err(backend)?.as_sys().clone();
        let read = read_persons(raw.as_ref(), ids).await?;
        // Synchronous: nothing is awaited between the reads above and the writes below, so
        // the transaction stays active and no other write can come between.
        let owned = f(&read)?;
        if owned.is_empty() {
            return Ok(());
        }
        self.apply(&tx, &owned.as_batch()).await?;
        tx.commit().await.map_err(backend)
    }

    async fn get_persons(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonRecord>>> {
        let (_tx, raw) = self.persons_raw()?;
        read_persons(&raw, ids).await
    }

    async fn all_persons(&self) -> Result<Vec<PersonRecord>> {
        let (_tx, raw) = self.persons_raw()?;
        let buckets = await_js(pb_query_buckets(&raw, None, "", "", false)).await?;
        pb_select(&buckets, None, "", "", false)
            .iter()
            .map(|json| parse_json("Person", &json))
            .collect()
    }

    async fn persons_by_kind(&self, kind: Kind) -> Result<Vec<PersonRecord>> {
        let k = kind.key().to_string();
        self.persons_from_index(IDX_KIND, F_KINDS, vec![(k.clone(), k, false)])
            .await
    }

    async fn persons_by_tag(&self, tag: &str) -> Result<Vec<PersonRecord>> {
        let tag = keys::fold(tag);
        if tag.is_empty() {
            return Ok(Vec::new());
        }
        self.persons_from_index(IDX_TAGS, "tagsets", vec![(tag.clone(), tag, false)])
            .await
    }

    async fn persons_by_birthday(&self, from: MonthDay, to: MonthDay) -> Result<Vec<PersonRecord>> {
        let ranges = MonthDay::ranges(from, to)
            .into_iter()
            .map(|(lo, hi)| (lo.key(), hi.key(), false))
            .collect();
        self.persons_from_index(IDX_BIRTHDAY, F_BDAYS, ranges).await
    }

    async fn persons_by_name_prefix(&self, prefix: &str) -> Result<Vec<PersonRecord>> {
        let prefix = keys::fold(prefix);
        let end = keys::prefix_end(&prefix);
        self.persons_from_index(IDX_NAME, F_NAMES, vec![(prefix, end, true)])
            .await
    }

    async fn count_persons(&self) -> Result<usize> {
        let (_tx, raw) = self.persons_raw()?;
        let keys = js_sys::Array::of1(&JsValue::from(COUNT_KEY));
        let rows: js_sys::Array = await_js(pb_get_rows(&raw, &keys)).await?.unchecked_into();
        Ok(pb_count_of(&rows.get(0)) as usize)
    }

    async fn appointments_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Appointment>> {
        if to < from {
            return Ok(Vec::new());
        }
        let range = KeyRange::Bound(
            keys::day_key(from),
            false,
            keys::prefix_end(&keys::day_key(to)),
            true,
        );
        self.appointments_from_index(IDX_START, range).await
    }

    async fn appointments_of(&self, person: &PersonId) -> Result<Vec<Appointment>> {
        let mut v = self
            .appointments_from_index(IDX_PERSON, only(&person.0))
            .await?;
        v.sort_by(|a, b| {
            keys::cmp_js(
                &keys::appointment_start_key(a),
                &keys::appointment_start_key(b),
            )
            .then_with(|| keys::cmp_js(&a.id.0, &b.id.0))
        });
        Ok(v)
    }

    async fn settings(&self) -> Result<Option<PracticeSettings>> {
        self.get_json_row(SETTINGS, SETTINGS_KEY)
            .await?
            .map(|row| parse_row("Einstellungen", &row))
            .transpose()
    }

    async fn get_doc(
        &self,
        collection: Collection,
        key: &str,
    ) -> Result<Option<serde_json::Value>> {
        self.get_json_row(collection.store_name(), key)
            .await?
            .map(|row| parse_row(collection.store_name(), &row))
            .transpose()
    }

    async fn list_docs(&self, collection: Collection) -> Result<Vec<Doc>> {
        let name = collection.store_name();
        let tx = self.read_tx(&[name])?;
        let store = tx.object_store(name).map_err(backend)?;
        let key_field = JsValue::from_str(F_KEY);
        self.rows_of(&store, None)
            .await?
            .iter()
            .map(|row| {
                let key = js_sys::Reflect::get(row, &key_field)
                    .ok()
                    .and_then(|k| k.as_string())
                    .ok_or_else(|| corrupt(name, "Feld key fehlt"))?;
                Ok(Doc {
                    key,
                    value: parse_row(name, row)?,
                })
            })
            .collect()
    }

    async fn is_empty(&self) -> Result<bool> {
        let names = all_store_names();
        let tx = self.read_tx(&names)?;
        let mut counts = Vec::new();
        for name in &names {
            let store = tx.object_store(name).map_err(backend)?;
            counts.push(store.count().primitive().map_err(backend)?);
        }
        for c in counts {
            if c.await.map_err(backend)? > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
