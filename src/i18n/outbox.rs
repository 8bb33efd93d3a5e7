//! The outbox's refusals (`domain::outbox::OutboxError`) and why a recipient was left out of
//! a batch (`domain::outbox::SkipReason`) in the UI language, with the channel and state
//! names translated too. The German catalogue values give exactly `message_de` (tested).

use super::{labels, t, tf};
use crate::domain::outbox::{OutboxError, SkipReason};

/// The refusal in the UI language.
pub fn error(e: &OutboxError) -> String {
    let args = error_args(e);
    let dyn_args: Vec<(&str, &dyn std::fmt::Display)> = args
        .iter()
        .map(|(k, v)| (*k, v as &dyn std::fmt::Display))
        .collect();
    tf(error_key(e), &dyn_args)
}

/// The catalogue key of a refusal.
pub fn error_key(e: &OutboxError) -> &'static str {
    match e {
        OutboxError::IllegalTransition { .. } => "outbox.error.illegal_transition",
        OutboxError::MaybeTransmitted => "outbox.error.maybe_transmitted",
        OutboxError::NotRelayed => "outbox.error.not_relayed",
        OutboxError::WrongId => "outbox.error.wrong_id",
        OutboxError::CancelledButReported => "outbox.error.cancelled_but_reported",
        OutboxError::DuplicateId(_) => "outbox.error.duplicate_id",
        OutboxError::EmptyAddress(_) => "outbox.error.empty_address",
        OutboxError::EmptyContent(_) => "outbox.error.empty_content",
        OutboxError::WrongBatch(_) => "outbox.error.wrong_batch",
    }
}

/// The arguments of a refusal, channel and state names in the UI language.
pub fn error_args(e: &OutboxError) -> Vec<(&'static str, String)> {
    match e {
        OutboxError::IllegalTransition { channel, from, to } => vec![
            ("channel", labels::channel(*channel).to_string()),
            ("from", labels::state_kind(*from).to_string()),
            ("to", labels::state_kind(*to).to_string()),
        ],
        OutboxError::DuplicateId(id)
        | OutboxError::EmptyAddress(id)
        | OutboxError::EmptyContent(id)
        | OutboxError::WrongBatch(id) => vec![("id", id.clone())],
        OutboxError::MaybeTransmitted
        | OutboxError::NotRelayed
        | OutboxError::WrongId
        | OutboxError::CancelledButReported => Vec::new(),
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
        SkipReason::RenderFailed(e) => tf(
            "outbox.skip.render_failed",
            &[("error", &super::render::render_error(e))],
        ),
        SkipReason::NotRendered => t("outbox.skip.not_rendered").into(),
        SkipReason::EmptyMessage => t("outbox.skip.empty_message").into(),
        SkipReason::MinorWithoutGuardian => t("outbox.skip.minor_without_guardian").into(),
        SkipReason::Guardian { name, reason } => tf(
            "outbox.skip.guardian",
            &[("name", name), ("reason", &skip_reason(reason))],
        ),
    }
}
