//! The keyring and the key-management API: setting up encryption (and migrating an
//! unencrypted database in one write), unlocking with the passphrase or the recovery key,
//! locking, changing the passphrase (re-wraps the data key only), and taking the keyring
//! another device of the practice made (after a passphrase change there).

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

use super::recovery::RecoveryKey;
use super::{b64, random, unb64, KeyBytes, Sealer, KEYRING_KEY};
use crate::storage::records::{document, Stored};
use crate::storage::{transfer, Collection, DocOp, Result, Store, StoreError, WriteBatch};

/// Associated data of the two wraps of the data key.
pub(super) const AD_PASSPHRASE: &[u8] = b"praxisbote keyring v1: passphrase";
pub(super) const AD_RECOVERY: &[u8] = b"praxisbote keyring v1: recovery key";

/// Whether a store's data is encrypted, and whether the key is in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockState {
    /// Not encrypted (the demo practice, or before the passphrase is set).
    Plain,
    /// Encrypted; the data key is not in memory: nothing can be read or written.
    Locked,
    /// Encrypted and unlocked.
    Unlocked,
    /// Encrypted and locked, but the data key is kept for the send records only
    /// (`crypto::SEND_SCOPE`) while a batch is being transmitted ("Versand während Sperre
    /// fortsetzen"); every other read and write fails with `StoreError::Locked`.
    Sending,
}

impl LockState {
    /// Locked for the user: [`LockState::Locked`] or [`LockState::Sending`].
    pub fn is_locked(self) -> bool {
        matches!(self, LockState::Locked | LockState::Sending)
    }
}

/// Argon2id parameters (stored with the wrapped key, so they can be raised later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// What the app uses: 19 MiB, 2 passes, 1 lane (OWASP's first Argon2id setting; timing
    /// in docs/design/encryption-at-rest.md and BENCHMARKS.md).
    pub const APP: KdfParams = KdfParams {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };

    /// Cheap parameters for tests only (never for real data).
    pub const TESTING: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    /// The key derived from `passphrase` and `salt`.
    pub fn derive(&self, passphrase: &str, salt: &[u8]) -> Result<KeyBytes> {
        let crypto = |e: argon2::Error| StoreError::Crypto(e.to_string());
        let params = Params::new(self.m_kib, self.t, self.p, Some(32)).map_err(crypto)?;
        let mut out = KeyBytes::new([0; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), salt, &mut out[..])
            .map_err(crypto)?;
        Ok(out)
    }
}

/// The keyring document (Meta [`KEYRING_KEY`], stored unsealed): the data key wrapped by
/// the passphrase key and by the recovery key. Holds nothing secret without one of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyring {
    pub version: u32,
    /// Always "argon2id" (version 0x13).
    pub kdf: String,
    pub params: KdfParams,
    /// Salt of the passphrase derivation (base64).
    pub salt: String,
    /// The data key sealed with the passphrase key (base64 of nonce ‖ ciphertext ‖ tag).
    pub passphrase_wrap: String,
    /// The data key sealed with the recovery key.
    pub recovery_wrap: String,
    /// How the persons' birthday index keys are stored: 0 (absent: keyrings written before
    /// blinding) as "MM-DD", [`BIRTHDAY_INDEX_BLINDED`] blinded (`blind.rs`). An unlock
    /// blinds the keys of an older database once and sets it ([`blind_birthday_index`]).
    #[serde(default)]
    pub birthday_index: u32,
    /// Generation: 0 when encryption is set up (and in keyrings written before it was
    /// counted), one more with every passphrase change. The devices of a practice keep the
    /// keyring of the highest generation (`storage::sync::keyring`).
    #[serde(default)]
    pub gen: u64,
}

/// [`Keyring::birthday_index`] of a database whose birthday index keys are blinded.
pub const BIRTHDAY_INDEX_BLINDED: u32 = 1;

impl Keyring {
    pub(super) fn read(stored: &Stored) -> Result<Keyring> {
        serde_json::from_str(&stored.body)
            .map_err(|e| StoreError::Corrupt(format!("{}/{KEYRING_KEY}: {e}", names_meta())))
    }

    fn stored(&self) -> Result<(serde_json::Value, Stored)> {
        let value = serde_json::to_value(self).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let stored = document::encode(KEYRING_KEY, &value)?;
        Ok((value, stored))
    }

