//! Persistence behind one async trait, [`Store`].
//!
//! Two implementations: [`memory::MemoryStore`] (everywhere, used by native tests and as a
//! fallback) and `idb::IdbStore` (browser only, IndexedDB). Both are checked by the same
//! [`conformance`] suite.
//!
//! Rules every implementation keeps:
//! - Every write goes through [`Store::write`] with a [`WriteBatch`]; a batch is applied in one
//!   transaction, all or nothing. A batch that fails (validation, unknown person, browser
//!   error) leaves the database exactly as it was.
//! - Deleting a person also deletes that person's appointments (same transaction).
//! - Query results come in a defined order (documented per method), so both implementations
//!   return identical vectors.
//!
//! Futures are `!Send` (`#[async_trait(?Send)]`) because browser futures are.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Serialize};

use crate::domain::{Appointment, AppointmentId, Kind, PersonId, PersonRecord, PracticeSettings};

pub mod conformance;
pub mod keys;
pub mod memory;
pub mod migrate;
pub mod transfer;

#[cfg(target_arch = "wasm32")]
pub mod idb;

pub use keys::{fold, MonthDay};

/// Everything that can go wrong in storage. Displayed in German, for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The closure of a [`Store::update`] declined to write (see [`StoreExt::update_with`],
    /// which hands the caller's own error back instead).
    #[error("Der Vorgang wurde abgebrochen. Es wurde nichts gespeichert.")]
    Aborted,
    /// A record failed validation; nothing of its batch was written.
    #[error("Ungültiger Datensatz ({what} „{id}“): {reason} Es wurde nichts gespeichert.")]
    Invalid {
        what: &'static str,
        id: String,
        reason: String,
    },
    /// An appointment refers to a person that is neither stored nor part of the batch.
    #[error("Der Termin „{appointment}“ gehört zu einer unbekannten Person („{person}“). Es wurde nichts gespeichert.")]
    UnknownPerson { appointment: String, person: String },
    /// The browser offers no IndexedDB (private mode of some browsers, disabled storage).
    #[error("Der Browser stellt keinen lokalen Speicher zur Verfügung: {0}")]
    Unavailable(String),
    /// The database was created by a newer praxisbote.
    #[error("Die gespeicherten Daten stammen von einer neueren Version von Praxisbote (Schema {found}, unterstützt bis {supported}). Bitte die neueste Version verwenden.")]
    TooNew { found: u32, supported: u32 },
    /// Another tab keeps an old version of the database open.
    #[error("Praxisbote ist noch in einem anderen Tab geöffnet. Bitte den anderen Tab schließen und neu laden.")]
    Blocked,
    /// The browser's storage quota is exhausted.
    #[error("Der Speicher des Browsers ist voll. Bitte Speicherplatz freigeben.")]
    QuotaExceeded,
    /// Stored data could not be read back.
    #[error("Gespeicherte Daten sind beschädigt: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("Datenbankfehler: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The collections of keyed JSON documents later features keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Collection {
    /// Letter, SMS and e-mail templates.
    Templates,
    /// Saved selections ("Abfragen").
    Queries,
    /// Messages waiting to be sent.
    Outbox,
    /// The send protocol ("Protokoll").
    Sendlog,
    /// Small facts about the database itself (demo flag, import marks).
    Meta,
}

impl Collection {
    pub const ALL: [Collection; 5] = [
        Collection::Templates,
        Collection::Queries,
        Collection::Outbox,
        Collection::Sendlog,
        Collection::Meta,
    ];

    /// Object store name.
    pub fn store_name(self) -> &'static str {
        match self {
            Collection::Templates => "templates",
            Collection::Queries => "queries",
            Collection::Outbox => "outbox",
            Collection::Sendlog => "sendlog",
            Collection::Meta => "meta",
        }
    }
}

/// A keyed JSON document.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    pub key: String,
    pub value: serde_json::Value,
}

/// One document write of a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum DocOp {
    Put {
        collection: Collection,
        key: String,
        value: serde_json::Value,
    },
    Delete {
        collection: Collection,
        key: String,
    },
}

