//! The "Einwilligungsnachweis" as a PDF on the practice's letterhead: the same events as the
//! CSV ([`super::proof::event_rows`]) as a table, for handing to a patient or an authority.
//! The first page carries the letterhead (logo, header zone, footer) drawn by the letters'
//! code; following pages repeat the footer, a short page header and the table header.
//!
//! Pure: text is measured through [`TextMeasure`]; coordinates are mm from the page's
//! top-left. Drawn by the PDF worker (message `proof`).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::domain::letter::{
    draw_footer, draw_letterhead, pt_to_mm, text_run, wrap_text, FontStyle, FormGeometry, Item,
    LayoutOptions, LineItem, Page, Role, TextMeasure, FOLLOW_PAGE_TEXT_TOP_MM, LEFT_MARGIN_MM,
    MAX_BASELINE_MM, RIGHT_EDGE_MM,
};
use crate::domain::recovery_sheet::SheetLetterhead;

/// Width of each column of [`super::proof::EVENT_HEADERS`] (mm; together the text width of
/// 165 mm between the DIN 5008 margins).
const COLUMN_MM: [f32; 8] = [13.0, 27.0, 17.0, 18.0, 26.0, 22.0, 25.0, 17.0];
const TABLE_SIZE_PT: f32 = 8.0;
const TITLE_SIZE_PT: f32 = 16.0;
const TEXT_SIZE_PT: f32 = 10.0;
/// Distance from the bottom of the header zone to the top of the title (mm).
const BELOW_HEADER_MM: f32 = 8.0;
/// Space between columns (mm).
const GAP_MM: f32 = 1.5;

/// One proof for the PDF worker (message `proof`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentProofJob {
    /// Heading and PDF title, e.g. "Einwilligungsnachweis".
    pub title: String,
    pub created: NaiveDateTime,
    /// The practice's name (PDF author).
    pub practice: String,
    /// "Anna Müller (Personen-ID p-17)".
    pub person_line: String,
    /// "Erstellt am 05.12.2026 · Art. 7 Abs. 1 DSGVO".
    pub created_line: String,
    /// Said instead of the table when there is no event.
    pub empty_line: String,
    /// The column headers and one row per event (8 columns each).
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The practice's letterhead; `None` gives a plain first page.
    #[serde(default)]
    pub letterhead: Option<SheetLetterhead>,
    /// Further tables under their own heading: the consents guardians gave on the person's
    /// behalf ("Erziehungsberechtigte Anna Weber").
    #[serde(default)]
    pub sections: Vec<ProofSection>,
}

/// A further table of the proof under its heading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProofSection {
    pub heading: String,
    pub rows: Vec<Vec<String>>,
}

fn run(x: f32, y: f32, text: &str, font: FontStyle, size: f32, m: &dyn TextMeasure) -> Item {
    Item::Text(text_run(x, y, text, font, size, Role::Body, m))
}

fn rule(y: f32, width_mm: f32) -> Item {
    Item::Line(LineItem {
        x1: LEFT_MARGIN_MM,
        y1: y,
        x2: RIGHT_EDGE_MM,
        y2: y,
        width_mm,
    })
}

/// The cells of one row, each wrapped into its column.
fn wrap_row(cells: &[String], font: FontStyle, m: &dyn TextMeasure) -> Vec<Vec<String>> {
    COLUMN_MM
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let text = cells.get(i).map(String::as_str).unwrap_or("").trim();
            if text.is_empty() {
                Vec::new()
            } else {
                wrap_text(text, font, TABLE_SIZE_PT, w - GAP_MM, m)
            }
        })
        .collect()
}

/// Draws a wrapped row with its top at `y`; returns the y below it.
fn draw_row(
    page: &mut Page,
    y: f32,
    lines: &[Vec<String>],
    font: FontStyle,
    m: &dyn TextMeasure,
) -> f32 {
    let pitch = pt_to_mm(TABLE_SIZE_PT) * 1.25;
    let first = y + m.ascent_em() * pt_to_mm(TABLE_SIZE_PT);
    let mut x = LEFT_MARGIN_MM;
    for (col, w) in lines.iter().zip(COLUMN_MM) {
        for (i, l) in col.iter().enumerate() {
            page.items
                .push(run(x, first + i as f32 * pitch, l, font, TABLE_SIZE_PT, m));
        }
        x += w;
    }
    let n = lines.iter().map(Vec::len).max().unwrap_or(0).max(1);
    y + n as f32 * pitch + 1.2
}

