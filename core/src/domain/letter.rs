//! DIN 5008 letter layout: turns one letter (practice settings, recipient lines, subject,
//! body …) into pages of positioned items — text runs, lines and an optional logo box.
//!
//! Pure: no fonts are read here. Word wrapping asks a [`TextMeasure`] for text widths, so
//! the PDF crate measures with the real embedded font while tests use a simple stand-in.
//!
//! Coordinates are millimetres from the top-left corner of an A4 page (210 × 297 mm). The y of
//! a [`TextRun`] is its baseline. Measures of Form A and Form B come from DIN 5008 (see
//! `REFERENCE.md` §3).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{LetterForm, PracticeSettings};

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

/// The two faces a letter uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FontStyle {
    Regular,
    Bold,
}

/// Measures text. Implemented by the PDF crate with the embedded font's advance widths.
pub trait TextMeasure {
    /// Advance width of `text` in mm at `size_pt`.
    fn width_mm(&self, text: &str, font: FontStyle, size_pt: f32) -> f32;
    /// Ascent above the baseline, as a fraction of the font size (DejaVu Sans: 0.928).
    fn ascent_em(&self) -> f32 {
        0.93
    }
    /// Descent below the baseline, as a positive fraction of the font size (DejaVu: 0.236).
    fn descent_em(&self) -> f32 {
        0.24
    }
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
pub struct LayoutOptions {
    /// Width / height of the logo image, when the letterhead has one.
    pub logo_aspect: Option<f32>,
}

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
    let street = join_nonempty(
        &[p.address.street.trim(), p.address.house_number.trim()],
        " ",
    );
    let city = join_nonempty(&[p.address.postcode.trim(), p.address.city.trim()], " ");
    join_nonempty(&[p.name.trim(), &street, &city], " · ")
}

fn join_nonempty(parts: &[&str], sep: &str) -> String {
    parts
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(sep)
}

/// Splits `text` into lines no wider than `max_w` mm (greedy, at spaces; a word wider than
/// the line is broken between characters). `\n` forces a break.
pub fn wrap_text(
    text: &str,
    font: FontStyle,
    size_pt: f32,
    max_w: f32,
    m: &dyn TextMeasure,
) -> Vec<String> {
    let mut out = Vec::new();
    let space_w = m.width_mm(" ", font, size_pt);
    for hard_line in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0f32;
        for word in hard_line.split_whitespace() {
            let w = m.width_mm(word, font, size_pt);
            if line.is_empty() {
                if w <= max_w {
                    line.push_str(word);
                    line_w = w;
                } else {
                    let (pieces, rest) = break_long_word(word, font, size_pt, max_w, m);
                    out.extend(pieces);
                    line_w = m.width_mm(&rest, font, size_pt);
                    line = rest;
                }
            } else if line_w + space_w + w <= max_w {
                line.push(' ');
                line.push_str(word);
                line_w += space_w + w;
            } else {
                out.push(std::mem::take(&mut line));
                if w <= max_w {
                    line.push_str(word);
                    line_w = w;
                } else {
                    let (pieces, rest) = break_long_word(word, font, size_pt, max_w, m);
                    out.extend(pieces);
                    line_w = m.width_mm(&rest, font, size_pt);
                    line = rest;
                }
            }
        }
        out.push(line);
    }
    out
}

fn break_long_word(
    word: &str,
    font: FontStyle,
    size_pt: f32,
    max_w: f32,
    m: &dyn TextMeasure,
) -> (Vec<String>, String) {
    let mut pieces = Vec::new();
    let mut cur = String::new();
    for c in word.chars() {
        cur.push(c);
        if m.width_mm(&cur, font, size_pt) > max_w && cur.chars().count() > 1 {
            cur.pop();
            pieces.push(std::mem::take(&mut cur));
            cur.push(c);
        }
    }
    (pieces, cur)
}

/// One line of the flowing part (subject … signature).
#[derive(Clone, Debug)]
struct FlowLine {
    text: String,
    font: FontStyle,
    role: Role,
    /// A blank line (dropped at the top of a page).
    gap: bool,
    /// Must stay on the same page as the next line.
    keep_with_next: bool,
}

impl FlowLine {
    fn text(text: String, font: FontStyle, role: Role) -> Self {
        FlowLine {
            text,
            font,
            role,
            gap: false,
            keep_with_next: false,
        }
    }

    fn gap(keep_with_next: bool) -> Self {
        FlowLine {
            text: String::new(),
            font: FontStyle::Regular,
            role: Role::Body,
            gap: true,
            keep_with_next,
        }
    }
}

