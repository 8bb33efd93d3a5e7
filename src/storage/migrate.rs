//! Schema versions and the migration plan.
//!
//! The IndexedDB schema is described declaratively: each [`SchemaVersion`] lists the
//! [`Change`]s that lead from the previous version to it. On `upgradeneeded` the IndexedDB
//! store (`idb.rs`) asks [`plan`] for the versions between the found and the wanted one and
//! applies their changes one version at a time, inside the version-change transaction.
//!
//! Adding a version is one step: add a variant to [`SchemaVersion`], append it to
//! [`SchemaVersion::ALL`], and give it its changes in [`SchemaVersion::changes`] (the compiler
//! insists on the last part). Data rewrites go into a [`Change::RewriteRows`] with a pure
//! function that can be unit-tested natively; the browser tests `migration_*` in
//! `tests/storage_idb.rs` show how a step is tested in IndexedDB. A step, once released, is
//! never changed: a database may still be at any earlier version.
//!
//! The schema describes where records live and how they are indexed; what a record looks
//! like is versioned separately, per record (`records`).
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

    /// Persons: birthday "MM-DD", blinded in an encrypted store (used by the query
    /// builder's birthday conditions).
    pub const IDX_BIRTHDAY: &str = "birthday";
    /// Persons, schema 1–2 only (deleted by schema 3, no part of the app used them): folded
    /// "lastname firstname", "patient" | "prospect", folded tags.
    pub const IDX_NAME: &str = "name";
    pub const IDX_KIND: &str = "kind";
    pub const IDX_TAGS: &str = "tags";
    /// Appointments: start "YYYY-MM-DDTHH:MM:SS" — the appointment-day index (a day is a key
    /// range of it).
    pub const IDX_START: &str = "start";
    /// Appointments: person id (for "appointments of" and the delete cascade).
    pub const IDX_PERSON: &str = "person";

    /// Row fields. Appointments: `{id, start, person, v, json}`; settings and documents:
    /// `{key, v, json}`; `v` is the record version (missing in rows written before schema 3:
    /// version 1), `json` the record's body. Schema-1 persons: `{id, name, bday?, kind, tags,
    /// json}`.
    pub const F_ID: &str = "id";
    pub const F_KEY: &str = "key";
    pub const F_NAME: &str = "name";
    pub const F_BDAY: &str = "bday";
    pub const F_KIND: &str = "kind";
    pub const F_TAGS: &str = "tags";
    pub const F_START: &str = "start";
    pub const F_PERSON: &str = "person";
    pub const F_JSON: &str = "json";
    pub const F_V: &str = "v";

    /// The persons store since schema 2 ("buckets"): key path of a bucket row, the bucket
    /// number. Since schema 3 a bucket row is `{b, ids[], bdays[], vs[], json[]}`, parallel
    /// arrays with one entry per person (ids in insertion order): the birthday key ("" =
    /// none), the record version and the record's body. Schema 2 had `{b, ids[], names[],
    /// bdays[], kinds[], tagsets[], tags[], json[]}` (`tagsets`: tags joined by U+001F,
    /// `tags`: their union). The row with `b = -1` holds the person count `{b, n}`.
    pub const F_BUCKET: &str = "b";
    pub const F_IDS: &str = "ids";
    pub const F_NAMES: &str = "names";
    pub const F_BDAYS: &str = "bdays";
    pub const F_KINDS: &str = "kinds";
    pub const F_VS: &str = "vs";
    /// Object stores added by schema 3.
    pub const QUARANTINE: &str = "quarantine";
    pub const SENDLOG_ARCHIVE: &str = "sendlog_archive";
    /// Object stores added by schema 4: the device's replication documents (issue 18,
    /// `idb/sync_docs.rs`, docs/design/sync-replication.md). `sync_docs` rows are
    /// `{id, tree, applied?, seq}` (key path `id`: the document id; `tree`: the revision tree
    /// as JSON text; `applied`: the revision the app's store holds; `seq`: the document's
    /// latest change) with the index [`IDX_SEQ`]; `sync_meta` rows are `{key, value}`: the
    /// instance id, the sequence counter and the replication logs.
    pub const SYNC_DOCS: &str = "sync_docs";
    pub const SYNC_META: &str = "sync_meta";
    /// Sync documents: their latest change's sequence number (the local changes feed).
    pub const IDX_SEQ: &str = "seq";
    pub const F_TREE: &str = "tree";
    /// Schema 4 only: the applied revision inside the `sync_docs` row (schema 5 moves it to
    /// [`SYNC_APPLIED`]).
    pub const F_APPLIED: &str = "applied";
    /// Object store of schema 5 only: per document the revision the app's store holds,
    /// `{id, rev}` (key path `id`), apart from the revision trees, so that moving the mark
    /// does not write the tree again (schema 6 packs the rows into [`SYNC_MARKS`]).
    pub const SYNC_APPLIED: &str = "sync_applied";
    /// Object store added by schema 6 (replacing [`SYNC_APPLIED`]): the applied marks packed
    /// into bucket rows `{b, m}` (key path [`F_BUCKET`]; `m`: a `Map` of document id →
    /// revision; a document's bucket is the persons' bucket of its id), so that marking
    /// 100,000 documents writes about [`PERSON_BUCKETS`] rows, not 100,000.
    pub const SYNC_MARKS: &str = "sync_marks";
    pub const F_MARKS: &str = "m";
    pub const F_REV: &str = "rev";
    pub const F_SEQ: &str = "seq";
    pub const F_VALUE: &str = "value";
    /// The number of person buckets (a person's bucket is a hash of its id).
    pub const PERSON_BUCKETS: u32 = 1024;
    /// The schema-2 person indices: (index name, key path), all multiEntry.
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
    /// v2 → v3: rewrites every person bucket to the schema-3 shape (drops `names`, `kinds`,
    /// `tagsets`, `tags`; adds `vs`, all version 1).
    SlimPersonBuckets,
    /// v4 → v5: moves each `sync_docs` row's `applied` into a [`names::SYNC_APPLIED`] row
    /// `{id, rev}` and drops it from the document row.
    MoveAppliedMarks,
    /// v5 → v6: packs every [`names::SYNC_APPLIED`] row into its bucket row of
    /// [`names::SYNC_MARKS`] (the store is deleted by the next change).
    BucketAppliedMarks,
}

