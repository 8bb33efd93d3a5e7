//! Row validation and the import plan for persons (patients and prospects).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::mapping::{Field, ImportKind, Mapping};
use super::messages::{msg, raw as raw_msg};
use super::values::*;
use super::{ragged_row_issue, CsvRow, CsvTable, RowIssue};
use crate::domain::message::Msg;
use crate::domain::model::*;

/// What to do with a row that matches an existing person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateAction {
    /// Fill the existing record with the row's non-empty values.
    Update,
    /// Leave the existing record alone.
    Skip,
}

/// Why a row counts as a duplicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateReason {
    ExternalId,
    NameAndBirthDate,
}

impl DuplicateReason {
    pub fn label_de(self) -> &'static str {
        match self {
            DuplicateReason::ExternalId => "gleiche Patientennummer",
            DuplicateReason::NameAndBirthDate => "gleicher Name und gleiches Geburtsdatum",
        }
    }
}

/// Options of a person import.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportOptions {
    /// The day of the import (default date of consents, pivot for two-digit years).
    pub today: NaiveDate,
    /// Kind of rows without a kind column (or an empty cell).
    pub default_kind: Kind,
    /// Purposes a per-channel consent column ("SMS erlaubt") grants.
    pub consent_purposes: Vec<Purpose>,
    /// Evidence recorded for imported consents.
    pub consent_evidence: Evidence,
    /// Default for rows matching an existing person.
    pub on_duplicate: DuplicateAction,
    /// Per-row choice (by data-row number) overriding `on_duplicate`.
    pub duplicate_overrides: HashMap<usize, DuplicateAction>,
}

impl ImportOptions {
    pub fn new(today: NaiveDate) -> Self {
        ImportOptions {
            today,
            default_kind: Kind::Patient,
            consent_purposes: vec![Purpose::AppointmentReminder],
            consent_evidence: Evidence::WrittenForm,
            on_duplicate: DuplicateAction::Skip,
            duplicate_overrides: HashMap::new(),
        }
    }
}

/// A row that was not imported although it was valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedRow {
    pub line: u64,
    pub row: usize,
    pub reason: Msg,
}

/// A row that matches an existing person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateMatch {
    pub line: u64,
    pub row: usize,
    pub existing: PersonId,
    pub existing_name: String,
    pub reason: DuplicateReason,
    pub action: DuplicateAction,
}

/// The result of planning an import: apply `inserts` and `updates` in one storage
/// transaction, or nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportPlan {
    pub inserts: Vec<PersonRecord>,
    pub updates: Vec<PersonRecord>,
    pub skipped: Vec<SkippedRow>,
    pub duplicates: Vec<DuplicateMatch>,
    /// Rows not imported because of an error.
    pub errors: Vec<RowIssue>,
    /// Rows imported with a note (a value dropped or corrected).
    pub warnings: Vec<RowIssue>,
    /// Headers of columns never imported (treatment data).
    pub treatment_columns: Vec<String>,
    pub rows_total: usize,
}

impl ImportPlan {
    /// One German summary line for the confirmation step.
    pub fn summary_de(&self) -> String {
        let mut s = format!(
            "{} Datensätze gelesen: {} neu, {} aktualisiert, {} übersprungen, {} fehlerhaft",
            self.rows_total,
            self.inserts.len(),
            self.updates.len(),
            self.skipped.len(),
            self.errors.len()
        );
        if !self.warnings.is_empty() {
            s.push_str(&format!(", {} Hinweise", self.warnings.len()));
        }
        s.push('.');
        if !self.treatment_columns.is_empty() {
            s.push_str(&format!(
                " Nicht importiert (Behandlungsdaten werden nie übernommen): {}.",
                self.treatment_columns.join(", ")
            ));
        }
        s
    }
}

/// What one row says, before it is matched against existing persons.
struct Imported {
    rec: PersonRecord,
    gender: Option<Gender>,
    kind: Option<Kind>,
    consents: Vec<(Channel, Purpose, bool)>,
    consent_date: Option<NaiveDate>,
    /// "Duzen" when the column was mapped and filled.
    du: Option<bool>,
}

fn norm_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

type NameKey = (String, String, NaiveDate);

fn name_key(p: &PersonRecord) -> Option<NameKey> {
    let bd = p.sensitive.birth_date?;
    Some((
        norm_name(&p.person.first_name),
        norm_name(&p.person.last_name),
        bd,
    ))
}

