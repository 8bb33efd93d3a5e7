//! Address labels and DL envelopes checked with poppler-utils (`pdftotext -bbox`,
//! `pdfinfo`): every address lies inside its label cell on the right page, page counts
//! follow the sheet format, envelopes are 220 × 110 mm with the address in its zone.

// Shared helpers; this file uses only some of them.
#[allow(dead_code)]
mod common;

use chrono::NaiveDate;
use praxisbote_core::domain::labels::{
    LabelFormat, LabelJob, LabelKind, DL_ADDRESS_TOP_MM, DL_ADDRESS_X_MM, DL_HEIGHT_MM, DL_WIDTH_MM,
};
use praxisbote_core::domain::{PostalAddress, PracticeSettings};
use praxisbote_pdf::generate_labels;

const MM_PER_PT: f32 = 25.4 / 72.0;

/// One word of `pdftotext -bbox`, in mm from the page's top-left.
#[derive(Debug)]
struct Word {
    page: usize,
    text: String,
    x_min: f32,
    y_min: f32,
    x_max: f32,
    y_max: f32,
}

fn words(pdf: &std::path::Path) -> Vec<Word> {
    let html = common::tool_output("pdftotext", &["-bbox", pdf.to_str().unwrap(), "-"]).0;
    let mut out = Vec::new();
    let mut page = 0;
    for part in html.split('<').skip(1) {
        if part.starts_with("page ") {
            page += 1;
        } else if let Some(rest) = part.strip_prefix("word ") {
            let (attrs, text) = rest.split_once('>').unwrap();
            out.push(Word {
                page,
                text: text.to_string(),
                x_min: common::attr(attrs, "xMin") * MM_PER_PT,
                y_min: common::attr(attrs, "yMin") * MM_PER_PT,
                x_max: common::attr(attrs, "xMax") * MM_PER_PT,
                y_max: common::attr(attrs, "yMax") * MM_PER_PT,
            });
        }
    }
    out
}

fn info(pdf: &std::path::Path, key: &str) -> String {
    let out = common::tool_output("pdfinfo", &[pdf.to_str().unwrap()]).0;
    out.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("{key} missing in {out}"))
        .trim()
        .to_string()
}