/// Number of flow lines that fit between a first line top `top` and the bottom limit.
fn capacity(top: f32, m: &dyn TextMeasure) -> usize {
    let first_baseline = top + m.ascent_em() * pt_to_mm(BODY_SIZE_PT);
    if first_baseline > MAX_BASELINE_MM {
        return 0;
    }
    ((MAX_BASELINE_MM - first_baseline) / LINE_PITCH_MM).floor() as usize + 1
}

/// Splits the flow into pages: greedy filling, but never breaks after a line that must be
/// kept with the next one (orphans, widows, closing block) unless nothing else fits.
/// Returns index ranges into `lines`.
fn paginate(lines: &[FlowLine], first_cap: usize, next_cap: usize) -> Vec<(usize, usize)> {
    let mut pages = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        if !pages.is_empty() {
            while start < lines.len() && lines[start].gap {
                start += 1;
            }
            if start == lines.len() {
                break;
            }
        }
        let cap = if pages.is_empty() {
            first_cap
        } else {
            next_cap
        }
        .max(1);
        let end = start + cap;
        if end >= lines.len() {
            pages.push((start, lines.len()));
            break;
        }
        let mut b = end;
        while b > start + 1 && lines[b - 1].keep_with_next {
            b -= 1;
        }
        if b == start + 1 && lines[start].keep_with_next {
            b = end; // cannot honour the keep rules: fill the page
        }
        pages.push((start, b));
        start = b;
    }
    if pages.is_empty() {
        pages.push((0, 0));
    }
    pages
}

/// Lays out one letter.
pub fn layout_letter(
    practice: &PracticeSettings,
    letter: &Letter,
    opts: &LayoutOptions,
    m: &dyn TextMeasure,
) -> Result<LetterLayout, LayoutError> {
    let g = FormGeometry::for_form(practice.letter_form);
    let text_w = RIGHT_EDGE_MM - LEFT_MARGIN_MM;

    // --- recipient block (validated first: an unusable address is an error) ---
    let recipient: Vec<&str> = letter
        .recipient
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if recipient.is_empty() {
        return Err(LayoutError::EmptyAddress);
    }
    if recipient.len() > MAX_RECIPIENT_LINES {
        return Err(LayoutError::AddressTooLong(recipient.len()));
    }
    let addr_text_w = g.address_w - 2.0 * ADDRESS_INSET_MM;
    let mut recipient_runs = Vec::with_capacity(recipient.len());
    let rz_top = g.recipient_zone_top();
    for (i, line) in recipient.iter().enumerate() {
        let size = fit_size(line, FontStyle::Regular, BODY_SIZE_PT, 8.0, addr_text_w, m)
            .ok_or_else(|| LayoutError::AddressLineTooWide(line.to_string()))?;
        let y = rz_top + 0.1 + m.ascent_em() * pt_to_mm(BODY_SIZE_PT) + i as f32 * LINE_PITCH_MM;
        recipient_runs.push(run(
            g.address_x + ADDRESS_INSET_MM,
            y,
            line,
            FontStyle::Regular,
            size,
            Role::Recipient,
            m,
        ));
    }

    // --- the flowing part ---
    let mut flow: Vec<FlowLine> = Vec::new();
    for l in wrap_text(&letter.subject, FontStyle::Bold, BODY_SIZE_PT, text_w, m) {
        let mut fl = FlowLine::text(l, FontStyle::Bold, Role::Subject);
        fl.keep_with_next = true;
        flow.push(fl);
    }
    if !letter.salutation.trim().is_empty() {
        flow.push(FlowLine::gap(true));
        flow.push(FlowLine::gap(true));
        for l in wrap_text(
            &letter.salutation,
            FontStyle::Regular,
            BODY_SIZE_PT,
            text_w,
            m,
        ) {
            let mut fl = FlowLine::text(l, FontStyle::Regular, Role::Salutation);
            fl.keep_with_next = true;
            flow.push(fl);
        }
        flow.push(FlowLine::gap(true));
    } else {
        flow.push(FlowLine::gap(true));
    }
    let paragraphs: Vec<&String> = letter
        .body
        .iter()
        .filter(|p| !p.trim().is_empty())
        .collect();
    for (pi, para) in paragraphs.iter().enumerate() {
        if pi > 0 {
            flow.push(FlowLine::gap(false));
        }
        let lines = wrap_text(para, FontStyle::Regular, BODY_SIZE_PT, text_w, m);
        let n = lines.len();
        for (li, l) in lines.into_iter().enumerate() {
            let mut fl = FlowLine::text(l, FontStyle::Regular, Role::Body);
            // No orphan (first line alone at the bottom), no widow (last line alone on top).
            fl.keep_with_next = n >= 2 && (li == 0 || li + 2 == n);
            flow.push(fl);
        }
    }
    // Closing block: kept together and with the last body line.
    if !letter.closing.trim().is_empty() || !letter.signature.is_empty() {
        if let Some(last) = flow.last_mut() {
            last.keep_with_next = true;
        }
        flow.push(FlowLine::gap(true));
        for l in wrap_text(&letter.closing, FontStyle::Regular, BODY_SIZE_PT, text_w, m) {
            let mut fl = FlowLine::text(l, FontStyle::Regular, Role::Closing);
            fl.keep_with_next = true;
            flow.push(fl);
        }
        let sig: Vec<&String> = letter
            .signature
            .iter()
            .filter(|s| !s.trim().is_empty())
            .collect();
        if !sig.is_empty() {
            for _ in 0..3 {
                flow.push(FlowLine::gap(true));
            }
            for s in sig {
                let mut fl =
                    FlowLine::text(s.trim().to_string(), FontStyle::Regular, Role::Signature);
                fl.keep_with_next = true;
                flow.push(fl);
            }
        }
        if let Some(last) = flow.last_mut() {
            last.keep_with_next = false;
        }
    }
    // Drop trailing gaps.
    while flow.last().is_some_and(|l| l.gap) {
        flow.pop();
    }

    let first_cap = capacity(g.subject_top(), m);
    let next_cap = capacity(FOLLOW_PAGE_TEXT_TOP_MM, m);
    let ranges = paginate(&flow, first_cap, next_cap);
    let total = ranges.len();

    let mut pages = Vec::with_capacity(total);
    for (pi, &(s, e)) in ranges.iter().enumerate() {
        let mut page = Page::default();
        let top = if pi == 0 {
            g.subject_top()
        } else {
            FOLLOW_PAGE_TEXT_TOP_MM
        };
        if pi == 0 {
            letterhead(&mut page, practice, &g, opts, m);
            return_line(&mut page, practice, letter, &g, m);
            page.items
                .extend(recipient_runs.iter().cloned().map(Item::Text));
            info_block(&mut page, practice, letter, &g, total, m);
        } else {
            page_header(&mut page, practice, letter, pi + 1, total, m);
        }
        let first_baseline = top + m.ascent_em() * pt_to_mm(BODY_SIZE_PT);
        for (k, fl) in flow[s..e].iter().enumerate() {
            if fl.gap || fl.text.is_empty() {
                continue;
            }
            let y = first_baseline + k as f32 * LINE_PITCH_MM;
            page.items.push(Item::Text(run(
                LEFT_MARGIN_MM,
                y,
                &fl.text,
                fl.font,
                BODY_SIZE_PT,
                fl.role,
                m,
            )));
        }
        footer(&mut page, practice, m);
        marks(&mut page, &g);
        pages.push(page);
    }
    Ok(LetterLayout { pages })
}