    fn passphrase_wrap(
        key: &KeyBytes,
        passphrase: &str,
        params: KdfParams,
    ) -> Result<(String, String)> {
        let salt = random::<16>()?;
        let kek = params.derive(passphrase, &salt)?;
        Ok((b64(&salt), Sealer::new(&kek).seal(AD_PASSPHRASE, &key[..])?))
    }
}

fn names_meta() -> &'static str {
    Collection::Meta.store_name()
}

pub(super) fn unwrap_key(kek: &[u8; 32], ad: &[u8], wrapped: &str) -> Option<KeyBytes> {
    let plain = zeroize::Zeroizing::new(Sealer::new(kek).open(ad, wrapped)?);
    let key: [u8; 32] = plain.as_slice().try_into().ok()?;
    Some(KeyBytes::new(key))
}

/// Whether `store`'s data is encrypted and unlocked.
pub fn lock_state(store: &dyn Store) -> LockState {
    store.vault().lock_state()
}

/// Sets up encryption: a random data key, wrapped by a key derived from `passphrase` and by
/// a new recovery key (returned, to be shown once). Everything stored is read and written
/// back sealed in ONE write (all or nothing; on failure the database and the store stay
/// unencrypted). Fails with [`StoreError::AlreadyEncrypted`] when a keyring exists.
///
/// Reading and writing are two steps: another tab's write in between would be lost, so
/// the app runs this only while it is the one tab (see docs/design/encryption-at-rest.md).
pub async fn set_up(store: &dyn Store, passphrase: &str, params: KdfParams) -> Result<RecoveryKey> {
    if store.vault().lock_state() != LockState::Plain {
        return Err(StoreError::AlreadyEncrypted);
    }
    let last = transfer::last_backup(store).await?;
    let backup = transfer::collect_backup(store, chrono::NaiveDateTime::default()).await?;

    let key = KeyBytes::new(random()?);
    let recovery = RecoveryKey::generate()?;
    let (salt, passphrase_wrap) = Keyring::passphrase_wrap(&key, passphrase, params)?;
    let keyring = Keyring {
        version: 1,
        kdf: "argon2id".into(),
        params,
        salt,
        passphrase_wrap,
        recovery_wrap: Sealer::new(recovery.bytes()).seal(AD_RECOVERY, &key[..])?,
        // Written sealed below, with blinded birthday keys.
        birthday_index: BIRTHDAY_INDEX_BLINDED,
        gen: 0,
    };
    let (value, stored) = keyring.stored()?;
    let keyring_op = DocOp::Put {
        collection: Collection::Meta,
        key: KEYRING_KEY.into(),
        value,
    };

    store.vault().open_with(key, stored);
    let written = transfer::replace_all(store, &backup, last, vec![keyring_op]).await;
    if let Err(e) = written {
        store.vault().set_plain();
        return Err(e);
    }
    Ok(recovery)
}

/// Unlocks with the passphrase ([`StoreError::WrongPassphrase`] when it does not unwrap
/// the data key). Nothing to do for an unencrypted or unlocked store.
pub async fn unlock(store: &dyn Store, passphrase: &str) -> Result<()> {
    let Some(stored) = locked_keyring(store) else {
        return Ok(());
    };
    let keyring = Keyring::read(&stored)?;
    let salt = unb64(&keyring.salt)
        .ok_or_else(|| StoreError::Corrupt(format!("{}/{KEYRING_KEY}", names_meta())))?;
    let kek = keyring.params.derive(passphrase, &salt)?;
    let key = unwrap_key(&kek, AD_PASSPHRASE, &keyring.passphrase_wrap)
        .ok_or(StoreError::WrongPassphrase)?;
    store.vault().open_with(key, stored);
    blind_birthday_index(store).await
}

/// Unlocks with the recovery key in its text form ([`StoreError::WrongRecoveryKey`] when
/// it is none or does not unwrap the data key).
pub async fn unlock_with_recovery(store: &dyn Store, recovery_key: &str) -> Result<()> {
    let Some(stored) = locked_keyring(store) else {
        return Ok(());
    };
    let keyring = Keyring::read(&stored)?;
    let recovery = RecoveryKey::parse(recovery_key).ok_or(StoreError::WrongRecoveryKey)?;
    let key = unwrap_key(recovery.bytes(), AD_RECOVERY, &keyring.recovery_wrap)
        .ok_or(StoreError::WrongRecoveryKey)?;
    store.vault().open_with(key, stored);
    blind_birthday_index(store).await
}

