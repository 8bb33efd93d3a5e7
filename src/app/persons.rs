//! Patient and prospect tables (virtualised, searchable, sortable) and the person form.

use super::common::Confirm;
use super::state::{AppState, Page};
use super::{repo, table};
use crate::domain::search::TextQuery;
use crate::domain::{
    self, Channel, ConsentStatus, Evidence, Gender, InsuranceKind, Kind, Person, PersonId,
    PersonRecord, Purpose, WithdrawalSource,
};
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
        Kind::Patient => "Patienten",
        Kind::Prospect => "Interessenten",
    };
    let sort_button = move |by: SortBy, label: &'static str| {
        view! {
            <button class="sort" on:click=move |_| sort.update(|s| *s = (by, if s.0 == by { !s.1 } else { true }))
                aria-label=format!("Nach {label} sortieren")>
                {label}
                {move || match sort.get() { (b, true) if b == by => " ▲", (b, false) if b == by => " ▼", _ => "" }}
            </button>
        }
    };
    view! {
        <h1>{title}</h1>
        <div class="toolbar">
            <input type="search" placeholder="Suche: Name, Ort, PLZ, E-Mail, Telefon"
                aria-label=format!("{title} durchsuchen")
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev)) />
            <span class="count" role="status">{move || format!("{} Treffer", rows.with(Vec::len))}</span>
            <button on:click=move |_| state.go(Page::PersonNew(kind))>
                {match kind { Kind::Patient => "Neuer Patient", Kind::Prospect => "Neuer Interessent" }}
            </button>
        </div>
        <table::VirtualTable
            rows=rows
            label=title
            header=move || view! {
                <th scope="col">{sort_button(SortBy::Name, "Name")}</th>
                <th scope="col">{sort_button(SortBy::City, "Ort")}</th>
                <th scope="col">{sort_button(SortBy::Email, "E-Mail")}</th>
                <th scope="col">"Mobil"</th>
                <th scope="col">"Telefon"</th>
            }
            row=move |r: PersonRecord| {
                let id = r.person.id.clone();
                let p = r.person;
                let name = p.sort_name();
                view! {
                    <tr on:click=move |_| state.go(Page::PersonEdit(id.clone()))>
                        <td><a href=Page::PersonEdit(p.id.clone()).hash()>{name}</a></td>
                        <td>{format!("{} {}", p.address.postcode, p.address.city)}</td>
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
        None => view! { <p class="muted">"Wird geladen …"</p> }.into_any(),
        Some(None) => {
            view! { <h1>"Person nicht gefunden"</h1><p>"Diese Person gibt es nicht (mehr)."</p> }
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
            message.set(Some("Bitte einen Nachnamen eingeben.".into()));
            return;
        }
        saving.set(true);
        leptos::task::spawn_local(async move {
            match repo::save_person(state, record.clone()).await {
                Ok(()) => {
                    message.set(Some("Gespeichert.".into()));
                    if is_new {
                        state.go(Page::PersonEdit(record.person.id));
                    }
                }
                Err(e) => message.set(Some(format!("Nicht gespeichert: {e}"))),
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
                    state.notice.set(Some("Person gelöscht.".into()));
                    state.go(Page::Persons(kind));
                }
                Err(e) => state.error.set(Some(e)),
            }
        });
    };

    let gender_select = view! {
        <label>
            "Geschlecht"
            <select on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(g) = Gender::ALL.into_iter().find(|g| g.label_de() == v) {
                    draft.update(|d| d.person.gender = g);
                }
            }>
                {Gender::ALL.into_iter().map(|g| view! {
                    <option value=g.label_de() selected=move || draft.with(|d| d.person.gender == g)>{g.label_de()}</option>
                }).collect_view()}
            </select>
        </label>
    };
    let insurance_select = view! {
        <label>
            "Versicherung"
            <select on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(k) = InsuranceKind::ALL.into_iter().find(|k| k.label_de() == v) {
                    draft.update(|d| d.sensitive.insurance_kind = k);
                }
            }>
                {InsuranceKind::ALL.into_iter().map(|k| view! {
                    <option value=k.label_de() selected=move || draft.with(|d| d.sensitive.insurance_kind == k)>{k.label_de()}</option>
                }).collect_view()}
            </select>
        </label>
    };

    view! {
        <h1>{move || if is_new { format!("Neu: {}", kind.label_de()) } else { draft.with(|d| d.person.full_name()) }}</h1>
        <form class="person card" on:submit=save aria-label="Stammdaten">
            {text_field(draft, "Titel", "text", |d| d.person.title.clone(), |d, v| d.person.title = v)}
            {text_field(draft, "Vorname", "text", |d| d.person.first_name.clone(), |d, v| d.person.first_name = v)}
            {text_field(draft, "Nachname", "text", |d| d.person.last_name.clone(), |d, v| d.person.last_name = v)}
            {gender_select}
            {text_field(draft, "Straße", "text", |d| d.person.address.street.clone(), |d, v| d.person.address.street = v)}
            {text_field(draft, "Hausnummer", "text", |d| d.person.address.house_number.clone(), |d, v| d.person.address.house_number = v)}
            {text_field(draft, "Adresszusatz", "text", |d| d.person.address.extra.clone(), |d, v| d.person.address.extra = v)}
            {text_field(draft, "PLZ", "text", |d| d.person.address.postcode.clone(), |d, v| d.person.address.postcode = v)}
            {text_field(draft, "Ort", "text", |d| d.person.address.city.clone(), |d, v| d.person.address.city = v)}
            {text_field(draft, "Land (ISO, leer = DE)", "text", |d| d.person.address.country.clone(), |d, v| d.person.address.country = v)}
            {text_field(draft, "E-Mail", "email", |d| d.person.email.clone(), |d, v| d.person.email = v)}
            {text_field(draft, "Mobil", "tel", |d| d.person.mobile.clone(), |d, v| d.person.mobile = v)}
            {text_field(draft, "Festnetz", "tel", |d| d.person.landline.clone(), |d, v| d.person.landline = v)}
            {text_field(draft, "Schlagworte (mit Komma)", "text", |d| d.person.tags.join(", "), |d, v| {
                d.person.tags = v.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
            })}
            <fieldset class="wide card">
                <legend>"Geschützte Stammdaten (nie in Serien-Nachrichten)"</legend>
                <div class="person" style="display:grid;gap:0.75rem;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))">
                    {text_field(draft, "Geburtsdatum", "date",
                        |d| d.sensitive.birth_date.map(|b| b.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                        |d, v| d.sensitive.birth_date = NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok())}
                    {text_field(draft, "Beruf", "text", |d| d.sensitive.profession.clone(), |d, v| d.sensitive.profession = v)}
                    {insurance_select}
                    {text_field(draft, "Versichertennummer", "text", |d| d.sensitive.insurance_number.clone(), |d, v| d.sensitive.insurance_number = v)}
                </div>
            </fieldset>
            <div class="wide">
                <h2>"Einwilligungen"</h2>
                <ConsentMatrix draft=draft />
            </div>
            <div class="wide actions">
                <button type="submit" disabled=move || saving.get()>"Speichern"</button>
                <button type="button" class="secondary" on:click=move |_| state.go(Page::Persons(kind))>"Zurück zur Liste"</button>
                <Show when=move || !is_new>
                    <button type="button" class="danger" on:click=move |_| confirm_delete.set(true)>"Löschen"</button>
                </Show>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
        <Confirm open=confirm_delete title="Person löschen?"
            text="Die Person, ihre Einwilligungen und ihre Termine werden gelöscht. Das kann nicht rückgängig gemacht werden."
            confirm_label="Endgültig löschen" on_confirm=delete />
    }
}

