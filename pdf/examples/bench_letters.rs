//! Benchmark: 1,000 one-page DIN 5008 letters into one PDF, natively, side by side with
//! Python ReportLab drawing the same laid-out letters (same text runs, same positions,
//! DejaVu Sans embedded as subsets).
//!
//! Run (figures in BENCHMARKS.md):
//! `CARGO_PROFILE_RELEASE_OPT_LEVEL=3 cargo run --release -p praxisbote-pdf --example bench_letters`
//!
//! Prints figures; it is not a test. Needs `PYTHON` (default `python3`) with `reportlab` for the
//! comparison (`cargo xtask bench letters` installs it into a virtualenv)
//! (skipped with a note otherwise).

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;
use praxisbote_core::domain::letter::{layout_letter, Item, LayoutOptions, Letter};
use praxisbote_core::domain::{PostalAddress, PracticeSettings, SenderNames};
use praxisbote_pdf::{generate_batch, BatchBuilder, BatchJob, DejaVuMetrics};

const FIRST: [&str; 10] = [
    "Anna", "Mehmet", "Łukasz", "José", "Søren", "Ağça", "Zoë", "Jürgen", "Şule", "Renée",
];
const LAST: [&str; 10] = [
    "Müller", "Yılmaz", "Wałęsa", "Núñez", "Bjørnø", "Öztürk", "Weiß", "Groß", "Doğan", "Lefèvre",
];