fn practice() -> PracticeSettings {
    PracticeSettings {
        name: "Praxis Sonnenschein".into(),
        address: PostalAddress {
            street: "Lindenweg".into(),
            house_number: "3".into(),
            postcode: "12345".into(),
            city: "Musterstadt".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Address `n` carries the token "K{n:02}" in its name line.
fn address(n: usize) -> Vec<String> {
    vec![
        if n.is_multiple_of(2) { "Frau" } else { "Herrn" }.into(),
        format!("Dr. Jürgen K{n:02} Größlich-Weiß"),
        "Schloßallee 4".into(),
        "01067 Dresden".into(),
    ]
}

fn job(kind: LabelKind, n: usize, skip: usize) -> LabelJob {
    LabelJob {
        title: "Adressetiketten".into(),
        created: NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        practice: practice(),
        kind,
        addresses: (1..=n).map(address).collect(),
        skip,
    }
}

fn write(name: &str, job: &LabelJob) -> (std::path::PathBuf, usize) {
    let (bytes, pages) = generate_labels(job).expect("PDF");
    let p = common::out_dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    (p, pages)
}

#[test]
fn labels_sit_in_their_cells_on_the_right_page() {
    // (format, addresses, skip, pages)
    let cases = [
        (LabelFormat::A4x24, 25, 0, 2),
        (LabelFormat::A4x24Margin, 24, 0, 1),
        (LabelFormat::A4x21, 21, 0, 1),
        (LabelFormat::A4x21, 22, 0, 2),
        (LabelFormat::A4x21Short, 5, 19, 2),
    ];
    for (format, n, skip, pages) in cases {
        let name = format!("labels-{}-{n}-{skip}.pdf", format.code());
        let (pdf, counted) = write(&name, &job(LabelKind::Sheet(format), n, skip));
        assert_eq!(counted, pages, "{name}");
        assert_eq!(info(&pdf, "Pages:"), pages.to_string(), "{name}");
        assert!(
            info(&pdf, "Page size:").starts_with("595.28 x 841.89"),
            "{name}"
        );
        let ws = words(&pdf);
        let g = format.geometry();
        let per_page = g.cols * g.rows;
        for k in 1..=n {
            let token = format!("K{k:02}");
            let w = ws
                .iter()
                .find(|w| w.text == token)
                .unwrap_or_else(|| panic!("{name}: {token} missing"));
            let slot = k - 1 + skip;
            let (page, cell) = (slot / per_page + 1, slot % per_page);
            let (col, row) = (cell % g.cols, cell / g.cols);
            let (cx, cy) = (g.left + col as f32 * g.w, g.top + row as f32 * g.h);
            assert_eq!(w.page, page, "{name}: {token}");
            assert!(
                w.x_min >= cx + 4.0 && w.x_max <= cx + g.w - 4.0,
                "{name}: {token} at x {:.1}–{:.1}, cell {cx:.1}–{:.1}",
                w.x_min,
                w.x_max,
                cx + g.w
            );
            assert!(
                w.y_min >= cy && w.y_max <= cy + g.h,
                "{name}: {token} at y {:.1}–{:.1}, cell {cy:.1}–{:.1}",
                w.y_min,
                w.y_max,
                cy + g.h
            );
            // The whole block of this label is in the same cell: its city line too.
            let city = ws
                .iter()
                .filter(|c| c.page == page && c.text == "Dresden")
                .find(|c| {
                    c.x_min >= cx
                        && c.x_max <= cx + g.w
                        && c.y_min >= w.y_max
                        && c.y_max <= cy + g.h
                });
            assert!(city.is_some(), "{name}: city of {token} not in its cell");
        }
        // Umlauts and ß extract as written.
        assert!(ws.iter().any(|w| w.text == "Größlich-Weiß"), "{name}");
    }
}

#[test]
fn dl_envelopes_are_220_by_110_with_sender_and_address_zone() {
    let (pdf, pages) = write("envelopes-dl.pdf", &job(LabelKind::EnvelopeDl, 3, 0));
    assert_eq!(pages, 3);
    assert_eq!(info(&pdf, "Pages:"), "3");
    let size = info(&pdf, "Page size:");
    assert!(size.starts_with("623.62 x 311.81"), "{size}");
    let ws = words(&pdf);
    for page in 1..=3 {
        let token = format!("K{page:02}");
        let w = ws.iter().find(|w| w.text == token).expect("recipient");
        assert_eq!(w.page, page);
        assert!(
            w.x_min >= DL_ADDRESS_X_MM && w.x_max <= DL_WIDTH_MM - 10.0,
            "{w:?}"
        );
        assert!(
            w.y_min >= DL_ADDRESS_TOP_MM && w.y_max <= DL_HEIGHT_MM - 15.0,
            "{w:?}"
        );
        let sender = ws
            .iter()
            .find(|w| w.page == page && w.text == "Sonnenschein")
            .expect("sender");
        assert!(sender.x_max < 80.0 && sender.y_max < 25.0, "{sender:?}");
    }
}

#[test]
fn impossible_addresses_are_refused_with_their_number() {
    let mut j = job(LabelKind::Sheet(LabelFormat::A4x24), 3, 0);
    j.addresses[1] = (0..14).map(|i| format!("Zeile {i}")).collect();
    let e = match generate_labels(&j) {
        Ok(_) => panic!("14 lines fit on a 37 mm label"),
        Err(e) => e,
    };
    assert!(
        e.to_string()
            .starts_with("Adresse 2 (Zeile 0) hat 14 Zeilen"),
        "{e}"
    );
}
