//! The consent matrix of the person form: per channel × purpose the derived state (JA/NEIN
//! with date, evidence and source), "Erteilen"/"Widerrufen" that record a new event (a grant
//! asks for the evidence — no default — and the date, default today), and the cell's
//! history. Events are added to the form's draft; "Speichern" appends them to the stored
//! record (`Consents::rebase`), so nothing recorded meanwhile (an opt-out) is lost.

use crate::domain::{
    Channel, ConsentAction, ConsentEvent, ConsentSource, ConsentStatus, Consents, Evidence,
    PersonRecord, Purpose,
};
use crate::i18n::{labels, t, tf};
use chrono::NaiveDate;
use leptos::prelude::*;

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn date_ui(d: NaiveDate) -> String {
    d.format(t("format.date_numeric")).to_string()
}

/// "E-Mail – Geburtstag".
fn cell_label(channel: Channel, purpose: Purpose) -> String {
    tf(
        "persons.consent.cell",
        &[
            ("channel", &labels::channel(channel)),
            ("purpose", &labels::purpose(purpose)),
        ],
    )
}

/// The event being entered in the dialog.
#[derive(Clone, Copy, PartialEq)]
pub struct Editing {
    channel: Channel,
    purpose: Purpose,
    action: ConsentAction,
}

/// Channel × purpose grid with the state, the actions and the history of every cell.
/// `base` holds the consents as stored when the form was opened or last saved; `editing` is
/// the cell whose [`ConsentDialog`] is open.
#[component]
pub fn ConsentMatrix(
    draft: RwSignal<PersonRecord>,
    base: RwSignal<Consents>,
    editing: RwSignal<Option<Editing>>,
) -> impl IntoView {
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
                        {Channel::ALL.into_iter().map(|channel| view! {
                            <ConsentCell draft=draft base=base editing=editing channel=channel purpose=purpose />
                        }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

#[component]
fn ConsentCell(
    draft: RwSignal<PersonRecord>,
    base: RwSignal<Consents>,
    editing: RwSignal<Option<Editing>>,
    channel: Channel,
    purpose: Purpose,
) -> impl IntoView {
    let label = cell_label(channel, purpose);
    let status = move || draft.with(|d| d.person.consents.status(channel, purpose));
    let open = move |action| {
        editing.set(Some(Editing {
            channel,
            purpose,
            action,
        }))
    };
    // Events of this cell that are not saved yet.
    let unsaved = move || {
        draft.with(|d| {
            base.with(|b| {
                d.person
                    .consents
                    .added_since(b)
                    .iter()
                    .filter(|(c, p, _)| (*c, *p) == (channel, purpose))
                    .count()
            })
        })
    };
    let undo = move |_| {
        let b = base.get_untracked();
        draft.update(|d| d.person.consents.restore_cell(channel, purpose, &b));
    };
    let state_label = tf("persons.consent.state_aria", &[("consent", &label)]);
    let grant_label = tf("persons.consent.grant_aria", &[("consent", &label)]);
    let withdraw_label = tf("persons.consent.withdraw_aria", &[("consent", &label)]);
    let history_label = tf("persons.consent.history_aria", &[("consent", &label)]);
    let undo_label = tf("persons.consent.undo_aria", &[("consent", &label)]);
    view! {
        <td class="cell">
            {move || {
                let s = status();
                let (class, text) = if s.allows() {
                    ("consent-yes", t("persons.consent.yes"))
                } else {
                    ("consent-no", t("persons.consent.no"))
                };
                let detail = match s {
                    ConsentStatus::Granted(g) => tf("persons.consent.granted_detail", &[
                        ("date", &date_ui(g.given_at)),
                        ("evidence", &labels::evidence(g.evidence)),
                        ("source", &labels::consent_source(g.source))]),
                    ConsentStatus::Withdrawn { withdrawn_at, source, .. } => tf("persons.consent.withdrawn", &[
                        ("date", &date_ui(withdrawn_at)),
                        ("source", &labels::consent_source(source))]),
                    ConsentStatus::Missing => String::new(),
                };
                view! {
                    <div>
                        <span class=class role="status" aria-label=state_label.clone()>{text}</span>
                        <div class="muted">{detail}</div>
                    </div>
                }
            }}
            <div class="actions">
                <button type="button" class="secondary" aria-label=grant_label
                    on:click=move |_| open(ConsentAction::Granted)>
                    {move || if status().allows() { t("persons.consent.grant_again") } else { t("persons.consent.grant") }}
                </button>
                <Show when=move || status().allows()>
                    <button type="button" class="secondary" aria-label=withdraw_label.clone()
                        on:click=move |_| open(ConsentAction::Withdrawn)>{t("persons.consent.withdraw")}</button>
                </Show>
                <Show when=move || { unsaved() > 0 }>
                    <button type="button" class="secondary" aria-label=undo_label.clone() on:click=undo>{t("persons.consent.undo")}</button>
                </Show>
            </div>
            <History draft=draft base=base channel=channel purpose=purpose label=history_label />
        </td>
    }
}

/// The events of one cell, oldest first; unsaved ones are marked.
#[component]
fn History(
    draft: RwSignal<PersonRecord>,
    base: RwSignal<Consents>,
    channel: Channel,
    purpose: Purpose,
    label: String,
) -> impl IntoView {
    let events = move || draft.with(|d| d.person.consents.events(channel, purpose).to_vec());
    move || {
        let events = events();
        if events.is_empty() {
            return ().into_any();
        }
        let saved = base.with(|b| b.events(channel, purpose).to_vec());
        let n = events.len();
        let mut pending_saved = saved;
        let items = events
            .into_iter()
            .map(|e| {
                let is_saved = match pending_saved.iter().position(|s| *s == e) {
                    Some(i) => {
                        pending_saved.remove(i);
                        true
                    }
                    None => false,
                };
                let mut parts = vec![
                    date_ui(e.date),
                    labels::consent_action(e.action).to_string(),
                ];
                if let Some(ev) = e.evidence {
                    parts.push(labels::evidence(ev).to_string());
                }
                parts.push(labels::consent_source(e.source).to_string());
                if !e.note.is_empty() {
                    parts.push(e.note.clone());
                }
                view! {
                    <li>
                        {parts.join(" · ")}
                        {(!is_saved).then(|| view! { " " <em>{t("persons.consent.unsaved")}</em> })}
                    </li>
                }
            })
            .collect_view();
        view! {
            <details class="consent-history">
                <summary aria-label=label.clone()>{tf("persons.consent.history", &[("n", &n)])}</summary>
                <ol>{items}</ol>
            </details>
        }
        .into_any()
    }
}

/// The dialog that records one event: for a grant the evidence (must be chosen), the date
/// (default today) and a note; for a withdrawal the date and a note. Placed outside the
/// person `<form>`, so Enter in its fields does not submit the form.
#[component]
pub fn ConsentDialog(
    draft: RwSignal<PersonRecord>,
    editing: RwSignal<Option<Editing>>,
) -> impl IntoView {
    let evidence = RwSignal::new(None::<Evidence>);
    let date = RwSignal::new(today().format("%Y-%m-%d").to_string());
    let note = RwSignal::new(String::new());
    // Fresh fields every time the dialog opens.
    Effect::new(move |_| {
        if editing.get().is_some() {
            evidence.set(None);
            date.set(today().format("%Y-%m-%d").to_string());
            note.set(String::new());
        }
    });
    let parsed_date = move || NaiveDate::parse_from_str(&date.get(), "%Y-%m-%d").ok();
    let is_grant = move || {
        editing
            .get()
            .is_some_and(|e| e.action == ConsentAction::Granted)
    };
    let can_record = move || parsed_date().is_some() && (!is_grant() || evidence.get().is_some());
    let record = move |_| {
        let (Some(e), Some(day)) = (editing.get_untracked(), parsed_date()) else {
            return;
        };
        let event = match (e.action, evidence.get_untracked()) {
            (ConsentAction::Granted, Some(ev)) => {
                ConsentEvent::granted(day, ev, ConsentSource::Practice)
            }
            (ConsentAction::Granted, None) => return,
            (ConsentAction::Withdrawn, _) => ConsentEvent::withdrawn(day, ConsentSource::Practice),
        };
        let event = event.with_note(&note.get_untracked());
        draft.update(|d| d.person.consents.record(e.channel, e.purpose, event));
        editing.set(None);
    };
    let title = move || {
        editing.get().map(|e| {
            let cell = cell_label(e.channel, e.purpose);
            match e.action {
                ConsentAction::Granted => tf("persons.consent.dialog.grant", &[("consent", &cell)]),
                ConsentAction::Withdrawn => {
                    tf("persons.consent.dialog.withdraw", &[("consent", &cell)])
                }
            }
        })
    };
    view! {
        <Show when=move || editing.get().is_some()>
            <div class="modal-backdrop">
                <div class="modal" role="dialog" aria-modal="true" aria-label=move || title().unwrap_or_default()>
                    <h2>{move || title().unwrap_or_default()}</h2>
                    <Show when=is_grant>
                        <label class="field">{t("persons.consent.evidence")}
                            <select aria-label=t("persons.consent.evidence") on:change=move |ev| {
                                let v = event_target_value(&ev);
                                evidence.set(Evidence::ALL.into_iter().find(|e| e.key() == v));
                            }>
                                <option value="" selected=move || evidence.get().is_none()>{t("persons.consent.choose_evidence")}</option>
                                {Evidence::ALL.into_iter().map(|e| view! {
                                    <option value=e.key() selected=move || evidence.get() == Some(e)>{labels::evidence(e)}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    </Show>
                    <label class="field">{t("persons.consent.date")}
                        <input type="date" aria-label=t("persons.consent.date") prop:value=move || date.get()
                            on:input=move |ev| date.set(event_target_value(&ev)) />
                    </label>
                    <label class="field">{t("persons.consent.note")}
                        <input type="text" aria-label=t("persons.consent.note") prop:value=move || note.get()
                            on:input=move |ev| note.set(event_target_value(&ev)) />
                    </label>
                    <p class="muted">{t("persons.consent.saved_with_form")}</p>
                    <div class="actions">
                        <button type="button" disabled=move || !can_record() on:click=record>{t("persons.consent.record")}</button>
                        <button type="button" class="secondary" on:click=move |_| editing.set(None)>{t("common.cancel")}</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
