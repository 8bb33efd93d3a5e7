//! The version-change transaction: applies the planned schema steps
//! ([`migrate::plan`](crate::storage::migrate::plan)) one version at a time, including the
//! data steps of old versions (schema 1 → 2: rows into buckets; 2 → 3: slimmer buckets;
//! 4 → 5: applied marks apart from the revision trees; 5 → 6: applied marks into buckets),
//! with the frozen row shapes of `src/js/idb_legacy.js`. Any error aborts the upgrade: the
//! database stays at its old version, unchanged.

use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::persons::bucket_of;
use super::sync_docs::set_marks;
use crate::storage::migrate::names::{
    F_APPLIED, F_BUCKET, F_ID, F_REV, PERSONS, SYNC_APPLIED, SYNC_DOCS, SYNC_MARKS,
    V2_PERSON_INDICES,
};
use crate::storage::migrate::{self, Change, Migration};
use crate::storage::StoreError;

#[wasm_bindgen(module = "/src/js/idb_legacy.js")]
extern "C" {
    fn pb_v2_bucket_new(b: u32) -> JsValue;
    fn pb_v2_add_v1_row(bk: &JsValue, row: &JsValue);
    fn pb_v2_finish(bk: &JsValue) -> JsValue;
    fn pb_row_id(row: &JsValue) -> Option<String>;
    fn pb_v3_from_v2(row: &JsValue) -> JsValue;
}

#[wasm_bindgen(module = "/src/js/idb_buckets.js")]
extern "C" {
    fn pb_count_row(n: f64) -> JsValue;
}

#[wasm_bindgen(module = "/src/js/idb_request.js")]
extern "C" {
    fn pb_request(req: &web_sys::IdbRequest) -> js_sys::Promise;
}

/// Awaits a raw request (inside the version-change transaction `indexed_db_futures` offers
/// no handle).
async fn request(req: web_sys::IdbRequest) -> std::result::Result<JsValue, JsValue> {
    wasm_bindgen_futures::JsFuture::from(pb_request(&req)).await
}

/// Every row of a store, inside the version-change transaction.
async fn all_rows(
    tx: &web_sys::IdbTransaction,
    store: &str,
) -> std::result::Result<(web_sys::IdbObjectStore, js_sys::Array), String> {
    let js = |e: JsValue| format!("{e:?}");
    let os = tx.object_store(store).map_err(js)?;
    let rows = request(os.get_all().map_err(js)?).await.map_err(js)?;
    Ok((os, rows.unchecked_into()))
}

/// A change that reads no rows (every change, in a new database: `fresh`), made at once
/// inside the version-change transaction; `None` for a change that must read rows (an
/// awaiting step).
fn apply_now(
    db: &web_sys::IdbDatabase,
    tx: &web_sys::IdbTransaction,
    change: &Change,
    fresh: bool,
) -> Option<std::result::Result<(), String>> {
    let js = |e: JsValue| format!("{e:?}");
    let done = match *change {
        Change::CreateStore { store, key_path } => {
            let params = web_sys::IdbObjectStoreParameters::new();
            params.set_key_path(&JsValue::from_str(key_path));
            db.create_object_store_with_optional_parameters(store, &params)
                .map(drop)
                .map_err(js)
        }
        Change::DeleteStore { store } => db.delete_object_store(store).map_err(js),
        Change::CreateIndex {
            store,
            index,
            key_path,
            multi_entry,
        } => {
            let params = web_sys::IdbIndexParameters::new();
            params.set_multi_entry(multi_entry);
            tx.object_store(store)
                .and_then(|os| {
                    os.create_index_with_str_and_optional_parameters(index, key_path, &params)
                })
                .map(drop)
                .map_err(js)
        }
        Change::DeleteIndex { store, index } => tx
            .object_store(store)
            .and_then(|os| os.delete_index(index))
            .map_err(js),
        Change::RewriteRows { .. }
        | Change::SlimPersonBuckets
        | Change::MoveAppliedMarks
        | Change::BucketAppliedMarks
            if fresh =>
        {
            Ok(())
        }
        Change::PersonsToBuckets if fresh => persons_to_buckets(db, &js_sys::Array::new()),
        Change::RewriteRows { .. }
        | Change::SlimPersonBuckets
        | Change::PersonsToBuckets
        | Change::MoveAppliedMarks
        | Change::BucketAppliedMarks => return None,
    };
    Some(done)
}

