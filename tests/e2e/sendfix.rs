//! Issue 7, remaining gaps: pause / resume / cancel of a running send against the real relay
//! and aiosmtpd (the world and helpers of `send.rs`).

use crate::send::{
    assert_exactly_once, configure_relay, log_rows, seed_outbox, seeded_batch, World, TOKEN,
};
use crate::support::Session;
use praxisbote::wire::{OutgoingMessage, SubmitRequest};
use std::time::{Duration, Instant};

/// The text of the progress line of the open batch ("… von … abgeschlossen · …").
async fn progress(s: &Session) -> String {
    s.text_by_label("Versandstand").await
}

/// The batch's own connection line ("Verbindung" inside the progress block; the Protokoll
/// page has a general one above it).
async fn batch_link(s: &Session) -> String {
    s.script(
        "const e = document.querySelector(\".batch-progress [aria-label='Verbindung']\"); \
         return e ? e.textContent.trim() : '';",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Waits until the batch's connection line says exactly `text`.
async fn wait_batch_link(s: &Session, text: &str) {
    let t = Instant::now();
    loop {
        let now = batch_link(s).await;
        if now == text {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "Verbindung: {now:?}, expected {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Pause while the relay is unreachable, the relay comes back: nothing is transmitted while
/// paused (Maildir empty, 500 still queued, the UI says "Angehalten."); "Fortsetzen" sends
/// all 500, each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_send_transmits_nothing_and_resume_sends_each_exactly_once() {
    const N: usize = 500;
    let mut w = World::start("pause", Some(100));
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (batch, messages) = seeded_batch(N);
    seed_outbox(&s, &batch, &messages).await;
    w.stop_relay();
    s.click_link("Protokoll").await;
    s.wait_text("Relay nicht erreichbar").await;
    s.click_button("Details").await;
    s.wait_status_matching(&format!("0 von {N} abgeschlossen"))
        .await;
    s.click_button("Pausieren").await;
    wait_batch_link(&s, "Angehalten.").await;
    s.wait_status_matching("Angehalten.").await;

    // The relay answers again; the paused batch stays where it is.
    w.start_relay();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(w.mails().len(), 0, "transmitted while paused");
    let p = progress(&s).await;
    assert!(
        p.contains(&format!("0 von {N} abgeschlossen"))
            && p.contains(&format!("Warteschlange {N}")),
        "{p}"
    );
    assert_eq!(batch_link(&s).await, "Angehalten.");

    s.click_button("Fortsetzen").await;
    s.wait_status_matching("Fortgesetzt.").await;
    s.wait_status_matching(&format!("{N} von {N} abgeschlossen"))
        .await;
    let mails = w.wait_mails(N, 60);
    assert_exactly_once(&mails, N);
    s.wait_text(&format!("gesendet {N}")).await;
}

/// Cancel in the middle of a send: the first 250 of 750 messages reached the relay (their
/// POST's answer was lost, so the app still has them as "maybe transmitted"), the relay is
/// unreachable, "Abbrechen" cancels the 500 never handed over at once and asks the relay
/// about the 250 when it answers again. Only those 250 arrive, each once; the log shows
/// 250 "gesendet" and 500 "abgebrochen".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_send_stops_what_was_not_transmitted() {
    const N: usize = 750;
    const AT_RELAY: usize = 250;
    let mut w = World::start("cancel", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (batch, mut messages) = seeded_batch(N);
    // The first 250 are POSTed to the relay as the app's loop does (same ids).
    let body = SubmitRequest {
        messages: messages[..AT_RELAY]
            .iter()
            .map(|m| OutgoingMessage {
                client_id: m.id.clone(),
                channel: m.channel,
                purpose: m.purpose,
                recipient: m.address.clone(),
                recipient_name: Some(m.recipient_name.clone()),
                subject: m.content.subject.clone().unwrap_or_default(),
                text: m.content.text.clone(),
                html: None,
                attachments: Vec::new(),
                sender: None,
                person_id: Some(m.person_id.clone()),
                optin: None,
            })
            .collect(),
    };
    let status = s
        .execute_async(
            r#"const [url, token, body, done] = arguments;
            fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json',
                        'Authorization': 'Bearer ' + token}, body})
              .then(r => done(r.status), e => done(String(e)));"#,
            vec![
                serde_json::json!(format!("{}/v1/messages", w.base())),
                serde_json::json!(TOKEN),
                serde_json::json!(serde_json::to_string(&body).unwrap()),
            ],
        )
        .await;
    assert_eq!(status, serde_json::json!(202), "relay POST");
    for m in &mut messages[..AT_RELAY] {
        assert!(m.begin_submit());
    }
    seed_outbox(&s, &batch, &messages).await;
    w.stop_relay();
    s.click_link("Protokoll").await;
    s.wait_text("Relay nicht erreichbar").await;
    s.click_button("Details").await;
    s.wait_status_matching(&format!("0 von {N} abgeschlossen"))
        .await;
    s.click_button("Abbrechen").await;
    let note = s.wait_status_matching("abgebrochen;").await;
    assert!(
        note.contains(&format!(
            "{} abgebrochen; {AT_RELAY} werden noch beim Relay geprüft",
            N - AT_RELAY
        )),
        "{note}"
    );
    wait_batch_link(&s, "Angehalten.").await;

    w.start_relay();
    s.wait_status_matching(&format!("{N} von {N} abgeschlossen"))
        .await;
    let p = progress(&s).await;
    assert!(
        p.contains(&format!("gesendet {AT_RELAY}"))
            && p.contains(&format!("abgebrochen {}", N - AT_RELAY)),
        "{p}"
    );
    // Only the 250 the relay had arrive, each once; nothing cancelled ever does.
    let mails = w.wait_mails(AT_RELAY, 30);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = if mails.len() == AT_RELAY {
        w.mails()
    } else {
        mails
    };
    assert_exactly_once(&mails, AT_RELAY);
    // The log lists the cancelled recipients as "abgebrochen".
    let rows = log_rows(&s).await;
    let cancelled: Vec<_> = rows.iter().filter(|r| r[2] == "abgebrochen").collect();
    assert!(!cancelled.is_empty(), "{:?}", &rows[..rows.len().min(5)]);
    let sent_to: std::collections::BTreeSet<String> = mails
        .iter()
        .map(|m| m.header("X-RcptTo").to_lowercase())
        .collect();
    for r in &cancelled {
        assert!(
            !sent_to.contains(&r[1].to_lowercase()),
            "cancelled but sent: {r:?}"
        );
    }
    let sent_rows = rows.iter().filter(|r| r[2] == "gesendet").count();
    assert_eq!(sent_rows + cancelled.len(), rows.len(), "{rows:?}");
}
