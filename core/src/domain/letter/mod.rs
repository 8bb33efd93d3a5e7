//! DIN 5008 letter layout: turns one letter (practice settings, recipient lines, subject,
//! body …) into pages of positioned items — text runs, lines and an optional logo box.
//!
//! Pure: no fonts are read here. Word wrapping asks a [`TextMeasure`] for text widths, so
//! the PDF crate measures with the real embedded font while tests use a simple stand-in.
//!
//! Coordinates are millimetres from the top-left corner of an A4 page (210 × 297 mm). The y of
//! a [`TextRun`] is its baseline. Measures of Form A and Form B come from DIN 5008 (see
//! `REFERENCE.md` §3).

mod flow;
mod page;
mod parts;
#[cfg(test)]
mod tests;
mod wrap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::address::{city_line, street_line};
use super::model::{LetterForm, Letterhead, LogoPosition, PracticeSettings};
use super::text::join_nonempty;

pub use flow::layout_letter;
pub use page::{ImageBox, Item, LetterLayout, LineItem, Page, Role, TextRun};
pub(crate) use parts::{footer as draw_footer, letterhead as draw_letterhead, run as text_run};
pub use wrap::{wrap_text, FontStyle, TextMeasure};

/// A4 page size in mm.
pub const PAGE_WIDTH_MM: f32 = 210.0;
pub const PAGE_HEIGHT_MM: f32 = 297.0;
/// Left text margin (DIN 5008: 25 mm).
pub const LEFT_MARGIN_MM: f32 = 25.0;
/// Right edge of the text area (right margin 20 mm).
pub const RIGHT_EDGE_MM: f32 = 190.0;
/// Lowest baseline of a content line (the last line sits around y = 257, then the footer).
pub const MAX_BASELINE_MM: f32 = 255.5;
/// The footer rule.
pub const FOOTER_RULE_Y_MM: f32 = 261.0;
/// Top of the text on following pages (below the page header).
pub const FOLLOW_PAGE_TEXT_TOP_MM: f32 = 27.0;
/// Body font size and line pitch.
pub const BODY_SIZE_PT: f32 = 11.0;
pub const LINE_PITCH_MM: f32 = 4.5;
/// Recipient lines: at most 6 in the 27.3 mm recipient zone.
pub const MAX_RECIPIENT_LINES: usize = 6;
/// Height of the additions zone at the top of the address field.
pub const ADDITIONS_ZONE_MM: f32 = 17.7;
/// Height of the recipient zone below it.
pub const RECIPIENT_ZONE_MM: f32 = 27.3;
/// Inset of the text in the address field (recipient lines start at x = 25).
pub const ADDRESS_INSET_MM: f32 = 5.0;
/// Size of the return-address line ("Rücksendeangabe").
pub const RETURN_LINE_SIZE_PT: f32 = 7.0;
/// One DIN writing line (12 pt grid), used for the distance address field → subject.
pub const DIN_LINE_MM: f32 = 4.23;

const PT_TO_MM: f32 = 25.4 / 72.0;

/// Converts a font size in points to millimetres.
pub fn pt_to_mm(pt: f32) -> f32 {
    pt * PT_TO_MM
}

/// Geometry of a DIN 5008 form (all mm from the top-left).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FormGeometry {
    pub letterhead_height: f32,
    pub address_x: f32,
    pub address_y: f32,
    pub address_w: f32,
    pub address_h: f32,
    pub info_x: f32,
    pub info_y: f32,
    pub info_w: f32,
    pub fold_marks: [f32; 2],
    pub hole_mark: f32,
}

impl FormGeometry {
    pub fn for_form(form: LetterForm) -> Self {
        match form {
            LetterForm::A => FormGeometry {
                letterhead_height: 27.0,
                address_x: 20.0,
                address_y: 27.0,
                address_w: 85.0,
                address_h: 45.0,
                info_x: 125.0,
                info_y: 32.0,
                info_w: 75.0,
                fold_marks: [87.0, 192.0],
                hole_mark: 148.5,
            },
            LetterForm::B => FormGeometry {
                letterhead_height: 45.0,
                address_x: 20.0,
                address_y: 45.0,
                address_w: 85.0,
                address_h: 45.0,
                info_x: 125.0,
                info_y: 50.0,
                info_w: 75.0,
                fold_marks: [105.0, 210.0],
                hole_mark: 148.5,
            },
        }
    }

    /// Top of the recipient zone (below the 17.7 mm additions zone).
    pub fn recipient_zone_top(&self) -> f32 {
        self.address_y + ADDITIONS_ZONE_MM
    }

    /// Bottom of the address field.
    pub fn address_bottom(&self) -> f32 {
        self.address_y + self.address_h
    }

    /// Top of the subject line: two blank DIN lines below the address field.
    pub fn subject_top(&self) -> f32 {
        self.address_bottom() + 2.0 * DIN_LINE_MM
    }
}

/// One letter's content. The recipient lines come already formatted (address block).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Letter {
    /// Recipient lines ("Herrn", "Dr. Mehmet Yılmaz", "Hauptstr. 5", "12345 Berlin"); ≤ 6.
    pub recipient: Vec<String>,
    /// Return-address line; empty means [`return_address_line`] of the practice.
    #[serde(default)]
    pub return_address: String,
    pub date: NaiveDate,
    pub subject: String,
    pub salutation: String,
    /// Body paragraphs; a `\n` inside a paragraph is a hard line break.
    pub body: Vec<String>,
    pub closing: String,
    /// Lines under the closing (after room for a handwritten signature).
    #[serde(default)]
    pub signature: Vec<String>,
}

/// Options that are the same for every letter of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct LayoutOptions<'a> {
    /// Width / height of the logo image, when the letterhead has one.
    pub logo_aspect: Option<f32>,
    /// The practice's letterhead (logo width and position, details block, business details
    /// in the footer); `None` keeps the plain letterhead.
    pub letterhead: Option<&'a Letterhead>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LayoutError {
    #[error("Die Anschrift ist leer.")]
    EmptyAddress,
    #[error("Die Anschrift hat {0} Zeilen; im Anschriftfeld ist Platz für höchstens 6.")]
    AddressTooLong(usize),
    #[error("Die Anschriftzeile „{0}“ ist zu breit für das Anschriftfeld.")]
    AddressLineTooWide(String),
}

/// "26.11.2026".
pub fn format_date_de(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// The default return-address line: "Praxis Sonnenschein · Lindenweg 3 · 12345 Musterstadt".
pub fn return_address_line(p: &PracticeSettings) -> String {
    join_nonempty(
        &[
            p.name.trim(),
            &street_line(&p.address),
            &city_line(&p.address),
        ],
        " · ",
    )
}
