//! Chunking and resume: what to transmit and what to poll, from the stored messages alone.

use std::collections::BTreeSet;

use super::{Batch, OutboxMessage, StateKind, POLL_CHUNK};
use crate::domain::model::Channel;

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
