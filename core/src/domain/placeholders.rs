//! The placeholder catalogue per channel and the leak-proof context builder.
//!
//! Privacy invariant: the context is built from a [`Person`] (never a `PersonRecord` or
//! `Sensitive`), and only the values the channel may use are put into it. Whatever a template
//! does at render time, it cannot reach anything else.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};
use minijinja::Value;
use serde::Serialize;

use super::model::{Appointment, Channel, Person, PostalAddress, PracticeSettings};
use super::salutation::{address_block, anrede};
use super::template::Language;

/// One placeholder the composer palette offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlaceholderInfo {
    /// Dotted name as written in templates (`termin.datum`).
    pub name: &'static str,
    /// Short German description for the palette.
    pub description: &'static str,
    /// Example output for the palette's tooltip.
    pub example: &'static str,
    /// Channels the placeholder exists in.
    pub channels: &'static [Channel],
    /// Only available when the recipients come with appointments.
    pub needs_appointment: bool,
}

impl PlaceholderInfo {
    /// The text the palette inserts at the cursor.
    pub fn insert_text(&self) -> String {
        format!("{{{{ {} }}}}", self.name)
    }
}

const ALL_CH: &[Channel] = &[Channel::Letter, Channel::Sms, Channel::Email];

macro_rules! ph {
    ($name:literal, $desc:literal, $ex:literal, $ch:expr, $appt:literal) => {
        PlaceholderInfo {
            name: $name,
            description: $desc,
            example: $ex,
            channels: $ch,
            needs_appointment: $appt,
        }
    };
}

/// Every placeholder there is. Use [`catalogue`] for what a channel offers.
pub const CATALOGUE: &[PlaceholderInfo] = &[
    ph!(
        "anrede",
        "Vollständige Anrede nach DIN 5008 (ohne Komma)",
        "Sehr geehrte Frau Dr. Müller",
        ALL_CH,
        false
    ),
    ph!("titel", "Akademischer Titel", "Dr.", ALL_CH, false),
    ph!("vorname", "Vorname", "Anna", ALL_CH, false),
    ph!("nachname", "Nachname", "Müller", ALL_CH, false),
    ph!(
        "name",
        "Vollständiger Name mit Titel",
        "Dr. Anna Müller",
        ALL_CH,
        false
    ),
    ph!(
        "praxis.name",
        "Name der Praxis",
        "Praxis Sonnenschein",
        ALL_CH,
        false
    ),
    ph!(
        "praxis.telefon",
        "Telefonnummer der Praxis",
        "030 1234567",
        ALL_CH,
        false
    ),
    ph!(
        "praxis.email",
        "E-Mail-Adresse der Praxis",
        "info@praxis-sonnenschein.de",
        ALL_CH,
        false
    ),
    ph!(
        "praxis.adresse",
        "Anschrift der Praxis in einer Zeile",
        "Lindenstraße 1, 10115 Berlin",
        ALL_CH,
        false
    ),
    ph!(
        "praxis.webseite",
        "Webseite der Praxis",
        "www.praxis-sonnenschein.de",
        ALL_CH,
        false
    ),
    ph!("heute", "Heutiges Datum", "26.11.2026", ALL_CH, false),
    ph!(
        "termin.datum",
        "Datum des Termins",
        "27.11.2026",
        ALL_CH,
        true
    ),
    ph!(
        "termin.wochentag",
        "Wochentag des Termins",
        "Freitag",
        ALL_CH,
        true
    ),
    ph!(
        "termin.uhrzeit",
        "Beginn des Termins",
        "14:30",
        ALL_CH,
        true
    ),
    ph!("termin.ende", "Ende des Termins", "15:00", ALL_CH, true),
    ph!(
        "termin.behandler",
        "Behandelnde Person",
        "Frau Weber",
        ALL_CH,
        true
    ),
    ph!(
        "termin.ort",
        "Ort oder Raum des Termins",
        "Raum 2",
        ALL_CH,
        true
    ),
    ph!(
        "termin.art",
        "Art des Termins",
        "Physiotherapie",
        ALL_CH,
        true
    ),
    ph!(
        "anschrift",
        "Anschriftenfeld des Empfängers (mehrzeilig, nur Brief)",
        "Frau\nDr. Anna Müller\nLindenstraße 12\n10115 Berlin",
        &[Channel::Letter],
        false
    ),
    ph!(
        "abmeldelink",
        "Link zum Abmelden vom Newsletter (nur E-Mail)",
        "https://…/u/TOKEN",
        &[Channel::Email],
        false
    ),
];

/// The placeholders a channel offers, in palette order. Appointment placeholders only when
/// the recipients come with appointments.
pub fn catalogue(channel: Channel, has_appointments: bool) -> Vec<&'static PlaceholderInfo> {
    CATALOGUE
        .iter()
        .filter(|p| p.channels.contains(&channel) && (has_appointments || !p.needs_appointment))
        .collect()
}

