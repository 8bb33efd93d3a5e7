//! Snapshot tests: every shipped template rendered for every fixture recipient.
//!
//! Data-driven: each file in `tests/fixtures/recipients/` is one case (a person and an optional
//! appointment); `tests/fixtures/practice.json` holds the practice, the date and the
//! unsubscribe link. One snapshot per template × recipient under `tests/snapshots/`.
#![cfg(not(target_arch = "wasm32"))]

use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use praxisbote_core::domain::address::address_block;
use praxisbote_core::domain::placeholders::{
    build_context, message_label, Availability, ContextInput,
};
use praxisbote_core::domain::render::{recipient_warnings, validate, Renderer};
use praxisbote_core::domain::sms;
use praxisbote_core::domain::template::shipped_templates;
use praxisbote_core::domain::{Appointment, Channel, Person, PracticeSettings};
use serde::Deserialize;

#[derive(Deserialize)]
struct PracticeFixture {
    today: NaiveDate,
    unsubscribe_link: String,
    practice: PracticeSettings,
}

#[derive(Deserialize)]
struct RecipientFixture {
    person: Person,
    appointment: Option<Appointment>,
}

fn fixtures_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

fn load_recipients() -> Vec<(String, RecipientFixture)> {
    let mut files: Vec<_> = std::fs::read_dir(fixtures_dir().join("recipients"))
        .expect("fixtures dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let fx: RecipientFixture =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, fx)
        })
        .collect()
}

/// No appointment type (unless the practice's label names it) and no therapist in any
/// part of a message; no literal `**` in a plain-text part.
fn assert_no_treatment_data(
    t: &praxisbote_core::domain::template::Template,
    fx: &RecipientFixture,
    practice: &PracticeSettings,
    m: &praxisbote_core::domain::render::RenderedMessage,
) {
    let all = format!(
        "{}\n{}\n{}",
        m.subject.as_deref().unwrap_or(""),
        m.body,
        m.html.as_deref().unwrap_or("")
    );
    if let Some(a) = &fx.appointment {
        // Unless the practice's label itself names the type ("Kurs Rückenschule").
        if !message_label(practice, &a.kind, t.language).contains(a.kind.trim()) {
            assert!(!all.contains(a.kind.trim()), "{}: type {}", t.id, a.kind);
        }
        assert!(
            !all.contains(a.therapist.trim()) || a.therapist.trim().is_empty(),
            "{}: {}",
            t.id,
            a.therapist
        );
    }
    assert!(!m.body.contains("**"), "{}: ** in the text part", t.id);
}

#[test]
fn shipped_templates_render_for_fixture_recipients() {
    let practice: PracticeFixture = serde_json::from_str(
        &std::fs::read_to_string(fixtures_dir().join("practice.json")).unwrap(),
    )
    .unwrap();
    let recipients = load_recipients();
    assert!(recipients.len() >= 4, "expected fixture recipients");
    let templates = shipped_templates();
    assert_eq!(templates.len(), 24);

    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();

    for t in &templates {
        // Shipped templates must pass the pre-send validation (with appointments for
        // reminders, without for everything else).
        // Shipped templates never need therapist names (off by default).
        let has_appts = t.purpose == praxisbote_core::domain::Purpose::AppointmentReminder;
        let available = Availability {
            appointments: has_appts,
            therapist_names: false,
        };
        validate(t, available).unwrap_or_else(|e| panic!("{} invalid: {e:?}", t.id));
        let renderer = Renderer::new(t.language);
        for (case, fx) in &recipients {
            let ctx = build_context(ContextInput {
                person: &fx.person,
                practice: &practice.practice,
                appointment: fx.appointment.as_ref(),
                channel: t.channel,
                language: t.language,
                today: practice.today,
                unsubscribe_link: Some(&practice.unsubscribe_link),
            });
            let mut out = String::new();
            writeln!(out, "template: {} ({})", t.id, t.name).unwrap();
            writeln!(out, "recipient: {case}").unwrap();
            for w in recipient_warnings(t, &ctx) {
                writeln!(out, "warning: {}", w.message).unwrap();
            }
            if t.channel == Channel::Letter {
                writeln!(out, "--- address block ---").unwrap();
                for line in address_block(&fx.person) {
                    writeln!(out, "{line}").unwrap();
                }
            }
            match renderer.render_message(t, &ctx) {
                Err(e) => writeln!(out, "--- error ---\n{e}").unwrap(),
                Ok(m) => {
                    assert_no_treatment_data(t, fx, &practice.practice, &m);
                    if let Some(s) = &m.subject {
                        writeln!(out, "--- subject ---\n{s}").unwrap();
                    }
                    writeln!(out, "--- body ---\n{}", m.body).unwrap();
                    if t.channel == Channel::Sms {
                        let info = sms::analyse(&m.body);
                        writeln!(
                            out,
                            "--- sms ---\nencoding: {:?}, units: {}, parts: {}, forcing UCS-2: {:?}",
                            info.encoding, info.units, info.parts, info.ucs2_chars
                        )
                        .unwrap();
                    }
                    if let Some(h) = &m.html {
                        writeln!(out, "--- html ---\n{h}").unwrap();
                    }
                }
            }
            let name = format!(
                "{}__{}",
                t.id.trim_start_matches("shipped:").replace(':', "_"),
                case
            );
            insta::assert_snapshot!(name, out);
        }
    }
}
