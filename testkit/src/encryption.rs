//! Cases of encryption at rest every [`Store`] implementation passes (natively against
//! `MemoryStore`, in headless Chromium against `IdbStore`), listed by
//! [`for_each_encryption_case!`](crate::for_each_encryption_case). Each takes a fresh,
//! empty, unencrypted store. [`encrypt`] turns a fresh store into an encrypted one, so the
//! whole conformance suite also runs against encrypted stores.

use praxisbote::domain::{AppointmentId, PersonRecord};
use praxisbote::storage::crypto::{self, KdfParams, LockState, RecoveryKey};
use praxisbote::storage::records::{self, quarantined_records, Origin, Stored};
use praxisbote::storage::{transfer, Collection, Doc, Store, StoreError};
use serde_json::json;

use crate::sample::*;

/// The passphrase of the test stores.
pub const PASSPHRASE: &str = "Praxis am Markt 2026!";

/// Calls `$m!(case_name)` for every encryption case.
#[macro_export]
macro_rules! for_each_encryption_case {
    ($m:ident) => {
        $m!(setup_seals_everything_and_keeps_the_data);
        $m!(lock_unlock_wrong_passphrase_recovery_and_new_passphrase);
        $m!(tampered_or_moved_record_is_set_aside);
        $m!(failed_setup_leaves_the_database_unencrypted);
        $m!(encrypted_backup_round_trip_tamper_and_other_device);
        $m!(locked_for_sending_serves_only_the_send_records);
    };
}

/// Sets up encryption on `s` (cheap KDF parameters: tests only); returns the recovery key.
pub async fn encrypt(s: &dyn Store) -> RecoveryKey {
    crypto::set_up(s, PASSPHRASE, KdfParams::TESTING)
        .await
        .expect("set up encryption")
}

/// Persons whose names, phones, e-mails and birth dates the raw-data checks look for.
pub fn secret_persons() -> Vec<PersonRecord> {
    let mut a = with_birthday(person("p-1", "Hildegard", "Zwiebelmeier"), d(1961, 4, 23));
    a.person.email = "hildegard.zwiebelmeier@example.org".into();
    a.person.mobile = "+4917612345678".into();
    let mut b = with_birthday(person("p-2", "Jörg", "Überschär"), d(1979, 11, 2));
    b.person.email = "joerg@ueberschaer.example".into();
    b.person.landline = "+49301234567".into();
    vec![a, b]
}

/// The values of [`secret_persons`] that must not appear in stored bytes.
pub fn secret_values() -> Vec<String> {
    let mut v = Vec::new();
    for p in secret_persons() {
        v.push(p.person.first_name.clone());
        v.push(p.person.last_name.clone());
        for s in [&p.person.email, &p.person.mobile, &p.person.landline] {
            if !s.is_empty() {
                v.push(s.clone());
            }
        }
        if let Some(b) = p.sensitive.birth_date {
            v.push(b.to_string());
            v.push(b.format("%d.%m.%Y").to_string());
            // The birthday index key as a JSON string ("04-23"): blinded when encrypted.
            v.push(b.format("\"%m-%d\"").to_string());
        }
    }
    v
}

/// Everything observable through the store, for before/after comparisons.
async fn everything(s: &dyn Store) -> String {
    crate::conformance::snapshot(s).await
}

/// Puts the one outbox document of these cases.
async fn put_outbox(s: &dyn Store) {
    s.put_docs(
        Collection::Outbox,
        &[Doc {
            key: "m-1".into(),
            value: json!({"to": "hildegard.zwiebelmeier@example.org"}),
        }],
    )
    .await
    .unwrap();
}

async fn fill(s: &dyn Store) -> Vec<Origin> {
    s.put_persons(&secret_persons()).await.unwrap();
    s.put_appointments(&[appointment("t-1", "p-1", dt(2026, 12, 1, 9, 30))])
        .await
        .unwrap();
    s.put_settings(&settings()).await.unwrap();
    put_outbox(s).await;
    transfer::mark_backup(s, d(2026, 11, 20)).await.unwrap();
    vec![
        Origin::Person(pid("p-1")),
        Origin::Person(pid("p-2")),
        Origin::Appointment(AppointmentId("t-1".into())),
        Origin::Settings,
        Origin::Document(Collection::Outbox, "m-1".into()),
        Origin::Document(Collection::Meta, transfer::LAST_BACKUP_KEY.into()),
    ]
}

