//! In-memory [`Store`]: the reference implementation, used by native tests and as a fallback
//! when the browser has no IndexedDB.
//!
//! It keeps what IndexedDB keeps — encoded records ([`Stored`]) with their index keys — so
//! the record conversion, and setting aside records that do not decode, behave exactly as in
//! the browser.
//!
//! Atomicity: a batch is fully checked and encoded before the first change is made, and
//! applying a checked batch cannot fail.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::NaiveDate;

use super::crypto::{self, Keys, Vault, KEYRING_KEY};
use super::keys::{self, cmp_js};
use super::records::{self, decode_or_note, Origin, Stored, Unreadable};
use super::{
    Collection, Doc, DocOp, DocsUpdateFn, Result, Store, StoreError, UpdateFn, WriteBatch,
};
use crate::domain::query::DayMonth;
use crate::domain::{Appointment, AppointmentId, PersonId, PersonRecord, PracticeSettings};

#[derive(Clone, Debug)]
struct PersonEntry {
    /// Birthday index key "MM-DD".
    bday: Option<String>,
    stored: Stored,
}

#[derive(Clone, Debug)]
struct AppointmentEntry {
    /// Start index key.
    start: String,
    /// Person index key.
    person: PersonId,
    stored: Stored,
}

#[derive(Clone, Debug, Default)]
struct Data {
    persons: BTreeMap<PersonId, PersonEntry>,
    appointments: BTreeMap<AppointmentId, AppointmentEntry>,
    settings: Option<Stored>,
    docs: BTreeMap<Collection, BTreeMap<String, Stored>>,
}

/// A [`Store`] keeping everything in memory (lost on reload).
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: RefCell<Data>,
    vault: Vault,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

/// A batch with every record encoded: applying it cannot fail.
struct Encoded {
    persons: Vec<(PersonId, PersonEntry)>,
    appointments: Vec<(AppointmentId, AppointmentEntry)>,
    settings: Option<Stored>,
    docs: Vec<(Collection, String, Option<Stored>)>,
}

fn encode(batch: &WriteBatch<'_>, k: &Keys) -> Result<Encoded> {
    batch.validate()?;
    Ok(Encoded {
        persons: batch
            .persons
            .iter()
            .map(|p| {
                Ok((
                    p.id().clone(),
                    PersonEntry {
                        bday: keys::birthday_key(p),
                        stored: k
                            .seal(&Origin::Person(p.id().clone()), records::person::encode(p)?)?,
                    },
                ))
            })
            .collect::<Result<_>>()?,
        appointments: batch
            .appointments
            .iter()
            .map(|a| {
                Ok((
                    a.id.clone(),
                    AppointmentEntry {
                        start: keys::appointment_start_key(a),
                        person: a.person_id.clone(),
                        stored: k.seal(
                            &Origin::Appointment(a.id.clone()),
                            records::appointment::encode(a)?,
                        )?,
                    },
                ))
            })
            .collect::<Result<_>>()?,
        settings: batch
            .settings
            .map(|s| k.seal(&Origin::Settings, records::settings::encode(s)?))
            .transpose()?,
        docs: batch
            .docs
            .iter()
            .map(|op| {
                Ok(match op {
                    DocOp::Put {
                        collection,
                        key,
                        value,
                    } => {
                        let origin = Origin::Document(*collection, key.clone());
                        let stored = k.seal(&origin, records::document::encode(key, value)?)?;
                        (*collection, key.clone(), Some(stored))
                    }
                    DocOp::Delete { collection, key } => (*collection, key.clone(), None),
                })
            })
            .collect::<Result<_>>()?,
    })
}

impl Data {
    /// Checks that every appointment of the batch refers to a person existing after the
    /// person steps of the batch.
    fn check_references(&self, batch: &WriteBatch<'_>) -> Result<()> {
        let deleted: HashSet<&PersonId> = batch.delete_persons.iter().collect();
        let put: HashSet<&PersonId> = batch.persons.iter().map(|p| p.id()).collect();
        for a in batch.appointments {
            let p = &a.person_id;
            let stored = !batch.clear_all && !deleted.contains(p) && self.persons.contains_key(p);
            if !(stored || put.contains(p)) {
                return Err(StoreError::UnknownPerson {
                    appointment: a.id.0.clone(),
                    person: p.0.clone(),
                });
            }
        }
        Ok(())
    }

