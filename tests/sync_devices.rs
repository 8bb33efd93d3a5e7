//! Devices of one practice syncing through a real CouchDB-protocol server (pouchdb-server
//! from npm, started per test): each device is a `MemoryStore` (the storage conformance
//! suite makes it interchangeable with IndexedDB) with a `MemoryLocal` document store, and
//! talks HTTP to the server. The browser adapters (IndexedDB document store, fetch) are
//! tested in headless Chromium and end to end.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../sync/tests/common/mod.rs"]
mod common;

use common::{create_db, HttpRemote, Server};
use praxisbote::domain::consent::{ConsentEvent, ConsentSource};
use praxisbote::domain::PersonRecord;
use praxisbote::domain::{Channel, Purpose};
use praxisbote::storage::crypto::{self, KdfParams, Keyring, Secret};
use praxisbote::storage::memory::MemoryStore;
use praxisbote::storage::records::Origin;
use praxisbote::storage::sync::keyring::{self, OnServer};
use praxisbote::storage::sync::{
    self, round_in, PersonConflict, Report, Scope, SyncConfig, SyncFailure, CONFLICTS_KEY,
};
use praxisbote::storage::{Collection, Doc, Store, StoreError, StoreExt};
use praxisbote_sync::{Couch, Docs, MemoryLocal, Method, Options};
use praxisbote_testkit::encryption::{encrypt, secret_persons, secret_values, PASSPHRASE};
use praxisbote_testkit::sample::{appointment, d, dt, pid, settings};
use serde_json::{json, Value};

/// One device: its store, its document store, its connection.
struct Device {
    store: MemoryStore,
    local: MemoryLocal,
    remote: HttpRemote,
    rounds: std::cell::Cell<u32>,
}

impl Device {
    fn new(name: &str, db_url: &str) -> Device {
        Device {
            store: MemoryStore::new(),
            local: MemoryLocal::new(name),
            remote: HttpRemote::new(db_url),
            rounds: std::cell::Cell::new(0),
        }
    }

    async fn round(&self) -> Report {
        self.round_in(&Scope::Full).await
    }

    /// A round that looks for this device's own edits only in `scope`.
    async fn round_in(&self, scope: &Scope) -> Report {
        self.rounds.set(self.rounds.get() + 1);
        let opts = Options {
            batch_size: 100,
            session_id: format!("s{}", self.rounds.get()),
            remote_name: self.remote.db_url.clone(),
        };
        round_in(
            scope,
            &self.store,
            &self.local,
            &self.remote,
            &opts,
            &mut |_, _| {},
        )
        .await
        .expect("sync round")
    }

    async fn person(&self, id: &str) -> Option<PersonRecord> {
        self.store.get_person(&pid(id)).await.unwrap()
    }
}

fn config(db_url: &str) -> SyncConfig {
    let (url, db) = db_url.rsplit_once('/').unwrap();
    SyncConfig {
        url: url.into(),
        db: db.into(),
        enabled: true,
        ..SyncConfig::default()
    }
}

/// Everything the app reads from a store, as comparable text (Meta excluded: it is the
/// device's own).
async fn data(s: &dyn Store) -> String {
    let persons = s.all_persons().await.unwrap();
    let appts = s
        .appointments_between(d(1900, 1, 1), d(2999, 12, 31))
        .await
        .unwrap();
    let settings = s.settings().await.unwrap();
    let mut docs = Vec::new();
    for c in [
        Collection::Templates,
        Collection::Queries,
        Collection::Outbox,
        Collection::Sendlog,
    ] {
        docs.push(s.list_docs(c).await.unwrap());
    }
    format!("{persons:?}\n{appts:?}\n{settings:?}\n{docs:?}")
}

/// Device A holds the practice (encrypted) and publishes it; device B joins with the
/// passphrase. Both have synced once.
async fn practice_of_two(server: &Server, db: &str) -> (Device, Device) {
    let db_url = create_db(&server.url(), db).await;
    let a = Device::new("device-a", &db_url);
    a.store.put_persons(&secret_persons()).await.unwrap();
    a.store
        .put_appointments(&[appointment("t-1", "p-1", dt(2026, 12, 1, 9, 30))])
        .await
        .unwrap();
    a.store.put_settings(&settings()).await.unwrap();
    a.store
        .put_docs(
            Collection::Templates,
            &[Doc {
                key: "recall".into(),
                value: json!({"name": "Recall", "body": "Liebe {{ vorname }}"}),
            }],
        )
        .await
        .unwrap();
    encrypt(&a.store).await;
    a.store
        .put_docs(
            Collection::Outbox,
            &[Doc {
                key: "m-1".into(),
                value: json!({"to": "hildegard.zwiebelmeier@example.org", "state": "queued"}),
            }],
        )
        .await
        .unwrap();
    sync::publish(&a.store, &a.remote).await.unwrap();
    let first = a.round().await;
    assert_eq!(first.own_edits, 6, "{first:?}");

    let b = Device::new("device-b", &db_url);
    sync::join(
        &b.store,
        &b.remote,
        Secret::Passphrase(PASSPHRASE),
        &config(&db_url),
    )
    .await
    .unwrap();
    let joined = b.round().await;
    assert_eq!(
        joined.own_edits, 0,
        "a joining device brings nothing of its own"
    );
    assert_eq!(data(&b.store).await, data(&a.store).await);
    (a, b)
}

