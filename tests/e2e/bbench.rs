//! Issue 4: the composer checks the SMS sender ID from the practice settings.

use crate::support::Session;

/// Demo practice → appointments → SMS reminder → composer: the configured sender ID of the
/// demo practice passes the check; after setting a too long one in the settings the
/// composer names the problem in German.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composer_checks_the_sms_sender_id_from_the_settings() {
    let s = Session::start().await;
    s.open("#/versand").await;
    s.wait_text("Demodaten").await;
    s.take_over_all("Terminliste", "Terminerinnerung", "SMS senden …")
        .await;
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;
    let ok = s.wait_status_matching("SMS-Absender").await;
    assert!(ok.contains("PhysioSonne"), "{ok}");
    assert!(ok.contains("in Ordnung"), "{ok}");

    // A sender ID of 19 characters is too long for an alphanumeric sender.
    s.open_settings().await;
    s.fill_by_label("SMS-Absenderkennung", "Praxis Sonnenschein")
        .await;
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
    s.open("#/versand/vorlage").await;
    s.wait_status_matching("Vorschau 1 von").await;
    let err = s.text_by_label("SMS-Absender").await;
    assert!(err.contains("Praxis Sonnenschein"), "{err}");
    assert!(err.contains("ungültig"), "{err}");
    assert!(err.contains("höchstens 11 Zeichen"), "{err}");
}
