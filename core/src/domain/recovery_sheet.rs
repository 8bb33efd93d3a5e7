//! The recovery key as a printable sheet ("Notfallschlüssel", issue 17): one DIN A4 page
//! with the practice's name, the date of creation, the key in large, grouped characters of
//! equal width, and short instructions. Laid out here as positioned text (like letters and
//! labels) and drawn by the PDF worker; the texts come from the app's catalogue.
//!
//! The key travels to the worker only inside the job (in memory, `postMessage`); neither the
//! app nor the worker stores it.
//!
//! Pure: text is measured through [`TextMeasure`]; coordinates are mm from the page's
//! top-left.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::letter::{
    pt_to_mm, wrap_text, FontStyle, Item, LineItem, Page, Role, TextMeasure, PAGE_WIDTH_MM,
};

/// Left and right margin of the sheet (mm).
pub const MARGIN_MM: f32 = 25.0;
/// Size of the key's characters (pt).
pub const KEY_SIZE_PT: f32 = 22.0;
const TITLE_SIZE_PT: f32 = 20.0;
const PRACTICE_SIZE_PT: f32 = 14.0;
const TEXT_SIZE_PT: f32 = 11.0;
/// Characters the key is drawn with (Crockford base32, upper case).
const KEY_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// One recovery sheet for the PDF worker (message `recovery`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoverySheetJob {
    /// Heading and PDF title, e.g. "Notfallschlüssel".
    pub title: String,
    /// Creation time written into the PDF metadata (the caller's local time).
    pub created: NaiveDateTime,
    /// The practice's name ("" when not set yet).
    pub practice: String,
    /// The line under the practice's name, e.g. "Erstellt am 05.12.2026".
    pub created_line: String,
    /// The recovery key as shown (`XXXX-XXXX-…`); groups are split at `-` and spaces.
    pub key: String,
    /// The instructions, one paragraph each.
    pub paragraphs: Vec<String>,
}

