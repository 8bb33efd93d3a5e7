//! The recovery key sheet ("Notfallschlüssel", issue 17) checked with poppler-utils
//! (`pdfinfo`, `pdftotext`, `pdfimages`, `pdftoppm`): one A4 page that holds the key, the
//! practice, the date and the instructions; with the practice's letterhead (issue 19) the
//! logo sits in the header zone, the business details in the footer and the sheet between.

// Shared helpers; this file uses only some of them.
#[allow(dead_code)]
mod common;

use std::path::PathBuf;

use chrono::NaiveDate;
use praxisbote_core::domain::{
    BusinessDetails, LetterForm, Letterhead, LetterheadLogo, LogoPosition,
};
use praxisbote_pdf::{generate_recovery_sheet, RecoverySheetJob, SheetLetterhead};

const KEY: &str = "7K3M-Q9WZ-X2HV-TP4R-AB1C-DEFG-HJ56-NRST-VWXY-Z08M-4GQ2-P7KJ-RT9V";

fn job() -> RecoverySheetJob {
    RecoverySheetJob {
        title: "Notfallschlüssel".into(),
        created: NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(4, 30, 0)
            .unwrap(),
        practice: "Praxis für Ergotherapie Müller & Söhne".into(),
        created_line: "Erstellt am 05.12.2026".into(),
        key: KEY.into(),
        paragraphs: vec![
            "Dieser Schlüssel entsperrt alle Patientendaten der Praxis, auch ohne Passphrase."
                .into(),
            "Er ist nirgends sonst gespeichert. Bewahren Sie dieses Blatt verschlossen auf, \
             nicht am Empfang und nicht beim Gerät."
                .into(),
        ],
        letterhead: None,
    }
}

#[test]
fn the_sheet_is_one_a4_page_with_the_key_and_the_instructions() {
    let bytes = generate_recovery_sheet(&job()).expect("PDF");
    assert!(bytes.starts_with(b"%PDF-"));
    let path = common::out_dir().join("recovery-sheet.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_str().unwrap();

    let info = common::tool_output("pdfinfo", &[p]).0;
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(info.contains("x 841.89 pts (A4)"), "{info}");
    assert!(info.contains("Title:           Notfallschlüssel"), "{info}");

    let text = common::tool_output("pdftotext", &["-layout", p, "-"]).0;
    // The key: every character, in order (each is drawn in its own cell, so the gaps
    // pdftotext sees between them do not count).
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        squeezed.contains(&KEY.replace('-', "")),
        "key missing in\n{text}"
    );
    // Four characters a group: a group's characters stand closer than two groups.
    let first_line = text
        .lines()
        .find(|l| l.trim_start().starts_with('7'))
        .expect("first key row");
    let groups: Vec<String> = first_line
        .split("   ")
        .map(|g| g.split_whitespace().collect::<String>())
        .filter(|g| !g.is_empty())
        .collect();
    assert!(groups.len() >= 2, "{first_line:?}");
    assert_eq!(groups[0], "7K3M", "{first_line:?}");
    assert_eq!(groups[1], "Q9WZ", "{first_line:?}");

    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Notfallschlüssel",
        "Praxis für Ergotherapie Müller & Söhne",
        "Erstellt am 05.12.2026",
        "entsperrt alle Patientendaten",
        "nirgends sonst gespeichert",
    ] {
        assert!(flat.contains(want), "{want} missing in\n{text}");
    }
}

#[test]
fn a_sheet_without_a_key_is_refused() {
    let mut j = job();
    j.key = String::new();
    let e = generate_recovery_sheet(&j).unwrap_err();
    assert_eq!(e.to_string(), "Der Notfallschlüssel fehlt.");
}

/// The app's four instructions (`lock.sheet_*` in `src/i18n/de.txt`), so the room the sheet
/// needs between header and footer is the real one.
fn app_paragraphs() -> Vec<String> {
    let de = include_str!("../../src/i18n/de.txt");
    let p: Vec<String> = ["unlocks", "nowhere", "keep", "use"]
        .iter()
        .map(|k| {
            let key = format!("lock.sheet_{k} = ");
            de.lines()
                .find_map(|l| l.strip_prefix(key.as_str()))
                .unwrap_or_else(|| panic!("{key} missing"))
                .to_string()
        })
        .collect();
    p
}

