//! The one error type of the storage layer: a kind with its arguments.
//!
//! Like the domain's messages (`domain::message::UiMessage`), a [`StoreError`] names a stable
//! catalogue key (`storage.…`) and its arguments; the UI translates it with
//! `crate::i18n::msg`. `Display` is the German text (the catalogue's German value filled with
//! the arguments, tested in `src/i18n/tests.rs`), for logs and native tests.

use crate::domain::message::{fill, UiMessage};

/// Why a record may not be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    PersonWithoutId,
    PersonWithoutName,
    AppointmentWithoutId,
    AppointmentWithoutPerson,
    AppointmentEndsBeforeStart,
    DocumentWithoutKey,
    /// The record cannot be written as JSON (serde's detail).
    NotStorable(String),
    /// A backup names an area (collection) praxisbote does not know.
    BackupUnknownArea,
    /// An entry of a backup area is not a JSON object.
    BackupEntryNotObject,
    /// An entry of a backup area has no key.
    BackupEntryWithoutKey,
}

/// Everything that can go wrong in storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// A record failed validation; nothing of its batch was written. `id` is the record's id
    /// or key (for backup entries: the area's name).
    Invalid { id: String, problem: Invalid },
    /// An appointment refers to a person that is neither stored nor part of the batch.
    UnknownPerson { appointment: String, person: String },
    /// The browser offers no IndexedDB (private mode of some browsers, disabled storage).
    Unavailable(String),
    /// The database was created by a newer praxisbote.
    TooNew { found: u32, supported: u32 },
    /// A schema upgrade failed; the database stays at its old version.
    MigrationFailed { version: u32, detail: String },
    /// The browser's storage quota is exhausted.
    QuotaExceeded,
    /// Stored data could not be read back (the detail names where).
    Corrupt(String),
    /// Any other database error (the browser's text).
    Backend(String),
    /// The closure of a [`Store::update`](super::Store::update) declined to write (see
    /// [`StoreExt::update_with`](super::StoreExt::update_with), which hands the caller's own
    /// error back instead).
    Aborted,
    /// The database is encrypted and locked: nothing can be read or written until unlocked.
    Locked,
    /// The passphrase does not unlock the database.
    WrongPassphrase,
    /// The recovery key is none or does not unlock the database.
    WrongRecoveryKey,
    /// Encryption is already set up.
    AlreadyEncrypted,
    /// This tab opened the database unencrypted, and another tab has encrypted it since: the
    /// write is refused (it would store plain records); the page must be reloaded.
    EncryptedElsewhere,
    /// A cryptographic operation failed (the detail names it; e.g. no random numbers).
    Crypto(String),
    /// An encrypted backup of another practice (or read into an unencrypted database):
    /// it needs that practice's passphrase or recovery key.
    BackupNeedsKey,
    /// An encrypted backup does not open: altered, cut short or not a backup.
    BackupDamaged,
    /// An encrypted backup from a newer praxisbote.
    BackupTooNew { found: u32, supported: u32 },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The German templates of the catalogue keys (equal to `src/i18n/de.txt`, tested there).
