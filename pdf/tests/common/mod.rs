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

/// A valid 8-bit PNG of `w` × `h` pixels, RGB or RGBA, coloured by `pixel(x, y)` (the alpha
/// byte is used only with `alpha`); stored deflate block, real CRCs, no image crate.
#[allow(dead_code)] // not every test file draws a logo
pub fn png(w: u32, h: u32, alpha: bool, pixel: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            let p = pixel(x, y);
            raw.extend_from_slice(&p[..if alpha { 4 } else { 3 }]);
        }
    }
    // zlib stream with one stored block.
    let mut z = vec![0x78, 0x01, 1];
    z.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    z.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    z.extend_from_slice(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, if alpha { 6 } else { 2 }, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}