impl RecoverySheetJob {
    /// The key's groups of characters, upper case.
    pub fn groups(&self) -> Vec<String> {
        self.key
            .split(|c: char| c == '-' || c.is_whitespace())
            .filter(|g| !g.is_empty())
            .map(str::to_uppercase)
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecoverySheetError {
    #[error("Der Notfallschlüssel fehlt.")]
    NoKey,
}

/// Download name: `Notfallschluessel_2026-12-05.pdf`.
pub fn download_name(date: NaiveDate) -> String {
    format!("Notfallschluessel_{}.pdf", date.format("%Y-%m-%d"))
}

fn run(
    x: f32,
    y: f32,
    text: &str,
    font: FontStyle,
    size_pt: f32,
    role: Role,
    m: &dyn TextMeasure,
) -> Item {
    Item::Text(super::letter::text_run(x, y, text, font, size_pt, role, m))
}

fn line(x1: f32, y1: f32, x2: f32, y2: f32) -> Item {
    Item::Line(LineItem {
        x1,
        y1,
        x2,
        y2,
        width_mm: 0.3,
    })
}

/// Lays out the sheet: one A4 page.
///
/// The key is drawn character by character, each centred in a cell as wide as the widest
/// character of the alphabet (DejaVu Sans has no monospaced face in the worker; equal cells
/// make it read like one), four characters a group, as many groups a row as fit, inside a
/// frame.
pub fn layout_recovery_sheet(
    job: &RecoverySheetJob,
    m: &dyn TextMeasure,
) -> Result<Page, RecoverySheetError> {
    let groups = job.groups();
    if groups.is_empty() {
        return Err(RecoverySheetError::NoKey);
    }
    let width = PAGE_WIDTH_MM - 2.0 * MARGIN_MM;
    let x = MARGIN_MM;
    let mut page = Page::default();
    let mut y = 30.0 + m.ascent_em() * pt_to_mm(TITLE_SIZE_PT);
    page.items.push(run(
        x,
        y,
        &job.title,
        FontStyle::Bold,
        TITLE_SIZE_PT,
        Role::Subject,
        m,
    ));
    y += pt_to_mm(TITLE_SIZE_PT) * 0.6;
    if !job.practice.trim().is_empty() {
        for l in wrap_text(
            job.practice.trim(),
            FontStyle::Bold,
            PRACTICE_SIZE_PT,
            width,
            m,
        ) {
            y += pt_to_mm(PRACTICE_SIZE_PT) * 1.3;
            page.items.push(run(
                x,
                y,
                &l,
                FontStyle::Bold,
                PRACTICE_SIZE_PT,
                Role::Info,
                m,
            ));
        }
    }
    y += pt_to_mm(TEXT_SIZE_PT) * 1.5;
    page.items.push(run(
        x,
        y,
        &job.created_line,
        FontStyle::Regular,
        TEXT_SIZE_PT,
        Role::Info,
        m,
    ));

    // The key in cells of equal width.
    let cell = KEY_ALPHABET
        .chars()
        .map(|c| m.width_mm(c.encode_utf8(&mut [0; 4]), FontStyle::Bold, KEY_SIZE_PT))
        .fold(0.0f32, f32::max)
        * 1.1;
    let group_len = groups.iter().map(|g| g.chars().count()).max().unwrap_or(4);
    let gap = cell * 0.9;
    let pad = 6.0;
    let group_w = cell * group_len as f32;
    let per_row = (((width - 2.0 * pad + gap) / (group_w + gap)).floor() as usize).max(1);
    let rows = groups.len().div_ceil(per_row);
    let pitch = pt_to_mm(KEY_SIZE_PT) * 1.6;
    let row_w = per_row.min(groups.len()) as f32 * (group_w + gap) - gap;
    let left = x + (width - row_w) / 2.0;
    let top = y + 8.0;
    let height = 2.0 * pad
        + (rows as f32 - 1.0) * pitch
        + pt_to_mm(KEY_SIZE_PT) * (m.ascent_em() + m.descent_em());
    for (i, g) in groups.iter().enumerate() {
        let (row, col) = (i / per_row, i % per_row);
        let base = top + pad + m.ascent_em() * pt_to_mm(KEY_SIZE_PT) + row as f32 * pitch;
        let gx = left + col as f32 * (group_w + gap);
        for (k, c) in g.chars().enumerate() {
            let s = c.to_string();
            let w = m.width_mm(&s, FontStyle::Bold, KEY_SIZE_PT);
            let cx = gx + k as f32 * cell + (cell - w) / 2.0;
            page.items.push(run(
                cx,
                base,
                &s,
                FontStyle::Bold,
                KEY_SIZE_PT,
                Role::Body,
                m,
            ));
        }
    }
    let (x2, bottom) = (x + width, top + height);
    page.items.push(line(x, top, x2, top));
    page.items.push(line(x, bottom, x2, bottom));
    page.items.push(line(x, top, x, bottom));
    page.items.push(line(x2, top, x2, bottom));

    // The instructions.
    y = bottom + 6.0;
    let text_pitch = pt_to_mm(TEXT_SIZE_PT) * 1.35;
    for p in &job.paragraphs {
        y += 3.0;
        for l in wrap_text(p, FontStyle::Regular, TEXT_SIZE_PT, width, m) {
            y += text_pitch;
            page.items.push(run(
                x,
                y,
                &l,
                FontStyle::Regular,
                TEXT_SIZE_PT,
                Role::Body,
                m,
            ));
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::letter::TextRun;
    use crate::domain::letter::PAGE_HEIGHT_MM;

    /// Every character 0.6 em wide (a stand-in for the font).
    struct Fixed;
    impl TextMeasure for Fixed {
        fn width_mm(&self, text: &str, _font: FontStyle, size_pt: f32) -> f32 {
            text.chars().count() as f32 * 0.6 * pt_to_mm(size_pt)
        }
    }

    fn job() -> RecoverySheetJob {
        RecoverySheetJob {
            title: "Notfallschlüssel".into(),
            created: NaiveDate::from_ymd_opt(2026, 12, 5)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap(),
            practice: "Praxis Sonnenschein".into(),
            created_line: "Erstellt am 05.12.2026".into(),
            key: "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-ABCD-EFGH-JKMN-PQRS-TVWX".into(),
            paragraphs: vec![
                "Bewahren Sie dieses Blatt sicher auf. ".repeat(8),
                "Kurz.".into(),
            ],
        }
    }

    #[test]
    fn the_key_is_drawn_in_groups_on_one_a4_page() {
        let page = layout_recovery_sheet(&job(), &Fixed).unwrap();
        let key_chars: Vec<&TextRun> = page.texts().filter(|t| t.size_pt == KEY_SIZE_PT).collect();
        let drawn: String = key_chars.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(drawn, job().key.replace('-', ""));
        // Everything inside the page and its margins.
        for t in page.texts() {
            assert!(t.x >= MARGIN_MM - 0.01, "{t:?}");
            assert!(t.x + t.width <= PAGE_WIDTH_MM - MARGIN_MM + 0.01, "{t:?}");
            assert!(t.y > 0.0 && t.y < PAGE_HEIGHT_MM - 20.0, "{t:?}");
        }
        // Equal cells: the characters of one row are evenly spaced within a group.
        let first_row: Vec<&&TextRun> = key_chars
            .iter()
            .filter(|t| (t.y - key_chars[0].y).abs() < 0.01)
            .collect();
        assert!(
            first_row.len() >= 8 && first_row.len().is_multiple_of(4),
            "{}",
            first_row.len()
        );
        let step = first_row[1].x - first_row[0].x;
        assert!((first_row[2].x - first_row[1].x - step).abs() < 0.01);
        // A wider gap between groups than between characters.
        assert!(first_row[4].x - first_row[3].x > step * 1.5);
        // The instructions are wrapped, the practice and the date are there.
        assert!(page.texts().any(|t| t.text == "Praxis Sonnenschein"));
        assert!(page.texts().any(|t| t.text == "Erstellt am 05.12.2026"));
        assert!(
            page.texts()
                .filter(|t| t.text.starts_with("Bewahren"))
                .count()
                >= 2
        );
    }

    #[test]
    fn lower_case_and_spaces_read_as_groups_and_no_key_is_refused() {
        let mut j = job();
        j.key = "abcd efgh  jkmn".into();
        assert_eq!(j.groups(), ["ABCD", "EFGH", "JKMN"]);
        j.key = " - ".into();
        assert_eq!(
            layout_recovery_sheet(&j, &Fixed),
            Err(RecoverySheetError::NoKey)
        );
        assert_eq!(
            download_name(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()),
            "Notfallschluessel_2026-12-05.pdf"
        );
    }
}
