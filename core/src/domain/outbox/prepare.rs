//! One preparation for every channel: from the review's hand-over, the persons and the
//! rendered messages to the items of a batch — and, for everyone left out, why.
//!
//! Letters, e-mail and SMS all go through [`prepare_batch`]; there is no other way from a
//! hand-over into the outbox. A recipient is queued only with a consent basis
//! ([`consent_basis`]): an active consent for the channel and purpose, or an inclusion
//! without consent that was confirmed with a reason in the review (`Handover::overrides`).
//! Without either the recipient is skipped with [`SkipReason::NoConsent`] or
//! [`SkipReason::ConsentWithdrawn`]; an override is never made up here.
//!
//! The persons are a parameter, so the caller decides where they come from (the point is to
//! read them at the moment of consequence, not from a copy taken when the review was built):
//! the contact is taken from the person as passed, and a person who became unreachable is
//! skipped too.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::{consent_basis, Content, QueueItem};
use crate::domain::address::{address_block, address_problems, guardian_address_block};
use crate::domain::guardian;
use crate::domain::model::{Channel, ConsentStatus, Guardian, Person, PersonId, PersonRecord};
use crate::domain::render::RenderError;
use crate::domain::review::{contact_of, Handover, Unreachable};

/// Why a handed-over recipient is not queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The person no longer exists.
    UnknownPerson,
    /// No consent for this channel and purpose, and no override logged in the review.
    NoConsent,
    /// The consent was withdrawn (and no override was logged after the withdrawal).
    ConsentWithdrawn { at: NaiveDate },
    /// The channel cannot reach the person (any more).
    Unreachable(Unreachable),
    /// The template could not be rendered for this person (the renderer's error).
    RenderFailed(Box<RenderError>),
    /// No message was rendered for this recipient.
    NotRendered,
    /// The rendered message is empty.
    EmptyMessage,
    /// A minor without guardians (and no override logged in the review).
    MinorWithoutGuardian,
    /// A minor whose guardian (the first one the channel may reach, see
    /// `guardian::choose`) cannot be written to: why.
    Guardian {
        name: String,
        reason: Box<SkipReason>,
    },
}

impl SkipReason {
    pub fn message_de(&self) -> String {
        match self {
            SkipReason::UnknownPerson => "Person nicht mehr vorhanden".into(),
            SkipReason::NoConsent => {
                "Keine Einwilligung und keine protokollierte Ausnahme in der Überprüfung".into()
            }
            SkipReason::ConsentWithdrawn { at } => {
                format!("Einwilligung am {} widerrufen", at.format("%d.%m.%Y"))
            }
            SkipReason::Unreachable(u) => u.message_de(),
            SkipReason::RenderFailed(e) => format!("Vorlage nicht darstellbar: {e}"),
            SkipReason::NotRendered => "Keine Nachricht erstellt".into(),
            SkipReason::EmptyMessage => "Die Nachricht ist leer".into(),
            SkipReason::MinorWithoutGuardian => {
                "Minderjährig ohne Erziehungsberechtigte und keine protokollierte Ausnahme".into()
            }
            SkipReason::Guardian { name, reason } => {
                format!("Erziehungsberechtigte {name}: {}", reason.message_de())
            }
        }
    }
}

/// A recipient that was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Position in `Handover::recipients`.
    pub index: usize,
    pub person_id: PersonId,
    /// The recipient's name as the message would carry it (the id when the person is gone).
    pub name: String,
    pub reason: SkipReason,
}

/// A recipient to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedItem {
    /// Position in `Handover::recipients`.
    pub index: usize,
    pub item: QueueItem,
    /// The guardian of the minor the message goes to (`Person::guardians[i]`).
    pub guardian: Option<usize>,
}

/// The result of [`prepare_batch`]: what to queue, in hand-over order, and who is left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreparedBatch {
    pub items: Vec<PreparedItem>,
    pub skipped: Vec<Skipped>,
}

impl PreparedBatch {
    /// The queue items (for `queue_batch`).
    pub fn queue_items(&self) -> Vec<QueueItem> {
        self.items.iter().map(|p| p.item.clone()).collect()
    }
}

