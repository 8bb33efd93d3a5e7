//! Stored documents (templates, saved queries, outbox, send log, meta, …): version 1 is the
//! JSON value as the app hands it over. The typed reading of a document (as a template, an
//! outbox message, …) is [`StoreExt::load_docs`](crate::storage::StoreExt::load_docs) and
//! [`StoreExt::get_typed`](crate::storage::StoreExt::get_typed), which set aside what does
//! not read as the type.

use super::{parse, write, DecodeError, Stored};
use crate::storage::Result;

/// The record version `encode` writes.
pub const VERSION: u32 = 1;

/// The stored form of a document value.
pub fn encode(key: &str, value: &serde_json::Value) -> Result<Stored> {
    write(key, VERSION, value)
}

/// A stored document of any known version.
pub fn decode(s: &Stored) -> Result<serde_json::Value, DecodeError> {
    match s.v {
        1 => parse(&s.body),
        v => Err(DecodeError::UnknownVersion(v)),
    }
}
