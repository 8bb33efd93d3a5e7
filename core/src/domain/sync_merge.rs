//! Merging two concurrent versions of one person after sync (docs/design/sync-replication.md).
//!
//! When two devices edited the same person offline, replication keeps both revisions and
//! CouchDB's deterministic rule names a winner and a loser, the same on every device. This
//! module turns them, with their common ancestor (`base`, when the device still has it), into
//! one person:
//!
//! - **Consents** are append-only histories: the result has every event of both, in date
//!   order (the winner's events first on the same day, so every device gets the same order).
//!   Nothing recorded on either device is lost; a withdrawal on one device survives any edit
//!   on the other.
//! - **Other fields** merge one by one (nested objects such as the address by their own
//!   fields): a field only one side changed since `base` takes that side's value.
//! - A **real collision** (both changed a field to different values, or there is no base to
//!   tell who changed what) keeps the winner's value and reports the field in a
//!   [`Conflict`] for the "Konflikte" view, with both versions to choose from.
//!
//! The fields are taken from the person's serialised form, so a field added to [`Person`]
//! later merges without a change here. Lists (tags) are one field each.

use crate::domain::consent::Consents;
use crate::domain::model::{Person, PersonId};
use serde_json::{Map, Value};

/// A collision the merge could not settle: shown under "Konflikte" until someone picks.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    pub person: PersonId,
    /// The colliding fields as paths (`"email"`, `"address.street"`), sorted.
    pub fields: Vec<String>,
    /// The revision CouchDB's rule chose (its values are in the merged person).
    pub winner: Person,
    /// The other revision.
    pub loser: Person,
}

/// The merged person, and the collision to show when there was one.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    pub person: Person,
    pub conflict: Option<Conflict>,
}

/// Merges the `winner` and `loser` revisions of one person, edited from `base`.
pub fn merge_person(base: Option<&Person>, winner: &Person, loser: &Person) -> Merged {
    let fields = |p: &Person| -> Map<String, Value> {
        match serde_json::to_value(p) {
            Ok(Value::Object(mut m)) => {
                m.remove("consents");
                m
            }
            _ => Map::new(),
        }
    };
    let (w, l) = (fields(winner), fields(loser));
    let b = base.map(fields);
    let mut collisions = Vec::new();
    let merged = merge_objects(b.as_ref(), &w, &l, "", &mut collisions);
    let mut person = match serde_json::from_value::<Person>(Value::Object(merged)) {
        Ok(p) => p,
        Err(_) => {
            // Cannot happen for fields of one type; if it did, keep the winner whole and
            // let a person decide every differing field.
            collisions = differing_fields(&w, &l);
            winner.clone()
        }
    };
    person.consents = union(&winner.consents, &loser.consents);
    collisions.sort();
    collisions.dedup();
    let conflict = (!collisions.is_empty()).then(|| Conflict {
        person: winner.id.clone(),
        fields: collisions,
        winner: winner.clone(),
        loser: loser.clone(),
    });
    Merged { person, conflict }
}

/// Merges two concurrent versions of any other record (settings, a template, a saved
/// selection) in their serialised form, edited from `base`, field by field as for a person:
/// a field only one side changed takes that side's value; a collision (or no base) keeps
/// the winner's value. Returns the merged fields and the colliding paths, sorted.
pub fn merge_fields(
    base: Option<&Map<String, Value>>,
    winner: &Map<String, Value>,
    loser: &Map<String, Value>,
) -> (Map<String, Value>, Vec<String>) {
    let mut collisions = Vec::new();
    let merged = merge_objects(base, winner, loser, "", &mut collisions);
    collisions.sort();
    collisions.dedup();
    (merged, collisions)
}

/// Every event of both histories: the winner's, then the loser's events it lacks.
pub fn union(winner: &Consents, loser: &Consents) -> Consents {
    loser.rebase(winner, winner)
}

/// The value of a field path (`"email"`, `"address.street"`) of a person, as text for the
/// "Konflikte" view (empty when unset).
pub fn field_text(p: &Person, path: &str) -> String {
    let value = serde_json::to_value(p).unwrap_or(Value::Null);
    let mut cur = &value;
    for part in path.split('.') {
        cur = match cur.get(part) {
            Some(v) => v,
            None => return String::new(),
        };
    }
    match cur {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        v => v.to_string(),
    }
}

