//! Small shared components: banners, confirmation dialog.

use crate::app::repo;
use crate::app::state::AppState;
use crate::i18n::{t, tf};
use leptos::prelude::*;

#[component]
pub fn DemoBanner() -> impl IntoView {
    let state = expect_context::<AppState>();
    let confirming = RwSignal::new(false);
    let remove = move |_| {
        confirming.set(false);
        leptos::task::spawn_local(async move {
            if let Err(e) = repo::remove_demo(state).await {
                state.error.set(Some(e));
            }
        });
    };
    view! {
        <Show when=move || state.demo.get()>
            <div class="banner" role="status">
                <strong>{t("common.demo.title")}</strong>
                <span>{t("common.demo.text")}</span>
                <button class="secondary" on:click=move |_| confirming.set(true)>{t("common.demo.remove")}</button>
            </div>
        </Show>
        <Confirm
            open=confirming
            title=t("common.demo.confirm_title")
            text=t("common.demo.confirm_text")
            confirm_label=t("common.demo.confirm")
            on_confirm=remove
        />
    }
}

/// "Beiseitegelegte Datensätze": stored records that could not be read were set aside
/// (`Store::set_aside`); the count stays visible until they are resolved.
#[component]
pub fn QuarantineBanner() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || { state.quarantined.get() > 0 }>
            <div class="banner" role="status" aria-label=t("common.quarantine.title")>
                <strong>{t("common.quarantine.title")}</strong>
                <span>{move || tf("common.quarantine.text", &[("n", &state.quarantined.get())])}</span>
            </div>
        </Show>
    }
}

#[component]
pub fn ErrorBanner() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        {move || state.error.get().map(|e| view! {
            <div class="banner" role="alert">
                <span class="error">{tf("common.error", &[("error", &e)])}</span>
                <button class="secondary" on:click=move |_| state.error.set(None)>{t("common.close")}</button>
            </div>
        })}
        {move || state.notice.get().map(|n| view! {
            <div class="banner" role="status">
                <span class="ok">{n}</span>
                <button class="secondary" on:click=move |_| state.notice.set(None)>{t("common.ok")}</button>
            </div>
        })}
        <Show when=move || !state.loaded.get() && state.error.get().is_none()>
            <p role="status" class="muted">{t("common.loading_data")}</p>
        </Show>
    }
}

/// A modal confirmation before something irreversible.
#[component]
pub fn Confirm<F>(
    open: RwSignal<bool>,
    title: &'static str,
    text: &'static str,
    confirm_label: &'static str,
    on_confirm: F,
) -> impl IntoView
where
    F: Fn(()) + Clone + Send + Sync + 'static,
{
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop">
                <div class="modal" role="dialog" aria-modal="true" aria-label=title>
                    <h2>{title}</h2>
                    <p>{text}</p>
                    <div class="actions">
                        <button class="danger" on:click={
                            let f = on_confirm.clone();
                            move |_| f(())
                        }>{confirm_label}</button>
                        <button class="secondary" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
