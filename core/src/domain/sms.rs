//! SMS text rules: GSM-7 (basic + extension table) versus UCS-2, length in units, number of
//! parts, characters forcing UCS-2, typographic replacements and the sender ID check.

use serde::{Deserialize, Serialize};

/// GSM 03.38 basic character set (without the escape code itself).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38 extension table: each of these costs two septets (escape + character).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

/// Single SMS capacity and per-part capacity of a concatenated SMS, in units.
pub const GSM7_SINGLE: usize = 160;
pub const GSM7_PART: usize = 153;
pub const UCS2_SINGLE: usize = 70;
pub const UCS2_PART: usize = 67;

/// The encoding a message is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn label_de(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2 (Unicode)",
        }
    }
}

/// True for characters of the GSM-7 basic set.
pub fn is_gsm7_basic(c: char) -> bool {
    GSM7_BASIC.contains(c)
}

/// True for characters of the GSM-7 extension table (they count twice).
pub fn is_gsm7_extension(c: char) -> bool {
    GSM7_EXTENSION.contains(c)
}

/// True when `c` can be sent in GSM-7 at all.
pub fn is_gsm7(c: char) -> bool {
    is_gsm7_basic(c) || is_gsm7_extension(c)
}

/// The facts about one SMS text the composer shows live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsInfo {
    pub encoding: Encoding,
    /// Length in units: septets for GSM-7 (extension characters count 2), UTF-16 code units
    /// for UCS-2 (emoji count 2).
    pub units: usize,
    /// Number of SMS parts the message is split into (0 for an empty text).
    pub parts: usize,
    /// Units still free in the last part.
    pub remaining_in_part: usize,
    /// Distinct characters that force UCS-2, in order of first appearance.
    pub ucs2_chars: Vec<char>,
}

/// Chooses the encoding of a text: GSM-7 if every character is in the GSM-7 tables.
pub fn encoding_of(text: &str) -> Encoding {
    if text.chars().all(is_gsm7) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// Distinct characters of `text` that are not in GSM-7, in order of first appearance.
pub fn ucs2_forcing_chars(text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if !is_gsm7(c) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn unit_width(c: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => {
            if is_gsm7_extension(c) {
                2
            } else {
                1
            }
        }
        Encoding::Ucs2 => c.len_utf16(),
    }
}

/// Analyses a text: encoding, units, parts. Parts are counted the way phones split: an
/// extension character (escape + char) or a surrogate pair is never split between parts.
pub fn analyse(text: &str) -> SmsInfo {
    let encoding = encoding_of(text);
    let units: usize = text.chars().map(|c| unit_width(c, encoding)).sum();
    let (single, part) = match encoding {
        Encoding::Gsm7 => (GSM7_SINGLE, GSM7_PART),
        Encoding::Ucs2 => (UCS2_SINGLE, UCS2_PART),
    };
    let (parts, remaining_in_part) = if units == 0 {
        (0, single)
    } else if units <= single {
        (1, single - units)
    } else {
        let mut parts = 1;
        let mut used = 0;
        for c in text.chars() {
            let w = unit_width(c, encoding);
            if used + w > part {
                parts += 1;
                used = 0;
            }
            used += w;
        }
        (parts, part - used)
    };
    SmsInfo {
        encoding,
        units,
        parts,
        remaining_in_part,
        ucs2_chars: ucs2_forcing_chars(text),
    }
}

/// A GSM-7 replacement for a typographic character that would force UCS-2.
pub fn replacement_for(c: char) -> Option<&'static str> {
    Some(match c {
        '„' | '“' | '”' | '‟' | '«' | '»' | '″' => "\"",
        '‚' | '‘' | '’' | '‛' | '‹' | '›' | '´' | '`' | '′' => "'",
        '–' | '—' | '‐' | '‑' | '‒' | '−' | '―' => "-",
        '…' => "...",
        '\u{00A0}' | '\u{2002}' | '\u{2003}' | '\u{2009}' | '\u{202F}' | '\u{2007}' => " ",
        '\u{200B}' | '\u{00AD}' | '\u{FEFF}' => "",
        '•' | '·' => "*",
        '×' => "x",
        '\t' => " ",
        'ç' => "Ç",
        _ => return None,
    })
}

