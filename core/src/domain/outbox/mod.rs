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

use chrono::{NaiveDate, NaiveDateTime};

mod batch;
mod claim;
mod consent;
mod files;
mod optin;
mod optout;
mod plan;
mod prepare;
mod report;
mod retry;
mod state;

pub use batch::{cancel_batch, queue_batch, Batch, BatchCounts, QueueItem};
pub use claim::{claim_batches, Claim, Claimed, LEASE_SECS};
pub use consent::{consent_basis, ConsentBasis};
pub use files::{
    attach_file, clean_name, sniff_file, total_bytes, BatchFile, FileError, MAX_FILES,
    MAX_TOTAL_BYTES,
};
pub use optin::{
    apply_confirmations, check_optin, confirmation_content, optin_template, purposes_text,
    queue_optin_requests, ConfirmationNotice, OptInItem, OptInRefusal, OPTIN_TEMPLATE_NAME_DE,
};
pub use optout::{apply_opt_outs, OptOutNotice, OptOutScope};
pub use plan::{chunks_to_transmit, plan, ResumePlan};
pub use prepare::{
    admit, admitted, prepare_batch, Admitted, PreparedBatch, PreparedItem, SkipReason, Skipped,
};
pub use report::{apply_reports, ApplySummary, RelayReport, RelayState, ReportOutcome};
pub use retry::{retry_failed, retry_id, split_retry_id, RetryOutcome};
pub use state::{
    can_transition, stored_message_is_open, Content, MessageState, OutboxError, OutboxMessage,
    StateKind,
};

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

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod prepare_tests;
#[cfg(test)]
mod tests;
