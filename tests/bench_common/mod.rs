//! Benchmark workloads shared by the browser benchmarks (`tests/bench_browser.rs`, wasm in
//! headless Chromium), their native twin (`examples/bench_pair.rs`) and the native detail
//! benchmarks (`examples/bench_select.rs`, `examples/bench_render.rs`), so that both sides
//! run exactly the same data, queries and templates.
//!
//! Each workload takes a millisecond clock (`performance.now()` in the browser,
//! `Instant` natively) and returns [`Figure`]s; [`Figure::line`] prints them in a
//! tab-separated form that `cargo xtask bench` pairs up (browser vs. native, ratio).
#![allow(dead_code)] // each including crate uses a different part

use chrono::NaiveDate;
use praxisbote::domain::demo::{generate_large, generate_persons, DemoPractice};
use praxisbote::domain::hashing::{fast_map, FastMap};
use praxisbote::domain::model::*;
use praxisbote::domain::placeholders::{ContextBuilder, MessageContext};
use praxisbote::domain::query::*;
use praxisbote::domain::render::Renderer;
use praxisbote::domain::review::Review;
use praxisbote::domain::search::{SearchKey, TextQuery};
use praxisbote::domain::selection::Recipient;
use praxisbote::domain::template::{shipped_id, shipped_template, Language};

/// One measured step: median and minimum of `runs` runs, and what it produced (to check
/// that browser and native compute the same thing).
#[derive(Clone, Debug)]
pub struct Figure {
    pub label: String,
    pub runs: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub result: String,
}

impl Figure {
    /// `BENCH <side> <label> <median> <min> <runs> <result>`, tab-separated.
    pub fn line(&self, side: &str) -> String {
        format!(
            "BENCH\t{side}\t{}\t{:.3}\t{:.3}\t{}\t{}",
            self.label, self.median_ms, self.min_ms, self.runs, self.result
        )
    }
}

/// Runs `f` `runs` times with the clock `now` (ms); returns (median, min, last result).
pub fn measure<T>(now: &dyn Fn() -> f64, runs: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t0 = now();
        let out = std::hint::black_box(f());
        times.push(now() - t0);
        last = Some(out);
    }
    times.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    (times[runs / 2], times[0], last.expect("runs > 0"))
}

fn fig(
    label: impl Into<String>,
    runs: usize,
    (median_ms, min_ms): (f64, f64),
    result: String,
) -> Figure {
    Figure {
        label: label.into(),
        runs,
        median_ms,
        min_ms,
        result,
    }
}

// ---------------------------------------------------------------- selection (issue 3) ----

/// The "today" of the selection benchmark data.
pub fn select_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 20).expect("date")
}

/// The practice of the selection benchmarks: `demo::generate_large(n, seed 1)`.
pub fn select_data(n: usize) -> DemoPractice {
    generate_large(n, 1, select_today())
}

/// The saved queries of the selection benchmark (birthday window over the year end, recall,
/// postcode/city/tags, all eleven condition kinds, no condition).
pub fn select_queries(today: NaiveDate) -> Vec<SavedQuery> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        SavedQuery {
            name: "Geburtstage 28.12.–05.01. mit SMS-Einwilligung".into(),
            conditions: vec![
                Condition::BirthdayWindow {
                    from: DayMonth::new(28, 12).expect("dm"),
                    to: DayMonth::new(5, 1).expect("dm"),
                },
                Condition::HasConsent {
                    channel: Channel::Sms,
                    purpose: Purpose::Birthday,
                },
            ],
        },
        SavedQuery {
            name: "Recall: Patienten ab 18, letzter Besuch vor 1 Jahr".into(),
            conditions: vec![
                Condition::Kind {
                    kind: Kind::Patient,
                },
                Condition::Recall {
                    last_visit_before: today - chrono::Duration::days(365),
                    include_never_visited: false,
                },
                Condition::AgeRange {
                    min: Some(18),
                    max: None,
                    on: None,
                },
            ],
        },
        SavedQuery {
            name: "PLZ 50–51, Ort Köln/Hürth, Merkmal Rückenschule".into(),
            conditions: vec![
                Condition::PostcodeRange {
                    from: "50".into(),
                    to: "51".into(),
                },
                Condition::City {
                    cities: s(&["Köln", "Hürth"]),
                },
                Condition::Tags {
                    tags: s(&["rueckenschule", "Pilates"]),
                    mode: TagMode::Any,
                },
            ],
        },
        SavedQuery {
            name: "alle Bedingungsarten (11)".into(),
            conditions: vec![
                Condition::BirthdayWindow {
                    from: DayMonth::new(1, 1).expect("dm"),
                    to: DayMonth::new(31, 12).expect("dm"),
                },
                Condition::BirthdayNextDays { days: 366 },
                Condition::BirthdayBetween {
                    from: today,
                    to: today + chrono::Duration::days(365),
                },
                Condition::Recall {
                    last_visit_before: today,
                    include_never_visited: true,
                },
                Condition::AgeRange {
                    min: Some(1),
                    max: Some(120),
                    on: None,
                },
                Condition::Tags {
                    tags: s(&["VIP"]),
                    mode: TagMode::None,
                },
                Condition::PostcodeRange {
                    from: "0".into(),
                    to: "9".into(),
                },
                Condition::City {
                    cities: s(&["Berlin", "Hamburg", "München", "Köln", "Kiel", "Leipzig"]),
                },
                Condition::Insurance {
                    kinds: InsuranceKind::ALL.to_vec(),
                },
                Condition::Kind {
                    kind: Kind::Patient,
                },
                Condition::HasConsent {
                    channel: Channel::Email,
                    purpose: Purpose::Invitation,
                },
            ],
        },
        SavedQuery {
            name: "ohne Bedingungen (alle)".into(),
            conditions: vec![],
        },
    ]
}

