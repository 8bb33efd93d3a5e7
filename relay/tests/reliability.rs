//! Reliability against real processes and a real SMTP server (aiosmtpd): ambiguous SMTP
//! outcomes, SIGTERM during slow delivery, a second instance on the same data directory, and
//! a completer whose writes fail (full disk) while the relay keeps running.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use praxisbote_core::wire::*;

async fn statuses(base: &str, ids: &[String]) -> Vec<MessageStatus> {
    let r: StatusResponse = reqwest::Client::new()
        .get(format!("{base}/v1/messages?ids={}", ids.join(",")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r.messages
}

fn start(tmp: &std::path::Path, cfg_text: &str) -> Relay {
    let cfg = tmp.join("relay.toml");
    write_private(&cfg, cfg_text);
    let data = tmp.join("data");
    Relay::start(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
        &tmp.join("relay.log"),
    )
}

/// Regression: a connection lost after the body (server stored the message, then dropped the
/// connection) and a server stalling past the timeout were retried as transient, so the
/// recipient got the message twice without any crash. Now: recorded as `ambiguous`, one copy;
/// with `retry_ambiguous = true` at most one more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_smtp_outcomes_are_not_sent_twice() {
    for (retry, copies_each) in [(false, 1usize), (true, 2)] {
        let tmp = tempfile::tempdir().unwrap();
        let mbox = tmp.path().join("received");
        let (_smtp, port) = aiosmtpd_raw(&mbox);
        let head = if retry {
            "retry_ambiguous = true\n"
        } else {
            ""
        };
        let relay = start(
            tmp.path(),
            &format!("{head}{}", smtp_config(port, "timeout_seconds = 2")),
        );
        let batch = vec![
            reminder("ok", "patient", 0),
            reminder("drop", "drop", 1),
            reminder("stall", "stall", 2),
        ];
        assert!(post_batch(&relay.base, &batch).await);
        let ids: Vec<String> = batch.iter().map(|m| m.client_id.clone()).collect();
        let t = Instant::now();
        let st = loop {
            let st = statuses(&relay.base, &ids).await;
            if st.iter().all(|m| m.state.is_final()) {
                break st;
            }
            assert!(t.elapsed() < Duration::from_secs(40), "{st:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let copies = copies(&mbox);
        eprintln!("retry_ambiguous = {retry}: copies {copies:?}");
        assert_eq!(st[0].state, DeliveryState::Sent);
        assert_eq!(copies["ok-00000"], 1);
        for (s, id) in st[1..].iter().zip(["drop-00001", "stall-00002"]) {
            assert_eq!(s.state, DeliveryState::Ambiguous, "{s:?}");
            let reason = s.reason.as_deref().unwrap();
            assert!(reason.contains("unklar"), "{reason}");
            assert_eq!(copies[id], copies_each, "{id}: {copies:?}");
            assert_eq!(s.attempts as usize, copies_each, "{s:?}");
        }
    }
}

/// SIGTERM while messages go out slowly: workers finish the attempt they hold, claimed but
/// unstarted messages go back to the queue, the completer records everything, exit 0; after
/// the restart every message arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_slow_delivery_then_restart_sends_each_once() {
    const N: usize = 24;
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("received");
    let (_smtp, port) = aiosmtpd_raw(&mbox);
    let cfg = smtp_config(port, "").replace("pool_size = 4", "pool_size = 2");
    let mut relay = start(tmp.path(), &cfg);
    let batch: Vec<OutgoingMessage> = (0..N).map(|i| reminder("term", "slow", i)).collect();
    assert!(post_batch(&relay.base, &batch).await);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let status = relay.terminate(30);
    assert!(status.success(), "{status:?}");
    let db = tmp.path().join("data").join("queue.sqlite");
    let before = copies(&mbox).len();
    assert!(
        before > 0 && before < N,
        "SIGTERM must hit mid-delivery: {before}"
    );
    assert_eq!(
        rows_in(&db, "sending"),
        0,
        "nothing left in flight after a clean stop"
    );
    assert_eq!(
        rows_in(&db, "sent") as usize,
        before,
        "every delivery recorded"
    );
    let relay = start(tmp.path(), &cfg);
    wait_idle(&relay.base, 60).await;
    let copies = copies(&mbox);
    assert_eq!(copies.len(), N);
    assert!(copies.values().all(|n| *n == 1), "duplicates: {copies:?}");
    assert_eq!(rows_in(&db, "sent") as usize, N);
}

/// Regression: a second relay on the same data directory reset the first one's `sending` rows
/// (and both delivered them). Now it refuses to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_instance_on_the_same_data_dir_refuses_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("received");
    let (_smtp, port) = aiosmtpd_raw(&mbox);
    let cfg_text = smtp_config(port, "");
    let relay = start(tmp.path(), &cfg_text);
    let cfg = tmp.path().join("relay.toml");
    let data = tmp.path().join("data");
    let (status, out, err) = run_relay(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!status.success());
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("anderer praxisbote-relay"), "{err}");
    // The first one is unaffected.
    assert!(post_batch(&relay.base, &[reminder("one", "patient", 0)]).await);
    wait_idle(&relay.base, 20).await;
    assert_eq!(copies(&mbox).get("one-00000"), Some(&1));
}

