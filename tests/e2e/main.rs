//! End-to-end tests in headless Chromium against the built app served by the real relay.
//!
//! Run by `cargo xtask test`, which builds `dist/`, starts praxisbote-relay and chromedriver and
//! passes their URLs in `PB_APP_URL` and `PB_WEBDRIVER_URL`. Each test opens its own browser
//! session with a fresh profile, so IndexedDB starts empty and the demo practice loads.
//! Elements are found the way a person finds them: by role and accessible name.

mod a11y;
mod bbench;
mod bundle;
mod chips;
mod consent;
mod dayone;
mod devices;
mod guardians;
mod i18n;
mod import;
mod letters;
mod lock;
mod offline;
mod optin;
mod reminders;
mod send;
mod sendfix;
mod startup;
mod support;
mod sync_bench;
mod sync_harness;
mod tabs;

use support::Session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_loads_search_change_consent_and_it_survives_a_reload() {
    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;

    // The patient table lists the demo patients; take one from the table and search for it.
    let first_link = s.wait_css("table.data tbody tr td a").await;
    let name = first_link.text().await.expect("name text");
    let last_name = name.split(',').next().unwrap().trim().to_string();
    assert!(!last_name.is_empty());
    s.fill_by_label("Patienten durchsuchen", &last_name).await;
    let count = s.wait_status_matching("Treffer").await;
    let hits: usize = count.split_whitespace().next().unwrap().parse().unwrap();
    assert!(hits >= 1, "searching {last_name} finds nothing: {count}");
    s.click_link(&name).await;

    // Grant a consent that is not yet given (or withdraw one that is) and save.
    let cell = "SMS – Recall";
    let label = format!("Einwilligung {cell}");
    let before = s.text_by_label(&label).await;
    if before == "JA" {
        s.click_button(&format!("Widerruf erfassen: {cell}")).await;
    } else {
        s.click_button(&format!("Einwilligung erfassen: {cell}"))
            .await;
        s.select_by_label("Nachweis der Einwilligung", "mündlich")
            .await;
    }
    s.click_button("Erfassen").await;
    assert_ne!(s.text_by_label(&label).await, before);
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;

    // Reload the whole page: the change must come back from IndexedDB.
    let url = s.current_url().await;
    s.reload().await;
    assert_eq!(s.current_url().await, url);
    s.wait_text("Einwilligungen").await;
    assert_ne!(
        s.text_by_label(&label).await,
        before,
        "consent change lost after reload"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn umlaut_insensitive_search_finds_people() {
    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    let total = s.wait_status_matching("Treffer").await;
    // Search a folded spelling of a name with an umlaut or ß that the table shows.
    let names = s.all_texts("table.data tbody tr td a").await;
    let with_umlaut = names
        .iter()
        .find(|n| n.chars().any(|c| "äöüßÄÖÜ".contains(c)))
        .cloned()
        .expect("the demo practice has names with umlauts");
    let last = with_umlaut.split(',').next().unwrap().trim().to_string();
    let folded: String = last
        .chars()
        .map(|c| match c {
            'ä' | 'Ä' => 'a',
            'ö' | 'Ö' => 'o',
            'ü' | 'Ü' => 'u',
            c => c,
        })
        .collect::<String>()
        .replace('ß', "ss")
        .to_lowercase();
    s.fill_by_label("Patienten durchsuchen", &folded).await;
    let after = s.wait_status_matching("Treffer").await;
    assert_ne!(after, total, "the search did not narrow the list");
    let shown = s.all_texts("table.data tbody tr td a").await;
    assert!(
        shown.iter().any(|n| n == &with_umlaut),
        "{folded} did not find {with_umlaut}: {shown:?}"
    );
}

/// Issue: recipient selection and review. Tomorrow's appointments → select all → SMS reminder
/// → the review shows red rows with reasons and NEIN rows; "Alle ohne Einwilligung abwählen" removes the
/// NEIN rows; "Übernahme" reaches the composer with the included count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appointments_tomorrow_sms_review_and_handover() {
    let s = Session::start().await;
    s.open("#/versand").await;
    s.wait_text("Demodaten").await;
    s.click_button("Terminliste").await;
    let hits = s.wait_status_matching("Treffer").await;
    let n: usize = hits.split_whitespace().next().unwrap().parse().unwrap();
    assert!(
        n >= 5,
        "the demo practice has appointments tomorrow: {hits}"
    );
    s.click_button("Alle auswählen").await;
    s.wait_status_matching(&format!("{n} ausgewählt")).await;
    s.click_button("Aktion").await;
    s.select_by_label("Zweck", "Terminerinnerung").await;
    s.click_button("SMS senden …").await;

    let counts = s.wait_status_matching("übernommen").await;
    let nums = support::numbers(&counts);
    let (selected, reachable, consented, included) = (nums[0], nums[1], nums[2], nums[3]);
    assert_eq!(selected, n, "{counts}");
    assert!(
        reachable < selected,
        "some demo persons have no mobile number: {counts}"
    );
    // Red rows carry a German reason.
    let red = s.all_texts("tr.row-bad td.error").await;
    assert!(!red.is_empty(), "no red rows");
    assert!(
        red.iter().all(|r| !r.trim().is_empty()),
        "red row without a reason: {red:?}"
    );
    assert!(
        red.iter()
            .any(|r| r.contains("Mobil") || r.contains("Festnetz") || r.contains("Nummer")),
        "{red:?}"
    );
    // NEIN rows exist, and after "Alle ohne Einwilligung abwählen" none of them is included.
    let consent_cells = s.all_texts("td .consent-no").await;
    assert!(
        !consent_cells.is_empty(),
        "the demo practice has persons without SMS consent"
    );
    s.click_button("Alle ohne Einwilligung abwählen").await;
    let after = s.wait_status_matching("übernommen").await;
    let included_after = support::numbers(&after)[3];
    assert!(included_after <= consented.min(reachable), "{after}");
    assert_eq!(
        included_after, included,
        "defaults already excluded NEIN rows: {after}"
    );
    s.click_button("Übernahme").await;
    s.wait_text(&format!("{included_after} Empfänger")).await;
}

/// Issue: composer. Preview of the first and second recipient; `{{ geburtsdatum }}` is
/// rejected with the German privacy message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composer_previews_recipients_and_rejects_birth_date() {
    let s = Session::start().await;
    s.open("#/versand").await;
    s.wait_text("Demodaten").await;
    s.take_over_all("Terminliste", "Terminerinnerung", "E-Mail senden …")
        .await;
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;
    let first = s.text_by_label("Vorschau").await;
    s.click_button("Nächster Empfänger").await;
    s.wait_status_matching("Vorschau 2 von").await;
    let second = s.text_by_label("Vorschau").await;
    assert_ne!(
        first, second,
        "the preview did not change with the recipient"
    );
    assert!(
        first.contains("Termin") || first.contains("termin"),
        "reminder text expected: {first}"
    );

    // The raw template syntax is typed in the Expertenansicht.
    s.click_button("Expertenansicht").await;
    s.fill_by_label("Text", "Hallo {{ geburtsdatum }}").await;
    let err = s
        .wait_css("[aria-label='Fehler in der Vorlage'] li")
        .await
        .text()
        .await
        .unwrap();
    assert!(err.contains("Geburtsdatum"), "{err}");
    assert!(err.contains("Datenschutz"), "{err}");
    assert!(err.contains("Zeile 1"), "{err}");
}

