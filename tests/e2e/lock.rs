//! Issue 17: encryption at rest in the UI — "Demodaten entfernen" leads into the passphrase
//! set-up, the recovery key is shown once, the database opens locked, wrong passphrases are
//! refused with a growing wait, "Sperren" drops every person from the page, the recovery key
//! unlocks, the idle time locks, the passphrase can be changed.

use crate::import::wait_count;
use crate::letters::{fetch_bytes, pdf_pages, poppler, temp_pdf};
use crate::send::{assert_exactly_once, save_relay_token, seed_outbox, seeded_batch, World};
use crate::support::Session;
use std::time::{Duration, Instant};

pub(crate) const PASSPHRASE: &str = "Sonne über dem Praxistresen 2026";

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// On the set-up screen (after "Demodaten entfernen"): sets [`PASSPHRASE`], checks the
/// recovery key's form, confirms it was noted and returns it.
pub(crate) async fn set_up_passphrase(s: &Session) -> String {
    set_up_passphrase_and_maybe_print(s, false).await
}

/// The recovery key sheet: "Als PDF speichern/drucken" makes a one-page PDF (blob URL) in
/// the PDF worker whose text (pdftotext) holds the key shown on the screen.
async fn check_recovery_pdf(s: &Session, key: &str) {
    s.click_button("Als PDF speichern/drucken").await;
    s.wait_status_matching("Notfallschlüssel-PDF fertig").await;
    let link = "a[aria-label='Notfallschlüssel-PDF herunterladen']";
    let url = s.attr(link, "href").await.expect("download link");
    assert!(url.starts_with("blob:"), "{url}");
    let file = s.attr(link, "download").await.expect("download name");
    assert!(
        file.starts_with("Notfallschluessel_") && file.ends_with(".pdf"),
        "{file}"
    );
    s.wait_css("iframe[title='Vorschau Notfallschlüssel']")
        .await;
    let bytes = fetch_bytes(s, &url).await;
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let path = temp_pdf("praxisbote-e2e-recovery", &bytes);
    assert_eq!(pdf_pages(&path), 1);
    let text = poppler("pdftotext", &["-layout", &path, "-"]);
    let _ = std::fs::remove_file(&path);
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        squeezed.contains(&key.replace('-', "").to_uppercase()),
        "the key is not in the PDF:\n{text}"
    );
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Notfallschlüssel"), "{text}");
    assert!(flat.contains("alle Patientendaten"), "{text}");
}

async fn set_up_passphrase_and_maybe_print(s: &Session, print: bool) -> String {
    s.wait_text("Passphrase festlegen").await;
    s.fill_by_label("Passphrase", PASSPHRASE).await;
    s.fill_by_label("Passphrase wiederholen", PASSPHRASE).await;
    s.click_button("Passphrase festlegen und Daten verschlüsseln")
        .await;
    s.wait_text("nur jetzt ein einziges Mal").await;
    let key = s.text_by_label("Notfallschlüssel").await;
    let groups: Vec<&str> = key.split('-').collect();
    assert_eq!(groups.len(), 13, "{key}");
    assert!(groups.iter().all(|g| g.len() == 4), "{key}");
    if print {
        check_recovery_pdf(s, &key).await;
    }
    // "Weiter" only after the confirmation.
    assert_eq!(
        s.script("return [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Weiter').disabled;")
            .await,
        serde_json::json!(true)
    );
    s.click_by_label("Ich habe den Notfallschlüssel notiert")
        .await;
    s.click_button("Weiter").await;
    s.wait_css("nav.main-nav").await;
    key
}

/// Removes the demo practice and sets up the passphrase; returns the recovery key.
pub(crate) async fn remove_demo_and_encrypt(s: &Session) -> String {
    s.click_button("Demodaten entfernen").await;
    s.click_button("Endgültig entfernen").await;
    set_up_passphrase(s).await
}

/// Every key and value of every object store of the app's IndexedDB, read with the plain
/// IndexedDB API, as JSON text.
async fn raw_indexeddb(s: &Session) -> String {
    let v = s
        .script_async(
            r#"const done = arguments[arguments.length - 1];
            const open = indexedDB.open('praxisbote');
            open.onerror = () => done('open failed');
            open.onsuccess = () => {
              const db = open.result;
              const names = [...db.objectStoreNames];
              const tx = db.transaction(names, 'readonly');
              const reqs = names.flatMap((n) => [tx.objectStore(n).getAll(), tx.objectStore(n).getAllKeys()]);
              tx.oncomplete = () => { db.close(); done(JSON.stringify(reqs.map((r) => r.result))); };
              tx.onerror = () => done('tx failed');
            };"#,
        )
        .await;
    v.as_str().expect("dump").to_string()
}