const GERMAN: &[(&str, &str)] = &[
    (
        "storage.invalid.person_without_id",
        "Die Person „{id}“ hat keine gültige Kennung. Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.person_without_name",
        "Bei der Person „{id}“ fehlen Vor- und Nachname. Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.appointment_without_id",
        "Der Termin „{id}“ hat keine gültige Kennung. Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.appointment_without_person",
        "Beim Termin „{id}“ fehlt die Person. Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.appointment_ends_before_start",
        "Der Termin „{id}“ endet vor seinem Beginn. Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.document_without_key",
        "Ein Dokument hat keinen gültigen Schlüssel („{id}“). Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.not_storable",
        "Der Datensatz „{id}“ lässt sich nicht speichern: {detail} Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.backup_unknown_area",
        "Die Sicherung enthält den Bereich „{id}“, den praxisbote nicht kennt. Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.backup_entry_not_object",
        "Ein Eintrag im Bereich „{id}“ der Sicherung ist kein Objekt. Es wurde nichts gespeichert.",
    ),
    (
        "storage.invalid.backup_entry_without_key",
        "Ein Eintrag im Bereich „{id}“ der Sicherung hat keinen Schlüssel. Es wurde nichts gespeichert.",
    ),
    (
        "storage.unknown_person",
        "Der Termin „{appointment}“ gehört zu einer unbekannten Person („{person}“). Es wurde nichts gespeichert.",
    ),
    (
        "storage.unavailable",
        "Der Browser stellt keinen lokalen Speicher zur Verfügung: {detail}",
    ),
    (
        "storage.too_new",
        "Die gespeicherten Daten stammen von einer neueren Version von Praxisbote (Schema {found}, unterstützt bis {supported}). Bitte die neueste Version verwenden.",
    ),
    (
        "storage.migration_failed",
        "Die Aktualisierung der gespeicherten Daten auf Schema {version} ist fehlgeschlagen: {detail} Die Daten sind unverändert.",
    ),
    (
        "storage.quota_exceeded",
        "Der Speicher des Browsers ist voll. Bitte Speicherplatz freigeben.",
    ),
    ("storage.corrupt", "Gespeicherte Daten sind beschädigt: {detail}"),
    ("storage.backend", "Datenbankfehler: {detail}"),
    (
        "storage.aborted",
        "Der Vorgang wurde abgebrochen. Es wurde nichts gespeichert.",
    ),
    (
        "storage.locked",
        "Die Daten sind gesperrt. Bitte mit der Passphrase entsperren.",
    ),
    (
        "storage.wrong_passphrase",
        "Die Passphrase ist falsch. Die Daten bleiben gesperrt.",
    ),
    (
        "storage.wrong_recovery_key",
        "Der Notfallschlüssel ist falsch oder unvollständig. Die Daten bleiben gesperrt.",
    ),
    (
        "storage.already_encrypted",
        "Die Daten sind bereits verschlüsselt.",
    ),
    (
        "storage.encrypted_elsewhere",
        "Die Daten wurden inzwischen in einem anderen Tab verschlüsselt. Nichts wurde \
         gespeichert — bitte laden Sie diese Seite neu und entsperren Sie sie.",
    ),
    (
        "storage.crypto",
        "Verschlüsselung fehlgeschlagen: {detail} Es wurde nichts gespeichert.",
    ),
    (
        "storage.backup_needs_key",
        "Diese Sicherung ist verschlüsselt. Bitte die Passphrase oder den Notfallschlüssel der Praxis eingeben, von der sie stammt.",
    ),
    (
        "storage.backup_damaged",
        "Die verschlüsselte Sicherung lässt sich nicht öffnen: die Datei ist beschädigt oder verändert. Die gespeicherten Daten bleiben unverändert.",
    ),
    (
        "storage.backup_too_new",
        "Die verschlüsselte Sicherung stammt von einer neueren Version von Praxisbote (Format {found}, unterstützt bis {supported}). Die gespeicherten Daten bleiben unverändert.",
    ),
];

impl StoreError {
    /// A validation error of the record `id`.
    pub fn invalid(id: &str, problem: Invalid) -> StoreError {
        StoreError::Invalid {
            id: id.to_string(),
            problem,
        }
    }
}

impl UiMessage for StoreError {
    fn key(&self) -> &'static str {
        match self {
            StoreError::Invalid { problem, .. } => match problem {
                Invalid::PersonWithoutId => "storage.invalid.person_without_id",
                Invalid::PersonWithoutName => "storage.invalid.person_without_name",
                Invalid::AppointmentWithoutId => "storage.invalid.appointment_without_id",
                Invalid::AppointmentWithoutPerson => "storage.invalid.appointment_without_person",
                Invalid::AppointmentEndsBeforeStart => {
                    "storage.invalid.appointment_ends_before_start"
                }
                Invalid::DocumentWithoutKey => "storage.invalid.document_without_key",
                Invalid::NotStorable(_) => "storage.invalid.not_storable",
                Invalid::BackupUnknownArea => "storage.invalid.backup_unknown_area",
                Invalid::BackupEntryNotObject => "storage.invalid.backup_entry_not_object",
                Invalid::BackupEntryWithoutKey => "storage.invalid.backup_entry_without_key",
            },
            StoreError::UnknownPerson { .. } => "storage.unknown_person",
            StoreError::Unavailable(_) => "storage.unavailable",
            StoreError::TooNew { .. } => "storage.too_new",
            StoreError::MigrationFailed { .. } => "storage.migration_failed",
            StoreError::QuotaExceeded => "storage.quota_exceeded",
            StoreError::Corrupt(_) => "storage.corrupt",
            StoreError::Backend(_) => "storage.backend",
            StoreError::Aborted => "storage.aborted",
            StoreError::Locked => "storage.locked",
            StoreError::WrongPassphrase => "storage.wrong_passphrase",
            StoreError::WrongRecoveryKey => "storage.wrong_recovery_key",
            StoreError::AlreadyEncrypted => "storage.already_encrypted",
            StoreError::EncryptedElsewhere => "storage.encrypted_elsewhere",
            StoreError::Crypto(_) => "storage.crypto",
            StoreError::BackupNeedsKey => "storage.backup_needs_key",
            StoreError::BackupDamaged => "storage.backup_damaged",
            StoreError::BackupTooNew { .. } => "storage.backup_too_new",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            StoreError::Invalid { id, problem } => {
                let mut v = vec![("id", id.clone())];
                if let Invalid::NotStorable(detail) = problem {
                    v.push(("detail", detail.clone()));
                }
                v
            }
            StoreError::UnknownPerson {
                appointment,
                person,
            } => vec![
                ("appointment", appointment.clone()),
                ("person", person.clone()),
            ],
            StoreError::TooNew { found, supported }
            | StoreError::BackupTooNew { found, supported } => vec![
                ("found", found.to_string()),
                ("supported", supported.to_string()),
            ],
            StoreError::MigrationFailed { version, detail } => {
                vec![("version", version.to_string()), ("detail", detail.clone())]
            }
            StoreError::Unavailable(detail)
            | StoreError::Corrupt(detail)
            | StoreError::Backend(detail)
            | StoreError::Crypto(detail) => vec![("detail", detail.clone())],
            StoreError::QuotaExceeded
            | StoreError::Aborted
            | StoreError::Locked
            | StoreError::WrongPassphrase
            | StoreError::WrongRecoveryKey
            | StoreError::AlreadyEncrypted
            | StoreError::EncryptedElsewhere
            | StoreError::BackupNeedsKey
            | StoreError::BackupDamaged => Vec::new(),
        }
    }
}

