//! The data model: persons, consents, appointments and practice settings.
//!
//! Privacy by construction: everything a template may ever see lives on [`Person`]; the
//! sensitive master data (birth date, profession, insurance) lives on [`Sensitive`], a
//! separate type that is stored beside the person in a [`PersonRecord`]. Code that builds a
//! template context takes a `&Person` and so cannot reach the sensitive data by accident.
//! Treatment data (diagnosis, anamnesis, therapy, findings) is not modelled at all.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

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

    /// Birthday greetings, recalls and invitations count as advertising (§7 (2) UWG).
    pub fn is_advertising(self) -> bool {
        matches!(
            self,
            Purpose::Birthday | Purpose::Invitation | Purpose::Recall
        )
    }
}

/// How a consent was given (the practice must be able to prove it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    WrittenForm,
    OnlineForm,
    DoubleOptIn,
    Verbal,
}

impl Evidence {
    pub const ALL: [Evidence; 4] = [
        Evidence::WrittenForm,
        Evidence::OnlineForm,
        Evidence::DoubleOptIn,
        Evidence::Verbal,
    ];

    pub fn label_de(self) -> &'static str {
        match self {
            Evidence::WrittenForm => "schriftlich",
            Evidence::OnlineForm => "Online-Formular",
            Evidence::DoubleOptIn => "Double-Opt-in",
            Evidence::Verbal => "mündlich",
        }
    }
}

/// Who or what withdrew a consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalSource {
    /// Entered by the practice (the person said so).
    Practice,
    /// The person clicked the unsubscribe link of an e-mail ("Abmeldelink").
    UnsubscribeLink,
}

impl WithdrawalSource {
    pub fn label_de(self) -> &'static str {
        match self {
            WithdrawalSource::Practice => "Praxis",
            WithdrawalSource::UnsubscribeLink => "Abmeldelink",
        }
    }
}

/// One consent: a channel and purpose, when and how it was given, and whether withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub channel: Channel,
    pub purpose: Purpose,
    pub given_at: NaiveDate,
    pub evidence: Evidence,
    #[serde(default)]
    pub withdrawn_at: Option<NaiveDate>,
    #[serde(default)]
    pub withdrawn_source: Option<WithdrawalSource>,
}

impl Consent {
    pub fn is_active(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

/// The consent state of one channel × purpose cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentStatus<'a> {
    Granted(&'a Consent),
    Withdrawn(&'a Consent),
    Missing,
}

impl ConsentStatus<'_> {
    pub fn allows(&self) -> bool {
        matches!(self, ConsentStatus::Granted(_))
    }
}

/// The consent matrix of one person: at most one entry per channel × purpose.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Consents(pub Vec<Consent>);

impl Consents {
    pub fn get(&self, channel: Channel, purpose: Purpose) -> Option<&Consent> {
        self.0
            .iter()
            .find(|c| c.channel == channel && c.purpose == purpose)
    }

    pub fn status(&self, channel: Channel, purpose: Purpose) -> ConsentStatus<'_> {
        match self.get(channel, purpose) {
            Some(c) if c.is_active() => ConsentStatus::Granted(c),
            Some(c) => ConsentStatus::Withdrawn(c),
            None => ConsentStatus::Missing,
        }
    }

    pub fn allows(&self, channel: Channel, purpose: Purpose) -> bool {
        self.status(channel, purpose).allows()
    }

    /// Records a consent for a cell, replacing an earlier one (also a withdrawn one).
    pub fn grant(
        &mut self,
        channel: Channel,
        purpose: Purpose,
        given_at: NaiveDate,
        evidence: Evidence,
    ) {
        self.0
            .retain(|c| !(c.channel == channel && c.purpose == purpose));
        self.0.push(Consent {
            channel,
            purpose,
            given_at,
            evidence,
            withdrawn_at: None,
            withdrawn_source: None,
        });
        self.0.sort_by_key(|c| (c.channel, c.purpose));
    }

    /// Withdraws the consent of a cell; returns false when there was no active consent.
    pub fn withdraw(
        &mut self,
        channel: Channel,
        purpose: Purpose,
        at: NaiveDate,
        source: WithdrawalSource,
    ) -> bool {
        match self
            .0
            .iter_mut()
            .find(|c| c.channel == channel && c.purpose == purpose && c.is_active())
        {
            Some(c) => {
                c.withdrawn_at = Some(at);
                c.withdrawn_source = Some(source);
                true
            }
            None => false,
        }
    }

    /// Removes the entry of a cell entirely (for correcting mistakes in the form).
    pub fn remove(&mut self, channel: Channel, purpose: Purpose) {
        self.0
            .retain(|c| !(c.channel == channel && c.purpose == purpose));
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
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn consent_is_per_channel_and_purpose() {
        let mut c = Consents::default();
        c.grant(
            Channel::Sms,
            Purpose::AppointmentReminder,
            d(2026, 1, 2),
            Evidence::WrittenForm,
        );
        assert!(c.allows(Channel::Sms, Purpose::AppointmentReminder));
        assert!(!c.allows(Channel::Sms, Purpose::Recall));
        assert!(!c.allows(Channel::Email, Purpose::AppointmentReminder));
    }

    #[test]
    fn withdrawn_consent_does_not_allow() {
        let mut c = Consents::default();
        c.grant(
            Channel::Email,
            Purpose::Birthday,
            d(2025, 3, 4),
            Evidence::DoubleOptIn,
        );
        assert!(c.withdraw(
            Channel::Email,
            Purpose::Birthday,
            d(2026, 5, 6),
            WithdrawalSource::UnsubscribeLink
        ));
        assert!(!c.allows(Channel::Email, Purpose::Birthday));
        match c.status(Channel::Email, Purpose::Birthday) {
            ConsentStatus::Withdrawn(x) => {
                assert_eq!(x.withdrawn_at, Some(d(2026, 5, 6)));
                assert_eq!(x.withdrawn_source, Some(WithdrawalSource::UnsubscribeLink));
            }
            other => panic!("expected withdrawn, got {other:?}"),
        }
        // A second withdrawal finds nothing active.
        assert!(!c.withdraw(
            Channel::Email,
            Purpose::Birthday,
            d(2026, 5, 7),
            WithdrawalSource::Practice
        ));
        // Granting again replaces the withdrawn entry.
        c.grant(
            Channel::Email,
            Purpose::Birthday,
            d(2026, 6, 1),
            Evidence::WrittenForm,
        );
        assert!(c.allows(Channel::Email, Purpose::Birthday));
        assert_eq!(c.0.len(), 1);
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
