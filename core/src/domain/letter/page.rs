//! What a laid-out letter is made of: pages of positioned text runs, lines and a logo box.

use serde::{Deserialize, Serialize};

use super::FontStyle;

/// What a text run is, so tests and the PDF writer can find elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Letterhead,
    ReturnAddress,
    Recipient,
    Info,
    PageNumber,
    Subject,
    Salutation,
    Body,
    Closing,
    Signature,
    Footer,
    PageHeader,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TextRun {
    /// Left edge in mm.
    pub x: f32,
    /// Baseline in mm from the top.
    pub y: f32,
    pub text: String,
    pub font: FontStyle,
    pub size_pt: f32,
    pub role: Role,
    /// Width in mm as measured during layout.
    pub width: f32,
    /// Grey text (labels), else black.
    pub muted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineItem {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub width_mm: f32,
}

/// Where the logo goes (top-left corner and size in mm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Text(TextRun),
    Line(LineItem),
    Image(ImageBox),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
}

impl Page {
    pub fn texts(&self) -> impl Iterator<Item = &TextRun> {
        self.items.iter().filter_map(|i| match i {
            Item::Text(t) => Some(t),
            _ => None,
        })
    }

    pub fn texts_with(&self, role: Role) -> impl Iterator<Item = &TextRun> {
        self.texts().filter(move |t| t.role == role)
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct LetterLayout {
    pub pages: Vec<Page>,
}
