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
    draw_footer, draw_letterhead, pt_to_mm, wrap_text, FontStyle, FormGeometry, Item,
    LayoutOptions, LineItem, Page, Role, TextMeasure, PAGE_WIDTH_MM,
};
use super::model::{Letterhead, PracticeSettings};

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
    /// The practice's letterhead, drawn as on a letter's first page; `None` (and jobs from
    /// before it existed) gives the plain sheet.
    #[serde(default)]
    pub letterhead: Option<SheetLetterhead>,
}

/// What the sheet needs to draw the letterhead with the letters' code: the practice settings
/// (name, address and contact lines, DIN 5008 form) and the stored letterhead (logo, details
/// block, business details in the footer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SheetLetterhead {
    pub settings: PracticeSettings,
    pub letterhead: Letterhead,
}

/// Distance from the bottom of the header zone to the top of the sheet's title (mm).
const BELOW_HEADER_MM: f32 = 8.0;

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

/// Lays out the sheet: one A4 page. `logo_aspect` is the width / height of the letterhead's
/// logo image, when there is one.
///
/// With a letterhead, the header zone of the practice's form and the footer are drawn as on
/// a letter's first page and the sheet's own content starts below the header zone.
///
/// The key is drawn character by character, each centred in a cell as wide as the widest
/// character of the alphabet (DejaVu Sans has no monospaced face in the worker; equal cells
/// make it read like one), four characters a group, as many groups a row as fit, inside a
/// frame.
pub fn layout_recovery_sheet(
    job: &RecoverySheetJob,
    logo_aspect: Option<f32>,
    m: &dyn TextMeasure,
) -> Result<Page, RecoverySheetError> {
    let groups = job.groups();
    if groups.is_empty() {
        return Err(RecoverySheetError::NoKey);
    }
    let width = PAGE_WIDTH_MM - 2.0 * MARGIN_MM;
    let x = MARGIN_MM;
    let mut page = Page::default();
    let mut top = 30.0;
    if let Some(h) = &job.letterhead {
        let g = FormGeometry::for_form(h.settings.letter_form);
        let opts = LayoutOptions {
            logo_aspect,
            letterhead: Some(&h.letterhead),
        };
        draw_letterhead(&mut page, &h.settings, &g, &opts, m);
        draw_footer(&mut page, &h.settings, &opts, m);
        top = g.letterhead_height + BELOW_HEADER_MM;
    }
    let mut y = top + m.ascent_em() * pt_to_mm(TITLE_SIZE_PT);
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
            letterhead: None,
        }
    }

    #[test]
    fn the_key_is_drawn_in_groups_on_one_a4_page() {
        let page = layout_recovery_sheet(&job(), None, &Fixed).unwrap();
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
    fn a_letterhead_is_drawn_as_on_letters_and_the_content_stays_between_header_and_footer() {
        use crate::domain::letter::{ImageBox, FOOTER_RULE_Y_MM, MAX_BASELINE_MM};
        use crate::domain::{BusinessDetails, LetterForm, LetterheadLogo, LogoPosition};
        for form in [LetterForm::A, LetterForm::B] {
            let mut j = job();
            // As long as the app's four paragraphs.
            j.paragraphs = vec!["Bewahren Sie dieses Blatt sicher auf. ".repeat(7); 4];
            let settings = PracticeSettings {
                name: "Praxis Sonnenschein".into(),
                phone: "030 1234567".into(),
                letter_form: form,
                ..Default::default()
            };
            j.letterhead = Some(SheetLetterhead {
                settings,
                letterhead: Letterhead {
                    logo: Some(LetterheadLogo {
                        bytes: vec![1],
                        width_mm: 40.0,
                        position: LogoPosition::Left,
                    }),
                    details: vec!["Inhaberin Maria Schmidt".into()],
                    business: BusinessDetails {
                        iban: "DE02 1203 0000 0000 2020 51".into(),
                        ..Default::default()
                    },
                },
            });
            let page = layout_recovery_sheet(&j, Some(2.0), &Fixed).unwrap();
            let zone = FormGeometry::for_form(form).letterhead_height;
            let images: Vec<&ImageBox> = page
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Image(b) => Some(b),
                    _ => None,
                })
                .collect();
            assert_eq!(images.len(), 1, "{form:?}");
            assert!(
                images[0].y + images[0].h <= zone,
                "{form:?}: {:?}",
                images[0]
            );
            let head: Vec<&TextRun> = page.texts_with(Role::Letterhead).collect();
            assert!(head.iter().any(|t| t.text == "Praxis Sonnenschein"));
            assert!(head.iter().all(|t| t.y < zone), "{head:?}");
            let foot: Vec<&TextRun> = page.texts_with(Role::Footer).collect();
            assert!(
                foot.iter().any(|t| t.text.contains("IBAN DE02")),
                "{foot:?}"
            );
            assert!(foot.iter().all(|t| t.y > FOOTER_RULE_Y_MM));
            // The sheet's own content: below the header zone (ascent included), above the
            // footer; the key's frame too.
            let content: Vec<&TextRun> = page
                .texts()
                .filter(|t| !matches!(t.role, Role::Letterhead | Role::Footer))
                .collect();
            assert!(content.len() > 60);
            for t in &content {
                let top = t.y - pt_to_mm(t.size_pt);
                assert!(top >= zone, "{form:?}: {t:?}");
                assert!(t.y <= MAX_BASELINE_MM, "{form:?}: {t:?}");
            }
            for i in &page.items {
                if let Item::Line(l) = i {
                    if l.y1 < FOOTER_RULE_Y_MM - 0.01 {
                        assert!(l.y1 >= zone && l.y2 >= zone, "{l:?}");
                    }
                }
            }
        }
        // Without a letterhead: the sheet as before (no image, no footer, same title place).
        let plain = layout_recovery_sheet(&job(), Some(2.0), &Fixed).unwrap();
        assert!(!plain.items.iter().any(|i| matches!(i, Item::Image(_))));
        assert_eq!(plain.texts_with(Role::Footer).count(), 0);
        assert_eq!(plain.texts_with(Role::Letterhead).count(), 0);
        assert!(
            (plain.texts().next().unwrap().y - (30.0 + 0.93 * pt_to_mm(TITLE_SIZE_PT))).abs()
                < 0.01
        );
        // A job from before the letterhead existed still parses.
        let mut old = serde_json::to_value(job()).unwrap();
        old.as_object_mut().unwrap().remove("letterhead");
        let parsed: RecoverySheetJob = serde_json::from_value(old).unwrap();
        assert_eq!(parsed, job());
    }

    #[test]
    fn lower_case_and_spaces_read_as_groups_and_no_key_is_refused() {
        let mut j = job();
        j.key = "abcd efgh  jkmn".into();
        assert_eq!(j.groups(), ["ABCD", "EFGH", "JKMN"]);
        j.key = " - ".into();
        assert_eq!(
            layout_recovery_sheet(&j, None, &Fixed),
            Err(RecoverySheetError::NoKey)
        );
        assert_eq!(
            download_name(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()),
            "Notfallschluessel_2026-12-05.pdf"
        );
    }
}
