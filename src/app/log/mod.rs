//! Protokoll: every batch of the outbox/send log (any channel, letters included) with its
//! counts, per recipient state, time and reason, a state filter, "nur Fehlgeschlagene
//! erneut senden", CSV export and fetching opt-outs and double opt-in confirmations from
//! the relay.

use crate::app::common::download;
use crate::app::error::AppError;
use crate::app::repo;
use crate::app::send::panel::BatchProgress;
use crate::app::send::transmit;
use crate::app::state::AppState;
use crate::domain::outbox::StateKind;
use crate::domain::sendlog::{batch_summaries, csv_file_name, log_rows, to_csv};
use crate::i18n::{labels, t, tf};
use leptos::prelude::*;

/// At most this many rows are put into the page (the CSV has all of them).
const SHOWN_ROWS: usize = 300;

fn fmt_dt(t: chrono::NaiveDateTime) -> String {
    t.format(crate::i18n::t("format.datetime")).to_string()
}

#[component]
pub fn LogPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let selected = RwSignal::new(None::<String>);
    let filter = RwSignal::new(None::<StateKind>);
    let note = RwSignal::new(None::<String>);
    // Show the send log as stored now, and let the transmit loop look at it too (before the
    // start has read the store, the start does it).
    leptos::task::spawn_local(async move {
        if !state.loaded.get_untracked() {
            return;
        }
        match repo::outbox::reload_view(state).await {
            Ok(()) => transmit::wake(state),
            Err(e) => note.set(Some(tf("common.error", &[("error", &e)]))),
        }
    });
    let summaries = Memo::new(move |_| {
        state
            .outbox
            .with(|o| batch_summaries(&o.batches, &o.messages))
    });
    let rows = Memo::new(move |_| {
        let f = filter.get();
        let Some(id) = selected.get() else {
            return (0, vec![]);
        };
        state.outbox.with(|o| {
            let bs: Vec<_> = o.batches.iter().filter(|b| b.id == id).cloned().collect();
            let mut rows = log_rows(&bs, &o.messages, f);
            let n = rows.len();
            rows.truncate(SHOWN_ROWS);
            (n, rows)
        })
    });
    let export = move |_| {
        let bytes = state
            .outbox
            .with_untracked(|o| to_csv(&log_rows(&o.batches, &o.messages, None)));
        let r = bytes.map_err(AppError::csv).and_then(|b| {
            download(
                &csv_file_name(chrono::Local::now().naive_local()),
                "text/csv;charset=utf-8",
                &b,
            )
        });
        note.set(Some(match r {
            Ok(()) => t("log.exported").into(),
            Err(e) => tf("log.export_failed", &[("error", &e)]),
        }));
    };
    let optouts = move |_| {
        note.set(Some(t("log.optouts_fetching").into()));
        leptos::task::spawn_local(async move {
            note.set(Some(match transmit::fetch_optouts(state).await {
                Ok(0) => t("log.optouts_none").into(),
                Ok(n) => tf("log.optouts_applied", &[("n", &n)]),
                Err(e) => tf("log.optouts_failed", &[("error", &e)]),
            }));
        });
    };
    let confirmations = move |_| {
        note.set(Some(t("log.confirmations_fetching").into()));
        leptos::task::spawn_local(async move {
            note.set(Some(match transmit::fetch_confirmations(state).await {
                Ok(0) => t("log.confirmations_none").into(),
                Ok(n) => tf("log.confirmations_applied", &[("n", &n)]),
                Err(e) => tf("log.confirmations_failed", &[("error", &e)]),
            }));
        });
    };
    let retry = move |_| {
        let Some(id) = selected.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            note.set(Some(match transmit::retry(state, &id).await {
                Ok((n, skipped)) if skipped.is_empty() => tf("log.retry", &[("n", &n)]),
                Ok((n, skipped)) => tf(
                    "log.retry_skipped",
                    &[
                        ("n", &n),
                        (
                            "list",
                            &skipped
                                .iter()
                                .map(|(_, r)| r.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                    ],
                ),
                Err(e) => tf("common.error", &[("error", &e)]),
            }));
        });
    };
    view! {
        <h1>{t("nav.log")}</h1>
        <div class="actions">
            <button class="secondary" on:click=export>{t("log.export")}</button>
            <button class="secondary" on:click=optouts>{t("log.optouts")}</button>
            <button class="secondary" on:click=confirmations>{t("log.confirmations")}</button>
            <span role="status">{move || note.get()}</span>
        </div>
        <p class="muted" aria-label=t("send_panel.link_aria")>{move || transmit::link_label(state)}</p>
        {move || if summaries.with(Vec::is_empty) {
            view! { <p>{t("log.empty")}</p> }.into_any()
        } else {
            view! {
                <table class="data" aria-label=t("log.batches")>
                    <thead><tr>
                        <th>{t("log.col.date")}</th><th>{t("log.col.channel")}</th><th>{t("send.purpose")}</th><th>{t("compose.template")}</th>
                        <th>{t("log.col.total")}</th><th>{t("label.state.sent")}</th><th>{t("label.state.printed")}</th><th>{t("label.state.failed")}</th><th>{t("log.col.open")}</th><th></th>
                    </tr></thead>
                    <tbody>
                        {summaries.get().into_iter().map(|s| {
                            let id = s.batch.id.clone();
                            let c = s.counts;
                            view! {
                                <tr>
                                    <td>{fmt_dt(s.batch.created_at)}</td>
                                    <td>{labels::channel(s.batch.channel)}</td>
                                    <td>{labels::purpose(s.batch.purpose)}</td>
                                    <td>{s.batch.template_label()}</td>
                                    <td>{c.total()}</td>
                                    <td>{c.sent}</td>
                                    <td>{c.printed}</td>
                                    <td>{c.failed}</td>
                                    <td>{c.queued + c.transmitted + c.retrying}</td>
                                    <td><button class="secondary" on:click=move |_| selected.set(Some(id.clone()))>{t("log.details")}</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {move || selected.get().map(|id| {
            let failed = Memo::new({
                let id = id.clone();
                move |_| state.outbox.with(|o| o.messages.iter().filter(|m| m.batch_id == id && m.kind() == StateKind::Failed && m.retried_as.is_none()).count())
            });
            view! {
                <section class="card" aria-label=t("log.batch")>
                    <h2>{t("log.batch")}</h2>
                    <BatchProgress batch_id=id.clone() />
                    <div class="actions">
                        <label>{t("log.col.state")}
                            <select aria-label=t("log.filter_aria") on:change=move |ev| {
                                let v = event_target_value(&ev);
                                filter.set(StateKind::ALL.into_iter().find(|k| k.code() == v));
                            }>
                                <option value="">{t("log.all")}</option>
                                {StateKind::ALL.into_iter().map(|k| view! { <option value=k.code()>{labels::state_kind(k)}</option> }).collect_view()}
                            </select>
                        </label>
                        <Show when=move || { failed.get() > 0 }>
                            <button on:click=retry>{t("log.retry_failed")}</button>
                        </Show>
                    </div>
                    <p role="status" aria-label=t("log.rows_aria")>{move || {
                        let (n, r) = rows.get();
                        if n > r.len() { tf("log.rows_truncated", &[("n", &n), ("shown", &r.len())]) } else { tf("log.rows", &[("n", &n)]) }
                    }}</p>
                    <table class="data" aria-label=t("log.recipients")>
                        <thead><tr><th>{t("log.col.recipient")}</th><th>{t("log.col.address")}</th><th>{t("log.col.state")}</th><th>{t("log.col.time")}</th><th>{t("log.col.reason")}</th></tr></thead>
                        <tbody>
                            {move || rows.get().1.into_iter().map(|r| view! {
                                <tr data-state=r.state.code()>
                                    <td>{r.recipient_name}</td>
                                    <td>{r.address}</td>
                                    <td>{labels::state_kind(r.state)}{r.retried_as.map(|_| format!(" ({})", t("log.retried")))}</td>
                                    <td>{fmt_dt(r.time)}</td>
                                    <td>{r.reason.unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })}
    }
}
