//! praxisbote-pdf: draws DIN 5008 letter layouts (from `praxisbote::domain::letter`) into one
//! PDF per batch with printpdf, embedding DejaVu Sans and DejaVu Sans Bold as subsets.
//!
//! The layout itself is pure and lives in the domain; this crate only measures text with the
//! embedded fonts and turns positioned items into PDF operations. It compiles for
//! `wasm32-unknown-unknown` so the browser can run it in a Web Worker.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDateTime, Timelike};
use praxisbote::domain::letter::{
    layout_letter, FontStyle, Item, LayoutError, LayoutOptions, Letter, LetterLayout, TextMeasure,
    PAGE_HEIGHT_MM, PAGE_WIDTH_MM,
};
use praxisbote::domain::PracticeSettings;
use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Pt, TextItem, TextMatrix,
};
use serde::{Deserialize, Serialize};

mod writer;
pub use writer::MAX_FORMS;

/// Deflate level of the content streams (fast path). 6 = zlib's default.
pub const DEFLATE_LEVEL: u32 = 6;

/// DejaVu Sans (Bitstream Vera licence, see `fonts/LICENSE-DejaVu.txt`).
pub const DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
pub const DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A batch of letters for one PDF.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchJob {
    /// Document title (PDF metadata), e.g. "Serienbrief Terminerinnerung".
    pub title: String,
    /// Creation date written into the PDF (local time of the caller; the library reads no
    /// clock).
    pub created: NaiveDateTime,
    pub practice: PracticeSettings,
    pub letters: Vec<Letter>,
    /// Insert a blank page after letters with an odd page count (duplex printing).
    #[serde(default)]
    pub duplex: bool,
    /// Optional letterhead logo (PNG bytes; needs the `logo-png` feature).
    #[serde(default)]
    pub logo_png: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Die PDF-Erstellung wurde abgebrochen.")]
    Cancelled,
    #[error("Brief {index} ({recipient}): {source}")]
    Layout {
        index: usize,
        recipient: String,
        source: LayoutError,
    },
    #[error("Die Schrift konnte nicht geladen werden.")]
    Font,
    #[error("Das Logo konnte nicht gelesen werden: {0}")]
    Logo(String),
    #[error("Der Serienbrief enthält keine Briefe.")]
    Empty,
}

/// Download name: `Serienbrief_Terminerinnerung_2026-11-27.pdf` (pure, lives in the domain so
/// the app can name the file without depending on this crate).
pub use praxisbote::domain::print::download_name;

struct Fonts {
    regular: ParsedFont,
    bold: ParsedFont,
    metrics: DejaVuMetrics,
    glyphs: [GlyphTable; 2],
}

/// Code point -> glyph id of one face (U+0000…U+2FFF; others and unmapped ones -> .notdef).
pub(crate) struct GlyphTable {
    gid: Vec<u16>,
}

impl GlyphTable {
    fn new(f: &ParsedFont) -> Self {
        GlyphTable {
            gid: (0..TABLE_LEN)
                .map(|cp| f.lookup_glyph_index(cp).unwrap_or(0))
                .collect(),
        }
    }

    pub(crate) fn gid(&self, c: char) -> u16 {
        *self.gid.get(c as usize).unwrap_or(&0)
    }
}

fn fonts() -> Result<&'static Fonts, Error> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let regular = ParsedFont::from_bytes(DEJAVU_SANS, 0, &mut Vec::new())?;
            let bold = ParsedFont::from_bytes(DEJAVU_SANS_BOLD, 0, &mut Vec::new())?;
            let metrics = DejaVuMetrics {
                regular: WidthTable::new(&regular),
                bold: WidthTable::new(&bold),
                ascent: regular.pdf_font_metrics.ascender as f32
                    / regular.pdf_font_metrics.units_per_em as f32,
                descent: -(regular.pdf_font_metrics.descender as f32)
                    / regular.pdf_font_metrics.units_per_em as f32,
            };
            let glyphs = [GlyphTable::new(&regular), GlyphTable::new(&bold)];
            Some(Fonts {
                regular,
                bold,
                metrics,
                glyphs,
            })
        })
        .as_ref()
        .ok_or(Error::Font)
}

/// Advance widths of one face, in em, as a flat table over the code points DejaVu Sans
/// covers for Latin/Greek/Cyrillic/punctuation (U+0000…U+2FFF); others count as .notdef.
struct WidthTable {
    em: Vec<f32>,
    missing: f32,
}

const TABLE_LEN: u32 = 0x3000;

