//! praxisbote-sync: the CouchDB replication protocol
//! (<https://docs.couchdb.org/en/stable/replication/protocol.html>) between a device's local
//! document store and a CouchDB database, over two traits: [`Remote`] (HTTP requests to the
//! database; the app sends them with `fetch`) and [`Local`] (the device's store; the app's is
//! IndexedDB). No web dependency, no clock, no randomness: the caller hands in session ids.
//!
//! Documents are opaque JSON objects here; the app stores ciphertext in them
//! (docs/design/sync-replication.md).
//!
//! Modules by job: [`rev`] revision ids, [`tree`] a document's revision tree and CouchDB's
//! winner rule, [`doc`] a revision on the wire, [`remote`] the server requests, [`local`] the
//! device store (with [`MemoryLocal`]), [`checkpoint`] replication ids and logs,
//! [`replicate`] pull, push and sync; `conformance` (cargo feature `conformance`) the behaviour
//! suite every [`Local`] + [`Docs`] store passes.

pub mod checkpoint;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod doc;
pub mod error;
pub mod local;
pub mod remote;
pub mod replicate;
pub mod rev;
pub mod tree;

pub use checkpoint::{replication_id, Direction};
pub use doc::RevDoc;
pub use error::SyncError;
pub use local::{DocState, Docs, Local, LocalChange, LocalDoc, MemoryLocal};
pub use remote::{Couch, Method, Remote, Request, Response};
pub use replicate::{pull, push, push_after_pull, sync, wait_for_changes, Options, Progress};
pub use rev::Rev;
pub use tree::{DocTree, EditError};
