//! Rows in the shapes of old IndexedDB schemas (browser only), written by tests straight
//! into an old database before it is upgraded, and by the storage benchmark as the reference
//! line of the old layout.

use praxisbote::domain::search::fold;
use praxisbote::domain::{Appointment, PersonRecord};
use praxisbote::storage::keys;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[derive(Serialize)]
struct PersonRowV1 {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    bday: Option<String>,
    kind: &'static str,
    tags: Vec<String>,
    json: String,
}

/// The schema-1 row of a person: `{id, name, bday?, kind, tags, json}` with the folded
/// name and tag keys of that schema and the person's JSON as it was stored then (the shape
/// of record version 1).
pub fn person_row_v1(p: &PersonRecord) -> JsValue {
    let name = match (fold(&p.person.last_name), fold(&p.person.first_name)) {
        (l, f) if f.is_empty() => l,
        (l, f) if l.is_empty() => f,
        (l, f) => format!("{l} {f}"),
    };
    let mut tags: Vec<String> = p.person.tags.iter().map(|t| fold(t)).collect();
    tags.retain(|t| !t.is_empty());
    tags.sort();
    tags.dedup();
    let row = PersonRowV1 {
        id: p.person.id.0.clone(),
        name,
        bday: keys::birthday_key(p),
        kind: p.person.kind.key(),
        tags,
        json: praxisbote::storage::records::person::encode_v1(p)
            .expect("encodable")
            .body,
    };
    row.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("row")
}

/// The row of an appointment as schemas 1 and 2 stored it: `{id, start, person, json}`,
/// without a record version.
pub fn appointment_row_v1(a: &Appointment) -> JsValue {
    #[derive(Serialize)]
    struct Row {
        id: String,
        start: String,
        person: String,
        json: String,
    }
    Row {
        id: a.id.0.clone(),
        start: keys::appointment_start_key(a),
        person: a.person_id.0.clone(),
        json: praxisbote::storage::records::appointment::encode(a)
            .expect("encodable")
            .body,
    }
    .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
    .expect("row")
}

/// The row of a document (or of the settings) as schemas 1 and 2 stored it: `{key, json}`.
pub fn doc_row_v1(key: &str, value: &serde_json::Value) -> JsValue {
    #[derive(Serialize)]
    struct Row<'a> {
        key: &'a str,
        json: String,
    }
    Row {
        key,
        json: value.to_string(),
    }
    .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
    .expect("row")
}

/// Schema-1 rows of `persons`.
pub fn person_rows_v1(persons: &[PersonRecord]) -> js_sys::Array {
    persons.iter().map(person_row_v1).collect()
}

#[wasm_bindgen(inline_js = r#"
export function pb_test_put_all(db, storeName, rows) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, "readwrite");
    const store = tx.objectStore(storeName);
    for (const row of rows) store.put(row);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}
"#)]
extern "C" {
    fn pb_test_put_all(db: &JsValue, store: &str, rows: &js_sys::Array) -> js_sys::Promise;
}

/// Puts raw rows into an object store of an open database, in one transaction.
pub async fn put_rows(db: &JsValue, store: &str, rows: &js_sys::Array) {
    wasm_bindgen_futures::JsFuture::from(pb_test_put_all(db, store, rows))
        .await
        .expect("rows written");
}
