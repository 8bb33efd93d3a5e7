//! Several devices of one practice: the app's records as end-to-end encrypted CouchDB
//! documents (docs/design/sync-replication.md). The replication protocol itself is the
//! `praxisbote-sync` crate; this module maps records to documents and back, seals their
//! bodies, and runs sync rounds over the store.

#[cfg(target_arch = "wasm32")]
pub mod fetch;
