//! The confirmation step of a calendar (`.ics`) import: what was matched to whom (and how),
//! a choice for every ambiguous event, the unmatched and skipped events with their reason.
//! Nothing is stored until "übernehmen"; then every appointment goes into ONE transaction
//! ([`repo::apply_appointment_import`]). The matching is `domain::import::plan_calendar_import`.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;

use super::import::yield_to_browser;
use crate::app::repo;
use crate::app::state::{AppState, Page};
use crate::domain::import::{CalendarEvent, CalendarMatchedBy, CalendarPlan, CalendarSkip};
use crate::domain::PersonId;
use crate::i18n::{self, tf};

fn when(ev: &CalendarEvent) -> String {
    ev.start
        .map(|s| s.format("%d.%m.%Y %H:%M").to_string())
        .unwrap_or_default()
}

fn by(b: CalendarMatchedBy) -> &'static str {
    match b {
        CalendarMatchedBy::Email => i18n::t("import.ics.by_email"),
        CalendarMatchedBy::Phone => i18n::t("import.ics.by_phone"),
        CalendarMatchedBy::Name => i18n::t("import.ics.by_name"),
    }
}

/// "Termin 3 (Zeile 27), 01.12.2026 09:00 „Summary“: reason".
fn skip_line(plan: &CalendarPlan, s: &CalendarSkip) -> String {
    let ev = &plan.events[s.event];
    tf(
        "import.ics.skip_line",
        &[
            ("n", &ev.number),
            ("line", &ev.line),
            ("when", &when(ev)),
            ("summary", &ev.summary),
            ("reason", &i18n::msg(&s.reason)),
        ],
    )
}

#[component]
pub fn CalendarReview<F>(plan: Arc<CalendarPlan>, on_done: F) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let state = expect_context::<AppState>();
    let choices = RwSignal::new(HashMap::<usize, PersonId>::new());
    let saving = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let count = Memo::new({
        let plan = plan.clone();
        move |_| choices.with(|c| plan.appointments(c).len())
    });
    let apply = {
        let plan = plan.clone();
        move |_| {
            let list = choices.with_untracked(|c| plan.appointments(c));
            saving.set(true);
            leptos::task::spawn_local(async move {
                yield_to_browser().await;
                match repo::apply_appointment_import(state, list).await {
                    Ok(n) => {
                        on_done();
                        state
                            .notice
                            .set(Some(tf("import.done_appointments", &[("n", &n)])));
                        state.go(Page::Appointments);
                    }
                    Err(e) => {
                        let _ = error.try_set(Some(tf("import.not_saved", &[("error", &e)])));
                        let _ = saving.try_set(false);
                    }
                }
            });
        }
    };
    let cancel = move |_| {
        on_done();
        state
            .notice
            .set(Some(i18n::t("import.cancelled").to_string()));
    };
    let summary = tf(
        "import.ics.summary",
        &[
            ("events", &plan.events.len()),
            ("matched", &plan.matched.len()),
            ("ambiguous", &plan.ambiguous.len()),
            ("unmatched", &plan.unmatched.len()),
            ("skipped", &plan.skipped.len()),
        ],
    );
    let matched = plan
        .matched
        .iter()
        .map(|m| {
            let ev = &plan.events[m.event];
            view! {
                <tr>
                    <td>{ev.number}</td>
                    <td>{when(ev)}</td>
                    <td>{ev.summary.clone()}</td>
                    <td>{m.person_name.clone()}</td>
                    <td>{by(m.by)}</td>
                    <td>{m.appointment.kind.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let ambiguous = plan
        .ambiguous
        .iter()
        .filter_map(|cands| {
            let first = cands.first()?;
            let event = first.event;
            let ev = &plan.events[event];
            let label = tf("import.ics.choose_aria", &[("n", &ev.number)]);
            let options = cands
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    view! { <option value=k.to_string()>{format!("{} ({})", c.person_name, c.person.0)}</option> }
                })
                .collect_view();
            let ids: Vec<PersonId> = cands.iter().map(|c| c.person.clone()).collect();
            Some(view! {
                <li>
                    {tf("import.ics.ambiguous_line", &[("n", &ev.number), ("line", &ev.line), ("when", &when(ev)), ("summary", &ev.summary)])}
                    " "
                    <select aria-label=label on:change=move |e| {
                        let v = event_target_value(&e);
                        choices.update(|c| match v.parse::<usize>().ok().and_then(|k| ids.get(k)) {
                            Some(id) => { c.insert(event, id.clone()); }
                            None => { c.remove(&event); }
                        });
                    }>
                        <option value="none" selected=true>{i18n::t("import.ics.not_import")}</option>
                        {options}
                    </select>
                </li>
            })
        })
        .collect_view();
    let unmatched: Vec<String> = plan.unmatched.iter().map(|s| skip_line(&plan, s)).collect();
    let skipped: Vec<String> = plan.skipped.iter().map(|s| skip_line(&plan, s)).collect();
    view! {
        <section class="card" aria-label=i18n::t("import.ics.aria")>
            <h2>{i18n::t("import.ics.title")}</h2>
            <p role="status">{summary}</p>
            <p class="muted">{i18n::t("import.ics.privacy")}</p>
            {(!plan.matched.is_empty()).then(|| view! {
                <h3>{tf("import.ics.matched", &[("n", &plan.matched.len())])}</h3>
                <div class="scroll">
                    <table class="data" aria-label=i18n::t("import.ics.matched_aria")>
                        <thead><tr>
                            <th>{i18n::t("import.ics.col.n")}</th>
                            <th>{i18n::t("import.ics.col.when")}</th>
                            <th>{i18n::t("import.ics.col.summary")}</th>
                            <th>{i18n::t("import.ics.col.person")}</th>
                            <th>{i18n::t("import.col.matched_by")}</th>
                            <th>{i18n::t("import.field.appointment_type")}</th>
                        </tr></thead>
                        <tbody>{matched}</tbody>
                    </table>
                </div>
            })}
            {(!plan.ambiguous.is_empty()).then(|| view! {
                <h3>{tf("import.ics.ambiguous", &[("n", &plan.ambiguous.len())])}</h3>
                <ul class="issues" aria-label=i18n::t("import.ics.ambiguous_aria")>{ambiguous}</ul>
            })}
            {(!unmatched.is_empty()).then(|| view! {
                <h3>{tf("import.ics.unmatched", &[("n", &unmatched.len())])}</h3>
                <ul class="issues" aria-label=i18n::t("import.ics.unmatched_aria")>
                    {unmatched.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
                </ul>
            })}
            {(!skipped.is_empty()).then(|| view! {
                <h3>{tf("import.ics.skipped", &[("n", &skipped.len())])}</h3>
                <ul class="issues" aria-label=i18n::t("import.ics.skipped_aria")>
                    {skipped.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
                </ul>
            })}
        </section>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <div class="actions">
            <button on:click=apply disabled=move || saving.get() || count.get() == 0>
                {move || tf("import.ics.apply", &[("n", &count.get())])}
            </button>
            <button class="secondary" on:click=cancel>{i18n::t("common.cancel")}</button>
        </div>
    }
}
