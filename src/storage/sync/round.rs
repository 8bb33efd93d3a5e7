//! One sync round of a device: its own edits become revisions, replication runs both ways,
//! conflicts are settled, and what others changed is applied to the store.
//!
//! The store stays the one owner of the app's data; the document store ([`Docs`]) holds
//! the revision trees of the sealed documents and, per document, the revision the store
//! reflects (`applied`). A round:
//!
//! 1. **Own edits.** The synced records in the round's [`Scope`] are sealed
//!    (deterministically: same content, same body) and compared with the body of their
//!    `applied` revision. A difference is an edit made on this device since the last round:
//!    a new revision on top of `applied` (a conflicting branch when another device has
//!    extended it meanwhile). A document whose record is gone gets a tombstone. The scope is
//!    every record ([`Scope::Full`]) at the start and after bulk changes, and otherwise the
//!    records the app announced as changed (`app::sync`): a round for one edited person
//!    seals one record, not the practice.
//! 2. **Replication** (`praxisbote_sync::pull` before step 1, `push` after it), in
//!    batches, resumable.
//! 3. **Conflicts** are settled the same way on every device: persons with
//!    `sync_merge::merge_person` (consent histories as a union, other fields one by one,
//!    collisions keep CouchDB's winner and are listed for the "Konflikte" view), the
//!    settings, templates and saved selections field by field too (a collision keeps the
//!    winner's value, unlisted), send-log batches and outbox messages keep the winner. The
//!    settlement is a deterministic revision, so devices that settle alike write the same
//!    one. Bodies older than [`HISTORY`] generations below
//!    every leaf are dropped here too (compaction; the ids stay).
//! 4. **Apply.** Steps 3 and 4 look only at the documents whose tree changed since the
//!    last round: the document store's own feed (its sequence numbers) from a checkpoint,
//!    [`APPLIED_LOG`], that stops before the first document left unapplied (so that one is
//!    looked at again). Where the winner is not the `applied` revision, the store gets the winner's
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
use crate::domain::sync_merge::{merge_fields, merge_person};
use crate::domain::{Person, PersonId, PersonRecord};
use crate::storage::crypto::LockState;
use crate::storage::records::{document, person, settings, Origin, Stored};
use crate::storage::{Collection, DocOp, OwnedWriteBatch, Store, StoreError, StoreExt};

/// Meta key of the collisions waiting for a person's choice ("Konflikte").
pub const CONFLICTS_KEY: &str = "sync_conflicts";

/// The document store's checkpoint (a replication log on the device side, so clearing the
/// sync state clears it): every document up to this sequence number is settled and applied.
pub const APPLIED_LOG: &str = "praxisbote-applied";

/// Generations of history whose bodies a document keeps below each leaf (besides the
/// revision the store holds): the base of a three-way merge when devices edited the same
/// record offline, up to this many edits each. Older bodies are dropped as the documents
/// change (compaction), so a record edited for years does not carry every version.
const HISTORY: usize = 10;

/// Documents read from the feed and settled at a time (their revision trees are in memory
/// together).
const SETTLE_BATCH: usize = 10_000;

/// Store changes written per store transaction. Large: the store keeps persons in buckets,
/// and each transaction writes every bucket it touches whole, with every person already in
/// it — a device joining a practice of 100,000 in transactions of 10,000 wrote its buckets
/// ten times over, growing (quadratic). The changes are records, not trees.
const APPLY_BATCH: usize = 100_000;

/// Which records a round compares with their documents to find this device's own edits.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Scope {
    /// Every synced record: at the start, after a connection change, after bulk changes
    /// (imports, restores, templates, saved selections) and after a failed round.
    #[default]
    Full,
    /// Only these persons, the practice settings if `settings`, and these documents of the
    /// synced collections (the outbox's messages and batches as a send writes them). A
    /// person or document no longer in the store widens the scope to [`Scope::Full`] (a
    /// person's appointments went with it; only a full comparison finds what is gone).
    Only {
        persons: BTreeSet<PersonId>,
        settings: bool,
        docs: BTreeSet<(Collection, String)>,
    },
}

impl Scope {
    /// No record changed.
    pub fn nothing() -> Scope {
        Scope::Only {
            persons: BTreeSet::new(),
            settings: false,
            docs: BTreeSet::new(),
        }
    }

