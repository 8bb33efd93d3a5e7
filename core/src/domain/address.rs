//! Postal address completeness and the address lines shown in the review window.
//!
//! Rules for a deliverable letter address:
//! - a street; a house number, either in its own field or at the end of the street field
//!   ("Hauptstr. 5", as often imported), except for a "Postfach" address;
//! - Germany (country empty or "DE"): a five-digit postcode (01001–99998) and a city;
//! - abroad: a two-letter ISO country code, a city, and a postcode in the country's format
//!   where that format is known here (AT, CH, … four digits; NL "1234 AB"; PL "12-345"; …).
//!
//! A foreign address typed without country usually shows up as a postcode that is not five
//! digits; the reason then says to enter the country.

use super::model::{Person, PostalAddress};

/// One problem of an address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddressProblem {
    MissingStreet,
    MissingHouseNumber,
    MissingPostcode,
    /// Domestic postcode not five digits (maybe a foreign address without country).
    PostcodeNotFiveDigits,
    /// Five digits but not an existing German postcode range ("00123").
    InvalidPostcode,
    /// Foreign postcode in the wrong format for its country.
    ForeignPostcodeFormat(String),
    MissingCity,
    InvalidCountry,
}

impl AddressProblem {
    pub fn message_de(&self) -> String {
        match self {
            AddressProblem::MissingStreet => "Straße fehlt".into(),
            AddressProblem::MissingHouseNumber => "Hausnummer fehlt".into(),
            AddressProblem::MissingPostcode => "Postleitzahl fehlt".into(),
            AddressProblem::PostcodeNotFiveDigits => {
                "Postleitzahl ist nicht fünfstellig (bei Auslandsadressen das Land angeben)".into()
            }
            AddressProblem::InvalidPostcode => "Ungültige Postleitzahl".into(),
            AddressProblem::ForeignPostcodeFormat(country) => {
                format!("Postleitzahl passt nicht zum Land {country}")
            }
            AddressProblem::MissingCity => "Ort fehlt".into(),
            AddressProblem::InvalidCountry => {
                "Ungültiges Land (zweistelliger Ländercode wie AT, CH erwartet)".into()
            }
        }
    }
}

/// All problems joined for display: "Straße fehlt, Ort fehlt".
pub fn problems_de(problems: &[AddressProblem]) -> String {
    problems
        .iter()
        .map(AddressProblem::message_de)
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_po_box(street: &str) -> bool {
    let s = street.trim_start().as_bytes();
    let starts = |p: &str| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    starts("postfach") || starts("pf ")
}

/// Whether the street field ends with something like a house number ("Hauptstr. 5a",
/// "Am Markt 12-14").
fn street_has_number(street: &str) -> bool {
    street
        .split_whitespace()
        .last()
        .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        && street.split_whitespace().count() >= 2
}

/// (country, digits-and-letters pattern) where `9` is a digit and `A` a letter.
const POSTCODE_FORMATS: &[(&str, &[&str])] = &[
    ("AT", &["9999"]),
    ("CH", &["9999"]),
    ("LI", &["9999"]),
    ("BE", &["9999"]),
    ("DK", &["9999"]),
    ("LU", &["9999", "L-9999"]),
    ("HU", &["9999"]),
    ("NO", &["9999"]),
    ("FR", &["99999"]),
    ("IT", &["99999"]),
    ("ES", &["99999"]),
    ("FI", &["99999"]),
    ("GR", &["99999", "999 99"]),
    ("TR", &["99999"]),
    ("HR", &["99999"]),
    ("PL", &["99-999"]),
    ("NL", &["9999 AA", "9999AA"]),
    ("CZ", &["999 99", "99999"]),
    ("SK", &["999 99", "99999"]),
    ("SE", &["999 99", "99999"]),
    ("PT", &["9999-999"]),
];

fn matches_pattern(value: &str, pattern: &str) -> bool {
    value.chars().count() == pattern.chars().count()
        && value.chars().zip(pattern.chars()).all(|(v, p)| match p {
            '9' => v.is_ascii_digit(),
            'A' => v.is_ascii_alphabetic(),
            other => v == other,
        })
}

/// All completeness problems of an address; empty when it is deliverable.
pub fn address_problems(a: &PostalAddress) -> Vec<AddressProblem> {
    let mut problems = Vec::new();
    let street = a.street.trim();
    if street.is_empty() {
        problems.push(AddressProblem::MissingStreet);
    } else if a.house_number.trim().is_empty() && !is_po_box(street) && !street_has_number(street) {
        problems.push(AddressProblem::MissingHouseNumber);
    }
    let postcode = a.postcode.trim();
    let country = a.country.trim();
    if a.is_domestic() {
        if postcode.is_empty() {
            problems.push(AddressProblem::MissingPostcode);
        } else if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(AddressProblem::PostcodeNotFiveDigits);
        } else if !("01001"..="99998").contains(&postcode) {
            problems.push(AddressProblem::InvalidPostcode);
        }
    } else if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        problems.push(AddressProblem::InvalidCountry);
    } else {
        let code = country.to_ascii_uppercase();
        if let Some((_, patterns)) = POSTCODE_FORMATS.iter().find(|(c, _)| *c == code) {
            if postcode.is_empty() {
                problems.push(AddressProblem::MissingPostcode);
            } else if !patterns.iter().any(|p| matches_pattern(postcode, p)) {
                problems.push(AddressProblem::ForeignPostcodeFormat(code));
            }
        }
    }
    if a.city.trim().is_empty() {
        problems.push(AddressProblem::MissingCity);
    }
    problems
}