#[tokio::test(flavor = "current_thread")]
async fn a_new_device_joins_and_edits_deletes_and_creates_flow_both_ways() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    assert_eq!(b.person("p-2").await.unwrap().person.last_name, "Überschär");

    // B edits, deletes and creates; A gets all of it.
    let mut p1 = b.person("p-1").await.unwrap();
    p1.person.email = "h.zwiebelmeier@example.net".into();
    b.store.put_persons(&[p1]).await.unwrap();
    b.store.delete_person(&pid("p-2")).await.unwrap();
    b.store
        .put_appointments(&[appointment("t-2", "p-1", dt(2026, 12, 8, 10, 0))])
        .await
        .unwrap();
    let r = b.round().await;
    assert_eq!(r.own_edits, 3, "{r:?}");
    let r = a.round().await;
    assert!(r.changed.persons.contains(&pid("p-1")), "{r:?}");
    assert!(r.changed.persons.contains(&pid("p-2")), "{r:?}");
    assert!(r.changed.appointments);
    assert_eq!(
        a.person("p-1").await.unwrap().person.email,
        "h.zwiebelmeier@example.net"
    );
    assert_eq!(a.person("p-2").await, None);
    assert_eq!(data(&a.store).await, data(&b.store).await);

    // A recreates p-2 (a deleted document comes back) and changes a template.
    a.store.put_persons(&secret_persons()[1..]).await.unwrap();
    a.store
        .put_docs(
            Collection::Templates,
            &[Doc {
                key: "recall".into(),
                value: json!({"name": "Recall", "body": "Hallo {{ vorname }}"}),
            }],
        )
        .await
        .unwrap();
    a.round().await;
    let r = b.round().await;
    assert_eq!(r.changed.collections, vec![Collection::Templates]);
    assert_eq!(data(&a.store).await, data(&b.store).await);

    // Nothing changed: a round writes nothing and applies nothing.
    let r = b.round().await;
    assert_eq!((r.own_edits, r.changed.is_empty()), (0, true), "{r:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_server_holds_only_opaque_ids_and_ciphertext() {
    let server = Server::in_memory();
    let (a, _b) = practice_of_two(&server, "praxis").await;
    let db_url = a.remote.db_url.clone();
    let all: Value = reqwest::get(format!(
        "{db_url}/_all_docs?include_docs=true&conflicts=true"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let rows = all["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7, "6 records and the keyring: {all}");
    let mut text = all.to_string();
    // The replication logs too.
    for id in ["_local_docs"] {
        let v: Value = reqwest::get(format!("{db_url}/{id}?include_docs=true"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null);
        text.push_str(&v.to_string());
    }
    let mut secrets = secret_values();
    secrets.extend(
        [
            "p-1",
            "p-2",
            "t-1",
            "recall",
            "Recall",
            "persons",
            "appointments",
            "Praxis",
        ]
        .map(String::from),
    );
    secrets.push(settings().name.clone());
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "the server holds {s:?}");
    }
    for row in rows {
        let doc = &row["doc"];
        if doc["_id"] == sync::KEYRING_DOC {
            continue;
        }
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["_id", "_rev", "c", "v"], "{doc}");
        assert_eq!(doc["_id"].as_str().unwrap().len(), 32);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_wrong_passphrase_gets_no_data_and_changes_nothing() {
    let server = Server::in_memory();
    let (a, _b) = practice_of_two(&server, "praxis").await;
    let c = Device::new("device-c", &a.remote.db_url);
    c.store
        .put_persons(&[praxisbote_testkit::sample::person("x-1", "Demo", "Person")])
        .await
        .unwrap();
    let before = data(&c.store).await;
    let wrong = sync::join(
        &c.store,
        &c.remote,
        Secret::Passphrase("falsch"),
        &config(&a.remote.db_url),
    )
    .await;
    assert!(matches!(wrong, Err(SyncFailure::WrongSecret)), "{wrong:?}");
    assert_eq!(data(&c.store).await, before);
    assert_eq!(
        crypto::lock_state(&c.store),
        crypto::LockState::Plain,
        "no key was taken"
    );
    let opts = Options {
        batch_size: 100,
        session_id: "x".into(),
        remote_name: a.remote.db_url.clone(),
    };
    let refused = sync::round(&c.store, &c.local, &c.remote, &opts, &mut |_, _| {}).await;
    assert!(
        matches!(refused, Err(SyncFailure::NotEncrypted)),
        "{refused:?}"
    );

    // Another practice's device cannot write into this practice's database.
    encrypt(&c.store).await;
    let other = sync::publish(&c.store, &c.remote).await;
    assert!(matches!(other, Err(SyncFailure::KeyMismatch)), "{other:?}");
}

fn withdraw_email(p: &mut PersonRecord) {
    p.person.consents.record(
        Channel::Email,
        Purpose::Recall,
        ConsentEvent::withdrawn(d(2026, 12, 2), ConsentSource::Practice),
    );
}

#[tokio::test(flavor = "current_thread")]
async fn offline_edits_of_one_person_merge_and_a_collision_is_kept_for_a_choice() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;

    // Offline: A changes the e-mail, B the mobile number and withdraws e-mail consent.
    let mut on_a = a.person("p-1").await.unwrap();
    on_a.person.email = "neu@example.org".into();
    a.store.put_persons(&[on_a]).await.unwrap();
    let mut on_b = b.person("p-1").await.unwrap();
    on_b.person.mobile = "+4915199999999".into();
    withdraw_email(&mut on_b);
    b.store.put_persons(&[on_b]).await.unwrap();

    a.round().await;
    let rb = b.round().await;
    assert_eq!(rb.settled, 1, "{rb:?}");
    assert!(rb.collisions.is_empty(), "different fields do not collide");
    a.round().await;
    let pa = a.person("p-1").await.unwrap();
    let pb = b.person("p-1").await.unwrap();
    assert_eq!(pa, pb);
    assert_eq!(pa.person.email, "neu@example.org");
    assert_eq!(pa.person.mobile, "+4915199999999");
    assert!(
        pa.person
            .consents
            .status(Channel::Email, Purpose::Recall)
            .withdrawn_at()
            .is_some(),
        "the withdrawal made on B is kept"
    );

    // Both change the e-mail: a collision. The same value wins on both devices, and both
    // list the person under "Konflikte" with both versions.
    let mut on_a = a.person("p-1").await.unwrap();
    on_a.person.email = "a@example.org".into();
    a.store.put_persons(&[on_a]).await.unwrap();
    let mut on_b = b.person("p-1").await.unwrap();
    on_b.person.email = "b@example.org".into();
    b.store.put_persons(&[on_b]).await.unwrap();
    a.round().await;
    let rb = b.round().await;
    assert_eq!(rb.collisions, vec![pid("p-1")], "{rb:?}");
    // B pushed its settlement at the end of its round: A takes it as it is and settles
    // nothing itself; further rounds settle nothing anywhere.
    let ra = a.round().await;
    assert_eq!((ra.settled, ra.collisions.len()), (0, 0), "{ra:?}");
    for device in [&a, &b] {
        let r = device.round().await;
        assert_eq!((r.settled, r.own_edits), (0, 0), "{r:?}");
    }
    let pa = a.person("p-1").await.unwrap();
    assert_eq!(pa, b.person("p-1").await.unwrap());
    // Both devices list the collision (A from the settled revision B sent).
    let conflicts = listed(&b).await;
    assert_eq!(listed(&a).await, conflicts);
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].fields, vec!["email".to_string()]);
    let both = [
        conflicts[0].winner.email.as_str(),
        conflicts[0].loser.email.as_str(),
    ];
    assert!(both.contains(&"a@example.org") && both.contains(&"b@example.org"));
    assert_eq!(pa.person.email, conflicts[0].winner.email);

    // Someone on A keeps the value in use: the choice goes out as a revision without the
    // collision, and B's list empties too; the value stays.
    sync::conflicts::choose(&a.store, &pid("p-1"), false)
        .await
        .unwrap();
    let r = a.round_in(&only(&["p-1"])).await;
    assert_eq!(r.own_edits, 1, "{r:?}");
    b.round_in(&Scope::nothing()).await;
    assert!(listed(&b).await.is_empty());
    assert!(listed(&a).await.is_empty());
    assert_eq!(b.person("p-1").await.unwrap().person.email, pa.person.email);
    for device in [&a, &b] {
        let r = device.round().await;
        assert_eq!((r.settled, r.own_edits), (0, 0), "{r:?}");
    }
    assert_eq!(data(&a.store).await, data(&b.store).await);
}

