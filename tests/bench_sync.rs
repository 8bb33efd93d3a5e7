//! Benchmark (issue 18): initial sync of N persons to a new device, in headless Chromium,
//! against a pouchdb-server on loopback (`cargo xtask bench sync` starts it with CORS and
//! passes the database URL in `PB_BENCH_COUCH`, the user in `PB_BENCH_COUCH_USER` /
//! `PB_BENCH_COUCH_PASSWORD`, N in `PB_BENCH_SYNC_N`; all at compile time).
//!
//! 1. Device A (an in-memory store in this page) holds N generated persons, encrypted, and
//!    publishes them: one round pushes N sealed documents (`push`).
//! 2. Device B (a fresh IndexedDB database) joins with the passphrase and runs its first
//!    round: pull N documents into its IndexedDB document store, open them, write N persons
//!    into its store (`join`: the figure of the goal "initial sync ≤ 10 s / 60 s").
//! 3. Device C (another fresh IndexedDB) runs the replication alone, as PouchDB's replicator
//!    does: `_changes`, `_revs_diff`, `_bulk_get`, checkpoints, into IndexedDB, no opening
//!    (`replicate`: the figure compared with PouchDB in the same run, same documents).
//!
//! Prints `BENCH` lines; asserts that every person arrived. Ignored by default.
#![cfg(target_arch = "wasm32")]

use praxisbote::storage::crypto::{self, KdfParams, Secret};
use praxisbote::storage::idb::{IdbLocal, IdbStore};
use praxisbote::storage::memory::MemoryStore;
use praxisbote::storage::sync::fetch::FetchRemote;
use praxisbote::storage::sync::{self, Scope, SyncConfig};
use praxisbote::storage::Store;
use praxisbote_sync::{MemoryLocal, Options};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PASSPHRASE: &str = "Benchmark-Passphrase 2026";

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_default()
}

