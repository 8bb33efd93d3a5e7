//! The review window ("Überprüfung"): per recipient the channel's contact, reachability,
//! consent (JA/NEIN) and the include column "X"; "Übernahme" hands over to the composer.
//!
//! The include box always shows the row's real state: a refused change (no consent: the
//! override dialog opens instead) puts the box back at once. A red or NEIN row links to the
//! person's form; when the page opens again (e.g. after saving there), the rows are
//! recomputed (`Review::refresh`), keeping the decisions that still hold. Rows with a warning
//! are yellow.
//!
//! When persons of the review change while it is open (in another tab or by a background
//! pull), the rows stay as shown, the changed ones are marked and the page says "Daten
//! geändert — Überprüfung aktualisieren" (`Review::note_changes`); "Übernahme" is off until
//! "Überprüfung aktualisieren" recomputes them from the store. "Übernahme" itself reads the
//! persons from the store and hands over only a review that matches them (`Review::handover`).

use crate::app::repo;
use crate::app::state::{AppState, Page};
use crate::app::table;
use crate::domain::review::{Review, ReviewRow, Unreachable};
use crate::domain::{PersonId, PersonRecord};
use crate::i18n::{labels, t, tf};
use leptos::prelude::*;
use std::collections::HashMap;

#[derive(Clone, PartialEq)]
struct Row {
    index: usize,
    row: ReviewRow,
    /// Its person changed since the row was computed.
    changed: bool,
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let rows = Memo::new(move |_| {
        state.review.with(|r| {
            r.as_ref()
                .map(|r| {
                    let stale = r.stale_rows();
                    r.rows()
                        .iter()
                        .cloned()
                        .enumerate()
                        .map(|(index, row)| Row {
                            index,
                            row,
                            changed: stale.binary_search(&index).is_ok(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    });
    let counts = Memo::new(move |_| state.review.with(|r| r.as_ref().map(Review::counts)));
    // How many rows changed since they were computed (0: the review is current).
    let stale = Memo::new(move |_| {
        state
            .review
            .with(|r| r.as_ref().map_or(0, |r| r.stale_rows().len()))
    });
    // A store read for "Übernahme" or "Überprüfung aktualisieren" is under way.
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    // Row waiting for the override confirmation (included without consent).
    let override_row = RwSignal::new(None::<usize>);
    let reason = RwSignal::new(String::new());

    // When the page opens (e.g. back from the person form), the rows are recomputed from the
    // tab's persons. When the persons change while it is open (another tab, an opt-out
    // pulled in the background), the changed rows are only marked: the review says so.
    Effect::new(move |opened: Option<()>| {
        state.persons.with(|ps| {
            let by_id: HashMap<&PersonId, &PersonRecord> =
                ps.iter().map(|r| (&r.person.id, r)).collect();
            let lookup = |id: &PersonId| by_id.get(id).copied();
            let mut changed = false;
            state.review.update_untracked(|r| {
                if let Some(r) = r {
                    changed = match opened {
                        None => r.is_stale() | !r.refresh(lookup).is_empty(),
                        Some(()) => r.note_changes(lookup),
                    };
                }
            });
            if changed {
                state.review.notify();
            }
        });
    });

    // "Überprüfung aktualisieren": the rows from the persons as stored now.
    let refresh = move |_| {
        let Some(ids) = state
            .review
            .with_untracked(|r| r.as_ref().map(Review::person_ids))
        else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match repo::persons_now(&ids).await {
                Ok(persons) => {
                    let mut n = 0;
                    state.review.update(|r| {
                        if let Some(r) = r {
                            n = r.refresh(|id| persons.get(id)).len();
                        }
                    });
                    message.set(Some(tf("review.refreshed", &[("n", &n)])));
                }
                Err(e) => message.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

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
    // "Übernahme": only from a review that matches the persons as stored at this moment.
    let handover = move |_| {
        let Some(ids) = state
            .review
            .with_untracked(|r| r.as_ref().map(Review::person_ids))
        else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let persons = repo::persons_now(&ids).await;
            busy.set(false);
            let persons = match persons {
                Ok(p) => p,
                Err(e) => return message.set(Some(e.to_string())),
            };
            let mut result = None;
            state.review.update_untracked(|r| {
                if let Some(r) = r {
                    result = Some(r.handover(|id| persons.get(id)));
                }
            });
            match result {
                Some(Ok(h)) if !h.recipients.is_empty() => {
                    state.handover.set(Some(h));
                    state.go(Page::Compose);
                }
                Some(refused) => {
                    // The stale marks may have moved: show them.
                    state.review.notify();
                    message.set(Some(match refused {
                        Ok(_) => t("review.nobody_marked").into(),
                        Err(e) => crate::i18n::review::error(&e).to_string(),
                    }));
                }
                None => {}
            }
        });
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
                <button on:click=handover disabled=move || { stale.get() > 0 || busy.get() }>{t("review.handover")}</button>
            </div>
            <Show when=move || { stale.get() > 0 }>
                <div class="banner" role="alert">
                    <span>{move || tf("review.stale", &[("n", &stale.get())])}</span>
                    " "
                    <button on:click=refresh disabled=move || busy.get()>{t("review.refresh")}</button>
                </div>
            </Show>
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
                    let Row { index, row, changed } = r;
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
                    // A minor's row: to the guardian (or none there).
                    let mut notes: Vec<String> = crate::i18n::review::to(&row).into_iter().collect();
                    notes.extend(crate::i18n::review::reason(&row));
                    if changed {
                        notes.insert(0, t("review.row_changed").into());
                    }
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
