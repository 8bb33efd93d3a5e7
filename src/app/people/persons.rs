//! Patient and prospect tables (virtualised, searchable, sortable) and the person form.

use crate::app::common::Confirm;
use crate::app::repo;
use crate::app::state::{AppState, Page};
use crate::app::table;
use crate::domain::search::TextQuery;
use crate::domain::{
    self, Channel, ConsentStatus, Evidence, Gender, InsuranceKind, Kind, Person, PersonId,
    PersonRecord, Purpose, WithdrawalSource,
};
use crate::i18n::{labels, t, tf};
use chrono::NaiveDate;
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Name,
    City,
    Email,
}

#[component]
pub fn PersonList(kind: Kind) -> impl IntoView {
    let state = expect_context::<AppState>();
    let query = RwSignal::new(String::new());
    let sort = RwSignal::new((SortBy::Name, true));
    let rows = Memo::new(move |_| {
        let needle = TextQuery::parse(&query.get());
        let (by, asc) = sort.get();
        let keys = state.search_keys.read();
        state.persons.with(|ps| {
            let mut hits: Vec<PersonRecord> = ps
                .iter()
                .zip(keys.iter())
                .filter(|(r, k)| r.person.kind == kind && needle.matches(k))
                .map(|(r, _)| r.clone())
                .collect();
            hits.sort_by_cached_key(|r| match by {
                SortBy::Name => domain::search::fold(&r.person.sort_name()),
                SortBy::City => domain::search::fold(&format!(
                    "{} {}",
                    r.person.address.city,
                    r.person.sort_name()
                )),
                SortBy::Email => r.person.email.to_lowercase(),
            });
            if !asc {
                hits.reverse();
            }
            hits
        })
    });
    let title = match kind {
        Kind::Patient => t("nav.patients"),
        Kind::Prospect => t("nav.prospects"),
    };
    let search_label = match kind {
        Kind::Patient => t("persons.search.patients"),
        Kind::Prospect => t("persons.search.prospects"),
    };
    let sort_button = move |by: SortBy, label: &'static str| {
        view! {
            <button class="sort" on:click=move |_| sort.update(|s| *s = (by, if s.0 == by { !s.1 } else { true }))
                aria-label=tf("persons.sort_by", &[("column", &label)])>
                {label}
                {move || match sort.get() { (b, true) if b == by => " ▲", (b, false) if b == by => " ▼", _ => "" }}
            </button>
        }
    };
    view! {
        <h1>{title}</h1>
        <div class="toolbar">
            <input type="search" placeholder=t("persons.search.placeholder")
                aria-label=search_label
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev)) />
            <span class="count" role="status">{move || tf("persons.hits", &[("n", &rows.with(Vec::len))])}</span>
            <button on:click=move |_| state.go(Page::PersonNew(kind))>
                {match kind { Kind::Patient => t("persons.new.patient"), Kind::Prospect => t("persons.new.prospect") }}
            </button>
        </div>
        <table::VirtualTable
            rows=rows
            label=title
            header=move || view! {
                <th scope="col">{sort_button(SortBy::Name, t("common.name"))}</th>
                <th scope="col">{sort_button(SortBy::City, t("persons.col.city"))}</th>
                <th scope="col">{sort_button(SortBy::Email, t("persons.col.email"))}</th>
                <th scope="col">{t("persons.col.mobile")}</th>
                <th scope="col">{t("persons.col.phone")}</th>
            }
            row=move |r: PersonRecord| {
                let id = r.person.id.clone();
                let p = r.person;
                let name = p.sort_name();
                view! {
                    <tr on:click=move |_| state.go(Page::PersonEdit(id.clone()))>
                        <td><a href=Page::PersonEdit(p.id.clone()).hash()>{name}</a></td>
                        <td>{crate::domain::address::city_line(&p.address)}</td>
                        <td>{p.email}</td>
                        <td>{p.mobile}</td>
                        <td>{p.landline}</td>
                    </tr>
                }
            }
        />
    }
}

#[component]
pub fn PersonNew(kind: Kind) -> impl IntoView {
    let record = PersonRecord {
        person: Person {
            id: PersonId(repo::new_id()),
            kind,
            ..Default::default()
        },
        ..Default::default()
    };
    view! { <PersonForm record=record is_new=true /> }
}

#[component]
pub fn PersonEdit(id: PersonId) -> impl IntoView {
    let state = expect_context::<AppState>();
    // Re-render only when loading finishes, not on every save (the form keeps its state).
    move || match state.loaded.get().then(|| {
        state
            .persons
            .with_untracked(|ps| ps.iter().find(|p| p.person.id == id).cloned())
    }) {
        Some(Some(record)) => view! { <PersonForm record=record is_new=false /> }.into_any(),
        None => view! { <p class="muted">{t("persons.loading")}</p> }.into_any(),
        Some(None) => {
            view! { <h1>{t("persons.not_found.title")}</h1><p>{t("persons.not_found.text")}</p> }
                .into_any()
        }
    }
}