/// Stored records that cannot be read (here a template row that is no JSON and a saved query
/// of the wrong shape, written into IndexedDB behind the app's back) are set aside at start,
/// kept and counted: a banner names the count, the rest of the app keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_records_are_set_aside_and_counted_in_a_banner() {
    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    let r = s
        .script_async(
            r#"const done = arguments[arguments.length - 1];
            const open = indexedDB.open('praxisbote');
            open.onerror = () => done('open failed');
            open.onsuccess = () => {
              const db = open.result;
              const tx = db.transaction(['templates', 'queries'], 'readwrite');
              tx.objectStore('templates').put({key: 'kaputt', v: 1, json: '{"body": '});
              tx.objectStore('queries').put({key: 'alt', v: 1, json: '{"bedingungen": []}'});
              tx.oncomplete = () => { db.close(); done('ok'); };
              tx.onerror = () => done('tx failed: ' + tx.error);
            };"#,
        )
        .await;
    assert_eq!(r, serde_json::json!("ok"));
    s.reload().await;
    let text = s
        .wait_status_matching("nicht gelesen werden konnten: 2.")
        .await;
    assert!(text.contains("Beiseitegelegte Datensätze"), "{text}");
    // Set aside, not lost: both rows are in the quarantine store, unchanged.
    let kept = s
        .script_async(
            r#"const done = arguments[arguments.length - 1];
            const open = indexedDB.open('praxisbote');
            open.onsuccess = () => {
              const db = open.result;
              const req = db.transaction('quarantine').objectStore('quarantine').getAll();
              req.onsuccess = () => {
                db.close();
                done(req.result.map((r) => JSON.parse(r.json)).map((q) => q.store + '/' + q.key + ':' + q.body).sort());
              };
            };"#,
        )
        .await;
    assert_eq!(
        kept,
        serde_json::json!([
            "queries/alt:{\"bedingungen\": []}",
            "templates/kaputt:{\"body\": "
        ])
    );
    // The app still works: the patient list is there.
    s.wait_css("table.data tbody tr td a").await;
}

