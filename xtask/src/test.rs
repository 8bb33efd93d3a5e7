//! `cargo xtask test`: every check and test, in order, with one closing summary line.

use crate::setup;
use crate::util::{self, cargo, Result};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Counts of one step: tests (or 1 for a check without tests) passed and failed.
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

struct Report {
    rows: Vec<(String, Counts, f64)>,
}

impl Report {
    fn add(&mut self, name: &str, c: Counts, secs: f64) {
        self.rows.push((name.to_string(), c, secs));
    }
    fn total(&self) -> Counts {
        self.rows
            .iter()
            .fold(Counts::default(), |a, (_, c, _)| Counts {
                passed: a.passed + c.passed,
                failed: a.failed + c.failed,
            })
    }
}

const STEPS: &[&str] = &["fmt", "clippy", "clippy-wasm", "native", "wasm", "e2e"];

pub fn run(args: &[String]) -> Result<()> {
    let mut only: Option<String> = None;
    let mut skip_e2e = false;
    let mut filter: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--only" => only = Some(it.next().ok_or("--only needs a step")?.clone()),
            "--skip-e2e" => skip_e2e = true,
            // Only the end-to-end tests whose name contains this (passed to the test binary).
            "--filter" => filter = Some(it.next().ok_or("--filter needs a name")?.clone()),
            other => {
                return Err(format!("unknown option {other}; steps: {}", STEPS.join(", ")).into())
            }
        }
    }
    let wanted = |s: &str| {
        only.as_deref()
            .map_or(!(skip_e2e && s == "e2e"), |o| o == s)
    };
    let started = Instant::now();

    setup::ensure_build_tools()?;
    setup::ensure_test_packages()?;
    util::run(cargo().args(["fetch", "--quiet"]))?;

    let mut report = Report { rows: Vec::new() };
    if wanted("fmt") {
        step(
            &mut report,
            "fmt (cargo fmt --check)",
            cargo().args(["fmt", "--all", "--", "--check"]),
        );
    }
    if wanted("clippy") {
        step(
            &mut report,
            "clippy (native)",
            cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        );
    }
    if wanted("clippy-wasm") {
        step(
            &mut report,
            "clippy (wasm32)",
            cargo()
                .args(wasm_packages_args(&[
                    "clippy",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--lib",
                    "--bins",
                    "--tests",
                ]))
                .args(["--", "-D", "warnings"]),
        );
    }
    if wanted("native") {
        step(
            &mut report,
            "native tests",
            cargo()
                .args(["test", "--workspace", "--no-fail-fast"])
                // The replication tests of sync/ start their own pouchdb-server.
                .env("PRAXISBOTE_POUCHDB_SERVER", setup::pouchdb_server()),
        );
    }
    if wanted("wasm") {
        let mut c = cargo();
        // Every test binary runs even when one fails (a failure must not hide others).
        c.args([
            "test",
            "--no-fail-fast",
            "-p",
            "praxisbote",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            crate::wasm_runner::runner_env(),
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
        step(
            &mut report,
            "browser tests (wasm-bindgen-test, Chromium)",
            &mut c,
        );
    }
    if wanted("e2e") {
        let t = Instant::now();
        let extra: Vec<&str> = filter.iter().map(String::as_str).collect();
        let c = match e2e_with(&extra, None) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("e2e set-up failed: {e}");
                Counts {
                    passed: 0,
                    failed: 1,
                }
            }
        };
        report.add(
            "end-to-end tests (Chromium + relay)",
            c,
            t.elapsed().as_secs_f64(),
        );
    }

    println!();
    println!(
        "{:<48} {:>7} {:>7} {:>8}",
        "step", "passed", "failed", "seconds"
    );
    for (name, c, secs) in &report.rows {
        println!("{name:<48} {:>7} {:>7} {secs:>8.1}", c.passed, c.failed);
    }
    println!("total time {:.0} s", started.elapsed().as_secs_f64());
    let total = report.total();
    println!("{} passed, {} failed", total.passed, total.failed);
    if total.failed > 0 || total.passed == 0 {
        return Err("some tests failed".into());
    }
    Ok(())
}

/// Packages that build for wasm32 (the relay cannot).
fn wasm_packages_args<'a>(head: &[&'a str]) -> Vec<&'a str> {
    let mut v = head.to_vec();
    for p in wasm_packages() {
        v.push("-p");
        v.push(p);
    }
    v
}

fn wasm_packages() -> Vec<&'static str> {
    let mut v = vec!["praxisbote-core", "praxisbote"];
    if util::root().join("pdf/Cargo.toml").exists() {
        v.push("praxisbote-pdf");
    }
    if util::root().join("pdf-worker/Cargo.toml").exists() {
        v.push("praxisbote-pdf-worker");
    }
    if util::root().join("engine/Cargo.toml").exists() {
        v.push("praxisbote-engine");
    }
    // The replication client runs in the app: it must build for the browser too.
    if util::root().join("sync/Cargo.toml").exists() {
        v.push("praxisbote-sync");
    }
    v
}

/// Runs one step, echoing its output, and counts the tests it reports. A step that reports
/// no test counts as one check.
fn step(report: &mut Report, name: &str, c: &mut Command) {
    eprintln!("\n=== {name}");
    let t = Instant::now();
    let (ok, counts) = run_counting(c);
    let counts = match counts {
        Some(mut n) => {
            if !ok && n.failed == 0 {
                n.failed = 1; // e.g. a compile error after some test binaries ran
            }
            n
        }
        None if ok => Counts {
            passed: 1,
            failed: 0,
        },
        None => Counts {
            passed: 0,
            failed: 1,
        },
    };
    report.add(name, counts, t.elapsed().as_secs_f64());
}

