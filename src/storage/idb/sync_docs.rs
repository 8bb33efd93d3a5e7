//! [`IdbLocal`]: the device's replication documents (`praxisbote_sync::Local` + `Docs`) in
//! the app's IndexedDB database, next to the records (schemas 4–6, issue 18,
//! docs/design/sync-replication.md "The device store in IndexedDB").
//!
//! - `sync_docs`: one row per document, `{id, tree, seq}` — the revision tree as JSON text
//!   and the sequence number of the document's latest change, indexed (`seq`): the local
//!   changes feed is a key range of that index.
//! - `sync_marks`: `{b, m}` — the revision of each document the app's store holds (its
//!   `applied` mark), apart from the tree, packed into the bucket rows of the persons'
//!   bucket function (`m`: a `Map` of document id → revision): moving the marks of 100,000
//!   documents writes about 1,000 rows, not 100,000 trees (schema 4) or 100,000 small rows
//!   (schema 5).
//! - `sync_meta`: `{key, value}` rows — `instance` (the store's random id, made once),
//!   `seq` (the sequence number of the latest change) and `log:<replication id>` (the
//!   replication logs, JSON text).
//!
//! Every write is one read-write transaction over the stores it changes (reads of the rows
//! it changes, the counter, the puts), so a batch lands whole or not at all and two tabs'
//! writes never interleave. Reads of many documents are batched (`getAll`, or all `get`s issued at once),
//! never one transaction per document. The bodies are the sync layer's ciphertext, so the
//! rows are not sealed again by the store's encryption at rest; `clear_all` of the store
//! clears the documents and the replication state (counter, logs) and keeps the instance id
//! (the device's identity in batch claims; without logs the next sync is a full run).

use std::collections::{BTreeMap, HashMap};

use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{Transaction, TransactionMode};
use praxisbote_sync::{DocTree, Docs, Local, LocalChange, LocalDoc, Rev, RevDoc};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::persons::bucket_of;
use super::IdbStore;
use crate::storage::migrate::names::{F_ID, F_SEQ, F_TREE, SYNC_DOCS, SYNC_MARKS, SYNC_META};

