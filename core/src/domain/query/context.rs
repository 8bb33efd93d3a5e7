//! Per-person facts a query needs besides the persons, built once.

use chrono::{Datelike, NaiveDate};

use super::dates::md_key;
use crate::domain::hashing::{fast_map, FastMap};
use crate::domain::model::{Appointment, AppointmentStatus, PersonRecord};

/// the birth date packed for fast birthday and age checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersonFacts {
    /// Day of the last non-cancelled appointment before today.
    pub last_visit: Option<NaiveDate>,
    /// Day of the next non-cancelled appointment on or after today.
    pub next_appointment: Option<NaiveDate>,
    /// Birth year (meaningless when `birth_md` is 0).
    pub birth_year: i32,
    /// Birth month and day as `month * 32 + day`; 0 without birth date.
    pub birth_md: u16,
}

/// Everything a query needs besides the persons: `today` and per-person facts.
/// Build once (O(persons + appointments)) and reuse for any number of queries.
#[derive(Clone, Debug)]
pub struct QueryContext {
    pub today: NaiveDate,
    pub facts: Vec<PersonFacts>,
    /// Whether visits were derived from appointments (false for [`QueryContext::persons_only`]).
    pub has_visits: bool,
}

impl QueryContext {
    /// Full context: birth facts and visits from the appointments.
    pub fn new(persons: &[PersonRecord], appointments: &[Appointment], today: NaiveDate) -> Self {
        let mut ctx = QueryContext::persons_only(persons, today);
        let mut index: FastMap<&str, u32> = fast_map(persons.len());
        for (i, p) in persons.iter().enumerate() {
            index.insert(p.person.id.0.as_str(), i as u32);
        }
        for a in appointments {
            if a.status == AppointmentStatus::Cancelled {
                continue;
            }
            let Some(&i) = index.get(a.person_id.0.as_str()) else {
                continue;
            };
            let v = &mut ctx.facts[i as usize];
            let day = a.day();
            if day < today {
                if v.last_visit.is_none_or(|d| day > d) {
                    v.last_visit = Some(day);
                }
            } else if v.next_appointment.is_none_or(|d| day < d) {
                v.next_appointment = Some(day);
            }
        }
        ctx.has_visits = true;
        ctx
    }

    /// Cheap context without visits, enough for every query without a recall condition
    /// (see [`CompiledQuery::needs_appointments`]).
    pub fn persons_only(persons: &[PersonRecord], today: NaiveDate) -> Self {
        let facts = persons
            .iter()
            .map(|p| {
                let (birth_year, birth_md) = match p.sensitive.birth_date {
                    Some(b) => (b.year(), md_key(b.month(), b.day())),
                    None => (0, 0),
                };
                PersonFacts {
                    birth_year,
                    birth_md,
                    ..Default::default()
                }
            })
            .collect();
        QueryContext {
            today,
            facts,
            has_visits: false,
        }
    }
}
