//! Browser benchmarks of issues 3 and 4 in headless Chromium: saved-query evaluation over
//! 100,000 synthetic persons, the review of 10,000 recipients, and rendering 10,000
//! personalised messages. Prints figures (lines starting with `BENCH`), asserts nothing but
//! that the work was done. Ignored by default; `cargo xtask bench select|render` runs it
//! built with `--release` (the app's profile) next to its native twin
//! `examples/bench_pair.rs` and prints the ratio. By hand:
//!
//! `WASM_BINDGEN_TEST_TIMEOUT=900 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --release --target wasm32-unknown-unknown
//!  --test bench_browser -- --include-ignored --nocapture`
#![cfg(target_arch = "wasm32")]

mod bench_common;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn clock() -> impl Fn() -> f64 {
    let perf = web_sys::window()
        .expect("window")
        .performance()
        .expect("performance");
    move || perf.now()
}

fn env_usize(default: usize, value: Option<&str>) -> usize {
    value.and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[wasm_bindgen_test]
#[ignore]
fn bench_select_browser() {
    let now = clock();
    let n = env_usize(100_000, option_env!("PB_BENCH_PERSONS"));
    let n_review = env_usize(10_000, option_env!("PB_BENCH_REVIEW"));
    let t0 = now();
    let data = bench_common::select_data(n);
    console_log!(
        "BENCH-INFO\tbrowser: generated {} persons, {} appointments in {:.0} ms",
        data.persons.len(),
        data.appointments.len(),
        now() - t0
    );
    for f in bench_common::select_figures(&now, &data, n_review) {
        console_log!("{}", f.line("browser"));
    }
}

#[wasm_bindgen_test]
#[ignore]
fn bench_render_browser() {
    let now = clock();
    let n = env_usize(10_000, option_env!("PB_BENCH_MESSAGES"));
    for f in bench_common::render_figures(&now, n, bench_common::RENDER_RUNS) {
        console_log!("{}", f.line("browser"));
    }
}
