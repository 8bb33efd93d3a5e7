//! Replication through a real CouchDB-protocol server (pouchdb-server from npm): devices are
//! in-memory [`MemoryLocal`] stores, the server is started per test on a free port.
//! Native only (the server is a process).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{create_db, HttpRemote, Server};
use praxisbote_sync::{
    pull, push, push_after_pull, sync, wait_for_changes, DocState, Local, MemoryLocal, Options,
    Progress, Rev, SyncError,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

fn opts(remote: &HttpRemote, session: &str, batch_size: usize) -> Options {
    Options {
        batch_size,
        session_id: session.to_string(),
        remote_name: remote.db_url.clone(),
    }
}

async fn sync_now(remote: &HttpRemote, local: &MemoryLocal, session: &str) {
    sync(remote, local, &opts(remote, session, 50), &mut |_, _| {})
        .await
        .unwrap();
}

fn live(snapshot: &BTreeMap<String, DocState>) -> BTreeMap<String, Value> {
    snapshot
        .iter()
        .filter(|(_, d)| !d.deleted)
        .map(|(id, d)| (id.clone(), Value::Object(d.body.clone())))
        .collect()
}

async fn server_doc(db_url: &str, id: &str, query: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{db_url}/{id}?{query}"))
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn two_devices_converge_through_the_server_with_creates_updates_and_deletes() {
    let server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let remote = HttpRemote::new(&db);
    let a = MemoryLocal::new("device-a");
    let b = MemoryLocal::new("device-b");

    let p1 = a.put("p1", None, json!({"name": "Anna"})).unwrap();
    let p2 = a.put("p2", None, json!({"name": "Bert"})).unwrap();
    b.put("p3", None, json!({"name": "Cora"})).unwrap();
    sync_now(&remote, &a, "a1").await;
    sync_now(&remote, &b, "b1").await;
    sync_now(&remote, &a, "a2").await;
    assert_eq!(live(&a.snapshot()), live(&b.snapshot()));
    assert_eq!(live(&a.snapshot()).len(), 3);

    // Update on A, delete on B, a new document on B.
    a.put("p1", Some(&p1), json!({"name": "Anna Maria"}))
        .unwrap();
    let p2_on_b = b.get("p2").unwrap().rev;
    assert_eq!(p2_on_b, p2);
    b.delete("p2", &p2_on_b).unwrap();
    b.put("p4", None, json!({"name": "Dora"})).unwrap();
    sync_now(&remote, &a, "a3").await;
    sync_now(&remote, &b, "b2").await;
    sync_now(&remote, &a, "a4").await;

    let (sa, sb) = (a.snapshot(), b.snapshot());
    assert_eq!(sa, sb, "both devices hold the same revisions and winners");
    let names: BTreeMap<String, Value> = live(&sa)
        .into_iter()
        .map(|(id, b)| (id, b["name"].clone()))
        .collect();
    assert_eq!(
        names,
        BTreeMap::from([
            ("p1".to_string(), json!("Anna Maria")),
            ("p3".to_string(), json!("Cora")),
            ("p4".to_string(), json!("Dora")),
        ])
    );
    // The deletion is a tombstone everywhere: on both devices and on the server.
    assert!(sa["p2"].deleted && sb["p2"].deleted);
    assert_eq!(sa["p2"].rev.pos, 2);
    let (status, _) = server_doc(&db, "p2", "").await;
    assert_eq!(status, 404);
    let tombstone = format!("rev={}", sa["p2"].rev);
    let (status, body) = server_doc(&db, "p2", &tombstone).await;
    assert_eq!((status, &body["_deleted"]), (200, &json!(true)));
    let (_, p1_server) = server_doc(&db, "p1", "").await;
    assert_eq!(p1_server["_rev"], json!(sa["p1"].rev.to_string()));
}

#[tokio::test]
async fn concurrent_offline_edits_give_one_winner_and_the_loser_as_conflict_on_both_devices() {
    let server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let remote = HttpRemote::new(&db);
    let a = MemoryLocal::new("device-a");
    let b = MemoryLocal::new("device-b");
    let base = a.put("p", None, json!({"phone": "030 1"})).unwrap();
    sync_now(&remote, &a, "a1").await;
    sync_now(&remote, &b, "b1").await;

    // Offline on both: each edits the same document.
    let ra = a.put("p", Some(&base), json!({"phone": "030 2"})).unwrap();
    let rb = b.put("p", Some(&base), json!({"phone": "030 3"})).unwrap();
    assert_ne!(ra, rb);
    sync_now(&remote, &a, "a2").await;
    sync_now(&remote, &b, "b2").await;
    sync_now(&remote, &a, "a3").await;

    let (da, db_) = (a.get("p").unwrap(), b.get("p").unwrap());
    let winner = std::cmp::max(ra.clone(), rb.clone());
    let loser = std::cmp::min(ra, rb);
    assert_eq!(da.rev, winner);
    assert_eq!(db_.rev, winner);
    assert_eq!(da.conflicts, vec![loser.clone()]);
    assert_eq!(db_.conflicts, vec![loser.clone()]);
    assert_eq!(da.body, db_.body);
    // The server (PouchDB's own winner rule) agrees.
    let (_, on_server) = server_doc(&db, "p", "conflicts=true").await;
    assert_eq!(on_server["_rev"], json!(winner.to_string()));
    assert_eq!(on_server["_conflicts"], json!([loser.to_string()]));
    // Both devices know the common ancestor (the base of a three-way merge).
    assert_eq!(
        a.tree("p").unwrap().common_ancestor(&winner, &loser),
        Some(base.clone())
    );
    assert_eq!(
        b.tree("p").unwrap().common_ancestor(&winner, &loser),
        Some(base)
    );

    // Resolving on B: delete the losing leaf; after sync A has no conflict either.
    b.delete("p", &loser).unwrap();
    sync_now(&remote, &b, "b3").await;
    sync_now(&remote, &a, "a4").await;
    assert!(a.get("p").unwrap().conflicts.is_empty());
    assert_eq!(a.get("p").unwrap().rev, winner);
    let (_, on_server) = server_doc(&db, "p", "conflicts=true").await;
    assert!(on_server.get("_conflicts").is_none());
}

/// Fills the server through device `source` (push) with `n` documents.
async fn seed(remote: &HttpRemote, n: usize) -> MemoryLocal {
    let source = MemoryLocal::new("seeder");
    for i in 0..n {
        source
            .put(
                &format!("doc-{i:05}"),
                None,
                json!({"c": format!("ciphertext {i}")}),
            )
            .unwrap();
    }
    push(remote, &source, &opts(remote, "seed", 500), &mut |_| {})
        .await
        .unwrap();
    remote.reset_log();
    source
}

#[tokio::test]
async fn an_interrupted_initial_sync_resumes_from_its_checkpoint_without_refetching() {
    let server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let remote = HttpRemote::new(&db);
    seed(&remote, 100).await;

    let device = MemoryLocal::new("new-device");
    // Requests of a pull: GET db, GET _local, then per batch _changes, _bulk_get, PUT _local.
    // Failing at request 2 + 3*4 + 1 stops the run right after its 4th checkpoint.
    remote.fail_from.set(Some(15));
    let mut seen = Vec::new();
    let err = pull(&remote, &device, &opts(&remote, "s1", 10), &mut |p| {
        seen.push(*p)
    })
    .await
    .unwrap_err();
    assert!(matches!(err, SyncError::Transport(_)), "{err}");
    assert_eq!(seen.len(), 4);
    assert_eq!(
        seen.iter().map(|p| p.docs_written).collect::<Vec<_>>(),
        [10, 20, 30, 40]
    );
    assert_eq!(seen[3].pending, Some(60));
    assert_eq!(remote.revisions_fetched(), 40);
    assert_eq!(device.snapshot().len(), 40);

    remote.fail_from.set(None);
    remote.reset_log();
    let mut seen = Vec::new();
    let done = pull(&remote, &device, &opts(&remote, "s2", 10), &mut |p| {
        seen.push(*p)
    })
    .await
    .unwrap();
    // It starts where the checkpoint is and fetches only the 60 documents it lacked.
    assert_eq!(
        remote.changes_since().first().map(String::as_str),
        Some("40")
    );
    assert_eq!(remote.revisions_fetched(), 60);
    assert_eq!(done.docs_written, 60);
    assert_eq!(done.pending, Some(0));
    assert_eq!(seen.last().unwrap().docs_written, 60);
    assert_eq!(device.snapshot().len(), 100);

    // A third run finds nothing to do: one _changes request, no fetch.
    remote.reset_log();
    let done = pull(&remote, &device, &opts(&remote, "s3", 10), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(done.docs_read, 0);
    assert_eq!(remote.count("_changes"), 1);
    assert_eq!(remote.revisions_fetched(), 0);
}

#[tokio::test]
async fn an_interrupted_push_resumes_from_its_checkpoint() {
    let server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let remote = HttpRemote::new(&db);
    let device = MemoryLocal::new("device");
    for i in 0..30 {
        device
            .put(&format!("d{i:02}"), None, json!({"i": i}))
            .unwrap();
    }
    // Push requests: GET db, GET _local, then per batch _revs_diff, _bulk_docs, PUT _local.
    remote.fail_from.set(Some(2 + 3 * 2 + 2)); // fails at the 3rd batch's _bulk_docs
    assert!(
        push(&remote, &device, &opts(&remote, "s1", 10), &mut |_| {})
            .await
            .is_err()
    );
    remote.fail_from.set(None);
    remote.reset_log();
    let done = push(&remote, &device, &opts(&remote, "s2", 10), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(done.docs_written, 10, "only the last batch is sent again");
    let all: Value = reqwest::get(format!("{db}/_all_docs"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["total_rows"], json!(30));
}

#[tokio::test]
async fn a_server_killed_and_restarted_mid_sync_loses_nothing_and_fetches_nothing_twice() {
    // pouchdb-server runs in memory here (its on-disk mode needs LevelDB's prebuilt native
    // addon, which the set-up does not use): the restarted server is empty. The device that
    // seeded it pushes everything again; the interrupted device's checkpoint is gone with
    // the server, so its pull starts over, and `_revs_diff` keeps it from fetching the 125
    // documents it already has.
    let server = std::rc::Rc::new(std::cell::RefCell::new(Server::in_memory()));
    let server_url = server.borrow().url();
    let db = create_db(&server_url, "practice").await;
    let remote = HttpRemote::new(&db);
    let seeder = seed(&remote, 300).await;

    let device = MemoryLocal::new("device");
    let s = server.clone();
    // Kill the server before the 6th batch's _changes (request 2 + 3*5 + 1).
    *remote.before.borrow_mut() = Some((18, Box::new(move || s.borrow_mut().kill())));
    let err = pull(&remote, &device, &opts(&remote, "s1", 25), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Transport(_)), "{err}");
    assert_eq!(device.snapshot().len(), 125);

    *remote.before.borrow_mut() = None;
    server.borrow_mut().restart();
    create_db(&server_url, "practice").await;
    sync_now(&remote, &seeder, "seed-again").await;
    remote.reset_log();
    pull(&remote, &device, &opts(&remote, "s2", 25), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(remote.revisions_fetched(), 175);
    assert_eq!(live(&device.snapshot()), live(&seeder.snapshot()));
}

#[tokio::test]
async fn a_server_that_lost_its_data_is_refilled_by_the_devices_push() {
    // In memory: a restart empties the server. The device's push log then has no partner on
    // the server, so the comparison of the logs starts a full push and nothing is lost.
    let mut server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let remote = HttpRemote::new(&db);
    let device = MemoryLocal::new("device");
    for i in 0..20 {
        device
            .put(&format!("d{i:02}"), None, json!({"i": i}))
            .unwrap();
    }
    sync_now(&remote, &device, "s1").await;
    server.restart();
    create_db(&server.url(), "practice").await;
    let (pushed, _) = sync(&remote, &device, &opts(&remote, "s2", 50), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(pushed.docs_written, 20);
    let other = MemoryLocal::new("other");
    sync_now(&remote, &other, "o1").await;
    assert_eq!(live(&other.snapshot()), live(&device.snapshot()));
}

#[tokio::test]
async fn pull_of_10000_small_documents() {
    let server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let remote = HttpRemote::new(&db);
    // Straight into the server with _bulk_docs (normal edits), as another device would have.
    let client = reqwest::Client::new();
    for chunk in 0..10 {
        let docs: Vec<Value> = (0..1000)
            .map(|i| json!({"_id": format!("p{:05}", chunk * 1000 + i), "c": "x".repeat(64)}))
            .collect();
        let r = client
            .post(format!("{db}/_bulk_docs"))
            .json(&json!({ "docs": docs }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let device = MemoryLocal::new("device");
    let started = Instant::now();
    let mut last = Progress::default();
    let done = pull(&remote, &device, &opts(&remote, "s1", 500), &mut |p| {
        last = *p
    })
    .await
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "pull of 10000 documents from pouchdb-server (in memory, loopback, batches of 500): {secs:.2} s, {:.0} docs/s, {} requests",
        10000.0 / secs,
        remote.log.borrow().len()
    );
    assert_eq!(done.docs_written, 10000);
    assert_eq!(last.batches, 20);
    assert_eq!(device.snapshot().len(), 10000);
    let _: Option<Rev> = device.get("p00000").map(|d| d.rev);
}

#[tokio::test]
async fn a_person_conflict_settled_with_core_merge_rules_on_both_devices_converges() {
    use chrono::NaiveDate;
    use praxisbote_core::domain::consent::{ConsentSource, Consents, Evidence};
    use praxisbote_core::domain::sync_merge::merge_person;
    use praxisbote_core::domain::{Channel, Person, Purpose};

    let server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let remote = HttpRemote::new(&db);
    let a = MemoryLocal::new("device-a");
    let b = MemoryLocal::new("device-b");
    let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let mut consents = Consents::default();
    consents.grant(Channel::Sms, Purpose::Recall, day(1), Evidence::WrittenForm);
    let person: Person = serde_json::from_value(json!({
        "id": "p-1", "kind": "patient", "first_name": "Anna", "last_name": "Weber",
        "gender": "female", "email": "anna@example.org", "mobile": "0151 1",
        "consents": consents,
    }))
    .unwrap();
    let to_body = |p: &Person| serde_json::to_value(p).unwrap();
    let base = a.put("p-1", None, to_body(&person)).unwrap();
    sync_now(&remote, &a, "a1").await;
    sync_now(&remote, &b, "b1").await;

    // Offline: A changes the e-mail, B the mobile number and records a withdrawal.
    let mut on_a = person.clone();
    on_a.email = "anna.weber@example.org".into();
    a.put("p-1", Some(&base), to_body(&on_a)).unwrap();
    let mut on_b = person.clone();
    on_b.mobile = "0151 2".into();
    assert!(on_b.consents.withdraw(
        Channel::Sms,
        Purpose::Recall,
        day(4),
        ConsentSource::UnsubscribeLink
    ));
    b.put("p-1", Some(&base), to_body(&on_b)).unwrap();
    sync_now(&remote, &a, "a2").await;
    sync_now(&remote, &b, "b2").await;
    sync_now(&remote, &a, "a3").await;

    // Each device settles the conflict by itself, with the same rule and the same inputs.
    for device in [&a, &b] {
        let state = device.get("p-1").unwrap();
        assert_eq!(state.conflicts.len(), 1);
        let tree = device.tree("p-1").unwrap();
        let loser_rev = &state.conflicts[0];
        let read = |r: &Rev| -> Person {
            serde_json::from_value(Value::Object(tree.body(r).unwrap().clone())).unwrap()
        };
        let ancestor = tree.common_ancestor(&state.rev, loser_rev).unwrap();
        let merged = merge_person(Some(&read(&ancestor)), &read(&state.rev), &read(loser_rev));
        assert!(merged.conflict.is_none());
        device
            .resolve("p-1", &state.rev, to_body(&merged.person), &state.conflicts)
            .unwrap();
    }
    sync_now(&remote, &a, "a4").await;
    sync_now(&remote, &b, "b3").await;
    sync_now(&remote, &a, "a5").await;

    assert_eq!(a.snapshot(), b.snapshot());
    let state = a.get("p-1").unwrap();
    assert!(
        state.conflicts.is_empty(),
        "the same settlement on both devices is one revision"
    );
    let merged: Person = serde_json::from_value(Value::Object(state.body)).unwrap();
    assert_eq!(merged.email, "anna.weber@example.org");
    assert_eq!(merged.mobile, "0151 2");
    assert!(!merged.consents.allows(Channel::Sms, Purpose::Recall));
    let (_, on_server) = server_doc(&db, "p-1", "conflicts=true").await;
    assert_eq!(on_server["_rev"], json!(state.rev.to_string()));
    assert!(on_server.get("_conflicts").is_none());
}

#[tokio::test]
async fn live_sync_shows_an_edit_on_the_other_device_within_two_seconds() {
    let server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let (remote_a, remote_b) = (HttpRemote::new(&db), HttpRemote::new(&db));
    let a = MemoryLocal::new("device-a");
    let b = MemoryLocal::new("device-b");
    let r1 = a.put("p", None, json!({"n": 1})).unwrap();
    sync_now(&remote_a, &a, "a1").await;
    sync_now(&remote_b, &b, "b1").await;

    // B waits on the server's longpoll feed while A edits and pushes.
    let watcher = async {
        assert!(
            wait_for_changes(&remote_b, &b, &opts(&remote_b, "b2", 50), 10_000)
                .await
                .unwrap()
        );
        pull(&remote_b, &b, &opts(&remote_b, "b2", 50), &mut |_| {})
            .await
            .unwrap();
        Instant::now()
    };
    let editor = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let started = Instant::now();
        a.put("p", Some(&r1), json!({"n": 2})).unwrap();
        push(&remote_a, &a, &opts(&remote_a, "a2", 50), &mut |_| {})
            .await
            .unwrap();
        started
    };
    let (seen, edited) = tokio::join!(watcher, editor);
    let latency = seen.duration_since(edited).as_secs_f64();
    println!("live sync: an edit on device A visible on device B after {latency:.3} s");
    assert_eq!(b.get("p").unwrap().body["n"], json!(2));
    assert!(latency < 2.0, "{latency} s");
}

#[tokio::test]
async fn a_push_right_after_a_pull_skips_what_the_pull_brought_but_not_what_was_never_pushed() {
    let server = Server::in_memory();
    let db = create_db(&server.url(), "practice").await;
    let remote = HttpRemote::new(&db);
    seed(&remote, 50).await;

    // Everything of this device was pushed (it had nothing): the pulled documents are not
    // asked about; the edit made after the pull is.
    let device = MemoryLocal::new("device");
    let before = device.update_seq().await.unwrap();
    pull(&remote, &device, &opts(&remote, "p1", 20), &mut |_| {})
        .await
        .unwrap();
    let after = device.update_seq().await.unwrap();
    assert_eq!(after - before, 50);
    device.put("mine", None, json!({"c": "mine"})).unwrap();
    let p = push_after_pull(
        &remote,
        &device,
        &opts(&remote, "s1", 20),
        Some((before, after)),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!((p.missing_checked, p.docs_written), (1, 1), "{p:?}");
    assert_eq!(server_doc(&db, "mine", "").await.0, 200);
    // The checkpoint moved past the pulled range: a plain push finds nothing left.
    let p = push(&remote, &device, &opts(&remote, "s2", 20), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(p.missing_checked, 0, "{p:?}");

    // A device with an edit it never pushed: its push after the pull checks everything.
    let other = MemoryLocal::new("other");
    other.put("early", None, json!({"c": "early"})).unwrap();
    let before = other.update_seq().await.unwrap();
    pull(&remote, &other, &opts(&remote, "p2", 20), &mut |_| {})
        .await
        .unwrap();
    let after = other.update_seq().await.unwrap();
    let p = push_after_pull(
        &remote,
        &other,
        &opts(&remote, "s3", 20),
        Some((before, after)),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!((p.missing_checked, p.docs_written), (52, 1), "{p:?}");
    assert_eq!(server_doc(&db, "early", "").await.0, 200);
}
