//! IndexedDB [`Store`] (browser only), built on `indexed_db_futures` 0.6.
//!
//! Layout (schema in [`migrate`](super::migrate)): every row is a small JS object holding the
//! index fields plus the full record as JSON text (`json`). Writing such a row is one call
//! into JS per record and one structured clone of a few strings; reading parses the JSON in
//! Rust. Index fields: persons `{id, name, bday?, kind, tags[]}`, appointments
//! `{id, start, person}`, settings/documents `{key}`.
//!
//! Every [`Store::write`] runs in one read-write transaction over the stores it touches.
//! `indexed_db_futures` aborts a transaction that is dropped without `commit`, so any `?`
//! (validation, unknown person, a failing request) rolls the whole batch back.

use std::cell::RefCell;
use std::collections::HashSet;
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
    StoreError, WriteBatch,
};
use crate::domain::{Appointment, Kind, PersonId, PersonRecord, PracticeSettings};

#[wasm_bindgen(inline_js = r#"
export function pb_person_row(id, name, bday, kind, tags, json) {
  return { id, name, bday, kind, tags: tags.length === 0 ? [] : tags.split("\u001f"), json };
}
export function pb_appointment_row(id, start, person, json) {
  return { id, start, person, json };
}
export function pb_doc_row(key, json) {
  return { key, json };
}
export function pb_row_json(row) {
  return row.json;
}
"#)]
extern "C" {
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

/// How person rows are built in JS (both give the same stored shape; kept for the benchmark).
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

/// Builds the stored row of a person (validating it first).
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
    encoding: std::cell::Cell<RowEncoding>,
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
    }
    Ok(())
}

#[wasm_bindgen(inline_js = r#"
export function pb_request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
"#)]
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
            encoding: Default::default(),
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

    /// Fault injection for tests: after `n` person puts of a batch, issue a request that
    /// IndexedDB itself rejects (an `add` of a key already written), so the transaction
    /// aborts at commit. `None` switches it off.
    #[doc(hidden)]
    pub fn fail_after_puts(&self, n: Option<usize>) {
        self.fail_after_puts.set(n);
    }

    /// Switches how person rows are built (benchmark only; both store the same shape).
    pub fn set_row_encoding(&self, encoding: RowEncoding) {
        self.encoding.set(encoding);
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

    /// Person rows from an index, for the given key ranges (in order).
    async fn persons_from_index(
        &self,
        index: &str,
        ranges: Vec<KeyRange<String>>,
    ) -> Result<Vec<PersonRecord>> {
        let tx = self.read_tx(&[PERSONS])?;
        let store = tx.object_store(PERSONS).map_err(backend)?;
        let idx = store.index(index).map_err(backend)?;
        let mut out = Vec::new();
        for r in ranges {
            for row in self.rows_of(&idx, Some(r)).await? {
                out.push(parse_row("Person", &row)?);
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

#[async_trait(?Send)]
impl Store for IdbStore {
    async fn write(&self, batch: WriteBatch<'_>) -> Result<()> {
        let names = stores_of(&batch);
        if names.is_empty() {
            return Ok(());
        }
        let tx = self
            .db
            .transaction(names.as_slice())
            .with_mode(TransactionMode::Readwrite)
            .build()
            .map_err(backend)?;
        let store = |name: &str| tx.object_store(name).map_err(backend);

        if batch.clear_all {
            for name in &names {
                let _request = store(name)?.clear().map_err(backend)?;
            }
        }

        if !batch.delete_persons.is_empty() {
            let persons = store(PERSONS)?;
            let appointments = store(APPOINTMENTS)?;
            let by_person = appointments.index(IDX_PERSON).map_err(backend)?;
            for id in batch.delete_persons {
                let _request = persons.delete(id.0.as_str()).primitive().map_err(backend)?;
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

        if !batch.persons.is_empty() {
            let persons = store(PERSONS)?;
            let encoding = self.encoding.get();
            let fail_after = self.fail_after_puts.get();
            for (i, p) in batch.persons.iter().enumerate() {
                let row = person_row(p, encoding)?;
                if fail_after == Some(i) && i > 0 {
                    let dup = person_row(&batch.persons[0], encoding)?;
                    let _request = persons.add(dup).primitive().map_err(backend)?;
                }
                put(&persons, row)?;
            }
        }

        if !batch.appointments.is_empty() {
            let persons = store(PERSONS)?;
            let appointments = store(APPOINTMENTS)?;
            let put_ids: HashSet<&str> = batch.persons.iter().map(|p| p.id().0.as_str()).collect();
            let deleted: HashSet<&str> =
                batch.delete_persons.iter().map(|p| p.0.as_str()).collect();
            let mut lookups = Vec::new();
            let mut asked = HashSet::new();
            for a in batch.appointments {
                put(&appointments, appointment_row(a)?)?;
                let pid = a.person_id.0.as_str();
                if put_ids.contains(pid) || !asked.insert(pid) {
                    continue;
                }
                if deleted.contains(pid) {
                    return Err(StoreError::UnknownPerson {
                        appointment: a.id.0.clone(),
                        person: pid.to_string(),
                    });
                }
                let count = persons
                    .count()
                    .with_query::<String, _>(only(pid))
                    .primitive()
                    .map_err(backend)?;
                lookups.push((a, count));
            }
            for (a, count) in lookups {
                if count.await.map_err(backend)? == 0 {
                    return Err(StoreError::UnknownPerson {
                        appointment: a.id.0.clone(),
                        person: a.person_id.0.clone(),
                    });
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

        tx.commit().await.map_err(backend)
    }

    async fn get_person(&self, id: &PersonId) -> Result<Option<PersonRecord>> {
        self.get_json_row(PERSONS, &id.0)
            .await?
            .map(|row| parse_row("Person", &row))
            .transpose()
    }

    async fn all_persons(&self) -> Result<Vec<PersonRecord>> {
        let tx = self.read_tx(&[PERSONS])?;
        let store = tx.object_store(PERSONS).map_err(backend)?;
        self.rows_of(&store, None)
            .await?
            .iter()
            .map(|r| parse_row("Person", r))
            .collect()
    }

    async fn persons_by_kind(&self, kind: Kind) -> Result<Vec<PersonRecord>> {
        self.persons_from_index(IDX_KIND, vec![only(kind.key())])
            .await
    }

    async fn persons_by_tag(&self, tag: &str) -> Result<Vec<PersonRecord>> {
        let tag = keys::fold(tag);
        if tag.is_empty() {
            return Ok(Vec::new());
        }
        self.persons_from_index(IDX_TAGS, vec![only(&tag)]).await
    }

    async fn persons_by_birthday(&self, from: MonthDay, to: MonthDay) -> Result<Vec<PersonRecord>> {
        let ranges = MonthDay::ranges(from, to)
            .into_iter()
            .map(|(lo, hi)| KeyRange::Bound(lo.key(), false, hi.key(), false))
            .collect();
        self.persons_from_index(IDX_BIRTHDAY, ranges).await
    }

    async fn persons_by_name_prefix(&self, prefix: &str) -> Result<Vec<PersonRecord>> {
        let prefix = keys::fold(prefix);
        let end = keys::prefix_end(&prefix);
        self.persons_from_index(IDX_NAME, vec![KeyRange::Bound(prefix, false, end, true)])
            .await
    }

    async fn count_persons(&self) -> Result<usize> {
        let tx = self.read_tx(&[PERSONS])?;
        let store = tx.object_store(PERSONS).map_err(backend)?;
        let n = store
            .count()
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)?;
        Ok(n as usize)
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
