//! The appointment list of a chosen day (default: tomorrow).

use crate::app::state::{AppState, Page};
use crate::domain::{Appointment, AppointmentStatus};
use crate::i18n::{labels, t, tf};
use chrono::{Days, NaiveDate};
use leptos::prelude::*;

#[component]
pub fn AppointmentList() -> impl IntoView {
    let state = expect_context::<AppState>();
    let tomorrow = chrono::Local::now().date_naive() + Days::new(1);
    let day = RwSignal::new(tomorrow);
    let show_cancelled = RwSignal::new(false);
    let rows = Memo::new(move |_| {
        let d = day.get();
        let cancelled = show_cancelled.get();
        let mut list: Vec<Appointment> = state.appointments.with(|a| {
            a.iter()
                .filter(|a| a.day() == d && (cancelled || a.status != AppointmentStatus::Cancelled))
                .cloned()
                .collect()
        });
        list.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then_with(|| a.therapist.cmp(&b.therapist))
        });
        list
    });
    let name_of = move |a: &Appointment| {
        state
            .person(&a.person_id)
            .map(|p| p.person.sort_name())
            .unwrap_or_else(|| t("appt.unknown_person").into())
    };
    view! {
        <h1>{t("appt.title")}</h1>
        <div class="toolbar">
            <label class="field">
                {t("appt.day")}
                <input type="date" prop:value=move || day.get().format("%Y-%m-%d").to_string()
                    on:change=move |ev| {
                        if let Ok(d) = NaiveDate::parse_from_str(&event_target_value(&ev), "%Y-%m-%d") {
                            day.set(d);
                        }
                    } />
            </label>
            <label class="check">
                <input type="checkbox" prop:checked=move || show_cancelled.get()
                    on:change=move |ev| show_cancelled.set(event_target_checked(&ev)) />
                {t("appt.show_cancelled")}
            </label>
            <span class="count" role="status">{move || tf("appt.count", &[("n", &rows.with(Vec::len)), ("date", &day.get().format(t("format.date")))])}</span>
        </div>
        <div class="table-scroll" tabindex="0" role="region" aria-label=t("appt.region")>
            <table class="data" aria-label=t("appt.table")>
                <thead>
                    <tr>
                        <th scope="col">{t("appt.col.time")}</th>
                        <th scope="col">{t("appt.col.patient")}</th>
                        <th scope="col">{t("appt.col.therapist")}</th>
                        <th scope="col">{t("appt.col.location")}</th>
                        <th scope="col">{t("appt.col.kind")}</th>
                        <th scope="col">{t("appt.col.status")}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || rows.get().into_iter().map(|a| {
                        let name = name_of(&a);
                        let pid = a.person_id.clone();
                        view! {
                            <tr on:click=move |_| state.go(Page::PersonEdit(pid.clone()))>
                                <td>{format!("{}–{}", a.start.format("%H:%M"), a.end.format("%H:%M"))}</td>
                                <td>{name}</td>
                                <td>{a.therapist}</td>
                                <td>{a.location}</td>
                                <td>{a.kind}</td>
                                <td>{labels::appointment_status(a.status)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
