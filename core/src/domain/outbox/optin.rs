//! Double opt-in confirmations reported by the relay (the recipient confirmed the link of a
//! confirmation e-mail). Counterpart of [`super::optout`]: the relay records the click, the
//! app pulls it and records it in the person's consent history.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::prepare::{address_of, recipient_name};
use super::{queue_batch, Batch, ConsentBasis, Content, OutboxError, OutboxMessage, QueueItem};
use crate::domain::email_html;
use crate::domain::model::{Channel, ConsentEvent, ConsentSource, Evidence, PersonId, Purpose};
use crate::domain::placeholders::{format_date, MessageContext};
use crate::domain::review::Unreachable;
use crate::domain::template::{parse_shipped, Language, Template};
use crate::domain::Person;
use crate::wire::{OptInRequest, CONFIRMATION_LINK_MARKER};

/// Name of the shipped confirmation e-mail (send log, batch label).
pub const OPTIN_TEMPLATE_NAME_DE: &str = "Bestätigung Ihrer Einwilligung";

/// The shipped confirmation e-mail ("Bestätigung Ihrer Einwilligung") of a language. Its
/// placeholders: `anrede`, `praxis.name` (from the recipient's normal context), `zwecke`
/// (the requested purposes), `gueltig_bis` (last day of the link) and `bestaetigungslink`
/// (the relay's confirmation link).
pub fn optin_template(language: Language) -> Template {
    let text = match language {
        Language::De => include_str!("../../../../templates/de/email_optin.txt"),
        Language::En => include_str!("../../../../templates/en/email_optin.txt"),
    };
    let mut t = parse_shipped(language, Channel::Email, Purpose::Other, text);
    t.id = format!("shipped:{}:email:optin", language.key());
    t
}

/// "Geburtstagsgrüße und Einladungen" (the messages of the purposes, plural).
pub fn purposes_text(purposes: &[Purpose], language: Language) -> String {
    let names: Vec<&str> = purposes
        .iter()
        .map(|p| match (language, p) {
            (Language::De, Purpose::AppointmentReminder) => "Terminerinnerungen",
            (Language::De, Purpose::Birthday) => "Geburtstagsgrüße",
            (Language::De, Purpose::Invitation) => "Einladungen",
            (Language::De, Purpose::Recall) => "Erinnerungen an Vorsorge- und Kontrolltermine",
            (Language::De, Purpose::Other) => "sonstige Informationen (z. B. einen Newsletter)",
            (Language::En, Purpose::AppointmentReminder) => "appointment reminders",
            (Language::En, Purpose::Birthday) => "birthday greetings",
            (Language::En, Purpose::Invitation) => "invitations",
            (Language::En, Purpose::Recall) => "reminders of check-ups",
            (Language::En, Purpose::Other) => "other news (e.g. a newsletter)",
        })
        .collect();
    let and = match language {
        Language::De => "und",
        Language::En => "and",
    };
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

/// Renders the confirmation e-mail for one recipient: the template's placeholders replaced
/// (the link by [`CONFIRMATION_LINK_MARKER`], which the relay turns into the link), plain
/// text and HTML from the same text like every e-mail.
pub fn confirmation_content(
    template: &Template,
    ctx: &MessageContext,
    purposes: &[Purpose],
    valid_until: NaiveDate,
) -> Content {
    let lang = template.language;
    let fill = |s: &str| {
        s.replace("{{ anrede }}", ctx.get("anrede").unwrap_or_default())
            .replace(
                "{{ praxis.name }}",
                ctx.get("praxis.name").unwrap_or_default(),
            )
            .replace("{{ zwecke }}", &purposes_text(purposes, lang))
            .replace("{{ gueltig_bis }}", &format_date(valid_until, lang))
            .replace("{{ bestaetigungslink }}", CONFIRMATION_LINK_MARKER)
    };
    let body = fill(&template.body);
    Content {
        subject: Some(fill(&template.subject)),
        text: email_html::to_plain_text(&body),
        html: Some(email_html::to_html_document(&body, lang)),
        calendar: None,
    }
}

/// Why no confirmation can be requested from a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptInRefusal {
    /// No purpose chosen.
    NoPurpose,
    /// No usable e-mail address.
    Unreachable(Unreachable),
}

