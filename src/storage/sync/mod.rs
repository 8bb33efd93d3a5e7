//! Several devices of one practice: the app's records as end-to-end encrypted CouchDB
//! documents (docs/design/sync-replication.md). The replication protocol itself is the
//! `praxisbote-sync` crate; this module maps records to documents and back ([`records`]),
//! seals their bodies ([`envelope`]), runs sync rounds over the store ([`round`]), and
//! connects a device to a practice's server (below).
//!
//! The server holds one plain document besides the sealed ones: [`KEYRING_DOC`], the
//! practice's keyring (the data key wrapped by the passphrase and by the recovery key — it
//! opens with neither missing), the key's fingerprint and an authenticator made with the
//! data key ([`keyring`]). A new device reads it to join; every round keeps it and the
//! device's own keyring at the highest generation, so a passphrase change reaches all.

pub mod conflicts;
pub mod envelope;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
pub mod keyring;
pub mod records;
pub mod round;

use praxisbote_sync::{Couch, Remote, SyncError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::storage::crypto::{self, Keyring, Secret};
use crate::storage::{Collection, DocOp, Store, StoreError, StoreExt};
use envelope::SyncKeys;
use keyring::Step;
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
/// ([`SyncFailure::KeyMismatch`]) before anything is written. With the same key, the keyring
/// of the higher generation wins ([`keyring::decide`]): this device puts its own over an
/// older (or unauthenticated) one, or takes the server's newer one — then it returns `true`:
/// the passphrase changed on another device, and from now on the new one unlocks this one.
pub async fn publish<R: Remote>(store: &dyn Store, remote: &R) -> Result<bool, SyncFailure> {
    let keys = sync_keys(store)?;
    let couch = Couch::new(remote);
    couch.info().await?;
    // A 409 means another device wrote the document between the read and the write: read
    // and decide again; when that keeps happening the next round decides.
    for _ in 0..3 {
        let local = crypto::current_keyring(store)?.ok_or(SyncFailure::NotEncrypted)?;
        let on_server = server_keyring(remote).await?;
        let step = match &on_server {
            None => Step::Put,
            Some(doc) if doc.get("key_id").and_then(Value::as_str) != Some(keys.key_id()) => {
                return Err(SyncFailure::KeyMismatch)
            }
            Some(doc) => keyring::decide(&local, keyring::read(&keys, doc)),
        };
        match step {
            Step::Keep => return Ok(false),
            Step::Take(theirs) => {
                crypto::take_keyring(store, theirs).await?;
                return Ok(true);
            }
            Step::Put => {
                if put_keyring(&couch, &keys, &local, on_server.as_ref()).await? {
                    return Ok(false);
                }
            }
        }
    }
    Ok(false)
}

/// Puts `local` as the keyring document over `on_server` (its `_rev`); `false` on a
/// conflict (someone else wrote it meanwhile).
async fn put_keyring<R: Remote>(
    couch: &Couch<'_, R>,
    keys: &SyncKeys,
    local: &Keyring,
    on_server: Option<&Value>,
) -> Result<bool, SyncFailure> {
    let mut doc = keyring::document(keys, local);
    if let Some(rev) = on_server.and_then(|d| d.get("_rev")) {
        doc["_rev"] = rev.clone();
    }
    match couch.put_doc(KEYRING_DOC, &doc).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_conflict() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Joins the practice on the server with its passphrase or recovery key: ALL data on this
/// device is replaced by the practice's keyring and `config` (the first round then fetches
/// the practice's data). A wrong secret ([`SyncFailure::WrongSecret`]), a keyring whose
/// authenticator does not verify with the key it opens ([`SyncFailure::ForgedKeyring`]; a
/// keyring of generation 0 without one is from before authenticators and accepted, the
/// next round of a device adds it) or a server without a practice changes nothing on the
/// device.
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
    let accept = |_: &Keyring, key: &[u8; 32]| {
        let keys = SyncKeys::new(key);
        doc.get("key_id").and_then(Value::as_str) == Some(keys.key_id())
            && keyring::read(&keys, &doc) != keyring::OnServer::Forged
    };
    match crypto::adopt(store, keyring, secret, extra, accept).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(SyncFailure::ForgedKeyring),
        Err(StoreError::WrongPassphrase | StoreError::WrongRecoveryKey) => {
            Err(SyncFailure::WrongSecret)
        }
        Err(e) => Err(e.into()),
    }
}
