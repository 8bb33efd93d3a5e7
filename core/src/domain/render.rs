//! Template rendering with minijinja, static validation and per-recipient warnings.
//!
//! Set-up: strict undefined (a missing value is an error, never silently empty), no loader
//! (`{% include %}`, `{% import %}`, `{% extends %}` find nothing), a fuel budget and a low
//! recursion limit (a runaway template ends with a German error instead of freezing the tab),
//! German date/time filters `datum`, `uhrzeit`, `wochentag`. HTML escaping applies to the HTML
//! part of e-mails only: there every value is escaped (even `|safe` ones) and the literal text
//! is formatted by [`super::email_html`].

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

use super::email_html::{self, VALUE_END, VALUE_START};
use super::model::Channel;
use super::placeholders::{
    catalogue, forbidden_reason, format_date, format_date_long, lookup, weekday_name,
    MessageContext, OBJECT_ROOTS,
};
use super::template::Language;
use super::template::{has_subject, Template};

/// Instruction budget of one render (a normal message needs a few hundred).
pub const FUEL: u64 = 50_000;
/// Recursion limit (macros cost about 10 levels each).
pub const RECURSION_LIMIT: usize = 60;
/// Longest output accepted (characters); a letter is far below that.
pub const MAX_OUTPUT: usize = 100_000;

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

/// Which field of a template an error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TemplatePart {
    Subject,
    Body,
}

impl TemplatePart {
    pub fn label_de(self) -> &'static str {
        match self {
            TemplatePart::Subject => "Betreff",
            TemplatePart::Body => "Text",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TemplateErrorKind {
    /// The template is not valid template syntax.
    Syntax,
    /// A placeholder that is never available in mass messages (privacy).
    Forbidden,
    /// A placeholder that exists, but not for this channel.
    NotInChannel,
    /// An appointment placeholder while the recipients come without appointments.
    NeedsAppointment,
    /// A name the catalogue does not know.
    Unknown,
    /// `{% include %}`, `{% import %}`, `{% extends %}`.
    Include,
}

/// A problem found before sending. `line` and `column` are 1-based (column in characters).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateError {
    pub kind: TemplateErrorKind,
    pub part: TemplatePart,
    pub placeholder: Option<String>,
    pub line: usize,
    pub column: usize,
    /// German message, complete with placeholder, position and reason.
    pub message: String,
    /// For a syntax error: minijinja's own description of it (English), which the German
    /// message quotes; the UI builds other languages from it.
    #[serde(default)]
    pub detail: Option<String>,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A failure while rendering one message (German message). `key` and `args` name the kind
/// of failure for the UI's catalogue (`render.fail.<key>`; empty: show `message` as it is),
/// `part` is "subject" or "body" when the message got that prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderError {
    pub message: String,
    pub line: Option<usize>,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub args: Vec<(String, String)>,
    #[serde(default)]
    pub part: Option<String>,
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenderError {}

/// One rendered message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedMessage {
    /// Subject (e-mail, letter); `None` for SMS.
    pub subject: Option<String>,
    /// Plain-text body.
    pub body: String,
    /// Safe HTML alternative (e-mail only).
    pub html: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Filters

fn parse_date_time(s: &str) -> Option<(Option<NaiveDate>, Option<NaiveTime>)> {
    let s = s.trim();
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d.%m.%Y %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Some((Some(dt.date()), Some(dt.time())));
        }
    }
    for f in ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some((Some(d), None));
        }
    }
    for f in ["%H:%M", "%H:%M:%S"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, f) {
            return Some((None, Some(t)));
        }
    }
    None
}

fn filter_error(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

fn datum_filter(lang: Language, value: &str, format: Option<&str>) -> Result<String, Error> {
    let date = parse_date_time(value)
        .and_then(|(d, _)| d)
        .ok_or_else(|| filter_error(format!("„{value}“ ist kein Datum (Filter datum).")))?;
    match format.unwrap_or("kurz") {
        "kurz" | "short" => Ok(format_date(date, lang)),
        "lang" | "long" => Ok(format_date_long(date, lang)),
        "iso" => Ok(format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            date.month(),
            date.day()
        )),
        other => Err(filter_error(format!(
            "Unbekanntes Datumsformat „{other}“ (erlaubt: \"kurz\", \"lang\", \"iso\")."
        ))),
    }
}

fn wochentag_filter(lang: Language, value: &str) -> Result<String, Error> {
    let date = parse_date_time(value)
        .and_then(|(d, _)| d)
        .ok_or_else(|| filter_error(format!("„{value}“ ist kein Datum (Filter wochentag).")))?;
    Ok(weekday_name(date.weekday(), lang).to_string())
}

