//! The review's domain texts in the UI language: consent cell, row warnings, why a row is
//! red, why an inclusion was refused. Built from the domain's data (`domain::review`), which
//! keeps its German `*_de` texts; the German catalogue values give exactly those (tested).
//! The details of an invalid e-mail address, phone number or postal address
//! (`EmailError`, `PhoneError`, `AddressProblem`) are `UiMessage`s (`super::msg`).

use super::{labels, msg, t, tf};
use crate::domain::review::{ConsentCell, ReviewError, ReviewRow, RowFlags, RowTo, Unreachable};
use crate::domain::Channel;
use chrono::NaiveDate;

/// "JA" / "NEIN".
pub fn consent(c: &ConsentCell) -> &'static str {
    if c.allowed {
        t("review.consent.yes")
    } else {
        t("review.consent.no")
    }
}

/// "Einwilligung vom 02.01.2026 (schriftlich), widerrufen am …" / "Keine Einwilligung".
pub fn consent_detail(c: &ConsentCell) -> String {
    let fmt = |d: NaiveDate| d.format(t("format.date_numeric")).to_string();
    let given = match (c.given_at, c.evidence) {
        (Some(g), Some(e)) => tf(
            "review.consent.given_with",
            &[("date", &fmt(g)), ("evidence", &labels::evidence(e))],
        ),
        (Some(g), None) => tf("review.consent.given", &[("date", &fmt(g))]),
        _ => return t("review.consent.none").into(),
    };
    match c.withdrawn_at {
        Some(w) => tf(
            "review.consent.withdrawn",
            &[("given", &given), ("date", &fmt(w))],
        ),
        None => given,
    }
}

/// Warnings of a row (shared contact, person selected more than once).
pub fn flags(f: &RowFlags, channel: Channel) -> Vec<String> {
    let mut v = Vec::new();
    if f.shared_contact_with > 0 {
        let what = match channel {
            Channel::Letter => t("review.flag.same_address"),
            Channel::Sms => t("review.flag.same_number"),
            Channel::Email => t("review.flag.same_email"),
        };
        let n = f.shared_contact_with;
        v.push(if n == 1 {
            tf("review.flag.shared_one", &[("what", &what)])
        } else {
            tf("review.flag.shared_many", &[("what", &what), ("n", &n)])
        });
    }
    if f.person_rows > 1 {
        v.push(tf("review.flag.person_rows", &[("n", &f.person_rows)]));
    }
    if let Some(e) = f.weak_consent {
        v.push(tf(
            "review.flag.weak_consent",
            &[("evidence", &labels::evidence(e))],
        ));
    }
    v
}

/// Why the channel cannot reach the person.
pub fn unreachable(u: &Unreachable) -> String {
    match u {
        Unreachable::UnknownPerson => t("review.unreachable.unknown_person").into(),
        Unreachable::NoEmail => t("review.unreachable.no_email").into(),
        Unreachable::InvalidEmail(e) => {
            tf("review.unreachable.invalid_email", &[("detail", &msg(e))])
        }
        Unreachable::NoMobile => t("review.unreachable.no_mobile").into(),
        Unreachable::LandlineOnly => t("review.unreachable.landline_only").into(),
        Unreachable::InvalidNumber(e) => {
            tf("review.unreachable.invalid_number", &[("detail", &msg(e))])
        }
        Unreachable::IncompleteAddress(p) => tf(
            "review.unreachable.incomplete_address",
            &[(
                "detail",
                // Joined as `address::problems_de` does.
                &p.iter().map(|a| msg(a)).collect::<Vec<_>>().join(", "),
            )],
        ),
    }
}

/// Whom a minor's row goes to: "an Erziehungsberechtigte: Anna Weber", or "Minderjährig
/// ohne Erziehungsberechtigte"; `None` for a row to the person.
pub fn to(row: &ReviewRow) -> Option<String> {
    match &row.to {
        RowTo::Person => None,
        RowTo::Guardian { name, .. } => Some(tf("review.to_guardian", &[("name", name)])),
        RowTo::MinorWithoutGuardian => Some(t("review.minor_without_guardian").into()),
    }
}

/// The reason of a red row.
pub fn reason(row: &ReviewRow) -> Option<String> {
    row.unreachable.as_ref().map(unreachable)
}

/// Why a change of the include flag or the hand-over was refused.
pub fn error(e: &ReviewError) -> &'static str {
    match e {
        ReviewError::NoSuchRow => t("review.error.no_such_row"),
        ReviewError::Unreachable => t("review.error.unreachable"),
        ReviewError::NeedsConsentOverride => t("review.error.needs_consent_override"),
        ReviewError::EmptyReason => t("review.error.empty_reason"),
        ReviewError::Stale => t("review.error.stale"),
    }
}
