//! Salutation lines and the DIN 5008 recipient address block.

use super::model::{Gender, Person, PostalAddress};
use super::template::Language;

/// The salutation line without the trailing comma, per DIN 5008 conventions:
/// "Sehr geehrte Frau Dr. Müller", "Sehr geehrter Herr Yılmaz", "Guten Tag Alex Schmidt"
/// (diverse or unknown gender); English: "Dear Ms Müller", "Dear Dr. Müller", "Dear Alex
/// Schmidt". Without any name: "Sehr geehrte Damen und Herren" / "Dear Sir or Madam".
pub fn anrede(person: &Person, lang: Language) -> String {
    let title = person.title.trim();
    let last = person.last_name.trim();
    let full = person.full_name();
    if full.is_empty() {
        return match lang {
            Language::De => "Sehr geehrte Damen und Herren".into(),
            Language::En => "Dear Sir or Madam".into(),
        };
    }
    let with_title = |name: &str| {
        if title.is_empty() {
            name.to_string()
        } else {
            format!("{title} {name}")
        }
    };
    match (lang, person.gender) {
        (Language::De, Gender::Female) if !last.is_empty() => {
            format!("Sehr geehrte Frau {}", with_title(last))
        }
        (Language::De, Gender::Male) if !last.is_empty() => {
            format!("Sehr geehrter Herr {}", with_title(last))
        }
        (Language::De, _) => format!("Guten Tag {full}"),
        // English: an academic title replaces Ms/Mr ("Dear Dr. Müller").
        (Language::En, Gender::Female | Gender::Male) if !last.is_empty() && !title.is_empty() => {
            format!("Dear {title} {last}")
        }
        (Language::En, Gender::Female) if !last.is_empty() => format!("Dear Ms {last}"),
        (Language::En, Gender::Male) if !last.is_empty() => format!("Dear Mr {last}"),
        (Language::En, _) => format!("Dear {full}"),
    }
}

/// German name of a country (ISO 3166-1 alpha-2) in capitals, for the last address line.
pub fn country_line(code: &str) -> String {
    let code = code.trim().to_ascii_uppercase();
    let name = match code.as_str() {
        "AT" => "ÖSTERREICH",
        "CH" => "SCHWEIZ",
        "LI" => "LIECHTENSTEIN",
        "NL" => "NIEDERLANDE",
        "BE" => "BELGIEN",
        "LU" => "LUXEMBURG",
        "FR" => "FRANKREICH",
        "DK" => "DÄNEMARK",
        "PL" => "POLEN",
        "CZ" => "TSCHECHIEN",
        "IT" => "ITALIEN",
        "ES" => "SPANIEN",
        "PT" => "PORTUGAL",
        "GB" | "UK" => "VEREINIGTES KÖNIGREICH",
        "IE" => "IRLAND",
        "SE" => "SCHWEDEN",
        "NO" => "NORWEGEN",
        "FI" => "FINNLAND",
        "GR" => "GRIECHENLAND",
        "TR" => "TÜRKEI",
        "HR" => "KROATIEN",
        "HU" => "UNGARN",
        "RO" => "RUMÄNIEN",
        "BG" => "BULGARIEN",
        "SI" => "SLOWENIEN",
        "SK" => "SLOWAKEI",
        "US" => "VEREINIGTE STAATEN",
        "CA" => "KANADA",
        _ => return code,
    };
    name.to_string()
}

fn push_nonempty(lines: &mut Vec<String>, s: String) {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if !s.is_empty() {
        lines.push(s);
    }
}

