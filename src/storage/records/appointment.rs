//! The stored appointment: `AppointmentV1` and its one conversion.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{parse, record_enum, write, DecodeError, Stored};
use crate::domain::{Appointment, AppointmentId, AppointmentStatus, PersonId};
use crate::storage::Result;

/// The record version `encode` writes.
pub const VERSION: u32 = 1;

record_enum!(AppointmentStatusV1 <=> AppointmentStatus { Planned, Cancelled, Done });

/// Version 1 of the stored appointment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentV1 {
    pub id: String,
    pub person_id: String,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub therapist: String,
    pub location: String,
    pub kind: String,
    pub status: AppointmentStatusV1,
}

impl From<&Appointment> for AppointmentV1 {
    fn from(a: &Appointment) -> Self {
        AppointmentV1 {
            id: a.id.0.clone(),
            person_id: a.person_id.0.clone(),
            start: a.start,
            end: a.end,
            therapist: a.therapist.clone(),
            location: a.location.clone(),
            kind: a.kind.clone(),
            status: a.status.into(),
        }
    }
}

impl From<AppointmentV1> for Appointment {
    fn from(a: AppointmentV1) -> Self {
        Appointment {
            id: AppointmentId(a.id),
            person_id: PersonId(a.person_id),
            start: a.start,
            end: a.end,
            therapist: a.therapist,
            location: a.location,
            kind: a.kind,
            status: a.status.into(),
        }
    }
}

/// The stored form of an appointment (current version).
pub fn encode(a: &Appointment) -> Result<Stored> {
    write(&a.id.0, VERSION, &AppointmentV1::from(a))
}

/// A stored appointment of any known version, converted forward.
pub fn decode(s: &Stored) -> Result<Appointment, DecodeError> {
    match s.v {
        1 => parse::<AppointmentV1>(&s.body).map(Into::into),
        v => Err(DecodeError::UnknownVersion(v)),
    }
}
