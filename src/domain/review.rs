//! The review window ("Überprüfung"): one row per selected recipient for a channel and
//! purpose, with the data the channel needs, reachability, consent, the include flag,
//! warnings, counts and the hand-over to the composer.
//!
//! Rules:
//! - Letter: the full postal address; unreachable when [`address_problems`] finds any.
//! - SMS: the mobile number in E.164. The `mobile` field is used; when it is empty or holds
//!   no SMS-capable number, a mobile number in the `landline` field is used instead (imports
//!   often mix them up). Unreachable: no number, landline only, invalid number.
//! - E-mail: the checked address; unreachable when missing or invalid.
//! - "erlaubt": JA only for an active consent for this channel *and* purpose; a withdrawn
//!   consent is NEIN (the row keeps its dates for the tooltip).
//! - Included by default when reachable and consented. An unreachable row can never be
//!   included. A reachable row without consent is only included through
//!   [`Review::include_without_consent`] with a non-empty reason; that becomes a
//!   [`ConsentOverride`] for the audit log.
//! - Flags: the same contact (address, number or e-mail) used by several different persons;
//!   the same person selected more than once.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::address::{address_key, address_lines, address_problems, problems_de, AddressProblem};
use super::email::{check_email, EmailError};
use super::model::{
    AppointmentId, Channel, ConsentStatus, Evidence, Person, PersonId, PersonRecord, Purpose,
};
use super::phone::{parse_phone, LineType, PhoneError};
use super::selection::Recipient;

/// Why a channel cannot reach a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// The recipient's person does not exist (deleted since selection).
    UnknownPerson,
    NoEmail,
    InvalidEmail(EmailError),
    NoMobile,
    /// Only landline (or service) numbers: SMS impossible.
    LandlineOnly,
    InvalidNumber(PhoneError),
    IncompleteAddress(Vec<AddressProblem>),
}

impl Unreachable {
    pub fn message_de(&self) -> String {
        match self {
            Unreachable::UnknownPerson => "Person nicht gefunden".into(),
            Unreachable::NoEmail => "Keine E-Mail-Adresse".into(),
            Unreachable::InvalidEmail(e) => format!("Ungültige E-Mail-Adresse: {}", e.message_de()),
            Unreachable::NoMobile => "Keine Mobilnummer".into(),
            Unreachable::LandlineOnly => "Nur Festnetznummer – keine SMS möglich".into(),
            Unreachable::InvalidNumber(e) => format!("Ungültige Mobilnummer: {}", e.message_de()),
            Unreachable::IncompleteAddress(p) => {
                format!("Adresse unvollständig: {}", problems_de(p))
            }
        }
    }
}

/// The channel-specific contact column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Contact {
    /// Address lines (name, street, addition, postcode and city, country).
    Postal(Vec<String>),
    /// E.164 number.
    Mobile(String),
    Email(String),
    /// What was entered, when it is unusable (shown in the red row), possibly empty.
    Raw(String),
}

impl Contact {
    /// One-line text for the table cell.
    pub fn display(&self) -> String {
        match self {
            Contact::Postal(lines) => lines.join(", "),
            Contact::Mobile(s) | Contact::Email(s) | Contact::Raw(s) => s.clone(),
        }
    }
}

/// The "erlaubt" cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentCell {
    pub allowed: bool,
    pub given_at: Option<NaiveDate>,
    pub evidence: Option<Evidence>,
    pub withdrawn_at: Option<NaiveDate>,
}

impl ConsentCell {
    fn of(status: ConsentStatus<'_>) -> ConsentCell {
        match status {
            ConsentStatus::Granted(c) => ConsentCell {
                allowed: true,
                given_at: Some(c.given_at),
                evidence: Some(c.evidence),
                withdrawn_at: None,
            },
            ConsentStatus::Withdrawn(c) => ConsentCell {
                allowed: false,
                given_at: Some(c.given_at),
                evidence: Some(c.evidence),
                withdrawn_at: c.withdrawn_at,
            },
            ConsentStatus::Missing => ConsentCell {
                allowed: false,
                given_at: None,
                evidence: None,
                withdrawn_at: None,
            },
        }
    }

    /// "JA" or "NEIN".
    pub fn label_de(&self) -> &'static str {
        if self.allowed {
            "JA"
        } else {
            "NEIN"
        }
    }

    /// Tooltip: "Einwilligung vom 02.01.2026 (schriftlich)", "Widerrufen am …", "Keine
    /// Einwilligung".
    pub fn detail_de(&self) -> String {
        let fmt = |d: NaiveDate| d.format("%d.%m.%Y").to_string();
        let given = match (self.given_at, self.evidence) {
            (Some(g), Some(e)) => format!("Einwilligung vom {} ({})", fmt(g), e.label_de()),
            (Some(g), None) => format!("Einwilligung vom {}", fmt(g)),
            _ => return "Keine Einwilligung".into(),
        };
        match self.withdrawn_at {
            Some(w) => format!("{given}, widerrufen am {}", fmt(w)),
            None => given,
        }
    }
}

