//! The shell's side of the workbench module.
//!
//! Sending (selection, review, composer, letters, transmit loop), the log, templates,
//! import, backup and settings are a second wasm module (`workbench/`, built by Trunk into
//! `dist/workbench/`), imported with a dynamic `import()` the first time one of its pages is
//! opened — or at start when the outbox holds an unfinished batch, so sending resumes after a
//! reload. The module mounts itself into the `#werkbank` element the shell renders and from
//! then on follows the URL hash itself; [`crate::app::sync`] keeps both modules' data in step.

use std::cell::Cell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::i18n::{t, tf};

/// The element the workbench mounts into.
pub const MOUNT_ID: &str = "werkbank";

/// The workbench's wasm-bindgen module (relative to the page, so the service worker's
/// precache serves it offline).
const WORKBENCH_URL: &str = "./workbench/praxisbote-workbench.js";

#[derive(Clone, Debug, PartialEq)]
enum Status {
    Idle,
    Loading,
    Ready,
    Failed(String),
}

thread_local! {
    static STARTED: Cell<bool> = const { Cell::new(false) };
    static STATUS: ArcRwSignal<Status> = ArcRwSignal::new(Status::Idle);
}

fn status() -> ArcRwSignal<Status> {
    STATUS.with(|s| s.clone())
}

/// Loads and starts the workbench once (later calls do nothing).
pub fn load() {
    if STARTED.replace(true) {
        return;
    }
    let st = status();
    st.set(Status::Loading);
    leptos::task::spawn_local(async move {
        // The module's `start` export mounts it into #werkbank.
        let started = crate::app::lazy::import(WORKBENCH_URL).await.and_then(|m| {
            js_sys::Reflect::get(&m, &JsValue::from_str("start"))
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                .ok_or_else(|| "start".to_string())?
                .call0(&JsValue::NULL)
                .map(|_| ())
                .map_err(|e| e.as_string().unwrap_or_else(|| "start".into()))
        });
        match started {
            Ok(()) => st.set(Status::Ready),
            Err(detail) => {
                STARTED.set(false);
                st.set(Status::Failed(tf(
                    "workbench.load_failed",
                    &[("detail", &detail)],
                )));
            }
        }
    });
}

/// What the shell shows on a workbench page until the module has mounted itself: a loading
/// note, or the error with a button to try again.
#[component]
pub fn Pending() -> impl IntoView {
    let st = status();
    load();
    move || match st.get() {
        Status::Ready => ().into_any(),
        Status::Idle | Status::Loading => {
            view! { <p role="status" class="muted">{t("workbench.loading")}</p> }.into_any()
        }
        Status::Failed(message) => view! {
            <div class="banner" role="alert">
                <span class="error">{message}</span>
                <button on:click=move |_| load()>{t("workbench.retry")}</button>
            </div>
        }
        .into_any(),
    }
}
