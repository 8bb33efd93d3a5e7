//! Stored records: what the store writes, kept apart from the domain types.
//!
//! Every record is stored as a [`Stored`]: its record version `v` and its body, the JSON text
//! of the versioned record struct of that version (`PersonRecordV1`, `AppointmentV1`,
//! `PracticeSettingsV1`; documents are JSON values of version 1). The conversion between a
//! domain type and its record happens here, at the storage boundary, in ONE place per type
//! (`person.rs`, `appointment.rs`, `settings.rs`, `document.rs`): `encode` writes the current
//! version, `decode` reads every version there ever was and converts it forward step by
//! step (`V1 → V2 → … → domain`). A domain type can change freely as long as its conversion
//! does; a change of the stored shape is a new record version with its own struct and a
//! step from the previous one, each tested.
//!
//! Rows written before schema 3 carry no version; their JSON is the version-1 shape (the
//! records of version 1 mirror the domain types as they were then), so a missing version
//! reads as 1.
//!
//! A record that does not decode (unknown version, broken JSON, a shape no version knows) is
//! never dropped silently: reads hand it to [`Store::set_aside`](super::Store::set_aside),
//! which moves it, as it was, into the quarantine collection with the reason
//! ([`QuarantinedRecord`]), and the app shows how many records are set aside.
//!
//! Later layers sit on [`Stored`]: encryption at rest ([`super::crypto`]) seals `body` with
//! the record's [`Origin`] and version as associated data — a stored record is opened before
//! it is decoded ([`decode_or_note`]) and sealed after it is encoded, by the store;
//! replication ships one document per record.

pub mod appointment;
pub mod document;
pub mod person;
pub mod settings;

use serde::{Deserialize, Serialize};

use super::crypto::Keys;
use super::migrate::names;
use super::{Collection, Invalid, StoreError};
use crate::domain::{AppointmentId, PersonId};

/// Generates a record enum with the same variants as a domain enum (stored in snake_case)
/// and the conversions both ways, so a renamed domain variant cannot change what is stored
/// without the compiler noticing here.
macro_rules! record_enum {
    ($(#[$m:meta])* $name:ident <=> $domain:ty { $($v:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),+ }

        impl From<$domain> for $name {
            fn from(d: $domain) -> Self {
                match d { $(<$domain>::$v => $name::$v),+ }
            }
        }

        impl From<$name> for $domain {
            fn from(r: $name) -> Self {
                match r { $($name::$v => <$domain>::$v),+ }
            }
        }
    };
}
pub(crate) use record_enum;

/// A record as stored: its record version and its body (JSON text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub v: u32,
    pub body: String,
}

/// Why a stored record could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A record version this praxisbote does not know (written by a newer one).
    UnknownVersion(u32),
    /// The body is not the JSON of its version (serde's detail).
    Malformed(String),
    /// The database is encrypted but the record is not sealed.
    NotSealed,
    /// The sealed record does not decrypt: altered, moved, or sealed with another key.
    Undecryptable,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnknownVersion(v) => write!(f, "unknown record version {v}"),
            DecodeError::Malformed(e) => write!(f, "malformed record: {e}"),
            DecodeError::NotSealed => write!(f, "record is not encrypted in an encrypted database"),
            DecodeError::Undecryptable => write!(
                f,
                "record cannot be decrypted (altered, moved, or sealed with another key)"
            ),
        }
    }
}

/// Parses the body of version `v` as the record struct `R`.
pub(crate) fn parse<R: serde::de::DeserializeOwned>(body: &str) -> Result<R, DecodeError> {
    serde_json::from_str(body).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// Writes a record struct as the body of version `v`.
pub(crate) fn write<R: Serialize>(id: &str, v: u32, record: &R) -> Result<Stored, StoreError> {
    serde_json::to_string(record)
        .map(|body| Stored { v, body })
        .map_err(|e| StoreError::invalid(id, Invalid::NotStorable(e.to_string())))
}

/// Appends the JSON of `record` to `out` (without an intermediate string); `out` is
/// unchanged on error.
pub(crate) fn write_into<R: Serialize>(
    id: &str,
    record: &R,
    out: &mut String,
) -> Result<(), StoreError> {
    let start = out.len();
    let mut buf = std::mem::take(out).into_bytes();
    let res = serde_json::to_writer(&mut buf, record);
    // serde_json writes UTF-8 only.
    *out = String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    res.map_err(|e| {
        out.truncate(start);
        StoreError::invalid(id, Invalid::NotStorable(e.to_string()))
    })
}

/// Where a record is stored: its object store and key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    Person(PersonId),
    Appointment(AppointmentId),
    Settings,
    Document(Collection, String),
}

