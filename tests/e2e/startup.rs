//! Start-up and memory benchmark (issue 14), in headless Chromium against the built app
//! served by the relay — and, when `PB_BASELINE_URL` is set, against an older build served by
//! a second relay, measured in the same run (`cargo xtask bench start --baseline REV`).
//! Ignored by default; prints figures, asserts only that the app came up.
//!
//! - cold start: a fresh profile (new browser session), the demo practice is generated and
//!   stored, until the patient list shows its first rows (the first animation frame after
//!   they are in the DOM, `performance.now()` since navigation start);
//! - warm start: the service worker controls the page and IndexedDB holds a backup of
//!   10,000 / 100,000 generated persons (`domain::demo::generate_large`, with their appointments),
//!   restored through the Sicherung page (marked as a demo install, so unencrypted and
//!   without the passphrase set-up); the page is reloaded on the patient list;
//! - memory: after the warm start with 100,000 persons the Versand page searches them (the
//!   old build loads its second UI module for it); after two forced garbage collections the
//!   JS heap in use (CDP `Runtime.getHeapUsage`) plus the linear memory of every wasm module
//!   of the page (their `memory` exports, collected as they are instantiated).

use crate::support::Session;
use praxisbote::domain::backup::{self, Backup};
use std::time::Duration;

/// Runs per figure (the median is reported).
const RUNS: usize = 3;

/// Installed before any page script: collects the wasm memories and marks the first
/// interactive patient list.
const PROBE: &str = r#"
(() => {
  const mems = [];
  window.__pbWasmMemories = mems;
  const keep = (r) => {
    const inst = r && (r.instance || r);
    const m = inst && inst.exports && inst.exports.memory;
    if (m instanceof WebAssembly.Memory && !mems.includes(m)) mems.push(m);
    return r;
  };
  const streaming = WebAssembly.instantiateStreaming;
  if (streaming) WebAssembly.instantiateStreaming = function (...a) { return streaming.apply(this, a).then(keep); };
  const plain = WebAssembly.instantiate;
  WebAssembly.instantiate = function (...a) { return plain.apply(this, a).then(keep); };
  const ready = () => document.querySelector('table.data tbody tr td a')
    && document.querySelector('input[aria-label="Patienten durchsuchen"]');
  // The lock screen of an encrypted practice, and when its form was sent (issue 17).
  document.addEventListener('submit', () => { window.__pbSubmitted = performance.now(); }, true);
  const obs = new MutationObserver(() => {
    if (window.__pbLockShown === undefined
        && document.querySelector('main.lock-screen input[type=password]')) {
      window.__pbLockShown = performance.now();
    }
    if (window.__pbListed === undefined && ready()) {
      window.__pbListed = performance.now();
      obs.disconnect();
      requestAnimationFrame(() => { window.__pbReady = performance.now(); });
    }
  });
  obs.observe(document, { childList: true, subtree: true });
})();
"#;

async fn session(base: &str) -> Session {
    let s = Session::start_at(base).await;
    // A restore of 100,000 persons keeps the page busy for a while.
    s.set_script_timeout(Duration::from_secs(600)).await;
    s.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": PROBE }),
    )
    .await;
    s
}

/// Waits until the probe saw the patient list; returns the milliseconds since navigation.
async fn ready_ms(s: &Session, secs: u64) -> f64 {
    s.wait_until_for(
        "the patient list",
        "return typeof window.__pbReady === 'number';",
        secs,
    )
    .await;
    let marks = s
        .script(
            "return performance.getEntriesByType('mark')\
             .map(m => m.name.replace('pb:', '') + ' ' + m.startTime.toFixed(0)).join(', ');",
        )
        .await;
    let ms = s
        .script("return window.__pbReady;")
        .await
        .as_f64()
        .expect("ms");
    eprintln!("    {ms:.0} ms; marks: {}", marks.as_str().unwrap_or(""));
    ms
}

