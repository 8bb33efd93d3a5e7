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
        ..Default::default()
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
    let text = "Wir möchten Sie an Ihren Termin erinnern und bitten Sie, rechtzeitig zu kommen.";
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
                ..Default::default()
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

#[test]
fn letterhead_places_logo_details_and_business_footer() {
    use crate::domain::{BusinessDetails, Letterhead, LetterheadLogo, LogoPosition};
    for form in [LetterForm::A, LetterForm::B] {
        let g = FormGeometry::for_form(form);
        let lh = Letterhead {
            logo: Some(LetterheadLogo {
                bytes: vec![],
                width_mm: 200.0, // clamped to 80, then to the header zone's height
                position: LogoPosition::Left,
            }),
            details: vec!["Praxis für Physiotherapie".into(), "Inhaberin M. S.".into()],
            business: BusinessDetails {
                iban: "DE02".into(),
                tax_number: "12/345".into(),
                ..Default::default()
            },
        };
        let opts = LayoutOptions {
            logo_aspect: Some(1.0),
            letterhead: Some(&lh),
        };
        let lay = layout_letter(&practice(form), &letter(12, 80), &opts, &Mono).unwrap();
        assert!(lay.pages.len() > 1);
        let img = lay.pages[0]
            .items
            .iter()
            .find_map(|i| match i {
                Item::Image(b) => Some(*b),
                _ => None,
            })
            .expect("logo");
        assert_eq!(img.x, LEFT_MARGIN_MM);
        assert!(img.y + img.h <= g.letterhead_height - 1.9, "{img:?}");
        assert!((img.w - img.h).abs() < 0.01);
        let head: Vec<_> = lay.pages[0].texts_with(Role::Letterhead).collect();
        assert!(head
            .iter()
            .all(|t| t.x >= img.x + img.w && t.y < g.letterhead_height));
        assert!(head.iter().any(|t| t.text == "Praxis für Physiotherapie"));
        for (i, page) in lay.pages.iter().enumerate() {
            let footer: Vec<&str> = page
                .texts_with(Role::Footer)
                .map(|t| t.text.as_str())
                .collect();
            assert!(footer.contains(&"IBAN DE02"), "page {i}: {footer:?}");
            assert!(
                footer.contains(&"Steuernummer 12/345"),
                "page {i}: {footer:?}"
            );
            if i > 0 {
                assert!(page.items.iter().all(|it| !matches!(it, Item::Image(_))));
            }
        }
        // Without a letterhead: exactly the layout from before.
        let plain = layout_letter(
            &practice(form),
            &letter(12, 80),
            &LayoutOptions::default(),
            &Mono,
        );
        let none = LayoutOptions {
            letterhead: None,
            ..Default::default()
        };
        assert_eq!(
            plain.unwrap(),
            layout_letter(&practice(form), &letter(12, 80), &none, &Mono).unwrap()
        );
    }
}
