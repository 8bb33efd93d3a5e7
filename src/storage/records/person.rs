//! The stored person: `PersonRecordV1` and the one conversion between it and the domain's
//! `PersonRecord`. When the domain's person changes (e.g. consents as an event history), the
//! change lands here: a `PersonRecordV2` with a step `V1 → V2`, `encode` writing V2.
//!
//! The text fields are `Cow`s: encoding borrows from the domain record (a bulk import of
//! 100,000 persons copies no string), decoding owns.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{parse, record_enum, write, DecodeError, Stored};
use crate::domain::{
    Channel, Consent, Consents, Evidence, Gender, InsuranceKind, Kind, Person, PersonId,
    PersonRecord, PostalAddress, Purpose, Sensitive, WithdrawalSource,
};
use crate::storage::Result;

/// The record version `encode` writes.
pub const VERSION: u32 = 1;

record_enum!(KindV1 <=> Kind { Patient, Prospect });
record_enum!(GenderV1 <=> Gender { Female, Male, Diverse, Unknown });
record_enum!(ChannelV1 <=> Channel { Letter, Sms, Email });
record_enum!(PurposeV1 <=> Purpose { AppointmentReminder, Birthday, Invitation, Recall, Other });
record_enum!(EvidenceV1 <=> Evidence { WrittenForm, OnlineForm, DoubleOptIn, Verbal });
record_enum!(WithdrawalSourceV1 <=> WithdrawalSource { Practice, UnsubscribeLink });
record_enum!(InsuranceKindV1 <=> InsuranceKind { Statutory, Private, SelfPay, Unknown });

/// A postal address (also used by the settings record).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressV1<'a> {
    #[serde(default)]
    pub street: Cow<'a, str>,
    #[serde(default)]
    pub house_number: Cow<'a, str>,
    #[serde(default)]
    pub extra: Cow<'a, str>,
    #[serde(default)]
    pub postcode: Cow<'a, str>,
    #[serde(default)]
    pub city: Cow<'a, str>,
    #[serde(default)]
    pub country: Cow<'a, str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentV1 {
    pub channel: ChannelV1,
    pub purpose: PurposeV1,
    pub given_at: NaiveDate,
    pub evidence: EvidenceV1,
    #[serde(default)]
    pub withdrawn_at: Option<NaiveDate>,
    #[serde(default)]
    pub withdrawn_source: Option<WithdrawalSourceV1>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonV1<'a> {
    pub id: Cow<'a, str>,
    pub kind: KindV1,
    #[serde(default)]
    pub title: Cow<'a, str>,
    pub first_name: Cow<'a, str>,
    pub last_name: Cow<'a, str>,
    pub gender: GenderV1,
    #[serde(default)]
    pub address: AddressV1<'a>,
    #[serde(default)]
    pub email: Cow<'a, str>,
    #[serde(default)]
    pub mobile: Cow<'a, str>,
    #[serde(default)]
    pub landline: Cow<'a, str>,
    #[serde(default)]
    pub tags: Cow<'a, [String]>,
    #[serde(default)]
    pub consents: Vec<ConsentV1>,
    #[serde(default)]
    pub external_id: Option<Cow<'a, str>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitiveV1<'a> {
    #[serde(default)]
    pub birth_date: Option<NaiveDate>,
    #[serde(default)]
    pub profession: Cow<'a, str>,
    #[serde(default)]
    pub insurance_kind: InsuranceKindV1,
    #[serde(default)]
    pub insurance_number: Cow<'a, str>,
}

impl Default for InsuranceKindV1 {
    fn default() -> Self {
        InsuranceKind::default().into()
    }
}

/// Version 1 of the stored person: the template-safe part and the sensitive part side by
/// side (the JSON shape praxisbote has stored since schema 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecordV1<'a> {
    pub person: PersonV1<'a>,
    #[serde(default)]
    pub sensitive: SensitiveV1<'a>,
}

impl<'a> From<&'a PostalAddress> for AddressV1<'a> {
    fn from(a: &'a PostalAddress) -> Self {
        AddressV1 {
            street: Cow::Borrowed(&a.street),
            house_number: Cow::Borrowed(&a.house_number),
            extra: Cow::Borrowed(&a.extra),
            postcode: Cow::Borrowed(&a.postcode),
            city: Cow::Borrowed(&a.city),
            country: Cow::Borrowed(&a.country),
        }
    }
}

