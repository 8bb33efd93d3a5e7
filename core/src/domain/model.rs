//! The data model: persons, consents, appointments and practice settings.
//!
//! Privacy by construction: everything a template may ever see lives on [`Person`]; the
//! sensitive master data (birth date, profession, insurance) lives on [`Sensitive`], a
//! separate type that is stored beside the person in a [`PersonRecord`]. Code that builds a
//! template context takes a `&Person` and so cannot reach the sensitive data by accident.
//! Treatment data (diagnosis, anamnesis, therapy, findings) is not modelled at all.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

pub use super::consent::{
    ConsentAction, ConsentEvent, ConsentHistory, ConsentSource, ConsentStatus, Consents, Evidence,
    Grant,
};

/// Stable identifier of a person (a UUID string, made by the caller).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(pub String);

/// Stable identifier of an appointment (a UUID string, made by the caller).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppointmentId(pub String);

impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for AppointmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Patient or prospect ("Interessent").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Patient,
    Prospect,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Patient, Kind::Prospect];

    pub fn label_de(self) -> &'static str {
        match self {
            Kind::Patient => "Patient",
            Kind::Prospect => "Interessent",
        }
    }

    /// Short stable key, used for storage indices.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Patient => "patient",
            Kind::Prospect => "prospect",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    Diverse,
    #[default]
    Unknown,
}

impl Gender {
    pub const ALL: [Gender; 4] = [
        Gender::Female,
        Gender::Male,
        Gender::Diverse,
        Gender::Unknown,
    ];

    pub fn label_de(self) -> &'static str {
        match self {
            Gender::Female => "weiblich",
            Gender::Male => "männlich",
            Gender::Diverse => "divers",
            Gender::Unknown => "unbekannt",
        }
    }

    /// A stable code (form values), as stored (`serde`'s name).
    pub fn code(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Diverse => "diverse",
            Gender::Unknown => "unknown",
        }
    }
}

/// A postal address. `country` is an ISO 3166-1 alpha-2 code; empty means Germany.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostalAddress {
    pub street: String,
    pub house_number: String,
    /// Address addition ("c/o …", "Hinterhaus", "App. 3").
    #[serde(default)]
    pub extra: String,
    pub postcode: String,
    pub city: String,
    #[serde(default)]
    pub country: String,
}

impl PostalAddress {
    /// True when the address is in Germany (empty country or "DE").
    pub fn is_domestic(&self) -> bool {
        self.country.is_empty() || self.country.eq_ignore_ascii_case("DE")
    }

    pub fn is_empty(&self) -> bool {
        self.street.trim().is_empty()
            && self.house_number.trim().is_empty()
            && self.postcode.trim().is_empty()
            && self.city.trim().is_empty()
    }
}

/// A contact channel of a mass message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Letter,
    Sms,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Letter, Channel::Sms, Channel::Email];

    pub fn label_de(self) -> &'static str {
        match self {
            Channel::Letter => "Brief",
            Channel::Sms => "SMS",
            Channel::Email => "E-Mail",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Channel::Letter => "letter",
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

/// What a message is about. Consent is given per channel *and* purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    AppointmentReminder,
    Birthday,
    Invitation,
    Recall,
    Other,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::AppointmentReminder,
        Purpose::Birthday,
        Purpose::Invitation,
        Purpose::Recall,
        Purpose::Other,
    ];

    pub fn label_de(self) -> &'static str {
        match self {
            Purpose::AppointmentReminder => "Terminerinnerung",
            Purpose::Birthday => "Geburtstag",
            Purpose::Invitation => "Einladung",
            Purpose::Recall => "Recall",
            Purpose::Other => "Sonstiges",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Purpose::AppointmentReminder => "appointment_reminder",
            Purpose::Birthday => "birthday",
            Purpose::Invitation => "invitation",
            Purpose::Recall => "recall",
            Purpose::Other => "other",
        }
    }

    /// Everything but an appointment reminder is advertising (§ 7 (2) UWG): birthday
    /// greetings, invitations, recalls and "Sonstiges" (a newsletter sent as "Sonstiges" is
    /// still advertising). Advertising needs consent for its purpose and channel, and its
    /// e-mails carry the one-click unsubscribe (the relay uses this rule too).
    pub fn is_advertising(self) -> bool {
        self != Purpose::AppointmentReminder
    }
}

