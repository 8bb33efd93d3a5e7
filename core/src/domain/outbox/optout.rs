//! Opt-outs reported by the relay (unsubscribe link).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::domain::model::{Channel, PersonId, Purpose};
use crate::domain::Person;

/// What an opt-out withdraws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "purpose", rename_all = "snake_case")]
pub enum OptOutScope {
    /// One purpose on the channel.
    Purpose(Purpose),
    /// Every advertising purpose (birthday, invitation, recall) on the channel.
    AllAdvertising,
}

/// An opt-out reported by the relay (unsubscribe link). Domain side of `wire::OptOut`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutNotice {
    pub person_id: PersonId,
    pub channel: Channel,
    pub scope: OptOutScope,
    /// Local practice time of the click.
    pub at: NaiveDateTime,
}

/// Applies opt-outs: withdraws the matching active consents with the click's date and source
/// "Abmeldelink". Idempotent (an already withdrawn consent is left alone). A consent given
/// *after* the click (the person re-consented at the practice) is not withdrawn by a replayed
/// old opt-out. Returns the ids of the persons that changed, in first-change order.
pub fn apply_opt_outs(persons: &mut [Person], optouts: &[OptOutNotice]) -> Vec<PersonId> {
    let index: BTreeMap<PersonId, usize> = persons
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let mut changed: Vec<PersonId> = Vec::new();
    for o in optouts {
        let Some(&i) = index.get(&o.person_id) else {
            continue;
        };
        let person = &mut persons[i];
        let purposes: Vec<Purpose> = match o.scope {
            OptOutScope::Purpose(p) => vec![p],
            OptOutScope::AllAdvertising => Purpose::ALL
                .into_iter()
                .filter(|p| p.is_advertising())
                .collect(),
        };
        let day = o.at.date();
        let mut any = false;
        for p in purposes {
            let applies = person
                .consents
                .get(o.channel, p)
                .is_some_and(|c| c.is_active() && c.given_at <= day);
            if applies {
                any |= person.consents.withdraw(
                    o.channel,
                    p,
                    day,
                    crate::domain::model::WithdrawalSource::UnsubscribeLink,
                );
            }
        }
        if any && !changed.contains(&person.id) {
            changed.push(person.id.clone());
        }
    }
    changed
}
