//! The practice letterhead checked with poppler-utils: the logo inside the DIN 5008 header
//! zone on page 1 (`pdfimages -list` and the rendered page), the business details in the
//! footer of every page, the short header on following pages, JPEG logos embedded as they are.

#[allow(dead_code)] // each test uses some of the shared helpers
mod common;

use std::path::Path;

use chrono::NaiveDate;
use praxisbote_core::domain::letter::Letter;
use praxisbote_core::domain::{
    BusinessDetails, LetterForm, Letterhead, LetterheadLogo, LogoPosition,
};
use praxisbote_pdf::BatchJob;

/// Form B header zone: the full width, 45 mm high.
const HEADER_ZONE_B_MM: f32 = 45.0;

const PARAGRAPH: &str = "wir möchten Sie an Ihren nächsten Termin in unserer Praxis erinnern. \
Bitte bringen Sie Ihre Versichertenkarte und, falls vorhanden, aktuelle Befunde mit. \
Sollten Sie den Termin nicht wahrnehmen können, sagen Sie bitte spätestens 24 Stunden \
vorher ab, damit wir ihn an andere Patientinnen und Patienten vergeben können.";

fn letter(name: &str, paragraphs: usize) -> Letter {
    Letter {
        recipient: vec![
            "Frau".into(),
            name.into(),
            "Hauptstraße 1".into(),
            "12345 Musterstadt".into(),
        ],
        return_address: String::new(),
        date: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        subject: "Erinnerung an Ihren Termin".into(),
        salutation: "Sehr geehrte Frau Öztürk,".into(),
        body: (0..paragraphs).map(|_| PARAGRAPH.to_string()).collect(),
        closing: "Mit freundlichen Grüßen".into(),
        signature: vec!["Praxis Sonnenschein".into()],
    }
}

fn letterhead(logo: Option<Vec<u8>>, width_mm: f32, position: LogoPosition) -> Letterhead {
    Letterhead {
        logo: logo.map(|bytes| LetterheadLogo {
            bytes,
            width_mm,
            position,
        }),
        details: vec![
            "Praxis für Physiotherapie und Osteopathie".into(),
            "Inhaberin Maria Schmidt".into(),
        ],
        business: BusinessDetails {
            bank: "Berliner Bank".into(),
            iban: "DE02 1203 0000 0000 2020 51".into(),
            bic: "BYLADEM1001".into(),
            tax_number: "123/456/78901".into(),
            register: "Partnerschaftsregister AG Essen PR 1234".into(),
        },
    }
}

/// A one-page letter, then one of three pages.
fn job(form: LetterForm, lh: Option<Letterhead>) -> BatchJob {
    BatchJob {
        title: "Serienbrief Briefkopf".into(),
        created: NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        practice: common::practice(form),
        letters: vec![letter("Zoë Öztürk", 1), letter("Ayşe Yılmaz", 20)],
        duplex: false,
        logo_png: None,
        letterhead: lh,
    }
}

fn tool(cmd: &str, args: &[&str]) -> String {
    common::tool_output(cmd, args).0
}

