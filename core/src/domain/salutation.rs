//! The salutation line, by German letter etiquette (DIN 5008 and common usage). The address
//! block is in [`super::address`].
//!
//! Only a doctorate and a professorship are named in a salutation: "Dr." (whatever faculty:
//! "Dr. med.", "Dr.-Ing.", "Dr. h. c.") and "Professor"/"Professorin" written out, which
//! replaces the doctorate ("Prof. Dr. med." → "Herr Professor Meier"). Diploma and other
//! degrees ("Dipl.-Ing.", "M. Sc.") and additions ("PD", "med.") are not named. The address
//! shows the full title.

use super::model::{Gender, Person};
use super::template::Language;
use super::text::push_joined;

/// The part of an academic title that a salutation names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SalutationTitle {
    None,
    /// A doctorate: "Dr." (several doctorates are named once).
    Doctor,
    /// A professorship (with or without doctorate): "Professor" / "Professorin".
    Professor,
}

/// What a salutation names of `title` ("Prof. Dr. med." → professor, "Dr. rer. nat." →
/// doctor, "Dipl.-Psych." → nothing).
pub fn salutation_title(title: &str) -> SalutationTitle {
    // "Prof. Dr." and "Prof.Dr." alike: split at spaces and after each dot.
    let tokens = title
        .split(|c: char| c.is_whitespace() || c == '.')
        .filter(|t| !t.is_empty());
    let ascii_ci = |s: Option<&str>, want: &str| s.is_some_and(|s| s.eq_ignore_ascii_case(want));
    let mut found = SalutationTitle::None;
    for t in tokens {
        let tail = t.len().checked_sub(5).and_then(|i| t.get(i..));
        if ascii_ci(t.get(..4), "prof") || ascii_ci(tail, "-prof") {
            return SalutationTitle::Professor;
        }
        if t.eq_ignore_ascii_case("dr") || ascii_ci(t.get(..3), "dr-") {
            found = SalutationTitle::Doctor;
        }
    }
    found
}

/// The salutation line without the trailing comma: "Sehr geehrte Frau Dr. Müller",
/// "Sehr geehrter Herr Professor Meier", "Sehr geehrter Herr Yılmaz", "Guten Tag Alex Schmidt"
/// (diverse or unknown gender); English: "Dear Ms Müller", "Dear Dr. Müller", "Dear Professor
/// Meier", "Dear Alex Schmidt". Without any name: "Sehr geehrte Damen und Herren" / "Dear Sir
/// or Madam".
pub fn anrede(person: &Person, lang: Language) -> String {
    let mut out = String::with_capacity(40);
    push_anrede(&mut out, person, lang);
    out
}

/// Appends the salutation line ([`anrede`]). The person's own salutation
/// ([`Person::salutation`], e.g. "Liebe Frau Weber"), when not blank, replaces the one by
/// etiquette in every channel and language; a trailing comma typed with it is dropped, since
/// templates write their own.
pub fn push_anrede(out: &mut String, person: &Person, lang: Language) {
    let own = person.salutation.trim().trim_end_matches(',').trim_end();
    if !own.is_empty() {
        out.push_str(own);
        return;
    }
    let first = person.first_name.trim();
    let last = person.last_name.trim();
    if first.is_empty() && last.is_empty() {
        out.push_str(match lang {
            Language::De => "Sehr geehrte Damen und Herren",
            Language::En => "Dear Sir or Madam",
        });
        return;
    }
    let title = salutation_title(&person.title);
    let gender = if last.is_empty() {
        // "Frau Eva" is no salutation: without a last name, greet neutrally.
        Gender::Unknown
    } else {
        person.gender
    };
    match lang {
        Language::De => {
            let (opening, form, prof) = match gender {
                Gender::Female => ("Sehr geehrte", "Frau", "Professorin"),
                Gender::Male => ("Sehr geehrter", "Herr", "Professor"),
                Gender::Diverse | Gender::Unknown => {
                    let t = match title {
                        SalutationTitle::None => "",
                        SalutationTitle::Doctor => "Dr.",
                        SalutationTitle::Professor => "Prof.",
                    };
                    return push_joined(out, &["Guten Tag", t, first, last], " ");
                }
            };
            let t = match title {
                SalutationTitle::None => "",
                SalutationTitle::Doctor => "Dr.",
                SalutationTitle::Professor => prof,
            };
            push_joined(out, &[opening, form, t, last], " ");
        }
        Language::En => {
            let t = match (title, gender) {
                (SalutationTitle::Doctor, _) if !last.is_empty() => "Dr.",
                (SalutationTitle::Professor, _) if !last.is_empty() => "Professor",
                (_, Gender::Female) => "Ms",
                (_, Gender::Male) => "Mr",
                _ => return push_joined(out, &["Dear", first, last], " "),
            };
            push_joined(out, &["Dear", t, last], " ");
        }
    }
}