type GetFn = fn(&PersonRecord) -> String;
type SetFn = fn(&mut PersonRecord, String);

fn text_field(
    draft: RwSignal<PersonRecord>,
    label: &'static str,
    kind: &'static str,
    get: GetFn,
    set: SetFn,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input type=kind prop:value=move || draft.with(get)
                on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| set(d, v)) } />
        </label>
    }
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

#[component]
fn PersonForm(record: PersonRecord, is_new: bool) -> impl IntoView {
    let state = expect_context::<AppState>();
    let kind = record.person.kind;
    let draft = RwSignal::new(record);
    let confirm_delete = RwSignal::new(false);
    let saving = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let record = draft.get();
        if record.person.last_name.trim().is_empty() {
            message.set(Some(t("persons.need_last_name").into()));
            return;
        }
        saving.set(true);
        leptos::task::spawn_local(async move {
            match repo::save_person(state, record.clone()).await {
                Ok(()) => {
                    message.set(Some(t("common.saved").into()));
                    if is_new {
                        state.go(Page::PersonEdit(record.person.id));
                    }
                }
                Err(e) => message.set(Some(tf("common.not_saved", &[("error", &e)]))),
            }
            saving.set(false);
        });
    };
    let delete = move |_| {
        confirm_delete.set(false);
        let id = draft.with(|d| d.person.id.clone());
        leptos::task::spawn_local(async move {
            match repo::delete_person(state, id).await {
                Ok(()) => {
                    state.notice.set(Some(t("persons.deleted").into()));
                    state.go(Page::Persons(kind));
                }
                Err(e) => state.error.set(Some(e)),
            }
        });
    };

    let gender_select = view! {
        <label>
            {t("persons.field.gender")}
            <select on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(g) = Gender::ALL.into_iter().find(|g| g.label_de() == v) {
                    draft.update(|d| d.person.gender = g);
                }
            }>
                {Gender::ALL.into_iter().map(|g| view! {
                    <option value=g.label_de() selected=move || draft.with(|d| d.person.gender == g)>{labels::gender(g)}</option>
                }).collect_view()}
            </select>
        </label>
    };
    let insurance_select = view! {
        <label>
            {t("persons.field.insurance")}
            <select on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(k) = InsuranceKind::ALL.into_iter().find(|k| k.label_de() == v) {
                    draft.update(|d| d.sensitive.insurance_kind = k);
                }
            }>
                {InsuranceKind::ALL.into_iter().map(|k| view! {
                    <option value=k.label_de() selected=move || draft.with(|d| d.sensitive.insurance_kind == k)>{labels::insurance(k)}</option>
                }).collect_view()}
            </select>
        </label>
    };

    view! {
        <h1>{move || if is_new { tf("persons.new_heading", &[("kind", &labels::kind(kind))]) } else { draft.with(|d| d.person.full_name()) }}</h1>
        <form class="person card" on:submit=save aria-label=t("persons.form")>
            {text_field(draft, t("persons.field.title"), "text", |d| d.person.title.clone(), |d, v| d.person.title = v)}
            {text_field(draft, t("persons.field.first_name"), "text", |d| d.person.first_name.clone(), |d, v| d.person.first_name = v)}
            {text_field(draft, t("persons.field.last_name"), "text", |d| d.person.last_name.clone(), |d, v| d.person.last_name = v)}
            {gender_select}
            {text_field(draft, t("persons.field.street"), "text", |d| d.person.address.street.clone(), |d, v| d.person.address.street = v)}
            {text_field(draft, t("persons.field.house_number"), "text", |d| d.person.address.house_number.clone(), |d, v| d.person.address.house_number = v)}
            {text_field(draft, t("persons.field.extra"), "text", |d| d.person.address.extra.clone(), |d, v| d.person.address.extra = v)}
            {text_field(draft, t("persons.field.postcode"), "text", |d| d.person.address.postcode.clone(), |d, v| d.person.address.postcode = v)}
            {text_field(draft, t("persons.field.city"), "text", |d| d.person.address.city.clone(), |d, v| d.person.address.city = v)}
            {text_field(draft, t("persons.field.country"), "text", |d| d.person.address.country.clone(), |d, v| d.person.address.country = v)}
            {text_field(draft, t("persons.field.email"), "email", |d| d.person.email.clone(), |d, v| d.person.email = v)}
            {text_field(draft, t("persons.field.mobile"), "tel", |d| d.person.mobile.clone(), |d, v| d.person.mobile = v)}
            {text_field(draft, t("persons.field.landline"), "tel", |d| d.person.landline.clone(), |d, v| d.person.landline = v)}
            {text_field(draft, t("persons.field.tags"), "text", |d| d.person.tags.join(", "), |d, v| {
                d.person.tags = v.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
            })}
            <fieldset class="wide card">
                <legend>{t("persons.protected")}</legend>
                <div class="person" style="display:grid;gap:0.75rem;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))">
                    {text_field(draft, t("persons.field.birth_date"), "date",
                        |d| d.sensitive.birth_date.map(|b| b.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                        |d, v| d.sensitive.birth_date = NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok())}
                    {text_field(draft, t("persons.field.profession"), "text", |d| d.sensitive.profession.clone(), |d, v| d.sensitive.profession = v)}
                    {insurance_select}
                    {text_field(draft, t("persons.field.insurance_number"), "text", |d| d.sensitive.insurance_number.clone(), |d, v| d.sensitive.insurance_number = v)}
                </div>
            </fieldset>
            <div class="wide">
                <h2>{t("persons.consents")}</h2>
                <ConsentMatrix draft=draft />
            </div>
            <div class="wide actions">
                <button type="submit" disabled=move || saving.get()>{t("common.save")}</button>
                <button type="button" class="secondary" on:click=move |_| state.go(Page::Persons(kind))>{t("persons.back")}</button>
                <Show when=move || !is_new>
                    <button type="button" class="danger" on:click=move |_| confirm_delete.set(true)>{t("common.delete")}</button>
                </Show>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
        <Confirm open=confirm_delete title=t("persons.delete.title")
            text=t("persons.delete.text")
            confirm_label=t("persons.delete.confirm") on_confirm=delete />
    }
}

