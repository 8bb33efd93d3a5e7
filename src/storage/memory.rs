//! In-memory [`Store`]: the reference implementation, used by native tests and as a fallback
//! when the browser has no IndexedDB.
//!
//! Atomicity: a batch is fully checked (records and references) before the first change is
//! made, and applying a checked batch cannot fail.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::NaiveDate;

use super::keys::{self, cmp_js, MonthDay};
use super::{Collection, Doc, DocOp, Result, Store, StoreError, UpdateFn, WriteBatch};
use crate::domain::{Appointment, AppointmentId, Kind, PersonId, PersonRecord, PracticeSettings};

#[derive(Clone, Debug, Default)]
struct Data {
    persons: BTreeMap<PersonId, PersonRecord>,
    appointments: BTreeMap<AppointmentId, Appointment>,
    settings: Option<PracticeSettings>,
    docs: BTreeMap<Collection, BTreeMap<String, serde_json::Value>>,
}

/// A [`Store`] keeping everything in memory (lost on reload).
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: RefCell<Data>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

fn by_id(mut v: Vec<PersonRecord>) -> Vec<PersonRecord> {
    v.sort_by(|a, b| cmp_js(&a.person.id.0, &b.person.id.0));
    v
}

fn by_start(mut v: Vec<Appointment>) -> Vec<Appointment> {
    v.sort_by(|a, b| {
        cmp_js(
            &keys::appointment_start_key(a),
            &keys::appointment_start_key(b),
        )
        .then_with(|| cmp_js(&a.id.0, &b.id.0))
    });
    v
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

    /// Applies a checked batch; cannot fail.
    fn apply(&mut self, batch: &WriteBatch<'_>) {
        if batch.clear_all {
            *self = Data::default();
        }
        if !batch.delete_persons.is_empty() {
            let deleted: HashSet<&PersonId> = batch.delete_persons.iter().collect();
            for id in batch.delete_persons {
                self.persons.remove(id);
            }
            self.appointments
                .retain(|_, a| !deleted.contains(&a.person_id));
        }
        for id in batch.delete_appointments {
            self.appointments.remove(id);
        }
        for p in batch.persons {
            self.persons.insert(p.id().clone(), p.clone());
        }
        for a in batch.appointments {
            self.appointments.insert(a.id.clone(), a.clone());
        }
        if let Some(s) = batch.settings {
            self.settings = Some(s.clone());
        }
        for op in batch.docs {
            match op {
                DocOp::Put {
                    collection,
                    key,
                    value,
                } => {
                    self.docs
                        .entry(*collection)
                        .or_default()
                        .insert(key.clone(), value.clone());
                }
                DocOp::Delete { collection, key } => {
                    if let Some(c) = self.docs.get_mut(collection) {
                        c.remove(key);
                    }
                }
            }
        }
    }

    fn persons_where(&self, f: impl Fn(&PersonRecord) -> bool) -> Vec<PersonRecord> {
        self.persons.values().filter(|p| f(p)).cloned().collect()
    }
}

#[async_trait(?Send)]
impl Store for MemoryStore {
    async fn write(&self, batch: WriteBatch<'_>) -> Result<()> {
        batch.validate()?;
        let mut data = self.data.borrow_mut();
        data.check_references(&batch)?;
        data.apply(&batch);
        Ok(())
    }

    async fn update(&self, ids: &[PersonId], f: &mut UpdateFn<'_>) -> Result<()> {
        let mut data = self.data.borrow_mut();
        let read: Vec<Option<PersonRecord>> =
            ids.iter().map(|id| data.persons.get(id).cloned()).collect();
        let owned = f(&read)?;
        let batch = owned.as_batch();
        batch.validate()?;
        data.check_references(&batch)?;
        data.apply(&batch);
        Ok(())
    }

