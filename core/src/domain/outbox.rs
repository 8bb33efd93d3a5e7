//! The outbox: one record per rendered message, written before anything is transmitted, and
//! the rules that make sending safe: "nothing lost, nothing twice".
//!
//! Pure: times and ids are passed in by the caller; nothing here reads a clock or makes a
//! random number.
//!
//! # State machine
//!
//! ```text
//!   queued ──transmit──▶ transmitted ──▶ sent
//!     │  │                   │  └──────▶ failed(reason)
//!     │  │                   └──▶ retrying(next attempt) ──▶ retrying | sent | failed
//!     │  ├──rejected on submission──▶ failed(reason)           (e-mail / SMS)
//!     │  └──print──▶ printed ("gedruckt")                     (letters only)
//!     └──cancel──▶ cancelled   (only if never handed to the relay)
//! ```
//!
//! [`OutboxMessage::transition`] is the strict edge check (illegal edges are errors).
//! [`OutboxMessage::apply_report`] applies what the relay says: idempotent, and it never
//! moves a message backwards (a late "sending" after "sent" is ignored as stale).
//!
//! # Nothing lost, nothing twice
//!
//! 1. "Senden" writes every message as `queued` in one storage transaction.
//! 2. Before a chunk is POSTed, its messages get `submit_attempts += 1` persisted: a queued
//!    message with attempts > 0 is *unconfirmed* (it may already be at the relay).
//! 3. The relay answer (one status per message) is applied and persisted.
//! 4. Non-final transmitted messages are polled until final.
//!
//! A crash anywhere leaves every message either queued (→ transmitted again with the *same*
//! id; the relay treats the id as idempotency key and never sends an id twice) or
//! transmitted (→ polled). [`plan`] computes this from the stored messages alone.
//! Unconfirmed messages cannot be cancelled until the relay confirmed it does not know them
//! ([`OutboxMessage::relay_unknown`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::model::{AppointmentId, Channel, ConsentStatus, Evidence, Person, PersonId, Purpose};
use super::review::ConsentOverride;

/// Most messages in one `POST /v1/messages` (the relay's limit).
pub const MAX_CHUNK: usize = 1000;
/// Most ids in one status poll (`GET /v1/messages?ids=…`; 200 UUIDs ≈ 7.4 kB of URL).
pub const POLL_CHUNK: usize = 200;

const DATE_TIME_DE: &str = "%d.%m.%Y %H:%M";

fn fmt_dt(t: NaiveDateTime) -> String {
    t.format(DATE_TIME_DE).to_string()
}

fn fmt_d(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

// ---------------------------------------------------------------------------------------------
// Records

/// Why this person may receive this message: an active consent, or an inclusion without
/// consent that was confirmed with a reason in the review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsentBasis {
    Consent {
        given_at: NaiveDate,
        evidence: Evidence,
    },
    Override {
        reason: String,
        at: NaiveDateTime,
    },
}

impl ConsentBasis {
    /// "Einwilligung vom 02.01.2026 (schriftlich)" / "Ohne Einwilligung (26.11.2026 14:05):
    /// Grund".
    pub fn label_de(&self) -> String {
        match self {
            ConsentBasis::Consent { given_at, evidence } => {
                format!(
                    "Einwilligung vom {} ({})",
                    fmt_d(*given_at),
                    evidence.label_de()
                )
            }
            ConsentBasis::Override { reason, at } => {
                format!("Ohne Einwilligung ({}): {}", fmt_dt(*at), reason)
            }
        }
    }
}

/// The consent basis for sending `channel`/`purpose` to `person` now: the active consent,
/// else a matching override from the review, else `None` (must not be queued). A withdrawn
/// consent is never overridden by an override logged *before* the withdrawal.
pub fn consent_basis(
    person: &Person,
    appointment: Option<&AppointmentId>,
    channel: Channel,
    purpose: Purpose,
    overrides: &[ConsentOverride],
) -> Option<ConsentBasis> {
    let status = person.consents.status(channel, purpose);
    if let ConsentStatus::Granted(c) = status {
        return Some(ConsentBasis::Consent {
            given_at: c.given_at,
            evidence: c.evidence,
        });
    }
    let withdrawn_at = match status {
        ConsentStatus::Withdrawn(c) => c.withdrawn_at,
        _ => None,
    };
    overrides
        .iter()
        .filter(|o| {
            o.person_id == person.id
                && o.channel == channel
                && o.purpose == purpose
                && (o.appointment_id.is_none() || o.appointment_id.as_ref() == appointment)
                && !o.reason.trim().is_empty()
                && withdrawn_at.is_none_or(|w| o.at.date() >= w)
        })
        .max_by_key(|o| o.at)
        .map(|o| ConsentBasis::Override {
            reason: o.reason.trim().to_string(),
            at: o.at,
        })
}

/// The rendered content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// E-mail subject / letter subject line; `None` for SMS.
    #[serde(default)]
    pub subject: Option<String>,
    pub text: String,
    #[serde(default)]
    pub html: Option<String>,
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

    /// No further change will happen.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            StateKind::Sent | StateKind::Failed | StateKind::Printed | StateKind::Cancelled
        )
    }

    /// Progress order: a relay report may only move a message to a higher rank (or stay).
    fn rank(self) -> u8 {
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
            OutboxError::NotRelayed => "Briefe werden nicht über den Relay versendet".into(),
            OutboxError::WrongId => "Statusmeldung gehört zu einer anderen Nachricht".into(),
            OutboxError::CancelledButReported => {
                "Der Relay meldet eine abgebrochene Nachricht als verarbeitet".into()
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

    /// The relay answered a status query with "unknown" for this id: it never received it.
    /// A queued message becomes confirmed-untransmitted (cancellable); a message we believed
    /// transmitted goes back to queued so it is transmitted again (same id: safe).
    /// Returns whether anything changed.
    pub fn relay_unknown(&mut self, at: NaiveDateTime) -> bool {
        match self.kind() {
            StateKind::Queued if self.submit_attempts > 0 => {
                self.submit_attempts = 0;
                true
            }
            StateKind::Transmitted | StateKind::Retrying => {
                self.state = MessageState::Queued;
                self.submit_attempts = 0;
                self.updated_at = at;
                true
            }
            _ => false,
        }
    }

    /// Applies what the relay reports. Idempotent; never moves backwards.
    pub fn apply_report(&mut self, report: &RelayReport) -> Result<ReportOutcome, OutboxError> {
        if report.id != self.id {
            return Err(OutboxError::WrongId);
        }
        if self.channel == Channel::Letter {
            return Err(OutboxError::NotRelayed);
        }
        let from = self.kind();
        if from == StateKind::Cancelled {
            return Err(OutboxError::CancelledButReported);
        }
        let target = report.domain_state();
        let to = target.kind();
        if from == to {
            return Ok(match (&self.state, &target) {
                (MessageState::Retrying { .. }, MessageState::Retrying { .. })
                    if self.state != target && report.at >= self.updated_at =>
                {
                    self.state = target;
                    self.updated_at = report.at;
                    ReportOutcome::Changed
                }
                (MessageState::Retrying { .. }, _) if self.state != target => ReportOutcome::Stale,
                _ => ReportOutcome::Unchanged,
            });
        }
        if to.rank() < from.rank() || from.is_final() {
            return Ok(ReportOutcome::Stale);
        }
        if from == StateKind::Queued && to != StateKind::Transmitted {
            // Any report implies the relay has it.
            self.transition(MessageState::Transmitted, report.at)?;
        }
        self.transition(target, report.at)?;
        Ok(ReportOutcome::Changed)
    }
}

// ---------------------------------------------------------------------------------------------
// Relay reports (domain side of the wire's `MessageStatus`)

/// The relay's delivery state; mirrors `wire::DeliveryState` variant for variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayState {
    Queued,
    Sending,
    Sent,
    Failed,
    Retrying,
    /// The relay cannot tell whether it arrived (connection lost after handing it over);
    /// not sent again by the relay.
    Ambiguous,
}

