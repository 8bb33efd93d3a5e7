//! Settings → "Geräte verbinden": the CouchDB server of the practice, joining a practice on
//! a new device with its passphrase (or recovery key), the sync status with a progress bar,
//! "Jetzt abgleichen", "Trennen", and the "Konflikte" list.

use leptos::prelude::*;
use praxisbote_sync::Couch;

use super::{config, failure, nudge, remote_for, status_text, Step};
use crate::app::error::AppError;
use crate::app::repo;
use crate::app::state::{AppState, Gate};
use crate::app::sync::{self, Change};
use crate::i18n::t;
use crate::storage::crypto::{self, LockState, Secret};
use crate::storage::sync::{self as device_sync, SyncConfig};

/// What "Verbinden" found.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Found {
    /// This device's practice is (now) on the server: syncing.
    Connected,
    /// The server holds a practice this device is not part of: join with its passphrase.
    Join,
    /// The server holds no practice and this device's data is not encrypted: it needs the
    /// practice passphrase first (the set-up screen), then "Verbinden" again.
    NeedsPassphrase,
}

/// Checks the server and connects this device's own practice, or says it must join.
async fn connect(state: AppState, cfg: SyncConfig) -> Result<Found, AppError> {
    let store = repo::store();
    let remote = remote_for(&cfg)?;
    Couch::new(&remote)
        .info()
        .await
        .map_err(|e| failure(e.into()))?;
    let on_server = device_sync::server_keyring(&remote)
        .await
        .map_err(|e| failure(e.into()))?;
    let ours = device_sync::sync_keys(&*store).ok();
    let same_key = match (&on_server, &ours) {
        (Some(doc), Some(keys)) => {
            doc.get("key_id").and_then(|v| v.as_str()) == Some(keys.key_id())
        }
        _ => false,
    };
    if on_server.is_some() && !same_key {
        return Ok(Found::Join);
    }
    if ours.is_none() {
        return Ok(Found::NeedsPassphrase);
    }
    if device_sync::publish(&*store, &remote)
        .await
        .map_err(failure)?
    {
        super::keyring_taken(state);
    }
    device_sync::save_config(&*store, &cfg)
        .await
        .map_err(repo::store_err)?;
    Ok(Found::Connected)
}

/// Joins the practice on the server: this device's data is replaced by the practice's.
async fn join(
    state: AppState,
    cfg: SyncConfig,
    secret: String,
    recovery: bool,
) -> Result<(), AppError> {
    let store = repo::store();
    let remote = remote_for(&cfg)?;
    let secret = if recovery {
        Secret::RecoveryKey(&secret)
    } else {
        Secret::Passphrase(&secret)
    };
    {
        // Replaces the whole store: not while a tab changes the outbox.
        let _lock = sync::lock(sync::OUTBOX_LOCK).await;
        device_sync::join(&*store, &remote, secret, &cfg)
            .await
            .map_err(failure)?;
    }
    // The other tabs open the store anew (it has a key now); this one reads everything.
    sync::announce(&Change::Reopen);
    state
        .encrypted
        .set(crypto::lock_state(&*store) != LockState::Plain);
    repo::reload(state).await?;
    Ok(())
}