#[wasm_bindgen(module = "/src/js/idb_sync.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn pb_sync_rows(store: &JsValue, ids: &js_sys::Array) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_sync_all(store: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_sync_mark(
        docs: &JsValue,
        marks: &JsValue,
        ids: &js_sys::Array,
        seqs: &js_sys::Array,
        revs: &js_sys::Array,
        bs: &js_sys::Array,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_marks_get(
        store: &JsValue,
        ids: &js_sys::Array,
        bs: &js_sys::Array,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_marks_set(
        store: &JsValue,
        ids: &js_sys::Array,
        bs: &js_sys::Array,
        revs: &js_sys::Array,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_marks_all(store: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_sync_changes(store: &JsValue, since: f64, limit: u32)
        -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_sync_meta(store: &JsValue, key: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_sync_put_meta(store: &JsValue, key: &str, value: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_sync_put_row(store: &JsValue, id: &str, tree: &str, seq: f64) -> Result<(), JsValue>;
    #[wasm_bindgen(catch)]
    fn pb_sync_add_row(store: &JsValue, id: &str, tree: &str, seq: f64) -> Result<(), JsValue>;
}

/// `sync_meta` keys.
const INSTANCE: &str = "instance";
const SEQ: &str = "seq";
const LOG_PREFIX: &str = "log:";

type Res<T> = std::result::Result<T, String>;

/// In `clear_all`'s transaction: deletes the sequence counter and every replication log of
/// `sync_meta`, and keeps the instance id.
pub(super) fn forget_replication(meta: &web_sys::IdbObjectStore) -> Result<(), JsValue> {
    meta.delete(&JsValue::from_str(SEQ))?;
    let logs = web_sys::IdbKeyRange::bound(
        &JsValue::from_str(LOG_PREFIX),
        &JsValue::from_str(&format!("{LOG_PREFIX}\u{ffff}")),
    )?;
    meta.delete(&logs)?;
    Ok(())
}

fn js(e: JsValue) -> String {
    let text = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| format!("{}: {}", e.name(), e.message()))
        .or_else(|| e.as_string());
    format!("IndexedDB: {}", text.unwrap_or_else(|| format!("{e:?}")))
}

fn idb(e: impl std::fmt::Display) -> String {
    format!("IndexedDB: {e}")
}

async fn wait(p: Result<js_sys::Promise, JsValue>) -> Res<JsValue> {
    wasm_bindgen_futures::JsFuture::from(p.map_err(js)?)
        .await
        .map_err(js)
}

/// One stored document row, read.
struct Row {
    tree_json: String,
    seq: f64,
}

impl Row {
    fn of(id: &str, row: &JsValue) -> Res<Option<Row>> {
        if row.is_undefined() || row.is_null() {
            return Ok(None);
        }
        let get = |f: &str| js_sys::Reflect::get(row, &JsValue::from_str(f)).unwrap_or_default();
        let tree_json = get(F_TREE)
            .as_string()
            .ok_or_else(|| format!("{SYNC_DOCS}/{id}: no tree"))?;
        Ok(Some(Row {
            tree_json,
            seq: get(F_SEQ).as_f64().unwrap_or(0.0),
        }))
    }

    fn tree(&self, id: &str) -> Res<DocTree> {
        serde_json::from_str(&self.tree_json)
            .map_err(|e| format!("{SYNC_DOCS}/{id}: unreadable tree: {e}"))
    }

    fn doc(&self, id: &str, marks: &Marks) -> Res<LocalDoc> {
        Ok(LocalDoc {
            tree: self.tree(id)?,
            applied: marks.get(id).cloned(),
        })
    }
}

/// Applied marks by document id.
type Marks = HashMap<String, String>;

fn row_id(row: &JsValue) -> Res<String> {
    js_sys::Reflect::get(row, &JsValue::from_str(F_ID))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| format!("{SYNC_DOCS}: a row without id"))
}

/// The device's replication documents in the app's IndexedDB database (see the module
/// documentation). Shares the [`IdbStore`]'s connection: closing the store (or another tab
/// upgrading the schema) closes it for both.
#[derive(Clone, Debug)]
pub struct IdbLocal {
    db: Database,
}

impl IdbLocal {
    /// The sync documents of `store`'s database.
    pub fn new(store: &IdbStore) -> IdbLocal {
        IdbLocal::from_database(store.database().clone())
    }

    /// The sync documents of an open database at schema 4 or later.
    pub fn from_database(db: Database) -> IdbLocal {
        IdbLocal { db }
    }

    fn tx(&self, stores: &[&str], mode: TransactionMode) -> Res<Transaction<'_>> {
        self.db
            .transaction(stores)
            .with_mode(mode)
            .build()
            .map_err(idb)
    }

    fn raw(tx: &Transaction<'_>, store: &str) -> Res<JsValue> {
        let os = tx.object_store(store).map_err(idb)?;
        let raw: &web_sys::IdbObjectStore = os.as_sys();
        Ok(raw.clone().into())
    }

    /// The rows of `ids` (deduplicated by the caller or not), by id.
    async fn rows(docs: &JsValue, ids: &[&str]) -> Res<HashMap<String, Row>> {
        let keys: js_sys::Array = ids.iter().map(|id| JsValue::from_str(id)).collect();
        let found: js_sys::Array = wait(pb_sync_rows(docs, &keys)).await?.unchecked_into();
        let mut out = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if let Some(row) = Row::of(id, &found.get(i as u32))? {
                out.insert(id.to_string(), row);
            }
        }
        Ok(out)
    }

    /// The applied marks of `ids` (deduplicated), from a `sync_marks` store.
    async fn marks(marks: &JsValue, ids: &[&str]) -> Res<Marks> {
        let (keys, bs) = with_buckets(ids.iter().copied());
        let found: js_sys::Array = wait(pb_marks_get(marks, &keys, &bs))
            .await?
            .unchecked_into();
        Ok(ids
            .iter()
            .zip(found.iter())
            .filter_map(|(id, rev)| Some((id.to_string(), rev.as_string()?)))
            .collect())
    }

    /// Every applied mark of a `sync_marks` store.
    async fn all_marks(marks: &JsValue) -> Res<Marks> {
        let both: js_sys::Array = wait(pb_marks_all(marks)).await?.unchecked_into();
        let (ids, revs): (js_sys::Array, js_sys::Array) =
            (both.get(0).unchecked_into(), both.get(1).unchecked_into());
        ids.iter()
            .zip(revs.iter())
            .map(|(id, rev)| match (id.as_string(), rev.as_string()) {
                (Some(id), Some(rev)) => Ok((id, rev)),
                _ => Err(format!("{SYNC_MARKS}: a mark that is not text")),
            })
            .collect()
    }

    async fn counter(meta: &JsValue) -> Res<f64> {
        Ok(wait(pb_sync_meta(meta, SEQ)).await?.as_f64().unwrap_or(0.0))
    }

    /// The rows of these ids in a read-only transaction of their own.
    async fn read(&self, ids: &[&str]) -> Res<HashMap<String, Row>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let tx = self.tx(&[SYNC_DOCS], TransactionMode::Readonly)?;
        Self::rows(&Self::raw(&tx, SYNC_DOCS)?, &unique(ids)).await
    }

    /// New documents from replicated revisions, without reading: `add` fails the whole
    /// transaction if a document exists. Numbered as `put_revs` numbers them.
    async fn add_revs(&self, docs: &[RevDoc]) -> Res<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let tx = self.tx(&[SYNC_DOCS, SYNC_META], TransactionMode::Readwrite)?;
        let (store, meta) = (Self::raw(&tx, SYNC_DOCS)?, Self::raw(&tx, SYNC_META)?);
        let mut seq = Self::counter(&meta).await?;
        let mut order: Vec<&str> = Vec::new();
        let mut trees: HashMap<&str, (DocTree, f64)> = HashMap::new();
        for d in docs {
            let entry = trees.entry(d.id.as_str()).or_insert_with(|| {
                order.push(&d.id);
                (DocTree::default(), 0.0)
            });
            if entry.0.insert(d) {
                seq += 1.0;
                entry.1 = seq;
            }
        }
        for id in order {
            let (tree, s) = &trees[id];
            pb_sync_add_row(&store, id, &to_json(tree)?, *s).map_err(js)?;
        }
        pb_sync_put_meta(&meta, SEQ, &JsValue::from_f64(seq)).map_err(js)?;
        tx.commit().await.map_err(idb)
    }

    /// The rows and applied marks of these ids, in one read-only transaction.
    async fn read_docs(&self, ids: &[&str]) -> Res<(HashMap<String, Row>, Marks)> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let tx = self.tx(&[SYNC_DOCS, SYNC_MARKS], TransactionMode::Readonly)?;
        let ids = unique(ids);
        let rows = Self::rows(&Self::raw(&tx, SYNC_DOCS)?, &ids).await?;
        let marks = Self::marks(&Self::raw(&tx, SYNC_MARKS)?, &ids).await?;
        Ok((rows, marks))
    }

    async fn meta(&self, key: &str) -> Res<JsValue> {
        let tx = self.tx(&[SYNC_META], TransactionMode::Readonly)?;
        wait(pb_sync_meta(&Self::raw(&tx, SYNC_META)?, key)).await
    }

    /// The rows changed after `since`, in sequence order, at most `limit`, each made into a
    /// `T` with its applied mark if `with_marks` (else with none).
    async fn feed<T>(
        &self,
        since: u64,
        limit: usize,
        with_marks: bool,
        each: impl Fn(&str, &Row, &Marks) -> Res<T>,
    ) -> Res<Vec<T>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let stores: &[&str] = match with_marks {
            true => &[SYNC_DOCS, SYNC_MARKS],
            false => &[SYNC_DOCS],
        };
        let tx = self.tx(stores, TransactionMode::Readonly)?;
        let docs = Self::raw(&tx, SYNC_DOCS)?;
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let rows = wait(pb_sync_changes(&docs, since as f64, limit)).await?;
        let rows = each_row(rows, |id, row| Ok((id.to_string(), row)))?;
        let marks = match with_marks {
            true => {
                let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
                Self::marks(&Self::raw(&tx, SYNC_MARKS)?, &ids).await?
            }
            false => Marks::new(),
        };
        rows.iter().map(|(id, row)| each(id, row, &marks)).collect()
    }
}

