//! Mail-out work next to the serial letter: address labels on A4 sheets and DL envelopes
//! without a window, as one PDF from the same recipients (made by the PDF worker, message
//! `labels`), and the postcode sort for bulk mail with the count per postcode region.
//! Layouts and rules: `domain::labels`, `domain::bulkmail`.

use crate::app::error::AppError;
use leptos::prelude::*;

use crate::app::send::queue::{admitted_persons, Addressed};
use crate::app::state::AppState;
use crate::domain::bulkmail::{postcode_order, region_counts, Region};
use crate::domain::labels::{download_name, LabelFormat, LabelJob, LabelKind};
use crate::domain::PostalAddress;
use crate::i18n::{self, tf};

/// The hand-over's persons that may receive a letter (the one consent gate, on persons read
/// fresh from the store), in print order: as reviewed, or sorted by postcode; and the texts
/// of those left out.
pub(super) async fn ordered(
    state: AppState,
    by_postcode: bool,
) -> Result<(Vec<Addressed>, Vec<String>), AppError> {
    let (persons, skipped) = admitted_persons(state).await?;
    if !by_postcode {
        return Ok((persons, skipped));
    }
    let addrs: Vec<&PostalAddress> = persons.iter().map(|p| &p.address).collect();
    let order = postcode_order(&addrs);
    let sorted = order.into_iter().map(|i| persons[i].clone()).collect();
    Ok((sorted, skipped))
}

fn region_label(r: &Region) -> String {
    match r {
        Region::Leitregion(code) => tf("labels.region", &[("code", code)]),
        Region::NoPostcode => i18n::t("labels.region_none").to_string(),
        Region::Abroad(c) => tf("labels.region_abroad", &[("country", c)]),
    }
}

/// "Leitregion 01: 12 · Leitregion 50: 3 …" as a small table.
#[component]
pub fn RegionCounts() -> impl IntoView {
    let state = expect_context::<AppState>();
    let rows = RwSignal::new(Vec::<(Region, usize)>::new());
    leptos::task::spawn_local(async move {
        if let Ok((persons, _)) = ordered(state, true).await {
            let addrs: Vec<&PostalAddress> = persons.iter().map(|p| &p.address).collect();
            let _ = rows.try_set(region_counts(&addrs));
        }
    });
    view! {
        <table class="data" aria-label=i18n::t("labels.regions_aria")>
            <thead><tr><th>{i18n::t("labels.col.region")}</th><th>{i18n::t("labels.col.count")}</th></tr></thead>
            <tbody>{move || rows.get().into_iter().map(|(r, n)| view! {
                <tr><td>{region_label(&r)}</td><td>{n}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}

/// The choices of the format drop-down (codes of `LabelFormat`, "dl" for envelopes).
static KINDS: [&str; 5] = ["3x7", "3x7-37", "3x8", "3x8-36", "dl"];

fn kind_label(code: &str) -> &'static str {
    match code {
        "3x7" => i18n::t("labels.kind.3x7"),
        "3x7-37" => i18n::t("labels.kind.3x7_37"),
        "3x8" => i18n::t("labels.kind.3x8"),
        "3x8-36" => i18n::t("labels.kind.3x8_36"),
        _ => i18n::t("labels.kind.dl"),
    }
}

fn kind_of(code: &str) -> LabelKind {
    LabelFormat::from_code(code).map_or(LabelKind::EnvelopeDl, LabelKind::Sheet)
}

/// Labels per page (1 for envelopes).
fn per_page_of(code: &str) -> usize {
    match kind_of(code) {
        LabelKind::Sheet(f) => f.per_page(),
        LabelKind::EnvelopeDl => 1,
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    Running,
    Ready { url: String, pages: u32, n: usize },
    Failed(String),
}

/// Hands the label job to the PDF worker and follows it.
fn start_labels(
    state: AppState,
    k: LabelKind,
    addresses: Vec<Vec<String>>,
    first: usize,
    phase: RwSignal<Phase>,
) {
    let n = addresses.len();
    let job = LabelJob {
        title: match k {
            LabelKind::Sheet(_) => i18n::t("labels.title_sheet"),
            LabelKind::EnvelopeDl => i18n::t("labels.title_dl"),
        }
        .to_string(),
        created: chrono::Local::now().naive_local(),
        practice: state.settings.get_untracked(),
        kind: k,
        addresses,
        skip: first.saturating_sub(1),
    };
    let _ = phase.try_set(Phase::Running);
    crate::app::send::sheet::post_job("labels", &job, move |r| {
        let _ = phase.try_set(match r {
            Ok((url, pages)) => Phase::Ready { url, pages, n },
            Err(e) => Phase::Failed(e.to_string()),
        });
    });
}

/// Labels or envelopes for the composer's recipients (those with a consent basis for
/// letters, as for the letters themselves).
#[component]
pub fn LabelOutput(by_postcode: RwSignal<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let kind = RwSignal::new("3x8".to_string());
    let first = RwSignal::new(1usize);
    let phase = RwSignal::new(Phase::Idle);
    let per_page = move || per_page_of(&kind.get());
    let file_name = move || {
        download_name(
            kind_of(&kind.get_untracked()),
            chrono::Local::now().date_naive(),
        )
    };
    let generate = move |_| {
        phase.set(Phase::Running);
        leptos::task::spawn_local(async move {
            let k = kind_of(&kind.get_untracked());
            let (persons, _skipped) = match ordered(state, by_postcode.get_untracked()).await {
                Ok(x) => x,
                Err(e) => {
                    let _ = phase.try_set(Phase::Failed(e.to_string()));
                    return;
                }
            };
            let addresses: Vec<Vec<String>> = persons.iter().map(|a| a.block.clone()).collect();
            start_labels(state, k, addresses, first.get_untracked(), phase);
        });
    };
    view! {
        <div class="label-output" role="group" aria-label=i18n::t("labels.aria")>
            <h3>{i18n::t("labels.heading")}</h3>
            <div class="toolbar">
                <label>
                    {i18n::t("labels.kind")} " "
                    <select aria-label=i18n::t("labels.kind_aria") on:change=move |ev| {
                        kind.set(event_target_value(&ev));
                        first.set(1);
                    }>
                        {KINDS.iter().map(|code| view! {
                            <option value=*code selected=move || kind.get() == *code>{kind_label(code)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label hidden=move || per_page() == 1>
                    {i18n::t("labels.first")} " "
                    <input type="number" min="1" max=move || per_page().to_string()
                        aria-label=i18n::t("labels.first")
                        prop:value=move || first.get().to_string()
                        on:change=move |ev| {
                            let v: usize = event_target_value(&ev).parse().unwrap_or(1);
                            first.set(v.clamp(1, per_page_of(&kind.get_untracked())));
                        } />
                </label>
                <button on:click=generate disabled=move || phase.get() == Phase::Running>{i18n::t("labels.generate")}</button>
            </div>
            {move || match phase.get() {
                Phase::Idle => ().into_any(),
                Phase::Running => view! { <p role="status">{i18n::t("labels.running")}</p> }.into_any(),
                Phase::Failed(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Phase::Ready { url, pages, n } => {
                    let name = file_name();
                    view! {
                        <p role="status" aria-label=i18n::t("labels.result_aria")>{tf("labels.ready", &[("n", &n), ("pages", &pages)])}</p>
                        <a class="button" href=url download=name.clone() aria-label=i18n::t("labels.download")>{i18n::t("labels.download")}</a>
                        " " <span class="muted">{name}</span>
                    }.into_any()
                }
            }}
        </div>
    }
}
