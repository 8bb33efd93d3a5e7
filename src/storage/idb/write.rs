//! A write inside one read-write transaction: applying a batch ([`IdbStore::apply`]) and
//! setting unreadable records aside ([`IdbStore::set_aside_in`]). The caller owns the
//! transaction and commits it; any `Err` leaves it to be dropped, which aborts it
//! (`indexed_db_futures` aborts a transaction dropped without `commit`), so the whole write
//! rolls back.

use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::Transaction;
use wasm_bindgen::prelude::*;

use super::persons::Buckets;
use super::{backend, rows, IdbStore};
use crate::storage::crypto::SealedBodies;
use crate::storage::crypto::{Keys, KEYRING_KEY};
use crate::storage::migrate::names::{
    APPOINTMENTS, F_KEY, IDX_PERSON, PERSONS, SETTINGS, SYNC_DOCS, SYNC_MARKS, SYNC_META,
};
use crate::storage::records::{self, Origin, Stored, Unreadable};
use crate::storage::{validate_doc, Collection, DocOp, Result, StoreError, WriteBatch};

/// Documents written per chunk inside one transaction (see [`IdbStore::apply`]).
pub const DOC_CHUNK: usize = 250;

/// Every object store of the app.
pub(super) fn all_store_names() -> Vec<&'static str> {
    let mut v = vec![PERSONS, APPOINTMENTS, SETTINGS];
    v.extend(Collection::ALL.iter().map(|c| c.store_name()));
    v
}

