//! Minors and their guardians ("Erziehungsberechtigte").
//!
//! A person is a minor while younger than the practice's age limit ([`MinorRule::age`],
//! default [`DEFAULT_MINOR_AGE`]) on the day of sending ([`MinorRule::on`]); the domain has no
//! clock, the caller passes the day. A person without a birth date counts as an adult.
//!
//! Messages for a minor go to a guardian: the first one the channel may reach with a consent
//! for the channel and purpose ([`choose`]). The guardian stands in for the minor
//! ([`stand_in`]): name, address (their own or the minor's), e-mail, mobile and the consents
//! they gave on the minor's behalf — under the minor's id, so an override logged for the
//! minor's row in the review applies to the guardian that row shows. The birth date is only
//! read here, to decide; it never reaches a message.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{Channel, Guardian, Person, Purpose};
use super::review::contact_of;

/// The default age limit: below 16 messages go to the guardians.
pub const DEFAULT_MINOR_AGE: u8 = 16;

/// Who counts as a minor: younger than `age` full years on `on` (`age` 0: nobody).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinorRule {
    pub age: u8,
    pub on: NaiveDate,
}

impl MinorRule {
    pub fn new(age: u8, on: NaiveDate) -> MinorRule {
        MinorRule { age, on }
    }

    /// Whether a person born on `birth_date` is a minor on [`MinorRule::on`]. Without a birth
    /// date: no (an adult). Born after `on` (a data error): a minor.
    pub fn is_minor(&self, birth_date: Option<NaiveDate>) -> bool {
        let Some(birth) = birth_date else {
            return false;
        };
        match age_on(birth, self.on) {
            Some(years) => years < u32::from(self.age),
            None => self.age > 0,
        }
    }
}

/// Full years of a person born on `birth` on `on` (`None` when born after `on`). The
/// birthday counts from its day: 16 on the 16th birthday. Born on 29 February: a year older
/// on 1 March in common years.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    on.years_since(birth)
}

/// The guardian as a stand-in person for `child`: the guardian's names and gender, their own
/// address or the child's, their e-mail and mobile number and the consents given on the
/// child's behalf — under the child's id (overrides of the child's row apply). No own
/// salutation, formal address, no tags.
pub fn stand_in(child: &Person, g: &Guardian) -> Person {
    Person {
        id: child.id.clone(),
        kind: child.kind,
        title: g.title.clone(),
        first_name: g.first_name.clone(),
        last_name: g.last_name.clone(),
        gender: g.gender,
        address: g.address.clone().unwrap_or_else(|| child.address.clone()),
        email: g.email.clone(),
        mobile: g.mobile.clone(),
        landline: String::new(),
        tags: Vec::new(),
        consents: g.consents.clone(),
        external_id: None,
        salutation: String::new(),
        du: false,
        guardians: Vec::new(),
    }
}

/// Whether a guardian has no name (then letters go "An die Eltern von …").
pub fn is_unnamed(g: &Guardian) -> bool {
    g.first_name.trim().is_empty() && g.last_name.trim().is_empty()
}

/// The guardian of `child` that messages on `channel` for `purpose` go to: the first one
/// reachable on the channel with an active consent; else the first reachable one (the review
/// shows it, NEIN, and an override may include it); else the first one. `None` without
/// guardians.
pub fn choose(child: &Person, channel: Channel, purpose: Purpose) -> Option<usize> {
    let reachable = |g: &Guardian| contact_of(channel, &stand_in(child, g)).1.is_none();
    let gs = &child.guardians;
    gs.iter()
        .position(|g| g.consents.allows(channel, purpose) && reachable(g))
        .or_else(|| gs.iter().position(reachable))
        .or_else(|| (!gs.is_empty()).then_some(0))
}

/// The name a message to this guardian carries: "Anna Weber", or "Eltern von Tim Weber" for
/// a guardian without a name.
pub fn display_name(child: &Person, g: &Guardian) -> String {
    if is_unnamed(g) {
        format!("Eltern von {}", child.full_name())
    } else {
        g.full_name()
    }
}

#[cfg(test)]
mod tests;
