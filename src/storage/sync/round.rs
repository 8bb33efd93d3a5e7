//! One sync round of a device: its own edits become revisions, replication runs both ways,
//! conflicts are settled, and what others changed is applied to the store.
//!
//! The store stays the one owner of the app's data; the document store ([`Docs`]) holds
//! the revision trees of the sealed documents and, per document, the revision the store
//! reflects (`applied`). A round:
//!
//! 1. **Own edits.** Every synced record is sealed (deterministically: same content, same
//!    body) and compared with the body of its `applied` revision. A difference is an edit
//!    made on this device since the last round: a new revision on top of `applied` (a
//!    conflicting branch when another device has extended it meanwhile). A document whose
//!    record is gone gets a tombstone.
//! 2. **Replication** (`praxisbote_sync::pull` before step 1, `push` after it), in
//!    batches, resumable.
//! 3. **Conflicts** are settled the same way on every device: persons with
//!    `sync_merge::merge_person` (consent histories as a union, other fields one by one,
//!    collisions keep CouchDB's winner and are listed for the "Konflikte" view), other
//!    records keep the winner. The settlement is a deterministic revision, so devices that
//!    settle alike write the same one.
//! 4. **Apply.** Where the winner is not the `applied` revision, the store gets the winner's
//!    record (or loses it, for a tombstone) and `applied` moves on. Persons are written in
//!    one store transaction that first checks they are still what `applied` says: a person
//!    edited on this device in the meantime is left alone, and the next round turns the
//!    edit into a branch.
//!
//! A round cut anywhere loses nothing: replication resumes from its checkpoints, and a
//! store write whose `applied` mark was not recorded is recognised in step 1 (the store
//! already holds the winner's content).

use std::collections::{BTreeMap, BTreeSet};

use praxisbote_sync::{
    Direction, DocTree, Docs, LocalDoc, Options, Progress, Remote, Rev, SyncError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::envelope::SyncKeys;
use super::records::{self, add_to_batch, Apply, Plain};
use crate::domain::sync_merge::merge_person;
use crate::domain::{Person, PersonId, PersonRecord};
use crate::storage::crypto::LockState;
use crate::storage::records::{person, Origin, Stored};
use crate::storage::{Collection, DocOp, OwnedWriteBatch, Store, StoreError, StoreExt};

/// Meta key of the collisions waiting for a person's choice ("Konflikte").
pub const CONFLICTS_KEY: &str = "sync_conflicts";

/// Why a round (or connecting) stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("replication: {0}")]
    Sync(#[from] SyncError),
    /// Sync needs the practice key: the data is not encrypted yet.
    #[error("the data is not encrypted")]
    NotEncrypted,
    /// The store is locked.
    #[error("the store is locked")]
    Locked,
    /// The server's practice key is another than this device's.
    #[error("the server holds another practice's data")]
    KeyMismatch,
    /// Joining: the server holds no practice yet.
    #[error("the server holds no practice")]
    NoPractice,
    /// Joining: the passphrase or recovery key does not open the server's key.
    #[error("wrong passphrase or recovery key")]
    WrongSecret,
    /// Joining: the server's keyring opens, but was not made by a device holding its key
    /// (its authenticator does not verify).
    #[error("the server's keyring is not authentic")]
    ForgedKeyring,
}

/// A collision of two versions of one person, kept until someone chooses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonConflict {
    pub person: PersonId,
    /// The colliding fields as paths (`"email"`, `"address.street"`).
    pub fields: Vec<String>,
    /// The version CouchDB's rule chose; its values are the ones in use.
    pub winner: Person,
    /// The other version.
    pub loser: Person,
}