fn uhrzeit_filter(value: &str) -> Result<String, Error> {
    let time = parse_date_time(value)
        .and_then(|(_, t)| t)
        .ok_or_else(|| filter_error(format!("„{value}“ ist keine Uhrzeit (Filter uhrzeit).")))?;
    Ok(format!("{:02}:{:02}", time.hour(), time.minute()))
}

fn base_env<'s>(lang: Language) -> Environment<'s> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_debug(false);
    env.add_filter("datum", move |v: &str, f: Option<&str>| {
        datum_filter(lang, v, f)
    });
    env.add_filter("wochentag", move |v: &str| wochentag_filter(lang, v));
    env.add_filter("uhrzeit", uhrzeit_filter);
    env
}

fn strip_markers(s: &str) -> String {
    s.chars()
        .filter(|c| *c != VALUE_START && *c != VALUE_END)
        .collect()
}

/// Renders templates of one language. Create one per composer session (cheap) and reuse it.
pub struct Renderer<'s> {
    text_env: Environment<'s>,
    html_env: Environment<'s>,
    language: Language,
}

/// A template compiled once and rendered for many recipients.
pub struct Compiled<'e, 's> {
    tmpl: minijinja::Template<'e, 's>,
}

impl Compiled<'_, '_> {
    pub fn render(&self, ctx: &MessageContext) -> Result<String, RenderError> {
        self.render_value(ctx.to_value())
    }

    /// Renders with an already built context value.
    pub fn render_value(&self, ctx: Value) -> Result<String, RenderError> {
        finish(self.tmpl.render(ctx), self.tmpl.source())
    }
}

fn finish(r: Result<String, Error>, source: &str) -> Result<String, RenderError> {
    match r {
        Ok(s) if s.chars().count() > MAX_OUTPUT => Err(RenderError {
            message: format!(
                "Der Text wird mit über {MAX_OUTPUT} Zeichen zu lang. Bitte kürzen Sie die Vorlage."
            ),
            line: None,
            key: "too_long".into(),
            args: vec![("max".into(), MAX_OUTPUT.to_string())],
            part: None,
        }),
        Ok(s) => Ok(s),
        Err(e) => Err(german_render_error(&e, source)),
    }
}

impl<'s> Renderer<'s> {
    pub fn new(language: Language) -> Self {
        let text_env = base_env(language);
        let mut html_env = base_env(language);
        html_env.set_auto_escape_callback(|_| AutoEscape::Html);
        // Every printed value is wrapped in markers; email_html escapes it (ignoring `|safe`)
        // and never reads formatting syntax inside it.
        html_env.set_formatter(|out, _state, value| {
            if value.is_undefined() || value.is_none() {
                return Ok(());
            }
            let s = strip_markers(&value.to_string());
            out.write_str(&format!("{VALUE_START}{s}{VALUE_END}"))
                .map_err(|_| Error::new(ErrorKind::WriteFailure, "write failed"))
        });
        Renderer {
            text_env,
            html_env,
            language,
        }
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// Compiles a template for repeated rendering.
    pub fn compile<'e>(&'e self, source: &'s str) -> Result<Compiled<'e, 's>, RenderError> {
        self.text_env
            .template_from_str(source)
            .map(|tmpl| Compiled { tmpl })
            .map_err(|e| german_render_error(&e, source))
    }

    /// Renders a plain-text template (SMS, letter, e-mail text part, subjects).
    pub fn render(&self, source: &str, ctx: &MessageContext) -> Result<String, RenderError> {
        finish(self.text_env.render_str(source, ctx.to_value()), source)
    }

    /// Renders the safe HTML alternative of an e-mail body: values escaped, literal text
    /// formatted (paragraphs, **bold**, links).
    pub fn render_html(&self, source: &str, ctx: &MessageContext) -> Result<String, RenderError> {
        let source = strip_markers(source);
        let marked = finish(self.html_env.render_str(&source, ctx.to_value()), &source)?;
        Ok(email_html::to_html_document(&marked, self.language))
    }