/// What templates may be built from: name, contact data and consents. No birth date, no
/// profession, no insurance — those are on [`Sensitive`].
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub kind: Kind,
    /// Academic title ("Dr.", "Prof. Dr.").
    #[serde(default)]
    pub title: String,
    pub first_name: String,
    pub last_name: String,
    pub gender: Gender,
    #[serde(default)]
    pub address: PostalAddress,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub landline: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub consents: Consents,
    /// Id in the practice software this person was imported from.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The practice's own salutation for this person ("Liebe Frau Weber", "Hallo Tim"),
    /// used instead of the one by etiquette when not blank (`salutation::anrede`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub salutation: String,
    /// Addressed informally ("Du"): templates that offer it use `{% if du %}`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub du: bool,
    /// Parents or other guardians ("Erziehungsberechtigte"): while the person is a minor
    /// (`guardian::MinorRule`), messages go to the first guardian the channel may reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardians: Vec<Guardian>,
}

/// A parent or other guardian of a person: who messages for a minor go to, with the consents
/// they gave on the minor's behalf.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Guardian {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub gender: Gender,
    /// The guardian's own postal address; `None`: the minor's.
    #[serde(default)]
    pub address: Option<PostalAddress>,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub mobile: String,
    /// Consents the guardian gave on the minor's behalf (per channel and purpose).
    #[serde(default)]
    pub consents: Consents,
}

impl Guardian {
    /// "Anna Weber" (title, first and last name; empty when none is given).
    pub fn full_name(&self) -> String {
        let mut s = String::new();
        let parts = [&self.title, &self.first_name, &self.last_name].map(|p| p.trim());
        super::text::push_joined(&mut s, &parts, " ");
        s
    }
}

impl Person {
    /// "Dr. Anna Müller".
    pub fn full_name(&self) -> String {
        let mut s = String::new();
        self.push_full_name(&mut s);
        s
    }

    /// Appends the full name ([`Person::full_name`]).
    pub fn push_full_name(&self, out: &mut String) {
        let parts = [&self.title, &self.first_name, &self.last_name].map(|p| p.trim());
        super::text::push_joined(out, &parts, " ");
    }

    /// "Müller, Anna" for tables and sorting.
    pub fn sort_name(&self) -> String {
        match (self.last_name.trim(), self.first_name.trim()) {
            (l, "") => l.to_string(),
            ("", f) => f.to_string(),
            (l, f) => format!("{l}, {f}"),
        }
    }
}

/// Kind of health insurance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InsuranceKind {
    /// Gesetzlich versichert (GKV).
    Statutory,
    /// Privat versichert (PKV).
    Private,
    /// Selbstzahler.
    SelfPay,
    #[default]
    Unknown,
}

impl InsuranceKind {
    pub const ALL: [InsuranceKind; 4] = [
        InsuranceKind::Statutory,
        InsuranceKind::Private,
        InsuranceKind::SelfPay,
        InsuranceKind::Unknown,
    ];

    pub fn label_de(self) -> &'static str {
        match self {
            InsuranceKind::Statutory => "gesetzlich",
            InsuranceKind::Private => "privat",
            InsuranceKind::SelfPay => "Selbstzahler",
            InsuranceKind::Unknown => "unbekannt",
        }
    }

    /// A stable code (form values), as stored (`serde`'s name).
    pub fn code(self) -> &'static str {
        match self {
            InsuranceKind::Statutory => "statutory",
            InsuranceKind::Private => "private",
            InsuranceKind::SelfPay => "self_pay",
            InsuranceKind::Unknown => "unknown",
        }
    }
}

/// Sensitive master data. Never part of a template context: selection (birthday, age,
/// insurance type) may read it, output may not.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sensitive {
    #[serde(default)]
    pub birth_date: Option<NaiveDate>,
    #[serde(default)]
    pub profession: String,
    #[serde(default)]
    pub insurance_kind: InsuranceKind,
    #[serde(default)]
    pub insurance_number: String,
}

/// What storage keeps per person: the template-safe part and the sensitive part, side by side.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonRecord {
    pub person: Person,
    #[serde(default)]
    pub sensitive: Sensitive,
}

