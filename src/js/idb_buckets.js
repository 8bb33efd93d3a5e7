// Imported by wasm-bindgen (`module = "/src/js/idb_buckets.js"`), used by
// src/storage/idb/persons.rs and rows.rs. A file, not inline JS: each wasm module built from
// this crate gets the same snippet path, so their copies never clash.
//
// Schema 3 person buckets: {b, ids[], bdays[], vs[], json[]}, parallel arrays with one entry
// per person (id, birthday key or "", record version, record body); the row with b = -1
// holds the person count {b, n}. The birthday key is "MM-DD" in a plain store and blinded
// (22 characters of base64) in an encrypted one.
const COUNT_KEY = -1;
const FIELDS = ["ids", "bdays", "vs", "json"];
function pbReq(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
export function pb_bucket_new(b) {
  return { b, ids: [], bdays: [], vs: [], json: [] };
}
// Inserts or replaces a person in a bucket.
export function pb_bucket_upsert(bk, id, bday, v, json) {
  let i = bk.ids.indexOf(id);
  if (i < 0) {
    i = bk.ids.length;
    bk.ids.push(id);
  }
  bk.bdays[i] = bday;
  bk.vs[i] = v;
  bk.json[i] = json;
}
// Merges packed entries into a bucket: records end with U+001E, fields (id, bday, v, json)
// are separated by U+001D. A later entry of the same id wins. With `bodies` (sealed before
// the transaction, src/storage/crypto/web.rs) the json field is an index into it.
export function pb_bucket_merge(bk, packed, bodies) {
  const at = new Map();
  for (let i = 0; i < bk.ids.length; i++) at.set(bk.ids[i], i);
  let start = 0;
  for (;;) {
    const end = packed.indexOf("\u001e", start);
    if (end < 0) break;
    const f = packed.substring(start, end).split("\u001d");
    start = end + 1;
    let i = at.get(f[0]);
    if (i === undefined) {
      i = bk.ids.length;
      bk.ids.push(f[0]);
      at.set(f[0], i);
    }
    bk.bdays[i] = f[1];
    bk.vs[i] = Number(f[2]);
    bk.json[i] = bodies === undefined ? f[3] : bodies[Number(f[3])];
  }
}
// The buckets `keys` (undefined where missing) followed by the count row. An empty store
// is not read at all; when a quarter or more of the rows are wanted, one getAll reads them.
export async function pb_fetch_buckets(store, keys) {
  const [total, countRow] = await Promise.all([pbReq(store.count()), pbReq(store.get(COUNT_KEY))]);
  let rows;
  if (total === 0) {
    rows = keys.map(() => undefined);
  } else if (keys.length * 4 >= total) {
    const all = await pbReq(store.getAll(IDBKeyRange.lowerBound(0)));
    const byKey = new Map();
    for (const bk of all) byKey.set(bk.b, bk);
    rows = keys.map((k) => byKey.get(k));
  } else {
    rows = await Promise.all(keys.map((k) => pbReq(store.get(k))));
  }
  rows.push(countRow);
  return rows;
}
function removeAt(bk, i) {
  for (const f of FIELDS) bk[f].splice(i, 1);
}
export function pb_bucket_remove(bk, id) {
  const i = bk.ids.indexOf(id);
  if (i < 0) return false;
  removeAt(bk, i);
  return true;
}
// Removes the entry of `id` only while it still holds version `v` and body `json`.
export function pb_bucket_remove_if(bk, id, v, json) {
  const i = bk.ids.indexOf(id);
  if (i < 0 || bk.vs[i] !== v || bk.json[i] !== json) return false;
  removeAt(bk, i);
  return true;
}
export function pb_bucket_has(bk, id) {
  return bk.ids.indexOf(id) >= 0;
}
export function pb_bucket_len(bk) {
  return bk.ids.length;
}
// [id, v, json] of `id` in a bucket row, or undefined.
export function pb_bucket_entry(bk, id) {
  if (!bk) return undefined;
  const i = bk.ids.indexOf(id);
  return i < 0 ? undefined : [id, bk.vs[i], bk.json[i]];
}
// The rows of `keys` (undefined where missing), all requested at once.
export function pb_get_rows(store, keys) {
  return Promise.all(keys.map((k) => pbReq(store.get(k))));
}
// Bucket rows whose index `index` has a key in [lo, hi] (hi open if hiOpen); no index: all.
export async function pb_query_buckets(store, index, lo, hi, hiOpen) {
  if (index === undefined) {
    return pbReq(store.getAll(IDBKeyRange.lowerBound(0)));
  }
  const keys = await pbReq(store.index(index).getAllKeys(IDBKeyRange.bound(lo, hi, false, hiOpen)));
  const uniq = [...new Set(keys)];
  return Promise.all(uniq.map((k) => pbReq(store.get(k))));
}
// The persons in `buckets` whose `field` value is in [lo, hi] (hi open if hiOpen; no field:
// all), ordered like an IndexedDB index: by that value, then by id (UTF-16 code unit order),
// as one flat array [id, v, json, id, v, json, …].
export function pb_select(buckets, field, lo, hi, hiOpen) {
  const out = [];
  for (const bk of buckets) {
    if (!bk) continue;
    for (let i = 0; i < bk.ids.length; i++) {
      if (field === undefined) {
        out.push(["", i, bk]);
        continue;
      }
      const v = bk[field][i];
      if (v >= lo && (hiOpen ? v < hi : v <= hi)) out.push([v, i, bk]);
    }
  }
  return pbSortFlat(out);
}
// Bucket rows whose index `index` holds one of `keys` (one request per key, all at once).
export async function pb_query_bucket_keys(store, index, keys) {
  const idx = store.index(index);
  const lists = await Promise.all(keys.map((k) => pbReq(idx.getAllKeys(IDBKeyRange.only(k)))));
  const uniq = [...new Set(lists.flat())];
  return Promise.all(uniq.map((k) => pbReq(store.get(k))));
}
// The persons in `buckets` whose `field` value is one of `keys`, ordered by the position of
// that value in `keys`, then by id; flat like pb_select.
export function pb_select_keys(buckets, field, keys) {
  const rank = new Map();
  keys.forEach((k, i) => rank.set(k, i));
  const out = [];
  for (const bk of buckets) {
    if (!bk) continue;
    for (let i = 0; i < bk.ids.length; i++) {
      const r = rank.get(bk[field][i]);
      if (r !== undefined) out.push([r, i, bk]);
    }
  }
  return pbSortFlat(out);
}
// Sorts [sortValue, index, bucket] entries by value, then id (UTF-16 code unit order), and
// flattens them to [id, v, json, …].
function pbSortFlat(out) {
  out.sort((a, b) => {
    if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
    const x = a[2].ids[a[1]], y = b[2].ids[b[1]];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const flat = new Array(out.length * 3);
  for (let k = 0; k < out.length; k++) {
    const [, i, bk] = out[k];
    flat[3 * k] = bk.ids[i];
    flat[3 * k + 1] = bk.vs[i];
    flat[3 * k + 2] = bk.json[i];
  }
  return flat;
}
// Replaces the birthday keys found in `map` ("MM-DD" → blinded) in every bucket row of
// `store` and puts the changed rows back; returns how many changed.
export async function pb_rekey_birthdays(store, map) {
  const rows = await pbReq(store.getAll(IDBKeyRange.lowerBound(0)));
  let changed = 0;
  for (const bk of rows) {
    let dirty = false;
    for (let i = 0; i < bk.bdays.length; i++) {
      const to = map.get(bk.bdays[i]);
      if (to !== undefined) {
        bk.bdays[i] = to;
        dirty = true;
      }
    }
    if (dirty) {
      store.put(bk);
      changed++;
    }
  }
  return changed;
}
export function pb_count_row(n) {
  return { b: COUNT_KEY, n };
}
export function pb_count_of(row) {
  return row ? row.n : 0;
}
// One row per appointment, settings or document (the record version v, the body json).
export function pb_appointment_row(id, start, person, v, json) {
  return { id, start, person, v, json };
}
export function pb_doc_row(key, v, json) {
  return { key, v, json };
}
// [key, v, json] of a row (v: 1 in rows written before schema 3), or undefined.
export function pb_row_entry(row, keyField) {
  if (!row) return undefined;
  return [row[keyField], row.v === undefined ? 1 : row.v, row.json];
}
// Flat [key, v, json, …] of rows (rows without a JSON body give json = undefined).
export function pb_rows_flat(rows, keyField) {
  const flat = new Array(rows.length * 3);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    flat[3 * k] = r[keyField];
    flat[3 * k + 1] = r.v === undefined ? 1 : r.v;
    flat[3 * k + 2] = r.json;
  }
  return flat;
}