async fn listed(device: &Device) -> Vec<PersonConflict> {
    device
        .store
        .get_typed(Collection::Meta, CONFLICTS_KEY)
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "current_thread")]
async fn an_edit_made_while_a_round_applies_is_not_overwritten() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    // A changes p-2; B edits p-2 too but only after its own-edit step would have run: the
    // next round of B turns it into a branch and merges, nothing is lost.
    let mut on_a = a.person("p-2").await.unwrap();
    on_a.person.first_name = "Jörgen".into();
    a.store.put_persons(&[on_a]).await.unwrap();
    a.round().await;
    let keys = sync::sync_keys(&b.store).unwrap();
    sync::round::own_edits(&b.store, &b.local, &keys, &sync::Scope::Full)
        .await
        .unwrap();
    let mut on_b = b.person("p-2").await.unwrap();
    on_b.person.landline = "+49307654321".into();
    b.store.put_persons(&[on_b]).await.unwrap();
    // The rest of the round (replicate, settle, apply) without a new own-edit step.
    let opts = Options {
        batch_size: 100,
        session_id: "late".into(),
        remote_name: b.remote.db_url.clone(),
    };
    praxisbote_sync::sync(&b.remote, &b.local, &opts, &mut |_, _| {})
        .await
        .unwrap();
    let r = b.round().await;
    assert_eq!(r.own_edits, 1, "{r:?}");
    a.round().await;
    let pb = b.person("p-2").await.unwrap();
    assert_eq!(pb.person.first_name, "Jörgen");
    assert_eq!(pb.person.landline, "+49307654321");
    assert_eq!(a.person("p-2").await.unwrap(), pb);
}

