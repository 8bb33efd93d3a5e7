//! Which records sync, and their plaintext form inside a sealed document.
//!
//! One document per person, appointment, the practice settings, and per document of the
//! synced collections (templates, saved selections, send-log batches) — never per storage
//! bucket, so two devices editing different persons never touch the same document. The
//! plaintext is the record as stored at rest: its store, key, record version and body
//! (`records::*::encode`), so a device with an older app reads a newer record the way it
//! reads one from its own disk, and the record versions migrate at the same boundary.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::round::PersonConflict;
use crate::domain::{AppointmentId, PersonId};
use crate::storage::migrate::names;
use crate::storage::records::{appointment, document, person, settings, Origin, Stored};
use crate::storage::{Collection, DocOp, OwnedWriteBatch, Result, Store, StoreError};

/// The document collections that sync: templates, saved selections, and the outbox with its
/// send log (every device sees a batch's progress; the batch's claim says which device
/// transmits it) and its archive (a device that archives sent messages deletes them from
/// the outbox; the others get the archive entry with the deletion). The quarantine and Meta
/// stay on their device.
pub const SYNCED_COLLECTIONS: [Collection; 5] = [
    Collection::Templates,
    Collection::Queries,
    Collection::Outbox,
    Collection::Sendlog,
    Collection::SendlogArchive,
];

/// The plaintext of a document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plain {
    /// Object store name.
    pub s: String,
    /// Key in that store.
    pub k: String,
    /// Record version.
    pub v: u32,
    /// Record body (JSON text).
    pub b: String,
    /// On a person's revision that settled a conflict: the collision it could not settle,
    /// so every device that applies the revision lists it under "Konflikte" (see
    /// `round::settle`). Gone from the next revision, made when someone chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<PersonConflict>,
}

impl Plain {
    pub fn new(origin: &Origin, stored: &Stored) -> Plain {
        Plain {
            s: origin.store_name().to_string(),
            k: origin.key().to_string(),
            v: stored.v,
            b: stored.body.clone(),
            x: None,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("strings and numbers serialise")
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Plain> {
        serde_json::from_slice(bytes).ok()
    }

    /// Where the record belongs; `None` for a store this version does not sync.
    pub fn origin(&self) -> Option<Origin> {
        origin_of(&self.s, &self.k)
    }

    pub fn stored(&self) -> Stored {
        Stored {
            v: self.v,
            body: self.b.clone(),
        }
    }
}

fn origin_of(store: &str, key: &str) -> Option<Origin> {
    match store {
        names::PERSONS => Some(Origin::Person(PersonId(key.to_string()))),
        names::APPOINTMENTS => Some(Origin::Appointment(AppointmentId(key.to_string()))),
        names::SETTINGS if key == names::SETTINGS_KEY => Some(Origin::Settings),
        _ => Collection::by_store_name(store)
            .filter(|c| SYNCED_COLLECTIONS.contains(c))
            .map(|c| Origin::Document(c, key.to_string())),
    }
}

/// Every synced record of the store, in its stored (unsealed) form.
pub async fn read_all(store: &dyn Store) -> Result<Vec<(Origin, Stored)>> {
    let mut out = Vec::new();
    for p in store.all_persons().await? {
        out.push((Origin::Person(p.person.id.clone()), person::encode(&p)?));
    }
    let (first, last) = appointment_days();
    for a in store.appointments_between(first, last).await? {
        out.push((Origin::Appointment(a.id.clone()), appointment::encode(&a)?));
    }
    if let Some(s) = store.settings().await? {
        out.push((Origin::Settings, settings::encode(&s)?));
    }
    for c in SYNCED_COLLECTIONS {
        for d in store.list_docs(c).await? {
            out.push((
                Origin::Document(c, d.key.clone()),
                document::encode(&d.key, &d.value)?,
            ));
        }
    }
    Ok(out)
}

/// The days an appointment can have (four-digit years: keys compare as text).
fn appointment_days() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid day"),
        NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid day"),
    )
}

/// What to write to the store for one document: put this record, or delete the one there.
#[derive(Clone, Debug, PartialEq)]
pub enum Apply {
    Put(Origin, Stored),
    Delete(Origin),
}

/// Adds one record change to a batch (decoding the record as the store would).
pub fn add_to_batch(batch: &mut OwnedWriteBatch, change: &Apply) -> Result<()> {
    let bad = |origin: &Origin, e: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!("{}: {e}", origin.quarantine_key()))
    };
    match change {
        Apply::Put(origin, stored) => match origin {
            Origin::Person(_) => batch
                .persons
                .push(person::decode(stored).map_err(|e| bad(origin, &e))?),
            Origin::Appointment(_) => batch
                .appointments
                .push(appointment::decode(stored).map_err(|e| bad(origin, &e))?),
            Origin::Settings => {
                batch.settings = Some(settings::decode(stored).map_err(|e| bad(origin, &e))?)
            }
            Origin::Document(c, key) => {
                let value = document::decode(stored).map_err(|e| bad(origin, &e))?;
                batch.docs.push(DocOp::Put {
                    collection: *c,
                    key: key.clone(),
                    value,
                })
            }
        },
        Apply::Delete(origin) => match origin {
            Origin::Person(id) => batch.delete_persons.push(id.clone()),
            Origin::Appointment(id) => batch.delete_appointments.push(id.clone()),
            // The settings are never deleted on a device; a tombstone leaves them.
            Origin::Settings => {}
            Origin::Document(c, key) => batch.docs.push(DocOp::delete(*c, key)),
        },
    }
    Ok(())
}
