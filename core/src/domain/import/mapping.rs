//! Header → field mapping: automatic for common German and English headers, fixable by the
//! user. Treatment-data columns are recognised and can never be mapped to a field.

use super::messages::msg;
use crate::domain::message::Msg;
use crate::domain::model::{Channel, Purpose};

/// What is being imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    Persons,
    Appointments,
}

/// The target of one CSV column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Not imported (chosen by the user or not recognised).
    Ignore,
    /// Treatment data (diagnosis, anamnesis, therapy, findings, medication, free-text notes):
    /// never imported, and the user is told so.
    Treatment,
    // --- persons ---
    ExternalId,
    Kind,
    Salutation,
    /// The person's own salutation ("Liebe Frau Weber"), used instead of the one by etiquette.
    OwnSalutation,
    /// Yes/no: the person is addressed with "Du".
    Du,
    Title,
    FirstName,
    LastName,
    /// "Müller, Anna" or "Dr. Anna Müller" in one column.
    FullName,
    Gender,
    Street,
    HouseNumber,
    AddressExtra,
    Postcode,
    City,
    /// "50667 Köln" in one column.
    PostcodeCity,
    Country,
    Email,
    Mobile,
    Landline,
    BirthDate,
    Profession,
    InsuranceKind,
    InsuranceNumber,
    Tags,
    /// Yes/no consent for a channel; `None` = the purposes chosen in the import options.
    Consent(Channel, Option<Purpose>),
    /// Date the consents of the row were given.
    ConsentDate,
    // --- appointments ---
    /// External id (patient number) of the person the appointment belongs to.
    PersonRef,
    Date,
    StartTime,
    EndTime,
    /// Date and time in one column ("26.11.2026 14:30").
    Start,
    End,
    DurationMinutes,
    Therapist,
    Location,
    AppointmentType,
    Status,
}

impl Field {
    /// German label for the mapping step.
    pub fn label_de(self) -> String {
        let s = match self {
            Field::Ignore => "nicht importieren",
            Field::Treatment => "Behandlungsdaten – werden nie importiert",
            Field::ExternalId => "Patientennummer (extern)",
            Field::Kind => "Art (Patient/Interessent)",
            Field::Salutation => "Anrede",
            Field::OwnSalutation => "Eigene Anrede",
            Field::Du => "Duzen (ja/nein)",
            Field::Title => "Titel",
            Field::FirstName => "Vorname",
            Field::LastName => "Nachname",
            Field::FullName => "Name (Vor- und Nachname)",
            Field::Gender => "Geschlecht",
            Field::Street => "Straße (ggf. mit Hausnummer)",
            Field::HouseNumber => "Hausnummer",
            Field::AddressExtra => "Adresszusatz",
            Field::Postcode => "PLZ",
            Field::City => "Ort",
            Field::PostcodeCity => "PLZ und Ort",
            Field::Country => "Land",
            Field::Email => "E-Mail",
            Field::Mobile => "Mobilnummer",
            Field::Landline => "Festnetz",
            Field::BirthDate => "Geburtsdatum",
            Field::Profession => "Beruf",
            Field::InsuranceKind => "Versicherungsart",
            Field::InsuranceNumber => "Versichertennummer",
            Field::Tags => "Merkmale",
            Field::Consent(c, None) => return format!("{} erlaubt", c.label_de()),
            Field::Consent(c, Some(p)) => {
                return format!("{} erlaubt: {}", c.label_de(), p.label_de())
            }
            Field::ConsentDate => "Einwilligung erteilt am",
            Field::PersonRef => "Patientennummer",
            Field::Date => "Datum",
            Field::StartTime => "Beginn (Uhrzeit)",
            Field::EndTime => "Ende (Uhrzeit)",
            Field::Start => "Beginn (Datum und Uhrzeit)",
            Field::End => "Ende (Datum und Uhrzeit)",
            Field::DurationMinutes => "Dauer (Minuten)",
            Field::Therapist => "Behandler",
            Field::Location => "Raum/Ort",
            Field::AppointmentType => "Terminart",
            Field::Status => "Status",
        };
        s.to_string()
    }

