//! The sync adapters of the browser in headless Chromium: the `Local` + `Docs` behaviour
//! suite of praxisbote-sync (`sync/src/conformance.rs`, natively against `MemoryLocal`)
//! against `IdbLocal`, the IndexedDB-only cases (instance ids, `clear_all`, schemas 4 and 5), and
//! `FetchRemote` without a server (no answer is an `Err` within the deadline).
//!
//! Run (after `cargo build -p xtask`):
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$CARGO_TARGET_DIR/debug/xtask wasm-runner"
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test -p praxisbote --target wasm32-unknown-unknown
//!  --test sync_browser`
#![cfg(target_arch = "wasm32")]

use praxisbote::storage::idb::{bucket_of, IdbLocal, IdbStore};
use praxisbote::storage::migrate::{self, SchemaVersion};
use praxisbote::storage::sync::fetch::FetchRemote;
use praxisbote::storage::Store;
use praxisbote_sync::conformance::{self, edited, rev_doc, Subject};
use praxisbote_sync::{Docs, Local, LocalDoc, Method, Remote, Request, RevDoc};
use praxisbote_testkit::sample::sample_persons;
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_name() -> String {
    format!("pb-sync-test-{}", uuid::Uuid::new_v4())
}

/// A fresh database; reopening closes the connection and opens the database again.
struct Idb {
    name: String,
    store: Option<IdbStore>,
    local: IdbLocal,
}

impl Idb {
    async fn new() -> Idb {
        let name = fresh_name();
        let store = IdbStore::open(&name).await.expect("open");
        Idb {
            local: IdbLocal::new(&store),
            store: Some(store),
            name,
        }
    }

    async fn delete(mut self) {
        if let Some(s) = self.store.take() {
            s.close();
        }
        IdbStore::delete_database(&self.name).await.expect("delete");
    }
}

impl Subject for Idb {
    type Store = IdbLocal;

    fn store(&self) -> &IdbLocal {
        &self.local
    }

    async fn reopen(&mut self) {
        if let Some(s) = self.store.take() {
            s.close();
        }
        let store = IdbStore::open(&self.name).await.expect("reopen");
        self.local = IdbLocal::new(&store);
        self.store = Some(store);
    }
}

macro_rules! idb_case {
    ($name:ident) => {
        #[wasm_bindgen_test]
        async fn $name() {
            let mut s = Idb::new().await;
            conformance::$name(&mut s).await;
            s.delete().await;
        }
    };
}

praxisbote_sync::for_each_local_case!(idb_case);

/// Each database makes its own instance id.
#[wasm_bindgen_test]
async fn two_databases_have_different_instance_ids() {
    let (a, b) = (Idb::new().await, Idb::new().await);
    let (ia, ib) = (
        a.local.instance_id().await.unwrap(),
        b.local.instance_id().await.unwrap(),
    );
    assert_ne!(ia, ib);
    assert_eq!(ia.len(), 32, "{ia}");
    a.delete().await;
    b.delete().await;
}

/// `clear_all` (demo removal, restoring a backup) clears the sync documents with the
/// records: the device becomes a new replica (new instance id, no logs). The sync documents
/// are not records: a store holding only them is empty.
#[wasm_bindgen_test]
async fn clear_all_clears_the_sync_documents_and_keeps_the_device_id() {
    let s = Idb::new().await;
    let store = s.store.as_ref().unwrap();
    let l = &s.local;
    let before = l.instance_id().await.unwrap();
    l.put_revs(&[rev_doc("a", "1-a", &[], false, json!({"c": "x"}))])
        .await
        .unwrap();
    l.put_docs(&[(
        "b".into(),
        LocalDoc {
            tree: edited(1),
            applied: None,
        },
    )])
    .await
    .unwrap();
    l.put_checkpoint("log", &json!({"session_id": "s"}))
        .await
        .unwrap();
    assert!(store.is_empty().await.unwrap());
    store.put_persons(&sample_persons(0, 3)).await.unwrap();
    store.clear_all().await.unwrap();
    assert!(store.is_empty().await.unwrap());
    assert!(l.all_docs().await.unwrap().is_empty());
    assert_eq!(l.update_seq().await.unwrap(), 0);
    assert!(l.changes_since(0, 10).await.unwrap().is_empty());
    assert_eq!(l.get_checkpoint("log").await.unwrap(), None);
    // The device stays the same device (batch claims name it); its replication starts over.
    assert_eq!(l.instance_id().await.unwrap(), before);
    s.delete().await;
}