/// The review channels/purposes of the benchmark.
pub const REVIEW_CASES: [(Channel, Purpose); 3] = [
    (Channel::Sms, Purpose::AppointmentReminder),
    (Channel::Email, Purpose::Birthday),
    (Channel::Letter, Purpose::Recall),
];

/// Review recipients: the first `n` persons.
pub fn review_recipients(data: &DemoPractice, n: usize) -> Vec<Recipient> {
    data.persons
        .iter()
        .take(n)
        .map(|p| Recipient::person(p.person.id.clone()))
        .collect()
}

/// The person lookup the review window uses (built once by the caller).
pub fn person_map(persons: &[PersonRecord]) -> FastMap<&PersonId, &PersonRecord> {
    let mut m: FastMap<&PersonId, &PersonRecord> = fast_map(persons.len());
    m.extend(persons.iter().map(|r| (&r.person.id, r)));
    m
}

/// Saved-query evaluation over `data` and the review of `n_review` recipients.
pub fn select_figures(now: &dyn Fn() -> f64, data: &DemoPractice, n_review: usize) -> Vec<Figure> {
    let today = select_today();
    let runs = 21;
    let mut out = Vec::new();
    let (med, min, ctx) = measure(now, 5, || {
        QueryContext::new(&data.persons, &data.appointments, today)
    });
    out.push(fig(
        format!(
            "query context ({} persons, {} appointments)",
            data.persons.len(),
            data.appointments.len()
        ),
        5,
        (med, min),
        format!("{} person facts", ctx.facts.len()),
    ));
    let queries = select_queries(today);
    for q in &queries {
        let compiled = CompiledQuery::new(q, today);
        let (med, min, hits) = measure(now, runs, || compiled.evaluate(&data.persons, &ctx));
        out.push(fig(
            format!("query: {}", q.name),
            runs,
            (med, min),
            format!("{} hits", hits.len()),
        ));
    }
    let (med, min, hits) = measure(now, 5, || {
        evaluate(&queries[0], &data.persons, &data.appointments, today)
    });
    out.push(fig(
        "query one-shot incl. persons-only context (birthday query)",
        5,
        (med, min),
        format!("{} hits", hits.len()),
    ));
    let (med, min, keys) = measure(now, 3, || {
        data.persons.iter().map(SearchKey::of).collect::<Vec<_>>()
    });
    out.push(fig(
        "search keys for all persons (cacheable)",
        3,
        (med, min),
        format!("{} keys", keys.len()),
    ));
    for q in ["muller", "weiss anna", "0171"] {
        let tq = TextQuery::parse(q);
        let (med, min, hits) = measure(now, runs, || tq.filter(&keys));
        out.push(fig(
            format!("search \"{q}\""),
            runs,
            (med, min),
            format!("{} hits", hits.len()),
        ));
    }
    let recipients = review_recipients(data, n_review);
    let map = person_map(&data.persons);
    let minors = praxisbote::domain::guardian::MinorRule::new(16, select_today());
    for (channel, purpose) in REVIEW_CASES {
        let (med, min, review) = measure(now, runs, || {
            Review::build(channel, purpose, &recipients, minors, |id| {
                map.get(id).copied()
            })
        });
        let c = review.counts();
        out.push(fig(
            format!(
                "review build {} recipients, {}",
                recipients.len(),
                channel.label_de()
            ),
            runs,
            (med, min),
            format!(
                "reachable {}, consented {}, included {}, flagged {}",
                c.reachable, c.consented, c.included, c.flagged
            ),
        ));
    }
    out
}

