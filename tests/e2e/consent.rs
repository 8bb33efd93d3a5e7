//! Consent end to end: the history in the person form (a grant asks for the evidence, no
//! default), the "Einwilligungsnachweis" export, the review's include box and override path,
//! the link from a NEIN row to the person's form, the one consent path of letters (a
//! consent withdrawn after the hand-over, in this tab or another, is not printed), and a
//! review whose persons change in another tab (it says so; no stale hand-over).

use crate::support::{self, Session};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The rows of the review table that are rendered (the table is virtualised).
pub(crate) async fn review_rows(s: &Session) -> Vec<serde_json::Value> {
    let v = s
        .script(
            r#"return Array.from(document.querySelectorAll("[aria-label='Empfänger prüfen'] table tbody tr"))
                .filter(tr => tr.querySelector('input[type=checkbox]'))
                .map(tr => {
                    const td = tr.querySelectorAll('td');
                    const cb = tr.querySelector('input[type=checkbox]');
                    const a = td[1].querySelector('a');
                    return {name: td[1].textContent.trim(), allowed: td[3].textContent.trim(),
                            checked: cb.checked, disabled: cb.disabled,
                            href: a ? a.getAttribute('href') : null,
                            note: td[4].textContent.trim(), warn: tr.classList.contains('row-warn')};
                });"#,
        )
        .await;
    v.as_array().cloned().unwrap_or_default()
}

/// A reachable NEIN row of an adult (a minor's row shows a guardian's consent, which the
/// person's own consent matrix does not change) whose name is unique among the rendered
/// rows.
async fn reachable_nein_row(s: &Session) -> serde_json::Value {
    let rows = review_rows(s).await;
    rows.iter()
        .find(|r| {
            r["allowed"] == "NEIN"
                && r["disabled"] == false
                && !r["note"]
                    .as_str()
                    .unwrap_or("")
                    .contains("Erziehungsberechtigte")
                && rows.iter().filter(|o| o["name"] == r["name"]).count() == 1
        })
        .cloned()
        .unwrap_or_else(|| panic!("no reachable NEIN row among {rows:?}"))
}

/// All patients → recall letters → review (about a third of the demo patients consented to
/// recall letters). Returns the included count and a reachable NEIN row.
pub(crate) async fn letter_recall_review(s: &Session) -> (usize, serde_json::Value) {
    s.open("#/versand").await;
    s.wait_text("Demodaten").await;
    let counts = s
        .take_over_all("Patienten", "Recall", "Serienbrief erstellen …")
        .await;
    (support::numbers(&counts)[3], reachable_nein_row(s).await)
}

