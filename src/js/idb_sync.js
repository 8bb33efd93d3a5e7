// Imported by wasm-bindgen (`module = "/src/js/idb_sync.js"`), used by
// src/storage/idb/sync_docs.rs. A file, not inline JS: each wasm module built from this
// crate gets the same snippet path, so their copies never clash.
//
// Sync stores: `sync_docs` rows {id, tree, seq} (tree: the revision tree as JSON text) with
// the index `seq`; `sync_marks` rows {b, m} (schema 6; m: a Map of document id → applied
// revision, b: the bucket of those ids, given by the caller); `sync_meta` rows {key, value}.
function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
// The rows of `ids` (undefined where missing), in the order of `ids` (keys of `sync_docs` or
// `sync_marks`). An empty store is not read at all; when the ids are a quarter or more of
// the rows, one getAll reads them.
export async function pb_sync_rows(store, ids) {
  if (ids.length === 0) return [];
  const total = await req(store.count());
  if (total === 0) return ids.map(() => undefined);
  if (ids.length * 4 >= total) {
    const byId = new Map();
    const key = store.keyPath;
    for (const row of await req(store.getAll())) byId.set(row[key], row);
    return ids.map((id) => byId.get(id));
  }
  return Promise.all(ids.map((id) => req(store.get(id))));
}
// Every row, by id.
export function pb_sync_all(store) {
  return req(store.getAll());
}
// The rows changed after `since`, by sequence number, at most `limit` (> 0).
export function pb_sync_changes(store, since, limit) {
  return req(store.index("seq").getAll(IDBKeyRange.lowerBound(since, true), limit));
}
// The value of a `sync_meta` row (undefined when there is none).
export async function pb_sync_meta(store, key) {
  const row = await req(store.get(key));
  return row === undefined ? undefined : row.value;
}
// Writes go out now; their outcome is part of the transaction's commit.
export function pb_sync_put_meta(store, key, value) {
  store.put({ key, value });
}
// Sets the applied marks of the documents `ids` to `revs` where the document's seq is still
// `seqs` (its tree was not written since). Sequence numbers are unique, so the `seq` index
// answers which document holds each. When the marks fill a good part of their range (a
// pull's documents), the range is read at once: its keys alone when every number in it is
// taken (the n-th key then holds lo + n), else with a key cursor; otherwise one key lookup
// per mark.
// `bs`: the mark bucket of each id.
export async function pb_sync_mark(docs, marks, ids, seqs, revs, bs) {
  if (ids.length === 0) return;
  const holder = await holders(docs.index("seq"), seqs);
  const keep = (_, i) => holder[i] === ids[i];
  await pb_marks_set(marks, ids.filter(keep), bs.filter(keep), revs.filter(keep));
}
// The mark buckets `bs` (bucket numbers, repeats allowed) of a `sync_marks` store, as Maps
// by bucket number (an empty Map where there is no row yet).
async function markBuckets(store, bs) {
  const keys = [...new Set(bs)];
  const rows = await pb_sync_rows(store, keys);
  const out = new Map();
  keys.forEach((b, i) => out.set(b, rows[i] === undefined ? new Map() : rows[i].m));
  return out;
}
// The applied revisions of `ids` (undefined where none), in the order of `ids`; `bs`: the
// bucket of each id.
export async function pb_marks_get(store, ids, bs) {
  const buckets = await markBuckets(store, bs);
  return ids.map((id, i) => buckets.get(bs[i]).get(id));
}
// Sets the marks of `ids` to `revs` (removes those whose rev is undefined) and writes the
// buckets that changed, once each; a bucket left empty is deleted.
export async function pb_marks_set(store, ids, bs, revs) {
  if (ids.length === 0) return;
  const buckets = await markBuckets(store, bs);
  const changed = new Set();
  ids.forEach((id, i) => {
    const m = buckets.get(bs[i]);
    const rev = revs[i];
    if (rev === undefined) {
      if (m.delete(id)) changed.add(bs[i]);
    } else if (m.get(id) !== rev) {
      m.set(id, rev);
      changed.add(bs[i]);
    }
  });
  for (const b of changed) {
    const m = buckets.get(b);
    if (m.size === 0) store.delete(b);
    else store.put({ b, m });
  }
}
// Every applied mark, as [ids, revs].
export async function pb_marks_all(store) {
  const ids = [];
  const revs = [];
  for (const row of await req(store.getAll())) {
    for (const [id, rev] of row.m) {
      ids.push(id);
      revs.push(rev);
    }
  }
  return [ids, revs];
}
// The document ids holding the sequence numbers `seqs` (undefined where none does).
async function holders(index, seqs) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of seqs) {
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  const span = hi - lo + 1;
  if (span > 4 * seqs.length) return Promise.all(seqs.map((s) => req(index.getKey(s))));
  const range = IDBKeyRange.bound(lo, hi);
  const keys = await req(index.getAllKeys(range));
  if (keys.length === span) return seqs.map((s) => keys[s - lo]);
  const bySeq = new Map();
  await new Promise((resolve, reject) => {
    const r = index.openKeyCursor(range);
    r.onsuccess = () => {
      const c = r.result;
      if (c === null) return resolve();
      bySeq.set(c.key, c.primaryKey);
      c.continue();
    };
    r.onerror = () => reject(r.error);
  });
  return seqs.map((s) => bySeq.get(s));
}
export function pb_sync_put_row(store, id, tree, seq) {
  store.put({ id, tree, seq });
}
// Like `pb_sync_put_row` for a row that must not exist: if it does, the request fails and
// with it the transaction.
export function pb_sync_add_row(store, id, tree, seq) {
  store.add({ id, tree, seq });
}
