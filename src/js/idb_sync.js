// Imported by wasm-bindgen (`module = "/src/js/idb_sync.js"`), used by
// src/storage/idb/sync_docs.rs. A file, not inline JS: each wasm module built from this
// crate gets the same snippet path, so their copies never clash.
//
// Schema 4 sync stores: `sync_docs` rows {id, tree, applied?, seq} (tree: the revision tree
// as JSON text) with the index `seq`; `sync_meta` rows {key, value}.
function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
// The rows of `ids` (undefined where missing), in the order of `ids`. An empty store is not
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
// Sets `applied` of the rows `ids` to `revs` where the row's seq is still `seqs`.
export async function pb_sync_mark(store, ids, seqs, revs) {
  const rows = await pb_sync_rows(store, ids);
  rows.forEach((row, i) => {
    if (row !== undefined && row.seq === seqs[i]) {
      row.applied = revs[i];
      store.put(row);
    }
  });
}
export function pb_sync_put_row(store, id, tree, applied, seq) {
  const row = { id, tree, seq };
  if (applied !== undefined) row.applied = applied;
  store.put(row);
}
