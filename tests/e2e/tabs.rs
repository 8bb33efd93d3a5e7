//! Several tabs and store replacements against the real relay and aiosmtpd (the `World` of
//! `send.rs`): one tab of the browser runs the transmit loop (Web Locks), the others show
//! its progress read from the store (announced over `BroadcastChannel`) and take over when
//! it closes; a store replacement while sending never brings old batches back.

use crate::send::{assert_exactly_once, configure_relay, seed_outbox, seeded_batch, World};
use crate::support::{numbers, Session};
use std::time::{Duration, Instant};

/// The Web Locks of the page: (held, pending) per lock name, as `navigator.locks.query()`
/// reports them for the whole browser profile.
async fn locks(s: &Session, name: &str) -> (usize, usize) {
    let v = s
        .execute_async(
            r#"const [name, done] = arguments;
            navigator.locks.query().then(q => done([
              q.held.filter(l => l.name === name).length,
              q.pending.filter(l => l.name === name).length]));"#,
            vec![name.into()],
        )
        .await;
    (
        v[0].as_u64().unwrap_or(99) as usize,
        v[1].as_u64().unwrap_or(99) as usize,
    )
}

/// The finished count of the batch progress ("12 von 200 abgeschlossen · …").
async fn finished(s: &Session) -> usize {
    let text = s.wait_status_matching("abgeschlossen").await;
    numbers(&text).first().copied().unwrap_or(0)
}

/// The transmit loop's state line of the batch progress.
async fn link_line(s: &Session) -> String {
    s.text_by_label("Verbindung").await
}

/// Two windows of one browser profile (two tabs of the app), one batch: only the first tab
/// transmits, the second shows the progress as it advances and says that another tab sends;
/// when the first tab is closed the second takes the loop over and finishes the batch.
/// Every message arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_one_transmit_loop_each_message_once_and_the_other_tab_shows_progress() {
    const N: usize = 200;
    // 10 e-mails per second at the SMTP account: the batch takes about 20 s.
    let w = World::start("tabs", Some(10));
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (batch, messages) = seeded_batch(N);
    seed_outbox(&s, &batch, &messages).await;
    // Tab A opens the Protokoll: it reads the batch and its loop sends.
    s.open("#/protokoll").await;
    s.click_button("Details").await;
    let t = Instant::now();
    while w.mails().len() < 10 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "sending did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Tab B: a second window of the same profile.
    let (tab_b, tab_a) = s.new_window().await;
    s.open("#/protokoll").await;
    s.click_button("Details").await;
    // One loop runs (tab A's); tab B waits for the lock and says that another tab sends.
    assert_eq!(locks(&s, "praxisbote-transmit").await, (1, 1));
    s.wait_until(
        "tab B to name the sending tab",
        "return [...document.querySelectorAll('[aria-label=\"Verbindung\"]')]\
         .some(e => e.textContent.includes('in einem anderen Tab'));",
    )
    .await;
    // Tab B's progress advances while tab A sends (read from the store on announcements).
    let first = finished(&s).await;
    let t = Instant::now();
    loop {
        let now = finished(&s).await;
        if now > first {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "tab B's progress stays at {now}: {}",
            link_line(&s).await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let delivered = w.mails().len();
    assert!(
        delivered < N,
        "too late to close tab A: {delivered} of {N} delivered"
    );

    // Tab A goes away: tab B gets the lock and finishes the batch itself.
    s.switch_to(&tab_a).await;
    s.close_window().await;
    s.switch_to(&tab_b).await;
    s.wait_status_matching(&format!("{N} von {N} abgeschlossen"))
        .await;
    assert_eq!(locks(&s, "praxisbote-transmit").await, (1, 0));
    let line = link_line(&s).await;
    assert!(!line.contains("anderen Tab"), "tab B sends now: {line}");
    assert_exactly_once(&w.wait_mails(N, 60), N);
}

/// Counts of the app's `outbox` and `sendlog` object stores, read directly from IndexedDB.
async fn stored_outbox(s: &Session) -> (u64, u64) {
    let v = s
        .execute_async(
            r#"const done = arguments[0];
            const open = indexedDB.open('praxisbote');
            open.onerror = () => done([-1, -1]);
            open.onsuccess = () => {
              const db = open.result;
              const tx = db.transaction(['outbox', 'sendlog'], 'readonly');
              const a = tx.objectStore('outbox').count();
              const b = tx.objectStore('sendlog').count();
              tx.oncomplete = () => { db.close(); done([a.result, b.result]); };
            };"#,
            vec![],
        )
        .await;
    (
        v[0].as_u64().unwrap_or(u64::MAX),
        v[1].as_u64().unwrap_or(u64::MAX),
    )
}

/// "Demodaten entfernen" while a batch is being sent (the relay still delivers and the
/// loop still polls): the emptied store stays empty — no old batch or message is written
/// back — and the loop keeps working: a new batch afterwards is sent exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_removal_mid_send_writes_no_old_batch_back_and_sending_goes_on() {
    const N: usize = 300;
    let w = World::start("replace", Some(20));
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (batch, messages) = seeded_batch(N);
    seed_outbox(&s, &batch, &messages).await;
    s.open("#/protokoll").await;
    let t = Instant::now();
    while w.mails().len() < 20 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "sending did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    s.click_button("Demodaten entfernen").await;
    s.click_button("Endgültig entfernen").await;
    // The emptied store is a real practice now: the passphrase set-up shows (issue 17).
    s.wait_text("Passphrase festlegen").await;
    assert!(
        w.mails().len() < N,
        "the relay had delivered everything already"
    );
    // While the relay delivers the rest, the loop would poll and write answers back if it
    // kept what it read before the removal.
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(8) {
        assert_eq!(
            stored_outbox(&s).await,
            (0, 0),
            "old outbox data written back after the store was emptied"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    // A new batch, seeded while the store is still unencrypted (rows written behind the
    // app's back would be set aside as "not encrypted" later); the passphrase set-up then
    // encrypts it with everything else.
    let (mut batch, mut messages) = seeded_batch(5);
    batch.id = "after-removal".into();
    for m in &mut messages {
        m.batch_id = batch.id.clone();
        m.id = m.id.replacen("00000000", "11111111", 1);
    }
    seed_outbox(&s, &batch, &messages).await;
    crate::lock::set_up_passphrase(&s).await;
    // The store is empty, the relay settings too: set them again, and the batch is sent.
    s.open_settings().await;
    s.fill_by_label("Zugangsschlüssel", crate::send::TOKEN)
        .await;
    s.click_button("Relay speichern").await;
    s.wait_status_matching("Relay-Einstellungen gespeichert")
        .await;
    s.open("#/protokoll").await;
    s.click_button("Details").await;
    s.wait_status_matching("5 von 5 abgeschlossen").await;
    // The relay may still be delivering old messages: wait for the new ones.
    let new = |mails: &[crate::send::Mail]| {
        mails
            .iter()
            .filter(|m| m.header("Message-ID").starts_with("<11111111-"))
            .count()
    };
    let t = Instant::now();
    while new(&w.mails()) < 5 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        new(&w.mails()),
        5,
        "each message of the new batch exactly once"
    );
    assert_eq!(stored_outbox(&s).await, (5, 1));
}
