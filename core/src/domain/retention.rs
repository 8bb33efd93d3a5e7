//! Outbox retention: final messages older than the retention period leave the outbox (where
//! each one keeps its rendered content) for the send-log archive (one document per batch,
//! the messages without their content), so what the app reads at every start stays bounded
//! by the retention period instead of growing with every batch ever sent.
//!
//! Pure: the caller reads the outbox and the archive, passes `now`, and writes the
//! [`Compaction`] in one transaction (`storage::retention`).
//!
//! What is kept: every field the send log ("Protokoll") and its CSV export show — recipient,
//! address, channel, purpose, template, state, time, failure reason, consent basis, message
//! id and re-send links. What goes: the rendered text, subject and HTML.
//!
//! What stays in the outbox regardless of age: messages not in a final state (the transmit
//! loop still needs them) and failed messages not yet re-sent (re-sending needs the content).

use std::collections::BTreeMap;

use chrono::{Months, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::outbox::{Content, OutboxMessage, StateKind};

/// Default retention of final messages in the outbox: 12 months, the period the send log
/// is kept for audits in full detail.
pub const DEFAULT_OUTBOX_MONTHS: u32 = 12;

/// The retention setting (Meta document `retention`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Months a final message keeps its content in the outbox (at least 1).
    #[serde(default = "default_months")]
    pub outbox_months: u32,
}

fn default_months() -> u32 {
    DEFAULT_OUTBOX_MONTHS
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            outbox_months: DEFAULT_OUTBOX_MONTHS,
        }
    }
}

impl Retention {
    /// Messages last changed before this moment may be compacted (`now` minus the retention,
    /// at least one month).
    pub fn cutoff(self, now: NaiveDateTime) -> NaiveDateTime {
        now.checked_sub_months(Months::new(self.outbox_months.max(1)))
            .unwrap_or(NaiveDateTime::MIN)
    }
}

/// The archived (compacted) messages of one batch: one document per batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedBatch {
    pub batch_id: String,
    /// The messages without content, in queue order (`seq`, then id).
    pub messages: Vec<OutboxMessage>,
}

/// Whether `m` may leave the outbox at `cutoff`: final, last changed before the cutoff, and
/// not a failed message that could still be re-sent.
pub fn compactable(m: &OutboxMessage, cutoff: NaiveDateTime) -> bool {
    let kind = m.kind();
    kind.is_final()
        && m.updated_at < cutoff
        && !(kind == StateKind::Failed && m.retried_as.is_none())
}

/// What one compaction writes: the archive documents of the touched batches (complete, old
/// archived messages included) and the ids of the outbox messages to delete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compaction {
    pub archive: Vec<ArchivedBatch>,
    pub remove: Vec<String>,
}

impl Compaction {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty()
    }
}

/// Decides which outbox messages move into the archive. `archive` holds the archive
/// documents stored so far; a message already archived (same id) is replaced by the newer
/// outbox copy, so running a compaction twice changes nothing the second time.
pub fn compact(
    messages: &[OutboxMessage],
    archive: &[ArchivedBatch],
    cutoff: NaiveDateTime,
) -> Compaction {
    let mut touched: BTreeMap<&str, Vec<OutboxMessage>> = BTreeMap::new();
    let mut remove = Vec::new();
    for m in messages.iter().filter(|m| compactable(m, cutoff)) {
        let mut kept = m.clone();
        kept.content = Content::default();
        touched.entry(m.batch_id.as_str()).or_default().push(kept);
        remove.push(m.id.clone());
    }
    let archive = touched
        .into_iter()
        .map(|(batch_id, new)| {
            let mut all: Vec<OutboxMessage> = archive
                .iter()
                .filter(|a| a.batch_id == batch_id)
                .flat_map(|a| a.messages.iter().cloned())
                .filter(|old| !new.iter().any(|n| n.id == old.id))
                .collect();
            all.extend(new);
            all.sort_by(|a, b| (a.seq, &a.id).cmp(&(b.seq, &b.id)));
            ArchivedBatch {
                batch_id: batch_id.to_string(),
                messages: all,
            }
        })
        .collect();
    Compaction { archive, remove }
}

/// The messages of the outbox followed by the archived ones: what the send log shows.
pub fn with_archive(
    mut messages: Vec<OutboxMessage>,
    archive: impl IntoIterator<Item = ArchivedBatch>,
) -> Vec<OutboxMessage> {
    for a in archive {
        messages.extend(a.messages);
    }
    messages
}

#[cfg(test)]
mod tests;
