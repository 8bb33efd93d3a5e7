//! The Leptos user interface (wasm32 only). Components stay thin: they read state from
//! [`state::AppState`], call domain functions and dispatch actions through [`repo`].

mod appointments;
mod backup;
mod common;
mod compose;
mod engine;
mod import;
mod language;
mod letters;
mod log_page;
mod persons;
mod query_builder;
mod relay_client;
mod relay_settings;
mod repo;
mod review;
mod send;
mod send_panel;
mod settings;
mod state;
mod table;
mod templates;
pub mod transmit;

use crate::i18n::t;
use leptos::prelude::*;
use state::{AppState, Page};

pub fn start() {
    console_error_panic_hook::set_once();
    language::init();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    state.listen_to_hash();
    transmit::start(state);
    leptos::task::spawn_local(async move {
        if let Err(e) = repo::boot(state).await {
            state.error.set(Some(e));
        }
    });

    view! {
        <div class="app">
            <Nav />
            <main id="inhalt">
                <common::DemoBanner />
                <backup::BackupReminder />
                <common::ErrorBanner />
                {move || match state.page.get() {
                    Page::Persons(kind) => view! { <persons::PersonList kind=kind /> }.into_any(),
                    Page::PersonEdit(id) => view! { <persons::PersonEdit id=id /> }.into_any(),
                    Page::PersonNew(kind) => view! { <persons::PersonNew kind=kind /> }.into_any(),
                    Page::Appointments => view! { <appointments::AppointmentList /> }.into_any(),
                    Page::Settings => view! { <settings::SettingsPage /> }.into_any(),
                    Page::Send => view! { <send::SendPage /> }.into_any(),
                    Page::Review => view! { <review::ReviewPage /> }.into_any(),
                    Page::Compose => view! { <compose::ComposePage /> }.into_any(),
                    Page::Log => view! { <log_page::LogPage /> }.into_any(),
                    Page::Templates => view! { <templates::TemplatesPage /> }.into_any(),
                    Page::Import => view! { <import::ImportPage /> }.into_any(),
                    Page::Backup => view! { <backup::BackupPage /> }.into_any(),
                }}
            </main>
        </div>
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
