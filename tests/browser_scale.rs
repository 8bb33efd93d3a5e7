//! Issue 3, "works on 100,000 generated persons in the browser": stores generated persons
//! and their appointments in real IndexedDB (`IdbStore`) in headless Chromium, loads them
//! back and runs text search, every benchmark saved query and the review (SMS, e-mail,
//! letter) over the loaded data. The results must equal those of the same domain functions
//! over the generated data in memory (the data as the native benchmark sees it), hit by hit.
//!
//! `scale_20k` runs in CI (`cargo xtask test`, wasm step). `scale_100k` is ignored (it
//! writes ~313,000 rows) and runs in `cargo xtask bench scale`, or by hand:
//!
//! `WASM_BINDGEN_TEST_TIMEOUT=900 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --release --target wasm32-unknown-unknown
//!  --test browser_scale -- --include-ignored --nocapture`
#![cfg(target_arch = "wasm32")]

mod bench_common;

use praxisbote::storage::idb::IdbStore;
use praxisbote::storage::Store;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn scale_check(n: usize) {
    let perf = web_sys::window()
        .expect("window")
        .performance()
        .expect("performance");
    let now = || perf.now();
    let today = bench_common::select_today();
    let t = now();
    let data = bench_common::select_data(n);
    let t_gen = now() - t;
    let t = now();
    let expected = bench_common::scale_outcome(&data.persons, &data.appointments, 10_000);
    let t_expect = now() - t;

    // Not trivial: every search, query and review has hits, and not everybody.
    for (q, ids) in expected.searches.iter().chain(&expected.queries) {
        assert!(!ids.is_empty(), "{q}: no hits in the generated data");
    }
    assert!(
        expected.queries.iter().any(|(_, ids)| ids.len() < n),
        "the queries must filter"
    );
    for (c, counts) in &expected.reviews {
        assert!(counts[1] > 0 && counts[1] < counts[0], "{c:?}: {counts:?}");
    }

    let name = format!("pb-scale-{}", uuid::Uuid::new_v4());
    let store = IdbStore::open(&name).await.expect("open");
    let t = now();
    store.put_persons(&data.persons).await.expect("put persons");
    store
        .put_appointments(&data.appointments)
        .await
        .expect("put appointments");
    let t_store = now() - t;
    assert_eq!(store.count_persons().await.expect("count"), n);
    drop(data);

    let t = now();
    let persons = store.all_persons().await.expect("all persons");
    let appointments = store
        .appointments_between(
            today - chrono::Duration::days(10 * 365),
            today + chrono::Duration::days(5 * 365),
        )
        .await
        .expect("appointments");
    let t_load = now() - t;
    let t = now();
    let actual = bench_common::scale_outcome(&persons, &appointments, 10_000);
    let t_actual = now() - t;
    store.close();
    IdbStore::delete_database(&name).await.expect("delete");

    console_log!(
        "browser_scale n={n}: generate {t_gen:.0} ms, store {t_store:.0} ms, load {t_load:.0} ms, search+queries+review on generated {t_expect:.0} ms, on loaded {t_actual:.0} ms"
    );
    for line in actual.summary() {
        console_log!("  {line}");
    }
    assert_eq!(actual.persons, expected.persons);
    assert_eq!(actual.appointments, expected.appointments);
    for (a, e) in actual.searches.iter().zip(&expected.searches) {
        assert!(
            a == e,
            "search {}: {} vs {} hits",
            e.0,
            a.1.len(),
            e.1.len()
        );
    }
    for (a, e) in actual.queries.iter().zip(&expected.queries) {
        assert!(a == e, "query {}: {} vs {} hits", e.0, a.1.len(), e.1.len());
    }
    assert_eq!(actual, expected);
}

#[wasm_bindgen_test]
async fn scale_20k() {
    scale_check(20_000).await;
}

#[wasm_bindgen_test]
#[ignore]
async fn scale_100k() {
    scale_check(100_000).await;
}