#[tokio::test(flavor = "current_thread")]
async fn an_appointment_for_a_person_deleted_elsewhere_does_not_stop_the_sync() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    a.store.delete_person(&pid("p-1")).await.unwrap();
    b.store
        .put_appointments(&[appointment("t-3", "p-1", dt(2026, 12, 9, 8, 0))])
        .await
        .unwrap();
    let mut p2 = b.person("p-2").await.unwrap();
    p2.person.first_name = "Jörgen".into();
    b.store.put_persons(&[p2]).await.unwrap();
    a.round().await;
    b.round().await;
    // A gets an appointment whose person it deleted: refused by the store, left for later,
    // and everything else of the round is applied.
    let r = a.round().await;
    assert_eq!(r.skipped.len(), 1, "{r:?}");
    assert_eq!(a.person("p-2").await.unwrap().person.first_name, "Jörgen");
    // The refused document is not forgotten: the next round looks at it again.
    let r = a.round_in(&Scope::nothing()).await;
    assert_eq!(r.skipped.len(), 1, "{r:?}");
    // B's next round deletes the orphan there too; then both agree.
    b.round().await;
    let r = a.round().await;
    assert!(r.skipped.is_empty(), "{r:?}");
    assert_eq!(data(&a.store).await, data(&b.store).await);
    assert_eq!(a.person("p-1").await, None);
}

#[tokio::test(flavor = "current_thread")]
async fn a_device_whose_sync_state_was_cleared_recognises_what_the_server_has() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    // B's document store starts over (as after a restore of a backup that holds the same
    // data): the first round pulls before it looks at its own records, so it makes no
    // revision and no conflict.
    let fresh = Device {
        store: b.store,
        local: MemoryLocal::new("device-b"),
        remote: HttpRemote::new(&a.remote.db_url),
        rounds: std::cell::Cell::new(10),
    };
    let r = fresh.round().await;
    assert_eq!((r.own_edits, r.settled), (0, 0), "{r:?}");
    assert!(r.changed.is_empty(), "{r:?}");
    let r = a.round().await;
    assert_eq!(
        (r.own_edits, r.settled, r.pulled.docs_written),
        (0, 0, 0),
        "{r:?}"
    );
}

fn only(persons: &[&str]) -> Scope {
    Scope::persons(persons.iter().map(|p| pid(p)))
}

