//! Template rendering with minijinja, static validation and per-recipient warnings.
//!
//! Set-up: strict undefined (a missing value is an error, never silently empty), no loader
//! (`{% include %}`, `{% import %}`, `{% extends %}` find nothing), a fuel budget and a low
//! recursion limit (a runaway template ends with a German error instead of freezing the tab),
//! German date/time filters `datum`, `uhrzeit`, `wochentag`. HTML escaping applies to the HTML
//! part of e-mails only: there every value is escaped (even `|safe` ones) and the literal text
//! is formatted by [`super::email_html`].

mod env;
mod error;
#[cfg(test)]
mod tests;
mod validate;
mod warnings;

use std::fmt::Write as _;

use minijinja::{AutoEscape, Environment, Error, Value};
use serde::{Deserialize, Serialize};

use super::email_html::{self, VALUE_END, VALUE_START};
use super::model::Channel;
use super::placeholders::MessageContext;
use super::template::Language;
use super::template::{has_subject, Template};
use env::base_env;
use error::german_render_error;

pub use error::{RenderError, TemplateError, TemplateErrorKind, TemplatePart};
pub use validate::{used_placeholders, validate, validate_source};
pub use warnings::{
    recipient_warnings, template_hints, RecipientWarning, TemplateHint, HINT_UNSUBSCRIBE_DE,
};

/// Instruction budget of one render (a normal message needs a few hundred).
pub const FUEL: u64 = 50_000;
/// Recursion limit (macros cost about 10 levels each).
pub const RECURSION_LIMIT: usize = 60;
/// Longest output accepted (characters); a letter is far below that.
pub const MAX_OUTPUT: usize = 100_000;

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
        // Bytes ≥ characters: count characters only for long texts.
        Ok(s) if s.len() > MAX_OUTPUT && s.chars().count() > MAX_OUTPUT => Err(RenderError {
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
        let mut text_env = base_env(language);
        // Strings are written as they are (what the default formatter does through `Display`,
        // without the formatting machinery); anything else, or inside `{% autoescape %}`, the
        // default way.
        text_env.set_formatter(|out, state, value| match value.as_str() {
            Some(s) if *state.auto_escape() == AutoEscape::None => Ok(out.write_str(s)?),
            _ => minijinja::escape_formatter(out, state, value),
        });
        let mut html_env = base_env(language);
        html_env.set_auto_escape_callback(|_| AutoEscape::Html);
        // Every printed value is wrapped in markers; email_html escapes it (ignoring `|safe`)
        // and never reads formatting syntax inside it.
        html_env.set_formatter(|out, _state, value| {
            if value.is_undefined() || value.is_none() {
                return Ok(());
            }
            let owned;
            let s = match value.as_str() {
                Some(s) => s,
                None => {
                    owned = value.to_string();
                    &owned
                }
            };
            out.write_char(VALUE_START)?;
            for part in s.split([VALUE_START, VALUE_END]) {
                out.write_str(part)?;
            }
            out.write_char(VALUE_END)?;
            Ok(())
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
        let marked = self.render_marked(source, ctx)?;
        Ok(email_html::to_html_document(&marked, self.language))
    }

    /// Renders with every printed value between [`VALUE_START`] and [`VALUE_END`], the input
    /// of both parts of an e-mail.
    fn render_marked(&self, source: &str, ctx: &MessageContext) -> Result<String, RenderError> {
        let source = strip_markers(source);
        finish(self.html_env.render_str(&source, ctx.to_value()), &source)
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
        let (body, html) = if template.channel == Channel::Email {
            // Rendered once; the plain-text part loses the `**` the HTML part makes bold.
            let marked = self
                .render_marked(&template.body, ctx)
                .map_err(|e| prefix(e, "Text", "body"))?;
            (
                email_html::to_plain_text(&marked),
                Some(email_html::to_html_document(&marked, self.language)),
            )
        } else {
            let body = self
                .render(&template.body, ctx)
                .map_err(|e| prefix(e, "Text", "body"))?;
            (body, None)
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
