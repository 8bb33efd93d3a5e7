//! Warnings about one recipient's message and hints about a template as a whole.

use serde::{Deserialize, Serialize};

use super::used_placeholders;
use crate::domain::model::Channel;
use crate::domain::placeholders::{lookup, MessageContext};
use crate::domain::template::Template;

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