/// Reads one row into an [`Imported`]; errors make the row unusable, warnings do not.
fn read_row(
    row: &CsvRow,
    mapping: &Mapping,
    options: &ImportOptions,
    warnings: &mut Vec<RowIssue>,
) -> Result<Imported, Vec<RowIssue>> {
    let mut errors = Vec::new();
    let issue = |col: usize, message: Msg| RowIssue {
        line: row.line_of(col),
        row: row.number,
        column: Some(mapping.columns[col].header.clone()),
        message,
    };
    let mut rec = PersonRecord::default();
    let p = &mut rec.person;
    let s = &mut rec.sensitive;
    let mut gender = None;
    let mut salutation_gender = None;
    let mut kind = None;
    let mut consents = Vec::new();
    let mut consent_date = None;
    let mut du = None;
    let mut street_col = None;
    let mut mobile_col = None;
    let mut landline_col = None;
    let mut postcode_col = None;

    for (col, m) in mapping.columns.iter().enumerate() {
        let raw = row.get(col).trim();
        if raw.is_empty() {
            continue;
        }
        match m.field {
            Field::Ignore | Field::Treatment => {}
            Field::ExternalId => p.external_id = Some(raw.to_string()),
            Field::Kind => match parse_kind(raw) {
                Ok(k) => kind = k,
                Err(_) => warnings.push(issue(
                    col,
                    raw_msg(
                        match options.default_kind {
                            Kind::Patient => "domain.import.row.kind_unknown_patient",
                            Kind::Prospect => "domain.import.row.kind_unknown_prospect",
                        },
                        raw,
                    ),
                )),
            },
            Field::Salutation => {
                let (g, title) = parse_salutation(raw);
                salutation_gender = g;
                if p.title.is_empty() {
                    p.title = title;
                }
            }
            Field::Title => p.title = raw.to_string(),
            Field::OwnSalutation => p.salutation = raw.to_string(),
            Field::Du => match parse_consent_value(raw) {
                Ok(v) => {
                    du = v;
                    p.du = v.unwrap_or(false);
                }
                Err(_) => errors.push(issue(
                    col,
                    raw_msg("domain.import.row.consent_value_invalid", raw),
                )),
            },
            Field::FirstName => p.first_name = raw.to_string(),
            Field::LastName => p.last_name = raw.to_string(),
            Field::FullName => {
                let (title, first, last) = split_full_name(raw);
                if p.title.is_empty() {
                    p.title = title;
                }
                if p.first_name.is_empty() {
                    p.first_name = first;
                }
                if p.last_name.is_empty() {
                    p.last_name = last;
                }
            }
            Field::Gender => match parse_gender(raw) {
                Ok(g) => gender = g,
                Err(_) => {
                    warnings.push(issue(col, raw_msg("domain.import.row.gender_unknown", raw)))
                }
            },
            Field::Street => {
                p.address.street = raw.to_string();
                street_col = Some(col);
            }
            Field::HouseNumber => p.address.house_number = raw.to_string(),
            Field::AddressExtra => p.address.extra = raw.to_string(),
            Field::Postcode => {
                p.address.postcode = raw.to_string();
                postcode_col = Some(col);
            }
            Field::City => p.address.city = raw.to_string(),
            Field::PostcodeCity => {
                let (pc, city) = split_postcode_city(raw);
                if !pc.is_empty() {
                    p.address.postcode = pc;
                    postcode_col = Some(col);
                }
                p.address.city = city;
            }
            Field::Country => match parse_country(raw) {
                Ok(c) => p.address.country = c,
                Err(_) => {
                    p.address.country = raw.to_string();
                    warnings.push(issue(
                        col,
                        raw_msg("domain.import.row.country_unknown", raw),
                    ));
                }
            },
            Field::Email => {
                if looks_like_email(raw) {
                    p.email = raw.to_string();
                } else {
                    warnings.push(issue(col, raw_msg("domain.import.row.email_invalid", raw)));
                }
            }
            Field::Mobile => {
                if looks_like_phone(raw) {
                    p.mobile = raw.to_string();
                    mobile_col = Some(col);
                } else {
                    warnings.push(issue(col, raw_msg("domain.import.row.phone_invalid", raw)));
                }
            }
            Field::Landline => {
                if looks_like_phone(raw) {
                    p.landline = raw.to_string();
                    landline_col = Some(col);
                } else {
                    warnings.push(issue(col, raw_msg("domain.import.row.phone_invalid", raw)));
                }
            }
            Field::BirthDate => match parse_date_de(raw, options.today, true) {
                Some(d) if d > options.today => errors.push(issue(
                    col,
                    raw_msg("domain.import.row.birth_date_future", raw),
                )),
                Some(d) => s.birth_date = Some(d),
                None => errors.push(issue(
                    col,
                    raw_msg("domain.import.row.birth_date_invalid", raw),
                )),
            },
            Field::Profession => s.profession = raw.to_string(),
            Field::InsuranceKind => {
                s.insurance_kind = parse_insurance_kind(raw);
            }
            Field::InsuranceNumber => s.insurance_number = raw.to_string(),
            Field::Tags => {
                for t in raw.split([',', ';', '|']) {
                    let t = t.trim();
                    if !t.is_empty() && !p.tags.iter().any(|x| x == t) {
                        p.tags.push(t.to_string());
                    }
                }
            }
            Field::Consent(channel, purpose) => match parse_consent_value(raw) {
                Ok(Some(v)) => match purpose {
                    Some(pu) => consents.push((channel, pu, v)),
                    None => {
                        for &pu in &options.consent_purposes {
                            consents.push((channel, pu, v));
                        }
                    }
                },
                Ok(None) => {}
                Err(_) => errors.push(issue(
                    col,
                    raw_msg("domain.import.row.consent_value_invalid", raw),
                )),
            },
            Field::ConsentDate => match parse_date_de(raw, options.today, true) {
                Some(d) if d <= options.today => consent_date = Some(d),
                _ => errors.push(issue(
                    col,
                    raw_msg("domain.import.row.consent_date_invalid", raw),
                )),
            },
            // Appointment fields are not part of a person import.
            _ => {}
        }
    }

    // Street with house number in one column.
    if p.address.house_number.is_empty() && !p.address.street.is_empty() {
        let (street, number) = split_street(&p.address.street);
        if !number.is_empty() {
            p.address.street = street;
            p.address.house_number = number;
        } else if let Some(col) = street_col {
            if mapping.column_of(Field::HouseNumber).is_none() {
                warnings.push(issue(col, msg("domain.import.row.no_house_number", vec![])));
            }
        }
    }
    // Postcodes that lost their leading zero in a spreadsheet ("1067" for Dresden).
    if p.address.is_domestic() && !p.address.postcode.is_empty() {
        let pc = &p.address.postcode;
        let digits = pc.bytes().all(|b| b.is_ascii_digit());
        if digits && pc.len() == 4 {
            let fixed = format!("0{pc}");
            if let Some(col) = postcode_col {
                warnings.push(issue(
                    col,
                    msg(
                        "domain.import.row.postcode_fixed",
                        vec![("raw", pc.clone()), ("fixed", fixed.clone())],
                    ),
                ));
            }
            p.address.postcode = fixed;
        } else if !(digits && pc.len() == 5) {
            if let Some(col) = postcode_col {
                warnings.push(issue(
                    col,
                    raw_msg("domain.import.row.postcode_invalid", pc),
                ));
            }
        }
    }
    // A mobile number in the landline column (or the other way round).
    if p.mobile.is_empty() && !p.landline.is_empty() && is_german_mobile(&p.landline) {
        p.mobile = std::mem::take(&mut p.landline);
        if let Some(col) = landline_col {
            warnings.push(issue(
                col,
                msg("domain.import.row.mobile_in_landline", vec![]),
            ));
        }
    } else if !p.mobile.is_empty()
        && !is_german_mobile(&p.mobile)
        && (p.mobile.trim_start().starts_with('0') && !p.mobile.trim_start().starts_with("00"))
    {
        if let Some(col) = mobile_col {
            warnings.push(issue(
                col,
                raw_msg("domain.import.row.not_a_mobile", &p.mobile),
            ));
        }
        if p.landline.is_empty() {
            p.landline = std::mem::take(&mut p.mobile);
        } else {
            p.mobile.clear();
        }
    }

    if p.first_name.is_empty() && p.last_name.is_empty() {
        let col = mapping
            .column_of(Field::LastName)
            .or_else(|| mapping.column_of(Field::FullName))
            .or_else(|| mapping.column_of(Field::FirstName));
        errors.push(RowIssue {
            line: row.line,
            row: row.number,
            column: col.map(|c| mapping.columns[c].header.clone()),
            message: msg("domain.import.row.name_missing", vec![]),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Imported {
        rec,
        gender: gender.or(salutation_gender),
        kind,
        consents,
        consent_date,
        du,
    })
}

fn new_record(im: Imported, id: PersonId, options: &ImportOptions) -> PersonRecord {
    let mut rec = im.rec;
    rec.person.id = id;
    rec.person.kind = im.kind.unwrap_or(options.default_kind);
    rec.person.gender = im.gender.unwrap_or(Gender::Unknown);
    let given = im.consent_date.unwrap_or(options.today);
    for (c, p, v) in im.consents {
        if v {
            rec.person.consents.record(
                c,
                p,
                ConsentEvent::granted(given, options.consent_evidence, ConsentSource::Import),
            );
        }
    }
    rec
}

/// Fills an existing record with the non-empty values of a row; consents: "ja" grants when
/// not active, "nein" withdraws an active consent.
fn merge(existing: &mut PersonRecord, im: Imported, options: &ImportOptions) {
    let new = im.rec;
    let p = &mut existing.person;
    let s = &mut existing.sensitive;
    let set = |dst: &mut String, src: String| {
        if !src.is_empty() {
            *dst = src;
        }
    };
    set(&mut p.title, new.person.title);
    set(&mut p.salutation, new.person.salutation);
    if let Some(du) = im.du {
        p.du = du;
    }
    set(&mut p.first_name, new.person.first_name);
    set(&mut p.last_name, new.person.last_name);
    if !new.person.address.is_empty() {
        p.address = new.person.address;
    }
    set(&mut p.email, new.person.email);
    set(&mut p.mobile, new.person.mobile);
    set(&mut p.landline, new.person.landline);
    for t in new.person.tags {
        if !p.tags.contains(&t) {
            p.tags.push(t);
        }
    }
    if new.person.external_id.is_some() {
        p.external_id = new.person.external_id;
    }
    if let Some(g) = im.gender {
        p.gender = g;
    }
    if let Some(k) = im.kind {
        p.kind = k;
    }
    if new.sensitive.birth_date.is_some() {
        s.birth_date = new.sensitive.birth_date;
    }
    set(&mut s.profession, new.sensitive.profession);
    if new.sensitive.insurance_kind != InsuranceKind::Unknown {
        s.insurance_kind = new.sensitive.insurance_kind;
    }
    set(&mut s.insurance_number, new.sensitive.insurance_number);
    let given = im.consent_date.unwrap_or(options.today);
    for (c, pu, v) in im.consents {
        if v {
            if !p.consents.allows(c, pu) {
                p.consents.record(
                    c,
                    pu,
                    ConsentEvent::granted(given, options.consent_evidence, ConsentSource::Import),
                );
            }
        } else {
            p.consents
                .withdraw(c, pu, options.today, ConsentSource::Import);
        }
    }
}

/// Where a person of the plan lives: an existing record (index into `existing`) or a new one.
#[derive(Clone, Copy)]
enum Target {
    Existing(usize),
    New(usize),
}

fn in_file_duplicate(row: &CsvRow, reason: DuplicateReason, line: u64) -> SkippedRow {
    SkippedRow {
        line: row.line,
        row: row.number,
        reason: msg(
            match reason {
                DuplicateReason::ExternalId => "domain.import.skip.in_file_external_id",
                DuplicateReason::NameAndBirthDate => "domain.import.skip.in_file_name",
            },
            vec![("line", line.to_string())],
        ),
    }
}

/// Validates every row, detects duplicates against `existing` (and within the file) and
/// returns the plan. `new_id` makes ids for new persons (UUIDs, made by the caller).
/// Errors only when the mapping has no name column. For a progress bar, use
/// [`PersonPlanner`] and feed the rows in chunks.
pub fn plan_person_import(
    table: &CsvTable,
    mapping: &Mapping,
    existing: &[PersonRecord],
    options: &ImportOptions,
    new_id: &mut dyn FnMut() -> PersonId,
) -> Result<ImportPlan, Msg> {
    let mut planner = PersonPlanner::new(table, mapping, existing, options)?;
    planner.process(&table.rows, new_id);
    Ok(planner.finish())
}

/// The incremental form of [`plan_person_import`]: feed rows in chunks (e.g. 5,000 at a
/// time, yielding to the browser in between to update a progress bar), then `finish`.
pub struct PersonPlanner<'a> {
    table: &'a CsvTable,
    mapping: &'a Mapping,
    existing: &'a [PersonRecord],
    options: &'a ImportOptions,
    plan: ImportPlan,
    by_ext: HashMap<String, Target>,
    by_name: HashMap<NameKey, Target>,
    /// Line of the row that created each insert (parallel to `plan.inserts`).
    insert_lines: Vec<u64>,
    /// Line of the row that matched each existing record already (by index).
    matched_lines: HashMap<usize, u64>,
    processed: usize,
}

impl<'a> PersonPlanner<'a> {
    pub fn new(
        table: &'a CsvTable,
        mapping: &'a Mapping,
        existing: &'a [PersonRecord],
        options: &'a ImportOptions,
    ) -> Result<Self, Msg> {
        if mapping.kind != ImportKind::Persons {
            return Err(msg("domain.import.plan.not_persons", vec![]));
        }
        if [Field::LastName, Field::FirstName, Field::FullName]
            .iter()
            .all(|&f| mapping.column_of(f).is_none())
        {
            return Err(msg("domain.import.plan.no_name", vec![]));
        }
        let mut by_ext: HashMap<String, Target> = HashMap::with_capacity(existing.len());
        let mut by_name: HashMap<NameKey, Target> = HashMap::with_capacity(existing.len());
        for (i, r) in existing.iter().enumerate() {
            if let Some(e) = &r.person.external_id {
                by_ext
                    .entry(e.trim().to_string())
                    .or_insert(Target::Existing(i));
            }
            if let Some(k) = name_key(r) {
                by_name.entry(k).or_insert(Target::Existing(i));
            }
        }
        Ok(PersonPlanner {
            table,
            mapping,
            existing,
            options,
            plan: ImportPlan {
                treatment_columns: mapping
                    .treatment_columns()
                    .into_iter()
                    .chain(table.not_imported())
                    .collect(),
                rows_total: table.rows.len(),
                ..Default::default()
            },
            by_ext,
            by_name,
            insert_lines: Vec::new(),
            matched_lines: HashMap::new(),
            processed: 0,
        })
    }

    /// Rows processed so far (for the progress bar: `processed() / table.rows.len()`).
    pub fn processed(&self) -> usize {
        self.processed
    }

    /// Processes a chunk of rows (in file order, each row once).
    pub fn process(&mut self, rows: &[CsvRow], new_id: &mut dyn FnMut() -> PersonId) {
        for row in rows {
            self.row(row, new_id);
            self.processed += 1;
        }
    }

    pub fn finish(self) -> ImportPlan {
        self.plan
    }

    fn row(&mut self, row: &CsvRow, new_id: &mut dyn FnMut() -> PersonId) {
        let (options, plan) = (self.options, &mut self.plan);
        if let Some(issue) = ragged_row_issue(self.table, row) {
            plan.errors.push(issue);
            return;
        }
        let im = match read_row(row, self.mapping, options, &mut plan.warnings) {
            Ok(im) => im,
            Err(mut errs) => {
                plan.errors.append(&mut errs);
                return;
            }
        };
        let ext = im
            .rec
            .person
            .external_id
            .as_ref()
            .map(|e| e.trim().to_string());
        let key = name_key(&im.rec);
        let hit = ext
            .as_ref()
            .and_then(|e| {
                self.by_ext
                    .get(e)
                    .map(|t| (*t, DuplicateReason::ExternalId))
            })
            .or_else(|| {
                key.as_ref().and_then(|k| {
                    self.by_name
                        .get(k)
                        .map(|t| (*t, DuplicateReason::NameAndBirthDate))
                })
            });
        match hit {
            None => {
                let idx = plan.inserts.len();
                let rec = new_record(im, new_id(), options);
                if let Some(e) = ext {
                    self.by_ext.insert(e, Target::New(idx));
                }
                if let Some(k) = key {
                    self.by_name.insert(k, Target::New(idx));
                }
                self.insert_lines.push(row.line);
                plan.inserts.push(rec);
            }
            Some((Target::New(idx), reason)) => {
                plan.skipped
                    .push(in_file_duplicate(row, reason, self.insert_lines[idx]));
            }
            Some((Target::Existing(i), reason)) => {
                if let Some(&line) = self.matched_lines.get(&i) {
                    plan.skipped.push(in_file_duplicate(row, reason, line));
                    return;
                }
                self.matched_lines.insert(i, row.line);
                let action = options
                    .duplicate_overrides
                    .get(&row.number)
                    .copied()
                    .unwrap_or(options.on_duplicate);
                let ex = &self.existing[i];
                plan.duplicates.push(DuplicateMatch {
                    line: row.line,
                    row: row.number,
                    existing: ex.person.id.clone(),
                    existing_name: ex.person.full_name(),
                    reason,
                    action,
                });
                match action {
                    DuplicateAction::Skip => plan.skipped.push(SkippedRow {
                        line: row.line,
                        row: row.number,
                        reason: msg(
                            match reason {
                                DuplicateReason::ExternalId => {
                                    "domain.import.skip.existing_external_id"
                                }
                                DuplicateReason::NameAndBirthDate => {
                                    "domain.import.skip.existing_name"
                                }
                            },
                            vec![("name", ex.person.full_name())],
                        ),
                    }),
                    DuplicateAction::Update => {
                        let mut rec = ex.clone();
                        merge(&mut rec, im, options);
                        plan.updates.push(rec);
                    }
                }
            }
        }
    }
}