/// After an unlock: a database encrypted before birthday keys were blinded has its keys
/// blinded now, in one write with the marked keyring ([`Store::blind_birthday_index`]);
/// once marked, nothing is done. When that write fails the store is locked again and the
/// error returned: the birthday query of an encrypted store finds blinded keys only.
async fn blind_birthday_index(store: &dyn Store) -> Result<()> {
    let Some(stored) = store.vault().keyring() else {
        return Ok(());
    };
    if Keyring::read(&stored)?.birthday_index == BIRTHDAY_INDEX_BLINDED {
        return Ok(());
    }
    let done = store.blind_birthday_index().await;
    if done.is_err() {
        store.vault().lock();
    }
    done
}

/// The keyring `stored` marked as having blinded birthday keys; `None` when it already is.
pub fn mark_birthday_index_blinded(stored: &Stored) -> Result<Option<Stored>> {
    let mut keyring = Keyring::read(stored)?;
    if keyring.birthday_index == BIRTHDAY_INDEX_BLINDED {
        return Ok(None);
    }
    keyring.birthday_index = BIRTHDAY_INDEX_BLINDED;
    Ok(Some(keyring.stored()?.1))
}

fn locked_keyring(store: &dyn Store) -> Option<Stored> {
    store
        .vault()
        .lock_state()
        .is_locked()
        .then(|| store.vault().keyring())
        .flatten()
}

/// Locks: the data key is wiped from memory; reads and writes fail until unlocked. Also
/// ends [`lock_for_sending`].
pub fn lock(store: &dyn Store) {
    store.vault().lock();
}

/// Locks everything but the send records (`crypto::SEND_SCOPE`): the transmit loop goes on
/// writing outcomes while persons, appointments, settings and the rest fail with
/// [`StoreError::Locked`]. The data key stays in memory until [`lock`] (the loop calls it when
/// the batch is done) or an unlock. Nothing to do unless unlocked.
pub fn lock_for_sending(store: &dyn Store) {
    store.vault().lock_for_sending();
}

/// Whether `passphrase` is the current one of an unlocked store (before it is changed):
/// [`StoreError::WrongPassphrase`] when it does not unwrap the data key.
pub async fn check_passphrase(store: &dyn Store, passphrase: &str) -> Result<()> {
    let stored = store.vault().keyring().ok_or(StoreError::Locked)?;
    let keyring = Keyring::read(&stored)?;
    let salt = unb64(&keyring.salt)
        .ok_or_else(|| StoreError::Corrupt(format!("{}/{KEYRING_KEY}", names_meta())))?;
    let kek = keyring.params.derive(passphrase, &salt)?;
    unwrap_key(&kek, AD_PASSPHRASE, &keyring.passphrase_wrap)
        .map(drop)
        .ok_or(StoreError::WrongPassphrase)
}

/// Sets a new passphrase: the data key is wrapped anew (new salt, `params`) and the
/// keyring's generation goes up by one (the other devices take it from the sync server); no
/// record is written again. The store must be unlocked.
pub async fn change_passphrase(
    store: &dyn Store,
    new_passphrase: &str,
    params: KdfParams,
) -> Result<()> {
    let vault = store.vault();
    let key = vault.data_key().ok_or(StoreError::Locked)?;
    let old = vault.keyring().ok_or(StoreError::Locked)?;
    let mut keyring = Keyring::read(&old)?;
    let (salt, wrap) = Keyring::passphrase_wrap(&key, new_passphrase, params)?;
    keyring.params = params;
    keyring.salt = salt;
    keyring.passphrase_wrap = wrap;
    keyring.gen += 1;
    let stored = write_keyring(store, &keyring).await?;
    vault.open_with(key, stored);
    Ok(())
}

/// Stores `keyring` as this device's keyring (nothing else is written); returns its stored
/// form for the vault.
async fn write_keyring(store: &dyn Store, keyring: &Keyring) -> Result<Stored> {
    let (value, stored) = keyring.stored()?;
    store
        .write(WriteBatch {
            docs: &[DocOp::Put {
                collection: Collection::Meta,
                key: KEYRING_KEY.into(),
                value,
            }],
            ..Default::default()
        })
        .await?;
    Ok(stored)
}