// ----------------------------------------------------------------- rendering (issue 4) ----

const THERAPISTS: &[&str] = &["Frau Weber", "Herr Dr. Brandt", "Frau Lange", ""];
const KINDS: &[&str] = &[
    "Physiotherapie",
    "Erstgespräch",
    "Manuelle Therapie",
    "Kontrolle",
];

/// `n` recipients of the one person generator (`demo::generate_persons`, seed 5) with an
/// appointment each (with and without therapist and room).
pub fn render_people(n: usize) -> Vec<(Person, Appointment)> {
    let base = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    generate_persons(n, 5, render_today())
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let person = r.person;
            let start = (base + chrono::Duration::days((i % 20) as i64))
                .and_hms_opt(8 + (i % 10) as u32, (i % 4) as u32 * 15, 0)
                .expect("time");
            let appt = Appointment {
                id: AppointmentId(format!("a{i}")),
                person_id: person.id.clone(),
                start,
                end: start + chrono::Duration::minutes(30),
                therapist: THERAPISTS[i % THERAPISTS.len()].into(),
                location: if i % 2 == 0 {
                    "Raum 2".into()
                } else {
                    String::new()
                },
                kind: KINDS[i % KINDS.len()].into(),
                status: AppointmentStatus::Planned,
            };
            (person, appt)
        })
        .collect()
}

/// The practice of the render benchmark.
pub fn render_practice() -> PracticeSettings {
    PracticeSettings {
        name: "Praxis Sonnenschein".into(),
        address: PostalAddress {
            street: "Lindenallee".into(),
            house_number: "5".into(),
            postcode: "10115".into(),
            city: "Berlin".into(),
            ..Default::default()
        },
        phone: "030 1234567".into(),
        email: "info@praxis-sonnenschein.de".into(),
        web: "https://praxis-sonnenschein.de".into(),
        ..Default::default()
    }
}

pub fn render_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).expect("date")
}

/// The template of the render benchmark: the shipped German e-mail appointment reminder.
pub fn render_template_source() -> (String, String) {
    let t = shipped_template(&shipped_id(
        Language::De,
        Channel::Email,
        Purpose::AppointmentReminder,
    ))
    .expect("shipped template");
    (t.id, t.body)
}

/// Runs of each render measurement (browser, native and Jinja2 alike): on the shared 2-core
/// machine minima need more than a handful of runs to settle.
pub const RENDER_RUNS: usize = 11;

/// The context builder of the render benchmark's batch (one per batch, as the app sends one
/// template to many recipients): what is the same for all recipients is formatted here once.
pub fn render_builder(practice: &PracticeSettings) -> ContextBuilder<'_> {
    ContextBuilder::new(practice, Channel::Email, Language::De, render_today())
}

/// The message context of one recipient of the render benchmark.
pub fn render_context(b: &ContextBuilder<'_>, (p, a): &(Person, Appointment)) -> MessageContext {
    b.build(p, Some(a), Some("https://praxis-sonnenschein.de/u/tok"))
}