/// The ids as a JS array, and beside it the mark bucket of each.
fn with_buckets<'a>(ids: impl Iterator<Item = &'a str>) -> (js_sys::Array, js_sys::Array) {
    let (keys, bs) = (js_sys::Array::new(), js_sys::Array::new());
    for id in ids {
        keys.push(&JsValue::from_str(id));
        bs.push(&JsValue::from(bucket_of(id)));
    }
    (keys, bs)
}

/// Sets (`Some`) or removes (`None`) the applied marks of documents in a `sync_marks` store,
/// inside the caller's transaction; each bucket touched is written once.
pub(super) async fn set_marks<'a>(
    store: &JsValue,
    marks: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Res<()> {
    let (marks, revs): (Vec<&str>, js_sys::Array) = marks
        .into_iter()
        .map(|(id, rev)| (id, rev.map_or(JsValue::UNDEFINED, JsValue::from_str)))
        .unzip();
    let (ids, bs) = with_buckets(marks.into_iter());
    wait(pb_marks_set(store, &ids, &bs, &revs)).await.map(drop)
}

/// Each row of a `getAll` answer, read and made into a `T`.
fn each_row<T>(rows: JsValue, each: impl Fn(&str, Row) -> Res<T>) -> Res<Vec<T>> {
    let rows: js_sys::Array = rows.unchecked_into();
    let mut out = Vec::with_capacity(rows.length() as usize);
    for row in rows.iter() {
        let id = row_id(&row)?;
        let r = Row::of(&id, &row)?.ok_or_else(|| format!("{SYNC_DOCS}: empty row"))?;
        out.push(each(&id, r)?);
    }
    Ok(out)
}

