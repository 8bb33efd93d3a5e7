//! The Leptos user interface (wasm32 only). Components stay thin: they read state from
//! [`state::AppState`], call domain functions and dispatch actions through [`repo`].
//!
//! One Leptos app with one [`AppState`] per tab, read from IndexedDB. Two parts are separate
//! wasm modules loaded on first use, because they are pure compute (JSON in, JSON out) and
//! hold no state: the template engine ([`engine`]) and the PDF worker
//! (`send::letters`). Several tabs of the app keep in step through [`sync`]
//! (`BroadcastChannel`), and one of them runs the transmit loop (Web Locks).

mod common;
mod data;
mod devices;
mod engine;
pub mod error;
mod language;
mod lazy;
mod lock;
mod log;
mod people;
mod repo;
pub mod send;
mod settings;
mod state;
mod sync;
mod table;
mod templates;

use crate::i18n::t;
use leptos::prelude::*;
use state::{AppState, Gate, Page};
use std::cell::Cell;
use std::rc::Rc;

/// Starts the app.
pub fn start() {
    console_error_panic_hook::set_once();
    language::init();
    leptos::mount::mount_to_body(App);
}

/// Reads again what another tab announced as changed. Outbox changes come in bursts while a
/// batch is sent: they are read one at a time, and announcements arriving meanwhile cause
/// one more read.
fn listen_to_other_tabs(state: AppState) {
    // (an outbox read runs, another one is due)
    let outbox = Rc::new(Cell::new((false, false)));
    sync::listen(move |change| match change {
        sync::Change::Hello => {
            if state.sending_here.get_untracked() {
                sync::announce(&sync::Change::Link {
                    link: state.link.get_untracked(),
                });
            }
        }
        sync::Change::Link { link } => {
            if !state.sending_here.get_untracked() {
                state.link.set(link);
            }
        }
        sync::Change::Lock => repo::lock(state, false),
        sync::Change::Reopen => {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        }
        sync::Change::Outbox { .. } => {
            let (running, _) = outbox.get();
            outbox.set((running, true));
            if !running {
                let outbox = outbox.clone();
                leptos::task::spawn_local(async move {
                    while outbox.get().1 {
                        outbox.set((true, false));
                        refresh(state, sync::Change::OUTBOX).await;
                    }
                    outbox.set((false, false));
                    send::transmit::wake(state);
                });
            }
        }
        change => {
            leptos::task::spawn_local(async move {
                let everything = change == sync::Change::Everything;
                refresh(state, change).await;
                if everything {
                    send::transmit::wake(state);
                }
            });
        }
    });
    sync::announce(&sync::Change::Hello);
}

async fn refresh(state: AppState, change: sync::Change) {
    if let Err(e) = repo::refresh(state, change).await {
        state.error.set(Some(e.to_string()));
    }
}

#[component]
fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    state.listen_to_hash();
    listen_to_other_tabs(state);
    send::transmit::start(state);
    devices::start(state);
    lock::watch_idle(state);
    leptos::task::spawn_local(async move {
        if let Err(e) = repo::boot(state).await {
            state.error.set(Some(e.to_string()));
        }
    });

    view! {
        {move || match state.gate.get() {
            Gate::Open => None,
            Gate::SetUp => Some(view! { <lock::SetUpScreen /> }.into_any()),
            Gate::Recovery(key) => Some(view! { <lock::RecoveryScreen key=key /> }.into_any()),
            Gate::Locked => Some(view! { <lock::LockScreen /> }.into_any()),
        }}
        <Show when=move || state.gate.get() == Gate::Open>
        <div class="app">
            <Nav />
            <main id="inhalt">
                <common::DemoBanner />
                <common::QuarantineBanner />
                <data::backup::BackupReminder />
                <common::ErrorBanner />
                {move || match state.page.get() {
                    page if page.needs_appointments() && !state.appointments_ready.get() => view! {
                        <p role="status" class="muted">{t("common.loading_appointments")}</p>
                    }.into_any(),
                    Page::Persons(kind) => view! { <people::persons::PersonList kind=kind /> }.into_any(),
                    Page::PersonEdit(id) => view! { <people::persons::PersonEdit id=id /> }.into_any(),
                    Page::PersonNew(kind) => view! { <people::persons::PersonNew kind=kind /> }.into_any(),
                    Page::Appointments => view! { <people::appointments::AppointmentList /> }.into_any(),
                    Page::Settings => view! { <settings::SettingsPage /> }.into_any(),
                    Page::Send => view! { <send::sources::SendPage /> }.into_any(),
                    Page::Review => view! { <send::review::ReviewPage /> }.into_any(),
                    Page::Compose => view! { <send::compose::ComposePage /> }.into_any(),
                    Page::Log => view! { <log::LogPage /> }.into_any(),
                    Page::Templates => view! { <templates::TemplatesPage /> }.into_any(),
                    Page::Import => view! { <data::import::ImportPage /> }.into_any(),
                    Page::Backup => view! { <data::backup::BackupPage /> }.into_any(),
                }}
            </main>
        </div>
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
            <Show when=move || state.encrypted.get()>
                <button class="secondary lock-button" on:click=move |_| repo::lock(state, true)>{t("nav.lock")}</button>
            </Show>
            // In the navigation, not above the page: it appears once the data is read and
            // must not move what is already on the page.
            <send::reminders::ReminderNotice />
            <language::LanguageSwitch />
        </nav>
    }
}
