//! Independent checks of generated PDFs with poppler-utils (pdftotext, pdffonts, pdfinfo,
//! pdftoppm). Needs the Debian package `poppler-utils`; without it these tests fail.

#[allow(dead_code)] // each test uses some of the shared helpers
mod common;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use praxisbote_core::domain::letter::{layout_letter, FormGeometry, LayoutOptions, Letter};
use praxisbote_core::domain::{LetterForm, PostalAddress, PracticeSettings, SenderNames};
use praxisbote_pdf::{generate_batch, BatchJob, DejaVuMetrics, Error};

const MM_PER_PT: f32 = 25.4 / 72.0;

/// DL envelope (220 × 110 mm) with its window (90 × 45 mm, 20 mm from the left, 15 mm from
/// the bottom), as (x, y, w, h) from the envelope's top-left.
const DL_W: f32 = 220.0;
const DL_H: f32 = 110.0;
const DL_WINDOW: (f32, f32, f32, f32) = (20.0, DL_H - 15.0 - 45.0, 90.0, 45.0);

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
        web: "www.praxis-sonnenschein.de".into(),
        bank_details: "Berliner Bank · IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001".into(),
        sender_names: SenderNames {
            letter_contact: "Maria Schmidt".into(),
            ..Default::default()
        },
        letter_form: form,
        ..Default::default()
    }
}

/// (recipient lines, salutation)
fn people() -> Vec<(Vec<&'static str>, &'static str)> {
    vec![
        (
            vec![
                "Frau",
                "Dr. Anna Müller-Lüdenscheidt",
                "Großstraße 12",
                "80331 München",
            ],
            "Sehr geehrte Frau Dr. Müller-Lüdenscheidt,",
        ),
        (
            vec![
                "Herrn",
                "Mehmet Yılmaz",
                "Bahnhofstraße 5a",
                "c/o Ayşe Doğan",
                "50667 Köln",
            ],
            "Sehr geehrter Herr Yılmaz,",
        ),
        (
            vec!["Łukasz Wałęsa", "Ölmühlenweg 1", "01067 Dresden"],
            "Guten Tag Łukasz Wałęsa,",
        ),
        (
            vec![
                "Herrn",
                "José Núñez",
                "Äußere Weiße Gasse 7",
                "Hinterhaus",
                "90402 Nürnberg",
            ],
            "Sehr geehrter Herr Núñez,",
        ),
        (
            vec![
                "Frau",
                "Prof. Dr. Søren Bjørnø",
                "Élysée-Straße 9",
                "20095 Hamburg",
            ],
            "Guten Tag Søren Bjørnø,",
        ),
    ]
}

const PARAGRAPH: &str = "wir möchten Sie an Ihren nächsten Termin in unserer Praxis erinnern. \
Bitte bringen Sie Ihre Versichertenkarte und, falls vorhanden, aktuelle Befunde mit. \
Sollten Sie den Termin nicht wahrnehmen können, sagen Sie bitte spätestens 24 Stunden \
vorher ab, damit wir ihn an andere Patientinnen und Patienten vergeben können.";

fn letter(recipient: &[&str], salutation: &str, paragraphs: usize) -> Letter {
    Letter {
        recipient: recipient.iter().map(|s| s.to_string()).collect(),
        return_address: String::new(),
        date: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        subject: "Erinnerung an Ihren Termin am 27.11.2026".into(),
        salutation: salutation.into(),
        body: (0..paragraphs).map(|_| PARAGRAPH.to_string()).collect(),
        closing: "Mit freundlichen Grüßen".into(),
        signature: vec!["Maria Schmidt".into(), "Praxis Sonnenschein".into()],
    }
}

fn job(form: LetterForm, paragraphs: &[usize], duplex: bool) -> BatchJob {
    let people = people();
    BatchJob {
        title: "Serienbrief Terminerinnerung".into(),
        created: NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap(),
        practice: practice(form),
        letters: paragraphs
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let (r, s) = &people[i % people.len()];
                letter(r, s, n)
            })
            .collect(),
        duplex,
        logo_png: None,
        letterhead: None,
    }
}

use common::out_dir;

fn write_pdf(name: &str, job: &BatchJob) -> PathBuf {
    common::write_pdf(name, job).0
}

fn tool(cmd: &str, args: &[&str]) -> String {
    common::tool_output(cmd, args).0
}

#[derive(Debug, Clone)]
struct BoxLine {
    page: usize,
    text: String,
    /// mm from the top-left
    x_min: f32,
    y_min: f32,
    x_max: f32,
    y_max: f32,
}

