//! Address labels on common A4 sheets and DL envelopes without a window, laid out as
//! positioned text ([`Page`]s of the letter layout, drawn by the PDF crate like letters).
//!
//! The addresses are the letters' address blocks (`address::address_block`), in the order
//! given — the caller sorts them by postcode for bulk mail ([`crate::domain::bulkmail`]), so
//! labels, envelopes and letters come out in the same order.
//!
//! Pure: text is measured through [`TextMeasure`]; coordinates are mm from the top-left of
//! the page (A4 for label sheets, 220 × 110 mm for DL envelopes).

use serde::{Deserialize, Serialize};

use super::letter::{
    pt_to_mm, return_address_line, FontStyle, Item, Page, Role, TextMeasure, TextRun,
    PAGE_HEIGHT_MM, PAGE_WIDTH_MM,
};
use super::model::PracticeSettings;

/// A label sheet: `cols` × `rows` labels of `w` × `h` mm, the first one at (`left`, `top`),
/// labels edge to edge (the common sheets have no gaps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LabelFormat {
    /// 3 × 7 labels of 70 × 42.3 mm (e.g. Zweckform 3652).
    A4x21,
    /// 3 × 7 labels of 70 × 37 mm, centred on the sheet (19 mm top margin).
    A4x21Short,
    /// 3 × 8 labels of 70 × 37 mm (e.g. Zweckform 3474).
    A4x24,
    /// 3 × 8 labels of 70 × 36 mm with 4.5 mm top margin (e.g. Zweckform 3475).
    A4x24Margin,
}

/// Geometry of a label sheet in mm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SheetGeometry {
    pub cols: usize,
    pub rows: usize,
    pub w: f32,
    pub h: f32,
    pub left: f32,
    pub top: f32,
}

impl LabelFormat {
    pub const ALL: [LabelFormat; 4] = [
        LabelFormat::A4x21,
        LabelFormat::A4x21Short,
        LabelFormat::A4x24,
        LabelFormat::A4x24Margin,
    ];

    pub fn geometry(self) -> SheetGeometry {
        let (cols, rows, w, h) = match self {
            LabelFormat::A4x21 => (3, 7, 70.0, 42.3),
            LabelFormat::A4x21Short => (3, 7, 70.0, 37.0),
            LabelFormat::A4x24 => (3, 8, 70.0, 37.0),
            LabelFormat::A4x24Margin => (3, 8, 70.0, 36.0),
        };
        // Centred on the sheet.
        SheetGeometry {
            cols,
            rows,
            w,
            h,
            left: (PAGE_WIDTH_MM - cols as f32 * w) / 2.0,
            top: (PAGE_HEIGHT_MM - rows as f32 * h) / 2.0,
        }
    }

    pub fn per_page(self) -> usize {
        let g = self.geometry();
        g.cols * g.rows
    }

    /// Stable name for settings and the worker protocol ("3x7", "3x8-36" …).
    pub fn code(self) -> &'static str {
        match self {
            LabelFormat::A4x21 => "3x7",
            LabelFormat::A4x21Short => "3x7-37",
            LabelFormat::A4x24 => "3x8",
            LabelFormat::A4x24Margin => "3x8-36",
        }
    }

    pub fn from_code(code: &str) -> Option<LabelFormat> {
        LabelFormat::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// What to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelKind {
    Sheet(LabelFormat),
    /// DL envelope (220 × 110 mm) without a window, printed directly.
    EnvelopeDl,
}

/// DL envelope size (landscape).
pub const DL_WIDTH_MM: f32 = 220.0;
pub const DL_HEIGHT_MM: f32 = 110.0;
/// Left edge of the recipient block on a DL envelope, and the top of its first line: the
/// lower right area Deutsche Post reads (at least 15 mm above the bottom edge, clear of the
/// stamp zone top right).
pub const DL_ADDRESS_X_MM: f32 = 115.0;
pub const DL_ADDRESS_TOP_MM: f32 = 55.0;
/// The return address top left.
pub const DL_SENDER_X_MM: f32 = 15.0;
pub const DL_SENDER_TOP_MM: f32 = 12.0;

