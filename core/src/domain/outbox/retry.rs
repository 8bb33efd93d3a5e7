//! Retry of failed messages ("nur Fehlgeschlagene erneut senden").

use std::collections::BTreeSet;

use chrono::NaiveDateTime;

use super::{ConsentBasis, MessageState, OutboxMessage, StateKind};
use crate::domain::model::{ConsentStatus, Person, PersonId};

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
            // A confirmation request asks for consent; it needs none.
            (Some(_), ConsentBasis::OptInRequest) => None,
            (Some(ConsentStatus::Withdrawn { .. }), _) => Some("Einwilligung widerrufen"),
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
            _ if m.consent == ConsentBasis::OptInRequest => ConsentBasis::OptInRequest,
            Some(ConsentStatus::Granted(g)) => ConsentBasis::from(g),
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
