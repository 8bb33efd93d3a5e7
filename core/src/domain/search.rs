//! Umlaut- and accent-insensitive text search over persons.
//!
//! Both the haystack and the query go through the same [`fold`] — the one text fold of
//! praxisbote (search, query conditions on tags and cities, address keys): lower case,
//! diacritics removed (ü → u, é → e, ł → l, ı → i), ß → ss, control characters and combining
//! marks dropped, whitespace collapsed, and the German transliterations "ae", "oe", "ue"
//! collapsed to a, o, u. So "muller", "mueller" and "Müller" all fold to
//! "muller", and "weiss" finds "Weiß". Because the same function folds both sides, the
//! collapse of "ue" in words like "Samuel" is harmless ("samuel" → "samul" on both sides).
//!
//! For speed, [`SearchKey::of`] precomputes the folded haystack of a person once (UI or
//! storage can cache it next to the record); [`TextQuery::parse`] prepares a query once.
//! Matching is then plain substring search over short ASCII strings.

use super::model::{Person, PersonRecord};
use super::phone::parse_phone;

/// Maps one character to its folded form. Returns `None` for characters that are kept as
/// lower case themselves.
fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å'
        | 'Ā' | 'Ă' | 'Ą' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' | 'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "c",
        'ď' | 'đ' | 'Ď' | 'Đ' | 'ð' | 'Ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ'
        | 'Ė' | 'Ę' | 'Ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' | 'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "g",
        'ĥ' | 'ħ' | 'Ĥ' | 'Ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī'
        | 'Ĭ' | 'Į' | 'İ' => "i",
        'ĵ' | 'Ĵ' => "j",
        'ķ' | 'Ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' | 'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'Ñ' | 'Ń' | 'Ņ' | 'Ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø'
        | 'Ō' | 'Ŏ' | 'Ő' => "o",
        'œ' | 'Œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' | 'Ŕ' | 'Ŗ' | 'Ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'Ś' | 'Ŝ' | 'Ş' | 'Š' | 'Ș' => "s",
        'ß' | 'ẞ' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' | 'Ţ' | 'Ť' | 'Ŧ' | 'Ț' => "t",
        'þ' | 'Þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ'
        | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "u",
        'ŵ' | 'Ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' | 'Ý' | 'Ÿ' | 'Ŷ' => "y",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
        _ => return None,
    })
}

/// Combining diacritical marks (U+0300–U+036F): dropped, so decomposed text ("e" + U+0301)
/// folds like precomposed text ("é").
fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036f}').contains(&c)
}

/// Appends the folded form of `s` to `out` (see the module documentation). Whitespace runs
/// become one space; leading whitespace is dropped; control characters and combining marks
/// are dropped.
pub fn fold_into(s: &str, out: &mut String) {
    let push = |out: &mut String, c: char| {
        if c == 'e' && matches!(out.as_bytes().last(), Some(b'a' | b'o' | b'u')) {
            return; // "ae" → a, "oe" → o, "ue" → u
        }
        if c == ' ' && matches!(out.as_bytes().last(), None | Some(b' ')) {
            return;
        }
        out.push(c);
    };
    for c in s.chars() {
        if c.is_whitespace() {
            push(out, ' ');
        } else if c.is_control() || is_combining_mark(c) {
            // dropped
        } else if c.is_ascii() {
            push(out, c.to_ascii_lowercase());
        } else if let Some(f) = fold_char(c) {
            for fc in f.chars() {
                push(out, fc);
            }
        } else {
            for lc in c.to_lowercase() {
                // Lower-casing may produce a combining mark ("İ" → "i" + U+0307).
                if !is_combining_mark(lc) {
                    push(out, lc);
                }
            }
        }
    }
}

/// The folded form of `s`: "Müller" → "muller", "Weiß" → "weiss", "Yılmaz" → "yilmaz".
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether two strings are equal after folding (for city and tag comparisons).
pub fn folded_eq(a: &str, b: &str) -> bool {
    fold(a.trim()) == fold(b.trim())
}

/// The precomputed, folded haystack of one person. Cheap to keep next to each record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchKey {
    /// Folded name, city, postcode and e-mail, separated by `|`.
    pub text: String,
    /// Phone digits: as entered, national form and international form, separated by `|`.
    pub digits: String,
}

impl SearchKey {
    pub fn of(record: &PersonRecord) -> SearchKey {
        SearchKey::of_person(&record.person)
    }

