//! Phone numbers: parsing German and international input to E.164, with mobile detection.
//!
//! Hand-rolled rules instead of the `phonenumber` crate (see docs/design/phone-rules.md): the crate pulls
//! in `regex` and a metadata database of about 1 MB of XML that ends up in the wasm binary,
//! while praxisbote only needs two answers — "which E.164 number is this?" and "can it
//! receive an SMS?". Germany is modelled precisely; common European countries have their
//! mobile prefixes and national number lengths in [`COUNTRIES`]; any other country code is
//! accepted with a plausible length and the line type [`LineType::Unknown`].
//!
//! Accepted input: `0171 1234567`, `0171/1234567`, `0171-123 45 67`, `(0171) 1234567`,
//! `+49 (0)171 1234567`, `+49 171 1234567`, `0049 171 1234567`, `+43 664 1234567`,
//! `0043 664 1234567`. A number without a leading `0`, `00` or `+` is rejected: it is not
//! clear which country it belongs to.

use std::fmt;

/// What kind of line a number belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineType {
    /// A mobile number: can receive SMS.
    Mobile,
    /// A fixed-line number: cannot receive SMS.
    Landline,
    /// Service numbers (0800, 0180, 0900, 0700 …): cannot receive SMS.
    Service,
    /// A foreign number of a country without rules here: may or may not be a mobile.
    Unknown,
}

impl LineType {
    pub fn label_de(self) -> &'static str {
        match self {
            LineType::Mobile => "Mobilnummer",
            LineType::Landline => "Festnetznummer",
            LineType::Service => "Sondernummer",
            LineType::Unknown => "Auslandsnummer (Art unbekannt)",
        }
    }
}

/// A parsed phone number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    /// Country calling code (49 for Germany).
    pub country_code: u16,
    /// National significant number: the digits after the country code, without trunk prefix.
    pub nsn: String,
    pub line_type: LineType,
}

impl PhoneNumber {
    /// `+4917112345678`.
    pub fn e164(&self) -> String {
        format!("+{}{}", self.country_code, self.nsn)
    }

    /// Whether an SMS can be sent to this number. Foreign numbers of countries without rules
    /// ([`LineType::Unknown`]) count as SMS-capable: the practice entered them as such.
    pub fn is_sms_capable(&self) -> bool {
        matches!(self.line_type, LineType::Mobile | LineType::Unknown)
    }

    pub fn is_mobile(&self) -> bool {
        self.line_type == LineType::Mobile
    }

    /// ISO 3166-1 alpha-2 code when the country has rules here ("DE", "AT", …).
    pub fn region(&self) -> Option<&'static str> {
        if self.country_code == 49 {
            return Some("DE");
        }
        COUNTRIES
            .iter()
            .find(|c| c.code == self.country_code)
            .map(|c| c.iso)
    }

    /// Digits of the national form with trunk prefix, for German numbers ("01711234567").
    /// Used by the text search so that "0171 123" finds "+49 171 1234567".
    pub fn national_digits(&self) -> String {
        let trunk = match self.country_code {
            49 => "0",
            cc => COUNTRIES
                .iter()
                .find(|c| c.code == cc)
                .map(|c| if c.trunk_zero { "0" } else { "" })
                .unwrap_or(""),
        };
        format!("{trunk}{}", self.nsn)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}{}", self.country_code, self.nsn)
    }
}

/// Why an input is not a valid phone number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhoneError {
    Empty,
    InvalidCharacter(char),
    /// No leading `0`, `00` or `+`: the country is unclear.
    MissingPrefix,
    UnknownCountryCode,
    TooShort,
    TooLong,
    /// The digits after the prefix do not form a number of that country.
    InvalidNumber,
}

