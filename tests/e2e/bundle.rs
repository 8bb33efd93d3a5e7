//! The template engine is its own wasm (`dist/engine/`), imported on first use: it is in the
//! service worker's precache and renders the composer preview after an offline start.

use crate::support::Session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_engine_loads_from_the_precache_offline() {
    let s = Session::start().await;
    s.open("#/versand").await;
    s.wait_text("Demodaten").await;
    s.wait_for_service_worker().await;
    let urls = s.precached_urls().await;
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
    s.take_over_all("Terminliste", "Terminerinnerung", "E-Mail senden …")
        .await;
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