/// The address stored with the message: the printed address block for letters, the
/// checked e-mail address or E.164 number otherwise.
pub(super) fn address_of(channel: Channel, p: &Person) -> Result<String, Unreachable> {
    match channel {
        Channel::Letter => {
            let problems = address_problems(&p.address);
            if problems.is_empty() {
                Ok(address_block(p).join(", "))
            } else {
                Err(Unreachable::IncompleteAddress(problems))
            }
        }
        Channel::Sms | Channel::Email => match contact_of(channel, p) {
            (contact, None, _) => Ok(contact.display()),
            (_, Some(why), _) => Err(why),
        },
    }
}

/// The name stored with the message: "Müller, Anna" for letters (the print log is sorted by
/// it), "Dr. Anna Müller" for e-mail and SMS (the relay uses it as the display name).
pub(super) fn recipient_name(channel: Channel, p: &Person) -> String {
    match channel {
        Channel::Letter => p.sort_name(),
        Channel::Sms | Channel::Email => p.full_name(),
    }
}

/// The name stored with a message to a guardian of the minor `child`: for letters the
/// child's sort name with the guardian ("Weber, Tim (an Anna Weber)"), for e-mail and SMS
/// the guardian's name ("Anna Weber", "Eltern von Tim Weber").
fn guardian_recipient_name(channel: Channel, child: &Person, g: &Guardian) -> String {
    let to = guardian::display_name(child, g);
    match channel {
        Channel::Letter => format!("{} (an {to})", child.sort_name()),
        Channel::Sms | Channel::Email => to,
    }
}

/// A handed-over recipient that may be contacted: the person, read at the moment of
/// consequence, with the consent basis, the address and the name the message carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted<'p> {
    pub index: usize,
    pub person: &'p Person,
    pub name: String,
    pub address: String,
    pub consent: super::ConsentBasis,
    /// For a minor: the guardian the message goes to (`person.guardians[i]`); the address
    /// and consent above are the guardian's.
    pub guardian: Option<usize>,
}

impl<'p> Admitted<'p> {
    /// The guardian the message goes to, for a minor.
    pub fn guardian(&self) -> Option<&'p Guardian> {
        self.guardian.and_then(|i| self.person.guardians.get(i))
    }

    /// The recipient block a letter prints: the person's, or the guardian's.
    pub fn address_block(&self) -> Vec<String> {
        match self.guardian() {
            Some(g) => guardian_address_block(self.person, g),
            None => address_block(self.person),
        }
    }
}

/// The one consent gate: whether `handover.recipients[index]` may be contacted on the
/// hand-over's channel for its purpose. Checks in this order: the person exists, a consent
/// basis (active consent or an override logged in the review), reachable on the channel.
///
/// For a minor (`handover.minors`, from the birth date on the day of sending) the message
/// goes to a guardian (`guardian::choose`: the first reachable one with consent): consent
/// and contact are the guardian's. A minor without guardians is only admitted through an
/// override logged in the review (to their own contact), else skipped with
/// [`SkipReason::MinorWithoutGuardian`].
pub fn admit<'p>(
    handover: &Handover,
    index: usize,
    persons: &impl Fn(&PersonId) -> Option<&'p PersonRecord>,
) -> Result<Admitted<'p>, Skipped> {
    let r = &handover.recipients[index];
    let Some(record) = persons(&r.person_id) else {
        return Err(Skipped {
            index,
            person_id: r.person_id.clone(),
            name: r.person_id.0.clone(),
            reason: SkipReason::UnknownPerson,
        });
    };
    let person = &record.person;
    let (channel, purpose) = (handover.channel, handover.purpose);
    let minor = handover.minors.is_minor(record.sensitive.birth_date);
    let guardian = if minor {
        guardian::choose(person, channel, purpose)
    } else {
        None
    };
    let g = guardian.map(|i| &person.guardians[i]);
    // Whose consent and contact count: the person, the guardian standing in, or — for a
    // minor without guardians — nobody's consent (only an override).
    let to: Cow<Person> = match (minor, g) {
        (false, _) => Cow::Borrowed(person),
        (true, Some(g)) => Cow::Owned(guardian::stand_in(person, g)),
        (true, None) => Cow::Owned(Person {
            consents: Default::default(),
            ..person.clone()
        }),
    };
    let name = match g {
        Some(g) => guardian_recipient_name(channel, person, g),
        None => recipient_name(channel, person),
    };
    let skip = |reason| Skipped {
        index,
        person_id: person.id.clone(),
        name: match g {
            Some(_) => recipient_name(channel, person),
            None => name.clone(),
        },
        reason: match g {
            Some(g) => SkipReason::Guardian {
                name: guardian::display_name(person, g),
                reason: Box::new(reason),
            },
            None => reason,
        },
    };
    let Some(consent) = consent_basis(
        &to,
        r.appointment_id.as_ref(),
        channel,
        purpose,
        &handover.overrides,
    ) else {
        if minor && g.is_none() {
            return Err(skip(SkipReason::MinorWithoutGuardian));
        }
        let reason = match to.consents.status(channel, purpose) {
            ConsentStatus::Withdrawn { withdrawn_at, .. } => {
                SkipReason::ConsentWithdrawn { at: withdrawn_at }
            }
            _ => SkipReason::NoConsent,
        };
        return Err(skip(reason));
    };
    let address = match (channel, g) {
        (Channel::Letter, Some(g)) => {
            address_of(channel, &to).map(|_| guardian_address_block(person, g).join(", "))
        }
        _ => address_of(channel, &to),
    }
    .map_err(|why| skip(SkipReason::Unreachable(why)))?;
    Ok(Admitted {
        index,
        person,
        name,
        address,
        consent,
        guardian,
    })
}

