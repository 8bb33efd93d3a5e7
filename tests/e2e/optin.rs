//! Double opt-in carried out (issue 15, item 4), against the real relay and a real SMTP
//! server (aiosmtpd): "Bestätigung anfordern" in the person form queues the confirmation
//! e-mail, the relay sends it with a confirmation link, the recipient's browser opens the
//! relay's page (GET confirms nothing) and presses the button (POST), "Bestätigungen
//! abrufen" records the consent with evidence "Double-Opt-in" and the confirmation date.
//! The expired link is covered at relay level (`relay/tests/optin.rs`).

use crate::send::{configure_relay, email_cell, open_prospect, World};
use crate::support::Session;

/// The first prospect with an e-mail address: opens the form, returns the address.
async fn open_a_prospect_with_email(s: &Session) -> String {
    s.click_link("Interessenten").await;
    s.fill_by_label("Interessenten durchsuchen", ".example")
        .await;
    s.wait_status_matching("Treffer").await;
    s.wait_css("table.data tbody tr td a")
        .await
        .click()
        .await
        .unwrap();
    s.wait_text("Einwilligungen").await;
    let v = s
        .script("return document.querySelector('form.person input[type=email]').value;")
        .await;
    let email = v.as_str().unwrap_or_default().trim().to_string();
    assert!(email.contains('@'), "prospect e-mail: {v}");
    email
}

/// Ticks a purpose in the "Bestätigung anfordern" section.
async fn choose(s: &Session, purpose: &str) {
    s.script(&format!(
        "document.querySelector(\"section[aria-label='Bestätigung anfordern (Double-Opt-in)'] input[aria-label='{purpose}']\").click();"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_opt_in_request_confirm_on_the_relay_page_and_fetch() {
    let w = World::start("optin", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let rcpt = open_a_prospect_with_email(&s).await;

    // No purpose chosen: nothing is queued.
    s.click_button("Bestätigung anfordern").await;
    s.wait_status_matching("mindestens einen Zweck").await;
    choose(&s, "Geburtstag").await;
    choose(&s, "Einladung").await;
    s.click_button("Bestätigung anfordern").await;
    s.wait_status_matching("Bestätigungs-E-Mail an 1 Empfänger")
        .await;

    // Exactly one e-mail arrives, with the confirmation link and no unsubscribe link.
    let mails = w.wait_mails(1, 30);
    assert_eq!(mails.len(), 1, "exactly one confirmation e-mail");
    let mail = &mails[0];
    assert_eq!(mail.header("X-RcptTo").to_lowercase(), rcpt.to_lowercase());
    assert!(mail.header("List-Unsubscribe").is_empty());
    assert!(
        mail.text.contains("Geburtstagsgrüße und Einladungen"),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("pb-bestaetigungslink"), "{}", mail.text);
    let prefix = format!("{}/b/", w.base());
    let at = mail
        .text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no confirmation link in {}", mail.text));
    let link: String = mail.text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || ":/._-".contains(*c))
        .collect();
    assert_eq!(link.len(), prefix.len() + 32, "{link}");

    // The recipient's browser opens the page: GET shows the question and confirms nothing.
    s.script(&format!(
        "window.location.href = {};",
        serde_json::json!(link)
    ))
    .await;
    s.wait_text("Einwilligung bestätigen").await;
    let page = s.script("return document.body.innerText;").await;
    assert!(
        page.as_str()
            .unwrap_or_default()
            .contains("Geburtstagsgrüße und Einladungen per E-Mail"),
        "{page}"
    );
    s.open("#/protokoll").await;
    s.click_link("Protokoll").await;
    s.click_button("Bestätigungen abrufen").await;
    s.wait_status_matching("Keine neuen Bestätigungen").await;

    // The button POSTs the confirmation.
    s.script(&format!(
        "window.location.href = {};",
        serde_json::json!(link)
    ))
    .await;
    s.click_button("Ja, ich willige ein").await;
    s.wait_text("Einwilligung bestätigt").await;

    // The app pulls it and records it: evidence and source "Double-Opt-in", today's date.
    s.open("#/protokoll").await;
    s.click_link("Protokoll").await;
    s.click_button("Bestätigungen abrufen").await;
    s.wait_status_matching("1 Bestätigungen übernommen").await;
    let today = chrono::Local::now().format("%d.%m.%Y").to_string();
    open_prospect(&s, &rcpt).await;
    for purpose in ["Geburtstag", "Einladung"] {
        let (state, detail) = email_cell(&s, purpose).await;
        assert_eq!(state, "JA", "{purpose}: {detail}");
        assert_eq!(
            detail.trim(),
            format!("seit {today} (Double-Opt-in, Double-Opt-in)"),
            "{purpose}"
        );
    }
    // Fetched again: nothing new, nothing recorded twice.
    s.open("#/protokoll").await;
    s.click_link("Protokoll").await;
    s.click_button("Bestätigungen abrufen").await;
    s.wait_status_matching("Keine neuen Bestätigungen").await;
    // The confirmation e-mail was sent once (stable message id).
    assert_eq!(w.wait_mails(1, 2).len(), 1);
}
