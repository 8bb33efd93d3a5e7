//! The persons store: persons packed into [`PERSON_BUCKETS`] bucket rows (schema 3:
//! `{b, ids[], bdays[], vs[], json[]}`, see `migrate::names`), plus the count row `b = -1`.
//!
//! Why buckets: in Chromium every IndexedDB request costs about 100 µs, so a bulk write of N
//! persons is ~1,000 requests instead of N (docs/design/idb-person-buckets.md). A write
//! reads the buckets it touches ([`Buckets::fetch`]), changes them in JS and puts them back,
//! all in its one transaction. A query asks the birthday index for bucket keys, reads those
//! buckets and filters/sorts their entries in JS exactly like the index (value, then id, in
//! UTF-16 order), so results equal a one-row-per-person layout. In an encrypted store the
//! birthday keys are blinded (`crypto/blind.rs`): the query looks up each day of the range
//! and orders by the day's place in it ([`by_birthday`]).

use std::collections::{BTreeMap, HashMap};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{await_js, js_error};
use crate::domain::query::DayMonth;
use crate::domain::{PersonId, PersonRecord};
use crate::storage::crypto::{Keys, SealedBodies};
use crate::storage::keys;
use crate::storage::migrate::names::{F_BDAYS, IDX_BIRTHDAY, PERSON_BUCKETS};
use crate::storage::records::{self, Origin, Stored, Unreadable};
use crate::storage::{validate_person, Result};

#[wasm_bindgen(module = "/src/js/idb_buckets.js")]
extern "C" {
    fn pb_bucket_new(b: u32) -> JsValue;
    fn pb_bucket_upsert(bk: &JsValue, id: &str, bday: &str, v: u32, json: &str);
    fn pb_bucket_merge(bk: &JsValue, packed: &str, bodies: Option<&js_sys::Array>);
    fn pb_fetch_buckets(store: &JsValue, keys: &js_sys::Array) -> js_sys::Promise;
    fn pb_bucket_remove(bk: &JsValue, id: &str) -> bool;
    fn pb_bucket_remove_if(bk: &JsValue, id: &str, v: u32, json: &str) -> bool;
    fn pb_bucket_has(bk: &JsValue, id: &str) -> bool;
    fn pb_bucket_len(bk: &JsValue) -> u32;
    fn pb_bucket_entry(bk: &JsValue, id: &str) -> JsValue;
    fn pb_get_rows(store: &JsValue, keys: &js_sys::Array) -> js_sys::Promise;
    fn pb_query_buckets(
        store: &JsValue,
        index: Option<&str>,
        lo: &str,
        hi: &str,
        hi_open: bool,
    ) -> js_sys::Promise;
    fn pb_select(
        buckets: &JsValue,
        field: Option<&str>,
        lo: &str,
        hi: &str,
        hi_open: bool,
    ) -> js_sys::Array;
    fn pb_query_bucket_keys(store: &JsValue, index: &str, keys: &js_sys::Array) -> js_sys::Promise;
    fn pb_select_keys(buckets: &JsValue, field: &str, keys: &js_sys::Array) -> js_sys::Array;
    fn pb_rekey_birthdays(store: &JsValue, map: &js_sys::Map) -> js_sys::Promise;
    fn pb_count_row(n: f64) -> JsValue;
    fn pb_count_of(row: &JsValue) -> f64;
}

/// The key of the row holding the person count.
const COUNT_KEY: f64 = -1.0;

/// The bucket of a person id (FNV-1a over the UTF-8 bytes). Must never change: stored
/// rows are found by it.
pub fn bucket_of(id: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h % PERSON_BUCKETS
}

/// Decodes flat `[id, v, json, …]` entries; those that do not decode are noted in `bad`.
fn decode_flat(k: &Keys, flat: &js_sys::Array, bad: &mut Vec<Unreadable>) -> Vec<PersonRecord> {
    let origin = |id| Origin::Person(PersonId(id));
    super::rows::decode_flat(k, flat, records::person::decode, origin, bad)
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// The persons `ids` (aligned; `None` when not stored or unreadable) from the raw persons
/// store of a transaction.
pub(super) async fn read(
    k: &Keys,
    raw: &JsValue,
    ids: &[PersonId],
    bad: &mut Vec<Unreadable>,
) -> Result<Vec<Option<PersonRecord>>> {
    let keys: js_sys::Array = ids
        .iter()
        .map(|id| JsValue::from(bucket_of(&id.0)))
        .collect();
    let rows: js_sys::Array = await_js(pb_get_rows(raw, &keys)).await?.unchecked_into();
    Ok(ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let entry = pb_bucket_entry(&rows.get(i as u32), &id.0);
            if entry.is_undefined() {
                return None;
            }
            decode_flat(k, entry.unchecked_ref(), bad).pop()
        })
        .collect())
}

