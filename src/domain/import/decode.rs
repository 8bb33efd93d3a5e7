//! Encoding detection and decoding of an imported file.

use std::borrow::Cow;

use codec::{Enc, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

use super::ImportError;

/// The encoding a file was read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    /// Windows-1252, a superset of ISO-8859-1 for all printable characters.
    Windows1252,
    Utf16Le,
    Utf16Be,
}

impl TextEncoding {
    pub fn label_de(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 (mit BOM)",
            TextEncoding::Windows1252 => "Windows-1252 / ISO-8859-1",
            TextEncoding::Utf16Le => "UTF-16 LE",
            TextEncoding::Utf16Be => "UTF-16 BE",
        }
    }
}

/// Decoded text (borrowed from the input when it was UTF-8 already, so a large file is not
/// held twice) and the encoding it was read with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: TextEncoding,
}

/// 1-based line number of a byte offset (counting `\n` before it; for UTF-16, counts the
/// code unit 0x000A).
fn line_of_byte(bytes: &[u8], offset: usize) -> u64 {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

fn line_of_char(text: &str, byte_offset: usize) -> u64 {
    1 + text[..byte_offset].bytes().filter(|&b| b == b'\n').count() as u64
}

/// Guesses UTF-16 without BOM from the pattern of zero bytes in ASCII-heavy text.
fn sniff_utf16(bytes: &[u8]) -> Option<Enc> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 8 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_zero = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_zero = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    if odd_zero * 10 >= pairs * 7 && even_zero * 10 <= pairs {
        Some(UTF_16LE)
    } else if even_zero * 10 >= pairs * 7 && odd_zero * 10 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Rejects text that is evidently not a CSV file: a NUL, or three or more control characters
/// other than tab, CR, LF, form feed and the old DOS end-of-file mark.
fn check_text(text: &str) -> Result<(), ImportError> {
    let mut first: Option<usize> = None;
    let mut count = 0usize;
    for (i, ch) in text.char_indices() {
        let bad = ch.is_control() && !matches!(ch, '\t' | '\n' | '\r' | '\u{0c}' | '\u{1a}');
        if bad {
            count += 1;
            first.get_or_insert(i);
            if ch == '\0' || count >= 3 {
                return Err(ImportError::Binary {
                    line: line_of_char(text, first.unwrap_or(i)),
                });
            }
        }
    }
    Ok(())
}

/// Finds UTF-8 text that was decoded as Windows-1252 and encoded as UTF-8 again ("MÃ¼ller"):
/// returns the line and the word it occurs in.
fn double_encoded(text: &str) -> Option<(u64, String)> {
    // Second characters of "Ã?" for Ä Ö Ü ä ö ü ß é è á à (as Windows-1252 would show them).
    const SECOND: &[char] = &['„', '–', 'œ', '¤', '¶', '¼', 'Ÿ', '©', '¨', '¡', '\u{a0}'];
    for (i, _) in text.match_indices('Ã') {
        let Some(next) = text[i + 'Ã'.len_utf8()..].chars().next() else {
            continue;
        };
        if SECOND.contains(&next) {
            let start = text[..i]
                .rfind(|c: char| c.is_whitespace() || c == ';' || c == ',')
                .map_or(0, |p| p + 1);
            let end = text[i..]
                .find(|c: char| c.is_whitespace() || c == ';' || c == ',')
                .map_or(text.len(), |p| i + p);
            let word: String = text[start..end].chars().take(40).collect();
            return Some((line_of_char(text, i), word));
        }
    }
    None
}

/// Detects the encoding and decodes: a BOM wins (UTF-8, UTF-16 LE/BE); otherwise valid UTF-8
/// is UTF-8, UTF-16 is sniffed from zero bytes, and everything else is Windows-1252 — unless
/// the file mixes valid multi-byte UTF-8 with invalid bytes (a file edited with two
/// encodings), which is refused with the line of the first bad byte.
pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if let Some((enc, bom_len)) = codec::for_bom(bytes) {
        let body = &bytes[bom_len..];
        let (text, had_errors) = enc.decode_without_bom_handling(body);
        let (encoding, name) = if enc == UTF_8 {
            (TextEncoding::Utf8Bom, "UTF-8")
        } else if enc == UTF_16LE {
            (TextEncoding::Utf16Le, "UTF-16 LE")
        } else {
            (TextEncoding::Utf16Be, "UTF-16 BE")
        };
        if had_errors {
            let pos = text.find('\u{fffd}').unwrap_or(0);
            let line = line_of_char(&text, pos);
            return Err(if enc == UTF_8 {
                ImportError::MixedEncoding { line }
            } else {
                ImportError::InvalidEncoding {
                    encoding: name,
                    line,
                }
            });
        }
        check_text(&text)?;
        return Ok(Decoded { text, encoding });
    }
    // UTF-16 without BOM first: ASCII-only UTF-16 is also valid UTF-8 (full of NULs).
    if let Some(enc) = sniff_utf16(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        if !had_errors {
            let encoding = if enc == UTF_16LE {
                TextEncoding::Utf16Le
            } else {
                TextEncoding::Utf16Be
            };
            check_text(&text)?;
            return Ok(Decoded { text, encoding });
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            check_text(s)?;
            if let Some((line, sample)) = double_encoded(s) {
                return Err(ImportError::DoubleEncoded { line, sample });
            }
            Ok(Decoded {
                text: Cow::Borrowed(s),
                encoding: TextEncoding::Utf8,
            })
        }
        Err(e) => {
            // Zero bytes outside UTF-16 mean binary data.
            if let Some(pos) = bytes.iter().position(|&b| b == 0) {
                return Err(ImportError::Binary {
                    line: line_of_byte(bytes, pos),
                });
            }
            // Valid UTF-8 before the first error that contains multi-byte sequences means the
            // file was UTF-8 and got bytes of another encoding later (or vice versa).
            let valid = &bytes[..e.valid_up_to()];
            let utf8_multibyte_before = valid.iter().any(|&b| b >= 0x80);
            let utf8_multibyte_after = has_valid_multibyte_utf8(&bytes[e.valid_up_to()..]);
            if utf8_multibyte_before || utf8_multibyte_after {
                return Err(ImportError::MixedEncoding {
                    line: line_of_byte(bytes, e.valid_up_to()),
                });
            }
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
            check_text(&text)?;
            Ok(Decoded {
                text,
                encoding: TextEncoding::Windows1252,
            })
        }
    }
}

