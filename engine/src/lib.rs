//! The template engine as its own wasm module (`dist/engine/`), loaded by the app on first use
//! (`src/app/engine.rs`), so minijinja never enters the main bundle.
//!
//! Every entry takes and returns JSON strings and only calls the pure domain code
//! (`praxisbote_core::domain::render`) — the rules (allowed placeholders per channel, strict
//! undefined, fuel, escaping) are exactly those of the domain. The context comes as the
//! name/value pairs the app built with `build_context`; [`context`] re-checks every name
//! against the catalogue of the template's channel, so nothing else can reach a template.
//!
//! Entries (names as exported to JS):
//! - `render_message(template, context)` → `Result<RenderedMessage, RenderError>`
//! - `validate(template, available)` → `Result<(), Vec<TemplateError>>` (`available`: an
//!   `Availability`: recipients with appointments, therapist names shown)
//! - `recipient_warnings(template, context)` → `Vec<RecipientWarning>`
//! - `template_hints(template)` → `Vec<TemplateHint>`
//! - `demo(seed, today)` → `Result<DemoPractice, String>` (the demo generator and its name
//!   tables live here too, they are only needed when the demo practice is (re)loaded)
//! - `read_sheet(bytes, file_name, sheet)` → `Result<SheetData, SheetError>`: one sheet of a
//!   `.xlsx`/`.xls`/`.ods` workbook for the import ([`sheet`], `calamine`)
//! - `read_calendar(text)` → `Result<Vec<CalendarEvent>, CalendarError>`: the events of an `.ics`
//!   file for the calendar import ([`ics`], `icalendar`)

pub mod ics;
pub mod sheet;

use std::cell::RefCell;
use std::collections::BTreeMap;

use praxisbote_core::domain::model::Channel;
use praxisbote_core::domain::placeholders::{Availability, MessageContext};
use praxisbote_core::domain::render::{self, RenderError, Renderer};
use praxisbote_core::domain::template::{Language, Template};
use serde::{Deserialize, Serialize};

/// The context as the app sends it (`MessageContext` serialised).
#[derive(Deserialize)]
struct ContextJson {
    values: BTreeMap<String, String>,
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| {
        // Only reachable on a bug; the app shows it as a render error.
        serde_json::to_string(&Err::<(), _>(RenderError {
            message: format!("Interner Fehler der Vorlagen-Engine: {e}"),
            line: None,
            ..Default::default()
        }))
        .unwrap_or_default()
    })
}

fn template(json: &str) -> Result<Template, RenderError> {
    serde_json::from_str(json).map_err(|e| RenderError {
        message: format!("Ungültige Vorlage: {e}"),
        line: None,
        ..Default::default()
    })
}

/// Rebuilds the recipient context; names not allowed for `channel` are dropped.
pub fn context(channel: Channel, json: &str) -> Result<MessageContext, RenderError> {
    let c: ContextJson = serde_json::from_str(json).map_err(|e| RenderError {
        message: format!("Ungültige Empfängerdaten: {e}"),
        line: None,
        ..Default::default()
    })?;
    Ok(MessageContext::from_pairs(channel, c.values))
}