/// Whether a letter can be sent to this address.
pub fn is_complete(a: &PostalAddress) -> bool {
    address_problems(a).is_empty()
}

/// German name of a country for the last address line (upper case, as DIN 5008 recommends).
pub fn country_name_de(code: &str) -> String {
    let name = match code.trim().to_ascii_uppercase().as_str() {
        "AT" => "ÖSTERREICH",
        "CH" => "SCHWEIZ",
        "LI" => "LIECHTENSTEIN",
        "PL" => "POLEN",
        "TR" => "TÜRKEI",
        "GR" => "GRIECHENLAND",
        "NL" => "NIEDERLANDE",
        "BE" => "BELGIEN",
        "LU" => "LUXEMBURG",
        "FR" => "FRANKREICH",
        "IT" => "ITALIEN",
        "ES" => "SPANIEN",
        "PT" => "PORTUGAL",
        "GB" => "VEREINIGTES KÖNIGREICH",
        "IE" => "IRLAND",
        "DK" => "DÄNEMARK",
        "SE" => "SCHWEDEN",
        "NO" => "NORWEGEN",
        "FI" => "FINNLAND",
        "CZ" => "TSCHECHIEN",
        "SK" => "SLOWAKEI",
        "HU" => "UNGARN",
        "HR" => "KROATIEN",
        "RO" => "RUMÄNIEN",
        "US" => "VEREINIGTE STAATEN",
        other => return other.to_string(),
    };
    name.to_string()
}

/// Address lines for display in the review window: name, street and number, addition,
/// postcode and city, country (abroad only). Empty fields are skipped, never blank lines.
pub fn address_lines(p: &Person) -> Vec<String> {
    let a = &p.address;
    let mut lines = Vec::with_capacity(5);
    let name = p.full_name();
    if !name.is_empty() {
        lines.push(name);
    }
    let street = match (a.street.trim(), a.house_number.trim()) {
        ("", "") => String::new(),
        (s, "") => s.to_string(),
        ("", n) => n.to_string(),
        (s, n) => format!("{s} {n}"),
    };
    if !street.is_empty() {
        lines.push(street);
    }
    if !a.extra.trim().is_empty() {
        lines.push(a.extra.trim().to_string());
    }
    let city = match (a.postcode.trim(), a.city.trim()) {
        ("", "") => String::new(),
        (pc, "") => pc.to_string(),
        ("", c) => c.to_string(),
        (pc, c) => format!("{pc} {c}"),
    };
    if !city.is_empty() {
        lines.push(city);
    }
    if !a.is_domestic() {
        lines.push(country_name_de(&a.country));
    }
    lines
}

/// Key for "same address used by several recipients": street, number, postcode, city and
/// country, folded (case, umlauts, whitespace, "str." vs "straße").
pub fn address_key(a: &PostalAddress) -> String {
    use super::search::fold_into;
    let mut key = String::with_capacity(48);
    for part in [&a.street, &a.house_number, &a.extra, &a.postcode, &a.city] {
        fold_into(part.trim(), &mut key);
        key.push('|');
    }
    key.push_str(&if a.is_domestic() {
        "DE".to_string()
    } else {
        a.country.trim().to_ascii_uppercase()
    });
    key.replace("strasse", "str.").replace(' ', "")
}

impl std::fmt::Display for AddressProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_de())
    }
}