fn run(
    x: f32,
    y: f32,
    text: &str,
    font: FontStyle,
    size_pt: f32,
    role: Role,
    m: &dyn TextMeasure,
) -> TextRun {
    TextRun {
        x,
        y,
        text: text.to_string(),
        font,
        size_pt,
        role,
        width: m.width_mm(text, font, size_pt),
        muted: false,
    }
}

/// The largest size between `max_pt` and `min_pt` (in 0.5 pt steps) at which `text` fits.
fn fit_size(
    text: &str,
    font: FontStyle,
    max_pt: f32,
    min_pt: f32,
    max_w: f32,
    m: &dyn TextMeasure,
) -> Option<f32> {
    let mut size = max_pt;
    while size >= min_pt - 1e-3 {
        if m.width_mm(text, font, size) <= max_w {
            return Some(size);
        }
        size -= 0.5;
    }
    None
}

/// Fits a single line: shrinks down to `min_pt`, then cuts with "…".
fn fit_line(
    text: &str,
    font: FontStyle,
    max_pt: f32,
    min_pt: f32,
    max_w: f32,
    m: &dyn TextMeasure,
) -> (String, f32) {
    if let Some(s) = fit_size(text, font, max_pt, min_pt, max_w, m) {
        return (text.to_string(), s);
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cand: String = chars.iter().collect::<String>() + "…";
        if m.width_mm(&cand, font, min_pt) <= max_w {
            return (cand, min_pt);
        }
    }
    (String::new(), min_pt)
}

