//! Why a message may be sent: the consent basis recorded with every outbox message.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::{fmt_d, fmt_dt};
use crate::domain::model::{
    AppointmentId, Channel, ConsentStatus, Evidence, Grant, Person, Purpose,
};
use crate::domain::review::ConsentOverride;

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
    /// A double opt-in request ("Bestätigung Ihrer Einwilligung"): it asks for consent and
    /// advertises nothing, so it needs none.
    OptInRequest,
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
            ConsentBasis::OptInRequest => "Bestätigungsanfrage (Double-Opt-in)".into(),
        }
    }
}

impl From<Grant> for ConsentBasis {
    fn from(g: Grant) -> Self {
        ConsentBasis::Consent {
            given_at: g.given_at,
            evidence: g.evidence,
        }
    }
}

/// The consent basis for sending `channel`/`purpose` to `person` now: the active consent,
/// else a matching override from the review, else `None` (must not be queued). A withdrawn
/// consent is only overridden by an override logged on a day *after* the withdrawal
/// (withdrawals carry a date, not a time: one of the same day may have come after it).
pub fn consent_basis(
    person: &Person,
    appointment: Option<&AppointmentId>,
    channel: Channel,
    purpose: Purpose,
    overrides: &[ConsentOverride],
) -> Option<ConsentBasis> {
    let status = person.consents.status(channel, purpose);
    if let ConsentStatus::Granted(g) = status {
        return Some(ConsentBasis::from(g));
    }
    let withdrawn_at = status.withdrawn_at();
    overrides
        .iter()
        .filter(|o| {
            o.person_id == person.id
                && o.channel == channel
                && o.purpose == purpose
                && (o.appointment_id.is_none() || o.appointment_id.as_ref() == appointment)
                && !o.reason.trim().is_empty()
                && withdrawn_at.is_none_or(|w| o.at.date() > w)
        })
        .max_by_key(|o| o.at)
        .map(|o| ConsentBasis::Override {
            reason: o.reason.trim().to_string(),
            at: o.at,
        })
}