    /// Checks, encodes (sealing with `k`) and applies a batch; changes nothing when it
    /// fails. `clear_all` keeps the keyring of an encrypted store (`vault`).
    fn write(&mut self, batch: &WriteBatch<'_>, k: &Keys, vault: &Vault) -> Result<()> {
        let encoded = encode(batch, k)?;
        self.check_references(batch)?;
        self.apply(batch, encoded, vault.keyring());
        Ok(())
    }

    /// Applies a checked and encoded batch; cannot fail.
    fn apply(&mut self, batch: &WriteBatch<'_>, encoded: Encoded, keyring: Option<Stored>) {
        if batch.clear_all {
            *self = Data::default();
            if let Some(keyring) = keyring {
                self.docs
                    .entry(Collection::Meta)
                    .or_default()
                    .insert(KEYRING_KEY.into(), keyring);
            }
        }
        if !batch.delete_persons.is_empty() {
            let deleted: HashSet<&PersonId> = batch.delete_persons.iter().collect();
            for id in batch.delete_persons {
                self.persons.remove(id);
            }
            self.appointments
                .retain(|_, a| !deleted.contains(&a.person));
        }
        for id in batch.delete_appointments {
            self.appointments.remove(id);
        }
        self.persons.extend(encoded.persons);
        self.appointments.extend(encoded.appointments);
        if let Some(s) = encoded.settings {
            self.settings = Some(s);
        }
        for (collection, key, stored) in encoded.docs {
            let docs = self.docs.entry(collection).or_default();
            match stored {
                Some(s) => {
                    docs.insert(key, s);
                }
                None => {
                    docs.remove(&key);
                }
            }
        }
    }

    fn stored_at(&self, origin: &Origin) -> Option<&Stored> {
        match origin {
            Origin::Person(id) => self.persons.get(id).map(|e| &e.stored),
            Origin::Appointment(id) => self.appointments.get(id).map(|e| &e.stored),
            Origin::Settings => self.settings.as_ref(),
            Origin::Document(c, key) => self.docs.get(c).and_then(|d| d.get(key)),
        }
    }

    fn remove(&mut self, origin: &Origin) {
        match origin {
            Origin::Person(id) => {
                self.persons.remove(id);
            }
            Origin::Appointment(id) => {
                self.appointments.remove(id);
            }
            Origin::Settings => self.settings = None,
            Origin::Document(c, key) => {
                if let Some(d) = self.docs.get_mut(c) {
                    d.remove(key);
                }
            }
        }
    }

    /// Moves unreadable records into the quarantine collection (see [`Store::set_aside`]).
    fn set_aside(&mut self, records: &[Unreadable], k: &Keys) -> Result<()> {
        let mut moves = Vec::new();
        for r in records {
            match self.stored_at(&r.origin) {
                Some(now) if records::unchanged(k, &r.origin, now, &r.stored) => {
                    let (key, stored) = records::quarantine_doc(k, r, now)?;
                    moves.push((r, stored, key));
                }
                _ => {}
            }
        }
        for (r, stored, key) in moves {
            self.remove(&r.origin);
            self.docs
                .entry(Collection::Quarantine)
                .or_default()
                .insert(key, stored);
        }
        Ok(())
    }

    /// Decodes the persons of `entries`, noting those that do not decode.
    fn persons<'a>(
        k: &Keys,
        entries: impl Iterator<Item = (&'a PersonId, &'a PersonEntry)>,
        bad: &mut Vec<Unreadable>,
    ) -> Vec<PersonRecord> {
        entries
            .filter_map(|(id, e)| {
                decode_or_note(
                    k,
                    &e.stored,
                    records::person::decode,
                    || Origin::Person(id.clone()),
                    bad,
                )
            })
            .collect()
    }

    /// Decodes the appointments of `entries` (noting those that do not decode), ordered by
    /// start, then id.
    fn appointments<'a>(
        k: &Keys,
        entries: impl Iterator<Item = (&'a AppointmentId, &'a AppointmentEntry)>,
        bad: &mut Vec<Unreadable>,
    ) -> Vec<Appointment> {
        let mut v: Vec<(&String, Appointment)> = entries
            .filter_map(|(id, e)| {
                let origin = || Origin::Appointment(id.clone());
                decode_or_note(k, &e.stored, records::appointment::decode, origin, bad)
                    .map(|a| (&e.start, a))
            })
            .collect();
        v.sort_by(|(sa, a), (sb, b)| cmp_js(sa, sb).then_with(|| cmp_js(&a.id.0, &b.id.0)));
        v.into_iter().map(|(_, a)| a).collect()
    }

    fn docs(&self, k: &Keys, collection: Collection, bad: &mut Vec<Unreadable>) -> Vec<Doc> {
        let mut v: Vec<Doc> = self
            .docs
            .get(&collection)
            .into_iter()
            .flatten()
            .filter(|(key, _)| !crypto::exempt(&Origin::Document(collection, (*key).clone())))
            .filter_map(|(key, s)| {
                let origin = || Origin::Document(collection, key.clone());
                decode_or_note(k, s, records::document::decode, origin, bad).map(|value| Doc {
                    key: key.clone(),
                    value,
                })
            })
            .collect();
        v.sort_by(|a, b| cmp_js(&a.key, &b.key));
        v
    }
}

