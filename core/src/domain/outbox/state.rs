//! The outbox record and its state machine.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::ConsentBasis;
use crate::domain::model::{AppointmentId, Channel, PersonId, Purpose};

/// The rendered content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// E-mail subject / letter subject line; `None` for SMS.
    #[serde(default)]
    pub subject: Option<String>,
    pub text: String,
    #[serde(default)]
    pub html: Option<String>,
    /// E-mail appointment reminders: the calendar entry (`.ics` text,
    /// [`crate::domain::calendar`]) the e-mail carries as an attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
}

/// The state of one outbox message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MessageState {
    Queued,
    /// The relay accepted it (relay-side "queued" or "sending").
    Transmitted,
    /// The relay will try again.
    Retrying {
        #[serde(default)]
        next_attempt: Option<NaiveDateTime>,
        #[serde(default)]
        reason: Option<String>,
    },
    Sent,
    Failed {
        reason: String,
    },
    /// Letters: the PDF was produced for printing ("gedruckt").
    Printed,
    Cancelled,
}

/// [`MessageState`] without data, for tables, filters and counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    Queued,
    Transmitted,
    Retrying,
    Sent,
    Failed,
    Printed,
    Cancelled,
}

impl StateKind {
    pub const ALL: [StateKind; 7] = [
        StateKind::Queued,
        StateKind::Transmitted,
        StateKind::Retrying,
        StateKind::Sent,
        StateKind::Failed,
        StateKind::Printed,
        StateKind::Cancelled,
    ];

    pub fn label_de(self) -> &'static str {
        match self {
            StateKind::Queued => "wartet",
            StateKind::Transmitted => "übermittelt",
            StateKind::Retrying => "neuer Versuch geplant",
            StateKind::Sent => "gesendet",
            StateKind::Failed => "fehlgeschlagen",
            StateKind::Printed => "gedruckt",
            StateKind::Cancelled => "abgebrochen",
        }
    }

    /// A stable code (form values, `data-state` attributes), not shown to the user.
    pub fn code(self) -> &'static str {
        match self {
            StateKind::Queued => "queued",
            StateKind::Transmitted => "transmitted",
            StateKind::Retrying => "retrying",
            StateKind::Sent => "sent",
            StateKind::Failed => "failed",
            StateKind::Printed => "printed",
            StateKind::Cancelled => "cancelled",
        }
    }

    /// No further change will happen.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            StateKind::Sent | StateKind::Failed | StateKind::Printed | StateKind::Cancelled
        )
    }

    /// Progress order: a relay report may only move a message to a higher rank (or stay).
    pub(super) fn rank(self) -> u8 {
        match self {
            StateKind::Queued => 0,
            StateKind::Transmitted => 1,
            StateKind::Retrying => 2,
            _ => 3,
        }
    }
}

/// Whether a stored outbox document (its JSON) still needs the transmit loop, i.e. is not
/// in a final state. Reads only the state tag, so the app shell can ask without the message
/// type; a document whose state cannot be read counts as open (the loop will decide).
pub fn stored_message_is_open(doc: &serde_json::Value) -> bool {
    doc.get("state")
        .and_then(|s| s.get("state"))
        .cloned()
        .and_then(|tag| serde_json::from_value::<StateKind>(tag).ok())
        .is_none_or(|k| !k.is_final())
}

impl MessageState {
    pub fn kind(&self) -> StateKind {
        match self {
            MessageState::Queued => StateKind::Queued,
            MessageState::Transmitted => StateKind::Transmitted,
            MessageState::Retrying { .. } => StateKind::Retrying,
            MessageState::Sent => StateKind::Sent,
            MessageState::Failed { .. } => StateKind::Failed,
            MessageState::Printed => StateKind::Printed,
            MessageState::Cancelled => StateKind::Cancelled,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            MessageState::Failed { reason } => Some(reason),
            MessageState::Retrying { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }
}

/// Whether the strict state machine has an edge `from → to` for a channel.
pub fn can_transition(channel: Channel, from: StateKind, to: StateKind) -> bool {
    use StateKind::*;
    let relayed = channel != Channel::Letter;
    match (from, to) {
        (Queued, Transmitted) | (Queued, Failed) => relayed,
        (Queued, Printed) => !relayed,
        (Queued, Cancelled) => true,
        (Transmitted | Retrying, Sent | Failed | Retrying) => relayed,
        _ => false,
    }
}

/// Errors of the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutboxError {
    IllegalTransition {
        channel: Channel,
        from: StateKind,
        to: StateKind,
    },
    /// Cancel of a message that may already be at the relay.
    MaybeTransmitted,
    /// A relay report for another id, or for a letter.
    NotRelayed,
    WrongId,
    /// A relay report for a message the practice cancelled (should not happen: cancel is only
    /// allowed for messages the relay never saw).
    CancelledButReported,
    DuplicateId(String),
    EmptyAddress(String),
    EmptyContent(String),
    WrongBatch(String),
}

impl OutboxError {
    pub fn message_de(&self) -> String {
        match self {
            OutboxError::IllegalTransition { from, to, channel } => format!(
                "Unzulässiger Statuswechsel ({}): {} → {}",
                channel.label_de(),
                from.label_de(),
                to.label_de()
            ),
            OutboxError::MaybeTransmitted => {
                "Die Nachricht wurde eventuell schon übermittelt; bitte zuerst den Status abfragen"
                    .into()
            }
            OutboxError::NotRelayed => "Briefe werden nicht über das Relay versendet".into(),
            OutboxError::WrongId => "Statusmeldung gehört zu einer anderen Nachricht".into(),
            OutboxError::CancelledButReported => {
                "Das Relay meldet eine abgebrochene Nachricht als verarbeitet".into()
            }
            OutboxError::DuplicateId(id) => format!("Nachrichten-ID doppelt: {id}"),
            OutboxError::EmptyAddress(id) => format!("Keine Empfängeradresse ({id})"),
            OutboxError::EmptyContent(id) => format!("Kein Nachrichtentext ({id})"),
            OutboxError::WrongBatch(id) => {
                format!("Nachricht gehört zu einer anderen Sendung ({id})")
            }
        }
    }
}

impl std::fmt::Display for OutboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_de())
    }
}