impl PhoneError {
    pub fn message_de(self) -> String {
        match self {
            PhoneError::Empty => "Keine Nummer eingetragen".into(),
            PhoneError::InvalidCharacter(c) => format!("Ungültiges Zeichen „{c}“ in der Nummer"),
            PhoneError::MissingPrefix => {
                "Vorwahl fehlt (Nummer muss mit 0, 00 oder + beginnen)".into()
            }
            PhoneError::UnknownCountryCode => "Unbekannte Ländervorwahl".into(),
            PhoneError::TooShort => "Nummer zu kurz".into(),
            PhoneError::TooLong => "Nummer zu lang".into(),
            PhoneError::InvalidNumber => "Keine gültige Rufnummer".into(),
        }
    }
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_de())
    }
}

impl std::error::Error for PhoneError {}

/// Numbering rules of one foreign country.
#[derive(Debug)]
pub struct CountryRules {
    pub iso: &'static str,
    pub code: u16,
    /// Whether national numbers start with a trunk `0` that is dropped internationally (and
    /// may be written by mistake after the country code: `+43 0664 …`).
    pub trunk_zero: bool,
    /// Prefixes of the national significant number that denote mobiles.
    pub mobile_prefixes: &'static [&'static str],
    /// Allowed lengths of a mobile NSN (inclusive).
    pub mobile_len: (usize, usize),
    /// Allowed lengths of any NSN (inclusive).
    pub nsn_len: (usize, usize),
}

/// Foreign countries with mobile rules (Germany is handled separately).
pub const COUNTRIES: &[CountryRules] = &[
    CountryRules {
        iso: "AT",
        code: 43,
        trunk_zero: true,
        mobile_prefixes: &["650", "660", "664", "67", "68", "69"],
        mobile_len: (10, 13),
        nsn_len: (4, 13),
    },
    CountryRules {
        iso: "CH",
        code: 41,
        trunk_zero: true,
        mobile_prefixes: &["75", "76", "77", "78", "79"],
        mobile_len: (9, 9),
        nsn_len: (9, 9),
    },
    CountryRules {
        iso: "PL",
        code: 48,
        trunk_zero: false,
        mobile_prefixes: &[
            "45", "50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88",
        ],
        mobile_len: (9, 9),
        nsn_len: (9, 9),
    },
    CountryRules {
        iso: "TR",
        code: 90,
        trunk_zero: true,
        mobile_prefixes: &["5"],
        mobile_len: (10, 10),
        nsn_len: (10, 10),
    },
    CountryRules {
        iso: "GR",
        code: 30,
        trunk_zero: false,
        mobile_prefixes: &["69"],
        mobile_len: (10, 10),
        nsn_len: (10, 10),
    },
    CountryRules {
        iso: "NL",
        code: 31,
        trunk_zero: true,
        mobile_prefixes: &["61", "62", "63", "64", "65", "68"],
        mobile_len: (9, 9),
        nsn_len: (9, 9),
    },
    CountryRules {
        iso: "FR",
        code: 33,
        trunk_zero: true,
        mobile_prefixes: &["6", "73", "74", "75", "76", "77", "78", "79"],
        mobile_len: (9, 9),
        nsn_len: (9, 9),
    },
    CountryRules {
        iso: "IT",
        code: 39,
        // Italian landlines keep their leading 0 internationally (+39 06 …).
        trunk_zero: false,
        mobile_prefixes: &["3"],
        mobile_len: (9, 10),
        nsn_len: (6, 11),
    },
    CountryRules {
        iso: "ES",
        code: 34,
        trunk_zero: false,
        mobile_prefixes: &["6", "71", "72", "73", "74"],
        mobile_len: (9, 9),
        nsn_len: (9, 9),
    },
    CountryRules {
        iso: "GB",
        code: 44,
        trunk_zero: true,
        mobile_prefixes: &["71", "72", "73", "74", "75", "7624", "77", "78", "79"],
        mobile_len: (10, 10),
        nsn_len: (9, 10),
    },
    CountryRules {
        iso: "BE",
        code: 32,
        trunk_zero: true,
        mobile_prefixes: &["46", "47", "48", "49"],
        mobile_len: (9, 9),
        nsn_len: (8, 9),
    },
    CountryRules {
        iso: "LU",
        code: 352,
        trunk_zero: false,
        mobile_prefixes: &["621", "628", "661", "668", "671", "678", "691", "698"],
        mobile_len: (9, 9),
        nsn_len: (4, 11),
    },
    CountryRules {
        iso: "DK",
        code: 45,
        trunk_zero: false,
        mobile_prefixes: &[
            "2", "30", "31", "40", "41", "42", "50", "51", "52", "53", "60", "61", "71", "81",
            "91", "92", "93",
        ],
        mobile_len: (8, 8),
        nsn_len: (8, 8),
    },
    CountryRules {
        iso: "SE",
        code: 46,
        trunk_zero: true,
        mobile_prefixes: &["70", "72", "73", "76", "79"],
        mobile_len: (9, 9),
        nsn_len: (7, 10),
    },
    CountryRules {
        iso: "CZ",
        code: 420,
        trunk_zero: false,
        mobile_prefixes: &["60", "70", "72", "73", "77", "79"],
        mobile_len: (9, 9),
        nsn_len: (9, 9),
    },
    CountryRules {
        iso: "HR",
        code: 385,
        trunk_zero: true,
        mobile_prefixes: &["91", "92", "95", "97", "98", "99"],
        mobile_len: (8, 9),
        nsn_len: (8, 9),
    },
    CountryRules {
        iso: "PT",
        code: 351,
        trunk_zero: false,
        mobile_prefixes: &["91", "92", "93", "96"],
        mobile_len: (9, 9),
        nsn_len: (9, 9),
    },
    CountryRules {
        iso: "RO",
        code: 40,
        trunk_zero: true,
        mobile_prefixes: &["7"],
        mobile_len: (9, 9),
        nsn_len: (9, 9),
    },
    CountryRules {
        iso: "HU",
        code: 36,
        trunk_zero: false,
        mobile_prefixes: &["20", "30", "31", "50", "70"],
        mobile_len: (9, 9),
        nsn_len: (8, 9),
    },
];

