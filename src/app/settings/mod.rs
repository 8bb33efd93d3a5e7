//! Practice settings: the practice's own data for letterheads, footers and `praxis.*`, and
//! how appointments appear in messages (a label per appointment type, therapist names).

pub(crate) mod letterhead;
pub(crate) mod relay;

use crate::app::repo;
use crate::app::state::AppState;
use crate::domain::placeholders::{
    appointment_types, count_appointment_types, set_message_label, DEFAULT_MESSAGE_LABEL_DE,
};
use crate::domain::{LetterForm, PracticeSettings};
use crate::i18n::{t, tf};
use leptos::prelude::*;

/// A text input bound to one field of a draft (the practice settings, the letterhead).
pub(crate) fn field<T: Send + Sync + 'static>(
    draft: RwSignal<T>,
    label: &'static str,
    get: fn(&T) -> String,
    set: fn(&mut T, String),
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
                Ok(()) => t("common.saved").into(),
                Err(e) => tf("common.not_saved", &[("error", &e)]),
            }));
        });
    };
    view! {
        <h1>{t("nav.settings")}</h1>
        <h2>{t("settings.practice")}</h2>
        <form class="person card" on:submit=save aria-label=t("settings.practice_aria")>
            {field(draft, t("settings.name"), |s| s.name.clone(), |s, v| s.name = v)}
            {field(draft, t("settings.street"), |s| s.address.street.clone(), |s, v| s.address.street = v)}
            {field(draft, t("settings.house_number"), |s| s.address.house_number.clone(), |s, v| s.address.house_number = v)}
            {field(draft, t("settings.postcode"), |s| s.address.postcode.clone(), |s, v| s.address.postcode = v)}
            {field(draft, t("settings.city"), |s| s.address.city.clone(), |s, v| s.address.city = v)}
            {field(draft, t("settings.phone"), |s| s.phone.clone(), |s, v| s.phone = v)}
            {field(draft, t("settings.email"), |s| s.email.clone(), |s, v| s.email = v)}
            {field(draft, t("settings.web"), |s| s.web.clone(), |s, v| s.web = v)}
            {field(draft, t("settings.email_from_name"), |s| s.sender_names.email_from_name.clone(), |s, v| s.sender_names.email_from_name = v)}
            {field(draft, t("settings.sms_sender_id"), |s| s.sender_names.sms_sender_id.clone(), |s, v| s.sender_names.sms_sender_id = v)}
            {field(draft, t("settings.letter_contact"), |s| s.sender_names.letter_contact.clone(), |s, v| s.sender_names.letter_contact = v)}
            {field(draft, t("settings.bank_details"), |s| s.bank_details.clone(), |s, v| s.bank_details = v)}
            <label>
                {t("settings.letter_form")}
                <select on:change=move |ev| {
                    let form = if event_target_value(&ev) == "A" { LetterForm::A } else { LetterForm::B };
                    draft.update(|d| d.letter_form = form);
                }>
                    <option value="B" selected=move || draft.with(|d| d.letter_form == LetterForm::B)>{t("settings.form_b")}</option>
                    <option value="A" selected=move || draft.with(|d| d.letter_form == LetterForm::A)>{t("settings.form_a")}</option>
                </select>
            </label>
            <label>
                {t("settings.minor_age")}
                <input type="number" min="0" max="21" aria-label=t("settings.minor_age")
                    prop:value=move || draft.with(|d| d.minor_age.to_string())
                    on:change=move |ev| {
                        if let Ok(age) = event_target_value(&ev).trim().parse::<u8>() {
                            draft.update(|d| d.minor_age = age.min(21));
                        }
                    } />
            </label>
            <p class="muted wide">{t("settings.minor_age_hint")}</p>
            <AppointmentsInMessages draft=draft />
            <div class="wide actions">
                <button type="submit">{t("common.save")}</button>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
        <crate::app::send::reminders::ReminderSettingsForm />
        <crate::app::settings::letterhead::LetterheadSettings />
        <crate::app::settings::relay::RelaySettings />
        <crate::app::lock::LockSettingsForm />
        <crate::app::devices::connect::DeviceSettings />
    }
}

/// "Termine in Nachrichten": the message label of each appointment type (with the reason why
/// the type itself never appears) and the switch for therapist names.
#[component]
fn AppointmentsInMessages(draft: RwSignal<PracticeSettings>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let counts = Memo::new(move |_| state.appointments.with(|a| count_appointment_types(a)));
    // The rows (type and count) only change when types come or go, so an input keeps its
    // focus while a label is typed.
    let rows = Memo::new(move |_| {
        counts
            .with(|c| draft.with(|d| appointment_types(c, d)))
            .into_iter()
            .map(|t| (t.kind, t.appointments))
            .collect::<Vec<_>>()
    });
    view! {
        <fieldset class="wide">
            <legend>{t("settings.appointments")}</legend>
            <p class="muted">{t("settings.appointments_hint")}</p>
            {move || {
                if !state.appointments_ready.get() {
                    return view! { <p role="status" class="muted">{t("common.loading_appointments")}</p> }.into_any();
                }
                let rows = rows.get();
                if rows.is_empty() {
                    return view! { <p>{t("settings.no_appointment_types")}</p> }.into_any();
                }
                view! {
                    <table class="data" aria-label=t("settings.appointments")>
                        <thead><tr>
                            <th scope="col">{t("settings.appointment_type")}</th>
                            <th scope="col">{t("settings.appointment_count")}</th>
                            <th scope="col">{t("settings.message_label")}</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(kind, n)| {
                                let aria = tf("settings.message_label_aria", &[("kind", &kind)]);
                                let key = kind.clone();
                                let value = move || draft.with(|d| d.appointment_labels.get(&key).cloned().unwrap_or_default());
                                let set = kind.clone();
                                view! {
                                    <tr>
                                        <td>{kind}</td>
                                        <td>{n}</td>
                                        <td><input type="text" aria-label=aria placeholder=DEFAULT_MESSAGE_LABEL_DE
                                            prop:value=value
                                            on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| set_message_label(d, &set, &v)) } /></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <label>
                <input type="checkbox" aria-label=t("settings.therapist_in_messages")
                    prop:checked=move || draft.with(|d| d.therapist_in_messages)
                    on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.therapist_in_messages = on) } />
                " " {t("settings.therapist_in_messages")}
            </label>
            <p class="muted">{t("settings.therapist_hint")}</p>
        </fieldset>
    }
}
