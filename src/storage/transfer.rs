//! Moving data in and out of a [`Store`] as a whole: applying a CSV import plan, collecting a
//! backup of everything, restoring a backup, and the "last backup" mark in the Meta
//! collection. Works with any [`Store`] (natively tested against [`super::memory::MemoryStore`],
//! in headless Chromium against IndexedDB).
//!
//! Every write here is ONE [`Store::write`]: an import or a restore is stored completely or
//! not at all.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};

use super::{Collection, Doc, DocOp, Invalid, Store, StoreError, WriteBatch};
use crate::domain::backup::Backup;
use crate::domain::import::ImportPlan;
use crate::domain::{Appointment, PersonRecord};

/// Meta key of the date of the last backup download (`"2026-11-26"`).
pub const LAST_BACKUP_KEY: &str = "last_backup";
/// Meta key of a short record of the last import.
pub const LAST_IMPORT_KEY: &str = "last_import";

/// Bounds covering every appointment (keys are ISO date strings).
const ALL_FROM: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
const ALL_TO: NaiveDate = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap();

/// The document collections a backup holds (Meta without the last-backup mark; the
/// quarantine too, so records set aside survive a restore).
pub const BACKUP_COLLECTIONS: [Collection; 7] = Collection::ALL;

/// Counts of an applied import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportResult {
    pub inserted: usize,
    pub updated: usize,
}

/// The records an import plan writes: its inserts, then its updates.
pub fn import_records(plan: ImportPlan) -> (Vec<PersonRecord>, ImportResult) {
    let result = ImportResult {
        inserted: plan.inserts.len(),
        updated: plan.updates.len(),
    };
    let mut records = plan.inserts;
    records.extend(plan.updates);
    (records, result)
}

/// Stores the records of an import (from [`import_records`]) and a `meta/last_import` note in
/// one transaction: all or nothing.
pub async fn apply_person_import(
    store: &dyn Store,
    records: &[PersonRecord],
    result: ImportResult,
    today: NaiveDate,
) -> Result<(), StoreError> {
    let note = [DocOp::Put {
        collection: Collection::Meta,
        key: LAST_IMPORT_KEY.to_string(),
        value: json!({
            "date": today.to_string(),
            "inserted": result.inserted,
            "updated": result.updated,
        }),
    }];
    store
        .write(WriteBatch {
            persons: records,
            docs: &note,
            ..Default::default()
        })
        .await
}

/// Stores imported appointments and a `meta/last_import` note in one transaction. Every
/// appointment must belong to a stored person, otherwise nothing is written.
pub async fn apply_appointment_import(
    store: &dyn Store,
    appointments: &[Appointment],
    today: NaiveDate,
) -> Result<(), StoreError> {
    let note = [DocOp::Put {
        collection: Collection::Meta,
        key: LAST_IMPORT_KEY.to_string(),
        value: json!({
            "date": today.to_string(),
            "appointments": appointments.len(),
        }),
    }];
    store
        .write(WriteBatch {
            appointments,
            docs: &note,
            ..Default::default()
        })
        .await
}

/// A document as it is kept in a backup: `{"key": …, "value": …}`.
fn doc_to_backup(doc: Doc) -> Value {
    json!({ "key": doc.key, "value": doc.value })
}

/// A backup document back to a store document. Accepts the `{"key", "value"}` form written by
/// [`collect_backup`], and bare objects carrying `id`, `key` or `name` (older backups).
fn doc_from_backup(store: &str, v: &Value) -> Result<Doc, StoreError> {
    let obj = v
        .as_object()
        .ok_or_else(|| StoreError::invalid(store, Invalid::BackupEntryNotObject))?;
    if obj.len() == 2 {
        if let (Some(Value::String(key)), Some(value)) = (obj.get("key"), obj.get("value")) {
            return Ok(Doc {
                key: key.clone(),
                value: value.clone(),
            });
        }
    }
    for field in ["id", "key", "name"] {
        if let Some(Value::String(key)) = obj.get(field) {
            return Ok(Doc {
                key: key.clone(),
                value: v.clone(),
            });
        }
    }
    Err(StoreError::invalid(store, Invalid::BackupEntryWithoutKey))
}

