//! Benchmark: render 10,000 personalised messages natively with minijinja, side by side with
//! Python Jinja2 rendering the same template and the same contexts in the same run.
//!
//! Run (figures in BENCHMARKS.md):
//!   CARGO_PROFILE_RELEASE_OPT_LEVEL=3 cargo run --release --example bench_render
//! Environment: `PYTHON` (default `python3`, needs Jinja2; `cargo xtask bench render` sets it to
//! its virtualenv with the pinned Jinja2), `N` (default 10000),
//! `ROUNDS` (default `RENDER_RUNS`, 11).

use std::time::Instant;

#[path = "../tests/bench_common/mod.rs"]
mod bench_common;
use bench_common::{digest, render_people as people, render_practice};

use praxisbote::domain::placeholders::MessageContext;
use praxisbote::domain::render::Renderer;
use praxisbote::domain::template::{shipped_id, shipped_template, Language};
use praxisbote::domain::{Appointment, Channel, Person, Purpose};

/// CPU time of the current thread in ms (Linux: /proc/thread-self/schedstat), so that a
/// loaded machine (other builds) does not inflate the figures. `None` elsewhere.
fn thread_cpu_ms() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e6)
}

/// Runs `f` `rounds` times; returns (best wall ms, median wall ms, best CPU ms).
fn measure<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, f64, Option<f64>, T) {
    let mut wall = Vec::new();
    let mut cpu: Option<f64> = None;
    let mut last = None;
    for _ in 0..rounds {
        let c0 = thread_cpu_ms();
        let t = Instant::now();
        let out = f();
        wall.push(t.elapsed().as_secs_f64() * 1000.0);
        if let (Some(a), Some(b)) = (c0, thread_cpu_ms()) {
            cpu = Some(cpu.map_or(b - a, |c: f64| c.min(b - a)));
        }
        last = Some(out);
    }
    let best = wall.iter().cloned().fold(f64::MAX, f64::min);
    (best, median(wall), cpu, last.unwrap())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(bench_common::RENDER_RUNS);
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());

    let template = shipped_template(&shipped_id(
        Language::De,
        Channel::Email,
        Purpose::AppointmentReminder,
    ))
    .expect("shipped template");
    let source = template.body.clone();
    let practice = render_practice();
    let people = people(n);
    let builder = bench_common::render_builder(&practice);
    let build =
        |x: &(Person, Appointment)| -> MessageContext { bench_common::render_context(&builder, x) };

    let renderer = Renderer::new(Language::De);
    let compiled = renderer.compile(&source).expect("compiles");

    // End to end: the batch's context builder, each recipient's context from Person +
    // Appointment, then render.
    let (best_e2e, med_e2e, cpu_e2e, outputs) = measure(rounds, || {
        let b = bench_common::render_builder(&practice);
        people
            .iter()
            .map(|x| {
                compiled
                    .render(&bench_common::render_context(&b, x))
                    .expect("render")
            })
            .collect::<Vec<_>>()
    });
    // Context building alone.
    let (best_ctx, _, cpu_ctx, _) = measure(rounds, || {
        let b = bench_common::render_builder(&practice);
        people
            .iter()
            .map(|x| bench_common::render_context(&b, x).to_value())
            .collect::<Vec<_>>()
    });
    // Render only, with prebuilt context values (what Jinja2 measures below).
    let values: Vec<_> = people.iter().map(|x| build(x).to_value()).collect();
    let (best_render, med_render, cpu_render, _) = measure(rounds, || {
        values
            .iter()
            .map(|v| compiled.render_value(v.clone()).expect("render"))
            .collect::<Vec<_>>()
    });

    for (label, med, best) in [
        ("context+render", med_e2e, best_e2e),
        ("render only", med_render, best_render),
    ] {
        println!(
            "BENCH\tnative-speed\trender {n} messages: {label}\t{med:.3}\t{best:.3}\t{rounds}\toutput digest {}",
            digest(&outputs)
        );
    }
    let fmt_cpu = |c: Option<f64>| c.map_or("n/a".to_string(), |c| format!("{c:.2} ms"));
    println!(
        "template: {} ({} bytes), messages: {n}, rounds: {rounds}",
        template.id,
        source.len()
    );
    println!(
        "minijinja  context+render: wall best {best_e2e:.2} ms, median {med_e2e:.2} ms; CPU best {} ({:.2} µs/message wall)",
        fmt_cpu(cpu_e2e),
        best_e2e * 1000.0 / n as f64
    );
    println!(
        "minijinja  context only:   wall best {best_ctx:.2} ms; CPU best {}",
        fmt_cpu(cpu_ctx)
    );
    println!(
        "minijinja  render only:    wall best {best_render:.2} ms, median {med_render:.2} ms; CPU best {} ({:.2} µs/message wall)",
        fmt_cpu(cpu_render),
        best_render * 1000.0 / n as f64
    );
    let e2e_goal = cpu_e2e.unwrap_or(best_e2e).min(best_e2e);
    println!(
        "goal ≤ 50 ms for {n} messages (context+render, best of wall/CPU {e2e_goal:.2} ms): {}",
        if e2e_goal <= 50.0 { "met" } else { "NOT met" }
    );

    // Jinja2 on the same template and the same contexts.
    let dir = std::env::temp_dir().join(format!("pb-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tpl_path = dir.join("template.j2");
    let ctx_path = dir.join("contexts.json");
    let out_path = dir.join("jinja2-out.txt");
    std::fs::write(&tpl_path, &source).unwrap();
    std::fs::write(&ctx_path, serde_json::to_string(&values).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/jinja2_render.py");
    let res = std::process::Command::new(&python)
        .arg(script)
        .arg(&tpl_path)
        .arg(&ctx_path)
        .arg(&out_path)
        .arg(rounds.to_string())
        .output();
    match res {
        Ok(o) if o.status.success() => {
            let line = String::from_utf8_lossy(&o.stdout);
            let v: serde_json::Value = serde_json::from_str(line.trim()).expect("python output");
            let py_best = v["best_ms"].as_f64().unwrap();
            let py_cpu = v["best_cpu_ms"].as_f64();
            let py_out = std::fs::read_to_string(&out_path).unwrap();
            let same = py_out == outputs.join("\0");
            println!(
                "Jinja2 {}  render only:    best {py_best:.2} ms ({:.2} µs/message)",
                v["version"].as_str().unwrap_or("?"),
                py_best * 1000.0 / n as f64
            );
            println!("Jinja2 CPU best: {}", fmt_cpu(py_cpu));
            println!("identical output to Jinja2: {same}");
            // Machine-readable lines for `cargo xtask bench render` (browser/native/Jinja2).
            let py_outputs: Vec<String> = py_out.split('\0').map(str::to_string).collect();
            let py_rounds: Vec<f64> = v["rounds_ms"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
                .unwrap_or_default();
            let py_med = if py_rounds.is_empty() {
                py_best
            } else {
                median(py_rounds)
            };
            println!(
                "BENCH\tjinja2\trender {n} messages: render only\t{py_med:.3}\t{py_best:.3}\t{rounds}\toutput digest {}",
                digest(&py_outputs)
            );
            if let (Some(pc), Some(rc), Some(ec)) = (py_cpu, cpu_render, cpu_e2e) {
                println!(
                    "ratio on CPU time: render only {:.1}×, vs. context+render {:.1}×",
                    pc / rc,
                    pc / ec
                );
            }
            // Same work on both sides: rendering prebuilt contexts.
            println!(
                "ratio Jinja2 / minijinja (wall): render only {:.1}× (goal ≥ 5×: {}), vs. minijinja context+render {:.1}×",
                py_best / best_render,
                if py_best / best_render >= 5.0 { "met" } else { "NOT met" },
                py_best / best_e2e
            );
        }
        Ok(o) => println!(
            "Jinja2 run failed (pip install jinja2?): {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => println!("could not start {python}: {e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