use common::attr;

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every text line of `pdftotext -bbox-layout`, in mm.
fn bbox_lines(pdf: &Path) -> Vec<BoxLine> {
    let html = tool("pdftotext", &["-bbox-layout", pdf.to_str().unwrap(), "-"]);
    let mut out = Vec::new();
    let mut page = 0;
    let mut rest = html.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..=end];
        if tag.starts_with("<page ") {
            page += 1;
        } else if tag.starts_with("<line ") {
            let close = rest.find("</line>").unwrap();
            let body = &rest[..close];
            let mut words = Vec::new();
            let mut b = body;
            while let Some(w) = b.find("<word ") {
                b = &b[w..];
                let gt = b.find('>').unwrap();
                let we = b.find("</word>").unwrap();
                words.push(unescape(&b[gt + 1..we]));
                b = &b[we..];
            }
            out.push(BoxLine {
                page,
                text: words.join(" "),
                x_min: attr(tag, "xMin") * MM_PER_PT,
                y_min: attr(tag, "yMin") * MM_PER_PT,
                x_max: attr(tag, "xMax") * MM_PER_PT,
                y_max: attr(tag, "yMax") * MM_PER_PT,
            });
            rest = &rest[close..];
            continue;
        }
        rest = &rest[end + 1..];
    }
    out
}

fn find<'a>(lines: &'a [BoxLine], page: usize, text: &str) -> &'a BoxLine {
    lines
        .iter()
        .find(|l| l.page == page && l.text == text)
        .unwrap_or_else(|| {
            let on_page: Vec<_> = lines
                .iter()
                .filter(|l| l.page == page)
                .map(|l| &l.text)
                .collect();
            panic!("line {text:?} not found on page {page}: {on_page:?}")
        })
}

fn inside(l: &BoxLine, (x, y, w, h): (f32, f32, f32, f32)) -> bool {
    l.x_min >= x && l.x_max <= x + w && l.y_min >= y && l.y_max <= y + h
}

/// First page numbers (1-based) of each letter, computed from the layout independently of
/// the PDF, plus the expected total.
fn expected_pages(job: &BatchJob) -> (Vec<usize>, usize) {
    let m = DejaVuMetrics::get().unwrap();
    let mut starts = Vec::new();
    let mut next = 1;
    for l in &job.letters {
        starts.push(next);
        let n = layout_letter(&job.practice, l, &LayoutOptions::default(), m)
            .unwrap()
            .pages
            .len();
        next += n + usize::from(job.duplex && n % 2 == 1);
    }
    (starts, next - 1)
}