/// Looks a dotted placeholder up in the catalogue (any channel).
pub fn lookup(name: &str) -> Option<&'static PlaceholderInfo> {
    CATALOGUE.iter().find(|p| p.name == name)
}

/// Roots of the context ("praxis", "termin") that are objects rather than values.
pub const OBJECT_ROOTS: &[&str] = &["praxis", "termin"];

/// Why a name is never available in a mass message of this channel, in German. `None` for
/// names that are not on the forbidden list (they may still be unknown).
pub fn forbidden_reason(name: &str, channel: Channel) -> Option<String> {
    let root = name.split('.').next().unwrap_or(name).to_lowercase();
    let root = root.as_str();
    let sensitive = |what: &str, verb: &str| {
        format!("{what} {verb} beim Serienversand aus Datenschutzgründen nicht verfügbar.")
    };
    let treatment = |what: &str| {
        format!(
            "{what} gehört zu den Behandlungsdaten und ist beim Serienversand aus \
             Datenschutzgründen nie verfügbar."
        )
    };
    let reason = match root {
        "geburtsdatum" | "geburtstag" | "geburtsjahr" | "geboren" | "alter" | "birthday"
        | "birth_date" | "birthdate" => sensitive("Geburtsdatum", "ist"),
        "beruf" | "profession" | "arbeitgeber" => sensitive("Beruf", "ist"),
        "versicherung"
        | "versicherungsnummer"
        | "versichertennummer"
        | "versicherungsart"
        | "versichertenstatus"
        | "krankenkasse"
        | "kasse"
        | "kostentraeger"
        | "kostenträger"
        | "insurance"
        | "insurance_number" => sensitive("Versicherungsdaten", "sind"),
        "diagnose" | "diagnosen" | "icd" => treatment("Diagnose"),
        "anamnese" => treatment("Anamnese"),
        "therapie" => treatment("Therapie"),
        "befund" | "befunde" => treatment("Befund"),
        "behandlung" | "behandlungen" => treatment("Behandlung"),
        "medikation" | "medikamente" | "rezept" | "verordnung" => treatment("Medikation"),
        "telefon" | "mobil" | "handy" | "mobilnummer" | "festnetz" | "telefonnummer" => {
            match channel {
                Channel::Letter => {
                    "Telefonnummern des Empfängers sind im Brief nicht verfügbar (nur Daten, die \
                     der Versandweg braucht)."
                        .into()
                }
                _ => "Telefonnummern des Empfängers sind in Vorlagen aus Datenschutzgründen \
                      nicht verfügbar."
                    .into(),
            }
        }
        "email" | "e_mail" | "mail" | "emailadresse" => match channel {
            Channel::Letter => "Die E-Mail-Adresse des Empfängers ist im Brief nicht verfügbar \
                                (nur Daten, die der Versandweg braucht)."
                .into(),
            _ => "Die E-Mail-Adresse des Empfängers ist in Vorlagen aus Datenschutzgründen \
                  nicht verfügbar."
                .into(),
        },
        "anschrift" | "adresse" | "strasse" | "straße" | "hausnummer" | "plz" | "postleitzahl"
        | "wohnort" | "stadt"
            if channel != Channel::Letter =>
        {
            format!(
                "Die Anschrift des Empfängers ist {} aus Datenschutzgründen nicht verfügbar \
                 (nur Daten, die der Versandweg braucht).",
                match channel {
                    Channel::Sms => "bei SMS",
                    _ => "bei E-Mails",
                }
            )
        }
        "abmeldelink" if channel != Channel::Email => {
            "Den Abmeldelink gibt es nur bei E-Mails.".into()
        }
        _ => return None,
    };
    Some(reason)
}

/// The values of one recipient's message, flat by dotted name. Build it with
/// [`build_context`]; it only ever holds what the channel allows.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct MessageContext {
    /// Plain strings (no template-engine types), so the main app builds and sends a context
    /// without linking the engine; [`MessageContext::to_value`] converts at render time.
    values: BTreeMap<&'static str, String>,
}

impl MessageContext {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Rebuilds a context from name/value pairs (e.g. one sent as JSON to the template engine).
    /// Only catalogue placeholders that exist for `channel` are taken; anything else is
    /// dropped, so a context can never carry more than [`build_context`] would put in it.
    pub fn from_pairs<I, K, V>(channel: Channel, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let values = pairs
            .into_iter()
            .filter_map(|(k, v)| {
                let info = lookup(k.as_ref())?;
                info.channels
                    .contains(&channel)
                    .then(|| (info.name, v.into()))
            })
            .collect();
        MessageContext { values }
    }