/// Channel × purpose grid: a checkbox per cell, and for given consents the date and evidence.
#[component]
fn ConsentMatrix(draft: RwSignal<PersonRecord>) -> impl IntoView {
    view! {
        <div class="table-scroll" style="max-height:none" tabindex="0" role="region" aria-label=t("persons.consents")>
        <table class="consents">
            <thead>
                <tr>
                    <th scope="col">{t("persons.consent.purpose")}</th>
                    {Channel::ALL.into_iter().map(|c| view! { <th scope="col">{labels::channel(c)}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {Purpose::ALL.into_iter().map(|purpose| view! {
                    <tr>
                        <th scope="row">{labels::purpose(purpose)}</th>
                        {Channel::ALL.into_iter().map(|channel| view! { <ConsentCell draft=draft channel=channel purpose=purpose /> }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

#[component]
fn ConsentCell(draft: RwSignal<PersonRecord>, channel: Channel, purpose: Purpose) -> impl IntoView {
    let label = tf(
        "persons.consent.cell",
        &[
            ("channel", &labels::channel(channel)),
            ("purpose", &labels::purpose(purpose)),
        ],
    );
    let granted = move || draft.with(|d| d.person.consents.allows(channel, purpose));
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        draft.update(|d| {
            let consents = &mut d.person.consents;
            if on {
                consents.grant(channel, purpose, today(), Evidence::WrittenForm);
            } else {
                consents.withdraw(channel, purpose, today(), WithdrawalSource::Practice);
            }
        });
    };
    let set_date = move |ev| {
        if let Ok(date) = NaiveDate::parse_from_str(&event_target_value(&ev), "%Y-%m-%d") {
            draft.update(|d| {
                let evidence = d
                    .person
                    .consents
                    .get(channel, purpose)
                    .map(|c| c.evidence)
                    .unwrap_or(Evidence::WrittenForm);
                d.person.consents.grant(channel, purpose, date, evidence);
            });
        }
    };
    let set_evidence = move |ev| {
        let v = event_target_value(&ev);
        if let Some(e) = Evidence::ALL.into_iter().find(|e| e.label_de() == v) {
            draft.update(|d| {
                let date = d
                    .person
                    .consents
                    .get(channel, purpose)
                    .map(|c| c.given_at)
                    .unwrap_or_else(today);
                d.person.consents.grant(channel, purpose, date, e);
            });
        }
    };
    let date_label = tf("persons.consent.date", &[("consent", &label)]);
    let evidence_label = tf("persons.consent.evidence", &[("consent", &label)]);
    view! {
        <td class="cell">
            <label class="check">
                <input type="checkbox" aria-label=label.clone() prop:checked=granted on:change=toggle />
                {move || if granted() { view! { <span class="consent-yes">{t("persons.consent.yes")}</span> } } else { view! { <span class="consent-no">{t("persons.consent.no")}</span> } }}
            </label>
            {move || draft.with(|d| match d.person.consents.status(channel, purpose) {
                ConsentStatus::Granted(c) => {
                    let date = c.given_at.format("%Y-%m-%d").to_string();
                    let evidence = c.evidence;
                    view! {
                        <div>
                            <input type="date" aria-label=date_label.clone() prop:value=date on:change=set_date />
                            <select aria-label=evidence_label.clone() on:change=set_evidence>
                                {Evidence::ALL.into_iter().map(|e| view! {
                                    <option value=e.label_de() selected=e == evidence>{labels::evidence(e)}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    }.into_any()
                }
                ConsentStatus::Withdrawn(c) => view! {
                    <div class="muted">{tf("persons.consent.withdrawn", &[
                        ("date", &c.withdrawn_at.map(|d| d.format(t("format.date")).to_string()).unwrap_or_default()),
                        ("source", &c.withdrawn_source.map(labels::withdrawal_source).unwrap_or(""))])}</div>
                }.into_any(),
                ConsentStatus::Missing => ().into_any(),
            })}
        </td>
    }
}
