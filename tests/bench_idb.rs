//! Benchmark: bulk insert of persons into IndexedDB through [`IdbStore`] versus a plain
//! JavaScript `put` loop in one transaction, in the same browser run. Prints figures; it
//! asserts nothing but the row counts. Ignored by default; run it with `cargo xtask bench idb`
//! or:
//!
//! `WASM_BINDGEN_TEST_TIMEOUT=900 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --release --target wasm32-unknown-unknown
//!  --test bench_idb -- --include-ignored --nocapture`
//!
//! Lines:
//! - `plain JS put loop (buckets)`: the very rows `IdbStore` writes (schema 3: persons
//!   packed into 1,024 bucket rows), prebuilt before the clock starts, put in one
//!   transaction into a fresh database. This is the fair baseline for the ratio.
//! - `IdbStore::put_persons`: everything the app pays: validation, conversion to the stored
//!   record and its JSON, index keys, reading the touched buckets, packing, the puts and the
//!   commit.
//! - `plain JS put loop (v1 rows)`: reference for the old layout: one row per person
//!   (`{id, name, bday, kind, tags, json}`, four indices), prebuilt, into a fresh v1 database.
#![cfg(target_arch = "wasm32")]

use praxisbote::storage::idb::{person_bucket_rows, IdbStore};
use praxisbote::storage::migrate;
use praxisbote::storage::Store;
use praxisbote_testkit::legacy::person_rows_v1;
use praxisbote_testkit::sample::sample_persons;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export async function pb_js_put_loop(dbName, rows) {
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open(dbName);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const tx = db.transaction("persons", "readwrite");
    const store = tx.objectStore("persons");
    for (let i = 0; i < rows.length; i++) store.put(rows[i]);
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
  const ms = performance.now() - t0;
  db.close();
  return ms;
}
export function pb_now() { return performance.now(); }
"#)]
extern "C" {
    async fn pb_js_put_loop(db_name: &str, rows: &js_sys::Array) -> JsValue;
    fn pb_now() -> f64;
}

fn fresh_name() -> String {
    format!("pb-bench-{}", uuid::Uuid::new_v4())
}

/// Milliseconds of one `put_persons` of `persons` into a fresh database.
async fn rust_run(persons: &[praxisbote::domain::PersonRecord]) -> f64 {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let t0 = pb_now();
    store.put_persons(persons).await.unwrap();
    let ms = pb_now() - t0;
    assert_eq!(store.count_persons().await.unwrap(), persons.len());
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
    ms
}

/// Milliseconds of the plain JavaScript put loop of `rows` into a fresh database at schema
/// `version`.
async fn js_run(rows: &js_sys::Array, version: u32) -> f64 {
    let name = fresh_name();
    let store = IdbStore::open_with(&name, migrate::migrations(), version)
        .await
        .unwrap();
    store.close();
    let ms = pb_js_put_loop(&name, rows).await.as_f64().unwrap();
    IdbStore::delete_database(&name).await.unwrap();
    ms
}

fn rate(n: usize, ms: f64) -> f64 {
    n as f64 / (ms / 1000.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[wasm_bindgen_test]
#[ignore]
async fn bench_bulk_insert_persons() {
    console_log!("bench_idb: bulk insert of persons, one transaction, fresh database per run");
    let latest = migrate::SchemaVersion::LATEST.number();
    for (n, rounds) in [(10_000usize, 5usize), (100_000, 3)] {
        let persons = sample_persons(0, n);
        let json_bytes: usize = persons
            .iter()
            .map(|p| serde_json::to_string(p).unwrap().len())
            .sum();
        let v2_rows = person_bucket_rows(&persons).unwrap();
        let v1_rows = person_rows_v1(&persons);
        let (mut js2, mut rust, mut js1) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            // Interleaved, so that browser state drifts hit all three alike.
            js2.push(js_run(&v2_rows, latest).await);
            rust.push(rust_run(&persons).await);
            js1.push(js_run(&v1_rows, 1).await);
        }
        let (js2, rust, js1) = (median(js2), median(rust), median(js1));
        console_log!(
            "n={n} (avg record JSON {} bytes, {} bucket rows, median of {rounds})",
            json_bytes / n,
            v2_rows.length()
        );
        console_log!(
            "  plain JS put loop (buckets)   : {js2:8.1} ms {:9.0} rows/s",
            rate(n, js2)
        );
        console_log!(
            "  IdbStore::put_persons         : {rust:8.1} ms {:9.0} rows/s  ratio {:.2}x",
            rate(n, rust),
            rust / js2
        );
        console_log!(
            "  plain JS put loop (v1 rows)   : {js1:8.1} ms {:9.0} rows/s  (old layout, reference)",
            rate(n, js1)
        );
    }
}