/// Warnings on a row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowFlags {
    /// Number of *other* persons in the review with the same contact.
    pub shared_contact_with: u32,
    /// Number of rows of the same person (1 = selected once).
    pub person_rows: u32,
}

impl RowFlags {
    pub fn any(&self) -> bool {
        self.shared_contact_with > 0 || self.person_rows > 1
    }

    /// German warnings for the row.
    pub fn messages_de(&self, channel: Channel) -> Vec<String> {
        let mut v = Vec::new();
        if self.shared_contact_with > 0 {
            let what = match channel {
                Channel::Letter => "Gleiche Adresse",
                Channel::Sms => "Gleiche Nummer",
                Channel::Email => "Gleiche E-Mail-Adresse",
            };
            let n = self.shared_contact_with;
            v.push(if n == 1 {
                format!("{what} wie 1 weitere Person")
            } else {
                format!("{what} wie {n} weitere Personen")
            });
        }
        if self.person_rows > 1 {
            v.push(format!("Person {}-mal ausgewählt", self.person_rows));
        }
        v
    }
}

/// One row of the review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewRow {
    pub recipient: Recipient,
    /// "Müller, Anna".
    pub name: String,
    pub contact: Contact,
    /// `None` when reachable.
    pub unreachable: Option<Unreachable>,
    pub consent: ConsentCell,
    pub included: bool,
    /// Reason given when included without consent.
    pub override_reason: Option<String>,
    pub flags: RowFlags,
    /// Normalised contact key for the shared-contact flag (empty when unreachable).
    contact_key: String,
}

impl ReviewRow {
    pub fn is_reachable(&self) -> bool {
        self.unreachable.is_none()
    }

    /// Red row?
    pub fn is_red(&self) -> bool {
        self.unreachable.is_some()
    }

    /// German reason of a red row.
    pub fn reason_de(&self) -> Option<String> {
        self.unreachable.as_ref().map(Unreachable::message_de)
    }
}

/// An inclusion without consent, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentOverride {
    pub person_id: PersonId,
    #[serde(default)]
    pub appointment_id: Option<AppointmentId>,
    pub channel: Channel,
    pub purpose: Purpose,
    pub reason: String,
    pub at: NaiveDateTime,
}

/// Why a change of the include flag was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewError {
    NoSuchRow,
    /// The channel cannot reach the person.
    Unreachable,
    /// No consent: use [`Review::include_without_consent`] with a reason.
    NeedsConsentOverride,
    EmptyReason,
}

impl ReviewError {
    pub fn message_de(&self) -> &'static str {
        match self {
            ReviewError::NoSuchRow => "Zeile nicht gefunden",
            ReviewError::Unreachable => "Diese Person ist über den gewählten Weg nicht erreichbar",
            ReviewError::NeedsConsentOverride => {
                "Keine Einwilligung: Aufnahme nur mit Bestätigung und Begründung"
            }
            ReviewError::EmptyReason => "Bitte eine Begründung angeben",
        }
    }
}

impl std::fmt::Display for ReviewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message_de())
    }
}

impl std::error::Error for ReviewError {}

/// Counts shown above the table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCounts {
    pub selected: usize,
    pub reachable: usize,
    pub consented: usize,
    /// Reachable and consented.
    pub reachable_and_consented: usize,
    pub included: usize,
    pub flagged: usize,
}

/// One recipient handed to the composer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverRecipient {
    pub person_id: PersonId,
    #[serde(default)]
    pub appointment_id: Option<AppointmentId>,
    pub contact: Contact,
    /// Whether this recipient was included without consent (see `overrides`).
    #[serde(default)]
    pub consent_override: bool,
}

/// What "Übernahme" passes to the composer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub channel: Channel,
    pub purpose: Purpose,
    pub recipients: Vec<HandoverRecipient>,
    /// Inclusions without consent, for the audit log.
    pub overrides: Vec<ConsentOverride>,
}

/// The review of one selection for one channel and purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub channel: Channel,
    pub purpose: Purpose,
    pub rows: Vec<ReviewRow>,
    overrides: HashMap<usize, ConsentOverride>,
}

