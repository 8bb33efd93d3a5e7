//! Practice settings: the practice's own data for letterheads, footers and `praxis.*`.

use super::repo;
use super::state::AppState;
use crate::domain::{LetterForm, PracticeSettings};
use leptos::prelude::*;

type GetFn = fn(&PracticeSettings) -> String;
type SetFn = fn(&mut PracticeSettings, String);

fn field(
    draft: RwSignal<PracticeSettings>,
    label: &'static str,
    get: GetFn,
    set: SetFn,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input type="text" prop:value=move || draft.with(get)
                on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| set(d, v)) } />
        </label>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = RwSignal::new(state.settings.get_untracked());
    // When the data arrives after the page opened, show it.
    Effect::new(move |_| draft.set(state.settings.get()));
    let message = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let s = draft.get();
        leptos::task::spawn_local(async move {
            message.set(Some(match repo::save_settings(state, s).await {
                Ok(()) => "Gespeichert.".into(),
                Err(e) => format!("Nicht gespeichert: {e}"),
            }));
        });
    };
    view! {
        <h1>"Einstellungen"</h1>
        <h2>"Praxis"</h2>
        <form class="person card" on:submit=save aria-label="Praxisdaten">
            {field(draft, "Name der Praxis", |s| s.name.clone(), |s, v| s.name = v)}
            {field(draft, "Straße", |s| s.address.street.clone(), |s, v| s.address.street = v)}
            {field(draft, "Hausnummer", |s| s.address.house_number.clone(), |s, v| s.address.house_number = v)}
            {field(draft, "PLZ", |s| s.address.postcode.clone(), |s, v| s.address.postcode = v)}
            {field(draft, "Ort", |s| s.address.city.clone(), |s, v| s.address.city = v)}
            {field(draft, "Telefon", |s| s.phone.clone(), |s, v| s.phone = v)}
            {field(draft, "E-Mail", |s| s.email.clone(), |s, v| s.email = v)}
            {field(draft, "Webseite", |s| s.web.clone(), |s, v| s.web = v)}
            {field(draft, "Absendername E-Mail", |s| s.sender_names.email_from_name.clone(), |s, v| s.sender_names.email_from_name = v)}
            {field(draft, "SMS-Absenderkennung", |s| s.sender_names.sms_sender_id.clone(), |s, v| s.sender_names.sms_sender_id = v)}
            {field(draft, "Ansprechpartner (Brief)", |s| s.sender_names.letter_contact.clone(), |s, v| s.sender_names.letter_contact = v)}
            {field(draft, "Bankverbindung (Brief-Fußzeile)", |s| s.bank_details.clone(), |s, v| s.bank_details = v)}
            <label>
                "Briefform (DIN 5008)"
                <select on:change=move |ev| {
                    let form = if event_target_value(&ev) == "A" { LetterForm::A } else { LetterForm::B };
                    draft.update(|d| d.letter_form = form);
                }>
                    <option value="B" selected=move || draft.with(|d| d.letter_form == LetterForm::B)>"Form B (Standard)"</option>
                    <option value="A" selected=move || draft.with(|d| d.letter_form == LetterForm::A)>"Form A"</option>
                </select>
            </label>
            <div class="wide actions">
                <button type="submit">"Speichern"</button>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
        <super::relay_settings::RelaySettings />
    }
}
