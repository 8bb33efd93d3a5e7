//! Encryption at rest in the UI (issue 17): the passphrase set-up of a real practice, the
//! recovery key shown once, the lock screen (passphrase or recovery key, a growing wait
//! after wrong attempts), the automatic lock after idle time, and the lock settings.
//! The rules are in `domain::lock`; the store calls in `repo`.

use crate::app::repo;
use crate::app::state::{AppState, Gate};
use crate::domain::lock::{
    check_new_passphrase, parse_auto_lock_secs, should_auto_lock, unlock_wait_left, LockSettings,
    PassphraseProblem,
};
use crate::i18n::{t, tf};
use leptos::prelude::*;
use std::cell::Cell;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Lets the browser paint (a status text) before a key derivation blocks the thread.
async fn next_frame() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 30);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

fn problem_text(p: PassphraseProblem) -> String {
    match p {
        PassphraseProblem::TooShort => tf(
            "lock.too_short",
            &[("min", &crate::domain::lock::MIN_PASSPHRASE_CHARS)],
        ),
        PassphraseProblem::TooSimple => t("lock.too_simple").into(),
        PassphraseProblem::Mismatch => t("lock.mismatch").into(),
    }
}

/// A password field with a visible label.
fn secret_field(
    label: &'static str,
    value: RwSignal<String>,
    autocomplete: &'static str,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input type="password" autocomplete=autocomplete prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

// ---- Set-up and recovery key ----

/// "Passphrase festlegen": a real practice (not the demo) whose data is not encrypted yet.
#[component]
pub fn SetUpScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (a, b) = (first.get_untracked(), second.get_untracked());
        if let Err(p) = check_new_passphrase(&a, &b) {
            problem.set(Some(problem_text(p)));
            return;
        }
        problem.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            next_frame().await;
            match repo::set_up_encryption(state, &a).await {
                Ok(key) => state.gate.set(Gate::Recovery(key)),
                Err(e) => {
                    problem.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <main id="inhalt" class="lock-screen">
            <form class="card" on:submit=submit aria-label=t("lock.setup_title")>
                <h1>{t("lock.setup_title")}</h1>
                <p>{t("lock.setup_text")}</p>
                <p class="muted">{tf("lock.setup_hint", &[("min", &crate::domain::lock::MIN_PASSPHRASE_CHARS)])}</p>
                {secret_field(t("lock.passphrase"), first, "new-password")}
                {secret_field(t("lock.passphrase_again"), second, "new-password")}
                <div class="actions">
                    <button type="submit" disabled=move || busy.get()>{t("lock.setup_submit")}</button>
                </div>
                <Show when=move || busy.get()>
                    <p role="status">{t("lock.encrypting")}</p>
                </Show>
                {move || problem.get().map(|p| view! { <p role="alert" class="error">{p}</p> })}
            </form>
        </main>
    }
}

/// The recovery key, shown once after the set-up, until the practice confirms it noted it.
#[component]
pub fn RecoveryScreen(key: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let noted = RwSignal::new(false);
    let key_for_pdf = key.clone();
    let go_on = move |_| {
        state.gate.set(Gate::Open);
        // Read everything again from the (now encrypted) store.
        leptos::task::spawn_local(async move {
            if let Err(e) = repo::reload(state).await {
                state.error.set(Some(e.to_string()));
            }
        });
    };
    view! {
        <main id="inhalt" class="lock-screen">
            <div class="card">
                <h1>{t("lock.recovery_title")}</h1>
                <p>{t("lock.recovery_text")}</p>
                <p><code class="recovery-key" aria-label=t("lock.recovery_key")>{key}</code></p>
                <p class="muted">{t("lock.recovery_keep")}</p>
                <RecoveryPdf key=key_for_pdf />
                <label>
                    <input type="checkbox" aria-label=t("lock.recovery_noted")
                        prop:checked=move || noted.get()
                        on:change=move |ev| noted.set(event_target_checked(&ev)) />
                    " " {t("lock.recovery_noted")}
                </label>
                <div class="actions">
                    <button disabled=move || !noted.get() on:click=go_on>{t("lock.recovery_continue")}</button>
                </div>
            </div>
        </main>
    }
}

/// "Als PDF speichern/drucken": the recovery key sheet made by the PDF worker (message
/// `recovery`). The key goes to the worker only inside the message (memory); the PDF is a
/// blob URL that is revoked when the recovery screen closes.
#[component]
fn RecoveryPdf(key: String) -> impl IntoView {
    use crate::app::send::sheet::{request_pdf, sheet_letterhead, PdfOutcome, PdfPhase, PdfTexts};
    use crate::domain::recovery_sheet::{download_name, RecoverySheetJob};
    let state = expect_context::<AppState>();
    let phase = RwSignal::new(PdfPhase::Idle);
    let make = move |_| {
        let key = key.clone();
        phase.set(PdfPhase::Running);
        leptos::task::spawn_local(async move {
            // The sheet exists for the key: when the letterhead cannot be read, the plain sheet
            // is made.
            let letterhead = sheet_letterhead(state).await;
            let Some(settings) = state.settings.try_get_untracked() else {
                return;
            };
            let now = chrono::Local::now().naive_local();
            let job = RecoverySheetJob {
                title: t("lock.sheet_title").into(),
                created: now,
                practice: settings.name.clone(),
                created_line: tf(
                    "lock.sheet_created",
                    &[("date", &now.date().format(t("format.date")))],
                ),
                key,
                paragraphs: [
                    "lock.sheet_unlocks",
                    "lock.sheet_nowhere",
                    "lock.sheet_keep",
                    "lock.sheet_use",
                ]
                .iter()
                .map(|k| t(k).to_string())
                .collect(),
                letterhead,
            };
            request_pdf("recovery", &job, phase);
        });
    };
    let name = download_name(chrono::Local::now().date_naive());
    let texts = PdfTexts {
        running: "lock.pdf_running",
        ready: "lock.pdf_ready",
        download: "lock.pdf_download",
        preview: "lock.pdf_preview",
    };
    view! {
        <div class="actions">
            <button type="button" class="secondary" on:click=make
                disabled=move || phase.get() == PdfPhase::Running>{t("lock.pdf_button")}</button>
        </div>
        <p class="muted">{t("lock.pdf_hint")}</p>
        <PdfOutcome phase=phase name=name texts=texts />
    }
}

// ---- Lock screen ----

/// Wrong unlock attempts in a row and the time of the last one, kept in this browser's
/// `localStorage` so a reload does not reset the wait.
const FAILURES_KEY: &str = "praxisbote.unlock_failures";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn failures() -> (u32, f64) {
    local_storage()
        .and_then(|s| s.get_item(FAILURES_KEY).ok().flatten())
        .and_then(|v| {
            let (n, at) = v.split_once(';')?;
            Some((n.parse().ok()?, at.parse().ok()?))
        })
        .unwrap_or((0, 0.0))
}

fn set_failures(n: u32, at: f64) {
    if let Some(s) = local_storage() {
        let _ = if n == 0 {
            s.remove_item(FAILURES_KEY)
        } else {
            s.set_item(FAILURES_KEY, &format!("{n};{at}"))
        };
    }
}

#[component]
pub fn LockScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let with_recovery = RwSignal::new(false);
    let secret = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let wrong = RwSignal::new(None::<String>);
    let now = RwSignal::new(now_ms());
    let stored = RwSignal::new(failures());
    if let Ok(h) = set_interval_with_handle(move || now.set(now_ms()), Duration::from_millis(250)) {
        on_cleanup(move || h.clear());
    }
    let wait_left = move || {
        let (n, at) = stored.get();
        unlock_wait_left(n, at, now.get())
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, at) = stored.get_untracked();
        if busy.get_untracked() || unlock_wait_left(n, at, now_ms()) > 0 {
            return;
        }
        let text = secret.get_untracked();
        let recovery = with_recovery.get_untracked();
        busy.set(true);
        wrong.set(None);
        leptos::task::spawn_local(async move {
            next_frame().await;
            match repo::unlock(state, &text, recovery).await {
                Ok(()) => {
                    set_failures(0, 0.0);
                    note_input();
                }
                Err(e) if state.gate.get_untracked() == Gate::Locked => {
                    let (n, _) = failures();
                    let at = now_ms();
                    set_failures(n + 1, at);
                    stored.set((n + 1, at));
                    now.set(at);
                    secret.set(String::new());
                    wrong.set(Some(e.to_string()));
                    busy.set(false);
                }
                // Unlocked, but reading failed: the error banner of the pages says why.
                Err(e) => state.error.set(Some(e.to_string())),
            }
        });
    };
    let toggle = move |_| {
        with_recovery.update(|r| *r = !*r);
        secret.set(String::new());
        wrong.set(None);
    };
    view! {
        <main id="inhalt" class="lock-screen">
            <form class="card" on:submit=submit aria-label=t("lock.title")>
                <h1>{t("lock.title")}</h1>
                <p>{t("lock.text")}</p>
                {move || if with_recovery.get() {
                    view! {
                        <label>
                            {t("lock.recovery_key")}
                            <input type="text" autocomplete="off" spellcheck="false" prop:value=move || secret.get()
                                on:input=move |ev| secret.set(event_target_value(&ev)) />
                        </label>
                    }.into_any()
                } else {
                    secret_field(t("lock.passphrase"), secret, "current-password").into_any()
                }}
                <div class="actions">
                    <button type="submit" disabled=move || { busy.get() || wait_left() > 0 }>
                        {move || if with_recovery.get() { t("lock.unlock_recovery") } else { t("lock.unlock") }}
                    </button>
                    <button type="button" class="secondary" on:click=toggle>
                        {move || if with_recovery.get() { t("lock.use_passphrase") } else { t("lock.use_recovery") }}
                    </button>
                </div>
                {move || wrong.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
                <p role="status">
                    {move || if busy.get() {
                        t("lock.unlocking").to_string()
                    } else {
                        match wait_left() {
                            0 => String::new(),
                            n => tf("lock.wait", &[("n", &n)]),
                        }
                    }}
                </p>
            </form>
        </main>
    }
}