/// What a round did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Revisions made from this device's own edits.
    pub own_edits: usize,
    pub pushed: Progress,
    pub pulled: Progress,
    /// Conflicts settled, and the persons with a collision for the "Konflikte" view.
    pub settled: usize,
    pub collisions: Vec<PersonId>,
    /// What was applied to the store (for refreshing views).
    pub changed: Changed,
    /// Documents that could not be applied (not readable with this key, or refused by the
    /// store), left for the next round.
    pub skipped: Vec<String>,
    /// This device took the server's newer keyring (the passphrase was changed on another
    /// device): the data key in memory stays; the next unlock needs the new passphrase.
    pub keyring_taken: bool,
}

/// The parts of the store a round changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changed {
    pub persons: Vec<PersonId>,
    pub appointments: bool,
    pub settings: bool,
    pub collections: Vec<Collection>,
}

impl Changed {
    pub fn is_empty(&self) -> bool {
        *self == Changed::default()
    }

    fn note(&mut self, origin: &Origin) {
        match origin {
            Origin::Person(id) => self.persons.push(id.clone()),
            Origin::Appointment(_) => self.appointments = true,
            Origin::Settings => self.settings = true,
            Origin::Document(c, _) => {
                if !self.collections.contains(c) {
                    self.collections.push(*c)
                }
            }
        }
    }
}

/// The sync keys of an unlocked, encrypted store.
pub fn sync_keys(store: &dyn Store) -> Result<SyncKeys, SyncFailure> {
    match store.vault().lock_state() {
        LockState::Plain => return Err(SyncFailure::NotEncrypted),
        LockState::Locked | LockState::Sending => return Err(SyncFailure::Locked),
        LockState::Unlocked => {}
    }
    let key = store.vault().data_key().ok_or(SyncFailure::Locked)?;
    Ok(SyncKeys::new(&key))
}

/// One round (see the module docs). `progress` sees the replication's batches.
pub async fn round<L: Docs, R: Remote>(
    store: &dyn Store,
    local: &L,
    remote: &R,
    opts: &Options,
    progress: &mut dyn FnMut(Direction, &Progress),
) -> Result<Report, SyncFailure> {
    let keys = sync_keys(store)?;
    // The server still (or again, after it lost its data) holds this practice's keyring,
    // and no other practice's: checked before anything is written.
    let keyring_taken = super::publish(store, remote).await?;
    // Pull first: this device's edits are then made on top of everything it can know, so
    // a device whose document store is new (after joining, restoring or setting up the
    // passphrase) recognises records the server already has instead of branching them.
    let pulled =
        praxisbote_sync::pull(remote, local, opts, &mut |p| progress(Direction::Pull, p)).await?;
    let mut report = Report {
        own_edits: own_edits(store, local, &keys).await?,
        pulled,
        keyring_taken,
        ..Report::default()
    };
    report.pushed =
        praxisbote_sync::push(remote, local, opts, &mut |p| progress(Direction::Push, p)).await?;
    settle_and_apply(store, local, &keys, &mut report).await?;
    if report.settled > 0 {
        // Settlements go out at once, so the other devices take them instead of settling
        // (alike) themselves.
        let again =
            praxisbote_sync::push(remote, local, opts, &mut |p| progress(Direction::Push, p))
                .await?;
        report.pushed.docs_written += again.docs_written;
    }
    Ok(report)
}

