//! Encryption at rest: every stored record body is sealed with AES-256-GCM under the
//! practice's data key (docs/design/encryption-at-rest.md).
//!
//! - [`Keys`] is what a store call uses: [`Keys::Plain`] (an unencrypted database, e.g. the
//!   demo) or the data key. [`Keys::seal`] turns a [`Stored`] record into its sealed form
//!   (fresh 96-bit nonce, the record's [`Origin`] and version as associated data, so a
//!   record cannot be moved to another key, store or version); [`Keys::open`] reverses it.
//!   A record that does not open is an unreadable record like any other: it goes to the
//!   quarantine (`Store::set_aside`), kept as it was stored.
//! - [`Vault`] is held by every store: plain, locked (a keyring exists, no key in memory) or
//!   open. While locked every read and write fails with [`StoreError::Locked`]; nothing is
//!   set aside.
//! - The keyring ([`Keyring`], Meta document [`KEYRING_KEY`], stored unsealed) holds the
//!   data key wrapped twice: by a key derived from the passphrase (Argon2id, parameters and
//!   salt stored with it) and by the recovery key. The store hides it from `list_docs` and
//!   `is_empty`, and keeps it through `clear_all`.
//! - The key-management API ([`set_up`], [`unlock`], [`unlock_with_recovery`], [`lock`],
//!   [`change_passphrase`], [`lock_state`]) is the only part above the storage layer that
//!   knows about encryption.

mod backup;
mod blind;
mod keyring;
mod recovery;
mod web;

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use zeroize::Zeroizing;

use super::records::{DecodeError, Origin, Stored};
use super::{Collection, Result, StoreError};

pub use backup::{
    is_encrypted_backup, open_backup, open_backup_with, seal_backup, BackupSecret, BACKUP_FORMAT,
    BACKUP_VERSION,
};
pub use keyring::{
    adopt, change_passphrase, check_passphrase, current_keyring, keyring_json, lock,
    lock_for_sending, lock_state, mark_birthday_index_blinded, set_up, take_keyring, unlock,
    unlock_with_recovery, KdfParams, Keyring, LockState, Secret, BIRTHDAY_INDEX_BLINDED,
};
pub use recovery::RecoveryKey;
#[cfg(target_arch = "wasm32")]
pub use web::{web_sealed_count, BulkSealer, SealedBodies, CHUNK as WEB_SEAL_CHUNK};

/// Meta key of the keyring document (stored unsealed; hidden from `list_docs`).
pub const KEYRING_KEY: &str = "keyring";

/// What a sealed body starts with (no JSON text starts like this).
const SEALED_PREFIX: &str = "aesgcm1:";

const NONCE_LEN: usize = 12;

/// A 256-bit key (data key or key-encryption key), wiped from memory when dropped.
pub(crate) type KeyBytes = Zeroizing<[u8; 32]>;

/// `N` bytes from the operating system's / browser's CSPRNG (`crypto.getRandomValues`).
pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| StoreError::Crypto(e.to_string()))?;
    Ok(out)
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    B64.decode(text).ok()
}

/// AES-256-GCM with one key: `nonce ‖ ciphertext ‖ tag`, base64. Also holds the birthday
/// index key derived from it (`blind.rs`; used only for the data key).
pub struct Sealer {
    cipher: Aes256Gcm,
    index: blind::IndexKey,
    /// The same key in WebCrypto, for bulk writes in the browser (data key only; `web.rs`).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    web: web::WebKey,
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Sealer {
        Sealer {
            cipher: Aes256Gcm::new(key.into()),
            index: blind::IndexKey::derive(key),
            web: web::WebKey::none(),
        }
    }

    /// A sealer for the data key: also imports it into WebCrypto (in the browser), so bulk
    /// writes can seal before their transaction opens ([`Keys::bulk_sealer`] in `web.rs`).
    pub fn with_web(key: &[u8; 32]) -> Sealer {
        Sealer {
            cipher: Aes256Gcm::new(key.into()),
            index: blind::IndexKey::derive(key),
            web: web::WebKey::import(key),
        }
    }

    fn index_key(&self) -> &blind::IndexKey {
        &self.index
    }