impl PersonRecord {
    pub fn id(&self) -> &PersonId {
        &self.person.id
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    #[default]
    Planned,
    Cancelled,
    Done,
}

impl AppointmentStatus {
    pub fn label_de(self) -> &'static str {
        match self {
            AppointmentStatus::Planned => "geplant",
            AppointmentStatus::Cancelled => "abgesagt",
            AppointmentStatus::Done => "erledigt",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub person_id: PersonId,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    /// Therapist ("Behandler").
    pub therapist: String,
    /// Room or location ("Raum 2", "Praxis Mitte").
    pub location: String,
    /// Appointment type ("Physiotherapie", "Erstgespräch").
    pub kind: String,
    pub status: AppointmentStatus,
}

impl Appointment {
    pub fn day(&self) -> NaiveDate {
        self.start.date()
    }
}

/// Which DIN 5008 form letters use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LetterForm {
    A,
    #[default]
    B,
}

/// Names the practice sends under.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SenderNames {
    /// Display name of e-mails ("Praxis Sonnenschein").
    #[serde(default)]
    pub email_from_name: String,
    /// SMS sender ID (≤ 11 alphanumeric or ≤ 16 numeric characters).
    #[serde(default)]
    pub sms_sender_id: String,
    /// Contact person printed in the letter's information block and signature.
    #[serde(default)]
    pub letter_contact: String,
}

/// The practice's own data, used in letterheads, footers and placeholders (`praxis.*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeSettings {
    pub name: String,
    #[serde(default)]
    pub address: PostalAddress,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub web: String,
    #[serde(default)]
    pub sender_names: SenderNames,
    /// Optional bank details for the letter footer ("IBAN DE… · BIC …").
    #[serde(default)]
    pub bank_details: String,
    #[serde(default)]
    pub letter_form: LetterForm,
    /// The label messages show for each appointment type ("Lymphdrainage" → "Termin",
    /// "Rückenschule" → "Kurs Rückenschule"), keyed by the trimmed type. The type itself can
    /// reveal treatment data, so a message never shows it; types without an entry show
    /// [`crate::domain::placeholders::DEFAULT_MESSAGE_LABEL_DE`].
    #[serde(default)]
    pub appointment_labels: std::collections::BTreeMap<String, String>,
    /// "Behandlername in Nachrichten": the therapist's name may appear in messages
    /// (`termin.behandler`). Off unless the practice switches it on.
    #[serde(default)]
    pub therapist_in_messages: bool,
    /// "Minderjährig unter … Jahren": below this age on the day of sending, messages go to a
    /// guardian (`guardian::MinorRule`); 0: to every person themselves.
    #[serde(default = "default_minor_age")]
    pub minor_age: u8,
}

fn default_minor_age() -> u8 {
    super::guardian::DEFAULT_MINOR_AGE
}

impl Default for PracticeSettings {
    fn default() -> Self {
        PracticeSettings {
            name: String::new(),
            address: PostalAddress::default(),
            phone: String::new(),
            email: String::new(),
            web: String::new(),
            sender_names: SenderNames::default(),
            bank_details: String::new(),
            letter_form: LetterForm::default(),
            appointment_labels: Default::default(),
            therapist_in_messages: false,
            minor_age: default_minor_age(),
        }
    }
}

/// Where the letterhead logo sits in the header zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoPosition {
    Left,
    #[default]
    Right,
}

/// The letterhead logo: PNG or JPEG bytes (sniffed from the content), printed `width_mm`
/// wide (the height follows the image; both are shrunk to stay inside the header zone).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterheadLogo {
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
    pub width_mm: f32,
    #[serde(default)]
    pub position: LogoPosition,
}

/// Largest logo file the settings accept.
pub const MAX_LOGO_BYTES: usize = 500 * 1024;
/// Narrowest and widest logo in mm.
pub const LOGO_WIDTH_RANGE_MM: (f32, f32) = (10.0, 80.0);

/// Kind of an image file, sniffed from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
}

impl ImageKind {
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageKind::Jpeg)
        } else {
            None
        }
    }
}

/// Why a logo file is refused (text in the app's catalogue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoError {
    /// Larger than [`MAX_LOGO_BYTES`].
    TooLarge,
    /// An SVG: the app converts it to PNG first ([`svg_raster_size`]); the PDF takes
    /// PNG and JPEG only.
    Svg,
    /// Neither PNG nor JPEG.
    NotAnImage,
}

/// Checks an uploaded logo file: at most [`MAX_LOGO_BYTES`], PNG or JPEG by content.
pub fn check_logo(bytes: &[u8]) -> Result<ImageKind, LogoError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(LogoError::TooLarge);
    }
    if let Some(k) = ImageKind::sniff(bytes) {
        return Ok(k);
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    if head.contains("<svg") {
        Err(LogoError::Svg)
    } else {
        Err(LogoError::NotAnImage)
    }
}