    pub fn of_person(p: &Person) -> SearchKey {
        let mut text = String::with_capacity(64);
        for part in [
            &p.title,
            &p.first_name,
            &p.last_name,
            &p.address.city,
            &p.address.postcode,
            &p.email,
        ] {
            fold_into(part, &mut text);
            text.push('|');
        }
        let mut digits = String::new();
        for phone in [&p.mobile, &p.landline] {
            if phone.trim().is_empty() {
                continue;
            }
            digits.extend(phone.chars().filter(|c| c.is_ascii_digit()));
            digits.push('|');
            if let Ok(n) = parse_phone(phone) {
                digits.push_str(&n.national_digits());
                digits.push('|');
                digits.push_str(&n.country_code.to_string());
                digits.push_str(&n.nsn);
                digits.push('|');
            }
        }
        SearchKey { text, digits }
    }
}

/// A prepared search query: folded tokens that must all occur (AND).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextQuery {
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// Folded text; a token of digits also matches phone digits.
    Text { folded: String, digits: bool },
    /// The whole query looked like a phone number: its digits (without 00 / + / (0)).
    Phone(String),
}

fn looks_like_phone(q: &str) -> bool {
    let digit_count = q.chars().filter(|c| c.is_ascii_digit()).count();
    digit_count >= 6
        && q.chars()
            .all(|c| c.is_ascii_digit() || " +/-()".contains(c))
}

impl TextQuery {
    pub fn parse(query: &str) -> TextQuery {
        let q = query.trim();
        if looks_like_phone(q) {
            let cleaned = q.replace("(0)", "");
            let mut digits: String = cleaned.chars().filter(|c| c.is_ascii_digit()).collect();
            if cleaned.trim_start().starts_with('+') {
                // already without 00
            } else if let Some(rest) = digits.strip_prefix("00") {
                digits = rest.to_string();
            }
            // A phone-like query may also be a postcode list or a plain number in the text.
            return TextQuery {
                tokens: vec![Token::Phone(digits)],
            };
        }
        let tokens = q
            .split_whitespace()
            .map(|t| {
                let folded = fold(t);
                let digits = !folded.is_empty() && folded.bytes().all(|b| b.is_ascii_digit());
                Token::Text { folded, digits }
            })
            .filter(|t| !matches!(t, Token::Text { folded, .. } if folded.is_empty()))
            .collect();
        TextQuery { tokens }
    }

