//! The query builder: AND-combined conditions, run over all persons, saveable by name.

use crate::app::repo;
use crate::app::state::AppState;
use crate::domain::query::{CompiledQuery, Condition, DayMonth, QueryContext, SavedQuery, TagMode};
use crate::domain::{Channel, InsuranceKind, Kind, Purpose};
use crate::i18n::{self, labels};
use chrono::NaiveDate;
use leptos::prelude::*;

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// The condition types offered in "Bedingung hinzufügen", with a default each.
fn templates() -> Vec<(&'static str, Condition)> {
    let t = today();
    vec![
        (
            i18n::t("query.cond.birthday_window"),
            Condition::BirthdayWindow {
                from: DayMonth::of(t),
                to: DayMonth::of(t + chrono::Days::new(7)),
            },
        ),
        (
            i18n::t("query.cond.birthday_next_days"),
            Condition::BirthdayNextDays { days: 7 },
        ),
        (
            i18n::t("query.cond.recall"),
            Condition::Recall {
                last_visit_before: t - chrono::Days::new(182),
                include_never_visited: false,
            },
        ),
        (
            i18n::t("query.cond.age_range"),
            Condition::AgeRange {
                min: Some(18),
                max: Some(99),
                on: None,
            },
        ),
        (
            i18n::t("query.cond.tags"),
            Condition::Tags {
                tags: vec![],
                mode: TagMode::Any,
            },
        ),
        (
            i18n::t("query.cond.postcode_range"),
            Condition::PostcodeRange {
                from: "0".into(),
                to: "9".into(),
            },
        ),
        (
            i18n::t("query.cond.city"),
            Condition::City { cities: vec![] },
        ),
        (
            i18n::t("query.cond.insurance"),
            Condition::Insurance {
                kinds: vec![InsuranceKind::Statutory],
            },
        ),
        (
            i18n::t("query.cond.kind"),
            Condition::Kind {
                kind: Kind::Patient,
            },
        ),
        (
            i18n::t("query.cond.has_consent"),
            Condition::HasConsent {
                channel: Channel::Email,
                purpose: Purpose::Birthday,
            },
        ),
    ]
}

