//! The stored person: `PersonRecordV1` (consents as one cell each: given, evidence, maybe
//! withdrawn), `PersonRecordV2` (consents as an append-only history of events) and
//! `PersonRecordV3` (V2 and the person's own salutation and Du flag), `PersonRecordV4` (V3
//! and the guardians), and the conversions to the domain's `PersonRecord`. `encode` writes
//! V4; a V1 record reads as a history of at most two events (granted by the practice,
//! withdrawn); V1 and V2 read with the salutation by etiquette and formal address; V1–V3
//! read without guardians.
//!
//! The text fields are `Cow`s: encoding borrows from the domain record (a bulk import of
//! 100,000 persons copies no string), decoding owns.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{parse, record_enum, write, DecodeError, Stored};
use crate::domain::{
    Channel, ConsentAction, ConsentEvent, ConsentHistory, ConsentSource, Consents, Evidence,
    Gender, Guardian, InsuranceKind, Kind, Person, PersonId, PersonRecord, PostalAddress, Purpose,
    Sensitive,
};
use crate::storage::Result;

/// The record version `encode` writes.
pub const VERSION: u32 = 4;

record_enum!(KindV1 <=> Kind { Patient, Prospect });
record_enum!(GenderV1 <=> Gender { Female, Male, Diverse, Unknown });
record_enum!(ChannelV1 <=> Channel { Letter, Sms, Email });
record_enum!(PurposeV1 <=> Purpose { AppointmentReminder, Birthday, Invitation, Recall, Other });
record_enum!(EvidenceV1 <=> Evidence { WrittenForm, OnlineForm, DoubleOptIn, Verbal });
record_enum!(ConsentSourceV2 <=> ConsentSource { Practice, UnsubscribeLink, Import, DoubleOptIn });
record_enum!(ConsentActionV2 <=> ConsentAction { Granted, Withdrawn });

/// Who withdrew a version-1 consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalSourceV1 {
    Practice,
    UnsubscribeLink,
}
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

/// One event of a version-2 consent cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEventV2<'a> {
    pub action: ConsentActionV2,
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceV1>,
    pub source: ConsentSourceV2,
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub note: Cow<'a, str>,
}

/// A version-2 consent cell: its events, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentCellV2<'a> {
    pub channel: ChannelV1,
    pub purpose: PurposeV1,
    #[serde(default)]
    pub events: Vec<ConsentEventV2<'a>>,
}

/// The stored person's template-safe part; `C` is the consent cell of the record version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonBody<'a, C> {
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
    #[serde(default = "Vec::new")]
    pub consents: Vec<C>,
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

pub type PersonV1<'a> = PersonBody<'a, ConsentV1>;
pub type PersonV2<'a> = PersonBody<'a, ConsentCellV2<'a>>;

/// The stored person: the template-safe part and the sensitive part side by side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecordBody<'a, C> {
    pub person: PersonBody<'a, C>,
    #[serde(default)]
    pub sensitive: SensitiveV1<'a>,
}

/// Version 1 (the JSON shape praxisbote stored since schema 1): one consent per cell.
pub type PersonRecordV1<'a> = PersonRecordBody<'a, ConsentV1>;
/// Version 2: consents as an event history per cell.
pub type PersonRecordV2<'a> = PersonRecordBody<'a, ConsentCellV2<'a>>;

/// How a person is addressed (version 3): the practice's own salutation ("Hallo Tim"; empty:
/// by etiquette) and the informal "Du".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressingV3<'a> {
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub salutation: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub du: bool,
}

impl AddressingV3<'_> {
    fn is_default(&self) -> bool {
        self.salutation.is_empty() && !self.du
    }
}

/// Version 3: version 2 and how the person is addressed (`addressing`, left out when it is
/// the default).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecordV3<'a> {
    pub person: PersonV2<'a>,
    #[serde(default)]
    pub sensitive: SensitiveV1<'a>,
    #[serde(default, skip_serializing_if = "AddressingV3::is_default")]
    pub addressing: AddressingV3<'a>,
}

/// A guardian (version 4): names, gender, an own address or none (the person's), e-mail,
/// mobile and the consents given on the person's behalf (as version-2 cells).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianV4<'a> {
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub title: Cow<'a, str>,
    #[serde(default)]
    pub first_name: Cow<'a, str>,
    #[serde(default)]
    pub last_name: Cow<'a, str>,
    pub gender: GenderV1,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressV1<'a>>,
    #[serde(default)]
    pub email: Cow<'a, str>,
    #[serde(default)]
    pub mobile: Cow<'a, str>,
    #[serde(default = "Vec::new")]
    pub consents: Vec<ConsentCellV2<'a>>,
}