/// Step 1: this device's edits since the last round become revisions.
pub async fn own_edits<L: Docs>(
    store: &dyn Store,
    local: &L,
    keys: &SyncKeys,
) -> Result<usize, SyncFailure> {
    let records = records::read_all(store).await?;
    let docs: BTreeMap<String, LocalDoc> = local
        .all_docs()
        .await
        .map_err(SyncError::Local)?
        .into_iter()
        .collect();
    let mut seen = BTreeSet::new();
    let mut writes = Vec::new();
    let mut edits = 0;
    for (origin, stored) in &records {
        let id = keys.doc_id(origin.store_name(), origin.key());
        let body = keys.seal(&id, &Plain::new(origin, stored).to_bytes());
        let mut doc = docs.get(&id).cloned().unwrap_or_default();
        match record_edit(&mut doc, false, body) {
            Mark::Same => {}
            Mark::Applied => writes.push((id.clone(), doc)),
            Mark::Edit => {
                edits += 1;
                writes.push((id.clone(), doc))
            }
        }
        seen.insert(id);
    }
    for (id, doc) in &docs {
        let live_applied = doc
            .applied_rev()
            .is_some_and(|a| doc.tree.contains(&a) && !doc.tree.is_deleted(&a));
        if seen.contains(id) || !live_applied {
            continue;
        }
        let mut doc = doc.clone();
        if record_edit(&mut doc, true, Map::new()) == Mark::Edit {
            edits += 1;
        }
        writes.push((id.clone(), doc));
    }
    if !writes.is_empty() {
        local.put_docs(&writes).await.map_err(SyncError::Local)?;
    }
    Ok(edits)
}

#[derive(Debug, PartialEq)]
enum Mark {
    /// The store holds what `applied` says.
    Same,
    /// The store holds the winner's content already: only `applied` moves.
    Applied,
    /// A new revision.
    Edit,
}

/// The store holds `body` (or nothing, `deleted`) for this document: compares it with the
/// applied revision and records an edit when it differs.
fn record_edit(doc: &mut LocalDoc, deleted: bool, body: Map<String, Value>) -> Mark {
    let holds = |tree: &DocTree, rev: &Rev| {
        tree.contains(rev)
            && tree.is_deleted(rev) == deleted
            && (deleted || tree.body(rev) == Some(&body))
    };
    let applied = doc.applied_rev();
    if applied.as_ref().is_some_and(|a| holds(&doc.tree, a)) {
        return Mark::Same;
    }
    if let Some(w) = doc.tree.winner().filter(|w| holds(&doc.tree, w)) {
        doc.applied = Some(w.to_string());
        return Mark::Applied;
    }
    let leaves = doc.tree.leaves();
    let winner_gone = doc.tree.winner().is_none_or(|w| doc.tree.is_deleted(&w));
    let rev = match &applied {
        Some(a) if leaves.contains(a) => doc.tree.edit(Some(a), deleted, body.clone()),
        None if winner_gone => doc.tree.edit(None, deleted, body.clone()),
        _ => Err(praxisbote_sync::EditError::Conflict),
    }
    .unwrap_or_else(|_| doc.tree.branch(applied.as_ref(), deleted, body));
    doc.applied = Some(rev.to_string());
    Mark::Edit
}

/// A document's plaintext at `rev`, when it has a body this key opens.
fn plain_at(keys: &SyncKeys, id: &str, tree: &DocTree, rev: &Rev) -> Option<Plain> {
    if tree.is_deleted(rev) {
        return None;
    }
    Plain::from_bytes(&keys.open(id, tree.body(rev)?)?)
}

fn person_of(plain: &Plain) -> Option<PersonRecord> {
    person::decode(&plain.stored()).ok()
}

