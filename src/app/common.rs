//! Small shared components: banners, confirmation dialog, file download.

use crate::app::error::AppError;
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
                state.error.set(Some(e.to_string()));
            }
        });
    };
    view! {
        <Show when=move || state.demo.get()>
            <div class="banner" role="status">
                <strong>{t("common.demo.title")}</strong>
                <span>{t("common.demo.text")}</span>
                <span>{t("common.demo.not_encrypted")}</span>
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

/// Offers `bytes` as a file download named `name` (a temporary blob link; the link is
/// revoked a minute later, when the browser has taken the file).
pub fn download(name: &str, mime: &str, bytes: &[u8]) -> Result<(), AppError> {
    use wasm_bindgen::JsCast;
    let fail = |_| AppError::msg("common.download_failed", []);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let a: web_sys::HtmlAnchorElement = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|e| e.dyn_into().ok())
        .ok_or_else(|| AppError::msg("common.download_failed", []))?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}
