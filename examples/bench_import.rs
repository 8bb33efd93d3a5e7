//! Benchmark: demo data generation and CSV import (parse + map + validate + plan) of
//! 100,000 rows. Prints figures; not a test.
//!
//! `cargo run --release --example bench_import [rows]`

use std::time::Instant;

use chrono::NaiveDate;
use praxisbote::domain::demo::generate_persons;
use praxisbote::domain::import::{
    plan_person_import, read_table, DuplicateAction, ImportKind, ImportOptions, Mapping,
};
use praxisbote::domain::{Channel, Gender, PersonId, Purpose};

/// CPU time of this process in ms (utime + stime from /proc/self/stat, Linux; 10 ms ticks).
/// The benchmark machine is shared, so wall-clock time alone overstates the cost.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after the command name: state is index 0, utime 11, stime 12.
    (ticks(11) + ticks(12)) * 10.0
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();

    let (t, c) = (Instant::now(), cpu_ms());
    let persons = generate_persons(n, 1, today);
    let gen = t.elapsed();
    println!(
        "generate_persons({n}): wall {:.0} ms, CPU {:.0} ms ({:.0} persons/s by CPU time)",
        gen.as_secs_f64() * 1e3,
        cpu_ms() - c,
        n as f64 / ((cpu_ms() - c).max(1.0) / 1e3)
    );

    // A realistic export: German headers, consent columns and a treatment column.
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    w.write_record([
        "Patientennummer",
        "Anrede",
        "Titel",
        "Vorname",
        "Nachname",
        "Straße",
        "PLZ",
        "Ort",
        "Geburtsdatum",
        "Handy",
        "Telefon",
        "E-Mail",
        "Beruf",
        "Versichertennummer",
        "SMS erlaubt",
        "E-Mail erlaubt",
        "Brief erlaubt",
        "Diagnose",
    ])
    .unwrap();
    let yn = |b: bool| if b { "ja" } else { "nein" };
    for r in &persons {
        let p = &r.person;
        let anrede = match p.gender {
            Gender::Female => "Frau",
            Gender::Male => "Herr",
            _ => "",
        };
        let street = format!("{} {}", p.address.street, p.address.house_number);
        let bd = r
            .sensitive
            .birth_date
            .map(|d| d.format("%d.%m.%Y").to_string())
            .unwrap_or_default();
        let allows = |c| yn(p.consents.allows(c, Purpose::AppointmentReminder));
        w.write_record([
            p.external_id.as_deref().unwrap_or(""),
            anrede,
            &p.title,
            &p.first_name,
            &p.last_name,
            street.trim(),
            &p.address.postcode,
            &p.address.city,
            &bd,
            &p.mobile,
            &p.landline,
            &p.email,
            &r.sensitive.profession,
            &r.sensitive.insurance_number,
            allows(Channel::Sms),
            allows(Channel::Email),
            allows(Channel::Letter),
            "Lumbalgie, seit 2019",
        ])
        .unwrap();
    }
    let utf8 = w.into_inner().unwrap();
    // Windows-1252 cannot hold ı ş ğ ł …: such an export has '?' instead.
    let latin: String = std::str::from_utf8(&utf8)
        .unwrap()
        .chars()
        .map(|c| if (c as u32) < 0x100 { c } else { '?' })
        .collect();
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(&latin);
    println!(
        "CSV: {n} rows, {:.1} MB UTF-8, {:.1} MB Windows-1252",
        utf8.len() as f64 / 1e6,
        cp1252.len() as f64 / 1e6
    );

    for (label, bytes) in [("UTF-8", &utf8[..]), ("Windows-1252", &cp1252[..])] {
        let (t0, c0) = (Instant::now(), cpu_ms());
        let table = read_table(bytes).expect("readable");
        let t_parse = t0.elapsed();
        let mapping = Mapping::auto(&table.headers, ImportKind::Persons);
        let t1 = Instant::now();
        let mut next = 0u64;
        let plan = plan_person_import(
            &table,
            &mapping,
            &[],
            &ImportOptions::new(today),
            &mut || {
                next += 1;
                PersonId(format!("00000000-0000-4000-8000-{next:012x}"))
            },
        )
        .unwrap();
        let t_plan = t1.elapsed();
        let total = t0.elapsed();
        let cpu = cpu_ms() - c0;
        println!(
            "import {label}: decode+parse {:.0} ms, map+validate+plan {:.0} ms, total wall {:.0} ms \
             = {:.0} rows/s; CPU {:.0} ms = {:.0} rows/s ({} new, {} skipped, {} errors, {} warnings)",
            t_parse.as_secs_f64() * 1e3,
            t_plan.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            n as f64 / total.as_secs_f64(),
            cpu,
            n as f64 / (cpu.max(1.0) / 1e3),
            plan.inserts.len(),
            plan.skipped.len(),
            plan.errors.len(),
            plan.warnings.len()
        );
        if label == "UTF-8" {
            let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
            for w in &plan.warnings {
                *kinds.entry(w.message.de.as_str()).or_default() += 1;
            }
            let mut kinds: Vec<_> = kinds.into_iter().collect();
            kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
            for (msg, count) in kinds.iter().take(3) {
                println!("  warning ×{count}: {msg}");
            }
        }
    }

    // Re-import against the same persons as existing records: every row is a duplicate
    // (by patient number or name + birth date) and updates its record.
    let table = read_table(&utf8).unwrap();
    let mapping = Mapping::auto(&table.headers, ImportKind::Persons);
    let mut options = ImportOptions::new(today);
    options.on_duplicate = DuplicateAction::Update;
    let (t, c) = (Instant::now(), cpu_ms());
    let plan = plan_person_import(&table, &mapping, &persons, &options, &mut || {
        PersonId::default()
    })
    .unwrap();
    let el = t.elapsed();
    let cpu = cpu_ms() - c;
    println!(
        "re-import against {} existing (update): map+validate+plan wall {:.0} ms = {:.0} rows/s; \
         CPU {:.0} ms = {:.0} rows/s ({} updates, {} new, {} skipped)",
        persons.len(),
        el.as_secs_f64() * 1e3,
        n as f64 / el.as_secs_f64(),
        cpu,
        n as f64 / (cpu.max(1.0) / 1e3),
        plan.updates.len(),
        plan.inserts.len(),
        plan.skipped.len()
    );
}
