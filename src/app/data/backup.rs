//! Backup page ("Sicherung herunterladen" / "Sicherung wiederherstellen") and the reminder
//! banner shown when the last backup is older than 7 days. The backup format and its
//! migrations are `domain::backup`; reading and writing all stores is `storage::transfer`,
//! reached through [`repo`].

use crate::app::common::{download, Confirm};
use crate::app::data::import::first_file;
use crate::app::error::AppError;
use crate::app::repo;
use crate::app::state::{AppState, Page};
use crate::domain::backup::{self, Backup};
use crate::i18n::{self, tf};
use crate::storage::crypto::{is_encrypted_backup, BackupSecret};
use crate::storage::StoreError;
use chrono::NaiveDate;
use leptos::prelude::*;
use std::sync::Arc;

/// Largest backup file accepted for a restore.
const MAX_BACKUP_BYTES: f64 = 512.0 * 1024.0 * 1024.0;

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// A date in the UI language's numeric format.
fn date_text(d: NaiveDate) -> String {
    d.format(i18n::t("format.date_numeric")).to_string()
}

/// "Letzte Sicherung ist älter als 7 Tage" — not for the demo practice.
#[component]
pub fn BackupReminder() -> impl IntoView {
    let state = expect_context::<AppState>();
    let last = state.last_backup;
    let text = move || {
        if !state.loaded.get() || state.demo.get() || state.page.get() == Page::Backup {
            return None;
        }
        let l = last.get()?;
        backup::backup_due(l, today()).then(|| match l {
            Some(d) => tf("backup.reminder_old", &[("date", &date_text(d))]),
            None => i18n::t("backup.reminder_never").to_string(),
        })
    };
    view! {
        {move || text().map(|t| view! {
            <div class="banner" role="status" aria-label=i18n::t("backup.reminder_aria")>
                <strong>{i18n::t("nav.backup")}</strong>
                <span>{t}</span>
                <a href=Page::Backup.hash()>{i18n::t("backup.now")}</a>
            </div>
        })}
    }
}