#[tokio::test(flavor = "current_thread")]
async fn a_round_in_a_scope_sends_the_announced_edits_and_applies_everything_that_came() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    let mut p1 = a.person("p-1").await.unwrap();
    p1.person.email = "neu@example.org".into();
    a.store.put_persons(&[p1]).await.unwrap();
    let mut p2 = b.person("p-2").await.unwrap();
    p2.person.first_name = "Jörgen".into();
    b.store.put_persons(&[p2]).await.unwrap();
    let mut s = b.store.settings().await.unwrap().unwrap();
    s.name = "Praxis am Deich".into();
    b.store.put_settings(&s).await.unwrap();

    // A scope without the edited record does not see the edit: it waits for its scope.
    let r = a.round_in(&Scope::nothing()).await;
    assert_eq!(r.own_edits, 0, "{r:?}");
    let r = a.round_in(&only(&["p-1"])).await;
    assert_eq!(r.own_edits, 1, "{r:?}");
    let r = b
        .round_in(&{
            let mut scope = only(&["p-2"]);
            scope.add(Scope::settings());
            scope
        })
        .await;
    assert_eq!(r.own_edits, 2, "{r:?}");
    assert_eq!(r.changed.persons, vec![pid("p-1")], "{r:?}");
    assert_eq!(
        b.person("p-1").await.unwrap().person.email,
        "neu@example.org"
    );
    let r = a.round_in(&Scope::nothing()).await;
    assert_eq!(r.changed.persons, vec![pid("p-2")], "{r:?}");
    assert!(r.changed.settings, "{r:?}");
    assert_eq!(data(&a.store).await, data(&b.store).await);
    // Nothing is left: the next rounds, scoped or full, find nothing to do.
    for device in [&a, &b] {
        let r = device.round_in(&Scope::nothing()).await;
        assert!(r.changed.is_empty() && r.own_edits == 0, "{r:?}");
        let r = device.round().await;
        assert!(r.changed.is_empty() && r.own_edits == 0, "{r:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_person_deleted_in_a_scoped_round_takes_its_appointments_along() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    assert_eq!(b.store.appointments_of(&pid("p-1")).await.unwrap().len(), 1);
    a.store.delete_person(&pid("p-1")).await.unwrap();
    let r = a.round_in(&only(&["p-1"])).await;
    assert_eq!(r.own_edits, 2, "the person and its appointment: {r:?}");
    b.round_in(&Scope::nothing()).await;
    assert_eq!(b.person("p-1").await, None);
    assert!(b
        .store
        .appointments_of(&pid("p-1"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(data(&a.store).await, data(&b.store).await);
}

/// The settings and a template edited on two devices at once merge field by field: each
/// device's change survives; a field both changed keeps CouchDB's winner, on both devices.
#[tokio::test(flavor = "current_thread")]
async fn settings_and_templates_edited_on_two_devices_merge_field_by_field() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    let mut on_a = a.store.settings().await.unwrap().unwrap();
    on_a.name = "Praxis am Deich".into();
    on_a.phone = "040 111".into();
    a.store.put_settings(&on_a).await.unwrap();
    let mut on_b = b.store.settings().await.unwrap().unwrap();
    on_b.email = "empfang@praxis.example".into();
    on_b.phone = "040 222".into();
    b.store.put_settings(&on_b).await.unwrap();
    let template = |name: &str, body: &str| Doc {
        key: "recall".into(),
        value: json!({"name": name, "body": body}),
    };
    a.store
        .put_docs(
            Collection::Templates,
            &[template("Recall 2027", "Liebe {{ vorname }}")],
        )
        .await
        .unwrap();
    b.store
        .put_docs(
            Collection::Templates,
            &[template("Recall", "Hallo {{ vorname }}")],
        )
        .await
        .unwrap();
    a.round().await;
    let r = b.round().await;
    assert_eq!(r.settled, 2, "{r:?}");
    a.round().await;

    let settings = a.store.settings().await.unwrap().unwrap();
    assert_eq!(Some(&settings), b.store.settings().await.unwrap().as_ref());
    assert_eq!(settings.name, "Praxis am Deich");
    assert_eq!(settings.email, "empfang@praxis.example");
    assert!(["040 111", "040 222"].contains(&settings.phone.as_str()));
    assert_eq!(
        a.store.list_docs(Collection::Templates).await.unwrap(),
        [template("Recall 2027", "Hallo {{ vorname }}")]
    );
    assert_eq!(data(&a.store).await, data(&b.store).await);
    // Nothing is left to send or settle: the merged records are what the stores hold.
    for d in [&a, &b] {
        let r = d.round().await;
        assert_eq!((r.own_edits, r.settled), (0, 0), "{r:?}");
    }
}

/// A person edited many times keeps the bodies of its recent history only, on every
/// device (compaction); an offline edit on top of an old revision still merges.
#[tokio::test(flavor = "current_thread")]
async fn a_record_edited_many_times_keeps_only_its_recent_history() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    let keys = sync::sync_keys(&a.store).unwrap();
    let id = keys.doc_id(praxisbote::storage::migrate::names::PERSONS, "p-1");
    async fn bodies(d: &Device, id: &str) -> (usize, usize) {
        let doc = d
            .local
            .get_docs(&[id.into()])
            .await
            .unwrap()
            .remove(0)
            .unwrap();
        (
            doc.tree.bodies(),
            doc.tree.path(&doc.tree.winner().unwrap()).len(),
        )
    }
    // B goes offline with the person as it is now and edits the mobile number.
    let mut offline = b.person("p-1").await.unwrap();
    offline.person.mobile = "0170 9998877".into();
    for n in 0..25 {
        let mut p = a.person("p-1").await.unwrap();
        p.person.email = format!("v{n}@example.org");
        a.store.put_persons(&[p]).await.unwrap();
        a.round_in(&only(&["p-1"])).await;
    }
    let (kept, history) = bodies(&a, &id).await;
    assert_eq!(history, 26, "every revision id stays");
    assert!(kept <= 12, "{kept} bodies kept of {history}");
    b.store.put_persons(&[offline]).await.unwrap();
    b.round_in(&only(&["p-1"])).await;
    a.round().await;
    b.round().await;
    let (kept, history) = bodies(&b, &id).await;
    assert!(kept <= 14, "{kept} bodies kept of {history}");
    // Both edits survive: the email from A's last revision, the mobile number from B.
    for d in [&a, &b] {
        let p = d.person("p-1").await.unwrap().person;
        assert_eq!(
            (p.email.as_str(), p.mobile.as_str()),
            ("v24@example.org", "0170 9998877")
        );
    }
    assert_eq!(data(&a.store).await, data(&b.store).await);
}

/// A send writes outbox documents and announces their keys: a round in that scope sends
/// them; a document gone from the store widens the scope (only a full comparison makes
/// its tombstone).
#[tokio::test(flavor = "current_thread")]
async fn a_round_in_a_scope_of_outbox_documents_sends_them_and_a_gone_one_widens_it() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    let doc = |key: &str, status: &str| Doc {
        key: key.into(),
        value: json!({ "id": key, "status": status }),
    };
    let message = |key: &str| (Collection::Outbox, key.to_string());
    a.store
        .put_docs(
            Collection::Outbox,
            &[doc("m-1", "queued"), doc("m-2", "queued")],
        )
        .await
        .unwrap();
    let r = a.round_in(&Scope::docs([message("m-1")])).await;
    assert_eq!(r.own_edits, 1, "m-1 only: {r:?}");
    let r = a.round_in(&Scope::docs([message("m-2")])).await;
    assert_eq!(r.own_edits, 1, "{r:?}");
    b.round_in(&Scope::nothing()).await;
    let on_b = b.store.list_docs(Collection::Outbox).await.unwrap();
    assert_eq!(on_b, [doc("m-1", "queued"), doc("m-2", "queued")]);

    a.store
        .put_docs(Collection::Outbox, &[doc("m-1", "sent")])
        .await
        .unwrap();
    a.store.delete_doc(Collection::Outbox, "m-2").await.unwrap();
    let r = a.round_in(&Scope::docs([message("m-1")])).await;
    assert_eq!(r.own_edits, 1, "the deletion waits for a full round: {r:?}");
    let r = a.round_in(&Scope::docs([message("m-2")])).await;
    assert_eq!(r.own_edits, 1, "m-2's tombstone: {r:?}");
    b.round_in(&Scope::nothing()).await;
    let on_b = b.store.list_docs(Collection::Outbox).await.unwrap();
    assert_eq!(on_b, [doc("m-1", "sent")]);
}

// ---- The keyring document: a passphrase change reaches every device ----

const NEW_PASSPHRASE: &str = "Neue Passphrase der Praxis 2027";

/// The keyring document on the server.
async fn server_keyring_doc(d: &Device) -> Value {
    sync::server_keyring(&d.remote)
        .await
        .unwrap()
        .expect("a keyring document")
}

/// The keyring a device has stored (what it unlocks with after a reload).
async fn stored_keyring(d: &Device) -> Keyring {
    let origin = Origin::Document(Collection::Meta, crypto::KEYRING_KEY.into());
    let raw = d.store.get_raw(&origin).await.unwrap().expect("stored");
    serde_json::from_str(&raw.body).unwrap()
}

/// Whether `passphrase` unlocks the device (locked first; left locked when it does not).
async fn opens_with(d: &Device, passphrase: &str) -> bool {
    crypto::lock(&d.store);
    match crypto::unlock(&d.store, passphrase).await {
        Ok(()) => true,
        Err(StoreError::WrongPassphrase) => false,
        Err(e) => panic!("unlock: {e}"),
    }
}

/// Puts `doc` over the server's keyring document, as a server (or an attacker) could.
async fn put_over(d: &Device, mut doc: Value) {
    doc["_rev"] = server_keyring_doc(d).await["_rev"].clone();
    Couch::new(&d.remote)
        .put_doc(sync::KEYRING_DOC, &doc)
        .await
        .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_passphrase_change_reaches_the_other_device_and_new_devices_join_with_it() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    let before = server_keyring_doc(&a).await;
    assert_eq!(before["keyring"]["gen"], 0);
    crypto::change_passphrase(&a.store, NEW_PASSPHRASE, KdfParams::TESTING)
        .await
        .unwrap();
    assert_eq!(stored_keyring(&a).await.gen, 1);

    let r = a.round().await;
    assert!(!r.keyring_taken, "{r:?}");
    let doc = server_keyring_doc(&a).await;
    assert_eq!(doc["keyring"]["gen"], 1);
    assert_ne!(
        doc["keyring"]["passphrase_wrap"],
        before["keyring"]["passphrase_wrap"]
    );

    let r = b.round().await;
    assert!(r.keyring_taken, "{r:?}");
    assert_eq!(
        crypto::lock_state(&b.store),
        crypto::LockState::Unlocked,
        "B stays unlocked"
    );
    assert_eq!(stored_keyring(&b).await, stored_keyring(&a).await);
    assert_eq!(
        data(&b.store).await,
        data(&a.store).await,
        "B keeps its data"
    );
    assert!(
        !opens_with(&b, PASSPHRASE).await,
        "the old passphrase no longer opens B"
    );
    assert!(opens_with(&b, NEW_PASSPHRASE).await);
    assert_eq!(data(&b.store).await, data(&a.store).await);

    // Both hold the server's keyring: nothing more to do, and edits still flow.
    b.store
        .put_persons(&[praxisbote_testkit::sample::person("p-9", "Nach", "Wechsel")])
        .await
        .unwrap();
    assert!(!b.round().await.keyring_taken);
    assert!(!a.round().await.keyring_taken);
    assert!(a.person("p-9").await.is_some());
    assert_eq!(server_keyring_doc(&a).await["_rev"], doc["_rev"]);

    // A new device joins with the new passphrase only.
    let c = Device::new("device-c", &a.remote.db_url);
    let cfg = config(&a.remote.db_url);
    let old = sync::join(&c.store, &c.remote, Secret::Passphrase(PASSPHRASE), &cfg).await;
    assert!(matches!(old, Err(SyncFailure::WrongSecret)), "{old:?}");
    assert_eq!(crypto::lock_state(&c.store), crypto::LockState::Plain);
    sync::join(
        &c.store,
        &c.remote,
        Secret::Passphrase(NEW_PASSPHRASE),
        &cfg,
    )
    .await
    .unwrap();
    let r = c.round().await;
    assert!(!r.keyring_taken, "{r:?}");
    assert_eq!(data(&c.store).await, data(&a.store).await);
    assert_eq!(stored_keyring(&c).await, stored_keyring(&a).await);
}

#[tokio::test(flavor = "current_thread")]
async fn an_older_keyring_never_overwrites_the_newer_one_and_equal_ones_converge() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    // A changes the passphrase twice, B once meanwhile (say while offline).
    for p in ["zwischendurch", NEW_PASSPHRASE] {
        crypto::change_passphrase(&a.store, p, KdfParams::TESTING)
            .await
            .unwrap();
    }
    crypto::change_passphrase(&b.store, "nur auf B", KdfParams::TESTING)
        .await
        .unwrap();
    a.round().await;
    let newer = server_keyring_doc(&a).await;
    assert_eq!(newer["keyring"]["gen"], 2);

    // B's generation 1 does not go over the server's 2: B takes A's.
    assert!(sync::publish(&b.store, &b.remote).await.unwrap());
    assert_eq!(
        server_keyring_doc(&a).await,
        newer,
        "the server's is untouched"
    );
    assert!(!b.round().await.keyring_taken);
    assert_eq!(server_keyring_doc(&a).await, newer);
    assert_eq!(stored_keyring(&b).await, stored_keyring(&a).await);
    assert!(!opens_with(&b, "nur auf B").await);
    assert!(opens_with(&b, NEW_PASSPHRASE).await);

    // Both change at the same time (generation 3 on each): after a round on each and one
    // more on the first, both hold the same keyring, and so does the server.
    crypto::change_passphrase(&a.store, "von A", KdfParams::TESTING)
        .await
        .unwrap();
    crypto::change_passphrase(&b.store, "von B", KdfParams::TESTING)
        .await
        .unwrap();
    a.round().await;
    b.round().await;
    a.round().await;
    let (ka, kb) = (stored_keyring(&a).await, stored_keyring(&b).await);
    assert_eq!(ka, kb);
    assert_eq!(ka.gen, 3);
    let on_server: Keyring =
        serde_json::from_value(server_keyring_doc(&a).await["keyring"].clone()).unwrap();
    assert_eq!(on_server, ka);
    let winner = if opens_with(&a, "von A").await {
        "von A"
    } else {
        "von B"
    };
    assert!(opens_with(&a, winner).await && opens_with(&b, winner).await);
    let settled = server_keyring_doc(&a).await;
    assert!(!b.round().await.keyring_taken);
    assert!(!a.round().await.keyring_taken);
    assert_eq!(server_keyring_doc(&a).await, settled, "no more writes");
}