/// Applies one schema change to a database with data, inside the version-change
/// transaction.
async fn apply_change(
    db: &web_sys::IdbDatabase,
    tx: &web_sys::IdbTransaction,
    change: &Change,
) -> std::result::Result<(), String> {
    if let Some(done) = apply_now(db, tx, change, false) {
        return done;
    }
    let js = |e: JsValue| format!("{e:?}");
    match *change {
        Change::RewriteRows { store, rewrite } => {
            let (os, rows) = all_rows(tx, store).await?;
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
            let rows = all_rows(tx, PERSONS).await?.1;
            persons_to_buckets(db, &rows)?;
        }
        Change::SlimPersonBuckets => {
            let (os, rows) = all_rows(tx, PERSONS).await?;
            for row in rows.iter() {
                os.put(&pb_v3_from_v2(&row)).map_err(js)?;
            }
        }
        Change::MoveAppliedMarks => {
            let (docs, rows) = all_rows(tx, SYNC_DOCS).await?;
            let marks = tx.object_store(SYNC_APPLIED).map_err(js)?;
            let field = JsValue::from_str(F_APPLIED);
            for row in rows.iter() {
                let applied = js_sys::Reflect::get(&row, &field).map_err(js)?;
                if applied.is_undefined() {
                    continue;
                }
                let id = js_sys::Reflect::get(&row, &JsValue::from_str(F_ID)).map_err(js)?;
                let mark = js_sys::Object::new();
                js_sys::Reflect::set(&mark, &JsValue::from_str(F_ID), &id).map_err(js)?;
                js_sys::Reflect::set(&mark, &JsValue::from_str(F_REV), &applied).map_err(js)?;
                marks.put(&mark).map_err(js)?;
                js_sys::Reflect::delete_property(row.unchecked_ref::<js_sys::Object>(), &field)
                    .map_err(js)?;
                docs.put(&row).map_err(js)?;
            }
        }
        Change::BucketAppliedMarks => {
            let rows = all_rows(tx, SYNC_APPLIED).await?.1;
            let field = JsValue::from_str(F_REV);
            let mut marks: Vec<(String, String)> = Vec::with_capacity(rows.length() as usize);
            for row in rows.iter() {
                let id = pb_row_id(&row).ok_or("applied mark without id")?;
                let rev = js_sys::Reflect::get(&row, &field).map_err(js)?;
                marks.push((id, rev.as_string().ok_or("applied mark without revision")?));
            }
            let store: JsValue = tx.object_store(SYNC_MARKS).map_err(js)?.into();
            let marks = marks
                .iter()
                .map(|(id, rev)| (id.as_str(), Some(rev.as_str())));
            set_marks(&store, marks).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Schema 2: the persons store made anew with buckets, holding `rows` (schema 1 rows).
fn persons_to_buckets(
    db: &web_sys::IdbDatabase,
    rows: &js_sys::Array,
) -> std::result::Result<(), String> {
    let js = |e: JsValue| format!("{e:?}");
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
        let id = pb_row_id(&row).ok_or("person without id")?;
        let b = bucket_of(&id);
        let bk = buckets.entry(b).or_insert_with(|| pb_v2_bucket_new(b));
        pb_v2_add_v1_row(bk, &row);
    }
    for bk in buckets.values() {
        os.put(&pb_v2_finish(bk)).map_err(js)?;
    }
    if rows.length() > 0 {
        os.put(&pb_count_row(rows.length() as f64)).map_err(js)?;
    }
    Ok(())
}

/// The version-change transaction. `indexed_db_futures` gives no handle on it; any object
/// store created now belongs to it, so a scratch store hands it to us.
fn version_change_tx(
    raw: &web_sys::IdbDatabase,
) -> std::result::Result<web_sys::IdbTransaction, StoreError> {
    const SCRATCH: &str = "__praxisbote_upgrade";
    let tx = raw
        .create_object_store(SCRATCH)
        .map_err(|e| StoreError::Backend(format!("{e:?}")))?
        .transaction();
    raw.delete_object_store(SCRATCH)
        .map_err(|e| StoreError::Backend(format!("{e:?}")))?;
    Ok(tx)
}

/// Makes a new database (found version 0) at once: called inside the `upgradeneeded` event
/// itself, while the version-change transaction is surely active. (The awaiting [`upgrade`]
/// runs as a spawned task, and on a busy page that task could start only after the
/// transaction had finished: "TransactionInactiveError … createObjectStore".)
pub(super) fn create_now(
    db: &Database,
    target: u32,
    migrations: &[Migration],
) -> std::result::Result<(), StoreError> {
    let steps = migrate::plan(migrations, 0, target)?;
    let raw: &web_sys::IdbDatabase = db.as_sys();
    let tx = version_change_tx(raw)?;
    for step in steps {
        for change in step.changes {
            let done = apply_now(raw, &tx, change, true)
                .unwrap_or_else(|| Err("a new database reads no rows".into()));
            if let Err(detail) = done {
                let _ = tx.abort();
                return Err(StoreError::MigrationFailed {
                    version: step.version,
                    detail,
                });
            }
        }
    }
    Ok(())
}

/// Runs the planned migrations; aborts the version-change transaction on any error.
pub(super) async fn upgrade(
    db: Database,
    found: u32,
    target: u32,
    migrations: Vec<Migration>,
) -> std::result::Result<(), StoreError> {
    let steps = migrate::plan(&migrations, found, target)?;
    let raw: &web_sys::IdbDatabase = db.as_sys();
    let tx = version_change_tx(raw)?;
    for step in steps {
        for change in step.changes {
            if let Err(detail) = apply_change(raw, &tx, change).await {
                let _ = tx.abort();
                return Err(StoreError::MigrationFailed {
                    version: step.version,
                    detail,
                });
            }
        }
    }
    Ok(())
}