    /// Renders subject, body and (for e-mail) the HTML alternative of a template.
    pub fn render_message(
        &self,
        template: &Template,
        ctx: &MessageContext,
    ) -> Result<RenderedMessage, RenderError> {
        let subject = if has_subject(template.channel) {
            Some(
                self.render(&template.subject, ctx)
                    .map_err(|e| prefix(e, "Betreff", "subject"))?
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        } else {
            None
        };
        let body = self
            .render(&template.body, ctx)
            .map_err(|e| prefix(e, "Text", "body"))?;
        let html = if template.channel == Channel::Email {
            Some(
                self.render_html(&template.body, ctx)
                    .map_err(|e| prefix(e, "Text", "body"))?,
            )
        } else {
            None
        };
        Ok(RenderedMessage {
            subject,
            body,
            html,
        })
    }
}

fn prefix(mut e: RenderError, part_de: &str, part: &str) -> RenderError {
    e.message = format!("{part_de}: {}", e.message);
    e.part = Some(part.into());
    e
}

/// Maps a minijinja error to a German message.
fn german_render_error(e: &Error, source: &str) -> RenderError {
    let detail = e.detail().unwrap_or("");
    // The expression the error points at, when it is short enough to show.
    let expr = e
        .range()
        .and_then(|r| source.get(r))
        .map(str::trim)
        .filter(|x| !x.is_empty() && x.chars().count() <= 60 && !x.contains('\n'));
    let arg = |name: &str, value: &str| vec![(name.to_string(), value.to_string())];
    let (key, args, message) = match e.kind() {
        ErrorKind::OutOfFuel => (
            "out_of_fuel",
            vec![],
            "Die Vorlage ist zu aufwendig und wurde abgebrochen \
            (Rechenlimit überschritten). Bitte vereinfachen Sie Schleifen."
                .to_string(),
        ),
        ErrorKind::InvalidOperation if detail.contains("recursion") => (
            "recursion",
            vec![],
            "Die Vorlage ist zu tief verschachtelt und wurde abgebrochen (Rekursionslimit)."
                .to_string(),
        ),
        ErrorKind::TemplateNotFound | ErrorKind::BadInclude => (
            "include",
            vec![],
            "Das Einbinden anderer Vorlagen ist nicht möglich.".to_string(),
        ),
        ErrorKind::UndefinedError => match expr {
            Some(x) if x.starts_with("termin") => (
                "undefined_appointment",
                arg("expr", x),
                format!("„{x}“ hat für diesen Empfänger keinen Wert: es liegt kein Termin vor."),
            ),
            Some(x) => (
                "undefined",
                arg("expr", x),
                format!("„{x}“ hat für diesen Empfänger keinen Wert."),
            ),
            None => (
                "undefined_some",
                vec![],
                "Ein Platzhalter hat für diesen Empfänger keinen Wert (z. B. kein Termin)."
                    .to_string(),
            ),
        },
        ErrorKind::SyntaxError => (
            "syntax",
            arg("detail", detail),
            format!("Die Vorlage enthält einen Syntaxfehler ({detail})."),
        ),
        ErrorKind::UnknownFilter => (
            "unknown_filter",
            arg("detail", detail),
            format!("Unbekannter Filter ({detail})."),
        ),
        ErrorKind::UnknownFunction => (
            "unknown_function",
            arg("detail", detail),
            format!("Unbekannte Funktion ({detail})."),
        ),
        ErrorKind::UnknownMethod => (
            "unknown_method",
            arg("detail", detail),
            format!("Unbekannte Methode ({detail})."),
        ),
        _ if !detail.is_empty() && !detail.is_ascii() => ("", vec![], detail.to_string()),
        _ => (
            "other",
            arg("detail", detail),
            format!("Die Vorlage konnte nicht ausgefüllt werden ({detail})."),
        ),
    };
    let message = match e.line() {
        Some(l) => format!("{message} (Zeile {l})"),
        None => message,
    };
    RenderError {
        message,
        line: e.line(),
        key: key.into(),
        args,
        part: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Static validation

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
    has_appointments: bool,
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
                let avail: Vec<&str> = catalogue(channel, true)
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
        let needs_appt = info.is_some_and(|i| i.needs_appointment) || root == "termin";
        if needs_appt && !has_appointments {
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

/// Validates subject (e-mail, letter) and body of a template before sending.
pub fn validate(template: &Template, has_appointments: bool) -> Result<(), Vec<TemplateError>> {
    let mut errors = Vec::new();
    if has_subject(template.channel) {
        errors.extend(validate_source(
            &template.subject,
            template.channel,
            has_appointments,
            TemplatePart::Subject,
        ));
    }
    errors.extend(validate_source(
        &template.body,
        template.channel,
        has_appointments,
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

/// A warning about one recipient's message, shown before output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientWarning {
    pub placeholder: Option<String>,
    pub message: String,
}

/// Warnings for one recipient: a missing appointment, empty values the template uses.
pub fn recipient_warnings(template: &Template, ctx: &MessageContext) -> Vec<RecipientWarning> {
    let mut out = Vec::new();
    let used = used_placeholders(template);
    if used.iter().any(|n| n.starts_with("termin.")) && !ctx.has_appointment() {
        out.push(RecipientWarning {
            placeholder: None,
            message: "Für diesen Empfänger liegt kein Termin vor – die Nachricht kann nicht \
                      erstellt werden."
                .into(),
        });
    }
    for name in used {
        if let Some(v) = ctx.get(&name) {
            if v.trim().is_empty() {
                let desc = lookup(&name).map_or("", |p| p.description);
                out.push(RecipientWarning {
                    placeholder: Some(name.clone()),
                    message: format!("„{name}“ ({desc}) ist bei diesem Empfänger leer."),
                });
            }
        }
    }
    out
}

/// The hint for an advertising e-mail without the unsubscribe link (the UI recognises it by
/// this text and shows it in its language).
pub const HINT_UNSUBSCRIBE_DE: &str =
    "Werbliche E-Mails (Geburtstag, Einladung, Recall) sollten den Abmeldelink \
     {{ abmeldelink }} enthalten.";

/// Hints about a template as a whole (not errors): e.g. advertising e-mails without the
/// unsubscribe link.
pub fn template_hints(template: &Template) -> Vec<String> {
    let mut out = Vec::new();
    if template.channel == Channel::Email
        && template.purpose.is_advertising()
        && !used_placeholders(template)
            .iter()
            .any(|n| n == "abmeldelink")
    {
        out.push(HINT_UNSUBSCRIBE_DE.into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Gender, Person, PracticeSettings, Purpose};
    use crate::domain::placeholders::{build_context, ContextInput};

    fn ctx(channel: Channel) -> MessageContext {
        let person = Person {
            first_name: "Anna".into(),
            last_name: "Müller".into(),
            gender: Gender::Female,
            ..Default::default()
        };
        let practice = PracticeSettings {
            name: "Praxis Sonnenschein".into(),
            ..Default::default()
        };
        build_context(ContextInput {
            person: &person,
            practice: &practice,
            appointment: None,
            channel,
            language: Language::De,
            today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            unsubscribe_link: Some("https://praxis.example/u/abc"),
        })
    }

    #[test]
    fn geburtsdatum_is_rejected_with_position_and_reason() {
        let errs = validate_source(
            "Hallo {{ vorname }},\nalles Gute zum {{ geburtsdatum }}!",
            Channel::Email,
            false,
            TemplatePart::Body,
        );
        assert_eq!(errs.len(), 1);
        let e = &errs[0];
        assert_eq!(e.kind, TemplateErrorKind::Forbidden);
        assert_eq!((e.line, e.column), (2, 19));
        assert_eq!(e.placeholder.as_deref(), Some("geburtsdatum"));
        assert_eq!(
            e.message,
            "Text, Zeile 2, Spalte 19: Platzhalter „geburtsdatum“ – Geburtsdatum ist beim \
             Serienversand aus Datenschutzgründen nicht verfügbar."
        );
    }

    #[test]
    fn validation_table() {
        use TemplateErrorKind::*;
        let cases: &[(&str, Channel, bool, &[TemplateErrorKind])] = &[
            ("{{ anrede }}, {{ praxis.name }}", Channel::Sms, false, &[]),
            ("{{ telefon }}", Channel::Letter, false, &[Forbidden]),
            ("{{ email }}", Channel::Letter, false, &[Forbidden]),
            ("{{ anschrift }}", Channel::Sms, false, &[NotInChannel]),
            ("{{ anschrift }}", Channel::Letter, false, &[]),
            ("{{ abmeldelink }}", Channel::Sms, false, &[NotInChannel]),
            ("{{ abmeldelink }}", Channel::Email, false, &[]),
            (
                "{{ termin.datum }}",
                Channel::Sms,
                false,
                &[NeedsAppointment],
            ),
            ("{{ termin.datum }}", Channel::Sms, true, &[]),
            ("{{ termin.farbe }}", Channel::Sms, true, &[Unknown]),
            ("{{ termin['datum'] }}", Channel::Sms, true, &[]),
            ("{{ lieblingsfarbe }}", Channel::Email, false, &[Unknown]),
            ("{{ debug() }}", Channel::Email, false, &[Unknown]),
            (
                "{{ versicherungsnummer }}",
                Channel::Email,
                false,
                &[Forbidden],
            ),
            ("{{ diagnose }}", Channel::Letter, false, &[Forbidden]),
            (
                "{% for k in beruf %}{{ k }}{% endfor %}",
                Channel::Letter,
                false,
                &[Forbidden],
            ),
            (
                "{{ vorname|upper }} {{ heute|datum('lang') }}",
                Channel::Letter,
                false,
                &[],
            ),
            ("{% set x = vorname %}{{ x }}", Channel::Letter, false, &[]),
            ("{% include 'x' %}", Channel::Letter, false, &[Include]),
            ("{{ vorname ", Channel::Letter, false, &[Syntax]),
            (
                "{# {{ geburtsdatum }} #}{{ vorname }}",
                Channel::Letter,
                false,
                &[],
            ),
            (
                "{% raw %}{{ geburtsdatum }}{% endraw %}",
                Channel::Letter,
                false,
                &[],
            ),
        ];
        for (src, ch, appt, kinds) in cases {
            let got: Vec<_> = validate_source(src, *ch, *appt, TemplatePart::Body)
                .into_iter()
                .map(|e| e.kind)
                .collect();
            assert_eq!(&got, kinds, "{src} ({ch:?}, appointments: {appt})");
        }
    }

    #[test]
    fn positions_of_attributes() {
        let errs = validate_source(
            "Termin:\n  am {{ termin.datum }} um {{ termin.foo }}",
            Channel::Sms,
            true,
            TemplatePart::Body,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].line, errs[0].column), (2, 31));
    }

    #[test]
    fn filters() {
        let r = Renderer::new(Language::De);
        let c = ctx(Channel::Sms);
        let out = r
            .render(
                "{{ heute|datum('lang') }} {{ heute|wochentag }} {{ '2026-11-27T09:05'|uhrzeit }} {{ '2026-11-27'|datum }}",
                &c,
            )
            .unwrap();
        assert_eq!(out, "26. November 2026 Donnerstag 09:05 27.11.2026");
        let en = Renderer::new(Language::En);
        assert_eq!(
            en.render(
                "{{ '2026-11-27'|datum('lang') }}, {{ '27.11.2026'|wochentag }}",
                &c
            )
            .unwrap(),
            "27 November 2026, Friday"
        );
        assert!(r.render("{{ vorname|datum }}", &c).is_err());
    }

    #[test]
    fn strict_undefined_and_limits_give_german_errors() {
        let r = Renderer::new(Language::De);
        let c = ctx(Channel::Sms);
        let e = r.render("{{ termin.datum }}", &c).unwrap_err();
        assert!(
            e.message
                .starts_with("„termin.datum“ hat für diesen Empfänger keinen Wert"),
            "{}",
            e.message
        );
        let e = r
            .render(
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                &c,
            )
            .unwrap_err();
        assert!(e.message.contains("zu aufwendig"), "{}", e.message);
        let e = r
            .render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", &c)
            .unwrap_err();
        assert!(
            e.message.contains("verschachtelt") || e.message.contains("zu aufwendig"),
            "{}",
            e.message
        );
        let e = r.render("{% include 'anything' %}", &c).unwrap_err();
        assert!(e.message.contains("Einbinden"), "{}", e.message);
    }

    #[test]
    fn html_part_escapes_values_and_formats_text() {
        let person = Person {
            first_name: "<script>alert(1)</script>".into(),
            last_name: "**Fett**".into(),
            gender: Gender::Female,
            ..Default::default()
        };
        let practice = PracticeSettings::default();
        let c = build_context(ContextInput {
            person: &person,
            practice: &practice,
            appointment: None,
            channel: Channel::Email,
            language: Language::De,
            today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            unsubscribe_link: Some("https://praxis.example/u/abc?x=1&y=2"),
        });
        let r = Renderer::new(Language::De);
        let html = r
            .render_html(
                "Hallo **{{ vorname }}** {{ nachname|safe }}\n\nAbmelden: {{ abmeldelink }}",
                &c,
            )
            .unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<strong>&lt;script"), "{html}");
        assert!(html.contains("**Fett**"), "{html}");
        assert!(
            html.contains("<a href=\"https://praxis.example/u/abc?x=1&amp;y=2\">"),
            "{html}"
        );
        assert!(!html.contains('\u{E000}'));
    }

    #[test]
    fn warnings_for_empty_values_and_missing_appointment() {
        let t = Template {
            id: "t".into(),
            name: "t".into(),
            channel: Channel::Sms,
            purpose: Purpose::AppointmentReminder,
            language: Language::De,
            subject: String::new(),
            body: "{{ titel }} {{ vorname }} {{ termin.datum }}".into(),
            shipped: false,
            version: 1,
        };
        let w = recipient_warnings(&t, &ctx(Channel::Sms));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].message.contains("kein Termin"));
        assert_eq!(w[1].placeholder.as_deref(), Some("titel"));
    }
}