fn letterhead(
    page: &mut Page,
    p: &PracticeSettings,
    g: &FormGeometry,
    opts: &LayoutOptions,
    m: &dyn TextMeasure,
) {
    let form_a = g.letterhead_height < 40.0;
    let (name_size, name_y, contact_ys, logo_top, logo_max_h) = if form_a {
        (14.0, 11.0, [16.0, 19.5], 5.0, 17.0)
    } else {
        (16.0, 20.0, [26.5, 30.5], 10.0, 25.0)
    };
    // Logo at the right edge of the text area.
    let mut name_max_w = RIGHT_EDGE_MM - LEFT_MARGIN_MM;
    if let Some(aspect) = opts.logo_aspect.filter(|a| a.is_finite() && *a > 0.0) {
        let mut h = logo_max_h;
        let mut w = h * aspect;
        if w > 60.0 {
            w = 60.0;
            h = w / aspect;
        }
        page.items.push(Item::Image(ImageBox {
            x: RIGHT_EDGE_MM - w,
            y: logo_top,
            w,
            h,
        }));
        name_max_w -= w + 5.0;
    }
    let (name, size) = fit_line(
        p.name.trim(),
        FontStyle::Bold,
        name_size,
        10.0,
        name_max_w,
        m,
    );
    if !name.is_empty() {
        page.items.push(Item::Text(run(
            LEFT_MARGIN_MM,
            name_y,
            &name,
            FontStyle::Bold,
            size,
            Role::Letterhead,
            m,
        )));
    }
    let street = join_nonempty(
        &[p.address.street.trim(), p.address.house_number.trim()],
        " ",
    );
    let city = join_nonempty(&[p.address.postcode.trim(), p.address.city.trim()], " ");
    let line1 = join_nonempty(&[&street, &city], " · ");
    let phone = if p.phone.trim().is_empty() {
        String::new()
    } else {
        format!("Tel. {}", p.phone.trim())
    };
    let line2 = join_nonempty(&[&phone, p.email.trim(), p.web.trim()], " · ");
    for (text, y) in [(line1, contact_ys[0]), (line2, contact_ys[1])] {
        if text.is_empty() {
            continue;
        }
        let (t, s) = fit_line(&text, FontStyle::Regular, 8.5, 6.5, name_max_w, m);
        let mut r = run(
            LEFT_MARGIN_MM,
            y,
            &t,
            FontStyle::Regular,
            s,
            Role::Letterhead,
            m,
        );
        r.muted = true;
        page.items.push(Item::Text(r));
    }
}

fn return_line(
    page: &mut Page,
    p: &PracticeSettings,
    letter: &Letter,
    g: &FormGeometry,
    m: &dyn TextMeasure,
) {
    let text = if letter.return_address.trim().is_empty() {
        return_address_line(p)
    } else {
        letter.return_address.trim().to_string()
    };
    if text.is_empty() {
        return;
    }
    let max_w = g.address_w - 2.0 * ADDRESS_INSET_MM;
    let (t, s) = fit_line(
        &text,
        FontStyle::Regular,
        RETURN_LINE_SIZE_PT,
        5.5,
        max_w,
        m,
    );
    // Inside the first 5 mm of the address field, descenders included.
    let y = g.address_y + 5.0 - m.descent_em() * pt_to_mm(s) - 0.4;
    let r = run(
        g.address_x + ADDRESS_INSET_MM,
        y,
        &t,
        FontStyle::Regular,
        s,
        Role::ReturnAddress,
        m,
    );
    let underline_y = g.address_y + 5.0 - 0.2;
    page.items.push(Item::Line(LineItem {
        x1: r.x,
        y1: underline_y,
        x2: r.x + r.width,
        y2: underline_y,
        width_mm: 0.1,
    }));
    page.items.push(Item::Text(r));
}

const INFO_SIZE_PT: f32 = 9.0;
const INFO_PITCH_MM: f32 = 4.2;
const INFO_VALUE_OFFSET_MM: f32 = 25.0;

fn info_block(
    page: &mut Page,
    p: &PracticeSettings,
    letter: &Letter,
    g: &FormGeometry,
    total_pages: usize,
    m: &dyn TextMeasure,
) {
    let mut rows: Vec<(&str, String)> = Vec::new();
    let contact = p.sender_names.letter_contact.trim();
    if !contact.is_empty() {
        rows.push(("Ansprechpartner", contact.to_string()));
    }
    if !p.phone.trim().is_empty() {
        rows.push(("Telefon", p.phone.trim().to_string()));
    }
    if !p.email.trim().is_empty() {
        rows.push(("E-Mail", p.email.trim().to_string()));
    }
    rows.push(("Datum", format_date_de(letter.date)));
    if total_pages > 1 {
        rows.push(("Seite", format!("1 von {total_pages}")));
    }
    let value_w = g.info_w - INFO_VALUE_OFFSET_MM; // up to the block's right edge (x = 200)
    let first = g.info_y + m.ascent_em() * pt_to_mm(INFO_SIZE_PT);
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = first + i as f32 * INFO_PITCH_MM;
        let role = if *label == "Seite" {
            Role::PageNumber
        } else {
            Role::Info
        };
        let mut l = run(g.info_x, y, label, FontStyle::Regular, 7.5, role, m);
        l.muted = true;
        page.items.push(Item::Text(l));
        let (v, s) = fit_line(value, FontStyle::Regular, INFO_SIZE_PT, 7.0, value_w, m);
        page.items.push(Item::Text(run(
            g.info_x + INFO_VALUE_OFFSET_MM,
            y,
            &v,
            FontStyle::Regular,
            s,
            role,
            m,
        )));
    }
}

