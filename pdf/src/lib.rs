//! praxisbote-pdf: draws DIN 5008 letter layouts (from `praxisbote_core::domain::letter`) into one
//! PDF per batch with its own direct writer (`writer.rs`), embedding DejaVu Sans and DejaVu Sans
//! Bold as subsets (parsed and subset with printpdf).
//!
//! The layout itself is pure and lives in the domain; this crate only measures text with the
//! embedded fonts and turns positioned items into PDF operations. It compiles for
//! `wasm32-unknown-unknown` so the browser can run it in a Web Worker.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDateTime, Timelike};
use praxisbote_core::domain::letter::{
    layout_letter, FontStyle, LayoutError, LayoutOptions, Letter, TextMeasure,
};
use praxisbote_core::domain::{ImageKind, Letterhead, PracticeSettings};
use printpdf::ParsedFont;
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
    /// Optional letterhead logo (PNG bytes; needs the `logo-png` feature). A logo in
    /// `letterhead` takes precedence.
    #[serde(default)]
    pub logo_png: Option<Vec<u8>>,
    /// The practice's letterhead (logo PNG/JPEG with width and position, details block,
    /// business details in every footer); `None` prints the plain letterhead.
    #[serde(default)]
    pub letterhead: Option<Letterhead>,
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
pub use praxisbote_core::domain::print::download_name;

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
    writer: Box<writer::Writer>,
    /// Width / height of the logo, when there is one.
    logo_aspect: Option<f32>,
    next: usize,
    fonts: &'static Fonts,
}

impl<'a> BatchBuilder<'a> {
    pub fn new(job: &'a BatchJob) -> Result<Self, Error> {
        if job.letters.is_empty() {
            return Err(Error::Empty);
        }
        let f = fonts()?;
        let mut writer = Box::new(writer::Writer::new(DEFLATE_LEVEL));
        let own_logo = job
            .letterhead
            .as_ref()
            .and_then(|l| l.logo.as_ref())
            .map(|l| l.bytes.as_slice())
            .filter(|b| !b.is_empty());
        let logo_aspect = embed_logo(&mut writer, own_logo.or(job.logo_png.as_deref()))?;
        Ok(BatchBuilder {
            job,
            writer,
            logo_aspect,
            next: 0,
            fonts: f,
        })
    }

    /// Deflate level (0–9, default [`DEFLATE_LEVEL`]) of the content streams; call before
    /// adding letters.
    pub fn with_deflate_level(mut self, level: u32) -> Self {
        self.writer.set_level(level);
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
        let opts = LayoutOptions {
            logo_aspect: self.logo_aspect,
            letterhead: self.job.letterhead.as_ref(),
        };
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
        self.writer.add_layout(&layout, &self.fonts.glyphs);
        if self.job.duplex && layout.pages.len() % 2 == 1 {
            self.writer.blank_page();
        }
        self.next += 1;
        Ok(true)
    }

    /// Writes the PDF (fonts subset to the glyphs used).
    pub fn finish(self) -> Result<Vec<u8>, Error> {
        let info = writer::Info {
            title: self.job.title.clone(),
            author: self.job.practice.name.clone(),
            subject: self.job.title.clone(),
            date: pdf_date_string(self.job.created),
        };
        self.writer.finish(
            [
                (&self.fonts.regular, "DejaVuSans"),
                (&self.fonts.bold, "DejaVuSans-Bold"),
            ],
            &info,
        )
    }

    /// Pages so far (including duplex blanks).
    pub fn page_count(&self) -> usize {
        self.writer.page_count()
    }
}

/// Address labels or DL envelopes for one PDF (see [`generate_labels`]).
pub use praxisbote_core::domain::labels::LabelJob;