    pub fn has_appointment(&self) -> bool {
        self.values.keys().any(|k| k.starts_with("termin."))
    }

    /// The nested minijinja value (`praxis` and `termin` become maps). Keys are static
    /// strings, so building it allocates only for longer values.
    pub fn to_value(&self) -> Value {
        let mut root: BTreeMap<&'static str, Value> = BTreeMap::new();
        let mut nested: Vec<(&'static str, BTreeMap<&'static str, Value>)> = Vec::new();
        for (&k, v) in &self.values {
            let val = Value::from(v.as_str());
            match k.split_once('.') {
                Some((obj, attr)) => match nested.iter_mut().find(|(o, _)| *o == obj) {
                    Some((_, map)) => {
                        map.insert(attr, val);
                    }
                    None => nested.push((obj, BTreeMap::from([(attr, val)]))),
                },
                None => {
                    root.insert(k, val);
                }
            }
        }
        for (obj, map) in nested {
            root.insert(obj, Value::from_object(map));
        }
        Value::from_object(root)
    }
}

const WEEKDAYS_DE: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Name of a weekday in the language.
pub fn weekday_name(w: Weekday, lang: Language) -> &'static str {
    let i = w.num_days_from_monday() as usize;
    match lang {
        Language::De => WEEKDAYS_DE[i],
        Language::En => WEEKDAYS_EN[i],
    }
}

/// Short date: "27.11.2026" (de) or "27/11/2026" (en).
pub fn format_date(d: NaiveDate, lang: Language) -> String {
    match lang {
        Language::De => format!("{:02}.{:02}.{}", d.day(), d.month(), d.year()),
        Language::En => format!("{:02}/{:02}/{}", d.day(), d.month(), d.year()),
    }
}

/// Long date: "27. November 2026" (de) or "27 November 2026" (en).
pub fn format_date_long(d: NaiveDate, lang: Language) -> String {
    let m = d.month0() as usize;
    match lang {
        Language::De => format!("{}. {} {}", d.day(), MONTHS_DE[m], d.year()),
        Language::En => format!("{} {} {}", d.day(), MONTHS_EN[m], d.year()),
    }
}