    /// Fields a user can choose for a kind of import (for the mapping drop-down).
    pub fn choices(kind: ImportKind) -> Vec<Field> {
        let mut v = vec![Field::Ignore];
        match kind {
            ImportKind::Persons => {
                v.extend([
                    Field::ExternalId,
                    Field::Kind,
                    Field::Salutation,
                    Field::OwnSalutation,
                    Field::Du,
                    Field::Title,
                    Field::FirstName,
                    Field::LastName,
                    Field::FullName,
                    Field::Gender,
                    Field::Street,
                    Field::HouseNumber,
                    Field::AddressExtra,
                    Field::Postcode,
                    Field::City,
                    Field::PostcodeCity,
                    Field::Country,
                    Field::Email,
                    Field::Mobile,
                    Field::Landline,
                    Field::BirthDate,
                    Field::Profession,
                    Field::InsuranceKind,
                    Field::InsuranceNumber,
                    Field::Tags,
                ]);
                for c in Channel::ALL {
                    v.push(Field::Consent(c, None));
                    for p in Purpose::ALL {
                        v.push(Field::Consent(c, Some(p)));
                    }
                }
                v.push(Field::ConsentDate);
            }
            ImportKind::Appointments => v.extend([
                Field::PersonRef,
                Field::Date,
                Field::StartTime,
                Field::EndTime,
                Field::Start,
                Field::End,
                Field::DurationMinutes,
                Field::Therapist,
                Field::Location,
                Field::AppointmentType,
                Field::Status,
            ]),
        }
        v
    }

    /// Fields that may be mapped from several columns at once.
    fn repeatable(self) -> bool {
        matches!(self, Field::Ignore | Field::Treatment | Field::Tags)
    }
}