impl DocOp {
    pub fn collection(&self) -> Collection {
        match self {
            DocOp::Put { collection, .. } | DocOp::Delete { collection, .. } => *collection,
        }
    }

    pub fn key(&self) -> &str {
        match self {
            DocOp::Put { key, .. } | DocOp::Delete { key, .. } => key,
        }
    }
}

/// Everything one transaction writes. Applied in this order: `clear_all`, deletions of
/// persons (with their appointments), deletions of appointments, puts of persons, puts of
/// appointments, settings, document operations (in slice order).
///
/// An appointment must refer to a person that exists after the person steps (stored before
/// and not deleted, or put by this batch).
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteBatch<'a> {
    pub clear_all: bool,
    pub delete_persons: &'a [PersonId],
    pub delete_appointments: &'a [AppointmentId],
    pub persons: &'a [PersonRecord],
    pub appointments: &'a [Appointment],
    pub settings: Option<&'a PracticeSettings>,
    pub docs: &'a [DocOp],
}

/// An owned [`WriteBatch`] (without `clear_all`): what the closure of a [`Store::update`]
/// computes from the persons it read. Applied in the same order as a [`WriteBatch`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OwnedWriteBatch {
    pub delete_persons: Vec<PersonId>,
    pub delete_appointments: Vec<AppointmentId>,
    pub persons: Vec<PersonRecord>,
    pub appointments: Vec<Appointment>,
    pub settings: Option<PracticeSettings>,
    pub docs: Vec<DocOp>,
}

impl OwnedWriteBatch {
    /// The batch as a borrowed [`WriteBatch`].
    pub fn as_batch(&self) -> WriteBatch<'_> {
        WriteBatch {
            clear_all: false,
            delete_persons: &self.delete_persons,
            delete_appointments: &self.delete_appointments,
            persons: &self.persons,
            appointments: &self.appointments,
            settings: self.settings.as_ref(),
            docs: &self.docs,
        }
    }

    /// True when applying the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.delete_persons.is_empty()
            && self.delete_appointments.is_empty()
            && self.persons.is_empty()
            && self.appointments.is_empty()
            && self.settings.is_none()
            && self.docs.is_empty()
    }
}

/// The closure of a [`Store::update`]: gets the persons read (aligned with the ids, `None`
/// for an unknown id) and returns what to write.
pub type UpdateFn<'a> = dyn FnMut(&[Option<PersonRecord>]) -> Result<OwnedWriteBatch> + 'a;

impl WriteBatch<'_> {
    /// Checks every record of the batch on its own (no database access). Implementations may
    /// call the per-record checks lazily while writing instead; the result is the same.
    pub fn validate(&self) -> Result<()> {
        self.persons.iter().try_for_each(validate_person)?;
        self.appointments
            .iter()
            .try_for_each(validate_appointment)?;
        self.docs.iter().try_for_each(validate_doc)
    }
}

fn invalid(what: &'static str, id: &str, reason: &str) -> StoreError {
    StoreError::Invalid {
        what,
        id: id.to_string(),
        reason: reason.to_string(),
    }
}

fn blank_or_control(s: &str) -> bool {
    s.trim().is_empty() || s.chars().any(char::is_control)
}

/// A person may be stored when it has an id and a name.
pub fn validate_person(r: &PersonRecord) -> Result<()> {
    let p = &r.person;
    if blank_or_control(&p.id.0) {
        return Err(invalid(
            "Person",
            &p.id.0,
            "Die Kennung fehlt oder ist ungültig.",
        ));
    }
    if p.first_name.trim().is_empty() && p.last_name.trim().is_empty() {
        return Err(invalid("Person", &p.id.0, "Vor- und Nachname fehlen."));
    }
    Ok(())
}