/// Steps 3 and 4.
async fn settle_and_apply<L: Docs>(
    store: &dyn Store,
    local: &L,
    keys: &SyncKeys,
    report: &mut Report,
) -> Result<(), SyncFailure> {
    let docs = local.all_docs().await.map_err(SyncError::Local)?;
    let mut settled: Vec<(String, LocalDoc)> = Vec::new();
    let mut plans: Vec<Plan> = Vec::new();
    let mut collisions: Vec<PersonConflict> = Vec::new();
    for (id, mut doc) in docs {
        if id == super::KEYRING_DOC {
            continue;
        }
        let Some(mut winner) = doc.tree.winner() else {
            continue;
        };
        let losers = doc.tree.conflicts();
        if !losers.is_empty() {
            match settle(keys, &id, &doc.tree, &winner, &losers) {
                Some((body, collision)) => {
                    if let Ok(rev) = doc.tree.resolve(&winner, body, &losers) {
                        winner = rev;
                        report.settled += 1;
                        collisions.extend(collision);
                        settled.push((id.clone(), doc.clone()));
                    }
                }
                None => report.skipped.push(id.clone()),
            }
        }
        let applied = doc.applied_rev();
        if applied.as_ref() == Some(&winner) {
            continue;
        }
        let was = applied
            .as_ref()
            .and_then(|a| plain_at(keys, &id, &doc.tree, a));
        let change = if doc.tree.is_deleted(&winner) {
            // `None`: nothing of it was ever in the store, only the mark moves.
            was.as_ref().and_then(Plain::origin).map(Apply::Delete)
        } else {
            match plain_at(keys, &id, &doc.tree, &winner)
                .and_then(|p| Some(Apply::Put(p.origin()?, p.stored())))
            {
                Some(put) => Some(put),
                None => {
                    report.skipped.push(id.clone());
                    continue;
                }
            }
        };
        doc.applied = Some(winner.to_string());
        plans.push(Plan {
            id,
            doc,
            change,
            was: was.map(|p| p.stored()),
        });
    }
    if !settled.is_empty() {
        local.put_docs(&settled).await.map_err(SyncError::Local)?;
    }
    let applied = apply(store, &plans, &collisions, report).await?;
    let marks: Vec<(String, LocalDoc)> = plans
        .into_iter()
        .zip(applied)
        .filter(|(_, ok)| *ok)
        .map(|(p, _)| (p.id, p.doc))
        .collect();
    if !marks.is_empty() {
        local.put_docs(&marks).await.map_err(SyncError::Local)?;
    }
    report.collisions = collisions.into_iter().map(|c| c.person).collect();
    Ok(())
}

/// One document to apply to the store.
struct Plan {
    id: String,
    /// The document with `applied` moved to the winner.
    doc: LocalDoc,
    /// The store change (`None`: nothing to write, only the mark moves).
    change: Option<Apply>,
    /// What the store should hold now (the previously applied record), for persons' check.
    was: Option<Stored>,
}

/// The merged body of a conflicted document and the collision to show, or `None` when a
/// revision does not open with this key.
fn settle(
    keys: &SyncKeys,
    id: &str,
    tree: &DocTree,
    winner: &Rev,
    losers: &[Rev],
) -> Option<(Map<String, Value>, Option<PersonConflict>)> {
    let win = plain_at(keys, id, tree, winner)?;
    let Some(Origin::Person(person_id)) = win.origin() else {
        // Other records: CouchDB's winner stands (templates, settings, send-log batches
        // are edited as a whole; the loser stays in the revision history).
        return Some((keys.seal(id, &win.to_bytes()), None));
    };
    let mut merged = person_of(&win)?;
    let mut collision: Option<PersonConflict> = None;
    for loser in losers {
        let lose = person_of(&plain_at(keys, id, tree, loser)?)?;
        let base = tree
            .common_ancestor(winner, loser)
            .and_then(|b| plain_at(keys, id, tree, &b))
            .and_then(|p| person_of(&p));
        let m = merge_person(
            base.as_ref().map(|b| &b.person),
            &merged.person,
            &lose.person,
        );
        merged.person = m.person;
        if let Some(c) = m.conflict {
            let fields = match collision.take() {
                Some(prev) => prev.fields.into_iter().chain(c.fields).collect(),
                None => c.fields,
            };
            collision = Some(PersonConflict {
                person: person_id.clone(),
                fields,
                winner: c.winner,
                loser: c.loser,
            });
        }
    }
    let stored = person::encode(&merged).ok()?;
    let plain = Plain::new(&Origin::Person(person_id), &stored);
    Some((keys.seal(id, &plain.to_bytes()), collision))
}