impl std::error::Error for OutboxError {}

/// One message in the outbox (= one row of the send log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// UUID made by the caller; the relay's idempotency key (`client_id`).
    pub id: String,
    pub batch_id: String,
    /// Position in the batch: transmission order is stable.
    pub seq: u32,
    pub person_id: PersonId,
    #[serde(default)]
    pub appointment_id: Option<AppointmentId>,
    pub channel: Channel,
    pub purpose: Purpose,
    pub template_name: String,
    pub template_version: u32,
    pub consent: ConsentBasis,
    /// "Müller, Anna" (for the log; the relay gets it as display name).
    pub recipient_name: String,
    /// E-mail address, E.164 number, or the address lines of a letter joined by ", ".
    pub address: String,
    pub content: Content,
    pub state: MessageState,
    /// POST attempts started (persisted *before* each POST): > 0 while queued = unconfirmed.
    #[serde(default)]
    pub submit_attempts: u32,
    pub queued_at: NaiveDateTime,
    /// Time of the last state change (or of the relay report that caused it).
    pub updated_at: NaiveDateTime,
    #[serde(default)]
    pub transmitted_at: Option<NaiveDateTime>,
    /// This message re-sends the failed message with this id.
    #[serde(default)]
    pub retry_of: Option<String>,
    /// This failed message was re-sent as the message with this id.
    #[serde(default)]
    pub retried_as: Option<String>,
    /// A double opt-in request: the purposes asked for and the link's validity (the relay
    /// makes the confirmation link from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optin: Option<crate::wire::OptInRequest>,
}

impl OutboxMessage {
    pub fn kind(&self) -> StateKind {
        self.state.kind()
    }

    /// Queued, and a POST with it may have reached the relay.
    pub fn is_unconfirmed(&self) -> bool {
        self.kind() == StateKind::Queued && self.submit_attempts > 0
    }

    /// Strict transition along an edge of the state machine.
    pub fn transition(&mut self, to: MessageState, at: NaiveDateTime) -> Result<(), OutboxError> {
        let (from, to_kind) = (self.kind(), to.kind());
        if !can_transition(self.channel, from, to_kind) {
            return Err(OutboxError::IllegalTransition {
                channel: self.channel,
                from,
                to: to_kind,
            });
        }
        if from == StateKind::Queued && to_kind != StateKind::Cancelled {
            self.transmitted_at.get_or_insert(at);
        }
        self.state = to;
        self.updated_at = at;
        Ok(())
    }

    /// Cancel: only a queued message the relay never saw.
    pub fn cancel(&mut self, at: NaiveDateTime) -> Result<(), OutboxError> {
        if self.is_unconfirmed() {
            return Err(OutboxError::MaybeTransmitted);
        }
        self.transition(MessageState::Cancelled, at)
    }

    /// Letters: the PDF was made for printing.
    pub fn mark_printed(&mut self, at: NaiveDateTime) -> Result<(), OutboxError> {
        self.transition(MessageState::Printed, at)
    }

    /// Records that a POST containing this message is about to start (persist before the
    /// POST). Returns false (and changes nothing) when the message is not queued.
    pub fn begin_submit(&mut self) -> bool {
        if self.kind() != StateKind::Queued || self.channel == Channel::Letter {
            return false;
        }
        self.submit_attempts += 1;
        true
    }
}
