//! "Versand": choose recipients from a source (search, appointment list, tables, queries),
//! select rows, and start the review with "Aktion" → channel and purpose.

use crate::app::people::optin::OptInRequest;
use crate::app::send::query_builder;
use crate::app::state::{AppState, Page};
use crate::app::table;
use crate::domain::review::{MinorRule, Review};
use crate::domain::search::TextQuery;
use crate::domain::selection::{distinct_values, AppointmentFilter, Recipient, Selection};
use crate::domain::{Channel, Kind, Purpose};
use crate::i18n::{labels, t, tf};
use chrono::{Days, NaiveDate};
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    Search,
    Appointments,
    Patients,
    Prospects,
    Query,
}

impl Source {
    const ALL: [Source; 5] = [
        Source::Search,
        Source::Appointments,
        Source::Patients,
        Source::Prospects,
        Source::Query,
    ];
    fn label(self) -> &'static str {
        match self {
            Source::Search => t("send.source.search"),
            Source::Appointments => t("send.source.appointments"),
            Source::Patients => t("send.source.patients"),
            Source::Prospects => t("send.source.prospects"),
            Source::Query => t("send.source.query"),
        }
    }
}

/// One selectable row: a stable key, the recipient it stands for, and its display cells.
#[derive(Clone, Debug, PartialEq)]
pub struct SelRow {
    pub index: usize,
    pub key: String,
    pub recipient: Recipient,
    pub cells: Vec<String>,
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[component]
pub fn SendPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let source = RwSignal::new(Source::Appointments);
    let text = RwSignal::new(String::new());
    let tomorrow = today() + Days::new(1);
    let filter = RwSignal::new(AppointmentFilter::tomorrow(today()));
    let query_hits = RwSignal::new(None::<Vec<usize>>);
    let selection = RwSignal::new(Selection::<String>::new());
    let menu_open = RwSignal::new(false);
    let purpose = RwSignal::new(Purpose::AppointmentReminder);

    let person_row = |index: usize, r: &crate::domain::PersonRecord| SelRow {
        index,
        key: r.person.id.0.clone(),
        recipient: Recipient::person(r.person.id.clone()),
        cells: vec![
            r.person.sort_name(),
            crate::domain::address::city_line(&r.person.address),
            r.person.email.clone(),
            if r.person.mobile.is_empty() {
                r.person.landline.clone()
            } else {
                r.person.mobile.clone()
            },
        ],
    };

