//! Native benchmark of queueing a batch in the outbox.
//!
//! Run: `CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false \
//!       cargo run --release --example bench_outbox [messages] [runs]` (defaults 5000, 15).
//!
//! Stages (each timed separately; wall median, wall minimum, mean thread CPU time):
//! - queue: `queue_batch` from 5,000 prepared items (clone of rendered content included:
//!   the items are consumed) = building the records;
//! - chunk: `plan` (chunking into ≤ 1,000 per request + poll list) over the queued records;
//! - json: serialising all records with serde_json (stand-in for the IndexedDB write);
//! - reports: applying one relay status per message (`apply_reports`);
//! - csv: send log rows + CSV export of all messages.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use praxisbote::domain::model::*;
use praxisbote::domain::outbox::*;
use praxisbote::domain::sendlog::{log_rows, to_csv};

fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, Duration) {
    let mut wall = Vec::with_capacity(runs);
    let c0 = cpu_ns();
    for _ in 0..runs {
        let t = Instant::now();
        black_box(f());
        wall.push(t.elapsed());
    }
    let cpu = match (c0, cpu_ns()) {
        (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a) / runs as u64),
        _ => Duration::ZERO,
    };
    wall.sort();
    (wall[wall.len() / 2], wall[0], cpu)
}

fn at(h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 26)
        .unwrap()
        .and_hms_opt(h, m, 0)
        .unwrap()
}

fn items(n: usize) -> Vec<QueueItem> {
    let html_para = "<p>Guten Tag Frau Müller,</p><p>wir möchten Sie an Ihren Termin am \
                     Freitag, 27.11.2026 um 09:30 Uhr bei Herrn Schmidt (Raum 2) erinnern.</p>";
    (0..n)
        .map(|i| {
            let text = format!(
                "Guten Tag Frau Müller {i},\n\nwir möchten Sie an Ihren Termin am Freitag, \
                 27.11.2026 um 09:30 Uhr erinnern. Bitte sagen Sie mindestens 24 Stunden \
                 vorher ab, wenn Sie ihn nicht wahrnehmen können.\n\nMit freundlichen Grüßen\n\
                 Ihre Praxis Sonnenschein\n{}",
                "Musterstraße 1 · 12345 Musterstadt · Telefon 0301234567\n".repeat(8)
            );
            QueueItem {
                id: format!("6f1c2d3e-4b5a-4c6d-8e7f-{i:012x}"),
                person_id: PersonId(format!("a1b2c3d4-0000-4000-8000-{i:012x}")),
                appointment_id: Some(AppointmentId(format!("b1b2c3d4-0000-4000-8000-{i:012x}"))),
                recipient_name: format!("Müller, Anna {i}"),
                address: format!("anna.mueller{i}@example.org"),
                content: Content {
                    subject: Some("Ihr Termin am 27.11.2026".into()),
                    html: Some(html_para.repeat(10)),
                    text,
                    calendar: None,
                },
                consent: ConsentBasis::Consent {
                    given_at: NaiveDate::from_ymd_opt(2025, 3, 4).unwrap(),
                    evidence: Evidence::DoubleOptIn,
                },
            }
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5000);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(15);
    let batch = Batch {
        claim: None,
        id: "batch-bench".into(),
        created_at: at(14, 5),
        channel: Channel::Email,
        purpose: Purpose::AppointmentReminder,
        template_name: "Terminerinnerung".into(),
        template_version: 3,
        paused: false,
        files: Vec::new(),
    };
    let prepared = items(n);
    let bytes: usize = prepared
        .iter()
        .map(|i| i.content.text.len() + i.content.html.as_deref().map_or(0, str::len))
        .sum();
    println!(
        "{n} e-mails, {:.1} KiB rendered content each, {runs} runs",
        bytes as f64 / n as f64 / 1024.0
    );

    let row = |name: &str, (med, min, cpu): (Duration, Duration, Duration)| {
        println!(
            "{name:<34} median {:>8.2} ms   min {:>8.2} ms   CPU {:>8.2} ms",
            med.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e3
        );
    };

    // Items are consumed by queue_batch: clone outside the timed region.
    let mut pool: Vec<Vec<QueueItem>> = (0..runs).map(|_| prepared.clone()).collect();
    row(
        "queue_batch (build records)",
        measure(runs, || queue_batch(&batch, pool.pop().unwrap()).unwrap()),
    );
    let queued = queue_batch(&batch, prepared.clone()).unwrap();
    let batches = [batch.clone()];
    row(
        "plan (chunks of ≤ 1000)",
        measure(runs, || plan(&batches, &queued, MAX_CHUNK)),
    );
    let p = plan(&batches, &queued, MAX_CHUNK);
    println!(
        "  → {} chunks: {:?}",
        p.transmit.len(),
        p.transmit.iter().map(Vec::len).collect::<Vec<_>>()
    );
    row(
        "queue + plan",
        measure(runs, || {
            let ms = queue_batch(&batch, prepared.clone()).unwrap();
            plan(&batches, &ms, MAX_CHUNK).transmit.len()
        }),
    );
    row(
        "  (clone of the items alone)",
        measure(runs, || prepared.clone()),
    );
    row(
        "serde_json of all records",
        measure(runs, || serde_json::to_vec(&queued).unwrap().len()),
    );
    let reports: Vec<RelayReport> = queued
        .iter()
        .map(|m| RelayReport {
            id: m.id.clone(),
            state: RelayState::Sent,
            reason: None,
            next_attempt: None,
            at: at(14, 6),
        })
        .collect();
    let mut pool: Vec<Vec<OutboxMessage>> = (0..runs).map(|_| queued.clone()).collect();
    row(
        "apply_reports (one per message)",
        measure(runs, || {
            let mut ms = pool.pop().unwrap();
            apply_reports(&mut ms, &reports).changed.len()
        }),
    );
    let mut done = queued.clone();
    apply_reports(&mut done, &reports);
    row(
        "send log rows + CSV export",
        measure(runs, || {
            to_csv(&log_rows(&batches, &done, None)).unwrap().len()
        }),
    );
}