#[tokio::test(flavor = "current_thread")]
async fn a_keyring_written_by_another_device_meanwhile_is_read_again() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    // B is at generation 3, A at 1; B's document reaches the server while A is between
    // reading the document and writing its own (generation 0 on the server: A writes).
    for p in ["eins", "zwei", "drei von B"] {
        crypto::change_passphrase(&b.store, p, KdfParams::TESTING)
            .await
            .unwrap();
    }
    crypto::change_passphrase(&a.store, "eins von A", KdfParams::TESTING)
        .await
        .unwrap();
    let mut b_doc = keyring::document(
        &sync::sync_keys(&b.store).unwrap(),
        &stored_keyring(&b).await,
    );
    b_doc["_rev"] = server_keyring_doc(&a).await["_rev"].clone();
    let url = format!("{}/{}", a.remote.db_url, sync::KEYRING_DOC);
    let body = b_doc.to_string();
    // publish: the database (1), the keyring document (2), then A's PUT (3).
    a.remote.reset_log();
    *a.remote.before.borrow_mut() = Some((
        3,
        Box::new(move || {
            let out = std::process::Command::new("curl")
                .args([
                    "-sf",
                    "-X",
                    "PUT",
                    &url,
                    "-H",
                    "Content-Type: application/json",
                ])
                .args(["-d", &body])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
        }),
    ));
    let taken = sync::publish(&a.store, &a.remote).await.unwrap();
    let keyring_requests: Vec<_> = a
        .remote
        .log
        .borrow()
        .iter()
        .filter(|(_, p, _)| p == sync::KEYRING_DOC)
        .map(|(m, _, _)| *m)
        .collect();
    assert_eq!(
        keyring_requests,
        [Method::Get, Method::Put, Method::Get],
        "A's write met B's (409) and A read again"
    );
    assert!(taken, "B's generation 3 wins over A's 1");
    assert_eq!(stored_keyring(&a).await, stored_keyring(&b).await);
    assert!(opens_with(&a, "drei von B").await);
}

