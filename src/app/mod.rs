//! The Leptos user interface (wasm32 only). Components stay thin: they read state from
//! [`state::AppState`], call domain functions and dispatch actions through [`repo`].
//!
//! The UI is two wasm modules built from this one code base: the shell ([`start`]: the main
//! bundle with navigation, persons and appointments) and the workbench ([`start_workbench`],
//! its own crate `workbench/`, loaded on first use by [`workbench`]: sending, log, templates,
//! import, backup, settings). Each has its own [`AppState`] read from the same IndexedDB;
//! [`sync`] tells the other module when one has written.

mod common;
mod data;
mod engine;
mod language;
mod lazy;
mod log;
mod people;
mod repo;
pub mod send;
mod settings;
mod state;
mod sync;
mod table;
mod templates;
mod workbench;

use crate::i18n::t;
use leptos::prelude::*;
use state::{AppState, Page};

/// Starts the shell (the main bundle).
pub fn start() {
    console_error_panic_hook::set_once();
    language::init();
    leptos::mount::mount_to_body(App);
}

/// Starts the workbench module: mounts it into the shell's `#werkbank` element. Called by the
/// workbench wasm's `start` export once the shell has imported it.
pub fn start_workbench() {
    use wasm_bindgen::JsCast;
    console_error_panic_hook::set_once();
    language::init();
    let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(workbench::MOUNT_ID))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    leptos::mount::mount_to(el, Workbench).forget();
}

/// Reads the store again after the other module wrote.
fn reload_after_change(state: AppState) {
    leptos::task::spawn_local(async move {
        if let Err(e) = repo::reload(state).await {
            state.error.set(Some(e));
        }
    });
}

#[component]
fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    state.listen_to_hash();
    sync::listen(sync::Module::Shell, move || {
        reload_after_change(state);
        data::backup::refresh_last_backup();
    });
    sync::receive(move |banner, text| match banner {
        sync::Banner::Notice => state.notice.set(Some(text)),
        sync::Banner::Error => state.error.set(Some(text)),
    });
    leptos::task::spawn_local(async move {
        if let Err(e) = repo::boot(state).await {
            state.error.set(Some(e));
            return;
        }
        // An unfinished batch in the outbox: start the workbench (its transmit loop resumes).
        if repo::outbox_open().await.unwrap_or(false) {
            workbench::load();
        }
    });

    view! {
        <div class="app">
            <Nav />
            <main id="inhalt">
                <common::DemoBanner />
                <common::QuarantineBanner />
                <data::backup::BackupReminder />
                <common::ErrorBanner />
                {move || match state.page.get() {
                    Page::Persons(kind) => view! { <people::persons::PersonList kind=kind /> }.into_any(),
                    Page::PersonEdit(id) => view! { <people::persons::PersonEdit id=id /> }.into_any(),
                    Page::PersonNew(kind) => view! { <people::persons::PersonNew kind=kind /> }.into_any(),
                    Page::Appointments => view! { <people::appointments::AppointmentList /> }.into_any(),
                    // Rendered by the workbench module into #werkbank.
                    _ => view! { <Show when=move || state.loaded.get()><workbench::Pending /></Show> }.into_any(),
                }}
                <div id=workbench::MOUNT_ID></div>
            </main>
        </div>
    }
}

/// The workbench module's root: its own state, read from the store the shell opened; renders
/// only while the URL shows one of its pages.
#[component]
fn Workbench() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    state.listen_to_hash();
    sync::listen(sync::Module::Workbench, move || reload_after_change(state));
    // A message meant for a shell page (e.g. after an import, which opens the patient list)
    // goes to the shell's banner.
    Effect::new(move |_| {
        if state.page.get().in_workbench() {
            return;
        }
        if let Some(n) = state.notice.get() {
            sync::forward(sync::Banner::Notice, &n);
            state.notice.set(None);
        }
        if let Some(e) = state.error.get() {
            sync::forward(sync::Banner::Error, &e);
            state.error.set(None);
        }
    });
    send::transmit::start(state);
    leptos::task::spawn_local(async move {
        if let Err(e) = repo::attach(state).await {
            state.error.set(Some(e));
        }
    });

    view! {
        <Show when=move || state.page.get().in_workbench()>
            <common::ErrorBanner />
            {move || match state.page.get() {
                Page::Settings => view! { <settings::SettingsPage /> }.into_any(),
                Page::Send => view! { <send::sources::SendPage /> }.into_any(),
                Page::Review => view! { <send::review::ReviewPage /> }.into_any(),
                Page::Compose => view! { <send::compose::ComposePage /> }.into_any(),
                Page::Log => view! { <log::LogPage /> }.into_any(),
                Page::Templates => view! { <templates::TemplatesPage /> }.into_any(),
                Page::Import => view! { <data::import::ImportPage /> }.into_any(),
                Page::Backup => view! { <data::backup::BackupPage /> }.into_any(),
                _ => ().into_any(),
            }}
        </Show>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let state = expect_context::<AppState>();
    let link = move |page: Page, label: &'static str| {
        let href = page.hash();
        let current = move || state.page.get().nav_group() == page.nav_group();
        view! {
            <a href=href aria-current=move || if current() { Some("page") } else { None }>{label}</a>
        }
    };
    view! {
        <nav class="main-nav" aria-label=t("nav.aria")>
            <div class="brand">"praxisbote"</div>
            {link(Page::Persons(crate::domain::Kind::Patient), t("nav.patients"))}
            {link(Page::Persons(crate::domain::Kind::Prospect), t("nav.prospects"))}
            {link(Page::Appointments, t("nav.appointments"))}
            {link(Page::Send, t("nav.send"))}
            {link(Page::Log, t("nav.log"))}
            {link(Page::Templates, t("nav.templates"))}
            {link(Page::Import, t("nav.import"))}
            {link(Page::Backup, t("nav.backup"))}
            {link(Page::Settings, t("nav.settings"))}
            <language::LanguageSwitch />
        </nav>
    }
}
