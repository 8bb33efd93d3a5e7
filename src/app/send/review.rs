//! The review window ("Überprüfung"): per recipient the channel's contact, reachability,
//! consent (JA/NEIN) and the include column "X"; "Übernahme" hands over to the composer.
//!
//! The include box always shows the row's real state: a refused change (no consent: the
//! override dialog opens instead) puts the box back at once. A red or NEIN row links to the
//! person's form; when the persons change (e.g. saved there), the rows are recomputed
//! (`Review::refresh`), keeping the decisions that still hold. Rows with a warning are
//! yellow.

use crate::app::state::{AppState, Page};
use crate::app::table;
use crate::domain::review::{Review, ReviewRow, Unreachable};
use crate::domain::{Person, PersonId};
use crate::i18n::{labels, t, tf};
use leptos::prelude::*;
use std::collections::HashMap;

#[derive(Clone, PartialEq)]
struct Row {
    index: usize,
    row: ReviewRow,
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let rows = Memo::new(move |_| {
        state.review.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.rows()
                        .iter()
                        .cloned()
                        .enumerate()
                        .map(|(index, row)| Row { index, row })
                        .collect()
                })
                .unwrap_or_default()
        })
    });
    let counts = Memo::new(move |_| state.review.with(|r| r.as_ref().map(Review::counts)));
    let message = RwSignal::new(None::<String>);
    // Row waiting for the override confirmation (included without consent).
    let override_row = RwSignal::new(None::<usize>);
    let reason = RwSignal::new(String::new());

    // The persons changed (saved in the person form, an import, an opt-out): recompute the
    // rows from them. Also runs when the page opens.
    Effect::new(move |_| {
        state.persons.with(|ps| {
            let by_id: HashMap<&PersonId, &Person> =
                ps.iter().map(|r| (&r.person.id, &r.person)).collect();
            let mut changed = false;
            state.review.update_untracked(|r| {
                if let Some(r) = r {
                    changed = !r.refresh(|id| by_id.get(id).copied()).is_empty();
                }
            });
            if changed {
                state.review.notify();
            }
        });
    });

    let toggle = move |index: usize, include: bool| {
        let mut result = Ok(());
        state.review.update(|r| {
            if let Some(r) = r {
                result = r.set_included(index, include);
            }
        });
        match result {
            Ok(()) => message.set(None),
            Err(crate::domain::review::ReviewError::NeedsConsentOverride) => {
                reason.set(String::new());
                override_row.set(Some(index));
            }
            Err(e) => message.set(Some(crate::i18n::review::error(&e).to_string())),
        }
    };
    let confirm_override = move |_| {
        let Some(index) = override_row.get() else {
            return;
        };
        let now = chrono::Local::now().naive_local();
        let mut result = Ok(());
        state.review.update(|r| {
            if let Some(r) = r {
                result = r.include_without_consent(index, &reason.get(), now);
            }
        });
        match result {
            Ok(()) => {
                override_row.set(None);
                message.set(Some(t("review.override_done").into()));
            }
            Err(e) => message.set(Some(crate::i18n::review::error(&e).to_string())),
        }
    };
    let remove_without_consent = move |_| {
        let mut n = 0;
        state.review.update(|r| {
            if let Some(r) = r {
                n = r.remove_all_without_consent();
            }
        });
        message.set(Some(tf("review.removed_without_consent", &[("n", &n)])));
    };
    let handover = move |_| {
        let h = state.review.with(|r| r.as_ref().map(Review::handover));
        if let Some(h) = h {
            if h.recipients.is_empty() {
                message.set(Some(t("review.nobody_marked").into()));
                return;
            }
            state.handover.set(Some(h));
            state.go(Page::Compose);
        }
    };
    let channel = move || state.review.with(|r| r.as_ref().map(|r| r.channel));
    let title = move || {
        state.review.with(|r| match r {
            Some(r) => tf(
                "review.title_with",
                &[
                    ("channel", &labels::channel(r.channel)),
                    ("purpose", &labels::purpose(r.purpose)),
                ],
            ),
            None => t("review.title").into(),
        })
    };
    let contact_header = move || match channel() {
        Some(crate::domain::Channel::Letter) => t("review.col.address"),
        Some(crate::domain::Channel::Sms) => t("review.col.mobile"),
        _ => t("review.col.email"),
    };

    view! {
        <h1>{title}</h1>
        <Show when=move || state.review.with(Option::is_some) fallback=move || view! {
            <p>{t("review.none_selected")} " " <a href=Page::Send.hash()>{t("review.to_selection")}</a></p>
        }>
            <div class="toolbar">
                <span class="count" role="status" aria-label=t("review.counts_aria")>{move || counts.get().map(|c| tf("review.counts", &[
                    ("selected", &c.selected), ("reachable", &c.reachable),
                    ("consented", &c.consented), ("included", &c.included)])).unwrap_or_default()}</span>
                <button class="secondary" on:click=remove_without_consent>{t("review.only_with_consent")}</button>
                <button class="secondary" on:click=move |_| state.go(Page::Send)>{t("review.back")}</button>
                <button on:click=handover>{t("review.handover")}</button>
            </div>
            <p role="status">{move || message.get()}</p>
            <table::VirtualTable
                rows=rows
                label=t("review.table")
                header=move || view! {
                    <th scope="col">{t("review.col.include")}</th>
                    <th scope="col">{t("common.name")}</th>
                    <th scope="col">{contact_header()}</th>
                    <th scope="col">{t("review.col.allowed")}</th>
                    <th scope="col">{t("review.col.note")}</th>
                }
                row=move |r: Row| {
                    let Row { index, row } = r;
                    let red = row.is_red();
                    let name = row.name.clone();
                    let included = row.included;
                    let consent_text = crate::i18n::review::consent(&row.consent);
                    let consent_detail = crate::i18n::review::consent_detail(&row.consent);
                    let allowed = row.consent.allowed;
                    let warn = !red && row.flags.any();
                    // Red or NEIN rows link to the person's form (unless the person is gone).
                    let link = (red || !allowed)
                        && row.unreachable != Some(Unreachable::UnknownPerson);
                    let person_id = row.recipient.person_id.clone();
                    let block = match &row.contact {
                        crate::domain::review::Contact::Postal(lines) => Some(lines.join("\n")),
                        _ => None,
                    };
                    let mut notes: Vec<String> = crate::i18n::review::reason(&row).into_iter().collect();
                    notes.extend(crate::i18n::review::flags(&row.flags, channel().unwrap_or(crate::domain::Channel::Email)));
                    if let Some(reason) = &row.override_reason {
                        notes.push(tf("review.included_without_consent", &[("reason", reason)]));
                    }
                    view! {
                        <tr class:row-bad=red class:row-warn=warn>
                            <td>
                                <input type="checkbox" aria-label=tf("review.include_aria", &[("name", &name)])
                                    prop:checked=included disabled=red
                                    on:change=move |ev| {
                                        toggle(index, event_target_checked(&ev));
                                        // Show the row's real state (a refused change is undone).
                                        let real = state.review.with_untracked(|r| {
                                            r.as_ref().and_then(|r| r.rows().get(index)).is_some_and(|x| x.included)
                                        });
                                        event_target::<web_sys::HtmlInputElement>(&ev).set_checked(real);
                                    } />
                            </td>
                            <td>{if link {
                                view! {
                                    <a href=Page::PersonEdit(person_id).hash()
                                        title=t("review.edit_person")>{name.clone()}</a>
                                }.into_any()
                            } else {
                                name.clone().into_any()
                            }}</td>
                            // A letter's address block exactly as the letter prints it: one
                            // line in the table, line by line in the tooltip.
                            <td title=block>{row.contact.display()}</td>
                            <td>
                                <span class=if allowed { "consent-yes" } else { "consent-no" }
                                    title=consent_detail.clone() aria-label=tf("review.allowed_aria", &[("consent", &consent_text), ("detail", &consent_detail)])
                                    tabindex="0">{consent_text}</span>
                            </td>
                            <td class:error=red>{notes.join(" · ")}</td>
                        </tr>
                    }
                }
            />
        </Show>
        <Show when=move || override_row.get().is_some()>
            <div class="modal-backdrop">
                <div class="modal" role="dialog" aria-modal="true" aria-label=t("review.override.title")>
                    <h2>{t("review.override.title")}</h2>
                    <p>{t("review.override.text")}</p>
                    <label class="field">{t("review.override.reason")}
                        <textarea aria-label=t("review.override.reason") prop:value=move || reason.get()
                            on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    </label>
                    <div class="actions">
                        <button class="danger" disabled=move || reason.with(|r| r.trim().is_empty()) on:click=confirm_override>{t("review.override.confirm")}</button>
                        <button class="secondary" on:click=move |_| override_row.set(None)>{t("common.cancel")}</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