/// A stored tree that cannot be read fails the write that meets it, and nothing of that
/// write lands (one transaction).
#[wasm_bindgen_test]
async fn an_unreadable_row_fails_the_whole_batch() {
    let s = Idb::new().await;
    let l = &s.local;
    l.put_revs(&[rev_doc("bad", "1-a", &[], false, json!({}))])
        .await
        .unwrap();
    let db: &web_sys::IdbDatabase = s.store.as_ref().unwrap().raw_database();
    wasm_bindgen_futures::JsFuture::from(pb_sync_test_put(
        db,
        "sync_docs",
        r#"{"id":"bad","tree":"{not json","seq":1}"#,
    ))
    .await
    .unwrap();
    let err = l
        .put_revs(&[
            rev_doc("good", "1-g", &[], false, json!({})),
            rev_doc("bad", "2-b", &["a"], false, json!({})),
        ])
        .await
        .unwrap_err();
    assert!(err.contains("bad"), "{err}");
    assert_eq!(l.update_seq().await.unwrap(), 1);
    assert_eq!(l.get_docs(&["good".into()]).await.unwrap(), vec![None]);
    assert!(l.get_docs(&["bad".into()]).await.is_err());
    s.delete().await;
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export function pb_sync_test_put(db, store, json) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, "readwrite");
    tx.objectStore(store).put(JSON.parse(json));
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}
"#)]
extern "C" {
    /// Puts a raw row (JSON text) into a store of the database, in a transaction of its own.
    fn pb_sync_test_put(db: &web_sys::IdbDatabase, store: &str, json: &str) -> js_sys::Promise;
}

