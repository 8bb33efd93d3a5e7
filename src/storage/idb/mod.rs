//! IndexedDB [`Store`] (browser only), built on `indexed_db_futures` 0.6.
//!
//! Layout (schema 4, see [`migrate`](super::migrate)):
//! - persons are packed into bucket rows (`persons.rs`, docs/design/idb-person-buckets.md)
//!   with one index, `birthday`;
//! - appointments `{id, start, person, v, json}` with the indices `start` and `person`, the
//!   settings and every document `{key, v, json}`: one row each (`rows.rs`);
//! - `v` and `json` are a record's version and body ([`records`](super::records));
//! - the sync with other devices keeps its replication documents in `sync_docs` and
//!   `sync_meta` ([`IdbLocal`], `sync_docs.rs`), outside the [`Store`] trait.
//!
//! Every write runs in one read-write transaction (`write.rs`); reads that meet a record
//! they cannot decode set it aside afterwards, in a transaction of their own. Schema
//! upgrades run in the version-change transaction (`upgrade.rs`).

mod persons;
mod rows;
mod sync_docs;
mod upgrade;
mod write;

use std::cell::RefCell;
use std::rc::Rc;

use async_trait::async_trait;
use chrono::NaiveDate;
use indexed_db_futures::database::Database;
use indexed_db_futures::internals::{QuerySourceInternal, SystemRepr};
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{Transaction, TransactionMode};
use indexed_db_futures::KeyRange;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::crypto::{self, Vault, KEYRING_KEY};
use super::keys;
use super::migrate::names::{
    APPOINTMENTS, F_KEY, IDX_PERSON, IDX_START, PERSONS, SETTINGS, SETTINGS_KEY,
};
use super::migrate::{self, Migration, SchemaVersion};
use super::records::{Origin, Stored, Unreadable};
use super::{Collection, Doc, DocsUpdateFn, Result, Store, StoreError, UpdateFn, WriteBatch};
use crate::domain::query::DayMonth;
use crate::domain::{Appointment, PersonId, PersonRecord, PracticeSettings};

pub use persons::{bucket_of, person_bucket_rows};
pub use sync_docs::IdbLocal;
pub use write::DOC_CHUNK;

/// A browser error as a [`StoreError`] (a full quota gets its own kind).
pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    let msg = e.to_string();
    if msg.contains("QuotaExceeded") {
        StoreError::QuotaExceeded
    } else {
        StoreError::Backend(msg)
    }
}

/// A raw `JsValue` error of web-sys as a [`StoreError`].
pub(crate) fn js_error(e: JsValue) -> StoreError {
    backend(format!("{e:?}"))
}

pub(crate) async fn await_js(p: js_sys::Promise) -> Result<JsValue> {
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .map_err(js_error)
}

/// Every row of a store or index (within `range`), as one array.
async fn get_all<Q, R>(source: &Q, range: Option<KeyRange<String>>) -> Result<js_sys::Array>
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
    rows.collect::<std::result::Result<js_sys::Array, _>>()
        .map_err(backend)
}