/// Appends the salutation of a letter or message to a guardian of `child`: by etiquette for
/// the guardian ("Sehr geehrte Frau Weber"), or for a guardian without a name "Liebe Eltern
/// von Tim Weber" / "Dear parents of Tim Weber" (the child's full name: siblings share
/// parents). The child's own salutation and "Du" are not used.
pub fn push_guardian_anrede(
    out: &mut String,
    child: &Person,
    g: &super::model::Guardian,
    lang: Language,
) {
    if !super::guardian::is_unnamed(g) {
        return push_anrede(out, &super::guardian::stand_in(child, g), lang);
    }
    let opening = match lang {
        Language::De => "Liebe Eltern von",
        Language::En => "Dear parents of",
    };
    let (first, last) = (child.first_name.trim(), child.last_name.trim());
    if first.is_empty() && last.is_empty() {
        out.push_str(match lang {
            Language::De => "Liebe Eltern",
            Language::En => "Dear parents",
        });
    } else {
        push_joined(out, &[opening, first, last], " ");
    }
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

    /// The etiquette table: (title, first, last, gender, German, English).
    #[rustfmt::skip]
    const CASES: &[(&str, &str, &str, Gender, &str, &str)] = &[
        ("Dr.", "Anna", "Müller", Gender::Female, "Sehr geehrte Frau Dr. Müller", "Dear Dr. Müller"),
        ("Dr. med.", "Anna", "Müller", Gender::Female, "Sehr geehrte Frau Dr. Müller", "Dear Dr. Müller"),
        ("Dr. med. dent.", "Mehmet", "Yılmaz", Gender::Male, "Sehr geehrter Herr Dr. Yılmaz", "Dear Dr. Yılmaz"),
        ("Dr.-Ing.", "Jonas", "Weber", Gender::Male, "Sehr geehrter Herr Dr. Weber", "Dear Dr. Weber"),
        ("Dr. rer. nat.", "Eva", "Schulz", Gender::Female, "Sehr geehrte Frau Dr. Schulz", "Dear Dr. Schulz"),
        ("Dr. h. c.", "Jonas", "Weber", Gender::Male, "Sehr geehrter Herr Dr. Weber", "Dear Dr. Weber"),
        ("Dr. Dr.", "Jonas", "Weber", Gender::Male, "Sehr geehrter Herr Dr. Weber", "Dear Dr. Weber"),
        ("PD Dr. med.", "Eva", "Schulz", Gender::Female, "Sehr geehrte Frau Dr. Schulz", "Dear Dr. Schulz"),
        ("Prof. Dr.", "Klaus", "Meier", Gender::Male, "Sehr geehrter Herr Professor Meier", "Dear Professor Meier"),
        ("Prof. Dr. med.", "Klaus", "Meier", Gender::Male, "Sehr geehrter Herr Professor Meier", "Dear Professor Meier"),
        ("Prof.Dr.", "Klaus", "Meier", Gender::Male, "Sehr geehrter Herr Professor Meier", "Dear Professor Meier"),
        ("Prof.", "Eva", "Schulz", Gender::Female, "Sehr geehrte Frau Professorin Schulz", "Dear Professor Schulz"),
        ("Prof. Dr.-Ing.", "Eva", "Schulz", Gender::Female, "Sehr geehrte Frau Professorin Schulz", "Dear Professor Schulz"),
        ("Dipl.-Ing.", "Klaus", "Meier", Gender::Male, "Sehr geehrter Herr Meier", "Dear Mr Meier"),
        ("Dipl.-Psych.", "Eva", "Schulz", Gender::Female, "Sehr geehrte Frau Schulz", "Dear Ms Schulz"),
        ("M. Sc.", "Eva", "Schulz", Gender::Female, "Sehr geehrte Frau Schulz", "Dear Ms Schulz"),
        ("Dipl.-Kfm. Dr.", "Klaus", "Meier", Gender::Male, "Sehr geehrter Herr Dr. Meier", "Dear Dr. Meier"),
        ("", "Mehmet", "Yılmaz", Gender::Male, "Sehr geehrter Herr Yılmaz", "Dear Mr Yılmaz"),
        ("", "Eva", "Schulz", Gender::Female, "Sehr geehrte Frau Schulz", "Dear Ms Schulz"),
        ("", "Alex", "Schmidt", Gender::Diverse, "Guten Tag Alex Schmidt", "Dear Alex Schmidt"),
        ("", "Kim", "Berg", Gender::Unknown, "Guten Tag Kim Berg", "Dear Kim Berg"),
        ("Dr. med.", "Alex", "Schmidt", Gender::Diverse, "Guten Tag Dr. Alex Schmidt", "Dear Dr. Schmidt"),
        ("Prof. Dr.", "Kim", "Berg", Gender::Unknown, "Guten Tag Prof. Kim Berg", "Dear Professor Berg"),
        ("Dipl.-Ing.", "Kim", "Berg", Gender::Unknown, "Guten Tag Kim Berg", "Dear Kim Berg"),
        ("", "", "", Gender::Female, "Sehr geehrte Damen und Herren", "Dear Sir or Madam"),
        ("Dr.", "", "", Gender::Male, "Sehr geehrte Damen und Herren", "Dear Sir or Madam"),
        ("", "Eva", "", Gender::Female, "Guten Tag Eva", "Dear Eva"),
        ("", "", "Müller", Gender::Female, "Sehr geehrte Frau Müller", "Dear Ms Müller"),
    ];

    #[test]
    fn salutation_by_etiquette() {
        for &(title, first, last, gender, de, en) in CASES {
            let person = p(title, first, last, gender);
            assert_eq!(anrede(&person, Language::De), de, "{title} {first} {last}");
            assert_eq!(anrede(&person, Language::En), en, "{title} {first} {last}");
        }
    }

    #[test]
    fn own_salutation_replaces_etiquette_and_blank_falls_back() {
        let mut person = p("Dr.", "Anna", "Weber", Gender::Female);
        for blank in ["", "   ", " , "] {
            person.salutation = blank.into();
            assert_eq!(anrede(&person, Language::De), "Sehr geehrte Frau Dr. Weber");
            assert_eq!(anrede(&person, Language::En), "Dear Dr. Weber");
        }
        person.salutation = "  Liebe Frau Weber, ".into();
        assert_eq!(anrede(&person, Language::De), "Liebe Frau Weber");
        assert_eq!(anrede(&person, Language::En), "Liebe Frau Weber");
        // Even without any name the practice's own words stand.
        let mut nameless = p("", "", "", Gender::Unknown);
        nameless.salutation = "Hallo Tim".into();
        assert_eq!(anrede(&nameless, Language::De), "Hallo Tim");
    }

    #[test]
    fn titles() {
        use SalutationTitle::*;
        for (title, want) in [
            ("", None),
            ("Dr.", Doctor),
            ("dr. med.", Doctor),
            ("Drs.", None),
            ("Prof.", Professor),
            ("Hon.-Prof. Dr.", Professor),
            ("apl. Prof. Dr.", Professor),
            ("Professorin", Professor),
            ("Dipl.-Ing. (FH)", None),
            ("MBA", None),
        ] {
            assert_eq!(salutation_title(title), want, "{title}");
        }
    }
}
