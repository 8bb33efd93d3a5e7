//! Several devices of one practice (issue 18): this tab's sync loop, its status, and the
//! actions behind Settings → "Geräte verbinden" ([`connect`]) and "Konflikte"
//! ([`conflicts`]). The sync itself lives in the storage layer (`storage::sync`); this module
//! only decides when a round runs and which views read again afterwards.
//!
//! One tab of the browser runs the loop: the one holding [`SYNC_LOCK`] (the others take over
//! when it goes away). A round runs at start, after every change this tab or another tab of
//! the browser made (debounced), when the server's longpoll feed reports a change from
//! another device, and every [`IDLE_MS`] otherwise. What a round applied is read again here
//! and announced to the other tabs, like a change made by hand.

pub(crate) mod conflicts;
pub(crate) mod connect;

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use praxisbote_sync::{Direction, Options, Progress};

use crate::app::error::AppError;
use crate::app::repo;
use crate::app::state::AppState;
use crate::app::sync::{self, Change};
use crate::i18n::{t, tf};
use crate::storage::crypto;
use crate::storage::idb::IdbLocal;
use crate::storage::sync::fetch::FetchRemote;
use crate::storage::sync::{self as device_sync, Changed, Scope, SyncConfig, SyncFailure};

/// Held by the tab whose sync loop runs.
pub const SYNC_LOCK: &str = "praxisbote-sync";

/// A round at least this often while connected, even when nothing announced a change.
const IDLE_MS: i32 = 30_000;
/// Changes made within this time go out in one round.
const DEBOUNCE_MS: i32 = 300;
/// After a failed round (server down, offline), the next try.
const RETRY_MS: i32 = 10_000;
/// The longpoll's own timeout (the server answers empty after it; the fetch deadline adds
/// a little).
const LONGPOLL_MS: u64 = 25_000;
/// Changes per replication batch (one checkpoint each).
const BATCH: usize = 500;

/// What the settings page shows about the device sync.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceSync {
    /// The server database this device syncs with (without credentials).
    pub connected: Option<String>,
    /// A round runs now: what it is doing.
    pub running: Option<Step>,
    /// The end of the last good round ("14:32:05") and what it moved.
    pub last_ok: Option<(String, Summary)>,
    /// Why the last round failed (translated), until a round succeeds.
    pub error: Option<String>,
    /// Persons waiting under "Konflikte".
    pub conflicts: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    Preparing,
    Sending { done: u64 },
    Receiving { done: u64, left: Option<u64> },
    Applying,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub sent: u64,
    pub received: u64,
    pub merged: usize,
}

/// The connection of this device, if it has one (read fresh).
pub async fn config() -> Result<Option<SyncConfig>, AppError> {
    device_sync::config(&*repo::store())
        .await
        .map_err(repo::store_err)
}

fn remote_for(cfg: &SyncConfig) -> Result<FetchRemote, AppError> {
    let credentials = (!cfg.user.is_empty()).then_some((cfg.user.as_str(), cfg.password.as_str()));
    FetchRemote::new(&cfg.db_url(), credentials)
        .map_err(|e| AppError::msg("devices.bad_url", [("error", e)]))
}

/// A failure of the sync layer as the UI's error.
pub(crate) fn failure(e: SyncFailure) -> AppError {
    match e {
        SyncFailure::Store(e) => repo::store_err(e),
        SyncFailure::Sync(e) if e.is_auth() => AppError::msg("devices.err_auth", []),
        SyncFailure::Sync(e) => AppError::msg("devices.err_server", [("error", e.to_string())]),
        SyncFailure::NotEncrypted => AppError::msg("devices.err_not_encrypted", []),
        SyncFailure::Locked => AppError::msg("devices.err_locked", []),
        SyncFailure::KeyMismatch => AppError::msg("devices.err_key_mismatch", []),
        SyncFailure::NoPractice => AppError::msg("devices.err_no_practice", []),
        SyncFailure::WrongSecret => AppError::msg("devices.err_wrong_secret", []),
        SyncFailure::ForgedKeyring => AppError::msg("devices.err_forged_keyring", []),
    }
}

/// Starts the loop in this tab once it holds [`SYNC_LOCK`]. Called once at start.
pub fn start(state: AppState) {
    leptos::task::spawn_local(async move {
        let _turn = sync::lock(SYNC_LOCK).await;
        while !state.loaded.get_untracked() {
            sleep(100).await;
        }
        run(state).await;
    });
}