#[component]
pub fn BackupPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let last = state.last_backup;
    let message = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let pending = RwSignal::new(None::<Arc<Backup>>);
    let confirming = RwSignal::new(false);

    // The file chosen for a restore while it is encrypted with another key (or the
    // database is unencrypted): opened with that practice's passphrase or recovery key.
    let sealed_file = RwSignal::new(None::<Arc<String>>);
    let secret = RwSignal::new(String::new());
    let confirm_plain = RwSignal::new(false);

    let make_backup = move |plain: bool| {
        busy.set(true);
        error.set(None);
        message.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let (name, text, b) = repo::export_backup(plain).await?;
                download(&name, "application/json", text.as_bytes())?;
                repo::mark_backup(state).await?;
                Ok::<_, AppError>((name, b, !plain && state.encrypted.get_untracked()))
            }
            .await;
            match result {
                Ok((name, b, sealed)) => {
                    message.set(Some(tf(
                        if sealed {
                            "backup.created_encrypted"
                        } else {
                            "backup.created"
                        },
                        &[
                            ("file", &name),
                            ("persons", &b.persons.len()),
                            ("appointments", &b.appointments.len()),
                        ],
                    )));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    // A backup's text as read from the file: opened when encrypted, then parsed.
    let accept = move |text: &str, secret: Option<BackupSecret<'_>>| {
        let plain = if is_encrypted_backup(text) {
            match repo::open_encrypted_backup(text, secret) {
                Ok(p) => p,
                Err(StoreError::BackupNeedsKey) => {
                    sealed_file.set(Some(Arc::new(text.to_string())));
                    return;
                }
                Err(StoreError::WrongPassphrase | StoreError::WrongRecoveryKey) => {
                    error.set(Some(i18n::t("backup.wrong_secret").to_string()));
                    return;
                }
                Err(e) => {
                    error.set(Some(tf(
                        "backup.parse_failed",
                        &[("error", &i18n::msg(&e))],
                    )));
                    return;
                }
            }
        } else {
            text.to_string()
        };
        sealed_file.set(None);
        match backup::parse(&plain) {
            Ok(b) => pending.set(Some(Arc::new(b))),
            Err(e) => error.set(Some(tf(
                "backup.parse_failed",
                &[("error", &i18n::msg(&e))],
            ))),
        }
    };
    let open_with = move |recovery: bool| {
        let Some(text) = sealed_file.get_untracked() else {
            return;
        };
        error.set(None);
        message.set(None);
        let typed = secret.get_untracked();
        let s = if recovery {
            BackupSecret::RecoveryKey(&typed)
        } else {
            BackupSecret::Passphrase(&typed)
        };
        accept(&text, Some(s));
        if sealed_file.get_untracked().is_none() {
            secret.set(String::new());
        }
    };

    let choose = move |ev: leptos::ev::Event| {
        pending.set(None);
        sealed_file.set(None);
        error.set(None);
        message.set(None);
        let Some(file) = first_file(&ev) else { return };
        if file.size() > MAX_BACKUP_BYTES {
            error.set(Some(i18n::t("backup.too_large").to_string()));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|v| v.as_string());
            match text {
                None => error.set(Some(i18n::t("import.read_failed").into())),
                Some(t) => accept(&t, None),
            }
            busy.set(false);
        });
    };

    let restore = move |()| {
        confirming.set(false);
        let Some(b) = pending.get_untracked() else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let b = Arc::try_unwrap(b).unwrap_or_else(|a| (*a).clone());
            let (persons, appointments, created) =
                (b.persons.len(), b.appointments.len(), b.created_at);
            match repo::restore_backup(state, b).await {
                Ok(()) => {
                    pending.set(None);
                    message.set(Some(tf(
                        "backup.restored",
                        &[
                            ("date", &created.format(i18n::t("format.datetime"))),
                            ("persons", &persons),
                            ("appointments", &appointments),
                        ],
                    )));
                }
                Err(e) => error.set(Some(tf("backup.restore_failed", &[("error", &e)]))),
            }
            busy.set(false);
        });
    };

    view! {
        <h1>{i18n::t("nav.backup")}</h1>
        <section class="card" aria-label=i18n::t("backup.download")>
            <h2>{i18n::t("backup.download")}</h2>
            <p>{i18n::t("backup.download_text")}</p>
            <p role="status" aria-label=i18n::t("backup.last_aria")>{move || match last.get() {
                None => i18n::t("backup.last_reading").to_string(),
                Some(None) => i18n::t("backup.last_none").to_string(),
                Some(Some(d)) => tf("backup.last", &[("date", &date_text(d))]),
            }}</p>
            <p class="muted">{move || if state.encrypted.get() { i18n::t("backup.encrypted_hint") } else { i18n::t("backup.plain_hint") }}</p>
            <div class="actions">
                <button on:click=move |_| make_backup(false) disabled=move || busy.get()>{i18n::t("backup.download")}</button>
                <Show when=move || state.encrypted.get()>
                    <button class="secondary" on:click=move |_| confirm_plain.set(true) disabled=move || busy.get()>{i18n::t("backup.export_plain")}</button>
                </Show>
            </div>
        </section>
        <section class="card" aria-label=i18n::t("backup.restore")>
            <h2>{i18n::t("backup.restore")}</h2>
            <p>{i18n::t("backup.restore_text")}</p>
            <label>
                {i18n::t("backup.file")}
                <input type="file" accept=".json,application/json" aria-label=i18n::t("backup.file_aria")
                    disabled=move || busy.get() on:change=choose />
            </label>
            {move || sealed_file.get().map(|_| view! {
                <form class="person card" aria-label=i18n::t("backup.unlock_aria") on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    open_with(false);
                }>
                    <p class="wide">{i18n::t("backup.needs_key")}</p>
                    <label class="wide">
                        {i18n::t("backup.secret")}
                        <input type="password" autocomplete="off" prop:value=move || secret.get()
                            on:input=move |ev| secret.set(event_target_value(&ev)) />
                    </label>
                    <div class="wide actions">
                        <button type="submit">{i18n::t("backup.open_passphrase")}</button>
                        <button type="button" class="secondary" on:click=move |_| open_with(true)>{i18n::t("backup.open_recovery")}</button>
                    </div>
                </form>
            })}
            {move || pending.get().map(|b| view! {
                <p role="status">{tf(
                    "backup.pending",
                    &[("date", &b.created_at.format(i18n::t("format.datetime"))), ("version", &b.version), ("persons", &b.persons.len()), ("appointments", &b.appointments.len()),
                    ("other", &b.documents.values().map(Vec::len).sum::<usize>())]
                )}</p>
                <button class="danger" on:click=move |_| confirming.set(true)>{i18n::t("backup.restore_button")}</button>
            })}
        </section>
        {move || message.get().map(|m| view! { <p class="ok" role="status">{m}</p> })}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <Confirm
            open=confirming
            title=i18n::t("backup.confirm_title")
            text=i18n::t("backup.confirm_text")
            confirm_label=i18n::t("backup.confirm")
            on_confirm=restore
        />
        <Confirm
            open=confirm_plain
            title=i18n::t("backup.plain_confirm_title")
            text=i18n::t("backup.plain_confirm_text")
            confirm_label=i18n::t("backup.plain_confirm")
            on_confirm=move |()| {
                confirm_plain.set(false);
                make_backup(true);
            }
        />
    }
}
