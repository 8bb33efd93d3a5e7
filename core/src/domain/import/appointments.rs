//! Appointment import: each row references its person by the external id (patient number).

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::mapping::{Field, ImportKind, Mapping};
use super::messages::{msg, raw as raw_msg};
use super::values::parse_date_de;
use super::{ragged_row_issue, CsvRow, CsvTable, RowIssue};
use crate::domain::message::Msg;
use crate::domain::model::*;

/// Options of an appointment import.
#[derive(Clone, Debug, PartialEq)]
pub struct AppointmentImportOptions {
    pub today: NaiveDate,
    /// Length of appointments without an end or duration column.
    pub default_minutes: i64,
}

impl AppointmentImportOptions {
    pub fn new(today: NaiveDate) -> Self {
        AppointmentImportOptions {
            today,
            default_minutes: 30,
        }
    }
}

/// Appointments to insert (in one transaction) and the rows that failed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppointmentPlan {
    pub inserts: Vec<Appointment>,
    pub errors: Vec<RowIssue>,
    pub warnings: Vec<RowIssue>,
    pub treatment_columns: Vec<String>,
    pub rows_total: usize,
}

impl AppointmentPlan {
    pub fn summary_de(&self) -> String {
        let mut s = format!(
            "{} Datensätze gelesen: {} Termine neu, {} fehlerhaft.",
            self.rows_total,
            self.inserts.len(),
            self.errors.len()
        );
        if !self.treatment_columns.is_empty() {
            s.push_str(&format!(
                " Nicht importiert (Behandlungsdaten werden nie übernommen): {}.",
                self.treatment_columns.join(", ")
            ));
        }
        s
    }
}

/// "14:30", "14.30", "1430", "14:30:00", "14 Uhr", "9:05".
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim().trim_end_matches("Uhr").trim();
    let (h, m) = if let Some((h, rest)) = s.split_once([':', '.']) {
        let m = rest.split(':').next().unwrap_or("");
        (h, m)
    } else if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        (&s[..2], &s[2..])
    } else {
        (s, "0")
    };
    let h: u32 = h.trim().parse().ok()?;
    let m: u32 = m.trim().parse().ok()?;
    NaiveTime::from_hms_opt(h, m, 0)
}

/// "26.11.2026 14:30", "2026-11-26T14:30", "26.11.26 9:00".
pub fn parse_datetime_de(s: &str, today: NaiveDate) -> Option<NaiveDateTime> {
    let s = s.trim().replace('T', " ");
    let (d, t) = s.split_once(' ')?;
    Some(parse_date_de(d, today, false)?.and_time(parse_time(t)?))
}

fn parse_status(s: &str) -> Option<AppointmentStatus> {
    Some(match s.trim().to_lowercase().as_str() {
        "" | "geplant" | "offen" | "planned" | "gebucht" | "bestätigt" => {
            AppointmentStatus::Planned
        }
        "abgesagt"
        | "storniert"
        | "ausgefallen"
        | "cancelled"
        | "canceled"
        | "abgesagt (kurzfristig)" => AppointmentStatus::Cancelled,
        "erledigt" | "durchgeführt" | "stattgefunden" | "done" | "abgeschlossen"
        | "wahrgenommen" => AppointmentStatus::Done,
        _ => return None,
    })
}