impl OptInRefusal {
    pub fn message_de(&self) -> String {
        match self {
            OptInRefusal::NoPurpose => "Kein Zweck gewählt".into(),
            OptInRefusal::Unreachable(u) => u.message_de(),
        }
    }
}

/// One person's confirmation request, rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptInItem<'p> {
    pub person: &'p Person,
    /// The message id (made by the caller; the relay's idempotency key).
    pub id: String,
    pub content: Content,
}

/// The outbox records of a double opt-in request: one e-mail per person, queued like every
/// message (so it is sent once, with its stable id, and shows in the send log), carrying
/// the request (`purposes`, link validity) for the relay. The batch's purpose is the first
/// requested one. The message asks for consent and is no advertising itself, so its basis
/// is [`ConsentBasis::OptInRequest`], not a consent.
pub fn queue_optin_requests(
    batch: &Batch,
    items: Vec<OptInItem<'_>>,
    request: &OptInRequest,
) -> Result<Vec<OutboxMessage>, OutboxError> {
    let queue: Vec<QueueItem> = items
        .into_iter()
        .filter_map(|it| {
            Some(QueueItem {
                id: it.id,
                person_id: it.person.id.clone(),
                appointment_id: None,
                recipient_name: recipient_name(Channel::Email, it.person),
                address: address_of(Channel::Email, it.person).ok()?,
                content: it.content,
                consent: ConsentBasis::OptInRequest,
            })
        })
        .collect();
    let mut out = queue_batch(batch, queue)?;
    for m in &mut out {
        m.optin = Some(request.clone());
    }
    Ok(out)
}

/// Whether a confirmation can be requested from `person` for `purposes` (an e-mail address
/// that works, at least one purpose).
pub fn check_optin(person: &Person, purposes: &[Purpose]) -> Result<(), OptInRefusal> {
    if purposes.is_empty() {
        return Err(OptInRefusal::NoPurpose);
    }
    address_of(Channel::Email, person)
        .map(|_| ())
        .map_err(OptInRefusal::Unreachable)
}

/// A confirmed double opt-in. Domain side of a relay confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationNotice {
    pub person_id: PersonId,
    pub channel: Channel,
    /// The purposes the confirmation e-mail asked for.
    pub purposes: Vec<Purpose>,
    /// Local practice time of the confirmation.
    pub at: NaiveDateTime,
}

/// The note of a confirmation event: the time of the click (the event itself has a date).
fn note(at: NaiveDateTime) -> String {
    format!("bestätigt am {}", at.format("%d.%m.%Y %H:%M"))
}

