//! `xtask wasm-runner FILE.wasm [ARGS]`: cargo's runner for the browser tests
//! (`CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER`), a thin wrapper around
//! `wasm-bindgen-test-runner`.
//!
//! Why: often (one start in three for the 40 MB `storage_idb` test on this 2-core machine,
//! measured 2026-12-05) the test page never loads its wasm. The page stays at "Loading
//! scripts...": Chromium has sent `GET /wasm-bindgen-test_bg.wasm` on a fifth connection and
//! the runner's HTTP server (tiny_http 0.12 under rouille) never reads it. tiny_http's task
//! pool hands a new connection to an idle thread only if it counts one; two connections
//! arriving while one thread is waking both go to that thread's queue, and the thread then
//! serves a keep-alive connection for as long as Chromium keeps it open (60–300 s). The
//! runner waits out its 300 s page-load timeout and fails a binary whose tests never ran.
//! This wrapper gives the page [`PAGE_START`] to print the harness's `running N tests`
//! line; if it does not, it kills the runner with its chromedriver and Chromium and starts
//! it again, at most [`ATTEMPTS`] times. Once tests have started, nothing is retried: a test
//! that ran and failed fails the run.

use crate::util::{self, Result};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the page may take to start the tests (normally 3–5 s, also under load);
/// `PB_WASM_PAGE_START_SECS` overrides it.
const PAGE_START: Duration = Duration::from_secs(25);
/// A hung start is not rare (one CI run saw four in a row for one test binary), and a
/// restart is cheap, so many attempts: the worst case adds about four minutes.
const ATTEMPTS: u32 = 10;

/// The value for `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER`: this xtask binary.
pub fn runner_env() -> String {
    let exe = std::env::current_exe().expect("path of the running xtask");
    format!("{} wasm-runner", exe.display())
}

pub fn run(args: &[String]) -> Result<()> {
    if args.is_empty() {
        return Err("wasm-runner needs the test's .wasm file".into());
    }
    for attempt in 1..=ATTEMPTS {
        match attempt_once(args)? {
            Outcome::Finished(status) if status.success() => return Ok(()),
            Outcome::Finished(status) => {
                return Err(format!("wasm-bindgen-test-runner: {status}").into())
            }
            Outcome::PageNeverStarted => {
                eprintln!(
                    "wasm-runner: the test page did not start within {} s (attempt {attempt} \
                     of {ATTEMPTS}); runner, chromedriver and Chromium stopped, starting again",
                    page_start().as_secs()
                );
            }
        }
    }
    Err(format!("the test page did not start in {ATTEMPTS} attempts").into())
}

fn page_start() -> Duration {
    std::env::var("PB_WASM_PAGE_START_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(PAGE_START)
}

enum Outcome {
    Finished(ExitStatus),
    PageNeverStarted,
}

fn attempt_once(args: &[String]) -> Result<Outcome> {
    let mut child = Command::new("wasm-bindgen-test-runner")
        .args(args)
        .env("PATH", util::path_env())
        .stdout(Stdio::piped())
        // Its own process group, so that chromedriver and Chromium go with it.
        .process_group(0)
        .spawn()?;
    let pgid = child.id();
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + page_start();
    let mut started = false;
    let mut out = std::io::stdout();
    loop {
        let wait = if started {
            Duration::from_secs(3600)
        } else {
            deadline.saturating_duration_since(Instant::now())
        };
        match rx.recv_timeout(wait) {
            Ok(line) => {
                started |= tests_started(&line);
                writeln!(out, "{line}")?;
                out.flush()?;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if started => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // The runner may just have exited without output (e.g. nothing to run).
                if let Some(status) = child.try_wait()? {
                    let _ = reader.join();
                    return Ok(Outcome::Finished(status));
                }
                let _ = Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{pgid}")])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                return Ok(Outcome::PageNeverStarted);
            }
        }
    }
    let _ = reader.join();
    Ok(Outcome::Finished(child.wait()?))
}

/// The harness's first line (`running 12 tests`), or the runner's own "nothing to run".
fn tests_started(line: &str) -> bool {
    let l = line.trim();
    (l.starts_with("running ") && (l.ends_with(" tests") || l.ends_with(" test")))
        || l.contains("no tests to run")
}

#[cfg(test)]
mod tests {
    use super::tests_started;

    #[test]
    fn recognises_the_harness_start_line() {
        assert!(tests_started("running 12 tests"));
        assert!(tests_started("running 1 test"));
        assert!(tests_started("no tests to run!"));
        assert!(!tests_started(
            "Running headless tests in Chrome on `http://127.0.0.1:1/`"
        ));
        assert!(!tests_started("Loading scripts..."));
    }
}
