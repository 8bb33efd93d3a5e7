//! `cargo xtask bench`: the benchmarks, each printing its own figures.

use crate::setup;
use crate::util::{self, Result};

pub fn run(_args: &[String]) -> Result<()> {
    setup::ensure_build_tools()?;
    bundle_size()
}

/// Main bundle size: the app's wasm and js in dist/, gzip -9 (goal ≤ 350 KB).
fn bundle_size() -> Result<()> {
    util::build_dist(true)?;
    let dist = util::root().join("dist");
    let mut total_raw = 0u64;
    let mut total_gz = 0u64;
    println!("\n## Main bundle (dist/, gzip -9)");
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let main_part = (name.ends_with(".wasm") || name.ends_with(".js"))
            && name.starts_with("praxisbote-")
            && !name.contains("pdf");
        if !main_part {
            continue;
        }
        let raw = std::fs::metadata(&path)?.len();
        let gz = util::output(
            std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("gzip -9 -c '{}' | wc -c", path.display())),
        )
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or("gzip failed")?;
        println!(
            "{name:<48} {:>8.1} KB raw {:>8.1} KB gzip",
            raw as f64 / 1024.0,
            gz as f64 / 1024.0
        );
        total_raw += raw;
        total_gz += gz;
    }
    println!(
        "main bundle total: {:.1} KB raw, {:.1} KB gzip -9 (goal <= 350 KB)",
        total_raw as f64 / 1024.0,
        total_gz as f64 / 1024.0
    );
    Ok(())
}