impl AddressV1<'_> {
    pub fn into_owned(self) -> AddressV1<'static> {
        AddressV1 {
            street: Cow::Owned(self.street.into_owned()),
            house_number: Cow::Owned(self.house_number.into_owned()),
            extra: Cow::Owned(self.extra.into_owned()),
            postcode: Cow::Owned(self.postcode.into_owned()),
            city: Cow::Owned(self.city.into_owned()),
            country: Cow::Owned(self.country.into_owned()),
        }
    }
}

impl From<AddressV1<'_>> for PostalAddress {
    fn from(a: AddressV1<'_>) -> Self {
        PostalAddress {
            street: a.street.into_owned(),
            house_number: a.house_number.into_owned(),
            extra: a.extra.into_owned(),
            postcode: a.postcode.into_owned(),
            city: a.city.into_owned(),
            country: a.country.into_owned(),
        }
    }
}

impl From<&Consent> for ConsentV1 {
    fn from(c: &Consent) -> Self {
        ConsentV1 {
            channel: c.channel.into(),
            purpose: c.purpose.into(),
            given_at: c.given_at,
            evidence: c.evidence.into(),
            withdrawn_at: c.withdrawn_at,
            withdrawn_source: c.withdrawn_source.map(Into::into),
        }
    }
}

impl From<ConsentV1> for Consent {
    fn from(c: ConsentV1) -> Self {
        Consent {
            channel: c.channel.into(),
            purpose: c.purpose.into(),
            given_at: c.given_at,
            evidence: c.evidence.into(),
            withdrawn_at: c.withdrawn_at,
            withdrawn_source: c.withdrawn_source.map(Into::into),
        }
    }
}

impl<'a> From<&'a PersonRecord> for PersonRecordV1<'a> {
    fn from(r: &'a PersonRecord) -> Self {
        let p = &r.person;
        let s = &r.sensitive;
        PersonRecordV1 {
            person: PersonV1 {
                id: Cow::Borrowed(&p.id.0),
                kind: p.kind.into(),
                title: Cow::Borrowed(&p.title),
                first_name: Cow::Borrowed(&p.first_name),
                last_name: Cow::Borrowed(&p.last_name),
                gender: p.gender.into(),
                address: (&p.address).into(),
                email: Cow::Borrowed(&p.email),
                mobile: Cow::Borrowed(&p.mobile),
                landline: Cow::Borrowed(&p.landline),
                tags: Cow::Borrowed(&p.tags),
                consents: p.consents.0.iter().map(Into::into).collect(),
                external_id: p.external_id.as_deref().map(Cow::Borrowed),
            },
            sensitive: SensitiveV1 {
                birth_date: s.birth_date,
                profession: Cow::Borrowed(&s.profession),
                insurance_kind: s.insurance_kind.into(),
                insurance_number: Cow::Borrowed(&s.insurance_number),
            },
        }
    }
}

impl From<PersonRecordV1<'_>> for PersonRecord {
    fn from(r: PersonRecordV1<'_>) -> Self {
        let p = r.person;
        let s = r.sensitive;
        PersonRecord {
            person: Person {
                id: PersonId(p.id.into_owned()),
                kind: p.kind.into(),
                title: p.title.into_owned(),
                first_name: p.first_name.into_owned(),
                last_name: p.last_name.into_owned(),
                gender: p.gender.into(),
                address: p.address.into(),
                email: p.email.into_owned(),
                mobile: p.mobile.into_owned(),
                landline: p.landline.into_owned(),
                tags: p.tags.into_owned(),
                consents: Consents(p.consents.into_iter().map(Into::into).collect()),
                external_id: p.external_id.map(Cow::into_owned),
            },
            sensitive: Sensitive {
                birth_date: s.birth_date,
                profession: s.profession.into_owned(),
                insurance_kind: s.insurance_kind.into(),
                insurance_number: s.insurance_number.into_owned(),
            },
        }
    }
}

/// The stored form of a person (current version).
pub fn encode(r: &PersonRecord) -> Result<Stored> {
    write(&r.person.id.0, VERSION, &PersonRecordV1::from(r))
}

/// Appends the body of the current version of `r` to `out` (bulk writes pack many bodies
/// into one string); `out` is unchanged on error.
pub fn encode_into(r: &PersonRecord, out: &mut String) -> Result<()> {
    super::write_into(&r.person.id.0, &PersonRecordV1::from(r), out)
}

/// A stored person of any known version, converted forward to the domain's person.
pub fn decode(s: &Stored) -> Result<PersonRecord, DecodeError> {
    match s.v {
        1 => parse::<PersonRecordV1>(&s.body).map(Into::into),
        v => Err(DecodeError::UnknownVersion(v)),
    }
}
