//! "Erziehungsberechtigte" in the person form: add, edit and remove a person's guardians
//! (names, gender, an own address or the person's, e-mail, mobile, and the consents they
//! give on the person's behalf). Thin: the rules (who is a minor, which guardian a message
//! goes to) are `domain::guardian`; the form only edits the draft record.

use chrono::NaiveDate;
use leptos::prelude::*;

use crate::domain::{Channel, ConsentSource, Evidence, Gender, Guardian, PersonRecord, Purpose};
use crate::i18n::{labels, t, tf};

type GetFn = fn(&Guardian) -> String;
type SetFn = fn(&mut Guardian, String);

/// One text input of guardian `i` of the draft.
fn field(
    draft: RwSignal<PersonRecord>,
    i: usize,
    label: &'static str,
    kind: &'static str,
    get: GetFn,
    set: SetFn,
) -> impl IntoView {
    let aria = tf(
        "guardians.field_aria",
        &[("field", &label), ("n", &(i + 1))],
    );
    view! {
        <label>
            {label}
            <input type=kind aria-label=aria
                prop:value=move || draft.with(|d| d.person.guardians.get(i).map(get).unwrap_or_default())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    draft.update(|d| if let Some(g) = d.person.guardians.get_mut(i) { set(g, v) });
                } />
        </label>
    }
}

/// The getter and setter of an address field of a guardian's own address.
macro_rules! addr {
    ($f:ident) => {
        (
            (|g: &Guardian| g.address.as_ref().map(|a| a.$f.clone()).unwrap_or_default()) as GetFn,
            (|g: &mut Guardian, v: String| {
                if let Some(a) = g.address.as_mut() {
                    a.$f = v;
                }
            }) as SetFn,
        )
    };
}

/// One guardian's card.
fn guardian_card(draft: RwSignal<PersonRecord>, i: usize, today: NaiveDate) -> impl IntoView {
    let own_address = move || {
        draft.with(|d| {
            d.person
                .guardians
                .get(i)
                .is_some_and(|g| g.address.is_some())
        })
    };
    let (street_get, street_set) = addr!(street);
    let (number_get, number_set) = addr!(house_number);
    let (postcode_get, postcode_set) = addr!(postcode);
    let (city_get, city_set) = addr!(city);
    let consent_boxes = Channel::ALL
        .into_iter()
        .flat_map(|c| Purpose::ALL.into_iter().map(move |p| (c, p)))
        .map(|(c, p)| {
            let label = tf(
                "guardians.consent_aria",
                &[("channel", &labels::channel(c)), ("purpose", &labels::purpose(p)), ("n", &(i + 1))],
            );
            view! {
                <label class="inline">
                    <input type="checkbox" aria-label=label
                        prop:checked=move || draft.with(|d| d.person.guardians.get(i).is_some_and(|g| g.consents.allows(c, p)))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            draft.update(|d| if let Some(g) = d.person.guardians.get_mut(i) {
                                if on {
                                    g.consents.grant(c, p, today, Evidence::WrittenForm);
                                } else {
                                    g.consents.withdraw(c, p, today, ConsentSource::Practice);
                                }
                            });
                        } />
                    " " {labels::channel(c)} " · " {labels::purpose(p)}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="wide card guardian">
            <legend>{tf("guardians.legend", &[("n", &(i + 1))])}</legend>
            <div class="person" style="display:grid;gap:0.75rem;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))">
                {field(draft, i, t("persons.field.title"), "text", |g| g.title.clone(), |g, v| g.title = v)}
                {field(draft, i, t("persons.field.first_name"), "text", |g| g.first_name.clone(), |g, v| g.first_name = v)}
                {field(draft, i, t("persons.field.last_name"), "text", |g| g.last_name.clone(), |g, v| g.last_name = v)}
                <label>
                    {t("persons.field.gender")}
                    <select aria-label=tf("guardians.field_aria", &[("field", &t("persons.field.gender")), ("n", &(i + 1))])
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            let g = Gender::ALL.into_iter().find(|g| g.code() == v).unwrap_or_default();
                            draft.update(|d| if let Some(x) = d.person.guardians.get_mut(i) { x.gender = g });
                        }>
                        {Gender::ALL.into_iter().map(|g| view! {
                            <option value=g.code() selected=move || draft.with(|d| d.person.guardians.get(i).is_some_and(|x| x.gender == g))>{labels::gender(g)}</option>
                        }).collect_view()}
                    </select>
                </label>
                {field(draft, i, t("persons.field.email"), "email", |g| g.email.clone(), |g, v| g.email = v)}
                {field(draft, i, t("persons.field.mobile"), "tel", |g| g.mobile.clone(), |g, v| g.mobile = v)}
                <label class="inline">
                    <input type="checkbox" aria-label=tf("guardians.own_address_aria", &[("n", &(i + 1))])
                        prop:checked=own_address
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            draft.update(|d| {
                                let child = d.person.address.clone();
                                if let Some(g) = d.person.guardians.get_mut(i) {
                                    g.address = on.then_some(child);
                                }
                            });
                        } />
                    " " {t("guardians.own_address")}
                </label>
            </div>
            <Show when=own_address>
                <div class="person" style="display:grid;gap:0.75rem;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))">
                    {field(draft, i, t("persons.field.street"), "text", street_get, street_set)}
                    {field(draft, i, t("persons.field.house_number"), "text", number_get, number_set)}
                    {field(draft, i, t("persons.field.postcode"), "text", postcode_get, postcode_set)}
                    {field(draft, i, t("persons.field.city"), "text", city_get, city_set)}
                </div>
            </Show>
            <p class="muted">{t("guardians.consents")}</p>
            <div class="guardian-consents" style="display:grid;gap:0.25rem 0.75rem;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))">{consent_boxes}</div>
            <button type="button" class="secondary"
                on:click=move |_| draft.update(|d| { if i < d.person.guardians.len() { d.person.guardians.remove(i); } })>
                {tf("guardians.remove", &[("n", &(i + 1))])}
            </button>
        </fieldset>
    }
}

/// The guardians of the draft person, with "Erziehungsberechtigte hinzufügen".
#[component]
pub fn GuardiansEditor(draft: RwSignal<PersonRecord>, today: NaiveDate) -> impl IntoView {
    let count = Memo::new(move |_| draft.with(|d| d.person.guardians.len()));
    view! {
        <div class="wide">
            <h2>{t("guardians.title")}</h2>
            <p class="muted">{t("guardians.hint")}</p>
            {move || (0..count.get()).map(|i| guardian_card(draft, i, today)).collect_view()}
            <button type="button" class="secondary"
                on:click=move |_| draft.update(|d| d.person.guardians.push(Guardian {
                    last_name: d.person.last_name.clone(),
                    ..Default::default()
                }))>
                {t("guardians.add")}
            </button>
        </div>
    }
}
