//! The fixed parts of a page: letterhead, return-address line, information block, page
//! header of following pages, footer and the fold and hole marks.

use super::wrap::fit_line;
use super::*;
use crate::domain::address::{city_line, street_line};

/// One run of text at `x`, `y` (mm), measured. Also used by the recovery sheet.
pub(crate) fn run(
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

/// "Tel. 030 1234567 · info@praxis.de · www.praxis.de" (letterhead and footer).
fn contact_line(p: &PracticeSettings) -> String {
    let phone = if p.phone.trim().is_empty() {
        String::new()
    } else {
        format!("Tel. {}", p.phone.trim())
    };
    join_nonempty(&[&phone, p.email.trim(), p.web.trim()], " · ")
}

/// Where the logo goes: `(box, x of the text block, width left for the text)`.
fn logo_box(
    g: &FormGeometry,
    opts: &LayoutOptions,
    logo_top: f32,
    logo_max_h: f32,
) -> Option<(ImageBox, f32, f32)> {
    let aspect = opts.logo_aspect.filter(|a| a.is_finite() && *a > 0.0)?;
    let full = RIGHT_EDGE_MM - LEFT_MARGIN_MM;
    let logo = opts.letterhead.and_then(|l| l.logo.as_ref());
    let (mut w, position) = match logo {
        Some(l) => {
            let (lo, hi) = crate::domain::LOGO_WIDTH_RANGE_MM;
            let w = if l.width_mm.is_finite() {
                l.width_mm.clamp(lo, hi)
            } else {
                lo
            };
            (w, l.position)
        }
        None => (logo_max_h * aspect, LogoPosition::Right),
    };
    let max_w = if logo.is_some() {
        crate::domain::LOGO_WIDTH_RANGE_MM.1
    } else {
        60.0
    };
    w = w.min(max_w);
    let mut h = w / aspect;
    // Inside the header zone (the address field starts at its bottom).
    let max_h = logo_max_h.min(g.letterhead_height - logo_top - 2.0);
    if h > max_h {
        h = max_h;
        w = h * aspect;
    }
    Some(match position {
        LogoPosition::Right => (
            ImageBox {
                x: RIGHT_EDGE_MM - w,
                y: logo_top,
                w,
                h,
            },
            LEFT_MARGIN_MM,
            full - w - 5.0,
        ),
        LogoPosition::Left => (
            ImageBox {
                x: LEFT_MARGIN_MM,
                y: logo_top,
                w,
                h,
            },
            LEFT_MARGIN_MM + w + 5.0,
            full - w - 5.0,
        ),
    })
}

/// The letterhead (name, address and contact lines, details block, logo) in the header zone
/// of `g`. Also drawn on the recovery sheet.
pub(crate) fn letterhead(
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
    let mut text_x = LEFT_MARGIN_MM;
    let mut name_max_w = RIGHT_EDGE_MM - LEFT_MARGIN_MM;
    if let Some((b, x, w)) = logo_box(g, opts, logo_top, logo_max_h) {
        page.items.push(Item::Image(b));
        text_x = x;
        name_max_w = w;
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
            text_x,
            name_y,
            &name,
            FontStyle::Bold,
            size,
            Role::Letterhead,
            m,
        )));
    }
    let line1 = join_nonempty(&[&street_line(&p.address), &city_line(&p.address)], " · ");
    let mut lines = vec![(line1, contact_ys[0]), (contact_line(p), contact_ys[1])];
    // Details block: two lines under the contact lines in Form B (the last baseline stays
    // above 45 mm), one in Form A's 27 mm header.
    if let Some(lh) = opts.letterhead {
        let (first, room) = if form_a { (23.0, 1) } else { (35.0, 2) };
        for (i, d) in lh.detail_lines().into_iter().take(room).enumerate() {
            lines.push((d.to_string(), first + i as f32 * 4.0));
        }
    }
    for (text, y) in lines {
        if text.is_empty() {
            continue;
        }
        let (t, s) = fit_line(&text, FontStyle::Regular, 8.5, 6.5, name_max_w, m);
        let mut r = run(text_x, y, &t, FontStyle::Regular, s, Role::Letterhead, m);
        r.muted = true;
        page.items.push(Item::Text(r));
    }
}

pub(super) fn return_line(
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

pub(super) fn info_block(
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

pub(super) fn page_header(
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

/// The footer under the rule at [`FOOTER_RULE_Y_MM`]. Also drawn on the recovery sheet.
pub(crate) fn footer(
    page: &mut Page,
    p: &PracticeSettings,
    opts: &LayoutOptions,
    m: &dyn TextMeasure,
) {
    page.items.push(Item::Line(LineItem {
        x1: LEFT_MARGIN_MM,
        y1: FOOTER_RULE_Y_MM,
        x2: RIGHT_EDGE_MM,
        y2: FOOTER_RULE_Y_MM,
        width_mm: 0.2,
    }));
    let mut lines = vec![return_address_line(p), contact_line(p)];
    // The letterhead's business details replace the plain bank line when it has any.
    let business = opts
        .letterhead
        .map(|l| l.business.footer_lines())
        .unwrap_or_default();
    if business.is_empty() {
        lines.push(p.bank_details.trim().to_string());
    } else {
        lines.extend(business);
    }
    let mut y = FOOTER_RULE_Y_MM + 4.0;
    for text in lines {
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

pub(super) fn marks(page: &mut Page, g: &FormGeometry) {
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
