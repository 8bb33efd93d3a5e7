//! Schema versions and the migration plan.
//!
//! The IndexedDB schema is described declaratively: each [`SchemaVersion`] lists the
//! [`Change`]s that lead from the previous version to it. On `upgradeneeded` the IndexedDB
//! store (`idb.rs`) asks [`plan`] for the versions between the found and the wanted one and
//! applies their changes one version at a time, inside the version-change transaction.
//!
//! Adding version 2 is one step: add a variant `V2` to [`SchemaVersion`], append it to
//! [`SchemaVersion::ALL`], and give it its changes in [`SchemaVersion::changes`] (the compiler
//! insists on the last part). Data rewrites go into a [`Change::RewriteRows`] with a pure
//! function that can be unit-tested natively; the browser test `migration_steps_*` in
//! `tests/storage_idb.rs` shows how a step is tested in IndexedDB.
//!
//! Everything here is pure and natively tested; [`SchemaModel`] simulates the changes.

use std::collections::BTreeMap;

use super::StoreError;

/// Object store and index names, and the field names of stored rows.
pub mod names {
    pub const PERSONS: &str = "persons";
    pub const APPOINTMENTS: &str = "appointments";
    /// Key-value store for the practice settings (key [`SETTINGS_KEY`]).
    pub const SETTINGS: &str = "settings";
    pub const SETTINGS_KEY: &str = "practice";

    /// Persons: folded "lastname firstname".
    pub const IDX_NAME: &str = "name";
    /// Persons: birthday "MM-DD".
    pub const IDX_BIRTHDAY: &str = "birthday";
    /// Persons: "patient" | "prospect".
    pub const IDX_KIND: &str = "kind";
    /// Persons: folded tags (multiEntry).
    pub const IDX_TAGS: &str = "tags";
    /// Appointments: start "YYYY-MM-DDTHH:MM:SS" — the appointment-day index (a day is a key
    /// range of it).
    pub const IDX_START: &str = "start";
    /// Appointments: person id (for "appointments of" and the delete cascade).
    pub const IDX_PERSON: &str = "person";

    /// Row fields. Persons: `{id, name, bday?, kind, tags, json}`; appointments:
    /// `{id, start, person, json}`; settings and documents: `{key, json}`. `json` holds the
    /// full record as JSON text.
    pub const F_ID: &str = "id";
    pub const F_KEY: &str = "key";
    pub const F_NAME: &str = "name";
    pub const F_BDAY: &str = "bday";
    pub const F_KIND: &str = "kind";
    pub const F_TAGS: &str = "tags";
    pub const F_START: &str = "start";
    pub const F_PERSON: &str = "person";
    pub const F_JSON: &str = "json";

    /// Schema v2 persons store ("buckets"): key path of a bucket row, the bucket number.
    /// A bucket row is `{b, ids[], names[], bdays[], kinds[], tagsets[], tags[], json[]}`:
    /// `ids`, `names`, `bdays` ("" = none), `kinds`, `tagsets` (tags joined by U+001F) and
    /// `json` are parallel (one entry per person, ids in insertion order); `tags` is the
    /// union of the bucket's tags. The row with `b = -1` holds the person count `{b, n}`.
    pub const F_BUCKET: &str = "b";
    pub const F_IDS: &str = "ids";
    pub const F_NAMES: &str = "names";
    pub const F_BDAYS: &str = "bdays";
    pub const F_KINDS: &str = "kinds";
    /// The number of person buckets (a person's bucket is a hash of its id).
    pub const PERSON_BUCKETS: u32 = 1024;
    /// The v2 person indices: (index name, key path), all multiEntry.
    pub const V2_PERSON_INDICES: [(&str, &str); 4] = [
        (IDX_NAME, F_NAMES),
        (IDX_BIRTHDAY, F_BDAYS),
        (IDX_KIND, F_KINDS),
        (IDX_TAGS, F_TAGS),
    ];
}

use names::*;