/// Applies confirmations: appends a grant (the confirmation's date, evidence and source
/// "Double-Opt-in", the time in the note) to every cell of the notice. Idempotent: a cell
/// that already holds this confirmation's event is left alone. Returns the ids of the
/// persons whose history changed, in first-change order.
pub fn apply_confirmations(
    persons: &mut [Person],
    notices: &[ConfirmationNotice],
) -> Vec<PersonId> {
    super::optout::apply_notices(
        persons,
        notices,
        |n| &n.person_id,
        |person, n| {
            let event = ConsentEvent::granted(
                n.at.date(),
                Evidence::DoubleOptIn,
                ConsentSource::DoubleOptIn,
            )
            .with_note(&note(n.at));
            let mut any = false;
            for &p in &n.purposes {
                if person.consents.events(n.channel, p).contains(&event) {
                    continue;
                }
                person.consents.record(n.channel, p, event.clone());
                any = true;
            }
            any
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consent::{ConsentAction, ConsentStatus};
    use crate::domain::model::PracticeSettings;
    use crate::domain::placeholders::{build_context, ContextInput};
    use chrono::NaiveDate;

    fn at(day: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn confirmations_grant_with_double_opt_in_idempotently() {
        let mut persons = vec![Person {
            id: PersonId("a".into()),
            ..Default::default()
        }];
        // An earlier opt-out stays in the history, before the new grant.
        persons[0].consents.record(
            Channel::Email,
            Purpose::Birthday,
            ConsentEvent::withdrawn(at(1, 0, 0).date(), ConsentSource::UnsubscribeLink),
        );
        let notices = vec![
            ConfirmationNotice {
                person_id: PersonId("a".into()),
                channel: Channel::Email,
                purposes: vec![Purpose::Birthday, Purpose::Invitation],
                at: at(4, 14, 5),
            },
            ConfirmationNotice {
                person_id: PersonId("unknown".into()),
                channel: Channel::Email,
                purposes: vec![Purpose::Birthday],
                at: at(4, 14, 5),
            },
        ];
        assert_eq!(
            apply_confirmations(&mut persons, &notices),
            [PersonId("a".into())]
        );
        let c = &persons[0].consents;
        for p in [Purpose::Birthday, Purpose::Invitation] {
            let ConsentStatus::Granted(g) = c.status(Channel::Email, p) else {
                panic!("{p:?}: {:?}", c.status(Channel::Email, p));
            };
            assert_eq!(g.evidence, Evidence::DoubleOptIn);
            assert_eq!(g.source, ConsentSource::DoubleOptIn);
            assert_eq!(g.given_at, at(4, 0, 0).date());
            let last = c.events(Channel::Email, p).last().unwrap();
            assert_eq!(last.note, "bestätigt am 04.12.2026 14:05");
        }
        assert_eq!(
            c.events(Channel::Email, Purpose::Birthday)
                .iter()
                .map(|e| e.action)
                .collect::<Vec<_>>(),
            [ConsentAction::Withdrawn, ConsentAction::Granted]
        );
        assert!(!c.allows(Channel::Email, Purpose::Recall));
        assert!(!c.allows(Channel::Sms, Purpose::Birthday));
        // Fetched again: nothing changes.
        let snapshot = persons.clone();
        assert!(apply_confirmations(&mut persons, &notices).is_empty());
        assert_eq!(persons, snapshot);
    }

    #[test]
    fn confirmation_request_is_queued_with_the_link_marker_and_the_request() {
        let person = Person {
            id: PersonId("a".into()),
            first_name: "Erika".into(),
            last_name: "Muster".into(),
            email: "erika@example.org".into(),
            ..Default::default()
        };
        let practice = PracticeSettings {
            name: "Praxis Sonnenschein".into(),
            ..Default::default()
        };
        let ctx = build_context(ContextInput {
            person: &person,
            practice: &practice,
            appointment: None,
            channel: Channel::Email,
            language: Language::De,
            today: at(4, 0, 0).date(),
            unsubscribe_link: None,
        });
        let template = optin_template(Language::De);
        assert_eq!(template.name, OPTIN_TEMPLATE_NAME_DE);
        let purposes = [Purpose::Birthday, Purpose::Invitation];
        let content = confirmation_content(&template, &ctx, &purposes, at(31, 0, 0).date());
        assert_eq!(
            content.subject.as_deref(),
            Some("Bestätigung Ihrer Einwilligung")
        );
        for part in [&content.text, content.html.as_ref().unwrap()] {
            assert!(part.contains(CONFIRMATION_LINK_MARKER), "{part}");
            assert!(part.contains("Geburtstagsgrüße und Einladungen"), "{part}");
            assert!(part.contains("31.12.2026"), "{part}");
            assert!(part.contains("Praxis Sonnenschein"), "{part}");
            assert!(!part.contains("{{"), "{part}");
        }
        assert!(content.text.contains("Muster"), "{}", content.text);
        let batch = Batch {
            claim: None,
            id: "b".into(),
            created_at: at(4, 10, 0),
            channel: Channel::Email,
            purpose: Purpose::Birthday,
            template_name: template.name.clone(),
            template_version: 1,
            paused: false,
            files: Vec::new(),
        };
        let request = OptInRequest {
            purposes: purposes.to_vec(),
            expiry_days: 27,
        };
        let out = queue_optin_requests(
            &batch,
            vec![OptInItem {
                person: &person,
                id: "m1".into(),
                content,
            }],
            &request,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].id, "m1");
        assert_eq!(out[0].address, "erika@example.org");
        assert_eq!(out[0].optin.as_ref(), Some(&request));
        assert_eq!(out[0].consent, ConsentBasis::OptInRequest);
        // No address or no purpose: refused with the reason.
        let mut no_mail = person.clone();
        no_mail.email.clear();
        assert_eq!(
            check_optin(&no_mail, &purposes),
            Err(OptInRefusal::Unreachable(Unreachable::NoEmail))
        );
        assert_eq!(check_optin(&person, &[]), Err(OptInRefusal::NoPurpose));
        assert_eq!(check_optin(&person, &purposes), Ok(()));
    }
}
