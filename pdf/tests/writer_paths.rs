//! Checks of the direct writer with poppler-utils: repeating page parts as Form XObjects,
//! inline once there are too many distinct ones, size per page, the logo image.

#[allow(dead_code)] // each test uses some of the shared helpers
mod common;

use std::path::Path;

use chrono::NaiveDate;
use praxisbote_core::domain::letter::Letter;
use praxisbote_core::domain::{PostalAddress, PracticeSettings};
use praxisbote_pdf::BatchJob;

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
        phone: "030 1234567".into(),
        ..Default::default()
    }
}

/// Letter `i`: its own name and, with `own_dates`, its own date (so the information block
/// differs from letter to letter).
fn letter(i: usize, own_dates: bool) -> Letter {
    let day = if own_dates { 1 + i as u32 % 28 } else { 26 };
    Letter {
        recipient: vec![
            "Frau".into(),
            format!("Zoë Öztürk-{i}"),
            "Hauptstraße 1".into(),
            "12345 Musterstadt".into(),
        ],
        return_address: String::new(),
        date: NaiveDate::from_ymd_opt(2026, 10, day).unwrap(),
        subject: "Erinnerung".into(),
        salutation: format!("Sehr geehrte Frau Öztürk-{i},"),
        body: vec!["wir erinnern Sie an Ihren Termin. Bitte bringen Sie Ihre Karte mit.".into()],
        closing: "Mit freundlichen Grüßen".into(),
        signature: vec!["Praxis Sonnenschein".into()],
    }
}

fn job(n: usize, own_dates: bool, logo_png: Option<Vec<u8>>) -> BatchJob {
    BatchJob {
        title: "Serienbrief Prüfung".into(),
        created: NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        practice: practice(),
        letters: (0..n).map(|i| letter(i, own_dates)).collect(),
        duplex: false,
        logo_png,
        letterhead: None,
    }
}

use common::write_pdf as write;

/// A poppler tool that must neither fail nor complain on stderr.
fn tool(cmd: &str, args: &[&str]) -> String {
    let (stdout, stderr) = common::tool_output(cmd, args);
    assert!(stderr.is_empty(), "{cmd} {args:?} complained: {stderr}");
    stdout
}

/// Text of page `p` (1-based).
fn page_text(pdf: &Path, p: usize) -> String {
    let p = p.to_string();
    tool(
        "pdftotext",
        &["-f", &p, "-l", &p, "-layout", pdf.to_str().unwrap(), "-"],
    )
}

#[test]
fn every_page_has_its_own_and_the_repeating_text() {
    // Same information block (one form) and different dates (more forms than MAX_FORMS, so
    // the rest is drawn inline): both must read the same to poppler.
    for own_dates in [false, true] {
        let n = praxisbote_pdf::MAX_FORMS * 2 + 3;
        let (pdf, _) = write(
            &format!("writer-dates-{own_dates}.pdf"),
            &job(n, own_dates, None),
        );
        let info = tool("pdfinfo", &[pdf.to_str().unwrap()]);
        assert!(info.contains(&format!("Pages:           {n}")), "{info}");
        for i in 0..n {
            let t = page_text(&pdf, i + 1);
            let day = if own_dates { 1 + i % 28 } else { 26 };
            for want in [
                format!("Zoë Öztürk-{i}"),
                format!("Sehr geehrte Frau Öztürk-{i},"),
                format!("{day:02}.10.2026"),
                "Praxis Sonnenschein".into(),
                "Lindenweg 3 · 12345 Musterstadt".into(),
                "Mit freundlichen Grüßen".into(),
            ] {
                assert!(t.contains(&want), "page {} lacks {want:?}:\n{t}", i + 1);
            }
        }
    }
}

#[test]
fn additional_pages_cost_at_most_one_and_a_half_kilobytes() {
    let (_, one) = write("writer-size-1.pdf", &job(1, false, None));
    let (_, many) = write("writer-size-101.pdf", &job(101, false, None));
    let per_page = (many - one) / 100;
    assert!(per_page <= 1536, "{per_page} bytes per page");
    // The fonts are embedded once, not per page.
    assert!(one > 10 * per_page, "1 page {one} B, per page {per_page} B");
}

/// A valid RGB (or RGBA) PNG of `w` × `h` pixels.
fn png(w: u32, h: u32, alpha: bool) -> Vec<u8> {
    common::png(w, h, alpha, |x, y| {
        [(x * 40) as u8, (y * 40) as u8, 128, 255 - (x * 40) as u8]
    })
}

#[test]
fn batches_with_a_logo_draw_it_on_every_page() {
    for alpha in [false, true] {
        let (pdf, _) = write(
            &format!("writer-logo-{alpha}.pdf"),
            &job(3, false, Some(png(6, 3, alpha))),
        );
        let list = tool("pdfimages", &["-list", pdf.to_str().unwrap()]);
        // Header lines, then per page the 6 × 3 image (and its soft mask with alpha).
        let rows: Vec<Vec<&str>> = list
            .lines()
            .skip(2)
            .map(|r| r.split_whitespace().collect())
            .collect();
        let kinds: Vec<&str> = if alpha {
            vec!["image", "smask"]
        } else {
            vec!["image"]
        };
        assert_eq!(rows.len(), 3 * kinds.len(), "{list}");
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r[0], (i / kinds.len() + 1).to_string(), "{list}");
            assert_eq!(r[2], kinds[i % kinds.len()], "{list}");
            assert_eq!((r[3], r[4]), ("6", "3"), "{list}");
        }
        for i in 0..3 {
            assert!(page_text(&pdf, i + 1).contains(&format!("Zoë Öztürk-{i}")));
        }
    }
}