fn page_header(
    page: &mut Page,
    p: &PracticeSettings,
    letter: &Letter,
    page_no: usize,
    total: usize,
    m: &dyn TextMeasure,
) {
    let y = 17.0;
    let left = join_nonempty(&[p.name.trim(), &format_date_de(letter.date)], " · ");
    let (t, s) = fit_line(&left, FontStyle::Regular, 8.0, 6.5, 120.0, m);
    let mut r = run(
        LEFT_MARGIN_MM,
        y,
        &t,
        FontStyle::Regular,
        s,
        Role::PageHeader,
        m,
    );
    r.muted = true;
    page.items.push(Item::Text(r));
    let num = format!("Seite {page_no} von {total}");
    let w = m.width_mm(&num, FontStyle::Regular, 8.0);
    page.items.push(Item::Text(run(
        RIGHT_EDGE_MM - w,
        y,
        &num,
        FontStyle::Regular,
        8.0,
        Role::PageNumber,
        m,
    )));
    page.items.push(Item::Line(LineItem {
        x1: LEFT_MARGIN_MM,
        y1: y + 2.5,
        x2: RIGHT_EDGE_MM,
        y2: y + 2.5,
        width_mm: 0.15,
    }));
}

const FOOTER_SIZE_PT: f32 = 7.5;
const FOOTER_PITCH_MM: f32 = 3.4;

fn footer(page: &mut Page, p: &PracticeSettings, m: &dyn TextMeasure) {
    page.items.push(Item::Line(LineItem {
        x1: LEFT_MARGIN_MM,
        y1: FOOTER_RULE_Y_MM,
        x2: RIGHT_EDGE_MM,
        y2: FOOTER_RULE_Y_MM,
        width_mm: 0.2,
    }));
    let street = join_nonempty(
        &[p.address.street.trim(), p.address.house_number.trim()],
        " ",
    );
    let city = join_nonempty(&[p.address.postcode.trim(), p.address.city.trim()], " ");
    let phone = if p.phone.trim().is_empty() {
        String::new()
    } else {
        format!("Tel. {}", p.phone.trim())
    };
    let line1 = join_nonempty(&[p.name.trim(), &street, &city], " · ");
    let line2 = join_nonempty(&[&phone, p.email.trim(), p.web.trim()], " · ");
    let line3 = p.bank_details.trim().to_string();
    let mut y = FOOTER_RULE_Y_MM + 4.0;
    for text in [line1, line2, line3] {
        if text.is_empty() {
            continue;
        }
        let (t, s) = fit_line(
            &text,
            FontStyle::Regular,
            FOOTER_SIZE_PT,
            6.0,
            RIGHT_EDGE_MM - LEFT_MARGIN_MM,
            m,
        );
        let mut r = run(
            LEFT_MARGIN_MM,
            y,
            &t,
            FontStyle::Regular,
            s,
            Role::Footer,
            m,
        );
        r.muted = true;
        page.items.push(Item::Text(r));
        y += FOOTER_PITCH_MM;
    }
}