/// The German template of a storage key.
pub fn german(key: &str) -> Option<&'static str> {
    GERMAN.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = self.key();
        let template = german(key);
        debug_assert!(template.is_some(), "no German template for {key}");
        f.write_str(&fill(template.unwrap_or(key), &self.args()))
    }
}

impl std::error::Error for StoreError {}

/// One sample of every kind, for the catalogue tests.
#[cfg(test)]
pub fn samples() -> Vec<StoreError> {
    let inv = |p| StoreError::invalid("p-1", p);
    vec![
        inv(Invalid::PersonWithoutId),
        inv(Invalid::PersonWithoutName),
        inv(Invalid::AppointmentWithoutId),
        inv(Invalid::AppointmentWithoutPerson),
        inv(Invalid::AppointmentEndsBeforeStart),
        inv(Invalid::DocumentWithoutKey),
        inv(Invalid::NotStorable("key must be a string".into())),
        inv(Invalid::BackupUnknownArea),
        inv(Invalid::BackupEntryNotObject),
        inv(Invalid::BackupEntryWithoutKey),
        StoreError::UnknownPerson {
            appointment: "t1".into(),
            person: "ghost".into(),
        },
        StoreError::Unavailable("NullFactory".into()),
        StoreError::TooNew {
            found: 9,
            supported: 3,
        },
        StoreError::MigrationFailed {
            version: 3,
            detail: "abort".into(),
        },
        StoreError::QuotaExceeded,
        StoreError::Corrupt("persons/12".into()),
        StoreError::Backend("TransactionInactiveError".into()),
        StoreError::Aborted,
        StoreError::Locked,
        StoreError::WrongPassphrase,
        StoreError::WrongRecoveryKey,
        StoreError::AlreadyEncrypted,
        StoreError::EncryptedElsewhere,
        StoreError::Crypto("no random numbers".into()),
        StoreError::BackupNeedsKey,
        StoreError::BackupDamaged,
        StoreError::BackupTooNew {
            found: 2,
            supported: 1,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_german_text_with_its_arguments() {
        let samples = samples();
        let mut keys: Vec<&str> = samples.iter().map(|e| e.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), samples.len(), "two kinds share a key");
        assert_eq!(keys.len(), GERMAN.len(), "a German template is unused");
        for e in &samples {
            let text = e.to_string();
            assert!(
                !text.contains('{'),
                "{}: unfilled placeholder in {text}",
                e.key()
            );
            for (_, v) in e.args() {
                assert!(
                    text.contains(&v),
                    "{}: argument {v} missing in {text}",
                    e.key()
                );
            }
        }
        assert_eq!(
            StoreError::invalid("p-9", Invalid::PersonWithoutName).to_string(),
            "Bei der Person „p-9“ fehlen Vor- und Nachname. Es wurde nichts gespeichert."
        );
    }
}
