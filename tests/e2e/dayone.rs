//! Issue 19, first day of a practice: GDT/BDT and Excel import, appointments from a calendar
//! (.ics) with the confirmation step, and address labels / DL envelopes as PDF from the
//! composer's recipients (checked with poppler).

use crate::import::{patient_count, wait_count};
use crate::letters::{birthday_query, fetch_bytes, pdf_pages, poppler, temp_pdf};
use crate::support::{self, Session};
use fantoccini::Locator;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn choose(s: &Session, file: &str) {
    s.open("#/import").await;
    s.wait_css("input[type=file][aria-label='Datei auswählen']")
        .await
        .send_keys(&fixture(file))
        .await
        .expect("choose file");
}

/// Imports a file whose check finds `new` new persons, and waits for the patient list.
async fn import_persons(s: &Session, file: &str, new: usize, before: usize) {
    choose(s, file).await;
    s.wait_status_matching("Erkannt").await;
    s.click_button("Prüfen").await;
    let summary = s.wait_status_matching("Datensätze gelesen").await;
    assert!(summary.contains(&format!("{new} neu")), "{file}: {summary}");
    s.click_button(&format!("{new} Datensätze importieren"))
        .await;
    s.wait_status_matching("Import abgeschlossen").await;
    s.wait_css("table.data tbody tr td a").await;
    wait_count(s, before + new).await;
}

/// A BDT export (ISO 8859-1) and an Excel workbook (made with LibreOffice) go through the
/// same mapping, report and atomic apply as CSV; treatment records are named, not imported;
/// a damaged BDT file is refused naming its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_bdt_and_excel() {
    let s = Session::start().await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    let before = patient_count(&s).await;

    // A damaged file first: nothing happens but a message naming the line.
    choose(&s, "xdt/bad_length.bdt").await;
    s.wait_for(Locator::XPath(
        "//*[@role='alert'][contains(., 'Zeile 14')][contains(., 'nichts importiert')]",
    ))
    .await;

    choose(&s, "xdt/bdt_iso8859.bdt").await;
    let detected = s.wait_status_matching("Erkannt").await;
    assert!(detected.contains("BDT 02.90"), "{detected}");
    assert!(detected.contains("ISO 8859-1"), "{detected}");
    assert!(detected.contains("3 Patienten"), "{detected}");
    let skipped = s
        .wait_css("[aria-label='Nicht übernommene Daten']")
        .await
        .text()
        .await
        .unwrap();
    assert!(skipped.contains("6200 Behandlungsdaten (3×)"), "{skipped}");
    assert!(skipped.contains("3105 Versichertennummer"), "{skipped}");
    s.wait_text("von Bülow").await;
    assert!(
        !s.source().await.contains("Lumbago"),
        "treatment text on the page"
    );
    s.click_button("Prüfen").await;
    let summary = s.wait_status_matching("Datensätze gelesen").await;
    assert!(summary.contains("3 neu"), "{summary}");
    assert!(summary.contains("0 fehlerhaft"), "{summary}");
    s.click_button("3 Datensätze importieren").await;
    s.wait_status_matching("Import abgeschlossen").await;
    s.wait_css("table.data tbody tr td a").await;
    wait_count(&s, before + 3).await;
    s.fill_by_label("Patienten durchsuchen", "oztürk").await;
    s.wait_text("Öztürk, Ülkü").await;

    // Excel: same flow; the impossible birth date of row 5 is reported with its row.
    choose(&s, "sheet/patienten.xlsx").await;
    let detected = s.wait_status_matching("Erkannt").await;
    assert!(detected.contains("Excel (.xlsx)"), "{detected}");
    assert!(detected.contains("4 Datensätze"), "{detected}");
    let notice = s
        .wait_css("[aria-label='Behandlungsdaten']")
        .await
        .text()
        .await
        .unwrap();
    assert!(notice.contains("„Diagnose“"), "{notice}");
    s.wait_text("Schloßallee 4").await;
    s.click_button("Prüfen").await;
    let summary = s.wait_status_matching("Datensätze gelesen").await;
    assert!(summary.contains("3 neu"), "{summary}");
    assert!(summary.contains("1 fehlerhaft"), "{summary}");
    let errors = s.all_texts("[aria-label='Fehlerhafte Zeilen'] li").await;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("Zeile 5 (Datensatz 4), Spalte „Geburtsdatum“"),
        "{errors:#?}"
    );
    s.click_button("3 Datensätze importieren").await;
    s.wait_status_matching("Import abgeschlossen").await;
    s.wait_css("table.data tbody tr td a").await;
    wait_count(&s, before + 6).await;
    s.fill_by_label("Patienten durchsuchen", "grosslich").await;
    s.wait_text("Größlich, Jürgen").await;
}