/// Whether the page (all of its markup) shows `text`.
async fn page_shows(s: &Session, text: &str) -> bool {
    s.source().await.contains(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passphrase_setup_lock_screen_wrong_passphrase_sperren_and_recovery_key() {
    let s = Session::start().await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    assert!(page_shows(&s, "Die Demodaten werden nicht verschlüsselt gespeichert.").await);

    // The set-up refuses a short passphrase and a differing repetition.
    s.click_button("Demodaten entfernen").await;
    s.click_button("Endgültig entfernen").await;
    s.wait_text("Passphrase festlegen").await;
    s.fill_by_label("Passphrase", "kurz").await;
    s.fill_by_label("Passphrase wiederholen", "kurz").await;
    s.click_button("Passphrase festlegen und Daten verschlüsseln")
        .await;
    s.wait_text("Die Passphrase ist zu kurz").await;
    s.fill_by_label("Passphrase", PASSPHRASE).await;
    s.fill_by_label("Passphrase wiederholen", "Sonne über dem Praxistresen 2025")
        .await;
    s.click_button("Passphrase festlegen und Daten verschlüsseln")
        .await;
    s.wait_text("stimmen nicht überein").await;
    let recovery = set_up_passphrase_and_maybe_print(&s, true).await;
    assert!(!page_shows(&s, "Demodaten entfernen").await);

    // Import real-looking patients into the encrypted store.
    s.open("#/import").await;
    s.wait_css("input[type=file][aria-label='Datei auswählen']")
        .await
        .send_keys(&fixture("e2e_diagnose_cp1252.csv"))
        .await
        .expect("choose file");
    s.click_button("Prüfen").await;
    s.wait_status_matching("Datensätze gelesen").await;
    s.click_button("2 Datensätze importieren").await;
    s.wait_status_matching("Import abgeschlossen").await;
    s.open("#/patienten").await;
    wait_count(&s, 2).await;
    s.wait_text("Größlich, Jürgen").await;

    // The raw IndexedDB holds no name, street, phone number or birth date of them.
    let raw = raw_indexeddb(&s).await;
    assert!(raw.contains("aesgcm1:"), "records are sealed: {raw:.300}");
    for secret in [
        "Größlich",
        "Jürgen",
        "Zwölfer",
        "Björn",
        "Hauptstraße",
        "Am Markt",
        "2345678",
        "1234567",
        "1961-04-03",
        "2001-05-06",
        "03.04.1961",
        // Day and month of birth: the birthday index key as stored unblinded (a JSON
        // string, quotes included) and the German day-month.
        "\"04-03\"",
        "\"05-06\"",
        "03.04.",
        "06.05.",
    ] {
        assert!(!raw.contains(secret), "{secret} stored in plain text");
    }

    // After a reload the app is locked and shows no person.
    s.reload().await;
    s.wait_text("Die Patientendaten sind verschlüsselt").await;
    assert!(!page_shows(&s, "Größlich").await);
    assert!(
        !page_shows(&s, "Hauptnavigation").await,
        "no navigation while locked"
    );

    // Wrong passphrases: a clear message, then a growing wait shown as a countdown.
    s.fill_by_label("Passphrase", "Mond über dem Praxistresen")
        .await;
    s.click_button("Entsperren").await;
    s.wait_text("Die Passphrase ist falsch").await;
    s.fill_by_label("Passphrase", "Mond über dem Praxistresen")
        .await;
    s.click_button("Entsperren").await;
    let wait = s.wait_status_matching("Nächster Versuch in").await;
    assert!(wait.contains("2 s") || wait.contains("1 s"), "{wait}");
    s.wait_until(
        "the wait to end",
        "return ![...document.querySelectorAll('[role=status]')].some(e => e.textContent.includes('Nächster Versuch'));",
    )
    .await;
    s.fill_by_label("Passphrase", PASSPHRASE).await;
    s.click_button("Entsperren").await;
    wait_count(&s, 2).await;
    s.wait_text("Größlich, Jürgen").await;

    // "Sperren" locks and drops every person from the page.
    s.click_link("Größlich, Jürgen").await;
    s.wait_text("Einwilligungen").await;
    s.click_button("Sperren").await;
    s.wait_text("Die Patientendaten sind verschlüsselt").await;
    assert!(!page_shows(&s, "Größlich").await);
    assert!(!page_shows(&s, "Jürgen").await);
    assert!(s.current_url().await.ends_with("#/patienten"));

    // The recovery key unlocks (typed in lower case with spaces).
    s.click_button("Notfallschlüssel verwenden").await;
    s.fill_by_label("Notfallschlüssel", "ABCD-EFGH").await;
    s.click_button("Mit Notfallschlüssel entsperren").await;
    s.wait_text("Der Notfallschlüssel").await;
    let typed = recovery.to_lowercase().replace('-', " ");
    s.fill_by_label("Notfallschlüssel", &typed).await;
    s.click_button("Mit Notfallschlüssel entsperren").await;
    wait_count(&s, 2).await;
    s.wait_text("Zwölfer, Björn").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_time_locks_and_the_passphrase_can_be_changed() {
    let s = Session::start().await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    remove_demo_and_encrypt(&s).await;

    s.open_settings().await;
    // The current passphrase is checked before a new one is set.
    const NEW: &str = "Regen über dem Praxistresen 2027";
    s.fill_by_label("Aktuelle Passphrase", "Mond über dem Praxistresen")
        .await;
    s.fill_by_label("Neue Passphrase", NEW).await;
    s.fill_by_label("Neue Passphrase wiederholen", NEW).await;
    s.click_button("Passphrase ändern").await;
    s.wait_status_matching("Die Passphrase ist falsch").await;
    s.fill_by_label("Aktuelle Passphrase", PASSPHRASE).await;
    s.click_button("Passphrase ändern").await;
    s.wait_status_matching("Die Passphrase wurde geändert")
        .await;

    // Five seconds without input lock the app.
    s.fill_by_label("Automatisch sperren nach (Sekunden)", "5")
        .await;
    s.click_button("Sperre speichern").await;
    s.wait_status_matching("Sperre gespeichert").await;
    let t = std::time::Instant::now();
    s.wait_text("Die Patientendaten sind verschlüsselt").await;
    let secs = t.elapsed().as_secs_f64();
    assert!(secs >= 3.0, "locked too early: {secs:.1} s");

    // The old passphrase no longer unlocks, the new one does; the setting stays.
    s.fill_by_label("Passphrase", PASSPHRASE).await;
    s.click_button("Entsperren").await;
    s.wait_text("Die Passphrase ist falsch").await;
    s.fill_by_label("Passphrase", NEW).await;
    s.click_button("Entsperren").await;
    s.wait_status_matching("Treffer").await;
    // The setting was read again after unlocking: the idle time locks once more.
    s.wait_text("Die Patientendaten sind verschlüsselt").await;
}

/// Imports the two patients of `e2e_diagnose_cp1252.csv` (Größlich, Zwölfer).
async fn import_two(s: &Session) {
    s.open("#/import").await;
    s.wait_css("input[type=file][aria-label='Datei auswählen']")
        .await
        .send_keys(&fixture("e2e_diagnose_cp1252.csv"))
        .await
        .expect("choose file");
    s.click_button("Prüfen").await;
    s.wait_status_matching("Datensätze gelesen").await;
    s.click_button("2 Datensätze importieren").await;
    s.wait_status_matching("Import abgeschlossen").await;
}

async fn set_practice_name(s: &Session, name: &str) {
    s.open_settings().await;
    s.wait_text("Name der Praxis").await;
    s.fill_by_label("Name der Praxis", name).await;
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
}

async fn choose_backup(s: &Session, file: &std::path::Path) {
    s.wait_css("input[type=file][aria-label='Sicherungsdatei auswählen']")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .expect("choose backup");
}

/// Issue 17, encrypted backups: an encrypted practice's "Sicherung herunterladen" makes a
/// "verschlüsselte Sicherung" whose raw file holds no patient datum; "Unverschlüsselt
/// exportieren" warns and asks first; the file restores directly in the same practice; in
/// another browser (the demo) it needs the practice's passphrase (a wrong one is refused,
/// nothing changes), then restores and leads into the passphrase set-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_backup_hides_names_and_restores_here_and_elsewhere() {
    use crate::import::{practice_name, wait_for_download};
    let dir = std::env::temp_dir().join(format!("pb-e2e-encbackup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = {
        let s = Session::start_with_download_dir(&dir).await;
        s.open("#/patienten").await;
        s.wait_text("Demodaten").await;
        remove_demo_and_encrypt(&s).await;
        import_two(&s).await;
        set_practice_name(&s, "Praxis Vorher").await;

        s.open("#/sicherung").await;
        s.wait_text("verschlüsselte Sicherung").await;
        // The unencrypted export warns and asks first; cancelled, nothing is downloaded.
        s.click_button("Unverschlüsselt exportieren …").await;
        s.wait_text("alle Patientendaten im Klartext").await;
        s.click_button("Abbrechen").await;
        s.click_button("Sicherung herunterladen").await;
        s.wait_status_matching("Verschlüsselte Sicherung").await;
        let file = wait_for_download(&dir).await;
        assert!(
            file.to_string_lossy().ends_with("-verschluesselt.json"),
            "{file:?}"
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "one file");
        let raw = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("\"praxisbote-backup-encrypted\""),
            "{text:.300}"
        );
        for secret in [
            "Größlich",
            "Jürgen",
            "Zwölfer",
            "Hauptstraße",
            "2345678",
            "1961-04-03",
            "Praxis Vorher",
        ] {
            assert!(!text.contains(secret), "{secret} in the backup file");
            let utf16: Vec<u8> = secret.encode_utf16().flat_map(u16::to_le_bytes).collect();
            assert!(
                !raw.windows(utf16.len()).any(|w| w == utf16.as_slice()),
                "{secret} (UTF-16) in the backup file"
            );
        }

        // Same practice: restores directly.
        set_practice_name(&s, "Praxis Nachher").await;
        s.open("#/sicherung").await;
        choose_backup(&s, &file).await;
        s.wait_status_matching("Sicherung vom").await;
        s.click_button("Wiederherstellen …").await;
        s.click_button("Alle Daten ersetzen").await;
        s.wait_status_matching("wiederhergestellt").await;
        assert_eq!(practice_name(&s).await, "Praxis Vorher");
        file
    };

    // Another browser (the demo): the file needs the practice's passphrase.
    let s = Session::start().await;
    s.open("#/sicherung").await;
    s.wait_text("Demodaten").await;
    choose_backup(&s, &file).await;
    s.wait_text("stammt von einer anderen Praxis").await;
    s.fill_by_label(
        "Passphrase oder Notfallschlüssel der Sicherung",
        "Mond über dem Praxistresen",
    )
    .await;
    s.click_button("Mit Passphrase öffnen").await;
    s.wait_text("passt nicht zu dieser Sicherung").await;
    assert!(!page_shows(&s, "Alle Daten ersetzen").await);
    s.fill_by_label("Passphrase oder Notfallschlüssel der Sicherung", PASSPHRASE)
        .await;
    s.click_button("Mit Passphrase öffnen").await;
    let pending = s.wait_status_matching("Sicherung vom").await;
    assert!(pending.contains("2 Personen"), "{pending}");
    s.click_button("Wiederherstellen …").await;
    s.click_button("Alle Daten ersetzen").await;
    // A real practice restored into the demo: the passphrase set-up comes next.
    set_up_passphrase(&s).await;
    s.open("#/patienten").await;
    wait_count(&s, 2).await;
    s.wait_text("Größlich, Jürgen").await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- Sending while locked ----

/// Network emulation of the page (CDP): cut off, or every request delayed by `latency_ms`.
async fn network(s: &Session, offline: bool, latency_ms: u32) {
    s.cdp("Network.enable", serde_json::json!({})).await;
    s.cdp(
        "Network.emulateNetworkConditions",
        serde_json::json!({
            "offline": offline, "latency": latency_ms,
            "downloadThroughput": -1, "uploadThroughput": -1
        }),
    )
    .await;
}

/// Every request of the page to the relay takes this long while a batch is "in the middle":
/// one chunk of 250 is handed over per request, so the lock lands between two of them.
const SLOW_MS: u32 = 5000;

/// An encrypted practice sending `n` queued e-mails over a slow link to the relay, locked
/// with "Sperren" once the first e-mails reached the SMTP server (the next chunk is then in
/// flight or about to be). The batch is written into the plain store before the passphrase
/// set-up, which encrypts it with everything else. `transmit_while_locked`: the setting
/// "Versand während Sperre fortsetzen". Returns the relay's world and the session, locked.
async fn lock_in_the_middle_of_a_send(
    tag: &str,
    n: usize,
    transmit_while_locked: bool,
) -> (World, Session) {
    let w = World::start(tag, None);
    let s = Session::start_at(&w.base()).await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    s.click_button("Demodaten entfernen").await;
    s.click_button("Endgültig entfernen").await;
    s.wait_text("Passphrase festlegen").await;
    // No access key is stored yet: the page stays cut off from the relay until it has one.
    network(&s, true, 0).await;
    let (batch, messages) = seeded_batch(n);
    seed_outbox(&s, &batch, &messages).await;
    set_up_passphrase(&s).await;
    let raw = raw_indexeddb(&s).await;
    assert!(
        !raw.contains("empfaenger1@example.org") && !raw.contains("Nachricht Nummer 1."),
        "the queued batch is stored in plain text"
    );

    // In-app navigation only: loading the page anew would open it locked.
    s.click_link("Einstellungen").await;
    save_relay_token(&s).await;
    if transmit_while_locked {
        s.click_by_label("Versand während Sperre fortsetzen").await;
    }
    s.click_button("Sperre speichern").await;
    s.wait_status_matching("Sperre gespeichert").await;
    assert_eq!(
        s.checkbox_by_label("Versand während Sperre fortsetzen")
            .await,
        transmit_while_locked
    );
    s.click_link("Protokoll").await;
    s.wait_text("Relay nicht erreichbar").await;
    s.click_button("Details").await;
    s.wait_status_matching(&format!("0 von {n} abgeschlossen"))
        .await;
    assert_eq!(w.mails().len(), 0);

    // The link comes back, slow; "Sperren" as soon as the first e-mails arrived.
    network(&s, false, SLOW_MS).await;
    let t = Instant::now();
    while w.mails().is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "sending did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.click_button("Sperren").await;
    let at_lock = w.mails().len();
    s.wait_text("Die Patientendaten sind verschlüsselt").await;
    assert!(at_lock < n, "the whole batch was sent before the lock");
    eprintln!("    {at_lock} of {n} e-mails at the SMTP server when locking");
    (w, s)
}

/// Whether the lock screen is shown (and no navigation, no recipient of the batch).
async fn still_locked(s: &Session) {
    let page = s.source().await;
    assert!(page.contains("Die Patientendaten sind verschlüsselt"));
    assert!(!page.contains("Hauptnavigation"), "navigation while locked");
    assert!(
        !page.contains("Empfänger 1"),
        "a recipient shown while locked"
    );
}

/// Issue 17, "Versand während Sperre fortsetzen" off (the default): a batch of 750 e-mails is
/// being handed to the relay in chunks of 250 when the user locks. The chunk in flight may
/// still arrive; after that nothing reaches the SMTP server while locked (the count stays
/// the same for 15 s, several times the time one chunk takes). After unlocking with the
/// passphrase the send goes on and every e-mail arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_while_locked_pauses_without_the_setting_and_resumes_after_unlock() {
    const N: usize = 750;
    let (w, s) = lock_in_the_middle_of_a_send("lockpause", N, false).await;
    // Waits until the count has not changed for 15 s (the loop would hand over the next
    // chunk within 2 × SLOW_MS), at most 90 s.
    let t = Instant::now();
    let (mut count, mut since) = (w.mails().len(), Instant::now());
    while since.elapsed() < Duration::from_secs(15) {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "e-mails keep arriving while locked: {count}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = w.mails().len();
        if now != count {
            (count, since) = (now, Instant::now());
        }
    }
    eprintln!("    {count} of {N} at the SMTP server, unchanged for 15 s while locked");
    assert!(
        count > 0 && count < N,
        "{count} of {N} sent while locked: the send did not pause"
    );
    still_locked(&s).await;

    network(&s, false, 0).await;
    s.fill_by_label("Passphrase", PASSPHRASE).await;
    s.click_button("Entsperren").await;
    s.wait_css("nav.main-nav").await;
    let mails = w.wait_mails(N, 120);
    assert_exactly_once(&mails, N);
    batch_complete_in_the_log(&s, N).await;
}

/// The Protokoll shows the batch of `n` e-mails complete, every one sent.
async fn batch_complete_in_the_log(s: &Session, n: usize) {
    s.click_link("Protokoll").await;
    s.click_button("Details").await;
    s.wait_status_matching(&format!("{n} von {n} abgeschlossen"))
        .await;
    s.wait_text(&format!("gesendet {n}")).await;
}

/// Issue 17, "Versand während Sperre fortsetzen" on: locking in the middle of a batch of 750
/// does not stop it; every e-mail arrives exactly once while the lock screen shows, and the
/// batch is complete after unlocking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_while_locked_goes_on_with_the_setting() {
    const N: usize = 750;
    let (w, s) = lock_in_the_middle_of_a_send("lockgo", N, true).await;
    let mails = w.wait_mails(N, 120);
    still_locked(&s).await;
    assert_exactly_once(&mails, N);

    network(&s, false, 0).await;
    s.fill_by_label("Passphrase", PASSPHRASE).await;
    s.click_button("Entsperren").await;
    s.wait_css("nav.main-nav").await;
    batch_complete_in_the_log(&s, N).await;
}

// ---- Hidden tab ----

/// Issue 17: a tab hidden for longer than the idle time is locked when it comes back. The
/// tab is really hidden: a second tab of the browser is opened and brought to the front
/// (the page's own `visibilitychange` events, recorded by a listener, say "hidden" and then
/// "visible" again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_tab_locks_after_the_idle_time() {
    const IDLE: u64 = 10;
    let s = Session::start().await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    remove_demo_and_encrypt(&s).await;
    import_two(&s).await;
    s.open_settings().await;
    s.fill_by_label("Automatisch sperren nach (Sekunden)", &IDLE.to_string())
        .await;
    s.click_button("Sperre speichern").await;
    s.wait_status_matching("Sperre gespeichert").await;
    s.open("#/patienten").await;
    wait_count(&s, 2).await;
    s.wait_text("Größlich, Jürgen").await;
    // Records what the page itself sees: visibility changes and the first lock screen.
    assert_eq!(
        s.script(
            "window.__pbSeen = [];
             document.addEventListener('visibilitychange', () =>
               __pbSeen.push([document.visibilityState, performance.now()]));
             new MutationObserver((_, obs) => {
               if (document.body.innerText.includes('Die Patientendaten sind verschlüsselt')) {
                 __pbSeen.push(['locked', performance.now(), document.visibilityState]);
                 obs.disconnect();
               }
             }).observe(document.body, { childList: true, subtree: true, characterData: true });
             return document.visibilityState;"
        )
        .await,
        serde_json::json!("visible")
    );

    // A blank second tab in front: the app's tab is in the background.
    let (other, app) = s.new_tab().await;
    assert_eq!(
        s.script("return document.visibilityState;").await,
        serde_json::json!("visible")
    );
    // Hidden for longer than the idle time (input in the other tab is not input here).
    tokio::time::sleep(Duration::from_secs(IDLE + 4)).await;
    s.switch_to(&app).await;
    s.wait_text("Die Patientendaten sind verschlüsselt").await;
    let seen = s.script("return window.__pbSeen;").await;
    let seen = seen.as_array().expect("records");
    eprintln!("    seen by the page (ms): {seen:?}");
    let states: Vec<&str> = seen.iter().filter_map(|e| e[0].as_str()).collect();
    assert_eq!(
        states.first(),
        Some(&"hidden"),
        "the tab was never hidden: {seen:?}"
    );
    assert!(states.contains(&"visible"), "{seen:?}");
    let hidden_at = seen[0][1].as_f64().unwrap();
    let locked = seen
        .iter()
        .find(|e| e[0] == "locked")
        .unwrap_or_else(|| panic!("no lock screen: {seen:?}"));
    let locked_at = locked[1].as_f64().unwrap();
    // Not locked before it was hidden (the idle time runs from the last input, a moment
    // before).
    assert!(locked_at > hidden_at, "locked before hiding: {seen:?}");
    // Locked while hidden, or by the `visibilitychange` check as it came back: the lock
    // screen is there when the tab is seen again, not a timer tick later.
    let visible_at = seen
        .iter()
        .find(|e| e[0] == "visible")
        .and_then(|e| e[1].as_f64())
        .unwrap();
    assert!(
        locked_at <= visible_at + 500.0,
        "locked {:.0} ms after coming back",
        locked_at - visible_at
    );
    assert!(!page_shows(&s, "Größlich").await);
    assert!(!page_shows(&s, "Zwölfer").await);
    s.switch_to(&other).await;
    s.close_window().await;
    s.switch_to(&app).await;
    s.fill_by_label("Passphrase", PASSPHRASE).await;
    s.click_button("Entsperren").await;
    wait_count(&s, 2).await;
}
