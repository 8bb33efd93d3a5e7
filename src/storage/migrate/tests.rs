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
    let v1_collections = [
        Collection::Templates,
        Collection::Queries,
        Collection::Outbox,
        Collection::Sendlog,
        Collection::Meta,
    ];
    for c in v1_collections {
        assert_eq!(m.stores[c.store_name()].key_path, F_KEY, "{c:?}");
        assert!(m.stores[c.store_name()].indices.is_empty());
    }
    assert_eq!(m.stores.len(), 3 + v1_collections.len());
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

/// Migration 2 → 3: persons keep only the birthday index (the others are deleted with their
/// keys); the quarantine and the send-log archive appear; everything else stays.
#[test]
fn migration_v3_keeps_only_used_indices_and_adds_collections() {
    let v2 = SchemaModel::build(&migrations()[..2]).unwrap();
    let v3 = SchemaModel::build(&migrations()[..3]).unwrap();
    assert_eq!(v3.stores[PERSONS].key_path, F_BUCKET);
    let idx: Vec<(String, String, bool)> = v3.stores[PERSONS]
        .indices
        .iter()
        .map(|(n, (kp, me))| (n.clone(), kp.clone(), *me))
        .collect();
    assert_eq!(
        idx,
        vec![(IDX_BIRTHDAY.to_string(), F_BDAYS.to_string(), true)]
    );
    for store in [QUARANTINE, SENDLOG_ARCHIVE] {
        assert_eq!(v3.stores[store].key_path, F_KEY);
        assert!(v3.stores[store].indices.is_empty());
    }
    let mut rest = v3.clone();
    for s in [PERSONS, QUARANTINE, SENDLOG_ARCHIVE] {
        rest.stores.remove(s);
    }
    let mut rest2 = v2.clone();
    rest2.stores.remove(PERSONS);
    assert_eq!(rest, rest2);
    // Every collection of the app has its store in the latest schema.
    for c in Collection::ALL {
        assert_eq!(v3.stores[c.store_name()].key_path, F_KEY, "{c:?}");
    }
    // Slimming needs the bucket layout.
    let v1 = SchemaModel::build(&migrations()[..1]).unwrap();
    assert!(v1.clone().apply(&Change::SlimPersonBuckets).is_err());
}

/// Migration 3 → 4: the sync stores appear (documents by id with the sequence index, and the
/// key-value store of the instance id, counter and replication logs); everything else stays.
#[test]
fn migration_v4_adds_the_sync_stores() {
    let v3 = SchemaModel::build(&migrations()[..3]).unwrap();
    let v4 = SchemaModel::build(&migrations()[..4]).unwrap();
    assert_eq!(v4.stores[SYNC_DOCS].key_path, F_ID);
    assert_eq!(
        v4.stores[SYNC_DOCS].indices,
        [(IDX_SEQ.to_string(), (F_SEQ.to_string(), false))].into()
    );
    assert_eq!(v4.stores[SYNC_META].key_path, F_KEY);
    assert!(v4.stores[SYNC_META].indices.is_empty());
    let mut rest = v4.clone();
    for s in [SYNC_DOCS, SYNC_META] {
        rest.stores.remove(s);
    }
    assert_eq!(rest, v3);
    // Applying it twice is refused.
    assert!(v4.clone().apply(&SchemaVersion::V4.changes()[0]).is_err());
}

/// Migration 4 → 5: the store of applied marks appears (by document id, no index); moving
/// the marks needs both sync stores; everything else stays.
#[test]
fn migration_v5_adds_the_applied_marks() {
    let v4 = SchemaModel::build(&migrations()[..4]).unwrap();
    let v5 = SchemaModel::build(&migrations()[..5]).unwrap();
    assert_eq!(v5.stores[SYNC_APPLIED].key_path, F_ID);
    assert!(v5.stores[SYNC_APPLIED].indices.is_empty());
    let mut rest = v5.clone();
    rest.stores.remove(SYNC_APPLIED);
    assert_eq!(rest, v4);
    let v3 = SchemaModel::build(&migrations()[..3]).unwrap();
    assert!(v3.clone().apply(&Change::MoveAppliedMarks).is_err());
    assert!(v4.clone().apply(&Change::MoveAppliedMarks).is_err());
}

/// Migration 5 → 6: the bucket store of applied marks (key path `b`, no index) replaces the
/// store of one row per mark; packing the marks needs both stores; everything else stays.
#[test]
fn migration_v6_packs_the_applied_marks_into_buckets() {
    let v5 = SchemaModel::build(&migrations()[..5]).unwrap();
    let v6 = SchemaModel::build(&migrations()[..6]).unwrap();
    assert_eq!(v6.stores[SYNC_MARKS].key_path, F_BUCKET);
    assert!(v6.stores[SYNC_MARKS].indices.is_empty());
    assert!(!v6.stores.contains_key(SYNC_APPLIED));
    let (mut rest5, mut rest6) = (v5.clone(), v6.clone());
    rest5.stores.remove(SYNC_APPLIED);
    rest6.stores.remove(SYNC_MARKS);
    assert_eq!(rest6, rest5);
    assert!(v5.clone().apply(&Change::BucketAppliedMarks).is_err());
    assert!(v6.clone().apply(&Change::BucketAppliedMarks).is_err());
}

/// Every index of the latest schema is used by a query of the stores (the rest were deleted).
#[test]
fn latest_schema_has_only_the_used_indices() {
    let m = SchemaModel::build(&migrations()).unwrap();
    let all: Vec<(String, String)> = m
        .stores
        .iter()
        .flat_map(|(s, st)| st.indices.keys().map(move |i| (s.clone(), i.clone())))
        .collect();
    let used = [
        (APPOINTMENTS, IDX_PERSON), // appointments_of, the delete cascade
        (APPOINTMENTS, IDX_START),  // appointments_between (app start, the Termine page)
        (PERSONS, IDX_BIRTHDAY),    // persons_by_birthday (the query builder)
        (SYNC_DOCS, IDX_SEQ),       // IdbLocal::changes_since (the local changes feed)
    ];
    let want: Vec<(String, String)> = used
        .iter()
        .map(|(s, i)| (s.to_string(), i.to_string()))
        .collect();
    assert_eq!(all, want);
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
