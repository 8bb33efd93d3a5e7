//! `cargo xtask` — the project's automation, in Rust, with no dependencies.
//!
//! - `cargo xtask start [--listen ADDR]`: install what is missing, build the app, serve it with
//!   the relay in demo mode.
//! - `cargo xtask test`: install browsers and test servers if missing, then run every check and
//!   test; prints one closing line `N passed, M failed`.
//! - `cargo xtask bench`: run the benchmarks and print their figures.
//! - `cargo xtask wasm-runner FILE.wasm`: cargo's runner for the browser tests (used by
//!   `test` and `bench`; retries a test page that never loads).

mod bench;
mod precache;
mod setup;
mod test;
mod util;
mod wasm_runner;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match cmd {
        "start" => start(rest),
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "setup" => setup::ensure_build_tools().and_then(|_| setup::ensure_test_packages()),
        "dist" => setup::ensure_build_tools().and_then(|_| util::build_dist(true)),
        "wasm-runner" => wasm_runner::run(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <start [--listen ADDR] | test [--skip-e2e] [--only STEP] | bench | setup | dist>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the release app and serves it together with the relay in demo mode until Ctrl-C.
fn start(args: &[String]) -> util::Result<()> {
    let mut listen = "127.0.0.1:8080".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--listen" => listen = it.next().ok_or("--listen needs an address")?.clone(),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    setup::ensure_build_tools()?;
    util::build_dist(true)?;
    let relay = util::build_relay()?;
    let data_dir = util::root().join("relay-data");
    println!(
        "Starting praxisbote-relay in demo mode (data in {}) …",
        data_dir.display()
    );
    let mut child = std::process::Command::new(relay)
        .arg("--listen")
        .arg(&listen)
        .arg("--static-dir")
        .arg(util::root().join("dist"))
        .arg("--data-dir")
        .arg(&data_dir)
        .spawn()?;
    println!();
    println!("  praxisbote läuft auf  http://{listen}/   (Demo-Praxis, Relay im Demo-Modus)");
    println!("  Beenden mit Strg-C.");
    println!();
    // Ctrl-C reaches the relay too (same process group); it shuts down gracefully.
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("relay ended with {status}").into());
    }
    Ok(())
}
