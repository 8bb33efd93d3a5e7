//! Native twin of the browser benchmarks in `tests/bench_browser.rs`: the very same
//! workloads (`tests/bench_common`), timed with `Instant`, printed in the same `BENCH` lines
//! so that `cargo xtask bench select|render` can print browser/native ratios.
//!
//! Run: `cargo run --release --example bench_pair -- select|render` (the workspace release
//! profile, i.e. the same optimisation settings as the browser build; env `PB_BENCH_PERSONS`,
//! `PB_BENCH_REVIEW`, `PB_BENCH_MESSAGES` as for the browser build).

#[path = "../tests/bench_common/mod.rs"]
mod bench_common;

use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "select".into());
    let start = Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1000.0;
    match what.as_str() {
        "select" => {
            let n = env_usize("PB_BENCH_PERSONS", 100_000);
            let n_review = env_usize("PB_BENCH_REVIEW", 10_000);
            let t0 = now();
            let data = bench_common::select_data(n);
            println!(
                "BENCH-INFO\tnative: generated {} persons, {} appointments in {:.0} ms",
                data.persons.len(),
                data.appointments.len(),
                now() - t0
            );
            for f in bench_common::select_figures(&now, &data, n_review) {
                println!("{}", f.line("native"));
            }
        }
        "render" => {
            let n = env_usize("PB_BENCH_MESSAGES", 10_000);
            for f in bench_common::render_figures(&now, n, bench_common::RENDER_RUNS) {
                println!("{}", f.line("native"));
            }
        }
        other => {
            eprintln!("unknown workload {other}; use select or render");
            std::process::exit(2);
        }
    }
}
