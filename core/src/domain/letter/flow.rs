//! The flowing part of a letter (subject, salutation, body, closing, signature): lines kept
//! together, pagination without orphans and widows, and the whole layout of one letter.

use super::parts::{footer, info_block, letterhead, marks, page_header, return_line, run};
use super::wrap::{fit_size, wrap_text};
use super::*;

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
        footer(&mut page, practice, opts, m);
        marks(&mut page, &g);
        pages.push(page);
    }
    Ok(LetterLayout { pages })
}