    let rows = Memo::new(move |_| {
        let src = source.get();
        let mut out: Vec<SelRow> = Vec::new();
        match src {
            Source::Search | Source::Patients | Source::Prospects => {
                let q = TextQuery::parse(&text.get());
                let keys = state.search_keys.read();
                state.persons.with(|ps| {
                    let mut hits: Vec<&crate::domain::PersonRecord> = ps
                        .iter()
                        .zip(keys.iter())
                        .filter(|(r, k)| {
                            let kind_ok = match src {
                                Source::Patients => r.person.kind == Kind::Patient,
                                Source::Prospects => r.person.kind == Kind::Prospect,
                                _ => true,
                            };
                            kind_ok && q.matches(k)
                        })
                        .map(|(r, _)| r)
                        .collect();
                    if src == Source::Search && q.is_empty() {
                        hits.clear(); // the search lists hits only once something is typed
                    }
                    hits.sort_by_cached_key(|r| crate::domain::search::fold(&r.person.sort_name()));
                    out = hits
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| person_row(i, r))
                        .collect();
                });
            }
            Source::Appointments => {
                let f = filter.get();
                state.appointments.with(|apps| {
                    for (i, ai) in f.apply(apps).into_iter().enumerate() {
                        let a = &apps[ai];
                        let name = state
                            .person(&a.person_id)
                            .map(|p| p.person.sort_name())
                            .unwrap_or_else(|| t("send.unknown").into());
                        out.push(SelRow {
                            index: i,
                            key: a.id.0.clone(),
                            recipient: Recipient::of_appointment(a),
                            cells: vec![
                                name,
                                format!(
                                    "{} {}–{}",
                                    a.start.format("%d.%m."),
                                    a.start.format("%H:%M"),
                                    a.end.format("%H:%M")
                                ),
                                a.therapist.clone(),
                                format!(
                                    "{} · {}{}",
                                    a.kind,
                                    a.location,
                                    if a.status == crate::domain::AppointmentStatus::Cancelled {
                                        format!(" · {}", t("send.cancelled"))
                                    } else {
                                        String::new()
                                    }
                                ),
                            ],
                        });
                    }
                });
            }
            Source::Query => {
                if let Some(hits) = query_hits.get() {
                    state.persons.with(|ps| {
                        out = hits
                            .iter()
                            .enumerate()
                            .filter_map(|(i, &pi)| ps.get(pi).map(|r| person_row(i, r)))
                            .collect();
                    });
                }
            }
        }
        out
    });
    let keys =
        Memo::new(move |_| rows.with(|r| r.iter().map(|r| r.key.clone()).collect::<Vec<_>>()));
    // Keep the selection to rows that are still listed when the source changes.
    Effect::new(move |_| {
        keys.with(|k| selection.update(|s| s.retain_rows(k)));
    });

    let headers = move || match source.get() {
        Source::Appointments => [
            t("common.name"),
            t("send.col.appointment"),
            t("send.col.therapist"),
            t("send.col.kind_location"),
        ],
        _ => [
            t("common.name"),
            t("send.col.place"),
            t("send.col.email"),
            t("send.col.phone"),
        ],
    };

    let selected_persons = Signal::derive(move || {
        let mut ids: Vec<crate::domain::PersonId> = rows.with(|rs| {
            selection.with(|s| {
                rs.iter()
                    .filter(|r| s.contains(&r.key))
                    .map(|r| r.recipient.person_id.clone())
                    .collect()
            })
        });
        ids.sort();
        ids.dedup();
        ids
    });
    let start_review = move |channel: Channel| {
        let recipients: Vec<Recipient> = rows.with(|rs| {
            selection.with(|s| {
                rs.iter()
                    .filter(|r| s.contains(&r.key))
                    .map(|r| r.recipient.clone())
                    .collect()
            })
        });
        let minors = MinorRule::new(
            state.settings.with_untracked(|s| s.minor_age),
            chrono::Local::now().date_naive(),
        );
        let review = state
            .persons
            .with(|ps| Review::build_from_records(channel, purpose.get(), &recipients, minors, ps));
        state.review.set(Some(review));
        state.compose_template.set(None);
        menu_open.set(false);
        state.go(Page::Review);
    };

    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("a") {
            ev.prevent_default();
            keys.with(|k| selection.update(|s| s.select_all(k)));
        }
    };

    let therapists = Memo::new(move |_| {
        state
            .appointments
            .with(|a| distinct_values(a, |a| a.therapist.as_str()))
    });
    let locations = Memo::new(move |_| {
        state
            .appointments
            .with(|a| distinct_values(a, |a| a.location.as_str()))
    });
    let kinds = Memo::new(move |_| {
        state
            .appointments
            .with(|a| distinct_values(a, |a| a.kind.as_str()))
    });
    let filter_select =
        move |label: &'static str,
              options: Memo<Vec<String>>,
              field: fn(&mut AppointmentFilter) -> &mut Vec<String>| {
            view! {
                <label class="field">
                    {label}
                    <select on:change=move |ev| {
                        let v = event_target_value(&ev);
                        filter.update(|f| *field(f) = if v.is_empty() { vec![] } else { vec![v] });
                    }>
                        <option value="">{t("send.all")}</option>
                        {move || options.get().into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                    </select>
                </label>
            }
        };

    view! {
        <h1>{t("send.title")}</h1>
        <div class="toolbar" role="group" aria-label=t("send.source_aria")>
            {Source::ALL.into_iter().map(|s| view! {
                <button class:secondary=move || source.get() != s aria-pressed=move || (source.get() == s).to_string()
                    on:click=move |_| source.set(s)>{s.label()}</button>
            }).collect_view()}
        </div>
        {move || match source.get() {
            Source::Search | Source::Patients | Source::Prospects => view! {
                <div class="toolbar">
                    <input type="search" aria-label=t("send.search_aria") placeholder=t("send.search_placeholder")
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
                </div>
            }.into_any(),
            Source::Appointments => view! {
                <div class="toolbar">
                    <label class="field">{t("send.from")}
                        <input type="date" prop:value=move || filter.with(|f| f.from.format("%Y-%m-%d").to_string())
                            on:change=move |ev| if let Some(d) = parse_date(&event_target_value(&ev)) {
                                filter.update(|f| { f.from = d; if f.to < d { f.to = d; } })
                            } />
                    </label>
                    <label class="field">{t("send.to")}
                        <input type="date" prop:value=move || filter.with(|f| f.to.format("%Y-%m-%d").to_string())
                            on:change=move |ev| if let Some(d) = parse_date(&event_target_value(&ev)) {
                                filter.update(|f| { f.to = d; if f.from > d { f.from = d; } })
                            } />
                    </label>
                    {filter_select(t("send.col.therapist"), therapists, |f| &mut f.therapists)}
                    {filter_select(t("send.location"), locations, |f| &mut f.locations)}
                    {filter_select(t("send.kind"), kinds, |f| &mut f.kinds)}
                    <label class="check">
                        <input type="checkbox" prop:checked=move || filter.with(|f| f.include_cancelled)
                            on:change=move |ev| filter.update(|f| f.include_cancelled = event_target_checked(&ev)) />
                        {t("send.include_cancelled")}
                    </label>
                    <button class="secondary" on:click=move |_| filter.set(AppointmentFilter::day(tomorrow))>{t("send.tomorrow")}</button>
                </div>
            }.into_any(),
            Source::Query => view! { <query_builder::QueryBuilder hits=query_hits /> }.into_any(),
        }}
        <div class="toolbar">
            <span class="count" role="status">{move || tf("send.counts", &[("hits", &rows.with(Vec::len)), ("selected", &selection.with(Selection::len))])}</span>
            <button class="secondary" on:click=move |_| keys.with(|k| selection.update(|s| s.select_all(k)))>{t("send.select_all")}</button>
            <button class="secondary" on:click=move |_| selection.update(Selection::select_none)>{t("send.select_none")}</button>
            <button aria-haspopup="menu" aria-expanded=move || menu_open.get().to_string()
                disabled=move || selection.with(Selection::is_empty)
                on:click=move |_| menu_open.update(|o| *o = !*o)>{t("send.action")}</button>
        </div>
        <Show when=move || menu_open.get()>
            <div class="card toolbar" role="menu" aria-label=t("send.action")>
                <label class="field">{t("send.purpose")}
                    <select aria-label=t("send.purpose") on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(p) = Purpose::ALL.into_iter().find(|p| p.key() == v) { purpose.set(p) }
                    }>
                        {Purpose::ALL.into_iter().map(|p| view! {
                            <option value=p.key() selected=move || purpose.get() == p>{labels::purpose(p)}</option>
                        }).collect_view()}
                    </select>
                </label>
                {Channel::ALL.into_iter().map(|c| view! {
                    <button role="menuitem" on:click=move |_| start_review(c)>{if c == Channel::Letter { t("send.letter_action").to_string() } else { tf("send.channel_action", &[("channel", &labels::channel(c))]) }}</button>
                }).collect_view()}
            </div>
            // Double opt-in for the selection: who has no e-mail address is left out, with
            // the reason.
            <OptInRequest ids=selected_persons has_email=Signal::derive(|| true) />
        </Show>
        <div on:keydown=on_key>
            <table::VirtualTable
                rows=rows
                label=t("send.table")
                header=move || view! {
                    <th scope="col"><span class="sr-only">{t("send.col.select")}</span></th>
                    {headers().into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}
                }
                row=move |r: SelRow| {
                    let key = r.key.clone();
                    let index = r.index;
                    let name = r.cells.first().cloned().unwrap_or_default();
                    view! {
                        <tr>
                            <td>
                                <input type="checkbox" aria-label=tf("send.select_aria", &[("name", &name)])
                                    prop:checked=move || selection.with(|s| s.contains(&key))
                                    on:click=move |ev: leptos::ev::MouseEvent| {
                                        let shift = ev.shift_key();
                                        keys.with(|k| selection.update(|s| if shift { s.shift_click(k, index) } else { s.toggle(k, index) }));
                                    } />
                            </td>
                            {r.cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}
                        </tr>
                    }
                }
            />
        </div>
    }
}