pub async fn setup_seals_everything_and_keeps_the_data(s: &dyn Store) {
    let origins = fill(s).await;
    let before = everything(s).await;
    assert_eq!(crypto::lock_state(s), LockState::Plain);
    for o in &origins {
        let raw = s.get_raw(o).await.unwrap().expect("stored");
        assert!(!crypto::is_sealed(&raw.body), "{o:?} sealed before set-up");
    }

    encrypt(s).await;
    assert_eq!(crypto::lock_state(s), LockState::Unlocked);
    assert_eq!(everything(s).await, before, "the data reads as before");
    assert_eq!(
        transfer::last_backup(s).await.unwrap(),
        Some(d(2026, 11, 20))
    );
    for o in &origins {
        let raw = s.get_raw(o).await.unwrap().expect("stored");
        assert!(crypto::is_sealed(&raw.body), "{o:?}: {raw:?}");
        for secret in secret_values() {
            assert!(!raw.body.contains(&secret), "{o:?} shows {secret}");
        }
    }
    // The keyring is the store's own: not a document, not data.
    let keyring = Origin::Document(Collection::Meta, crypto::KEYRING_KEY.into());
    let raw = s.get_raw(&keyring).await.unwrap().expect("keyring stored");
    assert!(!crypto::is_sealed(&raw.body) && raw.body.contains("argon2id"));
    assert_eq!(
        s.get_doc(Collection::Meta, crypto::KEYRING_KEY)
            .await
            .unwrap(),
        None
    );
    let meta: Vec<String> = s
        .list_docs(Collection::Meta)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .collect();
    assert!(!meta.contains(&crypto::KEYRING_KEY.to_string()), "{meta:?}");

    // New writes are sealed too; clearing everything keeps the store encrypted.
    s.put_persons(&[person("p-3", "Neu", "Angelegt")])
        .await
        .unwrap();
    let raw = s
        .get_raw(&Origin::Person(pid("p-3")))
        .await
        .unwrap()
        .unwrap();
    assert!(crypto::is_sealed(&raw.body) && !raw.body.contains("Angelegt"));
    s.clear_all().await.unwrap();
    assert!(s.is_empty().await.unwrap());
    assert!(s.get_raw(&keyring).await.unwrap().is_some());
    s.put_persons(&[person("p-4", "Nach", "Leeren")])
        .await
        .unwrap();
    let raw = s
        .get_raw(&Origin::Person(pid("p-4")))
        .await
        .unwrap()
        .unwrap();
    assert!(crypto::is_sealed(&raw.body));
    crypto::lock(s);
    crypto::unlock(s, PASSPHRASE).await.unwrap();
    assert_eq!(ids(&s.all_persons().await.unwrap()), ["p-4"]);
    assert_eq!(s.quarantined().await.unwrap(), 0);

    assert_eq!(
        crypto::set_up(s, "noch eine", KdfParams::TESTING)
            .await
            .err(),
        Some(StoreError::AlreadyEncrypted)
    );
}