/// Lays out the proof: as many A4 pages as the table needs. `logo_aspect` is the width /
/// height of the letterhead's logo, when there is one.
pub fn layout_consent_proof(
    job: &ConsentProofJob,
    logo_aspect: Option<f32>,
    m: &dyn TextMeasure,
) -> Vec<Page> {
    let opts = job.letterhead.as_ref().map(|h| LayoutOptions {
        logo_aspect,
        letterhead: Some(&h.letterhead),
    });
    let new_page = |pages: &mut Vec<Page>| {
        let mut page = Page::default();
        if let (Some(h), Some(o)) = (&job.letterhead, &opts) {
            draw_footer(&mut page, &h.settings, o, m);
        }
        pages.push(page);
    };
    let mut pages = Vec::new();
    new_page(&mut pages);
    let mut top = 25.0;
    if let (Some(h), Some(o)) = (&job.letterhead, &opts) {
        let g = FormGeometry::for_form(h.settings.letter_form);
        draw_letterhead(&mut pages[0], &h.settings, &g, o, m);
        top = g.letterhead_height + BELOW_HEADER_MM;
    }
    let page = &mut pages[0];
    let mut y = top + m.ascent_em() * pt_to_mm(TITLE_SIZE_PT);
    page.items.push(Item::Text(text_run(
        LEFT_MARGIN_MM,
        y,
        &job.title,
        FontStyle::Bold,
        TITLE_SIZE_PT,
        Role::Subject,
        m,
    )));
    for l in [&job.person_line, &job.created_line] {
        y += pt_to_mm(TEXT_SIZE_PT) * 1.5;
        page.items.push(run(
            LEFT_MARGIN_MM,
            y,
            l,
            FontStyle::Regular,
            TEXT_SIZE_PT,
            m,
        ));
    }
    y += 6.0;
    if job.rows.is_empty() && job.sections.is_empty() {
        y += pt_to_mm(TEXT_SIZE_PT);
        page.items.push(run(
            LEFT_MARGIN_MM,
            y,
            &job.empty_line,
            FontStyle::Regular,
            TEXT_SIZE_PT,
            m,
        ));
        return pages;
    }
    let header = wrap_row(&job.headers, FontStyle::Bold, m);
    let table_header = |page: &mut Page, y: f32| {
        let below = draw_row(page, y, &header, FontStyle::Bold, m);
        page.items.push(rule(below - 0.6, 0.3));
        below + 0.6
    };
    let pitch = pt_to_mm(TABLE_SIZE_PT) * 1.25;
    // A page after the first: footer, a short page header and (`with_header`) the table
    // header; returns where the content goes on.
    let next_page = |pages: &mut Vec<Page>, with_header: bool| -> f32 {
        new_page(pages);
        let no = pages.len();
        let page = pages.last_mut().expect("just pushed");
        let text = format!("{} · {} · {no}", job.title, job.person_line);
        page.items.push(Item::Text(text_run(
            LEFT_MARGIN_MM,
            FOLLOW_PAGE_TEXT_TOP_MM - 8.0,
            &text,
            FontStyle::Regular,
            TABLE_SIZE_PT,
            Role::PageHeader,
            m,
        )));
        if with_header {
            table_header(page, FOLLOW_PAGE_TEXT_TOP_MM)
        } else {
            FOLLOW_PAGE_TEXT_TOP_MM
        }
    };
    let own = (!job.rows.is_empty()).then_some((None, &job.rows));
    let sections = own.into_iter().chain(
        job.sections
            .iter()
            .map(|sec| (Some(sec.heading.as_str()), &sec.rows)),
    );
    for (i, (heading, rows)) in sections.enumerate() {
        if let Some(heading) = heading {
            // The heading stays with its table header and first row.
            let need = 6.0 + pt_to_mm(TEXT_SIZE_PT) * 1.5 + 4.0 * pitch;
            if i > 0 || !job.rows.is_empty() {
                y += 4.0;
            }
            if y + need > MAX_BASELINE_MM {
                y = next_page(&mut pages, false);
            }
            y += m.ascent_em() * pt_to_mm(TEXT_SIZE_PT);
            let page = pages.last_mut().expect("a page");
            page.items.push(run(
                LEFT_MARGIN_MM,
                y,
                heading,
                FontStyle::Bold,
                TEXT_SIZE_PT,
                m,
            ));
            y += 2.5;
        }
        y = table_header(pages.last_mut().expect("a page"), y);
        for row in rows {
            let lines = wrap_row(row, FontStyle::Regular, m);
            let n = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let height = n as f32 * pitch + 1.2;
            if y + height > MAX_BASELINE_MM {
                y = next_page(&mut pages, true);
            }
            let page = pages.last_mut().expect("a page");
            y = draw_row(page, y, &lines, FontStyle::Regular, m);
            page.items.push(rule(y - 0.6, 0.1));
        }
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character 0.55 em wide (a stand-in for the font).
    struct FixedMeasure;
    impl TextMeasure for FixedMeasure {
        fn width_mm(&self, text: &str, _font: FontStyle, size_pt: f32) -> f32 {
            text.chars().count() as f32 * 0.55 * pt_to_mm(size_pt)
        }
    }

    fn job(rows: usize) -> ConsentProofJob {
        ConsentProofJob {
            title: "Einwilligungsnachweis".into(),
            created: chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap(),
            practice: "Praxis".into(),
            person_line: "Anna Müller (Personen-ID p-1)".into(),
            created_line: "Erstellt am 05.12.2026".into(),
            empty_line: "Keine Einwilligungen erfasst.".into(),
            headers: crate::domain::consent::proof::EVENT_HEADERS
                .iter()
                .map(|h| h.to_string())
                .collect(),
            rows: (0..rows)
                .map(|i| {
                    vec![
                        "E-Mail".into(),
                        "Geburtstagsgrüße".into(),
                        "erteilt".into(),
                        format!("{:02}.01.2026", i % 28 + 1),
                        "Schriftlich".into(),
                        "Praxis".into(),
                        "am Empfang unterschrieben, Bogen liegt in der Akte".into(),
                        "erteilt".into(),
                    ]
                })
                .collect(),
            letterhead: None,
            sections: Vec::new(),
        }
    }

    fn texts(p: &Page) -> Vec<&str> {
        p.items
            .iter()
            .filter_map(|i| match i {
                Item::Text(t) => Some(t.text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn columns_fill_the_text_width() {
        let sum: f32 = COLUMN_MM.iter().sum();
        assert!((LEFT_MARGIN_MM + sum - RIGHT_EDGE_MM).abs() < 0.01, "{sum}");
    }

    #[test]
    fn a_long_history_breaks_into_pages_with_the_header_repeated() {
        let m = FixedMeasure;
        let one = layout_consent_proof(&job(3), None, &m);
        assert_eq!(one.len(), 1);
        assert!(texts(&one[0]).contains(&"Anna Müller (Personen-ID p-1)"));
        let many = layout_consent_proof(&job(120), None, &m);
        assert!(many.len() >= 3, "{}", many.len());
        for p in &many {
            assert!(texts(p).contains(&"Nachweis"), "header on every page");
            for i in &p.items {
                if let Item::Text(t) = i {
                    assert!(t.y <= MAX_BASELINE_MM + 0.01, "{} at {}", t.text, t.y);
                    assert!(t.x + t.width <= RIGHT_EDGE_MM + 0.01, "{} too wide", t.text);
                }
            }
        }
        // Every event is on some page exactly once (dates are unique per 28 rows).
        let dates: usize = many
            .iter()
            .map(|p| texts(p).iter().filter(|t| t.ends_with(".01.2026")).count())
            .sum();
        assert_eq!(dates, 120);
        // A guardian's table follows under its heading, also across a page break.
        let mut with_guardian = job(60);
        with_guardian.sections = vec![ProofSection {
            heading: "Erziehungsberechtigte Anna Weber".into(),
            rows: job(60).rows,
        }];
        let pages = layout_consent_proof(&with_guardian, None, &m);
        let all: Vec<&str> = pages.iter().flat_map(texts).collect();
        assert_eq!(all.iter().filter(|t| t.ends_with(".01.2026")).count(), 120);
        let heading = pages
            .iter()
            .position(|p| texts(p).contains(&"Erziehungsberechtigte Anna Weber"))
            .expect("the heading");
        assert!(texts(&pages[heading]).contains(&"Nachweis"));
        let empty = layout_consent_proof(&job(0), None, &m);
        assert!(texts(&empty[0]).contains(&"Keine Einwilligungen erfasst."));
    }
}