/// True when `bytes` contains a well-formed 2-byte UTF-8 sequence of Latin letters with
/// diacritics (U+00C0..U+017F: lead byte 0xC3..0xC5), which Windows-1252 text practically
/// never has (it would read "Ã¼").
fn has_valid_multibyte_utf8(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .any(|w| (0xC3..=0xC5).contains(&w[0]) && (0x80..=0xBF).contains(&w[1]))
}

/// The four decoders the import needs (WHATWG semantics, as `encoding_rs` has them), written
/// out so the main bundle does not carry `encoding_rs`' decoder dispatch with all its CJK
/// tables (≈ 150 KB). Malformed input becomes U+FFFD and is reported.
mod codec {
    use std::borrow::Cow;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Enc {
        Utf8,
        Utf16Le,
        Utf16Be,
        Windows1252,
    }

    pub const UTF_8: Enc = Enc::Utf8;
    pub const UTF_16LE: Enc = Enc::Utf16Le;
    pub const UTF_16BE: Enc = Enc::Utf16Be;
    pub const WINDOWS_1252: Enc = Enc::Windows1252;

    /// Windows-1252 0x80–0x9F (the WHATWG index; undefined bytes map to C1 controls).
    const W1252_80: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];

    /// The encoding a byte order mark names, and the mark's length.
    pub fn for_bom(bytes: &[u8]) -> Option<(Enc, usize)> {
        if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            Some((Enc::Utf8, 3))
        } else if bytes.starts_with(&[0xFF, 0xFE]) {
            Some((Enc::Utf16Le, 2))
        } else if bytes.starts_with(&[0xFE, 0xFF]) {
            Some((Enc::Utf16Be, 2))
        } else {
            None
        }
    }

    impl Enc {
        /// Decodes (a BOM is not looked at); `true` when something was malformed.
        pub fn decode_without_bom_handling(self, bytes: &[u8]) -> (Cow<'_, str>, bool) {
            match self {
                Enc::Utf8 => {
                    let text = String::from_utf8_lossy(bytes);
                    let bad = matches!(text, Cow::Owned(_));
                    (text, bad)
                }
                Enc::Utf16Le | Enc::Utf16Be => {
                    let le = self == Enc::Utf16Le;
                    let units = bytes.chunks_exact(2).map(|c| {
                        if le {
                            u16::from_le_bytes([c[0], c[1]])
                        } else {
                            u16::from_be_bytes([c[0], c[1]])
                        }
                    });
                    let mut out = String::with_capacity(bytes.len());
                    let mut bad = false;
                    for r in char::decode_utf16(units) {
                        out.push(r.unwrap_or_else(|_| {
                            bad = true;
                            '\u{fffd}'
                        }));
                    }
                    if bytes.len() % 2 == 1 {
                        bad = true;
                        // A lead surrogate pending at the end and the odd byte are one error
                        // (WHATWG), and the surrogate already gave its U+FFFD.
                        let n = bytes.len();
                        let pending_lead = n >= 3 && {
                            let c = [bytes[n - 3], bytes[n - 2]];
                            let u = if le {
                                u16::from_le_bytes(c)
                            } else {
                                u16::from_be_bytes(c)
                            };
                            (0xD800..0xDC00).contains(&u)
                        };
                        if !pending_lead {
                            out.push('\u{fffd}');
                        }
                    }
                    (Cow::Owned(out), bad)
                }
                Enc::Windows1252 => {
                    if bytes.is_ascii() {
                        // ASCII is the same in UTF-8.
                        return (String::from_utf8_lossy(bytes), false);
                    }
                    let text = bytes
                        .iter()
                        .map(|&b| match b {
                            0x80..=0x9F => {
                                char::from_u32(u32::from(W1252_80[usize::from(b - 0x80)]))
                                    .unwrap_or('\u{fffd}')
                            }
                            _ => char::from(b),
                        })
                        .collect();
                    (Cow::Owned(text), false)
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn reference(e: Enc) -> &'static encoding_rs::Encoding {
            match e {
                Enc::Utf8 => encoding_rs::UTF_8,
                Enc::Utf16Le => encoding_rs::UTF_16LE,
                Enc::Utf16Be => encoding_rs::UTF_16BE,
                Enc::Windows1252 => encoding_rs::WINDOWS_1252,
            }
        }

        /// Same text and error flag as encoding_rs for every single byte, byte pairs and
        /// malformed sequences (lone surrogates, odd lengths, truncated UTF-8).
        #[test]
        fn decoders_match_encoding_rs() {
            let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
            inputs.push((0..=255u8).collect());
            inputs.push((0..=255u8).rev().collect());
            inputs.push("Müller; Ärztin 😀 €".as_bytes().to_vec());
            inputs.push(vec![0xE2, 0x82]);
            inputs.push(vec![0xF0, 0x9F, 0x98, 0x41, 0xC3]);
            inputs.push(vec![0x00, 0xD8, 0x41, 0x00]);
            inputs.push(vec![0xD8, 0x00, 0x00, 0x41, 0x00]);
            inputs.push(vec![0x3D, 0xD8, 0x00, 0xDE, 0x00, 0xDC]);
            let mut x: u32 = 12345;
            for len in 1..200 {
                inputs.push(
                    (0..len)
                        .map(|_| {
                            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                            (x >> 16) as u8
                        })
                        .collect(),
                );
            }
            for e in [UTF_8, UTF_16LE, UTF_16BE, WINDOWS_1252] {
                for input in &inputs {
                    let (ours, bad) = e.decode_without_bom_handling(input);
                    let (theirs, their_bad) = reference(e).decode_without_bom_handling(input);
                    assert_eq!((&*ours, bad), (&*theirs, their_bad), "{e:?} {input:?}");
                }
            }
        }

        #[test]
        fn bom_detection() {
            assert_eq!(for_bom(&[0xEF, 0xBB, 0xBF, 0x41]), Some((UTF_8, 3)));
            assert_eq!(for_bom(&[0xFF, 0xFE, 0x41, 0]), Some((UTF_16LE, 2)));
            assert_eq!(for_bom(&[0xFE, 0xFF, 0, 0x41]), Some((UTF_16BE, 2)));
            assert_eq!(for_bom(b"Name;Vorname"), None);
            for input in [&[0xEF, 0xBB][..], &[0xFF][..], b"abc"] {
                let ours = for_bom(input).map(|(e, n)| (reference(e), n));
                assert_eq!(ours, encoding_rs::Encoding::for_bom(input));
            }
        }
    }
}