fn dm_str(d: DayMonth) -> String {
    format!("{:02}.{:02}.", d.day, d.month)
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

#[component]
pub fn QueryBuilder(hits: RwSignal<Option<Vec<usize>>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = RwSignal::new(SavedQuery {
        name: String::new(),
        conditions: vec![],
    });
    let message = RwSignal::new(None::<String>);

    let show = move |result: Vec<usize>| {
        message.set(Some(i18n::tf("query.found", &[("n", &result.len())])));
        hits.set(Some(result));
    };
    let run = move |_| {
        let q = draft.get();
        let t = today();
        let compiled = CompiledQuery::new(&q, t);
        let Some(ranges) = compiled.birthday_ranges() else {
            let result = state.persons.with(|ps| {
                state.appointments.with(|apps| {
                    let ctx = QueryContext::new(ps, apps, t);
                    compiled.evaluate(ps, &ctx)
                })
            });
            show(result);
            return;
        };
        // A birthday query: the candidates come fresh from the store, through its birthday
        // index; the whole query is then evaluated on them.
        leptos::task::spawn_local(async move {
            let mut candidates = Vec::new();
            for (from, to) in ranges {
                match repo::persons_by_birthday(from, to).await {
                    Ok(found) => candidates.extend(found),
                    Err(e) => {
                        message.set(Some(i18n::tf("common.error", &[("error", &e)])));
                        return;
                    }
                }
            }
            let matched: std::collections::HashSet<crate::domain::PersonId> =
                state.appointments.with_untracked(|apps| {
                    let ctx = QueryContext::new(&candidates, apps, t);
                    compiled
                        .evaluate(&candidates, &ctx)
                        .into_iter()
                        .map(|i| candidates[i].person.id.clone())
                        .collect()
                });
            // Hits are rows of the person list, in its order.
            let result = state.persons.with_untracked(|ps| {
                ps.iter()
                    .enumerate()
                    .filter(|(_, p)| matched.contains(&p.person.id))
                    .map(|(i, _)| i)
                    .collect()
            });
            show(result);
        });
    };
    let save = move |_| {
        let q = draft.get();
        if q.name.trim().is_empty() {
            message.set(Some(i18n::t("query.need_name").into()));
            return;
        }
        leptos::task::spawn_local(async move {
            message.set(Some(match repo::save_query(state, q).await {
                Ok(()) => i18n::t("query.saved").into(),
                Err(e) => i18n::tf("common.not_saved", &[("error", &e)]),
            }));
        });
    };

    view! {
        <div class="card">
            <div class="toolbar">
                <label class="field">{i18n::t("query.saved_queries")}
                    <select aria-label=i18n::t("query.load") on:change=move |ev| {
                        let name = event_target_value(&ev);
                        if let Some(q) = state.saved_queries.with(|qs| qs.iter().find(|q| q.name == name).cloned()) {
                            draft.set(q);
                            hits.set(None);
                        }
                    }>
                        <option value="">{i18n::t("query.choose")}</option>
                        {move || state.saved_queries.get().into_iter().map(|q| view! { <option value=q.name.clone()>{q.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">{i18n::t("query.add")}
                    <select aria-label=i18n::t("query.add") on:change=move |ev| {
                        let label = event_target_value(&ev);
                        if let Some((_, c)) = templates().into_iter().find(|(l, _)| *l == label) {
                            draft.update(|d| d.conditions.push(c));
                        }
                    }>
                        <option value="" selected=true>{i18n::t("query.choose_condition")}</option>
                        {templates().into_iter().map(|(l, _)| view! { <option value=l>{l}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <ul class="conditions">
                {move || (0..draft.with(|d| d.conditions.len())).map(|i| view! {
                    <li class="toolbar">
                        <ConditionEditor draft=draft index=i />
                        <button class="secondary" aria-label=i18n::tf("query.remove_aria", &[("n", &(i + 1))])
                            on:click=move |_| draft.update(|d| { d.conditions.remove(i); })>{i18n::t("query.remove")}</button>
                    </li>
                }).collect_view()}
            </ul>
            <p class="muted">{move || if draft.with(|d| d.conditions.is_empty()) {
                i18n::t("query.no_condition").to_string()
            } else {
                draft.with(|d| d.conditions.iter().map(i18n::query::describe).collect::<Vec<_>>().join(&format!(" {} ", i18n::t("query.and"))))
            }}</p>
            <div class="toolbar">
                <button on:click=run>{i18n::t("query.run")}</button>
                <input type="text" aria-label=i18n::t("query.name") placeholder=i18n::t("query.name")
                    prop:value=move || draft.with(|d| d.name.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.name = v) } />
                <button class="secondary" on:click=save>{i18n::t("query.save")}</button>
                <span role="status">{move || message.get()}</span>
            </div>
        </div>
    }
}

#[component]
fn ConditionEditor(draft: RwSignal<SavedQuery>, index: usize) -> impl IntoView {
    let get = move || draft.with(|d| d.conditions.get(index).cloned());
    let set = move |c: Condition| {
        draft.update(|d| {
            if let Some(x) = d.conditions.get_mut(index) {
                *x = c
            }
        })
    };
    let input =
        move |label: String,
              value: String,
              kind: &'static str,
              apply: Box<dyn Fn(String) -> Option<Condition> + Send + Sync>| {
            view! {
                <label class="field">{label.clone()}
                    <input type=kind aria-label=label prop:value=value
                        on:change=move |ev| if let Some(c) = apply(event_target_value(&ev)) { set(c) } />
                </label>
            }
        };
    move || {
        let Some(c) = get() else { return ().into_any() };
        let n = index + 1;
        match c {
            Condition::BirthdayWindow { from, to } => view! {
                <strong>{i18n::t("query.birthday")}</strong>
                {input(i18n::tf("query.birthday_from_dm", &[("n", &n)]), dm_str(from), "text",
                    Box::new(move |v| DayMonth::parse(&v).map(|f| Condition::BirthdayWindow { from: f, to })))}
                {input(i18n::tf("query.birthday_to_dm", &[("n", &n)]), dm_str(to), "text",
                    Box::new(move |v| DayMonth::parse(&v).map(|t| Condition::BirthdayWindow { from, to: t })))}
            }.into_any(),
            Condition::BirthdayNextDays { days } => input(i18n::tf("query.birthday_next_days", &[("n", &n)]), days.to_string(), "number",
                Box::new(|v| v.parse().ok().map(|days| Condition::BirthdayNextDays { days }))).into_any(),
            Condition::BirthdayBetween { from, to } => view! {
                {input(i18n::tf("query.birthday_from", &[("n", &n)]), from.to_string(), "date",
                    Box::new(move |v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok().map(|f| Condition::BirthdayBetween { from: f, to })))}
                {input(i18n::tf("query.birthday_to", &[("n", &n)]), to.to_string(), "date",
                    Box::new(move |v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok().map(|t| Condition::BirthdayBetween { from, to: t })))}
            }.into_any(),
            Condition::Recall { last_visit_before, include_never_visited } => view! {
                <strong>{i18n::t("query.recall")}</strong>
                {input(i18n::tf("query.last_visit_before", &[("n", &n)]), last_visit_before.to_string(), "date",
                    Box::new(move |v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok().map(|d| Condition::Recall { last_visit_before: d, include_never_visited })))}
                <label class="check">
                    <input type="checkbox" prop:checked=include_never_visited
                        on:change=move |ev| set(Condition::Recall { last_visit_before, include_never_visited: event_target_checked(&ev) }) />
                    {i18n::t("query.include_never_visited")}
                </label>
            }.into_any(),
            Condition::AgeRange { min, max, on } => view! {
                {input(i18n::tf("query.age_from", &[("n", &n)]), min.map(|m| m.to_string()).unwrap_or_default(), "number",
                    Box::new(move |v| Some(Condition::AgeRange { min: v.parse().ok(), max, on })))}
                {input(i18n::tf("query.age_to", &[("n", &n)]), max.map(|m| m.to_string()).unwrap_or_default(), "number",
                    Box::new(move |v| Some(Condition::AgeRange { min, max: v.parse().ok(), on })))}
            }.into_any(),
            Condition::Tags { tags, mode } => input(i18n::tf("query.tags", &[("n", &n)]), tags.join(", "), "text",
                Box::new(move |v| Some(Condition::Tags { tags: list(&v), mode }))).into_any(),
            Condition::PostcodeRange { from, to } => view! {
                {input(i18n::tf("query.postcode_from", &[("n", &n)]), from.clone(), "text",
                    Box::new({ let to = to.clone(); move |v| Some(Condition::PostcodeRange { from: v, to: to.clone() }) }))}
                {input(i18n::tf("query.postcode_to", &[("n", &n)]), to, "text",
                    Box::new(move |v| Some(Condition::PostcodeRange { from: from.clone(), to: v })))}
            }.into_any(),
            Condition::City { cities } => input(i18n::tf("query.cities", &[("n", &n)]), cities.join(", "), "text",
                Box::new(|v| Some(Condition::City { cities: list(&v) }))).into_any(),
            Condition::Insurance { kinds } => view! {
                <span>{i18n::t("query.insurance")}</span>
                {InsuranceKind::ALL.into_iter().map(|k| {
                    let kinds = kinds.clone();
                    let on = kinds.contains(&k);
                    view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=on on:change=move |ev| {
                                let mut ks = kinds.clone();
                                if event_target_checked(&ev) { ks.push(k) } else { ks.retain(|x| *x != k) }
                                set(Condition::Insurance { kinds: ks })
                            } />
                            {labels::insurance(k)}
                        </label>
                    }
                }).collect_view()}
            }.into_any(),
            Condition::Kind { kind } => view! {
                <label class="field">{i18n::tf("query.kind", &[("n", &n)])}
                    <select on:change=move |ev| set(Condition::Kind { kind: if event_target_value(&ev) == "prospect" { Kind::Prospect } else { Kind::Patient } })>
                        {Kind::ALL.into_iter().map(|k| view! { <option value=k.key() selected=k == kind>{labels::kind(k)}</option> }).collect_view()}
                    </select>
                </label>
            }.into_any(),
            Condition::HasConsent { channel, purpose } => view! {
                <label class="field">{i18n::tf("query.consent_channel", &[("n", &n)])}
                    <select on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(c) = Channel::ALL.into_iter().find(|c| c.key() == v) { set(Condition::HasConsent { channel: c, purpose }) }
                    }>
                        {Channel::ALL.into_iter().map(|c| view! { <option value=c.key() selected=c == channel>{labels::channel(c)}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">{i18n::tf("query.consent_purpose", &[("n", &n)])}
                    <select on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(p) = Purpose::ALL.into_iter().find(|p| p.key() == v) { set(Condition::HasConsent { channel, purpose: p }) }
                    }>
                        {Purpose::ALL.into_iter().map(|p| view! { <option value=p.key() selected=p == purpose>{labels::purpose(p)}</option> }).collect_view()}
                    </select>
                </label>
            }.into_any(),
        }
    }
}
