//! Several devices of one practice: the app's records as end-to-end encrypted CouchDB
//! documents (docs/design/sync-replication.md). The replication protocol itself is the
//! `praxisbote-sync` crate; this module maps records to documents and back ([`records`]),
//! seals their bodies ([`envelope`]), runs sync rounds over the store ([`round`]), and
//! connects a device to a practice's server (below).
//!
//! The server holds one plain document besides the sealed ones: [`KEYRING_DOC`], the
//! practice's keyring (the data key wrapped by the passphrase and by the recovery key — it
//! opens with neither missing) and the key's fingerprint. A new device reads it to join.

pub mod conflicts;
pub mod envelope;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
pub mod records;
pub mod round;

use praxisbote_sync::{Couch, Remote, SyncError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::storage::crypto::{self, Secret};
use crate::storage::{Collection, DocOp, Store, StoreError, StoreExt};
pub use round::{
    round, round_in, sync_keys, Changed, PersonConflict, Report, Scope, SyncFailure, CONFLICTS_KEY,
};

/// Id of the keyring document on the server.
pub const KEYRING_DOC: &str = "praxisbote-keyring";

/// Meta key of this device's connection ([`SyncConfig`]); sealed at rest like all Meta.
pub const CONFIG_KEY: &str = "sync_config";

/// Where this device syncs to: set under Settings → "Geräte verbinden".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncConfig {
    /// The CouchDB server, e.g. `https://praxis-nas:6984`.
    pub url: String,
    /// The database on it.
    pub db: String,
    /// CouchDB user with access to that database (empty: none).
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub password: String,
    /// Whether this device syncs (a paused connection keeps its settings).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl SyncConfig {
    /// The database URL (without credentials): names the replication.
    pub fn db_url(&self) -> String {
        format!(
            "{}/{}",
            self.url.trim_end_matches('/'),
            praxisbote_sync::remote::encode(&self.db)
        )
    }
}

/// The connection stored on this device, if any.
pub async fn config(store: &dyn Store) -> Result<Option<SyncConfig>, StoreError> {
    store.get_typed(Collection::Meta, CONFIG_KEY).await
}

/// Stores (or replaces) this device's connection.
pub async fn save_config(store: &dyn Store, config: &SyncConfig) -> Result<(), StoreError> {
    store.put_typed(Collection::Meta, CONFIG_KEY, config).await
}

/// The practice's keyring document on the server, if there is one.
pub async fn server_keyring<R: Remote>(remote: &R) -> Result<Option<Value>, SyncError> {
    Couch::new(remote).get_doc(KEYRING_DOC).await
}

/// Connects this device's own practice (encrypted, unlocked) to the server: a server without
/// a practice gets this practice's keyring; a server with another practice's key is refused
/// ([`SyncFailure::KeyMismatch`]) before anything is written.
pub async fn publish<R: Remote>(store: &dyn Store, remote: &R) -> Result<(), SyncFailure> {
    let keys = sync_keys(store)?;
    Couch::new(remote).info().await?;
    match server_keyring(remote).await? {
        Some(doc) if doc.get("key_id").and_then(Value::as_str) == Some(keys.key_id()) => Ok(()),
        Some(_) => Err(SyncFailure::KeyMismatch),
        None => {
            let keyring = crypto::keyring_json(store).ok_or(SyncFailure::NotEncrypted)?;
            Couch::new(remote)
                .put_doc(
                    KEYRING_DOC,
                    &json!({"keyring": keyring, "key_id": keys.key_id()}),
                )
                .await?;
            Ok(())
        }
    }
}

/// Joins the practice on the server with its passphrase or recovery key: ALL data on this
/// device is replaced by the practice's keyring and `config` (the first round then fetches
/// the practice's data). A wrong secret ([`SyncFailure::WrongSecret`]) or a server without a
/// practice changes nothing on the device.
pub async fn join<R: Remote>(
    store: &dyn Store,
    remote: &R,
    secret: Secret<'_>,
    config: &SyncConfig,
) -> Result<(), SyncFailure> {
    let doc = server_keyring(remote)
        .await?
        .ok_or(SyncFailure::NoPractice)?;
    let keyring = doc.get("keyring").ok_or(SyncFailure::NoPractice)?;
    let extra = vec![DocOp::put(Collection::Meta, CONFIG_KEY, config)?];
    match crypto::adopt(store, keyring, secret, extra).await {
        Ok(()) => Ok(()),
        Err(StoreError::WrongPassphrase | StoreError::WrongRecoveryKey) => {
            Err(SyncFailure::WrongSecret)
        }
        Err(e) => Err(e.into()),
    }
}