impl LabelKind {
    /// Page size (w, h) in mm.
    pub fn page_size(self) -> (f32, f32) {
        match self {
            LabelKind::Sheet(_) => (PAGE_WIDTH_MM, PAGE_HEIGHT_MM),
            LabelKind::EnvelopeDl => (DL_WIDTH_MM, DL_HEIGHT_MM),
        }
    }
}

/// Inner margin of a label.
const LABEL_PADDING_MM: f32 = 5.0;
const LABEL_SIZE_PT: f32 = 10.0;
const ENVELOPE_SIZE_PT: f32 = 11.0;
const MIN_SIZE_PT: f32 = 6.5;
const SENDER_SIZE_PT: f32 = 8.0;

/// An address that does not fit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("Adresse {index} ist leer.")]
    Empty { index: usize },
    #[error(
        "Adresse {index} ({name}) hat {lines} Zeilen und passt nicht auf das Etikett \
         (höchstens {max})."
    )]
    TooManyLines {
        index: usize,
        name: String,
        lines: usize,
        max: usize,
    },
    #[error("Adresse {index}: die Zeile „{line}“ ist zu breit für das Etikett.")]
    TooWide { index: usize, line: String },
    #[error("Es sind keine Adressen ausgewählt.")]
    Nothing,
}

impl super::message::UiMessage for LabelError {
    fn key(&self) -> &'static str {
        match self {
            LabelError::Empty { .. } => "domain.labels.empty",
            LabelError::TooManyLines { .. } => "domain.labels.too_many_lines",
            LabelError::TooWide { .. } => "domain.labels.too_wide",
            LabelError::Nothing => "domain.labels.nothing",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            LabelError::Empty { index } => vec![("index", index.to_string())],
            LabelError::TooManyLines {
                index,
                name,
                lines,
                max,
            } => vec![
                ("index", index.to_string()),
                ("name", name.clone()),
                ("lines", lines.to_string()),
                ("max", max.to_string()),
            ],
            LabelError::TooWide { index, line } => {
                vec![("index", index.to_string()), ("line", line.clone())]
            }
            LabelError::Nothing => vec![],
        }
    }
}

/// The size (≤ `max_pt`, in 0.5 pt steps) at which the widest line fits `max_w`, or `None`
/// below the smallest readable size.
fn block_size(lines: &[String], max_pt: f32, max_w: f32, m: &dyn TextMeasure) -> Option<f32> {
    let widest = lines
        .iter()
        .map(|l| m.width_mm(l, FontStyle::Regular, max_pt))
        .fold(0.0f32, f32::max);
    if widest <= max_w {
        return Some(max_pt);
    }
    let size = (max_pt * max_w / widest * 2.0).floor() / 2.0;
    (size >= MIN_SIZE_PT).then_some(size)
}

fn text_run(x: f32, y: f32, text: &str, size_pt: f32, role: Role, m: &dyn TextMeasure) -> Item {
    Item::Text(TextRun {
        x,
        y,
        text: text.to_string(),
        font: FontStyle::Regular,
        size_pt,
        role,
        width: m.width_mm(text, FontStyle::Regular, size_pt),
        muted: false,
    })
}

