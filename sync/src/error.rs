//! What can stop a replication run. Every kind is retryable by running again: the next run
//! starts from the last checkpoint.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncError {
    /// The request did not get an answer (network down, server gone, timeout).
    Transport(String),
    /// The server answered with an error status (CouchDB's `error` and `reason`).
    Http {
        status: u16,
        path: String,
        error: String,
        reason: String,
    },
    /// The server answered something this crate cannot read.
    Protocol(String),
    /// The local store failed.
    Local(String),
}

impl SyncError {
    /// 401/403: wrong credentials or no permission; retrying does not help.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            SyncError::Http {
                status: 401 | 403,
                ..
            }
        )
    }
}

impl SyncError {
    /// 409: a write named a revision that is no longer the current one (someone else wrote
    /// the document meanwhile); read it again and decide anew.
    pub fn is_conflict(&self) -> bool {
        matches!(self, SyncError::Http { status: 409, .. })
    }
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::Transport(m) => write!(f, "no answer from the server: {m}"),
            SyncError::Http {
                status,
                path,
                error,
                reason,
            } => write!(f, "server answered {status} to {path}: {error} ({reason})"),
            SyncError::Protocol(m) => write!(f, "unexpected answer: {m}"),
            SyncError::Local(m) => write!(f, "local store: {m}"),
        }
    }
}

impl std::error::Error for SyncError {}
