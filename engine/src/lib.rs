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
//! - `template_hints(template)` → `Vec<String>`
//! - `demo(seed, today)` → `Result<DemoPractice, String>` (the demo generator and its name
//!   tables live here too, they are only needed when the demo practice is (re)loaded)

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

/// `Vec<String>` as JSON (empty for an unreadable template).
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
        let h: Vec<String> = serde_json::from_str(&template_hints(&tj)).unwrap();
        assert_eq!(h, render::template_hints(&t));
    }
}