/// Cleans one address: trimmed, empty lines dropped.
fn clean(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The name line of an address for messages (the line after "Frau"/"Herrn").
fn name_of(lines: &[String]) -> String {
    lines
        .iter()
        .find(|l| !matches!(l.as_str(), "Frau" | "Herrn" | "Herr"))
        .cloned()
        .unwrap_or_default()
}

/// Positions one address block: `x`, the top of the block, a line pitch of 1.2 × size.
fn place_block(
    out: &mut Vec<Item>,
    lines: &[String],
    x: f32,
    top: f32,
    size: f32,
    m: &dyn TextMeasure,
) {
    let pitch = pt_to_mm(size) * 1.2;
    for (i, l) in lines.iter().enumerate() {
        let y = top + m.ascent_em() * pt_to_mm(size) + i as f32 * pitch;
        out.push(text_run(x, y, l, size, Role::Recipient, m));
    }
}

/// Address labels: the addresses in order, starting at label `skip + 1` of the first sheet
/// (so a partly used sheet can be used up), each block vertically centred in its label.
pub fn layout_labels(
    format: LabelFormat,
    addresses: &[Vec<String>],
    skip: usize,
    m: &dyn TextMeasure,
) -> Result<Vec<Page>, LabelError> {
    if addresses.is_empty() {
        return Err(LabelError::Nothing);
    }
    let g = format.geometry();
    let per_page = format.per_page();
    let skip = skip % per_page;
    let inner_w = g.w - 2.0 * LABEL_PADDING_MM;
    let inner_h = g.h - 2.0 * 2.0;
    let mut pages: Vec<Page> = Vec::new();
    for (i, raw) in addresses.iter().enumerate() {
        let lines = clean(raw);
        if lines.is_empty() {
            return Err(LabelError::Empty { index: i + 1 });
        }
        let mut size = block_size(&lines, LABEL_SIZE_PT, inner_w, m).ok_or_else(|| {
            let widest = lines
                .iter()
                .max_by(|a, b| {
                    m.width_mm(a, FontStyle::Regular, 10.0)
                        .total_cmp(&m.width_mm(b, FontStyle::Regular, 10.0))
                })
                .cloned()
                .unwrap_or_default();
            LabelError::TooWide {
                index: i + 1,
                line: widest,
            }
        })?;
        // Shrink until the block fits the label's height.
        let height = |size: f32| {
            let pitch = pt_to_mm(size) * 1.2;
            (lines.len() - 1) as f32 * pitch + (m.ascent_em() + m.descent_em()) * pt_to_mm(size)
        };
        while height(size) > inner_h && size > MIN_SIZE_PT {
            size -= 0.5;
        }
        if height(size) > inner_h {
            let max = (1..=12).rev().find(|&n| {
                (n - 1) as f32 * pt_to_mm(MIN_SIZE_PT) * 1.2
                    + (m.ascent_em() + m.descent_em()) * pt_to_mm(MIN_SIZE_PT)
                    <= inner_h
            });
            return Err(LabelError::TooManyLines {
                index: i + 1,
                name: name_of(&lines),
                lines: lines.len(),
                max: max.unwrap_or(1),
            });
        }
        let slot = i + skip;
        let (page, cell) = (slot / per_page, slot % per_page);
        while pages.len() <= page {
            pages.push(Page::default());
        }
        let (col, row) = (cell % g.cols, cell / g.cols);
        let x = g.left + col as f32 * g.w + LABEL_PADDING_MM;
        let top = g.top + row as f32 * g.h + (g.h - height(size)) / 2.0;
        place_block(&mut pages[page].items, &lines, x, top, size, m);
    }
    Ok(pages)
}

/// DL envelopes without a window: one page of 220 × 110 mm per address, the practice's
/// return address top left, the recipient in the lower right reading zone.
pub fn layout_envelopes(
    practice: &PracticeSettings,
    addresses: &[Vec<String>],
    m: &dyn TextMeasure,
) -> Result<Vec<Page>, LabelError> {
    if addresses.is_empty() {
        return Err(LabelError::Nothing);
    }
    let sender: Vec<String> = return_address_line(practice)
        .split(" · ")
        .map(str::to_string)
        .filter(|s| !s.is_empty())
        .collect();
    let max_w = DL_WIDTH_MM - DL_ADDRESS_X_MM - 10.0;
    let mut pages = Vec::with_capacity(addresses.len());
    for (i, raw) in addresses.iter().enumerate() {
        let lines = clean(raw);
        if lines.is_empty() {
            return Err(LabelError::Empty { index: i + 1 });
        }
        if lines.len() > 6 {
            return Err(LabelError::TooManyLines {
                index: i + 1,
                name: name_of(&lines),
                lines: lines.len(),
                max: 6,
            });
        }
        let size =
            block_size(&lines, ENVELOPE_SIZE_PT, max_w, m).ok_or_else(|| LabelError::TooWide {
                index: i + 1,
                line: lines[0].clone(),
            })?;
        let mut page = Page::default();
        for (k, l) in sender.iter().enumerate() {
            let y = DL_SENDER_TOP_MM
                + m.ascent_em() * pt_to_mm(SENDER_SIZE_PT)
                + k as f32 * pt_to_mm(SENDER_SIZE_PT) * 1.2;
            page.items.push(text_run(
                DL_SENDER_X_MM,
                y,
                l,
                SENDER_SIZE_PT,
                Role::ReturnAddress,
                m,
            ));
        }
        place_block(
            &mut page.items,
            &lines,
            DL_ADDRESS_X_MM,
            DL_ADDRESS_TOP_MM,
            size,
            m,
        );
        pages.push(page);
    }
    Ok(pages)
}

/// What the PDF worker gets for labels or envelopes (JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelJob {
    /// Document title, e.g. "Adressetiketten Terminerinnerung".
    pub title: String,
    pub created: chrono::NaiveDateTime,
    pub practice: PracticeSettings,
    pub kind: LabelKind,
    /// Address blocks in print order.
    pub addresses: Vec<Vec<String>>,
    /// Labels of the first sheet already used.
    #[serde(default)]
    pub skip: usize,
}