/// German NSN (after the trunk 0): what kind of number is it, or why is it invalid?
fn classify_de(nsn: &str) -> Result<LineType, PhoneError> {
    let len = nsn.len();
    let b = nsn.as_bytes();
    if b[0] == b'0' {
        return Err(PhoneError::InvalidNumber);
    }
    if b[0] == b'1' {
        // 015x, 016x, 017x: mobiles. Lengths vary (0171 1234567 = 10, 0151 12345678 = 11).
        if matches!(b.get(1), Some(b'5' | b'6' | b'7')) {
            return match len {
                0..=9 => Err(PhoneError::TooShort),
                10 | 11 => Ok(LineType::Mobile),
                _ => Err(PhoneError::TooLong),
            };
        }
        // 0180 shared cost, 0137/0138 mass calls, 0118xx directory enquiries.
        if nsn.starts_with("180") || nsn.starts_with("137") || nsn.starts_with("138") {
            return check_len(len, 7, 11).map(|_| LineType::Service);
        }
        return Err(PhoneError::InvalidNumber);
    }
    if nsn.starts_with("800") || nsn.starts_with("900") || nsn.starts_with("700") {
        return check_len(len, 7, 11).map(|_| LineType::Service);
    }
    // Area code (2–5 digits without the 0) plus subscriber number.
    check_len(len, 6, 11).map(|_| LineType::Landline)
}

fn check_len(len: usize, min: usize, max: usize) -> Result<(), PhoneError> {
    if len < min {
        Err(PhoneError::TooShort)
    } else if len > max {
        Err(PhoneError::TooLong)
    } else {
        Ok(())
    }
}