/// Version 4: version 3 and the guardians (left out when there are none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecordV4<'a> {
    pub person: PersonV2<'a>,
    #[serde(default)]
    pub sensitive: SensitiveV1<'a>,
    #[serde(default, skip_serializing_if = "AddressingV3::is_default")]
    pub addressing: AddressingV3<'a>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardians: Vec<GuardianV4<'a>>,
}

impl<'a> From<&'a Guardian> for GuardianV4<'a> {
    fn from(g: &'a Guardian) -> Self {
        GuardianV4 {
            title: Cow::Borrowed(&g.title),
            first_name: Cow::Borrowed(&g.first_name),
            last_name: Cow::Borrowed(&g.last_name),
            gender: g.gender.into(),
            address: g.address.as_ref().map(Into::into),
            email: Cow::Borrowed(&g.email),
            mobile: Cow::Borrowed(&g.mobile),
            consents: g.consents.cells().iter().map(Into::into).collect(),
        }
    }
}

impl From<GuardianV4<'_>> for Guardian {
    fn from(g: GuardianV4<'_>) -> Self {
        Guardian {
            title: g.title.into_owned(),
            first_name: g.first_name.into_owned(),
            last_name: g.last_name.into_owned(),
            gender: g.gender.into(),
            address: g.address.map(Into::into),
            email: g.email.into_owned(),
            mobile: g.mobile.into_owned(),
            consents: Consents::from(g.consents.into_iter().map(Into::into).collect::<Vec<_>>()),
        }
    }
}

impl<'a> From<&'a PersonRecord> for PersonRecordV4<'a> {
    fn from(r: &'a PersonRecord) -> Self {
        let PersonRecordV3 {
            person,
            sensitive,
            addressing,
        } = PersonRecordV3::from(r);
        PersonRecordV4 {
            person,
            sensitive,
            addressing,
            guardians: r.person.guardians.iter().map(Into::into).collect(),
        }
    }
}

/// The step V3 → V4 is `guardians`; V1–V3 convert without.
impl From<PersonRecordV4<'_>> for PersonRecord {
    fn from(r: PersonRecordV4<'_>) -> Self {
        let mut out = PersonRecord::from(PersonRecordV3 {
            person: r.person,
            sensitive: r.sensitive,
            addressing: r.addressing,
        });
        out.person.guardians = r.guardians.into_iter().map(Into::into).collect();
        out
    }
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

impl From<ConsentV1> for ConsentHistory {
    /// A version-1 cell as history: the grant (recorded by the practice), then the
    /// withdrawal if there was one.
    fn from(c: ConsentV1) -> Self {
        let mut events = vec![ConsentEvent::granted(
            c.given_at,
            c.evidence.into(),
            ConsentSource::Practice,
        )];
        if let Some(date) = c.withdrawn_at {
            let source = match c.withdrawn_source {
                Some(WithdrawalSourceV1::UnsubscribeLink) => ConsentSource::UnsubscribeLink,
                Some(WithdrawalSourceV1::Practice) | None => ConsentSource::Practice,
            };
            events.push(ConsentEvent::withdrawn(date, source));
        }
        ConsentHistory::new(c.channel.into(), c.purpose.into(), events)
    }
}

impl<'a> From<&'a ConsentHistory> for ConsentCellV2<'a> {
    fn from(h: &'a ConsentHistory) -> Self {
        ConsentCellV2 {
            channel: h.channel.into(),
            purpose: h.purpose.into(),
            events: h
                .events()
                .iter()
                .map(|e| ConsentEventV2 {
                    action: e.action.into(),
                    date: e.date,
                    evidence: e.evidence.map(Into::into),
                    source: e.source.into(),
                    note: Cow::Borrowed(&e.note),
                })
                .collect(),
        }
    }
}

impl From<ConsentCellV2<'_>> for ConsentHistory {
    fn from(c: ConsentCellV2<'_>) -> Self {
        let events = c
            .events
            .into_iter()
            .map(|e| ConsentEvent {
                action: e.action.into(),
                date: e.date,
                evidence: e.evidence.map(Into::into),
                source: e.source.into(),
                note: e.note.into_owned(),
            })
            .collect();
        ConsentHistory::new(c.channel.into(), c.purpose.into(), events)
    }
}

