//! The revision tree of one document, as a local store keeps it: every known revision with
//! its parent, the body of the revisions this device saw (leaves always, ancestors when it
//! had them: the common ancestor of a conflict is what a three-way merge needs), and the
//! tombstone flag. The winner among the leaves follows CouchDB's deterministic rule, so
//! every replica names the same winner without talking to the others.

use crate::doc::RevDoc;
use crate::rev::Rev;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocTree {
    /// Revision id (`N-hash`) → node. String keys so the tree serialises as a JSON object.
    nodes: BTreeMap<String, Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Node {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    /// `None` for a revision known only by id (an ancestor another replica told us about).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<Map<String, Value>>,
}

/// Why a local edit was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The edit names a base revision that is not a leaf (someone else edited first), or
    /// names none while the document exists and is not deleted: CouchDB's 409.
    Conflict,
}

impl DocTree {
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn contains(&self, rev: &Rev) -> bool {
        self.nodes.contains_key(&rev.to_string())
    }

    /// The leaves: revisions no other revision names as parent, in CouchDB's order.
    pub fn leaves(&self) -> Vec<Rev> {
        let parents: BTreeSet<&str> = self
            .nodes
            .values()
            .filter_map(|n| n.parent.as_deref())
            .collect();
        let mut leaves: Vec<Rev> = self
            .nodes
            .keys()
            .filter(|k| !parents.contains(k.as_str()))
            .filter_map(|k| Rev::parse(k))
            .collect();
        leaves.sort();
        leaves
    }

    /// CouchDB's winner: among the leaves, a non-deleted one before a deleted one, then the
    /// highest generation, then the highest hash (text order).
    pub fn winner(&self) -> Option<Rev> {
        self.leaves()
            .into_iter()
            .max_by(|a, b| (!self.is_deleted(a), a).cmp(&(!self.is_deleted(b), b)))
    }

    /// The losing leaves that are not deleted (CouchDB's `_conflicts`), highest first.
    pub fn conflicts(&self) -> Vec<Rev> {
        let winner = self.winner();
        let mut c: Vec<Rev> = self
            .leaves()
            .into_iter()
            .filter(|r| Some(r) != winner.as_ref() && !self.is_deleted(r))
            .collect();
        c.reverse();
        c
    }

    /// The winner is a tombstone: the document reads as deleted.
    pub fn is_deleted_doc(&self) -> bool {
        self.winner().is_none_or(|w| self.is_deleted(&w))
    }

    pub fn is_deleted(&self, rev: &Rev) -> bool {
        self.nodes.get(&rev.to_string()).is_some_and(|n| n.deleted)
    }

    /// The body of a revision when this replica has it.
    pub fn body(&self, rev: &Rev) -> Option<&Map<String, Value>> {
        self.nodes.get(&rev.to_string())?.body.as_ref()
    }

    /// The revision and its ancestors, newest first, as far as they are known.
    pub fn path(&self, rev: &Rev) -> Vec<Rev> {
        let mut out = Vec::new();
        let mut cur = Some(rev.to_string());
        while let Some(k) = cur {
            let Some(node) = self.nodes.get(&k) else {
                break;
            };
            if let Some(r) = Rev::parse(&k) {
                out.push(r);
            }
            cur = node.parent.clone();
        }
        out
    }

    /// The newest revision both `a` and `b` descend from (the base of a three-way merge).
    pub fn common_ancestor(&self, a: &Rev, b: &Rev) -> Option<Rev> {
        let on_a: BTreeSet<Rev> = self.path(a).into_iter().collect();
        self.path(b).into_iter().find(|r| on_a.contains(r))
    }

    /// A local edit on top of `base` (a leaf; `None` for a new document, or to recreate a
    /// deleted one). Returns the new revision id.
    pub fn edit(
        &mut self,
        base: Option<&Rev>,
        deleted: bool,
        body: Map<String, Value>,
    ) -> Result<Rev, EditError> {
        let parent = match base {
            Some(b) => {
                if !self.leaves().contains(b) {
                    return Err(EditError::Conflict);
                }
                Some(b.clone())
            }
            None => match self.winner() {
                None => None,
                Some(w) if self.is_deleted(&w) => Some(w),
                Some(_) => return Err(EditError::Conflict),
            },
        };
        let rev = Rev::next(parent.as_ref(), deleted, &Value::Object(body.clone()));
        self.nodes.insert(
            rev.to_string(),
            Node {
                parent: parent.map(|p| p.to_string()),
                deleted,
                body: Some(body),
            },
        );
        Ok(rev)
    }

    /// A local edit on top of any known revision, or none (a new root), leaf or not: when
    /// the device's own data was edited from a revision another replica has extended since,
    /// the edit becomes a conflicting branch on purpose, settled like any conflict.
    pub fn branch(&mut self, parent: Option<&Rev>, deleted: bool, body: Map<String, Value>) -> Rev {
        let rev = Rev::next(parent, deleted, &Value::Object(body.clone()));
        self.nodes.entry(rev.to_string()).or_insert(Node {
            parent: parent.map(|p| p.to_string()),
            deleted,
            body: Some(body),
        });
        rev
    }