/// Download name: `Etiketten_2026-11-27.pdf`, `Umschlaege_DL_2026-11-27.pdf`.
pub fn download_name(kind: LabelKind, date: chrono::NaiveDate) -> String {
    let stem = match kind {
        LabelKind::Sheet(_) => "Etiketten",
        LabelKind::EnvelopeDl => "Umschlaege_DL",
    };
    format!("{stem}_{}.pdf", date.format("%Y-%m-%d"))
}

/// Lays out either kind.
pub fn layout(
    kind: LabelKind,
    practice: &PracticeSettings,
    addresses: &[Vec<String>],
    skip: usize,
    m: &dyn TextMeasure,
) -> Result<Vec<Page>, LabelError> {
    match kind {
        LabelKind::Sheet(f) => layout_labels(f, addresses, skip, m),
        LabelKind::EnvelopeDl => layout_envelopes(practice, addresses, m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character 0.5 em wide.
    struct Half;
    impl TextMeasure for Half {
        fn width_mm(&self, text: &str, _font: FontStyle, size_pt: f32) -> f32 {
            text.chars().count() as f32 * 0.5 * pt_to_mm(size_pt)
        }
    }

    fn addr(n: usize) -> Vec<String> {
        vec![
            "Frau".into(),
            format!("Anna Müller {n}"),
            "Hauptstraße 12".into(),
            "50667 Köln".into(),
        ]
    }

    #[test]
    fn labels_fill_sheets_row_by_row_within_their_cells() {
        // (format, addresses, skip, pages, labels on the last page)
        let cases = [
            (LabelFormat::A4x24, 24, 0, 1, 24),
            (LabelFormat::A4x24, 25, 0, 2, 1),
            (LabelFormat::A4x21, 21, 0, 1, 21),
            (LabelFormat::A4x21, 22, 0, 2, 1),
            (LabelFormat::A4x24Margin, 10, 20, 2, 6),
            (LabelFormat::A4x21Short, 3, 0, 1, 3),
        ];
        for (format, n, skip, pages, last) in cases {
            let addrs: Vec<Vec<String>> = (0..n).map(addr).collect();
            let p = layout_labels(format, &addrs, skip, &Half).unwrap();
            assert_eq!(p.len(), pages, "{format:?} {n}");
            let names = |pg: &Page| pg.texts().filter(|t| t.text.starts_with("Anna")).count();
            assert_eq!(names(&p[pages - 1]), last, "{format:?} {n}");
            let g = format.geometry();
            for (pi, page) in p.iter().enumerate() {
                for t in page.texts() {
                    assert!(t.role == Role::Recipient);
                    // Which cell is this run in? It must lie wholly inside it.
                    let col = ((t.x - g.left) / g.w).floor();
                    let row = ((t.y - g.top) / g.h).floor();
                    let (cx, cy) = (g.left + col * g.w, g.top + row * g.h);
                    assert!(t.x >= cx + 4.9 && t.x + t.width <= cx + g.w - 4.9, "{t:?}");
                    let top = t.y - 0.93 * pt_to_mm(t.size_pt);
                    assert!(top >= cy && t.y <= cy + g.h, "page {pi}: {t:?}");
                }
            }
        }
        // skip = 20 on a 24-label sheet: the first address is the 21st label (row 7, col 3).
        let p = layout_labels(LabelFormat::A4x24Margin, &[addr(0)], 20, &Half).unwrap();
        let g = LabelFormat::A4x24Margin.geometry();
        let first = p[0].texts().next().unwrap();
        assert!(
            (first.x - (g.left + 2.0 * g.w + 5.0)).abs() < 0.01,
            "{first:?}"
        );
        assert!(first.y > g.top + 6.0 * g.h && first.y < g.top + 7.0 * g.h);
    }

    #[test]
    fn long_lines_shrink_and_impossible_ones_are_refused() {
        let long = vec![
            "Herrn".to_string(),
            "Prof. Dr. Maximilian Müller-Lüdenscheidt".to_string(),
            "12345 Ort".to_string(),
        ];
        let p = layout_labels(LabelFormat::A4x24, &[long], 0, &Half).unwrap();
        let t: Vec<&TextRun> = p[0].texts().collect();
        assert!(t[0].size_pt < 10.0 && t[0].size_pt >= 6.5, "{t:?}");
        assert!(t.iter().all(|r| r.width <= 60.0));
        let absurd = vec!["x".repeat(200)];
        assert!(matches!(
            layout_labels(LabelFormat::A4x24, &[absurd], 0, &Half),
            Err(LabelError::TooWide { index: 1, .. })
        ));
        let many: Vec<String> = (0..12).map(|i| format!("Zeile {i}")).collect();
        let e = layout_labels(LabelFormat::A4x24Margin, &[addr(0), many], 0, &Half).unwrap_err();
        assert!(
            matches!(e, LabelError::TooManyLines { index: 2, .. }),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("Adresse 2 (Zeile 0) hat 12 Zeilen"),
            "{e}"
        );
        assert_eq!(
            layout_labels(LabelFormat::A4x24, &[vec![" ".into()]], 0, &Half),
            Err(LabelError::Empty { index: 1 })
        );
        assert_eq!(
            layout_labels(LabelFormat::A4x24, &[], 0, &Half),
            Err(LabelError::Nothing)
        );
    }

    #[test]
    fn envelopes_put_sender_top_left_and_recipient_bottom_right() {
        let practice = PracticeSettings {
            name: "Praxis Sonnenschein".into(),
            address: crate::domain::PostalAddress {
                street: "Lindenweg".into(),
                house_number: "3".into(),
                postcode: "12345".into(),
                city: "Musterstadt".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let p = layout_envelopes(&practice, &[addr(1), addr(2)], &Half).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(LabelKind::EnvelopeDl.page_size(), (220.0, 110.0));
        let sender: Vec<&str> = p[0]
            .texts_with(Role::ReturnAddress)
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(
            sender,
            ["Praxis Sonnenschein", "Lindenweg 3", "12345 Musterstadt"]
        );
        for t in p[1].texts_with(Role::Recipient) {
            assert!(t.x >= DL_ADDRESS_X_MM && t.x + t.width <= DL_WIDTH_MM - 10.0);
            assert!(
                t.y > DL_ADDRESS_TOP_MM && t.y < DL_HEIGHT_MM - 15.0,
                "{t:?}"
            );
        }
        assert!(p[1].texts().any(|t| t.text == "Anna Müller 2"));
    }

    #[test]
    fn download_names() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(
            download_name(LabelKind::Sheet(LabelFormat::A4x24), d),
            "Etiketten_2026-11-27.pdf"
        );
        assert_eq!(
            download_name(LabelKind::EnvelopeDl, d),
            "Umschlaege_DL_2026-11-27.pdf"
        );
    }

    #[test]
    fn format_codes_round_trip() {
        for f in LabelFormat::ALL {
            assert_eq!(LabelFormat::from_code(f.code()), Some(f));
            assert!(f.geometry().top >= 0.0 && f.geometry().left >= 0.0);
        }
        assert_eq!(LabelFormat::A4x21.per_page(), 21);
        assert_eq!(LabelFormat::A4x24Margin.per_page(), 24);
        assert!((LabelFormat::A4x24Margin.geometry().top - 4.5).abs() < 1e-4);
    }
}
