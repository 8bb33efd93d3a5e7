//! Minors and guardians (issue 19, item 3), against the real relay and a real SMTP server
//! (aiosmtpd): a new patient of ten with a guardian entered in the person form (names,
//! e-mail, the recall consent on the child's behalf); the review row says "an
//! Erziehungsberechtigte", and the recall e-mail reaches the guardian's address — not the
//! child's — with the guardian's salutation.

use crate::send::{configure_relay, World};
use crate::support::{self, Session};
use chrono::Datelike;

/// Types `value` into the date input of the label `label` (a date input takes no keys
/// portably) and tells the form.
async fn set_date(s: &Session, label: &str, value: &str) {
    s.script(&format!(
        "const l = [...document.querySelectorAll('label')].find(l => l.textContent.trim().startsWith('{label}'));
         const el = l.querySelector('input');
         el.value = '{value}';
         el.dispatchEvent(new Event('input', {{bubbles: true}}));"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minors_recall_e_mail_goes_to_the_guardian_not_the_child() {
    let w = World::start("guardian", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;

    // A new patient of ten, with the child's own e-mail address and no consent of its own.
    s.open("#/neu/patient").await;
    s.wait_text("Erziehungsberechtigte").await;
    s.fill_by_label("Vorname", "Tim").await;
    s.fill_by_label("Nachname", "Kindmann").await;
    s.fill_by_label("E-Mail", "tim.kindmann@example.org").await;
    let born = chrono::Local::now().date_naive().year() - 10;
    set_date(&s, "Geburtsdatum", &format!("{born}-06-01")).await;

    // The mother: names, e-mail and the recall consent by e-mail on Tim's behalf.
    s.click_button("Erziehungsberechtigte hinzufügen").await;
    s.fill_by_label("Vorname (Erziehungsberechtigte 1)", "Anna")
        .await;
    assert_eq!(
        s.script("return document.querySelector(\"input[aria-label='Nachname (Erziehungsberechtigte 1)']\").value;")
            .await,
        "Kindmann",
        "the family name is offered"
    );
    s.select_by_label("Geschlecht (Erziehungsberechtigte 1)", "weiblich")
        .await;
    s.fill_by_label(
        "E-Mail (Erziehungsberechtigte 1)",
        "anna.kindmann@example.org",
    )
    .await;
    s.click_by_label("Einwilligung E-Mail Recall (Erziehungsberechtigte 1)")
        .await;
    assert!(
        s.checkbox_by_label("Einwilligung E-Mail Recall (Erziehungsberechtigte 1)")
            .await
    );
    // A new person, once saved, opens in its edit form.
    s.click_button("Speichern").await;
    s.wait_until(
        "the saved person's form",
        "return location.hash.startsWith('#/person/');",
    )
    .await;
    s.wait_text("Einwilligungsnachweis").await;

    // Versand → Tim → recall by e-mail: the review row goes to the guardian.
    s.open("#/versand").await;
    s.click_button("Patienten").await;
    s.fill_by_label("Empfänger suchen", "Kindmann").await;
    s.wait_status_matching("1 Treffer").await;
    s.click_button("Alle auswählen").await;
    s.click_button("Aktion").await;
    s.select_by_label("Zweck", "Recall").await;
    s.click_button("E-Mail senden …").await;
    let counts = s.wait_status_matching("übernommen").await;
    assert_eq!(support::numbers(&counts)[3], 1, "{counts}");
    let rows = s.all_texts("table tbody tr").await;
    let row = rows
        .iter()
        .find(|r| r.contains("Kindmann, Tim"))
        .unwrap_or_else(|| panic!("Tim's row: {rows:?}"));
    assert!(
        row.contains("an Erziehungsberechtigte: Anna Kindmann"),
        "{row}"
    );
    assert!(row.contains("anna.kindmann@example.org"), "{row}");
    assert!(!row.contains("tim.kindmann@example.org"), "{row}");

    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;
    // The preview is addressed as the message will be: to the guardian.
    let preview = s
        .script("return document.querySelector('div.message').textContent;")
        .await;
    assert!(
        preview
            .as_str()
            .unwrap_or("")
            .contains("Sehr geehrte Frau Kindmann"),
        "{preview}"
    );
    s.click_button("Senden").await;
    s.wait_status_matching("1 von 1 abgeschlossen").await;

    let mails = w.wait_mails(1, 30);
    assert_eq!(mails.len(), 1, "exactly one e-mail");
    let mail = &mails[0];
    assert_eq!(
        mail.header("X-RcptTo").to_lowercase(),
        "anna.kindmann@example.org",
        "the guardian's address, not the child's"
    );
    assert!(
        mail.text.contains("Sehr geehrte Frau Kindmann"),
        "the guardian's salutation: {}",
        mail.text
    );
}