/// Lower-case ASCII letters and digits only ("E-Mail erlaubt" → "emailerlaubt",
/// "Straße" → "strasse").
pub fn normalize_header(h: &str) -> String {
    let mut out = String::with_capacity(h.len());
    for ch in h.trim().chars().flat_map(char::to_lowercase) {
        match ch {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

/// Header words that mark treatment data (matched as substrings of the normalised header).
const TREATMENT_WORDS: &[&str] = &[
    "diagnose",
    "diagnosis",
    "anamnese",
    "anamnesis",
    "therapie",
    "therapy",
    "befund",
    "behandlung",
    "treatment",
    "medikation",
    "medikament",
    "medication",
    "icd",
    "krankheit",
    "erkrankung",
    "beschwerde",
    "symptom",
    "verordnung",
    "rezept",
    "heilmittel",
    "indikation",
    "allergie",
    "notiz",
    "bemerkung",
    "kommentar",
    "anmerkung",
    "freitext",
    "notes",
    "note",
    "comment",
    "remark",
    "memo",
    "info",
];

fn is_treatment_header(n: &str) -> bool {
    // "Therapeut" is the therapist of an appointment, not treatment data.
    if n.contains("therapeut") || n.contains("behandler") {
        return false;
    }
    TREATMENT_WORDS.iter().any(|w| n.contains(w))
}

fn consent_field(n: &str) -> Option<Field> {
    let consent_word = [
        "erlaubt",
        "einwilligung",
        "consent",
        "allowed",
        "optin",
        "zustimmung",
        "ok",
    ]
    .iter()
    .any(|w| n.contains(w));
    if !consent_word {
        return None;
    }
    let channel = if n.contains("sms") {
        Channel::Sms
    } else if n.contains("mail") {
        Channel::Email
    } else if n.contains("brief") || n.contains("post") || n.contains("letter") {
        Channel::Letter
    } else {
        return None;
    };
    let purpose = if n.contains("termin") || n.contains("erinnerung") || n.contains("reminder") {
        Some(Purpose::AppointmentReminder)
    } else if n.contains("geburtstag") || n.contains("birthday") {
        Some(Purpose::Birthday)
    } else if n.contains("einladung") || n.contains("invitation") {
        Some(Purpose::Invitation)
    } else if n.contains("recall") || n.contains("wiedervorstellung") {
        Some(Purpose::Recall)
    } else if n.contains("sonstig") || n.contains("other") {
        Some(Purpose::Other)
    } else {
        None
    };
    Some(Field::Consent(channel, purpose))
}

/// The automatic guess for one header. `has_first_name` decides whether "Name" is the last
/// name (a "Vorname" column exists) or the full name.
fn guess(header: &str, kind: ImportKind, has_first_name: bool) -> Field {
    let n = normalize_header(header);
    if n.is_empty() {
        return Field::Ignore;
    }
    if is_treatment_header(&n) {
        return Field::Treatment;
    }
    if kind == ImportKind::Persons {
        if n.contains("einwilligung")
            && (n.contains("datum") || n.ends_with("am") || n.contains("date"))
        {
            return Field::ConsentDate;
        }
        if let Some(f) = consent_field(&n) {
            return f;
        }
    }
    let f = match kind {
        ImportKind::Persons => match n.as_str() {
            "id" | "nr" | "nummer" | "patientennummer" | "patientennr" | "patnr" | "patid"
            | "patientenid" | "patientid" | "kundennummer" | "kundennr" | "externeid"
            | "externalid" | "customerid" | "clientid" | "karteinr" | "karteinummer" => {
                Field::ExternalId
            }
            "art" | "typ" | "kategorie" | "kind" | "type" | "patientinteressent" => Field::Kind,
            "anrede" | "salutation" | "briefanrede" => Field::Salutation,
            "eigeneanrede" | "persoenlicheanrede" | "anredetext" | "ownsalutation"
            | "personalsalutation" | "greeting" => Field::OwnSalutation,
            "du" | "duzen" | "perdu" | "informal" => Field::Du,
            "titel" | "title" | "akadtitel" | "akademischertitel" => Field::Title,
            "vorname" | "vornamen" | "rufname" | "firstname" | "givenname" | "forename" => {
                Field::FirstName
            }
            "nachname" | "familienname" | "zuname" | "lastname" | "surname" | "familyname" => {
                Field::LastName
            }
            "name" => {
                if has_first_name {
                    Field::LastName
                } else {
                    Field::FullName
                }
            }
            "vollername" | "fullname" | "patient" | "patientenname" | "namevorname"
            | "nachnamevorname" => Field::FullName,
            "geschlecht" | "gender" | "sex" => Field::Gender,
            "strasse"
            | "str"
            | "strassehausnummer"
            | "strassenr"
            | "strasseundhausnummer"
            | "street"
            | "address"
            | "adresse"
            | "anschrift"
            | "addressline1" => Field::Street,
            "hausnummer" | "hausnr" | "hnr" | "housenumber" | "streetnumber" => Field::HouseNumber,
            "adresszusatz" | "zusatz" | "addressline2" | "co" => Field::AddressExtra,
            "plz" | "postleitzahl" | "zip" | "zipcode" | "postcode" | "postalcode" => {
                Field::Postcode
            }
            "ort" | "stadt" | "wohnort" | "city" | "town" => Field::City,
            "plzort" | "plzundort" | "ortplz" => Field::PostcodeCity,
            "land" | "country" | "staat" | "laenderkennzeichen" => Field::Country,
            "email" | "mail" | "emailadresse" | "mailadresse" | "emailaddress" | "emailprivat" => {
                Field::Email
            }
            "handy" | "mobil" | "mobilnummer" | "mobiltelefon" | "handynummer" | "mobile"
            | "mobilephone" | "cell" | "cellphone" | "telmobil" | "telefonmobil" => Field::Mobile,
            "telefon" | "tel" | "telefonprivat" | "telprivat" | "festnetz" | "phone"
            | "telefonnummer" | "telefon1" | "telephone" | "landline" => Field::Landline,
            "geburtsdatum" | "geboren" | "gebdatum" | "gebdat" | "geburtstag" | "birthdate"
            | "dateofbirth" | "dob" | "birthday" | "gebam" => Field::BirthDate,
            "beruf" | "profession" | "occupation" | "job" | "taetigkeit" => Field::Profession,
            "versicherung"
            | "versicherungsart"
            | "kasse"
            | "krankenkasse"
            | "kostentraeger"
            | "insurance"
            | "insurancetype"
            | "versicherungsstatus" => Field::InsuranceKind,
            "versichertennummer"
            | "versichertennr"
            | "versnr"
            | "kvnr"
            | "krankenversichertennummer"
            | "insurancenumber"
            | "versicherungsnummer" => Field::InsuranceNumber,
            "tags" | "tag" | "merkmale" | "merkmal" | "schlagworte" | "stichworte" | "gruppen"
            | "gruppe" | "labels" => Field::Tags,
            _ => Field::Ignore,
        },
        ImportKind::Appointments => {
            match n.as_str() {
                "patientennummer" | "patientennr" | "patnr" | "patid" | "patientid"
                | "patientenid" | "kundennummer" | "kundennr" | "externeid" | "externalid"
                | "nr" | "personid" => Field::PersonRef,
                "datum" | "date" | "tag" | "termindatum" => Field::Date,
                "uhrzeit" | "von" | "beginnuhrzeit" | "startzeit" | "zeit" | "time"
                | "starttime" => Field::StartTime,
                "bis" | "endzeit" | "endeuhrzeit" | "endtime" => Field::EndTime,
                "beginn" | "start" | "termin" | "terminbeginn" => Field::Start,
                "ende" | "end" | "terminende" => Field::End,
                "dauer" | "dauermin" | "minuten" | "duration" => Field::DurationMinutes,
                "behandler" | "behandlerin" | "therapeut" | "therapeutin" | "mitarbeiter"
                | "mitarbeiterin" | "therapist" | "staff" => Field::Therapist,
                "raum" | "ort" | "standort" | "room" | "location" | "filiale" => Field::Location,
                "art" | "terminart" | "typ" | "type" | "kategorie" | "leistung" => {
                    Field::AppointmentType
                }
                "status" | "zustand" => Field::Status,
                _ => Field::Ignore,
            }
        }
    };
    f
}

/// One column's mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMapping {
    pub header: String,
    pub field: Field,
}

/// The mapping of every column of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub kind: ImportKind,
    pub columns: Vec<ColumnMapping>,
}

impl Mapping {
    /// Maps the headers automatically; when two columns would get the same field, the first
    /// one wins and the other is not imported.
    pub fn auto(headers: &[String], kind: ImportKind) -> Mapping {
        let has_first_name = headers
            .iter()
            .any(|h| guess(h, kind, false) == Field::FirstName);
        let mut columns: Vec<ColumnMapping> = Vec::with_capacity(headers.len());
        for h in headers {
            let mut field = guess(h, kind, has_first_name);
            if !field.repeatable() && columns.iter().any(|c| c.field == field) {
                field = Field::Ignore;
            }
            columns.push(ColumnMapping {
                header: h.clone(),
                field,
            });
        }
        Mapping { kind, columns }
    }

    /// The user's correction. A column holding treatment data can never be mapped to a field;
    /// a field taken by another column moves to this one.
    pub fn set(&mut self, column: usize, field: Field) -> Result<(), Msg> {
        let Some(col) = self.columns.get(column) else {
            return Err(msg(
                "domain.import.mapping.no_such_column",
                vec![("n", (column + 1).to_string())],
            ));
        };
        if col.field == Field::Treatment && field != Field::Treatment {
            return Err(msg(
                "domain.import.mapping.treatment",
                vec![("column", col.header.clone())],
            ));
        }
        if field == Field::Treatment {
            self.columns[column].field = Field::Treatment;
            return Ok(());
        }
        if !Field::choices(self.kind).contains(&field) {
            return Err(msg(
                "domain.import.mapping.wrong_kind",
                vec![("field", field.label_de())],
            ));
        }
        if !field.repeatable() {
            for c in &mut self.columns {
                if c.field == field {
                    c.field = Field::Ignore;
                }
            }
        }
        self.columns[column].field = field;
        Ok(())
    }

    /// Column index of a field.
    pub fn column_of(&self, field: Field) -> Option<usize> {
        self.columns.iter().position(|c| c.field == field)
    }

    /// Headers of the columns that are never imported because they hold treatment data.
    pub fn treatment_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.field == Field::Treatment)
            .map(|c| c.header.clone())
            .collect()
    }
}