impl<'a> From<&'a PersonRecord> for PersonRecordV2<'a> {
    fn from(r: &'a PersonRecord) -> Self {
        let p = &r.person;
        let s = &r.sensitive;
        PersonRecordBody {
            person: PersonBody {
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
                consents: p.consents.cells().iter().map(Into::into).collect(),
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

impl<'a> From<&'a PersonRecord> for PersonRecordV3<'a> {
    fn from(r: &'a PersonRecord) -> Self {
        let PersonRecordBody { person, sensitive } = PersonRecordV2::from(r);
        PersonRecordV3 {
            person,
            sensitive,
            addressing: AddressingV3 {
                salutation: Cow::Borrowed(&r.person.salutation),
                du: r.person.du,
            },
        }
    }
}

/// The step V2 → V3 is `addressing`; V1 and V2 convert with the default (by etiquette,
/// formal).
impl From<PersonRecordV3<'_>> for PersonRecord {
    fn from(r: PersonRecordV3<'_>) -> Self {
        let mut out = PersonRecord::from(PersonRecordBody {
            person: r.person,
            sensitive: r.sensitive,
        });
        out.person.salutation = r.addressing.salutation.into_owned();
        out.person.du = r.addressing.du;
        out
    }
}

impl<C: Into<ConsentHistory>> From<PersonRecordBody<'_, C>> for PersonRecord {
    fn from(r: PersonRecordBody<'_, C>) -> Self {
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
                consents: Consents::from(
                    p.consents.into_iter().map(Into::into).collect::<Vec<_>>(),
                ),
                external_id: p.external_id.map(Cow::into_owned),
                salutation: String::new(),
                du: false,
                guardians: Vec::new(),
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

/// A cell in the version-1 shape: its current grant and the withdrawal after it (`None`
/// for a cell without a grant, which version 1 could not hold).
fn consent_v1(h: &ConsentHistory) -> Option<ConsentV1> {
    let status = h.status();
    let grant = status.grant()?;
    let withdrawn_source = match status {
        crate::domain::ConsentStatus::Withdrawn {
            source: ConsentSource::UnsubscribeLink,
            ..
        } => Some(WithdrawalSourceV1::UnsubscribeLink),
        crate::domain::ConsentStatus::Withdrawn { .. } => Some(WithdrawalSourceV1::Practice),
        _ => None,
    };
    Some(ConsentV1 {
        channel: h.channel.into(),
        purpose: h.purpose.into(),
        given_at: grant.given_at,
        evidence: grant.evidence.into(),
        withdrawn_at: status.withdrawn_at(),
        withdrawn_source,
    })
}

/// A person in the version-1 shape, as schemas 1–2 stored it: only for tests that write
/// old databases (lossy: a consent history keeps its current grant and withdrawal).
pub fn encode_v1(r: &PersonRecord) -> Result<Stored> {
    let v2 = PersonRecordV2::from(r);
    let v1 = PersonRecordV1 {
        person: PersonBody {
            id: v2.person.id,
            kind: v2.person.kind,
            title: v2.person.title,
            first_name: v2.person.first_name,
            last_name: v2.person.last_name,
            gender: v2.person.gender,
            address: v2.person.address,
            email: v2.person.email,
            mobile: v2.person.mobile,
            landline: v2.person.landline,
            tags: v2.person.tags,
            consents: r
                .person
                .consents
                .cells()
                .iter()
                .filter_map(consent_v1)
                .collect(),
            external_id: v2.person.external_id,
        },
        sensitive: v2.sensitive,
    };
    write(&r.person.id.0, 1, &v1)
}

/// A person in the version-2 shape, as stored before the salutation: only for tests of old
/// records (lossy: salutation and Du flag are not kept).
pub fn encode_v2(r: &PersonRecord) -> Result<Stored> {
    write(&r.person.id.0, 2, &PersonRecordV2::from(r))
}

/// A person in the version-3 shape, as stored before the guardians: only for tests of old
/// records (lossy: the guardians are not kept).
pub fn encode_v3(r: &PersonRecord) -> Result<Stored> {
    write(&r.person.id.0, 3, &PersonRecordV3::from(r))
}

/// The stored form of a person (current version).
pub fn encode(r: &PersonRecord) -> Result<Stored> {
    write(&r.person.id.0, VERSION, &PersonRecordV4::from(r))
}

/// Appends the body of the current version of `r` to `out` (bulk writes pack many bodies
/// into one string); `out` is unchanged on error.
pub fn encode_into(r: &PersonRecord, out: &mut String) -> Result<()> {
    super::write_into(&r.person.id.0, &PersonRecordV4::from(r), out)
}

/// A stored person of any known version, converted forward to the domain's person.
pub fn decode(s: &Stored) -> Result<PersonRecord, DecodeError> {
    match s.v {
        1 => parse::<PersonRecordV1>(&s.body).map(Into::into),
        2 => parse::<PersonRecordV2>(&s.body).map(Into::into),
        3 => parse::<PersonRecordV3>(&s.body).map(Into::into),
        4 => parse::<PersonRecordV4>(&s.body).map(Into::into),
        v => Err(DecodeError::UnknownVersion(v)),
    }
}
