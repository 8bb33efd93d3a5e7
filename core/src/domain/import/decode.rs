//! Encoding detection and decoding of an imported file.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

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
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
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
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
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