fn unique<'a>(ids: &[&'a str]) -> Vec<&'a str> {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

fn put_row(docs: &JsValue, id: &str, tree: &str, seq: f64) -> Res<()> {
    pb_sync_put_row(docs, id, tree, seq).map_err(js)
}

fn to_json(tree: &DocTree) -> Res<String> {
    serde_json::to_string(tree).map_err(|e| e.to_string())
}

impl Local for IdbLocal {
    async fn instance_id(&self) -> Res<String> {
        if let Some(id) = self.meta(INSTANCE).await?.as_string() {
            return Ok(id);
        }
        // Made once: read again and write in one read-write transaction, so two tabs that
        // both found none agree on the first one written.
        let tx = self.tx(&[SYNC_META], TransactionMode::Readwrite)?;
        let meta = Self::raw(&tx, SYNC_META)?;
        if let Some(id) = wait(pb_sync_meta(&meta, INSTANCE)).await?.as_string() {
            return Ok(id);
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        pb_sync_put_meta(&meta, INSTANCE, &JsValue::from_str(&id)).map_err(js)?;
        tx.commit().await.map_err(idb)?;
        Ok(id)
    }

    async fn update_seq(&self) -> Res<u64> {
        Ok(self.meta(SEQ).await?.as_f64().unwrap_or(0.0) as u64)
    }

    async fn changes_since(&self, since: u64, limit: usize) -> Res<Vec<LocalChange>> {
        self.feed(since, limit, false, |id, row, _| {
            Ok(LocalChange {
                seq: row.seq as u64,
                leaves: row.tree(id)?.leaves(),
                id: id.to_string(),
            })
        })
        .await
    }

    async fn revs_diff(
        &self,
        revs: &BTreeMap<String, Vec<Rev>>,
    ) -> Res<BTreeMap<String, Vec<Rev>>> {
        let ids: Vec<&str> = revs.keys().map(String::as_str).collect();
        let rows = self.read(&ids).await?;
        let mut out = BTreeMap::new();
        for (id, asked) in revs {
            let tree = match rows.get(id) {
                Some(r) => r.tree(id)?,
                None => DocTree::default(),
            };
            let missing: Vec<Rev> = asked
                .iter()
                .filter(|r| !tree.contains(r))
                .cloned()
                .collect();
            if !missing.is_empty() {
                out.insert(id.clone(), missing);
            }
        }
        Ok(out)
    }

    async fn get_revs(&self, wanted: &[(String, Rev)]) -> Res<Vec<RevDoc>> {
        let ids: Vec<&str> = wanted.iter().map(|(id, _)| id.as_str()).collect();
        let rows = self.read(&ids).await?;
        let mut trees: HashMap<&str, DocTree> = HashMap::new();
        for (id, row) in &rows {
            trees.insert(id, row.tree(id)?);
        }
        Ok(wanted
            .iter()
            .filter_map(|(id, rev)| trees.get(id.as_str())?.rev_doc(id, rev))
            .collect())
    }

    async fn put_revs(&self, docs: &[RevDoc]) -> Res<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let tx = self.tx(&[SYNC_DOCS, SYNC_META], TransactionMode::Readwrite)?;
        let (store, meta) = (Self::raw(&tx, SYNC_DOCS)?, Self::raw(&tx, SYNC_META)?);
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let ids = unique(&ids);
        let mut seq = Self::counter(&meta).await?;
        let rows = Self::rows(&store, &ids).await?;
        // The documents of the batch as they become: tree, sequence number, changed.
        let mut work: HashMap<&str, (DocTree, f64, bool)> = HashMap::new();
        for d in docs {
            if !work.contains_key(d.id.as_str()) {
                let entry = match rows.get(&d.id) {
                    Some(r) => (r.tree(&d.id)?, r.seq, false),
                    None => (DocTree::default(), 0.0, false),
                };
                work.insert(&d.id, entry);
            }
            let entry = work.get_mut(d.id.as_str()).expect("inserted above");
            if entry.0.insert(d) {
                seq += 1.0;
                entry.1 = seq;
                entry.2 = true;
            }
        }
        let mut changed = false;
        for (id, (tree, s, dirty)) in &work {
            if *dirty {
                put_row(&store, id, &to_json(tree)?, *s)?;
                changed = true;
            }
        }
        if changed {
            pb_sync_put_meta(&meta, SEQ, &JsValue::from_f64(seq)).map_err(js)?;
        }
        tx.commit().await.map_err(idb)
    }

