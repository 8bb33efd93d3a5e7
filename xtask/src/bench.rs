//! `cargo xtask bench`: the benchmarks, each printing its own figures.

use crate::setup;
use crate::util::{self, Result};

/// Native builds use a speed profile (the workspace release profile is tuned for wasm size).
const NATIVE_SPEED: &[(&str, &str)] = &[
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3"),
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
    ("CARGO_PROFILE_BENCH_OPT_LEVEL", "3"),
    ("CARGO_PROFILE_BENCH_LTO", "false"),
    ("CARGO_PROFILE_BENCH_CODEGEN_UNITS", "16"),
];

/// Every benchmark, by name, with the command that runs it.
fn benches() -> Vec<(&'static str, Vec<&'static str>, bool)> {
    // (name, cargo args, native speed profile?)
    let mut v = vec![
        (
            "select",
            vec!["run", "--release", "--example", "bench_select"],
            false,
        ),
        (
            "render",
            vec!["run", "--release", "--example", "bench_render"],
            true,
        ),
        (
            "import",
            vec!["run", "--release", "--example", "bench_import"],
            false,
        ),
        (
            "relay",
            vec!["bench", "-p", "praxisbote-relay", "--bench", "throughput"],
            true,
        ),
    ];
    if util::root().join("pdf/examples/bench_letters.rs").exists() {
        v.push((
            "letters",
            vec![
                "run",
                "--release",
                "-p",
                "praxisbote-pdf",
                "--example",
                "bench_letters",
            ],
            true,
        ));
    }
    v
}

pub fn run(args: &[String]) -> Result<()> {
    setup::ensure_build_tools()?;
    let mut only = None;
    let mut baseline_rev = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            // Another commit's build, measured in the same run (bundle, start).
            "--baseline" => baseline_rev = Some(it.next().ok_or("--baseline needs a commit")?),
            name => only = Some(name),
        }
    }
    let baseline = match baseline_rev {
        Some(rev) => Some((rev.as_str(), util::build_baseline(rev)?)),
        None => None,
    };
    let baseline = baseline.as_ref().map(|(l, d)| (*l, d.as_path()));
    if only.is_none_or(|o| o == "bundle") {
        bundle_size(baseline)?;
    }
    if only.is_none_or(|o| o == "start") {
        setup::ensure_test_packages()?;
        // Builds dist/ and the relay, serves both builds, starts chromedriver.
        let c = crate::test::e2e_with(
            &["--ignored", "--nocapture", "bench_start_and_memory"],
            baseline,
        )?;
        if c.failed > 0 || c.passed == 0 {
            return Err("the start-up benchmark failed".into());
        }
    }
    if only.is_none_or(|o| o == "start-locked") {
        setup::ensure_test_packages()?;
        // An encrypted practice of 10,000 persons: navigation → lock screen → passphrase →
        // Argon2id → patient list (issue 17).
        let c =
            crate::test::e2e_with(&["--ignored", "--nocapture", "bench_start_encrypted"], None)?;
        if c.failed > 0 || c.passed == 0 {
            return Err("the encrypted start-up benchmark failed".into());
        }
    }
    if only.is_none_or(|o| o == "idb") {
        setup::ensure_test_packages()?;
        println!("\n## IndexedDB bulk insert vs. plain JavaScript put loop (headless Chromium)");
        util::run(&mut browser_bench("bench_idb", None, 600))?;
    }
    if only.is_none_or(|o| o == "import-idb") {
        setup::ensure_test_packages()?;
        println!("\n## CSV import of 100,000 rows into IndexedDB (headless Chromium)");
        util::run(&mut browser_bench("bench_import_idb", None, 900))?;
    }
    if only.is_none_or(|o| o == "scale") {
        setup::ensure_test_packages()?;
        println!(
            "\n## 100,000 generated persons through IndexedDB in headless Chromium (load {})",
            load_average()
        );
        run_tee(&mut browser_bench("browser_scale", Some("scale_100k"), 900))?;
    }
    if only.is_none_or(|o| o == "sync") {
        setup::ensure_test_packages()?;
        setup::ensure_pouchdb_browser()?;
        println!(
            "\n## Initial sync from pouchdb-server on loopback: PouchDB's replicator vs. praxisbote's (headless Chromium, load {})",
            load_average()
        );
        app_sync_bench()?;
        // `BENCH_SYNC_POUCHDB=0`: praxisbote's side only (while working on it).
        if std::env::var("BENCH_SYNC_POUCHDB").as_deref() != Ok("0") {
            // Builds dist/ and the relay, starts chromedriver; the test starts pouchdb-server.
            let c =
                crate::test::e2e_with(&["--ignored", "--nocapture", "bench_sync_initial"], None)?;
            if c.failed > 0 || c.passed == 0 {
                return Err("the sync benchmark failed".into());
            }
        }
        println!("(load after the sync benchmark: {})", load_average());
    }
    if only.is_none_or(|o| o == "send") {
        send_bench()?;
    }
    if only.is_none_or(|o| o == "pdf-worker") && util::root().join("tests/e2e/letters.rs").exists()
    {
        // Builds dist/ (release, with the worker) and the relay, starts chromedriver.
        let c = crate::test::e2e_with(&["--ignored", "--nocapture", "bench_pdf_worker"], None)?;
        if c.failed > 0 || c.passed == 0 {
            return Err("the PDF worker benchmark failed".into());
        }
    }
    for (name, cargo_args, speed) in benches() {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        println!("\n## {name}");
        let mut c = util::cargo();
        c.args(&cargo_args);
        if speed {
            c.envs(NATIVE_SPEED.iter().copied());
        }
        if matches!(name, "render" | "letters") {
            // The Python peer (Jinja2, ReportLab) from the benchmarks' own virtualenv.
            c.env("PYTHON", setup::python_baselines()?);
        }
        let out = run_tee(&mut c)?;
        if let Some(test) = browser_test(name) {
            browser_vs_native(name, test, &out)?;
        }
    }
    Ok(())
}

