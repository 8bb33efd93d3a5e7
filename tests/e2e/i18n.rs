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
