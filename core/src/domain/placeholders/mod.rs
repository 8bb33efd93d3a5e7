//! The placeholder catalogue per channel and the leak-proof context builder.
//!
//! Privacy invariant: the context is built from a [`Person`](super::model::Person) (never a
//! `PersonRecord` or `Sensitive`), and only the values the channel may use are put into it.
//! Whatever a template does at render time, it cannot reach anything else. Treatment data
//! never reaches a message: an appointment shows the *message label* the practice set for its
//! type (`termin.bezeichnung`, never the type itself), and the therapist only when the
//! practice switched "Behandlername in Nachrichten" on.

mod context;
mod format;
mod labels;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use super::model::{Channel, PracticeSettings};

pub use context::{build_context, build_context_to, ContextBuilder, ContextInput, MessageContext};
pub use format::{format_date, format_date_long, format_time, push_date, push_time, weekday_name};
pub use labels::{
    appointment_types, count_appointment_types, message_label, set_message_label, AppointmentType,
    DEFAULT_MESSAGE_LABEL_DE, DEFAULT_MESSAGE_LABEL_EN,
};

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
    /// Only available when the practice shows therapist names in messages.
    pub needs_therapist_setting: bool,
}

impl PlaceholderInfo {
    /// The text the palette inserts at the cursor.
    pub fn insert_text(&self) -> String {
        if self.name == DU {
            // A flag, not a text: the palette inserts the choice between both forms.
            return "{% if du %}{% else %}{% endif %}".to_string();
        }
        format!("{{{{ {} }}}}", self.name)
    }
}

/// The flag placeholder of the informal address: "ja" when the person is addressed with
/// "Du", empty otherwise (in the engine view a boolean, so `{% if du %}` works).
pub const DU: &str = "du";

const ALL_CH: &[Channel] = &[Channel::Letter, Channel::Sms, Channel::Email];

macro_rules! ph {
    ($name:literal, $desc:literal, $ex:literal, $ch:expr, $appt:literal) => {
        ph!($name, $desc, $ex, $ch, $appt, false)
    };
    ($name:literal, $desc:literal, $ex:literal, $ch:expr, $appt:literal, $therapist:literal) => {
        PlaceholderInfo {
            name: $name,
            description: $desc,
            example: $ex,
            channels: $ch,
            needs_appointment: $appt,
            needs_therapist_setting: $therapist,
        }
    };
}

/// Every placeholder there is. Use [`catalogue`] for what a channel offers.
pub const CATALOGUE: &[PlaceholderInfo] = &[
    ph!(
        "anrede",
        "Anrede ohne Komma: die eigene der Person, sonst nach DIN 5008",
        "Sehr geehrte Frau Dr. Müller",
        ALL_CH,
        false
    ),
    ph!(
        "du",
        "Du-Anrede gewünscht (in der Person festgelegt): wählt in der Vorlage die Du-Form",
        "ja",
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
        "termin.bezeichnung",
        "Bezeichnung des Termins in Nachrichten (je Terminart in den Einstellungen festgelegt)",
        "Termin",
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
        "termin.behandler",
        "Behandelnde Person (nur wenn „Behandlername in Nachrichten“ eingeschaltet ist)",
        "Frau Weber",
        ALL_CH,
        true,
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

/// What the recipients and the practice settings make available to a template: appointment
/// placeholders only when the recipients come with appointments, the therapist's name only
/// when the practice switched "Behandlername in Nachrichten" on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub appointments: bool,
    pub therapist_names: bool,
}

impl Availability {
    /// For recipients with (`appointments`) or without appointments, under `practice`'s
    /// settings.
    pub fn new(appointments: bool, practice: &PracticeSettings) -> Self {
        Availability {
            appointments,
            therapist_names: practice.therapist_in_messages,
        }
    }

    /// Whether a placeholder (of a channel that has it) can be used.
    pub fn offers(self, p: &PlaceholderInfo) -> bool {
        (self.appointments || !p.needs_appointment)
            && (self.therapist_names || !p.needs_therapist_setting)
    }
}

/// The placeholders a channel offers, in palette order: appointment placeholders only when
/// the recipients come with appointments, the therapist only when the practice shows it.
pub fn catalogue(channel: Channel, available: Availability) -> Vec<&'static PlaceholderInfo> {
    CATALOGUE
        .iter()
        .filter(|p| p.channels.contains(&channel) && available.offers(p))
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
    let full = name.to_lowercase();
    if is_appointment_type(&full) {
        return Some(
            "Die Terminart kann Behandlungsdaten verraten (z. B. „Lymphdrainage“) und ist beim \
             Serienversand nie verfügbar. Verwenden Sie {{ termin.bezeichnung }}: die \
             Bezeichnung, die die Praxis je Terminart in den Einstellungen festlegt."
                .into(),
        );
    }
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

/// Names under which a template might try to reach the appointment type.
fn is_appointment_type(name: &str) -> bool {
    matches!(
        name,
        "terminart"
            | "termin_art"
            | "termin.art"
            | "termin.terminart"
            | "termin.typ"
            | "termin.kind"
            | "termin.leistung"
            | "termin.behandlung"
            | "termin.therapie"
            | "leistung"
            | "leistungen"
    )
}