thread_local! {
    /// One renderer per language, reused for every message (building one registers all
    /// builtins twice).
    static RENDERERS: RefCell<Vec<(Language, Renderer<'static>)>> = const { RefCell::new(Vec::new()) };
}

fn with_renderer<R>(language: Language, f: impl FnOnce(&Renderer<'static>) -> R) -> R {
    RENDERERS.with(|cell| {
        let mut all = cell.borrow_mut();
        let i = match all.iter().position(|(l, _)| *l == language) {
            Some(i) => i,
            None => {
                all.push((language, Renderer::new(language)));
                all.len() - 1
            }
        };
        f(&all[i].1)
    })
}

/// `Result<RenderedMessage, RenderError>` as JSON.
pub fn render_message(template_json: &str, context_json: &str) -> String {
    let r = template(template_json).and_then(|t| {
        let ctx = context(t.channel, context_json)?;
        with_renderer(t.language, |r| r.render_message(&t, &ctx))
    });
    to_json(&r)
}

/// `Result<(), Vec<TemplateError>>` as JSON (an unreadable template or availability is an
/// `Err` render error).
pub fn validate(template_json: &str, available_json: &str) -> String {
    let available = serde_json::from_str::<Availability>(available_json).map_err(|e| RenderError {
        message: format!("Ungültige Angaben zur Prüfung: {e}"),
        line: None,
        ..Default::default()
    });
    match template(template_json).and_then(|t| Ok((t, available?))) {
        Ok((t, available)) => to_json(&render::validate(&t, available)),
        Err(e) => to_json(&Err::<(), _>(e)),
    }
}

/// `Vec<RecipientWarning>` as JSON (empty for unreadable input).
pub fn recipient_warnings(template_json: &str, context_json: &str) -> String {
    let w = template(template_json)
        .and_then(|t| {
            let ctx = context(t.channel, context_json)?;
            Ok(render::recipient_warnings(&t, &ctx))
        })
        .unwrap_or_default();
    to_json(&w)
}

/// `Vec<TemplateHint>` as JSON (empty for an unreadable template).
pub fn template_hints(template_json: &str) -> String {
    let h = template(template_json)
        .map(|t| render::template_hints(&t))
        .unwrap_or_default();
    to_json(&h)
}

/// `Result<DemoPractice, String>` as JSON; `today` is a JSON date (`"2026-11-26"`).
pub fn demo(seed: u32, today_json: &str) -> String {
    let r = serde_json::from_str::<chrono::NaiveDate>(today_json)
        .map(|today| praxisbote_core::domain::demo::generate(u64::from(seed), today))
        .map_err(|e| format!("Ungültiges Datum für die Demodaten: {e}"));
    to_json(&r)
}

/// `Result<SheetData, SheetError>` as JSON.
pub fn read_sheet(bytes: &[u8], file_name: &str, sheet: u32) -> String {
    to_json(&sheet::read_sheet(bytes, file_name, sheet as usize))
}

/// `Result<Vec<CalendarEvent>, CalendarError>` as JSON.
pub fn read_calendar(text: &str) -> String {
    to_json(&ics::read_events(text))
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    pub fn render_message(template: &str, context: &str) -> String {
        super::render_message(template, context)
    }

    #[wasm_bindgen]
    pub fn validate(template: &str, available: &str) -> String {
        super::validate(template, available)
    }

    #[wasm_bindgen]
    pub fn recipient_warnings(template: &str, context: &str) -> String {
        super::recipient_warnings(template, context)
    }

    #[wasm_bindgen]
    pub fn template_hints(template: &str) -> String {
        super::template_hints(template)
    }

    #[wasm_bindgen]
    pub fn demo(seed: u32, today: &str) -> String {
        super::demo(seed, today)
    }

    #[wasm_bindgen]
    pub fn read_sheet(bytes: &[u8], file_name: &str, sheet: u32) -> String {
        super::read_sheet(bytes, file_name, sheet)
    }

    #[wasm_bindgen]
    pub fn read_calendar(text: &str) -> String {
        super::read_calendar(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use praxisbote_core::domain::model::{Gender, Person, PracticeSettings};
    use praxisbote_core::domain::placeholders::{build_context, ContextInput};
    use praxisbote_core::domain::render::{RecipientWarning, RenderedMessage, TemplateError};
    use praxisbote_core::domain::template::shipped_templates;

    fn person() -> Person {
        Person {
            first_name: "Anna".into(),
            last_name: "Müller".into(),
            gender: Gender::Female,
            ..Default::default()
        }
    }

    fn ctx_for(t: &Template, person: &Person) -> MessageContext {
        let practice = PracticeSettings {
            name: "Praxis Sonnenschein".into(),
            ..Default::default()
        };
        build_context(ContextInput {
            person,
            practice: &practice,
            appointment: None,
            channel: t.channel,
            language: t.language,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            unsubscribe_link: Some("https://praxis.example/u/abc"),
        })
    }

    /// Every shipped template renders through the JSON entry exactly as the domain renders it.
    #[test]
    fn json_render_equals_domain_render_for_shipped_templates() {
        let p = person();
        let mut rendered = 0;
        for t in shipped_templates() {
            let ctx = ctx_for(&t, &p);
            let direct = Renderer::new(t.language).render_message(&t, &ctx);
            let out = render_message(
                &serde_json::to_string(&t).unwrap(),
                &serde_json::to_string(&ctx).unwrap(),
            );
            let via: Result<RenderedMessage, RenderError> = serde_json::from_str(&out).unwrap();
            assert_eq!(via, direct, "template {}", t.name);
            rendered += usize::from(via.is_ok());
        }
        assert!(rendered > 0, "no shipped template rendered");
    }

    /// Names the channel does not allow never reach the template, even if sent.
    #[test]
    fn context_drops_names_the_channel_does_not_allow() {
        let json = r#"{"values":{"vorname":"Anna","geburtsdatum":"01.02.1960","anschrift":"Weg 1","abmeldelink":"https://x"}}"#;
        let sms = context(Channel::Sms, json).unwrap();
        assert_eq!(sms.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["vorname"]);
        let letter = context(Channel::Letter, json).unwrap();
        assert_eq!(letter.get("anschrift"), Some("Weg 1"));
        assert_eq!(letter.get("geburtsdatum"), None);
        assert_eq!(letter.get("abmeldelink"), None);
        let mut t = shipped_templates()
            .into_iter()
            .find(|t| t.channel == Channel::Sms)
            .unwrap();
        t.body = "Hallo {{ geburtsdatum }}".into();
        let out = render_message(&serde_json::to_string(&t).unwrap(), json);
        let r: Result<RenderedMessage, RenderError> = serde_json::from_str(&out).unwrap();
        assert!(r.is_err(), "a forbidden name rendered: {r:?}");
    }

    #[test]
    fn demo_json_equals_the_generator() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let r: Result<praxisbote_core::domain::demo::DemoPractice, String> =
            serde_json::from_str(&demo(7, "\"2026-11-26\"")).unwrap();
        assert_eq!(
            r.unwrap(),
            praxisbote_core::domain::demo::generate(7, today)
        );
        let bad: Result<praxisbote_core::domain::demo::DemoPractice, String> =
            serde_json::from_str(&demo(7, "\"gestern\"")).unwrap();
        assert!(bad.is_err());
    }

    #[test]
    fn validate_and_warnings_match_the_domain() {
        let mut t = shipped_templates()
            .into_iter()
            .find(|t| t.channel == Channel::Email)
            .unwrap();
        t.body = "Hallo {{ vorname }}, {{ geburtsdatum }} {{ titel }}".into();
        let tj = serde_json::to_string(&t).unwrap();
        let off = Availability::default();
        let v: Result<(), Vec<TemplateError>> =
            serde_json::from_str(&validate(&tj, &serde_json::to_string(&off).unwrap())).unwrap();
        assert_eq!(v, render::validate(&t, off));
        assert!(v.is_err());
        // The therapist only when the practice shows it.
        t.body = "{{ termin.behandler }}".into();
        let tj = serde_json::to_string(&t).unwrap();
        for therapist_names in [false, true] {
            let a = Availability {
                appointments: true,
                therapist_names,
            };
            let v: Result<(), Vec<TemplateError>> =
                serde_json::from_str(&validate(&tj, &serde_json::to_string(&a).unwrap())).unwrap();
            assert_eq!(v.is_ok(), therapist_names);
        }
        let bad: Result<(), RenderError> = serde_json::from_str(&validate(&tj, "7")).unwrap();
        assert!(bad.is_err());
        t.body = "Hallo {{ vorname }}, {{ titel }}".into();
        let tj = serde_json::to_string(&t).unwrap();
        let p = person();
        let ctx = ctx_for(&t, &p);
        let w: Vec<RecipientWarning> = serde_json::from_str(&recipient_warnings(
            &tj,
            &serde_json::to_string(&ctx).unwrap(),
        ))
        .unwrap();
        assert_eq!(w, render::recipient_warnings(&t, &ctx));
        assert!(!w.is_empty(), "empty titel must warn");
        let h: Vec<render::TemplateHint> = serde_json::from_str(&template_hints(&tj)).unwrap();
        assert_eq!(h, render::template_hints(&t));
    }
}

/// The spreadsheet and calendar readers on real files (made with LibreOffice Calc and by
/// hand, see `tests/fixtures/import/sheet/README.md`).
#[cfg(test)]
mod import_tests {
    use std::collections::HashMap;

    use praxisbote_core::domain::import::{
        plan_calendar_import, plan_person_import, table_from_sheet, CalendarError, CalendarEvent,
        CalendarMatchedBy, CalendarOptions, ImportKind, ImportOptions, SheetData, SheetError,
        SheetFormat, TableSource,
    };
    use praxisbote_core::domain::{Gender, PersonId, PersonRecord};

    fn fixture(path: &str) -> Vec<u8> {
        let p = format!(
            "{}/../tests/fixtures/import/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn sheet_persons(file: &str) -> Vec<PersonRecord> {
        let data = super::sheet::read_sheet(&fixture(file), file, 0).unwrap();
        let table = table_from_sheet(data).unwrap();
        let mapping = table.initial_mapping(ImportKind::Persons);
        let mut n = 0;
        plan_person_import(
            &table,
            &mapping,
            &[],
            &ImportOptions::new(today()),
            &mut || {
                n += 1;
                PersonId(format!("p{n}"))
            },
        )
        .unwrap()
        .inserts
    }

    #[test]
    fn xlsx_xls_and_ods_import_like_csv() {
        for (file, format) in [
            ("sheet/patienten.xlsx", SheetFormat::Xlsx),
            ("sheet/patienten.xls", SheetFormat::Xls),
            ("sheet/patienten.ods", SheetFormat::Ods),
        ] {
            // Through the JSON entry, as the app calls it.
            let json = super::read_sheet(&fixture(file), file, 0);
            let data: Result<SheetData, SheetError> = serde_json::from_str(&json).unwrap();
            let data = data.unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(data.format, format);
            assert_eq!(data.sheets.len(), 1, "{file}");
            let table = table_from_sheet(data).unwrap();
            assert!(matches!(table.source, TableSource::Sheet { .. }));
            assert_eq!(table.header_line, 1);
            assert_eq!(table.rows.len(), 4, "{file}");
            assert_eq!(table.rows[0].get(0), "2001", "{file}: no decimals");
            let mapping = table.initial_mapping(ImportKind::Persons);
            assert_eq!(mapping.treatment_columns(), vec!["Diagnose".to_string()]);
            let mut n = 0;
            let plan = plan_person_import(
                &table,
                &mapping,
                &[],
                &ImportOptions::new(today()),
                &mut || {
                    n += 1;
                    PersonId(format!("p{n}"))
                },
            )
            .unwrap();
            assert_eq!(plan.inserts.len(), 3, "{file}: {:?}", plan.errors);
            let j = &plan.inserts[0];
            assert_eq!(j.person.last_name, "Größlich", "{file}");
            assert_eq!(j.person.external_id.as_deref(), Some("2001"));
            assert_eq!(j.person.gender, Gender::Male);
            assert_eq!(j.person.address.postcode, "01067", "{file}: leading zero");
            assert_eq!(j.person.address.street, "Schloßallee");
            assert_eq!(
                j.sensitive.birth_date,
                chrono::NaiveDate::from_ymd_opt(1961, 4, 3),
                "{file}"
            );
            assert_eq!(plan.inserts[2].person.first_name, "Ayşe", "{file}");
            assert_eq!(plan.errors.len(), 1, "{file}: {:?}", plan.errors);
            let e = plan.errors[0].to_string();
            assert!(
                e.starts_with("Zeile 5 (Datensatz 4), Spalte „Geburtsdatum“"),
                "{file}: {e}"
            );
            let json = serde_json::to_string(&plan.inserts).unwrap();
            assert!(!json.contains("Lumbago"), "{file}");
        }
    }

    #[test]
    fn unreadable_workbooks_are_refused_in_german() {
        let e = super::sheet::read_sheet(b"Name;Vorname\nA;B\n", "liste.xlsx", 0).unwrap_err();
        assert!(matches!(e, SheetError::Unreadable { .. }), "{e:?}");
        assert!(e
            .to_string()
            .starts_with("Die Datei ist keine lesbare Tabelle (Excel (.xlsx))"));
        let e = super::sheet::read_sheet(&fixture("sheet/patienten.ods"), "a.ods", 3).unwrap_err();
        assert_eq!(e, SheetError::NoSuchSheet { n: 4 });
        let e = super::sheet::read_sheet(b"x", "liste.numbers", 0).unwrap_err();
        assert!(matches!(e, SheetError::UnknownFormat { .. }));
    }

    fn events() -> Vec<CalendarEvent> {
        let text = String::from_utf8(fixture("ics/kalender.ics")).unwrap();
        let json = super::read_calendar(&text);
        let r: Result<Vec<CalendarEvent>, CalendarError> = serde_json::from_str(&json).unwrap();
        r.unwrap()
    }

    #[test]
    fn calendar_events_are_read_with_local_times() {
        let ev = events();
        assert_eq!(ev.len(), 8);
        let dt = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(ev[0].summary, "Größlich, Jürgen – Krankengymnastik");
        assert_eq!(ev[0].start, Some(dt("2026-12-01 09:00")));
        assert_eq!(ev[0].end, Some(dt("2026-12-01 09:45")));
        assert_eq!(ev[0].location, "Raum 2");
        assert_eq!(ev[0].line, 21);
        // 09:30 UTC in December is 10:30 in Germany.
        assert_eq!(ev[1].start, Some(dt("2026-12-01 10:30")));
        assert_eq!(ev[1].emails, vec!["ayse@example.de".to_string()]);
        assert_eq!(ev[1].names, vec!["Ayşe Weiß-Öztürk".to_string()]);
        assert_eq!(ev[2].phones, vec!["0160 5556667".to_string()]);
        assert!(ev[5].all_day);
        assert!(ev[6].recurring);
        assert!(
            ev[7].summary.ends_with("in der Datei umbrochen ist"),
            "{}",
            ev[7].summary
        );
        // The description (treatment notes) is not read.
        assert!(!serde_json::to_string(&ev).unwrap().contains("Lumbago"));
        let bad: Result<Vec<CalendarEvent>, CalendarError> =
            serde_json::from_str(&super::read_calendar("Name;Vorname\n")).unwrap();
        let bad = bad.unwrap_err();
        assert_eq!(bad, CalendarError::NotACalendar);
        assert!(bad
            .to_string()
            .starts_with("Die Datei ist kein lesbarer Kalender"));
    }

    /// The calendar matched against the persons of the spreadsheet fixture.
    #[test]
    fn calendar_matches_the_imported_patients() {
        let mut persons = sheet_persons("sheet/patienten.xlsx");
        for id in ["m1", "m2"] {
            let mut p = PersonRecord::default();
            p.person.id = PersonId(id.into());
            p.person.first_name = "Maria".into();
            p.person.last_name = "Meier".into();
            persons.push(p);
        }
        let plan = plan_calendar_import(events(), &persons, &[], &CalendarOptions::default());
        let matched: Vec<(usize, CalendarMatchedBy, String)> = plan
            .matched
            .iter()
            .map(|m| {
                (
                    plan.events[m.event].number,
                    m.by,
                    m.appointment.kind.clone(),
                )
            })
            .collect();
        assert_eq!(
            matched,
            vec![
                (1, CalendarMatchedBy::Name, "Krankengymnastik".to_string()),
                (2, CalendarMatchedBy::Email, "Manuelle Therapie".to_string()),
                (3, CalendarMatchedBy::Phone, "Rückruf Massage".to_string()),
                (
                    8,
                    CalendarMatchedBy::Name,
                    "Lymphdrainage mit einer sehr langen Beschreibung, die in der Datei umbrochen ist"
                        .to_string()
                ),
            ]
        );
        assert_eq!(plan.ambiguous.len(), 1);
        assert_eq!(plan.unmatched.len(), 1);
        assert_eq!(plan.skipped.len(), 2);
        assert_eq!(plan.appointments(&HashMap::new()).len(), 4);
    }
}
