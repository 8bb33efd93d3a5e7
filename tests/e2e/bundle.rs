//! The web bundle: ONE UI module (the app's wasm at the root of `dist/`) and two lazily
//! loaded compute modules, the template engine (`dist/engine/`) and the PDF worker
//! (`dist/pdf/`). Both are fetched only on first use, both are in the service worker's
//! precache, and the engine renders the composer preview after an offline start.

use crate::support::{self, Session};

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
        "pdf/praxisbote-pdf-worker.js",
        "pdf/praxisbote-pdf-worker_bg.wasm",
    ] {
        assert!(
            urls.iter().any(|u| u.ends_with(f)),
            "{f} not precached: {urls:?}"
        );
    }
    assert!(
        !urls.iter().any(|u| u.contains("/workbench/")),
        "no second UI module: {urls:?}"
    );

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

/// The wasm files this page has fetched so far (relative to the app's origin).
async fn wasm_fetches(s: &Session) -> Vec<String> {
    let v = s
        .script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name))\
             .filter(u => u.origin === location.origin && u.pathname.endsWith('.wasm'))\
             .map(u => u.pathname.slice(1));",
        )
        .await;
    serde_json::from_value(v).expect("list of paths")
}

fn fetched(list: &[String], dir: &str) -> bool {
    list.iter().any(|p| p.starts_with(dir))
}

/// Whether the PDF worker runs (a worker fetches its wasm itself, so the page's resource
/// timing does not show it; the browser's targets do).
async fn pdf_worker_started(s: &Session) -> bool {
    let targets = s.cdp("Target.getTargets", serde_json::json!({})).await;
    targets["targetInfos"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["type"] == "worker" && t["url"].as_str().unwrap_or("").contains("pdf"))
}

/// Opens a page by its navigation link and waits for its heading.
async fn visit(s: &Session, link: &str) {
    s.click_link(link).await;
    s.wait_css("main h1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ui_module_and_engine_and_pdf_worker_only_on_first_use() {
    let s = Session::start().await;
    // The first start generates the demo practice (with the engine); then a start with data.
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    s.reload().await;
    s.wait_css("table.data tbody tr td a").await;
    let first = wasm_fetches(&s).await;
    let ui: Vec<_> = first.iter().filter(|p| !p.contains('/')).collect();
    assert_eq!(ui.len(), 1, "one UI module: {first:?}");
    assert!(ui[0].starts_with("praxisbote-"), "{first:?}");

    // Every page, as long as no template is rendered or edited and no PDF made: neither
    // module is fetched.
    for page in [
        "Termine",
        "Interessenten",
        "Versand",
        "Protokoll",
        "Vorlagen",
        "Import",
        "Sicherung",
        "Einstellungen",
    ] {
        visit(&s, page).await;
    }
    let after = wasm_fetches(&s).await;
    assert!(
        !fetched(&after, "engine/"),
        "engine fetched early: {after:?}"
    );
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(!pdf_worker_started(&s).await, "PDF worker started early");

    // A letter: the engine comes with the composer, the PDF worker with "PDF erzeugen".
    visit(&s, "Versand").await;
    s.click_button("Abfrage").await;
    s.select_by_label("Bedingung hinzufügen", "Geburtstag in den nächsten Tagen")
        .await;
    s.fill_by_label(
        "Bedingung 1: Geburtstag in den nächsten Tagen",
        "30\u{E004}",
    )
    .await;
    s.click_button("Abfrage ausführen").await;
    s.wait_status_matching("Personen gefunden").await;
    s.click_button("Alle auswählen").await;
    s.click_button("Aktion").await;
    s.select_by_label("Zweck", "Geburtstag").await;
    s.click_button("Serienbrief erstellen …").await;
    let counts = s.wait_status_matching("übernommen").await;
    assert!(support::numbers(&counts)[3] >= 1, "{counts}");
    s.click_button("Übernahme").await;
    // The composer's preview is rendered by the engine: fetched now.
    s.wait_status_matching("Vorschau 1 von").await;
    assert!(
        fetched(&wasm_fetches(&s).await, "engine/"),
        "the preview needs the engine"
    );
    assert!(!pdf_worker_started(&s).await, "PDF worker started early");
    s.click_button("PDF erzeugen").await;
    s.wait_status_matching("PDF fertig").await;
    assert!(pdf_worker_started(&s).await, "the PDF came from the worker");
}
