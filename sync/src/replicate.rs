//! One replication run in one direction, in batches, with a checkpoint after each batch:
//! read both logs → start sequence → changes → `_revs_diff` → fetch the missing revisions
//! with their history → write them as they are (`new_edits=false`) → checkpoint on both
//! sides → next batch. An interrupted run returns its error; the next run starts from the
//! last checkpoint both sides recorded.

use crate::checkpoint::{replication_id, start_seq, Direction, HistoryEntry, ReplicationLog};
use crate::error::SyncError;
use crate::local::Local;
use crate::remote::{Couch, Remote};
use crate::rev::Rev;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Options {
    /// Changes per batch (one checkpoint per batch).
    pub batch_size: usize,
    /// A fresh random id per run (the app makes it); checkpoints are `{session_id}-{n}`.
    pub session_id: String,
    /// The remote database's name in the replication id: its URL without credentials.
    pub remote_name: String,
}

/// Where a run is, after each batch (and at the end).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Documents (revisions) fetched from the source.
    pub docs_read: u64,
    /// Documents (revisions) the target stored.
    pub docs_written: u64,
    /// Revisions the target refused (CouchDB: e.g. `forbidden` by a validation function).
    pub doc_write_failures: u64,
    /// Leaf revisions compared with the target, and the ones it lacked.
    pub missing_checked: u64,
    pub missing_found: u64,
    pub batches: u64,
    /// Changes the source still has after this batch, when known.
    pub pending: Option<u64>,
}