/// A calendar export: matched by e-mail, phone and name, an ambiguous event needs a choice,
/// unmatched and unusable events are listed; "Abbrechen" stores nothing, "übernehmen" stores
/// all in one go, and the same file again finds everything imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_calendar_with_confirmation() {
    let s = Session::start().await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    let before = patient_count(&s).await;
    import_persons(&s, "sheet/patienten.ods", 3, before).await;
    import_persons(&s, "e2e_meier.csv", 2, before + 3).await;

    choose(&s, "ics/kalender.ics").await;
    let summary = s.wait_status_matching("Termine gelesen").await;
    assert!(
        summary.starts_with("8 Termine gelesen: 4 zugeordnet, 1 mehrdeutig"),
        "{summary}"
    );
    let matched = s
        .all_texts("[aria-label='Zugeordnete Termine'] tbody tr")
        .await;
    assert_eq!(matched.len(), 4, "{matched:#?}");
    assert!(matched[0].contains("Größlich, Jürgen") && matched[0].contains("Krankengymnastik"));
    assert!(matched[1].contains("Weiß-Öztürk, Ayşe") && matched[1].contains("E-Mail"));
    assert!(matched[2].contains("Zwölfer, Björn") && matched[2].contains("Telefonnummer"));
    let unmatched = s
        .all_texts("[aria-label='Termine ohne passende Person'] li")
        .await;
    assert!(
        unmatched.iter().any(|u| u.contains("Hans Unbekannt")),
        "{unmatched:#?}"
    );
    let skipped = s.all_texts("[aria-label='Übersprungene Termine'] li").await;
    assert!(
        skipped.iter().any(|u| u.contains("ganztägig")),
        "{skipped:#?}"
    );
    assert!(
        skipped.iter().any(|u| u.contains("Serientermin")),
        "{skipped:#?}"
    );
    // The description (treatment notes) is nowhere on the page.
    assert!(!s.source().await.contains("Lumbago"));

    // Cancel: nothing stored, so the same file matches the same again.
    s.click_button("Abbrechen").await;
    s.wait_status_matching("Import abgebrochen").await;
    choose(&s, "ics/kalender.ics").await;
    let summary = s.wait_status_matching("Termine gelesen").await;
    assert!(summary.contains("4 zugeordnet"), "{summary}");

    // Choose the person of the ambiguous event, then take over 5.
    s.wait_css("select[aria-label='Person für Termin 4']").await;
    let option = s
        .wait_for(Locator::XPath(
            "//select[@aria-label='Person für Termin 4']/option[starts-with(., 'Meier, Maria')]",
        ))
        .await;
    option.click().await.expect("choose Maria Meier");
    s.click_button("5 Termine übernehmen").await;
    s.wait_status_matching("Import abgeschlossen: 5 Termine neu")
        .await;

    // Again: everything is there already.
    choose(&s, "ics/kalender.ics").await;
    let summary = s.wait_status_matching("Termine gelesen").await;
    assert!(summary.contains("0 zugeordnet"), "{summary}");
    let skipped = s.all_texts("[aria-label='Übersprungene Termine'] li").await;
    assert_eq!(
        skipped
            .iter()
            .filter(|u| u.contains("bereits importiert"))
            .count(),
        5,
        "{skipped:#?}"
    );
}