/// Runs a round soon (after a connection was made or changed, or "Jetzt abgleichen").
pub fn nudge(state: AppState) {
    state.devices_wake.update(|w| *w += 1);
}

async fn run(state: AppState) {
    // The longpoll of the current connection reports "the server has news" here.
    let news = Rc::new(Cell::new(false));
    let mut polling: Option<(String, Rc<Cell<bool>>)> = None;
    // The records whose own edits the next round looks for: all of them at the start, after
    // being off, and when asked ("Jetzt abgleichen", a new connection); otherwise those the
    // app announced as changed since the last round that went through.
    let mut scope = Scope::Full;
    let mut woken = state.devices_wake.get_untracked();
    loop {
        let seen = sync::changes_seen();
        if state.devices_wake.get_untracked() != woken {
            woken = state.devices_wake.get_untracked();
            scope = Scope::Full;
        }
        scope.add(sync::take_touched());
        let wait = match one_round(state, &scope).await {
            Round::Off => {
                scope = Scope::Full;
                state.devices.update(|d| {
                    d.connected = None;
                    d.running = None;
                });
                if let Some((_, stop)) = polling.take() {
                    stop.set(true);
                }
                IDLE_MS
            }
            Round::Done(cfg) => {
                scope = Scope::nothing();
                let name = cfg.db_url();
                if polling.as_ref().map(|(n, _)| n) != Some(&name) {
                    if let Some((_, stop)) = polling.take() {
                        stop.set(true);
                    }
                    let stop = Rc::new(Cell::new(false));
                    poll(cfg, news.clone(), stop.clone());
                    polling = Some((name, stop));
                }
                IDLE_MS
            }
            Round::Failed => RETRY_MS,
        };
        // Wait for a change here, news from the server, a nudge, or the time.
        let mut left = wait;
        while left > 0 {
            if sync::changes_seen() != seen
                || news.get()
                || state.devices_wake.get_untracked() != woken
            {
                sleep(DEBOUNCE_MS).await;
                break;
            }
            sleep(100).await;
            left -= 100;
        }
        news.set(false);
    }
}

enum Round {
    /// Not connected (or locked, or the data not readable yet).
    Off,
    Done(SyncConfig),
    Failed,
}

async fn one_round(state: AppState, scope: &Scope) -> Round {
    let store = repo::store();
    if crypto::lock_state(&*store).is_locked() {
        return Round::Off;
    }
    let cfg = match config().await {
        Ok(Some(cfg)) if cfg.enabled => cfg,
        Ok(_) => return Round::Off,
        Err(e) => {
            state.devices.update(|d| d.error = Some(e.to_string()));
            return Round::Failed;
        }
    };
    let remote = match remote_for(&cfg) {
        Ok(r) => r,
        Err(e) => {
            state.devices.update(|d| d.error = Some(e.to_string()));
            return Round::Failed;
        }
    };
    let local = IdbLocal::new(&repo::idb_store());
    let opts = Options {
        batch_size: BATCH,
        session_id: repo::new_id(),
        remote_name: cfg.db_url(),
    };
    state.devices.update(|d| {
        d.connected = Some(cfg.db_url());
        d.running = Some(Step::Preparing);
    });
    let mut progress = |dir: Direction, p: &Progress| {
        let step = match dir {
            Direction::Push => Step::Sending {
                done: p.docs_written,
            },
            Direction::Pull => Step::Receiving {
                done: p.docs_written,
                left: p.pending,
            },
        };
        state.devices.update(|d| d.running = Some(step));
    };
    let result = {
        // A round writes outbox documents too: like every other outbox writer, it holds the
        // outbox lock, so no tab's read-modify-write of the outbox interleaves with it.
        let _outbox = sync::lock(sync::OUTBOX_LOCK).await;
        device_sync::round_in(scope, &*store, &local, &remote, &opts, &mut progress).await
    };
    state.devices.update(|d| d.running = Some(Step::Applying));
    match result {
        Ok(report) => {
            if report.keyring_taken {
                keyring_taken(state);
            }
            read_again(state, &report.changed).await;
            let conflicts = conflicts::load().await.map(|c| c.len()).unwrap_or(0);
            let summary = Summary {
                sent: report.pushed.docs_written,
                received: report.pulled.docs_written,
                merged: report.settled,
            };
            state.devices.update(|d| {
                d.running = None;
                d.error = None;
                d.conflicts = conflicts;
                d.last_ok = Some((chrono::Local::now().format("%H:%M:%S").to_string(), summary));
            });
            Round::Done(cfg)
        }
        Err(e) => {
            let text = failure(e).to_string();
            state.devices.update(|d| {
                d.running = None;
                d.error = Some(text);
            });
            Round::Failed
        }
    }
}