pub async fn lock_unlock_wrong_passphrase_recovery_and_new_passphrase(s: &dyn Store) {
    fill(s).await;
    let before = everything(s).await;
    let recovery = encrypt(s).await;

    crypto::lock(s);
    assert_eq!(crypto::lock_state(s), LockState::Locked);
    // Locked: nothing reads or writes, and nothing is set aside.
    assert_eq!(s.all_persons().await.err(), Some(StoreError::Locked));
    assert_eq!(
        s.list_docs(Collection::Outbox).await.err(),
        Some(StoreError::Locked)
    );
    assert_eq!(s.settings().await.err(), Some(StoreError::Locked));
    assert_eq!(
        s.put_persons(&[person("x", "Nicht", "Gespeichert")])
            .await
            .err(),
        Some(StoreError::Locked)
    );
    assert!(!s.is_empty().await.unwrap(), "a locked store is not empty");

    assert_eq!(
        crypto::unlock(s, "praxis am markt 2026!").await.err(),
        Some(StoreError::WrongPassphrase)
    );
    assert_eq!(crypto::lock_state(s), LockState::Locked);
    crypto::unlock(s, PASSPHRASE).await.unwrap();
    assert_eq!(everything(s).await, before);

    // The recovery key unlocks too (also typed in lower case with spaces).
    crypto::lock(s);
    assert_eq!(
        crypto::unlock_with_recovery(s, "ABCD-EFGH").await.err(),
        Some(StoreError::WrongRecoveryKey)
    );
    let other = crypto::RecoveryKey::parse(&"0".repeat(52)).unwrap();
    assert_eq!(
        crypto::unlock_with_recovery(s, &other.to_string())
            .await
            .err(),
        Some(StoreError::WrongRecoveryKey)
    );
    let typed = recovery.to_string().to_lowercase().replace('-', " ");
    crypto::unlock_with_recovery(s, &typed).await.unwrap();
    assert_eq!(everything(s).await, before);

    // A new passphrase re-wraps the key only: the records stay as they are stored.
    let raw = s.get_raw(&Origin::Person(pid("p-1"))).await.unwrap();
    // The settings ask for the current passphrase first.
    assert_eq!(
        crypto::check_passphrase(s, "falsch").await.err(),
        Some(StoreError::WrongPassphrase)
    );
    crypto::check_passphrase(s, PASSPHRASE).await.unwrap();
    crypto::change_passphrase(s, "Neue Passphrase 2027", KdfParams::TESTING)
        .await
        .unwrap();
    assert_eq!(s.get_raw(&Origin::Person(pid("p-1"))).await.unwrap(), raw);
    crypto::lock(s);
    assert_eq!(
        crypto::change_passphrase(s, "x", KdfParams::TESTING)
            .await
            .err(),
        Some(StoreError::Locked)
    );
    assert_eq!(
        crypto::unlock(s, PASSPHRASE).await.err(),
        Some(StoreError::WrongPassphrase)
    );
    crypto::unlock(s, "Neue Passphrase 2027").await.unwrap();
    assert_eq!(everything(s).await, before);
    crypto::lock(s);
    crypto::unlock_with_recovery(s, &recovery.to_string())
        .await
        .unwrap();
    assert_eq!(everything(s).await, before);
    assert_eq!(s.quarantined().await.unwrap(), 0);
}

/// `raw` with one character of its sealed part changed.
fn tampered(raw: &Stored) -> Stored {
    let mut body: Vec<char> = raw.body.chars().collect();
    let i = body.len() / 2;
    body[i] = if body[i] == 'A' { 'B' } else { 'A' };
    Stored {
        v: raw.v,
        body: body.into_iter().collect(),
    }
}