/// Every person, ordered by id.
pub(super) async fn all(
    k: &Keys,
    raw: &JsValue,
    bad: &mut Vec<Unreadable>,
) -> Result<Vec<PersonRecord>> {
    let buckets = await_js(pb_query_buckets(raw, None, "", "", false)).await?;
    Ok(decode_flat(
        k,
        &pb_select(&buckets, None, "", "", false),
        bad,
    ))
}

/// Persons with a birthday in `from..=to` (wrapping the year end), through the birthday
/// index, ordered by day-month from `from` on, then id.
pub(super) async fn by_birthday(
    k: &Keys,
    raw: &JsValue,
    from: DayMonth,
    to: DayMonth,
    bad: &mut Vec<Unreadable>,
) -> Result<Vec<PersonRecord>> {
    if k.birthday_blinding().is_some() {
        return by_blinded_birthday(k, raw, from, to, bad).await;
    }
    let mut out = Vec::new();
    for (lo, hi) in keys::birthday_ranges(from, to) {
        let (lo, hi) = (keys::month_day_key(lo), keys::month_day_key(hi));
        let buckets = await_js(pb_query_buckets(raw, Some(IDX_BIRTHDAY), &lo, &hi, false)).await?;
        out.extend(decode_flat(
            k,
            &pb_select(&buckets, Some(F_BDAYS), &lo, &hi, false),
            bad,
        ));
    }
    Ok(out)
}

/// [`by_birthday`] in an encrypted store, whose blinded keys do not sort by day: each day of
/// the range is looked up by its key, and the entries are ordered by the day's place in the
/// range, then id (as the index orders "MM-DD").
async fn by_blinded_birthday(
    k: &Keys,
    raw: &JsValue,
    from: DayMonth,
    to: DayMonth,
    bad: &mut Vec<Unreadable>,
) -> Result<Vec<PersonRecord>> {
    let days: js_sys::Array = keys::days_of(from, to)
        .into_iter()
        .map(|d| JsValue::from(k.birthday_index_key(&keys::month_day_key(d)).as_ref()))
        .collect();
    let buckets = await_js(pb_query_bucket_keys(raw, IDX_BIRTHDAY, &days)).await?;
    Ok(decode_flat(
        k,
        &pb_select_keys(&buckets, F_BDAYS, &days),
        bad,
    ))
}

/// Blinds the "MM-DD" birthday keys of every bucket of the raw persons store (in the
/// caller's transaction); returns how many buckets changed. Nothing for a plain store.
pub(super) async fn blind_birthdays(k: &Keys, raw: &JsValue) -> Result<u32> {
    let Some(blinding) = k.birthday_blinding() else {
        return Ok(0);
    };
    let map = js_sys::Map::new();
    for (plain, blinded) in blinding {
        map.set(&JsValue::from(plain), &JsValue::from(blinded));
    }
    let changed = await_js(pb_rekey_birthdays(raw, &map)).await?;
    Ok(changed.as_f64().unwrap_or_default() as u32)
}

/// The person count (kept in its own row).
pub(super) async fn count(raw: &JsValue) -> Result<usize> {
    let keys = js_sys::Array::of1(&JsValue::from(COUNT_KEY));
    let rows: js_sys::Array = await_js(pb_get_rows(raw, &keys)).await?.unchecked_into();
    Ok(pb_count_of(&rows.get(0)) as usize)
}

/// Persons a write must hold at least for their bodies to be sealed with WebCrypto before
/// its transaction opens ([`preseal`]); fewer are sealed inside it with RustCrypto.
pub(super) const PRESEAL_MIN: usize = 16;

/// The bodies of `persons`, sealed with WebCrypto BEFORE the write transaction opens (an
/// IndexedDB transaction cannot wait for WebCrypto); `None` when `k` cannot (plain keys, no
/// WebCrypto) or the write is small: then [`Buckets::put`] seals inside the transaction.
/// Fails like `put` would on an invalid person.
pub(super) async fn preseal(k: &Keys, persons: &[PersonRecord]) -> Result<Option<SealedBodies>> {
    if persons.len() < PRESEAL_MIN {
        return Ok(None);
    }
    let Some(mut bulk) = k.bulk_sealer().await else {
        return Ok(None);
    };
    for p in persons {
        validate_person(p)?;
        let origin = Origin::Person(p.person.id.clone());
        bulk.push(&origin, records::person::VERSION, |out| {
            records::person::encode_into(p, out)
        })
        .await?;
    }
    Ok(Some(bulk.finish().await?))
}