impl WidthTable {
    fn new(f: &ParsedFont) -> Self {
        let upm = f.pdf_font_metrics.units_per_em.max(1) as f32;
        let missing = f.get_horizontal_advance(0) as f32 / upm;
        let em = (0..TABLE_LEN)
            .map(|cp| match f.lookup_glyph_index(cp) {
                Some(gid) => f.get_horizontal_advance(gid) as f32 / upm,
                None => missing,
            })
            .collect();
        WidthTable { em, missing }
    }

    fn em(&self, text: &str) -> f32 {
        text.chars()
            .map(|c| *self.em.get(c as usize).unwrap_or(&self.missing))
            .sum()
    }
}

/// Text measure with the embedded DejaVu fonts' advance widths.
pub struct DejaVuMetrics {
    regular: WidthTable,
    bold: WidthTable,
    ascent: f32,
    descent: f32,
}

impl DejaVuMetrics {
    /// The shared metrics (parsed once per process).
    pub fn get() -> Result<&'static DejaVuMetrics, Error> {
        Ok(&fonts()?.metrics)
    }
}

impl TextMeasure for DejaVuMetrics {
    fn width_mm(&self, text: &str, font: FontStyle, size_pt: f32) -> f32 {
        let t = match font {
            FontStyle::Regular => &self.regular,
            FontStyle::Bold => &self.bold,
        };
        t.em(text) * size_pt * 25.4 / 72.0
    }
    fn ascent_em(&self) -> f32 {
        self.ascent
    }
    fn descent_em(&self) -> f32 {
        self.descent
    }
}

/// Incremental batch writer: add letters one by one (so a worker can report progress and
/// yield to its event loop between chunks), then [`BatchBuilder::finish`].
pub struct BatchBuilder<'a> {
    job: &'a BatchJob,
    backend: Backend,
    next: usize,
    fonts: &'static Fonts,
}

enum Backend {
    /// Own writer (see `writer.rs`): used for every batch without a logo.
    Direct(Box<writer::Writer>),
    /// printpdf: batches with a PNG logo in the letterhead.
    Printpdf(Box<PrintpdfBackend>),
}

struct PrintpdfBackend {
    doc: PdfDocument,
    regular: FontId,
    bold: FontId,
    logo: Option<(printpdf::XObjectId, f32)>,
    pages: Vec<PdfPage>,
}

impl<'a> BatchBuilder<'a> {
    pub fn new(job: &'a BatchJob) -> Result<Self, Error> {
        if job.letters.is_empty() {
            return Err(Error::Empty);
        }
        let f = fonts()?;
        let backend = match &job.logo_png {
            Some(bytes) if !bytes.is_empty() => {
                Backend::Printpdf(Box::new(PrintpdfBackend::new(job, f, bytes)?))
            }
            _ => Backend::Direct(Box::new(writer::Writer::new(DEFLATE_LEVEL))),
        };
        Ok(BatchBuilder {
            job,
            backend,
            next: 0,
            fonts: f,
        })
    }

    /// Deflate level (0–9, default [`DEFLATE_LEVEL`]) of the directly written streams; call
    /// before adding letters. No effect on batches with a logo (printpdf).
    pub fn with_deflate_level(mut self, level: u32) -> Self {
        if let Backend::Direct(w) = &mut self.backend {
            w.set_level(level);
        }
        self
    }

    /// Number of letters in the job.
    pub fn total(&self) -> usize {
        self.job.letters.len()
    }

    /// Letters done so far.
    pub fn done(&self) -> usize {
        self.next
    }

    /// Lays out and draws the next letter; returns false when all letters are done.
    pub fn add_next(&mut self) -> Result<bool, Error> {
        let Some(letter) = self.job.letters.get(self.next) else {
            return Ok(false);
        };
        let logo_aspect = match &self.backend {
            Backend::Printpdf(b) => b.logo.as_ref().map(|(_, a)| *a),
            Backend::Direct(_) => None,
        };
        let opts = LayoutOptions { logo_aspect };
        let layout = layout_letter(&self.job.practice, letter, &opts, &self.fonts.metrics)
            .map_err(|source| Error::Layout {
                index: self.next + 1,
                recipient: letter
                    .recipient
                    .iter()
                    .find(|l| !l.trim().is_empty() && l.trim() != "Herrn" && l.trim() != "Frau")
                    .cloned()
                    .unwrap_or_default(),
                source,
            })?;
        let n = layout.pages.len();
        let blank = self.job.duplex && n % 2 == 1;
        match &mut self.backend {
            Backend::Direct(w) => {
                w.add_layout(&layout, &self.fonts.glyphs);
                if blank {
                    w.blank_page();
                }
            }
            Backend::Printpdf(b) => {
                b.draw(&layout);
                if blank {
                    b.pages.push(PdfPage::new(
                        Mm(PAGE_WIDTH_MM),
                        Mm(PAGE_HEIGHT_MM),
                        Vec::new(),
                    ));
                }
            }
        }
        self.next += 1;
        Ok(true)
    }