/// The DIN 5008 recipient lines of a letter: "Frau" / "Herrn" (none for diverse or unknown
/// gender), title and name, an addressee addition starting with "c/o" before the street,
/// street and number, any other addition, postcode and city, and the country in capitals for
/// foreign addresses. No blank lines; at most 6 lines (the form-of-address line is merged into
/// the name line when a 7th line would be needed).
pub fn address_block(person: &Person) -> Vec<String> {
    let mut lines = Vec::new();
    let form = match person.gender {
        Gender::Female => "Frau",
        Gender::Male => "Herrn",
        Gender::Diverse | Gender::Unknown => "",
    };
    let name = person.full_name();
    let addr: &PostalAddress = &person.address;
    let extra = addr.extra.trim();
    let extra_before = extra.to_lowercase().starts_with("c/o");
    let mut rest = Vec::new();
    if extra_before {
        push_nonempty(&mut rest, extra.to_string());
    }
    push_nonempty(
        &mut rest,
        format!("{} {}", addr.street.trim(), addr.house_number.trim()),
    );
    if !extra_before {
        push_nonempty(&mut rest, extra.to_string());
    }
    push_nonempty(
        &mut rest,
        format!("{} {}", addr.postcode.trim(), addr.city.trim()),
    );
    if !addr.is_domestic() {
        push_nonempty(&mut rest, country_line(&addr.country));
    }
    if name.is_empty() {
        // No name: a lone "Frau"/"Herrn" line would be wrong.
    } else if !form.is_empty() && 2 + rest.len() <= 6 {
        lines.push(form.to_string());
        push_nonempty(&mut lines, name);
    } else {
        push_nonempty(&mut lines, format!("{form} {name}"));
    }
    lines.extend(rest);
    lines.truncate(6);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(title: &str, first: &str, last: &str, gender: Gender) -> Person {
        Person {
            title: title.into(),
            first_name: first.into(),
            last_name: last.into(),
            gender,
            ..Default::default()
        }
    }

    #[test]
    fn anrede_table() {
        let cases = [
            (
                p("Dr.", "Anna", "Müller", Gender::Female),
                "Sehr geehrte Frau Dr. Müller",
                "Dear Dr. Müller",
            ),
            (
                p("", "Mehmet", "Yılmaz", Gender::Male),
                "Sehr geehrter Herr Yılmaz",
                "Dear Mr Yılmaz",
            ),
            (
                p("", "Alex", "Schmidt", Gender::Diverse),
                "Guten Tag Alex Schmidt",
                "Dear Alex Schmidt",
            ),
            (
                p("", "Kim", "Berg", Gender::Unknown),
                "Guten Tag Kim Berg",
                "Dear Kim Berg",
            ),
            (
                p("Prof. Dr.", "Klaus", "Meier", Gender::Male),
                "Sehr geehrter Herr Prof. Dr. Meier",
                "Dear Prof. Dr. Meier",
            ),
            (
                p("", "Eva", "Schulz", Gender::Female),
                "Sehr geehrte Frau Schulz",
                "Dear Ms Schulz",
            ),
            (
                p("", "", "", Gender::Female),
                "Sehr geehrte Damen und Herren",
                "Dear Sir or Madam",
            ),
            (
                p("", "Eva", "", Gender::Female),
                "Guten Tag Eva",
                "Dear Eva",
            ),
        ];
        for (person, de, en) in cases {
            assert_eq!(anrede(&person, Language::De), de);
            assert_eq!(anrede(&person, Language::En), en);
        }
    }

    fn addr(street: &str, no: &str, extra: &str, pc: &str, city: &str, c: &str) -> PostalAddress {
        PostalAddress {
            street: street.into(),
            house_number: no.into(),
            extra: extra.into(),
            postcode: pc.into(),
            city: city.into(),
            country: c.into(),
        }
    }

    #[test]
    fn address_block_table() {
        let mut anna = p("Dr.", "Anna", "Müller", Gender::Female);
        anna.address = addr("Lindenstraße", "12", "", "10115", "Berlin", "");
        let mut mehmet = p("", "Mehmet", "Yılmaz", Gender::Male);
        mehmet.address = addr("Hauptstr.", "3a", "Hinterhaus", "80331", "München", "DE");
        let mut alex = p("", "Alex", "Schmidt", Gender::Diverse);
        alex.address = addr("Bahnhofstrasse", "7", "", "8001", "Zürich", "ch");
        let mut full = p("", "Eva", "Schulz", Gender::Female);
        full.address = addr("Ring", "1", "c/o Becker", "1010", "Wien", "AT");
        let cases: Vec<(Person, Vec<&str>)> = vec![
            (
                anna,
                vec!["Frau", "Dr. Anna Müller", "Lindenstraße 12", "10115 Berlin"],
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
                full,
                vec![
                    "Frau",
                    "Eva Schulz",
                    "c/o Becker",
                    "Ring 1",
                    "1010 Wien",
                    "ÖSTERREICH",
                ],
            ),
        ];
        for (person, expected) in cases {
            let block = address_block(&person);
            assert_eq!(block, expected);
            assert!(block.len() <= 6);
            assert!(block.iter().all(|l| !l.trim().is_empty()));
        }
    }

    #[test]
    fn no_form_line_without_a_name() {
        let mut x = p("", "", "", Gender::Female);
        x.address = addr("Ring", "1", "", "1010", "Wien", "AT");
        assert_eq!(address_block(&x), vec!["Ring 1", "1010 Wien", "ÖSTERREICH"]);
    }
}
