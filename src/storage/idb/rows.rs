//! One row per appointment (`{id, start, person, v, json}`), for the settings and per
//! document (`{key, v, json}`): building rows from records, and reading records from rows.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::domain::{Appointment, AppointmentId, PracticeSettings};
use crate::storage::crypto::{self, Keys};
use crate::storage::keys;
use crate::storage::migrate::names::{F_ID, F_KEY, SETTINGS_KEY};
use crate::storage::records::{self, decode_or_note, DecodeError, Origin, Stored, Unreadable};
use crate::storage::{validate_appointment, Collection, Doc, Result};

#[wasm_bindgen(module = "/src/js/idb_buckets.js")]
extern "C" {
    fn pb_appointment_row(id: &str, start: &str, person: &str, v: u32, json: &str) -> JsValue;
    fn pb_doc_row(key: &str, v: u32, json: &str) -> JsValue;
    fn pb_row_entry(row: &JsValue, key_field: &str) -> JsValue;
    fn pb_rows_flat(rows: &js_sys::Array, key_field: &str) -> js_sys::Array;
}

/// The row of an appointment (validated and encoded).
pub(super) fn appointment_row(k: &Keys, a: &Appointment) -> Result<JsValue> {
    validate_appointment(a)?;
    let s = k.seal(
        &Origin::Appointment(a.id.clone()),
        records::appointment::encode(a)?,
    )?;
    Ok(pb_appointment_row(
        &a.id.0,
        &keys::appointment_start_key(a),
        &a.person_id.0,
        s.v,
        &s.body,
    ))
}

/// A row of an appointment stored as it is (tests), with its index keys.
pub(super) fn raw_appointment_row(id: &str, start: &str, person: &str, s: &Stored) -> JsValue {
    pb_appointment_row(id, start, person, s.v, &s.body)
}

/// The row of the settings.
pub(super) fn settings_row(k: &Keys, s: &PracticeSettings) -> Result<JsValue> {
    let s = k.seal(&Origin::Settings, records::settings::encode(s)?)?;
    Ok(pb_doc_row(SETTINGS_KEY, s.v, &s.body))
}

/// The row of a document (or of the settings) stored as it is.
pub(super) fn doc_row(key: &str, s: &Stored) -> JsValue {
    pb_doc_row(key, s.v, &s.body)
}

/// Decodes flat `[key, v, json, …]` (a missing body reads as empty, which does not
/// decode); entries that do not decode are noted in `bad`.
pub(super) fn decode_flat<T>(
    k: &Keys,
    flat: &js_sys::Array,
    decode: fn(&Stored) -> Result<T, DecodeError>,
    origin: impl Fn(String) -> Origin,
    bad: &mut Vec<Unreadable>,
) -> Vec<(String, T)> {
    let n = flat.length() / 3;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let key = flat.get(3 * i).as_string().unwrap_or_default();
        let stored = Stored {
            v: flat.get(3 * i + 1).as_f64().unwrap_or(0.0) as u32,
            body: flat.get(3 * i + 2).as_string().unwrap_or_default(),
        };
        if let Some(v) = decode_or_note(k, &stored, decode, || origin(key.clone()), bad) {
            out.push((key, v));
        }
    }
    out
}

/// The stored record of one row (`None` for no row).
pub(super) fn stored_of(row: &JsValue, key_field: &str) -> Option<Stored> {
    stored_of_entry(&pb_row_entry(row, key_field))
}

/// The stored record of an entry `[key, v, json]` (`None` for `undefined`).
pub(super) fn stored_of_entry(entry: &JsValue) -> Option<Stored> {
    if entry.is_undefined() {
        return None;
    }
    let entry: &js_sys::Array = entry.unchecked_ref();
    Some(Stored {
        v: entry.get(1).as_f64().unwrap_or(0.0) as u32,
        body: entry.get(2).as_string().unwrap_or_default(),
    })
}

/// The key field and key of the row of a record that is not a person.
pub(super) fn row_key(origin: &Origin) -> (&'static str, &str) {
    let key_field = if matches!(origin, Origin::Appointment(_)) {
        F_ID
    } else {
        F_KEY
    };
    (key_field, origin.key())
}

pub(super) fn appointments(
    k: &Keys,
    rows: &js_sys::Array,
    bad: &mut Vec<Unreadable>,
) -> Vec<Appointment> {
    decode_flat(
        k,
        &pb_rows_flat(rows, F_ID),
        records::appointment::decode,
        |id| Origin::Appointment(AppointmentId(id)),
        bad,
    )
    .into_iter()
    .map(|(_, a)| a)
    .collect()
}

/// The documents of `rows` (without the keyring, which is the store's own).
pub(super) fn docs(
    k: &Keys,
    collection: Collection,
    rows: &js_sys::Array,
    bad: &mut Vec<Unreadable>,
) -> Vec<Doc> {
    let flat = pb_rows_flat(rows, F_KEY);
    let flat: js_sys::Array = if collection == Collection::Meta {
        flat.to_vec()
            .chunks(3)
            .filter(|e| e[0].as_string().as_deref() != Some(crypto::KEYRING_KEY))
            .flatten()
            .collect()
    } else {
        flat
    };
    decode_flat(
        k,
        &flat,
        records::document::decode,
        |key| Origin::Document(collection, key),
        bad,
    )
    .into_iter()
    .map(|(key, value)| Doc { key, value })
    .collect()
}

/// The settings of the settings row, if any.
pub(super) fn settings(
    k: &Keys,
    row: &JsValue,
    bad: &mut Vec<Unreadable>,
) -> Option<PracticeSettings> {
    let stored = stored_of(row, F_KEY)?;
    decode_or_note(
        k,
        &stored,
        records::settings::decode,
        || Origin::Settings,
        bad,
    )
}

/// The document of one row, if any.
pub(super) fn doc(
    k: &Keys,
    collection: Collection,
    key: &str,
    row: &JsValue,
    bad: &mut Vec<Unreadable>,
) -> Option<serde_json::Value> {
    let stored = stored_of(row, F_KEY)?;
    let origin = || Origin::Document(collection, key.to_string());
    decode_or_note(k, &stored, records::document::decode, origin, bad)
}