// ---- Automatic lock ----

thread_local! {
    static LAST_INPUT: Cell<f64> = Cell::new(now_ms());
    static HIDDEN_SINCE: Cell<Option<f64>> = const { Cell::new(None) };
}

fn note_input() {
    LAST_INPUT.with(|c| c.set(now_ms()));
}

/// Locks an unlocked tab when `domain::lock::should_auto_lock` says so.
fn check_idle(state: AppState) {
    if state.gate.get_untracked() != Gate::Open || !state.encrypted.get_untracked() {
        return;
    }
    let secs = state.lock_settings.get_untracked().auto_lock_secs;
    let last = LAST_INPUT.with(Cell::get);
    let hidden = HIDDEN_SINCE.with(Cell::get);
    if should_auto_lock(now_ms(), last, hidden, secs) {
        repo::lock(state, false);
    }
}

/// Watches input and the tab's visibility, and checks once a second (and when the tab
/// comes back into view: hidden tabs' timers are throttled) whether to lock. Called once.
pub fn watch_idle(state: AppState) {
    let Some(window) = web_sys::window() else {
        return;
    };
    note_input();
    let on_input = Closure::<dyn Fn()>::new(note_input);
    for name in [
        "pointerdown",
        "pointermove",
        "keydown",
        "wheel",
        "touchstart",
        "input",
    ] {
        let _ = window.add_event_listener_with_callback_and_bool(
            name,
            on_input.as_ref().unchecked_ref(),
            true,
        );
    }
    on_input.forget();
    if let Some(document) = window.document() {
        let doc = document.clone();
        let on_visibility = Closure::<dyn Fn()>::new(move || {
            if doc.hidden() {
                HIDDEN_SINCE.with(|c| c.set(Some(now_ms())));
            } else {
                check_idle(state);
                HIDDEN_SINCE.with(|c| c.set(None));
            }
        });
        let _ = document.add_event_listener_with_callback(
            "visibilitychange",
            on_visibility.as_ref().unchecked_ref(),
        );
        on_visibility.forget();
    }
    let tick = Closure::<dyn Fn()>::new(move || check_idle(state));
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        1000,
    );
    tick.forget();
}