    /// These persons changed.
    pub fn persons(ids: impl IntoIterator<Item = PersonId>) -> Scope {
        let mut scope = Scope::nothing();
        if let Scope::Only { persons, .. } = &mut scope {
            persons.extend(ids);
        }
        scope
    }

    /// The practice settings changed.
    pub fn settings() -> Scope {
        let mut scope = Scope::nothing();
        if let Scope::Only { settings, .. } = &mut scope {
            *settings = true;
        }
        scope
    }

    /// These documents changed.
    pub fn docs(keys: impl IntoIterator<Item = (Collection, String)>) -> Scope {
        let mut scope = Scope::nothing();
        if let Scope::Only { docs, .. } = &mut scope {
            docs.extend(keys);
        }
        scope
    }

    /// This scope and `other`.
    pub fn add(&mut self, other: Scope) {
        match (&mut *self, other) {
            (Scope::Full, _) => {}
            (_, Scope::Full) => *self = Scope::Full,
            (
                Scope::Only {
                    persons,
                    settings,
                    docs,
                },
                Scope::Only {
                    persons: more,
                    settings: also,
                    docs: more_docs,
                },
            ) => {
                persons.extend(more);
                *settings |= also;
                docs.extend(more_docs);
            }
        }
    }
}

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

/// One round over every record (see the module docs). `progress` sees the replication's
/// batches.
pub async fn round<L: Docs, R: Remote>(
    store: &dyn Store,
    local: &L,
    remote: &R,
    opts: &Options,
    progress: &mut dyn FnMut(Direction, &Progress),
) -> Result<Report, SyncFailure> {
    round_in(&Scope::Full, store, local, remote, opts, progress).await
}