    /// Writes the PDF (fonts subset to the glyphs used).
    pub fn finish(self) -> Result<Vec<u8>, Error> {
        match self.backend {
            Backend::Direct(w) => {
                let info = writer::Info {
                    title: self.job.title.clone(),
                    author: self.job.practice.name.clone(),
                    subject: self.job.title.clone(),
                    date: pdf_date_string(self.job.created),
                };
                w.finish(
                    [
                        (&self.fonts.regular, "DejaVuSans"),
                        (&self.fonts.bold, "DejaVuSans-Bold"),
                    ],
                    &info,
                )
            }
            Backend::Printpdf(b) => Ok(b.finish()),
        }
    }

    /// Pages so far (including duplex blanks).
    pub fn page_count(&self) -> usize {
        match &self.backend {
            Backend::Direct(w) => w.page_count(),
            Backend::Printpdf(b) => b.pages.len(),
        }
    }
}

impl PrintpdfBackend {
    fn new(job: &BatchJob, f: &Fonts, logo_png: &[u8]) -> Result<Self, Error> {
        let mut doc = PdfDocument::new(&job.title);
        let info = &mut doc.metadata.info;
        let created = to_pdf_date(job.created);
        info.creation_date = created;
        info.modification_date = created;
        info.metadata_date = created;
        info.creator = "praxisbote".into();
        info.producer = "praxisbote-pdf (printpdf)".into();
        info.author = job.practice.name.clone();
        info.subject = job.title.clone();
        let regular = doc.add_font(&f.regular);
        let bold = doc.add_font(&f.bold);
        let logo = Some(load_logo(&mut doc, logo_png)?);
        Ok(PrintpdfBackend {
            doc,
            regular,
            bold,
            logo,
            pages: Vec::with_capacity(job.letters.len() + job.letters.len() / 4),
        })
    }

    fn draw(&mut self, layout: &LetterLayout) {
        for page in &layout.pages {
            let mut ops = Vec::with_capacity(page.items.len() * 3 + 16);
            // Lines and images first, then one text section for all runs.
            let mut stroke_width = -1.0f32;
            ops.push(Op::SetOutlineColor {
                col: Color::Greyscale(Greyscale::new(0.0, None)),
            });
            for item in &page.items {
                match item {
                    Item::Line(l) => {
                        if l.width_mm != stroke_width {
                            stroke_width = l.width_mm;
                            ops.push(Op::SetOutlineThickness {
                                pt: Mm(l.width_mm).into(),
                            });
                        }
                        ops.push(Op::DrawLine {
                            line: Line {
                                points: vec![
                                    LinePoint {
                                        p: pt(l.x1, l.y1),
                                        bezier: false,
                                    },
                                    LinePoint {
                                        p: pt(l.x2, l.y2),
                                        bezier: false,
                                    },
                                ],
                                is_closed: false,
                            },
                        });
                    }
                    Item::Image(b) => {
                        if let Some((id, _)) = &self.logo {
                            draw_logo(&mut ops, &self.doc, id, b);
                        }
                    }
                    Item::Text(_) => {}
                }
            }
            ops.push(Op::StartTextSection);
            let mut cur: Option<(FontStyle, f32)> = None;
            let mut muted: Option<bool> = None;
            for item in &page.items {
                let Item::Text(t) = item else { continue };
                if t.text.is_empty() {
                    continue;
                }
                if cur != Some((t.font, t.size_pt)) {
                    cur = Some((t.font, t.size_pt));
                    let id = match t.font {
                        FontStyle::Regular => self.regular.clone(),
                        FontStyle::Bold => self.bold.clone(),
                    };
                    ops.push(Op::SetFont {
                        font: PdfFontHandle::External(id),
                        size: Pt(t.size_pt),
                    });
                }
                if muted != Some(t.muted) {
                    muted = Some(t.muted);
                    let grey = if t.muted { 0.3 } else { 0.0 };
                    ops.push(Op::SetFillColor {
                        col: Color::Greyscale(Greyscale::new(grey, None)),
                    });
                }
                let p = pt(t.x, t.y);
                ops.push(Op::SetTextMatrix {
                    matrix: TextMatrix::Translate(p.x, p.y),
                });
                ops.push(Op::ShowText {
                    items: vec![TextItem::Text(t.text.clone())],
                });
            }
            ops.push(Op::EndTextSection);
            self.pages
                .push(PdfPage::new(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), ops));
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let pages = std::mem::take(&mut self.pages);
        self.doc.with_pages(pages);
        let opts = PdfSaveOptions {
            optimize: true,
            subset_fonts: true,
            secure: true,
            image_optimization: None,
        };
        self.doc.save(&opts, &mut Vec::new())
    }
}

