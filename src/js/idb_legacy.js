// Imported by wasm-bindgen (`module = "/src/js/idb_legacy.js"`): the row shapes of old
// schemas, used only by the upgrade steps in src/storage/idb/upgrade.rs. Frozen: a step, once
// released, never changes.

// ---- Schema 1 → 2: one row per person {id, name, bday?, kind, tags[], json} becomes
// buckets {b, ids[], names[], bdays[], kinds[], tagsets[], tags[], json[]}.
export function pb_v2_bucket_new(b) {
  return { b, ids: [], names: [], bdays: [], kinds: [], tagsets: [], tags: [], json: [] };
}
export function pb_v2_add_v1_row(bk, row) {
  let i = bk.ids.indexOf(row.id);
  if (i < 0) {
    i = bk.ids.length;
    bk.ids.push(row.id);
  }
  bk.names[i] = row.name;
  bk.bdays[i] = row.bday || "";
  bk.kinds[i] = row.kind;
  bk.tagsets[i] = (row.tags || []).join("\u001f");
  bk.json[i] = row.json;
}
// Recomputes the union of tags (the schema-2 multiEntry tag index).
export function pb_v2_finish(bk) {
  const t = new Set();
  for (const s of bk.tagsets) if (s.length > 0) for (const x of s.split("\u001f")) t.add(x);
  bk.tags = [...t];
  return bk;
}
export function pb_row_id(row) {
  return row.id;
}

// ---- Schema 2 → 3: a bucket keeps ids, bdays and json, gains the record versions (all 1,
// the shape every body of schema 2 has) and loses names, kinds, tagsets and tags. The count
// row (b = -1) is returned unchanged.
export function pb_v3_from_v2(row) {
  if (row.b < 0) return row;
  return { b: row.b, ids: row.ids, bdays: row.bdays, vs: row.ids.map(() => 1), json: row.json };
}