fn pdfinfo_pages(pdf: &Path) -> usize {
    let info = tool("pdfinfo", &[pdf.to_str().unwrap()]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn recipient_lines_are_in_the_din_window_and_the_dl_window() {
    for (form, name) in [(LetterForm::B, "form-b.pdf"), (LetterForm::A, "form-a.pdf")] {
        let job = job(form, &[2, 2, 2, 2, 2], false);
        let pdf = write_pdf(name, &job);
        let lines = bbox_lines(&pdf);
        let g = FormGeometry::for_form(form);
        let field = (g.address_x, g.address_y, g.address_w, g.address_h);
        let zone = (g.address_x, g.recipient_zone_top(), g.address_w, 27.3);
        let (starts, _) = expected_pages(&job);
        // Folding: the top panel (down to the first fold mark) faces the window. The sheet
        // (210 wide) may slide 0…10 mm sideways in the 220 mm envelope; the folded sheet
        // rests on the envelope's bottom edge, so the panel top sits (110 - panel) mm down.
        let panel = g.fold_marks[0];
        assert!(panel <= DL_H && g.fold_marks[1] - g.fold_marks[0] <= DL_H);
        let dy_max = DL_H - panel;
        for (i, l) in job.letters.iter().enumerate() {
            for r in &l.recipient {
                let b = find(&lines, starts[i], r);
                assert!(inside(b, field), "{form:?}: {b:?} outside address field");
                assert!(inside(b, zone), "{form:?}: {b:?} outside recipient zone");
                assert!((b.x_min - 25.0).abs() < 0.3, "{b:?} not at x = 25");
                for dx in [0.0, (DL_W - 210.0) / 2.0, DL_W - 210.0] {
                    {
                        let dy = dy_max;
                        let moved = BoxLine {
                            x_min: b.x_min + dx,
                            x_max: b.x_max + dx,
                            y_min: b.y_min + dy,
                            y_max: b.y_max + dy,
                            ..b.clone()
                        };
                        assert!(
                            b.y_max <= panel && inside(&moved, DL_WINDOW),
                            "{form:?}: {r:?} not visible in the DL window (dx {dx}, dy {dy}): {moved:?}"
                        );
                    }
                }
            }
            // The return-address line sits in the first 5 mm of the address field.
            let ret = find(
                &lines,
                starts[i],
                "Praxis Sonnenschein · Lindenweg 3 · 12345 Musterstadt",
            );
            assert!(
                inside(ret, (g.address_x, g.address_y, g.address_w, 5.0)),
                "{ret:?}"
            );
        }
    }
}

#[test]
fn subject_salutation_and_info_block_are_where_din_5008_puts_them() {
    for (form, name) in [(LetterForm::B, "pos-b.pdf"), (LetterForm::A, "pos-a.pdf")] {
        let job = job(form, &[2], false);
        let pdf = write_pdf(name, &job);
        let lines = bbox_lines(&pdf);
        let g = FormGeometry::for_form(form);
        let subject = find(&lines, 1, &job.letters[0].subject);
        let salutation = find(&lines, 1, &job.letters[0].salutation);
        // Subject: at the left margin, two blank lines (2 × 4.23 mm) below the address field.
        let want_subject_top = g.address_y + g.address_h + 2.0 * 4.23;
        assert!((subject.x_min - 25.0).abs() < 0.3, "{subject:?}");
        assert!(
            (subject.y_min - want_subject_top).abs() < 0.8,
            "{form:?}: subject top {} want {want_subject_top}",
            subject.y_min
        );
        // Salutation: two blank lines below the subject (three line pitches).
        let pitch = salutation.y_min - subject.y_min;
        assert!((pitch / 3.0 - 4.5).abs() < 0.2, "{form:?}: {pitch}");
        assert!((salutation.x_min - 25.0).abs() < 0.3);
        // One blank line, then the text starts (lower-case).
        let first_body = lines
            .iter()
            .filter(|l| l.page == 1 && l.y_min > salutation.y_max)
            .min_by(|a, b| a.y_min.total_cmp(&b.y_min))
            .unwrap();
        assert!(first_body.text.starts_with("wir möchten"), "{first_body:?}");
        assert!(((first_body.y_min - salutation.y_min) / 2.0 - 4.5).abs() < 0.2);
        // Information block at x = 125 starting at its DIN y.
        let date = lines
            .iter()
            .find(|l| l.page == 1 && l.text.contains("26.11.2026") && l.x_min > 120.0)
            .expect("date in info block");
        assert!(date.x_min >= 124.9 && date.x_max <= 200.0, "{date:?}");
        let info_top = lines
            .iter()
            .filter(|l| l.page == 1 && l.x_min >= 124.9 && l.y_min < subject.y_min)
            .map(|l| l.y_min)
            .fold(f32::INFINITY, f32::min);
        assert!(
            (info_top - g.info_y).abs() < 0.8,
            "{form:?}: info top {info_top}"
        );
        // Nothing of the body runs into the footer.
        for l in lines.iter().filter(|l| l.page == 1) {
            if !l.text.contains("Sonnenschein ·")
                && !l.text.contains("IBAN")
                && !l.text.contains("Tel.")
            {
                assert!(l.y_max <= 261.0 || l.y_min < 45.0, "{l:?}");
            }
        }
    }
}

#[test]
fn every_name_extracts_with_its_letters() {
    let job = job(LetterForm::B, &[1, 1, 1, 1, 1], false);
    let pdf = write_pdf("names.pdf", &job);
    let text = tool("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    for (recipient, salutation) in people() {
        for r in recipient {
            assert!(text.contains(r), "{r:?} missing in extracted text");
        }
        assert!(text.contains(salutation), "{salutation:?} missing");
    }
    for ch in [
        "ä", "ö", "ü", "ß", "ı", "ł", "ğ", "ş", "é", "ñ", "ø", "Ä", "Ö", "Ł",
    ] {
        assert!(text.contains(ch), "{ch} missing");
    }
    assert!(text.contains("Mit freundlichen Grüßen"));
    assert!(text.contains("26.11.2026"));
}

#[test]
fn only_embedded_subset_fonts() {
    let job = job(LetterForm::B, &[1, 1], false);
    let pdf = write_pdf("fonts.pdf", &job);
    let out = tool("pdffonts", &[pdf.to_str().unwrap()]);
    let rows: Vec<&str> = out
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    let mut names = Vec::new();
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type [encoding…] emb sub uni object ID
        let n = cols.len();
        let (emb, sub, uni) = (cols[n - 5], cols[n - 4], cols[n - 3]);
        assert_eq!((emb, sub, uni), ("yes", "yes", "yes"), "{row}");
        let name = cols[0];
        let (prefix, base) = name
            .split_once('+')
            .unwrap_or_else(|| panic!("no subset tag: {name}"));
        assert_eq!(prefix.len(), 6);
        assert!(prefix.chars().all(|c| c.is_ascii_uppercase()), "{name}");
        names.push(base.to_string());
    }
    names.sort();
    assert!(names[0].starts_with("DejaVuSans"), "{names:?}");
    assert!(names.iter().any(|n| n.contains("Bold")), "{names:?}");
    // Subsets really are small: the whole file is far below the 1.4 MB of the two TTFs.
    let size = std::fs::metadata(&pdf).unwrap().len();
    assert!(size < 200_000, "{size} bytes");
}

#[test]
fn page_counts_with_multi_page_letters_and_duplex_blanks() {
    // 1 page, 3 pages, 1 page, 2 pages
    let paragraphs = [1, 20, 2, 8];
    for duplex in [false, true] {
        let job = job(LetterForm::B, &paragraphs, duplex);
        let (starts, total) = expected_pages(&job);
        let m = DejaVuMetrics::get().unwrap();
        let counts: Vec<usize> = job
            .letters
            .iter()
            .map(|l| {
                layout_letter(&job.practice, l, &LayoutOptions::default(), m)
                    .unwrap()
                    .pages
                    .len()
            })
            .collect();
        assert_eq!(
            counts,
            vec![1, 3, 1, 2],
            "test data no longer gives the intended lengths"
        );
        let want_total = if duplex { 2 + 4 + 2 + 2 } else { 1 + 3 + 1 + 2 };
        assert_eq!(total, want_total);
        let pdf = write_pdf(&format!("pages-duplex-{duplex}.pdf"), &job);
        assert_eq!(pdfinfo_pages(&pdf), want_total);
        let lines = bbox_lines(&pdf);
        // Each letter starts on its own page with its recipient; following pages are numbered.
        for (i, l) in job.letters.iter().enumerate() {
            find(&lines, starts[i], &l.recipient[l.recipient.len() - 1]);
            if counts[i] > 1 {
                for k in 2..=counts[i] {
                    find(
                        &lines,
                        starts[i] + k - 1,
                        &format!("Seite {k} von {}", counts[i]),
                    );
                    // no address field on following pages
                    assert!(!lines
                        .iter()
                        .any(|b| b.page == starts[i] + k - 1 && l.recipient.contains(&b.text)));
                }
            }
            if duplex && counts[i] % 2 == 1 {
                let blank = starts[i] + counts[i];
                assert!(
                    !lines.iter().any(|b| b.page == blank),
                    "page {blank} should be blank"
                );
            }
        }
    }
}

#[test]
fn metadata_title_and_creation_date() {
    let job = job(LetterForm::B, &[1], false);
    let pdf = write_pdf("meta.pdf", &job);
    let info = tool("pdfinfo", &["-isodates", pdf.to_str().unwrap()]);
    let title = info
        .lines()
        .find_map(|l| l.strip_prefix("Title:"))
        .unwrap()
        .trim();
    assert_eq!(title, "Serienbrief Terminerinnerung");
    let created = info
        .lines()
        .find_map(|l| l.strip_prefix("CreationDate:"))
        .unwrap()
        .trim();
    assert!(created.starts_with("2026-11-26T09:30"), "{created}");
}

#[test]
fn progress_and_cancel() {
    let job = job(LetterForm::B, &[1, 1, 1, 1, 1, 1], false);
    let mut seen = Vec::new();
    generate_batch(&job, |d, t| seen.push((d, t)), || false).unwrap();
    assert_eq!(seen, (1..=6).map(|d| (d, 6)).collect::<Vec<_>>());
    let calls = std::cell::Cell::new(0);
    let r = generate_batch(
        &job,
        |_, _| {},
        || {
            calls.set(calls.get() + 1);
            calls.get() > 3
        },
    );
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
}

#[test]
fn page_one_renders_to_png_for_review() {
    let job = job(LetterForm::B, &[3, 14], true);
    let pdf = write_pdf("review.pdf", &job);
    let prefix = out_dir().join("letter-page");
    tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "4",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let png = out_dir().join("letter-page-1.png");
    let bytes = std::fs::read(&png).expect("PNG written");
    assert!(bytes.starts_with(b"\x89PNG"));
    // A4 at 80 dpi (IHDR width/height at bytes 16..24; poppler rounds up).
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    let px = |mm: f32| (mm / 25.4 * 80.0).ceil() as u32;
    assert_eq!((w, h), (px(210.0), px(297.0)));
}