/// What opens a keyring: the passphrase, or the recovery key in its text form.
#[derive(Clone, Copy, Debug)]
pub enum Secret<'a> {
    Passphrase(&'a str),
    RecoveryKey(&'a str),
}

impl Keyring {
    /// The data key this keyring wraps, opened with `secret`.
    fn open_with_secret(&self, secret: Secret<'_>) -> Result<KeyBytes> {
        match secret {
            Secret::Passphrase(passphrase) => {
                let salt = unb64(&self.salt).ok_or_else(|| {
                    StoreError::Corrupt(format!("{}/{KEYRING_KEY}", names_meta()))
                })?;
                let kek = self.params.derive(passphrase, &salt)?;
                unwrap_key(&kek, AD_PASSPHRASE, &self.passphrase_wrap)
                    .ok_or(StoreError::WrongPassphrase)
            }
            Secret::RecoveryKey(text) => {
                let recovery = RecoveryKey::parse(text).ok_or(StoreError::WrongRecoveryKey)?;
                unwrap_key(recovery.bytes(), AD_RECOVERY, &self.recovery_wrap)
                    .ok_or(StoreError::WrongRecoveryKey)
            }
        }
    }
}

/// The keyring of an encrypted store (`None`: not encrypted).
pub fn current_keyring(store: &dyn Store) -> Result<Option<Keyring>> {
    store
        .vault()
        .keyring()
        .map(|stored| Keyring::read(&stored))
        .transpose()
}

/// Replaces this device's keyring by `new`, a keyring of the SAME data key made on another
/// device (after a passphrase change there; the caller has checked that it is authentic):
/// from now on the passphrase of `new` unlocks this device. No record is written again and
/// the data key in memory stays, so the store stays unlocked. The birthday index mark is
/// this device's own (it says how this database stores its keys) and is kept. The store
/// must be unlocked.
pub async fn take_keyring(store: &dyn Store, mut new: Keyring) -> Result<()> {
    let vault = store.vault();
    if vault.lock_state() != LockState::Unlocked {
        return Err(StoreError::Locked);
    }
    let old = vault.keyring().ok_or(StoreError::Locked)?;
    new.birthday_index = Keyring::read(&old)?.birthday_index;
    let stored = write_keyring(store, &new).await?;
    vault.replace_keyring(stored);
    Ok(())
}

/// The keyring of an encrypted store as JSON (it holds nothing secret without the passphrase
/// or the recovery key): what another device of the practice needs to join.
pub fn keyring_json(store: &dyn Store) -> Option<serde_json::Value> {
    let stored = store.vault().keyring()?;
    serde_json::from_str(&stored.body).ok()
}

/// Joins a practice whose keyring came from elsewhere (the sync server): opens `keyring` with
/// `secret` ([`StoreError::WrongPassphrase`] / [`StoreError::WrongRecoveryKey`] change
/// nothing), then replaces ALL data of this device by that keyring and the `extra` documents,
/// in one write, and leaves the store unlocked with the practice's data key. On a failed
/// write the store is as before (plain, or locked).
///
/// `accept` sees the keyring and the data key it opened before anything is written (the
/// sync layer checks the keyring's authenticator with it): `Ok(false)` when it refuses,
/// and nothing changed.
pub async fn adopt(
    store: &dyn Store,
    keyring: &serde_json::Value,
    secret: Secret<'_>,
    extra: Vec<DocOp>,
    accept: impl FnOnce(&Keyring, &[u8; 32]) -> bool,
) -> Result<bool> {
    let parsed: Keyring = serde_json::from_value(keyring.clone())
        .map_err(|e| StoreError::Corrupt(format!("{}/{KEYRING_KEY}: {e}", names_meta())))?;
    let key = parsed.open_with_secret(secret)?;
    if !accept(&parsed, &key) {
        return Ok(false);
    }
    let (value, stored) = parsed.stored()?;
    let was_plain = store.vault().lock_state() == LockState::Plain;
    let previous = store.vault().keyring();
    store.vault().open_with(key, stored);
    let mut ops = vec![DocOp::Put {
        collection: Collection::Meta,
        key: KEYRING_KEY.into(),
        value,
    }];
    ops.extend(extra);
    let written = store
        .write(WriteBatch {
            clear_all: true,
            docs: &ops,
            ..Default::default()
        })
        .await;
    if let Err(e) = written {
        match previous {
            Some(old) if !was_plain => {
                store.vault().replace_keyring(old);
                store.vault().lock();
            }
            _ => store.vault().set_plain(),
        }
        return Err(e);
    }
    Ok(true)
}