/// Where the body of a packed person comes from.
#[derive(Clone, Copy)]
enum Body {
    /// Encoded here, and sealed with RustCrypto when the keys are sealed.
    Encode,
    /// Sealed before the transaction ([`preseal`]): its index in the bodies handed to
    /// `pb_bucket_merge`.
    Presealed(u32),
}

/// Appends the body of `p` (encoded, sealed when `k` is) to `out`.
fn pack_body(k: &Keys, out: &mut String, p: &PersonRecord) -> Result<()> {
    match k {
        Keys::Plain => {
            // Encoded apart: `encode_into` re-validates the whole string it appends to.
            thread_local! {
                static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
            }
            SCRATCH.with_borrow_mut(|scratch| {
                scratch.clear();
                records::person::encode_into(p, scratch)?;
                out.push_str(scratch);
                Ok(())
            })
        }
        Keys::Sealed(_) => records::person::encode(p)
            .and_then(|s| k.seal(&Origin::Person(p.person.id.clone()), s))
            .map(|s| out.push_str(&s.body)),
    }
}

/// Appends one person in the form `pb_bucket_merge` reads: fields separated by U+001D, the
/// record ended by U+001E. Neither can occur: ids hold no control characters
/// (`validate_person`), birthday keys (digits or base64) and versions are ASCII, serde_json
/// escapes control characters in the body, and a sealed body is base64 (a presealed one is
/// its index, in decimal).
fn pack(k: &Keys, out: &mut String, p: &PersonRecord, body: Body) -> Result<()> {
    let start = out.len();
    out.push_str(&p.person.id.0);
    out.push('\u{1d}');
    if let Some(b) = keys::birthday_key(p) {
        out.push_str(&k.birthday_index_key(&b));
    }
    out.push('\u{1d}');
    out.push_str(&records::person::VERSION.to_string());
    out.push('\u{1d}');
    let body = match body {
        Body::Encode => pack_body(k, out, p),
        Body::Presealed(i) => {
            use std::fmt::Write;
            let _ = write!(out, "{i}");
            Ok(())
        }
    };
    if let Err(e) = body {
        out.truncate(start);
        return Err(e);
    }
    out.push('\u{1e}');
    Ok(())
}

/// One fetched bucket: the row (changed in place in JS), its length when read, and
/// whether it was changed.
struct Bucket {
    row: JsValue,
    old_len: u32,
    dirty: bool,
}

/// The buckets a write touches, read inside its transaction and put back by [`Buckets::flush`].
pub(super) struct Buckets {
    raw: web_sys::IdbObjectStore,
    map: HashMap<u32, Bucket>,
    count: f64,
}

impl Buckets {
    /// Reads the buckets of `ids` (missing ones as fresh empty buckets) and the count.
    pub async fn fetch<'a>(
        raw: web_sys::IdbObjectStore,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<Buckets> {
        let mut wanted: Vec<u32> = ids.map(bucket_of).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut map = HashMap::new();
        let mut count = 0.0;
        if !wanted.is_empty() {
            let keys: js_sys::Array = wanted.iter().map(|b| JsValue::from(*b)).collect();
            let rows: js_sys::Array = await_js(pb_fetch_buckets(raw.as_ref(), &keys))
                .await?
                .unchecked_into();
            count = pb_count_of(&rows.get(wanted.len() as u32));
            for (i, b) in wanted.iter().enumerate() {
                let row = rows.get(i as u32);
                let bucket = if row.is_undefined() {
                    Bucket {
                        row: pb_bucket_new(*b),
                        old_len: 0,
                        dirty: false,
                    }
                } else {
                    let old_len = pb_bucket_len(&row);
                    Bucket {
                        row,
                        old_len,
                        dirty: false,
                    }
                };
                map.insert(*b, bucket);
            }
        }
        Ok(Buckets { raw, map, count })
    }

    fn bucket(&mut self, id: &str, dirty: bool) -> &JsValue {
        let b = self
            .map
            .get_mut(&bucket_of(id))
            .expect("every person id of the write has its bucket fetched");
        b.dirty |= dirty;
        &b.row
    }

    /// Removes a person; false when it was not there.
    pub fn remove(&mut self, id: &str) -> bool {
        pb_bucket_remove(self.bucket(id, true), id)
    }

    /// The record of a person exactly as stored, if any.
    pub fn entry(&mut self, id: &str) -> Option<Stored> {
        super::rows::stored_of_entry(&pb_bucket_entry(self.bucket(id, false), id))
    }

