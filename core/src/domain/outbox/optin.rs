//! Double opt-in confirmations reported by the relay (the recipient confirmed the link of a
//! confirmation e-mail). Counterpart of [`super::optout`]: the relay records the click, the
//! app pulls it and records it in the person's consent history.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::domain::model::{Channel, ConsentEvent, ConsentSource, Evidence, PersonId, Purpose};
use crate::domain::Person;

/// A confirmed double opt-in. Domain side of a relay confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationNotice {
    pub person_id: PersonId,
    pub channel: Channel,
    /// The purposes the confirmation e-mail asked for.
    pub purposes: Vec<Purpose>,
    /// Local practice time of the confirmation.
    pub at: NaiveDateTime,
}

/// The note of a confirmation event: the time of the click (the event itself has a date).
fn note(at: NaiveDateTime) -> String {
    format!("bestätigt am {}", at.format("%d.%m.%Y %H:%M"))
}

/// Applies confirmations: appends a grant (the confirmation's date, evidence and source
/// "Double-Opt-in", the time in the note) to every cell of the notice. Idempotent: a cell
/// that already holds this confirmation's event is left alone. Returns the ids of the
/// persons whose history changed, in first-change order.
pub fn apply_confirmations(
    persons: &mut [Person],
    notices: &[ConfirmationNotice],
) -> Vec<PersonId> {
    let index: BTreeMap<PersonId, usize> = persons
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let mut changed: Vec<PersonId> = Vec::new();
    for n in notices {
        let Some(&i) = index.get(&n.person_id) else {
            continue;
        };
        let person = &mut persons[i];
        let event = ConsentEvent::granted(
            n.at.date(),
            Evidence::DoubleOptIn,
            ConsentSource::DoubleOptIn,
        )
        .with_note(&note(n.at));
        let mut any = false;
        for &p in &n.purposes {
            if person.consents.events(n.channel, p).contains(&event) {
                continue;
            }
            person.consents.record(n.channel, p, event.clone());
            any = true;
        }
        if any && !changed.contains(&person.id) {
            changed.push(person.id.clone());
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consent::{ConsentAction, ConsentStatus};
    use chrono::NaiveDate;

    fn at(day: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn confirmations_grant_with_double_opt_in_idempotently() {
        let mut persons = vec![Person {
            id: PersonId("a".into()),
            ..Default::default()
        }];
        // An earlier opt-out stays in the history, before the new grant.
        persons[0].consents.record(
            Channel::Email,
            Purpose::Birthday,
            ConsentEvent::withdrawn(at(1, 0, 0).date(), ConsentSource::UnsubscribeLink),
        );
        let notices = vec![
            ConfirmationNotice {
                person_id: PersonId("a".into()),
                channel: Channel::Email,
                purposes: vec![Purpose::Birthday, Purpose::Invitation],
                at: at(4, 14, 5),
            },
            ConfirmationNotice {
                person_id: PersonId("unknown".into()),
                channel: Channel::Email,
                purposes: vec![Purpose::Birthday],
                at: at(4, 14, 5),
            },
        ];
        assert_eq!(
            apply_confirmations(&mut persons, &notices),
            [PersonId("a".into())]
        );
        let c = &persons[0].consents;
        for p in [Purpose::Birthday, Purpose::Invitation] {
            let ConsentStatus::Granted(g) = c.status(Channel::Email, p) else {
                panic!("{p:?}: {:?}", c.status(Channel::Email, p));
            };
            assert_eq!(g.evidence, Evidence::DoubleOptIn);
            assert_eq!(g.source, ConsentSource::DoubleOptIn);
            assert_eq!(g.given_at, at(4, 0, 0).date());
            let last = c.events(Channel::Email, p).last().unwrap();
            assert_eq!(last.note, "bestätigt am 04.12.2026 14:05");
        }
        assert_eq!(
            c.events(Channel::Email, Purpose::Birthday)
                .iter()
                .map(|e| e.action)
                .collect::<Vec<_>>(),
            [ConsentAction::Withdrawn, ConsentAction::Granted]
        );
        assert!(!c.allows(Channel::Email, Purpose::Recall));
        assert!(!c.allows(Channel::Sms, Purpose::Birthday));
        // Fetched again: nothing changes.
        let snapshot = persons.clone();
        assert!(apply_confirmations(&mut persons, &notices).is_empty());
        assert_eq!(persons, snapshot);
    }
}