/// Generates the whole batch. `progress(done, total)` is called after every letter;
/// `cancel()` is asked before every letter and aborts with [`Error::Cancelled`].
pub fn generate_batch(
    job: &BatchJob,
    mut progress: impl FnMut(usize, usize),
    cancel: impl Fn() -> bool,
) -> Result<Vec<u8>, Error> {
    let mut b = BatchBuilder::new(job)?;
    let total = b.total();
    loop {
        if cancel() {
            return Err(Error::Cancelled);
        }
        if !b.add_next()? {
            break;
        }
        progress(b.done(), total);
    }
    b.finish()
}

/// `D:20261126090000+00'00'` (the caller's local time, written as given).
fn pdf_date_string(dt: NaiveDateTime) -> String {
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Point from mm-from-top-left to PDF points from bottom-left.
fn pt(x_mm: f32, y_mm: f32) -> Point {
    Point::new(Mm(x_mm), Mm(PAGE_HEIGHT_MM - y_mm))
}

fn to_pdf_date(dt: NaiveDateTime) -> printpdf::OffsetDateTime {
    use printpdf::date::{Date, Offset, Time};
    printpdf::OffsetDateTime::new_in_offset(
        Date {
            year: dt.year(),
            month: dt.month() as u8,
            day: dt.day() as u8,
        },
        Time {
            hour: dt.hour() as u8,
            minute: dt.minute() as u8,
            second: dt.second() as u8,
            millisecond: 0,
        },
        Offset {
            hours: 0,
            minutes: 0,
            seconds: 0,
            milliseconds: 0,
        },
    )
}

#[cfg(feature = "logo-png")]
fn load_logo(doc: &mut PdfDocument, bytes: &[u8]) -> Result<(printpdf::XObjectId, f32), Error> {
    let img = printpdf::RawImage::decode_from_bytes(bytes, &mut Vec::new()).map_err(Error::Logo)?;
    if img.width == 0 || img.height == 0 {
        return Err(Error::Logo("leeres Bild".into()));
    }
    let aspect = img.width as f32 / img.height as f32;
    let id = doc.add_image(&img);
    Ok((id, aspect))
}

#[cfg(not(feature = "logo-png"))]
fn load_logo(_doc: &mut PdfDocument, _bytes: &[u8]) -> Result<(printpdf::XObjectId, f32), Error> {
    Err(Error::Logo(
        "PNG-Unterstützung ist in diesem Build nicht enthalten".into(),
    ))
}

fn draw_logo(
    ops: &mut Vec<Op>,
    doc: &PdfDocument,
    id: &printpdf::XObjectId,
    b: &praxisbote::domain::letter::ImageBox,
) {
    let width_px = match doc.resources.xobjects.map.get(id) {
        Some(printpdf::XObject::Image(img)) => img.width as f32,
        _ => return,
    };
    // At this dpi the image is exactly b.w mm wide (and b.h high, same aspect).
    let dpi = width_px * 25.4 / b.w;
    let origin = pt(b.x, b.y + b.h);
    ops.push(Op::UseXobject {
        id: id.clone(),
        transform: printpdf::XObjectTransform {
            translate_x: Some(origin.x),
            translate_y: Some(origin.y),
            dpi: Some(dpi),
            ..Default::default()
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_name_is_safe() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let table = [
            (
                "Terminerinnerung",
                "Serienbrief_Terminerinnerung_2026-11-27.pdf",
            ),
            (
                "Geburtstag 2026",
                "Serienbrief_Geburtstag_2026_2026-11-27.pdf",
            ),
            ("a/b:c", "Serienbrief_a_b_c_2026-11-27.pdf"),
            ("", "Serienbrief_2026-11-27.pdf"),
        ];
        for (topic, want) in table {
            assert_eq!(download_name(topic, d), want);
        }
    }

    #[test]
    fn metrics_come_from_the_font() {
        let m = DejaVuMetrics::get().unwrap();
        // DejaVu Sans: 'i' is narrower than 'W', bold is wider than regular.
        let i = m.width_mm("iiii", FontStyle::Regular, 11.0);
        let w = m.width_mm("WWWW", FontStyle::Regular, 11.0);
        assert!(i < w / 2.0, "{i} {w}");
        let rb = m.width_mm("Müller", FontStyle::Bold, 11.0);
        let rr = m.width_mm("Müller", FontStyle::Regular, 11.0);
        assert!(rb > rr);
        // 'M' in DejaVu Sans is 1767/2048 em.
        let mm = m.width_mm("M", FontStyle::Regular, 72.0);
        assert!((mm - 25.4 * 1767.0 / 2048.0).abs() < 0.01, "{mm}");
        assert!((m.ascent_em() - 0.928).abs() < 0.01);
    }
}