fn with_letterhead(form: LetterForm, logo: Option<Vec<u8>>) -> RecoverySheetJob {
    let mut j = job();
    j.practice = "Praxis Sonnenschein".into();
    j.paragraphs = app_paragraphs();
    j.letterhead = Some(SheetLetterhead {
        settings: common::practice(form),
        letterhead: Letterhead {
            logo: logo.map(|bytes| LetterheadLogo {
                bytes,
                width_mm: 40.0,
                position: LogoPosition::Left,
            }),
            details: vec!["Inhaberin Maria Schmidt".into()],
            business: BusinessDetails {
                bank: "Berliner Bank".into(),
                iban: "DE02 1203 0000 0000 2020 51".into(),
                bic: "BYLADEM1001".into(),
                tax_number: "123/456/78901".into(),
                register: String::new(),
            },
        },
    });
    j
}

fn write(name: &str, job: &RecoverySheetJob) -> PathBuf {
    let bytes = generate_recovery_sheet(job).expect("PDF");
    let path = common::out_dir().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

const FOOTER_RULE_MM: f32 = 261.0;
const BUSINESS_LINE: &str = "Berliner Bank · IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001";

/// The letterhead's header lines, the business details at the bottom, and everything else
/// (the sheet itself) between the header zone and the footer rule.
fn assert_header_sheet_footer(pdf: &std::path::Path, zone: f32) {
    let info = common::tool_output("pdfinfo", &[pdf.to_str().unwrap()]).0;
    assert!(info.contains("Pages:           1"), "{info}");
    let lines = common::page_lines(pdf, 1);
    let find = |want: &str| {
        lines
            .iter()
            .find(|l| l.0 == want)
            .unwrap_or_else(|| panic!("{want:?} not in {lines:?}"))
            .clone()
    };
    // Header: name, address line, details block, all inside the zone.
    let mut header = Vec::new();
    for want in [
        "Praxis Sonnenschein",
        "Lindenweg 3 · 12345 Musterstadt",
        "Inhaberin Maria Schmidt",
    ] {
        let l = find(want);
        assert!(l.2 <= zone, "{want:?} ends at {} mm (zone {zone})", l.2);
        header.push(l);
    }
    // Footer: the "Geschäftsangaben" at the bottom, instead of the plain bank line.
    let foot = find(BUSINESS_LINE);
    assert!(foot.1 > FOOTER_RULE_MM && foot.2 < 290.0, "{foot:?}");
    assert!(find("Steuernummer 123/456/78901").1 > FOOTER_RULE_MM);
    assert!(!lines.iter().any(|l| l.0.contains("Alte Bankzeile")));
    // The sheet: title, practice, key rows and instructions between header and footer.
    let sheet: Vec<&(String, f32, f32)> = lines
        .iter()
        .filter(|l| !header.contains(l) && l.2 <= FOOTER_RULE_MM - 1.0 && l.1 >= zone - 0.01)
        .collect();
    let rest: Vec<&(String, f32, f32)> = lines
        .iter()
        .filter(|l| {
            !header.contains(l) && !sheet.contains(l) && l.1 < FOOTER_RULE_MM && !l.0.is_empty()
        })
        .collect();
    // Whatever is above the footer and not the sheet is the header's contact line.
    assert!(
        rest.iter().all(|l| l.0.starts_with("Tel. ") && l.2 <= zone),
        "outside the sheet's room: {rest:?}"
    );
    assert_eq!(sheet[0].0, "Notfallschlüssel", "{sheet:?}");
    let flat = sheet
        .iter()
        .map(|l| l.0.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let squeezed: String = flat.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(squeezed.contains(&KEY.replace('-', "")), "{flat}");
    for want in [
        "Erstellt am 05.12.2026",
        "nicht mehr lesbar",
        "keine Rolle.",
    ] {
        assert!(
            flat.contains(want),
            "{want:?} not between header and footer: {flat}"
        );
    }
}

#[test]
fn with_a_letterhead_the_logo_is_in_the_header_zone_and_the_business_details_at_the_bottom() {
    // 60 × 30 px red logo at 40 mm (20 mm high; Form A's 27 mm zone shrinks it).
    for (form, zone) in [(LetterForm::B, 45.0), (LetterForm::A, 27.0)] {
        let name = format!("recovery-letterhead-{form:?}.pdf");
        let pdf = write(
            &name,
            &with_letterhead(
                form,
                Some(common::png(60, 30, false, |_, _| [255, 0, 0, 255])),
            ),
        );
        let imgs = common::images(&pdf);
        assert_eq!(imgs.len(), 1, "{imgs:?}");
        assert_eq!((imgs[0].0, imgs[0].2, imgs[0].3), (1, 60, 30), "{imgs:?}");
        let (x0, y0, _, y1) = common::red_box(&pdf, 1, &name).expect("logo drawn");
        assert!((x0 - 25.0).abs() < 1.0, "{form:?}: x {x0}");
        assert!(y0 >= 4.0 && y1 <= zone, "{form:?}: logo {y0}..{y1} mm");
        assert_header_sheet_footer(&pdf, zone);
    }
}

#[test]
fn without_a_letterhead_the_sheet_is_unchanged() {
    let plain = generate_recovery_sheet(&job()).unwrap();
    // A job from before the letterhead existed (no field) makes the very same PDF.
    let mut old = serde_json::to_value(job()).unwrap();
    old.as_object_mut().unwrap().remove("letterhead");
    let old: RecoverySheetJob = serde_json::from_value(old).unwrap();
    assert_eq!(generate_recovery_sheet(&old).unwrap(), plain);
    let path = write("recovery-plain.pdf", &job());
    assert!(common::images(&path).is_empty());
    let lines = common::page_lines(&path, 1);
    // The title where it always was (top of its glyph box ≈ 30 mm), no footer.
    let title = lines.iter().find(|l| l.0 == "Notfallschlüssel").unwrap();
    assert!((title.1 - 30.0).abs() < 2.0, "{title:?}");
    assert!(lines.iter().all(|l| l.2 < 200.0), "{lines:?}");
    assert!(!lines.iter().any(|l| l.0.contains("IBAN")));
}

#[test]
fn a_real_jpeg_logo_is_embedded_as_dct_at_its_size() {
    // A real baseline JPEG (64 × 32, red), made here with the `image` crate's encoder.
    let mut jpeg = Vec::new();
    let rgb: Vec<u8> = [230u8, 20, 20].repeat(64 * 32);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode(&rgb, 64, 32, image::ExtendedColorType::Rgb8)
        .unwrap();
    assert_eq!(praxisbote_pdf::jpeg_info(&jpeg), Some((64, 32, 3)));
    assert!(jpeg.windows(2).any(|w| w == [0xFF, 0xC0]), "baseline SOF0");
    let job = with_letterhead(LetterForm::B, Some(jpeg.clone()));
    let bytes = generate_recovery_sheet(&job).unwrap();
    // Embedded unchanged.
    assert!(bytes.windows(jpeg.len()).any(|w| w == jpeg.as_slice()));
    let name = "recovery-letterhead-jpeg.pdf";
    let pdf = common::out_dir().join(name);
    std::fs::write(&pdf, &bytes).unwrap();
    let imgs = common::images(&pdf);
    assert_eq!(imgs.len(), 1, "{imgs:?}");
    let (page, kind, w, h, enc, ppi) = &imgs[0];
    assert_eq!(
        (*page, kind.as_str(), *w, *h, enc.as_str()),
        (1, "image", 64, 32, "jpeg")
    );
    assert!((64.0 / ppi * 25.4 - 40.0).abs() < 0.5, "{ppi} ppi");
    // pdftoppm decodes it: the red logo inside the header zone.
    let (x0, y0, x1, y1) = common::red_box(&pdf, 1, name).expect("JPEG logo drawn");
    assert!(
        (x0 - 25.0).abs() < 1.0 && (x1 - 65.0).abs() < 1.0,
        "{x0}..{x1}"
    );
    assert!(y0 >= 9.0 && y1 <= 45.0, "{y0}..{y1}");
    assert_header_sheet_footer(&pdf, 45.0);
}