/// One round whose own edits are looked for in `scope`.
pub async fn round_in<L: Docs, R: Remote>(
    scope: &Scope,
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
    let before = local.update_seq().await.map_err(SyncError::Local)?;
    let pulled =
        praxisbote_sync::pull(remote, local, opts, &mut |p| progress(Direction::Pull, p)).await?;
    let after = local.update_seq().await.map_err(SyncError::Local)?;
    let mut report = Report {
        own_edits: own_edits(store, local, &keys, scope).await?,
        pulled,
        keyring_taken,
        ..Report::default()
    };
    // What the pull wrote came from the server: no need to ask it about those documents.
    // (The own edits above were written after `after`, so they are pushed.)
    report.pushed =
        praxisbote_sync::push_after_pull(remote, local, opts, Some((before, after)), &mut |p| {
            progress(Direction::Push, p)
        })
        .await?;
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

/// Step 1: this device's edits (in `scope`) since the last round become revisions.
pub async fn own_edits<L: Docs>(
    store: &dyn Store,
    local: &L,
    keys: &SyncKeys,
    scope: &Scope,
) -> Result<usize, SyncFailure> {
    let Some(records) = records_in(store, scope).await? else {
        return all_own_edits(store, local, keys).await;
    };
    if records.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = records
        .iter()
        .map(|(o, _)| keys.doc_id(o.store_name(), o.key()))
        .collect();
    let found = local.get_docs(&ids).await.map_err(SyncError::Local)?;
    let docs: BTreeMap<String, LocalDoc> = ids
        .into_iter()
        .zip(found)
        .filter_map(|(id, d)| Some((id, d?)))
        .collect();
    let mut writes = Vec::new();
    let edits = compare(keys, &records, &docs, &listed(store).await?, &mut writes);
    if !writes.is_empty() {
        local.put_docs(&writes).await.map_err(SyncError::Local)?;
    }
    Ok(edits)
}

/// The records of a [`Scope::Only`]; `None` for every record (the scope is full, or a
/// person in it is gone and took its appointments along, or a document in it is gone).
async fn records_in(
    store: &dyn Store,
    scope: &Scope,
) -> Result<Option<Vec<(Origin, Stored)>>, SyncFailure> {
    let Scope::Only {
        persons,
        settings,
        docs,
    } = scope
    else {
        return Ok(None);
    };
    let ids: Vec<PersonId> = persons.iter().cloned().collect();
    let mut out = Vec::new();
    for (id, found) in ids.iter().zip(store.get_persons(&ids).await?) {
        let Some(p) = found else { return Ok(None) };
        out.push((Origin::Person(id.clone()), person::encode(&p)?));
    }
    if *settings {
        let Some(s) = store.settings().await? else {
            return Ok(None);
        };
        out.push((Origin::Settings, settings::encode(&s)?));
    }
    for (c, key) in docs {
        if !records::SYNCED_COLLECTIONS.contains(c) {
            continue;
        }
        let Some(value) = store.get_doc(*c, key).await? else {
            return Ok(None);
        };
        out.push((
            Origin::Document(*c, key.clone()),
            document::encode(key, &value)?,
        ));
    }
    Ok(Some(out))
}

/// Step 1 over every record: also finds the records that are gone.
async fn all_own_edits<L: Docs>(
    store: &dyn Store,
    local: &L,
    keys: &SyncKeys,
) -> Result<usize, SyncFailure> {
    let records = records::read_all(store).await?;
    // The documents of the records, and the ones with an applied mark (their record may be
    // gone). Any other document never was in this store: a device that has just joined
    // reads no tree here.
    let mut ids: BTreeSet<String> = records
        .iter()
        .map(|(o, _)| keys.doc_id(o.store_name(), o.key()))
        .collect();
    ids.extend(local.applied_ids().await.map_err(SyncError::Local)?);
    let ids: Vec<String> = ids.into_iter().collect();
    let found = local.get_docs(&ids).await.map_err(SyncError::Local)?;
    let docs: BTreeMap<String, LocalDoc> = ids
        .into_iter()
        .zip(found)
        .filter_map(|(id, d)| Some((id, d?)))
        .collect();
    let mut writes = Vec::new();
    let mut edits = compare(keys, &records, &docs, &listed(store).await?, &mut writes);
    let kept: BTreeSet<String> = records
        .iter()
        .map(|(o, _)| keys.doc_id(o.store_name(), o.key()))
        .collect();
    for (id, doc) in &docs {
        let live_applied = doc
            .applied_rev()
            .is_some_and(|a| doc.tree.contains(&a) && !doc.tree.is_deleted(&a));
        if kept.contains(id) || !live_applied {
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

/// Compares each record with its document (in `docs`, or none yet); the documents that
/// change go to `writes`. Returns the number of edits. A person listed under "Konflikte"
/// whose applied revision carries that collision is unchanged while nobody has chosen;
/// once someone has (the list no longer has it), the same record is an edit: a revision
/// without the collision, which takes the person off the other devices' lists too.
fn compare(
    keys: &SyncKeys,
    records: &[(Origin, Stored)],
    docs: &BTreeMap<String, LocalDoc>,
    open: &BTreeSet<PersonId>,
    writes: &mut Vec<(String, LocalDoc)>,
) -> usize {
    let mut edits = 0;
    for (origin, stored) in records {
        let id = keys.doc_id(origin.store_name(), origin.key());
        let plain = Plain::new(origin, stored);
        let mut doc = docs.get(&id).cloned().unwrap_or_default();
        if matches!(origin, Origin::Person(p) if open.contains(p))
            && carries_collision(keys, &id, &doc, &plain)
        {
            continue;
        }
        let body = keys.seal(&id, &plain.to_bytes());
        match record_edit(&mut doc, false, body) {
            Mark::Same => {}
            Mark::Applied => writes.push((id, doc)),
            Mark::Edit => {
                edits += 1;
                writes.push((id, doc))
            }
        }
    }
    edits
}

/// Whether the applied revision of `doc` is `plain` with a collision.
fn carries_collision(keys: &SyncKeys, id: &str, doc: &LocalDoc, plain: &Plain) -> bool {
    doc.applied_rev()
        .and_then(|a| plain_at(keys, id, &doc.tree, &a))
        .is_some_and(|mut p| p.x.take().is_some() && p == *plain)
}

/// The persons listed under "Konflikte" on this device.
async fn listed(store: &dyn Store) -> Result<BTreeSet<PersonId>, SyncFailure> {
    let open: Vec<PersonConflict> = store
        .get_typed(Collection::Meta, CONFLICTS_KEY)
        .await?
        .unwrap_or_default();
    Ok(open.into_iter().map(|c| c.person).collect())
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

/// Steps 3 and 4, over the documents changed since [`APPLIED_LOG`], in batches.
async fn settle_and_apply<L: Docs>(
    store: &dyn Store,
    local: &L,
    keys: &SyncKeys,
    report: &mut Report,
) -> Result<(), SyncFailure> {
    let since = local
        .get_checkpoint(APPLIED_LOG)
        .await
        .map_err(SyncError::Local)?
        .and_then(|log| log.get("seq").and_then(Value::as_u64))
        .unwrap_or(0);
    let mut done = since;
    // A document refused because what it needs comes in a later batch (an appointment
    // before its person) is applied in a second pass over what was left.
    for _pass in 0..2 {
        report.skipped.clear();
        let (end, hold) = settle_from(store, local, keys, done, report).await?;
        done = hold.unwrap_or(end);
        if hold.is_none() {
            break;
        }
    }
    if done != since {
        local
            .put_checkpoint(APPLIED_LOG, &serde_json::json!({ "seq": done }))
            .await
            .map_err(SyncError::Local)?;
    }
    Ok(())
}

/// Settles and applies the documents changed after `from`, batch by batch. Returns the last
/// sequence number seen and, if a document was left unapplied, the number just before the
/// first one left (where the checkpoint must stop).
async fn settle_from<L: Docs>(
    store: &dyn Store,
    local: &L,
    keys: &SyncKeys,
    mut from: u64,
    report: &mut Report,
) -> Result<(u64, Option<u64>), SyncFailure> {
    let mut hold: Option<u64> = None;
    let mut pending = Pending::new(report);
    loop {
        let changed = local
            .changed_docs(from, SETTLE_BATCH)
            .await
            .map_err(SyncError::Local)?;
        let Some(last) = changed.last().map(|c| c.0) else {
            break;
        };
        settle_batch(local, keys, changed, report, &mut pending).await?;
        from = last;
        if pending.plans.len() >= APPLY_BATCH {
            let done = std::mem::replace(&mut pending, Pending::new(report));
            hold = hold.or(done.apply(store, local, report).await?);
        }
    }
    hold = hold.or(pending.apply(store, local, report).await?);
    Ok((from, hold))
}

/// Documents settled and planned, not yet applied to the store.
struct Pending {
    plans: Vec<Plan>,
    /// Every document read, in feed order, with its sequence number.
    seqs: Vec<(u64, String)>,
    /// Ids whose trees this part wrote again (settled or compacted), with a new number.
    rewritten: BTreeSet<String>,
    /// Where this part's entries of `report.skipped` start.
    skipped_from: usize,
}

impl Pending {
    fn new(report: &Report) -> Pending {
        Pending {
            plans: Vec::new(),
            seqs: Vec::new(),
            rewritten: BTreeSet::new(),
            skipped_from: report.skipped.len(),
        }
    }

    /// Writes the plans to the store (one transaction) and moves the applied marks of what
    /// was applied. Returns, if a document was left unapplied (not readable with this key,
    /// refused by the store, or edited here meanwhile), the sequence number just before the
    /// first one left.
    async fn apply<L: Docs>(
        self,
        store: &dyn Store,
        local: &L,
        report: &mut Report,
    ) -> Result<Option<u64>, SyncFailure> {
        let applied = apply(store, &self.plans, report).await?;
        let mut left: BTreeSet<String> = report.skipped[self.skipped_from..]
            .iter()
            .cloned()
            .collect();
        let (mut whole, mut marks) = (Vec::new(), Vec::new());
        for (plan, ok) in self.plans.into_iter().zip(applied) {
            if !ok {
                left.insert(plan.id);
            } else if let Some(mut doc) = plan.rewritten {
                // Its tree was written again here, with a new number.
                doc.applied = Some(plan.applied);
                whole.push((plan.id, doc));
            } else {
                marks.push((plan.id, plan.seq, plan.applied));
            }
        }
        if !whole.is_empty() {
            local.put_docs(&whole).await.map_err(SyncError::Local)?;
        }
        local.mark_applied(&marks).await.map_err(SyncError::Local)?;
        Ok(self
            .seqs
            .iter()
            .find(|(_, id)| left.contains(id))
            .map(|(s, _)| s - 1))
    }
}

/// Settles and compacts one batch of documents (writing the trees that changed) and plans
/// what to apply.
async fn settle_batch<L: Docs>(
    local: &L,
    keys: &SyncKeys,
    docs: Vec<(u64, String, LocalDoc)>,
    report: &mut Report,
    pending: &mut Pending,
) -> Result<(), SyncFailure> {
    let mut rewritten: Vec<(String, LocalDoc)> = Vec::new();
    let mut collisions: Vec<PersonConflict> = Vec::new();
    for (seq, id, mut doc) in docs {
        pending.seqs.push((seq, id.clone()));
        // The keyring is not a record; a document rewritten in this part comes again with
        // the number its rewrite got, and is planned already.
        if id == super::KEYRING_DOC || pending.rewritten.contains(&id) {
            continue;
        }
        let Some(mut winner) = doc.tree.winner() else {
            continue;
        };
        let losers = doc.tree.conflicts();
        let mut rewrite = false;
        if !losers.is_empty() {
            match settle(keys, &id, &doc.tree, &winner, &losers) {
                Some((body, collision)) => {
                    if let Ok(rev) = doc.tree.resolve(&winner, body, &losers) {
                        winner = rev;
                        report.settled += 1;
                        collisions.extend(collision);
                        rewrite = true;
                    }
                }
                None => report.skipped.push(id.clone()),
            }
        }
        let applied = doc.applied_rev();
        let keep: Vec<Rev> = applied.iter().chain([&winner]).cloned().collect();
        rewrite |= doc.tree.compact(&keep, HISTORY);
        if rewrite {
            rewritten.push((id.clone(), doc.clone()));
            pending.rewritten.insert(id.clone());
        }
        if applied.as_ref() == Some(&winner) {
            continue;
        }
        let was = applied
            .as_ref()
            .and_then(|a| plain_at(keys, &id, &doc.tree, a));
        let mut collision = None;
        let change = if doc.tree.is_deleted(&winner) {
            // `None`: nothing of it was ever in the store, only the mark moves.
            was.as_ref().and_then(Plain::origin).map(Apply::Delete)
        } else {
            match plain_at(keys, &id, &doc.tree, &winner) {
                Some(p) if p.origin().is_some() => {
                    collision = p.x.clone();
                    p.origin().map(|o| Apply::Put(o, p.stored()))
                }
                _ => {
                    report.skipped.push(id.clone());
                    continue;
                }
            }
        };
        pending.plans.push(Plan {
            rewritten: rewrite.then_some(doc),
            id,
            seq,
            applied: winner.to_string(),
            change,
            collision,
            was: was.map(|p| p.stored()),
        });
    }
    if !rewritten.is_empty() {
        local.put_docs(&rewritten).await.map_err(SyncError::Local)?;
    }
    report
        .collisions
        .extend(collisions.into_iter().map(|c| c.person));
    Ok(())
}

/// One document to apply to the store.
struct Plan {
    id: String,
    /// Its sequence number as read.
    seq: u64,
    /// The revision the store holds once the change is written.
    applied: String,
    /// The document, if its tree was written again in this round (settled or compacted).
    rewritten: Option<LocalDoc>,
    /// The store change (`None`: nothing to write, only the mark moves).
    change: Option<Apply>,
    /// What the store should hold now (the previously applied record), for persons' check.
    was: Option<Stored>,
    /// For a person: the collision its revision carries (listed under "Konflikte"), or none
    /// (the person leaves that list).
    collision: Option<PersonConflict>,
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
        let merged = merge_record(keys, id, tree, winner, losers, &win).unwrap_or(win);
        return Some((keys.seal(id, &merged.to_bytes()), None));
    };
    let mut merged = person_of(&win)?;
    let mut collision: Option<PersonConflict> = None;
    for loser in losers {
        let (lose, base) = loser_and_base(keys, id, tree, winner, loser, person_of)?;
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
    let mut plain = Plain::new(&Origin::Person(person_id), &stored);
    plain.x = collision.clone();
    Some((keys.seal(id, &plain.to_bytes()), collision))
}

/// A losing revision and its common ancestor with the winner (the base of a three-way
/// merge), each read with `read`; `None` when the loser does not read, and no base when the
/// ancestor is unknown, compacted or does not read.
fn loser_and_base<T>(
    keys: &SyncKeys,
    id: &str,
    tree: &DocTree,
    winner: &Rev,
    loser: &Rev,
    read: impl Fn(&Plain) -> Option<T>,
) -> Option<(T, Option<T>)> {
    let lose = read(&plain_at(keys, id, tree, loser)?)?;
    let base = tree
        .common_ancestor(winner, loser)
        .and_then(|b| plain_at(keys, id, tree, &b))
        .and_then(|b| read(&b));
    Some((lose, base))
}

/// The settings, a template or a saved selection, merged field by field with the losing
/// revisions (`sync_merge::merge_fields`: a field only one side changed takes that side's
/// value; a collision keeps the winner's, and the loser stays in the history). `None`
/// where the winner stands whole: send-log batches and outbox messages (their fields
/// change together, and one device transmits a batch), records of different versions, or
/// a loser this key does not open.
fn merge_record(
    keys: &SyncKeys,
    id: &str,
    tree: &DocTree,
    winner: &Rev,
    losers: &[Rev],
    win: &Plain,
) -> Option<Plain> {
    let origin = win.origin()?;
    if !matches!(
        origin,
        Origin::Settings | Origin::Document(Collection::Templates | Collection::Queries, _)
    ) {
        return None;
    }
    let fields = |p: &Plain| match serde_json::from_str::<Value>(&p.b) {
        Ok(Value::Object(m)) if p.v == win.v && p.origin().as_ref() == Some(&origin) => Some(m),
        _ => None,
    };
    let mut merged = fields(win)?;
    for loser in losers {
        let (lose, base) = loser_and_base(keys, id, tree, winner, loser, fields)?;
        merged = merge_fields(base.as_ref(), &merged, &lose).0;
    }
    // In the form the store writes, so the next round sees no edit in it.
    let raw = Stored {
        v: win.v,
        body: Value::Object(merged).to_string(),
    };
    let stored = match &origin {
        Origin::Settings => settings::encode(&settings::decode(&raw).ok()?).ok()?,
        Origin::Document(_, key) => document::encode(key, &document::decode(&raw).ok()?).ok()?,
        _ => return None,
    };
    Some(Plain::new(&origin, &stored))
}

/// Writes the plans to the store; returns, aligned with `plans`, which were applied.
async fn apply(
    store: &dyn Store,
    plans: &[Plan],
    report: &mut Report,
) -> Result<Vec<bool>, SyncFailure> {
    let mut ok = vec![true; plans.len()];
    let mut moved = BTreeSet::new();
    // One transaction for all. One record the store refuses (say an appointment of a person
    // another device deleted) must not hold up the rest: the part that failed is split in
    // halves and each written on its own, down to the refused record, which stays
    // unapplied until a later round brings what it needs.
    let mut parts: Vec<Vec<usize>> = vec![(0..plans.len()).collect()];
    while let Some(part) = parts.pop() {
        let part: Vec<usize> = part.into_iter().filter(|&i| ok[i]).collect();
        if part.is_empty() {
            continue;
        }
        match write_plans(store, plans, &part, &mut ok, report).await {
            Ok(m) => moved.extend(m),
            Err(StoreError::Locked) => return Err(SyncFailure::Locked),
            Err(_) if part.len() == 1 => {
                ok[part[0]] = false;
                report.skipped.push(plans[part[0]].id.clone());
            }
            Err(_) => {
                let (first, second) = part.split_at(part.len() / 2);
                parts.push(second.to_vec());
                parts.push(first.to_vec());
            }
        }
    }
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

/// Writes the plans `which` in ONE store transaction, with the "Konflikte" list brought in
/// line with the persons' revisions; persons only where the store still holds what was
/// applied before (checked in that transaction). Returns the persons left alone because
/// they were edited meanwhile.
async fn write_plans(
    store: &dyn Store,
    plans: &[Plan],
    which: &[usize],
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
    let persons: Vec<(&PersonId, Option<&PersonConflict>)> = which
        .iter()
        .filter(|&&i| ok[i])
        .filter_map(|&i| match &plans[i].change {
            Some(Apply::Put(Origin::Person(id), _) | Apply::Delete(Origin::Person(id))) => {
                Some((id, plans[i].collision.as_ref()))
            }
            _ => None,
        })
        .collect();
    if !persons.is_empty() {
        let was: Vec<PersonConflict> = store
            .get_typed(Collection::Meta, CONFLICTS_KEY)
            .await?
            .unwrap_or_default();
        let mut open = was.clone();
        for (id, collision) in &persons {
            open.retain(|o| &o.person != *id);
            open.extend(collision.cloned());
        }
        if open != was {
            batch
                .docs
                .push(DocOp::put(Collection::Meta, CONFLICTS_KEY, &open)?);
        }
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
