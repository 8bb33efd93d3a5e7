//! Encrypted backups ("verschlüsselte Sicherung", issue 17): the plain backup JSON
//! (`domain::backup`) sealed with the practice's data key, inside a versioned envelope
//! that also carries the practice's keyring, so the file can be opened on another device
//! with that practice's passphrase (as it was when the backup was made) or its recovery key.
//!
//! ```json
//! { "format": "praxisbote-backup-encrypted", "version": 1,
//!   "created_at": "2026-12-05T04:30:00", "cipher": "aes-256-gcm",
//!   "keyring": { …the practice's keyring… }, "data": "base64(nonce ‖ ciphertext ‖ tag)" }
//! ```
//!
//! The associated data binds the envelope's version and `created_at`, so neither can be
//! changed without the file failing to open. Nothing here writes to the store.

use serde::{Deserialize, Serialize};

use super::keyring::{unwrap_key, Keyring, AD_PASSPHRASE, AD_RECOVERY};
use super::{unb64, RecoveryKey, Sealer};
use crate::storage::{Result, Store, StoreError};

/// The `format` of an encrypted backup file.
pub const BACKUP_FORMAT: &str = "praxisbote-backup-encrypted";
/// The envelope version this app writes and the newest it reads.
pub const BACKUP_VERSION: u32 = 1;
const CIPHER: &str = "aes-256-gcm";

#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    created_at: String,
    cipher: String,
    keyring: Keyring,
    data: String,
}

/// What opens an encrypted backup on a device whose database holds another key (or none).
#[derive(Clone, Copy, Debug)]
pub enum BackupSecret<'a> {
    /// The passphrase of the practice the backup comes from, as it was when it was made.
    Passphrase(&'a str),
    /// That practice's recovery key (text form).
    RecoveryKey(&'a str),
}

fn associated_data(version: u32, created_at: &str) -> Vec<u8> {
    format!("praxisbote backup v{version};created={created_at}").into_bytes()
}

/// Whether `text` is an encrypted backup (its `format`), without opening it.
pub fn is_encrypted_backup(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
    }
    serde_json::from_str::<Head>(text)
        .ok()
        .and_then(|h| h.format)
        .is_some_and(|f| f == BACKUP_FORMAT)
}

/// Seals the plain backup `plain_json` with the data key of `store` (created at
/// `created_at`, any text; shown before opening and bound to the seal). `Ok(None)` for an
/// unencrypted database (the demo keeps plain backups); [`StoreError::Locked`] while locked.
pub fn seal_backup(
    store: &dyn Store,
    plain_json: &str,
    created_at: &str,
) -> Result<Option<String>> {
    let vault = store.vault();
    let Some(stored) = vault.keyring() else {
        return Ok(None);
    };
    let key = vault.data_key().ok_or(StoreError::Locked)?;
    let keyring = Keyring::read(&stored)?;
    let data = Sealer::new(&key).seal(
        &associated_data(BACKUP_VERSION, created_at),
        plain_json.as_bytes(),
    )?;
    let envelope = Envelope {
        format: BACKUP_FORMAT.into(),
        version: BACKUP_VERSION,
        created_at: created_at.into(),
        cipher: CIPHER.into(),
        keyring,
        data,
    };
    serde_json::to_string_pretty(&envelope)
        .map(Some)
        .map_err(|e| StoreError::Crypto(e.to_string()))
}

fn envelope(text: &str) -> Result<Envelope> {
    #[derive(Deserialize)]
    struct Head {
        version: u32,
    }
    let head: Head = serde_json::from_str(text).map_err(|_| StoreError::BackupDamaged)?;
    if head.version > BACKUP_VERSION {
        return Err(StoreError::BackupTooNew {
            found: head.version,
            supported: BACKUP_VERSION,
        });
    }
    let e: Envelope = serde_json::from_str(text).map_err(|_| StoreError::BackupDamaged)?;
    if e.format != BACKUP_FORMAT || e.cipher != CIPHER {
        return Err(StoreError::BackupDamaged);
    }
    Ok(e)
}

fn open_data(key: &[u8; 32], e: &Envelope) -> Result<String> {
    let plain = Sealer::new(key)
        .open(&associated_data(e.version, &e.created_at), &e.data)
        .ok_or(StoreError::BackupDamaged)?;
    String::from_utf8(plain).map_err(|_| StoreError::BackupDamaged)
}

/// Opens an encrypted backup with the key of the open database when it is the same
/// practice's (same keyring origin): the plain backup JSON. [`StoreError::BackupNeedsKey`]
/// when the database is unencrypted or another practice's (then ask for the passphrase or
/// recovery key: [`open_backup_with`]); [`StoreError::BackupDamaged`] when the file was
/// altered.
pub fn open_backup(store: &dyn Store, text: &str) -> Result<String> {
    let e = envelope(text)?;
    let vault = store.vault();
    let Some(stored) = vault.keyring() else {
        return Err(StoreError::BackupNeedsKey);
    };
    let key = vault.data_key().ok_or(StoreError::Locked)?;
    // The recovery wrap is made once, when the data key is made: the same wrap means the
    // same data key.
    if Keyring::read(&stored)?.recovery_wrap != e.keyring.recovery_wrap {
        return Err(StoreError::BackupNeedsKey);
    }
    open_data(&key, &e)
}

/// Opens an encrypted backup with the passphrase or the recovery key of the practice it
/// comes from. [`StoreError::WrongPassphrase`] / [`StoreError::WrongRecoveryKey`] when it
/// does not unwrap the backup's key, [`StoreError::BackupDamaged`] when the file was altered.
pub fn open_backup_with(text: &str, secret: BackupSecret<'_>) -> Result<String> {
    let e = envelope(text)?;
    let key = match secret {
        BackupSecret::Passphrase(p) => {
            let salt = unb64(&e.keyring.salt).ok_or(StoreError::BackupDamaged)?;
            let kek = e.keyring.params.derive(p, &salt)?;
            unwrap_key(&kek, AD_PASSPHRASE, &e.keyring.passphrase_wrap)
                .ok_or(StoreError::WrongPassphrase)?
        }
        BackupSecret::RecoveryKey(text) => {
            let r = RecoveryKey::parse(text).ok_or(StoreError::WrongRecoveryKey)?;
            unwrap_key(r.bytes(), AD_RECOVERY, &e.keyring.recovery_wrap)
                .ok_or(StoreError::WrongRecoveryKey)?
        }
    };
    open_data(&key, &e)
}