/// One status of one message as the relay reports it (submit answer or poll). Times are
/// local practice time (the shell converts the wire's UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayReport {
    pub id: String,
    pub state: RelayState,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub next_attempt: Option<NaiveDateTime>,
    pub at: NaiveDateTime,
}

impl RelayReport {
    /// The outbox state this report means: relay queued/sending → transmitted; retrying →
    /// retrying; sent → sent; failed → failed (reason, or a German fallback).
    pub fn domain_state(&self) -> MessageState {
        match self.state {
            RelayState::Queued | RelayState::Sending => MessageState::Transmitted,
            RelayState::Retrying => MessageState::Retrying {
                next_attempt: self.next_attempt,
                reason: self.reason.clone(),
            },
            RelayState::Sent => MessageState::Sent,
            // Ambiguous is final but unconfirmed: shown as failed with the relay's explanation
            // ("Zustellung unklar: … möglicherweise angekommen"), so it is never re-sent
            // automatically; a re-send is the practice's decision.
            RelayState::Failed | RelayState::Ambiguous => MessageState::Failed {
                reason: self
                    .reason
                    .clone()
                    .filter(|r| !r.trim().is_empty())
                    .unwrap_or_else(|| match self.state {
                        RelayState::Ambiguous => "Zustellung unklar".into(),
                        _ => "Unbekannter Fehler".into(),
                    }),
            },
        }
    }
}

/// What applying a report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportOutcome {
    Changed,
    /// Same state again (idempotent repeat).
    Unchanged,
    /// Older or backwards report, ignored.
    Stale,
}

/// Applies reports to messages by id (e.g. a whole submit answer or poll answer). Returns the
/// ids that changed (persist those); reports for unknown ids or refused reports are listed in
/// `refused`.
pub fn apply_reports(messages: &mut [OutboxMessage], reports: &[RelayReport]) -> ApplySummary {
    let index: BTreeMap<&str, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut positions = Vec::with_capacity(reports.len());
    for r in reports {
        positions.push(index.get(r.id.as_str()).copied());
    }
    let mut summary = ApplySummary::default();
    for (r, pos) in reports.iter().zip(positions) {
        match pos {
            None => summary.refused.push((r.id.clone(), OutboxError::WrongId)),
            Some(i) => match messages[i].apply_report(r) {
                Ok(ReportOutcome::Changed) => summary.changed.push(r.id.clone()),
                Ok(_) => {}
                Err(e) => summary.refused.push((r.id.clone(), e)),
            },
        }
    }
    summary.changed.sort();
    summary.changed.dedup();
    summary
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplySummary {
    pub changed: Vec<String>,
    pub refused: Vec<(String, OutboxError)>,
}

// ---------------------------------------------------------------------------------------------
// Batches

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

// ---------------------------------------------------------------------------------------------
// Chunking and resume

fn transmit_order(a: &&OutboxMessage, b: &&OutboxMessage) -> std::cmp::Ordering {
    (a.queued_at, &a.batch_id, a.seq, &a.id).cmp(&(b.queued_at, &b.batch_id, b.seq, &b.id))
}

/// Chunks of messages to POST: only queued (new or unconfirmed) e-mail/SMS messages of
/// batches that are not paused, in stable order (batch creation time, batch, position), at
/// most `max` per chunk (use [`MAX_CHUNK`]). Re-running after a crash yields the same ids
/// again, which the relay accepts idempotently.
pub fn chunks_to_transmit<'a>(
    batches: &[Batch],
    messages: &'a [OutboxMessage],
    max: usize,
) -> Vec<Vec<&'a OutboxMessage>> {
    let paused: BTreeSet<&str> = batches
        .iter()
        .filter(|b| b.paused)
        .map(|b| b.id.as_str())
        .collect();
    let mut todo: Vec<&OutboxMessage> = messages
        .iter()
        .filter(|m| {
            m.kind() == StateKind::Queued
                && m.channel != Channel::Letter
                && !paused.contains(m.batch_id.as_str())
        })
        .collect();
    todo.sort_by(transmit_order);
    todo.chunks(max.max(1)).map(<[_]>::to_vec).collect()
}

/// What to do next, computed from the stored messages alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResumePlan {
    /// Chunks of ids to POST (after persisting `begin_submit` on them).
    pub transmit: Vec<Vec<String>>,
    /// Chunks of ids to ask the relay about (transmitted, retrying, and unconfirmed queued
    /// ones of paused batches, so a cancel can be decided).
    pub poll: Vec<Vec<String>>,
}

impl ResumePlan {
    pub fn is_idle(&self) -> bool {
        self.transmit.is_empty() && self.poll.is_empty()
    }
}

/// "Nothing lost, nothing twice": every queued message (new or unconfirmed) is transmitted,
/// every transmitted but unfinished one is polled, final ones are left alone.
pub fn plan(batches: &[Batch], messages: &[OutboxMessage], max_chunk: usize) -> ResumePlan {
    let transmit = chunks_to_transmit(batches, messages, max_chunk)
        .into_iter()
        .map(|c| c.into_iter().map(|m| m.id.clone()).collect())
        .collect();
    let paused: BTreeSet<&str> = batches
        .iter()
        .filter(|b| b.paused)
        .map(|b| b.id.as_str())
        .collect();
    let mut poll: Vec<&OutboxMessage> = messages
        .iter()
        .filter(|m| match m.kind() {
            StateKind::Transmitted | StateKind::Retrying => true,
            StateKind::Queued => m.submit_attempts > 0 && paused.contains(m.batch_id.as_str()),
            _ => false,
        })
        .collect();
    poll.sort_by(transmit_order);
    let poll = poll
        .chunks(POLL_CHUNK)
        .map(|c| c.iter().map(|m| m.id.clone()).collect())
        .collect();
    ResumePlan { transmit, poll }
}

// ---------------------------------------------------------------------------------------------
// Retry of failed messages

/// The id of the `n`-th re-send (n ≥ 1) of a message: `<original id>-r<n>`. A retry of a
/// retry keeps the original id as stem (`x-r1` → `x-r2`), so ids do not grow. The same
/// failed message always yields the same retry id, so a repeated click (or a crash between
/// writing the retry and linking it) can never send twice: the relay replays the id.
pub fn retry_id(failed_id: &str) -> String {
    let (stem, n) = split_retry_id(failed_id);
    format!("{stem}-r{}", n + 1)
}