#[component]
pub fn DeviceSettings() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = RwSignal::new(SyncConfig {
        enabled: true,
        ..SyncConfig::default()
    });
    let connected = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        if let Ok(Some(cfg)) = config().await {
            connected.set(cfg.enabled);
            draft.set(cfg);
        }
    });
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let joining = RwSignal::new(false);
    let secret = RwSignal::new(String::new());
    let use_recovery = RwSignal::new(false);
    let replace_ok = RwSignal::new(false);
    let needs_passphrase = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let mut cfg = draft.get_untracked();
        cfg.url = cfg.url.trim().to_string();
        cfg.db = cfg.db.trim().to_string();
        cfg.enabled = true;
        if cfg.url.is_empty() || cfg.db.is_empty() {
            message.set(Some(t("devices.need_url_db").into()));
            return;
        }
        busy.set(true);
        message.set(Some(t("devices.checking").into()));
        leptos::task::spawn_local(async move {
            let found = connect(state, cfg).await;
            busy.set(false);
            match found {
                Ok(Found::Connected) => {
                    connected.set(true);
                    joining.set(false);
                    message.set(Some(t("devices.connected").into()));
                    nudge(state);
                }
                Ok(Found::Join) => {
                    joining.set(true);
                    message.set(Some(t("devices.join_needed").into()));
                }
                Ok(Found::NeedsPassphrase) => {
                    needs_passphrase.set(true);
                    message.set(Some(t("devices.err_not_encrypted").into()));
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let do_join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if !replace_ok.get_untracked() {
            message.set(Some(t("devices.confirm_replace_first").into()));
            return;
        }
        let mut cfg = draft.get_untracked();
        cfg.url = cfg.url.trim().to_string();
        cfg.db = cfg.db.trim().to_string();
        cfg.enabled = true;
        let s = secret.get_untracked();
        let recovery = use_recovery.get_untracked();
        busy.set(true);
        message.set(Some(t("devices.joining").into()));
        leptos::task::spawn_local(async move {
            let done = join(state, cfg, s, recovery).await;
            busy.set(false);
            match done {
                Ok(()) => {
                    secret.set(String::new());
                    joining.set(false);
                    connected.set(true);
                    message.set(Some(t("devices.joined").into()));
                    nudge(state);
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let disconnect = move |_| {
        leptos::task::spawn_local(async move {
            let mut cfg = draft.get_untracked();
            cfg.enabled = false;
            match device_sync::save_config(&*repo::store(), &cfg).await {
                Ok(()) => {
                    connected.set(false);
                    message.set(Some(t("devices.disconnected").into()));
                    nudge(state);
                }
                Err(e) => message.set(Some(repo::store_err(e).to_string())),
            }
        });
    };
    let text = move |label: &'static str,
                     kind: &'static str,
                     get: fn(&SyncConfig) -> String,
                     set: fn(&mut SyncConfig, String)| {
        view! {
            <label>
                {label}
                <input type=kind aria-label=label prop:value=move || draft.with(get)
                    autocomplete="off"
                    on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| set(d, v)) } />
            </label>
        }
    };
    let progress = move || {
        state.devices.with(|d| match d.running {
            Some(Step::Receiving {
                done,
                left: Some(left),
            }) if left + done > 0 => Some((done, done + left)),
            _ => None,
        })
    };
    view! {
        <h2>{t("devices.title")}</h2>
        <form class="person card" on:submit=submit aria-label=t("devices.title")>
            <p class="wide muted">{t("devices.intro")}</p>
            {text(t("devices.url"), "url", |c| c.url.clone(), |c, v| c.url = v)}
            {text(t("devices.db"), "text", |c| c.db.clone(), |c, v| c.db = v)}
            {text(t("devices.user"), "text", |c| c.user.clone(), |c, v| c.user = v)}
            {text(t("devices.password"), "password", |c| c.password.clone(), |c, v| c.password = v)}
            <div class="wide actions">
                <button type="submit" disabled=move || busy.get()>{t("devices.connect")}</button>
                <Show when=move || connected.get()>
                    <button type="button" class="secondary" on:click=move |_| nudge(state)>{t("devices.sync_now")}</button>
                    <button type="button" class="secondary" on:click=disconnect>{t("devices.disconnect")}</button>
                </Show>
            </div>
            <p class="wide" role="status" aria-label=t("devices.status_aria")>
                {move || state.devices.with(status_text)}
            </p>
            {move || progress().map(|(done, total)| view! {
                <progress class="wide" max=total value=done aria-label=t("devices.progress_aria")></progress>
            })}
            <p class="wide" role="status">{move || message.get()}</p>
            <Show when=move || needs_passphrase.get() && !state.encrypted.get()>
                <div class="wide actions">
                    <button type="button" on:click=move |_| state.gate.set(Gate::SetUp)>{t("devices.set_passphrase")}</button>
                </div>
            </Show>
        </form>
        <Show when=move || joining.get()>
            <form class="person card" on:submit=do_join aria-label=t("devices.join_title")>
                <h3 class="wide">{t("devices.join_title")}</h3>
                <p class="wide">{t("devices.join_intro")}</p>
                <label class="wide">
                    <input type="checkbox" aria-label=t("devices.use_recovery")
                        prop:checked=move || use_recovery.get()
                        on:change=move |ev| use_recovery.set(event_target_checked(&ev)) />
                    " " {t("devices.use_recovery")}
                </label>
                <label>
                    {move || if use_recovery.get() { t("devices.recovery_key") } else { t("devices.passphrase") }}
                    <input type="password" autocomplete="off"
                        aria-label=move || if use_recovery.get() { t("devices.recovery_key") } else { t("devices.passphrase") }
                        prop:value=move || secret.get()
                        on:input=move |ev| secret.set(event_target_value(&ev)) />
                </label>
                <label class="wide warning">
                    <input type="checkbox" aria-label=t("devices.confirm_replace")
                        prop:checked=move || replace_ok.get()
                        on:change=move |ev| replace_ok.set(event_target_checked(&ev)) />
                    " " {t("devices.confirm_replace")}
                </label>
                <div class="wide actions">
                    <button type="submit" disabled=move || busy.get() || !replace_ok.get()>{t("devices.join")}</button>
                </div>
            </form>
        </Show>
        <super::conflicts::ConflictList />
    }
}