/// The round took the practice's keyring from the server (the passphrase was changed on
/// another device): the other tabs reload like after a passphrase change here (they open
/// the store anew, locked), and this one says that the next unlock needs the new passphrase.
pub(crate) fn keyring_taken(state: AppState) {
    sync::announce(&Change::Reopen);
    state
        .notice
        .set(Some(t("devices.passphrase_changed_elsewhere").into()));
}

/// Reads again (here) and announces (to the other tabs) what a round applied.
async fn read_again(state: AppState, changed: &Changed) {
    let mut changes = Vec::new();
    if changed.appointments || changed.persons.len() > sync::FEW_KEYS {
        changes.push(Change::People);
    } else if !changed.persons.is_empty() {
        changes.push(Change::Persons {
            ids: changed.persons.clone(),
        });
    }
    if changed.settings {
        changes.push(Change::Settings);
    }
    for c in &changed.collections {
        changes.push(match c {
            crate::storage::Collection::Templates => Change::Templates,
            crate::storage::Collection::Queries => Change::Queries,
            _ => Change::OUTBOX,
        });
    }
    for change in changes {
        if let Err(e) = repo::refresh(state, change.clone()).await {
            state.error.set(Some(e.to_string()));
        }
        sync::announce_applied(&change);
    }
}

/// The longpoll of one connection: sets `news` when the server has a change this device has
/// not pulled yet, until `stop`.
fn poll(cfg: SyncConfig, news: Rc<Cell<bool>>, stop: Rc<Cell<bool>>) {
    leptos::task::spawn_local(async move {
        let Ok(remote) = remote_for(&cfg) else { return };
        let local = IdbLocal::new(&repo::idb_store());
        let opts = Options {
            batch_size: BATCH,
            session_id: String::new(),
            remote_name: cfg.db_url(),
        };
        while !stop.get() {
            match praxisbote_sync::wait_for_changes(&remote, &local, &opts, LONGPOLL_MS).await {
                Ok(true) => {
                    news.set(true);
                    // Until the round has pulled it.
                    while news.get() && !stop.get() {
                        sleep(100).await;
                    }
                }
                Ok(false) => {}
                // pouchdb-server ignores the longpoll's timeout: the request's own deadline
                // ends it, which is no news; a server that is down is asked again soon.
                Err(_) => sleep(1_000).await,
            }
        }
    });
}

pub(crate) async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// The status line of the settings section.
pub fn status_text(d: &DeviceSync) -> String {
    if let Some(step) = d.running {
        return match step {
            Step::Preparing => t("devices.step_preparing").into(),
            Step::Sending { done } => tf("devices.step_sending", &[("done", &done)]),
            Step::Receiving { done, left } => match left {
                Some(left) if left > 0 => tf(
                    "devices.step_receiving_left",
                    &[("done", &done), ("left", &left)],
                ),
                _ => tf("devices.step_receiving", &[("done", &done)]),
            },
            Step::Applying => t("devices.step_applying").into(),
        };
    }
    if let Some(e) = &d.error {
        return tf("devices.failed", &[("error", e)]);
    }
    match (&d.connected, &d.last_ok) {
        (None, _) => t("devices.not_connected").into(),
        (Some(_), None) => t("devices.step_preparing").into(),
        (Some(_), Some((at, s))) => {
            let mut text = tf(
                "devices.synced",
                &[
                    ("time", at),
                    ("sent", &s.sent),
                    ("received", &s.received),
                    ("merged", &s.merged),
                ],
            );
            if d.conflicts > 0 {
                text.push(' ');
                text.push_str(&tf("devices.conflicts_waiting", &[("n", &d.conflicts)]));
            }
            text
        }
    }
}
