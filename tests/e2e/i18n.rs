//! Languages: German by default, English switchable in the navigation; the choice survives a
//! reload and sets `<html lang>`.

use crate::support::Session;

async fn html_lang(s: &Session) -> String {
    s.script("return document.documentElement.lang;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_to_english_survives_a_reload_and_back_to_german() {
    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    s.click_link("Patienten").await;
    assert_eq!(html_lang(&s).await, "de");

    // Switching reloads the page in English.
    s.select_by_label("Sprache der Oberfläche", "English").await;
    s.click_link("Patients").await;
    s.wait_text("Demo data").await;
    s.wait_css("table.data tbody tr td a").await;
    s.wait_status_matching("matches").await;
    s.fill_by_label("Search patients", "zzzz-nobody").await;
    s.wait_for(fantoccini::Locator::XPath(
        "//*[@role='status'][normalize-space(.)='0 matches']",
    ))
    .await;
    assert_eq!(html_lang(&s).await, "en");
    for label in ["Prospects", "Appointments", "Send", "Templates", "Settings"] {
        s.wait_for(fantoccini::Locator::XPath(&format!(
            "//nav//a[normalize-space(.)='{label}']"
        )))
        .await;
    }

    // The choice is remembered.
    s.reload().await;
    s.click_link("Appointments").await;
    s.wait_text("appointments on").await;
    assert_eq!(html_lang(&s).await, "en");

    // And back to German.
    s.select_by_label("Interface language", "Deutsch").await;
    s.click_link("Termine").await;
    s.wait_text("Termine am").await;
    assert_eq!(html_lang(&s).await, "de");
    s.reload().await;
    s.click_link("Patienten").await;
    s.wait_status_matching("Treffer").await;
}

/// Waits for a button with this accessible name (text or aria-label).
async fn wait_button(s: &Session, name: &str) {
    s.wait_for(fantoccini::Locator::XPath(&format!(
        "//button[normalize-space(.)='{name}' or @aria-label='{name}']"
    )))
    .await;
}

/// In English every converted page shows English names: the send flow (selection, review,
/// composer with its send panel), the log, the settings (practice and relay), import and
/// backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_converted_page_speaks_english() {
    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    s.select_by_label("Sprache der Oberfläche", "English").await;
    s.wait_text("Demo data").await;

    // Send: choosing recipients → review → composer.
    s.click_link("Send").await;
    s.wait_text("Send: choose recipients").await;
    s.click_button("Appointment list").await;
    s.wait_status_matching("matches").await;
    s.click_button("Select all").await;
    s.wait_status_matching("selected").await;
    s.click_button("Action").await;
    s.select_by_label("Purpose", "Appointment reminder").await;
    s.click_button("Send E-mail …").await;
    s.click_button("Hand over").await;
    s.wait_status_matching("Preview 1 of").await;
    s.wait_text("Template: E-mail · Appointment reminder").await;
    s.wait_text("Before output").await;
    s.wait_css("[aria-label='Insert placeholder']").await;
    wait_button(&s, "Back to review").await;
    wait_button(&s, "Next recipient").await;
    s.wait_css("section[aria-label='Sending']").await;
    wait_button(&s, "Send").await;
    assert!(!s.source().await.contains("Vor der Ausgabe"));

    // Log.
    s.click_link("Log").await;
    wait_button(&s, "Export CSV").await;
    wait_button(&s, "Fetch unsubscribes").await;
    s.wait_css("p[aria-label='Connection']").await;

    // Settings: practice and relay.
    s.click_link("Settings").await;
    s.wait_text("Practice name").await;
    s.wait_text("Sending through praxisbote-relay").await;
    wait_button(&s, "Save relay").await;
    wait_button(&s, "Test connection").await;
    s.wait_css("[aria-label='Send test to']").await;

    // Import.
    s.click_link("Import").await;
    s.wait_text("Choose a file or drop it here").await;
    s.wait_css("input[aria-label='Choose file']").await;
    s.wait_text("Treatment data (diagnosis, history, therapy, findings …) is never imported.")
        .await;

    // Backup.
    s.click_link("Backup").await;
    wait_button(&s, "Download backup").await;
    s.wait_status_matching("Last backup:").await;
    s.wait_css("input[aria-label='Choose backup file']").await;
    s.wait_text("Restore backup").await;
    let page = s.source().await;
    for german in [
        "Sicherung herunterladen",
        "Letzte Sicherung",
        "Einstellungen",
    ] {
        assert!(!page.contains(german), "German text left: {german}");
    }
}
