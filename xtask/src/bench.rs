//! `cargo xtask bench`: the benchmarks, each printing its own figures.

use crate::setup;
use crate::util::{self, Result};

/// Native builds use a speed profile (the workspace release profile is tuned for wasm size).
const NATIVE_SPEED: &[(&str, &str)] = &[
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3"),
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
    ("CARGO_PROFILE_BENCH_OPT_LEVEL", "3"),
    ("CARGO_PROFILE_BENCH_LTO", "false"),
    ("CARGO_PROFILE_BENCH_CODEGEN_UNITS", "16"),
];

/// Every benchmark, by name, with the command that runs it.
fn benches() -> Vec<(&'static str, Vec<&'static str>, bool)> {
    // (name, cargo args, native speed profile?)
    let mut v = vec![
        (
            "select",
            vec!["run", "--release", "--example", "bench_select"],
            false,
        ),
        (
            "render",
            vec!["run", "--release", "--example", "bench_render"],
            true,
        ),
        (
            "import",
            vec!["run", "--release", "--example", "bench_import"],
            false,
        ),
        (
            "relay",
            vec!["bench", "-p", "praxisbote-relay", "--bench", "throughput"],
            true,
        ),
    ];
    if util::root().join("pdf/examples/bench_letters.rs").exists() {
        v.push((
            "letters",
            vec![
                "run",
                "--release",
                "-p",
                "praxisbote-pdf",
                "--example",
                "bench_letters",
            ],
            true,
        ));
    }
    v
}

pub fn run(args: &[String]) -> Result<()> {
    setup::ensure_build_tools()?;
    let only = args.first().map(String::as_str);
    if only.is_none_or(|o| o == "bundle") {
        bundle_size()?;
    }
    if only.is_none_or(|o| o == "idb") {
        setup::ensure_test_packages()?;
        println!("\n## IndexedDB bulk insert vs. plain JavaScript put loop (headless Chromium)");
        util::run(
            util::cargo()
                .args([
                    "test",
                    "--release",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--test",
                    "bench_idb",
                    "--",
                    "--include-ignored",
                    "--nocapture",
                ])
                .env(
                    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                    "wasm-bindgen-test-runner",
                )
                .env("CHROMEDRIVER", "/usr/bin/chromedriver")
                .env("WASM_BINDGEN_TEST_TIMEOUT", "600"),
        )?;
    }
    if only.is_none_or(|o| o == "pdf-worker") && util::root().join("tests/e2e/letters.rs").exists()
    {
        // Builds dist/ (release, with the worker) and the relay, starts chromedriver.
        let c = crate::test::e2e_with(&["--ignored", "--nocapture", "bench_pdf_worker"])?;
        if c.failed > 0 || c.passed == 0 {
            return Err("the PDF worker benchmark failed".into());
        }
    }
    for (name, cargo_args, speed) in benches() {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        println!("\n## {name}");
        let mut c = util::cargo();
        c.args(&cargo_args);
        if speed {
            c.envs(NATIVE_SPEED.iter().copied());
        }
        util::run(&mut c)?;
    }
    Ok(())
}

/// Main bundle size: the app's wasm and js in dist/, gzip -9 (goal ≤ 350 KB).
fn bundle_size() -> Result<()> {
    util::build_dist(true)?;
    let dist = util::root().join("dist");
    let mut total_raw = 0u64;
    let mut total_gz = 0u64;
    println!("\n## Main bundle (dist/, gzip -9)");
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let main_part = (name.ends_with(".wasm") || name.ends_with(".js"))
            && name.starts_with("praxisbote-")
            && !name.contains("pdf");
        if !main_part {
            continue;
        }
        let raw = std::fs::metadata(&path)?.len();
        let gz = util::output(
            std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("gzip -9 -c '{}' | wc -c", path.display())),
        )
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or("gzip failed")?;
        println!(
            "{name:<48} {:>8.1} KB raw {:>8.1} KB gzip",
            raw as f64 / 1024.0,
            gz as f64 / 1024.0
        );
        total_raw += raw;
        total_gz += gz;
    }
    println!(
        "main bundle total: {:.1} KB raw, {:.1} KB gzip -9 (goal <= 350 KB)",
        total_raw as f64 / 1024.0,
        total_gz as f64 / 1024.0
    );
    println!("\n## PDF worker (dist/, loaded on first PDF, gzip -9)");
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !name.starts_with("praxisbote-pdf-worker") {
            continue;
        }
        let raw = std::fs::metadata(&path)?.len();
        let gz = gzip_size(&path)?;
        println!(
            "{name:<48} {:>8.1} KB raw {:>8.1} KB gzip",
            raw as f64 / 1024.0,
            gz as f64 / 1024.0
        );
    }
    Ok(())
}

fn gzip_size(path: &std::path::Path) -> Result<u64> {
    Ok(util::output(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("gzip -9 -c '{}' | wc -c", path.display())),
    )
    .and_then(|s| s.trim().parse::<u64>().ok())
    .ok_or("gzip failed")?)
}
