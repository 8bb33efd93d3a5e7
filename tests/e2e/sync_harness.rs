//! The harness of the sync tests (issue 18) proves itself: a pouchdb-server with CouchDB's
//! authentication and CORS for the app's origin, and two browser profiles ("devices") in one
//! test, each with its own IndexedDB, each able to reach the server from the page with
//! `fetch` (cross-origin, Basic auth, JSON bodies), one of them cut off and reconnected with
//! Chromium's network emulation.

use crate::support::{self, Device, PouchServer, DB};

/// Adds a patient with only names through the person form; waits until it is saved.
async fn add_patient(d: &Device, first: &str, last: &str) {
    d.open("#/neu/patient").await;
    d.fill_by_label("Vorname", first).await;
    d.fill_by_label("Nachname", last).await;
    d.click_button("Speichern").await;
    d.wait_until(
        "the saved person's form",
        "return location.hash.startsWith('#/person/');",
    )
    .await;
}

/// Hits of the patient search for `text` on the patient list.
async fn hits(d: &Device, text: &str) -> usize {
    d.open("").await;
    d.wait_text("Demodaten").await;
    d.fill_by_label("Patienten durchsuchen", text).await;
    // The count is redrawn as the search runs: wait for the one that fits the search.
    let mut last = String::new();
    for _ in 0..50 {
        last = d.wait_status_matching("Treffer").await;
        let shown = d.all_texts("table.data tbody tr td a").await;
        let n = support::numbers(&last)
            .first()
            .copied()
            .unwrap_or(usize::MAX);
        if n == shown.iter().filter(|s| s.contains(text)).count() && n == shown.len() {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the search for {text} never settled: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_have_their_own_data_and_reach_couchdb_through_cors() {
    let server = PouchServer::start();
    let mut desk = Device::start("empfang").await;
    let tablet = Device::start("tablet").await;
    desk.open("").await;
    tablet.open("").await;
    desk.wait_text("Demodaten").await;
    tablet.wait_text("Demodaten").await;

    // Each device has its own IndexedDB: a patient added at the desk is not on the tablet.
    add_patient(&desk, "Anna", "Synchrotestfrau").await;
    assert_eq!(hits(&desk, "Synchrotestfrau").await, 1);
    assert_eq!(hits(&tablet, "Synchrotestfrau").await, 0);
    // The desk's browser is switched off and on: its profile (and the patient) stays.
    desk.restart_browser().await;
    assert_eq!(hits(&desk, "Synchrotestfrau").await, 1);

    // Both reach the database from the page: CORS for the app's origin, the user's Basic auth.
    for d in [&desk, &tablet] {
        let (status, body) = d.couch_fetch(&server, "GET", DB, None).await;
        assert_eq!(status, 200, "{}: GET /{DB}: {body}", d.name);
        assert_eq!(body["db_name"], DB, "{}: {body}", d.name);
    }
    // The server asks for the user: no or wrong credentials get 401 (readable thanks to CORS).
    let (status, body) = desk.couch_fetch_as(&server, "GET", DB, None, None).await;
    assert_eq!(status, 401, "without credentials: {body}");
    let (status, body) = desk
        .couch_fetch_as(&server, "GET", DB, None, Some((support::USER, "falsch")))
        .await;
    assert_eq!(status, 401, "wrong password: {body}");

    // A JSON write (preflight with authorization + content-type) from one device is read by
    // the other.
    let doc = serde_json::json!({"v": 1, "c": "QUJD"});
    let (status, body) = desk
        .couch_fetch(&server, "PUT", &format!("{DB}/probe"), Some(doc))
        .await;
    assert_eq!(status, 201, "PUT from the desk: {body}");
    let (status, body) = tablet
        .couch_fetch(&server, "GET", &format!("{DB}/probe"), None)
        .await;
    assert_eq!(status, 200, "GET on the tablet: {body}");
    assert_eq!(body["c"], "QUJD");
    let (status, body) = tablet
        .couch_fetch(
            &server,
            "PUT",
            &format!("{DB}/_local/probe-checkpoint"),
            Some(serde_json::json!({"history": []})),
        )
        .await;
    assert_eq!(status, 201, "PUT _local from the tablet: {body}");

    // The desk goes offline: its requests fail, the tablet's do not; back online, they work.
    desk.set_offline(true).await;
    let (status, _) = desk.couch_fetch(&server, "GET", DB, None).await;
    assert_eq!(status, 0, "the offline desk still reached the server");
    let (status, _) = tablet.couch_fetch(&server, "GET", DB, None).await;
    assert_eq!(status, 200, "the tablet lost the server with the desk");
    desk.set_offline(false).await;
    let (status, _) = desk.couch_fetch(&server, "GET", DB, None).await;
    assert_eq!(status, 200, "the desk did not come back online");

    // The server scan sees the written document, the local one and the security object.
    let docs = server.all_docs_raw();
    let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    for want in ["probe", "_local/probe-checkpoint", "_security"] {
        assert!(ids.contains(&want), "{want} missing in the scan: {ids:?}");
    }
    assert_eq!(server.documents_containing(&["QUJD"]).len(), 1);
    assert!(server.documents_containing(&["Synchrotestfrau"]).is_empty());

    // A server restart keeps the port; the server is empty again but set up (user, CORS).
    let mut server = server;
    server.restart();
    let (status, body) = tablet.couch_fetch(&server, "GET", DB, None).await;
    assert_eq!(status, 200, "after the restart: {body}");
    assert_eq!(body["doc_count"], 0, "{body}");
}
