//! The recovery key sheet ("Notfallschlüssel", issue 17) checked with poppler-utils
//! (`pdfinfo`, `pdftotext`): one A4 page that holds the key, the practice, the date and the
//! instructions.

// Shared helpers; this file uses only some of them.
#[allow(dead_code)]
mod common;

use chrono::NaiveDate;
use praxisbote_pdf::{generate_recovery_sheet, RecoverySheetJob};

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