/// The browser benchmark (in `tests/bench_browser.rs`) that belongs to a native benchmark.
fn browser_test(name: &str) -> Option<&'static str> {
    match name {
        "select" => Some("bench_select_browser"),
        "render" => Some("bench_render_browser"),
        _ => None,
    }
}

/// Runs a command, echoing and returning its stdout; error when it fails.
fn run_tee(c: &mut std::process::Command) -> Result<String> {
    use std::io::BufRead;
    eprintln!("$ {}", util::show(c));
    let mut child = c.stdout(std::process::Stdio::piped()).spawn()?;
    let mut all = String::new();
    for line in std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?).lines() {
        let line = line?;
        println!("{line}");
        all.push_str(&line);
        all.push('\n');
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("`{}` failed with {status}", util::show(c)).into());
    }
    Ok(all)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// One `BENCH` line: side, label, median ms, min ms, runs, result.
struct BenchLine {
    side: String,
    label: String,
    median: f64,
    min: f64,
    result: String,
}

fn bench_lines(out: &str) -> Vec<BenchLine> {
    out.lines()
        .filter_map(|l| {
            // The browser runner may prefix console lines; start at "BENCH\t".
            let l = &l[l.find("BENCH\t")?..];
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 7).then(|| BenchLine {
                side: f[1].to_string(),
                label: f[2].to_string(),
                median: f[3].parse().unwrap_or(f64::NAN),
                min: f[4].parse().unwrap_or(f64::NAN),
                result: f[6..].join("\t"),
            })
        })
        .collect()
}

/// The same workload in headless Chromium (wasm, `--release` = the app's profile) and
/// natively with the same profile (`examples/bench_pair.rs`), plus any other `BENCH` lines
/// of the native benchmark (`native-speed`, `jinja2`); prints medians and ratios.
fn browser_vs_native(name: &str, test: &str, native_detail: &str) -> Result<()> {
    setup::ensure_test_packages()?;
    println!(
        "\n## {name}: headless Chromium vs. native, same release profile (load {})",
        load_average()
    );
    let native =
        run_tee(util::cargo().args(["run", "--release", "--example", "bench_pair", "--", name]))?;
    let browser = run_tee(&mut browser_bench("bench_browser", Some(test), 900))?;
    let mut lines = bench_lines(&browser);
    lines.extend(bench_lines(&native));
    lines.extend(bench_lines(native_detail));
    let find = |side: &str, label: &str| lines.iter().find(|l| l.side == side && l.label == label);
    println!(
        "\n### {name}: summary (median ms, min in parentheses; load {})",
        load_average()
    );
    println!("| step | browser (wasm) | native (same profile) | browser / native | same result |");
    println!("|---|---:|---:|---:|---|");
    for b in lines.iter().filter(|l| l.side == "browser") {
        match find("native", &b.label) {
            Some(n) => println!(
                "| {} | {:.2} ({:.2}) | {:.2} ({:.2}) | {:.2}× | {} |",
                b.label,
                b.median,
                b.min,
                n.median,
                n.min,
                b.median / n.median,
                if b.result == n.result { "yes" } else { "NO" }
            ),
            None => println!(
                "| {} | {:.2} ({:.2}) | – | – | – |",
                b.label, b.median, b.min
            ),
        }
    }
    if name == "render" {
        render_goal(&lines);
    }
    for o in lines
        .iter()
        .filter(|l| l.side != "browser" && l.side != "native")
    {
        let b = find("browser", &o.label);
        let n = find("native", &o.label);
        println!(
            "{} {}: {:.2} ms ({:.2}){}{}{}",
            o.side,
            o.label,
            o.median,
            o.min,
            b.map_or(String::new(), |b| format!(
                "; {} / browser = {:.2}×",
                o.side,
                o.median / b.median
            )),
            n.map_or(String::new(), |n| format!(
                "; {} / native = {:.2}×",
                o.side,
                o.median / n.median
            )),
            b.map_or(String::new(), |b| format!(
                "; same output as browser: {}",
                if b.result == o.result { "yes" } else { "NO" }
            )),
        );
    }
    Ok(())
}

