//! The device side: the local document store the replicator reads from and writes to. The
//! app implements [`Local`] over IndexedDB (one record per document holding its [`DocTree`],
//! a sequence index, and the replication logs); [`MemoryLocal`] is the in-memory one of the
//! tests and the reference for that implementation.

use crate::doc::RevDoc;
use crate::rev::Rev;
use crate::tree::{DocTree, EditError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One changed document of the local store's feed: its sequence number and its leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalChange {
    pub seq: u64,
    pub id: String,
    pub leaves: Vec<Rev>,
}

/// A local document store. Every write bumps a store-wide sequence number and gives the
/// written document that number (a document appears once in the feed, at its latest
/// change), like CouchDB's `update_seq`.
#[allow(async_fn_in_trait)]
pub trait Local {
    /// An id of this store, made once (random) and kept with its data: it names this
    /// device in the replication ids, so a fresh store never reuses another's checkpoints.
    async fn instance_id(&self) -> Result<String, String>;
    /// The sequence number of the latest write (0 for an empty store).
    async fn update_seq(&self) -> Result<u64, String>;
    /// Documents changed after `since`, in sequence order, at most `limit`.
    async fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<LocalChange>, String>;
    /// Of these revisions, the ones this store lacks (`_revs_diff`).
    async fn revs_diff(
        &self,
        revs: &BTreeMap<String, Vec<Rev>>,
    ) -> Result<BTreeMap<String, Vec<Rev>>, String>;
    /// These revisions with their history, the ones this store has.
    async fn get_revs(&self, wanted: &[(String, Rev)]) -> Result<Vec<RevDoc>, String>;
    /// Stores replicated revisions as they are (`new_edits=false`), in one transaction.
    async fn put_revs(&self, docs: &[RevDoc]) -> Result<(), String>;
    /// [`Local::put_revs`] of documents the caller believes this store does not have (a pull
    /// into an empty store). Same outcome; a store may write them without reading them
    /// first, as long as a document that does exist after all is still merged.
    async fn put_new_revs(&self, docs: &[RevDoc]) -> Result<(), String> {
        self.put_revs(docs).await
    }
    /// A replication log (`_local/{id}` on the device side).
    async fn get_checkpoint(&self, id: &str) -> Result<Option<Value>, String>;
    async fn put_checkpoint(&self, id: &str, log: &Value) -> Result<(), String>;
}

/// One document as the device keeps it: its revision tree, and the revision whose content the
/// app's own store holds (`None` while a replicated document is not applied yet, or for a
/// document the app never had). The app's sync layer compares the store with `applied` to
/// find its own edits, and the winner with `applied` to find what it must apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LocalDoc {
    pub tree: DocTree,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<String>,
}

impl LocalDoc {
    /// The applied revision, parsed.
    pub fn applied_rev(&self) -> Option<Rev> {
        self.applied.as_deref().and_then(Rev::parse)
    }
}

/// Reading and writing whole documents of a [`Local`] store: what the app's sync layer needs
/// on top of replication (its own edits, conflict settlements, the applied marks). The
/// caller edits the [`DocTree`] (`edit`, `resolve`) and writes it back.
#[allow(async_fn_in_trait)]
pub trait Docs: Local {
    /// These documents, aligned with `ids` (`None` for an unknown id).
    async fn get_docs(&self, ids: &[String]) -> Result<Vec<Option<LocalDoc>>, String>;
    /// Every document, ordered by id.
    async fn all_docs(&self) -> Result<Vec<(String, LocalDoc)>, String>;
    /// The ids of the documents with an applied mark, ordered.
    async fn applied_ids(&self) -> Result<Vec<String>, String> {
        Ok(self
            .all_docs()
            .await?
            .into_iter()
            .filter(|(_, d)| d.applied.is_some())
            .map(|(id, _)| id)
            .collect())
    }
    /// The documents changed after `since` (as [`Local::changes_since`]: in sequence order,
    /// at most `limit`), whole, with their sequence numbers. A store that reads the feed's
    /// rows whole answers this with one read.
    async fn changed_docs(
        &self,
        since: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String, LocalDoc)>, String> {
        let changes = self.changes_since(since, limit).await?;
        let ids: Vec<String> = changes.iter().map(|c| c.id.clone()).collect();
        let docs = self.get_docs(&ids).await?;
        Ok(changes
            .into_iter()
            .zip(docs)
            .filter_map(|(c, d)| Some((c.seq, c.id, d?)))
            .collect())
    }
    /// Moves the applied mark of documents, each `(id, seq, rev)`, where the document is
    /// still at sequence number `seq` (as `changed_docs` read it); a document written since
    /// keeps its mark. One transaction; the trees are not written again.
    async fn mark_applied(&self, marks: &[(String, u64, String)]) -> Result<(), String>;
    /// Writes documents in ONE transaction. A document whose tree differs from the stored one
    /// gets the next sequence number (it appears in the feed); one whose only change is
    /// `applied` keeps its number.
    async fn put_docs(&self, docs: &[(String, LocalDoc)]) -> Result<(), String>;
}