    /// Settles a conflict: `body` becomes a new revision on top of `winner`, and every leaf in
    /// `losers` gets a tombstone. The ids are deterministic, so two devices that settle the
    /// same conflict with the same body write the same revisions and do not conflict again.
    pub fn resolve(
        &mut self,
        winner: &Rev,
        body: Map<String, Value>,
        losers: &[Rev],
    ) -> Result<Rev, EditError> {
        let leaves = self.leaves();
        if !leaves.contains(winner) || losers.iter().any(|l| !leaves.contains(l) || l == winner) {
            return Err(EditError::Conflict);
        }
        for loser in losers {
            self.edit(Some(loser), true, Map::new())?;
        }
        self.edit(Some(winner), false, body)
    }

    /// Stores a revision with its history as a replicator hands it over
    /// (`new_edits=false`): missing ancestors are added as id-only nodes, an existing
    /// revision keeps what it has (it gains the body if it had none). Returns whether the
    /// tree changed.
    pub fn insert(&mut self, doc: &RevDoc) -> bool {
        let mut changed = false;
        let path = doc.history();
        for (i, rev) in path.iter().enumerate() {
            let parent = path.get(i + 1).map(|p| p.to_string());
            match self.nodes.get_mut(&rev.to_string()) {
                Some(node) => {
                    if i == 0 && node.body.is_none() {
                        node.body = Some(doc.body.clone());
                        node.deleted = doc.deleted;
                        changed = true;
                    }
                    if node.parent.is_none() && parent.is_some() {
                        node.parent = parent;
                        changed = true;
                    }
                }
                None => {
                    self.nodes.insert(
                        rev.to_string(),
                        Node {
                            parent,
                            deleted: i == 0 && doc.deleted,
                            body: (i == 0).then(|| doc.body.clone()),
                        },
                    );
                    changed = true;
                }
            }
        }
        changed
    }

    /// Compaction, as CouchDB's but shallower: drops the bodies of the revisions more than
    /// `depth` generations below every leaf, except `keep`. The revision ids and the tree's
    /// shape stay, so the history replicates as before; a conflict whose common ancestor
    /// lost its body merges without a base (every differing field is a collision to choose).
    /// Returns whether a body was dropped.
    pub fn compact(&mut self, keep: &[Rev], depth: usize) -> bool {
        let mut kept: BTreeSet<String> = keep.iter().map(Rev::to_string).collect();
        for leaf in self.leaves() {
            let recent = self.path(&leaf).into_iter().take(depth + 1);
            kept.extend(recent.map(|r| r.to_string()));
        }
        let mut changed = false;
        for (rev, node) in self.nodes.iter_mut() {
            if node.body.is_some() && !kept.contains(rev) {
                node.body = None;
                changed = true;
            }
        }
        changed
    }

    /// How many revisions this replica has the body of.
    pub fn bodies(&self) -> usize {
        self.nodes.values().filter(|n| n.body.is_some()).count()
    }