/// Issue 15: no treatment data in any message. The settings list every appointment type with
/// the label messages show for it (and why); the composer shows that label, never the type or
/// the therapist; `{{ termin.art }}` is refused, and `{{ termin.behandler }}` only passes once
/// the practice switched "Behandlername in Nachrichten" on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appointment_labels_and_therapist_names_follow_the_settings() {
    // The demo practice's appointment types and therapists.
    const TYPES: &[&str] = &[
        "Krankengymnastik",
        "Manuelle Therapie",
        "Massage",
        "Lymphdrainage",
        "Krankengymnastik am Gerät",
        "Rückenschule",
        "Erstgespräch",
        "Probetraining",
    ];
    const THERAPISTS: &[&str] = &[
        "Sabine Sonnenberg",
        "Murat Demir",
        "Katarzyna Nowak",
        "Jonas Weber",
        "Eleni Papadaki",
    ];
    let s = Session::start().await;
    s.open_settings().await;
    s.wait_text("Termine in Nachrichten").await;
    s.wait_text("Lymphdrainage").await;
    assert!(
        s.source().await.contains("Die Terminart kann verraten"),
        "the settings say why the type never appears"
    );
    assert!(!s.checkbox_by_label("Behandlername in Nachrichten").await);
    for t in TYPES {
        s.fill_by_label(
            &format!("Bezeichnung in Nachrichten für „{t}“"),
            "Praxisbesuch",
        )
        .await;
    }
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;

    s.open("#/versand").await;
    s.take_over_all("Terminliste", "Terminerinnerung", "E-Mail senden …")
        .await;
    s.click_button("Übernahme").await;
    for i in 1..=3 {
        s.wait_status_matching(&format!("Vorschau {i} von")).await;
        let preview = s.text_by_label("Vorschau").await;
        assert!(preview.contains("Erinnerung: Praxisbesuch am"), "{preview}");
        for word in TYPES.iter().chain(THERAPISTS) {
            assert!(!preview.contains(word), "{word} in {preview}");
        }
        s.click_button("Nächster Empfänger").await;
    }
    s.click_button("Expertenansicht").await;
    let palette = s.text_by_label("Platzhalter einfügen").await;
    assert!(palette.contains("termin.bezeichnung"), "{palette}");
    assert!(!palette.contains("termin.behandler"), "{palette}");
    assert!(!palette.contains("termin.art"), "{palette}");

    // The template check's message, once it names `needle`.
    async fn error_naming(s: &Session, needle: &str) -> String {
        s.wait_until(
            needle,
            &format!(
                "const e = document.querySelector(\"[aria-label='Fehler in der Vorlage'] li\"); \
                 return !!e && e.textContent.includes({needle:?});"
            ),
        )
        .await;
        s.wait_css("[aria-label='Fehler in der Vorlage'] li")
            .await
            .text()
            .await
            .unwrap()
    }
    s.fill_by_label("Text", "{{ termin.art }}").await;
    let e = error_naming(&s, "termin.bezeichnung").await;
    assert!(e.contains("Behandlungsdaten"), "{e}");
    s.fill_by_label("Text", "bei {{ termin.behandler }}").await;
    error_naming(&s, "Behandlername in Nachrichten").await;

    // The practice switches therapist names on: the placeholder passes and shows the name.
    s.open_settings().await;
    s.click_by_label("Behandlername in Nachrichten").await;
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
    s.open("#/versand/vorlage").await;
    s.wait_status_matching("Vorschau 1 von").await;
    s.click_button("Expertenansicht").await;
    s.fill_by_label("Text", "bei {{ termin.behandler }}").await;
    s.wait_until(
        "the preview with the therapist",
        "const p = document.querySelector(\"[aria-label='Vorschau'] pre\"); \
         return !!p && p.textContent.startsWith('bei ');",
    )
    .await;
    let preview = s.text_by_label("Vorschau").await;
    assert!(
        THERAPISTS.iter().any(|t| preview.contains(t)),
        "no therapist in {preview}"
    );
}
