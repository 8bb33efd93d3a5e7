//! Errors of the template checks and of rendering, with German messages.

use minijinja::{Error, ErrorKind};
use serde::{Deserialize, Serialize};

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
    /// The therapist's name while the practice does not show it in messages.
    TherapistOff,
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

/// Maps a minijinja error to a German message.
pub(super) fn german_render_error(e: &Error, source: &str) -> RenderError {
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