/// SMS contact: the first SMS-capable number of the `mobile` then the `landline` field.
fn sms_contact(p: &Person) -> Result<String, (Unreachable, String)> {
    let mobile = p.mobile.trim();
    let landline = p.landline.trim();
    let parsed_mobile = (!mobile.is_empty()).then(|| parse_phone(mobile));
    if let Some(Ok(n)) = &parsed_mobile {
        if n.is_sms_capable() {
            return Ok(n.e164());
        }
    }
    let parsed_landline = (!landline.is_empty()).then(|| parse_phone(landline));
    if let Some(Ok(n)) = &parsed_landline {
        if n.line_type == LineType::Mobile {
            return Ok(n.e164());
        }
    }
    let raw = if mobile.is_empty() { landline } else { mobile }.to_string();
    let err = match (parsed_mobile, parsed_landline) {
        (Some(Err(e)), _) => Unreachable::InvalidNumber(e),
        (Some(Ok(_)), _) | (None, Some(Ok(_))) => Unreachable::LandlineOnly,
        (None, Some(Err(e))) => Unreachable::InvalidNumber(e),
        (None, None) => Unreachable::NoMobile,
    };
    Err((err, raw))
}

fn contact_of(channel: Channel, p: &Person) -> (Contact, Option<Unreachable>, String) {
    match channel {
        Channel::Letter => {
            let problems = address_problems(&p.address);
            let lines = address_lines(p);
            if problems.is_empty() {
                (Contact::Postal(lines), None, address_key(&p.address))
            } else {
                (
                    Contact::Postal(lines),
                    Some(Unreachable::IncompleteAddress(problems)),
                    String::new(),
                )
            }
        }
        Channel::Sms => match sms_contact(p) {
            Ok(e164) => (Contact::Mobile(e164.clone()), None, e164),
            Err((why, raw)) => (Contact::Raw(raw), Some(why), String::new()),
        },
        Channel::Email => {
            if p.email.trim().is_empty() {
                return (
                    Contact::Raw(String::new()),
                    Some(Unreachable::NoEmail),
                    String::new(),
                );
            }
            match check_email(&p.email) {
                Ok(e) => {
                    let key = e.key();
                    (Contact::Email(e.display()), None, key)
                }
                Err(err) => (
                    Contact::Raw(p.email.trim().to_string()),
                    Some(Unreachable::InvalidEmail(err)),
                    String::new(),
                ),
            }
        }
    }
}