/// Splits the country calling code off an international digit string. Country codes are
/// prefix-free: `1` and `7` have one digit, a fixed set has two, all others three.
fn split_country_code(digits: &str) -> Result<(u16, &str), PhoneError> {
    let b = digits.as_bytes();
    if b.is_empty() {
        return Err(PhoneError::TooShort);
    }
    let one = (b[0] - b'0') as u16;
    match one {
        0 => return Err(PhoneError::UnknownCountryCode),
        1 | 7 => return Ok((one, &digits[1..])),
        _ => {}
    }
    if b.len() < 2 {
        return Err(PhoneError::TooShort);
    }
    let two = one * 10 + (b[1] - b'0') as u16;
    const TWO_DIGIT: &[u16] = &[
        20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55,
        56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
    ];
    if TWO_DIGIT.contains(&two) {
        return Ok((two, &digits[2..]));
    }
    // Two-digit zones that are unassigned as a whole prefix of three-digit codes.
    const THREE_DIGIT_ZONES: &[u16] = &[
        21, 22, 23, 24, 25, 26, 29, 35, 37, 38, 42, 50, 59, 67, 68, 69, 80, 85, 87, 88, 96, 97, 99,
    ];
    if !THREE_DIGIT_ZONES.contains(&two) || b.len() < 3 {
        return Err(PhoneError::UnknownCountryCode);
    }
    let three = two * 10 + (b[2] - b'0') as u16;
    Ok((three, &digits[3..]))
}

/// Parses a phone number as entered in Germany (national numbers are German).
pub fn parse_phone(input: &str) -> Result<PhoneNumber, PhoneError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    let mut digits = String::with_capacity(trimmed.len());
    let mut plus = false;
    let mut chars = trimmed.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            // "(0)" after the country code: "+49 (0)171 …" — the 0 is not dialled.
            '(' if trimmed[i..].starts_with("(0)") && (plus || digits.starts_with("00")) => {
                chars.next();
                chars.next();
            }
            ' ' | '\u{a0}' | '\u{202f}' | '\t' | '-' | '/' | '(' | ')' | '.' | '–' => {}
            other => return Err(PhoneError::InvalidCharacter(other)),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    if plus {
        parse_international(&digits)
    } else if let Some(rest) = digits.strip_prefix("00") {
        parse_international(rest)
    } else if let Some(nsn) = digits.strip_prefix('0') {
        if nsn.is_empty() {
            return Err(PhoneError::TooShort);
        }
        let line_type = classify_de(nsn)?;
        Ok(PhoneNumber {
            country_code: 49,
            nsn: nsn.to_string(),
            line_type,
        })
    } else {
        Err(PhoneError::MissingPrefix)
    }
}

fn parse_international(digits: &str) -> Result<PhoneNumber, PhoneError> {
    let (cc, rest) = split_country_code(digits)?;
    if cc == 49 {
        // "+49 0171 …" is a common mistake for "+49 171 …".
        let nsn = rest.strip_prefix('0').unwrap_or(rest);
        if nsn.is_empty() {
            return Err(PhoneError::TooShort);
        }
        let line_type = classify_de(nsn)?;
        return Ok(PhoneNumber {
            country_code: 49,
            nsn: nsn.to_string(),
            line_type,
        });
    }
    if let Some(rules) = COUNTRIES.iter().find(|c| c.code == cc) {
        let nsn = if rules.trunk_zero {
            rest.strip_prefix('0').unwrap_or(rest)
        } else {
            rest
        };
        check_len(nsn.len(), rules.nsn_len.0, rules.nsn_len.1)?;
        let is_mobile_prefix = rules.mobile_prefixes.iter().any(|p| nsn.starts_with(p));
        let line_type = if is_mobile_prefix {
            check_len(nsn.len(), rules.mobile_len.0, rules.mobile_len.1)?;
            LineType::Mobile
        } else {
            LineType::Landline
        };
        return Ok(PhoneNumber {
            country_code: cc,
            nsn: nsn.to_string(),
            line_type,
        });
    }
    // E.164 allows at most 15 digits including the country code.
    let total = digits.len();
    if rest.len() < 4 {
        return Err(PhoneError::TooShort);
    }
    if total > 15 {
        return Err(PhoneError::TooLong);
    }
    Ok(PhoneNumber {
        country_code: cc,
        nsn: rest.to_string(),
        line_type: LineType::Unknown,
    })
}