/// One-click fix: replaces typographic quotes, dashes, ellipsis, special spaces and bullets
/// by their GSM-7 equivalents. Letters (e.g. in names) are left alone.
pub fn replace_typographic(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_gsm7(c) {
            out.push(c);
        } else {
            match replacement_for(c) {
                Some(r) => out.push_str(r),
                None => out.push(c),
            }
        }
    }
    out
}

/// Problems with an SMS sender ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SenderIdError {
    Empty,
    AlphanumericTooLong { len: usize },
    NumericTooLong { len: usize },
    InvalidCharacter(char),
}

impl std::fmt::Display for SenderIdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SenderIdError::Empty => f.write_str("Bitte geben Sie eine Absenderkennung an."),
            SenderIdError::AlphanumericTooLong { len } => write!(
                f,
                "Eine alphanumerische Absenderkennung darf höchstens 11 Zeichen haben (jetzt {len})."
            ),
            SenderIdError::NumericTooLong { len } => write!(
                f,
                "Eine numerische Absenderkennung darf höchstens 16 Ziffern haben (jetzt {len})."
            ),
            SenderIdError::InvalidCharacter(c) => write!(
                f,
                "Das Zeichen „{c}“ ist in der Absenderkennung nicht erlaubt (nur A–Z, a–z, 0–9 und Leerzeichen)."
            ),
        }
    }
}

impl std::error::Error for SenderIdError {}

impl crate::domain::message::UiMessage for SenderIdError {
    fn key(&self) -> &'static str {
        match self {
            SenderIdError::Empty => "domain.sender_id.empty",
            SenderIdError::AlphanumericTooLong { .. } => "domain.sender_id.alphanumeric_too_long",
            SenderIdError::NumericTooLong { .. } => "domain.sender_id.numeric_too_long",
            SenderIdError::InvalidCharacter(_) => "domain.sender_id.invalid_character",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            SenderIdError::Empty => vec![],
            SenderIdError::AlphanumericTooLong { len } | SenderIdError::NumericTooLong { len } => {
                vec![("len", len.to_string())]
            }
            SenderIdError::InvalidCharacter(c) => vec![("char", c.to_string())],
        }
    }
}