/// An appointment may be stored when it has ids and does not end before it starts.
pub fn validate_appointment(a: &Appointment) -> Result<()> {
    if blank_or_control(&a.id.0) {
        return Err(invalid(
            "Termin",
            &a.id.0,
            "Die Kennung fehlt oder ist ungültig.",
        ));
    }
    if blank_or_control(&a.person_id.0) {
        return Err(invalid("Termin", &a.id.0, "Die Person fehlt."));
    }
    if a.end < a.start {
        return Err(invalid("Termin", &a.id.0, "Das Ende liegt vor dem Beginn."));
    }
    Ok(())
}

/// A document needs a key.
pub fn validate_doc(op: &DocOp) -> Result<()> {
    if blank_or_control(op.key()) {
        return Err(invalid(
            "Dokument",
            op.key(),
            "Der Schlüssel fehlt oder ist ungültig.",
        ));
    }
    Ok(())
}

/// The storage interface of the app. See the module docs for the rules.
#[async_trait(?Send)]
pub trait Store {
    /// Applies a batch in one transaction, all or nothing.
    async fn write(&self, batch: WriteBatch<'_>) -> Result<()>;

    /// Read, decide, write — in ONE transaction. Reads the persons `ids`, calls `f` once
    /// with them (aligned with `ids`; `None` for an id that is not stored), and applies the
    /// batch `f` returns, all inside the same transaction, so a write that depends on persons
    /// sees them as they are at the moment of the write (no other write can come between).
    ///
    /// `f` runs synchronously between the reads and the writes (IndexedDB commits a
    /// transaction that has nothing pending when control returns to the event loop, so `f`
    /// must not wait for anything). An error from `f`, or a batch that fails (validation,
    /// unknown person, browser error), leaves everything unchanged and is returned.
    /// An empty batch writes nothing.
    async fn update(&self, ids: &[PersonId], f: &mut UpdateFn<'_>) -> Result<()>;

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
    /// Persons of one kind, ordered by id.
    async fn persons_by_kind(&self, kind: Kind) -> Result<Vec<PersonRecord>>;
    /// Persons carrying a tag (compared folded, see [`fold`]), ordered by id.
    async fn persons_by_tag(&self, tag: &str) -> Result<Vec<PersonRecord>>;
    /// Persons whose birthday (month-day) lies in `from..=to`; when `from > to` the range
    /// wraps the year end (Dec 20 – Jan 10). Ordered by month-day from `from` on, then id.
    /// Persons born on Feb 29 have the month-day 02-29.
    async fn persons_by_birthday(&self, from: MonthDay, to: MonthDay) -> Result<Vec<PersonRecord>>;
    /// Persons whose folded name key ("lastname firstname", see [`keys::name_key`]) starts
    /// with the folded `prefix`, ordered by name key, then id. An empty prefix matches all.
    async fn persons_by_name_prefix(&self, prefix: &str) -> Result<Vec<PersonRecord>>;
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

    // ---- Conveniences, all built on `write`. ----

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
        let ops: Vec<DocOp> = docs
            .iter()
            .map(|d| DocOp::Put {
                collection,
                key: d.key.clone(),
                value: d.value.clone(),
            })
            .collect();
        self.write(WriteBatch {
            docs: &ops,
            ..Default::default()
        })
        .await
    }

    async fn delete_doc(&self, collection: Collection, key: &str) -> Result<()> {
        let ops = [DocOp::Delete {
            collection,
            key: key.to_string(),
        }];
        self.write(WriteBatch {
            docs: &ops,
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

/// Typed access to documents, for any [`Store`].
#[async_trait(?Send)]
pub trait StoreExt: Store {
    async fn get_typed<T: DeserializeOwned>(
        &self,
        collection: Collection,
        key: &str,
    ) -> Result<Option<T>> {
        match self.get_doc(collection, key).await? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
                StoreError::Corrupt(format!("{}/{key}: {e}", collection.store_name()))
            }),
        }
    }

    async fn put_typed<T: Serialize>(
        &self,
        collection: Collection,
        key: &str,
        value: &T,
    ) -> Result<()> {
        let value = serde_json::to_value(value)
            .map_err(|e| invalid("Dokument", key, &format!("Nicht speicherbar: {e}.")))?;
        self.put_docs(
            collection,
            &[Doc {
                key: key.to_string(),
                value,
            }],
        )
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