/// Digits of a phone input, for search ("0171 / 123" → "0171123").
pub fn digits_only(input: &str) -> String {
    input.chars().filter(|c| c.is_ascii_digit()).collect()
}

impl crate::domain::message::UiMessage for PhoneError {
    fn key(&self) -> &'static str {
        match self {
            PhoneError::Empty => "domain.phone.empty",
            PhoneError::InvalidCharacter(_) => "domain.phone.invalid_character",
            PhoneError::MissingPrefix => "domain.phone.missing_prefix",
            PhoneError::UnknownCountryCode => "domain.phone.unknown_country_code",
            PhoneError::TooShort => "domain.phone.too_short",
            PhoneError::TooLong => "domain.phone.too_long",
            PhoneError::InvalidNumber => "domain.phone.invalid_number",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            PhoneError::InvalidCharacter(c) => vec![("char", c.to_string())],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, expected E.164, expected line type)
    const VALID: &[(&str, &str, LineType)] = &[
        // REFERENCE.md §4: German input forms.
        ("0171 1234567", "+491711234567", LineType::Mobile),
        ("0171/1234567", "+491711234567", LineType::Mobile),
        ("+49 (0)171 1234567", "+491711234567", LineType::Mobile),
        ("004917112345678", "+4917112345678", LineType::Mobile),
        ("0049 171 1234567", "+491711234567", LineType::Mobile),
        ("+4917112345678", "+4917112345678", LineType::Mobile),
        ("01511 2345678", "+4915112345678", LineType::Mobile),
        ("0151 12345678", "+4915112345678", LineType::Mobile),
        ("0160 1234567", "+491601234567", LineType::Mobile),
        ("0162-123 45 67", "+491621234567", LineType::Mobile),
        ("0170 12345678", "+4917012345678", LineType::Mobile),
        ("0176 12345678", "+4917612345678", LineType::Mobile),
        ("(0171) 123 45 67", "+491711234567", LineType::Mobile),
        ("0171.1234567", "+491711234567", LineType::Mobile),
        ("+49 0171 1234567", "+491711234567", LineType::Mobile),
        (
            "+49\u{a0}171\u{a0}1234567",
            "+491711234567",
            LineType::Mobile,
        ),
        ("  0171 1234567  ", "+491711234567", LineType::Mobile),
        // German landlines and service numbers: not SMS-capable.
        ("030 1234567", "+49301234567", LineType::Landline),
        ("089/12345678", "+498912345678", LineType::Landline),
        ("+49 (0)30 12345678", "+493012345678", LineType::Landline),
        ("04621 12345", "+49462112345", LineType::Landline),
        ("0800 1234567", "+498001234567", LineType::Service),
        ("0180 5 123456", "+491805123456", LineType::Service),
        // Foreign mobiles.
        ("+43 664 1234567", "+436641234567", LineType::Mobile),
        ("0043 (0)664 1234567", "+436641234567", LineType::Mobile),
        ("+41 79 123 45 67", "+41791234567", LineType::Mobile),
        ("+48 512 345 678", "+48512345678", LineType::Mobile),
        ("+90 532 123 45 67", "+905321234567", LineType::Mobile),
        ("+30 691 234 5678", "+306912345678", LineType::Mobile),
        ("+31 6 12345678", "+31612345678", LineType::Mobile),
        ("+33 6 12 34 56 78", "+33612345678", LineType::Mobile),
        ("+33 7 81 23 45 67", "+33781234567", LineType::Mobile),
        ("+39 312 345 6789", "+393123456789", LineType::Mobile),
        ("+34 612 345 678", "+34612345678", LineType::Mobile),
        ("+44 7911 123456", "+447911123456", LineType::Mobile),
        ("+44 (0)7911 123456", "+447911123456", LineType::Mobile),
        ("+420 601 123 456", "+420601123456", LineType::Mobile),
        // Foreign landlines.
        ("+43 1 5123456", "+4315123456", LineType::Landline),
        ("+41 44 123 45 67", "+41441234567", LineType::Landline),
        ("+33 1 23 45 67 89", "+33123456789", LineType::Landline),
        ("+39 06 1234 5678", "+390612345678", LineType::Landline),
        ("+44 20 7946 0958", "+442079460958", LineType::Landline),
        ("+48 22 123 45 67", "+48221234567", LineType::Landline),
        ("+90 212 123 45 67", "+902121234567", LineType::Landline),
        // Countries without rules: accepted, type unknown.
        ("+1 202 555 0143", "+12025550143", LineType::Unknown),
        ("+380 50 123 4567", "+380501234567", LineType::Unknown),
    ];