pub async fn tampered_or_moved_record_is_set_aside(s: &dyn Store) {
    encrypt(s).await;
    let persons = secret_persons();
    let c = person("p-3", "Carla", "Dritte");
    s.put_persons(&persons).await.unwrap();
    s.put_persons(std::slice::from_ref(&c)).await.unwrap();

    // One altered character of a person: that person is set aside with a clear reason, the
    // others read as before.
    let p1 = Origin::Person(pid("p-1"));
    let bad = tampered(&s.get_raw(&p1).await.unwrap().unwrap());
    s.put_raw(&p1, &bad).await.unwrap();
    assert_eq!(s.get_raw(&p1).await.unwrap(), Some(bad.clone()));
    assert_eq!(ids(&s.all_persons().await.unwrap()), ["p-2", "p-3"]);
    assert_eq!(s.quarantined().await.unwrap(), 1);
    let q = quarantined_records(s).await.unwrap();
    assert_eq!((q[0].store.as_str(), q[0].key.as_str()), ("persons", "p-1"));
    assert_eq!(q[0].body, bad.body, "kept exactly as stored");
    assert!(q[0].error.contains("cannot be decrypted"), "{}", q[0].error);

    // A sealed record moved to another id does not open there.
    let p2 = s
        .get_raw(&Origin::Person(pid("p-2")))
        .await
        .unwrap()
        .unwrap();
    s.put_raw(&Origin::Person(pid("p-3")), &p2).await.unwrap();
    assert_eq!(s.get_person(&pid("p-3")).await.unwrap(), None);
    assert_eq!(s.quarantined().await.unwrap(), 2);

    // An altered document likewise (`put_raw` cannot read the index fields of a sealed
    // body, so appointments are left out here; they go through the same `Keys::open`).
    put_outbox(s).await;
    let m1 = Origin::Document(Collection::Outbox, "m-1".into());
    let bad_m = tampered(&s.get_raw(&m1).await.unwrap().unwrap());
    s.put_raw(&m1, &bad_m).await.unwrap();
    assert!(s.list_docs(Collection::Outbox).await.unwrap().is_empty());
    assert_eq!(s.quarantined().await.unwrap(), 3);
    assert_eq!(ids(&s.all_persons().await.unwrap()), ["p-2"]);

    // A record that decrypts but does not decode keeps its readable body in the quarantine.
    let newer = Origin::Person(pid("p-9"));
    let body = records::person::encode(&c).unwrap().body;
    s.put_raw(
        &newer,
        &Stored {
            v: 9,
            body: body.clone(),
        },
    )
    .await
    .unwrap();
    assert!(crypto::is_sealed(
        &s.get_raw(&newer).await.unwrap().unwrap().body
    ));
    assert_eq!(s.get_person(&pid("p-9")).await.unwrap(), None);
    let q = quarantined_records(s).await.unwrap();
    let r = q.iter().find(|r| r.key == "p-9").expect("p-9 set aside");
    assert_eq!((r.v, r.body.as_str()), (9, body.as_str()));
    assert!(r.error.contains("version 9"), "{}", r.error);
    // The quarantine is sealed too.
    let qraw = s
        .get_raw(&Origin::Document(
            Collection::Quarantine,
            "persons/p-9".into(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(crypto::is_sealed(&qraw.body) && !qraw.body.contains("Carla"));
}

pub async fn failed_setup_leaves_the_database_unencrypted(s: &dyn Store) {
    let origins = fill(s).await;
    // Forced abort: an appointment of a person that does not exist is read, and writing it
    // back in the one set-up write fails, so the whole write rolls back.
    let ghost = Origin::Appointment(AppointmentId("t-ghost".into()));
    let stored =
        records::appointment::encode(&appointment("t-ghost", "niemand", dt(2026, 12, 2, 8, 0)))
            .unwrap();
    s.put_raw(&ghost, &stored).await.unwrap();
    let before = everything(s).await;
    let raws: Vec<Option<Stored>> = {
        let mut v = Vec::new();
        for o in &origins {
            v.push(s.get_raw(o).await.unwrap());
        }
        v
    };

    let err = crypto::set_up(s, PASSPHRASE, KdfParams::TESTING)
        .await
        .err();
    assert!(
        matches!(err, Some(StoreError::UnknownPerson { .. })),
        "{err:?}"
    );
    assert_eq!(crypto::lock_state(s), LockState::Plain);
    assert_eq!(everything(s).await, before);
    for (o, raw) in origins.iter().zip(raws) {
        assert_eq!(s.get_raw(o).await.unwrap(), raw, "{o:?} unchanged");
    }
    let keyring = Origin::Document(Collection::Meta, crypto::KEYRING_KEY.into());
    assert_eq!(s.get_raw(&keyring).await.unwrap(), None);
}

/// Encrypted backups (`crypto::seal_backup` / `open_backup` / `open_backup_with`): the
/// demo (plain) keeps plain backups; an encrypted practice's backup shows no patient
/// datum, opens with the open database's key, with the passphrase or the recovery key of
/// its practice, and refuses an altered file, another practice's file and a newer format,
/// while the stored data stays as it was; the opened backup restores.
pub async fn encrypted_backup_round_trip_tamper_and_other_device(s: &dyn Store) {
    use praxisbote::domain::backup;
    use praxisbote::storage::crypto::BackupSecret;
    let created = "2026-12-05T04:30:00";
    fill(s).await;
    // Plain database: no encrypted backup, and an encrypted one needs its key.
    assert_eq!(crypto::seal_backup(s, "{}", created), Ok(None));

    let recovery = encrypt(s).await;
    let before = everything(s).await;
    let b = transfer::collect_backup(s, dt(2026, 12, 5, 4, 30))
        .await
        .unwrap();
    let plain = backup::export(&b);
    assert!(
        plain.contains("Zwiebelmeier"),
        "the plain backup holds the data"
    );
    let sealed = crypto::seal_backup(s, &plain, created)
        .unwrap()
        .expect("encrypted");
    assert!(crypto::is_encrypted_backup(&sealed));
    assert!(!crypto::is_encrypted_backup(&plain));
    for secret in secret_values() {
        assert!(
            !sealed.contains(&secret),
            "the encrypted backup shows {secret}"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
    assert_eq!(v["format"], crypto::BACKUP_FORMAT);
    assert_eq!(v["version"], crypto::BACKUP_VERSION);

    // Same practice: opens with the open database's key.
    assert_eq!(
        crypto::open_backup(s, &sealed).as_deref(),
        Ok(plain.as_str())
    );
    // Another device: with the passphrase or the recovery key of the practice.
    assert_eq!(
        crypto::open_backup_with(&sealed, BackupSecret::Passphrase(PASSPHRASE)).as_deref(),
        Ok(plain.as_str())
    );
    let rk = recovery.to_string().to_lowercase().replace('-', " ");
    assert_eq!(
        crypto::open_backup_with(&sealed, BackupSecret::RecoveryKey(&rk)).as_deref(),
        Ok(plain.as_str())
    );
    assert_eq!(
        crypto::open_backup_with(&sealed, BackupSecret::Passphrase("falsch falsch falsch")),
        Err(StoreError::WrongPassphrase)
    );
    assert_eq!(
        crypto::open_backup_with(&sealed, BackupSecret::RecoveryKey("ABCD")),
        Err(StoreError::WrongRecoveryKey)
    );

    // Tampering: one changed character of the sealed data, the date, a newer version,
    // another practice's keyring, garbage.
    let data = v["data"].as_str().unwrap().to_string();
    for i in [0, data.len() / 2, data.len() - 2] {
        let mut altered = v.clone();
        let mut d: Vec<u8> = data.clone().into_bytes();
        d[i] = if d[i] == b'A' { b'B' } else { b'A' };
        altered["data"] = String::from_utf8(d).unwrap().into();
        let text = altered.to_string();
        assert_eq!(
            crypto::open_backup(s, &text),
            Err(StoreError::BackupDamaged),
            "at {i}"
        );
        assert_eq!(
            crypto::open_backup_with(&text, BackupSecret::Passphrase(PASSPHRASE)),
            Err(StoreError::BackupDamaged)
        );
    }
    let mut altered = v.clone();
    altered["created_at"] = "2026-12-06T04:30:00".into();
    assert_eq!(
        crypto::open_backup(s, &altered.to_string()),
        Err(StoreError::BackupDamaged)
    );
    let mut newer = v.clone();
    newer["version"] = 2.into();
    assert_eq!(
        crypto::open_backup(s, &newer.to_string()),
        Err(StoreError::BackupTooNew {
            found: 2,
            supported: 1
        })
    );
    let mut other = v.clone();
    other["keyring"]["recovery_wrap"] = "AAAA".into();
    assert_eq!(
        crypto::open_backup(s, &other.to_string()),
        Err(StoreError::BackupNeedsKey)
    );
    assert_eq!(
        crypto::open_backup(s, "kein JSON"),
        Err(StoreError::BackupDamaged)
    );
    assert_eq!(
        everything(s).await,
        before,
        "failed openings change nothing"
    );

    // Locked: no backup is made or opened.
    crypto::lock(s);
    assert_eq!(
        crypto::seal_backup(s, &plain, created),
        Err(StoreError::Locked)
    );
    assert_eq!(crypto::open_backup(s, &sealed), Err(StoreError::Locked));
    crypto::unlock(s, PASSPHRASE).await.unwrap();

    // The opened backup restores (after the data was changed).
    s.put_persons(&[person("p-9", "Später", "Angelegt")])
        .await
        .unwrap();
    let opened = crypto::open_backup(s, &sealed).unwrap();
    let parsed = backup::parse(&opened).unwrap();
    transfer::restore_backup(s, &parsed, transfer::last_backup(s).await.unwrap())
        .await
        .unwrap();
    assert_eq!(everything(s).await, before, "restored");
}

/// "Versand während Sperre fortsetzen": `crypto::lock_for_sending` keeps the data key for
/// the send records only (outbox, send log, archive, Meta): persons, appointments, settings
/// and the other collections fail with `Locked`; the outbox reads and writes sealed; a
/// wrong passphrase does not unlock; `crypto::lock` drops the key; unlocking opens all.
pub async fn locked_for_sending_serves_only_the_send_records(s: &dyn Store) {
    use praxisbote::storage::DocOp;
    fill(s).await;
    encrypt(s).await;
    let before = everything(s).await;
    crypto::lock_for_sending(s);
    assert_eq!(crypto::lock_state(s), LockState::Sending);
    assert!(crypto::lock_state(s).is_locked());
    assert_eq!(s.all_persons().await.err(), Some(StoreError::Locked));
    assert_eq!(s.settings().await.err(), Some(StoreError::Locked));
    assert_eq!(
        s.list_docs(Collection::Templates).await.err(),
        Some(StoreError::Locked)
    );
    assert_eq!(
        s.put_persons(&[person("x", "Nicht", "Gespeichert")])
            .await
            .err(),
        Some(StoreError::Locked)
    );
    // A write that mixes send records with anything else is refused as a whole.
    let outcome = DocOp::Put {
        collection: Collection::Outbox,
        key: "m-1".into(),
        value: json!({"to": "hildegard.zwiebelmeier@example.org", "state": "delivered"}),
    };
    let template = DocOp::Put {
        collection: Collection::Templates,
        key: "t".into(),
        value: json!({"name": "x"}),
    };
    assert_eq!(
        s.write(praxisbote::storage::WriteBatch {
            docs: &[outcome.clone(), template],
            ..Default::default()
        })
        .await
        .err(),
        Some(StoreError::Locked)
    );
    // The send records: read and written (sealed).
    assert_eq!(s.list_docs(Collection::Outbox).await.unwrap().len(), 1);
    s.write(praxisbote::storage::WriteBatch {
        docs: &[outcome],
        ..Default::default()
    })
    .await
    .unwrap();
    let raw = s
        .get_raw(&Origin::Document(Collection::Outbox, "m-1".into()))
        .await
        .unwrap()
        .unwrap();
    assert!(crypto::is_sealed(&raw.body) && !raw.body.contains("zwiebelmeier"));
    assert!(transfer::last_backup(s).await.is_ok(), "Meta is served");
    // A wrong passphrase does not open the rest.
    assert_eq!(
        crypto::unlock(s, "falsch falsch falsch").await.err(),
        Some(StoreError::WrongPassphrase)
    );
    assert_eq!(s.all_persons().await.err(), Some(StoreError::Locked));
    // The batch is done: the key goes.
    crypto::lock(s);
    assert_eq!(crypto::lock_state(s), LockState::Locked);
    assert_eq!(
        s.list_docs(Collection::Outbox).await.err(),
        Some(StoreError::Locked)
    );
    // Locking for sending needs an unlocked store: a locked one stays locked.
    crypto::lock_for_sending(s);
    assert_eq!(crypto::lock_state(s), LockState::Locked);
    crypto::unlock(s, PASSPHRASE).await.unwrap();
    assert_eq!(crypto::lock_state(s), LockState::Unlocked);
    let after = everything(s).await;
    assert_ne!(after, before, "the outcome was written");
    assert!(after.contains("delivered"), "{after:.200}");
    // Unlocking straight from sending works too.
    crypto::lock_for_sending(s);
    crypto::unlock(s, PASSPHRASE).await.unwrap();
    assert_eq!(s.all_persons().await.unwrap().len(), 2);
    assert_eq!(s.quarantined().await.unwrap(), 0);
}
