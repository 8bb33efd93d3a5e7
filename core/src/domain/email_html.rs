//! Safe HTML alternative of a plain-text e-mail body.
//!
//! Supported formatting: paragraphs (blank line), line breaks, `**bold**`, links
//! (`[text](https://…)` and bare `https://…`, `http://…`, `mailto:…`). Everything else is
//! escaped; other link schemes stay plain text. Text between [`VALUE_START`] and
//! [`VALUE_END`] (placeholder values from the renderer) is escaped and never interpreted as
//! formatting; a value that is exactly one http(s) URL becomes a link.

use super::template::Language;

/// Marks the start of a rendered placeholder value (private use character).
pub const VALUE_START: char = '\u{E000}';
/// Marks the end of a rendered placeholder value.
pub const VALUE_END: char = '\u{E001}';

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            VALUE_START | VALUE_END => {}
            c => out.push(c),
        }
    }
    out
}

fn is_safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        && url.len() > 8
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == '"')
}

fn link(url: &str, text_html: &str) -> String {
    format!("<a href=\"{}\">{}</a>", escape(url), text_html)
}

#[derive(Debug)]
enum Seg<'a> {
    Lit(&'a str),
    Val(&'a str),
}

fn segments(text: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(s) = rest.find(VALUE_START) {
        if s > 0 {
            out.push(Seg::Lit(&rest[..s]));
        }
        let after = &rest[s + VALUE_START.len_utf8()..];
        match after.find(VALUE_END) {
            Some(e) => {
                out.push(Seg::Val(&after[..e]));
                rest = &after[e + VALUE_END.len_utf8()..];
            }
            None => {
                out.push(Seg::Val(after));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        out.push(Seg::Lit(rest));
    }
    out
}

/// Formats literal text: links, bare URLs, bold toggles (`**`), line breaks.
fn format_literal(s: &str, bold_open: &mut bool, bold_budget: &mut usize, out: &mut String) {
    let mut i = 0;
    let b = s.as_bytes();
    let mut plain_start = 0;
    let flush = |out: &mut String, from: usize, to: usize| {
        out.push_str(&escape(&s[from..to]).replace('\n', "<br>\n"));
    };
    while i < b.len() {
        let rest = &s[i..];
        if rest.starts_with("**") && *bold_budget > 0 {
            flush(out, plain_start, i);
            out.push_str(if *bold_open { "</strong>" } else { "<strong>" });
            *bold_open = !*bold_open;
            *bold_budget -= 1;
            i += 2;
            plain_start = i;
            continue;
        }
        if rest.starts_with('[') {
            if let Some(close) = rest.find("](") {
                let text = &rest[1..close];
                if let Some(end) = rest[close + 2..].find(')') {
                    let url = &rest[close + 2..close + 2 + end];
                    if !text.contains('\n') && is_safe_url(url) {
                        flush(out, plain_start, i);
                        out.push_str(&link(url, &escape(text)));
                        i += close + 2 + end + 1;
                        plain_start = i;
                        continue;
                    }
                }
            }
        }
        let lower_starts = |p: &str| {
            rest.get(..p.len())
                .is_some_and(|x| x.eq_ignore_ascii_case(p))
        };
        if lower_starts("https://") || lower_starts("http://") || lower_starts("mailto:") {
            let mut end = rest
                .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
                .unwrap_or(rest.len());
            while end > 0 && rest[..end].ends_with(['.', ',', ';', ':', '!', '?', ')']) {
                end -= 1;
            }
            let url = &rest[..end];
            if is_safe_url(url) {
                flush(out, plain_start, i);
                out.push_str(&link(url, &escape(url)));
                i += end;
                plain_start = i;
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    flush(out, plain_start, b.len());
}

/// Byte ranges of the paragraphs of a text (optionally with value markers): a paragraph ends
/// at a run of two or more line breaks outside values. The ranges cover the whole text; each
/// keeps the line breaks that end it.
fn paragraph_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut in_value = false;
    let mut newline_run = 0;
    for (i, c) in text.char_indices() {
        match c {
            VALUE_START => in_value = true,
            VALUE_END => in_value = false,
            _ => {}
        }
        if c == '\n' && !in_value {
            newline_run += 1;
            continue;
        }
        if newline_run >= 2 && !c.is_whitespace() {
            ranges.push(start..i);
            start = i;
        }
        if !(c == ' ' || c == '\t') {
            newline_run = 0;
        }
    }
    ranges.push(start..text.len());
    ranges
}

/// The `**` of a paragraph's literal text that become bold: all of them when they pair up,
/// else all but the last.
fn bold_toggles(segs: &[Seg<'_>]) -> usize {
    let toggles: usize = segs
        .iter()
        .map(|s| match s {
            Seg::Lit(l) => l.matches("**").count(),
            Seg::Val(_) => 0,
        })
        .sum();
    toggles - toggles % 2
}

/// Converts a plain-text body (optionally with value markers) into an HTML fragment of
/// `<p>` paragraphs.
pub fn to_html_fragment(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut html = String::new();
    for range in paragraph_ranges(&text) {
        let p = text[range].trim_matches(|c: char| c == '\n' || c == ' ' || c == '\t');
        if p.is_empty() {
            continue;
        }
        let segs = segments(p);
        let mut budget = bold_toggles(&segs);
        let mut bold = false;
        html.push_str("<p>");
        for s in segs {
            match s {
                Seg::Lit(l) => format_literal(l, &mut bold, &mut budget, &mut html),
                Seg::Val(v) => {
                    if is_safe_url(v.trim()) && !v.to_ascii_lowercase().starts_with("mailto:") {
                        html.push_str(&link(v.trim(), &escape(v.trim())));
                    } else {
                        html.push_str(&escape(v).replace('\n', "<br>\n"));
                    }
                }
            }
        }
        if bold {
            html.push_str("</strong>");
        }
        html.push_str("</p>\n");
    }
    html
}

/// The plain-text part of an e-mail from the same marked rendering as the HTML part: the
/// `**` that the HTML part turns into bold are removed (an unpaired one stays, as in HTML),
/// values are kept as they are, the markers dropped.
pub fn to_plain_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len());
    for range in paragraph_ranges(&text) {
        let segs = segments(&text[range]);
        let mut budget = bold_toggles(&segs);
        for s in segs {
            match s {
                Seg::Val(v) => out.push_str(v),
                Seg::Lit(mut l) => {
                    while budget > 0 {
                        let Some(i) = l.find("**") else { break };
                        out.push_str(&l[..i]);
                        l = &l[i + 2..];
                        budget -= 1;
                    }
                    out.push_str(l);
                }
            }
        }
    }
    out.retain(|c| c != VALUE_START && c != VALUE_END);
    out
}

/// A complete, minimal HTML document for the text/html part.
pub fn to_html_document(text: &str, lang: Language) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\"></head>\n<body>\n{}</body>\n</html>\n",
        lang.key(),
        to_html_fragment(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_table() {
        let v = |s: &str| format!("{VALUE_START}{s}{VALUE_END}");
        let cases: Vec<(String, &str)> =
            vec![
            ("Hallo".into(), "<p>Hallo</p>\n"),
            ("a\nb\n\nc".into(), "<p>a<br>\nb</p>\n<p>c</p>\n"),
            ("**fett** und <b>".into(), "<p><strong>fett</strong> und &lt;b&gt;</p>\n"),
            ("nur **ein".into(), "<p>nur **ein</p>\n"),
            (
                "[Termin](https://praxis.example/t?a=1&b=2)".into(),
                "<p><a href=\"https://praxis.example/t?a=1&amp;b=2\">Termin</a></p>\n",
            ),
            ("[x](javascript:alert(1))".into(), "<p>[x](javascript:alert(1))</p>\n"),
            (
                "Siehe https://praxis.example.".into(),
                "<p>Siehe <a href=\"https://praxis.example\">https://praxis.example</a>.</p>\n",
            ),
            (
                "mailto:info@praxis.example".into(),
                "<p><a href=\"mailto:info@praxis.example\">mailto:info@praxis.example</a></p>\n",
            ),
            (format!("Hallo {}", v("**<i>x</i>**")), "<p>Hallo **&lt;i&gt;x&lt;/i&gt;**</p>\n"),
            (format!("**{}**", v("Anna")), "<p><strong>Anna</strong></p>\n"),
            (
                v("https://x.example/u/1"),
                "<p><a href=\"https://x.example/u/1\">https://x.example/u/1</a></p>\n",
            ),
            (format!("a{}b", v("\n\n")), "<p>a<br>\n<br>\nb</p>\n"),
            ("\"'&".into(), "<p>&quot;&#39;&amp;</p>\n"),
        ];
        for (input, expected) in cases {
            assert_eq!(to_html_fragment(&input), expected, "{input:?}");
        }
    }

    #[test]
    fn plain_text_loses_the_bold_marks_of_the_html_part() {
        let v = |s: &str| format!("{VALUE_START}{s}{VALUE_END}");
        let cases: Vec<(String, &str)> = vec![
            ("am **Freitag** um 9".into(), "am Freitag um 9"),
            (
                "**a** und **b**\n\nnur **ein".into(),
                "a und b\n\nnur **ein",
            ),
            (format!("Hallo **{}**!", v("Anna")), "Hallo Anna!"),
            (
                format!("Name {} bleibt", v("**Fett**")),
                "Name **Fett** bleibt",
            ),
            ("a\n\n\nb\n".into(), "a\n\n\nb\n"),
        ];
        for (input, expected) in cases {
            assert_eq!(to_plain_text(&input), expected, "{input:?}");
            // Where HTML makes bold, plain text has no `**` left and vice versa.
            let html = to_html_fragment(&input);
            assert_eq!(
                html.matches("<strong>").count() * 2,
                input.matches("**").count() - expected.matches("**").count(),
                "{input:?}"
            );
        }
    }

    #[test]
    fn document_has_language_and_charset() {
        let d = to_html_document("Hi", Language::En);
        assert!(d.contains("<html lang=\"en\">"));
        assert!(d.contains("<meta charset=\"utf-8\">"));
        assert!(d.contains("<p>Hi</p>"));
    }
}
