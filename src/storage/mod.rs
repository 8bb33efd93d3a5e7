//! Persistence behind one async trait, [`Store`].
//!
//! Two implementations: [`memory::MemoryStore`] (everywhere, used by native tests and as a
//! fallback) and `idb::IdbStore` (browser only, IndexedDB). Both pass the same conformance
//! suite (the `praxisbote-testkit` crate: natively against memory, in headless Chromium
//! against IndexedDB).
//!
//! Rules every implementation keeps:
//! - Every write goes through [`Store::write`] with a [`WriteBatch`], or through
//!   [`Store::update`] / [`Store::update_docs`], which read and write in the same
//!   transaction; a batch is applied in one transaction, all or nothing. A batch that fails
//!   (validation, unknown person, browser error) leaves the database exactly as it was.
//! - Deleting a person also deletes that person's appointments (same transaction).
//! - What is stored are versioned records ([`records`]), not the domain types: they are
//!   converted at this boundary. A record that does not decode is moved to the quarantine
//!   collection ([`Store::set_aside`]) and left out of the result, never dropped silently.
//! - Records are sealed at rest when the practice set a passphrase ([`crypto`]): the store
//!   seals after encoding and opens before decoding; nothing above knows.
//! - Query results come in a defined order (documented per method), so both implementations
//!   return identical vectors.
//!
//! Futures are `!Send` (`#[async_trait(?Send)]`) because browser futures are.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Serialize};

use crate::domain::query::DayMonth;
use crate::domain::{Appointment, AppointmentId, PersonId, PersonRecord, PracticeSettings};

mod batch;
pub mod crypto;
mod error;
pub mod keys;
pub mod memory;
pub mod migrate;
pub mod records;
pub mod retention;
pub mod sync;
pub mod transfer;

#[cfg(target_arch = "wasm32")]
pub mod idb;

pub use batch::{
    validate_appointment, validate_doc, validate_person, DocOp, DocsUpdateFn, OwnedWriteBatch,
    UpdateFn, WriteBatch,
};
#[cfg(test)]
pub use error::samples as error_samples;
pub use error::{Invalid, Result, StoreError};
pub use migrate::names;
pub use records::{Origin, QuarantinedRecord, Stored, Unreadable};

/// The collections of keyed JSON documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Collection {
    /// Letter, SMS and e-mail templates.
    Templates,
    /// Saved selections ("Abfragen").
    Queries,
    /// Messages waiting to be sent, and sent ones during the retention period.
    Outbox,
    /// The send protocol ("Protokoll"): one document per batch.
    Sendlog,
    /// Small facts about the database itself (demo flag, import marks, settings of the store).
    Meta,
    /// Records set aside because they could not be read ([`QuarantinedRecord`]).
    Quarantine,
    /// Final outbox messages past the retention period, without content: one document per
    /// batch (`domain::retention::ArchivedBatch`).
    SendlogArchive,
}

impl Collection {
    pub const ALL: [Collection; 7] = [
        Collection::Templates,
        Collection::Queries,
        Collection::Outbox,
        Collection::Sendlog,
        Collection::Meta,
        Collection::Quarantine,
        Collection::SendlogArchive,
    ];

    /// Object store name.
    pub fn store_name(self) -> &'static str {
        match self {
            Collection::Templates => "templates",
            Collection::Queries => "queries",
            Collection::Outbox => "outbox",
            Collection::Sendlog => "sendlog",
            Collection::Meta => "meta",
            Collection::Quarantine => "quarantine",
            Collection::SendlogArchive => "sendlog_archive",
        }
    }

    /// The collection of an object store name.
    pub fn by_store_name(name: &str) -> Option<Collection> {
        Collection::ALL.into_iter().find(|c| c.store_name() == name)
    }
}

/// A keyed JSON document.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    pub key: String,
    pub value: serde_json::Value,
}

