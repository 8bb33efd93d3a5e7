//! Replication ids and replication logs (`_local/{replication id}` on both sides), and the
//! comparison of the two logs that gives the sequence a run starts from.

use crate::rev::md5_hex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which way a replication runs: pull (server → device) or push (device → server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Pull,
    Push,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Pull => "pull",
            Direction::Push => "push",
        }
    }
}

/// The replication id: MD5 over the local store's instance id, the remote database's name
/// (its URL without credentials) and the direction, as CouchDB's replicator builds it from
/// its server uuid, source, target and options. Version `1` of this recipe is part of the
/// input, so a later recipe starts fresh logs.
pub fn replication_id(local_instance: &str, remote: &str, direction: Direction) -> String {
    md5_hex(
        format!(
            "praxisbote-sync 1\n{local_instance}\n{remote}\n{}",
            direction.as_str()
        )
        .as_bytes(),
    )
}

/// One checkpoint of a replication log. Each checkpoint gets its own session id, so the two
/// logs can be matched entry by entry even when a run stopped between writing the first
/// and the second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub session_id: String,
    pub recorded_seq: Value,
    #[serde(default)]
    pub docs_read: u64,
    #[serde(default)]
    pub docs_written: u64,
    #[serde(default)]
    pub doc_write_failures: u64,
    #[serde(default)]
    pub missing_checked: u64,
    #[serde(default)]
    pub missing_found: u64,
}

/// The replication log as CouchDB's replicator writes it (protocol version 3 fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationLog {
    pub session_id: String,
    pub source_last_seq: Value,
    #[serde(default)]
    pub replication_id_version: u32,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

/// History entries a log keeps (CouchDB keeps 50).
pub const HISTORY_LIMIT: usize = 50;

impl ReplicationLog {
    pub fn from_json(v: &Value) -> Option<ReplicationLog> {
        serde_json::from_value(v.clone()).ok()
    }

    /// The log after one more checkpoint.
    pub fn with_checkpoint(
        previous: Option<&ReplicationLog>,
        entry: HistoryEntry,
    ) -> ReplicationLog {
        let mut history = vec![entry.clone()];
        history.extend(
            previous
                .map(|p| p.history.clone())
                .unwrap_or_default()
                .into_iter()
                .take(HISTORY_LIMIT - 1),
        );
        ReplicationLog {
            session_id: entry.session_id,
            source_last_seq: entry.recorded_seq,
            replication_id_version: 3,
            history,
        }
    }
}

/// Where a run starts (the protocol's "Compare Replication Logs"): the last session when both
/// logs name it, else the newest session both histories share, else from the beginning
/// (`None`).
pub fn start_seq(
    source: Option<&ReplicationLog>,
    target: Option<&ReplicationLog>,
) -> Option<Value> {
    let (s, t) = (source?, target?);
    if s.session_id == t.session_id {
        return Some(s.source_last_seq.clone());
    }
    s.history
        .iter()
        .find(|e| t.history.iter().any(|o| o.session_id == e.session_id))
        .map(|e| e.recorded_seq.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(session: &str, seq: u64) -> HistoryEntry {
        HistoryEntry {
            session_id: session.into(),
            recorded_seq: json!(seq),
            docs_read: 0,
            docs_written: 0,
            doc_write_failures: 0,
            missing_checked: 0,
            missing_found: 0,
        }
    }

    fn log(entries: &[(&str, u64)]) -> ReplicationLog {
        let mut l: Option<ReplicationLog> = None;
        for (s, q) in entries {
            l = Some(ReplicationLog::with_checkpoint(l.as_ref(), entry(s, *q)));
        }
        l.unwrap()
    }

    #[test]
    fn ids_differ_by_device_remote_and_direction() {
        let a = replication_id("dev-a", "http://h/db", Direction::Pull);
        assert_eq!(a.len(), 32);
        assert_eq!(a, replication_id("dev-a", "http://h/db", Direction::Pull));
        assert_ne!(a, replication_id("dev-b", "http://h/db", Direction::Pull));
        assert_ne!(a, replication_id("dev-a", "http://h/db2", Direction::Pull));
        assert_ne!(a, replication_id("dev-a", "http://h/db", Direction::Push));
    }

    #[test]
    fn compares_logs_as_the_protocol_says() {
        let both = log(&[("s1", 5), ("s2", 9)]);
        assert_eq!(start_seq(Some(&both), Some(&both)), Some(json!(9)));
        // The run stopped after the source's write of s3, before the target's.
        let source = log(&[("s1", 5), ("s2", 9), ("s3", 14)]);
        assert_eq!(start_seq(Some(&source), Some(&both)), Some(json!(9)));
        assert_eq!(start_seq(Some(&both), Some(&source)), Some(json!(9)));
        // No common session, or a log missing: from the beginning.
        assert_eq!(start_seq(Some(&log(&[("x", 3)])), Some(&both)), None);
        assert_eq!(start_seq(None, Some(&both)), None);
        assert_eq!(start_seq(Some(&both), None), None);
    }

    #[test]
    fn history_is_capped_newest_first() {
        let entries: Vec<(String, u64)> = (0..60).map(|i| (format!("s{i}"), i)).collect();
        let refs: Vec<(&str, u64)> = entries.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        let l = log(&refs);
        assert_eq!(l.history.len(), HISTORY_LIMIT);
        assert_eq!(l.history[0].session_id, "s59");
        assert_eq!(l.source_last_seq, json!(59));
        let v = serde_json::to_value(&l).unwrap();
        assert_eq!(ReplicationLog::from_json(&v), Some(l));
    }
}