    /// The revision as a replicator sends it: body, tombstone flag and history.
    pub fn rev_doc(&self, id: &str, rev: &Rev) -> Option<RevDoc> {
        let node = self.nodes.get(&rev.to_string())?;
        let path = self.path(rev);
        Some(RevDoc {
            id: id.to_string(),
            rev: rev.clone(),
            deleted: node.deleted,
            body: node.body.clone().unwrap_or_default(),
            ancestors: path.into_iter().skip(1).map(|r| r.hash).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn compaction_keeps_the_recent_history_of_every_leaf_and_what_is_kept() {
        let mut t = DocTree::default();
        let mut revs = vec![t.edit(None, false, body(json!({"n": 0}))).unwrap()];
        for n in 1..8 {
            let last = revs.last().cloned();
            revs.push(
                t.edit(last.as_ref(), false, body(json!({ "n": n })))
                    .unwrap(),
            );
        }
        // A branch from revision 2.
        let side = t.branch(Some(&revs[2]), false, body(json!({"n": "side"})));
        assert_eq!(t.bodies(), 9);
        assert!(t.compact(&[revs[1].clone()], 2));
        // Kept: the leaves 7 and side, two generations below each (6, 5; 2, 1), and 1.
        let has = |r: &Rev| t.body(r).is_some();
        let kept: Vec<usize> = (0..8).filter(|&i| has(&revs[i])).collect();
        assert_eq!(kept, [1, 2, 5, 6, 7]);
        assert!(has(&side));
        assert_eq!(t.bodies(), 6);
        // The shape stays: every id, the paths, the winner; nothing more to drop.
        assert_eq!(
            t.path(&revs[7]),
            revs.iter().rev().cloned().collect::<Vec<_>>()
        );
        assert_eq!(t.common_ancestor(&revs[7], &side), Some(revs[2].clone()));
        assert!(!t.compact(&[revs[1].clone()], 2));
        // A replicated copy of the leaf still carries its whole history of ids.
        assert_eq!(t.rev_doc("d", &revs[7]).unwrap().ancestors.len(), 7);
    }

    #[test]
    fn edits_chain_and_refuse_stale_bases() {
        let mut t = DocTree::default();
        let r1 = t.edit(None, false, body(json!({"n": 1}))).unwrap();
        assert_eq!(
            t.edit(None, false, body(json!({"n": 9}))),
            Err(EditError::Conflict)
        );
        let r2 = t.edit(Some(&r1), false, body(json!({"n": 2}))).unwrap();
        assert_eq!(
            t.edit(Some(&r1), false, body(json!({"n": 3}))),
            Err(EditError::Conflict)
        );
        assert_eq!(t.leaves(), vec![r2.clone()]);
        assert_eq!(t.winner(), Some(r2.clone()));
        assert_eq!(t.path(&r2), vec![r2.clone(), r1.clone()]);
        let r3 = t.edit(Some(&r2), true, Map::new()).unwrap();
        assert!(t.is_deleted_doc());
        // Recreating a deleted document extends the tombstone.
        let r4 = t.edit(None, false, body(json!({"n": 4}))).unwrap();
        assert_eq!(t.path(&r4)[1], r3);
        assert!(!t.is_deleted_doc());
    }

    #[test]
    fn winner_is_couchdbs_rule_and_conflicts_are_the_live_losers() {
        let mut t = DocTree::default();
        let r1 = t.edit(None, false, body(json!({"n": 1}))).unwrap();
        let doc = |hash: &str, deleted: bool, pos_parent: &Rev| RevDoc {
            id: "d".into(),
            rev: Rev {
                pos: pos_parent.pos + 1,
                hash: hash.into(),
            },
            deleted,
            body: Map::new(),
            ancestors: vec![pos_parent.hash.clone()],
        };
        t.insert(&doc("aaa", false, &r1));
        t.insert(&doc("bbb", false, &r1));
        assert_eq!(t.winner().unwrap().hash, "bbb");
        assert_eq!(t.conflicts().len(), 1);
        assert_eq!(t.conflicts()[0].hash, "aaa");
        // A deleted leaf loses to a live one even with a higher generation or hash.
        let bbb = t.winner().unwrap();
        t.edit(Some(&bbb), true, Map::new()).unwrap();
        assert_eq!(t.winner().unwrap().hash, "aaa");
        assert!(t.conflicts().is_empty());
        assert_eq!(t.common_ancestor(&bbb, &t.winner().unwrap()), Some(r1));
    }

    #[test]
    fn resolve_extends_the_winner_and_buries_the_losers_deterministically() {
        let mut t = DocTree::default();
        let r1 = t.edit(None, false, body(json!({"n": 1}))).unwrap();
        let mut other = t.clone();
        let a = t.edit(Some(&r1), false, body(json!({"n": 2}))).unwrap();
        let b = other.edit(Some(&r1), false, body(json!({"n": 3}))).unwrap();
        t.insert(&other.rev_doc("d", &b).unwrap());
        other.insert(&t.rev_doc("d", &a).unwrap());
        let (w, l) = (t.winner().unwrap(), t.conflicts());
        assert_eq!(
            t.resolve(&w, body(json!({"n": 4})), std::slice::from_ref(&r1)),
            Err(EditError::Conflict)
        );
        assert_eq!(
            t.resolve(&w, body(json!({"n": 4})), std::slice::from_ref(&w)),
            Err(EditError::Conflict)
        );
        let merged = t.resolve(&w, body(json!({"n": 4})), &l).unwrap();
        assert!(t.conflicts().is_empty());
        assert_eq!(t.winner(), Some(merged.clone()));
        // The other replica settling the same way writes the very same revisions.
        assert_eq!(other.resolve(&w, body(json!({"n": 4})), &l), Ok(merged));
        assert_eq!(other.leaves(), t.leaves());
    }

    #[test]
    fn insert_adds_unknown_ancestors_as_stubs_and_is_idempotent() {
        let mut t = DocTree::default();
        let d = RevDoc {
            id: "d".into(),
            rev: Rev::parse("3-c").unwrap(),
            deleted: false,
            body: body(json!({"x": 1})),
            ancestors: vec!["b".into(), "a".into()],
        };
        assert!(t.insert(&d));
        assert!(!t.insert(&d));
        assert_eq!(t.leaves(), vec![d.rev.clone()]);
        assert!(t.body(&Rev::parse("2-b").unwrap()).is_none());
        assert_eq!(t.rev_doc("d", &d.rev), Some(d));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<DocTree>(&json).unwrap(), t);
    }
}
