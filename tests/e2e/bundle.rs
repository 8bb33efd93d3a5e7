//! Lazily loaded modules. The template engine is its own wasm (`dist/engine/`), imported on
//! first use: it is in the service worker's precache and renders the composer preview after
//! an offline start. The workbench (`dist/workbench/`: sending, log, templates, import,
//! backup, settings) is imported on the first visit to one of its pages and shares the
//! data with the shell.

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
        "workbench/praxisbote-workbench.js",
        "workbench/praxisbote-workbench_bg.wasm",
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

/// URLs of the workbench's files the page has fetched so far.
async fn workbench_fetches(s: &Session) -> Vec<String> {
    let v = s
        .script(
            "return performance.getEntriesByType('resource').map(e => e.name)\
             .filter(n => n.includes('/workbench/'));",
        )
        .await;
    serde_json::from_value(v).expect("list of urls")
}

/// Waits until the Versand search reports exactly `n` hits.
async fn wait_hits(s: &Session, n: usize) {
    s.wait_until(
        &format!("{n} Treffer"),
        &format!(
            "return [...document.querySelectorAll('[role=status]')]\
             .some(e => e.textContent.trim().startsWith('{n} Treffer,'));"
        ),
    )
    .await;
}

/// In the open person form: a new last name, saved.
async fn save_last_name(s: &Session, last_name: &str) {
    s.fill_by_label("Nachname", last_name).await;
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
}

/// Opens Versand (the workbench) with the search source.
async fn open_versand_search(s: &Session) {
    s.click_link("Versand").await;
    s.click_button("Suche").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workbench_loads_on_first_use_and_shares_data_with_the_shell() {
    let s = Session::start().await;
    s.open("#/patienten").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    // The shell alone: patient list, person form and appointments need no workbench.
    s.click_link(&s.all_texts("table.data tbody tr td a").await[0])
        .await;
    s.wait_text("Einwilligungen").await;
    s.click_link("Termine").await;
    s.wait_css("main h1").await;
    assert_eq!(workbench_fetches(&s).await, Vec::<String>::new());

    // A change in the shell: a new last name for the first patient.
    s.click_link("Patienten").await;
    let first = s.wait_css("table.data tbody tr td a").await;
    let name = first.text().await.expect("name");
    first.click().await.expect("open person");
    save_last_name(&s, "Quaxelbrink").await;

    // First visit to Versand: the workbench wasm is fetched and finds the new name.
    open_versand_search(&s).await;
    let fetched = workbench_fetches(&s).await;
    assert!(
        fetched
            .iter()
            .any(|u| u.ends_with("workbench/praxisbote-workbench_bg.wasm")),
        "{fetched:?}"
    );
    s.fill_by_label("Empfänger suchen", "quaxelbrink").await;
    wait_hits(&s, 1).await;
    assert!(!name.starts_with("Quaxelbrink"));

    // A change while the workbench is loaded: the shell's change reaches it without a reload.
    s.click_link("Patienten").await;
    s.wait_css("table.data tbody tr td a").await;
    s.fill_by_label("Patienten durchsuchen", "Quaxelbrink")
        .await;
    s.wait_status_matching("1 Treffer").await;
    let again = s.wait_css("table.data tbody tr td a").await;
    assert!(again.text().await.unwrap().starts_with("Quaxelbrink"));
    again.click().await.expect("open person");
    save_last_name(&s, "Quaxelbrunn").await;
    open_versand_search(&s).await;
    s.fill_by_label("Empfänger suchen", "quaxelbrunn").await;
    wait_hits(&s, 1).await;
    // The old name is gone from the workbench's copy.
    s.fill_by_label("Empfänger suchen", "quaxelbrink").await;
    wait_hits(&s, 0).await;
}