/// The longer side, in pixels, of the PNG an SVG logo is converted to: about 380 dpi at the
/// widest logo (80 mm), sharp in print.
pub const SVG_RASTER_PX: u32 = 1200;

/// Width / height of an SVG drawing from its root element: `width` and `height` when both
/// are absolute lengths, else the `viewBox`. `None` when neither gives a positive size.
pub fn svg_aspect(svg: &[u8]) -> Option<f32> {
    let text = String::from_utf8_lossy(&svg[..svg.len().min(64 * 1024)]);
    let start = text.find("<svg")?;
    let tag = &text[start..start + text[start..].find('>')?];
    let attr = |name: &str| -> Option<&str> {
        let mut rest = tag;
        loop {
            let i = rest.find(name)?;
            let before = rest[..i].chars().last();
            let after = rest[i + name.len()..].trim_start();
            rest = &rest[i + name.len()..];
            if !before.is_some_and(char::is_whitespace) {
                continue;
            }
            let Some(after) = after.strip_prefix('=') else {
                continue;
            };
            let after = after.trim_start();
            let q = after.chars().next()?;
            if q != '"' && q != '\'' {
                continue;
            }
            let v = &after[1..];
            return v.find(q).map(|e| &v[..e]);
        }
    };
    let length = |v: &str| -> Option<f32> {
        let v = v.trim();
        let num_end = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
            .unwrap_or(v.len());
        let unit = v[num_end..].trim();
        let n: f32 = v[..num_end].parse().ok()?;
        let per_px = match unit {
            "" | "px" => 1.0,
            "mm" => 96.0 / 25.4,
            "cm" => 96.0 / 2.54,
            "in" => 96.0,
            "pt" => 96.0 / 72.0,
            "pc" => 16.0,
            _ => return None, // %, em: relative, no size of its own
        };
        (n > 0.0).then_some(n * per_px)
    };
    if let (Some(w), Some(h)) = (
        attr("width").and_then(length),
        attr("height").and_then(length),
    ) {
        return Some(w / h);
    }
    let vb: Vec<f32> = attr("viewBox")?
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match vb[..] {
        [_, _, w, h] if w > 0.0 && h > 0.0 => Some(w / h),
        _ => None,
    }
}

/// Pixel size of the PNG an SVG logo of this aspect is drawn into: the longer side
/// [`SVG_RASTER_PX`], the shorter at least 1.
pub fn svg_raster_size(aspect: f32) -> (u32, u32) {
    let max = SVG_RASTER_PX as f32;
    if aspect >= 1.0 {
        (SVG_RASTER_PX, (max / aspect).round().max(1.0) as u32)
    } else {
        ((max * aspect).round().max(1.0) as u32, SVG_RASTER_PX)
    }
}

/// The "Geschäftsangaben" printed in the footer of every page.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BusinessDetails {
    #[serde(default)]
    pub bank: String,
    #[serde(default)]
    pub iban: String,
    #[serde(default)]
    pub bic: String,
    #[serde(default)]
    pub tax_number: String,
    /// Register entry, e.g. "Partnerschaftsregister AG Essen PR 1234".
    #[serde(default)]
    pub register: String,
}

impl BusinessDetails {
    /// Footer lines: "Bank · IBAN … · BIC …" and "Steuernummer … · register" (empty ones
    /// left out).
    pub fn footer_lines(&self) -> Vec<String> {
        let labelled = |label: &str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                String::new()
            } else {
                format!("{label} {v}")
            }
        };
        let bank = super::text::join_nonempty(
            &[
                self.bank.trim(),
                &labelled("IBAN", &self.iban),
                &labelled("BIC", &self.bic),
            ],
            " · ",
        );
        let legal = super::text::join_nonempty(
            &[
                &labelled("Steuernummer", &self.tax_number),
                self.register.trim(),
            ],
            " · ",
        );
        [bank, legal]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// The practice's letterhead ("Briefkopf"): logo, a details block under the contact lines
/// and the business details in the footer. Letters without one look as before.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Letterhead {
    #[serde(default)]
    pub logo: Option<LetterheadLogo>,
    /// Practice details block ("Praxis für Physiotherapie", "Inhaberin Maria Schmidt"); at
    /// most [`Letterhead::MAX_DETAIL_LINES`] lines (2 fit in Form B, 1 in Form A).
    #[serde(default)]
    pub details: Vec<String>,
    #[serde(default)]
    pub business: BusinessDetails,
}