    /// An empty query matches everything.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn matches(&self, key: &SearchKey) -> bool {
        self.tokens.iter().all(|t| match t {
            Token::Text { folded, digits } => {
                key.text.contains(folded.as_str()) || (*digits && key.digits.contains(folded))
            }
            Token::Phone(d) => key.digits.contains(d.as_str()) || key.text.contains(d.as_str()),
        })
    }

    /// Indices of the keys that match, in order.
    pub fn filter(&self, keys: &[SearchKey]) -> Vec<usize> {
        keys.iter()
            .enumerate()
            .filter(|(_, k)| self.matches(k))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Convenience (slow path, builds the key): does the record match the query?
pub fn matches_text(record: &PersonRecord, query: &str) -> bool {
    TextQuery::parse(query).matches(&SearchKey::of(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Person, PersonRecord, PostalAddress};

    #[test]
    fn folding_table() {
        for (input, folded) in [
            ("Müller", "muller"),
            ("Mueller", "muller"),
            ("MÜLLER", "muller"),
            ("Weiß", "weiss"),
            ("Weiss", "weiss"),
            ("Yılmaz", "yilmaz"),
            ("YILMAZ", "yilmaz"),
            ("Łukasz Wałęsa", "lukasz walesa"),
            ("Renée", "renee"),
            ("José Núñez", "jose nunez"),
            ("Øystein Ærø", "oystein aro"),
            ("Dvořák", "dvorak"),
            ("Şahin Çelik", "sahin celik"),
            ("Goethe", "gothe"),
            ("Göthe", "gothe"),
            ("  Bad   Tölz ", "bad tolz"),
            ("Straße", "strasse"),
            ("Ñandú", "nandu"),
            // Formerly folded differently by the storage keys: now one fold for all.
            ("Ἀλέξανδρος", "ἀλέξανδρος"),
            ("İlker", "ilker"),
            ("Zoë\u{7}", "zo"),
            ("Ze\u{301}ynep", "zeynep"),
            ("Æsir Œuvre", "asir ouvre"),
            ("Öztürk-Şahin", "ozturk-sahin"),
            ("a\tb\u{a0}\u{2003}c", "a b c"),
            ("", ""),
        ] {
            assert_eq!(fold(input), folded, "{input}");
        }
        assert!(folded_eq(" München", "MUENCHEN"));
        assert!(!folded_eq("München", "Münster"));
    }

    fn rec(
        first: &str,
        last: &str,
        city: &str,
        postcode: &str,
        email: &str,
        mobile: &str,
    ) -> PersonRecord {
        PersonRecord {
            person: Person {
                first_name: first.into(),
                last_name: last.into(),
                email: email.into(),
                mobile: mobile.into(),
                address: PostalAddress {
                    city: city.into(),
                    postcode: postcode.into(),
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn matching_table() {
        let mueller = rec(
            "Anna",
            "Müller",
            "München",
            "80331",
            "anna.m@web.de",
            "0171 1234567",
        );
        let weiss = rec("Jörg", "Weiß", "Köln", "50667", "", "+49 (0)160 9876543");
        let yilmaz = rec(
            "Ayşe",
            "Yılmaz",
            "Düsseldorf",
            "40210",
            "ayse@example.com",
            "",
        );
        let walesa = rec("Łukasz", "Wałęsa", "Łódź", "", "", "+48 512 345 678");
        let cases: &[(&PersonRecord, &str, bool)] = &[
            (&mueller, "muller", true),
            (&mueller, "mueller", true),
            (&mueller, "Müller", true),
            (&mueller, "MUELLER anna", true),
            (&mueller, "anna muller", true),
            (&mueller, "muenchen", true),
            (&mueller, "munchen", true),
            (&mueller, "803", true),
            (&mueller, "80331", true),
            (&mueller, "anna.m@web", true),
            (&mueller, "0171 1234567", true),
            (&mueller, "01711234567", true),
            (&mueller, "+49 171 1234567", true),
            (&mueller, "0049171123", true),
            (&mueller, "1234567", true),
            (&mueller, "", true),
            (&mueller, "meier", false),
            (&mueller, "anna weiss", false),
            (&mueller, "0160 9876543", false),
            (&weiss, "weiss", true),
            (&weiss, "weiß", true),
            (&weiss, "joerg", true),
            (&weiss, "jorg weis", true),
            (&weiss, "koeln", true),
            (&weiss, "0160 9876543", true),
            (&weiss, "+4916098", true),
            (&weiss, "wei", true),
            (&weiss, "weiser", false),
            (&yilmaz, "yilmaz", true),
            (&yilmaz, "ayse", true),
            (&yilmaz, "dusseldorf", true),
            (&yilmaz, "duesseldorf", true),
            (&yilmaz, "example.com", true),
            (&yilmaz, "yillmaz", false),
            (&walesa, "lukasz", true),
            (&walesa, "walesa", true),
            (&walesa, "lodz", true),
            (&walesa, "512 345 678", true),
            (&walesa, "48512345678", true),
        ];
        for (r, q, expected) in cases {
            assert_eq!(
                matches_text(r, q),
                *expected,
                "{q:?} on {}",
                r.person.last_name
            );
        }
    }

    /// Property over generated persons: every person is found by their own name as typed,
    /// in German transliteration (ü → ue, ß → ss), and in its folded form; fold is idempotent.
    #[test]
    fn every_person_finds_itself_in_any_spelling() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let data = crate::domain::demo::generate_large(500, 3, today);
        let translit = |s: &str| {
            s.replace('ä', "ae")
                .replace('ö', "oe")
                .replace('ü', "ue")
                .replace('Ä', "Ae")
                .replace('Ö', "Oe")
                .replace('Ü', "Ue")
                .replace('ß', "ss")
        };
        for r in &data.persons {
            let key = SearchKey::of(r);
            let p = &r.person;
            for q in [
                p.last_name.clone(),
                p.last_name.to_uppercase(),
                translit(&p.last_name),
                fold(&p.last_name),
                format!("{} {}", p.first_name, p.last_name),
                translit(&p.address.city),
            ] {
                assert!(
                    TextQuery::parse(&q).matches(&key),
                    "{q:?} does not find {p:?}"
                );
                assert_eq!(fold(&fold(&q)), fold(&q), "fold not idempotent on {q:?}");
            }
        }
    }

    #[test]
    fn filter_returns_matching_indices_in_order() {
        let keys: Vec<SearchKey> = [
            rec("Anna", "Müller", "Berlin", "10115", "", ""),
            rec("Ben", "Schmidt", "Berlin", "10117", "", ""),
            rec("Clara", "Mueller", "Hamburg", "20095", "", ""),
        ]
        .iter()
        .map(SearchKey::of)
        .collect();
        assert_eq!(TextQuery::parse("müller").filter(&keys), vec![0, 2]);
        assert_eq!(TextQuery::parse("berlin").filter(&keys), vec![0, 1]);
        assert_eq!(TextQuery::parse("  ").filter(&keys), vec![0, 1, 2]);
        assert!(TextQuery::parse(" ").is_empty());
    }
}