fn only(key: &str) -> KeyRange<String> {
    KeyRange::Only(key.to_string())
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
    vault: Vault,
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
            .with_on_upgrade_needed_fut(move |event, db| {
                let found = event.old_version() as u32;
                // A new database needs no awaiting: made here, inside the event.
                let made = (found == 0).then(|| upgrade::create_now(&db, target, &migrations));
                async move {
                    let result = match made {
                        Some(made) => made,
                        None => upgrade::upgrade(db, found, target, migrations).await,
                    };
                    match result {
                        Ok(()) => Ok(()),
                        Err(e) => {
                            let msg = e.to_string();
                            *fail.borrow_mut() = Some(e);
                            Err(JsValue::from_str(&msg).into())
                        }
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
        let mut store = IdbStore {
            db,
            vault: Vault::default(),
            fail_after_puts: Default::default(),
            _on_version_change: on_version_change,
        };
        // Encrypted when the Meta collection holds a keyring: then locked until unlocked.
        let keyring = store
            .row(Collection::Meta.store_name(), KEYRING_KEY)
            .await?
            .and_then(|row| rows::stored_of(&row, F_KEY));
        store.vault = Vault::found(keyring);
        Ok(store)
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

    fn tx(&self, stores: &[&str], mode: TransactionMode) -> Result<Transaction<'_>> {
        self.db
            .transaction(stores)
            .with_mode(mode)
            .build()
            .map_err(backend)
    }

    /// The raw persons store of a read-only transaction.
    fn persons_raw(&self) -> Result<(web_sys::IdbTransaction, JsValue)> {
        let raw: &web_sys::IdbDatabase = self.db.as_sys();
        let tx = raw.transaction_with_str(PERSONS).map_err(js_error)?;
        let os = tx.object_store(PERSONS).map_err(js_error)?;
        Ok((tx, os.into()))
    }

    /// Ends a read: what it could not decode is set aside (own transaction).
    async fn finish_read<T>(&self, out: T, bad: Vec<Unreadable>) -> Result<T> {
        if !bad.is_empty() {
            self.set_aside(&bad).await?;
        }
        Ok(out)
    }

    /// All rows of a store or one of its indices (within `range`), in a read-only
    /// transaction of its own.
    async fn rows(
        &self,
        store: &str,
        index: Option<(&str, KeyRange<String>)>,
    ) -> Result<js_sys::Array> {
        let tx = self.tx(&[store], TransactionMode::Readonly)?;
        let os = tx.object_store(store).map_err(backend)?;
        match index {
            Some((name, range)) => get_all(&os.index(name).map_err(backend)?, Some(range)).await,
            None => get_all(&os, None).await,
        }
    }

    /// One row by key, in a read-only transaction of its own.
    async fn row(&self, store: &str, key: &str) -> Result<Option<JsValue>> {
        let tx = self.tx(&[store], TransactionMode::Readonly)?;
        let os = tx.object_store(store).map_err(backend)?;
        os.get::<JsValue, _, _>(key)
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)
    }

    async fn appointments_where(
        &self,
        index: &str,
        range: KeyRange<String>,
    ) -> Result<Vec<Appointment>> {
        let k = self.vault.keys()?;
        let rows = self.rows(APPOINTMENTS, Some((index, range))).await?;
        let mut bad = Vec::new();
        let out = rows::appointments(&k, &rows, &mut bad);
        self.finish_read(out, bad).await
    }
}

#[async_trait(?Send)]
impl Store for IdbStore {
    async fn write(&self, batch: WriteBatch<'_>) -> Result<()> {
        let names = write::stores_of_write(&batch, self.vault.keyring().is_none());
        if names.is_empty() {
            return Ok(());
        }
        // Many persons in an encrypted store: sealed with WebCrypto before the transaction
        // opens (it would commit while waiting for WebCrypto inside).
        let pre = persons::preseal(&self.vault.keys_for_batch(&batch)?, batch.persons).await?;
        let tx = self.tx(&names, TransactionMode::Readwrite)?;
        self.apply(&tx, &batch, pre.as_ref()).await?;
        tx.commit().await.map_err(backend)
    }

    async fn update(&self, ids: &[PersonId], f: &mut UpdateFn<'_>) -> Result<()> {
        // The batch is known only after `f` ran, so the transaction covers every store.
        let k = self.vault.keys()?;
        let tx = self.tx(&write::all_store_names(), TransactionMode::Readwrite)?;
        let raw: web_sys::IdbObjectStore =
            tx.object_store(PERSONS).map_err(backend)?.as_sys().clone();
        let mut bad = Vec::new();
        let read = persons::read(&k, raw.as_ref(), ids, &mut bad).await?;
        self.set_aside_in(&tx, &bad).await?;
        // Synchronous: nothing is awaited between the reads above and the writes below, so
        // the transaction stays active and no other write can come between.
        let owned = f(&read)?;
        self.apply(&tx, &owned.as_batch(), None).await?;
        tx.commit().await.map_err(backend)
    }

    async fn update_docs(
        &self,
        collections: &[Collection],
        f: &mut DocsUpdateFn<'_>,
    ) -> Result<()> {
        let k = self.vault.keys()?;
        let tx = self.tx(&write::all_store_names(), TransactionMode::Readwrite)?;
        let mut bad = Vec::new();
        let mut read = Vec::with_capacity(collections.len());
        for c in collections {
            let os = tx.object_store(c.store_name()).map_err(backend)?;
            let rows = get_all(&os, None).await?;
            read.push(rows::docs(&k, *c, &rows, &mut bad));
        }
        self.set_aside_in(&tx, &bad).await?;
        let owned = f(&read)?;
        self.apply(&tx, &owned.as_batch(), None).await?;
        tx.commit().await.map_err(backend)
    }

    async fn get_persons(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonRecord>>> {
        let k = self.vault.keys()?;
        let (_tx, raw) = self.persons_raw()?;
        let mut bad = Vec::new();
        let out = persons::read(&k, &raw, ids, &mut bad).await?;
        self.finish_read(out, bad).await
    }

    async fn all_persons(&self) -> Result<Vec<PersonRecord>> {
        let k = self.vault.keys()?;
        let (_tx, raw) = self.persons_raw()?;
        let mut bad = Vec::new();
        let out = persons::all(&k, &raw, &mut bad).await?;
        self.finish_read(out, bad).await
    }

    async fn persons_by_birthday(&self, from: DayMonth, to: DayMonth) -> Result<Vec<PersonRecord>> {
        let k = self.vault.keys()?;
        let (_tx, raw) = self.persons_raw()?;
        let mut bad = Vec::new();
        let out = persons::by_birthday(&k, &raw, from, to, &mut bad).await?;
        self.finish_read(out, bad).await
    }

    async fn count_persons(&self) -> Result<usize> {
        self.vault.keys()?;
        let (_tx, raw) = self.persons_raw()?;
        persons::count(&raw).await
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
        self.appointments_where(IDX_START, range).await
    }

    async fn appointments_of(&self, person: &PersonId) -> Result<Vec<Appointment>> {
        let mut v = self.appointments_where(IDX_PERSON, only(&person.0)).await?;
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
        let k = self.vault.keys()?;
        let Some(row) = self.row(SETTINGS, SETTINGS_KEY).await? else {
            return Ok(None);
        };
        let mut bad = Vec::new();
        let out = rows::settings(&k, &row, &mut bad);
        self.finish_read(out, bad).await
    }

    async fn get_doc(
        &self,
        collection: Collection,
        key: &str,
    ) -> Result<Option<serde_json::Value>> {
        let k = self.vault.keys_for_docs(&[collection])?;
        if crypto::exempt(&Origin::Document(collection, key.to_string())) {
            return Ok(None);
        }
        let Some(row) = self.row(collection.store_name(), key).await? else {
            return Ok(None);
        };
        let mut bad = Vec::new();
        let out = rows::doc(&k, collection, key, &row, &mut bad);
        self.finish_read(out, bad).await
    }

    async fn list_docs(&self, collection: Collection) -> Result<Vec<Doc>> {
        let k = self.vault.keys_for_docs(&[collection])?;
        let rows = self.rows(collection.store_name(), None).await?;
        let mut bad = Vec::new();
        let out = rows::docs(&k, collection, &rows, &mut bad);
        self.finish_read(out, bad).await
    }

    async fn is_empty(&self) -> Result<bool> {
        let names = write::all_store_names();
        let tx = self.tx(&names, TransactionMode::Readonly)?;
        let mut counts = Vec::new();
        for name in &names {
            let store = tx.object_store(name).map_err(backend)?;
            counts.push(store.count().primitive().map_err(backend)?);
        }
        // The keyring is the store's own, not data.
        let keyring = usize::from(self.vault.keyring().is_some());
        for (name, c) in names.iter().zip(counts) {
            let own = if *name == Collection::Meta.store_name() {
                keyring
            } else {
                0
            };
            if c.await.map_err(backend)? as usize > own {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn set_aside(&self, records: &[Unreadable]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let tx = self.tx(
            &write::stores_of_unreadable(records),
            TransactionMode::Readwrite,
        )?;
        self.set_aside_in(&tx, records).await?;
        tx.commit().await.map_err(backend)
    }

    async fn put_raw(&self, origin: &Origin, stored: &Stored) -> Result<()> {
        let k = self.vault.keys()?;
        let body: serde_json::Value = serde_json::from_str(&stored.body).unwrap_or_default();
        let sealed = if crypto::is_sealed(&stored.body) {
            stored.clone()
        } else {
            k.seal(origin, stored.clone())?
        };
        let stored = &sealed;
        let field = |path: &[&str]| {
            path.iter()
                .try_fold(&body, |v, k| v.get(*k))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        if let Origin::Person(id) = origin {
            let birth = field(&["sensitive", "birth_date"]);
            let bday = k.birthday_index_key(birth.get(5..10).unwrap_or_default());
            return self.put_raw_person(id, &bday, stored).await;
        }
        let tx = self.tx(&[origin.store_name()], TransactionMode::Readwrite)?;
        let os = tx.object_store(origin.store_name()).map_err(backend)?;
        match origin {
            Origin::Person(_) => unreachable!("written above"),
            Origin::Appointment(id) => {
                let row = rows::raw_appointment_row(
                    &id.0,
                    &field(&["start"]),
                    &field(&["person_id"]),
                    stored,
                );
                let _request = os.put(row).primitive().map_err(backend)?;
            }
            Origin::Settings => {
                let _request = os
                    .put(rows::doc_row(SETTINGS_KEY, stored))
                    .primitive()
                    .map_err(backend)?;
            }
            Origin::Document(_, key) => {
                let _request = os
                    .put(rows::doc_row(key, stored))
                    .primitive()
                    .map_err(backend)?;
            }
        }
        tx.commit().await.map_err(backend)
    }

    async fn get_raw(&self, origin: &Origin) -> Result<Option<Stored>> {
        if let Origin::Person(id) = origin {
            let tx = self.tx(&[PERSONS], TransactionMode::Readonly)?;
            let raw: web_sys::IdbObjectStore =
                tx.object_store(PERSONS).map_err(backend)?.as_sys().clone();
            let mut b = persons::Buckets::fetch(raw, std::iter::once(id.0.as_str())).await?;
            return Ok(b.entry(&id.0));
        }
        let (key_field, key) = rows::row_key(origin);
        Ok(self
            .row(origin.store_name(), key)
            .await?
            .and_then(|row| rows::stored_of(&row, key_field)))
    }

    fn vault(&self) -> &Vault {
        &self.vault
    }

    async fn blind_birthday_index(&self) -> Result<()> {
        let k = self.vault.keys()?;
        if k.birthday_blinding().is_none() {
            return Ok(());
        }
        let meta = Collection::Meta.store_name();
        let tx = self.tx(&[PERSONS, meta], TransactionMode::Readwrite)?;
        let meta_os = tx.object_store(meta).map_err(backend)?;
        let keyring = write::keyring_in(&meta_os)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("{meta}/{KEYRING_KEY}")))?;
        // Another tab may have done it since this one read the keyring (then the
        // transaction ends unused).
        let Some(marked) = crypto::mark_birthday_index_blinded(&keyring)? else {
            self.vault.replace_keyring(keyring);
            return Ok(());
        };
        let persons_os = tx.object_store(PERSONS).map_err(backend)?;
        persons::blind_birthdays(&k, persons_os.as_sys().as_ref()).await?;
        let _request = meta_os
            .put(rows::doc_row(KEYRING_KEY, &marked))
            .primitive()
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        self.vault.replace_keyring(marked);
        Ok(())
    }
}

impl IdbStore {
    /// Puts a person's stored record as it is, with the birthday index key `bday` exactly as
    /// given ("" = none): tests write the "MM-DD" keys of older versions into an encrypted
    /// store with it. Not for the app.
    #[doc(hidden)]
    pub async fn put_raw_person(&self, id: &PersonId, bday: &str, stored: &Stored) -> Result<()> {
        let tx = self.tx(&[PERSONS], TransactionMode::Readwrite)?;
        let raw: web_sys::IdbObjectStore =
            tx.object_store(PERSONS).map_err(backend)?.as_sys().clone();
        let mut b = persons::Buckets::fetch(raw, std::iter::once(id.0.as_str())).await?;
        b.put_raw(&id.0, bday, stored);
        b.flush(false)?;
        tx.commit().await.map_err(backend)
    }
}