/// Channel × purpose grid: a checkbox per cell, and for given consents the date and evidence.
#[component]
fn ConsentMatrix(draft: RwSignal<PersonRecord>) -> impl IntoView {
    view! {
        <div class="table-scroll" style="max-height:none" tabindex="0" role="region" aria-label="Einwilligungen">
        <table class="consents">
            <thead>
                <tr>
                    <th scope="col">"Zweck"</th>
                    {Channel::ALL.into_iter().map(|c| view! { <th scope="col">{c.label_de()}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {Purpose::ALL.into_iter().map(|purpose| view! {
                    <tr>
                        <th scope="row">{purpose.label_de()}</th>
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
    let label = format!("{} – {}", channel.label_de(), purpose.label_de());
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
    let date_label = format!("Datum der Einwilligung {label}");
    let evidence_label = format!("Nachweis der Einwilligung {label}");
    view! {
        <td class="cell">
            <label class="check">
                <input type="checkbox" aria-label=label.clone() prop:checked=granted on:change=toggle />
                {move || if granted() { view! { <span class="consent-yes">"JA"</span> } } else { view! { <span class="consent-no">"NEIN"</span> } }}
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
                                    <option value=e.label_de() selected=e == evidence>{e.label_de()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    }.into_any()
                }
                ConsentStatus::Withdrawn(c) => view! {
                    <div class="muted">{format!("widerrufen am {} ({})",
                        c.withdrawn_at.map(|d| d.format("%d.%m.%Y").to_string()).unwrap_or_default(),
                        c.withdrawn_source.map(|s| s.label_de()).unwrap_or(""))}</div>
                }.into_any(),
                ConsentStatus::Missing => ().into_any(),
            })}
        </td>
    }
}