/// Server → device. While one batch is written to the device (and its checkpoint
/// recorded), the next one is already read from the server: the two overlap, and the
/// checkpoint still follows the written batch only. Into a store that was empty when the
/// pull began (a device's first sync), every revision is missing: the store is not asked
/// (`_revs_diff`), and the documents are written as new ([`Local::put_new_revs`]). One that
/// a batch of this run brought already (changed on the server meanwhile) is fetched again
/// and merged as usual.
pub async fn pull<R: Remote, L: Local>(
    remote: &R,
    local: &L,
    opts: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Progress, SyncError> {
    let couch = Couch::new(remote);
    let info = couch.info().await?;
    let update_seq = info.get("update_seq").and_then(Value::as_u64);
    let instance = local.instance_id().await.map_err(SyncError::Local)?;
    let id = replication_id(&instance, &opts.remote_name, Direction::Pull);
    let mut logs = Logs::read(&couch, local, &id).await?;
    let (mut source_log, mut target_log) = (logs.remote.clone(), logs.local.clone());
    let since = start_seq(source_log.as_ref(), target_log.as_ref()).unwrap_or(json!(0));
    let mut p = Progress::default();
    let fresh = local.update_seq().await.map_err(SyncError::Local)? == 0;
    let mut batch = Batch::read(&couch, local, fresh, &since, opts.batch_size).await?;
    while !batch.changes.results.is_empty() {
        p.missing_checked += batch.checked;
        p.missing_found += batch.found;
        p.docs_read += batch.docs.len() as u64;
        let since = batch.changes.last_seq.clone();
        p.batches += 1;
        p.pending = batch
            .changes
            .pending
            .or_else(|| Some(update_seq?.saturating_sub(since.as_u64()?)));
        let entry = entry(opts, &p, &since);
        let s = ReplicationLog::with_checkpoint(source_log.as_ref(), entry.clone());
        let t = ReplicationLog::with_checkpoint(target_log.as_ref(), entry);
        let more = batch.changes.results.len() >= opts.batch_size;
        let write = async {
            if !batch.docs.is_empty() {
                let written = match fresh {
                    true => local.put_new_revs(&batch.docs).await,
                    false => local.put_revs(&batch.docs).await,
                };
                written.map_err(SyncError::Local)?;
            }
            logs.write(&couch, local, &id, Some(&s), Some(&t)).await
        };
        let next = async {
            match more {
                true => Some(Batch::read(&couch, local, fresh, &since, opts.batch_size).await),
                false => None,
            }
        };
        let (written, next) = futures_util::future::join(write, next).await;
        written?;
        p.docs_written += batch.docs.len() as u64;
        (source_log, target_log) = (Some(s), Some(t));
        progress(&p);
        match next {
            Some(next) => batch = next?,
            None => break,
        }
    }
    p.pending = Some(0);
    Ok(p)
}

/// One batch of a pull as read: the server's changes after a sequence, and the revisions
/// among them the device lacks, fetched with their history.
struct Batch {
    changes: crate::remote::Changes,
    /// Leaf revisions compared with the device, and the ones it lacked.
    checked: u64,
    found: u64,
    docs: Vec<crate::doc::RevDoc>,
}

impl Batch {
    async fn read<R: Remote, L: Local>(
        couch: &Couch<'_, R>,
        local: &L,
        fresh: bool,
        since: &Value,
        limit: usize,
    ) -> Result<Batch, SyncError> {
        let changes = couch.changes(since, limit).await?;
        let mut leaves: BTreeMap<String, Vec<Rev>> = BTreeMap::new();
        for c in &changes.results {
            leaves
                .entry(c.id.clone())
                .or_default()
                .extend(c.leaves.iter().cloned());
        }
        // A revision the batch being written brings is asked for again at worst (the
        // device's answer may predate that write); storing it twice changes nothing.
        let missing = match fresh {
            true => leaves.clone(),
            false => local.revs_diff(&leaves).await.map_err(SyncError::Local)?,
        };
        let wanted = flatten(&missing);
        let docs = match wanted.is_empty() {
            true => Vec::new(),
            false => couch.bulk_get(&wanted).await?,
        };
        Ok(Batch {
            changes,
            checked: leaves.values().map(|v| v.len() as u64).sum(),
            found: wanted.len() as u64,
            docs,
        })
    }
}

/// Device → server.
pub async fn push<R: Remote, L: Local>(
    remote: &R,
    local: &L,
    opts: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Progress, SyncError> {
    push_after_pull(remote, local, opts, None, progress).await
}

/// Device → server, right after a pull from the same server that moved the device's
/// sequence from `pulled.0` to `pulled.1`. When everything up to `pulled.0` was pushed
/// already (the push checkpoint is there), the changes in `pulled.0..=pulled.1` hold only
/// revisions the server sent (and earlier leaves it has): the checkpoint moves past them
/// without asking the server about each (`_revs_diff`). Otherwise this is [`push`].
pub async fn push_after_pull<R: Remote, L: Local>(
    remote: &R,
    local: &L,
    opts: &Options,
    pulled: Option<(u64, u64)>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Progress, SyncError> {
    let couch = Couch::new(remote);
    couch.info().await?;
    let instance = local.instance_id().await.map_err(SyncError::Local)?;
    let id = replication_id(&instance, &opts.remote_name, Direction::Push);
    let mut logs = Logs::read(&couch, local, &id).await?;
    let (mut source_log, mut target_log) = (logs.local.clone(), logs.remote.clone());
    let mut since = start_seq(source_log.as_ref(), target_log.as_ref())
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let mut p = Progress::default();
    if let Some((before, after)) = pulled {
        if since == before && after > before {
            since = after;
            let entry = entry(opts, &p, &json!(since));
            let s = ReplicationLog::with_checkpoint(source_log.as_ref(), entry.clone());
            let t = ReplicationLog::with_checkpoint(target_log.as_ref(), entry);
            logs.write(&couch, local, &id, Some(&t), Some(&s)).await?;
            (source_log, target_log) = (Some(s), Some(t));
        }
    }
    loop {
        let changes = local
            .changes_since(since, opts.batch_size)
            .await
            .map_err(SyncError::Local)?;
        let Some(last) = changes.last() else {
            break;
        };
        let leaves: BTreeMap<String, Vec<Rev>> = changes
            .iter()
            .map(|c| (c.id.clone(), c.leaves.clone()))
            .collect();
        p.missing_checked += leaves.values().map(|v| v.len() as u64).sum::<u64>();
        let missing = couch.revs_diff(&leaves).await?;
        let wanted = flatten(&missing);
        p.missing_found += wanted.len() as u64;
        if !wanted.is_empty() {
            let docs = local.get_revs(&wanted).await.map_err(SyncError::Local)?;
            p.docs_read += docs.len() as u64;
            let refused = couch.bulk_docs(&docs).await?;
            p.doc_write_failures += refused.len() as u64;
            p.docs_written += (docs.len() - refused.len().min(docs.len())) as u64;
        }
        since = last.seq;
        p.batches += 1;
        let update_seq = local.update_seq().await.map_err(SyncError::Local)?;
        p.pending = Some(update_seq.saturating_sub(since));
        let entry = entry(opts, &p, &json!(since));
        let s = ReplicationLog::with_checkpoint(source_log.as_ref(), entry.clone());
        let t = ReplicationLog::with_checkpoint(target_log.as_ref(), entry);
        logs.write(&couch, local, &id, Some(&t), Some(&s)).await?;
        (source_log, target_log) = (Some(s), Some(t));
        progress(&p);
        if changes.len() < opts.batch_size {
            break;
        }
    }
    p.pending = Some(0);
    Ok(p)
}

/// Live sync: waits until the server has a change after this device's last pull checkpoint
/// (CouchDB's `feed=longpoll`) or `timeout_ms` passed. Returns whether there is something to
/// pull. The app loops: `pull`, `wait_for_changes`, `pull`, … (and pushes after local writes).
pub async fn wait_for_changes<R: Remote, L: Local>(
    remote: &R,
    local: &L,
    opts: &Options,
    timeout_ms: u64,
) -> Result<bool, SyncError> {
    let instance = local.instance_id().await.map_err(SyncError::Local)?;
    let id = replication_id(&instance, &opts.remote_name, Direction::Pull);
    let since = local
        .get_checkpoint(&id)
        .await
        .map_err(SyncError::Local)?
        .as_ref()
        .and_then(ReplicationLog::from_json)
        .map_or(json!(0), |log| log.source_last_seq);
    let changes = Couch::new(remote).longpoll(&since, timeout_ms).await?;
    Ok(!changes.results.is_empty())
}

/// Push, then pull: afterwards both sides have every revision either had (conflicts
/// included) when the run started.
pub async fn sync<R: Remote, L: Local>(
    remote: &R,
    local: &L,
    opts: &Options,
    progress: &mut dyn FnMut(Direction, &Progress),
) -> Result<(Progress, Progress), SyncError> {
    let pushed = push(remote, local, opts, &mut |p| progress(Direction::Push, p)).await?;
    let pulled = pull(remote, local, opts, &mut |p| progress(Direction::Pull, p)).await?;
    Ok((pushed, pulled))
}

fn flatten(missing: &BTreeMap<String, Vec<Rev>>) -> Vec<(String, Rev)> {
    missing
        .iter()
        .flat_map(|(id, revs)| revs.iter().map(move |r| (id.clone(), r.clone())))
        .collect()
}

fn entry(opts: &Options, p: &Progress, seq: &Value) -> HistoryEntry {
    HistoryEntry {
        session_id: format!("{}-{}", opts.session_id, p.batches),
        recorded_seq: seq.clone(),
        docs_read: p.docs_read,
        docs_written: p.docs_written,
        doc_write_failures: p.doc_write_failures,
        missing_checked: p.missing_checked,
        missing_found: p.missing_found,
    }
}

/// The two replication logs of one replication id as a run found them, and the server's
/// `_rev` of its copy (each checkpoint replaces it).
struct Logs {
    remote: Option<ReplicationLog>,
    local: Option<ReplicationLog>,
    remote_rev: Option<String>,
}

impl Logs {
    async fn read<R: Remote, L: Local>(
        couch: &Couch<'_, R>,
        local: &L,
        id: &str,
    ) -> Result<Logs, SyncError> {
        let remote_doc = couch.get_local(id).await?;
        let local_doc = local.get_checkpoint(id).await.map_err(SyncError::Local)?;
        Ok(Logs {
            remote_rev: remote_doc
                .as_ref()
                .and_then(|d| d.get("_rev")?.as_str().map(str::to_string)),
            remote: remote_doc.as_ref().and_then(ReplicationLog::from_json),
            local: local_doc.as_ref().and_then(ReplicationLog::from_json),
        })
    }

    /// Records a checkpoint: the server's copy first, then the device's.
    async fn write<R: Remote, L: Local>(
        &mut self,
        couch: &Couch<'_, R>,
        local: &L,
        id: &str,
        remote: Option<&ReplicationLog>,
        local_log: Option<&ReplicationLog>,
    ) -> Result<(), SyncError> {
        if let Some(log) = remote {
            let mut doc = serde_json::to_value(log).expect("log serialises");
            if let Some(rev) = &self.remote_rev {
                doc["_rev"] = json!(rev);
            }
            self.remote_rev = Some(couch.put_local(id, &doc).await?);
        }
        if let Some(log) = local_log {
            let doc = serde_json::to_value(log).expect("log serialises");
            local
                .put_checkpoint(id, &doc)
                .await
                .map_err(SyncError::Local)?;
            self.local = Some(log.clone());
        }
        Ok(())
    }
}
