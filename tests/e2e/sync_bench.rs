//! Benchmark of issue 18: initial sync of N person documents from pouchdb-server on loopback
//! to a new device (a fresh headless Chromium profile), in ONE `cargo xtask bench sync` run:
//!
//! - **PouchDB** (npm `pouchdb`, `dist/pouchdb.min.js`, installed by `cargo xtask bench sync`
//!   into the tools cache; path in `PB_POUCHDB_JS`): its replicator pulls into a fresh
//!   IndexedDB-backed PouchDB (adapter `idb`) on the app's origin, cross-origin to the
//!   server with the database user's Basic auth — the same CORS and auth path the app takes.
//! - **praxisbote**: the app's own replicator (`praxisbote-sync` in the app), measured by `tests/bench_sync.rs` in the same `cargo xtask bench sync` run (its
//!   `BENCH praxisbote` lines; the app's own sealed documents of the same size).
//!
//! The documents look like the app's encrypted records: an opaque id (64 hex digits, like
//! the HMAC-SHA-256 ids of `docs/design/sync-replication.md`) and `{"v":1,"c":"<base64>"}`
//! with ≈ 1.5 KB of base64. Run: `cargo xtask bench sync` (N = 10,000 and 100,000;
//! `BENCH_SYNC_N=10000` for one size, `BENCH_RUNS=3` for more runs per size,
//! `BENCH_SYNC_POUCH_BATCH=…` for PouchDB's `batch_size`, default PouchDB's own 100).
//! Prints `BENCH` lines (side, label, median ms, min ms, runs, result) and a table.

use crate::support::{Device, PouchServer, ADMIN, ADMIN_PASSWORD, DB, PASSWORD, USER};
use std::time::{Duration, Instant};

/// Bytes of "ciphertext" per document: 1,100 bytes → 1,468 base64 characters.
const BODY_BYTES: usize = 1100;

/// A deterministic 64-bit mix (splitmix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Document `i`: opaque id and an encrypted-record-like body.
fn doc(i: u64) -> String {
    let id: String = (0..4).map(|k| format!("{:016x}", mix(i * 4 + k))).collect();
    let mut bytes = Vec::with_capacity(BODY_BYTES);
    let mut state = mix(i ^ 0xC0FF_EE00);
    while bytes.len() < BODY_BYTES {
        state = mix(state);
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(BODY_BYTES);
    format!(
        "{{\"_id\":\"{id}\",\"v\":1,\"c\":\"{}\"}}",
        crate::support::base64(&bytes)
    )
}

/// Fills the (empty) database with `n` documents through `_bulk_docs`, 1,000 per request.
fn fill(server: &PouchServer, n: u64) -> Duration {
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + 1000).min(n);
        let docs: Vec<String> = (i..end).map(doc).collect();
        let body = format!("{{\"docs\":[{}]}}", docs.join(","));
        let (status, answer) = server
            .request(
                "POST",
                &format!("/{DB}/_bulk_docs"),
                Some(&body),
                Some((ADMIN, ADMIN_PASSWORD)),
            )
            .expect("_bulk_docs");
        assert_eq!(status, 201, "filling {i}..{end}: {answer}");
        assert!(
            !answer.contains("\"error\""),
            "filling {i}..{end}: {answer}"
        );
        i = end;
    }
    let info = server.db_info();
    assert_eq!(info["doc_count"], n, "{info}");
    t.elapsed()
}

/// PouchDB's replicator on a fresh device: wall time (ms) of `PouchDB.replicate(remote,
/// local)` until it resolves, checked by the local doc count.
async fn pouchdb_initial_sync(server: &PouchServer, n: u64, js: &str, batch: Option<u64>) -> f64 {
    let d = Device::start("pouchdb").await;
    // A page on the app's origin that does not start the app (no wasm competing for the
    // CPU): the relay's health endpoint. CORS to the server is then the app's.
    d.open("v1/health").await;
    let loaded = d
        .execute_async(
            "const [js, done] = arguments;
             const s = document.createElement('script');
             s.textContent = js;
             (document.head || document.documentElement).appendChild(s);
             done(typeof PouchDB === 'function' ? PouchDB.version : 'missing');",
            vec![js.into()],
        )
        .await;
    assert!(
        loaded.as_str().is_some_and(|v| v != "missing"),
        "pouchdb.min.js did not load: {loaded}"
    );
    d.set_script_timeout(Duration::from_secs(1800)).await;
    let r = d
        .execute_async(
            "const [url, user, password, batch, done] = arguments;
             const remote = new PouchDB(url, {auth: {username: user, password}, skip_setup: true});
             const local = new PouchDB('bench-initial-sync');
             const opts = batch === null ? {} : {batch_size: batch};
             const t0 = performance.now();
             PouchDB.replicate(remote, local, opts).then(info => {
               const ms = performance.now() - t0;
               return local.info().then(i => done({
                 ms, docs_written: info.docs_written, doc_count: i.doc_count,
                 adapter: local.adapter, status: info.status, version: PouchDB.version
               }));
             }).catch(e => done({error: String((e && (e.message || e.name)) || e)}));",
            vec![
                server.db_url().into(),
                USER.into(),
                PASSWORD.into(),
                batch.map_or(serde_json::Value::Null, serde_json::Value::from),
            ],
        )
        .await;
    assert!(r.get("error").is_none(), "PouchDB replication failed: {r}");
    assert_eq!(r["doc_count"], n, "PouchDB did not get every document: {r}");
    assert_eq!(r["adapter"], "idb", "{r}");
    eprintln!("pouchdb run: {r}");
    r["ms"].as_f64().expect("ms")
}