/// Checks a sender ID: at most 11 alphanumeric characters (letters, digits, space; at least
/// one letter) or at most 16 digits (optionally with a leading `+`).
pub fn check_sender_id(id: &str) -> Result<(), SenderIdError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(SenderIdError::Empty);
    }
    let digits = id.strip_prefix('+').unwrap_or(id);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        let len = digits.chars().count();
        return if len <= 16 {
            Ok(())
        } else {
            Err(SenderIdError::NumericTooLong { len })
        };
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == ' '))
    {
        return Err(SenderIdError::InvalidCharacter(c));
    }
    let len = id.chars().count();
    if len > 11 {
        return Err(SenderIdError::AlphanumericTooLong { len });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text, encoding, units, parts)
    #[test]
    fn segment_rules_table() {
        let a = |n: usize| "a".repeat(n);
        let cases: Vec<(String, Encoding, usize, usize)> = vec![
            (String::new(), Encoding::Gsm7, 0, 0),
            ("Hallo".into(), Encoding::Gsm7, 5, 1),
            (a(160), Encoding::Gsm7, 160, 1),
            (a(161), Encoding::Gsm7, 161, 2),
            (a(306), Encoding::Gsm7, 306, 2),
            (a(307), Encoding::Gsm7, 307, 3),
            (
                "ÄÖÜäöüß é è à ù ì ò Ç Ø ø Å å Æ æ É Ñ ñ ¡ ¿ § £ ¥".into(),
                Encoding::Gsm7,
                49,
                1,
            ),
            // Extension characters count twice.
            ("€".into(), Encoding::Gsm7, 2, 1),
            ("^{}\\[~]|€".into(), Encoding::Gsm7, 18, 1),
            (format!("{}€", a(158)), Encoding::Gsm7, 160, 1),
            (format!("{}€", a(159)), Encoding::Gsm7, 161, 2),
            // An extension character is not split: 152 + € (2) does not fit in 153.
            (format!("{}€{}", a(152), a(10)), Encoding::Gsm7, 164, 2),
            (format!("{}€{}", a(152), a(152)), Encoding::Gsm7, 306, 3),
            // UCS-2.
            ("„Hallo“".into(), Encoding::Ucs2, 7, 1),
            (format!("{}–", a(69)), Encoding::Ucs2, 70, 1),
            (format!("{}–", a(70)), Encoding::Ucs2, 71, 2),
            (format!("{}–", a(133)), Encoding::Ucs2, 134, 2),
            (format!("{}–", a(134)), Encoding::Ucs2, 135, 3),
            // Emoji: two UCS-2 units, never split.
            ("😀".into(), Encoding::Ucs2, 2, 1),
            (format!("{}😀", a(68)), Encoding::Ucs2, 70, 1),
            (format!("{}😀", a(69)), Encoding::Ucs2, 71, 2),
            (format!("{}😀{}", a(66), a(10)), Encoding::Ucs2, 78, 2),
            // Dotless i (Turkish names) forces UCS-2; extension chars then count once.
            ("Yılmaz €".into(), Encoding::Ucs2, 8, 1),
        ];
        for (text, enc, units, parts) in cases {
            let info = analyse(&text);
            assert_eq!(info.encoding, enc, "encoding of {text:?}");
            assert_eq!(info.units, units, "units of {text:?}");
            assert_eq!(info.parts, parts, "parts of {text:?}");
        }
    }

    #[test]
    fn emoji_split_leaves_correct_remaining() {
        // 66 units + emoji (2) does not fit in 67: second part holds emoji + 10.
        let info = analyse(&format!("{}😀{}", "a".repeat(66), "a".repeat(10)));
        assert_eq!(info.remaining_in_part, 67 - 12);
    }

    #[test]
    fn lists_forcing_characters_once_in_order() {
        let info = analyse("„Termin“ – morgen… 😀 „x“");
        assert_eq!(info.ucs2_chars, vec!['„', '“', '–', '…', '😀']);
    }

    #[test]
    fn replacement_makes_typographic_text_gsm7() {
        let cases = [
            ("„Hallo“ – bis morgen…", "\"Hallo\" - bis morgen..."),
            ("‚x‘ — ’y’", "'x' - 'y'"),
            ("Preis:\u{00A0}20 €", "Preis: 20 €"),
            ("Frau Yılmaz", "Frau Yılmaz"), // letters stay
        ];
        for (input, expected) in cases {
            assert_eq!(replace_typographic(input), expected, "{input}");
        }
        assert_eq!(
            encoding_of(&replace_typographic("„Hallo“ – bis morgen…")),
            Encoding::Gsm7
        );
    }

    #[test]
    fn sender_id_table() {
        let cases: [(&str, Result<(), SenderIdError>); 9] = [
            ("Praxis", Ok(())),
            ("PraxisSonne", Ok(())),
            ("Praxis Sonn", Ok(())),
            (
                "PraxisSonnen",
                Err(SenderIdError::AlphanumericTooLong { len: 12 }),
            ),
            ("491711234567890", Ok(())),
            ("+4917112345678901", Ok(())),
            (
                "49171123456789012",
                Err(SenderIdError::NumericTooLong { len: 17 }),
            ),
            ("", Err(SenderIdError::Empty)),
            ("Praxis-Süd", Err(SenderIdError::InvalidCharacter('-'))),
        ];
        for (id, expected) in cases {
            assert_eq!(check_sender_id(id), expected, "{id}");
        }
        assert!(SenderIdError::AlphanumericTooLong { len: 12 }
            .to_string()
            .contains("höchstens 11"));
    }
}