/// The row of `name` (waits until it is rendered and `pred` holds).
pub(crate) async fn wait_row(
    s: &Session,
    name: &str,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let t = Instant::now();
    loop {
        let rows = review_rows(s).await;
        if let Some(r) = rows.iter().find(|r| r["name"] == name) {
            if pred(r) {
                return r.clone();
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "row {name}: {what}; rows: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn included_count(s: &Session) -> usize {
    support::numbers(&s.wait_status_matching("übernommen").await)[3]
}

async fn wait_included(s: &Session, n: usize) {
    let t = Instant::now();
    while included_count(s).await != n {
        assert!(t.elapsed() < Duration::from_secs(30), "{n} übernommen");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn dialog_open(s: &Session) -> bool {
    s.script("return !!document.querySelector('[role=dialog]');")
        .await
        .as_bool()
        .unwrap_or(false)
}

/// Navigates inside the app (keeps the page, its state and the hand-over).
async fn go(s: &Session, hash: &str) {
    s.script(&format!(
        "window.location.hash = {};",
        serde_json::json!(hash)
    ))
    .await;
}

/// The consent cell of recall letters in the person form.
const LETTER_RECALL: &str = "Brief – Recall";

/// In the open person form: records a written consent to recall letters and saves.
async fn grant_letter_recall(s: &Session) {
    s.wait_text("Einwilligungen").await;
    assert_eq!(
        s.text_by_label(&format!("Einwilligung {LETTER_RECALL}"))
            .await,
        "NEIN"
    );
    s.click_button(&format!("Einwilligung erfassen: {LETTER_RECALL}"))
        .await;
    s.select_by_label("Nachweis der Einwilligung", "schriftlich")
        .await;
    s.click_button("Erfassen").await;
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
}

/// In the open person form: records the withdrawal of the recall-letter consent and saves.
pub(crate) async fn withdraw_letter_recall(s: &Session) {
    s.wait_text("Einwilligungen").await;
    s.click_button(&format!("Widerruf erfassen: {LETTER_RECALL}"))
        .await;
    s.click_button("Erfassen").await;
    assert_eq!(
        s.text_by_label(&format!("Einwilligung {LETTER_RECALL}"))
            .await,
        "NEIN"
    );
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
}

/// The NEIN row's link to the person's form.
fn person_link(row: &serde_json::Value) -> String {
    let href = row["href"]
        .as_str()
        .unwrap_or_else(|| panic!("a NEIN row links to the person: {row}"))
        .to_string();
    assert!(href.starts_with("#/person/"), "{href}");
    href
}

/// In the review: follows the NEIN row of `name` to the form, grants the recall-letter
/// consent there and comes back; the row is JA and included, the hand-over has
/// `included + 1` recipients.
async fn grant_in_form_and_hand_over(s: &Session, name: &str, included: usize) {
    s.click_link(name).await;
    grant_letter_recall(s).await;
    s.script("history.back();").await;
    let r = wait_row(s, name, "JA and included", |r| {
        r["allowed"] == "JA" && r["checked"] == true
    })
    .await;
    assert!(r["href"].is_null(), "a JA row needs no link: {r}");
    wait_included(s, included + 1).await;
    s.click_button("Übernahme").await;
    s.wait_text(&format!("{} Empfänger", included + 1)).await;
}

/// "PDF erzeugen" of the handed-over recall letters: `printed` letters, and `name` is left
/// out because the consent was withdrawn.
async fn print_without(s: &Session, printed: usize, name: &str) {
    go(s, "#/versand/vorlage").await;
    s.click_button("PDF erzeugen").await;
    let result = s.wait_status_matching("PDF fertig").await;
    assert_eq!(support::numbers(&result)[0], printed, "{result}");
    let left_out = s.text_by_label("Nicht aufgenommen").await;
    assert!(
        left_out.contains(name) && left_out.contains("widerrufen"),
        "{left_out}"
    );
    let logged = s.wait_status_matching("gedruckt").await;
    assert!(logged.contains(&format!("{printed} Briefe")), "{logged}");
}

async fn wait_download(dir: &Path, prefix: &str) -> PathBuf {
    for _ in 0..120 {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                // Complete: named, with content, and no longer growing.
                let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                if name.starts_with(prefix) && name.ends_with(".csv") && len(&p) > 0 {
                    let before = len(&p);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    if len(&p) == before {
                        return p;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no {prefix}… file was downloaded into {}", dir.display());
}

/// CSV rows (`;`, UTF-8 with BOM), header first, of a downloaded file.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).expect("read download");
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("byte-order mark");
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(body);
    r.records()
        .map(|x| x.expect("CSV record").iter().map(str::to_string).collect())
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pb-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("download dir");
    dir
}

/// Issue #15 item 2: granting asks for the evidence (no default) and the date (default
/// today); the cell shows its history; the history survives a reload and is exported as the
/// "Einwilligungsnachweis".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_history_evidence_required_and_proof_export() {
    let dir = temp_dir("consent-proof");
    let s = Session::start_with_download_dir(&dir).await;
    // A letterhead with business details: the PDF proof carries it in its footer.
    s.open_settings().await;
    s.wait_text("Briefkopf").await;
    s.fill_by_label("IBAN", "DE02 1203 0000 0000 2020 51").await;
    s.click_button("Briefkopf speichern").await;
    s.wait_status_matching("Gespeichert").await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    let link = s.wait_css("table.data tbody tr td a").await;
    let name = link.text().await.expect("name");
    link.click().await.expect("open the person");
    s.wait_text("Einwilligungen").await;

    let cell = "E-Mail – Sonstiges";
    let state = format!("Einwilligung {cell}");
    // Withdraw first if the demo granted it, so the grant below is a new event.
    if s.text_by_label(&state).await == "JA" {
        s.click_button(&format!("Widerruf erfassen: {cell}")).await;
        s.click_button("Erfassen").await;
    }
    assert_eq!(s.text_by_label(&state).await, "NEIN");
    let before = s
        .script("return document.querySelectorAll('.consent-history li').length;")
        .await;

    s.click_button(&format!("Einwilligung erfassen: {cell}"))
        .await;
    s.wait_text(&format!("Einwilligung erfassen: {cell}")).await;
    // No evidence chosen: "Erfassen" is disabled; the date is today.
    let disabled = s
        .script("return [...document.querySelectorAll('[role=dialog] button')].find(b => b.textContent.trim() === 'Erfassen').disabled;")
        .await;
    assert_eq!(
        disabled,
        serde_json::json!(true),
        "a grant needs its evidence"
    );
    let today = chrono::Local::now().date_naive();
    let date = s
        .script("return document.querySelector(\"[role=dialog] input[type=date]\").value;")
        .await;
    assert_eq!(
        date,
        serde_json::json!(today.format("%Y-%m-%d").to_string())
    );
    s.select_by_label("Nachweis der Einwilligung", "schriftlich")
        .await;
    s.fill_by_label("Notiz (optional)", "Anmeldebogen vom Empfang")
        .await;
    s.click_button("Erfassen").await;
    assert_eq!(s.text_by_label(&state).await, "JA");
    s.wait_text("(noch nicht gespeichert)").await;
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;

    // After a reload the history has the new event with its evidence and note.
    s.reload().await;
    s.wait_text("Einwilligungen").await;
    assert_eq!(s.text_by_label(&state).await, "JA");
    s.click_by_label(&format!("Verlauf: {cell}")).await;
    let entry = s
        .wait_text("Anmeldebogen vom Empfang")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        entry.contains("erteilt") && entry.contains("schriftlich") && entry.contains("Praxis"),
        "{entry}"
    );
    let after = s
        .script("return document.querySelectorAll('.consent-history li').length;")
        .await;
    assert!(after.as_u64() > before.as_u64(), "{before} → {after}");

    // The proof for Art. 7 (1) GDPR.
    s.click_button("Einwilligungsnachweis (CSV)").await;
    s.wait_status_matching("Einwilligungsnachweis heruntergeladen")
        .await;
    let file = wait_download(&dir, "Einwilligungsnachweis_").await;
    let rows = csv_rows(&file);
    assert_eq!(rows[0][0], "Person", "{rows:?}");
    assert!(rows.len() > 1, "{rows:?}");
    assert!(rows[1..].iter().all(|r| r[0] == name), "{rows:?}");
    let granted = rows
        .iter()
        .find(|r| r.get(8).map(String::as_str) == Some("Anmeldebogen vom Empfang"))
        .unwrap_or_else(|| panic!("the new grant is not in the proof: {rows:?}"));
    assert_eq!(
        &granted[2..8],
        [
            "E-Mail",
            "Sonstiges",
            "erteilt",
            &today.format("%d.%m.%Y").to_string(),
            "schriftlich",
            "Praxis"
        ]
    );

    // The same events as a PDF on the practice's letterhead (issue 19 item 2).
    s.click_button("Einwilligungsnachweis (PDF)").await;
    s.wait_status_matching("Einwilligungsnachweis fertig.")
        .await;
    let url = s
        .attr(
            "a[aria-label='Einwilligungsnachweis herunterladen']",
            "href",
        )
        .await
        .expect("download link");
    let bytes = crate::letters::fetch_bytes(&s, &url).await;
    let pdf = crate::letters::temp_pdf("praxisbote-e2e-proof", &bytes);
    let text = crate::letters::poppler("pdftotext", &["-layout", &pdf, "-"]);
    let last_name = name.split(',').next().unwrap().trim();
    for want in [
        "Einwilligungsnachweis",
        last_name,
        // The note wraps in its column.
        "Anmeldebogen",
        &today.format("%d.%m.%Y").to_string(),
        "IBAN DE02 1203 0000 0000 2020 51",
    ] {
        assert!(
            text.contains(want),
            "{want} missing in the PDF proof:\n{text}"
        );
    }
    // Every CSV event is a row of the PDF's table.
    let states = text.matches("erteilt").count() + text.matches("widerrufen").count();
    assert!(
        states >= rows.len() - 1,
        "{} events, {states} states:\n{text}",
        rows.len() - 1
    );
    let _ = std::fs::remove_file(&pdf);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue #15 item 6: the include box shows the row's real state when an inclusion is
/// refused (no consent: the override dialog opens), when the dialog is cancelled, and when
/// the override is confirmed; the override reaches the send log with its reason, and no
/// other letter is logged without consent (issue #14 item 3: nothing is made up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_override_refuse_cancel_confirm_and_the_log_keeps_the_reason() {
    let dir = temp_dir("consent-override");
    let s = Session::start_with_download_dir(&dir).await;
    let (included, row) = letter_recall_review(&s).await;
    let name = row["name"].as_str().unwrap().to_string();
    let label = format!("{name} übernehmen");

    // Refused: the dialog opens, the box stays empty.
    s.click_by_label(&label).await;
    s.wait_text("Ohne Einwilligung aufnehmen?").await;
    assert!(
        !s.checkbox_by_label(&label).await,
        "box ticked while refused"
    );
    // Cancelled: still empty, nothing included.
    s.click_button("Abbrechen").await;
    assert!(!dialog_open(&s).await);
    assert!(
        !s.checkbox_by_label(&label).await,
        "box ticked after cancel"
    );
    assert_eq!(included_count(&s).await, included);
    // Confirmed with a reason: ticked, counted, noted.
    let reason = "Einwilligung liegt schriftlich vor, noch nicht erfasst";
    s.click_by_label(&label).await;
    s.fill_by_label("Begründung", reason).await;
    s.click_button("Trotzdem aufnehmen").await;
    wait_included(&s, included + 1).await;
    let r = wait_row(&s, &name, "included", |r| r["checked"] == true).await;
    assert!(r["note"].as_str().unwrap().contains(reason), "{r}");
    // Unticked again: the override is dropped.
    s.click_by_label(&label).await;
    wait_included(&s, included).await;
    wait_row(&s, &name, "excluded", |r| r["checked"] == false).await;
    s.click_by_label(&label).await;
    s.fill_by_label("Begründung", reason).await;
    s.click_button("Trotzdem aufnehmen").await;
    wait_included(&s, included + 1).await;

    s.click_button("Übernahme").await;
    s.wait_text(&format!("{} Empfänger", included + 1)).await;
    s.click_button("PDF erzeugen").await;
    let result = s.wait_status_matching("PDF fertig").await;
    assert_eq!(support::numbers(&result)[0], included + 1, "{result}");
    s.wait_status_matching("gedruckt").await;

    // The send log (CSV) has the override with its reason, for that person only.
    go(&s, "#/protokoll").await;
    s.click_button("CSV exportieren").await;
    let file = wait_download(&dir, "Versandprotokoll_").await;
    let rows = csv_rows(&file);
    let consent_col = rows[0].iter().position(|h| h == "Einwilligung").unwrap();
    let name_col = rows[0].iter().position(|h| h == "Empfänger").unwrap();
    let overrides: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[consent_col].starts_with("Ohne Einwilligung"))
        .collect();
    assert_eq!(overrides.len(), 1, "{overrides:?}");
    assert_eq!(overrides[0][name_col], name);
    assert!(overrides[0][consent_col].ends_with(reason), "{overrides:?}");
    assert!(
        rows[1..]
            .iter()
            .filter(|r| r[consent_col].starts_with("Einwilligung vom"))
            .count()
            == included,
        "every other letter has its consent: {rows:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue #15 item 6 and #14 item 3: a NEIN row links to the person's form; a consent
/// granted there updates the review (JA, included). After the hand-over the consent is
/// withdrawn again: "PDF erzeugen" leaves that person out and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nein_row_links_to_the_form_and_a_withdrawal_after_handover_is_not_printed() {
    let s = Session::start().await;
    let (included, row) = letter_recall_review(&s).await;
    let name = row["name"].as_str().unwrap().to_string();
    let href = person_link(&row);
    grant_in_form_and_hand_over(&s, &name, included).await;

    // Withdrawn after the hand-over (the review is a snapshot; the print is not).
    go(&s, &href).await;
    withdraw_letter_recall(&s).await;
    print_without(&s, included, &name).await;
}

/// Issue #14 item 3: the consent is withdrawn in ANOTHER tab (a second window of the same
/// browser profile) between the hand-over and "PDF erzeugen": the PDF leaves that person
/// out and says why — the batch reads its persons from the store, not from this tab's copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_in_another_tab_after_handover_is_not_printed() {
    let s = Session::start().await;
    let (included, row) = letter_recall_review(&s).await;
    let name = row["name"].as_str().unwrap().to_string();
    let href = person_link(&row);
    grant_in_form_and_hand_over(&s, &name, included).await;

    // Tab B withdraws; tab A prints straight away.
    let (_tab_b, tab_a) = s.new_window().await;
    s.open(&href).await;
    withdraw_letter_recall(&s).await;
    s.switch_to(&tab_a).await;
    print_without(&s, included, &name).await;
}

/// Whether the "Übernahme" button is disabled.
async fn handover_disabled(s: &Session) -> bool {
    s.script(
        "return [...document.querySelectorAll('button')]\
         .find(b => b.textContent.trim() === 'Übernahme').disabled;",
    )
    .await
    .as_bool()
    .expect("the Übernahme button")
}

/// Issue #14 item 2: a person of an open review is changed in another tab (a consent
/// granted there). The review does not change under the user's eyes: it says "Daten
/// geändert — Überprüfung aktualisieren", marks the row, and cannot be handed over; after
/// "Überprüfung aktualisieren" the row shows the change and the hand-over includes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_changed_in_another_tab_makes_the_open_review_stale_and_stops_the_handover() {
    let s = Session::start().await;
    let (included, row) = letter_recall_review(&s).await;
    let name = row["name"].as_str().unwrap().to_string();
    let href = person_link(&row);
    assert!(!handover_disabled(&s).await);

    // Tab B grants the consent of that NEIN row's person.
    let (_tab_b, tab_a) = s.new_window().await;
    s.open(&href).await;
    grant_letter_recall(&s).await;
    s.switch_to(&tab_a).await;

    // Tab A: the notice, the marked row (still as it was shown), no hand-over.
    s.wait_text("Daten geändert — Überprüfung aktualisieren")
        .await;
    let r = wait_row(&s, &name, "marked as changed", |r| {
        r["note"].as_str().unwrap_or("").contains("Daten geändert")
    })
    .await;
    assert_eq!(r["allowed"], "NEIN", "{r}");
    assert_eq!(r["checked"], false, "{r}");
    assert!(
        handover_disabled(&s).await,
        "a stale review can be handed over"
    );
    s.script(
        "[...document.querySelectorAll('button')]\
         .find(b => b.textContent.trim() === 'Übernahme').click();",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        s.current_url().await.contains("#/versand/pruefen"),
        "left the stale review: {}",
        s.current_url().await
    );
    assert_eq!(included_count(&s).await, included);

    // Refreshed: the row is JA and included, the notice is gone, the hand-over has it.
    s.click_button("Überprüfung aktualisieren").await;
    s.wait_status_matching("Überprüfung aktualisiert").await;
    let r = wait_row(&s, &name, "JA and included", |r| {
        r["allowed"] == "JA" && r["checked"] == true
    })
    .await;
    assert!(
        !r["note"].as_str().unwrap_or("").contains("Daten geändert"),
        "{r}"
    );
    wait_included(&s, included + 1).await;
    let notice = s
        .script(
            "return [...document.querySelectorAll('[role=alert]')]\
             .some(e => e.textContent.includes('Daten geändert'));",
        )
        .await;
    assert_eq!(notice, serde_json::json!(false), "the notice stays");
    assert!(!handover_disabled(&s).await);
    s.click_button("Übernahme").await;
    s.wait_text(&format!("{} Empfänger", included + 1)).await;
}
