//! Issue 8: CSV import page and backup page, end to end in headless Chromium.

use crate::support::{self, Session};
use fantoccini::Locator;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The number in the "N Treffer" status of the patient list.
pub(crate) async fn patient_count(s: &Session) -> usize {
    support::numbers(&s.wait_status_matching("Treffer").await)[0]
}

/// Waits until the patient list shows exactly `n` hits.
pub(crate) async fn wait_count(s: &Session, n: usize) {
    let mut last = 0;
    for _ in 0..120 {
        last = patient_count(s).await;
        if last == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("expected {n} hits, the list shows {last}");
}

/// A Windows-1252 `;` export with a Diagnose column: the treatment column is refused with a
/// notice, three broken rows are reported with line and column, the two good rows are stored
/// and can be found afterwards (also after a reload).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_windows_1252_with_diagnosis_column() {
    let s = Session::start().await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    let before = patient_count(&s).await;

    s.open("#/import").await;
    s.wait_css("input[type=file][aria-label='Datei auswählen']")
        .await
        .send_keys(&fixture("e2e_diagnose_cp1252.csv"))
        .await
        .expect("choose file");
    let detected = s.wait_status_matching("Erkannt").await;
    assert!(detected.contains("Windows-1252"), "{detected}");
    assert!(detected.contains("Semikolon"), "{detected}");
    assert!(detected.contains("5 Datensätze"), "{detected}");
    let notice = s
        .wait_css("[aria-label='Behandlungsdaten']")
        .await
        .text()
        .await
        .unwrap();
    assert!(notice.contains("„Diagnose“"), "{notice}");
    assert!(notice.contains("nie übernommen"), "{notice}");
    // The preview shows the decoded umlauts.
    s.wait_text("Größlich").await;

    s.click_button("Prüfen").await;
    let summary = s.wait_status_matching("Datensätze gelesen").await;
    assert!(summary.contains("2 neu"), "{summary}");
    assert!(summary.contains("3 fehlerhaft"), "{summary}");
    let errors = s.all_texts("[aria-label='Fehlerhafte Zeilen'] li").await;
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].starts_with("Zeile 3 (Datensatz 2), Spalte „Geburtsdatum“"),
        "{errors:#?}"
    );
    assert!(errors[0].contains("31.02.1970"), "{errors:#?}");
    assert!(errors[1].contains("Name fehlt"), "{errors:#?}");
    assert!(
        errors[2].starts_with("Zeile 5 (Datensatz 4), Spalte „SMS erlaubt“"),
        "{errors:#?}"
    );

    s.click_button("2 Datensätze importieren").await;
    s.wait_status_matching("Import abgeschlossen").await;
    s.wait_css("table.data tbody tr td a").await;
    wait_count(&s, before + 2).await;

    // Searchable, umlaut-insensitive, and still there after a reload.
    s.fill_by_label("Patienten durchsuchen", "grosslich").await;
    s.wait_text("Größlich, Jürgen").await;
    wait_count(&s, 1).await;
    s.reload().await;
    s.wait_css("table.data tbody tr td a").await;
    s.fill_by_label("Patienten durchsuchen", "Zwölfer").await;
    s.wait_text("Zwölfer, Björn").await;
    wait_count(&s, 1).await;

    // Appointments referencing the imported patients by their patient number (UTF-8, `,`).
    s.open("#/import").await;
    s.wait_css("input[type=file][aria-label='Datei auswählen']")
        .await
        .send_keys(&fixture("e2e_termine.csv"))
        .await
        .expect("choose file");
    let detected = s.wait_status_matching("Erkannt").await;
    assert!(detected.contains("Komma"), "{detected}");
    s.select_by_label("Art des Imports", "Termine (zu vorhandenen Patienten)")
        .await;
    let notice = s
        .wait_css("[aria-label='Behandlungsdaten']")
        .await
        .text()
        .await
        .unwrap();
    assert!(notice.contains("„Befund“"), "{notice}");
    s.click_button("Prüfen").await;
    let summary = s.wait_status_matching("Termine neu").await;
    assert!(summary.contains("2 Termine neu, 1 fehlerhaft"), "{summary}");
    let errors = s.all_texts("[aria-label='Fehlerhafte Zeilen'] li").await;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("Zeile 4 (Datensatz 3)"),
        "{errors:#?}"
    );
    assert!(errors[0].contains("E-9999"), "{errors:#?}");
    s.click_button("2 Termine importieren").await;
    s.wait_status_matching("Import abgeschlossen: 2 Termine neu")
        .await;
}

