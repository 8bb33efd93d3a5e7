//! Issue 18 end to end: two devices of one practice (two headless Chromium profiles, each
//! with its own IndexedDB) sync through a real CouchDB-protocol server (pouchdb-server with
//! CORS and CouchDB's own user authentication; `support::PouchServer`).

use crate::consent::{review_rows, wait_row, withdraw_letter_recall};
use crate::import::{patient_count, wait_count};
use crate::lock::{set_up_passphrase, PASSPHRASE};
use crate::send::{assert_exactly_once, save_relay_token, seed_outbox, seeded_batch, World};
use crate::support;
use crate::support::{origin_of, Device, PouchServer, DB, PASSWORD, USER};
use std::time::{Duration, Instant};

/// Navigates inside the app (no page load: an encrypted device would open locked).
async fn go(d: &Device, hash: &str) {
    d.script(&format!(
        "window.location.hash = {};",
        serde_json::json!(hash)
    ))
    .await;
}

/// Einstellungen, reached inside the app.
async fn settings(d: &Device) {
    go(d, "#/patienten").await;
    go(d, "#/einstellungen").await;
    d.wait_text("Geräte verbinden").await;
    d.wait_text("Termine in Nachrichten").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Settings → "Geräte verbinden": fills in the server and presses "Verbinden".
async fn press_connect(d: &Device, server: &PouchServer) {
    settings(d).await;
    d.fill_by_label("Server-Adresse (CouchDB)", &server.url())
        .await;
    d.fill_by_label("Datenbank", DB).await;
    d.fill_by_label("Benutzer", USER).await;
    d.fill_by_label("Kennwort", PASSWORD).await;
    d.click_button("Verbinden").await;
}

/// Waits for the sync status to report a finished round after `since` (the status line
/// carries the time of the last good round).
async fn wait_synced(d: &Device) -> String {
    settings(d).await;
    d.wait_status_matching("Abgeglichen um").await
}

/// The first device: the demo practice gets its passphrase on the way ("Verbinden" asks for
/// it), then connects and publishes.
async fn connect_first(d: &Device, server: &PouchServer) {
    press_connect(d, server).await;
    d.wait_status_matching("nicht verschlüsselt").await;
    d.click_button("Passphrase festlegen …").await;
    set_up_passphrase(d).await;
    press_connect(d, server).await;
    d.wait_status_matching("Verbunden.").await;
    wait_synced(d).await;
}

/// A new device joins with `secret`; `ok` says whether it should work.
async fn join(d: &Device, server: &PouchServer, secret: &str) {
    press_connect(d, server).await;
    d.wait_status_matching("bereits eine Praxis").await;
    d.fill_by_label("Passphrase der Praxis", secret).await;
    if !d
        .checkbox_by_label(
            "Ich bin einverstanden, dass alle Daten auf diesem Gerät ersetzt werden.",
        )
        .await
    {
        d.click_by_label("Ich bin einverstanden, dass alle Daten auf diesem Gerät ersetzt werden.")
            .await;
    }
    d.click_button("Beitreten und Daten ersetzen").await;
}

/// All patients → recall letters → review; the included count. (A joined device is no
/// demo install any more: no demo banner to wait for.)
async fn recall_review(d: &Device) -> usize {
    go(d, "#/patienten").await;
    go(d, "#/versand").await;
    d.wait_css("nav.main-nav").await;
    let counts = d
        .take_over_all("Patienten", "Recall", "Serienbrief erstellen …")
        .await;
    support::numbers(&counts)[3]
}

/// Opens the app on a fresh device (the demo practice).
async fn open_demo(d: &Device) {
    d.open("").await;
    d.wait_text("Demodaten").await;
}

/// A fresh device joins the practice on `server` with the passphrase and syncs once.
async fn joined(d: &Device, server: &PouchServer) {
    open_demo(d).await;
    join(d, server, PASSPHRASE).await;
    wait_synced(d).await;
}

/// The patient list's hit count (all patients), once the list has loaded.
async fn patients(d: &Device) -> usize {
    go(d, "#/einstellungen").await;
    go(d, "#/patienten").await;
    d.wait_css("nav.main-nav").await;
    d.wait_css("table.data tbody tr td a").await;
    patient_count(d).await
}

/// The value of a labelled input of the open person form, once the form has loaded.
async fn field(d: &Device, label: &str) -> String {
    let v = d
        .script(&format!(
            "const l=[...document.querySelectorAll('label')].find(l=>l.firstChild&&l.firstChild.textContent.trim()==={});\
             const i=l&&l.querySelector('input');return i?i.value:null;",
            serde_json::json!(label)
        ))
        .await;
    v.as_str().unwrap_or_default().to_string()
}

/// Opens `href` (a person form) on `d` until `label` shows `want` (the other device's change
/// arrived), within `secs`.
async fn wait_field(d: &Device, href: &str, label: &str, want: &str, secs: u64) {
    let t = Instant::now();
    loop {
        go(d, "#/patienten").await;
        go(d, href).await;
        d.wait_text("Einwilligungen").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = field(d, label).await;
        if now == want {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "{}: {label} is {now:?}, not {want:?} after {secs} s",
            d.name
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
}

/// In the open person form: sets `label` to `value` and saves.
async fn edit_field(d: &Device, href: &str, label: &str, value: &str) {
    go(d, "#/patienten").await;
    go(d, href).await;
    d.wait_text("Einwilligungen").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.fill_by_label(label, value).await;
    d.click_button("Speichern").await;
    d.wait_status_matching("Gespeichert").await;
}

/// Links to the first `n` patients' forms, with their names.
async fn patient_links(d: &Device, n: usize) -> Vec<(String, String)> {
    d.open("").await;
    d.wait_css("table.data tbody tr td a").await;
    let v = d
        .script(&format!(
            "return [...document.querySelectorAll('table.data tbody tr td a')].slice(0,{n})\
             .map(a=>[a.textContent.trim(), a.getAttribute('href')]);"
        ))
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_join_converge_after_offline_edits_and_the_server_sees_only_ciphertext() {
    let server = PouchServer::start();
    let desk = Device::start("empfang").await;
    let tablet = Device::start("tablet").await;
    desk.open("").await;
    tablet.open("").await;
    desk.wait_text("Demodaten").await;
    tablet.wait_text("Demodaten").await;
    let on_desk = patients(&desk).await;
    let people = patient_links(&desk, 6).await;

    connect_first(&desk, &server).await;
    assert!(
        server.db_info()["doc_count"].as_u64().unwrap() > on_desk as u64,
        "{}",
        server.db_info()
    );

    // The tablet (its own demo practice) tries a wrong passphrase: nothing changes there.
    let tablet_before = patients(&tablet).await;
    join(&tablet, &server, "falsche Passphrase").await;
    tablet
        .wait_status_matching("passen nicht. Auf diesem Gerät wurde nichts geändert")
        .await;
    go(&tablet, "#/patienten").await;
    wait_count(&tablet, tablet_before).await;
    tablet.wait_text("Demodaten").await;

    // With the right passphrase it gets the practice.
    join(&tablet, &server, PASSPHRASE).await;
    tablet.wait_status_matching("Beigetreten").await;
    wait_synced(&tablet).await;
    go(&tablet, "#/patienten").await;
    wait_count(&tablet, on_desk).await;
    let (first_name, first) = &people[0];
    go(&tablet, first).await;
    tablet.wait_text("Einwilligungen").await;
    assert!(
        tablet
            .source()
            .await
            .contains(first_name.split(',').next().unwrap()),
        "{first_name} is not on the tablet"
    );

    // The server holds no patient datum: no name, no e-mail, no practice name.
    let mut needles: Vec<String> = Vec::new();
    for (name, _) in &people {
        needles.extend(name.split(", ").map(str::to_string));
    }
    go(&desk, first).await;
    desk.wait_text("Einwilligungen").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let email = field(&desk, "E-Mail").await;
    if !email.is_empty() {
        needles.push(email);
    }
    needles.push("Demodaten".into());
    // Short names ("Ali") occur by chance in 1.5 KB of base64; six characters and more do not
    // (odds about 1 in 10^7 per document).
    needles.retain(|n| n.chars().count() >= 6);
    needles.extend(people.iter().map(|(name, _)| name.clone()));
    let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
    let found = server.documents_containing(&refs);
    assert!(found.is_empty(), "the server holds plain data: {found:?}");
    assert!(server.all_docs_raw().len() > on_desk);

    // Live: an edit on the tablet is on the desk within seconds.
    edit_field(&tablet, first, "E-Mail", "neu.sync@example.org").await;
    wait_field(&desk, first, "E-Mail", "neu.sync@example.org", 20).await;

    // Offline: the desk is cut off; both edit different persons; back online, both have
    // both edits.
    let (_, second) = &people[1];
    let (_, third) = &people[2];
    desk.set_offline(true).await;
    edit_field(&desk, second, "Mobil", "+49 170 1111111").await;
    edit_field(&tablet, third, "Festnetz", "+49 30 2222222").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    go(&desk, "#/patienten").await;
    go(&desk, third).await;
    desk.wait_text("Einwilligungen").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_ne!(field(&desk, "Festnetz").await, "+49 30 2222222", "offline");
    desk.set_offline(false).await;
    wait_field(&desk, third, "Festnetz", "+49 30 2222222", 40).await;
    wait_field(&tablet, second, "Mobil", "+49 170 1111111", 40).await;
    assert!(server
        .documents_containing(&["+49 170 1111111", "2222222"])
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_withdrawn_on_one_device_is_honoured_by_a_batch_built_on_the_other() {
    let server = PouchServer::start();
    let desk = Device::start("empfang").await;
    let tablet = Device::start("tablet").await;
    open_demo(&desk).await;
    connect_first(&desk, &server).await;
    joined(&tablet, &server).await;

    // On the tablet: recall letters to all patients; a patient who consented is in it.
    let included = recall_review(&tablet).await;
    assert!(included > 0);
    let rows = review_rows(&tablet).await;
    let yes = rows
        .iter()
        .find(|r| {
            r["allowed"] == "JA"
                && r["checked"] == true
                && rows.iter().filter(|o| o["name"] == r["name"]).count() == 1
        })
        .cloned()
        .unwrap_or_else(|| panic!("no included JA row: {rows:?}"));
    let name = yes["name"].as_str().unwrap().to_string();

    // At the desk that patient withdraws the consent to recall letters.
    go(&desk, "#/patienten").await;
    desk.fill_by_label("Patienten durchsuchen", name.split(", ").next().unwrap())
        .await;
    desk.click_link(&name).await;
    withdraw_letter_recall(&desk).await;

    // After the sync, a review built on the tablet leaves the patient out.
    let t = Instant::now();
    loop {
        let now_included = recall_review(&tablet).await;
        if now_included == included - 1 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(40),
            "the withdrawal did not reach the tablet: {now_included} of {included} included"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let row = wait_row(&tablet, &name, "NEIN and left out", |r| {
        r["allowed"] == "NEIN" && r["checked"] == false
    })
    .await;
    assert_eq!(row["allowed"], "NEIN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_is_shown_on_a_device_and_resolved_everywhere() {
    let server = PouchServer::start();
    let desk = Device::start("empfang").await;
    let tablet = Device::start("tablet").await;
    open_demo(&desk).await;
    let people = patient_links(&desk, 1).await;
    let (_, person) = &people[0];
    connect_first(&desk, &server).await;
    joined(&tablet, &server).await;

    // Both offline, both change the same person's e-mail.
    desk.set_offline(true).await;
    tablet.set_offline(true).await;
    edit_field(&desk, person, "E-Mail", "empfang@example.org").await;
    edit_field(&tablet, person, "E-Mail", "tablet@example.org").await;
    desk.set_offline(false).await;
    tablet.set_offline(false).await;

    // One value wins on both devices (CouchDB's rule); a device shows the collision under
    // "Konflikte" with both values.
    let t = Instant::now();
    let (shown_on, in_use) = loop {
        let mut found = None;
        for d in [&desk, &tablet] {
            settings(d).await;
            if d.script("return !!document.querySelector(\"[aria-label^='Konflikt bei']\");")
                .await
                .as_bool()
                .unwrap_or(false)
            {
                let cells = d.all_texts("[aria-label^='Konflikt bei'] td").await;
                found = Some((d, cells));
                break;
            }
        }
        if let Some((d, cells)) = found {
            assert_eq!(cells[0], "E-Mail", "{cells:?}");
            let values = [cells[1].as_str(), cells[2].as_str()];
            assert!(
                values.contains(&"empfang@example.org") && values.contains(&"tablet@example.org"),
                "{cells:?}"
            );
            break (d, cells[1].clone());
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no conflict shown");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    for d in [&desk, &tablet] {
        wait_field(d, person, "E-Mail", &in_use, 40).await;
    }

    // Taking the other value there settles it on both devices.
    let other = if in_use == "empfang@example.org" {
        "tablet@example.org"
    } else {
        "empfang@example.org"
    };
    settings(shown_on).await;
    shown_on.click_button("Anderen Wert übernehmen").await;
    shown_on.wait_status_matching("Entschieden").await;
    for d in [&desk, &tablet] {
        wait_field(d, person, "E-Mail", other, 40).await;
    }
}

/// After a page load an encrypted device shows the lock screen: unlock with the passphrase.
async fn unlock(d: &Device) {
    d.wait_text("Gesperrt").await;
    d.fill_by_label("Passphrase", PASSPHRASE).await;
    d.click_button("Entsperren").await;
    d.wait_css("nav.main-nav").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_initial_sync_resumes_and_a_server_restart_loses_nothing() {
    let mut server = PouchServer::start();
    let desk = Device::start("empfang").await;
    let mut tablet = Device::start("tablet").await;
    open_demo(&desk).await;
    let on_desk = patients(&desk).await;
    let people = patient_links(&desk, 1).await;
    let (_, person) = &people[0];
    connect_first(&desk, &server).await;
    open_demo(&tablet).await;

    // The tablet joins; while its first round is receiving (documents still to come), the
    // browser is switched off.
    join(&tablet, &server, PASSPHRASE).await;
    let t = Instant::now();
    loop {
        let text = tablet
            .script("const e=document.querySelector(\"[aria-label='Abgleich']\");return e?e.textContent:'';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        if text.contains("stehen noch aus") {
            break;
        }
        assert!(
            !text.contains("Abgeglichen um"),
            "the initial sync finished before it could be interrupted: {text}"
        );
        assert!(t.elapsed() < Duration::from_secs(60), "no progress: {text}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    tablet.restart_browser().await;
    tablet.open("").await;
    unlock(&tablet).await;
    // It goes on from where it was and ends with the whole practice.
    wait_synced(&tablet).await;
    go(&tablet, "#/einstellungen").await;
    go(&tablet, "#/patienten").await;
    wait_count(&tablet, on_desk).await;

    // The server restarts and has lost everything: the devices fill it again, and an edit
    // still goes from one device to the other.
    let docs_before = server.db_info()["doc_count"].as_u64().unwrap();
    server.restart();
    edit_field(&tablet, person, "E-Mail", "nach.neustart@example.org").await;
    wait_field(&desk, person, "E-Mail", "nach.neustart@example.org", 60).await;
    let t = Instant::now();
    while server.db_info()["doc_count"].as_u64().unwrap_or(0) < docs_before {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the server was not refilled: {} of {docs_before}",
            server.db_info()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(server.documents_containing(&["nach.neustart"]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_one_batch_the_relay_receives_each_message_once() {
    const N: usize = 40;
    // The relay (which also serves the app) with a slow SMTP account.
    let w = World::start("devices-send", Some(10));
    let server = PouchServer::start_for(&[&origin_of(&w.base())]);
    let desk = Device::start_at("empfang", &w.base()).await;
    let tablet = Device::start_at("tablet", &w.base()).await;
    open_demo(&desk).await;
    // A batch queued at the desk, which has no relay key yet: its loop takes the batch's
    // claim, and nothing goes out.
    let (batch, messages) = seeded_batch(N);
    seed_outbox(&desk, &batch, &messages).await;
    desk.reload().await;
    desk.wait_text("Demodaten").await;
    connect_first(&desk, &server).await;
    joined(&tablet, &server).await;

    // The tablet has the batch and the relay key, but not the claim: it sends nothing.
    settings(&tablet).await;
    save_relay_token(&tablet).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(w.mails().len(), 0, "the tablet sent a batch the desk holds");

    // The desk gets the key and sends; every message arrives once.
    settings(&desk).await;
    save_relay_token(&desk).await;
    let mails = w.wait_mails(N, 90);
    assert_exactly_once(&mails, N);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(w.mails().len(), N, "a message arrived twice");

    // The tablet sees the progress through the sync: its Protokoll has the batch sent.
    let t = Instant::now();
    loop {
        go(&tablet, "#/patienten").await;
        go(&tablet, "#/protokoll").await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let text = tablet
            .script("return document.body.innerText;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        // The batch row: total, sent, printed, failed, open.
        if text.contains(&format!("\t{N}\t{N}\t0\t0\t0")) {
            break;
        }
        if t.elapsed() > Duration::from_secs(90) {
            settings(&tablet).await;
            let status = tablet.script("return document.body.innerText;").await;
            let desk_status = {
                settings(&desk).await;
                desk.script("return document.body.innerText;").await
            };
            let tail = |v: &serde_json::Value| {
                let s = v.as_str().unwrap_or_default();
                s[s.find("Geräte verbinden").unwrap_or(0)..].to_string()
            };
            panic!(
                "the tablet does not show the batch as sent:\n{text}\n--- tablet settings ---\n{}\n--- desk settings ---\n{}",
                tail(&status),
                tail(&desk_status)
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A passphrase changed on one device reaches the other at its next round: that device
/// stays unlocked and says so, and after a reload only the new passphrase opens it. A new
/// device joins with the new passphrase only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_changed_on_one_device_opens_the_others_and_new_ones_join_with_it() {
    const NEW: &str = "Regen über dem Praxistresen 2027";
    let server = PouchServer::start();
    let desk = Device::start("empfang").await;
    let mut tablet = Device::start("tablet").await;
    open_demo(&desk).await;
    let on_desk = patients(&desk).await;
    connect_first(&desk, &server).await;
    joined(&tablet, &server).await;

    settings(&desk).await;
    desk.fill_by_label("Aktuelle Passphrase", PASSPHRASE).await;
    desk.fill_by_label("Neue Passphrase", NEW).await;
    desk.fill_by_label("Neue Passphrase wiederholen", NEW).await;
    desk.click_button("Passphrase ändern").await;
    desk.wait_status_matching("Die Passphrase wurde geändert")
        .await;

    // The tablet takes the new keyring at its next round and stays unlocked.
    tablet
        .wait_status_matching("Die Passphrase der Praxis wurde auf einem anderen Gerät geändert")
        .await;
    go(&tablet, "#/patienten").await;
    wait_count(&tablet, on_desk).await;
    // After a reload: the old passphrase is refused, the new one opens it.
    tablet.restart_browser().await;
    tablet.open("").await;
    tablet.wait_text("Gesperrt").await;
    tablet.fill_by_label("Passphrase", PASSPHRASE).await;
    tablet.click_button("Entsperren").await;
    tablet.wait_text("Die Passphrase ist falsch").await;
    tablet.fill_by_label("Passphrase", NEW).await;
    tablet.click_button("Entsperren").await;
    tablet.wait_css("nav.main-nav").await;
    wait_synced(&tablet).await;

    // A new device: the old passphrase is refused, the new one joins.
    let pc = Device::start("praxis-pc").await;
    open_demo(&pc).await;
    join(&pc, &server, PASSPHRASE).await;
    pc.wait_status_matching("passen nicht. Auf diesem Gerät wurde nichts geändert")
        .await;
    join(&pc, &server, NEW).await;
    pc.wait_status_matching("Beigetreten").await;
    wait_synced(&pc).await;
    go(&pc, "#/patienten").await;
    wait_count(&pc, on_desk).await;
}