/// What a reader sees of one document: the winning revision and the live losers.
#[derive(Debug, Clone, PartialEq)]
pub struct DocState {
    pub rev: Rev,
    pub deleted: bool,
    pub body: Map<String, Value>,
    pub conflicts: Vec<Rev>,
}

#[derive(Default)]
struct Inner {
    docs: BTreeMap<String, (DocTree, u64)>,
    applied: BTreeMap<String, String>,
    by_seq: BTreeMap<u64, String>,
    seq: u64,
    checkpoints: BTreeMap<String, Value>,
}

impl Inner {
    fn touch(&mut self, id: &str) {
        self.seq += 1;
        let seq = self.seq;
        let entry = self.docs.entry(id.to_string()).or_default();
        if entry.1 != 0 {
            self.by_seq.remove(&entry.1);
        }
        entry.1 = seq;
        self.by_seq.insert(seq, id.to_string());
    }
}

/// An in-memory [`Local`], with the edit operations the app's store will offer.
pub struct MemoryLocal {
    instance: String,
    inner: Mutex<Inner>,
}

impl MemoryLocal {
    pub fn new(instance_id: &str) -> Self {
        MemoryLocal {
            instance: instance_id.to_string(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates or edits a document on top of `base` (see [`DocTree::edit`]).
    pub fn put(&self, id: &str, base: Option<&Rev>, body: Value) -> Result<Rev, EditError> {
        let body = match body {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.write(id, base, false, body)
    }

    /// Settles a conflict (see [`DocTree::resolve`]).
    pub fn resolve(
        &self,
        id: &str,
        winner: &Rev,
        body: Value,
        losers: &[Rev],
    ) -> Result<Rev, EditError> {
        let body = match body {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let mut inner = self.lock();
        let mut tree = inner.docs.get(id).map(|d| d.0.clone()).unwrap_or_default();
        let rev = tree.resolve(winner, body, losers)?;
        inner.touch(id);
        inner.docs.get_mut(id).expect("touched").0 = tree;
        Ok(rev)
    }

    /// Deletes the revision `base` (a leaf) with a tombstone.
    pub fn delete(&self, id: &str, base: &Rev) -> Result<Rev, EditError> {
        self.write(id, Some(base), true, Map::new())
    }

    fn write(
        &self,
        id: &str,
        base: Option<&Rev>,
        deleted: bool,
        body: Map<String, Value>,
    ) -> Result<Rev, EditError> {
        let mut inner = self.lock();
        let mut tree = inner.docs.get(id).map(|d| d.0.clone()).unwrap_or_default();
        let rev = tree.edit(base, deleted, body)?;
        inner.touch(id);
        inner.docs.get_mut(id).expect("touched").0 = tree;
        Ok(rev)
    }

    /// The document as a reader sees it (`None` when unknown).
    pub fn get(&self, id: &str) -> Option<DocState> {
        let inner = self.lock();
        let tree = &inner.docs.get(id)?.0;
        let rev = tree.winner()?;
        Some(DocState {
            deleted: tree.is_deleted(&rev),
            body: tree.body(&rev).cloned().unwrap_or_default(),
            conflicts: tree.conflicts(),
            rev,
        })
    }

    /// The whole revision tree of a document (for conflict views and merges).
    pub fn tree(&self, id: &str) -> Option<DocTree> {
        self.lock().docs.get(id).map(|d| d.0.clone())
    }

    /// Every document as a reader sees it, by id.
    pub fn snapshot(&self) -> BTreeMap<String, DocState> {
        let ids: Vec<String> = self.lock().docs.keys().cloned().collect();
        ids.into_iter()
            .filter_map(|id| Some((id.clone(), self.get(&id)?)))
            .collect()
    }
}

impl Local for MemoryLocal {
    async fn instance_id(&self) -> Result<String, String> {
        Ok(self.instance.clone())
    }

    async fn update_seq(&self) -> Result<u64, String> {
        Ok(self.lock().seq)
    }

    async fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<LocalChange>, String> {
        let inner = self.lock();
        Ok(inner
            .by_seq
            .range(since + 1..)
            .take(limit)
            .map(|(seq, id)| LocalChange {
                seq: *seq,
                id: id.clone(),
                leaves: inner.docs[id].0.leaves(),
            })
            .collect())
    }

    async fn revs_diff(
        &self,
        revs: &BTreeMap<String, Vec<Rev>>,
    ) -> Result<BTreeMap<String, Vec<Rev>>, String> {
        let inner = self.lock();
        let mut out = BTreeMap::new();
        for (id, rs) in revs {
            let missing: Vec<Rev> = rs
                .iter()
                .filter(|r| !inner.docs.get(id).is_some_and(|d| d.0.contains(r)))
                .cloned()
                .collect();
            if !missing.is_empty() {
                out.insert(id.clone(), missing);
            }
        }
        Ok(out)
    }

    async fn get_revs(&self, wanted: &[(String, Rev)]) -> Result<Vec<RevDoc>, String> {
        let inner = self.lock();
        Ok(wanted
            .iter()
            .filter_map(|(id, rev)| inner.docs.get(id)?.0.rev_doc(id, rev))
            .collect())
    }

    async fn put_revs(&self, docs: &[RevDoc]) -> Result<(), String> {
        let mut inner = self.lock();
        for d in docs {
            let mut tree = inner
                .docs
                .get(&d.id)
                .map(|e| e.0.clone())
                .unwrap_or_default();
            if tree.insert(d) {
                inner.touch(&d.id);
                inner.docs.get_mut(&d.id).expect("touched").0 = tree;
            }
        }
        Ok(())
    }

    async fn get_checkpoint(&self, id: &str) -> Result<Option<Value>, String> {
        Ok(self.lock().checkpoints.get(id).cloned())
    }

    async fn put_checkpoint(&self, id: &str, log: &Value) -> Result<(), String> {
        self.lock().checkpoints.insert(id.to_string(), log.clone());
        Ok(())
    }
}

impl Docs for MemoryLocal {
    async fn get_docs(&self, ids: &[String]) -> Result<Vec<Option<LocalDoc>>, String> {
        let inner = self.lock();
        Ok(ids
            .iter()
            .map(|id| {
                inner.docs.get(id).map(|d| LocalDoc {
                    tree: d.0.clone(),
                    applied: inner.applied.get(id).cloned(),
                })
            })
            .collect())
    }

    async fn all_docs(&self) -> Result<Vec<(String, LocalDoc)>, String> {
        let inner = self.lock();
        Ok(inner
            .docs
            .iter()
            .map(|(id, d)| {
                (
                    id.clone(),
                    LocalDoc {
                        tree: d.0.clone(),
                        applied: inner.applied.get(id).cloned(),
                    },
                )
            })
            .collect())
    }

    async fn applied_ids(&self) -> Result<Vec<String>, String> {
        Ok(self.lock().applied.keys().cloned().collect())
    }

    async fn mark_applied(&self, marks: &[(String, u64, String)]) -> Result<(), String> {
        let mut inner = self.lock();
        for (id, seq, rev) in marks {
            if inner.docs.get(id).map(|d| d.1) == Some(*seq) {
                inner.applied.insert(id.clone(), rev.clone());
            }
        }
        Ok(())
    }

    async fn put_docs(&self, docs: &[(String, LocalDoc)]) -> Result<(), String> {
        let mut inner = self.lock();
        for (id, doc) in docs {
            if inner.docs.get(id).map(|d| &d.0) != Some(&doc.tree) {
                inner.touch(id);
                inner.docs.get_mut(id).expect("touched").0 = doc.tree.clone();
            }
            match &doc.applied {
                Some(rev) => inner.applied.insert(id.clone(), rev.clone()),
                None => inner.applied.remove(id),
            };
        }
        Ok(())
    }
}