/// One schema change.
#[derive(Clone, Copy, Debug)]
pub enum Change {
    CreateStore {
        store: &'static str,
        key_path: &'static str,
    },
    DeleteStore {
        store: &'static str,
    },
    CreateIndex {
        store: &'static str,
        index: &'static str,
        key_path: &'static str,
        multi_entry: bool,
    },
    DeleteIndex {
        store: &'static str,
        index: &'static str,
    },
    /// Rewrites every row of a store; the row is given as JSON (`{id, name, …, json}`). The
    /// function may not change the row's key. An `Err` aborts the upgrade (German message).
    RewriteRows {
        store: &'static str,
        rewrite: fn(&mut serde_json::Value) -> Result<(), String>,
    },
    /// v1 → v2: replaces the one-row-per-person `persons` store by the bucket layout
    /// (see [`names::F_BUCKET`]): reads every v1 row, recreates the store with key path
    /// `b` and the [`names::V2_PERSON_INDICES`], and writes the rows into their buckets.
    PersonsToBuckets,
}

/// The schema versions, oldest first. The number of a version is its position + 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaVersion {
    /// Persons, appointments, settings and the document collections.
    V1,
    /// Persons packed into [`names::PERSON_BUCKETS`] bucket rows (bulk writes need far
    /// fewer IndexedDB requests: one per bucket instead of one per person).
    V2,
}

impl SchemaVersion {
    pub const ALL: [SchemaVersion; 2] = [SchemaVersion::V1, SchemaVersion::V2];
    pub const LATEST: SchemaVersion = SchemaVersion::ALL[SchemaVersion::ALL.len() - 1];

    /// The IndexedDB version number.
    pub fn number(self) -> u32 {
        Self::ALL
            .iter()
            .position(|v| *v == self)
            .expect("every version is listed in ALL") as u32
            + 1
    }

    pub fn from_number(n: u32) -> Option<SchemaVersion> {
        n.checked_sub(1)
            .and_then(|i| Self::ALL.get(i as usize))
            .copied()
    }

    /// What upgrading from the previous version (or from nothing) to this one does.
    pub fn changes(self) -> &'static [Change] {
        match self {
            SchemaVersion::V1 => V1,
            SchemaVersion::V2 => V2,
        }
    }

    /// The migration of this version.
    pub fn migration(self) -> Migration {
        Migration {
            version: self.number(),
            changes: self.changes(),
        }
    }
}

const fn doc_store(store: &'static str) -> Change {
    Change::CreateStore {
        store,
        key_path: F_KEY,
    }
}

const fn index(store: &'static str, index: &'static str, key_path: &'static str) -> Change {
    Change::CreateIndex {
        store,
        index,
        key_path,
        multi_entry: false,
    }
}

const V1: &[Change] = &[
    Change::CreateStore {
        store: PERSONS,
        key_path: F_ID,
    },
    index(PERSONS, IDX_NAME, F_NAME),
    index(PERSONS, IDX_BIRTHDAY, F_BDAY),
    index(PERSONS, IDX_KIND, F_KIND),
    Change::CreateIndex {
        store: PERSONS,
        index: IDX_TAGS,
        key_path: F_TAGS,
        multi_entry: true,
    },
    Change::CreateStore {
        store: APPOINTMENTS,
        key_path: F_ID,
    },
    index(APPOINTMENTS, IDX_START, F_START),
    index(APPOINTMENTS, IDX_PERSON, F_PERSON),
    doc_store(SETTINGS),
    doc_store("templates"),
    doc_store("queries"),
    doc_store("outbox"),
    doc_store("sendlog"),
    doc_store("meta"),
];

const V2: &[Change] = &[Change::PersonsToBuckets];

/// A numbered list of changes: what `upgradeneeded` applies for one version step.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: u32,
    pub changes: &'static [Change],
}

/// The migrations of the app, oldest first.
pub fn migrations() -> Vec<Migration> {
    SchemaVersion::ALL.iter().map(|v| v.migration()).collect()
}

/// The migrations to apply, one version at a time, to go from version `found` (0: no
/// database) to `target`. `migrations` must be numbered 1, 2, 3 … in order.
pub fn plan(
    migrations: &[Migration],
    found: u32,
    target: u32,
) -> Result<Vec<Migration>, StoreError> {
    let supported = migrations.last().map_or(0, |m| m.version);
    if found > target || target > supported {
        return Err(StoreError::TooNew {
            found: found.max(target),
            supported,
        });
    }
    Ok(migrations
        .iter()
        .filter(|m| m.version > found && m.version <= target)
        .copied()
        .collect())
}

/// A simulated schema: stores with key paths and indices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaModel {
    pub stores: BTreeMap<String, StoreModel>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreModel {
    pub key_path: String,
    /// index name → (key path, multiEntry)
    pub indices: BTreeMap<String, (String, bool)>,
}

