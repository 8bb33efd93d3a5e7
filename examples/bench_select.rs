//! Native benchmark of recipient selection and the review window.
//!
//! Run: `cargo run --release --example bench_select [persons] [review_recipients]`
//! (defaults 100000 and 10000). Prints wall-clock median and minimum and the mean CPU
//! time of the thread (from /proc, robust against a loaded machine) of repeated runs.

#[path = "../tests/bench_common/mod.rs"]
mod bench_common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use praxisbote::domain::demo::generate_large;
use praxisbote::domain::hashing::{fast_map, FastMap};
use praxisbote::domain::model::*;
use praxisbote::domain::query::*;
use praxisbote::domain::review::Review;
use praxisbote::domain::search::{SearchKey, TextQuery};
use praxisbote::domain::selection::{AppointmentFilter, Recipient, Selection};

/// CPU time of this thread in nanoseconds (Linux: /proc/thread-self/schedstat), so that
/// figures stay meaningful on a loaded machine. `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Runs `f` `runs` times; returns (median wall, min wall, mean CPU, last result). The CPU
/// clock of /proc ticks coarsely, so the mean over all runs is used.
fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, Duration, T) {
    let mut wall = Vec::with_capacity(runs);
    let mut last = None;
    let c0 = cpu_ns();
    for _ in 0..runs {
        let t = Instant::now();
        let out = black_box(f());
        wall.push(t.elapsed());
        last = Some(out);
    }
    let cpu = match (c0, cpu_ns()) {
        (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a) / runs as u64),
        _ => Duration::ZERO,
    };
    wall.sort();
    (wall[runs / 2], wall[0], cpu, last.expect("runs > 0"))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn row(label: &str, runs: usize, (med, min, cpu): (Duration, Duration, Duration), extra: &str) {
    println!(
        "| {label} | {runs} | {} | {} | {} | {extra} |",
        ms(med),
        ms(min),
        ms(cpu)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let n_review: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let today = NaiveDate::from_ymd_opt(2026, 12, 20).expect("date");
    let minors = praxisbote::domain::guardian::MinorRule::new(16, today);

    let t = Instant::now();
    let data = generate_large(n, 1, today);
    let gen_time = t.elapsed();
    println!(
        "generated {} persons, {} appointments in {} ms (seed 1, today {today})\n",
        data.persons.len(),
        data.appointments.len(),
        ms(gen_time)
    );
    println!("| step | runs | wall median ms | wall min ms | CPU mean ms | result |");
    println!("|---|---|---|---|---|---|");

    let runs = 21;
    let (med, min, cpu, ctx) = measure(runs, || {
        QueryContext::new(&data.persons, &data.appointments, today)
    });
    row(
        "query context (one pass over appointments)",
        runs,
        (med, min, cpu),
        &format!("{} person facts", ctx.facts.len()),
    );

    // The same queries as the browser benchmark (tests/bench_browser.rs).
    let queries = bench_common::select_queries(today);
    for q in &queries {
        let compiled = CompiledQuery::new(q, today);
        let (med, min, cpu, hits) = measure(runs, || compiled.evaluate(&data.persons, &ctx));
        row(
            &format!("query: {}", q.name),
            runs,
            (med, min, cpu),
            &format!("{} hits", hits.len()),
        );
    }
    let (med, min, cpu, hits) = measure(runs, || {
        evaluate(&queries[1], &data.persons, &data.appointments, today)
    });
    row(
        "query incl. context build + compile (recall query)",
        runs,
        (med, min, cpu),
        &format!("{} hits", hits.len()),
    );
    let (med, min, cpu, hits) = measure(runs, || {
        evaluate(&queries[0], &data.persons, &data.appointments, today)
    });
    row(
        "query incl. persons-only context + compile (birthday query)",
        runs,
        (med, min, cpu),
        &format!("{} hits", hits.len()),
    );

    // Text search.
    let (med, min, cpu, keys) = measure(5, || {
        data.persons.iter().map(SearchKey::of).collect::<Vec<_>>()
    });
    row(
        "search keys for all persons (cacheable)",
        5,
        (med, min, cpu),
        &format!("{} keys", keys.len()),
    );
    for q in ["muller", "weiss anna", "münchen", "0171", "+49 171 2"] {
        let tq = TextQuery::parse(q);
        let (med, min, cpu, hits) = measure(runs, || tq.filter(&keys));
        row(
            &format!("search \"{q}\""),
            runs,
            (med, min, cpu),
            &format!("{} hits", hits.len()),
        );
    }

    // Appointment list and selection.
    let filter = AppointmentFilter::range(today, today + chrono::Duration::days(30));
    let (med, min, cpu, appts) = measure(runs, || filter.apply(&data.appointments));
    row(
        "appointment list, next 30 days",
        runs,
        (med, min, cpu),
        &format!("{} appointments", appts.len()),
    );
    let row_keys: Vec<PersonId> = data.persons.iter().map(|p| p.person.id.clone()).collect();
    let (med, min, cpu, sel) = measure(5, || {
        let mut s = Selection::new();
        s.select_all(&row_keys);
        s
    });
    let idx_rows: Vec<u32> = (0..data.persons.len() as u32).collect();
    let (med_i, min_i, cpu_i, sel_i) = measure(5, || {
        let mut s = Selection::new();
        s.select_all(&idx_rows);
        s
    });
    row(
        "select all (Ctrl-A), keys = row indices (u32)",
        5,
        (med_i, min_i, cpu_i),
        &format!("{} selected", sel_i.len()),
    );
    row(
        "select all (Ctrl-A), keys = PersonId strings",
        5,
        (med, min, cpu),
        &format!("{} selected", sel.len()),
    );

    // Review for n_review recipients: persons, plus appointment recipients.
    let recipients: Vec<Recipient> = data
        .persons
        .iter()
        .take(n_review)
        .map(|p| Recipient::person(p.person.id.clone()))
        .collect();
    let (med, min, cpu, map) = measure(5, || {
        let mut m: FastMap<&PersonId, &PersonRecord> = fast_map(data.persons.len());
        m.extend(data.persons.iter().map(|r| (&r.person.id, r)));
        m
    });
    row(
        "person id map (built once by the caller)",
        5,
        (med, min, cpu),
        &format!("{} entries", map.len()),
    );
    for (channel, purpose) in [
        (Channel::Sms, Purpose::AppointmentReminder),
        (Channel::Email, Purpose::Birthday),
        (Channel::Letter, Purpose::Recall),
    ] {
        let (med, min, cpu, review) = measure(runs, || {
            Review::build(channel, purpose, &recipients, minors, |id| {
                map.get(id).copied()
            })
        });
        let c = review.counts();
        row(
            &format!(
                "review build {} recipients, {}",
                recipients.len(),
                channel.label_de()
            ),
            runs,
            (med, min, cpu),
            &format!(
                "reachable {}, consented {}, included {}, flagged {}",
                c.reachable, c.consented, c.included, c.flagged
            ),
        );
    }
    let mut review = Review::build(Channel::Sms, Purpose::Birthday, &recipients, minors, |id| {
        map.get(id).copied()
    });
    let (med, min, cpu, _) = measure(runs, || {
        review.reset();
        review.remove_all_without_consent();
        let c = review.counts();
        let handed = review
            .handover(|id| map.get(id).copied())
            .map_or(0, |h| h.recipients.len());
        (c, handed)
    });
    let handed = review
        .handover(|id| map.get(id).copied())
        .map_or(0, |h| h.recipients.len());
    row(
        "reset + remove without consent + counts + hand-over (checked against the persons)",
        runs,
        (med, min, cpu),
        &format!("{handed} handed over"),
    );
    let appt_recipients: Vec<Recipient> = appts
        .iter()
        .take(n_review)
        .map(|&i| Recipient::of_appointment(&data.appointments[i]))
        .collect();
    let (med, min, cpu, review) = measure(runs, || {
        Review::build(
            Channel::Sms,
            Purpose::AppointmentReminder,
            &appt_recipients,
            minors,
            |id| map.get(id).copied(),
        )
    });
    row(
        &format!(
            "review build {} appointment recipients, SMS",
            appt_recipients.len()
        ),
        runs,
        (med, min, cpu),
        &format!("flagged {}", review.counts().flagged),
    );
}