/// FNV-1a over all outputs (separated by NUL), to compare browser and native output.
pub fn digest(outputs: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for o in outputs {
        for b in o.bytes().chain(std::iter::once(0)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Rendering `n` messages: context+render, context only, render only (prebuilt contexts).
pub fn render_figures(now: &dyn Fn() -> f64, n: usize, runs: usize) -> Vec<Figure> {
    let practice = render_practice();
    let people = render_people(n);
    let (_, source) = render_template_source();
    let renderer = Renderer::new(Language::De);
    let compiled = renderer.compile(&source).expect("compiles");
    let mut out = Vec::new();
    // Context building included: the batch's builder, then each recipient's context.
    let (med, min, outputs) = measure(now, runs, || {
        let b = render_builder(&practice);
        people
            .iter()
            .map(|x| compiled.render(&render_context(&b, x)).expect("render"))
            .collect::<Vec<_>>()
    });
    out.push(fig(
        format!("render {n} messages: context+render"),
        runs,
        (med, min),
        format!("output digest {}", digest(&outputs)),
    ));
    let (med, min, values) = measure(now, runs, || {
        let b = render_builder(&practice);
        people
            .iter()
            .map(|x| render_context(&b, x).to_value())
            .collect::<Vec<_>>()
    });
    out.push(fig(
        format!("render {n} messages: context only"),
        runs,
        (med, min),
        format!("{} contexts", values.len()),
    ));
    let (med, min, outputs) = measure(now, runs, || {
        values
            .iter()
            .map(|v| compiled.render_value(v.clone()).expect("render"))
            .collect::<Vec<_>>()
    });
    out.push(fig(
        format!("render {n} messages: render only"),
        runs,
        (med, min),
        format!("output digest {}", digest(&outputs)),
    ));
    out
}

// ------------------------------------------------ scale check (issue 3, 100,000 persons) ----

/// What search, the saved queries and the review produce over a set of persons and
/// appointments, independent of the order they come in (hits as sorted ids; review over
/// the first `n_review` persons in id order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleOutcome {
    pub persons: usize,
    pub appointments: usize,
    /// (query text, sorted ids of the hits)
    pub searches: Vec<(String, Vec<PersonId>)>,
    /// (query name, sorted ids of the hits)
    pub queries: Vec<(String, Vec<PersonId>)>,
    /// (channel, counts: selected, reachable, consented, reachable and consented,
    /// included, flagged)
    pub reviews: Vec<(Channel, [usize; 6])>,
}

fn sorted_ids(persons: &[PersonRecord], hits: &[usize]) -> Vec<PersonId> {
    let mut ids: Vec<PersonId> = hits.iter().map(|&i| persons[i].person.id.clone()).collect();
    ids.sort();
    ids
}

/// The search texts of the scale check.
pub const SCALE_SEARCHES: [&str; 4] = ["muller", "weiss", "münchen", "0171"];

/// Runs search, every benchmark query and the review (SMS, e-mail, letter) with the domain
/// functions over `persons` and `appointments`.
pub fn scale_outcome(
    persons: &[PersonRecord],
    appointments: &[Appointment],
    n_review: usize,
) -> ScaleOutcome {
    let today = select_today();
    let keys: Vec<SearchKey> = persons.iter().map(SearchKey::of).collect();
    let searches = SCALE_SEARCHES
        .iter()
        .map(|q| {
            (
                q.to_string(),
                sorted_ids(persons, &TextQuery::parse(q).filter(&keys)),
            )
        })
        .collect();
    let ctx = QueryContext::new(persons, appointments, today);
    let queries = select_queries(today)
        .iter()
        .map(|q| {
            let hits = CompiledQuery::new(q, today).evaluate(persons, &ctx);
            (q.name.clone(), sorted_ids(persons, &hits))
        })
        .collect();
    let mut ids: Vec<&PersonId> = persons.iter().map(|p| &p.person.id).collect();
    ids.sort();
    let recipients: Vec<Recipient> = ids
        .into_iter()
        .take(n_review)
        .map(|id| Recipient::person(id.clone()))
        .collect();
    let map = person_map(persons);
    let minors = praxisbote::domain::guardian::MinorRule::new(16, select_today());
    let reviews = REVIEW_CASES
        .iter()
        .map(|&(channel, purpose)| {
            let c = Review::build(channel, purpose, &recipients, minors, |id| {
                map.get(id).copied()
            })
            .counts();
            (
                channel,
                [
                    c.selected,
                    c.reachable,
                    c.consented,
                    c.reachable_and_consented,
                    c.included,
                    c.flagged,
                ],
            )
        })
        .collect();
    ScaleOutcome {
        persons: persons.len(),
        appointments: appointments.len(),
        searches,
        queries,
        reviews,
    }
}

impl ScaleOutcome {
    /// One line per figure, for the log.
    pub fn summary(&self) -> Vec<String> {
        let mut v = vec![format!(
            "{} persons, {} appointments",
            self.persons, self.appointments
        )];
        v.extend(
            self.searches
                .iter()
                .map(|(q, ids)| format!("search \"{q}\": {} hits", ids.len())),
        );
        v.extend(
            self.queries
                .iter()
                .map(|(q, ids)| format!("query {q}: {} hits", ids.len())),
        );
        v.extend(self.reviews.iter().map(|(c, n)| {
            format!(
                "review {}: selected {}, reachable {}, consented {}, both {}, included {}, flagged {}",
                c.label_de(),
                n[0],
                n[1],
                n[2],
                n[3],
                n[4],
                n[5]
            )
        }));
        v
    }
}
