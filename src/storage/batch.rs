//! What one transaction writes ([`WriteBatch`], [`OwnedWriteBatch`]) and the checks every
//! record passes before it is written.

use super::{Collection, Doc, Invalid, Result, StoreError};
use crate::domain::{Appointment, AppointmentId, PersonId, PersonRecord, PracticeSettings};

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

    /// Puts `value` as JSON under `key`.
    pub fn put<T: serde::Serialize>(collection: Collection, key: &str, value: &T) -> Result<DocOp> {
        let value = serde_json::to_value(value)
            .map_err(|e| StoreError::invalid(key, Invalid::NotStorable(e.to_string())))?;
        Ok(DocOp::Put {
            collection,
            key: key.to_string(),
            value,
        })
    }

    pub fn delete(collection: Collection, key: &str) -> DocOp {
        DocOp::Delete {
            collection,
            key: key.to_string(),
        }
    }

    /// Puts a document.
    pub fn put_doc(collection: Collection, doc: &Doc) -> DocOp {
        DocOp::Put {
            collection,
            key: doc.key.clone(),
            value: doc.value.clone(),
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

    /// True when applying the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        !self.clear_all
            && self.delete_persons.is_empty()
            && self.delete_appointments.is_empty()
            && self.persons.is_empty()
            && self.appointments.is_empty()
            && self.settings.is_none()
            && self.docs.is_empty()
    }
}

/// An owned [`WriteBatch`] (without `clear_all`): what the closure of a
/// [`Store::update`](super::Store::update) computes from what it read. Applied in the same
/// order as a [`WriteBatch`].
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
        self.as_batch().is_empty()
    }
}

/// The closure of a [`Store::update`](super::Store::update): gets the persons read (aligned
/// with the ids, `None` for an unknown id) and returns what to write.
pub type UpdateFn<'a> = dyn FnMut(&[Option<PersonRecord>]) -> Result<OwnedWriteBatch> + 'a;

/// The closure of a [`Store::update_docs`](super::Store::update_docs): gets the documents of
/// each collection read (aligned with the collections, each ordered by key) and returns what
/// to write.
pub type DocsUpdateFn<'a> = dyn FnMut(&[Vec<Doc>]) -> Result<OwnedWriteBatch> + 'a;

fn blank_or_control(s: &str) -> bool {
    s.trim().is_empty() || s.chars().any(char::is_control)
}

/// A person may be stored when it has an id and a name.
pub fn validate_person(r: &PersonRecord) -> Result<()> {
    let p = &r.person;
    if blank_or_control(&p.id.0) {
        return Err(StoreError::invalid(&p.id.0, Invalid::PersonWithoutId));
    }
    if p.first_name.trim().is_empty() && p.last_name.trim().is_empty() {
        return Err(StoreError::invalid(&p.id.0, Invalid::PersonWithoutName));
    }
    Ok(())
}

/// An appointment may be stored when it has ids and does not end before it starts.
pub fn validate_appointment(a: &Appointment) -> Result<()> {
    let invalid = |problem| Err(StoreError::invalid(&a.id.0, problem));
    if blank_or_control(&a.id.0) {
        return invalid(Invalid::AppointmentWithoutId);
    }
    if blank_or_control(&a.person_id.0) {
        return invalid(Invalid::AppointmentWithoutPerson);
    }
    if a.end < a.start {
        return invalid(Invalid::AppointmentEndsBeforeStart);
    }
    Ok(())
}

/// A document needs a key.
pub fn validate_doc(op: &DocOp) -> Result<()> {
    if blank_or_control(op.key()) {
        return Err(StoreError::invalid(op.key(), Invalid::DocumentWithoutKey));
    }
    Ok(())
}
