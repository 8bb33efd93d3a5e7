//! `cargo xtask` — the project's automation, in Rust, with no dependencies.
//!
//! - `cargo xtask start [--listen ADDR] [--no-couchdb]`: install what is missing, build the
//!   app, serve it with the relay in demo mode, and start a local pouchdb-server (in memory)
//!   for the demo of two devices syncing.
//! - `cargo xtask test`: install browsers and test servers if missing, then run every check and
//!   test; prints one closing line `N passed, M failed`.
//! - `cargo xtask bench`: run the benchmarks and print their figures.
//! - `cargo xtask wasm-runner FILE.wasm`: cargo's runner for the browser tests (used by
//!   `test` and `bench`; retries a test page that never loads).

mod bench;
mod couch;
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
                "usage: cargo xtask <start [--listen ADDR] [--no-couchdb] | test [--skip-e2e] [--only STEP] | bench | setup | dist>"
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

/// Builds the release app and serves it together with the relay in demo mode until Ctrl-C;
/// beside it a local pouchdb-server (in memory) for the demo of two devices (issue 18).
fn start(args: &[String]) -> util::Result<()> {
    let mut listen = "127.0.0.1:8080".to_string();
    let mut with_couch = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--listen" => listen = it.next().ok_or("--listen needs an address")?.clone(),
            "--no-couchdb" => with_couch = false,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    setup::ensure_build_tools()?;
    util::build_dist(true)?;
    let relay = util::build_relay()?;
    let data_dir = util::root().join("relay-data");
    let (host, port) = listen
        .rsplit_once(':')
        .ok_or("--listen needs HOST:PORT, e.g. 127.0.0.1:8080")?;
    let couch = if with_couch {
        // CORS for the app's origin as a browser names it: on loopback both spellings; on
        // all interfaces any origin (devices of the local network open the app by the
        // machine's address).
        let origins: Vec<String> = match host {
            "0.0.0.0" | "[::]" | "::" => vec!["*".to_string()],
            "127.0.0.1" | "localhost" => vec![
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
            ],
            h => vec![format!("http://{h}:{port}")],
        };
        let couch_host = if host == "localhost" {
            "127.0.0.1"
        } else {
            host
        };
        println!("Starting pouchdb-server (in memory) for the sync demo …");
        Some(couch::Couch::start(
            couch_host.trim_matches(['[', ']']),
            &origins,
        )?)
    } else {
        None
    };
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
    if let Some(c) = &couch {
        println!();
        println!("  Sync-Server (pouchdb-server, CouchDB-Protokoll, nur im Speicher):");
        println!("    CouchDB-URL  {}", c.url());
        println!("    Datenbank    {}", couch::DB);
        println!("    Benutzer     {}", couch::USER);
        println!("    Passwort     {}", couch::PASSWORD);
        println!(
            "    (Server-Admin {} / {})",
            couch::ADMIN,
            couch::ADMIN_PASSWORD
        );
        println!();
        println!("  Zwei Geräte vorführen: die App in zwei getrennten Browser-Profilen öffnen");
        println!("  (z. B. ein normales und ein privates Fenster, oder zwei Chromium-Profile),");
        println!("  jedes hat seine eigene Datenbank im Browser. Auf dem ersten Gerät");
        println!("  Einstellungen → „Geräte verbinden“: URL, Datenbank, Benutzer und Passwort");
        println!("  von oben eintragen. Auf dem zweiten dasselbe, dann die Passphrase (oder den");
        println!("  Wiederherstellungsschlüssel) der Praxis des ersten Geräts eingeben.");
        println!("  Änderungen auf einem Gerät erscheinen danach auf dem anderen. Der Server");
        println!("  sieht nur verschlüsselte Dokumente; beim Beenden ist er wieder leer.");
        println!("  Produktivbetrieb mit Apache CouchDB: docs/sync.md.");
    }
    println!();
    println!("  Beenden mit Strg-C.");
    println!();
    // Ctrl-C reaches the relay and pouchdb-server too (same process group); the relay shuts
    // down gracefully; pouchdb-server is killed when `couch` is dropped.
    let status = child.wait()?;
    drop(couch);
    if !status.success() {
        return Err(format!("relay ended with {status}").into());
    }
    Ok(())
}
