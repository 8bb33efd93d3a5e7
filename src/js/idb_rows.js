// Imported by wasm-bindgen (`module = "/src/js/idb_rows.js"`). A file, not inline JS: each
// wasm module built from this crate gets the same snippet path, so their copies never clash.
const COUNT_KEY = -1;
function pbReq(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
export function pb_bucket_new(b) {
  return { b, ids: [], names: [], bdays: [], kinds: [], tagsets: [], tags: [], json: [] };
}
// Inserts or replaces a person in a bucket.
export function pb_bucket_upsert(bk, id, name, bday, kind, tagset, json) {
  let i = bk.ids.indexOf(id);
  if (i < 0) {
    i = bk.ids.length;
    bk.ids.push(id);
  }
  bk.names[i] = name;
  bk.bdays[i] = bday;
  bk.kinds[i] = kind;
  bk.tagsets[i] = tagset;
  bk.json[i] = json;
}
// Merges packed entries into a bucket: records end with U+001E, fields (id, name, bday,
// kind, tagset, json) are separated by U+001D. A later entry of the same id wins.
export function pb_bucket_merge(bk, packed) {
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
    bk.names[i] = f[1];
    bk.bdays[i] = f[2];
    bk.kinds[i] = f[3];
    bk.tagsets[i] = f[4];
    bk.json[i] = f[5];
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
export function pb_bucket_remove(bk, id) {
  const i = bk.ids.indexOf(id);
  if (i < 0) return false;
  for (const f of ["ids", "names", "bdays", "kinds", "tagsets", "json"]) bk[f].splice(i, 1);
  return true;
}
export function pb_bucket_has(bk, id) {
  return bk.ids.indexOf(id) >= 0;
}
export function pb_bucket_len(bk) {
  return bk.ids.length;
}
export function pb_bucket_json_of(bk, id) {
  const i = bk.ids.indexOf(id);
  return i < 0 ? undefined : bk.json[i];
}
// Adds a v1 row `{id, name, bday?, kind, tags[], json}` (migration 1 -> 2).
export function pb_bucket_add_v1_row(bk, row) {
  pb_bucket_upsert(bk, row.id, row.name, row.bday || "", row.kind,
    (row.tags || []).join("\u001f"), row.json);
}
export function pb_row_id(row) {
  return row.id;
}
// Recomputes the union of tags (the multiEntry tag index).
export function pb_bucket_finish(bk) {
  const t = new Set();
  for (const s of bk.tagsets) if (s.length > 0) for (const x of s.split("\u001f")) t.add(x);
  bk.tags = [...t];
  return bk;
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
// JSON texts of the persons in `buckets` whose `field` value (for "tagsets": one of the
// tags) is in [lo, hi] (hi open if hiOpen; no field: all), ordered like an IndexedDB index:
// by that value, then by id (UTF-16 code unit order).
export function pb_select(buckets, field, lo, hi, hiOpen) {
  const out = [];
  for (const bk of buckets) {
    if (!bk) continue;
    for (let i = 0; i < bk.ids.length; i++) {
      if (field === undefined) {
        out.push(["", bk.ids[i], bk.json[i]]);
        continue;
      }
      const vals = field === "tagsets" ? (bk.tagsets[i] === "" ? [] : bk.tagsets[i].split("\u001f")) : [bk[field][i]];
      for (const v of vals) {
        if (v >= lo && (hiOpen ? v < hi : v <= hi)) {
          out.push([v, bk.ids[i], bk.json[i]]);
          break;
        }
      }
    }
  }
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return out.map((r) => r[2]);
}
export function pb_count_row(n) {
  return { b: COUNT_KEY, n };
}
export function pb_count_of(row) {
  return row ? row.n : 0;
}
export function pb_person_row(id, name, bday, kind, tags, json) {
  return { id, name, bday, kind, tags: tags.length === 0 ? [] : tags.split("\u001f"), json };
}
export function pb_appointment_row(id, start, person, json) {
  return { id, start, person, json };
}
export function pb_doc_row(key, json) {
  return { key, json };
}
export function pb_row_json(row) {
  return row.json;
}
