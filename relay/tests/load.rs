//! Load: memory with four concurrent 64 MiB POSTs, and `/v1/health` latency under a request
//! flood while batches are inserted. Real relay binary, real HTTP, postfix `smtp-sink` as
//! the SMTP server.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use praxisbote_core::wire::*;

/// RSS bound stated for four concurrent POSTs of 64 MiB (issue goal: ≤ 400 MB).
const RSS_BOUND_MB: u64 = 400;

/// The two tests measure; they must not run at the same time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn smtp_sink() -> (Proc, u16) {
    let port = free_port();
    let c = std::process::Command::new("/usr/sbin/smtp-sink")
        .args(["-u", "nobody", &format!("127.0.0.1:{port}"), "1000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("postfix smtp-sink");
    wait_port(port);
    (Proc(c), port)
}

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)
                .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap())
        })
        .unwrap_or(0)
}

fn start(tmp: &std::path::Path, port: u16, extra_top: &str) -> Relay {
    let cfg = tmp.join("relay.toml");
    write_private(
        &cfg,
        &format!(
            "{extra_top}\nrequests_per_minute = 1000000\nmessages_per_minute = 10000000\ndaily_quota = 10000000\n{}",
            smtp_config(port, "")
        ),
    );
    Relay::start(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            tmp.join("data").to_str().unwrap(),
        ],
        &[],
        &tmp.join("relay.log"),
    )
}

/// One POST body just under 64 MiB: 1,000 letters with a PDF attachment each (the shape the
/// app sends: a batch of e-mails with the letter attached).
fn big_batch(tag: usize) -> Vec<u8> {
    let pdf = vec![b'%'; 47_000];
    let data = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let messages = (0..MAX_BATCH)
        .map(|i| {
            let mut m = reminder(&format!("big{tag}"), "patient", i);
            m.attachments = vec![Attachment {
                filename: "Brief.pdf".into(),
                content_type: "application/pdf".into(),
                data_base64: data.clone(),
                file: None,
            }];
            m
        })
        .collect();
    let body = serde_json::to_vec(&SubmitRequest { messages }).unwrap();
    assert!(
        body.len() > 60 << 20 && body.len() <= 64 << 20,
        "{}",
        body.len()
    );
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_64_mib_posts_stay_within_the_rss_bound() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let (_sink, port) = smtp_sink();
    let relay = start(tmp.path(), port, "");
    let pid = relay.pid();
    let idle = status_kb(pid, "VmRSS:");
    let bodies: Vec<Vec<u8>> = (0..4).map(big_batch).collect();
    let t = Instant::now();
    let posts = bodies.into_iter().map(|body| {
        let base = relay.base.clone();
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/v1/messages"))
                .bearer_auth(TOKEN)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    for p in futures_join(posts.collect()).await {
        assert_eq!(p, 202);
    }
    let posted = t.elapsed();
    let after_posts = status_kb(pid, "VmHWM:");
    wait_idle(&relay.base, 300).await;
    let peak = status_kb(pid, "VmHWM:");
    eprintln!(
        "4 × 64 MiB POSTs: accepted in {:.1} s; RSS idle {} MB, peak while posting {} MB, peak incl. delivering 4,000 mails {} MB (bound {RSS_BOUND_MB} MB)",
        posted.as_secs_f64(),
        idle / 1024,
        after_posts / 1024,
        peak / 1024
    );
    assert!(
        after_posts / 1024 <= RSS_BOUND_MB,
        "peak RSS while posting {} MB > {RSS_BOUND_MB} MB",
        after_posts / 1024
    );
    assert!(peak / 1024 <= RSS_BOUND_MB, "peak RSS {} MB", peak / 1024);
}

async fn futures_join<T: Send + 'static>(hs: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in hs {
        out.push(h.await.unwrap());
    }
    out
}

/// `/v1/health` stays fast while eight clients flood the relay with status queries and a
/// ninth posts 1,000-message batches (each one synchronous=FULL transaction): it reads
/// through its own connection and never waits for the writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_stays_fast_under_a_request_flood_while_batches_are_inserted() {
    let _serial = SERIAL.lock().await;
    const HEALTH_P99_MS: f64 = 300.0;
    let tmp = tempfile::tempdir().unwrap();
    let (_sink, port) = smtp_sink();
    let relay = start(tmp.path(), port, "");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    let ids: String = (0..100)
        .map(|i| format!("flood0-{i:05}"))
        .collect::<Vec<_>>()
        .join(",");
    for _ in 0..8 {
        let (base, stop, ids) = (relay.base.clone(), stop.clone(), ids.clone());
        load.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = c
                    .get(format!("{base}/v1/messages?ids={ids}"))
                    .bearer_auth(TOKEN)
                    .send()
                    .await;
                n += 1;
            }
            n
        }));
    }
    let (base, stop2) = (relay.base.clone(), stop.clone());
    let poster = tokio::spawn(async move {
        let mut batches = 0u64;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let batch: Vec<OutgoingMessage> = (0..MAX_BATCH)
                .map(|i| reminder(&format!("flood{batches}"), "patient", i))
                .collect();
            assert!(post_batch(&base, &batch).await);
            batches += 1;
        }
        batches
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let c = reqwest::Client::new();
    let mut lat = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(6) {
        let s = Instant::now();
        let r = c
            .get(format!("{}/v1/health", relay.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
        lat.push(s.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut queries = 0;
    for l in load {
        queries += l.await.unwrap();
    }
    let batches = poster.await.unwrap();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    eprintln!(
        "health under flood: {} samples, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; meanwhile {queries} status queries (100 ids) and {batches} batches of 1,000 inserted",
        lat.len(),
        pct(0.5),
        pct(0.99),
        lat[lat.len() - 1]
    );
    assert!(batches >= 2, "batches were inserted meanwhile");
    assert!(pct(0.99) <= HEALTH_P99_MS, "p99 {:.1} ms", pct(0.99));
}