/// Reads everything the practice keeps into a current-version [`Backup`]: settings, persons
/// (with consents), appointments, and every document collection (templates, saved queries,
/// outbox, send log, meta — without the last-backup mark itself).
pub async fn collect_backup(
    store: &dyn Store,
    created_at: NaiveDateTime,
) -> Result<Backup, StoreError> {
    let settings = store.settings().await?;
    let persons = store.all_persons().await?;
    let appointments = store.appointments_between(ALL_FROM, ALL_TO).await?;
    let mut documents = BTreeMap::new();
    for c in BACKUP_COLLECTIONS {
        let docs: Vec<Value> = store
            .list_docs(c)
            .await?
            .into_iter()
            .filter(|d| !(c == Collection::Meta && d.key == LAST_BACKUP_KEY))
            .map(doc_to_backup)
            .collect();
        if !docs.is_empty() {
            documents.insert(c.store_name().to_string(), docs);
        }
    }
    Ok(Backup::new(
        created_at,
        settings,
        persons,
        appointments,
        documents,
    ))
}

/// The document operations that restore a backup's documents. Refuses unknown collections
/// and documents without a key, so a restore never silently drops data.
pub fn restore_ops(backup: &Backup) -> Result<Vec<DocOp>, StoreError> {
    let mut ops = Vec::new();
    for (name, docs) in &backup.documents {
        let collection = Collection::by_store_name(name)
            .ok_or_else(|| StoreError::invalid(name, Invalid::BackupUnknownArea))?;
        for v in docs {
            let doc = doc_from_backup(name, v)?;
            if collection == Collection::Meta && doc.key == LAST_BACKUP_KEY {
                continue;
            }
            ops.push(DocOp::Put {
                collection,
                key: doc.key,
                value: doc.value,
            });
        }
    }
    Ok(ops)
}

/// Replaces ALL data with the backup's, in one transaction. `last_backup` (the current mark,
/// if any) is kept so the reminder does not come back because of the restore.
pub async fn restore_backup(
    store: &dyn Store,
    backup: &Backup,
    last_backup: Option<NaiveDate>,
) -> Result<(), StoreError> {
    replace_all(store, backup, last_backup, Vec::new()).await
}

/// Replaces ALL data with the backup's, the last-backup mark and the `extra` document
/// operations, in one write.
pub(crate) async fn replace_all(
    store: &dyn Store,
    backup: &Backup,
    last_backup: Option<NaiveDate>,
    extra: Vec<DocOp>,
) -> Result<(), StoreError> {
    let mut ops = restore_ops(backup)?;
    if let Some(d) = last_backup {
        ops.push(last_backup_op(d));
    }
    ops.extend(extra);
    store
        .write(WriteBatch {
            clear_all: true,
            persons: &backup.persons,
            appointments: &backup.appointments,
            settings: backup.settings.as_ref(),
            docs: &ops,
            ..Default::default()
        })
        .await
}

fn last_backup_op(date: NaiveDate) -> DocOp {
    DocOp::Put {
        collection: Collection::Meta,
        key: LAST_BACKUP_KEY.to_string(),
        value: Value::String(date.to_string()),
    }
}

/// The date of the last backup download, if one was made.
pub async fn last_backup(store: &dyn Store) -> Result<Option<NaiveDate>, StoreError> {
    Ok(store
        .get_doc(Collection::Meta, LAST_BACKUP_KEY)
        .await?
        .and_then(|v| v.as_str().and_then(|s| s.parse().ok())))
}

/// Records that a backup was downloaded on `date`.
pub async fn mark_backup(store: &dyn Store, date: NaiveDate) -> Result<(), StoreError> {
    store
        .write(WriteBatch {
            docs: &[last_backup_op(date)],
            ..Default::default()
        })
        .await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