/// Runs a command with stdout captured line by line (and echoed); sums `test result:` lines.
fn run_counting(c: &mut Command) -> (bool, Option<Counts>) {
    eprintln!("$ {}", util::show(c));
    let mut child = match c.stdout(Stdio::piped()).spawn() {
        Ok(ch) => ch,
        Err(e) => {
            eprintln!("cannot run {}: {e}", util::show(c));
            return (false, None);
        }
    };
    let mut counts: Option<Counts> = None;
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout)
        .lines()
        .map_while(std::result::Result::ok)
    {
        println!("{line}");
        if let Some(n) = parse_test_result(&line) {
            let acc = counts.get_or_insert_with(Counts::default);
            acc.passed += n.passed;
            acc.failed += n.failed;
        }
    }
    let ok = child.wait().map(|s| s.success()).unwrap_or(false);
    (ok, counts)
}

/// Parses cargo's / wasm-bindgen-test's `test result: ok. 3 passed; 0 failed; …`.
fn parse_test_result(line: &str) -> Option<Counts> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let num_before = |word: &str| -> Option<u64> {
        let idx = rest.find(word)?;
        rest[..idx].split_whitespace().last()?.parse().ok()
    };
    Some(Counts {
        passed: num_before(" passed")?,
        failed: num_before(" failed").unwrap_or(0),
    })
}

/// Kills a child process on drop.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Builds the app and the relay, starts relay + chromedriver, runs `tests/e2e`, with extra
/// arguments for the test binary (e.g. `--ignored NAME` for an in-browser benchmark). With
/// a `baseline` (label, built `dist/` of another build) a second relay serves that build and
/// the tests get its URL in `PB_BASELINE_URL` (benchmarks compare both in one run).
pub fn e2e_with(extra: &[&str], baseline: Option<(&str, &std::path::Path)>) -> Result<Counts> {
    eprintln!("\n=== end-to-end: building the app (release) and the relay");
    util::build_dist(true)?;
    let relay_bin = util::build_relay()?;
    let data = tempdir("praxisbote-e2e-relay")?;
    let mut relay = Command::new(&relay_bin);
    relay
        .args(["--listen", "127.0.0.1:0", "--static-dir"])
        .arg(util::root().join("dist"))
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped());
    let mut relay = Guard(relay.spawn()?);
    let url = wait_for_listen_line(&mut relay.0)?;
    let port = util::free_port()?;
    let _driver = Guard(
        Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    wait_for_port(port)?;
    let mut _baseline_relay = None;
    let mut baseline_env = Vec::new();
    if let Some((label, dist)) = baseline {
        let data = tempdir("praxisbote-e2e-baseline-relay")?;
        let mut r = Command::new(&relay_bin);
        r.args(["--listen", "127.0.0.1:0", "--static-dir"])
            .arg(dist)
            .arg("--data-dir")
            .arg(&data)
            .stdout(Stdio::piped());
        let mut r = Guard(r.spawn()?);
        baseline_env.push(("PB_BASELINE_URL", wait_for_listen_line(&mut r.0)?));
        baseline_env.push(("PB_BASELINE_LABEL", label.to_string()));
        _baseline_relay = Some(r);
    }
    let mut c = cargo();
    c.args([
        "test",
        "-p",
        "praxisbote",
        "--features",
        "e2e",
        "--test",
        "e2e",
        "--",
        "--test-threads=1",
    ])
    .args(extra)
    .env("PB_APP_URL", &url)
    .env("PB_WEBDRIVER_URL", format!("http://127.0.0.1:{port}"))
    .env("PB_RELAY_DATA", &data)
    .env("PB_AXE_JS", setup::axe_js())
    // Tests that start their own relays (tests/e2e/send.rs).
    .env("PB_RELAY_BIN", &relay_bin)
    .env("PB_DIST", util::root().join("dist"))
    // The sync tests start their own pouchdb-server (tests/e2e/support/pouch.rs).
    .env("PRAXISBOTE_POUCHDB_SERVER", setup::pouchdb_server())
    // PouchDB's browser build, the peer of the sync benchmark (`cargo xtask bench sync`).
    .env("PB_POUCHDB_JS", setup::pouchdb_js())
    .envs(baseline_env);
    let (ok, counts) = run_counting(&mut c);
    Ok(match counts {
        Some(mut n) => {
            if !ok && n.failed == 0 {
                n.failed = 1;
            }
            n
        }
        None => Counts {
            passed: 0,
            failed: 1,
        },
    })
}

fn wait_for_listen_line(child: &mut Child) -> Result<String> {
    let stdout = child.stdout.take().ok_or("relay stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
        {
            if let Some(i) = line.find("listening on ") {
                let _ = tx.send(line[i + "listening on ".len()..].trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .map_err(|_| "the relay did not report `listening on` within 60 s")?;
    Ok(url.trim_end_matches('/').to_string())
}

fn wait_for_port(port: u16) -> Result<()> {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(format!("nothing listens on port {port}").into())
}

pub fn tempdir(prefix: &str) -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cargo_and_wasm_bindgen_test_results() {
        let c = parse_test_result("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s").unwrap();
        assert_eq!((c.passed, c.failed), (12, 0));
        let c = parse_test_result("test result: FAILED. 3 passed; 2 failed; 0 ignored").unwrap();
        assert_eq!((c.passed, c.failed), (3, 2));
        assert!(parse_test_result("running 3 tests").is_none());
    }
}
