//! The outbox's refusals (`domain::outbox::OutboxError`) and why a recipient was left out of
//! a batch (`domain::outbox::SkipReason`) in the UI language, with the channel and state
//! names translated too. The German catalogue values give exactly `message_de` (tested).

use super::{labels, t, tf};
use crate::domain::outbox::{OutboxError, SkipReason};

pub fn error(e: &OutboxError) -> String {
    match e {
        OutboxError::IllegalTransition { channel, from, to } => tf(
            "outbox.error.illegal_transition",
            &[
                ("channel", &labels::channel(*channel)),
                ("from", &labels::state_kind(*from)),
                ("to", &labels::state_kind(*to)),
            ],
        ),
        OutboxError::MaybeTransmitted => t("outbox.error.maybe_transmitted").into(),
        OutboxError::NotRelayed => t("outbox.error.not_relayed").into(),
        OutboxError::WrongId => t("outbox.error.wrong_id").into(),
        OutboxError::CancelledButReported => t("outbox.error.cancelled_but_reported").into(),
        OutboxError::DuplicateId(id) => tf("outbox.error.duplicate_id", &[("id", id)]),
        OutboxError::EmptyAddress(id) => tf("outbox.error.empty_address", &[("id", id)]),
        OutboxError::EmptyContent(id) => tf("outbox.error.empty_content", &[("id", id)]),
        OutboxError::WrongBatch(id) => tf("outbox.error.wrong_batch", &[("id", id)]),
    }
}

/// Why `prepare_batch` left a recipient out.
pub fn skip_reason(r: &SkipReason) -> String {
    match r {
        SkipReason::UnknownPerson => t("outbox.skip.unknown_person").into(),
        SkipReason::NoConsent => t("outbox.skip.no_consent").into(),
        SkipReason::ConsentWithdrawn { at } => tf(
            "outbox.skip.consent_withdrawn",
            &[("date", &at.format(t("format.date_numeric")).to_string())],
        ),
        SkipReason::Unreachable(u) => super::review::unreachable(u),
        SkipReason::RenderFailed(e) => tf("outbox.skip.render_failed", &[("error", e)]),
        SkipReason::NotRendered => t("outbox.skip.not_rendered").into(),
        SkipReason::EmptyMessage => t("outbox.skip.empty_message").into(),
    }
}