fn set_path(v: &mut Value, parts: &[&str], new: Option<Value>) {
    match parts {
        [last] => {
            if let Some(obj) = v.as_object_mut() {
                match new {
                    Some(n) => obj.insert((*last).to_string(), n),
                    None => obj.remove(*last),
                };
            }
        }
        [first, rest @ ..] => {
            if let Some(child) = v.get_mut(*first) {
                set_path(child, rest, new);
            }
        }
        [] => {}
    }
}

/// `current` with the colliding `fields` taken from `chosen` (the version a person picked
/// under "Konflikte"); every other field, and the consent history, stays as in `current`.
pub fn take_fields(current: &Person, chosen: &Person, fields: &[String]) -> Person {
    let (Ok(mut out), Ok(from)) = (serde_json::to_value(current), serde_json::to_value(chosen))
    else {
        return current.clone();
    };
    for path in fields {
        let parts: Vec<&str> = path.split('.').collect();
        let mut src = Some(&from);
        for part in &parts {
            src = src.and_then(|v| v.get(*part));
        }
        set_path(&mut out, &parts, src.cloned());
    }
    let mut person: Person = serde_json::from_value(out).unwrap_or_else(|_| current.clone());
    person.consents = current.consents.clone();
    person
}

fn merge_objects(
    base: Option<&Map<String, Value>>,
    winner: &Map<String, Value>,
    loser: &Map<String, Value>,
    prefix: &str,
    collisions: &mut Vec<String>,
) -> Map<String, Value> {
    let mut keys: Vec<&String> = winner.keys().chain(loser.keys()).collect();
    if let Some(b) = base {
        keys.extend(b.keys());
    }
    keys.sort();
    keys.dedup();
    let mut out = Map::new();
    for key in keys {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let b = base.map(|b| b.get(key).unwrap_or(&Value::Null));
        let w = winner.get(key).unwrap_or(&Value::Null);
        let l = loser.get(key).unwrap_or(&Value::Null);
        let value = match (b, w, l) {
            (_, Value::Object(wo), Value::Object(lo)) => {
                let bo = b.and_then(Value::as_object);
                Value::Object(merge_objects(bo, wo, lo, &path, collisions))
            }
            _ if w == l => w.clone(),
            (Some(b), _, _) if w == b => l.clone(),
            (Some(b), _, _) if l == b => w.clone(),
            _ => {
                collisions.push(path);
                w.clone()
            }
        };
        if !value.is_null() {
            out.insert(key.clone(), value);
        }
    }
    out
}

