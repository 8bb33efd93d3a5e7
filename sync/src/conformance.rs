//! The one behaviour suite every [`Local`] + [`Docs`] store must pass: natively against
//! [`MemoryLocal`](crate::MemoryLocal) (this module's tests, plain `cargo test`), in headless
//! Chromium against the app's IndexedDB store (`tests/sync_browser.rs` of the app).
//! [`for_each_local_case!`](crate::for_each_local_case) lists every case once, so both run the
//! same set.
//!
//! Each case is an async function taking a [`Subject`]: a fresh, empty store that the case
//! may reopen on the same data. A case panics on a mismatch. Behind the cargo feature
//! `conformance` (and always in this crate's own tests).

use crate::doc::RevDoc;
use crate::local::{Docs, Local, LocalChange, LocalDoc};
use crate::rev::Rev;
use crate::tree::DocTree;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The store under test.
#[allow(async_fn_in_trait)]
pub trait Subject {
    type Store: Docs;
    /// The store (a fresh, empty one at the start of a case).
    fn store(&self) -> &Self::Store;
    /// Closes the store and opens it again on the same data (nothing for a store that lives
    /// only in memory).
    async fn reopen(&mut self);
}

/// Calls `$m!(case_name)` for every case.
#[macro_export]
macro_rules! for_each_local_case {
    ($m:ident) => {
        $m!(an_empty_store_has_nothing);
        $m!(instance_id_and_data_survive_reopening);
        $m!(changes_come_in_order_with_limit_and_a_document_once_at_its_latest_change);
        $m!(revs_diff_names_only_what_is_missing);
        $m!(put_revs_adds_ancestors_keeps_bodies_and_is_idempotent);
        $m!(put_revs_keeps_conflicts_and_tombstones);
        $m!(put_new_revs_writes_as_put_revs_and_merges_what_exists);
        $m!(get_revs_returns_history_and_skips_the_unknown);
        $m!(put_revs_keeps_the_applied_mark);
        $m!(checkpoints_round_trip_apart_from_documents);
        $m!(put_docs_bumps_the_sequence_only_when_the_tree_changes);
        $m!(get_docs_is_aligned_with_the_ids);
        $m!(all_docs_are_ordered_by_id);
        $m!(applied_ids_are_the_marked_documents);
        $m!(changed_docs_are_the_feed_read_whole);
        $m!(mark_applied_moves_marks_of_unchanged_documents_only);
        $m!(large_batches);
    };
}

fn rev(s: &str) -> Rev {
    Rev::parse(s).expect("revision id")
}