impl crate::domain::message::UiMessage for AddressProblem {
    fn key(&self) -> &'static str {
        match self {
            AddressProblem::MissingStreet => "domain.address.missing_street",
            AddressProblem::MissingHouseNumber => "domain.address.missing_house_number",
            AddressProblem::MissingPostcode => "domain.address.missing_postcode",
            AddressProblem::PostcodeNotFiveDigits => "domain.address.postcode_not_five_digits",
            AddressProblem::InvalidPostcode => "domain.address.invalid_postcode",
            AddressProblem::ForeignPostcodeFormat(_) => "domain.address.foreign_postcode_format",
            AddressProblem::MissingCity => "domain.address.missing_city",
            AddressProblem::InvalidCountry => "domain.address.invalid_country",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            AddressProblem::ForeignPostcodeFormat(country) => vec![("country", country.clone())],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(street: &str, no: &str, pc: &str, city: &str, country: &str) -> PostalAddress {
        PostalAddress {
            street: street.into(),
            house_number: no.into(),
            extra: String::new(),
            postcode: pc.into(),
            city: city.into(),
            country: country.into(),
        }
    }

    #[test]
    fn completeness_table() {
        use AddressProblem::*;
        let cases: Vec<(PostalAddress, Vec<AddressProblem>)> = vec![
            (addr("Hauptstraße", "5", "80331", "München", ""), vec![]),
            (addr("Hauptstraße", "5a", "01067", "Dresden", "DE"), vec![]),
            (addr("Hauptstr. 5", "", "80331", "München", ""), vec![]),
            (addr("Am Markt 12-14", "", "80331", "München", ""), vec![]),
            (addr("Postfach 1234", "", "80331", "München", ""), vec![]),
            (
                addr("Hauptstraße", "", "80331", "München", ""),
                vec![MissingHouseNumber],
            ),
            (addr("", "5", "80331", "München", ""), vec![MissingStreet]),
            (
                addr("Hauptstraße", "5", "", "München", ""),
                vec![MissingPostcode],
            ),
            (
                addr("Hauptstraße", "5", "8033", "München", ""),
                vec![PostcodeNotFiveDigits],
            ),
            (
                addr("Hauptstraße", "5", "803311", "München", ""),
                vec![PostcodeNotFiveDigits],
            ),
            (
                addr("Hauptstraße", "5", "8O331", "München", ""),
                vec![PostcodeNotFiveDigits],
            ),
            (
                addr("Hauptstraße", "5", "00123", "München", ""),
                vec![InvalidPostcode],
            ),
            (
                addr("Hauptstraße", "5", "80331", " ", ""),
                vec![MissingCity],
            ),
            (
                addr("", "", "", "", ""),
                vec![MissingStreet, MissingPostcode, MissingCity],
            ),
            // Vienna typed without country: the reason asks for the country.
            (
                addr("Stephansplatz", "1", "1010", "Wien", ""),
                vec![PostcodeNotFiveDigits],
            ),
            (addr("Stephansplatz", "1", "1010", "Wien", "AT"), vec![]),
            (addr("Bahnhofstrasse", "1", "8001", "Zürich", "ch"), vec![]),
            (addr("Damrak", "1", "1012 LG", "Amsterdam", "NL"), vec![]),
            (addr("ul. Długa", "5", "00-238", "Warszawa", "PL"), vec![]),
            (
                addr("Baker Street", "221b", "NW1 6XE", "London", "GB"),
                vec![],
            ),
            (
                addr("Stephansplatz", "1", "10100", "Wien", "AT"),
                vec![ForeignPostcodeFormat("AT".into())],
            ),
            (
                addr("Stephansplatz", "1", "", "Wien", "AT"),
                vec![MissingPostcode],
            ),
            (
                addr("Stephansplatz", "1", "1010", "", "AT"),
                vec![MissingCity],
            ),
            (
                addr("Stephansplatz", "1", "1010", "Wien", "Österreich"),
                vec![InvalidCountry],
            ),
        ];
        for (a, expected) in cases {
            assert_eq!(address_problems(&a), expected, "{a:?}");
            assert_eq!(is_complete(&a), expected.is_empty());
            for p in &expected {
                assert!(!p.message_de().is_empty());
            }
        }
        assert_eq!(
            problems_de(&[MissingStreet, MissingCity]),
            "Straße fehlt, Ort fehlt"
        );
    }

    #[test]
    fn lines_and_keys() {
        let mut p = Person {
            title: "Dr.".into(),
            first_name: "Anna".into(),
            last_name: "Müller".into(),
            address: addr("Hauptstraße", "5", "80331", "München", ""),
            ..Default::default()
        };
        assert_eq!(
            address_lines(&p),
            vec!["Dr. Anna Müller", "Hauptstraße 5", "80331 München"]
        );
        p.address = addr("Stephansplatz", "1", "1010", "Wien", "AT");
        p.address.extra = "Top 3".into();
        assert_eq!(
            address_lines(&p),
            vec![
                "Dr. Anna Müller",
                "Stephansplatz 1",
                "Top 3",
                "1010 Wien",
                "ÖSTERREICH"
            ]
        );
        assert_eq!(
            address_key(&addr("Hauptstraße", "5", "80331", "München", "")),
            address_key(&addr("hauptstr.", " 5", "80331", "Muenchen", "DE"))
        );
        assert_ne!(
            address_key(&addr("Hauptstraße", "5", "80331", "München", "")),
            address_key(&addr("Hauptstraße", "7", "80331", "München", ""))
        );
    }
}