impl SchemaModel {
    /// Applies a change the way IndexedDB would, failing where IndexedDB would throw.
    pub fn apply(&mut self, change: &Change) -> Result<(), String> {
        match *change {
            Change::CreateStore { store, key_path } => {
                if self.stores.contains_key(store) {
                    return Err(format!("store {store} exists"));
                }
                self.stores.insert(
                    store.into(),
                    StoreModel {
                        key_path: key_path.into(),
                        indices: BTreeMap::new(),
                    },
                );
            }
            Change::DeleteStore { store } => {
                self.stores
                    .remove(store)
                    .ok_or_else(|| format!("no store {store}"))?;
            }
            Change::CreateIndex {
                store,
                index,
                key_path,
                multi_entry,
            } => {
                let s = self
                    .stores
                    .get_mut(store)
                    .ok_or_else(|| format!("no store {store}"))?;
                if s.indices
                    .insert(index.into(), (key_path.into(), multi_entry))
                    .is_some()
                {
                    return Err(format!("index {store}.{index} exists"));
                }
            }
            Change::DeleteIndex { store, index } => {
                self.stores
                    .get_mut(store)
                    .and_then(|s| s.indices.remove(index))
                    .ok_or_else(|| format!("no index {store}.{index}"))?;
            }
            Change::RewriteRows { store, .. } => {
                if !self.stores.contains_key(store) {
                    return Err(format!("no store {store}"));
                }
            }
            Change::PersonsToBuckets => {
                let s = self
                    .stores
                    .get_mut(PERSONS)
                    .ok_or_else(|| format!("no store {PERSONS}"))?;
                if s.key_path == F_BUCKET {
                    return Err(format!("store {PERSONS} has buckets already"));
                }
                s.key_path = F_BUCKET.into();
                s.indices = V2_PERSON_INDICES
                    .iter()
                    .map(|(i, kp)| (i.to_string(), (kp.to_string(), true)))
                    .collect();
            }
        }
        Ok(())
    }

