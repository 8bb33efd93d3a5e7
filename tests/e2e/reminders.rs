//! Issue 19, items 4 and 6: a person's own salutation and "Du" set in the person form and
//! seen in the composer's preview; the daily reminder notice on opening the app, leading into
//! the review of the right recipients and the composer with the reminder template.
//!
//! Tomorrow's appointments are seeded by the demo practice, which is generated relative to
//! today (`domain::demo`: tomorrow is a working day with 85 % of the slots taken, even on a
//! Saturday). The test computes the same demo natively to know whom to expect.

use std::collections::HashMap;

use praxisbote::domain::reminders::{self, ReminderSettings, TomorrowReminders};
use praxisbote::domain::{demo, Channel, PersonId, PersonRecord};

use crate::support::{numbers, Session};

/// The demo practice the app loads today, and its reminders for tomorrow.
fn expected() -> (Vec<PersonRecord>, TomorrowReminders) {
    let today = chrono::Local::now().date_naive();
    let practice = demo::generate(1, today);
    let by_id: HashMap<&PersonId, &PersonRecord> =
        practice.persons.iter().map(|r| (&r.person.id, r)).collect();
    let plan = reminders::tomorrow(
        today,
        practice.settings.minor_age,
        &practice.appointments,
        |id| by_id.get(id).copied(),
        |_| false,
        &ReminderSettings::default(),
    );
    (practice.persons.clone(), plan)
}

fn name_of(persons: &[PersonRecord], id: &PersonId) -> String {
    persons
        .iter()
        .find(|p| &p.person.id == id)
        .map(|p| p.person.sort_name())
        .expect("person of the plan")
}

const NOTICE: &str = "section[aria-label='Erinnerungen für morgen']";

async fn notice_text(s: &Session) -> String {
    s.wait_css(NOTICE).await.text().await.expect("notice text")
}

/// The review's count line once it is shown (read in the page, so a re-render between
/// finding and reading it does not matter).
async fn review_counts(s: &Session) -> String {
    let js = "const e = [...document.querySelectorAll('[role=status]')]\
              .find(e => e.textContent.includes('übernommen')); return e ? e.textContent : null;";
    s.wait_until(
        "the review's counts",
        &js.replace("return e ? e.textContent : null;", "return !!e;"),
    )
    .await;
    s.script(js).await.as_str().unwrap_or_default().to_string()
}

/// The text of the composer's preview once it shows recipient `i` (1-based).
/// The preview of recipient `i` (1-based), stepping there with "Nächster Empfänger".
async fn preview_at(s: &Session, i: usize) -> String {
    preview(s, 1).await;
    for _ in 1..i {
        s.click_by_label("Nächster Empfänger").await;
    }
    preview(s, i).await
}

