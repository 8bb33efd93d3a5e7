//! End-to-end tests in headless Chromium against the built app served by the real relay.
//!
//! Run by `cargo xtask test`, which builds `dist/`, starts praxisbote-relay and chromedriver and
//! passes their URLs in `PB_APP_URL` and `PB_WEBDRIVER_URL`. Each test opens its own browser
//! session with a fresh profile, so IndexedDB starts empty and the demo practice loads.
//! Elements are found the way a person finds them: by role and accessible name.

mod support;

use support::Session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_loads_search_change_consent_and_it_survives_a_reload() {
    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;

    // The patient table lists the demo patients; take one from the table and search for it.
    let first_link = s.wait_css("table.data tbody tr td a").await;
    let name = first_link.text().await.expect("name text");
    let last_name = name.split(',').next().unwrap().trim().to_string();
    assert!(!last_name.is_empty());
    s.fill_by_label("Patienten durchsuchen", &last_name).await;
    let count = s.wait_status_matching("Treffer").await;
    let hits: usize = count.split_whitespace().next().unwrap().parse().unwrap();
    assert!(hits >= 1, "searching {last_name} finds nothing: {count}");
    s.click_link(&name).await;

    // Grant a consent that is not yet given (or withdraw one that is) and save.
    let label = "SMS – Recall";
    let before = s.checkbox_by_label(label).await;
    s.click_by_label(label).await;
    assert_ne!(s.checkbox_by_label(label).await, before);
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;

    // Reload the whole page: the change must come back from IndexedDB.
    let url = s.current_url().await;
    s.reload().await;
    assert_eq!(s.current_url().await, url);
    s.wait_text("Einwilligungen").await;
    assert_ne!(
        s.checkbox_by_label(label).await,
        before,
        "consent change lost after reload"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn umlaut_insensitive_search_finds_people() {
    let s = Session::start().await;
    s.open("").await;
    s.wait_text("Demodaten").await;
    s.wait_css("table.data tbody tr td a").await;
    let total = s.wait_status_matching("Treffer").await;
    // Search a folded spelling of a name with an umlaut or ß that the table shows.
    let names = s.all_texts("table.data tbody tr td a").await;
    let with_umlaut = names
        .iter()
        .find(|n| n.chars().any(|c| "äöüßÄÖÜ".contains(c)))
        .cloned()
        .expect("the demo practice has names with umlauts");
    let last = with_umlaut.split(',').next().unwrap().trim().to_string();
    let folded: String = last
        .chars()
        .map(|c| match c {
            'ä' | 'Ä' => 'a',
            'ö' | 'Ö' => 'o',
            'ü' | 'Ü' => 'u',
            c => c,
        })
        .collect::<String>()
        .replace('ß', "ss")
        .to_lowercase();
    s.fill_by_label("Patienten durchsuchen", &folded).await;
    let after = s.wait_status_matching("Treffer").await;
    assert_ne!(after, total, "the search did not narrow the list");
    let shown = s.all_texts("table.data tbody tr td a").await;
    assert!(
        shown.iter().any(|n| n == &with_umlaut),
        "{folded} did not find {with_umlaut}: {shown:?}"
    );
}
