//! Helpers shared by the poppler-based PDF tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use praxisbote_core::domain::{LetterForm, PostalAddress, PracticeSettings};
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

/// Millimetres per PDF point.
#[allow(dead_code)]
pub const MM_PER_PT: f32 = 25.4 / 72.0;

/// Lines of one page from `pdftotext -bbox-layout` as (text, yMin mm, yMax mm).
#[allow(dead_code)] // not every test file uses it
pub fn page_lines(pdf: &Path, p: usize) -> Vec<(String, f32, f32)> {
    let ps = p.to_string();
    let html = tool_output(
        "pdftotext",
        &[
            "-f",
            &ps,
            "-l",
            &ps,
            "-bbox-layout",
            pdf.to_str().unwrap(),
            "-",
        ],
    )
    .0;
    let mut out = Vec::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find("<line ") {
        rest = &rest[i..];
        let tag = &rest[..=rest.find('>').unwrap()];
        let close = rest.find("</line>").unwrap();
        let mut words = Vec::new();
        let mut b = &rest[..close];
        while let Some(w) = b.find("<word ") {
            b = &b[w..];
            let gt = b.find('>').unwrap();
            let we = b.find("</word>").unwrap();
            words.push(b[gt + 1..we].replace("&amp;", "&"));
            b = &b[we..];
        }
        out.push((
            words.join(" "),
            attr(tag, "yMin") * MM_PER_PT,
            attr(tag, "yMax") * MM_PER_PT,
        ));
        rest = &rest[close..];
    }
    out
}

/// `pdfimages -list` rows: (page, type, width, height, enc, x-ppi).
#[allow(dead_code)] // not every test file uses it
pub fn images(pdf: &Path) -> Vec<(usize, String, usize, usize, String, f32)> {
    let list = tool_output("pdfimages", &["-list", pdf.to_str().unwrap()]).0;
    list.lines()
        .skip(2)
        .map(|r| {
            let c: Vec<&str> = r.split_whitespace().collect();
            (
                c[0].parse().unwrap(),
                c[2].to_string(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
                c[8].to_string(),
                c[12].parse().unwrap(),
            )
        })
        .collect()
}

/// Bounding box (x0, y0, x1, y1 in mm) of the pure red pixels of page `p` rendered at 72 dpi.
#[allow(dead_code)] // not every test file uses it
pub fn red_box(pdf: &Path, p: usize, name: &str) -> Option<(f32, f32, f32, f32)> {
    let prefix = out_dir().join(format!("{}-p{p}", name.trim_end_matches(".pdf")));
    let ps = p.to_string();
    tool_output(
        "pdftoppm",
        &[
            "-r",
            "72",
            "-f",
            &ps,
            "-l",
            &ps,
            "-singlefile",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let ppm = std::fs::read(format!("{}.ppm", prefix.display())).unwrap();
    // "P6\n<w> <h>\n255\n" then RGB samples.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while ppm[i].is_ascii_whitespace() {
            i += 1;
        }
        let s = i;
        while !ppm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[s..i]).into_owned());
    }
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let data = &ppm[i + 1..];
    let mut bb: Option<(usize, usize, usize, usize)> = None;
    for y in 0..h {
        for x in 0..w {
            let px = &data[3 * (y * w + x)..3 * (y * w + x) + 3];
            if px[0] > 200 && px[1] < 60 && px[2] < 60 {
                bb = Some(match bb {
                    None => (x, y, x, y),
                    Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
                });
            }
        }
    }
    bb.map(|(a, b, c, d)| {
        (
            a as f32 * MM_PER_PT,
            b as f32 * MM_PER_PT,
            (c + 1) as f32 * MM_PER_PT,
            (d + 1) as f32 * MM_PER_PT,
        )
    })
}

/// The practice of the letterhead tests ("Praxis Sonnenschein", with a bank line) in `form`.
pub fn practice(form: LetterForm) -> PracticeSettings {
    PracticeSettings {
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
        bank_details: "Alte Bankzeile".into(),
        letter_form: form,
        ..Default::default()
    }
}
