//! Crash tests against the real binary and a real SMTP server (aiosmtpd):
//! - deterministic crash points (`PRAXISBOTE_RELAY_CRASH_AT`): for each, the exact number of
//!   duplicates and no loss;
//! - `kill -9` at random moments during a 2,000-message batch: no loss, duplicates bounded by
//!   the rows in flight at each kill.
//!
//! A batch is posted again only when its POST got no 202: a client that was told "accepted"
//! never helps the relay by re-sending.

mod common;

use std::time::{Duration, Instant};

use common::*;
use praxisbote_core::wire::*;

fn msg(prefix: &str, i: usize) -> OutgoingMessage {
    reminder(prefix, "patient", i)
}

async fn post(base: &str, batch: &[OutgoingMessage]) -> bool {
    post_batch(base, batch).await
}

struct Run {
    tmp: tempfile::TempDir,
    _smtp: Proc,
    cfg: std::path::PathBuf,
}

impl Run {
    fn new(pool: u32) -> Run {
        let tmp = tempfile::tempdir().unwrap();
        let (smtp, port) = aiosmtpd_raw(&tmp.path().join("received"));
        let cfg = tmp.path().join("relay.toml");
        write_private(
            &cfg,
            &smtp_config(port, "").replace("pool_size = 4", &format!("pool_size = {pool}")),
        );
        Run {
            tmp,
            _smtp: smtp,
            cfg,
        }
    }

    fn db(&self) -> std::path::PathBuf {
        self.tmp.path().join("data").join("queue.sqlite")
    }

    fn start(&self, env: &[(&str, &str)]) -> Relay {
        self.try_start(env).expect("relay started")
    }

    fn try_start(&self, env: &[(&str, &str)]) -> Option<Relay> {
        let data = self.tmp.path().join("data");
        Relay::try_start(
            &[
                "--config",
                self.cfg.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                data.to_str().unwrap(),
            ],
            env,
            &self.tmp.path().join("relay.log"),
        )
    }

    fn copies(&self) -> std::collections::BTreeMap<String, usize> {
        copies(&self.tmp.path().join("received"))
    }
}

/// For each crash point: the process aborts there; after a restart every message arrives,
/// with exactly the expected number of duplicates (pool of 1, so one attempt is in flight):
/// `after_commit` 0 (the client was not told "accepted" and posts again: idempotent),
/// `after_claim` 0 (nothing attempted yet), `after_send` 1 (the attempt that succeeded but
/// was not recorded is repeated).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_points_lose_nothing_and_duplicate_exactly_the_attempt_in_flight() {
    const N: usize = 20;
    let mut matrix = Vec::new();
    for (point, want_dups) in [
        ("after_commit", 0usize),
        ("after_claim", 0),
        ("after_send", 1),
    ] {
        let run = Run::new(1);
        let prefix = point.replace('_', "-");
        let batch: Vec<OutgoingMessage> = (0..N).map(|i| msg(&prefix, i)).collect();
        let mut relay = run.start(&[("PRAXISBOTE_RELAY_CRASH_AT", point)]);
        let acknowledged = post(&relay.base, &batch).await;
        let status = relay.wait_exit(30);
        assert!(!status.success(), "{point}: the relay must have aborted");
        let stored = rows_in(&run.db(), "queued")
            + rows_in(&run.db(), "sending")
            + rows_in(&run.db(), "sent");
        assert_eq!(
            stored, N as u64,
            "{point}: the committed batch survives the crash"
        );
        let in_flight = rows_in(&run.db(), "sending");
        let relay = run.start(&[]);
        if !acknowledged {
            assert!(post(&relay.base, &batch).await, "{point}: repost");
        }
        wait_idle(&relay.base, 60).await;
        let copies = run.copies();
        let missing: Vec<_> = batch
            .iter()
            .filter(|m| !copies.contains_key(&m.client_id))
            .map(|m| m.client_id.clone())
            .collect();
        assert!(
            missing.is_empty(),
            "{point}: lost {missing:?}; sent {} failed {} ambiguous {}; log {}",
            rows_in(&run.db(), "sent"),
            rows_in(&run.db(), "failed"),
            rows_in(&run.db(), "ambiguous"),
            std::fs::read_to_string(run.tmp.path().join("relay.log")).unwrap_or_default()
        );
        let dups: usize = copies.values().map(|n| n - 1).sum();
        assert_eq!(copies.len(), N, "{point}");
        assert_eq!(dups, want_dups, "{point}: duplicates {copies:?}");
        assert!(dups as u64 <= in_flight.max(1), "{point}");
        assert_eq!(rows_in(&run.db(), "sent"), N as u64, "{point}");
        matrix.push(format!(
            "{point}: acknowledged before crash {acknowledged}, in flight {in_flight}, lost 0, duplicates {dups}"
        ));
    }
    eprintln!("crash-point matrix:\n  {}", matrix.join("\n  "));
}

