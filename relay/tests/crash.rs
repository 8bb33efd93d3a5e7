//! Crash test: `kill -9` the relay repeatedly during a 2,000-message batch, restart it on the
//! same data directory, and prove that no message is lost and that duplicates are bounded by
//! the messages in flight (`sending`) at each kill.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use praxisbote_core::domain::{Channel, Purpose};
use praxisbote_core::wire::*;

fn msg(i: usize) -> OutgoingMessage {
    OutgoingMessage {
        client_id: format!("crash-{i:05}"),
        channel: Channel::Email,
        purpose: Purpose::AppointmentReminder,
        recipient: format!("patient{i}@example.org"),
        recipient_name: None,
        subject: format!("Terminerinnerung {i}"),
        text: format!("Guten Tag, Ihr Termin Nr. {i} ist morgen."),
        html: None,
        attachment: None,
        sender: None,
        person_id: None,
    }
}

async fn post(base: &str, batch: &[OutgoingMessage]) -> reqwest::Result<reqwest::StatusCode> {
    reqwest::Client::new()
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&SubmitRequest {
            messages: batch.to_vec(),
        })
        .send()
        .await
        .map(|r| r.status())
}

fn sending_rows(db: &std::path::Path) -> u64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(
        "SELECT COUNT(*) FROM messages WHERE state='sending'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_batch_loses_nothing() {
    const N: usize = 2000;
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("received");
    let (_smtp, port) = aiosmtpd_raw(&mbox);
    let cfg = tmp.path().join("relay.toml");
    std::fs::write(&cfg, smtp_config(port, "")).unwrap();
    let data = tmp.path().join("data");
    let db = data.join("queue.sqlite");
    let log = tmp.path().join("relay.log");
    let args = [
        "--config",
        cfg.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let all: Vec<OutgoingMessage> = (0..N).map(msg).collect();
    let (first, second) = all.split_at(1000);

    let mut relay = Relay::start(&args, &[], &log);
    assert_eq!(post(&relay.base, first).await.unwrap(), 202);
    // Kill #1 while the second request may be in transit.
    let base = relay.base.clone();
    let second_owned = second.to_vec();
    let pending_post = tokio::spawn(async move { post(&base, &second_owned).await });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut in_flight_total = 0;
    let mut kills = 0;
    relay.kill9();
    kills += 1;
    in_flight_total += sending_rows(&db);
    let _ = pending_post.await; // may have failed; the client simply resends (idempotent)

    relay = Relay::start(&args, &[], &log);
    assert_eq!(post(&relay.base, second).await.unwrap(), 202);
    // Kills #2.. during delivery.
    for delay in [250u64, 400, 300] {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        relay.kill9();
        kills += 1;
        in_flight_total += sending_rows(&db);
        relay = Relay::start(&args, &[], &log);
    }
    // A replay of both batches after the crashes is answered from the queue (202, no new work).
    assert_eq!(post(&relay.base, first).await.unwrap(), 202);

    let t = Instant::now();
    loop {
        let h: Health = reqwest::get(format!("{}/v1/health", relay.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if h.pending == 0 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "still pending: {}",
            h.pending
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the SMTP server finish writing.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut seen: HashMap<String, usize> = HashMap::new();
    for f in maildir_files(&mbox) {
        let raw = std::fs::read_to_string(&f).unwrap();
        let id = raw
            .split("\r\n")
            .find_map(|l| l.strip_prefix("Message-ID: <"))
            .and_then(|l| l.split('@').next())
            .unwrap_or_else(|| panic!("no Message-ID in {}", f.display()))
            .to_owned();
        *seen.entry(id).or_default() += 1;
    }
    let missing: Vec<String> = (0..N)
        .map(|i| msg(i).client_id)
        .filter(|id| !seen.contains_key(id))
        .collect();
    let received: usize = seen.values().sum();
    let duplicates = received - seen.len();
    eprintln!(
        "crash test: {kills} kills, {received} received, {} unique, {duplicates} duplicates, {in_flight_total} in flight at kills",
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

    let c = rusqlite::Connection::open(&db).unwrap();
    let sent: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE state='sent'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sent as usize, N);
}