/// Every handed-over recipient that passes [`admit`] (in hand-over order), and who does not
/// and why — for outputs without a message of their own (address labels, envelopes).
pub fn admitted<'p>(
    handover: &Handover,
    persons: impl Fn(&PersonId) -> Option<&'p PersonRecord>,
) -> (Vec<Admitted<'p>>, Vec<Skipped>) {
    let (mut ok, mut skipped) = (Vec::new(), Vec::new());
    for index in 0..handover.recipients.len() {
        match admit(handover, index, &persons) {
            Ok(a) => ok.push(a),
            Err(s) => skipped.push(s),
        }
    }
    (ok, skipped)
}

/// Prepares a batch from the hand-over of the review, for every channel alike.
///
/// - `persons` finds a person by id (the caller passes what it read for this batch);
/// - `rendered[i]` is the rendered message of `handover.recipients[i]` (`None` when it was
///   not rendered, e.g. because the person is gone), or the renderer's error;
/// - `new_id` makes the message ids (UUIDs; the domain makes no random numbers).
///
/// Checks [`admit`] first, then that the message was rendered and is not empty.
pub fn prepare_batch<'p>(
    handover: &Handover,
    persons: impl Fn(&PersonId) -> Option<&'p PersonRecord>,
    rendered: &[Option<Result<Content, RenderError>>],
    mut new_id: impl FnMut() -> String,
) -> PreparedBatch {
    let mut out = PreparedBatch::default();
    for index in 0..handover.recipients.len() {
        let a = match admit(handover, index, &persons) {
            Ok(a) => a,
            Err(s) => {
                out.skipped.push(s);
                continue;
            }
        };
        let skip = |reason| Skipped {
            index,
            person_id: a.person.id.clone(),
            name: a.name.clone(),
            reason,
        };
        let guardian = a.guardian;
        let content = match rendered.get(index) {
            Some(Some(Ok(c))) if !c.text.trim().is_empty() => c.clone(),
            Some(Some(Ok(_))) => {
                out.skipped.push(skip(SkipReason::EmptyMessage));
                continue;
            }
            Some(Some(Err(e))) => {
                out.skipped
                    .push(skip(SkipReason::RenderFailed(Box::new(e.clone()))));
                continue;
            }
            Some(None) | None => {
                out.skipped.push(skip(SkipReason::NotRendered));
                continue;
            }
        };
        out.items.push(PreparedItem {
            index,
            item: QueueItem {
                id: new_id(),
                person_id: a.person.id.clone(),
                appointment_id: handover.recipients[index].appointment_id.clone(),
                recipient_name: a.name,
                address: a.address,
                content,
                consent: a.consent,
            },
            guardian,
        });
    }
    out
}