impl Letterhead {
    pub const MAX_DETAIL_LINES: usize = 2;

    /// The non-empty detail lines, at most [`Letterhead::MAX_DETAIL_LINES`].
    pub fn detail_lines(&self) -> Vec<&str> {
        self.details
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .take(Self::MAX_DETAIL_LINES)
            .collect()
    }
}

/// Bytes as standard base64 text (serde `with`).
pub mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logo_files_are_checked_by_size_and_content() {
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        assert_eq!(check_logo(&png), Ok(ImageKind::Png));
        assert_eq!(check_logo(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(ImageKind::Jpeg));
        assert_eq!(
            check_logo(b"<?xml version=\"1.0\"?><svg xmlns=\"x\"/>"),
            Err(LogoError::Svg)
        );
        assert_eq!(check_logo(b"GIF89a"), Err(LogoError::NotAnImage));
        let mut big = png.clone();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        assert_eq!(check_logo(&big), Err(LogoError::TooLarge));
        big.truncate(MAX_LOGO_BYTES);
        assert_eq!(check_logo(&big), Ok(ImageKind::Png));
    }

    #[test]
    fn svg_aspect_from_lengths_or_view_box() {
        let cases: [(&str, Option<f32>); 9] = [
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50">"#,
                Some(4.0),
            ),
            (
                r#"<svg width='60mm' height='20mm' viewBox='0 0 10 10'>"#,
                Some(3.0),
            ),
            (r#"<svg height="1in" width="72pt">"#, Some(1.0)),
            (
                r#"<?xml version="1.0"?><!-- x --><svg viewBox="0 0 300 100">"#,
                Some(3.0),
            ),
            (
                r#"<svg width="100%" height="100%" viewBox="0,0,50,100">"#,
                Some(0.5),
            ),
            (r#"<svg stroke-width="3" viewBox="0 0 40 20">"#, Some(2.0)),
            (r#"<svg width="100" height="0">"#, None),
            (r#"<svg viewBox="0 0 0 10">"#, None),
            ("<html>", None),
        ];
        for (svg, want) in cases {
            assert_eq!(svg_aspect(svg.as_bytes()), want, "{svg}");
        }
        assert_eq!(svg_raster_size(4.0), (1200, 300));
        assert_eq!(svg_raster_size(0.5), (600, 1200));
        assert_eq!(svg_raster_size(5000.0), (1200, 1));
    }

    #[test]
    fn business_details_make_the_footer_lines() {
        let b = BusinessDetails {
            bank: "Berliner Bank".into(),
            iban: " DE02 1203 ".into(),
            bic: "".into(),
            tax_number: "".into(),
            register: "".into(),
        };
        assert_eq!(b.footer_lines(), vec!["Berliner Bank · IBAN DE02 1203"]);
        assert!(BusinessDetails::default().footer_lines().is_empty());
        let l = Letterhead {
            details: vec![" a ".into(), "".into(), "b".into(), "c".into()],
            ..Default::default()
        };
        assert_eq!(l.detail_lines(), vec!["a", "b"]);
        // JSON: the logo bytes as base64, the position in lower case.
        let l = Letterhead {
            logo: Some(LetterheadLogo {
                bytes: vec![1, 2, 3],
                width_mm: 30.0,
                position: LogoPosition::Left,
            }),
            ..Default::default()
        };
        let json = serde_json::to_string(&l).unwrap();
        assert!(
            json.contains(r#""bytes":"AQID""#) && json.contains(r#""left""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Letterhead>(&json).unwrap(), l);
        assert_eq!(
            serde_json::from_str::<Letterhead>("{}").unwrap(),
            Letterhead::default()
        );
    }

    #[test]
    fn full_name_skips_empty_parts() {
        let p = Person {
            title: "Dr.".into(),
            first_name: "".into(),
            last_name: "Müller".into(),
            ..Default::default()
        };
        assert_eq!(p.full_name(), "Dr. Müller");
        assert_eq!(p.sort_name(), "Müller");
    }

    #[test]
    fn person_serialisation_has_no_sensitive_fields() {
        let p = Person {
            first_name: "Anna".into(),
            last_name: "Müller".into(),
            ..Default::default()
        };
        let json = serde_json::to_string(&p).unwrap();
        for forbidden in ["birth", "profession", "insurance"] {
            assert!(
                !json.contains(forbidden),
                "{forbidden} leaked into Person: {json}"
            );
        }
    }
}
