//! Benchmark: bulk insert of persons into IndexedDB through [`IdbStore`] versus a plain
//! JavaScript `put` loop in one transaction, in the same browser run. Prints figures; it
//! asserts nothing. Ignored by default; run it explicitly (see BENCHMARKS-storage.md):
//!
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --release --target wasm32-unknown-unknown
//!  --test bench_idb -- --include-ignored`
//!
//! Fairness: the JavaScript loop writes into a fresh database with the same schema (same
//! indices) and gets the very same row objects, prebuilt before its clock starts. The Rust
//! figure includes everything the app pays: validation, JSON serialisation, index keys,
//! building the row objects, the puts and the commit.
#![cfg(target_arch = "wasm32")]

use praxisbote::storage::conformance::sample_persons;
use praxisbote::storage::idb::{person_row, IdbStore, RowEncoding};
use praxisbote::storage::Store;
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
async fn rust_run(persons: &[praxisbote::domain::PersonRecord], encoding: RowEncoding) -> f64 {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    store.set_row_encoding(encoding);
    let t0 = pb_now();
    store.put_persons(persons).await.unwrap();
    let ms = pb_now() - t0;
    assert_eq!(store.count_persons().await.unwrap(), persons.len());
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
    ms
}

/// Milliseconds of the plain JavaScript put loop of the same rows into a fresh database.
async fn js_run(persons: &[praxisbote::domain::PersonRecord]) -> f64 {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let rows: js_sys::Array = persons
        .iter()
        .map(|p| person_row(p, RowEncoding::InlineJs).unwrap())
        .collect();
    store.close();
    let ms = pb_js_put_loop(&name, &rows).await.as_f64().unwrap();
    let store = IdbStore::open(&name).await.unwrap();
    assert_eq!(store.count_persons().await.unwrap(), persons.len());
    store.close();
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
    for (n, rounds) in [(10_000usize, 5usize), (100_000, 3)] {
        let persons = sample_persons(0, n);
        let json_bytes: usize = persons
            .iter()
            .map(|p| serde_json::to_string(p).unwrap().len())
            .sum();
        let (mut js, mut inline, mut swb) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            // Interleaved, so that browser state drifts hit all three alike.
            js.push(js_run(&persons).await);
            inline.push(rust_run(&persons, RowEncoding::InlineJs).await);
            swb.push(rust_run(&persons, RowEncoding::SerdeWasmBindgen).await);
        }
        let (js, inline, swb) = (median(js), median(inline), median(swb));
        console_log!(
            "n={n} (avg record JSON {} bytes, median of {rounds})",
            json_bytes / n
        );
        console_log!(
            "  plain JS put loop        : {js:8.1} ms {:9.0} rows/s",
            rate(n, js)
        );
        console_log!(
            "  IdbStore (inline JS rows): {inline:8.1} ms {:9.0} rows/s  ratio {:.2}x",
            rate(n, inline),
            inline / js
        );
        console_log!(
            "  IdbStore (serde-wasm-bg) : {swb:8.1} ms {:9.0} rows/s  ratio {:.2}x",
            rate(n, swb),
            swb / js
        );
    }
}
