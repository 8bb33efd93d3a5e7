//! The import's domain texts in the UI language: column field labels, encoding and delimiter
//! names, duplicate reasons, the plan summaries and row findings. The row and planner
//! messages themselves are `domain::message::Msg`s (`crate::i18n::msg`); the German
//! catalogue values equal the domain's `label_de()`, `summary_de()` and `Display` (tested).

use super::{labels, msg, t, tf};
use crate::domain::import::{
    AppointmentPlan, CsvTable, DuplicateReason, Field, ImportPlan, RowIssue, SkippedRow,
    TextEncoding,
};

/// A column's target in the mapping drop-down.
pub fn field(f: Field) -> String {
    let s = match f {
        Field::Ignore => t("import.field.ignore"),
        Field::Treatment => t("import.field.treatment"),
        Field::ExternalId => t("import.field.external_id"),
        Field::Kind => t("import.field.kind"),
        Field::Salutation => t("import.field.salutation"),
        Field::OwnSalutation => t("import.field.own_salutation"),
        Field::Du => t("import.field.du"),
        Field::Title => t("import.field.title"),
        Field::FirstName => t("import.field.first_name"),
        Field::LastName => t("import.field.last_name"),
        Field::FullName => t("import.field.full_name"),
        Field::Gender => t("import.field.gender"),
        Field::Street => t("import.field.street"),
        Field::HouseNumber => t("import.field.house_number"),
        Field::AddressExtra => t("import.field.address_extra"),
        Field::Postcode => t("import.field.postcode"),
        Field::City => t("import.field.city"),
        Field::PostcodeCity => t("import.field.postcode_city"),
        Field::Country => t("import.field.country"),
        Field::Email => t("import.field.email"),
        Field::Mobile => t("import.field.mobile"),
        Field::Landline => t("import.field.landline"),
        Field::BirthDate => t("import.field.birth_date"),
        Field::Profession => t("import.field.profession"),
        Field::InsuranceKind => t("import.field.insurance_kind"),
        Field::InsuranceNumber => t("import.field.insurance_number"),
        Field::Tags => t("import.field.tags"),
        Field::Consent(c, None) => {
            return tf("import.field.consent", &[("channel", &labels::channel(c))])
        }
        Field::Consent(c, Some(p)) => {
            return tf(
                "import.field.consent_purpose",
                &[
                    ("channel", &labels::channel(c)),
                    ("purpose", &labels::purpose(p)),
                ],
            )
        }
        Field::ConsentDate => t("import.field.consent_date"),
        Field::PersonRef => t("import.field.person_ref"),
        Field::Date => t("import.field.date"),
        Field::StartTime => t("import.field.start_time"),
        Field::EndTime => t("import.field.end_time"),
        Field::Start => t("import.field.start"),
        Field::End => t("import.field.end"),
        Field::DurationMinutes => t("import.field.duration_minutes"),
        Field::Therapist => t("import.field.therapist"),
        Field::Location => t("import.field.location"),
        Field::AppointmentType => t("import.field.appointment_type"),
        Field::Status => t("import.field.status"),
    };
    s.to_string()
}

/// The encoding a file was read with.
pub fn encoding(e: TextEncoding) -> &'static str {
    match e {
        TextEncoding::Utf8 => t("import.encoding.utf8"),
        TextEncoding::Utf8Bom => t("import.encoding.utf8_bom"),
        TextEncoding::Windows1252 => t("import.encoding.windows1252"),
        TextEncoding::Utf16Le => t("import.encoding.utf16le"),
        TextEncoding::Utf16Be => t("import.encoding.utf16be"),
    }
}

/// The detected delimiter.
pub fn delimiter(table: &CsvTable) -> &'static str {
    match table.delimiter {
        b';' => t("import.delimiter.semicolon"),
        b',' => t("import.delimiter.comma"),
        b'\t' => t("import.delimiter.tab"),
        b'|' => t("import.delimiter.pipe"),
        _ => t("import.delimiter.unknown"),
    }
}

/// Why a row counts as a duplicate.
pub fn duplicate_reason(r: DuplicateReason) -> &'static str {
    match r {
        DuplicateReason::ExternalId => t("import.dup_reason.external_id"),
        DuplicateReason::NameAndBirthDate => t("import.dup_reason.name_and_birth_date"),
    }
}

/// " Nicht importiert (…): a, b." or "".
fn treatment_suffix(columns: &[String]) -> String {
    if columns.is_empty() {
        return String::new();
    }
    format!(
        " {}",
        tf(
            "import.summary.treatment",
            &[("columns", &columns.join(", "))]
        )
    )
}

/// The summary line of a person import (as `ImportPlan::summary_de`).
pub fn summary(p: &ImportPlan) -> String {
    let counts: [(&str, &dyn std::fmt::Display); 6] = [
        ("total", &p.rows_total),
        ("new", &p.inserts.len()),
        ("updated", &p.updates.len()),
        ("skipped", &p.skipped.len()),
        ("errors", &p.errors.len()),
        ("warnings", &p.warnings.len()),
    ];
    let head = if p.warnings.is_empty() {
        tf("import.summary.persons", &counts)
    } else {
        tf("import.summary.persons_warnings", &counts)
    };
    head + &treatment_suffix(&p.treatment_columns)
}

/// The summary line of an appointment import (as `AppointmentPlan::summary_de`).
pub fn appointment_summary(p: &AppointmentPlan) -> String {
    tf(
        "import.summary.appointments",
        &[
            ("total", &p.rows_total),
            ("new", &p.inserts.len()),
            ("errors", &p.errors.len()),
        ],
    ) + &treatment_suffix(&p.treatment_columns)
}

/// A row finding with line, data-row number and column (as `RowIssue`'s `Display`).
pub fn row_issue(i: &RowIssue) -> String {
    let message = msg(&i.message);
    match &i.column {
        Some(c) => tf(
            "import.issue.with_column",
            &[
                ("line", &i.line),
                ("row", &i.row),
                ("column", c),
                ("message", &message),
            ],
        ),
        None => tf(
            "import.issue.row",
            &[("line", &i.line), ("row", &i.row), ("message", &message)],
        ),
    }
}

/// Why a valid row was not imported.
pub fn skipped_reason(s: &SkippedRow) -> String {
    msg(&s.reason)
}
