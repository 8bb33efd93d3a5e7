//! Text measuring, word wrapping and fitting a line into a width.

use serde::{Deserialize, Serialize};

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
            if !line.is_empty() && line_w + space_w + w <= max_w {
                line.push(' ');
                line.push_str(word);
                line_w += space_w + w;
                continue;
            }
            // The word starts a line: the current one (if any) is full.
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
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

/// The largest size between `max_pt` and `min_pt` (in 0.5 pt steps) at which `text` fits.
pub(super) fn fit_size(
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
pub(super) fn fit_line(
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