/// Regression: a message that crashes the relay every time it is attempted looped forever
/// (recovery ignored `max_attempts`). Now it ends `failed` after `max_attempts` (3) crashes,
/// and the messages claimed together with it are delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_message_ends_failed_after_max_attempts() {
    let run = Run::new(1);
    let batch: Vec<OutgoingMessage> = (0..3).map(|i| msg("poison", i)).collect();
    let poison = [("PRAXISBOTE_RELAY_CRASH_AT", "on_message:poison-00000")];
    let mut relay = run.start(&poison);
    let mut acknowledged = post(&relay.base, &batch).await;
    let mut crashes = 0;
    let t = Instant::now();
    loop {
        if relay.proc.0.try_wait().unwrap().is_some() {
            crashes += 1;
            assert!(crashes <= 3, "more crashes than max_attempts");
            // The restart itself may hit the poison before it listens.
            relay = loop {
                match run.try_start(&poison) {
                    Some(r) => break r,
                    None => crashes += 1,
                }
                assert!(crashes <= 3, "more crashes than max_attempts");
            };
            if !acknowledged {
                acknowledged = post(&relay.base, &batch).await;
            }
            continue;
        }
        let pending = match reqwest::get(format!("{}/v1/health", relay.base)).await {
            Ok(r) => r.json::<Health>().await.map(|h| h.pending).unwrap_or(1),
            Err(_) => 1,
        };
        if pending == 0 && acknowledged {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no end: {crashes} crashes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(crashes, 3, "one crash per attempt of the poison message");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let copies = run.copies();
    assert!(!copies.contains_key("poison-00000"));
    assert_eq!(copies.get("poison-00001"), Some(&1));
    assert_eq!(copies.get("poison-00002"), Some(&1));
    let r: StatusResponse = reqwest::Client::new()
        .get(format!("{}/v1/messages?ids=poison-00000", relay.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r.messages[0].state, DeliveryState::Failed);
    assert!(
        r.messages[0].reason.as_deref().unwrap().contains("brach"),
        "{:?}",
        r.messages[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_batch_loses_nothing() {
    const N: usize = 2000;
    let run = Run::new(4);
    let db = run.db();
    let all: Vec<OutgoingMessage> = (0..N).map(|i| msg("crash", i)).collect();
    let (first, second) = all.split_at(1000);

    let mut relay = run.start(&[]);
    assert!(post(&relay.base, first).await);
    // Kill #1 while the second request may be in transit.
    let base = relay.base.clone();
    let second_owned = second.to_vec();
    let pending_post = tokio::spawn(async move { post(&base, &second_owned).await });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut in_flight_total = 0;
    let mut kills = 0;
    relay.kill9();
    kills += 1;
    in_flight_total += rows_in(&db, "sending");
    let second_acknowledged = pending_post.await.unwrap();

    relay = run.start(&[]);
    if !second_acknowledged {
        // Not acknowledged: the client posts it again (idempotent).
        assert!(post(&relay.base, second).await);
    }
    // Kills #2.. during delivery.
    for delay in [250u64, 400, 300] {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        relay.kill9();
        kills += 1;
        in_flight_total += rows_in(&db, "sending");
        relay = run.start(&[]);
    }
    wait_idle(&relay.base, 120).await;

    let seen = run.copies();
    let missing: Vec<String> = all
        .iter()
        .map(|m| m.client_id.clone())
        .filter(|id| !seen.contains_key(id))
        .collect();
    let received: usize = seen.values().sum();
    let duplicates = received - seen.len();
    eprintln!(
        "kill -9 test: {kills} kills, {received} received, {} unique, {duplicates} duplicates, {in_flight_total} in flight at kills, second batch acknowledged before kill: {second_acknowledged}",
        seen.len()
    );
    assert!(in_flight_total > 0, "the kills must hit messages in flight");
    assert!(
        missing.is_empty(),
        "lost {} messages, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(seen.len(), N);
    assert!(
        duplicates as u64 <= in_flight_total,
        "{duplicates} duplicates > {in_flight_total} in flight"
    );
    assert_eq!(rows_in(&db, "sent") as usize, N);
}
