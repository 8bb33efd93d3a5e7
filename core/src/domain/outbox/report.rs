//! Relay reports (domain side of the wire's `MessageStatus`) and how they move messages.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{MessageState, OutboxError, OutboxMessage, StateKind};
use crate::domain::model::Channel;

impl OutboxMessage {
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
