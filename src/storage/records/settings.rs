//! The stored practice settings: `PracticeSettingsV1`, `PracticeSettingsV2` (adds the
//! message labels of appointment types and the therapist switch) and their conversions.

use serde::{Deserialize, Serialize};

use super::person::AddressV1;
use super::{parse, record_enum, write, DecodeError, Stored};
use crate::domain::{LetterForm, PracticeSettings, SenderNames};
use crate::storage::Result;

/// The record version `encode` writes.
pub const VERSION: u32 = 3;

record_enum!(LetterFormV1 <=> LetterForm { A, B });

impl Default for LetterFormV1 {
    fn default() -> Self {
        LetterForm::default().into()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderNamesV1 {
    #[serde(default)]
    pub email_from_name: String,
    #[serde(default)]
    pub sms_sender_id: String,
    #[serde(default)]
    pub letter_contact: String,
}

/// Version 1 of the stored practice settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeSettingsV1 {
    pub name: String,
    #[serde(default)]
    pub address: AddressV1<'static>,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub web: String,
    #[serde(default)]
    pub sender_names: SenderNamesV1,
    #[serde(default)]
    pub bank_details: String,
    #[serde(default)]
    pub letter_form: LetterFormV1,
}

impl From<&PracticeSettings> for PracticeSettingsV1 {
    fn from(s: &PracticeSettings) -> Self {
        PracticeSettingsV1 {
            name: s.name.clone(),
            address: AddressV1::from(&s.address).into_owned(),
            phone: s.phone.clone(),
            email: s.email.clone(),
            web: s.web.clone(),
            sender_names: SenderNamesV1 {
                email_from_name: s.sender_names.email_from_name.clone(),
                sms_sender_id: s.sender_names.sms_sender_id.clone(),
                letter_contact: s.sender_names.letter_contact.clone(),
            },
            bank_details: s.bank_details.clone(),
            letter_form: s.letter_form.into(),
        }
    }
}

impl From<PracticeSettingsV1> for PracticeSettings {
    fn from(s: PracticeSettingsV1) -> Self {
        PracticeSettings {
            name: s.name,
            address: s.address.into(),
            phone: s.phone,
            email: s.email,
            web: s.web,
            sender_names: SenderNames {
                email_from_name: s.sender_names.email_from_name,
                sms_sender_id: s.sender_names.sms_sender_id,
                letter_contact: s.sender_names.letter_contact,
            },
            bank_details: s.bank_details,
            letter_form: s.letter_form.into(),
            // Version 1 knew neither: no labels (the neutral default label), names off.
            appointment_labels: Default::default(),
            therapist_in_messages: false,
            minor_age: crate::domain::guardian::DEFAULT_MINOR_AGE,
        }
    }
}

/// Version 2: version 1 plus the message label per appointment type and whether the
/// therapist's name may appear in messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeSettingsV2 {
    #[serde(flatten)]
    pub base: PracticeSettingsV1,
    #[serde(default)]
    pub appointment_labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub therapist_in_messages: bool,
}

impl From<&PracticeSettings> for PracticeSettingsV2 {
    fn from(s: &PracticeSettings) -> Self {
        PracticeSettingsV2 {
            base: s.into(),
            appointment_labels: s.appointment_labels.clone(),
            therapist_in_messages: s.therapist_in_messages,
        }
    }
}

impl From<PracticeSettingsV2> for PracticeSettings {
    fn from(s: PracticeSettingsV2) -> Self {
        PracticeSettings {
            appointment_labels: s.appointment_labels,
            therapist_in_messages: s.therapist_in_messages,
            ..s.base.into()
        }
    }
}

/// Version 3: version 2 plus the age below which messages go to a guardian.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeSettingsV3 {
    #[serde(flatten)]
    pub base: PracticeSettingsV2,
    pub minor_age: u8,
}

impl From<&PracticeSettings> for PracticeSettingsV3 {
    fn from(s: &PracticeSettings) -> Self {
        PracticeSettingsV3 {
            base: s.into(),
            minor_age: s.minor_age,
        }
    }
}

/// The step V2 → V3 is `minor_age`; V1 and V2 read with the default (16).
impl From<PracticeSettingsV3> for PracticeSettings {
    fn from(s: PracticeSettingsV3) -> Self {
        PracticeSettings {
            minor_age: s.minor_age,
            ..s.base.into()
        }
    }
}

/// The stored form of the settings (current version).
pub fn encode(s: &PracticeSettings) -> Result<Stored> {
    write(
        crate::storage::migrate::names::SETTINGS_KEY,
        VERSION,
        &PracticeSettingsV3::from(s),
    )
}

/// Stored settings of any known version, converted forward.
pub fn decode(s: &Stored) -> Result<PracticeSettings, DecodeError> {
    match s.v {
        1 => parse::<PracticeSettingsV1>(&s.body).map(Into::into),
        2 => parse::<PracticeSettingsV2>(&s.body).map(Into::into),
        3 => parse::<PracticeSettingsV3>(&s.body).map(Into::into),
        v => Err(DecodeError::UnknownVersion(v)),
    }
}