impl Review {
    /// Builds the review. `lookup` finds a person by id (storage or an in-memory map); it is
    /// given only the template-safe [`Person`], never sensitive data.
    pub fn build<'p>(
        channel: Channel,
        purpose: Purpose,
        recipients: &[Recipient],
        lookup: impl Fn(&PersonId) -> Option<&'p Person>,
    ) -> Review {
        let mut rows: Vec<ReviewRow> = recipients
            .iter()
            .map(|r| match lookup(&r.person_id) {
                Some(p) => {
                    let (contact, unreachable, contact_key) = contact_of(channel, p);
                    let consent = ConsentCell::of(p.consents.status(channel, purpose));
                    let included = unreachable.is_none() && consent.allowed;
                    ReviewRow {
                        recipient: r.clone(),
                        name: p.sort_name(),
                        contact,
                        unreachable,
                        consent,
                        included,
                        override_reason: None,
                        flags: RowFlags::default(),
                        contact_key,
                    }
                }
                None => ReviewRow {
                    recipient: r.clone(),
                    name: r.person_id.0.clone(),
                    contact: Contact::Raw(String::new()),
                    unreachable: Some(Unreachable::UnknownPerson),
                    consent: ConsentCell::of(ConsentStatus::Missing),
                    included: false,
                    override_reason: None,
                    flags: RowFlags::default(),
                    contact_key: String::new(),
                },
            })
            .collect();

        // Same person several times.
        let mut per_person: HashMap<&PersonId, u32> = HashMap::with_capacity(rows.len());
        for r in &rows {
            *per_person.entry(&r.recipient.person_id).or_default() += 1;
        }
        // Same contact, different persons: distinct persons per contact key.
        let mut per_contact: HashMap<&str, Vec<&PersonId>> = HashMap::with_capacity(rows.len());
        for r in &rows {
            if r.contact_key.is_empty() {
                continue;
            }
            let persons = per_contact.entry(r.contact_key.as_str()).or_default();
            if !persons.contains(&&r.recipient.person_id) {
                persons.push(&r.recipient.person_id);
            }
        }
        let flags: Vec<RowFlags> = rows
            .iter()
            .map(|r| RowFlags {
                person_rows: per_person[&r.recipient.person_id],
                shared_contact_with: if r.contact_key.is_empty() {
                    0
                } else {
                    per_contact[r.contact_key.as_str()].len() as u32 - 1
                },
            })
            .collect();
        drop(per_person);
        drop(per_contact);
        for (row, f) in rows.iter_mut().zip(flags) {
            row.flags = f;
        }
        Review {
            channel,
            purpose,
            rows,
            overrides: HashMap::new(),
        }
    }

    /// Convenience over a slice of records (builds an id map of the records).
    pub fn build_from_records(
        channel: Channel,
        purpose: Purpose,
        recipients: &[Recipient],
        records: &[PersonRecord],
    ) -> Review {
        let map: HashMap<&PersonId, &Person> =
            records.iter().map(|r| (&r.person.id, &r.person)).collect();
        Review::build(channel, purpose, recipients, |id| map.get(id).copied())
    }

    /// Include or exclude a row. Including needs reachability and consent; excluding always
    /// works (and drops a consent override of that row).
    pub fn set_included(&mut self, row: usize, include: bool) -> Result<(), ReviewError> {
        let r = self.rows.get_mut(row).ok_or(ReviewError::NoSuchRow)?;
        if !include {
            r.included = false;
            r.override_reason = None;
            self.overrides.remove(&row);
            return Ok(());
        }
        if !r.is_reachable() {
            return Err(ReviewError::Unreachable);
        }
        if !r.consent.allowed && r.override_reason.is_none() {
            return Err(ReviewError::NeedsConsentOverride);
        }
        r.included = true;
        Ok(())
    }

    /// Includes a reachable row without consent, after explicit confirmation with a reason.
    /// `at` is the time of the decision (the domain has no clock).
    pub fn include_without_consent(
        &mut self,
        row: usize,
        reason: &str,
        at: NaiveDateTime,
    ) -> Result<(), ReviewError> {
        let (channel, purpose) = (self.channel, self.purpose);
        let r = self.rows.get_mut(row).ok_or(ReviewError::NoSuchRow)?;
        if !r.is_reachable() {
            return Err(ReviewError::Unreachable);
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ReviewError::EmptyReason);
        }
        if r.consent.allowed {
            r.included = true;
            return Ok(());
        }
        r.included = true;
        r.override_reason = Some(reason.to_string());
        self.overrides.insert(
            row,
            ConsentOverride {
                person_id: r.recipient.person_id.clone(),
                appointment_id: r.recipient.appointment_id.clone(),
                channel,
                purpose,
                reason: reason.to_string(),
                at,
            },
        );
        Ok(())
    }

    /// "Nur mit Einwilligung": excludes every row without consent (also overridden ones).
    /// Returns how many rows were excluded.
    pub fn remove_all_without_consent(&mut self) -> usize {
        let mut n = 0;
        for (i, r) in self.rows.iter_mut().enumerate() {
            if !r.consent.allowed && r.included {
                r.included = false;
                r.override_reason = None;
                self.overrides.remove(&i);
                n += 1;
            }
        }
        n
    }

    /// Back to the defaults (reachable and consented), dropping all overrides.
    pub fn reset(&mut self) {
        for r in &mut self.rows {
            r.included = r.is_reachable() && r.consent.allowed;
            r.override_reason = None;
        }
        self.overrides.clear();
    }

    pub fn counts(&self) -> ReviewCounts {
        let mut c = ReviewCounts {
            selected: self.rows.len(),
            ..Default::default()
        };
        for r in &self.rows {
            c.reachable += r.is_reachable() as usize;
            c.consented += r.consent.allowed as usize;
            c.reachable_and_consented += (r.is_reachable() && r.consent.allowed) as usize;
            c.included += r.included as usize;
            c.flagged += r.flags.any() as usize;
        }
        c
    }

    /// Consent overrides of the currently included rows, in row order.
    pub fn overrides(&self) -> Vec<ConsentOverride> {
        let mut v: Vec<(&usize, &ConsentOverride)> = self.overrides.iter().collect();
        v.sort_by_key(|(i, _)| **i);
        v.into_iter().map(|(_, o)| o.clone()).collect()
    }

    /// "Übernahme": the included recipients (with their appointments) in row order.
    pub fn handover(&self) -> Handover {
        Handover {
            channel: self.channel,
            purpose: self.purpose,
            recipients: self
                .rows
                .iter()
                .filter(|r| r.included)
                .map(|r| HandoverRecipient {
                    person_id: r.recipient.person_id.clone(),
                    appointment_id: r.recipient.appointment_id.clone(),
                    contact: r.contact.clone(),
                    consent_override: r.override_reason.is_some(),
                })
                .collect(),
            overrides: self.overrides(),
        }
    }
}