/// Writes the plans to the store; returns, aligned with `plans`, which were applied.
async fn apply(
    store: &dyn Store,
    plans: &[Plan],
    collisions: &[PersonConflict],
    report: &mut Report,
) -> Result<Vec<bool>, SyncFailure> {
    let mut ok = vec![true; plans.len()];
    let all: Vec<usize> = (0..plans.len()).collect();
    let moved = match write_plans(store, plans, &all, collisions, &mut ok, report).await {
        Ok(moved) => moved,
        Err(StoreError::Locked) => return Err(SyncFailure::Locked),
        Err(_) => {
            // One record the store refuses (say an appointment of a person another device
            // deleted) must not hold up the rest: each goes on its own, and a refused one
            // stays unapplied until a later round brings what it needs.
            let mut moved = BTreeSet::new();
            for i in 0..plans.len() {
                if !ok[i] {
                    continue;
                }
                match write_plans(store, plans, &[i], &[], &mut ok, report).await {
                    Ok(m) => moved.extend(m),
                    Err(_) => {
                        ok[i] = false;
                        report.skipped.push(plans[i].id.clone());
                    }
                }
            }
            write_plans(store, plans, &[], collisions, &mut ok, report).await?;
            moved
        }
    };
    for (i, plan) in plans.iter().enumerate() {
        let Some(change) = &plan.change else { continue };
        let origin = match change {
            Apply::Put(o, _) | Apply::Delete(o) => o,
        };
        if let Origin::Person(id) = origin {
            if moved.contains(id) {
                ok[i] = false;
                continue;
            }
        }
        if ok[i] {
            report.changed.note(origin);
        }
    }
    Ok(ok)
}

/// Writes the plans `which` (and the collisions) in ONE store transaction; persons only
/// where the store still holds what was applied before (checked in that transaction).
/// Returns the persons left alone because they were edited meanwhile.
async fn write_plans(
    store: &dyn Store,
    plans: &[Plan],
    which: &[usize],
    collisions: &[PersonConflict],
    ok: &mut [bool],
    report: &mut Report,
) -> Result<BTreeSet<PersonId>, StoreError> {
    let mut batch = OwnedWriteBatch::default();
    for &i in which {
        if let Some(change) = &plans[i].change {
            if add_to_batch(&mut batch, change).is_err() {
                ok[i] = false;
                report.skipped.push(plans[i].id.clone());
            }
        }
    }
    if !collisions.is_empty() {
        let mut open: Vec<PersonConflict> = store
            .get_typed(Collection::Meta, CONFLICTS_KEY)
            .await?
            .unwrap_or_default();
        for c in collisions {
            open.retain(|o| o.person != c.person);
            open.push(c.clone());
        }
        batch
            .docs
            .push(DocOp::put(Collection::Meta, CONFLICTS_KEY, &open)?);
    }
    if batch.is_empty() {
        return Ok(BTreeSet::new());
    }
    let mut expected: BTreeMap<PersonId, Option<&Stored>> = BTreeMap::new();
    for &i in which {
        if let Some(Apply::Put(Origin::Person(id), _) | Apply::Delete(Origin::Person(id))) =
            &plans[i].change
        {
            expected.insert(id.clone(), plans[i].was.as_ref());
        }
    }
    let ids: Vec<PersonId> = expected.keys().cloned().collect();
    let mut moved: BTreeSet<PersonId> = BTreeSet::new();
    store
        .update_with::<(), StoreError, _>(&ids, |current| {
            for (id, now) in ids.iter().zip(current) {
                let now = now.as_ref().and_then(|p| person::encode(p).ok());
                let was = expected.get(id).copied().flatten();
                if now.as_ref().map(|s| &s.body) != was.map(|s| &s.body) {
                    moved.insert(id.clone());
                }
            }
            let mut batch = batch.clone();
            batch.persons.retain(|p| !moved.contains(p.id()));
            batch.delete_persons.retain(|id| !moved.contains(id));
            Ok((batch, ()))
        })
        .await?;
    Ok(moved)
}