    /// Removes a person only while it is still the record read as `was` (readable form;
    /// setting aside); returns the record as it was stored.
    pub fn remove_if(&mut self, k: &Keys, id: &str, was: &Stored) -> Option<Stored> {
        let now = self.entry(id)?;
        let origin = Origin::Person(PersonId(id.to_string()));
        if !records::unchanged(k, &origin, &now, was) {
            return None;
        }
        pb_bucket_remove_if(self.bucket(id, true), id, now.v, &now.body).then_some(now)
    }

    pub fn has(&mut self, id: &str) -> bool {
        pb_bucket_has(self.bucket(id, false), id)
    }

    /// Validates, encodes and puts persons. Entries are packed per bucket and handed to JS
    /// in one call per bucket (one string crossing instead of four per person). `pre`: the
    /// bodies of `persons` sealed by [`preseal`] (used when sealed with the key of `k`).
    pub fn put(
        &mut self,
        k: &Keys,
        persons: &[PersonRecord],
        pre: Option<&SealedBodies>,
    ) -> Result<()> {
        let pre = pre.filter(|s| s.sealed_with(k));
        let mut packed: BTreeMap<u32, String> = BTreeMap::new();
        for (i, p) in persons.iter().enumerate() {
            validate_person(p)?;
            let body = match pre {
                Some(_) => Body::Presealed(i as u32),
                None => Body::Encode,
            };
            pack(
                k,
                packed.entry(bucket_of(&p.person.id.0)).or_default(),
                p,
                body,
            )?;
        }
        let bodies = pre.map(SealedBodies::bodies);
        for (b, text) in packed {
            let bucket = self.map.get_mut(&b).expect("fetched");
            bucket.dirty = true;
            pb_bucket_merge(&bucket.row, &text, bodies);
        }
        Ok(())
    }

    /// Puts a stored record as it is (tests), with the birthday key `bday` exactly as given
    /// ("" = none; not blinded here).
    pub fn put_raw(&mut self, id: &str, bday: &str, stored: &Stored) {
        pb_bucket_upsert(self.bucket(id, true), id, bday, stored.v, &stored.body);
    }

    /// Writes the changed buckets (an emptied one is deleted) and the new count.
    /// `fail` (fault injection for tests) issues a request IndexedDB itself rejects after the
    /// bucket puts, so the transaction aborts at commit.
    pub fn flush(mut self, fail: bool) -> Result<()> {
        let mut dirty: Vec<u32> = self
            .map
            .iter()
            .filter(|(_, b)| b.dirty)
            .map(|(k, _)| *k)
            .collect();
        if dirty.is_empty() {
            return Ok(());
        }
        dirty.sort_unstable();
        let mut first_put = None;
        for b in &dirty {
            let bucket = &self.map[b];
            let len = pb_bucket_len(&bucket.row);
            self.count += len as f64 - bucket.old_len as f64;
            if len == 0 {
                if bucket.old_len > 0 {
                    self.raw.delete(&JsValue::from(*b)).map_err(js_error)?;
                }
            } else {
                self.raw.put(&bucket.row).map_err(js_error)?;
                first_put.get_or_insert(bucket.row.clone());
            }
        }
        if self.count > 0.0 {
            self.raw.put(&pb_count_row(self.count)).map_err(js_error)?;
        } else {
            self.raw
                .delete(&JsValue::from(COUNT_KEY))
                .map_err(js_error)?;
        }
        if let (true, Some(row)) = (fail, first_put) {
            // A key written above: IndexedDB rejects the add, the commit fails.
            self.raw.add(&row).map_err(js_error)?;
        }
        Ok(())
    }
}

/// The rows (buckets + count row) holding `persons`, exactly as [`Store::write`] stores them
/// into an empty store (benchmark baseline).
///
/// [`Store::write`]: crate::storage::Store::write
#[doc(hidden)]
pub fn person_bucket_rows(persons: &[PersonRecord]) -> Result<js_sys::Array> {
    let mut buckets: BTreeMap<u32, JsValue> = BTreeMap::new();
    for p in persons {
        validate_person(p)?;
        let id = p.person.id.0.as_str();
        let stored = records::person::encode(p)?;
        let b = bucket_of(id);
        let bk = buckets.entry(b).or_insert_with(|| pb_bucket_new(b));
        let bday = keys::birthday_key(p).unwrap_or_default();
        pb_bucket_upsert(bk, id, &bday, stored.v, &stored.body);
    }
    let rows: js_sys::Array = buckets.into_values().collect();
    if !persons.is_empty() {
        rows.push(&pb_count_row(persons.len() as f64));
    }
    Ok(rows)
}