fn body(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A revision as a replicator hands it over: `rev` with `ancestors` (hashes, parent first).
pub fn rev_doc(id: &str, r: &str, ancestors: &[&str], deleted: bool, b: Value) -> RevDoc {
    RevDoc {
        id: id.into(),
        rev: rev(r),
        deleted,
        body: body(b),
        ancestors: ancestors.iter().map(|a| a.to_string()).collect(),
    }
}

/// A document made by local edits: `n` revisions, bodies `{"n": 1}` … `{"n": n}`.
pub fn edited(n: u64) -> DocTree {
    let mut t = DocTree::default();
    let mut base = None;
    for i in 1..=n {
        base = Some(
            t.edit(base.as_ref(), false, body(json!({ "n": i })))
                .expect("edit"),
        );
    }
    t
}

fn doc(tree: DocTree, applied: Option<&str>) -> LocalDoc {
    LocalDoc {
        tree,
        applied: applied.map(str::to_string),
    }
}

fn ids(changes: &[LocalChange]) -> Vec<&str> {
    changes.iter().map(|c| c.id.as_str()).collect()
}

async fn changes<L: Local>(l: &L, since: u64, limit: usize) -> Vec<LocalChange> {
    l.changes_since(since, limit).await.expect("changes_since")
}

async fn seq<L: Local>(l: &L) -> u64 {
    l.update_seq().await.expect("update_seq")
}

async fn one<L: Docs>(l: &L, id: &str) -> Option<LocalDoc> {
    l.get_docs(&[id.to_string()])
        .await
        .expect("get_docs")
        .pop()
        .expect("one answer per id")
}

/// The store of a fresh subject is empty; unknown things read as absent, not as errors.
pub async fn an_empty_store_has_nothing<S: Subject>(s: &mut S) {
    let l = s.store();
    assert_eq!(seq(l).await, 0);
    assert!(changes(l, 0, 100).await.is_empty());
    assert!(l.all_docs().await.unwrap().is_empty());
    assert_eq!(l.get_docs(&["x".into()]).await.unwrap(), vec![None]);
    assert_eq!(l.get_docs(&[]).await.unwrap(), vec![]);
    assert_eq!(l.get_checkpoint("c").await.unwrap(), None);
    assert!(l
        .get_revs(&[("x".into(), rev("1-a"))])
        .await
        .unwrap()
        .is_empty());
    let want: BTreeMap<String, Vec<Rev>> = [("x".to_string(), vec![rev("1-a")])].into();
    assert_eq!(l.revs_diff(&want).await.unwrap(), want);
    // Empty writes are fine and change nothing.
    l.put_revs(&[]).await.unwrap();
    l.put_docs(&[]).await.unwrap();
    assert_eq!(seq(l).await, 0);
    let id = l.instance_id().await.unwrap();
    assert!(!id.is_empty());
}

/// The instance id is made once and kept with the data; documents, sequence numbers,
/// applied marks and checkpoints survive reopening.
pub async fn instance_id_and_data_survive_reopening<S: Subject>(s: &mut S) {
    let id = s.store().instance_id().await.unwrap();
    assert_eq!(s.store().instance_id().await.unwrap(), id);
    let l = s.store();
    l.put_revs(&[rev_doc("a", "1-a", &[], false, json!({"x": 1}))])
        .await
        .unwrap();
    l.put_docs(&[("b".into(), doc(edited(2), Some("x")))])
        .await
        .unwrap();
    l.put_checkpoint("log", &json!({"session_id": "s", "history": []}))
        .await
        .unwrap();
    let before = (
        seq(l).await,
        changes(l, 0, 10).await,
        l.all_docs().await.unwrap(),
    );
    s.reopen().await;
    let l = s.store();
    assert_eq!(l.instance_id().await.unwrap(), id);
    assert_eq!(
        (
            seq(l).await,
            changes(l, 0, 10).await,
            l.all_docs().await.unwrap()
        ),
        before
    );
    assert_eq!(
        l.get_checkpoint("log").await.unwrap(),
        Some(json!({"session_id": "s", "history": []}))
    );
    // The sequence goes on from where it was.
    l.put_revs(&[rev_doc("c", "1-c", &[], false, json!({}))])
        .await
        .unwrap();
    assert_eq!(seq(l).await, before.0 + 1);
}

/// `changes_since`: documents after `since` in sequence order, at most `limit`; a document
/// written again moves to its latest change and appears only there; `update_seq` is the last
/// write's number.
pub async fn changes_come_in_order_with_limit_and_a_document_once_at_its_latest_change<
    S: Subject,
>(
    s: &mut S,
) {
    let l = s.store();
    for id in ["a", "b", "c"] {
        l.put_revs(&[rev_doc(id, "1-x", &[], false, json!({ "id": id }))])
            .await
            .unwrap();
    }
    assert_eq!(seq(l).await, 3);
    let all = changes(l, 0, 100).await;
    assert_eq!(ids(&all), ["a", "b", "c"]);
    assert_eq!(all.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all[0].leaves, vec![rev("1-x")]);
    // "a" again (a replicated edit), then "b" (a local one through put_docs).
    l.put_revs(&[rev_doc("a", "2-y", &["x"], false, json!({"n": 2}))])
        .await
        .unwrap();
    let mut b = one(l, "b").await.unwrap();
    let b2 = b
        .tree
        .edit(Some(&rev("1-x")), false, body(json!({"n": 2})))
        .unwrap();
    l.put_docs(&[("b".into(), b)]).await.unwrap();
    assert_eq!(seq(l).await, 5);
    let all = changes(l, 0, 100).await;
    assert_eq!(ids(&all), ["c", "a", "b"]);
    assert_eq!(all.iter().map(|c| c.seq).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(all[1].leaves, vec![rev("2-y")]);
    assert_eq!(all[2].leaves, vec![b2]);
    // Limit and since.
    assert_eq!(ids(&changes(l, 0, 2).await), ["c", "a"]);
    assert_eq!(ids(&changes(l, 3, 1).await), ["a"]);
    assert_eq!(ids(&changes(l, 4, 100).await), ["b"]);
    assert_eq!(ids(&changes(l, 2, 100).await), ["c", "a", "b"]);
    assert!(changes(l, 5, 100).await.is_empty());
    assert!(changes(l, 99, 100).await.is_empty());
}

/// `revs_diff`: of the asked revisions, those the store does not know (a revision known only
/// as an ancestor counts as known); ids with nothing missing are left out.
pub async fn revs_diff_names_only_what_is_missing<S: Subject>(s: &mut S) {
    let l = s.store();
    l.put_revs(&[rev_doc("d", "3-c", &["b", "a"], false, json!({"v": 3}))])
        .await
        .unwrap();
    l.put_revs(&[rev_doc("e", "1-e", &[], false, json!({}))])
        .await
        .unwrap();
    let ask: BTreeMap<String, Vec<Rev>> = [
        (
            "d".to_string(),
            vec![rev("1-a"), rev("2-b"), rev("3-c"), rev("4-x"), rev("3-z")],
        ),
        ("e".to_string(), vec![rev("1-e")]),
        ("f".to_string(), vec![rev("1-f"), rev("2-f")]),
    ]
    .into();
    let want: BTreeMap<String, Vec<Rev>> = [
        ("d".to_string(), vec![rev("4-x"), rev("3-z")]),
        ("f".to_string(), vec![rev("1-f"), rev("2-f")]),
    ]
    .into();
    assert_eq!(l.revs_diff(&ask).await.unwrap(), want);
    assert!(l.revs_diff(&BTreeMap::new()).await.unwrap().is_empty());
}

/// `put_revs` stores revisions as they are: unknown ancestors as ids only, a known revision
/// keeps its body (and gains one it lacked), and writing the same batch again changes
/// nothing — not even the sequence.
pub async fn put_revs_adds_ancestors_keeps_bodies_and_is_idempotent<S: Subject>(s: &mut S) {
    let l = s.store();
    l.put_revs(&[rev_doc("d", "1-a", &[], false, json!({"v": 1}))])
        .await
        .unwrap();
    let batch = [rev_doc("d", "3-c", &["b", "a"], false, json!({"v": 3}))];
    l.put_revs(&batch).await.unwrap();
    assert_eq!(seq(l).await, 2);
    let tree = one(l, "d").await.unwrap().tree;
    assert_eq!(tree.leaves(), vec![rev("3-c")]);
    assert_eq!(tree.body(&rev("1-a")), Some(&body(json!({"v": 1}))));
    assert_eq!(tree.body(&rev("2-b")), None);
    assert_eq!(
        tree.path(&rev("3-c")),
        vec![rev("3-c"), rev("2-b"), rev("1-a")]
    );
    // Again: nothing changes.
    l.put_revs(&batch).await.unwrap();
    assert_eq!(seq(l).await, 2);
    assert_eq!(one(l, "d").await.unwrap().tree, tree);
    // A revision the store has keeps its body, even when handed over with another one.
    l.put_revs(&[rev_doc("d", "1-a", &[], false, json!({"v": "other"}))])
        .await
        .unwrap();
    assert_eq!(seq(l).await, 2);
    assert_eq!(
        one(l, "d").await.unwrap().tree.body(&rev("1-a")),
        Some(&body(json!({"v": 1})))
    );
    // The ancestor known only by id gains its body: a change.
    l.put_revs(&[rev_doc("d", "2-b", &["a"], false, json!({"v": 2}))])
        .await
        .unwrap();
    assert_eq!(seq(l).await, 3);
    let tree = one(l, "d").await.unwrap().tree;
    assert_eq!(tree.body(&rev("2-b")), Some(&body(json!({"v": 2}))));
    assert_eq!(tree.leaves(), vec![rev("3-c")]);
    // A batch with several documents, one of them twice: one change per changed document,
    // in batch order, and the whole batch is there.
    l.put_revs(&[
        rev_doc("y", "1-y", &[], false, json!({})),
        rev_doc("x", "1-x", &[], false, json!({})),
        rev_doc("d", "3-c", &["b", "a"], false, json!({"v": 3})),
        rev_doc("y", "2-y", &["y"], false, json!({"v": 2})),
    ])
    .await
    .unwrap();
    // x and y changed, d did not; y's latest change comes last (how many numbers a document
    // written twice in one batch uses is the store's business).
    let after = changes(l, 3, 100).await;
    assert_eq!(ids(&after), ["x", "y"]);
    assert_eq!(after[1].leaves, vec![rev("2-y")]);
    assert_eq!(seq(l).await, after[1].seq);
}

/// Concurrent branches are kept side by side (both leaves, CouchDB's winner), and a
/// tombstone travels as a revision.
pub async fn put_revs_keeps_conflicts_and_tombstones<S: Subject>(s: &mut S) {
    let l = s.store();
    l.put_revs(&[
        rev_doc("d", "2-b", &["a"], false, json!({"side": "b"})),
        rev_doc("d", "2-c", &["a"], false, json!({"side": "c"})),
    ])
    .await
    .unwrap();
    let tree = one(l, "d").await.unwrap().tree;
    assert_eq!(tree.leaves(), vec![rev("2-b"), rev("2-c")]);
    assert_eq!(tree.winner(), Some(rev("2-c")));
    assert_eq!(tree.conflicts(), vec![rev("2-b")]);
    let feed = changes(l, 0, 10).await;
    assert_eq!(ids(&feed), ["d"]);
    assert_eq!(feed[0].leaves, tree.leaves());
    assert_eq!(feed[0].seq, seq(l).await);
    l.put_revs(&[rev_doc("d", "3-t", &["c", "a"], true, json!({}))])
        .await
        .unwrap();
    let tree = one(l, "d").await.unwrap().tree;
    assert_eq!(tree.winner(), Some(rev("2-b")));
    assert!(tree.is_deleted(&rev("3-t")));
    let got = l.get_revs(&[("d".into(), rev("3-t"))]).await.unwrap();
    assert_eq!(got, vec![rev_doc("d", "3-t", &["c", "a"], true, json!({}))]);
}

/// `put_new_revs` (a pull into an empty store) ends as `put_revs` would: numbered alike,
/// and a document that exists after all is merged, not replaced.
pub async fn put_new_revs_writes_as_put_revs_and_merges_what_exists<S: Subject>(s: &mut S) {
    let l = s.store();
    l.put_new_revs(&[
        rev_doc("a", "1-a", &[], false, json!({"n": 1})),
        rev_doc("b", "2-b", &["a"], false, json!({"n": 2})),
        rev_doc("b", "2-c", &["a"], false, json!({"n": 3})),
    ])
    .await
    .unwrap();
    assert_eq!(seq(l).await, 3);
    assert_eq!(ids(&changes(l, 0, 10).await), ["a", "b"]);
    let b = one(l, "b").await.unwrap().tree;
    assert_eq!(b.leaves(), vec![rev("2-b"), rev("2-c")]);
    // "b" exists: the whole batch is written as by `put_revs`.
    l.put_new_revs(&[
        rev_doc("c", "1-c", &[], false, json!({"n": 4})),
        rev_doc("b", "3-d", &["c", "a"], false, json!({"n": 5})),
    ])
    .await
    .unwrap();
    assert_eq!(seq(l).await, 5);
    let b = one(l, "b").await.unwrap().tree;
    assert_eq!(b.leaves(), vec![rev("2-b"), rev("3-d")]);
    assert_eq!(b.body(&rev("2-b")), Some(&body(json!({"n": 2}))));
    assert_eq!(ids(&changes(l, 0, 10).await), ["a", "c", "b"]);
    s.reopen().await;
    let l = s.store();
    assert_eq!(one(l, "c").await.unwrap().tree.leaves(), vec![rev("1-c")]);
}

/// `get_revs`: the asked revisions the store has, with their bodies and known history, in
/// the order asked; unknown ids and revisions are left out.
pub async fn get_revs_returns_history_and_skips_the_unknown<S: Subject>(s: &mut S) {
    let l = s.store();
    let d3 = rev_doc("d", "3-c", &["b", "a"], false, json!({"v": 3}));
    let e1 = rev_doc("e", "1-e", &[], false, json!({"e": true}));
    l.put_revs(&[d3.clone(), e1.clone()]).await.unwrap();
    let got = l
        .get_revs(&[
            ("e".into(), rev("1-e")),
            ("nope".into(), rev("1-a")),
            ("d".into(), rev("3-c")),
            ("d".into(), rev("9-z")),
            ("d".into(), rev("2-b")),
        ])
        .await
        .unwrap();
    // 2-b is known by id only: it comes with an empty body and its own history.
    assert_eq!(
        got,
        vec![e1, d3, rev_doc("d", "2-b", &["a"], false, json!({}))]
    );
    // A local edit's history reaches back to the first revision.
    l.put_docs(&[("f".into(), doc(edited(3), None))])
        .await
        .unwrap();
    let tree = one(l, "f").await.unwrap().tree;
    let leaf = tree.winner().unwrap();
    let got = l.get_revs(&[("f".into(), leaf.clone())]).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, body(json!({"n": 3})));
    assert_eq!(got[0].history(), tree.path(&leaf));
    assert_eq!(got[0].history().len(), 3);
}

/// Replication does not touch what the app's layer marked as applied.
pub async fn put_revs_keeps_the_applied_mark<S: Subject>(s: &mut S) {
    let l = s.store();
    let tree = edited(1);
    let r1 = tree.winner().unwrap().to_string();
    l.put_docs(&[("d".into(), doc(tree, Some(r1.as_str())))])
        .await
        .unwrap();
    let r2 = Rev::next(Some(&rev(&r1)), false, &json!({"n": 2}));
    let hash1 = rev(&r1).hash;
    l.put_revs(&[RevDoc {
        id: "d".into(),
        rev: r2.clone(),
        deleted: false,
        body: body(json!({"n": 2})),
        ancestors: vec![hash1],
    }])
    .await
    .unwrap();
    let d = one(l, "d").await.unwrap();
    assert_eq!(d.applied.as_deref(), Some(r1.as_str()));
    assert_eq!(d.applied_rev(), Some(rev(&r1)));
    assert_eq!(d.tree.winner(), Some(r2));
    assert_eq!(seq(l).await, 2);
}

/// Replication logs: absent until written, then the last one written, by id; they are not
/// documents (no sequence number, not in the feed or the document list).
pub async fn checkpoints_round_trip_apart_from_documents<S: Subject>(s: &mut S) {
    let l = s.store();
    assert_eq!(l.get_checkpoint("p").await.unwrap(), None);
    let log = json!({"session_id": "s1", "source_last_seq": "12-abc", "history": [
        {"session_id": "s1", "recorded_seq": "12-abc", "docs_read": 3}
    ]});
    l.put_checkpoint("p", &log).await.unwrap();
    l.put_checkpoint("q/with odd chars?", &json!({"n": 1}))
        .await
        .unwrap();
    assert_eq!(l.get_checkpoint("p").await.unwrap(), Some(log));
    l.put_checkpoint("p", &json!({"session_id": "s2"}))
        .await
        .unwrap();
    assert_eq!(
        l.get_checkpoint("p").await.unwrap(),
        Some(json!({"session_id": "s2"}))
    );
    assert_eq!(
        l.get_checkpoint("q/with odd chars?").await.unwrap(),
        Some(json!({"n": 1}))
    );
    assert_eq!(seq(l).await, 0);
    assert!(changes(l, 0, 10).await.is_empty());
    assert!(l.all_docs().await.unwrap().is_empty());
    assert_eq!(l.get_docs(&["p".into()]).await.unwrap(), vec![None]);
}

/// `put_docs`: a document whose tree differs from the stored one gets the next sequence
/// number (in batch order); one whose only change is `applied` keeps its number; `applied`
/// is stored as given (also `None`).
pub async fn put_docs_bumps_the_sequence_only_when_the_tree_changes<S: Subject>(s: &mut S) {
    let l = s.store();
    let (t1, t2) = (edited(1), edited(2));
    let r1 = t1.winner().unwrap().to_string();
    l.put_docs(&[
        ("b".into(), doc(t1.clone(), None)),
        ("a".into(), doc(t2, None)),
    ])
    .await
    .unwrap();
    assert_eq!(seq(l).await, 2);
    assert_eq!(ids(&changes(l, 0, 10).await), ["b", "a"]);
    // Only applied changes: no new number, the mark is stored.
    l.put_docs(&[("b".into(), doc(t1.clone(), Some(r1.as_str())))])
        .await
        .unwrap();
    assert_eq!(seq(l).await, 2);
    assert_eq!(ids(&changes(l, 0, 10).await), ["b", "a"]);
    assert_eq!(
        one(l, "b").await.unwrap(),
        doc(t1.clone(), Some(r1.as_str()))
    );
    // Same tree and same mark: nothing.
    l.put_docs(&[("b".into(), doc(t1.clone(), Some(r1.as_str())))])
        .await
        .unwrap();
    assert_eq!(seq(l).await, 2);
    // The mark removed.
    l.put_docs(&[("b".into(), doc(t1.clone(), None))])
        .await
        .unwrap();
    assert_eq!(seq(l).await, 2);
    assert_eq!(one(l, "b").await.unwrap().applied, None);
    // The tree changed (with the mark in the same write): the next number.
    let mut t = t1.clone();
    let r2 = t
        .edit(Some(&rev(&r1)), false, body(json!({"n": 22})))
        .unwrap()
        .to_string();
    l.put_docs(&[("b".into(), doc(t.clone(), Some(r2.as_str())))])
        .await
        .unwrap();
    assert_eq!(seq(l).await, 3);
    let feed = changes(l, 0, 10).await;
    assert_eq!(ids(&feed), ["a", "b"]);
    assert_eq!(feed[1].seq, 3);
    assert_eq!(one(l, "b").await.unwrap(), doc(t, Some(r2.as_str())));
    // A mixed batch: only the changed tree moves.
    let mut a = one(l, "a").await.unwrap();
    a.applied = Some("x".into());
    let mut c = doc(edited(1), None);
    c.applied = Some("y".into());
    l.put_docs(&[("a".into(), a.clone()), ("c".into(), c.clone())])
        .await
        .unwrap();
    assert_eq!(seq(l).await, 4);
    let feed = changes(l, 0, 10).await;
    assert_eq!(ids(&feed), ["a", "b", "c"]);
    assert_eq!(feed.iter().map(|c| c.seq).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(one(l, "a").await.unwrap(), a);
    assert_eq!(one(l, "c").await.unwrap(), c);
}

/// `get_docs` answers one entry per asked id, in the order asked, repeats included.
pub async fn get_docs_is_aligned_with_the_ids<S: Subject>(s: &mut S) {
    let l = s.store();
    let (a, b) = (doc(edited(1), Some("1-q")), doc(edited(2), None));
    l.put_docs(&[("a".into(), a.clone()), ("b".into(), b.clone())])
        .await
        .unwrap();
    let got = l
        .get_docs(&["b".into(), "zz".into(), "a".into(), "b".into(), "".into()])
        .await
        .unwrap();
    assert_eq!(got, vec![Some(b.clone()), None, Some(a), Some(b), None]);
}

/// `all_docs`: every document with its applied mark, ordered by id, however written.
pub async fn all_docs_are_ordered_by_id<S: Subject>(s: &mut S) {
    let l = s.store();
    l.put_revs(&[rev_doc("m", "1-m", &[], false, json!({}))])
        .await
        .unwrap();
    l.put_docs(&[
        ("z".into(), doc(edited(1), Some("1-z"))),
        ("a".into(), doc(edited(2), None)),
        ("B".into(), doc(edited(1), None)),
        ("a0".into(), doc(edited(1), None)),
    ])
    .await
    .unwrap();
    let all = l.all_docs().await.unwrap();
    let names: Vec<&str> = all.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(names, ["B", "a", "a0", "m", "z"]);
    assert_eq!(all[4].1, doc(edited(1), Some("1-z")));
    assert_eq!(all[3].1.tree.leaves(), vec![rev("1-m")]);
}

/// `applied_ids`: the documents with an applied mark, ordered; a mark taken away takes the
/// document off.
pub async fn applied_ids_are_the_marked_documents<S: Subject>(s: &mut S) {
    let l = s.store();
    assert!(l.applied_ids().await.unwrap().is_empty());
    l.put_revs(&[rev_doc("m", "1-m", &[], false, json!({}))])
        .await
        .unwrap();
    l.put_docs(&[
        ("z".into(), doc(edited(1), Some("1-z"))),
        ("a".into(), doc(edited(2), None)),
        ("b".into(), doc(edited(1), Some("1-b"))),
    ])
    .await
    .unwrap();
    assert_eq!(l.applied_ids().await.unwrap(), ["b", "z"]);
    l.put_docs(&[("z".into(), doc(edited(1), None))])
        .await
        .unwrap();
    l.mark_applied(&[("m".into(), 1, "1-m".into())])
        .await
        .unwrap();
    assert_eq!(l.applied_ids().await.unwrap(), ["b", "m"]);
}

/// `changed_docs`: the feed's documents (after `since`, in sequence order, at most `limit`)
/// with their numbers, trees and applied marks.
pub async fn changed_docs_are_the_feed_read_whole<S: Subject>(s: &mut S) {
    let l = s.store();
    l.put_revs(&[rev_doc("m", "1-m", &[], false, json!({"n": 1}))])
        .await
        .unwrap();
    let (z, a) = (doc(edited(1), Some("1-z")), doc(edited(2), None));
    l.put_docs(&[("z".into(), z.clone()), ("a".into(), a.clone())])
        .await
        .unwrap();
    let m = one(l, "m").await.unwrap();
    let all = l.changed_docs(0, 10).await.unwrap();
    assert_eq!(
        all,
        vec![
            (1, "m".to_string(), m),
            (2, "z".to_string(), z.clone()),
            (3, "a".to_string(), a.clone())
        ]
    );
    assert_eq!(
        l.changed_docs(1, 1).await.unwrap(),
        vec![(2, "z".to_string(), z)]
    );
    assert_eq!(
        l.changed_docs(2, 10).await.unwrap(),
        vec![(3, "a".to_string(), a)]
    );
    assert!(l.changed_docs(3, 10).await.unwrap().is_empty());
}

/// `mark_applied`: the mark moves where the document is still at the given sequence number,
/// and no sequence number moves; a document written since, or unknown, is left alone.
pub async fn mark_applied_moves_marks_of_unchanged_documents_only<S: Subject>(s: &mut S) {
    let l = s.store();
    let (t1, t2) = (edited(1), edited(2));
    l.put_docs(&[
        ("a".into(), doc(t1.clone(), None)),
        ("b".into(), doc(t2.clone(), Some("1-old"))),
    ])
    .await
    .unwrap();
    let read = l.changed_docs(0, 10).await.unwrap();
    assert_eq!((read[0].0, read[1].0), (1, 2));
    // "b" is written again after it was read.
    let mut t3 = t2.clone();
    t3.edit(t2.winner().as_ref(), false, body(json!({"n": 3})))
        .unwrap();
    l.put_docs(&[("b".into(), doc(t3.clone(), Some("1-old")))])
        .await
        .unwrap();
    l.mark_applied(&[
        ("a".into(), 1, "1-a".into()),
        ("b".into(), 2, "1-b".into()),
        ("zz".into(), 1, "1-z".into()),
    ])
    .await
    .unwrap();
    assert_eq!(seq(l).await, 3);
    assert_eq!(one(l, "a").await.unwrap(), doc(t1, Some("1-a")));
    assert_eq!(one(l, "b").await.unwrap(), doc(t3, Some("1-old")));
    assert_eq!(one(l, "zz").await, None);
    assert_eq!(ids(&changes(l, 0, 10).await), ["a", "b"]);
    // Many documents in a row (a pull's), every one unchanged: all marks move.
    let many: Vec<RevDoc> = (0..50)
        .map(|i| rev_doc(&format!("m{i:02}"), "1-m", &[], false, json!({ "i": i })))
        .collect();
    l.put_revs(&many).await.unwrap();
    let read = l.changed_docs(3, 100).await.unwrap();
    assert_eq!(read.len(), 50);
    let marks: Vec<(String, u64, String)> = read
        .iter()
        .map(|(seq, id, _)| (id.clone(), *seq, format!("1-{id}")))
        .collect();
    l.mark_applied(&marks).await.unwrap();
    for (_, id, _) in &read {
        let applied = one(l, id).await.unwrap().applied;
        assert_eq!(applied, Some(format!("1-{id}")), "{id}");
    }
    // Two marks far apart, one of them on a document written since.
    let (first, last) = (&read[0], &read[49]);
    l.put_revs(&[rev_doc(&last.1, "2-n", &["m"], false, json!({}))])
        .await
        .unwrap();
    l.mark_applied(&[
        (first.1.clone(), first.0, "2-first".into()),
        (last.1.clone(), last.0, "2-last".into()),
    ])
    .await
    .unwrap();
    assert_eq!(
        one(l, &first.1).await.unwrap().applied.as_deref(),
        Some("2-first")
    );
    let kept = format!("1-{}", last.1);
    assert_eq!(one(l, &last.1).await.unwrap().applied, Some(kept));
}

/// Batches of the size a first sync writes: one `put_revs` of 2,000 documents, read back
/// page by page through the feed and whole through `get_docs` and `all_docs`; a `put_docs`
/// marking all of them applied moves no sequence number.
pub async fn large_batches<S: Subject>(s: &mut S) {
    const N: usize = 2000;
    let l = s.store();
    let id = |i: usize| format!("doc-{:05}", (i * 7919) % N);
    let batch: Vec<RevDoc> = (0..N)
        .map(|i| {
            rev_doc(
                &id(i),
                "2-b",
                &["a"],
                false,
                json!({"c": "x".repeat(200), "i": i}),
            )
        })
        .collect();
    l.put_revs(&batch).await.unwrap();
    assert_eq!(seq(l).await, N as u64);
    let mut since = 0;
    let mut seen = Vec::new();
    loop {
        let page = changes(l, since, 300).await;
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 300);
        since = page.last().unwrap().seq;
        seen.extend(page);
    }
    assert_eq!(
        seen.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        (0..N).map(id).collect::<Vec<_>>()
    );
    assert_eq!(
        seen.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (1..=N as u64).collect::<Vec<_>>()
    );
    let all = l.all_docs().await.unwrap();
    assert_eq!(all.len(), N);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    let marked: Vec<(String, LocalDoc)> = all
        .into_iter()
        .map(|(id, mut d)| {
            d.applied = Some("2-b".into());
            (id, d)
        })
        .collect();
    l.put_docs(&marked).await.unwrap();
    assert_eq!(seq(l).await, N as u64);
    let wanted: Vec<String> = (0..N).rev().map(id).collect();
    let got = l.get_docs(&wanted).await.unwrap();
    assert_eq!(got.len(), N);
    for (i, d) in got.iter().enumerate() {
        let d = d.as_ref().unwrap_or_else(|| panic!("{}", wanted[i]));
        assert_eq!(d.applied.as_deref(), Some("2-b"));
        assert_eq!(d.tree.leaves(), vec![rev("2-b")]);
    }
    // Writing the same batch again changes nothing.
    l.put_revs(&batch).await.unwrap();
    assert_eq!(seq(l).await, N as u64);
}

#[cfg(test)]
mod memory {
    use super::Subject;
    use crate::MemoryLocal;

    /// [`MemoryLocal`] lives in memory only: reopening keeps the same object.
    struct Memory(MemoryLocal);

    impl Subject for Memory {
        type Store = MemoryLocal;
        fn store(&self) -> &MemoryLocal {
            &self.0
        }
        async fn reopen(&mut self) {}
    }

    macro_rules! memory_case {
        ($name:ident) => {
            #[test]
            fn $name() {
                let mut s = Memory(MemoryLocal::new("memory-instance"));
                block_on(super::$name(&mut s));
            }
        };
    }

    crate::for_each_local_case!(memory_case);

    /// MemoryLocal's futures never wait, so polling once finishes them.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("MemoryLocal never waits"),
        }
    }
}
