//! The consent proof ("Einwilligungsnachweis", issue 19 item 2) on the practice's letterhead,
//! checked with poppler-utils: every event of a long history is in the table, the table
//! breaks onto further pages with its header repeated, the business details are in the footer
//! of every page and the logo is on the first page only.

// Shared helpers; this file uses only some of them.
#[allow(dead_code)]
mod common;

use chrono::NaiveDate;
use praxisbote_core::domain::consent::proof::EVENT_HEADERS;
use praxisbote_core::domain::{
    BusinessDetails, LetterForm, Letterhead, LetterheadLogo, LogoPosition,
};
use praxisbote_pdf::{generate_consent_proof, ConsentProofJob, SheetLetterhead};

fn job(rows: usize, logo: Option<Vec<u8>>) -> ConsentProofJob {
    ConsentProofJob {
        title: "Einwilligungsnachweis".into(),
        created: NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(9, 15, 0)
            .unwrap(),
        practice: "Praxis Sonnenschein".into(),
        person_line: "Jürgen Öztürk (Personen-ID p-42)".into(),
        created_line: "Erstellt am 05.12.2026 · Art. 7 Abs. 1 DSGVO".into(),
        empty_line: "Für diese Person sind keine Einwilligungen erfasst.".into(),
        headers: EVENT_HEADERS.iter().map(|h| h.to_string()).collect(),
        rows: (0..rows)
            .map(|i| {
                vec![
                    if i % 2 == 0 { "E-Mail" } else { "SMS" }.into(),
                    "Terminerinnerung".into(),
                    if i % 3 == 2 { "widerrufen" } else { "erteilt" }.into(),
                    format!("{:02}.{:02}.2026", i % 28 + 1, i / 28 + 1),
                    ["schriftlich", "Online-Formular", "Double-Opt-in"][i % 3].into(),
                    ["Praxis", "Abmeldelink", "Double-Opt-in"][i % 3].into(),
                    format!("Bogen Nr. {i} in der Akte"),
                    if i % 3 == 2 { "widerrufen" } else { "erteilt" }.into(),
                ]
            })
            .collect(),
        letterhead: Some(SheetLetterhead {
            settings: common::practice(LetterForm::B),
            letterhead: Letterhead {
                logo: logo.map(|bytes| LetterheadLogo {
                    bytes,
                    width_mm: 40.0,
                    position: LogoPosition::Right,
                }),
                details: vec!["Inhaberin Maria Schmidt".into()],
                business: BusinessDetails {
                    bank: "Berliner Bank".into(),
                    iban: "DE02 1203 0000 0000 2020 51".into(),
                    bic: String::new(),
                    tax_number: "123/456/78901".into(),
                    register: String::new(),
                },
            },
        }),
        sections: Vec::new(),
    }
}

#[test]
fn a_long_history_fills_several_pages_on_the_letterhead() {
    let logo = common::png(60, 30, false, |_, _| [200, 0, 0, 255]);
    let (bytes, pages) = generate_consent_proof(&job(150, Some(logo))).expect("PDF");
    let path = common::out_dir().join("consent-proof.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_str().unwrap();
    let info = common::tool_output("pdfinfo", &[p]).0;
    assert!(pages >= 3, "{pages}");
    assert!(
        info.contains(&format!("Pages:           {pages}")),
        "{info}"
    );
    assert!(
        info.contains("Title:           Einwilligungsnachweis"),
        "{info}"
    );

    let mut seen = Vec::new();
    for page in 1..=pages {
        let n = page.to_string();
        let text = common::tool_output("pdftotext", &["-f", &n, "-l", &n, "-layout", p, "-"]).0;
        assert!(
            text.contains("IBAN DE02 1203 0000 0000 2020 51"),
            "footer on page {page}:\n{text}"
        );
        assert!(text.contains("Nachweis"), "table header on page {page}");
        seen.extend(
            text.split_whitespace()
                .filter(|w| w.ends_with(".2026"))
                .map(str::to_owned),
        );
        // The longest values of their columns are not broken inside a word.
        for word in [
            "Online-Formular",
            "Double-Opt-in",
            "Abmeldelink",
            "widerrufen",
            "Terminerinnerung",
        ] {
            assert!(text.contains(word), "{word} broken on page {page}:\n{text}");
        }
        if page == 1 {
            for want in [
                "Einwilligungsnachweis",
                "Jürgen Öztürk (Personen-ID p-42)",
                "Praxis Sonnenschein",
            ] {
                assert!(text.contains(want), "{want} missing on page 1:\n{text}");
            }
        }
    }
    // Every event's date exactly once (the created line's date is not a table cell).
    seen.retain(|d| d != "05.12.2026");
    seen.sort();
    let mut want: Vec<String> = job(150, None).rows.iter().map(|r| r[3].clone()).collect();
    want.sort();
    assert_eq!(seen, want);

    let images = common::images(&path);
    assert_eq!(images.len(), 1, "{images:?}");
    assert_eq!(
        (images[0].0, images[0].2, images[0].3),
        (1, 60, 30),
        "logo on page 1"
    );
}

#[test]
fn without_events_the_proof_says_so() {
    let (bytes, pages) = generate_consent_proof(&job(0, None)).expect("PDF");
    assert_eq!(pages, 1);
    let path = common::out_dir().join("consent-proof-empty.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let text = common::tool_output("pdftotext", &[path.to_str().unwrap(), "-"]).0;
    assert!(
        text.contains("Für diese Person sind keine Einwilligungen erfasst."),
        "{text}"
    );
}