    async fn put_new_revs(&self, docs: &[RevDoc]) -> Res<()> {
        match self.add_revs(docs).await {
            Ok(()) => Ok(()),
            // One of them exists after all (the transaction wrote nothing): merge as usual.
            Err(_) => self.put_revs(docs).await,
        }
    }

    async fn get_checkpoint(&self, id: &str) -> Res<Option<Value>> {
        let Some(text) = self.meta(&format!("{LOG_PREFIX}{id}")).await?.as_string() else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{SYNC_META}/{LOG_PREFIX}{id}: {e}"))
    }

    async fn put_checkpoint(&self, id: &str, log: &Value) -> Res<()> {
        let tx = self.tx(&[SYNC_META], TransactionMode::Readwrite)?;
        let meta = Self::raw(&tx, SYNC_META)?;
        let text = JsValue::from_str(&log.to_string());
        pb_sync_put_meta(&meta, &format!("{LOG_PREFIX}{id}"), &text).map_err(js)?;
        tx.commit().await.map_err(idb)
    }
}

impl Docs for IdbLocal {
    async fn get_docs(&self, ids: &[String]) -> Res<Vec<Option<LocalDoc>>> {
        let keys: Vec<&str> = ids.iter().map(String::as_str).collect();
        let (rows, marks) = self.read_docs(&keys).await?;
        ids.iter()
            .map(|id| rows.get(id).map(|r| r.doc(id, &marks)).transpose())
            .collect()
    }