    /// Encrypts `plain` with a fresh random nonce; `ad` is authenticated, not stored.
    pub(crate) fn seal(&self, ad: &[u8], plain: &[u8]) -> Result<String> {
        let nonce = random::<NONCE_LEN>()?;
        let ct = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: ad,
                },
            )
            .map_err(|e| StoreError::Crypto(e.to_string()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(b64(&out))
    }

    /// Decrypts what [`Sealer::seal`] wrote; `None` when it was altered, sealed with other
    /// associated data or another key.
    pub(crate) fn open(&self, ad: &[u8], sealed: &str) -> Option<Vec<u8>> {
        let bytes = unb64(sealed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad: ad })
            .ok()
    }
}

/// The associated data of a record: its version, store and key (the key last, so the
/// encoding is unambiguous whatever the key holds).
fn associated_data(origin: &Origin, v: u32) -> Vec<u8> {
    format!(
        "praxisbote record v={v};store={};key={}",
        origin.store_name(),
        origin.key()
    )
    .into_bytes()
}

/// Whether a record is stored unsealed in an encrypted database (only the keyring).
pub fn exempt(origin: &Origin) -> bool {
    matches!(origin, Origin::Document(Collection::Meta, k) if k == KEYRING_KEY)
}

/// Whether a body is in sealed form.
pub fn is_sealed(body: &str) -> bool {
    body.starts_with(SEALED_PREFIX)
}

/// The keys one store call works with.
#[derive(Clone)]
pub enum Keys {
    /// An unencrypted database: records are stored as they are.
    Plain,
    /// An encrypted, unlocked database.
    Sealed(Rc<Sealer>),
}

impl Keys {
    /// The form in which `stored` (the record at `origin`) is written.
    pub fn seal(&self, origin: &Origin, stored: Stored) -> Result<Stored> {
        match self {
            Keys::Sealed(sealer) if !exempt(origin) => {
                let ad = associated_data(origin, stored.v);
                let sealed = sealer.seal(&ad, stored.body.as_bytes())?;
                Ok(Stored {
                    v: stored.v,
                    body: format!("{SEALED_PREFIX}{sealed}"),
                })
            }
            _ => Ok(stored),
        }
    }

    /// The readable form of the record stored at `origin` as `stored`.
    pub fn open<'a>(
        &self,
        origin: &Origin,
        stored: &'a Stored,
    ) -> std::result::Result<Cow<'a, Stored>, DecodeError> {
        let sealer = match self {
            Keys::Sealed(sealer) if !exempt(origin) => sealer,
            _ => return Ok(Cow::Borrowed(stored)),
        };
        let Some(sealed) = stored.body.strip_prefix(SEALED_PREFIX) else {
            return Err(DecodeError::NotSealed);
        };
        let plain = sealer
            .open(&associated_data(origin, stored.v), sealed)
            .ok_or(DecodeError::Undecryptable)?;
        let body = String::from_utf8(plain).map_err(|_| DecodeError::Undecryptable)?;
        Ok(Cow::Owned(Stored { v: stored.v, body }))
    }

    /// [`Keys::open`], or the record as stored when it does not open (for comparing a
    /// record read before with what is stored now).
    pub fn readable<'a>(&self, origin: &Origin, stored: &'a Stored) -> Cow<'a, Stored> {
        self.open(origin, stored).unwrap_or(Cow::Borrowed(stored))
    }
}

/// The state of a store's encryption, held by the store (see the module docs).
#[derive(Default)]
pub struct Vault {
    state: RefCell<State>,
}

#[derive(Default)]
enum State {
    #[default]
    Plain,
    Locked {
        keyring: Stored,
    },
    Open {
        key: KeyBytes,
        sealer: Rc<Sealer>,
        keyring: Stored,
    },
    /// Locked for everything but the send records ([`SEND_SCOPE`]): the setting "Versand
    /// während Sperre fortsetzen" while a batch is being transmitted.
    Sending {
        sealer: Rc<Sealer>,
        keyring: Stored,
    },
}

/// The collections a store serves while it is locked for sending ([`LockState::Sending`]):
/// the outbox, the send log and its archive, and Meta (cancel requests, relay settings). No
/// person, appointment, practice setting, template, query or quarantined record.
pub const SEND_SCOPE: [Collection; 4] = [
    Collection::Outbox,
    Collection::Sendlog,
    Collection::SendlogArchive,
    Collection::Meta,
];

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({:?})", self.lock_state())
    }
}

