//! Patient and prospect tables (virtualised, searchable, sortable) and the person form.

use super::consents::{ConsentDialog, ConsentMatrix, Editing};
use super::optin::OptInRequest;
use crate::app::common::{download, Confirm};
use crate::app::error::AppError;
use crate::app::repo;
use crate::app::state::{AppState, Page};
use crate::app::table;
use crate::domain::consent::proof;
use crate::domain::search::TextQuery;
use crate::domain::{self, Gender, InsuranceKind, Kind, Person, PersonId, PersonRecord};
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
    // The hits as positions in `state.persons` (the tab's one copy; no second copy of the
    // records), filtered and sorted.
    let rows = Memo::new(move |_| {
        let needle = TextQuery::parse(&query.get());
        let (by, asc) = sort.get();
        let keys = state.search_keys.read();
        state.persons.with(|ps| {
            let mut hits: Vec<usize> = ps
                .iter()
                .zip(keys.iter())
                .enumerate()
                .filter(|(_, (r, k))| r.person.kind == kind && needle.matches(k))
                .map(|(i, _)| i)
                .collect();
            hits.sort_by_cached_key(|&i| {
                let p = &ps[i].person;
                match by {
                    SortBy::Name => domain::search::fold(&p.sort_name()),
                    SortBy::City => {
                        domain::search::fold(&format!("{} {}", p.address.city, p.sort_name()))
                    }
                    SortBy::Email => p.email.to_lowercase(),
                }
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
            row=move |i: usize| {
                let p = state.persons.with(|ps| ps.get(i).map(|r| r.person.clone()))?;
                let id = p.id.clone();
                let name = p.sort_name();
                Some(view! {
                    <tr on:click=move |_| state.go(Page::PersonEdit(id.clone()))>
                        <td><a href=Page::PersonEdit(p.id.clone()).hash()>{name}</a></td>
                        <td>{crate::domain::address::city_line(&p.address)}</td>
                        <td>{p.email}</td>
                        <td>{p.mobile}</td>
                        <td>{p.landline}</td>
                    </tr>
                })
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

/// The salutation by etiquette (what is used while the person's own field is blank), in the
/// UI language, as the field's placeholder.
fn etiquette_salutation(person: &Person) -> String {
    let by_etiquette = Person {
        salutation: String::new(),
        ..person.clone()
    };
    let lang = match crate::i18n::lang() {
        crate::i18n::Lang::De => domain::template::Language::De,
        _ => domain::template::Language::En,
    };
    domain::salutation::anrede(&by_etiquette, lang)
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

#[component]
fn PersonForm(record: PersonRecord, is_new: bool) -> impl IntoView {
    let state = expect_context::<AppState>();
    let kind = record.person.kind;
    // The consents as stored when the form opened (or was last saved).
    let base = RwSignal::new(record.person.consents.clone());
    let draft = RwSignal::new(record);
    let editing = RwSignal::new(None::<Editing>);
    let confirm_delete = RwSignal::new(false);
    let saving = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut record = draft.get();
        if record.person.last_name.trim().is_empty() {
            message.set(Some(t("persons.need_last_name").into()));
            return;
        }
        // Consent events are appended to what is stored now (an opt-out may have arrived
        // since the form opened); nothing stored is ever dropped.
        if let Some(current) = state.person(&record.person.id) {
            record.person.consents =
                base.with_untracked(|b| record.person.consents.rebase(b, &current.person.consents));
        }
        saving.set(true);
        leptos::task::spawn_local(async move {
            match repo::save_person(state, record.clone()).await {
                Ok(()) => {
                    message.set(Some(t("common.saved").into()));
                    base.set(record.person.consents.clone());
                    draft.update(|d| d.person.consents = record.person.consents.clone());
                    if is_new {
                        state.go(Page::PersonEdit(record.person.id));
                    }
                }
                Err(e) => message.set(Some(tf("common.not_saved", &[("error", &e)]))),
            }
            saving.set(false);
        });
    };
    // "Einwilligungsnachweis": the stored consents of this person as CSV.
    let export_proof = move |_| {
        let id = draft.with_untracked(|d| d.person.id.clone());
        let Some(stored) = state.person(&id) else {
            return;
        };
        let day = today();
        let result = proof::to_csv(&stored.person, day)
            .map_err(AppError::csv)
            .and_then(|bytes| {
                download(
                    &proof::file_name(&stored.person, day),
                    "text/csv;charset=utf-8",
                    &bytes,
                )
            });
        message.set(Some(match result {
            Ok(()) => t("persons.proof.done").into(),
            Err(e) => tf("common.error", &[("error", &e)]),
        }));
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
                Err(e) => state.error.set(Some(e.to_string())),
            }
        });
    };

    let gender_select = view! {
        <label>
            {t("persons.field.gender")}
            <select on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(g) = Gender::ALL.into_iter().find(|g| g.code() == v) {
                    draft.update(|d| d.person.gender = g);
                }
            }>
                {Gender::ALL.into_iter().map(|g| view! {
                    <option value=g.code() selected=move || draft.with(|d| d.person.gender == g)>{labels::gender(g)}</option>
                }).collect_view()}
            </select>
        </label>
    };
    let insurance_select = view! {
        <label>
            {t("persons.field.insurance")}
            <select on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(k) = InsuranceKind::ALL.into_iter().find(|k| k.code() == v) {
                    draft.update(|d| d.sensitive.insurance_kind = k);
                }
            }>
                {InsuranceKind::ALL.into_iter().map(|k| view! {
                    <option value=k.code() selected=move || draft.with(|d| d.sensitive.insurance_kind == k)>{labels::insurance(k)}</option>
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
            <label>
                {t("persons.field.salutation")}
                <input type="text" name="salutation"
                    placeholder=move || draft.with(|d| etiquette_salutation(&d.person))
                    prop:value=move || draft.with(|d| d.person.salutation.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.person.salutation = v) } />
            </label>
            <label class="check">
                <input type="checkbox" name="du" prop:checked=move || draft.with(|d| d.person.du)
                    on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.person.du = on) } />
                {t("persons.field.du")}
            </label>
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
                <ConsentMatrix draft=draft base=base editing=editing />
            </div>
            <super::guardians::GuardiansEditor draft=draft today=today() />
            <div class="wide actions">
                <button type="submit" disabled=move || saving.get()>{t("common.save")}</button>
                <button type="button" class="secondary" on:click=move |_| state.go(Page::Persons(kind))>{t("persons.back")}</button>
                <Show when=move || !is_new>
                    <button type="button" class="secondary" on:click=export_proof>{t("persons.proof")}</button>
                    <super::proof_pdf::ProofPdf id=Signal::derive(move || draft.with(|d| d.person.id.clone())) />
                    <button type="button" class="danger" on:click=move |_| confirm_delete.set(true)>{t("common.delete")}</button>
                </Show>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
        <Show when=move || !is_new>
            <OptInRequest
                ids=Signal::derive(move || vec![draft.with(|d| d.person.id.clone())])
                has_email=Signal::derive(move || {
                    // The stored address counts (the e-mail goes to what is saved).
                    let id = draft.with(|d| d.person.id.clone());
                    state.person(&id).is_some_and(|r| !r.person.email.trim().is_empty())
                }) />
        </Show>
        <ConsentDialog draft=draft editing=editing />
        <Confirm open=confirm_delete title=t("persons.delete.title")
            text=t("persons.delete.text")
            confirm_label=t("persons.delete.confirm") on_confirm=delete />
    }
}