fn read_row(
    row: &CsvRow,
    mapping: &Mapping,
    persons: &HashMap<&str, &PersonId>,
    options: &AppointmentImportOptions,
) -> Result<Appointment, Vec<RowIssue>> {
    let mut errors = Vec::new();
    let issue = |col: usize, message: Msg| RowIssue {
        line: row.line,
        row: row.number,
        column: Some(mapping.columns[col].header.clone()),
        message,
    };
    let mut person = None;
    let (mut date, mut start_time, mut end_time, mut start, mut end, mut minutes) =
        (None, None, None, None, None, None);
    let mut therapist = String::new();
    let mut location = String::new();
    let mut kind = String::new();
    let mut status = AppointmentStatus::Planned;
    for (col, m) in mapping.columns.iter().enumerate() {
        let raw = row.get(col).trim();
        let bad = |key: &'static str| issue(col, raw_msg(key, raw));
        match m.field {
            Field::PersonRef => match persons.get(raw) {
                Some(id) => person = Some((*id).clone()),
                None if raw.is_empty() => errors.push(issue(
                    col,
                    msg("domain.import.row.person_ref_missing", vec![]),
                )),
                None => errors.push(issue(
                    col,
                    raw_msg("domain.import.row.person_not_found", raw),
                )),
            },
            _ if raw.is_empty() => {}
            Field::Date => match parse_date_de(raw, options.today, false) {
                Some(d) => date = Some(d),
                None => errors.push(bad("domain.import.row.date_invalid")),
            },
            Field::StartTime => match parse_time(raw) {
                Some(t) => start_time = Some(t),
                None => errors.push(bad("domain.import.row.time_invalid")),
            },
            Field::EndTime => match parse_time(raw) {
                Some(t) => end_time = Some(t),
                None => errors.push(bad("domain.import.row.time_invalid")),
            },
            Field::Start => match parse_datetime_de(raw, options.today) {
                Some(t) => start = Some(t),
                None => errors.push(bad("domain.import.row.start_invalid")),
            },
            Field::End => match parse_datetime_de(raw, options.today) {
                Some(t) => end = Some(t),
                None => errors.push(bad("domain.import.row.end_invalid")),
            },
            Field::DurationMinutes => match raw.parse::<i64>() {
                Ok(n) if n > 0 && n <= 24 * 60 => minutes = Some(n),
                _ => errors.push(bad("domain.import.row.duration_invalid")),
            },
            Field::Therapist => therapist = raw.to_string(),
            Field::Location => location = raw.to_string(),
            Field::AppointmentType => kind = raw.to_string(),
            Field::Status => match parse_status(raw) {
                Some(s) => status = s,
                None => errors.push(bad("domain.import.row.status_invalid")),
            },
            _ => {}
        }
    }
    let start = start.or_else(|| Some(date?.and_time(start_time?)));
    let Some(start) = start else {
        if errors.is_empty() {
            errors.push(RowIssue {
                line: row.line,
                row: row.number,
                column: None,
                message: msg("domain.import.row.start_missing", vec![]),
            });
        }
        return Err(errors);
    };
    let end = end
        .or_else(|| end_time.map(|t| start.date().and_time(t)))
        .unwrap_or_else(|| start + Duration::minutes(minutes.unwrap_or(options.default_minutes)));
    if end <= start {
        errors.push(RowIssue {
            line: row.line,
            row: row.number,
            column: None,
            message: msg("domain.import.row.end_not_after_start", vec![]),
        });
    }
    match person {
        Some(person_id) if errors.is_empty() => Ok(Appointment {
            id: AppointmentId(String::new()),
            person_id,
            start,
            end,
            therapist,
            location,
            kind,
            status,
        }),
        _ => Err(errors),
    }
}

/// Validates every row and returns the appointments to insert. `persons` are all persons the
/// appointments may reference (existing ones plus those of a person import in the same
/// transaction); `new_id` makes appointment ids.
pub fn plan_appointment_import(
    table: &CsvTable,
    mapping: &Mapping,
    persons: &[PersonRecord],
    options: &AppointmentImportOptions,
    new_id: &mut dyn FnMut() -> AppointmentId,
) -> Result<AppointmentPlan, Msg> {
    if mapping.kind != ImportKind::Appointments {
        return Err(msg("domain.import.plan.not_appointments", vec![]));
    }
    if mapping.column_of(Field::PersonRef).is_none() {
        return Err(msg("domain.import.plan.no_person_ref", vec![]));
    }
    if mapping.column_of(Field::Start).is_none()
        && (mapping.column_of(Field::Date).is_none()
            || mapping.column_of(Field::StartTime).is_none())
    {
        return Err(msg("domain.import.plan.no_start", vec![]));
    }
    let by_ext: HashMap<&str, &PersonId> = persons
        .iter()
        .filter_map(|p| Some((p.person.external_id.as_deref()?.trim(), &p.person.id)))
        .collect();
    let mut plan = AppointmentPlan {
        treatment_columns: mapping.treatment_columns(),
        rows_total: table.rows.len(),
        ..Default::default()
    };
    for row in &table.rows {
        if let Some(issue) = ragged_row_issue(table, row) {
            plan.errors.push(issue);
            continue;
        }
        match read_row(row, mapping, &by_ext, options) {
            Ok(mut a) => {
                a.id = new_id();
                plan.inserts.push(a);
            }
            Err(mut e) => plan.errors.append(&mut e),
        }
    }
    Ok(plan)
}