    /// The schema after applying `migrations` from nothing.
    pub fn build(migrations: &[Migration]) -> Result<SchemaModel, String> {
        let mut m = SchemaModel::default();
        for mig in migrations {
            for c in mig.changes {
                m.apply(c)
                    .map_err(|e| format!("version {}: {e}", mig.version))?;
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Collection;

    #[test]
    fn versions_are_numbered_from_one_in_order() {
        for (i, v) in SchemaVersion::ALL.iter().enumerate() {
            assert_eq!(v.number(), i as u32 + 1);
            assert_eq!(SchemaVersion::from_number(i as u32 + 1), Some(*v));
        }
        assert_eq!(SchemaVersion::from_number(0), None);
        assert_eq!(
            SchemaVersion::from_number(SchemaVersion::ALL.len() as u32 + 1),
            None
        );
        assert_eq!(SchemaVersion::LATEST, *SchemaVersion::ALL.last().unwrap());
    }

    fn versions(v: Vec<Migration>) -> Vec<u32> {
        v.iter().map(|m| m.version).collect()
    }

    #[test]
    fn plan_steps_one_version_at_a_time() {
        const A: &[Change] = &[];
        let migs = [
            Migration {
                version: 1,
                changes: A,
            },
            Migration {
                version: 2,
                changes: A,
            },
            Migration {
                version: 3,
                changes: A,
            },
        ];
        let cases: &[(u32, u32, Option<&[u32]>)] = &[
            (0, 3, Some(&[1, 2, 3])),
            (1, 3, Some(&[2, 3])),
            (2, 3, Some(&[3])),
            (3, 3, Some(&[])),
            (0, 1, Some(&[1])),
            (1, 2, Some(&[2])),
            (4, 3, None),
            (0, 4, None),
        ];
        for &(found, target, want) in cases {
            match (plan(&migs, found, target), want) {
                (Ok(p), Some(w)) => assert_eq!(versions(p), w, "{found}->{target}"),
                (Err(StoreError::TooNew { supported, .. }), None) => assert_eq!(supported, 3),
                (got, want) => panic!("{found}->{target}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn app_plan_from_scratch_reaches_latest() {
        let p = plan(&migrations(), 0, SchemaVersion::LATEST.number()).unwrap();
        assert_eq!(p.len(), SchemaVersion::ALL.len());
        let err = plan(&migrations(), 99, SchemaVersion::LATEST.number()).unwrap_err();
        assert_eq!(
            err,
            StoreError::TooNew {
                found: 99,
                supported: SchemaVersion::LATEST.number()
            }
        );
        assert!(err.to_string().contains("neueren Version"));
    }

    /// Migration 0 → 1: the schema every query of `idb.rs` relies on.
    #[test]
    fn migration_v1_creates_the_schema() {
        let m = SchemaModel::build(&[SchemaVersion::V1.migration()]).unwrap();
        let idx = |store: &str| -> Vec<(String, String, bool)> {
            m.stores[store]
                .indices
                .iter()
                .map(|(n, (kp, me))| (n.clone(), kp.clone(), *me))
                .collect()
        };
        let s = |a: &str, b: &str, c| (a.to_string(), b.to_string(), c);
        assert_eq!(m.stores[PERSONS].key_path, F_ID);
        assert_eq!(
            idx(PERSONS),
            vec![
                s(IDX_BIRTHDAY, F_BDAY, false),
                s(IDX_KIND, F_KIND, false),
                s(IDX_NAME, F_NAME, false),
                s(IDX_TAGS, F_TAGS, true),
            ]
        );
        assert_eq!(m.stores[APPOINTMENTS].key_path, F_ID);
        assert_eq!(
            idx(APPOINTMENTS),
            vec![s(IDX_PERSON, F_PERSON, false), s(IDX_START, F_START, false)]
        );
        assert_eq!(m.stores[SETTINGS].key_path, F_KEY);
        for c in Collection::ALL {
            assert_eq!(m.stores[c.store_name()].key_path, F_KEY, "{c:?}");
            assert!(m.stores[c.store_name()].indices.is_empty());
        }
        assert_eq!(m.stores.len(), 3 + Collection::ALL.len());
    }

    /// Migration 1 → 2: persons become bucket rows, everything else stays as in v1.
    #[test]
    fn migration_v2_packs_persons_into_buckets() {
        let v1 = SchemaModel::build(&[SchemaVersion::V1.migration()]).unwrap();
        let v2 = SchemaModel::build(&migrations()[..2]).unwrap();
        assert_eq!(v2.stores[PERSONS].key_path, F_BUCKET);
        let idx: Vec<(String, String, bool)> = v2.stores[PERSONS]
            .indices
            .iter()
            .map(|(n, (kp, me))| (n.clone(), kp.clone(), *me))
            .collect();
        let s = |a: &str, b: &str| (a.to_string(), b.to_string(), true);
        assert_eq!(
            idx,
            vec![
                s(IDX_BIRTHDAY, F_BDAYS),
                s(IDX_KIND, F_KINDS),
                s(IDX_NAME, F_NAMES),
                s(IDX_TAGS, F_TAGS),
            ]
        );
        let mut rest = v2.clone();
        rest.stores.remove(PERSONS);
        let mut rest1 = v1.clone();
        rest1.stores.remove(PERSONS);
        assert_eq!(rest, rest1);
        // Applying it twice is refused, as on a database without persons.
        let mut again = v2.clone();
        assert!(again.apply(&Change::PersonsToBuckets).is_err());
        assert!(SchemaModel::default()
            .apply(&Change::PersonsToBuckets)
            .is_err());
    }

    #[test]
    fn every_version_applies_cleanly_on_its_predecessor() {
        let all = migrations();
        for n in 1..=all.len() {
            SchemaModel::build(&all[..n]).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn model_rejects_what_indexeddb_rejects() {
        let mut m = SchemaModel::default();
        assert!(m.apply(&index(PERSONS, IDX_NAME, F_NAME)).is_err());
        m.apply(&doc_store("x")).unwrap();
        assert!(m.apply(&doc_store("x")).is_err());
        m.apply(&index("x", "i", "k")).unwrap();
        assert!(m.apply(&index("x", "i", "k")).is_err());
        m.apply(&Change::DeleteIndex {
            store: "x",
            index: "i",
        })
        .unwrap();
        assert!(m
            .apply(&Change::DeleteIndex {
                store: "x",
                index: "i"
            })
            .is_err());
        m.apply(&Change::DeleteStore { store: "x" }).unwrap();
        assert_eq!(m, SchemaModel::default());
    }
}