// praxisbote's own replicator is measured by `tests/bench_sync.rs` (headless Chromium too),
// which `cargo xtask bench sync` runs right before this test, on a server it fills with the
// app's own sealed person documents of the same size: its `BENCH praxisbote` lines (push,
// join with decrypting and storing, replication alone) are the other side of this table.
// Driving the app's replicator from here would need a bench hook in the shipped app.
async fn praxisbote_initial_sync(_server: &PouchServer, _n: u64) -> Option<f64> {
    None
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn bench_sync_initial() {
    let js_path = std::env::var("PB_POUCHDB_JS").expect(
        "PB_POUCHDB_JS is not set: run the benchmark with `cargo xtask bench sync`, which installs PouchDB",
    );
    let js = std::fs::read_to_string(&js_path)
        .unwrap_or_else(|e| panic!("{js_path}: {e} (cargo xtask bench sync installs it)"));
    let sizes: Vec<u64> = std::env::var("BENCH_SYNC_N")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("BENCH_SYNC_N: numbers, comma-separated")
        })
        .collect();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1)
        .max(1);
    let batch: Option<u64> = std::env::var("BENCH_SYNC_POUCH_BATCH")
        .ok()
        .and_then(|b| b.parse().ok());
    let mut rows = Vec::new();
    for n in sizes {
        // One server per size, filled once: every side pulls the same documents.
        let server = PouchServer::start();
        let filled = fill(&server, n);
        let sample = doc(0);
        eprintln!(
            "filled {n} documents ({} bytes each, e.g. {}…) in {:.1} s",
            sample.len(),
            &sample[..90],
            filled.as_secs_f64()
        );
        let mut pouch = Vec::new();
        for _ in 0..runs {
            pouch.push(pouchdb_initial_sync(&server, n, &js, batch).await);
        }
        let mut ours = Vec::new();
        for _ in 0..runs {
            if let Some(ms) = praxisbote_initial_sync(&server, n).await {
                ours.push(ms);
            }
        }
        let label = format!("initial sync {n} docs");
        let p_min = pouch.iter().copied().fold(f64::INFINITY, f64::min);
        let p_med = median(&mut pouch);
        println!(
            "BENCH\tpouchdb\t{label}\t{p_med:.1}\t{p_min:.1}\t{runs}\tdocs={n} batch_size={}",
            batch.map_or("100 (default)".to_string(), |b| b.to_string())
        );
        let ours_med = if ours.is_empty() {
            None
        } else {
            let min = ours.iter().copied().fold(f64::INFINITY, f64::min);
            let med = median(&mut ours);
            println!("BENCH\tpraxisbote\t{label}\t{med:.1}\t{min:.1}\t{runs}\tdocs={n}");
            Some(med)
        };
        rows.push((n, p_med, ours_med));
    }
    println!(
        "\n### Initial sync from pouchdb-server (loopback) into a fresh headless Chromium profile"
    );
    println!("| documents | PouchDB (idb adapter) | docs/s | praxisbote | docs/s | praxisbote / PouchDB throughput |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for (n, p, o) in rows {
        let p_rate = n as f64 / (p / 1000.0);
        match o {
            Some(o) => println!(
                "| {n} | {:.2} s | {p_rate:.0} | {:.2} s | {:.0} | {:.2}× |",
                p / 1000.0,
                o / 1000.0,
                n as f64 / (o / 1000.0),
                p / o
            ),
            None => println!(
                "| {n} | {:.2} s | {p_rate:.0} | see `BENCH praxisbote` above (tests/bench_sync.rs) | – | – |",
                p / 1000.0
            ),
        }
    }
}