fn differing_fields(winner: &Map<String, Value>, loser: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<&String> = winner.keys().chain(loser.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| winner.get(*k) != loser.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consent::{ConsentEvent, ConsentSource, Evidence};
    use crate::domain::model::{Channel, Gender, Kind, PostalAddress, Purpose};
    use chrono::NaiveDate;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    #[test]
    fn fields_of_other_records_merge_one_by_one_and_a_collision_keeps_the_winner() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        let base = obj(serde_json::json!({"name": "Praxis", "phone": "1", "sig": {"a": 1}}));
        let winner = obj(serde_json::json!({"name": "Praxis Nord", "phone": "1", "sig": {"a": 2}}));
        let loser = obj(serde_json::json!({"name": "Praxis", "phone": "2", "sig": {"a": 3}}));
        let (merged, collisions) = merge_fields(Some(&base), &winner, &loser);
        assert_eq!(
            Value::Object(merged),
            serde_json::json!({"name": "Praxis Nord", "phone": "2", "sig": {"a": 2}})
        );
        assert_eq!(collisions, ["sig.a"]);
        // Without a base every differing field collides and keeps the winner's value.
        let (merged, collisions) = merge_fields(None, &winner, &loser);
        assert_eq!(merged, winner);
        assert_eq!(collisions, ["name", "phone", "sig.a"]);
    }

    fn base() -> Person {
        let mut consents = Consents::default();
        consents.grant(
            Channel::Sms,
            Purpose::AppointmentReminder,
            d(1),
            Evidence::WrittenForm,
        );
        Person {
            id: PersonId("p-1".into()),
            kind: Kind::Patient,
            title: String::new(),
            first_name: "Anna".into(),
            last_name: "Weber".into(),
            gender: Gender::Female,
            address: PostalAddress {
                street: "Lindenstraße".into(),
                house_number: "4".into(),
                extra: String::new(),
                postcode: "10115".into(),
                city: "Berlin".into(),
                country: String::new(),
            },
            email: "anna@example.org".into(),
            mobile: "0151 1".into(),
            landline: String::new(),
            tags: vec!["Rücken".into()],
            consents,
            external_id: None,
            salutation: String::new(),
            du: false,
            guardians: Vec::new(),
        }
    }

    type Edit = fn(&mut Person);

    /// Table: (case, winner's edit, loser's edit, expected edit of base, colliding fields).
    #[test]
    fn fields_merge_where_they_do_not_collide() {
        let cases: Vec<(&str, Edit, Edit, Edit, &[&str])> = vec![
            ("no change", |_| {}, |_| {}, |_| {}, &[]),
            (
                "only the winner changed",
                |p| p.email = "neu@example.org".into(),
                |_| {},
                |p| p.email = "neu@example.org".into(),
                &[],
            ),
            (
                "only the loser changed",
                |_| {},
                |p| p.mobile = "0151 2".into(),
                |p| p.mobile = "0151 2".into(),
                &[],
            ),
            (
                "different fields on each side",
                |p| p.email = "neu@example.org".into(),
                |p| p.mobile = "0151 2".into(),
                |p| {
                    p.email = "neu@example.org".into();
                    p.mobile = "0151 2".into();
                },
                &[],
            ),
            (
                "both made the same change",
                |p| p.last_name = "Weber-Lang".into(),
                |p| p.last_name = "Weber-Lang".into(),
                |p| p.last_name = "Weber-Lang".into(),
                &[],
            ),
            (
                "address fields merge one by one",
                |p| p.address.street = "Eichenweg".into(),
                |p| p.address.city = "Potsdam".into(),
                |p| {
                    p.address.street = "Eichenweg".into();
                    p.address.city = "Potsdam".into();
                },
                &[],
            ),
            (
                "a field one side cleared",
                |_| {},
                |p| p.email.clear(),
                |p| p.email.clear(),
                &[],
            ),
            (
                "a field only one side set (omitted when empty)",
                |p| p.salutation = "Liebe Anna".into(),
                |p| p.du = true,
                |p| {
                    p.salutation = "Liebe Anna".into();
                    p.du = true;
                },
                &[],
            ),
            (
                "a real collision keeps the winner's value",
                |p| p.email = "a@example.org".into(),
                |p| p.email = "b@example.org".into(),
                |p| p.email = "a@example.org".into(),
                &["email"],
            ),
            (
                "collision in the address and a clean change elsewhere",
                |p| p.address.street = "Eichenweg".into(),
                |p| {
                    p.address.street = "Birkenallee".into();
                    p.landline = "030 9".into();
                },
                |p| {
                    p.address.street = "Eichenweg".into();
                    p.landline = "030 9".into();
                },
                &["address.street"],
            ),
            (
                "tags are one field",
                |p| p.tags.push("Knie".into()),
                |p| p.tags.push("Schulter".into()),
                |p| p.tags.push("Knie".into()),
                &["tags"],
            ),
        ];
        for (name, we, le, expected_edit, fields) in cases {
            let b = base();
            let (mut w, mut l, mut expected) = (b.clone(), b.clone(), b.clone());
            we(&mut w);
            le(&mut l);
            expected_edit(&mut expected);
            let m = merge_person(Some(&b), &w, &l);
            assert_eq!(m.person, expected, "{name}");
            let got: Vec<&str> = m
                .conflict
                .as_ref()
                .map(|c| c.fields.iter().map(String::as_str).collect())
                .unwrap_or_default();
            assert_eq!(got, fields, "{name}");
            if let Some(c) = m.conflict {
                assert_eq!(
                    (c.person, c.winner, c.loser),
                    (b.id.clone(), w, l),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn without_a_base_every_difference_is_a_collision() {
        let b = base();
        let mut w = b.clone();
        let mut l = b.clone();
        w.email = "a@example.org".into();
        l.mobile = "0151 2".into();
        let m = merge_person(None, &w, &l);
        assert_eq!(m.person, w);
        assert_eq!(m.conflict.unwrap().fields, ["email", "mobile"]);
    }

    #[test]
    fn consent_histories_merge_as_a_union_in_date_order() {
        let b = base();
        let mut w = b.clone();
        let mut l = b.clone();
        // Winner: mail consent on the 5th. Loser: SMS withdrawn on the 3rd and a field edit.
        w.consents
            .grant(Channel::Email, Purpose::Birthday, d(5), Evidence::Verbal);
        assert!(l.consents.withdraw(
            Channel::Sms,
            Purpose::AppointmentReminder,
            d(3),
            ConsentSource::UnsubscribeLink
        ));
        l.email = "b@example.org".into();
        let m = merge_person(Some(&b), &w, &l);
        assert!(m.conflict.is_none());
        assert_eq!(m.person.email, "b@example.org");
        let c = &m.person.consents;
        assert!(c.allows(Channel::Email, Purpose::Birthday));
        assert!(
            !c.allows(Channel::Sms, Purpose::AppointmentReminder),
            "the withdrawal survives"
        );
        assert_eq!(
            c.events(Channel::Sms, Purpose::AppointmentReminder),
            [
                ConsentEvent::granted(d(1), Evidence::WrittenForm, ConsentSource::Practice),
                ConsentEvent::withdrawn(d(3), ConsentSource::UnsubscribeLink),
            ]
        );
        assert!(c.extends(&w.consents) && c.extends(&l.consents));
        // A consent change alone is never a collision, even without a base.
        let m = merge_person(None, &w, &l.clone());
        assert_eq!(m.conflict.unwrap().fields, ["email"]);
    }

    #[test]
    fn the_same_event_recorded_on_both_devices_is_kept_once() {
        let b = base();
        let mut w = b.clone();
        let mut l = b.clone();
        for p in [&mut w, &mut l] {
            p.consents.withdraw(
                Channel::Sms,
                Purpose::AppointmentReminder,
                d(3),
                ConsentSource::UnsubscribeLink,
            );
        }
        let m = merge_person(Some(&b), &w, &l);
        assert_eq!(m.person, w);
        assert_eq!(
            m.person
                .consents
                .events(Channel::Sms, Purpose::AppointmentReminder)
                .len(),
            2
        );
    }

    #[test]
    fn same_day_events_get_the_same_order_on_every_device() {
        // Both devices compute merge(winner, loser) with the same winner: same result.
        let b = base();
        let mut w = b.clone();
        let mut l = b.clone();
        w.consents.grant(
            Channel::Letter,
            Purpose::Recall,
            d(7),
            Evidence::WrittenForm,
        );
        l.consents.record(
            Channel::Letter,
            Purpose::Recall,
            ConsentEvent::withdrawn(d(7), ConsentSource::Practice),
        );
        let on_a = merge_person(Some(&b), &w, &l);
        let on_b = merge_person(Some(&b), &w, &l);
        assert_eq!(on_a, on_b);
        let events = on_a
            .person
            .consents
            .events(Channel::Letter, Purpose::Recall)
            .to_vec();
        assert_eq!(
            events[0].action,
            crate::domain::consent::ConsentAction::Granted
        );
        assert_eq!(
            events[1].action,
            crate::domain::consent::ConsentAction::Withdrawn
        );
    }

    #[test]
    fn a_choice_takes_the_colliding_fields_and_keeps_the_rest() {
        let current = base();
        let mut chosen = base();
        chosen.email = "b@example.org".into();
        chosen.address.street = "Birkenweg".into();
        chosen.mobile = "0170 9".into();
        chosen.tags = vec!["Knie".into(), "Schulter".into()];
        let fields = vec![
            "email".to_string(),
            "address.street".to_string(),
            "tags".to_string(),
        ];
        let out = take_fields(&current, &chosen, &fields);
        assert_eq!(out.email, "b@example.org");
        assert_eq!(out.address.street, "Birkenweg");
        assert_eq!(out.address.city, "Berlin");
        assert_eq!(out.tags, chosen.tags);
        assert_eq!(out.mobile, "0151 1", "not a colliding field");
        assert_eq!(out.consents, current.consents);
        assert_eq!(field_text(&chosen, "address.street"), "Birkenweg");
        assert_eq!(field_text(&chosen, "tags"), "Knie, Schulter");
        assert_eq!(field_text(&chosen, "title"), "");
        assert_eq!(field_text(&chosen, "no.such"), "");
    }
}