fn opts(url: &str, session: &str) -> Options {
    Options {
        batch_size: 500,
        session_id: session.into(),
        remote_name: url.into(),
    }
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

fn line(text: String) {
    web_sys::console::log_1(&text.clone().into());
    wasm_bindgen_test::console_log!("{text}");
}

#[wasm_bindgen_test]
#[ignore]
async fn bench_initial_sync_of_persons_to_a_new_device() {
    let Some(url) = option_env!("PB_BENCH_COUCH") else {
        panic!("PB_BENCH_COUCH is not set: run `cargo xtask bench sync`");
    };
    let user = option_env!("PB_BENCH_COUCH_USER").unwrap_or("");
    let password = option_env!("PB_BENCH_COUCH_PASSWORD").unwrap_or("");
    let n: usize = option_env!("PB_BENCH_SYNC_N")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let remote = FetchRemote::new(url, (!user.is_empty()).then_some((user, password))).unwrap();

    // 1. Device A publishes N persons.
    let a = MemoryStore::new();
    a.put_persons(&praxisbote_testkit::sample::sample_persons(0, n))
        .await
        .unwrap();
    crypto::set_up(&a, PASSPHRASE, KdfParams::TESTING)
        .await
        .unwrap();
    sync::publish(&a, &remote).await.unwrap();
    let a_docs = MemoryLocal::new("bench-device-a");
    let t = now_ms();
    let pushed = sync::round(&a, &a_docs, &remote, &opts(url, "a"), &mut |_, _| {})
        .await
        .unwrap();
    let push_ms = now_ms() - t;
    assert_eq!(pushed.own_edits, n);

    // 2. Device B joins and gets everything.
    let b_name = format!("pb-bench-sync-b-{}", uuid::Uuid::new_v4());
    let b = IdbStore::open(&b_name).await.unwrap();
    let b_docs = IdbLocal::new(&b);
    let (base, db) = url.rsplit_once('/').unwrap();
    let config = SyncConfig {
        url: base.into(),
        db: db.into(),
        user: user.into(),
        password: password.into(),
        enabled: true,
    };
    let t = now_ms();
    sync::join(&b, &remote, Secret::Passphrase(PASSPHRASE), &config)
        .await
        .unwrap();
    let unlocked_ms = now_ms() - t;
    let report = sync::round(&b, &b_docs, &remote, &opts(url, "b"), &mut |_, _| {})
        .await
        .unwrap();
    let join_ms = now_ms() - t;
    assert_eq!(report.changed.persons.len(), n, "{:?}", report.skipped);
    assert_eq!(b.count_persons().await.unwrap(), n);

    // 3. Device C: the replication alone, like PouchDB's replicator.
    let c_name = format!("pb-bench-sync-c-{}", uuid::Uuid::new_v4());
    let c = IdbStore::open(&c_name).await.unwrap();
    let c_docs = IdbLocal::new(&c);
    let t = now_ms();
    let pulled = praxisbote_sync::pull(&remote, &c_docs, &opts(url, "c"), &mut |_| {})
        .await
        .unwrap();
    let replicate_ms = now_ms() - t;
    assert_eq!(
        pulled.docs_written as usize,
        n + 1,
        "N persons and the keyring"
    );

    // 3b. Device D joins like B, now that the server has served every document once (B's
    //     join was the first read of the documents A pushed).
    let d_name = format!("pb-bench-sync-d-{}", uuid::Uuid::new_v4());
    let d = IdbStore::open(&d_name).await.unwrap();
    let d_docs = IdbLocal::new(&d);
    let t = now_ms();
    sync::join(&d, &remote, Secret::Passphrase(PASSPHRASE), &config)
        .await
        .unwrap();
    let report = sync::round(&d, &d_docs, &remote, &opts(url, "d"), &mut |_, _| {})
        .await
        .unwrap();
    let join_again_ms = now_ms() - t;
    assert_eq!(report.changed.persons.len(), n, "{:?}", report.skipped);
    d.close();

    // 4. Live: B waits on the server's longpoll feed and runs a round when it reports a
    //    change; A edits one person and runs its round. Time from A's edit to B's store.
    let target = "live.edit@example.org";
    let first = praxisbote_testkit::sample::sample_persons(0, 1).remove(0);
    let seen_at = std::rc::Rc::new(std::cell::Cell::new(0.0f64));
    {
        let (seen_at, remote, id) = (seen_at.clone(), remote.clone(), first.person.id.clone());
        let url = url.to_string();
        wasm_bindgen_futures::spawn_local(async move {
            for i in 0.. {
                let _ =
                    praxisbote_sync::wait_for_changes(&remote, &b_docs, &opts(&url, "w"), 25_000)
                        .await;
                // Nothing changed in B's store: its rounds look at what came (like the
                // app's loop, whose scope holds only what the app announced).
                sync::round_in(
                    &Scope::nothing(),
                    &b,
                    &b_docs,
                    &remote,
                    &opts(&url, &format!("live{i}")),
                    &mut |_, _| {},
                )
                .await
                .unwrap();
                let p = b.get_person(&id).await.unwrap().unwrap();
                if p.person.email == target {
                    seen_at.set(now_ms());
                    break;
                }
            }
            b.close();
        });
    }
    sleep(1000).await;
    let mut edited = a.get_person(&first.person.id).await.unwrap().unwrap();
    edited.person.email = target.into();
    let t = now_ms();
    a.put_persons(&[edited]).await.unwrap();
    // The app announces the saved person; its sync loop's next round looks at that one.
    let scope = Scope::persons([first.person.id.clone()]);
    sync::round_in(
        &scope,
        &a,
        &a_docs,
        &remote,
        &opts(url, "a2"),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let pushed_ms = now_ms() - t;
    while seen_at.get() == 0.0 {
        assert!(now_ms() - t < 120_000.0, "the edit never reached device B");
        sleep(20).await;
    }
    let live_ms = seen_at.get() - t;

    let per_s = |ms: f64| n as f64 / (ms / 1000.0);
    line(format!(
        "BENCH praxisbote push {n} {push_ms:.0} ms ({:.0} docs/s)",
        per_s(push_ms)
    ));
    line(format!(
        "BENCH praxisbote join {n} {join_ms:.0} ms ({:.0} persons/s; key unwrapped and data replaced in {unlocked_ms:.0} ms)",
        per_s(join_ms)
    ));
    line(format!(
        "BENCH praxisbote join-again {n} {join_again_ms:.0} ms ({:.0} persons/s; another new device, after the server has served every document once)",
        per_s(join_again_ms)
    ));
    line(format!(
        "BENCH praxisbote replicate {n} {replicate_ms:.0} ms ({:.0} docs/s)",
        per_s(replicate_ms)
    ));
    line(format!(
        "BENCH praxisbote live-edit {n} {live_ms:.0} ms (one edit on A until B's store has it; A's round {pushed_ms:.0} ms)"
    ));
    c.close();
    let _ = IdbStore::delete_database(&b_name).await;
    let _ = IdbStore::delete_database(&c_name).await;
    let _ = IdbStore::delete_database(&d_name).await;
}