/// Schema 3 → 4 on a database with records: the records stay, the sync stores start empty
/// and work.
#[wasm_bindgen_test]
async fn a_schema_3_database_gains_empty_sync_stores_and_keeps_its_records() {
    let name = fresh_name();
    let old: Vec<_> = migrate::migrations()
        .into_iter()
        .filter(|m| m.version <= 3)
        .collect();
    let store = IdbStore::open_with(&name, old, 3).await.unwrap();
    let people = sample_persons(0, 20);
    store.put_persons(&people).await.unwrap();
    store.close();
    let store = IdbStore::open(&name).await.unwrap();
    assert_eq!(
        store.database().version() as u32,
        SchemaVersion::LATEST.number()
    );
    assert_eq!(store.count_persons().await.unwrap(), people.len());
    let l = IdbLocal::new(&store);
    assert_eq!(l.update_seq().await.unwrap(), 0);
    l.put_revs(&[rev_doc("a", "1-a", &[], false, json!({}))])
        .await
        .unwrap();
    assert_eq!(l.changes_since(0, 5).await.unwrap().len(), 1);
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// Schema 4 → 5 → 6: each document's applied mark leaves its row for `sync_applied`, and
/// from there goes into its bucket of `sync_marks`; the trees, their sequence numbers and the
/// counter stay, and the marks work on.
#[wasm_bindgen_test]
async fn a_schema_4_database_keeps_its_documents_and_their_applied_marks() {
    let name = fresh_name();
    let v4: Vec<_> = migrate::migrations()
        .into_iter()
        .filter(|m| m.version <= 4)
        .collect();
    let store = IdbStore::open_with(&name, v4, 4).await.unwrap();
    let l = IdbLocal::new(&store);
    // Schema 4 rows as that version wrote them: `applied` inside the document row.
    l.put_revs(&[
        rev_doc("a", "1-a", &[], false, json!({"n": 1})),
        rev_doc("b", "1-b", &[], false, json!({"n": 2})),
        rev_doc("c", "1-c", &[], false, json!({"n": 3})),
    ])
    .await
    .unwrap();
    let db: &web_sys::IdbDatabase = store.raw_database();
    for (id, rev) in [("a", "1-a"), ("c", "1-c")] {
        wasm_bindgen_futures::JsFuture::from(pb_sync_test_set(db, "sync_docs", id, "applied", rev))
            .await
            .unwrap();
    }
    let before = l.changes_since(0, 10).await.unwrap();
    store.close();

    let store = IdbStore::open(&name).await.unwrap();
    let l = IdbLocal::new(&store);
    let ids: Vec<String> = ["a", "b", "c"].map(String::from).into();
    let docs: Vec<LocalDoc> = l
        .get_docs(&ids)
        .await
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    let marks: Vec<Option<&str>> = docs.iter().map(|d| d.applied.as_deref()).collect();
    assert_eq!(marks, [Some("1-a"), None, Some("1-c")]);
    assert_eq!(l.changes_since(0, 10).await.unwrap(), before);
    assert_eq!(l.update_seq().await.unwrap(), 3);
    // The rows hold trees and numbers only; the marks are rows of their own.
    let db: &web_sys::IdbDatabase = store.raw_database();
    let rows = wasm_bindgen_futures::JsFuture::from(pb_sync_test_all(db, "sync_docs"))
        .await
        .unwrap();
    for row in js_sys::Array::from(&rows).iter() {
        let fields =
            js_sys::Object::keys(wasm_bindgen::JsCast::unchecked_ref::<js_sys::Object>(&row));
        assert_eq!(fields.length(), 3, "{:?}", fields.to_vec());
    }
    assert_eq!(
        packed_marks(db).await,
        [("a", "1-a"), ("c", "1-c")].map(own)
    );
    // Moving a mark: b's tree is still the one read at seq 2.
    l.mark_applied(&[("b".into(), 2, "1-b".into())])
        .await
        .unwrap();
    let b = l.get_docs(&ids[1..2]).await.unwrap().remove(0).unwrap();
    assert_eq!(b.applied.as_deref(), Some("1-b"));
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

/// Schema 5 → 6: the `sync_applied` rows are packed into the bucket rows of `sync_marks`
/// (the persons' bucket of each id) and their store is gone; the marks read, move and go as
/// before, and a bucket left without marks is deleted.
#[wasm_bindgen_test]
async fn a_schema_5_database_keeps_its_applied_marks_packed_into_buckets() {
    let name = fresh_name();
    let v5: Vec<_> = migrate::migrations()
        .into_iter()
        .filter(|m| m.version <= 5)
        .collect();
    let store = IdbStore::open_with(&name, v5, 5).await.unwrap();
    let ids: Vec<String> = (0..40).map(|i| format!("d{i:02}")).collect();
    let docs: Vec<RevDoc> = ids
        .iter()
        .map(|id| rev_doc(id, &format!("1-{id}"), &[], false, json!({"id": id})))
        .collect();
    IdbLocal::new(&store).put_revs(&docs).await.unwrap();
    // Schema 5 rows as that version wrote them: one `{id, rev}` row per mark, every
    // second document marked.
    let db: &web_sys::IdbDatabase = store.raw_database();
    let marked: Vec<(String, String)> = ids
        .iter()
        .step_by(2)
        .map(|id| (id.clone(), format!("1-{id}")))
        .collect();
    for (id, rev) in &marked {
        let row = json!({"id": id, "rev": rev}).to_string();
        wasm_bindgen_futures::JsFuture::from(pb_sync_test_put(db, "sync_applied", &row))
            .await
            .unwrap();
    }
    store.close();

    let store = IdbStore::open(&name).await.unwrap();
    let db: &web_sys::IdbDatabase = store.raw_database();
    assert!(!db.object_store_names().contains("sync_applied"));
    assert_eq!(packed_marks(db).await, marked);
    let l = IdbLocal::new(&store);
    let read: Vec<Option<String>> = l
        .get_docs(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.unwrap().applied)
        .collect();
    let want: Vec<Option<String>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (i % 2 == 0).then(|| format!("1-{id}")))
        .collect();
    assert_eq!(read, want);
    assert_eq!(
        l.applied_ids().await.unwrap(),
        marked.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()
    );
    // Every document marked (the unmarked ones still at their first numbers), then every
    // mark taken away again: no bucket row is left.
    let moves: Vec<(String, u64, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i as u64 + 1, format!("1-{id}")))
        .collect();
    l.mark_applied(&moves).await.unwrap();
    assert_eq!(l.applied_ids().await.unwrap(), ids);
    let unmarked: Vec<(String, LocalDoc)> = l
        .get_docs(&ids)
        .await
        .unwrap()
        .into_iter()
        .zip(&ids)
        .map(|(d, id)| {
            let mut d = d.unwrap();
            d.applied = None;
            (id.clone(), d)
        })
        .collect();
    l.put_docs(&unmarked).await.unwrap();
    assert!(l.applied_ids().await.unwrap().is_empty());
    let rows = wasm_bindgen_futures::JsFuture::from(pb_sync_test_all(db, "sync_marks"))
        .await
        .unwrap();
    assert_eq!(js_sys::Array::from(&rows).length(), 0);
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

fn own((a, b): (&str, &str)) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// The marks of a raw `sync_marks` store, ordered by id; each must sit in its id's bucket.
async fn packed_marks(db: &web_sys::IdbDatabase) -> Vec<(String, String)> {
    let rows = wasm_bindgen_futures::JsFuture::from(pb_sync_test_all(db, "sync_marks"))
        .await
        .unwrap();
    let mut out = Vec::new();
    for row in js_sys::Array::from(&rows).iter() {
        let b = js_sys::Reflect::get(&row, &"b".into()).unwrap().as_f64();
        let m: js_sys::Map = js_sys::Reflect::get(&row, &"m".into()).unwrap().into();
        m.for_each(&mut |rev, id| {
            let id = id.as_string().unwrap();
            assert_eq!(b, Some(bucket_of(&id) as f64), "{id} in bucket {b:?}");
            out.push((id, rev.as_string().unwrap()));
        });
    }
    out.sort();
    out
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
function done(tx, r) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(r && r.result);
    tx.onerror = () => reject(tx.error);
  });
}
export function pb_sync_test_set(db, store, key, field, value) {
  const tx = db.transaction(store, "readwrite");
  const os = tx.objectStore(store);
  const r = os.get(key);
  r.onsuccess = () => { r.result[field] = value; os.put(r.result); };
  return done(tx);
}
export function pb_sync_test_all(db, store) {
  const tx = db.transaction(store);
  return done(tx, tx.objectStore(store).getAll());
}
"#)]
extern "C" {
    /// Sets one field of a raw row, in a transaction of its own.
    fn pb_sync_test_set(
        db: &web_sys::IdbDatabase,
        store: &str,
        key: &str,
        field: &str,
        value: &str,
    ) -> js_sys::Promise;
    /// Every raw row of a store.
    fn pb_sync_test_all(db: &web_sys::IdbDatabase, store: &str) -> js_sys::Promise;
}

