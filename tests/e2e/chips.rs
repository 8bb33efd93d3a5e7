//! The chip view of the composer (issue 19, item 7): a practice edits a template without
//! seeing template syntax — placeholders are named chips, an optional line is a switch on
//! its chip — and the Expertenansicht shows the template that edit wrote.

use crate::support::Session;
use fantoccini::key::Key;

const BODY: &str = "[role='textbox'][aria-label='Text']";

/// The chip view's text as the page shows it.
async fn shown(s: &Session) -> String {
    s.script(&format!(
        "return document.querySelector(\"{BODY}\").innerText;"
    ))
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// The raw template of the Expertenansicht.
async fn raw(s: &Session) -> String {
    s.script("return document.querySelector(\"textarea[aria-label='Text']\").value;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_practice_edits_a_template_without_seeing_template_syntax() {
    let s = Session::start().await;
    s.open("#/versand").await;
    s.wait_text("Demodaten").await;
    s.take_over_all("Terminliste", "Terminerinnerung", "E-Mail senden …")
        .await;
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;

    // The chip view: names, no syntax. The Du/Sie choice shows its two forms, the place of
    // the appointment is a segment shown only when there is one.
    s.wait_css(&format!("{BODY} .chip")).await;
    let text = shown(&s).await;
    assert!(text.starts_with("«Anrede»,"), "{text}");
    assert!(text.contains("«Termin: Datum»"), "{text}");
    assert!(
        text.contains("«Du: wir erinnern dich an deinen · Sie: wir erinnern Sie an Ihren»"),
        "{text}"
    );
    for syntax in ["{{", "}}", "{%", "%}"] {
        assert!(!text.contains(syntax), "{syntax} in the chip view: {text}");
    }
    let subject = s
        .script(
            "return document.querySelector(\"[role='textbox'][aria-label='Betreff']\").innerText;",
        )
        .await;
    let subject = subject.as_str().unwrap_or_default();
    assert!(
        subject.contains("«Termin: Bezeichnung»") && !subject.contains("{{"),
        "{subject}"
    );
    let optional = s
        .script(&format!(
            "return document.querySelector(\"{BODY} .optional\").getAttribute('data-cond');"
        ))
        .await;
    assert_eq!(optional, serde_json::json!("termin.ort"));

    // Keyboard only: the caret to the end of the text, a new line, some words.
    s.script(&format!(
        "const e = document.querySelector(\"{BODY}\"); e.focus();
         const r = document.createRange(); r.selectNodeContents(e); r.collapse(false);
         const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r);"
    ))
    .await;
    s.press(Key::Enter).await;
    s.type_text("Ort: ").await;
    // The placeholder menu inserts a chip at the caret.
    let palette_entry = "Platzhalter Termin: Ort einfügen: Ort oder Raum des Termins";
    s.tab_to(palette_entry).await;
    s.press(Key::Enter).await;
    s.wait_until(
        "the chip at the end",
        &format!(
            "return document.querySelector(\"{BODY}\").innerText.trimEnd().endsWith('Ort: «Termin: Ort»');"
        ),
    )
    .await;
    // The caret passes a chip in one step: Backspace takes it as a whole.
    s.press(Key::Backspace).await;
    s.wait_until(
        "the chip deleted as one unit",
        &format!("return document.querySelector(\"{BODY}\").innerText.trimEnd().endsWith('Ort:');"),
    )
    .await;
    s.tab_to(palette_entry).await;
    s.press(Key::Enter).await;
    s.wait_until(
        "the chip inserted again",
        &format!(
            "return document.querySelector(\"{BODY}\").innerText.trimEnd().endsWith('Ort: «Termin: Ort»');"
        ),
    )
    .await;

    // The new line is shown only when there is a place: the switch on its chip.
    let switch = "Termin: Ort: nur wenn vorhanden (Zeile „Ort: «Termin: Ort»“)";
    s.tab_to(switch).await;
    s.press(Key::Enter).await;
    s.wait_until(
        "the switch on",
        &format!(
            "const b = Array.from(document.querySelectorAll(\"[role='switch']\"))
                 .find(b => b.getAttribute('aria-label') === {switch:?});
             return !!b && b.getAttribute('aria-checked') === 'true';"
        ),
    )
    .await;
    let text = shown(&s).await;
    for syntax in ["{{", "{%"] {
        assert!(!text.contains(syntax), "{syntax} in the chip view: {text}");
    }

    // The Expertenansicht shows the template that was written.
    s.click_button("Expertenansicht").await;
    let template = raw(&s).await;
    assert!(
        template.ends_with(
            "{{ praxis.webseite }}{% if termin.ort %}\nOrt: {{ termin.ort }}{% endif %}"
        ),
        "{template}"
    );
    assert!(
        template.starts_with("{{ anrede }},\n\n{% if du %}wir erinnern dich"),
        "{template}"
    );

    // The preview renders it: the place when the appointment has one, else no line.
    let preview = s.text_by_label("Vorschau").await;
    assert!(
        !preview.contains("{{") && !preview.contains("{%"),
        "{preview}"
    );
    match preview.rsplit_once("\nOrt: ") {
        Some((_, place)) => assert!(!place.trim().is_empty(), "{preview}"),
        None => assert!(!preview.contains("Ort:"), "{preview}"),
    }

    // An edit in the Expertenansicht shows as a chip in the chip view: one template.
    let el = s.wait_css("textarea[aria-label='Text']").await;
    el.send_keys(" {{ vorname }}").await.expect("type");
    s.click_button("Expertenansicht").await;
    s.wait_until(
        "the chip view with the new chip",
        &format!(
            "const e = document.querySelector(\"{BODY}\");
             return !!e && e.innerText.trimEnd().endsWith('«Termin: Ort» «Vorname»');"
        ),
    )
    .await;
    let text = shown(&s).await;
    assert!(!text.contains("{{"), "{text}");
}