/// The schema versions, oldest first. The number of a version is its position + 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaVersion {
    /// Persons, appointments, settings and the document collections.
    V1,
    /// Persons packed into [`names::PERSON_BUCKETS`] bucket rows (bulk writes need far
    /// fewer IndexedDB requests: one per bucket instead of one per person).
    V2,
    /// Versioned records; only the indices the app uses (the name, kind and tag indices are
    /// deleted with the keys they held — folded by a second text fold — and the bucket
    /// entries lose them); the quarantine and send-log archive collections.
    V3,
    /// The replication documents of the sync with other devices (`sync_docs` with its
    /// sequence index, `sync_meta`).
    V4,
    /// The applied marks of the replication documents in a store of their own
    /// (`sync_applied`): a device joining a practice marks every document once, and a mark
    /// in the document row rewrote its whole revision tree.
    V5,
    /// The applied marks packed into bucket rows (`sync_marks`), as the persons are: in
    /// Chromium every IndexedDB request costs about 100 µs, and a device joining a practice
    /// of 100,000 persons marks 100,000 documents.
    V6,
}

impl SchemaVersion {
    pub const ALL: [SchemaVersion; 6] = [
        SchemaVersion::V1,
        SchemaVersion::V2,
        SchemaVersion::V3,
        SchemaVersion::V4,
        SchemaVersion::V5,
        SchemaVersion::V6,
    ];
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
            SchemaVersion::V3 => V3,
            SchemaVersion::V4 => V4,
            SchemaVersion::V5 => V5,
            SchemaVersion::V6 => V6,
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

const V3: &[Change] = &[
    Change::DeleteIndex {
        store: PERSONS,
        index: IDX_NAME,
    },
    Change::DeleteIndex {
        store: PERSONS,
        index: IDX_KIND,
    },
    Change::DeleteIndex {
        store: PERSONS,
        index: IDX_TAGS,
    },
    Change::SlimPersonBuckets,
    doc_store(QUARANTINE),
    doc_store(SENDLOG_ARCHIVE),
];

const V4: &[Change] = &[
    Change::CreateStore {
        store: SYNC_DOCS,
        key_path: F_ID,
    },
    index(SYNC_DOCS, IDX_SEQ, F_SEQ),
    doc_store(SYNC_META),
];

const V5: &[Change] = &[
    Change::CreateStore {
        store: SYNC_APPLIED,
        key_path: F_ID,
    },
    Change::MoveAppliedMarks,
];

const V6: &[Change] = &[
    Change::CreateStore {
        store: SYNC_MARKS,
        key_path: F_BUCKET,
    },
    Change::BucketAppliedMarks,
    Change::DeleteStore {
        store: SYNC_APPLIED,
    },
];

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
            Change::SlimPersonBuckets => {
                let s = self
                    .stores
                    .get(PERSONS)
                    .ok_or_else(|| format!("no store {PERSONS}"))?;
                if s.key_path != F_BUCKET {
                    return Err(format!("store {PERSONS} has no buckets"));
                }
            }
            Change::MoveAppliedMarks => self.need(&[SYNC_DOCS, SYNC_APPLIED])?,
            Change::BucketAppliedMarks => self.need(&[SYNC_APPLIED, SYNC_MARKS])?,
        }
        Ok(())
    }

    /// Fails unless every one of `stores` exists.
    fn need(&self, stores: &[&str]) -> Result<(), String> {
        match stores.iter().find(|s| !self.stores.contains_key(**s)) {
            Some(store) => Err(format!("no store {store}")),
            None => Ok(()),
        }
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
mod tests;
