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
        // The Du flag is empty for everyone addressed formally: that is no gap.
        if name == crate::domain::placeholders::DU {
            continue;
        }
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

/// The German text of [`TemplateHint::UnsubscribeLinkMissing`].
pub const HINT_UNSUBSCRIBE_DE: &str =
    "Werbliche E-Mails (Geburtstag, Einladung, Recall) sollten den Abmeldelink \
     {{ abmeldelink }} enthalten.";

/// A hint about a template as a whole (not an error). The UI shows it by its kind in its
/// language; `Display` is the German text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateHint {
    /// An advertising e-mail without the unsubscribe link `{{ abmeldelink }}`.
    UnsubscribeLinkMissing,
}

impl std::fmt::Display for TemplateHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateHint::UnsubscribeLinkMissing => f.write_str(HINT_UNSUBSCRIBE_DE),
        }
    }
}

/// Hints about a template as a whole (not errors): e.g. advertising e-mails without the
/// unsubscribe link.
pub fn template_hints(template: &Template) -> Vec<TemplateHint> {
    let mut out = Vec::new();
    if template.channel == Channel::Email
        && template.purpose.is_advertising()
        && !used_placeholders(template)
            .iter()
            .any(|n| n == "abmeldelink")
    {
        out.push(TemplateHint::UnsubscribeLinkMissing);
    }
    out
}