/// Postcode sort with the count per Leitregion, then address labels (3 × 8) and DL envelopes
/// as PDFs from the composer's recipients: page counts, page sizes and label order checked
/// with poppler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_and_envelopes_from_the_selection() {
    let s = Session::start().await;
    birthday_query(&s, 60).await;
    s.click_button("Alle auswählen").await;
    s.click_button("Aktion").await;
    s.select_by_label("Zweck", "Geburtstag").await;
    s.click_button("Serienbrief erstellen …").await;
    let counts = s.wait_status_matching("übernommen").await;
    let n = support::numbers(&counts)[3];
    assert!(n >= 2, "{counts}");
    s.click_button("Übernahme").await;
    s.wait_text(&format!("{n} Empfänger")).await;

    // Sorted by postcode: the regions add up to the recipients.
    s.click_by_label("Briefe nach Postleitzahl sortieren").await;
    // The table is drawn after the click: wait for its rows before reading them.
    s.wait_css("[aria-label='Briefe je Leitregion'] tbody tr")
        .await;
    let regions = s
        .all_texts("[aria-label='Briefe je Leitregion'] tbody tr")
        .await;
    assert!(!regions.is_empty());
    let total: usize = regions
        .iter()
        .map(|r| *support::numbers(r).last().unwrap())
        .sum();
    assert_eq!(total, n, "{regions:#?}");

    // Labels, 3 × 8.
    s.select_by_label(
        "Etiketten- oder Umschlagformat",
        "Etiketten A4, 3 × 8 (70 × 37 mm)",
    )
    .await;
    s.click_button("Etiketten/Umschläge erstellen (PDF)").await;
    let done = s.wait_status_matching("Adressen auf").await;
    let nums = support::numbers(&done);
    assert_eq!(nums[0], n, "{done}");
    let url = s
        .attr("a[aria-label='Etiketten herunterladen']", "href")
        .await
        .expect("download link");
    let path = temp_pdf("praxisbote-e2e-labels", &fetch_bytes(&s, &url).await);
    assert_eq!(pdf_pages(&path), n.div_ceil(24));
    assert_eq!(nums[1], n.div_ceil(24), "{done}");
    let info = poppler("pdfinfo", &[&path]);
    assert!(info.contains("595.28 x 841.89"), "{info}");
    // Postcodes in label order (page, row, column) ascend: the sort reached the labels.
    let html = poppler("pdftotext", &["-bbox", &path, "-"]);
    let mut codes: Vec<(usize, i64, i64, String)> = Vec::new();
    let mut page = 0;
    for part in html.split('<') {
        if part.starts_with("page ") {
            page += 1;
        } else if let Some(rest) = part.strip_prefix("word ") {
            let (attrs, text) = rest.split_once('>').unwrap();
            if text.len() == 5 && text.bytes().all(|b| b.is_ascii_digit()) {
                let get = |k: &str| -> f64 {
                    let s = attrs.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
                    attrs[s..s + attrs[s..].find('"').unwrap()].parse().unwrap()
                };
                // Row by the label height (37 mm ≈ 104.9 pt).
                codes.push((
                    page,
                    (get("yMin") / 104.9) as i64,
                    get("xMin") as i64,
                    text.into(),
                ));
            }
        }
    }
    codes.sort();
    assert!(!codes.is_empty(), "no postcodes in the label PDF");
    let in_order: Vec<&String> = codes.iter().map(|c| &c.3).collect();
    let mut sorted = in_order.clone();
    sorted.sort();
    assert_eq!(in_order, sorted, "labels are not in postcode order");
    let _ = std::fs::remove_file(&path);

    // DL envelopes: one 220 × 110 mm page per recipient.
    s.select_by_label(
        "Etiketten- oder Umschlagformat",
        "Briefumschlag DL ohne Fenster (220 × 110 mm)",
    )
    .await;
    s.click_button("Etiketten/Umschläge erstellen (PDF)").await;
    s.wait_status_matching(&format!("{n} Adressen auf {n} Seiten"))
        .await;
    let url = s
        .attr("a[aria-label='Etiketten herunterladen']", "href")
        .await
        .expect("download link");
    let path = temp_pdf("praxisbote-e2e-envelopes", &fetch_bytes(&s, &url).await);
    assert_eq!(pdf_pages(&path), n);
    let info = poppler("pdfinfo", &[&path]);
    assert!(info.contains("623.62 x 311.81"), "{info}");
    let _ = std::fs::remove_file(&path);
}