/// The storage interface of the app. See the module docs for the rules.
#[async_trait(?Send)]
pub trait Store {
    /// Applies a batch in one transaction, all or nothing.
    async fn write(&self, batch: WriteBatch<'_>) -> Result<()>;

    /// Read, decide, write — in ONE transaction. Reads the persons `ids`, calls `f` once
    /// with them (aligned with `ids`; `None` for an id that is not stored or could not be
    /// read), and applies the batch `f` returns, all inside the same transaction, so a write
    /// that depends on persons sees them as they are at the moment of the write (no other
    /// write can come between).
    ///
    /// `f` runs synchronously between the reads and the writes (IndexedDB commits a
    /// transaction that has nothing pending when control returns to the event loop, so `f`
    /// must not wait for anything, nor use the store). An error from `f`, or a batch that
    /// fails (validation, unknown person, browser error), leaves everything unchanged and is
    /// returned. An empty batch writes nothing.
    async fn update(&self, ids: &[PersonId], f: &mut UpdateFn<'_>) -> Result<()>;

    /// [`Store::update`] for documents: reads every document of `collections` (each ordered
    /// by key), calls `f` once with them and applies the batch it returns, in ONE transaction.
    async fn update_docs(&self, collections: &[Collection], f: &mut DocsUpdateFn<'_>)
        -> Result<()>;

    /// The persons `ids`, aligned with `ids` (`None` for an id that is not stored), read in
    /// one transaction.
    async fn get_persons(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonRecord>>>;

    async fn get_person(&self, id: &PersonId) -> Result<Option<PersonRecord>> {
        Ok(self
            .get_persons(std::slice::from_ref(id))
            .await?
            .pop()
            .flatten())
    }

    /// All persons, ordered by id.
    async fn all_persons(&self) -> Result<Vec<PersonRecord>>;
    /// Persons whose birthday (day-month) lies in `from..=to`, read through the birthday
    /// index; when `from > to` the range wraps the year end (Dec 20 – Jan 10). Ordered by
    /// day-month from `from` on, then id. Persons born on Feb 29 have the day-month 29.02.
    async fn persons_by_birthday(&self, from: DayMonth, to: DayMonth) -> Result<Vec<PersonRecord>>;
    async fn count_persons(&self) -> Result<usize>;

    /// Appointments starting on a day in `from..=to`, ordered by start, then id.
    async fn appointments_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Appointment>>;
    /// Appointments of one person, ordered by start, then id.
    async fn appointments_of(&self, person: &PersonId) -> Result<Vec<Appointment>>;

    async fn settings(&self) -> Result<Option<PracticeSettings>>;

    async fn get_doc(&self, collection: Collection, key: &str)
        -> Result<Option<serde_json::Value>>;
    /// All documents of a collection, ordered by key.
    async fn list_docs(&self, collection: Collection) -> Result<Vec<Doc>>;

    /// True when nothing at all is stored (first start: load the demo practice).
    async fn is_empty(&self) -> Result<bool>;

    /// Moves records that could not be read into the quarantine collection, in one
    /// transaction: each is removed from where it was and kept, as it was, with the reason.
    /// A record that changed since it was read (another write replaced it) stays where it is.
    async fn set_aside(&self, records: &[Unreadable]) -> Result<()>;

    /// Writes a stored record as it is, without encoding or checks (tests put undecodable
    /// records with it). In an encrypted store the body is sealed, unless it already is in
    /// sealed form (tests put altered sealed records with it). Not for the app.
    #[doc(hidden)]
    async fn put_raw(&self, origin: &Origin, stored: &Stored) -> Result<()>;

    /// The record at `origin` exactly as stored (sealed in an encrypted store). Tests only.
    #[doc(hidden)]
    async fn get_raw(&self, origin: &Origin) -> Result<Option<Stored>>;

    /// The encryption state of this store ([`crypto::Vault`]); above the storage layer only
    /// through the key-management functions of [`crypto`].
    fn vault(&self) -> &crypto::Vault;

    /// In an encrypted, unlocked store: rewrites birthday index keys stored as "MM-DD" (by
    /// versions before blinding) into their blinded form and marks the keyring, in ONE
    /// transaction that reads the keyring anew (nothing is done when it is marked already).
    /// Called by `crypto::unlock`. The default does nothing: a store that keeps no index at
    /// rest (the memory store) has nothing to hide.
    async fn blind_birthday_index(&self) -> Result<()> {
        Ok(())
    }

    // ---- Conveniences, all built on the methods above. ----

    /// How many records are set aside in the quarantine collection.
    async fn quarantined(&self) -> Result<usize> {
        Ok(self.list_docs(Collection::Quarantine).await?.len())
    }

    /// Puts persons (insert or replace) in one transaction.
    async fn put_persons(&self, persons: &[PersonRecord]) -> Result<()> {
        self.write(WriteBatch {
            persons,
            ..Default::default()
        })
        .await
    }

    /// Deletes a person and that person's appointments.
    async fn delete_person(&self, id: &PersonId) -> Result<()> {
        self.write(WriteBatch {
            delete_persons: std::slice::from_ref(id),
            ..Default::default()
        })
        .await
    }

    async fn put_appointments(&self, appointments: &[Appointment]) -> Result<()> {
        self.write(WriteBatch {
            appointments,
            ..Default::default()
        })
        .await
    }

    async fn delete_appointments(&self, ids: &[AppointmentId]) -> Result<()> {
        self.write(WriteBatch {
            delete_appointments: ids,
            ..Default::default()
        })
        .await
    }

    async fn put_settings(&self, settings: &PracticeSettings) -> Result<()> {
        self.write(WriteBatch {
            settings: Some(settings),
            ..Default::default()
        })
        .await
    }

    /// Puts many documents of one collection atomically.
    async fn put_docs(&self, collection: Collection, docs: &[Doc]) -> Result<()> {
        let ops: Vec<DocOp> = docs.iter().map(|d| DocOp::put_doc(collection, d)).collect();
        self.write(WriteBatch {
            docs: &ops,
            ..Default::default()
        })
        .await
    }

    async fn delete_doc(&self, collection: Collection, key: &str) -> Result<()> {
        self.write(WriteBatch {
            docs: &[DocOp::delete(collection, key)],
            ..Default::default()
        })
        .await
    }

    /// Removes everything (persons, appointments, settings, documents).
    async fn clear_all(&self) -> Result<()> {
        self.write(WriteBatch {
            clear_all: true,
            ..Default::default()
        })
        .await
    }
}

/// The record of a document that does not read as the wanted type.
fn unreadable_doc(collection: Collection, doc: &Doc, e: impl std::fmt::Display) -> Unreadable {
    Unreadable::new(
        Origin::Document(collection, doc.key.clone()),
        Stored {
            v: records::document::VERSION,
            body: doc.value.to_string(),
        },
        e,
    )
}

/// Typed access to documents, and [`Store::update`] with the caller's own error, for any
/// [`Store`].
#[async_trait(?Send)]
pub trait StoreExt: Store {
    /// The document `key` read as `T`; `None` when there is none. A document that does not
    /// read as `T` is set aside (see [`Store::set_aside`]) and gives `None`.
    async fn get_typed<T: DeserializeOwned>(
        &self,
        collection: Collection,
        key: &str,
    ) -> Result<Option<T>> {
        let Some(value) = self.get_doc(collection, key).await? else {
            return Ok(None);
        };
        match serde_json::from_value(value.clone()) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                let doc = Doc {
                    key: key.to_string(),
                    value,
                };
                self.set_aside(&[unreadable_doc(collection, &doc, e)])
                    .await?;
                Ok(None)
            }
        }
    }

    /// Every document of a collection of `T`s, read as `T`, ordered by key. Documents that do
    /// not read as `T` are set aside (see [`Store::set_aside`]). Only for collections that
    /// hold one type (not Meta).
    async fn load_docs<T: DeserializeOwned>(&self, collection: Collection) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for doc in self.list_docs(collection).await? {
            match serde_json::from_value::<T>(doc.value.clone()) {
                Ok(v) => out.push(v),
                Err(e) => bad.push(unreadable_doc(collection, &doc, e)),
            }
        }
        if !bad.is_empty() {
            self.set_aside(&bad).await?;
        }
        Ok(out)
    }

    async fn put_typed<T: Serialize>(
        &self,
        collection: Collection,
        key: &str,
        value: &T,
    ) -> Result<()> {
        self.write(WriteBatch {
            docs: &[DocOp::put(collection, key, value)?],
            ..Default::default()
        })
        .await
    }

    /// [`Store::update`] with the caller's own error type and a result: `f` returns the batch
    /// to write and a value, or its own error, which comes back unchanged (nothing written).
    async fn update_with<T, E, F>(&self, ids: &[PersonId], f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&[Option<PersonRecord>]) -> Result<(OwnedWriteBatch, T), E>,
    {
        let mut f = Some(f);
        let mut out: Option<Result<T, E>> = None;
        let written = self
            .update(ids, &mut |persons| {
                let f = f.take().ok_or(StoreError::Aborted)?;
                match f(persons) {
                    Ok((batch, value)) => {
                        out = Some(Ok(value));
                        Ok(batch)
                    }
                    Err(e) => {
                        out = Some(Err(e));
                        Err(StoreError::Aborted)
                    }
                }
            })
            .await;
        match (written, out) {
            (Ok(()), Some(out)) => out,
            (Err(StoreError::Aborted), Some(Err(e))) => Err(e),
            (Err(e), _) => Err(e.into()),
            (Ok(()), None) => Err(StoreError::Aborted.into()),
        }
    }
}

impl<S: Store + ?Sized> StoreExt for S {}