/// Waits until the start has also read the appointments (after the list is shown), so the
/// next start does not begin while this page still reads the store.
async fn settle(s: &Session) {
    s.wait_until_for(
        "the appointments to be read",
        "return performance.getEntriesByName('pb:appointments-read').length > 0;",
        300,
    )
    .await;
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn fmt_runs(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cold starts, each in a fresh profile.
async fn cold(base: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for _ in 0..RUNS {
        let s = session(base).await;
        s.open("#/patienten").await;
        out.push(ready_ms(&s, 120).await);
    }
    out
}

/// A backup file of `n` generated persons with their appointments, marked as a demo
/// install (`demo`) or a real practice (restored, it leads into the passphrase set-up).
fn backup_file(n: usize, demo: bool) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "pb-bench-start-{n}{}-{}.json",
        if demo { "" } else { "-real" },
        std::process::id()
    ));
    if !path.exists() {
        let meta = if demo {
            [(
                "meta".to_string(),
                vec![serde_json::json!({ "key": "demo", "value": true })],
            )]
            .into()
        } else {
            Default::default()
        };
        let today = chrono::Local::now().date_naive();
        let data = praxisbote::domain::demo::generate_large(n, 1, today);
        let b = Backup::new(
            chrono::Local::now().naive_local(),
            Some(praxisbote::domain::demo::demo_settings()),
            data.persons,
            data.appointments,
            // A demo/training install stays unencrypted and opens without the passphrase
            // set-up (issue 17): the figures of the plain store.
            meta,
        );
        std::fs::write(&path, backup::export(&b)).expect("write backup");
    }
    path
}

/// Reads the backup file `path` on the Sicherung page and confirms "Alle Daten ersetzen".
async fn replace_all_with(s: &Session, path: &std::path::Path) {
    s.open("#/sicherung").await;
    s.upload_by_label("Sicherungsdatei auswählen", path).await;
    s.wait_until_for(
        "the backup to be read",
        "return [...document.querySelectorAll('[role=status]')]\
         .some(e => e.textContent.includes('Sicherung vom'));",
        300,
    )
    .await;
    s.click_button("Wiederherstellen …").await;
    s.click_button("Alle Daten ersetzen").await;
}