impl MemoryStore {
    /// Runs `f` as one transaction: when it fails, the data is as before.
    fn transaction(&self, f: impl FnOnce(&mut Data, &Keys) -> Result<()>) -> Result<()> {
        let k = self.vault.keys()?;
        let mut data = self.data.borrow_mut();
        let before = data.clone();
        let result = f(&mut data, &k);
        if result.is_err() {
            *data = before;
        }
        result
    }

    /// Runs a read; records it found unreadable are set aside before its result is returned.
    fn read<T>(&self, f: impl FnOnce(&Data, &Keys, &mut Vec<Unreadable>) -> T) -> Result<T> {
        self.read_with(self.vault.keys()?, f)
    }

    /// [`MemoryStore::read`] with the keys the caller got from the vault.
    fn read_with<T>(
        &self,
        k: Keys,
        f: impl FnOnce(&Data, &Keys, &mut Vec<Unreadable>) -> T,
    ) -> Result<T> {
        let mut bad = Vec::new();
        let out = f(&self.data.borrow(), &k, &mut bad);
        if !bad.is_empty() {
            self.data.borrow_mut().set_aside(&bad, &k)?;
        }
        Ok(out)
    }
}

/// The index fields a raw record carries, read leniently from its body (for `put_raw`).
fn raw_field<'a>(body: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(body, |v, k| v.get(*k))
        .and_then(|v| v.as_str())
}

#[async_trait(?Send)]
impl Store for MemoryStore {
    async fn write(&self, batch: WriteBatch<'_>) -> Result<()> {
        let k = self.vault.keys_for_batch(&batch)?;
        self.data.borrow_mut().write(&batch, &k, &self.vault)
    }

    async fn update(&self, ids: &[PersonId], f: &mut UpdateFn<'_>) -> Result<()> {
        self.transaction(|data, k| {
            let mut bad = Vec::new();
            let read: Vec<Option<PersonRecord>> = ids
                .iter()
                .map(|id| {
                    Data::persons(k, data.persons.get_key_value(id).into_iter(), &mut bad).pop()
                })
                .collect();
            data.set_aside(&bad, k)?;
            let owned = f(&read)?;
            data.write(&owned.as_batch(), k, &self.vault)
        })
    }

    async fn update_docs(
        &self,
        collections: &[Collection],
        f: &mut DocsUpdateFn<'_>,
    ) -> Result<()> {
        self.transaction(|data, k| {
            let mut bad = Vec::new();
            let read: Vec<Vec<Doc>> = collections
                .iter()
                .map(|c| data.docs(k, *c, &mut bad))
                .collect();
            data.set_aside(&bad, k)?;
            let owned = f(&read)?;
            data.write(&owned.as_batch(), k, &self.vault)
        })
    }