// ---- Settings ----

/// "Sperre": the idle time before the automatic lock, and changing the passphrase.
#[component]
pub fn LockSettingsForm() -> impl IntoView {
    let state = expect_context::<AppState>();
    let secs = RwSignal::new(String::new());
    let transmit = RwSignal::new(false);
    Effect::new(move |_| {
        let l = state.lock_settings.get();
        secs.set(l.auto_lock_secs.to_string());
        transmit.set(l.transmit_while_locked);
    });
    let message = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(auto_lock_secs) = parse_auto_lock_secs(&secs.get_untracked()) else {
            message.set(Some(tf(
                "lock.idle_invalid",
                &[
                    ("min", &crate::domain::lock::MIN_AUTO_LOCK_SECS),
                    ("max", &crate::domain::lock::MAX_AUTO_LOCK_SECS),
                ],
            )));
            return;
        };
        leptos::task::spawn_local(async move {
            let settings = LockSettings {
                auto_lock_secs,
                transmit_while_locked: transmit.get_untracked(),
            };
            message.set(Some(
                match repo::save_lock_settings(state, settings).await {
                    Ok(()) => t("lock.settings_saved").into(),
                    Err(e) => tf("common.not_saved", &[("error", &e)]),
                },
            ));
        });
    };

    let current = RwSignal::new(String::new());
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let changing = RwSignal::new(false);
    let change_message = RwSignal::new(None::<String>);
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if changing.get_untracked() {
            return;
        }
        let (old, a, b) = (
            current.get_untracked(),
            first.get_untracked(),
            second.get_untracked(),
        );
        if let Err(p) = check_new_passphrase(&a, &b) {
            change_message.set(Some(problem_text(p)));
            return;
        }
        changing.set(true);
        change_message.set(Some(t("lock.changing").into()));
        leptos::task::spawn_local(async move {
            next_frame().await;
            let done = repo::change_passphrase(&old, &a).await;
            changing.set(false);
            change_message.set(Some(match done {
                Ok(()) => {
                    current.set(String::new());
                    first.set(String::new());
                    second.set(String::new());
                    // The sync server gets the new keyring at once (the other devices
                    // take it at their next round).
                    crate::app::devices::nudge(state);
                    t("lock.changed").into()
                }
                Err(e) => e.to_string(),
            }));
        });
    };
    view! {
        <h2>{t("lock.settings_title")}</h2>
        <form class="person card" on:submit=save aria-label=t("lock.settings_title")>
            <label>
                {t("lock.idle_label")}
                <input type="number" min=crate::domain::lock::MIN_AUTO_LOCK_SECS step="1"
                    prop:value=move || secs.get()
                    on:input=move |ev| secs.set(event_target_value(&ev)) />
            </label>
            <p class="muted wide">{move || if state.encrypted.get() { t("lock.idle_hint") } else { t("lock.idle_hint_plain") }}</p>
            <label class="wide">
                <input type="checkbox" aria-label=t("lock.transmit_label")
                    prop:checked=move || transmit.get()
                    on:change=move |ev| transmit.set(event_target_checked(&ev)) />
                " " {t("lock.transmit_label")}
            </label>
            <p class="muted wide">{t("lock.transmit_hint")}</p>
            <div class="wide actions">
                <button type="submit">{t("lock.settings_save")}</button>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
        <Show when=move || state.encrypted.get()>
            <h2>{t("lock.change_title")}</h2>
            <form class="person card" on:submit=change aria-label=t("lock.change_title")>
                {secret_field(t("lock.current_passphrase"), current, "current-password")}
                {secret_field(t("lock.new_passphrase"), first, "new-password")}
                {secret_field(t("lock.new_passphrase_again"), second, "new-password")}
                <p class="muted wide">{t("lock.change_hint")}</p>
                <div class="wide actions">
                    <button type="submit" disabled=move || changing.get()>{t("lock.change_submit")}</button>
                    <span role="status">{move || change_message.get()}</span>
                </div>
            </form>
        </Show>
    }
}