/// The stores a batch touches. `clear_all` also clears the sync documents, their applied
/// marks and the replication state (`sync_docs.rs`: sequence counter, replication logs), so the next sync is a full run
/// and no log claims documents that are gone; the instance id stays (it names the device in
/// batch claims, and a replica without logs starts from the beginning anyway).
pub(super) fn stores_of(batch: &WriteBatch<'_>) -> Vec<&'static str> {
    if batch.clear_all {
        let mut v = all_store_names();
        v.extend([SYNC_DOCS, SYNC_MARKS, SYNC_META]);
        return v;
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

/// The stores setting `records` aside touches (always the quarantine, and Meta for
/// [`refuse_if_encrypted_elsewhere`]).
pub(super) fn stores_of_unreadable(records: &[Unreadable]) -> Vec<&'static str> {
    let mut v = vec![
        Collection::Quarantine.store_name(),
        Collection::Meta.store_name(),
    ];
    for r in records {
        let name = r.origin.store_name();
        if !v.contains(&name) {
            v.push(name);
        }
    }
    v
}

fn put(store: &ObjectStore<'_>, row: JsValue) -> Result<()> {
    // The request goes out now; its outcome is part of the transaction's commit result.
    let _request = store.put(row).primitive().map_err(backend)?;
    Ok(())
}

fn raw_persons(tx: &Transaction<'_>) -> Result<web_sys::IdbObjectStore> {
    Ok(tx.object_store(PERSONS).map_err(backend)?.as_sys().clone())
}

/// A tab that opened the database unencrypted writes plain records; once another tab has
/// set up encryption (a keyring is stored), such a write would put plain patient data next
/// to sealed records, so it is refused inside its own transaction (which serialises it
/// with the set-up's write). The other tab's `Reopen` announcement reloads this one.
async fn refuse_if_encrypted_elsewhere(meta: &ObjectStore<'_>) -> Result<()> {
    match keyring_in(meta).await? {
        Some(_) => Err(StoreError::EncryptedElsewhere),
        None => Ok(()),
    }
}

/// The keyring as stored now, read through `meta` (the Meta store of the caller's
/// transaction, so the read is part of it).
pub(super) async fn keyring_in(meta: &ObjectStore<'_>) -> Result<Option<Stored>> {
    let row = meta
        .get::<JsValue, _, _>(KEYRING_KEY)
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?;
    Ok(row.and_then(|row| rows::stored_of(&row, F_KEY)))
}

/// The stores a write transaction covers: the batch's, and Meta when this tab holds the
/// database as unencrypted (for [`refuse_if_encrypted_elsewhere`]).
pub(super) fn stores_of_write(batch: &WriteBatch<'_>, plain: bool) -> Vec<&'static str> {
    let mut v = stores_of(batch);
    let meta = Collection::Meta.store_name();
    if plain && !v.is_empty() && !v.contains(&meta) {
        v.push(meta);
    }
    v
}

impl IdbStore {
    /// Issues every request of `batch` in `tx` (which must cover [`stores_of`] the batch).
    /// Records are sealed with the store's keys; `clear_all` keeps the keyring. `pre`: the
    /// person bodies of the batch, sealed before `tx` opened (`persons::preseal`).
    pub(super) async fn apply(
        &self,
        tx: &Transaction<'_>,
        batch: &WriteBatch<'_>,
        pre: Option<&SealedBodies>,
    ) -> Result<()> {
        let k = self.vault.keys_for_batch(batch)?;
        let store = |name: &str| tx.object_store(name).map_err(backend);
        if self.vault.keyring().is_none() {
            refuse_if_encrypted_elsewhere(&store(Collection::Meta.store_name())?).await?;
        }

        if batch.clear_all {
            for name in stores_of(batch) {
                if name == SYNC_META {
                    // The replication state goes; the device's identity (its instance id,
                    // which batch claims name) stays.
                    let meta = tx.object_store(SYNC_META).map_err(backend)?;
                    super::sync_docs::forget_replication(meta.as_sys())
                        .map_err(|e| backend(format!("{e:?}")))?;
                    continue;
                }
                let _request = store(name)?.clear().map_err(backend)?;
            }
            if let Some(keyring) = self.vault.keyring() {
                let meta = store(Collection::Meta.store_name())?;
                put(&meta, rows::doc_row(KEYRING_KEY, &keyring))?;
            }
        }

        // The person buckets this batch reads or changes.
        let mut buckets = if stores_of(batch).contains(&PERSONS) {
            let ids = batch
                .delete_persons
                .iter()
                .map(|p| p.0.as_str())
                .chain(batch.persons.iter().map(|p| p.id().0.as_str()))
                .chain(batch.appointments.iter().map(|a| a.person_id.0.as_str()));
            Some(Buckets::fetch(raw_persons(tx)?, ids).await?)
        } else {
            None
        };

        if let (false, Some(b)) = (batch.delete_persons.is_empty(), buckets.as_mut()) {
            let appointments = store(APPOINTMENTS)?;
            let by_person = appointments.index(IDX_PERSON).map_err(backend)?;
            for id in batch.delete_persons {
                b.remove(&id.0);
                let keys = by_person
                    .get_all_keys::<JsValue>()
                    .with_query::<String, _>(super::only(&id.0))
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

        if let Some(b) = buckets.as_mut() {
            b.put(&k, batch.persons, pre)?;
        }

        if let (false, Some(b)) = (batch.appointments.is_empty(), buckets.as_mut()) {
            let appointments = store(APPOINTMENTS)?;
            for a in batch.appointments {
                put(&appointments, rows::appointment_row(&k, a)?)?;
                if !b.has(&a.person_id.0) {
                    return Err(StoreError::UnknownPerson {
                        appointment: a.id.0.clone(),
                        person: a.person_id.0.clone(),
                    });
                }
            }
        }

        if let Some(b) = buckets {
            let fail = self
                .fail_after_puts
                .get()
                .is_some_and(|n| n > 0 && batch.persons.len() > n);
            b.flush(fail)?;
        }

        if let Some(s) = batch.settings {
            put(&store(SETTINGS)?, rows::settings_row(&k, s)?)?;
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
                DocOp::Put {
                    collection,
                    key,
                    value,
                } => {
                    let origin = Origin::Document(*collection, key.clone());
                    let s = k.seal(&origin, records::document::encode(key, value)?)?;
                    os.put(rows::doc_row(key, &s))
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

    /// Moves `records` into the quarantine inside `tx` (which must cover
    /// [`stores_of_unreadable`]): each one still stored exactly as read is removed from where
    /// it is and put into the quarantine with the reason.
    pub(super) async fn set_aside_in(
        &self,
        tx: &Transaction<'_>,
        records: &[Unreadable],
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let k: Keys = self.vault.keys()?;
        let store = |name: &str| tx.object_store(name).map_err(backend);
        // A tab holding the database as unencrypted reads sealed records as unreadable once
        // another tab has encrypted it: they must stay where they are.
        if self.vault.keyring().is_none() {
            refuse_if_encrypted_elsewhere(&store(Collection::Meta.store_name())?).await?;
        }
        let person_ids = records.iter().filter_map(|r| match &r.origin {
            Origin::Person(id) => Some(id.0.as_str()),
            _ => None,
        });
        let mut buckets = None;
        if person_ids.clone().next().is_some() {
            buckets = Some(Buckets::fetch(raw_persons(tx)?, person_ids).await?);
        }
        let quarantine = store(Collection::Quarantine.store_name())?;
        for r in records {
            let moved = match &r.origin {
                Origin::Person(id) => buckets
                    .as_mut()
                    .and_then(|b| b.remove_if(&k, &id.0, &r.stored)),
                origin => {
                    let (key_field, key) = rows::row_key(origin);
                    let os = store(origin.store_name())?;
                    let row: Option<JsValue> = os
                        .get::<JsValue, _, _>(key)
                        .primitive()
                        .map_err(backend)?
                        .await
                        .map_err(backend)?;
                    let now = row
                        .and_then(|row| rows::stored_of(&row, key_field))
                        .filter(|now| records::unchanged(&k, origin, now, &r.stored));
                    if now.is_some() {
                        let _request = os.delete(key).primitive().map_err(backend)?;
                    }
                    now
                }
            };
            if let Some(now) = moved {
                let (key, s) = records::quarantine_doc(&k, r, &now)?;
                put(&quarantine, rows::doc_row(&key, &s))?;
            }
        }
        if let Some(b) = buckets {
            b.flush(false)?;
        }
        Ok(())
    }
}