fn pages(pdf: &Path) -> usize {
    let info = tool("pdfinfo", &[pdf.to_str().unwrap()]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn page_text(pdf: &Path, p: usize) -> String {
    let p = p.to_string();
    tool(
        "pdftotext",
        &["-f", &p, "-l", &p, "-layout", pdf.to_str().unwrap(), "-"],
    )
}

#[test]
fn the_logo_sits_inside_the_header_zone_on_page_one_at_its_width_and_side() {
    // 60 × 30 px red logo, 40 mm wide (so 20 mm high).
    for (position, x0) in [(LogoPosition::Left, 25.0), (LogoPosition::Right, 150.0)] {
        let lh = letterhead(Some(png_red(60, 30)), 40.0, position);
        let name = format!("letterhead-logo-{position:?}.pdf");
        let (pdf, _) = common::write_pdf(&name, &job(LetterForm::B, Some(lh)));
        assert_eq!(pages(&pdf), 4);
        // Drawn on each letter's first page only (pages 1 and 2), 60 × 30 px at 40 mm.
        let imgs = common::images(&pdf);
        let on: Vec<usize> = imgs.iter().map(|i| i.0).collect();
        assert_eq!(on, vec![1, 2], "{imgs:?}");
        for (_, kind, w, h, _, ppi) in &imgs {
            assert_eq!((kind.as_str(), *w, *h), ("image", 60, 30));
            let width_mm = 60.0 / ppi * 25.4;
            assert!((width_mm - 40.0).abs() < 0.5, "{width_mm} mm");
        }
        let (bx0, by0, bx1, by1) = common::red_box(&pdf, 1, &name).expect("logo drawn on page 1");
        assert!((bx0 - x0).abs() < 1.0, "{position:?}: x {bx0}");
        assert!((bx1 - (x0 + 40.0)).abs() < 1.0, "{position:?}: x1 {bx1}");
        assert!(by0 >= 9.0 && by1 <= HEADER_ZONE_B_MM, "y {by0}..{by1}");
        assert!((by1 - by0 - 20.0).abs() < 1.0, "height {}", by1 - by0);
        // Page 3 (the long letter's second page) has no logo.
        assert!(common::red_box(&pdf, 3, &name).is_none());
        // The name and the details block sit beside the logo, inside the header zone.
        let lines = common::page_lines(&pdf, 1);
        for want in [
            "Praxis Sonnenschein",
            "Praxis für Physiotherapie und Osteopathie",
            "Inhaberin Maria Schmidt",
        ] {
            let l = lines
                .iter()
                .find(|l| l.0 == want)
                .unwrap_or_else(|| panic!("{want:?} not in {lines:?}"));
            assert!(l.2 <= HEADER_ZONE_B_MM, "{want:?} ends at {} mm", l.2);
        }
    }
}

#[test]
fn a_too_tall_logo_is_shrunk_into_the_header_zone() {
    // 20 × 60 px at 60 mm wide would be 180 mm high.
    for form in [LetterForm::A, LetterForm::B] {
        let lh = letterhead(Some(png_red(20, 60)), 60.0, LogoPosition::Right);
        let name = format!("letterhead-tall-{form:?}.pdf");
        let (pdf, _) = common::write_pdf(&name, &job(form, Some(lh)));
        let zone = if form == LetterForm::A { 27.0 } else { 45.0 };
        let (_, y0, _, y1) = common::red_box(&pdf, 1, &name).unwrap();
        assert!(y0 >= 4.0 && y1 <= zone, "{form:?}: {y0}..{y1}");
    }
}

#[test]
fn business_details_are_in_the_footer_of_every_page() {
    let lh = letterhead(None, 40.0, LogoPosition::Right);
    let (pdf, _) = common::write_pdf(
        "letterhead-footer.pdf",
        &job(LetterForm::B, Some(lh.clone())),
    );
    let n = pages(&pdf);
    assert_eq!(n, 4, "one letter of one page, one of three");
    for p in 1..=n {
        let lines = common::page_lines(&pdf, p);
        for want in [
            "Berliner Bank · IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001",
            "Steuernummer 123/456/78901 · Partnerschaftsregister AG Essen PR 1234",
        ] {
            let l = lines
                .iter()
                .find(|l| l.0 == want)
                .unwrap_or_else(|| panic!("page {p} lacks {want:?}: {lines:?}"));
            assert!(l.1 > 261.0 && l.2 < 290.0, "page {p}: {want:?} at {}", l.1);
        }
        // The business details replace the plain bank line.
        assert!(!page_text(&pdf, p).contains("Alte Bankzeile"));
    }
    // Without a letterhead the letters look as before: the plain bank line, no details.
    let (plain, _) = common::write_pdf("letterhead-none.pdf", &job(LetterForm::B, None));
    assert_eq!(pages(&plain), 4);
    let t = page_text(&plain, 1);
    assert!(t.contains("Alte Bankzeile"), "{t}");
    assert!(!t.contains("IBAN") && !t.contains("Inhaberin"), "{t}");
    assert!(common::images(&plain).is_empty());
}

#[test]
fn following_pages_have_the_short_header() {
    let lh = letterhead(Some(png_red(60, 30)), 40.0, LogoPosition::Left);
    let (pdf, _) = common::write_pdf("letterhead-follow.pdf", &job(LetterForm::B, Some(lh)));
    // Pages 3 and 4 are pages 2 and 3 of the long letter.
    for (p, k) in [(3, 2), (4, 3)] {
        let lines = common::page_lines(&pdf, p);
        let top: Vec<&String> = lines.iter().filter(|l| l.2 < 25.0).map(|l| &l.0).collect();
        let joined = top
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" | ");
        assert!(joined.contains("Praxis Sonnenschein"), "page {p}: {joined}");
        assert!(
            joined.contains(&format!("Seite {k} von 3")),
            "page {p}: {joined}"
        );
        // No letterhead details block on following pages.
        assert!(!page_text(&pdf, p).contains("Inhaberin"));
    }
}

#[test]
fn jpeg_logos_are_embedded_as_they_are() {
    // SOI, APP0 (JFIF), SOF0 (8 bit, 48 × 24, 3 components), EOI: enough for the header
    // parser and for `pdfimages -list`, which reads the image dictionary.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    jpeg.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 8, 0, 24, 0, 48, 3]);
    jpeg.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    assert_eq!(praxisbote_pdf::jpeg_info(&jpeg), Some((48, 24, 3)));
    let lh = letterhead(Some(jpeg), 30.0, LogoPosition::Right);
    let (pdf, _) = common::write_pdf("letterhead-jpeg.pdf", &job(LetterForm::B, Some(lh)));
    let imgs = common::images(&pdf);
    assert_eq!(imgs.len(), 2, "{imgs:?}");
    for (_, _, w, h, enc, ppi) in &imgs {
        assert_eq!((*w, *h, enc.as_str()), (48, 24, "jpeg"));
        assert!((48.0 / ppi * 25.4 - 30.0).abs() < 0.5);
    }
    // Something that is neither PNG nor JPEG is refused with a message.
    let bad = letterhead(Some(b"<svg/>".to_vec()), 30.0, LogoPosition::Right);
    let err = praxisbote_pdf::generate_batch(&job(LetterForm::B, Some(bad)), |_, _| {}, || false)
        .unwrap_err();
    assert!(err.to_string().contains("Logo"), "{err}");
}

/// A solid red RGB PNG of `w` × `h` pixels.
fn png_red(w: u32, h: u32) -> Vec<u8> {
    common::png(w, h, false, |_, _| [255, 0, 0, 255])
}