impl Origin {
    /// The name of the object store holding it.
    pub fn store_name(&self) -> &'static str {
        match self {
            Origin::Person(_) => names::PERSONS,
            Origin::Appointment(_) => names::APPOINTMENTS,
            Origin::Settings => names::SETTINGS,
            Origin::Document(c, _) => c.store_name(),
        }
    }

    /// Its key in that store.
    pub fn key(&self) -> &str {
        match self {
            Origin::Person(id) => &id.0,
            Origin::Appointment(id) => &id.0,
            Origin::Settings => names::SETTINGS_KEY,
            Origin::Document(_, key) => key,
        }
    }

    /// The key of its entry in the quarantine collection: `store/key`.
    pub fn quarantine_key(&self) -> String {
        format!("{}/{}", self.store_name(), self.key())
    }
}

/// Opens (see [`Keys::open`]) and decodes a stored record; one that does not is noted in
/// `bad` (in its readable form — as stored when it does not decrypt — at `origin`, for
/// [`Store::set_aside`](super::Store::set_aside)) and gives `None`.
pub fn decode_or_note<T>(
    keys: &Keys,
    stored: &Stored,
    decode: fn(&Stored) -> Result<T, DecodeError>,
    origin: impl FnOnce() -> Origin,
    bad: &mut Vec<Unreadable>,
) -> Option<T> {
    let origin = origin();
    match keys.open(&origin, stored).and_then(|s| decode(&s)) {
        Ok(v) => Some(v),
        Err(e) => {
            let readable = keys.readable(&origin, stored).into_owned();
            bad.push(Unreadable::new(origin, readable, e));
            None
        }
    }
}

/// Whether the record stored at `origin` now (`now`, as stored) is still the one read before
/// (`was`, readable form): equal, or for documents the same JSON value (written again with
/// other whitespace).
pub fn unchanged(keys: &Keys, origin: &Origin, now: &Stored, was: &Stored) -> bool {
    let now = keys.readable(origin, now);
    let now = now.as_ref();
    now == was
        || matches!(origin, Origin::Document(..))
            && now.v == was.v
            && serde_json::from_str::<serde_json::Value>(&now.body).ok()
                == serde_json::from_str::<serde_json::Value>(&was.body).ok()
}

/// A stored record that could not be read: where it was, as it was, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub origin: Origin,
    pub stored: Stored,
    pub error: String,
}

impl Unreadable {
    pub fn new(origin: Origin, stored: Stored, error: impl std::fmt::Display) -> Unreadable {
        Unreadable {
            origin,
            stored,
            error: error.to_string(),
        }
    }

    /// The quarantine document of this record.
    pub fn quarantined(&self) -> QuarantinedRecord {
        QuarantinedRecord {
            store: self.origin.store_name().to_string(),
            key: self.origin.key().to_string(),
            v: self.stored.v,
            body: self.stored.body.clone(),
            error: self.error.clone(),
        }
    }
}

/// The quarantine document (key and stored form, sealed with `keys`) of `r`, whose record
/// is stored as `now` (checked [`unchanged`]): the body kept is exactly what was stored —
/// decrypted when it decrypts (the quarantine document is sealed itself), else as stored.
pub fn quarantine_doc(
    keys: &Keys,
    r: &Unreadable,
    now: &Stored,
) -> Result<(String, Stored), StoreError> {
    let now = keys.readable(&r.origin, now);
    let mut q = r.quarantined();
    q.v = now.v;
    q.body = now.body.clone();
    let value = serde_json::to_value(q).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let key = r.origin.quarantine_key();
    let stored = document::encode(&key, &value)?;
    let stored = keys.seal(
        &Origin::Document(Collection::Quarantine, key.clone()),
        stored,
    )?;
    Ok((key, stored))
}

/// A document of the quarantine collection: a record set aside because it could not be
/// read, exactly as it was stored, so a later version (or a person) can still recover it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedRecord {
    /// The object store it came from ("persons", "outbox", …).
    pub store: String,
    pub key: String,
    pub v: u32,
    pub body: String,
    /// Why it could not be read.
    pub error: String,
}

/// The records set aside in the quarantine collection of `store`.
pub async fn quarantined_records(
    store: &dyn super::Store,
) -> Result<Vec<QuarantinedRecord>, StoreError> {
    use super::StoreExt;
    store.load_docs(Collection::Quarantine).await
}

#[cfg(test)]
mod tests;
