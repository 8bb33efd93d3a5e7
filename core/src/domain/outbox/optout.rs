//! Opt-outs reported by the relay (unsubscribe link).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::domain::model::{Channel, ConsentEvent, ConsentSource, PersonId, Purpose};
use crate::domain::{Consents, Person};

/// What an opt-out withdraws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "purpose", rename_all = "snake_case")]
pub enum OptOutScope {
    /// One purpose on the channel.
    Purpose(Purpose),
    /// Every advertising purpose (birthday, invitation, recall) on the channel.
    AllAdvertising,
}

impl OptOutScope {
    /// Whether a message of `purpose` falls under this opt-out. The one rule used by the app
    /// (which consents are withdrawn), the relay's safety net (which later messages it
    /// refuses) and the relay's pages (what they promise).
    pub fn covers(self, purpose: Purpose) -> bool {
        match self {
            OptOutScope::Purpose(p) => p == purpose,
            OptOutScope::AllAdvertising => purpose.is_advertising(),
        }
    }

    /// The purposes this opt-out withdraws, in `Purpose::ALL` order.
    pub fn purposes(self) -> Vec<Purpose> {
        Purpose::ALL
            .into_iter()
            .filter(|p| self.covers(*p))
            .collect()
    }
}

/// An opt-out reported by the relay (unsubscribe link). Domain side of `wire::OptOut`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutNotice {
    pub person_id: PersonId,
    pub channel: Channel,
    pub scope: OptOutScope,
    /// Local practice time of the click.
    pub at: NaiveDateTime,
    /// Where the message with the link went: the person's own address or a guardian's
    /// (a minor's messages go to a guardian, whose consent is the one that counts).
    pub recipient: String,
}

/// Whether `contact` (as stored) is the address or number `recipient` a message went to.
fn same_contact(channel: Channel, contact: &str, recipient: &str) -> bool {
    match channel {
        Channel::Sms => {
            let e164 = |s: &str| crate::domain::phone::parse_phone(s).ok().map(|p| p.e164());
            e164(contact).is_some_and(|c| Some(c) == e164(recipient))
        }
        _ => {
            let c = contact.trim();
            !c.is_empty() && c.eq_ignore_ascii_case(recipient.trim())
        }
    }
}

/// Appends the click's withdrawal to every cell of `o` that was granted on its day.
fn withdraw(consents: &mut Consents, o: &OptOutNotice) -> bool {
    let day = o.at.date();
    let mut any = false;
    for p in o.scope.purposes() {
        let granted_then = consents
            .history(o.channel, p)
            .is_some_and(|h| h.status_on(day).allows());
        if granted_then {
            consents.record(
                o.channel,
                p,
                ConsentEvent::withdrawn(day, ConsentSource::UnsubscribeLink),
            );
            any = true;
        }
    }
    any
}

/// Applies opt-outs: appends a withdrawal event (the click's date, source "Abmeldelink") to
/// every matching cell that was granted on the day of the click — the person's own, and
/// those of the guardian whose contact the message went to. Idempotent (a cell already
/// withdrawn on that day is left alone). A consent given *after* the click (the person
/// re-consented at the practice) stays in force: the withdrawal goes into the history before
/// it. Returns the ids of the persons whose history changed, in first-change order.
pub fn apply_opt_outs(persons: &mut [Person], optouts: &[OptOutNotice]) -> Vec<PersonId> {
    apply_notices(
        persons,
        optouts,
        |o| &o.person_id,
        |person, o| {
            // The person's own cells always (as before guardians existed), and the cells of
            // the guardian the message went to.
            let mut any = withdraw(&mut person.consents, o);
            for g in person.guardians.iter_mut() {
                let contact = match o.channel {
                    Channel::Sms => &g.mobile,
                    _ => &g.email,
                };
                if same_contact(o.channel, contact, &o.recipient) {
                    any |= withdraw(&mut g.consents, o);
                }
            }
            any
        },
    )
}

/// Applies relay notices (opt-outs, double opt-in confirmations) to the persons they name:
/// `apply` changes one person for one notice and says whether it changed anything. Notices
/// of persons not in `persons` are skipped. Returns the ids of the persons that changed, in
/// first-change order.
pub(super) fn apply_notices<N>(
    persons: &mut [Person],
    notices: &[N],
    person_of: impl Fn(&N) -> &PersonId,
    mut apply: impl FnMut(&mut Person, &N) -> bool,
) -> Vec<PersonId> {
    let index: BTreeMap<PersonId, usize> = persons
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let mut changed: Vec<PersonId> = Vec::new();
    for n in notices {
        let Some(&i) = index.get(person_of(n)) else {
            continue;
        };
        let person = &mut persons[i];
        if apply(person, n) && !changed.contains(&person.id) {
            changed.push(person.id.clone());
        }
    }
    changed
}
