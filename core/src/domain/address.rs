//! Postal addresses: the one formatter of every address line (the DIN 5008 recipient block a
//! letter prints and the review shows, the practice's one-line address, the letterhead and
//! footer lines), completeness checks, and the one country table (names and postcodes).
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

use super::model::{Gender, Person, PostalAddress};

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

/// A country of the address table: its ISO 3166-1 alpha-2 code, its German name in capitals
/// for the last address line (as DIN 5008 recommends), and its postcode patterns (`9` a digit,
/// `A` a letter; empty: not checked).
struct Country {
    code: &'static str,
    name_de: &'static str,
    postcodes: &'static [&'static str],
}

const fn c(
    code: &'static str,
    name_de: &'static str,
    postcodes: &'static [&'static str],
) -> Country {
    Country {
        code,
        name_de,
        postcodes,
    }
}

/// The one country table.
const COUNTRIES: &[Country] = &[
    c("AT", "ÖSTERREICH", &["9999"]),
    c("CH", "SCHWEIZ", &["9999"]),
    c("LI", "LIECHTENSTEIN", &["9999"]),
    c("BE", "BELGIEN", &["9999"]),
    c("DK", "DÄNEMARK", &["9999"]),
    c("LU", "LUXEMBURG", &["9999", "L-9999"]),
    c("HU", "UNGARN", &["9999"]),
    c("NO", "NORWEGEN", &["9999"]),
    c("FR", "FRANKREICH", &["99999"]),
    c("IT", "ITALIEN", &["99999"]),
    c("ES", "SPANIEN", &["99999"]),
    c("FI", "FINNLAND", &["99999"]),
    c("GR", "GRIECHENLAND", &["99999", "999 99"]),
    c("TR", "TÜRKEI", &["99999"]),
    c("HR", "KROATIEN", &["99999"]),
    c("PL", "POLEN", &["99-999"]),
    c("NL", "NIEDERLANDE", &["9999 AA", "9999AA"]),
    c("CZ", "TSCHECHIEN", &["999 99", "99999"]),
    c("SK", "SLOWAKEI", &["999 99", "99999"]),
    c("SE", "SCHWEDEN", &["999 99", "99999"]),
    c("PT", "PORTUGAL", &["9999-999"]),
    c("GB", "VEREINIGTES KÖNIGREICH", &[]),
    c("IE", "IRLAND", &[]),
    c("RO", "RUMÄNIEN", &[]),
    c("BG", "BULGARIEN", &[]),
    c("SI", "SLOWENIEN", &[]),
    c("US", "VEREINIGTE STAATEN", &[]),
    c("CA", "KANADA", &[]),
];

