// Imported by wasm-bindgen (`module = "/src/js/idb_sync.js"`), used by
// src/storage/idb/sync_docs.rs. A file, not inline JS: each wasm module built from this
// crate gets the same snippet path, so their copies never clash.
//
// Sync stores: `sync_docs` rows {id, tree, seq} (tree: the revision tree as JSON text) with
// the index `seq`; `sync_applied` rows {id, rev} (schema 5); `sync_meta` rows {key, value}.
function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
// The rows of `ids` (undefined where missing), in the order of `ids` (`sync_docs` or
// `sync_applied`). An empty store is not
// read at all; when the ids are a quarter or more of the rows, one getAll reads them.
export async function pb_sync_rows(store, ids) {
  if (ids.length === 0) return [];
  const total = await req(store.count());
  if (total === 0) return ids.map(() => undefined);
  if (ids.length * 4 >= total) {
    const byId = new Map();
    for (const row of await req(store.getAll())) byId.set(row.id, row);
    return ids.map((id) => byId.get(id));
  }
  return Promise.all(ids.map((id) => req(store.get(id))));
}
// Every row, by id.
export function pb_sync_all(store) {
  return req(store.getAll());
}
// Every key.
export function pb_sync_keys(store) {
  return req(store.getAllKeys());
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
export async function pb_sync_mark(docs, marks, ids, seqs, revs) {
  if (ids.length === 0) return;
  const holder = await holders(docs.index("seq"), seqs);
  ids.forEach((id, i) => {
    if (holder[i] === id) marks.put({ id, rev: revs[i] });
  });
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
// Sets (or, for an undefined `rev`, removes) a document's applied mark.
export function pb_sync_put_mark(marks, id, rev) {
  if (rev === undefined) marks.delete(id);
  else marks.put({ id, rev });
}
