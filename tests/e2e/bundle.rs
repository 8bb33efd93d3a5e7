//! The template engine is its own wasm (`dist/engine/`), imported on first use: it is in the
//! service worker's precache and renders the composer preview after an offline start.

use crate::support::Session;
use std::time::{Duration, Instant};

async fn wait_until(s: &Session, what: &str, js: &str) {
    let start = Instant::now();
    loop {
        if s.script(js).await == serde_json::Value::Bool(true) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what} ({js})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_engine_loads_from_the_precache_offline() {
    let s = Session::start().await;
    s.open("#/versand").await;
    s.wait_text("Demodaten").await;
    wait_until(
        &s,
        "the service worker to control the page",
        "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);",
    )
    .await;
    let cached = s
        .script_async(
            "const done = arguments[0];
             caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))
               .then(lists => done(lists.flat().map(r => r.url)));",
        )
        .await;
    let urls: Vec<String> = serde_json::from_value(cached).expect("url list");
    for f in [
        "engine/praxisbote-engine.js",
        "engine/praxisbote-engine_bg.wasm",
    ] {
        assert!(
            urls.iter().any(|u| u.ends_with(f)),
            "{f} not precached: {urls:?}"
        );
    }

    s.set_offline(true).await;
    s.reload().await;
    s.wait_text("Demodaten").await;
    s.click_button("Terminliste").await;
    s.wait_status_matching("Treffer").await;
    s.click_button("Alle auswählen").await;
    s.click_button("Aktion").await;
    s.select_by_label("Zweck", "Terminerinnerung").await;
    s.click_button("E-Mail senden …").await;
    s.wait_status_matching("übernommen").await;
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;
    // Rendered by the engine wasm, fetched from the cache while offline.
    let preview = s.text_by_label("Vorschau").await;
    assert!(
        preview.contains("Termin") || preview.contains("termin"),
        "reminder text expected offline: {preview}"
    );
    s.set_offline(false).await;
}