fn country(code: &str) -> Option<&'static Country> {
    let code = code.trim().to_ascii_uppercase();
    let code = if code == "UK" { "GB" } else { code.as_str() };
    COUNTRIES.iter().find(|c| c.code == code)
}

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
    let country_code = a.country.trim();
    if a.is_domestic() {
        if postcode.is_empty() {
            problems.push(AddressProblem::MissingPostcode);
        } else if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(AddressProblem::PostcodeNotFiveDigits);
        } else if !("01001"..="99998").contains(&postcode) {
            problems.push(AddressProblem::InvalidPostcode);
        }
    } else if country_code.len() != 2 || !country_code.bytes().all(|b| b.is_ascii_alphabetic()) {
        problems.push(AddressProblem::InvalidCountry);
    } else {
        if let Some(c) = country(country_code).filter(|c| !c.postcodes.is_empty()) {
            if postcode.is_empty() {
                problems.push(AddressProblem::MissingPostcode);
            } else if !c.postcodes.iter().any(|p| matches_pattern(postcode, p)) {
                problems.push(AddressProblem::ForeignPostcodeFormat(c.code.to_string()));
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

/// German name of a country (ISO 3166-1 alpha-2) in capitals for the last address line; an
/// unknown code is shown as it is (upper case).
pub fn country_name_de(code: &str) -> String {
    country(code).map_or_else(
        || code.trim().to_ascii_uppercase(),
        |c| c.name_de.to_string(),
    )
}

/// Words joined by single spaces, empty parts skipped.
fn words(parts: &[&str]) -> String {
    let mut out = String::new();
    for w in parts.iter().flat_map(|p| p.split_whitespace()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// "Lindenstraße 12" (street and house number).
pub fn street_line(a: &PostalAddress) -> String {
    words(&[&a.street, &a.house_number])
}

/// "10115 Berlin" (postcode and city).
pub fn city_line(a: &PostalAddress) -> String {
    words(&[&a.postcode, &a.city])
}

/// An address on one line: "Lindenstraße 1, 10115 Berlin" (the country added abroad).
pub fn one_line(a: &PostalAddress) -> String {
    let country = if a.is_domestic() || a.country.trim().is_empty() {
        String::new()
    } else {
        country_name_de(&a.country)
    };
    [street_line(a), city_line(a), country]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The DIN 5008 recipient block — what a letter prints in its address field and what the
/// review shows: "Frau" / "Herrn" (none for diverse or unknown gender), title and name, an
/// addressee addition starting with "c/o" before the street, street and number, any other
/// addition, postcode and city, and the country in capitals abroad. No blank lines; at most 6
/// lines (the form-of-address line is merged into the name line when a 7th would be needed).
pub fn address_block(person: &Person) -> Vec<String> {
    let form = match person.gender {
        Gender::Female => "Frau",
        Gender::Male => "Herrn",
        Gender::Diverse | Gender::Unknown => "",
    };
    let name = person.full_name();
    let a = &person.address;
    let extra = words(&[&a.extra]);
    let extra_before = extra.to_lowercase().starts_with("c/o");
    let mut rest: Vec<String> = Vec::with_capacity(5);
    let mut push = |s: String| {
        if !s.is_empty() {
            rest.push(s);
        }
    };
    if extra_before {
        push(extra.clone());
    }
    push(street_line(a));
    if !extra_before {
        push(extra);
    }
    push(city_line(a));
    if !a.is_domestic() {
        push(country_name_de(&a.country));
    }
    let mut lines = Vec::with_capacity(6);
    if name.is_empty() {
        // No name: a lone "Frau"/"Herrn" line would be wrong.
    } else if !form.is_empty() && 2 + rest.len() <= 6 {
        lines.push(form.to_string());
        lines.push(name);
    } else {
        lines.push(words(&[form, &name]));
    }
    lines.extend(rest);
    lines.truncate(6);
    lines
}

/// The recipient block of a letter to a guardian of `child` (DIN 5008: the guardian is the
/// recipient): the guardian's name block over their address ([`address_block`] of the
/// stand-in), or — for a guardian without a name — "An die Eltern von" and the child's name
/// over the address. At most 6 lines.
pub fn guardian_address_block(child: &Person, g: &super::model::Guardian) -> Vec<String> {
    let to = super::guardian::stand_in(child, g);
    if !super::guardian::is_unnamed(g) {
        return address_block(&to);
    }
    let mut lines = vec!["An die Eltern von".to_string()];
    let child_name = words(&[&child.first_name, &child.last_name]);
    if !child_name.is_empty() {
        lines.push(child_name);
    }
    lines.extend(address_block(&to));
    lines.truncate(6);
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

    fn person(title: &str, first: &str, last: &str, gender: Gender) -> Person {
        Person {
            title: title.into(),
            first_name: first.into(),
            last_name: last.into(),
            gender,
            ..Default::default()
        }
    }

    fn addr_x(street: &str, no: &str, extra: &str, pc: &str, city: &str, c: &str) -> PostalAddress {
        PostalAddress {
            extra: extra.into(),
            ..addr(street, no, pc, city, c)
        }
    }

    #[test]
    fn address_block_table() {
        let mut anna = person("Dr. med.", "Anna", "Müller", Gender::Female);
        anna.address = addr_x("Lindenstraße", "12", "", "10115", "Berlin", "");
        let mut mehmet = person("", "Mehmet", "Yılmaz", Gender::Male);
        mehmet.address = addr_x("Hauptstr.", "3a", "Hinterhaus", "80331", "München", "DE");
        let mut alex = person("", "Alex", "Schmidt", Gender::Diverse);
        alex.address = addr_x("Bahnhofstrasse", "7", "", "8001", "Zürich", "ch");
        let mut eva = person("", "Eva", "Schulz", Gender::Female);
        eva.address = addr_x("Ring", "1", "c/o Becker", "1010", "Wien", "AT");
        let mut crowded = person("Prof. Dr.", "Klaus", "Meier", Gender::Male);
        crowded.address = addr_x("  Am  Ring ", "1", "c/o Becker", "1010", "Wien", "uk");
        let mut nameless = person("", "", "", Gender::Female);
        nameless.address = addr_x("Ring", "1", "", "1010", "Wien", "AT");
        let cases: Vec<(Person, Vec<&str>)> = vec![
            (
                anna,
                vec![
                    "Frau",
                    "Dr. med. Anna Müller",
                    "Lindenstraße 12",
                    "10115 Berlin",
                ],
            ),
            (
                mehmet,
                vec![
                    "Herrn",
                    "Mehmet Yılmaz",
                    "Hauptstr. 3a",
                    "Hinterhaus",
                    "80331 München",
                ],
            ),
            (
                alex,
                vec!["Alex Schmidt", "Bahnhofstrasse 7", "8001 Zürich", "SCHWEIZ"],
            ),
            (
                eva,
                vec![
                    "Frau",
                    "Eva Schulz",
                    "c/o Becker",
                    "Ring 1",
                    "1010 Wien",
                    "ÖSTERREICH",
                ],
            ),
            // Full title in the address, six lines at most.
            (
                crowded,
                vec![
                    "Herrn",
                    "Prof. Dr. Klaus Meier",
                    "c/o Becker",
                    "Am Ring 1",
                    "1010 Wien",
                    "VEREINIGTES KÖNIGREICH",
                ],
            ),
            // No name: no lone "Frau" line.
            (nameless, vec!["Ring 1", "1010 Wien", "ÖSTERREICH"]),
        ];
        for (p, expected) in cases {
            let block = address_block(&p);
            assert_eq!(block, expected);
            assert!(block.len() <= 6);
            assert!(block.iter().all(|l| !l.trim().is_empty()));
        }
    }

    #[test]
    fn one_line_and_parts() {
        let a = addr("Lindenstraße ", " 1", "10115", "Berlin", "");
        assert_eq!(street_line(&a), "Lindenstraße 1");
        assert_eq!(city_line(&a), "10115 Berlin");
        assert_eq!(one_line(&a), "Lindenstraße 1, 10115 Berlin");
        assert_eq!(
            one_line(&addr("Stephansplatz", "1", "1010", "Wien", "AT")),
            "Stephansplatz 1, 1010 Wien, ÖSTERREICH"
        );
        assert_eq!(one_line(&addr("", "", "", "Berlin", "")), "Berlin");
        assert_eq!(one_line(&PostalAddress::default()), "");
        assert_eq!(country_name_de("xx"), "XX");
        assert_eq!(country_name_de(" gb "), "VEREINIGTES KÖNIGREICH");
    }

    #[test]
    fn keys() {
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
