//! The UI language: read once at start from `localStorage`, switched by reloading the page.

use crate::i18n::{self, t, Lang};
use leptos::prelude::*;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Sets the UI language from the stored choice (German by default) and `<html lang>`.
pub fn init() {
    let lang = storage()
        .and_then(|s| s.get_item(i18n::STORAGE_KEY).ok().flatten())
        .and_then(|code| Lang::from_code(&code))
        .unwrap_or(Lang::De);
    i18n::set_lang(lang);
    if let Some(html) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = html.set_attribute("lang", lang.code());
    }
}

/// Stores the choice and reloads, so every string is rendered anew in that language.
fn switch_to(lang: Lang) {
    if lang == i18n::lang() {
        return;
    }
    if let Some(s) = storage() {
        let _ = s.set_item(i18n::STORAGE_KEY, lang.code());
    }
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// "Sprache: Deutsch / English", each language named in itself.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let current = i18n::lang();
    view! {
        <label class="field lang-switch">
            {t("lang.label")}
            <select aria-label=t("lang.aria") on:change=move |ev| {
                if let Some(lang) = Lang::from_code(&event_target_value(&ev)) {
                    switch_to(lang);
                }
            }>
                {Lang::ALL.into_iter().map(|l| view! {
                    <option value=l.code() lang=l.code() selected=l == current>{l.native_name()}</option>
                }).collect_view()}
            </select>
        </label>
    }
}
