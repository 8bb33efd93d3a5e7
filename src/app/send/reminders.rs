//! Daily reminders: the notice on opening the app ("Morgen 23 Termine — 18 erreichbar mit
//! Einwilligung") and its settings. The counting is `domain::reminders::tomorrow` (through
//! the one consent gate); a button opens the normal review of one channel's recipients —
//! persons read fresh from the store — and the composer then opens with the practice's
//! reminder template of that channel. Nothing is sent without the usual "Senden".

use chrono::NaiveDate;
use leptos::prelude::*;

use crate::app::repo;
use crate::app::state::{AppState, Page};
use crate::domain::reminders::{self, ReminderSettings, REMINDER_CHANNELS};
use crate::domain::review::{MinorRule, Review};
use crate::domain::{Channel, PersonId, Purpose};
use crate::i18n::{labels, t, tf};

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Tomorrow's reminders as the tab's data shows them (for the notice; the review reads the
/// persons again).
fn tomorrow_now(state: AppState) -> reminders::TomorrowReminders {
    let settings = state.reminders.get();
    let reminded = state
        .outbox
        .with(|o| reminders::reminded_appointments(&o.messages));
    let minor_age = state.settings.with(|s| s.minor_age);
    state.persons.with(|ps| {
        let by_id: std::collections::HashMap<&PersonId, &crate::domain::PersonRecord> =
            ps.iter().map(|r| (&r.person.id, r)).collect();
        state.appointments.with(|appts| {
            reminders::tomorrow(
                today(),
                minor_age,
                appts,
                |id| by_id.get(id).copied(),
                |id| reminded.contains(id),
                &settings,
            )
        })
    })
}

/// Opens the review of `channel`'s reminder recipients for tomorrow, computed again from the
/// persons as stored now, with the practice's reminder template for the composer.
async fn open_review(state: AppState, channel: Channel) -> Result<(), crate::app::error::AppError> {
    let ids: Vec<PersonId> = state.appointments.with_untracked(|a| {
        let mut ids: Vec<PersonId> = a.iter().map(|a| a.person_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    });
    let fresh = repo::persons_by_id(&ids).await?;
    let settings = state.reminders.get_untracked();
    let reminded = state
        .outbox
        .with_untracked(|o| reminders::reminded_appointments(&o.messages));
    let by_id: std::collections::HashMap<&PersonId, &crate::domain::PersonRecord> =
        fresh.iter().map(|r| (&r.person.id, r)).collect();
    let minor_age = state.settings.with_untracked(|s| s.minor_age);
    let plan = state.appointments.with_untracked(|appts| {
        reminders::tomorrow(
            today(),
            minor_age,
            appts,
            |id| by_id.get(id).copied(),
            |id| reminded.contains(id),
            &settings,
        )
    });
    let recipients = plan
        .group(channel)
        .map(|g| g.recipients.clone())
        .unwrap_or_default();
    let review = Review::build_from_records(
        channel,
        Purpose::AppointmentReminder,
        &recipients,
        MinorRule::new(minor_age, today()),
        &fresh,
    );
    state.review.set(Some(review));
    state
        .compose_template
        .set(settings.template_for(channel).map(str::to_string));
    state.go(Page::Review);
    Ok(())
}

/// The notice: shown after start (and unlock) while someone can be reminded for tomorrow and
/// it was not dismissed today; not inside the send flow itself.
#[component]
pub fn ReminderNotice() -> impl IntoView {
    let state = expect_context::<AppState>();
    let plan = Memo::new(move |_| {
        // Counted from tomorrow's appointments: not before the start has read them.
        if !state.loaded.get() || !state.appointments_ready.get() {
            return None;
        }
        let plan = tomorrow_now(state);
        plan.offered(&state.reminders.get(), today())
            .then_some(plan)
    });
    let hidden = move || matches!(state.page.get(), Page::Review | Page::Compose);
    let dismiss = move |_| {
        let mut settings = state.reminders.get_untracked();
        settings.dismissed_on = Some(today());
        leptos::task::spawn_local(async move {
            if let Err(e) = repo::save_reminder_settings(state, settings).await {
                state.error.set(Some(e.to_string()));
            }
        });
    };
    view! {
        {move || plan.get().filter(|_| !hidden()).map(|plan| {
            let buttons = plan.groups.iter().map(|g| {
                let channel = g.channel;
                let label = tf("reminders.send_channel", &[("channel", &labels::channel(channel)), ("n", &g.recipients.len())]);
                view! {
                    <button on:click=move |_| {
                        leptos::task::spawn_local(async move {
                            if let Err(e) = open_review(state, channel).await {
                                state.error.set(Some(e.to_string()));
                            }
                        });
                    }>{label}</button>
                }
            }).collect_view();
            view! {
                <section class="reminders" aria-label=t("reminders.aria")>
                    <strong>{tf("reminders.notice", &[("n", &plan.appointments), ("reachable", &plan.reachable())])}</strong>
                    {(plan.already_reminded > 0).then(|| view! {
                        <span class="muted">{tf("reminders.already", &[("n", &plan.already_reminded)])}</span>
                    })}
                    {buttons}
                    <button class="secondary" on:click=dismiss>{t("reminders.dismiss")}</button>
                </section>
            }
        })}
    }
}

/// The order choices of the settings form: (value, channels).
const ORDERS: [(&str, &[Channel]); 4] = [
    ("sms-email", &[Channel::Sms, Channel::Email]),
    ("email-sms", &[Channel::Email, Channel::Sms]),
    ("sms", &[Channel::Sms]),
    ("email", &[Channel::Email]),
];

fn order_label(value: &str) -> &'static str {
    match value {
        "sms-email" => t("reminders.order.sms_email"),
        "email-sms" => t("reminders.order.email_sms"),
        "sms" => t("reminders.order.sms"),
        _ => t("reminders.order.email"),
    }
}

/// "Tägliche Erinnerungen": the channel order and the reminder template per channel.
#[component]
pub fn ReminderSettingsForm() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = RwSignal::new(ReminderSettings::default());
    Effect::new(move |_| draft.set(state.reminders.get()));
    let message = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let settings = draft.get_untracked();
        leptos::task::spawn_local(async move {
            message.set(Some(
                match repo::save_reminder_settings(state, settings).await {
                    Ok(()) => t("common.saved").into(),
                    Err(e) => tf("common.not_saved", &[("error", &e)]),
                },
            ));
        });
    };
    let template_select = move |channel: Channel| {
        let choices = move || {
            state.templates.with(|all| {
                all.iter()
                    .filter(|t| t.channel == channel && t.purpose == Purpose::AppointmentReminder)
                    .map(|t| (t.id.clone(), t.name.clone()))
                    .collect::<Vec<_>>()
            })
        };
        view! {
            <label>
                {tf("reminders.template", &[("channel", &labels::channel(channel))])}
                <select on:change=move |ev| {
                    let id = event_target_value(&ev);
                    draft.update(|d| match channel {
                        Channel::Sms => d.sms_template = id,
                        _ => d.email_template = id,
                    });
                }>
                    {move || choices().into_iter().map(|(id, name)| {
                        let selected = {
                            let id = id.clone();
                            move || draft.with(|d| d.template_for(channel) == Some(id.as_str()))
                        };
                        view! { <option value=id selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        <h2>{t("reminders.settings")}</h2>
        <form class="person card" on:submit=save aria-label=t("reminders.settings")>
            <label>
                {t("reminders.order")}
                <select on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Some((_, order)) = ORDERS.iter().find(|(k, _)| *k == v) {
                        draft.update(|d| d.order = order.to_vec());
                    }
                }>
                    {ORDERS.iter().map(|(value, order)| {
                        let order = order.to_vec();
                        view! {
                            <option value=*value selected=move || draft.with(|d| d.channels() == order)>{order_label(value)}</option>
                        }
                    }).collect_view()}
                </select>
            </label>
            {REMINDER_CHANNELS.into_iter().map(template_select).collect_view()}
            <div class="wide actions">
                <button type="submit">{t("common.save")}</button>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
    }
}
