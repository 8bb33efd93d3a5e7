//! Batches: one "Senden" (or print) of one template to many recipients.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{ConsentBasis, Content, MessageState, OutboxError, OutboxMessage, StateKind};
use crate::domain::model::{AppointmentId, Channel, PersonId, Purpose};

/// One "Senden" (or print) of one template to many recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub channel: Channel,
    pub purpose: Purpose,
    pub template_name: String,
    pub template_version: u32,
    /// Paused by the user: nothing is transmitted, status is still polled.
    #[serde(default)]
    pub paused: bool,
    /// E-mail: files attached to every message (uploaded once to the relay).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<super::BatchFile>,
    /// The device that transmits this batch, and until when (several devices of a practice
    /// share the outbox; see `outbox::claim`). `None` in batches written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<super::Claim>,
}

impl Batch {
    /// "Terminerinnerung (v3)" style template label.
    pub fn template_label(&self) -> String {
        format!("{} (v{})", self.template_name, self.template_version)
    }
}

/// What the caller gives per recipient to queue a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueItem {
    pub id: String,
    pub person_id: PersonId,
    pub appointment_id: Option<AppointmentId>,
    pub recipient_name: String,
    pub address: String,
    pub content: Content,
    pub consent: ConsentBasis,
}

/// Builds the queued records of a batch (to be written in one storage transaction).
/// Refuses duplicate ids, empty addresses and empty texts.
pub fn queue_batch(
    batch: &Batch,
    items: Vec<QueueItem>,
) -> Result<Vec<OutboxMessage>, OutboxError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (seq, it) in items.into_iter().enumerate() {
        if !seen.insert(it.id.clone()) {
            return Err(OutboxError::DuplicateId(it.id));
        }
        if it.address.trim().is_empty() {
            return Err(OutboxError::EmptyAddress(it.id));
        }
        if it.content.text.trim().is_empty() {
            return Err(OutboxError::EmptyContent(it.id));
        }
        out.push(OutboxMessage {
            id: it.id,
            batch_id: batch.id.clone(),
            seq: seq as u32,
            person_id: it.person_id,
            appointment_id: it.appointment_id,
            channel: batch.channel,
            purpose: batch.purpose,
            template_name: batch.template_name.clone(),
            template_version: batch.template_version,
            consent: it.consent,
            recipient_name: it.recipient_name,
            address: it.address,
            content: it.content,
            state: MessageState::Queued,
            submit_attempts: 0,
            queued_at: batch.created_at,
            updated_at: batch.created_at,
            transmitted_at: None,
            retry_of: None,
            retried_as: None,
            optin: None,
        });
    }
    Ok(out)
}

/// Counts per state of one batch. A failed message that was re-sent counts as `superseded`
/// (its retry is counted instead).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCounts {
    pub queued: usize,
    pub transmitted: usize,
    pub retrying: usize,
    pub sent: usize,
    pub failed: usize,
    pub printed: usize,
    pub cancelled: usize,
    pub superseded: usize,
}

impl BatchCounts {
    pub fn of<'a>(messages: impl IntoIterator<Item = &'a OutboxMessage>) -> BatchCounts {
        let mut c = BatchCounts::default();
        for m in messages {
            match m.kind() {
                StateKind::Failed if m.retried_as.is_some() => c.superseded += 1,
                StateKind::Queued => c.queued += 1,
                StateKind::Transmitted => c.transmitted += 1,
                StateKind::Retrying => c.retrying += 1,
                StateKind::Sent => c.sent += 1,
                StateKind::Failed => c.failed += 1,
                StateKind::Printed => c.printed += 1,
                StateKind::Cancelled => c.cancelled += 1,
            }
        }
        c
    }

    /// Messages that count (without superseded ones).
    pub fn total(&self) -> usize {
        self.queued
            + self.transmitted
            + self.retrying
            + self.sent
            + self.failed
            + self.printed
            + self.cancelled
    }

    pub fn finished(&self) -> usize {
        self.sent + self.failed + self.printed + self.cancelled
    }

    /// Share of messages in a final state, 0.0 ..= 1.0 (1.0 for an empty batch).
    pub fn progress(&self) -> f64 {
        match self.total() {
            0 => 1.0,
            t => self.finished() as f64 / t as f64,
        }
    }

    pub fn is_done(&self) -> bool {
        self.finished() == self.total()
    }
}

/// Cancels every cancellable message of a batch. Returns (cancelled ids, ids that may already
/// be at the relay and must be polled first).
pub fn cancel_batch(
    messages: &mut [OutboxMessage],
    batch_id: &str,
    at: NaiveDateTime,
) -> (Vec<String>, Vec<String>) {
    let (mut done, mut uncertain) = (Vec::new(), Vec::new());
    for m in messages.iter_mut().filter(|m| m.batch_id == batch_id) {
        if m.kind() != StateKind::Queued {
            continue;
        }
        match m.cancel(at) {
            Ok(()) => done.push(m.id.clone()),
            Err(_) => uncertain.push(m.id.clone()),
        }
    }
    (done, uncertain)
}
