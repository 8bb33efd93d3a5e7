//! Offline app: after one visit the service worker serves the app shell, so the app starts
//! with its data while Chromium's network emulation says "offline"; a new build is offered
//! with "Neue Version verfügbar — Neu laden".

use crate::support::Session;

async fn relay_reachable(s: &Session) -> String {
    s.script_async(
        "const done = arguments[0];
         fetch('v1/health', {cache: 'no-store'}).then(() => done('online'), () => done('offline'));",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_starts_offline_with_its_data_after_the_first_visit() {
    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    s.wait_for_service_worker().await;
    // Everything the build produced is in the cache, the main wasm included.
    let urls = s.precached_urls().await;
    assert!(
        urls.iter().any(|u| u.ends_with("_bg.wasm")),
        "main wasm not precached: {urls:?}"
    );
    assert!(urls.iter().any(|u| u.ends_with("/index.html")));

    s.set_offline(true).await;
    assert_eq!(
        relay_reachable(&s).await,
        "offline",
        "network emulation did not cut the page off"
    );
    s.reload().await;
    // The app boots from the cache and shows the demo practice from IndexedDB.
    s.wait_text("Demodaten").await;
    let first = s.wait_css("table.data tbody tr td a").await;
    let name = first.text().await.expect("name");
    let last = name.split(',').next().unwrap().trim().to_string();
    s.fill_by_label("Patienten durchsuchen", &last).await;
    let hits = s.wait_status_matching("Treffer").await;
    assert!(
        crate::support::numbers(&hits).first().copied().unwrap_or(0) >= 1,
        "offline search for {last} finds nothing: {hits}"
    );
    s.set_offline(false).await;
    assert_eq!(relay_reachable(&s).await, "online");
}

/// Restores `dist/sw.js` when the test ends, also on panic.
struct Restore(std::path::PathBuf, String);
impl Drop for Restore {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, &self.1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_build_is_offered_and_loaded_on_request() {
    let sw = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/sw.js");
    let original = std::fs::read_to_string(&sw).expect("dist/sw.js (built by cargo xtask)");
    let _restore = Restore(sw.clone(), original.clone());

    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    s.wait_for_service_worker().await;
    assert_eq!(
        s.script("return !!document.getElementById('update-banner');")
            .await,
        serde_json::Value::Bool(false),
        "update offered without a new build"
    );

    // "Deploy" a new build: the worker's version changes.
    let next = original.replacen("const PB_VERSION = \"", "const PB_VERSION = \"next-", 1);
    assert_ne!(next, original, "sw.js has no PB_VERSION line");
    std::fs::write(&sw, next).expect("write sw.js");
    s.script("navigator.serviceWorker.getRegistration().then(r => r.update()); return true;")
        .await;
    s.wait_text("Neue Version verfügbar").await;
    s.script("window.__beforeReload = true; return true;").await;
    s.click_button("Neu laden").await;
    // The page reloads under the new worker: the marker is gone and the app is back.
    s.wait_until(
        "the reload",
        "return window.__beforeReload === undefined && document.readyState === 'complete';",
    )
    .await;
    s.wait_text("Demodaten").await;
    s.wait_until(
        "the new worker to take over",
        "return navigator.serviceWorker.controller !== null;",
    )
    .await;
}
