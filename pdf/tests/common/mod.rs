//! Helpers shared by the poppler-based PDF tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use praxisbote_pdf::{generate_batch, BatchJob};

/// `test-artifacts/` at the workspace root (kept for review).
pub fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("test-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Generates the batch, writes it to `test-artifacts/<name>` and returns the path and size.
pub fn write_pdf(name: &str, job: &BatchJob) -> (PathBuf, usize) {
    let bytes = generate_batch(job, |_, _| {}, || false).expect("PDF");
    assert!(bytes.starts_with(b"%PDF-"));
    let p = out_dir().join(name);
    std::fs::write(&p, &bytes).unwrap();
    (p, bytes.len())
}

/// Runs a poppler tool; panics when it is missing or fails. Returns stdout and stderr.
pub fn tool_output(cmd: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} missing (apt-get install poppler-utils): {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd} {args:?} failed: {stderr}");
    (String::from_utf8(out.stdout).expect("utf-8"), stderr)
}

/// A numeric attribute (`xMin="12.3"`) of a `pdftotext -bbox` tag.
#[allow(dead_code)] // not every test file reads bounding boxes
pub fn attr(tag: &str, name: &str) -> f32 {
    let key = format!("{name}=\"");
    let s = tag.find(&key).unwrap() + key.len();
    let e = s + tag[s..].find('"').unwrap();
    tag[s..e].parse().unwrap()
}