    async fn get_persons(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonRecord>>> {
        let data = self.data.borrow();
        Ok(ids.iter().map(|id| data.persons.get(id).cloned()).collect())
    }

    async fn all_persons(&self) -> Result<Vec<PersonRecord>> {
        Ok(by_id(self.data.borrow().persons_where(|_| true)))
    }

    async fn persons_by_kind(&self, kind: Kind) -> Result<Vec<PersonRecord>> {
        Ok(by_id(
            self.data.borrow().persons_where(|p| p.person.kind == kind),
        ))
    }

    async fn persons_by_tag(&self, tag: &str) -> Result<Vec<PersonRecord>> {
        let tag = keys::fold(tag);
        Ok(by_id(
            self.data
                .borrow()
                .persons_where(|p| keys::tag_keys(p).contains(&tag)),
        ))
    }

    async fn persons_by_birthday(&self, from: MonthDay, to: MonthDay) -> Result<Vec<PersonRecord>> {
        let data = self.data.borrow();
        let mut out = Vec::new();
        for (lo, hi) in MonthDay::ranges(from, to) {
            let mut part = data.persons_where(|p| {
                p.sensitive
                    .birth_date
                    .map(MonthDay::of)
                    .is_some_and(|md| lo <= md && md <= hi)
            });
            part.sort_by(|a, b| {
                keys::birthday_key(a)
                    .cmp(&keys::birthday_key(b))
                    .then_with(|| cmp_js(&a.person.id.0, &b.person.id.0))
            });
            out.extend(part);
        }
        Ok(out)
    }

    async fn persons_by_name_prefix(&self, prefix: &str) -> Result<Vec<PersonRecord>> {
        let prefix = keys::fold(prefix);
        let mut v: Vec<(String, PersonRecord)> = self
            .data
            .borrow()
            .persons
            .values()
            .map(|p| (keys::name_key(p), p))
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(k, p)| (k, p.clone()))
            .collect();
        v.sort_by(|(ka, a), (kb, b)| {
            cmp_js(ka, kb).then_with(|| cmp_js(&a.person.id.0, &b.person.id.0))
        });
        Ok(v.into_iter().map(|(_, p)| p).collect())
    }

    async fn count_persons(&self) -> Result<usize> {
        Ok(self.data.borrow().persons.len())
    }

    async fn appointments_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Appointment>> {
        Ok(by_start(
            self.data
                .borrow()
                .appointments
                .values()
                .filter(|a| from <= a.day() && a.day() <= to)
                .cloned()
                .collect(),
        ))
    }

    async fn appointments_of(&self, person: &PersonId) -> Result<Vec<Appointment>> {
        Ok(by_start(
            self.data
                .borrow()
                .appointments
                .values()
                .filter(|a| &a.person_id == person)
                .cloned()
                .collect(),
        ))
    }

    async fn settings(&self) -> Result<Option<PracticeSettings>> {
        Ok(self.data.borrow().settings.clone())
    }

    async fn get_doc(
        &self,
        collection: Collection,
        key: &str,
    ) -> Result<Option<serde_json::Value>> {
        Ok(self
            .data
            .borrow()
            .docs
            .get(&collection)
            .and_then(|c| c.get(key))
            .cloned())
    }

    async fn list_docs(&self, collection: Collection) -> Result<Vec<Doc>> {
        let data = self.data.borrow();
        let mut v: Vec<Doc> = data
            .docs
            .get(&collection)
            .into_iter()
            .flatten()
            .map(|(k, v)| Doc {
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        v.sort_by(|a, b| cmp_js(&a.key, &b.key));
        Ok(v)
    }

    async fn is_empty(&self) -> Result<bool> {
        let d = self.data.borrow();
        Ok(d.persons.is_empty()
            && d.appointments.is_empty()
            && d.settings.is_none()
            && d.docs.values().all(BTreeMap::is_empty))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::super::conformance;
    use super::MemoryStore;

    macro_rules! memory_case {
        ($name:ident) => {
            #[test]
            fn $name() {
                pollster::block_on(conformance::$name(&MemoryStore::new()));
            }
        };
    }

    crate::for_each_storage_case!(memory_case);
}