/// Restores the backup of `n` persons through the Sicherung page.
async fn restore(s: &Session, n: usize) {
    let path = backup_file(n, true);
    let t = std::time::Instant::now();
    replace_all_with(s, &path).await;
    s.wait_until_for(
        "the restore",
        "return [...document.querySelectorAll('[role=status]')]\
         .some(e => e.textContent.includes('wiederhergestellt'));",
        600,
    )
    .await;
    eprintln!(
        "  restored {n} persons in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

/// Warm starts with `n` persons stored; the session stays open (for the memory figure).
async fn warm(base: &str, n: usize) -> (Vec<f64>, Session) {
    let s = session(base).await;
    s.open("#/patienten").await;
    ready_ms(&s, 120).await;
    s.wait_for_service_worker().await;
    restore(&s, n).await;
    s.open("#/patienten").await;
    let mut out = Vec::new();
    // The first start after the restore is not counted (compiled code still being cached).
    for i in 0..=RUNS {
        s.reload().await;
        let ms = ready_ms(&s, 300).await;
        if i > 0 {
            out.push(ms);
        }
        settle(&s).await;
    }
    (out, s)
}

/// JS heap in use and wasm linear memory of the page, in bytes, with all `n` persons in use
/// on the Versand page.
async fn memory(s: &Session) -> (f64, f64) {
    s.open("#/versand").await;
    s.click_button("Suche").await;
    s.fill_by_label("Empfänger suchen", "a").await;
    s.wait_until_for(
        "the Versand search over every person",
        "return [...document.querySelectorAll('[role=status]')]\
         .some(e => /^[1-9][0-9]* Treffer/.test(e.textContent.trim()));",
        300,
    )
    .await;
    for _ in 0..2 {
        s.cdp("HeapProfiler.collectGarbage", serde_json::json!({}))
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let heap = s.cdp("Runtime.getHeapUsage", serde_json::json!({})).await;
    let wasm = s
        .script(
            "return (window.__pbWasmMemories || []).reduce((a, m) => a + m.buffer.byteLength, 0);",
        )
        .await;
    (
        heap["usedSize"].as_f64().expect("usedSize"),
        wasm.as_f64().expect("wasm bytes"),
    )
}

struct Figures {
    cold: Vec<f64>,
    warm_10k: Vec<f64>,
    warm_100k: Vec<f64>,
    js_heap: f64,
    wasm: f64,
}

async fn measure(base: &str) -> Figures {
    eprintln!("measuring {base}");
    let cold = cold(base).await;
    eprintln!("  cold starts: {cold:?}");
    let (warm_10k, _) = warm(base, 10_000).await;
    eprintln!("  warm starts, 10,000: {warm_10k:?}");
    let (warm_100k, s) = warm(base, 100_000).await;
    eprintln!("  warm starts, 100,000: {warm_100k:?}");
    let (js_heap, wasm) = memory(&s).await;
    Figures {
        cold,
        warm_10k,
        warm_100k,
        js_heap,
        wasm,
    }
}

fn mb(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

/// `cargo xtask bench start [--baseline REV]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn bench_start_and_memory() {
    let this = measure(&std::env::var("PB_APP_URL").expect("PB_APP_URL")).await;
    let baseline = match std::env::var("PB_BASELINE_URL") {
        Ok(url) => Some((
            std::env::var("PB_BASELINE_LABEL").unwrap_or_else(|_| "baseline".into()),
            measure(&url).await,
        )),
        Err(_) => None,
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n## Start-up and memory in headless Chromium (median of {RUNS} runs, ms since navigation start, MB = 1024² bytes; load {})",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let head = baseline
        .as_ref()
        .map(|(l, _)| format!(" {l} |"))
        .unwrap_or_default();
    println!("| figure | this build |{head} goal |");
    println!(
        "|---|---:|{}---|",
        if baseline.is_some() { "---:|" } else { "" }
    );
    let row = |label: &str, f: &dyn Fn(&Figures) -> String, goal: &str| {
        let old = baseline
            .as_ref()
            .map(|(_, b)| format!(" {} |", f(b)))
            .unwrap_or_default();
        println!("| {label} | {} |{old} {goal} |", f(&this));
    };
    let ms = |v: &[f64]| format!("{:.0} ms ({})", median(v.to_vec()), fmt_runs(v));
    row(
        "cold start, fresh profile, demo practice → first interactive patient list",
        &|f| ms(&f.cold),
        "≤ 1500 ms",
    );
    row(
        "warm start (service worker), 10,000 persons",
        &|f| ms(&f.warm_10k),
        "≤ 1000 ms",
    );
    row(
        "warm start (service worker), 100,000 persons",
        &|f| ms(&f.warm_100k),
        "≤ 3000 ms",
    );
    row(
        "memory with 100,000 persons (Versand search): JS heap + wasm",
        &|f| {
            format!(
                "{:.1} MB (JS {:.1} + wasm {:.1})",
                mb(f.js_heap + f.wasm),
                mb(f.js_heap),
                mb(f.wasm)
            )
        },
        "≤ 150 MB",
    );
}

// ---- Encrypted practice (issue 17) ----

/// A performance mark's start time, if the page set it.
async fn mark_ms(s: &Session, name: &str) -> Option<f64> {
    s.script(&format!(
        "const m = performance.getEntriesByName('{name}'); return m.length ? m[m.length - 1].startTime : null;"
    ))
    .await
    .as_f64()
}

/// One warm start of the encrypted practice, in ms since navigation start.
struct Unlocked {
    /// The lock screen is drawn.
    lock_screen: f64,
    /// The form was sent (WebDriver typed the passphrase before).
    submitted: f64,
    /// Argon2id and unwrapping the data key (`pb:unlock` → `pb:key-unwrapped`).
    key: f64,
    /// The patient list is interactive.
    ready: f64,
}

impl Unlocked {
    /// Without the time the passphrase was being typed.
    fn machine(&self) -> f64 {
        self.lock_screen + (self.ready - self.submitted)
    }
}

/// `cargo xtask bench start-locked`: warm starts (service worker) of an encrypted practice
/// of 10,000 generated persons (a real practice's backup restored into the demo, then the
/// passphrase set-up encrypts it): navigation → lock screen → the passphrase typed and sent
/// → Argon2id (`KdfParams::APP`) → every record read and decrypted → interactive list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn bench_start_encrypted() {
    const N: usize = 10_000;
    let base = std::env::var("PB_APP_URL").expect("PB_APP_URL");
    let s = session(&base).await;
    s.open("#/patienten").await;
    ready_ms(&s, 120).await;
    s.wait_for_service_worker().await;
    let path = backup_file(N, false);
    let t = std::time::Instant::now();
    replace_all_with(&s, &path).await;
    s.wait_until_for(
        "the passphrase set-up after the restore",
        "return document.body.innerText.includes('Passphrase festlegen');",
        600,
    )
    .await;
    eprintln!(
        "  restored {N} persons in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = std::time::Instant::now();
    crate::lock::set_up_passphrase(&s).await;
    eprintln!("  encrypted them in {:.1} s", t.elapsed().as_secs_f64());
    s.open("#/patienten").await;

    let mut runs = Vec::new();
    // The first start after the set-up is not counted (compiled code still being cached).
    for i in 0..=RUNS {
        s.reload().await;
        s.wait_until_for(
            "the lock screen",
            "return typeof window.__pbLockShown === 'number';",
            120,
        )
        .await;
        s.fill_by_label("Passphrase", crate::lock::PASSPHRASE).await;
        s.click_button("Entsperren").await;
        let ready = ready_ms(&s, 300).await;
        let num = |v: serde_json::Value| v.as_f64().expect("a time");
        let lock_screen = num(s.script("return window.__pbLockShown;").await);
        let submitted = num(s.script("return window.__pbSubmitted;").await);
        let key = match (
            mark_ms(&s, "pb:unlock").await,
            mark_ms(&s, "pb:key-unwrapped").await,
        ) {
            (Some(a), Some(b)) => b - a,
            _ => panic!("no unlock marks"),
        };
        if i == 0 {
            eprintln!("    {}", s.wait_status_matching("Treffer").await);
        }
        let u = Unlocked {
            lock_screen,
            submitted,
            key,
            ready,
        };
        eprintln!(
            "    lock screen {:.0} ms, sent {:.0} ms, key {:.0} ms, list {:.0} ms → without typing {:.0} ms",
            u.lock_screen, u.submitted, u.key, u.ready, u.machine()
        );
        if i > 0 {
            runs.push(u);
        }
        settle(&s).await;
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n## Warm start of an encrypted practice, 10,000 persons, in headless Chromium (median of {RUNS} runs, ms since navigation start; load {})",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("| figure | this build | goal |");
    println!("|---|---:|---|");
    let col = |f: &dyn Fn(&Unlocked) -> f64| {
        let v: Vec<f64> = runs.iter().map(f).collect();
        format!("{:.0} ms ({})", median(v.clone()), fmt_runs(&v))
    };
    println!(
        "| navigation → lock screen | {} | – |",
        col(&|u| u.lock_screen)
    );
    println!(
        "| passphrase sent → interactive patient list | {} | – |",
        col(&|u| u.ready - u.submitted)
    );
    println!(
        "| of which Argon2id + unwrapping the key | {} | – |",
        col(&|u| u.key)
    );
    println!(
        "| navigation → unlocked patient list, without the typing | {} | ≤ 1500 ms |",
        col(&Unlocked::machine)
    );
    println!(
        "| navigation → unlocked patient list, WebDriver typing included | {} | – |",
        col(&|u| u.ready)
    );
}
