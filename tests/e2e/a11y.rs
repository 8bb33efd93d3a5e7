//! Accessibility: axe-core (npm, run inside the headless Chromium page) reports no serious
//! or critical violation on any page of the app, including the review and the composer with
//! real recipients. `cargo xtask test` installs axe-core and passes its path in `PB_AXE_JS`.

use crate::support::Session;

/// Injects axe-core and returns the serious/critical violations as readable lines.
async fn violations(s: &Session, axe_js: &str) -> Vec<String> {
    s.script(&format!("{axe_js}\nreturn true;")).await;
    let found = s
        .script_async(
            "const done = arguments[0];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(
               r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' +
                      v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | '))
             ), e => done(['axe failed: ' + e]));",
        )
        .await;
    serde_json::from_value(found).expect("violation list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_serious_or_critical_axe_violations_on_any_page() {
    let axe_path = std::env::var("PB_AXE_JS")
        .expect("PB_AXE_JS is not set: run the end-to-end tests with `cargo xtask test`");
    let axe_js = std::fs::read_to_string(&axe_path).expect("axe.min.js");
    let s = Session::start().await;
    let mut report = Vec::new();
    let mut check = |page: &'static str, found: Vec<String>| {
        report.extend(found.into_iter().map(|v| format!("{page}: {v}")));
    };

    s.open("").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    check("Patienten", violations(&s, &axe_js).await);

    // A person's page (first patient in the table).
    let first = s.wait_css("table.data tbody tr td a").await;
    first.click().await.expect("open person");
    s.wait_text("Einwilligungen").await;
    check("Person", violations(&s, &axe_js).await);

    for (page, hash, marker) in [
        ("Interessenten", "#/interessenten", "Treffer"),
        ("Neuer Patient", "#/neu/patient", "Speichern"),
        ("Termine", "#/termine", "Termine"),
        ("Protokoll", "#/protokoll", "Protokoll"),
        ("Vorlagen", "#/vorlagen", "Vorlagen"),
        ("Einstellungen", "#/einstellungen", "Einstellungen"),
        ("Import", "#/import", "Import"),
        ("Sicherung", "#/sicherung", "Sicherung"),
        ("Versand", "#/versand", "Terminliste"),
    ] {
        s.open(hash).await;
        s.wait_text(marker).await;
        check(page, violations(&s, &axe_js).await);
    }

    // The send flow with real recipients: selection, review, composer.
    s.click_button("Terminliste").await;
    s.wait_status_matching("Treffer").await;
    s.click_button("Alle auswählen").await;
    check("Versand (Auswahl)", violations(&s, &axe_js).await);
    s.click_button("Aktion").await;
    s.select_by_label("Zweck", "Terminerinnerung").await;
    s.click_button("SMS senden …").await;
    s.wait_status_matching("übernommen").await;
    check("Überprüfung", violations(&s, &axe_js).await);
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;
    check("Vorlage/Vorschau", violations(&s, &axe_js).await);

    assert!(
        report.is_empty(),
        "axe-core found serious/critical violations:\n{}",
        report.join("\n")
    );
}

/// Keyboard only: the whole send flow (source, selection, action, review, handover, preview)
/// with Tab, Enter and Space, no click.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_send_flow_works_with_the_keyboard_alone() {
    use fantoccini::key::Key;
    let s = Session::start().await;
    s.open("#/versand").await;
    s.wait_text("Demodaten").await;
    s.tab_to("Terminliste").await;
    s.press(Key::Enter).await;
    let hits = s.wait_status_matching("Treffer").await;
    let n = crate::support::numbers(&hits)[0];
    assert!(n > 0, "{hits}");
    s.tab_to("Alle auswählen").await;
    s.press(Key::Enter).await;
    s.wait_status_matching(&format!("{n} ausgewählt")).await;
    s.tab_to("Aktion").await;
    s.press(Key::Enter).await;
    s.tab_to("E-Mail senden …").await;
    s.press(Key::Space).await;
    s.wait_status_matching("übernommen").await;
    s.tab_to("Übernahme").await;
    s.press(Key::Enter).await;
    s.wait_status_matching("Vorschau 1 von").await;
    s.tab_to("Nächster Empfänger").await;
    s.press(Key::Enter).await;
    s.wait_status_matching("Vorschau 2 von").await;
}