/// "14:30".
pub fn format_time(t: NaiveDateTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// Practice address on one line: "Lindenstraße 1, 10115 Berlin".
pub fn one_line_address(a: &PostalAddress) -> String {
    let street = format!("{} {}", a.street.trim(), a.house_number.trim());
    let city = format!("{} {}", a.postcode.trim(), a.city.trim());
    [street.trim(), city.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything the context builder needs for one recipient.
#[derive(Clone, Copy, Debug)]
pub struct ContextInput<'a> {
    pub person: &'a Person,
    pub practice: &'a PracticeSettings,
    pub appointment: Option<&'a Appointment>,
    pub channel: Channel,
    pub language: Language,
    pub today: NaiveDate,
    /// The recipient's unsubscribe link (e-mail only; ignored for other channels).
    pub unsubscribe_link: Option<&'a str>,
}

/// Builds the context of one recipient's message with exactly the values the channel may use.
pub fn build_context(input: ContextInput<'_>) -> MessageContext {
    let ContextInput {
        person,
        practice,
        appointment,
        channel,
        language,
        today,
        unsubscribe_link,
    } = input;
    let mut v: BTreeMap<&'static str, String> = BTreeMap::new();
    v.insert("anrede", anrede(person, language));
    v.insert("titel", String::from(person.title.trim()));
    v.insert("vorname", String::from(person.first_name.trim()));
    v.insert("nachname", String::from(person.last_name.trim()));
    v.insert("name", person.full_name());
    v.insert("praxis.name", String::from(practice.name.trim()));
    v.insert("praxis.telefon", String::from(practice.phone.trim()));
    v.insert("praxis.email", String::from(practice.email.trim()));
    v.insert("praxis.adresse", one_line_address(&practice.address));
    v.insert("praxis.webseite", String::from(practice.web.trim()));
    v.insert("heute", format_date(today, language));
    if let Some(a) = appointment {
        v.insert("termin.datum", format_date(a.start.date(), language));
        v.insert(
            "termin.wochentag",
            String::from(weekday_name(a.start.weekday(), language)),
        );
        v.insert("termin.uhrzeit", format_time(a.start));
        v.insert("termin.ende", format_time(a.end));
        v.insert("termin.behandler", String::from(a.therapist.trim()));
        v.insert("termin.ort", String::from(a.location.trim()));
        v.insert("termin.art", String::from(a.kind.trim()));
    }
    match channel {
        Channel::Letter => {
            v.insert("anschrift", address_block(person).join("\n"));
        }
        Channel::Email => {
            v.insert(
                "abmeldelink",
                String::from(unsubscribe_link.unwrap_or("").trim()),
            );
        }
        Channel::Sms => {}
    }
    debug_assert!(v
        .keys()
        .all(|k| lookup(k).is_some_and(|p| p.channels.contains(&channel))));
    MessageContext { values: v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{AppointmentId, AppointmentStatus, Gender, PersonId};

    fn input_parts() -> (Person, PracticeSettings, Appointment) {
        let person = Person {
            id: PersonId("p1".into()),
            title: "Dr.".into(),
            first_name: "Anna".into(),
            last_name: "Müller".into(),
            gender: Gender::Female,
            address: PostalAddress {
                street: "Lindenstraße".into(),
                house_number: "12".into(),
                postcode: "10115".into(),
                city: "Berlin".into(),
                ..Default::default()
            },
            email: "anna@example.org".into(),
            mobile: "+4917112345678".into(),
            ..Default::default()
        };
        let practice = PracticeSettings {
            name: "Praxis Sonnenschein".into(),
            phone: "030 1234567".into(),
            ..Default::default()
        };
        let start = NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_opt(14, 30, 0)
            .unwrap();
        let appt = Appointment {
            id: AppointmentId("a1".into()),
            person_id: PersonId("p1".into()),
            start,
            end: start + chrono::Duration::minutes(30),
            therapist: "Frau Weber".into(),
            location: "Raum 2".into(),
            kind: "Physiotherapie".into(),
            status: AppointmentStatus::Planned,
        };
        (person, practice, appt)
    }

    #[test]
    fn catalogue_per_channel() {
        let names = |c, a| catalogue(c, a).iter().map(|p| p.name).collect::<Vec<_>>();
        assert!(names(Channel::Letter, false).contains(&"anschrift"));
        assert!(!names(Channel::Sms, false).contains(&"anschrift"));
        assert!(!names(Channel::Email, false).contains(&"anschrift"));
        assert!(names(Channel::Email, false).contains(&"abmeldelink"));
        assert!(!names(Channel::Letter, false).contains(&"abmeldelink"));
        assert!(!names(Channel::Sms, false).contains(&"termin.datum"));
        assert!(names(Channel::Sms, true).contains(&"termin.datum"));
        assert!(CATALOGUE.iter().all(|p| !p.description.is_empty()));
        assert_eq!(
            catalogue(Channel::Sms, true)[0].insert_text(),
            "{{ anrede }}"
        );
    }

    #[test]
    fn context_holds_only_channel_values() {
        let (person, practice, appt) = input_parts();
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        for channel in Channel::ALL {
            let ctx = build_context(ContextInput {
                person: &person,
                practice: &practice,
                appointment: Some(&appt),
                channel,
                language: Language::De,
                today,
                unsubscribe_link: Some("https://x.example/u/T"),
            });
            let all: String = ctx.iter().map(|(_, v)| v).collect();
            assert!(!all.contains("anna@example.org"), "{channel:?}");
            assert!(!all.contains("4917112345678"), "{channel:?}");
            assert_eq!(all.contains("Lindenstraße"), channel == Channel::Letter);
            assert_eq!(ctx.get("abmeldelink").is_some(), channel == Channel::Email);
            assert_eq!(ctx.get("termin.wochentag"), Some("Freitag"));
            assert_eq!(ctx.get("termin.uhrzeit"), Some("14:30"));
            assert_eq!(ctx.get("termin.ende"), Some("15:00"));
            assert_eq!(ctx.get("heute"), Some("26.11.2026"));
            assert_eq!(ctx.get("anrede"), Some("Sehr geehrte Frau Dr. Müller"));
        }
    }

    #[test]
    fn forbidden_reasons() {
        let r = forbidden_reason("geburtsdatum", Channel::Email).unwrap();
        assert_eq!(
            r,
            "Geburtsdatum ist beim Serienversand aus Datenschutzgründen nicht verfügbar."
        );
        assert!(forbidden_reason("telefon", Channel::Letter)
            .unwrap()
            .contains("im Brief"));
        assert!(forbidden_reason("anschrift", Channel::Sms)
            .unwrap()
            .contains("bei SMS"));
        assert_eq!(forbidden_reason("anschrift", Channel::Letter), None);
        assert_eq!(forbidden_reason("vorname", Channel::Sms), None);
        assert!(forbidden_reason("diagnose.text", Channel::Letter).is_some());
    }

    #[test]
    fn date_formats() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        assert_eq!(format_date(d, Language::De), "05.03.2026");
        assert_eq!(format_date(d, Language::En), "05/03/2026");
        assert_eq!(format_date_long(d, Language::De), "5. März 2026");
        assert_eq!(format_date_long(d, Language::En), "5 March 2026");
    }
}