    async fn get_persons(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonRecord>>> {
        self.read(|d, k, bad| {
            ids.iter()
                .map(|id| Data::persons(k, d.persons.get_key_value(id).into_iter(), bad).pop())
                .collect()
        })
    }

    async fn all_persons(&self) -> Result<Vec<PersonRecord>> {
        let mut v = self.read(|d, k, bad| Data::persons(k, d.persons.iter(), bad))?;
        v.sort_by(|a, b| cmp_js(&a.person.id.0, &b.person.id.0));
        Ok(v)
    }

    async fn persons_by_birthday(&self, from: DayMonth, to: DayMonth) -> Result<Vec<PersonRecord>> {
        self.read(|d, k, bad| {
            let mut out = Vec::new();
            for (lo, hi) in keys::birthday_ranges(from, to) {
                let (lo, hi) = (keys::month_day_key(lo), keys::month_day_key(hi));
                let mut part: Vec<(&String, &PersonId, &PersonEntry)> = d
                    .persons
                    .iter()
                    .filter_map(|(id, e)| {
                        let k = e.bday.as_ref()?;
                        (lo <= *k && *k <= hi).then_some((k, id, e))
                    })
                    .collect();
                part.sort_by(|(ka, a, _), (kb, b, _)| ka.cmp(kb).then_with(|| cmp_js(&a.0, &b.0)));
                out.extend(Data::persons(
                    k,
                    part.into_iter().map(|(_, id, e)| (id, e)),
                    bad,
                ));
            }
            out
        })
    }

    async fn count_persons(&self) -> Result<usize> {
        self.vault.keys()?;
        Ok(self.data.borrow().persons.len())
    }

    async fn appointments_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Appointment>> {
        let (lo, hi) = (keys::day_key(from), keys::prefix_end(&keys::day_key(to)));
        self.read(|d, k, bad| {
            Data::appointments(
                k,
                d.appointments.iter().filter(|(_, e)| {
                    cmp_js(&lo, &e.start).is_le() && cmp_js(&e.start, &hi).is_lt()
                }),
                bad,
            )
        })
    }

    async fn appointments_of(&self, person: &PersonId) -> Result<Vec<Appointment>> {
        self.read(|d, k, bad| {
            Data::appointments(
                k,
                d.appointments.iter().filter(|(_, e)| &e.person == person),
                bad,
            )
        })
    }

    async fn settings(&self) -> Result<Option<PracticeSettings>> {
        self.read(|d, k, bad| {
            d.settings.as_ref().and_then(|s| {
                decode_or_note(k, s, records::settings::decode, || Origin::Settings, bad)
            })
        })
    }

    async fn get_doc(
        &self,
        collection: Collection,
        key: &str,
    ) -> Result<Option<serde_json::Value>> {
        let origin = Origin::Document(collection, key.to_string());
        if crypto::exempt(&origin) {
            return Ok(None);
        }
        self.read_with(self.vault.keys_for_docs(&[collection])?, |d, k, bad| {
            let s = d.docs.get(&collection)?.get(key)?;
            decode_or_note(k, s, records::document::decode, || origin, bad)
        })
    }

    async fn list_docs(&self, collection: Collection) -> Result<Vec<Doc>> {
        self.read_with(self.vault.keys_for_docs(&[collection])?, |d, k, bad| {
            d.docs(k, collection, bad)
        })
    }

    async fn is_empty(&self) -> Result<bool> {
        let d = self.data.borrow();
        Ok(d.persons.is_empty()
            && d.appointments.is_empty()
            && d.settings.is_none()
            && d.docs.iter().all(|(c, docs)| {
                docs.keys()
                    .all(|key| crypto::exempt(&Origin::Document(*c, key.clone())))
            }))
    }

    async fn set_aside(&self, records: &[Unreadable]) -> Result<()> {
        let k = self.vault.keys()?;
        self.data.borrow_mut().set_aside(records, &k)
    }

    async fn put_raw(&self, origin: &Origin, stored: &Stored) -> Result<()> {
        let k = self.vault.keys()?;
        let body: serde_json::Value = serde_json::from_str(&stored.body).unwrap_or_default();
        let stored = if crypto::is_sealed(&stored.body) {
            stored.clone()
        } else {
            k.seal(origin, stored.clone())?
        };
        let mut data = self.data.borrow_mut();
        match origin {
            Origin::Person(id) => {
                let bday = raw_field(&body, &["sensitive", "birth_date"])
                    .and_then(|d| d.get(5..10))
                    .map(str::to_string);
                data.persons
                    .insert(id.clone(), PersonEntry { bday, stored });
            }
            Origin::Appointment(id) => {
                let start = raw_field(&body, &["start"]).unwrap_or_default().to_string();
                let person = PersonId(raw_field(&body, &["person_id"]).unwrap_or_default().into());
                data.appointments.insert(
                    id.clone(),
                    AppointmentEntry {
                        start,
                        person,
                        stored,
                    },
                );
            }
            Origin::Settings => data.settings = Some(stored),
            Origin::Document(c, key) => {
                data.docs.entry(*c).or_default().insert(key.clone(), stored);
            }
        }
        Ok(())
    }

    async fn get_raw(&self, origin: &Origin) -> Result<Option<Stored>> {
        Ok(self.data.borrow().stored_at(origin).cloned())
    }

    fn vault(&self) -> &Vault {
        &self.vault
    }
}