/// The modules of a built `dist/`: (name, when loaded, directory). The UI is one module (the
/// app's wasm and JS at the root, with the JS snippets it imports); builds before the merge
/// had a second UI module, the workbench.
const GROUPS: [(&str, &str, &str); 4] = [
    ("UI module", "at start", ""),
    (
        "workbench (second UI module, old builds)",
        "first use of sending, log, templates, import, backup or settings",
        "workbench",
    ),
    (
        "template engine",
        "first template use / demo generation",
        "engine",
    ),
    ("PDF worker", "first PDF", "pdf"),
];

/// Issue 14's goal: rendering in the browser, context building included, ≥ 5× faster than
/// Jinja2 rendering the same template and contexts (prebuilt) in the same run.
fn render_goal(lines: &[BenchLine]) {
    let find = |side: &str, suffix: &str| {
        lines
            .iter()
            .find(|l| l.side == side && l.label.ends_with(suffix))
    };
    if let (Some(j), Some(b)) = (
        find("jinja2", "render only"),
        find("browser", "context+render"),
    ) {
        let (med, min) = (j.median / b.median, j.min / b.min);
        println!(
            "goal: Jinja2 render only / browser context+render = {med:.2}× on medians, {min:.2}× on minima (≥ 5×: {})",
            if med >= 5.0 { "met" } else { "NOT met" }
        );
    }
}

/// Sizes (raw, gzip -9) of each module of a `dist/`: its wasm and JS files and the JS
/// snippets its JS imports (Trunk copies every snippet into every module directory; only the
/// imported ones count). Prints the files; returns (group name, raw, gzip) per module present.
fn bundle_figures(dist: &std::path::Path) -> Result<Vec<(&'static str, u64, u64)>> {
    let mut out = Vec::new();
    for (name, when, dir) in GROUPS {
        let root = dist.join(dir);
        if !root.is_dir() {
            continue;
        }
        let shown = if dir.is_empty() {
            "dist/".to_string()
        } else {
            format!("dist/{dir}/")
        };
        println!("\n### {name} ({shown}, loaded {when})");
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        for e in std::fs::read_dir(&root)? {
            let path = e?.path();
            let file = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let module = if dir.is_empty() {
                file.starts_with("praxisbote-")
            } else {
                file.starts_with("praxisbote-") || dir == "pdf" && file.ends_with(".js")
            };
            if path.is_file() && module && (file.ends_with(".wasm") || file.ends_with(".js")) {
                files.push(path);
            }
        }
        if dir == "pdf" {
            // The worker's loader sits at the root of dist/.
            files.push(dist.join("pdf-worker-loader.js"));
        }
        let mut snippets = Vec::new();
        for js in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "js"))
        {
            let text = std::fs::read_to_string(js)?;
            for part in text.split(['"', '\'']).filter(|p| p.contains("snippets/")) {
                let rel = part.trim_start_matches("./");
                let path = js.parent().unwrap_or(&root).join(rel);
                if path.is_file() && !snippets.contains(&path) {
                    snippets.push(path);
                }
            }
        }
        files.extend(snippets);
        files.sort();
        let (mut raw, mut gz) = (0, 0);
        for path in files.iter().filter(|p| p.is_file()) {
            let (r, g) = (std::fs::metadata(path)?.len(), gzip_size(path)?);
            println!(
                "{:<64} {:>8.1} KB raw {:>8.1} KB gzip",
                path.strip_prefix(dist)?.display(),
                r as f64 / 1024.0,
                g as f64 / 1024.0
            );
            raw += r;
            gz += g;
        }
        println!(
            "{name}: {:.1} KB raw, {:.1} KB gzip -9",
            raw as f64 / 1024.0,
            gz as f64 / 1024.0
        );
        out.push((name, raw, gz));
    }
    Ok(out)
}