    async fn all_docs(&self) -> Res<Vec<(String, LocalDoc)>> {
        let tx = self.tx(&[SYNC_DOCS, SYNC_MARKS], TransactionMode::Readonly)?;
        let rows = wait(pb_sync_all(&Self::raw(&tx, SYNC_DOCS)?)).await?;
        let marks = Self::all_marks(&Self::raw(&tx, SYNC_MARKS)?).await?;
        let mut out = each_row(rows, |id, r| Ok((id.to_string(), r.doc(id, &marks)?)))?;
        // IndexedDB orders string keys by UTF-16 code units; ids are ordered as Rust strings.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    async fn applied_ids(&self) -> Res<Vec<String>> {
        let tx = self.tx(&[SYNC_MARKS], TransactionMode::Readonly)?;
        let marks = Self::all_marks(&Self::raw(&tx, SYNC_MARKS)?).await?;
        let mut ids: Vec<String> = marks.into_keys().collect();
        // IndexedDB orders string keys by UTF-16 code units; ids are ordered as Rust strings.
        ids.sort();
        Ok(ids)
    }

    async fn changed_docs(&self, since: u64, limit: usize) -> Res<Vec<(u64, String, LocalDoc)>> {
        self.feed(since, limit, true, |id, row, marks| {
            Ok((row.seq as u64, id.to_string(), row.doc(id, marks)?))
        })
        .await
    }

    async fn mark_applied(&self, marks: &[(String, u64, String)]) -> Res<()> {
        if marks.is_empty() {
            return Ok(());
        }
        let tx = self.tx(&[SYNC_DOCS, SYNC_MARKS], TransactionMode::Readwrite)?;
        let (ids, bs) = with_buckets(marks.iter().map(|(id, _, _)| id.as_str()));
        let (seqs, revs) = (js_sys::Array::new(), js_sys::Array::new());
        for (_, seq, rev) in marks {
            seqs.push(&JsValue::from_f64(*seq as f64));
            revs.push(&JsValue::from_str(rev));
        }
        wait(pb_sync_mark(
            &Self::raw(&tx, SYNC_DOCS)?,
            &Self::raw(&tx, SYNC_MARKS)?,
            &ids,
            &seqs,
            &revs,
            &bs,
        ))
        .await?;
        tx.commit().await.map_err(idb)
    }

    async fn put_docs(&self, docs: &[(String, LocalDoc)]) -> Res<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let tx = self.tx(
            &[SYNC_DOCS, SYNC_MARKS, SYNC_META],
            TransactionMode::Readwrite,
        )?;
        let (store, marks_store, meta) = (
            Self::raw(&tx, SYNC_DOCS)?,
            Self::raw(&tx, SYNC_MARKS)?,
            Self::raw(&tx, SYNC_META)?,
        );
        let ids: Vec<&str> = docs.iter().map(|(id, _)| id.as_str()).collect();
        let ids = unique(&ids);
        let start = Self::counter(&meta).await?;
        let mut seq = start;
        let mut rows = Self::rows(&store, &ids).await?;
        for (id, doc) in docs {
            let json = to_json(&doc.tree)?;
            let tree_changed = match rows.get(id) {
                None => true,
                Some(r) => r.tree_json != json && r.tree(id)? != doc.tree,
            };
            if tree_changed {
                seq += 1.0;
                put_row(&store, id, &json, seq)?;
                // A later entry of the same id compares with this one.
                rows.insert(
                    id.clone(),
                    Row {
                        tree_json: json,
                        seq,
                    },
                );
            }
        }
        // Every document's mark as given (a later entry of an id wins); only the buckets
        // whose marks move are written.
        let marks = docs
            .iter()
            .map(|(id, doc)| (id.as_str(), doc.applied.as_deref()));
        set_marks(&marks_store, marks).await?;
        if seq != start {
            pb_sync_put_meta(&meta, SEQ, &JsValue::from_f64(seq)).map_err(js)?;
        }
        tx.commit().await.map_err(idb)
    }
}
