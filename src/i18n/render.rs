//! Recipient warnings and template hints (`domain::render`, computed in the engine wasm) in
//! the UI language, rebuilt from their structured data. The German catalogue values give
//! exactly the domain's German texts (tested), as do the placeholder descriptions.

use super::{t, tf};
use crate::domain::placeholders::{lookup, PlaceholderInfo};
use crate::domain::render::{
    RecipientWarning, RenderError, TemplateError, TemplateErrorKind, TemplateHint, TemplatePart,
};

/// A warning about one recipient: no appointment, or a placeholder empty for them.
pub fn recipient_warning(w: &RecipientWarning) -> String {
    match &w.placeholder {
        None => t("render.warning.no_appointment").into(),
        Some(name) => tf(
            "render.warning.empty_value",
            &[
                ("name", name),
                ("desc", &lookup(name).map_or("", placeholder_description)),
            ],
        ),
    }
}

/// A template hint, by its kind.
pub fn hint(h: TemplateHint) -> String {
    match h {
        TemplateHint::UnsubscribeLinkMissing => {
            tf("render.hint.unsubscribe", &[("link", &"{{ abmeldelink }}")])
        }
    }
}

/// A template check finding in the UI language. German is the domain's own message (with
/// its detailed privacy reason); other languages are rebuilt from the structured fields
/// (kind, part, placeholder, line, column).
pub fn template_error(e: &TemplateError) -> String {
    if super::lang() == super::Lang::De {
        return e.message.clone();
    }
    // minijinja's own detail (English) of a syntax error; a "syntax" state without it (the
    // engine's loading/failure states) is already in the UI language.
    let mut detail = String::new();
    if e.kind == TemplateErrorKind::Syntax {
        match &e.detail {
            Some(d) => detail = d.clone(),
            None => return e.message.clone(),
        }
    }
    let part = match e.part {
        TemplatePart::Subject => t("render.part.subject"),
        TemplatePart::Body => t("render.part.body"),
    };
    let text = match e.kind {
        TemplateErrorKind::Syntax => t("render.error.syntax"),
        TemplateErrorKind::Forbidden => t("render.error.forbidden"),
        TemplateErrorKind::NotInChannel => t("render.error.not_in_channel"),
        TemplateErrorKind::NeedsAppointment => t("render.error.needs_appointment"),
        TemplateErrorKind::TherapistOff => t("render.error.therapist_off"),
        TemplateErrorKind::Unknown => t("render.error.unknown"),
        TemplateErrorKind::Include => t("render.error.include"),
    };
    let name = e.placeholder.clone().unwrap_or_default();
    super::fill(
        text,
        &[
            ("part", &part),
            ("line", &e.line),
            ("column", &e.column),
            ("name", &name),
            ("detail", &detail),
        ],
    )
}

/// A placeholder's description in the UI language (German equals the domain catalogue's;
/// a name the UI does not know keeps the domain's text).
pub fn placeholder_description(p: &PlaceholderInfo) -> &'static str {
    match p.name {
        "anrede" => t("placeholder.anrede"),
        "du" => t("placeholder.du"),
        "titel" => t("placeholder.titel"),
        "vorname" => t("placeholder.vorname"),
        "nachname" => t("placeholder.nachname"),
        "name" => t("placeholder.name"),
        "praxis.name" => t("placeholder.praxis_name"),
        "praxis.telefon" => t("placeholder.praxis_telefon"),
        "praxis.email" => t("placeholder.praxis_email"),
        "praxis.adresse" => t("placeholder.praxis_adresse"),
        "praxis.webseite" => t("placeholder.praxis_webseite"),
        "heute" => t("placeholder.heute"),
        "termin.datum" => t("placeholder.termin_datum"),
        "termin.wochentag" => t("placeholder.termin_wochentag"),
        "termin.uhrzeit" => t("placeholder.termin_uhrzeit"),
        "termin.ende" => t("placeholder.termin_ende"),
        "termin.bezeichnung" => t("placeholder.termin_bezeichnung"),
        "termin.ort" => t("placeholder.termin_ort"),
        "termin.behandler" => t("placeholder.termin_behandler"),
        "anschrift" => t("placeholder.anschrift"),
        "abmeldelink" => t("placeholder.abmeldelink"),
        _ => p.description,
    }
}

/// The name of a placeholder's chip in the chip view («Anrede», «Termin: Datum»); a name the
/// UI does not know shows as written.
pub fn chip_label(name: &str) -> String {
    let key = match name {
        "anrede" => "chip.anrede",
        "du" => "chip.du",
        "titel" => "chip.titel",
        "vorname" => "chip.vorname",
        "nachname" => "chip.nachname",
        "name" => "chip.name",
        "praxis.name" => "chip.praxis_name",
        "praxis.telefon" => "chip.praxis_telefon",
        "praxis.email" => "chip.praxis_email",
        "praxis.adresse" => "chip.praxis_adresse",
        "praxis.webseite" => "chip.praxis_webseite",
        "heute" => "chip.heute",
        "termin.datum" => "chip.termin_datum",
        "termin.wochentag" => "chip.termin_wochentag",
        "termin.uhrzeit" => "chip.termin_uhrzeit",
        "termin.ende" => "chip.termin_ende",
        "termin.bezeichnung" => "chip.termin_bezeichnung",
        "termin.ort" => "chip.termin_ort",
        "termin.behandler" => "chip.termin_behandler",
        "anschrift" => "chip.anschrift",
        "abmeldelink" => "chip.abmeldelink",
        _ => return name.to_string(),
    };
    t(key).to_string()
}

/// A render-time error in the UI language, rebuilt from its key and arguments (German equals
/// the domain's message; an error without a key is shown as it comes).
pub fn render_error(e: &RenderError) -> String {
    let text = match e.key.as_str() {
        "too_long" => t("render.fail.too_long"),
        "out_of_fuel" => t("render.fail.out_of_fuel"),
        "recursion" => t("render.fail.recursion"),
        "include" => t("render.fail.include"),
        "undefined_appointment" => t("render.fail.undefined_appointment"),
        "undefined" => t("render.fail.undefined"),
        "undefined_some" => t("render.fail.undefined_some"),
        "syntax" => t("render.fail.syntax"),
        "unknown_filter" => t("render.fail.unknown_filter"),
        "unknown_function" => t("render.fail.unknown_function"),
        "unknown_method" => t("render.fail.unknown_method"),
        "other" => t("render.fail.other"),
        _ => return e.message.clone(),
    };
    let args: Vec<(&str, &dyn std::fmt::Display)> = e
        .args
        .iter()
        .map(|(k, v)| (k.as_str(), v as &dyn std::fmt::Display))
        .collect();
    let mut message = super::fill(text, &args);
    if let Some(line) = e.line {
        message = tf(
            "render.fail.line",
            &[("message", &message), ("line", &line)],
        );
    }
    let part = match e.part.as_deref() {
        Some("subject") => Some(t("render.fail.part.subject")),
        Some("body") => Some(t("render.fail.part.body")),
        _ => None,
    };
    match part {
        Some(part) => tf(
            "render.fail.part",
            &[("part", &part), ("message", &message)],
        ),
        None => message,
    }
}
