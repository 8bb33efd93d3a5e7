//! Static validation of a template before sending: syntax, forbidden and unknown
//! placeholders, placeholders of another channel, appointment placeholders without
//! appointments, includes — each with part, line and column.

use std::collections::BTreeSet;

use super::env::base_env;
use super::{TemplateError, TemplateErrorKind, TemplatePart};
use crate::domain::model::Channel;
use crate::domain::placeholders::{
    catalogue, forbidden_reason, lookup, Availability, OBJECT_ROOTS,
};
use crate::domain::template::{has_subject, Language, Template};

/// Names a template may use besides the placeholders (harmless builtins).
const ALLOWED_GLOBALS: &[&str] = &[
    "range",
    "namespace",
    "dict",
    "loop",
    "caller",
    "varargs",
    "kwargs",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokKind {
    Ident,
    Dot,
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    start: usize,
    kind: TokKind,
    /// First token of a `{% … %}` block.
    block_keyword: bool,
}

/// Scans the code regions (`{{ … }}`, `{% … %}`) of a template for identifiers and dots,
/// skipping comments, string literals and `{% raw %}` blocks.
fn scan(source: &str) -> Vec<Tok<'_>> {
    let b = source.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'{' {
            i += 1;
            continue;
        }
        let (end_delim, is_block) = match b[i + 1] {
            b'{' => ("}}", false),
            b'%' => ("%}", true),
            b'#' => {
                i = source[i + 2..]
                    .find("#}")
                    .map_or(b.len(), |p| i + 2 + p + 2);
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let mut j = i + 2;
        let mut first = true;
        let mut is_raw = false;
        while j < b.len() {
            if source[j..].starts_with(end_delim) {
                j += 2;
                break;
            }
            let c = b[j];
            if c == b'"' || c == b'\'' {
                j += 1;
                while j < b.len() && b[j] != c {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                j += 1;
                first = false;
                continue;
            }
            if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
                let s = j;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80)
                {
                    j += 1;
                }
                let text = &source[s..j];
                if first && is_block && text == "raw" {
                    is_raw = true;
                }
                toks.push(Tok {
                    text,
                    start: s,
                    kind: TokKind::Ident,
                    block_keyword: first && is_block,
                });
                first = false;
                continue;
            }
            if c == b'.' {
                toks.push(Tok {
                    text: ".",
                    start: j,
                    kind: TokKind::Dot,
                    block_keyword: false,
                });
            } else if c.is_ascii_whitespace() || (first && (c == b'-' || c == b'+')) {
                // Whitespace and whitespace-control markers (`{%-`, `{{+`).
            } else {
                toks.push(Tok {
                    text: "",
                    start: j,
                    kind: TokKind::Other,
                    block_keyword: false,
                });
                first = false;
            }
            j += 1;
        }
        i = j;
        if is_raw {
            let rest = &source[i..];
            let mut k = 0;
            let mut found = None;
            while let Some(p) = rest[k..].find("{%") {
                let after = rest[k + p + 2..].trim_start_matches(['-', '+', ' ', '\t', '\n', '\r']);
                if after.starts_with("endraw") {
                    found = Some(k + p);
                    break;
                }
                k += p + 2;
            }
            i = found.map_or(b.len(), |p| i + p);
        }
    }
    toks
}

fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Where a dotted name is first used in the template (1-based line and column).
fn find_position(source: &str, toks: &[Tok<'_>], dotted: &str) -> (usize, usize) {
    let segs: Vec<&str> = dotted.split('.').collect();
    let mut root_only = None;
    for (i, t) in toks.iter().enumerate() {
        if t.kind != TokKind::Ident || t.text != segs[0] {
            continue;
        }
        if i > 0 && toks[i - 1].kind == TokKind::Dot {
            continue;
        }
        root_only.get_or_insert(t.start);
        let mut k = i + 1;
        let mut ok = true;
        for seg in &segs[1..] {
            if toks.get(k).map(|t| t.kind) == Some(TokKind::Dot)
                && toks.get(k + 1).is_some_and(|t| t.text == *seg)
            {
                k += 2;
            } else {
                ok = false;
                break;
            }
        }
        if ok {
            return line_col(source, t.start);
        }
    }
    root_only.map_or((1, 1), |o| line_col(source, o))
}

/// Validates one template source for a channel. Returns every problem found, in source order.
pub fn validate_source(
    source: &str,
    channel: Channel,
    available: Availability,
    part: TemplatePart,
) -> Vec<TemplateError> {
    let env = base_env(Language::De);
    let tmpl = match env.template_from_str(source) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = match e.range() {
                Some(r) => line_col(source, r.start),
                None => (e.line().unwrap_or(1), 1),
            };
            let detail = e.detail().unwrap_or("unbekannt").to_string();
            return vec![TemplateError {
                kind: TemplateErrorKind::Syntax,
                part,
                placeholder: None,
                line,
                column,
                message: format!(
                    "{}, Zeile {line}, Spalte {column}: Syntaxfehler in der Vorlage ({detail}).",
                    part.label_de(),
                ),
                detail: Some(detail),
            }];
        }
    };
    let toks = scan(source);
    let mut errors = Vec::new();
    let at =
        |line: usize, column: usize| format!("{}, Zeile {line}, Spalte {column}", part.label_de());

    for t in toks.iter().filter(|t| t.block_keyword) {
        if matches!(t.text, "include" | "import" | "from" | "extends") {
            let (line, column) = line_col(source, t.start);
            errors.push(TemplateError {
                kind: TemplateErrorKind::Include,
                part,
                placeholder: None,
                line,
                column,
                message: format!(
                    "{}: „{{% {} %}}“ ist nicht erlaubt – andere Vorlagen können nicht eingebunden werden.",
                    at(line, column),
                    t.text
                ),
                detail: None,
            });
        }
    }

    let names: BTreeSet<String> = tmpl.undeclared_variables(true).into_iter().collect();
    for name in names {
        let root = name.split('.').next().unwrap_or(&name);
        if ALLOWED_GLOBALS.contains(&root) {
            continue;
        }
        let (line, column) = find_position(source, &toks, &name);
        let here = at(line, column);
        let err = |kind, message: String| TemplateError {
            kind,
            part,
            placeholder: Some(name.clone()),
            line,
            column,
            message,
            detail: None,
        };
        if let Some(reason) = forbidden_reason(&name, channel) {
            let kind = match root {
                "anschrift" | "abmeldelink" => TemplateErrorKind::NotInChannel,
                _ => TemplateErrorKind::Forbidden,
            };
            errors.push(err(
                kind,
                format!("{here}: Platzhalter „{name}“ – {reason}"),
            ));
            continue;
        }
        // Exact catalogue entry, an object root, or an attribute/method of a plain value.
        let info = lookup(&name).or_else(|| {
            (!OBJECT_ROOTS.contains(&root))
                .then(|| lookup(root))
                .flatten()
        });
        let is_object_root = OBJECT_ROOTS.contains(&name.as_str());
        if info.is_none() && !is_object_root {
            let hint = if OBJECT_ROOTS.contains(&root) {
                let all = Availability {
                    appointments: true,
                    ..available
                };
                let avail: Vec<&str> = catalogue(channel, all)
                    .into_iter()
                    .map(|p| p.name)
                    .filter(|n| n.starts_with(&format!("{root}.")))
                    .collect();
                format!(" Verfügbar sind: {}.", avail.join(", "))
            } else {
                " Bitte wählen Sie einen Platzhalter aus der Liste.".to_string()
            };
            errors.push(err(
                TemplateErrorKind::Unknown,
                format!("{here}: Unbekannter Platzhalter „{name}“.{hint}"),
            ));
            continue;
        }
        if let Some(info) = info {
            if !info.channels.contains(&channel) {
                errors.push(err(
                    TemplateErrorKind::NotInChannel,
                    format!(
                        "{here}: Platzhalter „{name}“ gibt es beim Versand als {} nicht.",
                        channel.label_de()
                    ),
                ));
                continue;
            }
        }
        if info.is_some_and(|i| i.needs_therapist_setting) && !available.therapist_names {
            errors.push(err(
                TemplateErrorKind::TherapistOff,
                format!(
                    "{here}: Platzhalter „{name}“ – Behandlernamen erscheinen in Nachrichten nur, \
                     wenn „Behandlername in Nachrichten“ in den Einstellungen eingeschaltet ist."
                ),
            ));
            continue;
        }
        let needs_appt = info.is_some_and(|i| i.needs_appointment) || root == "termin";
        if needs_appt && !available.appointments {
            errors.push(err(
                TemplateErrorKind::NeedsAppointment,
                format!(
                    "{here}: Platzhalter „{name}“ ist nur verfügbar, wenn die Empfänger mit \
                     Terminen übernommen wurden (z. B. aus der Terminliste)."
                ),
            ));
        }
    }
    errors.sort_by_key(|e| (e.line, e.column));
    errors
}

/// Validates subject (e-mail, letter) and body of a template before sending, for recipients
/// with or without appointments and the practice's settings (`available`).
pub fn validate(template: &Template, available: Availability) -> Result<(), Vec<TemplateError>> {
    let mut errors = Vec::new();
    if has_subject(template.channel) {
        errors.extend(validate_source(
            &template.subject,
            template.channel,
            available,
            TemplatePart::Subject,
        ));
    }
    errors.extend(validate_source(
        &template.body,
        template.channel,
        available,
        TemplatePart::Body,
    ));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Catalogue placeholders a template uses (subject and body), deduplicated, sorted.
pub fn used_placeholders(template: &Template) -> Vec<String> {
    let env = base_env(Language::De);
    let mut out = BTreeSet::new();
    for src in [&template.subject, &template.body] {
        if let Ok(t) = env.template_from_str(src) {
            for n in t.undeclared_variables(true) {
                if lookup(&n).is_some() {
                    out.insert(n);
                }
            }
        }
    }
    out.into_iter().collect()
}