    const INVALID: &[(&str, PhoneError)] = &[
        ("", PhoneError::Empty),
        ("   ", PhoneError::Empty),
        ("-/-", PhoneError::Empty),
        ("0171 123456a", PhoneError::InvalidCharacter('a')),
        ("keine", PhoneError::InvalidCharacter('k')),
        ("171 1234567", PhoneError::MissingPrefix),
        ("0171 12345", PhoneError::TooShort),
        ("0171 1234567890", PhoneError::TooLong),
        ("0030 12", PhoneError::TooShort),
        ("030 12", PhoneError::TooShort),
        ("030 123456789012", PhoneError::TooLong),
        ("0", PhoneError::TooShort),
        ("000 1234567", PhoneError::UnknownCountryCode),
        ("+28 1234567", PhoneError::UnknownCountryCode),
        ("0119 123456", PhoneError::InvalidNumber),
        ("+49 0 0171 1234567", PhoneError::InvalidNumber),
        ("+41 79 123 45", PhoneError::TooShort),
        ("+44 7911 1234567", PhoneError::TooLong),
        ("+1 2025550143 123456", PhoneError::TooLong),
        ("+49 171 12+34567", PhoneError::InvalidCharacter('+')),
    ];

    #[test]
    fn valid_numbers_normalise_to_e164() {
        for (input, e164, line_type) in VALID {
            let n = parse_phone(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(n.e164(), *e164, "{input:?}");
            assert_eq!(n.to_string(), *e164, "{input:?}");
            assert_eq!(n.line_type, *line_type, "{input:?}");
        }
    }

    #[test]
    fn invalid_numbers_give_reasons() {
        for (input, err) in INVALID {
            assert_eq!(parse_phone(input), Err(*err), "{input:?}");
            assert!(!err.message_de().is_empty());
        }
    }

    #[test]
    fn sms_capability() {
        for (input, capable) in [
            ("0171 1234567", true),
            ("030 1234567", false),
            ("0800 1234567", false),
            ("+43 664 1234567", true),
            ("+43 1 5123456", false),
            ("+1 202 555 0143", true),
        ] {
            assert_eq!(
                parse_phone(input).unwrap().is_sms_capable(),
                capable,
                "{input}"
            );
        }
    }

    #[test]
    fn regions_and_national_digits() {
        let n = parse_phone("+49 171 1234567").unwrap();
        assert_eq!(n.region(), Some("DE"));
        assert_eq!(n.national_digits(), "01711234567");
        let n = parse_phone("+39 06 1234 5678").unwrap();
        assert_eq!(n.region(), Some("IT"));
        assert_eq!(n.national_digits(), "0612345678");
        assert_eq!(parse_phone("+1 202 555 0143").unwrap().region(), None);
        assert_eq!(digits_only("0171 / 12-3"), "0171123");
    }

    #[test]
    fn every_country_table_is_consistent() {
        for c in COUNTRIES {
            assert_eq!(c.iso.len(), 2);
            assert!(c.mobile_len.0 <= c.mobile_len.1 && c.nsn_len.0 <= c.nsn_len.1);
            assert!(c.mobile_len.0 >= c.nsn_len.0 && c.mobile_len.1 <= c.nsn_len.1);
            // The calling code must be found by the prefix-free split.
            let digits = format!("{}123456789", c.code);
            assert_eq!(split_country_code(&digits).unwrap().0, c.code, "{}", c.iso);
        }
    }
}