fn job(n: usize) -> BatchJob {
    let practice = PracticeSettings {
        name: "Praxis Sonnenschein".into(),
        address: PostalAddress {
            street: "Lindenweg".into(),
            house_number: "3".into(),
            postcode: "12345".into(),
            city: "Musterstadt".into(),
            ..Default::default()
        },
        phone: "030 1234567".into(),
        email: "info@praxis-sonnenschein.de".into(),
        web: "www.praxis-sonnenschein.de".into(),
        bank_details: "IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001".into(),
        sender_names: SenderNames {
            letter_contact: "Maria Schmidt".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let letters = (0..n)
        .map(|i| {
            let first = FIRST[i % 10];
            let last = LAST[(i / 10) % 10];
            let male = i % 2 == 1;
            Letter {
                recipient: vec![
                    if male { "Herrn" } else { "Frau" }.into(),
                    format!("{first} {last}"),
                    format!("Hauptstraße {}", i % 200 + 1),
                    format!("{:05} Musterstadt", 10000 + i * 7 % 89999),
                ],
                return_address: String::new(),
                date: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
                subject: "Erinnerung an Ihren Termin am 27.11.2026".into(),
                salutation: if male {
                    format!("Sehr geehrter Herr {last},")
                } else {
                    format!("Sehr geehrte Frau {last},")
                },
                body: vec![
                    format!(
                        "wir möchten Sie an Ihren Termin am Freitag, 27.11.2026, um {}:{:02} Uhr \
                         bei Maria Schmidt in unserer Praxis erinnern.",
                        8 + i % 9,
                        (i * 15) % 60
                    ),
                    "Bitte bringen Sie Ihre Versichertenkarte mit. Sollten Sie den Termin nicht \
                     wahrnehmen können, sagen Sie bitte spätestens 24 Stunden vorher ab."
                        .into(),
                ],
                closing: "Mit freundlichen Grüßen".into(),
                signature: vec!["Maria Schmidt".into(), "Praxis Sonnenschein".into()],
            }
        })
        .collect();
    BatchJob {
        title: "Serienbrief Terminerinnerung".into(),
        created: NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        practice,
        letters,
        duplex: false,
        logo_png: None,
        letterhead: None,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The laid-out pages as JSON lines for the ReportLab script.
fn export_layout(job: &BatchJob, path: &std::path::Path) {
    let m = DejaVuMetrics::get().unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for l in &job.letters {
        let lay = layout_letter(&job.practice, l, &LayoutOptions::default(), m).unwrap();
        for p in &lay.pages {
            let items: Vec<serde_json::Value> = p
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Text(t) => Some(serde_json::json!({
                        "t": t.text, "x": t.x, "y": t.y, "s": t.size_pt,
                        "b": matches!(t.font, praxisbote_core::domain::letter::FontStyle::Bold),
                        "g": t.muted,
                    })),
                    Item::Line(l) => Some(serde_json::json!({
                        "l": [l.x1, l.y1, l.x2, l.y2], "w": l.width_mm,
                    })),
                    Item::Image(_) => None,
                })
                .collect();
            writeln!(f, "{}", serde_json::Value::Array(items)).unwrap();
        }
    }
}

fn main() {
    let n = 1000;
    let job = job(n);
    let one = job_with(&job, 1);
    // Warm-up: parses the fonts once per process (as a long-lived worker would).
    let warm = generate_batch(&one, |_, _| {}, || false).unwrap();

    let load_before = load_average();
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut bytes = Vec::new();
    for _ in 0..7 {
        let c0 = thread_cpu_ns();
        let t = Instant::now();
        bytes = generate_batch(&job, |_, _| {}, || false).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if let (Some(a), Some(b)) = (c0, thread_cpu_ns()) {
            cpu.push((b - a) as f64 / 1e6);
        }
    }
    let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
    let med = median(&mut times);
    let pages = n; // one-page letters
    let per_page = (bytes.len() - warm.len()) as f64 / (pages - 1) as f64;
    println!("praxisbote-pdf (direct writer, native): {n} letters, {pages} pages");
    println!("  time: median {med:.1} ms, best {best:.1} ms (goal <= 150 ms)");
    if !cpu.is_empty() {
        let cbest = cpu.iter().cloned().fold(f64::INFINITY, f64::min);
        println!(
            "  thread CPU time (/proc/thread-self/schedstat): median {:.1} ms, best {cbest:.1} ms",
            median(&mut cpu)
        );
    }
    println!(
        "  load average (1/5/15 min) before: {load_before}, after: {}",
        load_average()
    );
    println!(
        "  size: {} bytes total; 1-letter PDF {} bytes (fonts subsets + fixed overhead)",
        bytes.len(),
        warm.len()
    );
    println!("  size per additional page: {per_page:.0} bytes (goal <= 1536)");
    // Deflate level trade-off (time vs. bytes per page), median of 5 runs each.
    for level in [1u32, 3, 6, 9] {
        let mut t = Vec::new();
        let mut size = 0;
        for _ in 0..5 {
            let t0 = Instant::now();
            let mut b = BatchBuilder::new(&job).unwrap().with_deflate_level(level);
            while b.add_next().unwrap() {}
            size = b.finish().unwrap().len();
            t.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "  deflate level {level}: median {:.1} ms, {:.0} bytes per page (total / pages, fonts included)",
            median(&mut t),
            size as f64 / pages as f64
        );
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bench-1000.pdf"), &bytes).unwrap();

    // ReportLab, same letters.
    let layout_path = dir.join("bench-layout.jsonl");
    export_layout(&job, &layout_path);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bench_reportlab.py");
    let fonts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts");
    // `cargo xtask bench letters` sets PYTHON to a virtualenv with ReportLab.
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(&script)
        .arg(&layout_path)
        .arg(&fonts)
        .arg(dir.join("bench-reportlab.pdf"))
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let s = String::from_utf8_lossy(&o.stdout);
            print!("{s}");
            let rl_med: Option<f64> = s
                .lines()
                .find_map(|l| l.strip_prefix("reportlab_median_ms="))
                .and_then(|v| v.trim().parse().ok());
            if let Some(rl) = rl_med {
                println!(
                    "speed-up vs ReportLab (median/median): {:.1}x (goal >= 5x)",
                    rl / med
                );
            }
        }
        Ok(o) => println!(
            "ReportLab comparison failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => println!("ReportLab comparison skipped: {e}"),
    }
}

/// Nanoseconds this thread has spent on a CPU (Linux; None elsewhere).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn job_with(job: &BatchJob, n: usize) -> BatchJob {
    BatchJob {
        letters: job.letters[..n].to_vec(),
        ..job.clone()
    }
}