/// Broken files give a clear German message, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_files_are_refused_and_change_nothing() {
    let s = Session::start().await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    let before = patient_count(&s).await;
    s.open("#/import").await;
    for (file, needle) in [
        ("binary_garbage.csv", "keine Textdatei"),
        ("empty.csv", "leer"),
        ("mixed_encoding.csv", "uneinheitlich"),
    ] {
        s.wait_css("input[type=file][aria-label='Datei auswählen']")
            .await
            .send_keys(&fixture(file))
            .await
            .expect("choose file");
        let xp = format!(
            "//*[@role='alert'][contains(., '{needle}')][contains(., 'nichts importiert')]"
        );
        s.wait_for(Locator::XPath(&xp)).await;
    }
    // A 50 MB file is refused by its size, before it is read.
    let big = std::env::temp_dir().join(format!("pb-e2e-50mb-{}.csv", std::process::id()));
    {
        let mut text = String::from("Nachname;Vorname\n");
        while text.len() < 50 * 1024 * 1024 {
            text.push_str("Müller;Anna\n");
        }
        std::fs::write(&big, text).unwrap();
    }
    s.wait_css("input[type=file][aria-label='Datei auswählen']")
        .await
        .send_keys(big.to_str().unwrap())
        .await
        .expect("choose file");
    s.wait_for(Locator::XPath(
        "//*[@role='alert'][contains(., 'zu groß')][contains(., 'nichts importiert')]",
    ))
    .await;
    let _ = std::fs::remove_file(&big);

    s.open("#/patienten").await;
    s.wait_css("table.data tbody tr td a").await;
    assert_eq!(patient_count(&s).await, before);
}

pub(crate) async fn wait_for_download(dir: &Path) -> PathBuf {
    for _ in 0..120 {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "json") {
                    return p;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no backup file was downloaded into {}", dir.display());
}

pub(crate) async fn practice_name(s: &Session) -> String {
    s.open_settings().await;
    let input = s
        .wait_for(Locator::XPath(
            "//label[normalize-space(text())='Name der Praxis']//input",
        ))
        .await;
    // The form fills in when the data has loaded.
    for _ in 0..40 {
        let v = input.prop("value").await.unwrap().unwrap_or_default();
        if !v.is_empty() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    String::new()
}

/// "Sicherung herunterladen" → change data → "Sicherung wiederherstellen" brings it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_download_and_restore_round_trip() {
    let dir = std::env::temp_dir().join(format!("pb-e2e-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let s = Session::start_with_download_dir(&dir).await;
    s.open("#/sicherung").await;
    s.wait_text("Demodaten").await;
    let original = practice_name(&s).await;
    assert!(!original.is_empty());

    s.open("#/sicherung").await;
    s.click_button("Sicherung herunterladen").await;
    s.wait_status_matching("erstellt").await;
    let file = wait_for_download(&dir).await;
    let json = std::fs::read_to_string(&file).unwrap();
    assert!(json.contains("\"format\":\"praxisbote-backup\""));
    let last = s.wait_status_matching("Letzte Sicherung:").await;
    assert!(!last.contains("noch keine"), "{last}");

    // Change the practice name, then restore.
    assert_eq!(practice_name(&s).await, original);
    s.fill_by_label("Name der Praxis", "Praxis nach der Sicherung")
        .await;
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
    assert_eq!(practice_name(&s).await, "Praxis nach der Sicherung");

    s.open("#/sicherung").await;
    s.wait_css("input[type=file][aria-label='Sicherungsdatei auswählen']")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .expect("choose backup");
    s.wait_status_matching("Sicherung vom").await;
    s.click_button("Wiederherstellen …").await;
    s.click_button("Alle Daten ersetzen").await;
    s.wait_status_matching("wiederhergestellt").await;
    assert_eq!(practice_name(&s).await, original);
    s.reload().await;
    assert_eq!(practice_name(&s).await, original);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without the demo practice and without a backup, every page reminds of the backup; after
/// "Sicherung herunterladen" the reminder is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_reminder_until_a_backup_is_made() {
    let dir = std::env::temp_dir().join(format!("pb-e2e-reminder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let s = Session::start_with_download_dir(&dir).await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    // The demo practice needs no backup: no reminder.
    assert!(!s.source().await.contains("Erinnerung an die Sicherung"));
    s.click_button("Demodaten entfernen").await;
    s.click_button("Endgültig entfernen").await;
    // A real practice sets its passphrase first (issue 17).
    crate::lock::set_up_passphrase(&s).await;
    s.wait_text("Es wurde noch keine Sicherung erstellt.").await;
    s.click_link("Jetzt sichern").await;
    s.click_button("Sicherung herunterladen").await;
    s.wait_status_matching("erstellt").await;
    wait_for_download(&dir).await;
    s.open("#/patienten").await;
    s.wait_status_matching("Treffer").await;
    assert!(
        !s.source().await.contains("Erinnerung an die Sicherung"),
        "the reminder is still shown after a backup"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