fn marks(page: &mut Page, g: &FormGeometry) {
    for y in g.fold_marks {
        page.items.push(Item::Line(LineItem {
            x1: 3.0,
            y1: y,
            x2: 8.0,
            y2: y,
            width_mm: 0.2,
        }));
    }
    page.items.push(Item::Line(LineItem {
        x1: 3.0,
        y1: g.hole_mark,
        x2: 10.0,
        y2: g.hole_mark,
        width_mm: 0.2,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::PostalAddress;

    /// A stand-in font: every character is 0.55 em wide, bold 0.6 em.
    struct Mono;
    impl TextMeasure for Mono {
        fn width_mm(&self, text: &str, font: FontStyle, size_pt: f32) -> f32 {
            let em = match font {
                FontStyle::Regular => 0.55,
                FontStyle::Bold => 0.6,
            };
            text.chars().count() as f32 * em * pt_to_mm(size_pt)
        }
    }

    fn practice(form: LetterForm) -> PracticeSettings {
        PracticeSettings {
            name: "Praxis Sonnenschein".into(),
            address: PostalAddress {
                street: "Lindenweg".into(),
                house_number: "3".into(),
                postcode: "12345".into(),
                city: "Musterstadt".into(),
                ..Default::default()
            },
            phone: "030 1234567".into(),
            email: "info@praxis-sonnenschein.de".into(),
            web: "praxis-sonnenschein.de".into(),
            bank_details: "IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001".into(),
            letter_form: form,
            sender_names: crate::domain::model::SenderNames {
                letter_contact: "Maria Schmidt".into(),
                ..Default::default()
            },
        }
    }

    fn letter(paragraphs: usize, words: usize) -> Letter {
        let para = (0..words)
            .map(|i| format!("wort{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        Letter {
            recipient: vec![
                "Herrn".into(),
                "Dr. Mehmet Yılmaz".into(),
                "Hauptstraße 5".into(),
                "12345 Berlin".into(),
            ],
            return_address: String::new(),
            date: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            subject: "Ihre Terminerinnerung".into(),
            salutation: "Sehr geehrter Herr Dr. Yılmaz,".into(),
            body: vec![para; paragraphs],
            closing: "Mit freundlichen Grüßen".into(),
            signature: vec!["Maria Schmidt".into(), "Praxis Sonnenschein".into()],
        }
    }

    fn one(page: &Page, role: Role) -> &TextRun {
        page.texts_with(role)
            .next()
            .unwrap_or_else(|| panic!("no {role:?}"))
    }

    #[test]
    fn date_is_german() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(format_date_de(d), "26.11.2026");
        let d = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        assert_eq!(format_date_de(d), "05.01.2027");
    }

    #[test]
    fn return_line_from_practice() {
        assert_eq!(
            return_address_line(&practice(LetterForm::B)),
            "Praxis Sonnenschein · Lindenweg 3 · 12345 Musterstadt"
        );
    }

    #[test]
    fn form_geometry_matches_din() {
        // (form, address y, info y, fold marks)
        let table = [
            (LetterForm::A, 27.0, 32.0, [87.0, 192.0]),
            (LetterForm::B, 45.0, 50.0, [105.0, 210.0]),
        ];
        for (form, ay, iy, folds) in table {
            let g = FormGeometry::for_form(form);
            assert_eq!(g.address_y, ay);
            assert_eq!(g.info_y, iy);
            assert_eq!(g.fold_marks, folds);
            assert_eq!((g.address_x, g.address_w, g.address_h), (20.0, 85.0, 45.0));
            assert_eq!(g.hole_mark, 148.5);
        }
    }

    #[test]
    fn recipient_lines_sit_in_the_recipient_zone() {
        for form in [LetterForm::A, LetterForm::B] {
            let g = FormGeometry::for_form(form);
            let mut l = letter(1, 20);
            l.recipient = (1..=6).map(|i| format!("Zeile {i}")).collect();
            let lay = layout_letter(&practice(form), &l, &LayoutOptions::default(), &Mono).unwrap();
            let runs: Vec<_> = lay.pages[0].texts_with(Role::Recipient).collect();
            assert_eq!(runs.len(), 6);
            let size = pt_to_mm(BODY_SIZE_PT);
            for r in &runs {
                assert_eq!(r.x, 25.0);
                let top = r.y - 0.93 * size;
                let bottom = r.y + 0.24 * size;
                assert!(top >= g.recipient_zone_top(), "{form:?} {r:?}");
                assert!(bottom <= g.address_bottom(), "{form:?} {r:?} {bottom}");
                assert!(r.x + r.width <= g.address_x + g.address_w - ADDRESS_INSET_MM);
            }
        }
    }

    #[test]
    fn return_line_is_in_first_5mm_of_address_field() {
        for form in [LetterForm::A, LetterForm::B] {
            let g = FormGeometry::for_form(form);
            let lay = layout_letter(
                &practice(form),
                &letter(1, 10),
                &LayoutOptions::default(),
                &Mono,
            )
            .unwrap();
            let r = one(&lay.pages[0], Role::ReturnAddress);
            let size = pt_to_mm(r.size_pt);
            assert!(r.size_pt <= 8.0);
            assert!(r.y - 0.93 * size >= g.address_y, "{r:?}");
            assert!(r.y + 0.24 * size <= g.address_y + 5.0, "{r:?}");
            assert!(r.x + r.width <= g.address_x + g.address_w);
        }
    }

    #[test]
    fn too_many_or_no_address_lines_are_errors() {
        let p = practice(LetterForm::B);
        let mut l = letter(1, 5);
        l.recipient = (0..7).map(|i| format!("Z{i}")).collect();
        assert_eq!(
            layout_letter(&p, &l, &LayoutOptions::default(), &Mono),
            Err(LayoutError::AddressTooLong(7))
        );
        l.recipient = vec!["  ".into()];
        assert_eq!(
            layout_letter(&p, &l, &LayoutOptions::default(), &Mono),
            Err(LayoutError::EmptyAddress)
        );
        l.recipient = vec!["X".repeat(200)];
        assert!(matches!(
            layout_letter(&p, &l, &LayoutOptions::default(), &Mono),
            Err(LayoutError::AddressLineTooWide(_))
        ));
    }

    #[test]
    fn subject_salutation_body_follow_din_spacing() {
        for form in [LetterForm::A, LetterForm::B] {
            let g = FormGeometry::for_form(form);
            let lay = layout_letter(
                &practice(form),
                &letter(2, 30),
                &LayoutOptions::default(),
                &Mono,
            )
            .unwrap();
            let p = &lay.pages[0];
            let subj = one(p, Role::Subject);
            let sal = one(p, Role::Salutation);
            let body = one(p, Role::Body);
            assert_eq!(subj.font, FontStyle::Bold);
            assert_eq!(sal.font, FontStyle::Regular);
            let asc = 0.93 * pt_to_mm(BODY_SIZE_PT);
            assert!((subj.y - asc - g.subject_top()).abs() < 0.01);
            // two blank lines between subject and salutation, one before the text
            assert!((sal.y - subj.y - 3.0 * LINE_PITCH_MM).abs() < 0.01);
            assert!((body.y - sal.y - 2.0 * LINE_PITCH_MM).abs() < 0.01);
            for t in [subj, sal, body] {
                assert_eq!(t.x, LEFT_MARGIN_MM);
            }
        }
    }

    #[test]
    fn info_block_has_date_and_contact_at_125() {
        let lay = layout_letter(
            &practice(LetterForm::B),
            &letter(1, 10),
            &LayoutOptions::default(),
            &Mono,
        )
        .unwrap();
        let info: Vec<_> = lay.pages[0].texts_with(Role::Info).collect();
        assert!(info.iter().any(|t| t.text == "26.11.2026"));
        assert!(info.iter().any(|t| t.text == "Maria Schmidt"));
        assert!(info.iter().any(|t| t.text == "030 1234567"));
        for t in &info {
            assert!(t.x >= 125.0 && t.x + t.width <= 200.0, "{t:?}");
            assert!(t.y - 0.93 * pt_to_mm(t.size_pt) >= 50.0 - 0.01, "{t:?}");
        }
        // single page: no page number
        assert_eq!(lay.pages.len(), 1);
        assert_eq!(lay.pages[0].texts_with(Role::PageNumber).count(), 0);
    }

    #[test]
    fn body_lines_stay_inside_margins_and_above_footer() {
        let lay = layout_letter(
            &practice(LetterForm::B),
            &letter(12, 60),
            &LayoutOptions::default(),
            &Mono,
        )
        .unwrap();
        assert!(lay.pages.len() >= 2);
        for p in &lay.pages {
            for t in p.texts() {
                assert!(t.x >= LEFT_MARGIN_MM - 0.01, "{t:?}");
                // the DIN information block is 75 mm wide from x = 125, up to x = 200
                let right = if matches!(t.role, Role::Info | Role::PageNumber) && t.x >= 125.0 {
                    200.0
                } else {
                    RIGHT_EDGE_MM
                };
                assert!(t.x + t.width <= right + 0.01, "{t:?}");
                if t.role != Role::Footer {
                    assert!(t.y <= MAX_BASELINE_MM + 0.01, "{t:?}");
                } else {
                    assert!(t.y > FOOTER_RULE_Y_MM, "{t:?}");
                    assert!(t.y < 287.0, "{t:?}");
                }
            }
        }
    }

    #[test]
    fn long_letters_flow_with_page_numbers_and_no_address_field() {
        let lay = layout_letter(
            &practice(LetterForm::B),
            &letter(14, 70),
            &LayoutOptions::default(),
            &Mono,
        )
        .unwrap();
        let n = lay.pages.len();
        assert!(n >= 3, "{n} pages");
        for (i, p) in lay.pages.iter().enumerate() {
            if i == 0 {
                assert_eq!(p.texts_with(Role::Recipient).count(), 4);
                let pn: Vec<_> = p
                    .texts_with(Role::PageNumber)
                    .map(|t| t.text.clone())
                    .collect();
                assert!(pn.contains(&format!("1 von {n}")), "{pn:?}");
            } else {
                assert_eq!(p.texts_with(Role::Recipient).count(), 0);
                assert_eq!(p.texts_with(Role::ReturnAddress).count(), 0);
                assert_eq!(p.texts_with(Role::Subject).count(), 0);
                assert_eq!(
                    one(p, Role::PageNumber).text,
                    format!("Seite {} von {n}", i + 1)
                );
                // body starts below the page header
                let first = p.texts_with(Role::Body).next().unwrap();
                assert!(first.y > 25.0 && first.y < 35.0, "{first:?}");
            }
            // every page has fold marks, hole mark and footer
            assert!(p.texts_with(Role::Footer).count() >= 2);
            let lines: Vec<_> = p
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Line(l) => Some(*l),
                    _ => None,
                })
                .collect();
            for y in [105.0, 210.0, 148.5] {
                assert!(lines.iter().any(|l| l.y1 == y && l.x2 <= 10.0), "mark {y}");
            }
        }
        // closing and signature on the last page, nothing lost
        let last = lay.pages.last().unwrap();
        assert_eq!(one(last, Role::Closing).text, "Mit freundlichen Grüßen");
        assert_eq!(last.texts_with(Role::Signature).count(), 2);
        let words: usize = lay
            .pages
            .iter()
            .flat_map(|p| p.texts_with(Role::Body))
            .map(|t| t.text.split_whitespace().count())
            .sum();
        assert_eq!(words, 14 * 70);
    }

    /// Body lines of one page grouped by paragraph (a gap > one pitch starts a new one).
    fn paragraph_runs(p: &Page) -> Vec<Vec<f32>> {
        let mut out: Vec<Vec<f32>> = Vec::new();
        let mut last = f32::NEG_INFINITY;
        for t in p.texts_with(Role::Body) {
            if t.y - last > LINE_PITCH_MM + 0.01 {
                out.push(Vec::new());
            }
            out.last_mut().unwrap().push(t.y);
            last = t.y;
        }
        out
    }

    #[test]
    fn no_orphans_or_widows() {
        // Vary paragraph lengths so page breaks land at every position in a paragraph.
        for words in 20..60 {
            let lay = layout_letter(
                &practice(LetterForm::B),
                &letter(10, words),
                &LayoutOptions::default(),
                &Mono,
            )
            .unwrap();
            let per_para = wrap_text(
                &letter(1, words).body[0],
                FontStyle::Regular,
                BODY_SIZE_PT,
                RIGHT_EDGE_MM - LEFT_MARGIN_MM,
                &Mono,
            )
            .len();
            if per_para < 2 {
                continue;
            }
            for (pi, p) in lay.pages.iter().enumerate() {
                let paras = paragraph_runs(p);
                if pi + 1 < lay.pages.len() {
                    // last paragraph on a page that continues must not be a lone line
                    let last = paras.last().unwrap();
                    assert!(last.len() >= 2 || per_para == 1, "orphan, {words} words");
                }
                if pi > 0 {
                    let first = &paras[0];
                    assert!(first.len() >= 2, "widow on page {pi}, {words} words");
                }
            }
        }
    }

    #[test]
    fn closing_is_never_alone() {
        for words in 20..60 {
            let lay = layout_letter(
                &practice(LetterForm::B),
                &letter(9, words),
                &LayoutOptions::default(),
                &Mono,
            )
            .unwrap();
            let last = lay.pages.last().unwrap();
            assert!(last.texts_with(Role::Body).count() >= 1, "{words}");
            assert_eq!(last.texts_with(Role::Closing).count(), 1);
        }
    }

    #[test]
    fn wrapping_respects_width_and_keeps_words() {
        let text =
            "Wir möchten Sie an Ihren Termin erinnern und bitten Sie, rechtzeitig zu kommen.";
        for max_w in [20.0, 40.0, 80.0, 165.0] {
            let lines = wrap_text(text, FontStyle::Regular, 11.0, max_w, &Mono);
            for l in &lines {
                assert!(Mono.width_mm(l, FontStyle::Regular, 11.0) <= max_w, "{l}");
            }
            let longest_word = text
                .split(' ')
                .map(|w| Mono.width_mm(w, FontStyle::Regular, 11.0))
                .fold(0.0, f32::max);
            if longest_word <= max_w {
                assert_eq!(lines.join(" "), text);
            } else {
                // words wider than the line are split between characters, none lost
                let squeeze = |s: &str| s.replace(' ', "");
                assert_eq!(squeeze(&lines.concat()), squeeze(text));
            }
        }
        let lines = wrap_text("a\nb c", FontStyle::Regular, 11.0, 165.0, &Mono);
        assert_eq!(lines, vec!["a", "b c"]);
        let long = "x".repeat(100);
        let lines = wrap_text(&long, FontStyle::Regular, 11.0, 30.0, &Mono);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), long);
    }

    #[test]
    fn logo_box_sits_in_letterhead() {
        for form in [LetterForm::A, LetterForm::B] {
            let g = FormGeometry::for_form(form);
            let lay = layout_letter(
                &practice(form),
                &letter(1, 10),
                &LayoutOptions {
                    logo_aspect: Some(2.0),
                },
                &Mono,
            )
            .unwrap();
            let img = lay.pages[0]
                .items
                .iter()
                .find_map(|i| match i {
                    Item::Image(b) => Some(*b),
                    _ => None,
                })
                .expect("logo");
            assert!(img.y + img.h <= g.letterhead_height, "{img:?}");
            assert!(img.x + img.w <= RIGHT_EDGE_MM + 0.01);
            assert!((img.w / img.h - 2.0).abs() < 0.01);
            let name = one(&lay.pages[0], Role::Letterhead);
            assert!(name.x + name.width < img.x);
        }
    }
}