async fn preview(s: &Session, i: usize) -> String {
    s.wait_status_matching(&format!("Vorschau {i} von")).await;
    s.text_by_label("Vorschau").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tomorrow_s_reminders_notice_opens_the_review_of_the_right_recipients() {
    let (persons, plan) = expected();
    let sms = plan.group(Channel::Sms).expect("SMS recipients tomorrow");
    let email = plan
        .group(Channel::Email)
        .expect("e-mail recipients tomorrow");
    assert!(plan.appointments > plan.reachable(), "some without consent");

    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    let text = notice_text(&s).await;
    assert!(
        text.contains(&format!(
            "Morgen {} Termine — {} erreichbar mit Einwilligung: Erinnerungen jetzt senden?",
            plan.appointments,
            plan.reachable()
        )),
        "{text}"
    );
    let sms_button = format!("Per SMS erinnern ({})", sms.recipients.len());
    let email_button = format!("Per E-Mail erinnern ({})", email.recipients.len());
    assert!(text.contains(&sms_button), "{text}");
    assert!(text.contains(&email_button), "{text}");

    // SMS: the review holds exactly the SMS group, all with consent and taken over.
    s.click_button(&sms_button).await;
    let counts = review_counts(&s).await;
    let n = sms.recipients.len();
    assert_eq!(numbers(&counts), [n, n, n, n], "{counts}");
    let main = s.wait_css("main").await.text().await.unwrap();
    for r in sms.recipients.iter().take(3) {
        let name = name_of(&persons, &r.person_id);
        assert!(main.contains(&name), "{name} not in review: {main}");
    }
    // Nothing was sent by the click: the notice is out of the way, the outbox unchanged.
    assert!(!s.source().await.contains("Per SMS erinnern"));
    s.click_button("Übernahme").await;
    s.wait_text(&format!("Vorlage: SMS · Terminerinnerung · {n} Empfänger"))
        .await;
    let chosen = s
        .script(
            "const s = document.querySelector(\"select[aria-label='Vorlage']\"); \
             return s.selectedOptions[0].textContent;",
        )
        .await;
    assert_eq!(chosen.as_str(), Some("Terminerinnerung (SMS) (Deutsch)"));

    // Back on a page: the notice again; the e-mail group goes to its own review.
    s.open("#/patienten").await;
    s.click_button(&email_button).await;
    let counts = review_counts(&s).await;
    let m = email.recipients.len();
    assert_eq!(numbers(&counts), [m, m, m, m], "{counts}");
    s.click_button("Übernahme").await;
    s.wait_text(&format!(
        "Vorlage: E-Mail · Terminerinnerung · {m} Empfänger"
    ))
    .await;

    // "Heute nicht mehr": gone, and still gone after a reload (stored, not in memory).
    s.open("#/patienten").await;
    notice_text(&s).await;
    s.click_button("Heute nicht mehr").await;
    s.wait_until(
        "the notice is dismissed",
        &format!("return !document.querySelector(\"{NOTICE}\");"),
    )
    .await;
    s.reload().await;
    s.wait_css("table.data tbody tr td a").await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        s.script(&format!("return !!document.querySelector(\"{NOTICE}\");"))
            .await,
        serde_json::Value::Bool(false),
        "the notice came back after the reload"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_salutation_and_du_from_the_person_form_show_in_the_preview() {
    let (persons, plan) = expected();
    let email = plan
        .group(Channel::Email)
        .expect("e-mail recipients tomorrow");
    // The first adult recipient of tomorrow's e-mail reminders (a minor's message goes to a
    // guardian, with the guardian's salutation) and its place in the preview.
    let today = chrono::Local::now().date_naive();
    let minors = praxisbote::domain::guardian::MinorRule::new(
        praxisbote::domain::guardian::DEFAULT_MINOR_AGE,
        today,
    );
    let at = email
        .recipients
        .iter()
        .position(|r| {
            let p = persons.iter().find(|p| p.person.id == r.person_id);
            !p.is_some_and(|p| minors.is_minor(p.sensitive.birth_date))
        })
        .expect("an adult recipient");
    let first = &email.recipients[at].person_id;
    let name = name_of(&persons, first);

    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    let button = format!("Per E-Mail erinnern ({})", email.recipients.len());

    // Before: the salutation by etiquette, formal.
    notice_text(&s).await;
    s.click_button(&button).await;
    review_counts(&s).await;
    s.click_button("Übernahme").await;
    let before = preview_at(&s, at + 1).await;
    assert!(before.contains("wir erinnern Sie an Ihren"), "{before}");
    assert!(!before.contains("Hallo Tim"), "{before}");

    // The person form: own salutation and "Duzen".
    s.open(&format!("#/person/{}", first.0)).await;
    let field = s.wait_css("input[name=salutation]").await;
    let etiquette = field.attr("placeholder").await.unwrap().unwrap_or_default();
    assert!(
        !etiquette.is_empty() && etiquette != "Hallo Tim",
        "{etiquette}"
    );
    field.send_keys("Hallo Tim").await.unwrap();
    s.wait_css("input[name=du]").await.click().await.unwrap();
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;

    // After: the preview of the same recipient uses both.
    s.open("#/patienten").await;
    s.click_button(&button).await;
    review_counts(&s).await;
    s.click_button("Übernahme").await;
    let after = preview_at(&s, at + 1).await;
    assert!(after.contains("Hallo Tim,"), "{name}: {after}");
    assert!(!after.contains(&etiquette), "{name}: {after}");
    assert!(
        after.contains("wir erinnern dich an deinen nächsten Termin"),
        "{name}: {after}"
    );
    assert!(
        after.contains("Wir freuen uns auf deinen Besuch."),
        "{after}"
    );

    // Emptied again: back to the salutation by etiquette (the form keeps "Du").
    s.open(&format!("#/person/{}", first.0)).await;
    s.fill_by_label("Eigene Anrede (leer = nach Etikette)", " ")
        .await;
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
    s.open("#/patienten").await;
    s.click_button(&button).await;
    review_counts(&s).await;
    s.click_button("Übernahme").await;
    let again = preview_at(&s, at + 1).await;
    assert!(
        again.contains(&format!("{etiquette},")),
        "{etiquette}: {again}"
    );
    assert!(!again.contains("Hallo Tim"), "{again}");
}