/// Two tabs (two connections to one database) writing at the same time: their transactions
/// run one after the other, so no revision and no sequence number is lost or given twice.
#[wasm_bindgen_test]
async fn two_connections_writing_at_once_lose_nothing() {
    let s = Idb::new().await;
    let other = IdbStore::open(&s.name).await.unwrap();
    let tabs = [s.local.clone(), IdbLocal::new(&other)];
    let running = js_sys::Array::new();
    for (t, local) in tabs.iter().enumerate() {
        for round in 0..4 {
            let local = local.clone();
            let batch: Vec<RevDoc> = (0..100)
                .map(|i| format!("t{t}-r{round}-{i:03}"))
                .chain((0..20).map(|i| format!("shared-{i:02}")))
                .map(|id| {
                    rev_doc(
                        &id,
                        &format!("2-t{t}r{round}"),
                        &["a"],
                        false,
                        json!({"t": t}),
                    )
                })
                .collect();
            running.push(&wasm_bindgen_futures::future_to_promise(async move {
                local
                    .put_revs(&batch)
                    .await
                    .map(|()| wasm_bindgen::JsValue::UNDEFINED)
                    .map_err(|e| wasm_bindgen::JsValue::from_str(&e))
            }));
        }
    }
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::all(&running))
        .await
        .unwrap();
    let l = &s.local;
    let all = l.all_docs().await.unwrap();
    assert_eq!(all.len(), 2 * 4 * 100 + 20);
    for (id, d) in &all {
        if id.starts_with("shared-") {
            assert_eq!(d.tree.leaves().len(), 8, "{id}: every tab's every round");
        }
    }
    let feed = l.changes_since(0, 10_000).await.unwrap();
    assert_eq!(feed.len(), all.len(), "each document once");
    assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(feed.last().unwrap().seq, l.update_seq().await.unwrap());
    // Every revision that changed a tree got its own number: 800 new documents, and the
    // 20 shared ones changed by each of the 8 batches.
    assert_eq!(l.update_seq().await.unwrap(), 800 + 20 * 8);
    other.close();
    s.delete().await;
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A first sync's size: 10,000 documents of 1 KB ciphertext written in batches of 500, read
/// back through the feed and as a whole. Prints the times (not asserted beyond a generous
/// bound that catches per-document transactions).
#[wasm_bindgen_test]
async fn ten_thousand_documents() {
    const N: usize = 10_000;
    let s = Idb::new().await;
    let l = &s.local;
    let docs: Vec<RevDoc> = (0..N)
        .map(|i| {
            rev_doc(
                &format!("{:064x}", (i as u64 * 2_654_435_761) % 1_000_003),
                "1-a",
                &[],
                false,
                json!({"v": 1, "c": "x".repeat(1000)}),
            )
        })
        .collect();
    let t = now_ms();
    for chunk in docs.chunks(500) {
        l.put_revs(chunk).await.unwrap();
    }
    let put = now_ms() - t;
    let t = now_ms();
    let mut since = 0;
    let mut n = 0;
    loop {
        let page = l.changes_since(since, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        since = last.seq;
        n += page.len();
    }
    let feed = now_ms() - t;
    let t = now_ms();
    let all = l.all_docs().await.unwrap();
    let read_all = now_ms() - t;
    let t = now_ms();
    let ids: Vec<String> = all.iter().step_by(7).map(|(id, _)| id.clone()).collect();
    let some = l.get_docs(&ids).await.unwrap();
    let get = now_ms() - t;
    console_log!(
        "IdbLocal, {N} documents of 1 KB: put_revs (batches of 500) {put:.0} ms, feed (pages of \
         500) {feed:.0} ms, all_docs {read_all:.0} ms, get_docs of {} {get:.0} ms",
        ids.len()
    );
    assert_eq!(n, N);
    assert_eq!(all.len(), N);
    assert!(some.iter().all(Option::is_some));
    assert!(put + feed + read_all < 120_000.0);
    s.delete().await;
}

/// No server behind the port: `Err` that says so, quickly, not a panic or a hang.
#[wasm_bindgen_test]
async fn fetch_to_a_closed_port_is_an_error_within_the_deadline() {
    let remote = FetchRemote::new("http://127.0.0.1:9/praxis", None)
        .unwrap()
        .timeout_ms(5_000);
    let t = now_ms();
    let err = remote
        .send(Request {
            method: Method::Get,
            path: String::new(),
            body: None,
        })
        .await
        .unwrap_err();
    assert!(now_ms() - t < 6_000.0, "{} ms", now_ms() - t);
    assert!(err.contains("http://127.0.0.1:9/praxis"), "{err}");
}

/// The deadline aborts a request that has not been answered yet.
#[wasm_bindgen_test]
async fn fetch_past_its_deadline_is_aborted() {
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let remote = FetchRemote::new(&format!("{origin}/no-such-db"), Some(("u", "p")))
        .unwrap()
        .timeout_ms(1);
    let err = remote
        .send(Request {
            method: Method::Post,
            path: "_bulk_docs".into(),
            body: Some(br#"{"docs":[]}"#.to_vec()),
        })
        .await
        .unwrap_err();
    assert!(err.contains("no answer within"), "{err}");
    // With time enough, the same server answers (here: with an error status, not `Err`).
    let answer = remote
        .clone()
        .timeout_ms(10_000)
        .send(Request {
            method: Method::Get,
            path: String::new(),
            body: None,
        })
        .await
        .unwrap();
    assert!(answer.status >= 200, "{}", answer.status);
}

/// Credentials leave the URL (fetch refuses them there) and become the Basic header; the
/// name never shows them; a longpoll's deadline follows its timeout.
#[wasm_bindgen_test]
fn fetch_remote_takes_credentials_out_of_the_url() {
    let r = FetchRemote::new("https://anna:p%40ss@couch.example.org/praxis/?x=1", None).unwrap();
    assert_eq!(r.name(), "https://couch.example.org/praxis");
    assert!(r.has_credentials());
    assert!(!format!("{r:?}").contains("p@ss"));
    let r = FetchRemote::new("http://localhost:5984/db", None).unwrap();
    assert!(!r.has_credentials());
    assert_eq!(r.deadline_ms(""), 60_000);
    assert_eq!(
        r.deadline_ms("_changes?feed=longpoll&style=all_docs&since=3&timeout=25000&limit=1"),
        30_000
    );
    assert_eq!(
        r.clone().timeout_ms(500).deadline_ms("_bulk_get?revs=true"),
        500
    );
    assert!(FetchRemote::new("ftp://x/db", None).is_err());
    assert!(FetchRemote::new("not a url", None).is_err());
}