/// Splits `x-r3` into (`x`, 3); an id without retry suffix is (`id`, 0).
pub fn split_retry_id(id: &str) -> (&str, u32) {
    if let Some(pos) = id.rfind("-r") {
        let digits = &id[pos + 2..];
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
        {
            if let Ok(n) = digits.parse::<u32>() {
                return (&id[..pos], n);
            }
        }
    }
    (id, 0)
}

/// Result of "nur Fehlgeschlagene erneut senden".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetryOutcome {
    /// New queued messages (store them and the updated old ones in one transaction).
    pub new_messages: Vec<OutboxMessage>,
    /// Failed messages skipped because the person's consent is gone (id, German reason).
    pub skipped: Vec<(String, String)>,
}

/// Creates new queued messages for the failed (and not yet re-sent) messages of a batch,
/// with ids from [`retry_id`], and links old → new (`retried_as`) and new → old
/// (`retry_of`). The consent is checked again: a person who withdrew in the meantime (or has
/// no consent any more, unless the original was sent with a logged override) is skipped.
pub fn retry_failed<'p>(
    messages: &mut [OutboxMessage],
    batch_id: &str,
    persons: impl Fn(&PersonId) -> Option<&'p Person>,
    at: NaiveDateTime,
) -> RetryOutcome {
    let existing: BTreeSet<String> = messages.iter().map(|m| m.id.clone()).collect();
    let mut next_seq = messages
        .iter()
        .filter(|m| m.batch_id == batch_id)
        .map(|m| m.seq + 1)
        .max()
        .unwrap_or(0);
    let mut out = RetryOutcome::default();
    for m in messages.iter_mut() {
        if m.batch_id != batch_id || m.kind() != StateKind::Failed || m.retried_as.is_some() {
            continue;
        }
        let status = persons(&m.person_id).map(|p| p.consents.status(m.channel, m.purpose));
        let refusal = match (&status, &m.consent) {
            (None, _) => Some("Person nicht mehr vorhanden"),
            (Some(ConsentStatus::Withdrawn(_)), _) => Some("Einwilligung widerrufen"),
            (Some(ConsentStatus::Missing), ConsentBasis::Consent { .. }) => {
                Some("Keine Einwilligung mehr")
            }
            _ => None,
        };
        if let Some(reason) = refusal {
            out.skipped.push((m.id.clone(), reason.to_string()));
            continue;
        }
        let consent = match status {
            Some(ConsentStatus::Granted(c)) => ConsentBasis::Consent {
                given_at: c.given_at,
                evidence: c.evidence,
            },
            _ => m.consent.clone(),
        };
        let id = retry_id(&m.id);
        if existing.contains(&id) {
            // An unlinked retry already exists (written, link lost): link it, make no new one.
            m.retried_as = Some(id);
            continue;
        }
        let mut retry = m.clone();
        retry.id = id.clone();
        retry.seq = next_seq;
        next_seq += 1;
        retry.consent = consent;
        retry.state = MessageState::Queued;
        retry.submit_attempts = 0;
        retry.queued_at = at;
        retry.updated_at = at;
        retry.transmitted_at = None;
        retry.retry_of = Some(m.id.clone());
        retry.retried_as = None;
        m.retried_as = Some(id);
        out.new_messages.push(retry);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Opt-outs

/// What an opt-out withdraws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "purpose", rename_all = "snake_case")]
pub enum OptOutScope {
    /// One purpose on the channel.
    Purpose(Purpose),
    /// Every advertising purpose (birthday, invitation, recall) on the channel.
    AllAdvertising,
}

/// An opt-out reported by the relay (unsubscribe link). Domain side of `wire::OptOut`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutNotice {
    pub person_id: PersonId,
    pub channel: Channel,
    pub scope: OptOutScope,
    /// Local practice time of the click.
    pub at: NaiveDateTime,
}

/// Applies opt-outs: withdraws the matching active consents with the click's date and source
/// "Abmeldelink". Idempotent (an already withdrawn consent is left alone). A consent given
/// *after* the click (the person re-consented at the practice) is not withdrawn by a replayed
/// old opt-out. Returns the ids of the persons that changed, in first-change order.
pub fn apply_opt_outs(persons: &mut [Person], optouts: &[OptOutNotice]) -> Vec<PersonId> {
    let index: BTreeMap<PersonId, usize> = persons
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let mut changed: Vec<PersonId> = Vec::new();
    for o in optouts {
        let Some(&i) = index.get(&o.person_id) else {
            continue;
        };
        let person = &mut persons[i];
        let purposes: Vec<Purpose> = match o.scope {
            OptOutScope::Purpose(p) => vec![p],
            OptOutScope::AllAdvertising => Purpose::ALL
                .into_iter()
                .filter(|p| p.is_advertising())
                .collect(),
        };
        let day = o.at.date();
        let mut any = false;
        for p in purposes {
            let applies = person
                .consents
                .get(o.channel, p)
                .is_some_and(|c| c.is_active() && c.given_at <= day);
            if applies {
                any |= person.consents.withdraw(
                    o.channel,
                    p,
                    day,
                    super::model::WithdrawalSource::UnsubscribeLink,
                );
            }
        }
        if any && !changed.contains(&person.id) {
            changed.push(person.id.clone());
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Consents, Evidence, WithdrawalSource};
    use chrono::NaiveDate;

    fn t(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn batch(id: &str, channel: Channel) -> Batch {
        Batch {
            id: id.into(),
            created_at: t(14, 5),
            channel,
            purpose: Purpose::AppointmentReminder,
            template_name: "Terminerinnerung".into(),
            template_version: 3,
            paused: false,
        }
    }

    fn item(id: &str) -> QueueItem {
        QueueItem {
            id: id.into(),
            person_id: PersonId(format!("p-{id}")),
            appointment_id: None,
            recipient_name: format!("Müller, {id}"),
            address: format!("{id}@example.org"),
            content: Content {
                subject: Some("Ihr Termin".into()),
                text: "Guten Tag".into(),
                html: None,
            },
            consent: ConsentBasis::Consent {
                given_at: d(2026, 1, 2),
                evidence: Evidence::WrittenForm,
            },
        }
    }

    fn queued(channel: Channel, ids: &[&str]) -> (Batch, Vec<OutboxMessage>) {
        let b = batch("b1", channel);
        let ms = queue_batch(&b, ids.iter().map(|i| item(i)).collect()).unwrap();
        (b, ms)
    }

    fn msg(channel: Channel) -> OutboxMessage {
        queued(channel, &["m1"]).1.remove(0)
    }

    fn with_state(channel: Channel, s: StateKind) -> OutboxMessage {
        let mut m = msg(channel);
        m.state = example_state(s);
        m
    }

    fn example_state(s: StateKind) -> MessageState {
        match s {
            StateKind::Queued => MessageState::Queued,
            StateKind::Transmitted => MessageState::Transmitted,
            StateKind::Retrying => MessageState::Retrying {
                next_attempt: Some(t(15, 0)),
                reason: Some("421 try later".into()),
            },
            StateKind::Sent => MessageState::Sent,
            StateKind::Failed => MessageState::Failed {
                reason: "550 no such user".into(),
            },
            StateKind::Printed => MessageState::Printed,
            StateKind::Cancelled => MessageState::Cancelled,
        }
    }

    fn report(id: &str, state: RelayState, at: NaiveDateTime) -> RelayReport {
        RelayReport {
            id: id.into(),
            state,
            reason: match state {
                RelayState::Failed => Some("550 5.1.1 unknown user".into()),
                RelayState::Retrying => Some("421 busy".into()),
                _ => None,
            },
            next_attempt: (state == RelayState::Retrying).then(|| t(16, 0)),
            at,
        }
    }

    /// Every allowed edge, written out by hand: (channel, from, to).
    const ALLOWED: &[(Channel, StateKind, StateKind)] = {
        use Channel::*;
        use StateKind::*;
        &[
            (Letter, Queued, Printed),
            (Letter, Queued, Cancelled),
            (Sms, Queued, Transmitted),
            (Sms, Queued, Failed),
            (Sms, Queued, Cancelled),
            (Sms, Transmitted, Sent),
            (Sms, Transmitted, Failed),
            (Sms, Transmitted, Retrying),
            (Sms, Retrying, Retrying),
            (Sms, Retrying, Sent),
            (Sms, Retrying, Failed),
            (Email, Queued, Transmitted),
            (Email, Queued, Failed),
            (Email, Queued, Cancelled),
            (Email, Transmitted, Sent),
            (Email, Transmitted, Failed),
            (Email, Transmitted, Retrying),
            (Email, Retrying, Retrying),
            (Email, Retrying, Sent),
            (Email, Retrying, Failed),
        ]
    };

    #[test]
    fn transitions_exhaustive() {
        let mut checked = 0;
        for channel in Channel::ALL {
            for from in StateKind::ALL {
                for to in StateKind::ALL {
                    let expected = ALLOWED.contains(&(channel, from, to));
                    assert_eq!(
                        can_transition(channel, from, to),
                        expected,
                        "{channel:?} {from:?} → {to:?}"
                    );
                    let mut m = with_state(channel, from);
                    let before = m.clone();
                    let r = m.transition(example_state(to), t(15, 30));
                    if expected {
                        assert_eq!(r, Ok(()));
                        assert_eq!(m.kind(), to);
                        assert_eq!(m.updated_at, t(15, 30));
                    } else {
                        assert_eq!(r, Err(OutboxError::IllegalTransition { channel, from, to }));
                        assert_eq!(m, before, "a refused transition changes nothing");
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 3 * 7 * 7);
    }

    #[test]
    fn final_states() {
        let finals: Vec<_> = StateKind::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            [
                StateKind::Sent,
                StateKind::Failed,
                StateKind::Printed,
                StateKind::Cancelled
            ]
        );
        // No edge leaves a final state.
        for (_, from, _) in ALLOWED {
            assert!(!from.is_final());
        }
    }

    #[test]
    fn report_mapping() {
        let cases = [
            (RelayState::Queued, StateKind::Transmitted),
            (RelayState::Sending, StateKind::Transmitted),
            (RelayState::Retrying, StateKind::Retrying),
            (RelayState::Sent, StateKind::Sent),
            (RelayState::Failed, StateKind::Failed),
            (RelayState::Ambiguous, StateKind::Failed),
        ];
        for (rs, kind) in cases {
            assert_eq!(report("m1", rs, t(15, 0)).domain_state().kind(), kind);
        }
        let mut r = report("m1", RelayState::Failed, t(15, 0));
        r.reason = Some("  ".into());
        assert_eq!(
            r.domain_state(),
            MessageState::Failed {
                reason: "Unbekannter Fehler".into()
            }
        );
    }

    #[test]
    fn reports_are_idempotent_and_never_go_backwards() {
        use RelayState::*;
        // (sequence of relay states, expected outcomes, final kind)
        let cases: &[(&[RelayState], &[ReportOutcome], StateKind)] = {
            use ReportOutcome::*;
            &[
                (&[Queued], &[Changed], StateKind::Transmitted),
                (
                    &[Queued, Queued],
                    &[Changed, Unchanged],
                    StateKind::Transmitted,
                ),
                (
                    &[Queued, Sending, Sent],
                    &[Changed, Unchanged, Changed],
                    StateKind::Sent,
                ),
                (&[Sent, Sending], &[Changed, Stale], StateKind::Sent),
                (&[Sent, Sent], &[Changed, Unchanged], StateKind::Sent),
                (&[Sent, Failed], &[Changed, Stale], StateKind::Sent),
                (&[Failed, Sent], &[Changed, Stale], StateKind::Failed),
                (&[Failed, Queued], &[Changed, Stale], StateKind::Failed),
                (&[Retrying, Sending], &[Changed, Stale], StateKind::Retrying),
                (
                    &[Retrying, Retrying],
                    &[Changed, Unchanged],
                    StateKind::Retrying,
                ),
                (
                    &[Retrying, Sent, Retrying],
                    &[Changed, Changed, Stale],
                    StateKind::Sent,
                ),
                (
                    &[Sending, Retrying, Failed],
                    &[Changed, Changed, Changed],
                    StateKind::Failed,
                ),
            ]
        };
        for (seq, outcomes, end) in cases {
            let mut m = msg(Channel::Email);
            for (i, (rs, want)) in seq.iter().zip(outcomes.iter()).enumerate() {
                let got = m.apply_report(&report("m1", *rs, t(15, i as u32))).unwrap();
                assert_eq!(got, *want, "{seq:?} step {i}");
            }
            assert_eq!(m.kind(), *end, "{seq:?}");
            assert!(m.transmitted_at.is_some());
        }
    }

    #[test]
    fn report_on_queued_final_sets_transmitted_time_and_reason() {
        let mut m = msg(Channel::Sms);
        m.apply_report(&report("m1", RelayState::Failed, t(15, 7)))
            .unwrap();
        assert_eq!(m.transmitted_at, Some(t(15, 7)));
        assert_eq!(m.state.reason(), Some("550 5.1.1 unknown user"));
    }

    #[test]
    fn retrying_updates_only_with_newer_reports() {
        let mut m = msg(Channel::Email);
        m.apply_report(&report("m1", RelayState::Retrying, t(15, 10)))
            .unwrap();
        let mut newer = report("m1", RelayState::Retrying, t(15, 20));
        newer.next_attempt = Some(t(17, 0));
        assert_eq!(m.apply_report(&newer), Ok(ReportOutcome::Changed));
        let mut older = report("m1", RelayState::Retrying, t(15, 15));
        older.next_attempt = Some(t(16, 30));
        assert_eq!(m.apply_report(&older), Ok(ReportOutcome::Stale));
        assert_eq!(
            m.state,
            MessageState::Retrying {
                next_attempt: Some(t(17, 0)),
                reason: Some("421 busy".into())
            }
        );
    }

    #[test]
    fn refused_reports() {
        let mut m = msg(Channel::Email);
        assert_eq!(
            m.apply_report(&report("other", RelayState::Sent, t(15, 0))),
            Err(OutboxError::WrongId)
        );
        let mut letter = msg(Channel::Letter);
        assert_eq!(
            letter.apply_report(&report("m1", RelayState::Sent, t(15, 0))),
            Err(OutboxError::NotRelayed)
        );
        m.cancel(t(15, 0)).unwrap();
        assert_eq!(
            m.apply_report(&report("m1", RelayState::Sent, t(15, 1))),
            Err(OutboxError::CancelledButReported)
        );
        assert_eq!(m.kind(), StateKind::Cancelled);
    }

    #[test]
    fn cancel_only_what_was_not_transmitted() {
        let mut m = msg(Channel::Email);
        assert!(m.begin_submit());
        assert!(m.is_unconfirmed());
        assert_eq!(m.cancel(t(15, 0)), Err(OutboxError::MaybeTransmitted));
        // The relay says it never got it: now it can be cancelled.
        assert!(m.relay_unknown(t(15, 1)));
        assert_eq!(m.cancel(t(15, 2)), Ok(()));
        assert!(!m.begin_submit(), "cancelled messages are never submitted");

        let mut sent = with_state(Channel::Email, StateKind::Transmitted);
        assert!(sent.cancel(t(15, 0)).is_err());

        // Batch cancel: clean queued → cancelled, unconfirmed → to poll, others untouched.
        let (b, mut ms) = queued(Channel::Sms, &["a", "b", "c", "d"]);
        ms[1].begin_submit();
        ms[2]
            .apply_report(&report("c", RelayState::Sent, t(15, 0)))
            .unwrap();
        let (done, uncertain) = cancel_batch(&mut ms, &b.id, t(15, 5));
        assert_eq!(done, ["a", "d"]);
        assert_eq!(uncertain, ["b"]);
        let kinds: Vec<_> = ms.iter().map(OutboxMessage::kind).collect();
        assert_eq!(
            kinds,
            [
                StateKind::Cancelled,
                StateKind::Queued,
                StateKind::Sent,
                StateKind::Cancelled
            ]
        );
    }

    #[test]
    fn relay_forgetting_a_message_requeues_it() {
        let mut m = with_state(Channel::Email, StateKind::Transmitted);
        assert!(m.relay_unknown(t(15, 0)));
        assert_eq!(m.kind(), StateKind::Queued);
        let mut s = with_state(Channel::Email, StateKind::Sent);
        assert!(!s.relay_unknown(t(15, 0)));
        assert_eq!(s.kind(), StateKind::Sent);
    }

    #[test]
    fn letters_are_printed_not_transmitted() {
        let (b, mut ms) = queued(Channel::Letter, &["a", "b"]);
        assert!(chunks_to_transmit(std::slice::from_ref(&b), &ms, MAX_CHUNK).is_empty());
        assert!(!ms[0].begin_submit());
        ms[0].mark_printed(t(14, 30)).unwrap();
        assert_eq!(ms[0].kind(), StateKind::Printed);
        let c = BatchCounts::of(&ms);
        assert_eq!((c.printed, c.queued, c.total()), (1, 1, 2));
        assert!(plan(&[b], &ms, MAX_CHUNK).is_idle());
    }

    #[test]
    fn queue_batch_validates_and_numbers() {
        let b = batch("b1", Channel::Email);
        let ms = queue_batch(&b, vec![item("x"), item("y")]).unwrap();
        assert_eq!(ms[1].seq, 1);
        assert_eq!(ms[1].batch_id, "b1");
        assert_eq!(ms[1].template_version, 3);
        assert_eq!(ms[1].state, MessageState::Queued);
        assert_eq!(
            queue_batch(&b, vec![item("x"), item("x")]),
            Err(OutboxError::DuplicateId("x".into()))
        );
        let mut no_addr = item("z");
        no_addr.address = " ".into();
        assert_eq!(
            queue_batch(&b, vec![no_addr]),
            Err(OutboxError::EmptyAddress("z".into()))
        );
        let mut no_text = item("z");
        no_text.content.text.clear();
        assert_eq!(
            queue_batch(&b, vec![no_text]),
            Err(OutboxError::EmptyContent("z".into()))
        );
    }

    #[test]
    fn chunking_is_stable_and_limited() {
        let ids: Vec<String> = (0..2500).map(|i| format!("id{i:05}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let (b, mut ms) = queued(Channel::Email, &refs);
        // Stored order must not matter.
        ms.reverse();
        let chunks = chunks_to_transmit(std::slice::from_ref(&b), &ms, MAX_CHUNK);
        let sizes: Vec<_> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        let flat: Vec<&str> = chunks.iter().flatten().map(|m| m.id.as_str()).collect();
        assert_eq!(flat, refs);
        // Transmitted/final ones drop out; unconfirmed ones stay in.
        for m in ms.iter_mut() {
            match m.seq % 4 {
                0 => {
                    m.apply_report(&report(&m.id.clone(), RelayState::Queued, t(15, 0)))
                        .unwrap();
                }
                1 => {
                    m.begin_submit();
                }
                2 => m.cancel(t(15, 0)).unwrap(),
                _ => {}
            }
        }
        let again = chunks_to_transmit(std::slice::from_ref(&b), &ms, MAX_CHUNK);
        let n: usize = again.iter().map(Vec::len).sum();
        assert_eq!(n, 1250);
        assert!(again
            .iter()
            .flatten()
            .all(|m| m.seq % 4 == 1 || m.seq % 4 == 3));
        // Paused batch: nothing to transmit, but the transmitted ones and the unconfirmed ones
        // are polled.
        let mut paused = b.clone();
        paused.paused = true;
        let p = plan(&[paused], &ms, MAX_CHUNK);
        assert!(p.transmit.is_empty());
        assert_eq!(p.poll.iter().map(Vec::len).sum::<usize>(), 1250);
        assert!(p.poll.iter().all(|c| c.len() <= POLL_CHUNK));
    }

    #[test]
    fn counts_and_progress() {
        let (_, mut ms) = queued(Channel::Email, &["a", "b", "c", "d", "e"]);
        assert_eq!(BatchCounts::of(&ms).progress(), 0.0);
        ms[0]
            .apply_report(&report("a", RelayState::Sent, t(15, 0)))
            .unwrap();
        ms[1]
            .apply_report(&report("b", RelayState::Failed, t(15, 0)))
            .unwrap();
        ms[2]
            .apply_report(&report("c", RelayState::Sending, t(15, 0)))
            .unwrap();
        ms[3]
            .apply_report(&report("d", RelayState::Retrying, t(15, 0)))
            .unwrap();
        let c = BatchCounts::of(&ms);
        assert_eq!(
            c,
            BatchCounts {
                queued: 1,
                transmitted: 1,
                retrying: 1,
                sent: 1,
                failed: 1,
                ..Default::default()
            }
        );
        assert!((c.progress() - 0.4).abs() < 1e-9);
        assert!(!c.is_done());
        assert_eq!(BatchCounts::of(&[]).progress(), 1.0);
    }

    #[test]
    fn retry_ids() {
        let cases = [
            ("abc", "abc-r1"),
            ("abc-r1", "abc-r2"),
            ("abc-r9", "abc-r10"),
            ("abc-r0", "abc-r0-r1"),
            ("abc-r01", "abc-r01-r1"),
            ("abc-rx", "abc-rx-r1"),
            ("abc-r", "abc-r-r1"),
            ("2f1c-rr-r3", "2f1c-rr-r4"),
        ];
        for (id, want) in cases {
            assert_eq!(retry_id(id), want, "{id}");
        }
        assert_eq!(split_retry_id("x-r12"), ("x", 12));
        assert_eq!(split_retry_id("x"), ("x", 0));
    }

    fn person(id: &str, consent: bool) -> Person {
        let mut p = Person {
            id: PersonId(id.into()),
            ..Default::default()
        };
        if consent {
            p.consents.grant(
                Channel::Email,
                Purpose::AppointmentReminder,
                d(2026, 3, 1),
                Evidence::DoubleOptIn,
            );
        }
        p
    }

    #[test]
    fn retry_only_failed_with_new_ids_and_links() {
        let (b, mut ms) = queued(Channel::Email, &["a", "b", "c", "d"]);
        for (i, st) in [
            RelayState::Sent,
            RelayState::Failed,
            RelayState::Failed,
            RelayState::Failed,
        ]
        .into_iter()
        .enumerate()
        {
            let id = ms[i].id.clone();
            ms[i].apply_report(&report(&id, st, t(15, 0))).unwrap();
        }
        let mut persons = [
            person("p-a", true),
            person("p-b", true),
            person("p-c", true),
        ];
        // d: person deleted; c: withdrew in the meantime.
        persons[2].consents.withdraw(
            Channel::Email,
            Purpose::AppointmentReminder,
            d(2026, 11, 26),
            WithdrawalSource::UnsubscribeLink,
        );
        let lookup = |id: &PersonId| persons.iter().find(|p| &p.id == id);
        let out = retry_failed(&mut ms, &b.id, lookup, t(16, 0));
        let new_ids: Vec<_> = out.new_messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(new_ids, ["b-r1"]);
        assert_eq!(
            out.skipped,
            [
                ("c".to_string(), "Einwilligung widerrufen".to_string()),
                ("d".to_string(), "Person nicht mehr vorhanden".to_string())
            ]
        );
        let r = &out.new_messages[0];
        assert_eq!(r.retry_of.as_deref(), Some("b"));
        assert_eq!(r.state, MessageState::Queued);
        assert_eq!(r.seq, 4);
        assert_eq!(r.queued_at, t(16, 0));
        assert_eq!(
            r.consent,
            ConsentBasis::Consent {
                given_at: d(2026, 3, 1),
                evidence: Evidence::DoubleOptIn
            }
        );
        assert_eq!(ms[1].retried_as.as_deref(), Some("b-r1"));
        assert_eq!(ms[1].kind(), StateKind::Failed, "the old one stays failed");
        ms.extend(out.new_messages);
        // Counts: b superseded by b-r1 (queued).
        let c = BatchCounts::of(&ms);
        assert_eq!((c.sent, c.failed, c.superseded, c.queued), (1, 2, 1, 1));
        // Clicking again creates nothing new.
        let again = retry_failed(&mut ms, &b.id, lookup, t(16, 1));
        assert!(again.new_messages.is_empty());
        // The retry fails too: the next retry gets -r2.
        let i = ms.iter().position(|m| m.id == "b-r1").unwrap();
        ms[i]
            .apply_report(&report("b-r1", RelayState::Failed, t(16, 5)))
            .unwrap();
        let third = retry_failed(&mut ms, &b.id, lookup, t(16, 10));
        assert_eq!(third.new_messages[0].id, "b-r2");
        assert_eq!(third.new_messages[0].retry_of.as_deref(), Some("b-r1"));
    }

    #[test]
    fn retry_links_a_leftover_instead_of_duplicating() {
        let (b, mut ms) = queued(Channel::Email, &["a"]);
        ms[0]
            .apply_report(&report("a", RelayState::Failed, t(15, 0)))
            .unwrap();
        let persons = [person("p-a", true)];
        let lookup = |id: &PersonId| persons.iter().find(|p| &p.id == id);
        let mut copy = ms.clone();
        let out = retry_failed(&mut copy, &b.id, lookup, t(16, 0));
        // Simulate: the new message was stored, the link on the old one was lost.
        ms.extend(out.new_messages);
        let again = retry_failed(&mut ms, &b.id, lookup, t(16, 1));
        assert!(again.new_messages.is_empty());
        assert_eq!(ms[0].retried_as.as_deref(), Some("a-r1"));
    }

    #[test]
    fn retry_keeps_override_basis_when_consent_still_missing() {
        let (b, mut ms) = queued(Channel::Email, &["a"]);
        ms[0].consent = ConsentBasis::Override {
            reason: "Termin verschoben, Patient bat telefonisch um Nachricht".into(),
            at: t(13, 0),
        };
        ms[0]
            .apply_report(&report("a", RelayState::Failed, t(15, 0)))
            .unwrap();
        let persons = [person("p-a", false)];
        let out = retry_failed(
            &mut ms,
            &b.id,
            |id| persons.iter().find(|p| &p.id == id),
            t(16, 0),
        );
        assert_eq!(out.new_messages.len(), 1);
        assert_eq!(out.new_messages[0].consent, ms[0].consent);
    }

    #[test]
    fn consent_basis_rules() {
        let ov = |reason: &str, at: NaiveDateTime| ConsentOverride {
            person_id: PersonId("p".into()),
            appointment_id: None,
            channel: Channel::Email,
            purpose: Purpose::AppointmentReminder,
            reason: reason.into(),
            at,
        };
        let granted = person("p", true);
        let missing = person("p", false);
        let mut withdrawn = person("p", true);
        withdrawn.consents.withdraw(
            Channel::Email,
            Purpose::AppointmentReminder,
            d(2026, 11, 20),
            WithdrawalSource::UnsubscribeLink,
        );
        let early = NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let cases: Vec<(&Person, Vec<ConsentOverride>, Option<&str>)> = vec![
            (
                &granted,
                vec![],
                Some("Einwilligung vom 01.03.2026 (Double-Opt-in)"),
            ),
            (&missing, vec![], None),
            (&missing, vec![ov("  ", t(14, 0))], None),
            (
                &missing,
                vec![ov("Patient bat darum", t(14, 0))],
                Some("Ohne Einwilligung (26.11.2026 14:00): Patient bat darum"),
            ),
            (&withdrawn, vec![ov("alt", early)], None),
            (
                &withdrawn,
                vec![ov("alt", early), ov("neu bestätigt", t(14, 0))],
                Some("Ohne Einwilligung (26.11.2026 14:00): neu bestätigt"),
            ),
        ];
        for (p, ovs, want) in cases {
            let got = consent_basis(p, None, Channel::Email, Purpose::AppointmentReminder, &ovs);
            assert_eq!(got.map(|b| b.label_de()).as_deref(), want);
        }
        // An override for another appointment does not count.
        let mut o = ov("x", t(14, 0));
        o.appointment_id = Some(AppointmentId("a1".into()));
        let other = AppointmentId("a2".into());
        assert!(consent_basis(
            &missing,
            Some(&other),
            Channel::Email,
            Purpose::AppointmentReminder,
            &[o]
        )
        .is_none());
    }

    #[test]
    fn opt_outs_withdraw_idempotently() {
        let mut a = Person {
            id: PersonId("a".into()),
            ..Default::default()
        };
        let mut c = Consents::default();
        for p in Purpose::ALL {
            c.grant(Channel::Email, p, d(2026, 1, 1), Evidence::OnlineForm);
        }
        c.grant(
            Channel::Sms,
            Purpose::Recall,
            d(2026, 1, 1),
            Evidence::OnlineForm,
        );
        a.consents = c;
        let mut b = a.clone();
        b.id = PersonId("b".into());
        // c re-consented at the practice after clicking the link.
        let mut late = a.clone();
        late.id = PersonId("c".into());
        late.consents.grant(
            Channel::Email,
            Purpose::Recall,
            d(2026, 11, 27),
            Evidence::WrittenForm,
        );
        let mut persons = vec![a, b, late];
        let at = t(9, 30);
        let optouts = vec![
            OptOutNotice {
                person_id: PersonId("a".into()),
                channel: Channel::Email,
                scope: OptOutScope::AllAdvertising,
                at,
            },
            OptOutNotice {
                person_id: PersonId("b".into()),
                channel: Channel::Email,
                scope: OptOutScope::Purpose(Purpose::Recall),
                at,
            },
            OptOutNotice {
                person_id: PersonId("c".into()),
                channel: Channel::Email,
                scope: OptOutScope::Purpose(Purpose::Recall),
                at,
            },
            OptOutNotice {
                person_id: PersonId("unknown".into()),
                channel: Channel::Email,
                scope: OptOutScope::AllAdvertising,
                at,
            },
        ];
        let changed = apply_opt_outs(&mut persons, &optouts);
        assert_eq!(changed, [PersonId("a".into()), PersonId("b".into())]);
        let a = &persons[0];
        for p in Purpose::ALL {
            assert_eq!(
                a.consents.allows(Channel::Email, p),
                !p.is_advertising(),
                "{p:?}"
            );
        }
        assert!(a.consents.allows(Channel::Sms, Purpose::Recall));
        let rec = a.consents.get(Channel::Email, Purpose::Birthday).unwrap();
        assert_eq!(rec.withdrawn_at, Some(d(2026, 11, 26)));
        assert_eq!(
            rec.withdrawn_source,
            Some(WithdrawalSource::UnsubscribeLink)
        );
        assert!(!persons[1].consents.allows(Channel::Email, Purpose::Recall));
        assert!(persons[1]
            .consents
            .allows(Channel::Email, Purpose::Birthday));
        assert!(persons[2].consents.allows(Channel::Email, Purpose::Recall));
        // Applying again changes nothing.
        let snapshot = persons.clone();
        assert!(apply_opt_outs(&mut persons, &optouts).is_empty());
        assert_eq!(persons, snapshot);
    }

    #[test]
    fn stored_message_is_open_reads_the_state_of_the_stored_json() {
        for kind in StateKind::ALL {
            let mut m = msg(Channel::Email);
            m.state = example_state(kind);
            let doc = serde_json::to_value(&m).unwrap();
            assert_eq!(stored_message_is_open(&doc), !kind.is_final(), "{kind:?}");
        }
        assert!(stored_message_is_open(&serde_json::json!({"id": "x"})));
        assert!(stored_message_is_open(
            &serde_json::json!({"state": {"state": "unknown"}})
        ));
    }

    #[test]
    fn serde_roundtrip() {
        let mut m = msg(Channel::Email);
        m.state = example_state(StateKind::Retrying);
        let back: OutboxMessage =
            serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}

/// A 500-message send against a fake relay that remembers ids, with a crash (reload) injected
/// at every step, a relay outage, and a retry of the failed ones: every message is delivered
/// exactly once.
#[cfg(test)]
mod crash_tests {
    use super::*;
    use chrono::NaiveDate;

    fn t0() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(14, 0, 0)
            .unwrap()
    }

    /// The relay: accepts ids idempotently, delivers queued ones on `tick`, rejects the ids
    /// in `reject` (permanent failure), can be down.
    #[derive(Default)]
    struct FakeRelay {
        known: BTreeMap<String, (RelayState, Option<String>)>,
        deliveries: BTreeMap<String, u32>,
        reject: BTreeSet<String>,
        /// Number of upcoming requests that fail as "unreachable".
        down_for: u32,
    }

    impl FakeRelay {
        fn reachable(&mut self) -> bool {
            if self.down_for > 0 {
                self.down_for -= 1;
                return false;
            }
            true
        }

        fn report(&self, id: &str, at: NaiveDateTime) -> RelayReport {
            let (state, reason) = self.known[id].clone();
            RelayReport {
                id: id.into(),
                state,
                reason,
                next_attempt: None,
                at,
            }
        }

        fn submit(
            &mut self,
            msgs: &[&OutboxMessage],
            at: NaiveDateTime,
        ) -> Result<Vec<RelayReport>, ()> {
            if !self.reachable() {
                return Err(());
            }
            for m in msgs {
                self.known
                    .entry(m.id.clone())
                    .or_insert((RelayState::Queued, None));
            }
            Ok(msgs.iter().map(|m| self.report(&m.id, at)).collect())
        }

        fn tick(&mut self) {
            for (id, (state, reason)) in self.known.iter_mut() {
                if *state == RelayState::Queued {
                    if self.reject.contains(id) {
                        *state = RelayState::Failed;
                        *reason = Some("550 5.1.1 Empfänger unbekannt".into());
                    } else {
                        *state = RelayState::Sent;
                        *self.deliveries.entry(id.clone()).or_default() += 1;
                    }
                }
            }
        }

        fn status(
            &mut self,
            ids: &[String],
            at: NaiveDateTime,
        ) -> Result<(Vec<RelayReport>, Vec<String>), ()> {
            if !self.reachable() {
                return Err(());
            }
            let mut reports = Vec::new();
            let mut unknown = Vec::new();
            for id in ids {
                if self.known.contains_key(id) {
                    reports.push(self.report(id, at));
                    // A late "sending" echo after the final state must be ignored.
                    reports.push(RelayReport {
                        id: id.clone(),
                        state: RelayState::Sending,
                        reason: None,
                        next_attempt: None,
                        at,
                    });
                } else {
                    unknown.push(id.clone());
                }
            }
            Ok((reports, unknown))
        }
    }

    struct Crash;

    /// The app's send loop. `storage` is what survives a reload; every persisted write is one
    /// transaction. Crashes (returns `Err`) right before step number `crash_at`; returns the
    /// number of steps when it finished.
    fn run(
        storage: &mut Vec<OutboxMessage>,
        batches: &[Batch],
        relay: &mut FakeRelay,
        crash_at: Option<u32>,
        chunk: usize,
    ) -> Result<u32, Crash> {
        let mut step = 0u32;
        let mut check = || {
            step += 1;
            if Some(step) == crash_at {
                Err(Crash)
            } else {
                Ok(step)
            }
        };
        let at = t0();
        for _round in 0..100 {
            let mut mem = storage.clone(); // reload
            let p = plan(batches, &mem, chunk);
            if p.is_idle() {
                return check();
            }
            let index: BTreeMap<String, usize> = mem
                .iter()
                .enumerate()
                .map(|(i, m)| (m.id.clone(), i))
                .collect();
            for ids in &p.transmit {
                for id in ids {
                    assert!(mem[index[id]].begin_submit());
                }
                check()?;
                *storage = mem.clone();
                check()?;
                let msgs: Vec<&OutboxMessage> = ids.iter().map(|id| &mem[index[id]]).collect();
                let answer = relay.submit(&msgs, at);
                check()?;
                match answer {
                    Ok(reports) => {
                        let s = apply_reports(&mut mem, &reports);
                        assert!(s.refused.is_empty(), "{:?}", s.refused);
                        *storage = mem.clone();
                    }
                    Err(()) => break, // relay unreachable: wait, try again next round
                }
                check()?;
            }
            relay.tick();
            for ids in &p.poll {
                let answer = relay.status(ids, at);
                check()?;
                let Ok((reports, unknown)) = answer else {
                    break;
                };
                let s = apply_reports(&mut mem, &reports);
                assert!(s.refused.is_empty(), "{:?}", s.refused);
                for id in unknown {
                    mem[index[&id]].relay_unknown(at);
                }
                *storage = mem.clone();
                check()?;
            }
        }
        panic!("send loop did not settle");
    }

    fn setup(n: usize) -> (Vec<Batch>, Vec<OutboxMessage>) {
        let b = Batch {
            id: "batch-1".into(),
            created_at: t0(),
            channel: Channel::Email,
            purpose: Purpose::AppointmentReminder,
            template_name: "Terminerinnerung".into(),
            template_version: 1,
            paused: false,
        };
        let items = (0..n)
            .map(|i| QueueItem {
                id: format!("00000000-0000-4000-8000-{i:012}"),
                person_id: PersonId(format!("p{i}")),
                appointment_id: None,
                recipient_name: format!("Person {i}"),
                address: format!("p{i}@example.org"),
                content: Content {
                    subject: Some("Ihr Termin morgen".into()),
                    text: format!("Guten Tag Person {i}, …"),
                    html: None,
                },
                consent: ConsentBasis::Consent {
                    given_at: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                    evidence: Evidence::WrittenForm,
                },
            })
            .collect();
        let ms = queue_batch(&b, items).unwrap();
        (vec![b], ms)
    }

    fn assert_exactly_once(storage: &[OutboxMessage], relay: &FakeRelay, rejected: usize) {
        assert_eq!(relay.deliveries.len() + rejected, storage.len());
        for m in storage {
            match m.kind() {
                StateKind::Sent => assert_eq!(relay.deliveries.get(&m.id), Some(&1), "{}", m.id),
                StateKind::Failed => assert!(!relay.deliveries.contains_key(&m.id)),
                other => panic!("{} ended {other:?}", m.id),
            }
        }
        assert!(relay.deliveries.values().all(|&n| n == 1));
    }

    const N: usize = 500;
    const CHUNK: usize = 50;

    #[test]
    fn crash_at_every_step_delivers_each_message_exactly_once() {
        let (batches, queued) = setup(N);
        let mut storage = queued.clone();
        let mut relay = FakeRelay::default();
        let steps = run(&mut storage, &batches, &mut relay, None, CHUNK)
            .ok()
            .unwrap();
        assert_exactly_once(&storage, &relay, 0);
        assert!(steps > 40, "{steps}");
        for crash in 1..=steps {
            let mut storage = queued.clone();
            let mut relay = FakeRelay::default();
            assert!(run(&mut storage, &batches, &mut relay, Some(crash), CHUNK).is_err());
            // A second crash a few steps into the resumed run.
            let _ = run(&mut storage, &batches, &mut relay, Some(3), CHUNK);
            run(&mut storage, &batches, &mut relay, None, CHUNK)
                .ok()
                .unwrap();
            assert_exactly_once(&storage, &relay, 0);
        }
    }

    #[test]
    fn relay_outage_and_retry_of_failed_deliver_exactly_once() {
        let (batches, queued) = setup(N);
        let mut storage = queued.clone();
        let mut relay = FakeRelay {
            down_for: 3,
            ..Default::default()
        };
        relay.reject = storage.iter().step_by(50).map(|m| m.id.clone()).collect();
        // Crash in the middle, with the relay down at first.
        assert!(run(&mut storage, &batches, &mut relay, Some(7), CHUNK).is_err());
        run(&mut storage, &batches, &mut relay, None, CHUNK)
            .ok()
            .unwrap();
        assert_exactly_once(&storage, &relay, 10);
        let counts = BatchCounts::of(&storage);
        assert_eq!((counts.sent, counts.failed), (490, 10));
        // Replaying an old id returns its old failure: only new ids can be re-sent.
        let old = storage
            .iter()
            .find(|m| m.kind() == StateKind::Failed)
            .unwrap();
        let replay = relay.submit(&[old], t0()).unwrap();
        assert_eq!(replay[0].state, RelayState::Failed);
        // "nur Fehlgeschlagene erneut senden" (the address was corrected in the meantime:
        // the relay accepts the new ids).
        let persons: Vec<Person> = (0..N)
            .map(|i| {
                let mut p = Person {
                    id: PersonId(format!("p{i}")),
                    ..Default::default()
                };
                p.consents.grant(
                    Channel::Email,
                    Purpose::AppointmentReminder,
                    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                    Evidence::WrittenForm,
                );
                p
            })
            .collect();
        let out = retry_failed(
            &mut storage,
            "batch-1",
            |id| persons.iter().find(|p| &p.id == id),
            t0(),
        );
        assert_eq!(out.new_messages.len(), 10);
        storage.extend(out.new_messages);
        assert!(run(&mut storage, &batches, &mut relay, Some(4), CHUNK).is_err());
        run(&mut storage, &batches, &mut relay, None, CHUNK)
            .ok()
            .unwrap();
        let counts = BatchCounts::of(&storage);
        assert_eq!(
            (counts.sent, counts.failed, counts.superseded),
            (500, 0, 10)
        );
        // Every person got exactly one message.
        let mut per_person: BTreeMap<&PersonId, u32> = BTreeMap::new();
        for m in &storage {
            *per_person.entry(&m.person_id).or_default() +=
                relay.deliveries.get(&m.id).copied().unwrap_or(0);
        }
        assert_eq!(per_person.len(), N);
        assert!(per_person.values().all(|&n| n == 1));
    }

    #[test]
    fn relay_that_lost_messages_gets_them_again() {
        let (batches, queued) = setup(120);
        let mut storage = queued;
        let mut relay = FakeRelay::default();
        // Crash right after the first chunk's answer is persisted.
        assert!(run(&mut storage, &batches, &mut relay, Some(4), CHUNK).is_err());
        let transmitted = storage
            .iter()
            .filter(|m| m.kind() == StateKind::Transmitted)
            .count();
        assert_eq!(transmitted, CHUNK);
        // The relay loses its store before delivering anything.
        relay.known.clear();
        run(&mut storage, &batches, &mut relay, None, CHUNK)
            .ok()
            .unwrap();
        assert_exactly_once(&storage, &relay, 0);
    }
}