/// Regression: when the completer could not write (full disk) it dropped the outcomes and the
/// rows stayed `sending` until a restart (then were sent again). Now it keeps them and
/// retries; once there is space again the rows leave `sending` — without a restart, each
/// message sent once.
///
/// The data directory is a 4 MiB tmpfs mounted in a private mount namespace
/// (`unshare -rm`, works without root); the test fills it through `/proc/PID/root`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completer_write_failure_recovers_without_restart() {
    const N: usize = 5;
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("received");
    let (_smtp, port) = aiosmtpd_raw(&mbox);
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let cfg = tmp.path().join("relay.toml");
    write_private(
        &cfg,
        &smtp_config(port, "").replace("pool_size = 4", "pool_size = 1"),
    );
    let log = tmp.path().join("relay.log");
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-rm",
        "sh",
        "-c",
        "mount -t tmpfs -o size=4m tmpfs \"$0\" && exec \"$@\"",
    ])
    .arg(&mnt)
    .arg(RELAY_BIN)
    .args(["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"])
    .arg("--data-dir")
    .arg(mnt.join("data"));
    let mut relay = Relay::spawn(cmd, &log);
    let pid = relay.pid();
    let inside = std::path::PathBuf::from(format!("/proc/{pid}/root{}", mnt.display()));
    let db = inside.join("data").join("queue.sqlite");
    assert!(db.exists(), "queue on the tmpfs: {}", db.display());
    assert!(
        !mnt.join("data").exists(),
        "the tmpfs is private to the relay's mount namespace"
    );

    let batch: Vec<OutgoingMessage> = (0..N).map(|i| reminder("full", "slow", i)).collect();
    let ids: Vec<String> = batch.iter().map(|m| m.client_id.clone()).collect();
    // SQLite resolves /proc/PID/root to this namespace's "/", so states come from the API.
    let count = |st: &[MessageStatus], s: DeliveryState| st.iter().filter(|m| m.state == s).count();
    assert!(post_batch(&relay.base, &batch).await);
    let t = Instant::now();
    while count(&statuses(&relay.base, &ids).await, DeliveryState::Sending) < N {
        assert!(t.elapsed() < Duration::from_secs(10), "not claimed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Fill the file system while the first (slow, 0.3 s) delivery is under way.
    let filler = inside.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.flush();
    }
    let t = Instant::now();
    let failed_write = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("nicht gespeichert") {
            break text;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "the completer never failed: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!copies(&mbox).is_empty(), "{failed_write}");
    let st = statuses(&relay.base, &ids).await;
    assert_eq!(
        count(&st, DeliveryState::Sent),
        0,
        "nothing could be recorded yet"
    );
    assert_eq!(count(&st, DeliveryState::Sending), N);
    tokio::time::sleep(Duration::from_secs(1)).await;
    std::fs::remove_file(&filler).unwrap();
    // Same process, no restart: the kept outcomes are written now.
    wait_idle(&relay.base, 30).await;
    assert_eq!(relay.pid(), pid);
    assert!(
        relay.proc.0.try_wait().unwrap().is_none(),
        "still the same process"
    );
    let st = statuses(&relay.base, &ids).await;
    assert_eq!(count(&st, DeliveryState::Sent), N, "{st:?}");
    let copies = copies(&mbox);
    assert_eq!(copies.len(), N);
    assert!(copies.values().all(|n| *n == 1), "{copies:?}");
}