#[tokio::test(flavor = "current_thread")]
async fn a_tampered_keyring_on_the_server_is_neither_taken_nor_joined() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    let cfg = config(&a.remote.db_url);
    // The practice's first keyring (its old passphrase) and, after a change, the newer one.
    let first = server_keyring_doc(&a).await;
    crypto::change_passphrase(&a.store, NEW_PASSPHRASE, KdfParams::TESTING)
        .await
        .unwrap();
    a.round().await;
    assert!(b.round().await.keyring_taken);
    let mine = stored_keyring(&b).await;
    let keys = sync::sync_keys(&b.store).unwrap();
    // Another practice's keyring: the attacker's passphrase opens the attacker's key.
    let other = MemoryStore::new();
    crypto::set_up(&other, "Passphrase des Angreifers", KdfParams::TESTING)
        .await
        .unwrap();
    let theirs = crypto::current_keyring(&other).unwrap().unwrap();
    let other_keys = sync::sync_keys(&other).unwrap();

    let wrapped_by_attacker = |mut doc: Value| {
        doc["keyring"]["salt"] = json!(theirs.salt);
        doc["keyring"]["params"] = json!(theirs.params);
        doc["keyring"]["passphrase_wrap"] = json!(theirs.passphrase_wrap);
        doc["keyring"]["gen"] = json!(7);
        doc
    };
    let without_auth = |mut doc: Value| {
        doc.as_object_mut().unwrap().remove("auth");
        doc
    };
    let auth_by_attacker = |mut doc: Value| {
        let k: Keyring = serde_json::from_value(doc["keyring"].clone()).unwrap();
        doc["auth"] = json!(other_keys.keyring_auth(&keyring::canonical(&k)));
        doc
    };
    let mut rolled_back = first.clone();
    rolled_back["keyring"]["gen"] = json!(5);
    let variants = [
        // The passphrase wrap replaced by one of the attacker's, the generation raised.
        (
            "wrap replaced, auth kept",
            wrapped_by_attacker(first.clone()),
            true,
        ),
        (
            "wrap replaced, auth dropped",
            without_auth(wrapped_by_attacker(first.clone())),
            true,
        ),
        (
            "wrap replaced, auth by another key",
            auth_by_attacker(wrapped_by_attacker(first.clone())),
            true,
        ),
        // The practice's first keyring (the old passphrase) with a raised generation.
        ("old keyring, generation raised", rolled_back.clone(), false),
        (
            "old keyring, generation raised, auth dropped",
            without_auth(rolled_back),
            false,
        ),
    ];
    for (what, forged, attackers) in variants {
        put_over(&a, forged).await;

        // A joining device: the secret that opens the forged keyring gets it nothing.
        let c = Device::new("device-c", &a.remote.db_url);
        let secret = if attackers {
            "Passphrase des Angreifers"
        } else {
            PASSPHRASE
        };
        let joined = sync::join(&c.store, &c.remote, Secret::Passphrase(secret), &cfg).await;
        assert!(
            matches!(joined, Err(SyncFailure::ForgedKeyring)),
            "{what}: {joined:?}"
        );
        assert_eq!(
            crypto::lock_state(&c.store),
            crypto::LockState::Plain,
            "{what}"
        );

        // A device's round does not take it, and puts its own keyring back.
        let r = b.round().await;
        assert!(!r.keyring_taken, "{what}");
        assert_eq!(stored_keyring(&b).await, mine, "{what}");
        assert!(!opens_with(&b, secret).await, "{what}");
        assert!(opens_with(&b, NEW_PASSPHRASE).await, "{what}");
        assert_eq!(
            keyring::read(&keys, &server_keyring_doc(&a).await),
            OnServer::Authentic(mine.clone()),
            "{what}: repaired"
        );
    }

    // The genuine keyring with a wrong authenticator: the right passphrase opens it, and the
    // joining device still refuses it.
    let mut garbled = server_keyring_doc(&a).await;
    garbled["auth"] = json!(other_keys.keyring_auth(b"something else"));
    put_over(&a, garbled).await;
    let c = Device::new("device-c", &a.remote.db_url);
    let joined = sync::join(
        &c.store,
        &c.remote,
        Secret::Passphrase(NEW_PASSPHRASE),
        &cfg,
    )
    .await;
    assert!(
        matches!(joined, Err(SyncFailure::ForgedKeyring)),
        "{joined:?}"
    );
    assert!(!b.round().await.keyring_taken);
}

#[tokio::test(flavor = "current_thread")]
async fn a_keyring_document_from_before_authenticators_is_joined_and_upgraded() {
    let server = Server::in_memory();
    let (a, b) = practice_of_two(&server, "praxis").await;
    // As an older version wrote it: generation 0, no authenticator.
    let mut legacy = server_keyring_doc(&a).await;
    legacy.as_object_mut().unwrap().remove("auth");
    legacy["keyring"].as_object_mut().unwrap().remove("gen");
    put_over(&a, legacy).await;

    let c = Device::new("device-c", &a.remote.db_url);
    sync::join(
        &c.store,
        &c.remote,
        Secret::Passphrase(PASSPHRASE),
        &config(&a.remote.db_url),
    )
    .await
    .unwrap();
    assert_eq!(stored_keyring(&c).await.gen, 0);

    assert!(!b.round().await.keyring_taken);
    let upgraded = server_keyring_doc(&a).await;
    assert_eq!(
        keyring::read(&sync::sync_keys(&b.store).unwrap(), &upgraded),
        OnServer::Authentic(stored_keyring(&b).await)
    );
    c.round().await;
    assert_eq!(data(&c.store).await, data(&a.store).await);
}