/// Bundle sizes (issue 14: UI module ≤ 700 KB, all modules ≤ 3.3 MB gzip -9), of this build
/// and, with a baseline, of that build in the same run.
fn bundle_size(baseline: Option<(&str, &std::path::Path)>) -> Result<()> {
    util::build_dist(true)?;
    println!("\n## Bundle: this build (dist/, KB = 1024 bytes)");
    let this = bundle_figures(&util::root().join("dist"))?;
    let old = match baseline {
        Some((label, dist)) => {
            println!(
                "\n## Bundle: baseline {label} ({}, KB = 1024 bytes)",
                dist.display()
            );
            Some((label, bundle_figures(dist)?))
        }
        None => None,
    };
    println!("\n## Bundle summary (gzip -9, KB = 1024 bytes)");
    let head = old
        .as_ref()
        .map(|(l, _)| format!(" {l} |"))
        .unwrap_or_default();
    println!("| module | this build |{head} goal |");
    println!("|---|---:|{}---|", if old.is_some() { "---:|" } else { "" });
    let kb = |v: &[(&str, u64, u64)], name: &str| {
        v.iter()
            .find(|(n, _, _)| *n == name)
            .map_or("–".to_string(), |(_, _, g)| {
                format!("{:.1} KB", *g as f64 / 1024.0)
            })
    };
    for (name, _, _) in GROUPS {
        let goal = if name == "UI module" {
            "≤ 700 KB"
        } else {
            ""
        };
        let o = old
            .as_ref()
            .map(|(_, v)| format!(" {} |", kb(v, name)))
            .unwrap_or_default();
        println!("| {name} | {} |{o} {goal} |", kb(&this, name));
    }
    let total = |v: &[(&str, u64, u64)]| {
        format!(
            "{:.1} KB",
            v.iter().map(|(_, _, g)| *g).sum::<u64>() as f64 / 1024.0
        )
    };
    let o = old
        .as_ref()
        .map(|(_, v)| format!(" {} |", total(v)))
        .unwrap_or_default();
    println!(
        "| all modules | {} |{o} ≤ 3.3 MB (read strictly: 3,300 KB) |",
        total(&this)
    );
    Ok(())
}

/// Issue 7: 5,000 e-mails queued in the app's IndexedDB outbox and transmitted by the app's
/// loop to a relay in demo mode (`tests/bench_send.rs`, headless Chromium).
fn send_bench() -> Result<()> {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    setup::ensure_test_packages()?;
    println!("\n## Sending 5,000 e-mails app → relay (demo mode, headless Chromium)");
    let relay_bin = util::build_relay()?;
    let data = crate::test::tempdir("praxisbote-bench-send")?;
    let mut child = Command::new(relay_bin)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("relay stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(l)) => {
                if let Some(i) = l.find("listening on ") {
                    break l[i + "listening on ".len()..].trim().to_string();
                }
            }
            _ => {
                let _ = child.kill();
                return Err("the relay did not start".into());
            }
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let r = util::run(browser_bench("bench_send", None, 600).env("PB_BENCH_RELAY", &url));
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
    r
}

/// Issue 18, praxisbote's side: `tests/bench_sync.rs` in headless Chromium against a fresh
/// pouchdb-server per size (CORS for any origin: the test page's port is random) — device A
/// pushes N sealed persons, device B joins and gets them all, device C replicates alone.
fn app_sync_bench() -> Result<()> {
    let sizes: Vec<u64> = std::env::var("BENCH_SYNC_N")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    for n in sizes {
        let server = crate::couch::Couch::start("127.0.0.1", &["*".to_string()])?;
        let db = format!("{}/{}", server.url(), crate::couch::DB);
        println!("\n### praxisbote: {n} persons (server {db})");
        run_tee(
            browser_bench("bench_sync", None, 1800)
                .env("PB_BENCH_COUCH", &db)
                .env("PB_BENCH_COUCH_USER", crate::couch::USER)
                .env("PB_BENCH_COUCH_PASSWORD", crate::couch::PASSWORD)
                .env("PB_BENCH_SYNC_N", n.to_string()),
        )?;
    }
    Ok(())
}

fn gzip_size(path: &std::path::Path) -> Result<u64> {
    Ok(util::output(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("gzip -9 -c '{}' | wc -c", path.display())),
    )
    .and_then(|s| s.trim().parse::<u64>().ok())
    .ok_or("gzip failed")?)
}

/// `cargo test --release` of one wasm-bindgen-test benchmark file in headless Chromium
/// (ignored tests included, output shown), optionally filtered to one test.
fn browser_bench(test: &str, filter: Option<&str>, timeout_secs: u32) -> std::process::Command {
    let mut c = util::cargo();
    c.args([
        "test",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "--test",
        test,
        "--",
        "--include-ignored",
        "--nocapture",
    ]);
    c.args(filter)
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            crate::wasm_runner::runner_env(),
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", timeout_secs.to_string());
    c
}