#[derive(Debug, thiserror::Error)]
pub enum LabelPdfError {
    #[error("{0}")]
    Layout(#[from] praxisbote_core::domain::labels::LabelError),
    #[error(transparent)]
    Pdf(#[from] Error),
}

/// Draws address labels (A4 sheets) or DL envelopes into one PDF.
pub fn generate_labels(job: &LabelJob) -> Result<(Vec<u8>, usize), LabelPdfError> {
    use praxisbote_core::domain::labels::layout;
    let f = fonts()?;
    let pages = layout(
        job.kind,
        &job.practice,
        &job.addresses,
        job.skip,
        &f.metrics,
    )?;
    let mut writer = Box::new(writer::Writer::new(DEFLATE_LEVEL));
    let (w, h) = job.kind.page_size();
    writer.set_page_size(w, h);
    writer.add_layout(
        &praxisbote_core::domain::letter::LetterLayout { pages },
        &f.glyphs,
    );
    let count = writer.page_count();
    let info = writer::Info {
        title: job.title.clone(),
        author: job.practice.name.clone(),
        subject: job.title.clone(),
        date: pdf_date_string(job.created),
    };
    let bytes = writer.finish(
        [(&f.regular, "DejaVuSans"), (&f.bold, "DejaVuSans-Bold")],
        &info,
    )?;
    Ok((bytes, count))
}

/// The consent proof ("Einwilligungsnachweis", see [`generate_consent_proof`]).
pub use praxisbote_core::domain::consent::proof_sheet::ConsentProofJob;
/// The recovery key sheet ("Notfallschlüssel", see [`generate_recovery_sheet`]).
pub use praxisbote_core::domain::recovery_sheet::{RecoverySheetJob, SheetLetterhead};

#[derive(Debug, thiserror::Error)]
pub enum RecoverySheetPdfError {
    #[error("{0}")]
    Layout(#[from] praxisbote_core::domain::recovery_sheet::RecoverySheetError),
    #[error(transparent)]
    Pdf(#[from] Error),
}

/// Draws the recovery key sheet: one DIN A4 page, with the practice's letterhead (logo,
/// header, footer) drawn as on letters when the job has one. The key exists only in `job` and in the
/// returned bytes; nothing is written anywhere.
pub fn generate_recovery_sheet(job: &RecoverySheetJob) -> Result<Vec<u8>, RecoverySheetPdfError> {
    use praxisbote_core::domain::recovery_sheet::layout_recovery_sheet;
    let (bytes, _) = sheet_pdf(
        job.letterhead.as_ref(),
        |aspect, m| Ok::<_, RecoverySheetPdfError>(vec![layout_recovery_sheet(job, aspect, m)?]),
        &job.title,
        &job.practice,
        job.created,
    )?;
    Ok(bytes)
}

/// The consent proof ("Einwilligungsnachweis") of one person (see
/// [`praxisbote_core::domain::consent::proof_sheet`]); returns the PDF and its page count.
pub fn generate_consent_proof(job: &ConsentProofJob) -> Result<(Vec<u8>, usize), Error> {
    use praxisbote_core::domain::consent::proof_sheet::layout_consent_proof;
    sheet_pdf(
        job.letterhead.as_ref(),
        |aspect, m| Ok::<_, Error>(layout_consent_proof(job, aspect, m)),
        &job.title,
        &job.practice,
        job.created,
    )
}

/// A document of a few pages on the practice's letterhead (logo embedded once): the
/// recovery sheet and the consent proof.
fn sheet_pdf<E: From<Error>>(
    letterhead: Option<&SheetLetterhead>,
    layout: impl FnOnce(
        Option<f32>,
        &DejaVuMetrics,
    ) -> Result<Vec<praxisbote_core::domain::letter::Page>, E>,
    title: &str,
    author: &str,
    created: NaiveDateTime,
) -> Result<(Vec<u8>, usize), E> {
    let f = fonts()?;
    let mut writer = Box::new(writer::Writer::new(DEFLATE_LEVEL));
    let logo = letterhead
        .and_then(|h| h.letterhead.logo.as_ref())
        .map(|l| l.bytes.as_slice());
    let logo_aspect = embed_logo(&mut writer, logo)?;
    let pages = layout(logo_aspect, &f.metrics)?;
    let n = pages.len();
    writer.add_layout(
        &praxisbote_core::domain::letter::LetterLayout { pages },
        &f.glyphs,
    );
    let info = writer::Info {
        title: title.to_owned(),
        author: author.to_owned(),
        subject: title.to_owned(),
        date: pdf_date_string(created),
    };
    let bytes = writer.finish(
        [(&f.regular, "DejaVuSans"), (&f.bold, "DejaVuSans-Bold")],
        &info,
    )?;
    Ok((bytes, n))
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

/// Size and colour components of a baseline or progressive JPEG (from its SOF segment).
pub fn jpeg_info(b: &[u8]) -> Option<(usize, usize, u8)> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        // SOF0…SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let s = b.get(i + 4..i + 10)?;
            let h = u16::from_be_bytes([s[1], s[2]]) as usize;
            let w = u16::from_be_bytes([s[3], s[4]]) as usize;
            return Some((w, h, s[5]));
        }
        if marker == 0xDA || len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

/// Embeds the logo (JPEG as it is, else PNG) for letters and the recovery sheet; returns its
/// aspect ratio (width / height), `None` without a logo.
fn embed_logo(w: &mut writer::Writer, bytes: Option<&[u8]>) -> Result<Option<f32>, Error> {
    match bytes {
        Some(b) if !b.is_empty() => Ok(Some(match ImageKind::sniff(b) {
            Some(ImageKind::Jpeg) => load_jpeg(w, b)?,
            _ => load_logo(w, b)?,
        })),
        _ => Ok(None),
    }
}

/// Embeds a JPEG logo as it is (DCTDecode); returns its aspect ratio.
fn load_jpeg(w: &mut writer::Writer, bytes: &[u8]) -> Result<f32, Error> {
    let (width, height, comps) =
        jpeg_info(bytes).ok_or_else(|| Error::Logo("kein lesbares JPEG".into()))?;
    if width == 0 || height == 0 || !matches!(comps, 1 | 3 | 4) {
        return Err(Error::Logo("nicht unterstütztes JPEG".into()));
    }
    w.set_logo_jpeg(width, height, comps, bytes);
    Ok(width as f32 / height as f32)
}

/// Decodes the PNG logo and embeds it; returns its aspect ratio (width / height).
#[cfg(feature = "logo-png")]
fn load_logo(w: &mut writer::Writer, bytes: &[u8]) -> Result<f32, Error> {
    use printpdf::{RawImageData, RawImageFormat as F};
    let img = printpdf::RawImage::decode_from_bytes(bytes, &mut Vec::new()).map_err(Error::Logo)?;
    if img.width == 0 || img.height == 0 {
        return Err(Error::Logo("leeres Bild".into()));
    }
    // Samples as 8 bit.
    let px: Vec<u8> = match &img.pixels {
        RawImageData::U8(v) => v.clone(),
        RawImageData::U16(v) => v.iter().map(|x| (x >> 8) as u8).collect(),
        RawImageData::F32(v) => v
            .iter()
            .map(|x| (x.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect(),
    };
    // (channels, colour channels in RGB order, alpha channel)
    let (n, order, alpha): (usize, &[usize], Option<usize>) = match img.data_format {
        F::R8 | F::R16 => (1, &[0], None),
        F::RG8 | F::RG16 => (2, &[0], Some(1)),
        F::RGB8 | F::RGB16 | F::RGBF32 => (3, &[0, 1, 2], None),
        F::RGBA8 | F::RGBA16 | F::RGBAF32 => (4, &[0, 1, 2], Some(3)),
        F::BGR8 => (3, &[2, 1, 0], None),
        F::BGRA8 => (4, &[2, 1, 0], Some(3)),
    };
    let count = img.width * img.height;
    if px.len() < count * n {
        return Err(Error::Logo("unvollständige Bilddaten".into()));
    }
    let mut colour = Vec::with_capacity(count * order.len());
    let mut mask = alpha.map(|_| Vec::with_capacity(count));
    for p in px.chunks_exact(n).take(count) {
        colour.extend(order.iter().map(|&c| p[c]));
        if let (Some(m), Some(a)) = (mask.as_mut(), alpha) {
            m.push(p[a]);
        }
    }
    // A fully opaque alpha channel needs no soft mask.
    if mask.as_ref().is_some_and(|m| m.iter().all(|&a| a == 255)) {
        mask = None;
    }
    w.set_logo(
        img.width,
        img.height,
        order.len() == 1,
        &colour,
        mask.as_deref(),
    );
    Ok(img.width as f32 / img.height as f32)
}

#[cfg(not(feature = "logo-png"))]
fn load_logo(_w: &mut writer::Writer, _bytes: &[u8]) -> Result<f32, Error> {
    Err(Error::Logo(
        "PNG-Unterstützung ist in diesem Build nicht enthalten".into(),
    ))
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
