//! Message templates and the shipped defaults (compiled in from `templates/`).

use serde::{Deserialize, Serialize};

use super::model::{Channel, Purpose};

/// Language of a template (drives the salutation and date formats).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    De,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::De, Language::En];

    pub fn label_de(self) -> &'static str {
        match self {
            Language::De => "Deutsch",
            Language::En => "Englisch",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Language::De => "de",
            Language::En => "en",
        }
    }
}

/// A message template. Subject is used for e-mail (subject line) and letter (bold subject
/// line under the address); SMS templates leave it empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub channel: Channel,
    pub purpose: Purpose,
    pub language: Language,
    #[serde(default)]
    pub subject: String,
    pub body: String,
    /// True for the defaults shipped with the app (restorable, never deleted for good).
    #[serde(default)]
    pub shipped: bool,
    /// Incremented on every edit (shipped defaults start at 1).
    #[serde(default = "one")]
    pub version: u32,
}

fn one() -> u32 {
    1
}

/// Whether a channel has a subject line.
pub fn has_subject(channel: Channel) -> bool {
    matches!(channel, Channel::Email | Channel::Letter)
}

impl Template {
    /// A user-owned copy under a new id (made by the caller) and name.
    pub fn duplicate(&self, new_id: impl Into<String>, new_name: impl Into<String>) -> Template {
        Template {
            id: new_id.into(),
            name: new_name.into(),
            shipped: false,
            version: 1,
            ..self.clone()
        }
    }

    /// The shipped original of this template, if it is (or was) a shipped one.
    pub fn shipped_original(&self) -> Option<Template> {
        shipped_template(&self.id)
    }
}

/// Id of a shipped template: `shipped:<lang>:<channel>:<purpose>`.
pub fn shipped_id(language: Language, channel: Channel, purpose: Purpose) -> String {
    format!(
        "shipped:{}:{}:{}",
        language.key(),
        channel.key(),
        purpose.key()
    )
}

macro_rules! shipped {
    ($($lang:ident / $file:literal => $channel:ident, $purpose:ident;)*) => {
        const SHIPPED: &[(Language, Channel, Purpose, &str)] = &[
            $((Language::$lang, Channel::$channel, Purpose::$purpose,
               include_str!(concat!("../../../templates/", $file))),)*
        ];
    };
}

shipped! {
    De / "de/letter_appointment_reminder.txt" => Letter, AppointmentReminder;
    De / "de/letter_birthday.txt" => Letter, Birthday;
    De / "de/letter_invitation.txt" => Letter, Invitation;
    De / "de/letter_recall.txt" => Letter, Recall;
    De / "de/sms_appointment_reminder.txt" => Sms, AppointmentReminder;
    De / "de/sms_birthday.txt" => Sms, Birthday;
    De / "de/sms_invitation.txt" => Sms, Invitation;
    De / "de/sms_recall.txt" => Sms, Recall;
    De / "de/email_appointment_reminder.txt" => Email, AppointmentReminder;
    De / "de/email_birthday.txt" => Email, Birthday;
    De / "de/email_invitation.txt" => Email, Invitation;
    De / "de/email_recall.txt" => Email, Recall;
    En / "en/letter_appointment_reminder.txt" => Letter, AppointmentReminder;
    En / "en/letter_birthday.txt" => Letter, Birthday;
    En / "en/letter_invitation.txt" => Letter, Invitation;
    En / "en/letter_recall.txt" => Letter, Recall;
    En / "en/sms_appointment_reminder.txt" => Sms, AppointmentReminder;
    En / "en/sms_birthday.txt" => Sms, Birthday;
    En / "en/sms_invitation.txt" => Sms, Invitation;
    En / "en/sms_recall.txt" => Sms, Recall;
    En / "en/email_appointment_reminder.txt" => Email, AppointmentReminder;
    En / "en/email_birthday.txt" => Email, Birthday;
    En / "en/email_invitation.txt" => Email, Invitation;
    En / "en/email_recall.txt" => Email, Recall;
}

/// Parses a shipped template file: header lines `name: …` and `subject: …`, a line `---`,
/// then the body (trailing newline removed).
pub(crate) fn parse_shipped(
    lang: Language,
    channel: Channel,
    purpose: Purpose,
    text: &str,
) -> Template {
    let (head, body) = text
        .split_once("\n---\n")
        .expect("shipped template needs a '---' line");
    let mut name = String::new();
    let mut subject = String::new();
    for line in head.lines() {
        if let Some(v) = line.strip_prefix("name:") {
            name = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("subject:") {
            subject = v.trim().to_string();
        }
    }
    Template {
        id: shipped_id(lang, channel, purpose),
        name,
        channel,
        purpose,
        language: lang,
        subject,
        body: body.trim_end_matches('\n').to_string(),
        shipped: true,
        version: 1,
    }
}

/// All shipped default templates (German and English, 4 purposes × 3 channels each).
pub fn shipped_templates() -> Vec<Template> {
    SHIPPED
        .iter()
        .map(|(l, c, p, t)| parse_shipped(*l, *c, *p, t))
        .collect()
}

/// The shipped template with this id (for "restore default").
pub fn shipped_template(id: &str) -> Option<Template> {
    SHIPPED
        .iter()
        .find(|(l, c, p, _)| shipped_id(*l, *c, *p) == id)
        .map(|(l, c, p, t)| parse_shipped(*l, *c, *p, t))
}

/// Templates of a channel (and optionally purpose), for the composer's choice list.
pub fn filter_templates<'a>(
    all: &'a [Template],
    channel: Channel,
    purpose: Option<Purpose>,
) -> impl Iterator<Item = &'a Template> + 'a {
    all.iter()
        .filter(move |t| t.channel == channel && purpose.is_none_or(|p| t.purpose == p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_channel_purpose_is_shipped_once() {
        let all = shipped_templates();
        assert_eq!(all.len(), 24);
        for lang in Language::ALL {
            for channel in Channel::ALL {
                for purpose in [
                    Purpose::AppointmentReminder,
                    Purpose::Birthday,
                    Purpose::Invitation,
                    Purpose::Recall,
                ] {
                    let n = all
                        .iter()
                        .filter(|t| {
                            t.language == lang && t.channel == channel && t.purpose == purpose
                        })
                        .count();
                    assert_eq!(n, 1, "{lang:?} {channel:?} {purpose:?}");
                }
            }
        }
        for t in &all {
            assert!(!t.name.is_empty(), "{} has no name", t.id);
            assert!(!t.body.trim().is_empty(), "{} has no body", t.id);
            assert_eq!(has_subject(t.channel), !t.subject.is_empty(), "{}", t.id);
            assert!(t.shipped);
        }
    }

    #[test]
    fn duplicate_and_restore() {
        let t = shipped_templates().remove(0);
        let mut copy = t.duplicate("u1", "Meine Vorlage");
        assert!(!copy.shipped);
        assert_eq!(copy.body, t.body);
        copy.body = "geändert".into();
        assert_eq!(t.shipped_original().unwrap(), t);
        assert_eq!(copy.shipped_original(), None);
    }

    #[test]
    fn filter_by_channel_and_purpose() {
        let all = shipped_templates();
        assert_eq!(filter_templates(&all, Channel::Sms, None).count(), 8);
        assert_eq!(
            filter_templates(&all, Channel::Email, Some(Purpose::Birthday)).count(),
            2
        );
    }
}