impl Vault {
    /// A vault for a database whose stored keyring record is `keyring` (`None`: plain).
    pub fn found(keyring: Option<Stored>) -> Vault {
        Vault {
            state: RefCell::new(match keyring {
                Some(keyring) => State::Locked { keyring },
                None => State::Plain,
            }),
        }
    }

    /// The keys for one store call; fails while locked (also while locked for sending).
    pub fn keys(&self) -> Result<Keys> {
        match &*self.state.borrow() {
            State::Plain => Ok(Keys::Plain),
            State::Locked { .. } | State::Sending { .. } => Err(StoreError::Locked),
            State::Open { sealer, .. } => Ok(Keys::Sealed(sealer.clone())),
        }
    }

    /// The keys for a store call that touches documents of `collections` only: like
    /// [`Vault::keys`], and while locked for sending also for the [`SEND_SCOPE`].
    pub fn keys_for_docs(&self, collections: &[Collection]) -> Result<Keys> {
        match &*self.state.borrow() {
            State::Sending { sealer, .. } if collections.iter().all(|c| SEND_SCOPE.contains(c)) => {
                Ok(Keys::Sealed(sealer.clone()))
            }
            _ => self.keys(),
        }
    }

    /// The keys for writing `batch`: [`Vault::keys_for_docs`] when it writes documents only.
    pub fn keys_for_batch(&self, batch: &super::WriteBatch<'_>) -> Result<Keys> {
        let docs_only = !batch.clear_all
            && batch.delete_persons.is_empty()
            && batch.delete_appointments.is_empty()
            && batch.persons.is_empty()
            && batch.appointments.is_empty()
            && batch.settings.is_none();
        if !docs_only {
            return self.keys();
        }
        let collections: Vec<Collection> = batch.docs.iter().map(|d| d.collection()).collect();
        self.keys_for_docs(&collections)
    }

    pub fn lock_state(&self) -> LockState {
        match &*self.state.borrow() {
            State::Plain => LockState::Plain,
            State::Locked { .. } => LockState::Locked,
            State::Open { .. } => LockState::Unlocked,
            State::Sending { .. } => LockState::Sending,
        }
    }

    /// The stored keyring record, when the database is encrypted (a store writes it back
    /// after `clear_all`).
    pub fn keyring(&self) -> Option<Stored> {
        match &*self.state.borrow() {
            State::Plain => None,
            State::Locked { keyring }
            | State::Open { keyring, .. }
            | State::Sending { keyring, .. } => Some(keyring.clone()),
        }
    }

    pub(crate) fn data_key(&self) -> Option<KeyBytes> {
        match &*self.state.borrow() {
            State::Open { key, .. } => Some(key.clone()),
            _ => None,
        }
    }

    fn open_with(&self, key: KeyBytes, keyring: Stored) {
        let sealer = Rc::new(Sealer::with_web(&key));
        *self.state.borrow_mut() = State::Open {
            key,
            sealer,
            keyring,
        };
    }

    /// Replaces the stored keyring record the vault holds (a store, after its write changed
    /// it), keeping the state.
    pub fn replace_keyring(&self, new: Stored) {
        match &mut *self.state.borrow_mut() {
            State::Plain => {}
            State::Locked { keyring }
            | State::Open { keyring, .. }
            | State::Sending { keyring, .. } => *keyring = new,
        }
    }

    fn set_plain(&self) {
        *self.state.borrow_mut() = State::Plain;
    }

    /// Drops the data key (wiped) and keeps the keyring.
    fn lock(&self) {
        let mut state = self.state.borrow_mut();
        if let Some(keyring) = match &*state {
            State::Open { keyring, .. } | State::Sending { keyring, .. } => Some(keyring.clone()),
            _ => None,
        } {
            *state = State::Locked { keyring };
        }
    }

    /// Locks everything but the [`SEND_SCOPE`]; the key stays in memory until [`Vault::lock`].
    fn lock_for_sending(&self) {
        let mut state = self.state.borrow_mut();
        if let State::Open {
            sealer, keyring, ..
        } = &*state
        {
            let next = State::Sending {
                sealer: sealer.clone(),
                keyring: keyring.clone(),
            };
            *state = next;
        }
    }
}

#[cfg(test)]
mod tests;
