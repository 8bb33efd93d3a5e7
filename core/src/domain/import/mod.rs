//! CSV import of patient, prospect and appointment lists exported from practice software.
//!
//! The pipeline, all pure and natively tested:
//! 1. [`check_file_size`] before reading a file at all (limits memory use);
//! 2. [`read_table`]: encoding detection ([`decode`]), delimiter detection, parsing with the
//!    `csv` crate into a [`CsvTable`] (header + rows with their line numbers);
//! 3. [`Mapping::auto`]: header → field mapping the user may fix ([`Mapping::set`]);
//!    treatment-data columns are marked [`Field::Treatment`] and can never be imported;
//! 4. [`CsvTable::preview`] for the first rows;
//! 5. [`plan_person_import`] / [`plan_appointment_import`]: validation per row (German
//!    messages with line number and column), duplicate detection against existing records,
//!    and a plan of records to insert or update that the app applies in one storage
//!    transaction — all or nothing.

mod appointments;
mod calendar;
mod decode;
mod mapping;
pub mod messages;
mod persons;
mod sheet;
mod values;
pub mod xdt;

pub use appointments::{plan_appointment_import, AppointmentImportOptions, AppointmentPlan};
pub use calendar::{
    appointment_id_for_uid, berlin_from_utc, plan_calendar_import, CalendarError, CalendarEvent,
    CalendarMatch, CalendarMatchedBy, CalendarOptions, CalendarPlan, CalendarSkip, Candidate,
};
pub use decode::{decode, Decoded, TextEncoding};
pub use mapping::{normalize_header, ColumnMapping, Field, ImportKind, Mapping};
pub use persons::{
    plan_person_import, DuplicateAction, DuplicateMatch, DuplicateReason, ImportOptions,
    ImportPlan, PersonPlanner, SkippedRow,
};
pub use sheet::{table_from_sheet, SheetData, SheetError, SheetFormat, SheetRow};
pub use values::{
    parse_consent_value, parse_date_de, parse_gender, split_full_name, split_postcode_city,
    split_street,
};

use std::fmt;

use crate::domain::message::Msg;

/// Largest file the import accepts (the whole file is decoded in memory).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Most data rows one import accepts.
pub const MAX_ROWS: usize = 250_000;

/// A problem that makes the whole file unreadable. Messages are German and name the line
/// where possible.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("Die Datei ist leer.")]
    Empty,
    #[error(
        "Die Datei ist zu groß ({size_mb} MB). Höchstens {max_mb} MB können auf einmal \
         importiert werden – bitte teilen Sie die Datei auf."
    )]
    TooLarge { size_mb: u64, max_mb: u64 },
    #[error(
        "Die Datei enthält mehr als {max} Datensätze (Zeile {line}). Bitte teilen Sie die \
         Datei auf."
    )]
    TooManyRows { max: usize, line: u64 },
    #[error(
        "Die Datei ist keine Textdatei (CSV): Zeile {line} enthält Binärdaten. Bitte \
         exportieren Sie die Daten als CSV."
    )]
    Binary { line: u64 },
    #[error(
        "Die Zeichenkodierung der Datei ist uneinheitlich: Zeile {line} ist nicht UTF-8, der \
         Rest der Datei schon. Bitte speichern Sie die Datei einheitlich als „CSV UTF-8“."
    )]
    MixedEncoding { line: u64 },
    #[error(
        "Die Datei ist als {encoding} gekennzeichnet, aber Zeile {line} enthält ungültige \
         Zeichen. Bitte speichern Sie die Datei erneut als CSV."
    )]
    InvalidEncoding { encoding: &'static str, line: u64 },
    #[error(
        "Die Datei ist falsch kodiert: Zeile {line} enthält „{sample}“ – Umlaute wurden doppelt \
         umgewandelt (z. B. „Ã¼“ statt „ü“). Bitte exportieren Sie die Datei erneut als \
         „CSV UTF-8“."
    )]
    DoubleEncoded { line: u64, sample: String },
    #[error("Die Datei enthält eine Kopfzeile (Zeile {header_line}), aber keine Datensätze.")]
    NoRows { header_line: u64 },
    #[error(
        "Kein Trennzeichen erkannt: die Kopfzeile (Zeile {line}) hat nur eine Spalte. \
         Erwartet wird eine CSV-Datei mit Semikolon, Komma oder Tabulator als Trennzeichen."
    )]
    NoDelimiter { line: u64 },
    #[error("Zeile {line}: die Datei kann nicht gelesen werden ({detail}).")]
    Csv { line: u64, detail: String },
}

impl crate::domain::message::UiMessage for ImportError {
    fn key(&self) -> &'static str {
        match self {
            ImportError::Empty => "domain.import.error.empty",
            ImportError::TooLarge { .. } => "domain.import.error.too_large",
            ImportError::TooManyRows { .. } => "domain.import.error.too_many_rows",
            ImportError::Binary { .. } => "domain.import.error.binary",
            ImportError::MixedEncoding { .. } => "domain.import.error.mixed_encoding",
            ImportError::InvalidEncoding { .. } => "domain.import.error.invalid_encoding",
            ImportError::DoubleEncoded { .. } => "domain.import.error.double_encoded",
            ImportError::NoRows { .. } => "domain.import.error.no_rows",
            ImportError::NoDelimiter { .. } => "domain.import.error.no_delimiter",
            ImportError::Csv { .. } => "domain.import.error.csv",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        let s = |v: &dyn fmt::Display| v.to_string();
        match self {
            ImportError::Empty => vec![],
            ImportError::TooLarge { size_mb, max_mb } => {
                vec![("size_mb", s(size_mb)), ("max_mb", s(max_mb))]
            }
            ImportError::TooManyRows { max, line } => vec![("max", s(max)), ("line", s(line))],
            ImportError::Binary { line }
            | ImportError::MixedEncoding { line }
            | ImportError::NoDelimiter { line } => vec![("line", s(line))],
            ImportError::InvalidEncoding { encoding, line } => {
                vec![("encoding", s(encoding)), ("line", s(line))]
            }
            ImportError::DoubleEncoded { line, sample } => {
                vec![("line", s(line)), ("sample", sample.clone())]
            }
            ImportError::NoRows { header_line } => vec![("header_line", s(header_line))],
            ImportError::Csv { line, detail } => {
                vec![("line", s(line)), ("detail", detail.clone())]
            }
        }
    }
}

/// The kind of an imported file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    /// GDT/BDT ([`xdt`]).
    Xdt,
    /// A spreadsheet, read by the engine ([`SheetData`]).
    Sheet(SheetFormat),
    /// An iCalendar export of appointments ([`CalendarEvent`]).
    Calendar,
}

/// Tells the format from the content where it is unambiguous (xDT's `LLL8000`, a
/// `BEGIN:VCALENDAR`, a ZIP or OLE container with a spreadsheet name), else from the file
/// name; everything else is read as CSV.
pub fn detect_format(name: &str, bytes: &[u8]) -> FileFormat {
    let lower = name.to_ascii_lowercase();
    let head: &[u8] = &bytes[..bytes.len().min(64)];
    let head = head
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(head);
    if xdt::looks_like_xdt(head) {
        return FileFormat::Xdt;
    }
    let text_head = String::from_utf8_lossy(head);
    if text_head.trim_start().starts_with("BEGIN:VCALENDAR") || lower.ends_with(".ics") {
        return FileFormat::Calendar;
    }
    if let Some(f) = SheetFormat::from_name(&lower) {
        return FileFormat::Sheet(f);
    }
    if lower.ends_with(".gdt") || lower.ends_with(".bdt") {
        return FileFormat::Xdt;
    }
    FileFormat::Csv
}

/// Refuses files above [`MAX_FILE_BYTES`] before they are read into memory.
pub fn check_file_size(len: u64) -> Result<(), ImportError> {
    if len == 0 {
        return Err(ImportError::Empty);
    }
    if len > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge {
            size_mb: len.div_ceil(1024 * 1024),
            max_mb: MAX_FILE_BYTES / (1024 * 1024),
        });
    }
    Ok(())
}

/// One data row: its physical line in the file (1-based, where the record starts), its
/// data-row number (1-based, header not counted) and the fields.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvRow {
    pub line: u64,
    pub number: usize,
    pub record: csv::StringRecord,
    /// The line of each cell where it differs from `line` (xDT: every field has its own
    /// line); empty for CSV and spreadsheets.
    pub cell_lines: Vec<u64>,
}

impl CsvRow {
    pub fn get(&self, col: usize) -> &str {
        self.record.get(col).unwrap_or("")
    }

    /// The line a finding about column `col` names.
    pub fn line_of(&self, col: usize) -> u64 {
        match self.cell_lines.get(col) {
            Some(&l) if l > 0 => l,
            _ => self.line,
        }
    }
}

/// Where a table came from. CSV tables carry their encoding and delimiter in [`CsvTable`];
/// the other formats say what was read and, for xDT, what was left out.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum TableSource {
    #[default]
    Csv,
    /// GDT/BDT export ([`xdt`]).
    Xdt(xdt::XdtInfo),
    /// A spreadsheet sheet ([`SheetData`]).
    Sheet {
        format: SheetFormat,
        sheet: String,
        sheets: Vec<String>,
    },
}

/// A parsed file as a table: CSV, a spreadsheet sheet or the master data of an xDT file.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    pub encoding: TextEncoding,
    pub delimiter: u8,
    pub header_line: u64,
    pub headers: Vec<String>,
    pub rows: Vec<CsvRow>,
    pub source: TableSource,
}

impl CsvTable {
    /// Data of the file that is never imported and not a column of the table (the skipped
    /// record types and fields of an xDT file), as "6200 Behandlungsdaten (3×)".
    pub fn not_imported(&self) -> Vec<String> {
        match &self.source {
            TableSource::Xdt(info) => info.skipped.iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    /// The mapping to start from: fixed for xDT (its fields are known), guessed from the
    /// headers otherwise.
    pub fn initial_mapping(&self, kind: ImportKind) -> Mapping {
        match (&self.source, kind) {
            (TableSource::Xdt(_), ImportKind::Persons) => xdt::mapping(&self.headers),
            _ => Mapping::auto(&self.headers, kind),
        }
    }

    /// The first `n` data rows, as strings per header column (for the preview table).
    pub fn preview(&self, n: usize) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .take(n)
            .map(|r| {
                (0..self.headers.len())
                    .map(|c| r.get(c).to_string())
                    .collect()
            })
            .collect()
    }

    /// German name of the delimiter for the UI.
    pub fn delimiter_label_de(&self) -> &'static str {
        match self.delimiter {
            b';' => "Semikolon",
            b',' => "Komma",
            b'\t' => "Tabulator",
            b'|' => "senkrechter Strich",
            _ => "unbekannt",
        }
    }
}

/// A finding about one row: line in the file, data-row number, column (header text) and a
/// message (German text plus catalogue key and arguments, see [`messages`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowIssue {
    pub line: u64,
    pub row: usize,
    pub column: Option<String>,
    pub message: Msg,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zeile {} (Datensatz {})", self.line, self.row)?;
        if let Some(c) = &self.column {
            write!(f, ", Spalte „{c}“")?;
        }
        write!(f, ": {}", self.message)
    }
}

const DELIMITERS: [u8; 4] = [b';', b',', b'\t', b'|'];

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn is_blank(r: &csv::StringRecord) -> bool {
    r.iter().all(|f| f.trim().is_empty())
}

/// Picks the delimiter whose first records have the most consistent, widest shape.
fn detect_delimiter(text: &str) -> u8 {
    let mut best = (b';', 0usize, 0usize);
    for d in DELIMITERS {
        let mut rdr = reader(text, d);
        let mut header_len = 0;
        let mut consistent = 0;
        for rec in rdr.records().take(30) {
            let Ok(rec) = rec else { break };
            if is_blank(&rec) {
                continue;
            }
            if header_len == 0 {
                header_len = rec.len();
            } else if rec.len() == header_len {
                consistent += 1;
            }
        }
        if header_len < 2 {
            continue;
        }
        if (consistent, header_len) > (best.1, best.2) {
            best = (d, consistent, header_len);
        }
    }
    best.0
}

/// Decodes, detects the delimiter and parses a CSV file. The first non-blank record is the
/// header; blank rows are skipped.
pub fn read_table(bytes: &[u8]) -> Result<CsvTable, ImportError> {
    check_file_size(bytes.len() as u64)?;
    let decoded = decode(bytes)?;
    let text: &str = &decoded.text;
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let delimiter = detect_delimiter(text);
    let mut rdr = reader(text, delimiter);
    let mut headers: Option<(Vec<String>, u64)> = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // Physical lines are counted from byte offsets: the `csv` crate's own line count is one
    // behind after CRLF line ends (it counts the `\n` of "\r\n" only when reading the next
    // record). Counted incrementally, so the whole pass stays linear.
    let bytes = text.as_bytes();
    let (mut counted_to, mut line_at) = (0usize, 1u64);
    let mut line_of = |byte: usize| -> u64 {
        let mut start = byte.min(bytes.len());
        // A record "starting" on the `\n` of a CRLF (or on skipped blank lines) really starts
        // after them: no record begins with a line break.
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= counted_to {
            line_at += bytes[counted_to..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = start;
        }
        line_at
    };
    loop {
        match rdr.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(ImportError::Csv {
                    line,
                    detail: e.to_string(),
                });
            }
        }
        let line = record
            .position()
            .map(|p| line_of(p.byte() as usize))
            .unwrap_or(0);
        if is_blank(&record) {
            continue;
        }
        match &headers {
            None => {
                if record.len() < 2 {
                    return Err(ImportError::NoDelimiter { line });
                }
                headers = Some((record.iter().map(|h| h.trim().to_string()).collect(), line));
            }
            Some(_) => {
                if rows.len() >= MAX_ROWS {
                    return Err(ImportError::TooManyRows {
                        max: MAX_ROWS,
                        line,
                    });
                }
                rows.push(CsvRow {
                    line,
                    number: rows.len() + 1,
                    record: record.clone(),
                    cell_lines: Vec::new(),
                });
            }
        }
    }
    let Some((headers, header_line)) = headers else {
        return Err(ImportError::Empty);
    };
    if rows.is_empty() {
        return Err(ImportError::NoRows { header_line });
    }
    Ok(CsvTable {
        encoding: decoded.encoding,
        delimiter,
        header_line,
        headers,
        rows,
        source: TableSource::Csv,
    })
}

/// True when a field looks like many CSV rows read as one (an unclosed quote): more than 20
/// lines, most of them containing the delimiter.
fn swallowed_rows(field: &str, delimiter: u8) -> bool {
    if !field.contains('\n') {
        return false;
    }
    let lines = field.lines().count();
    lines > 20
        && field
            .lines()
            .filter(|l| l.as_bytes().contains(&delimiter))
            .count()
            * 2
            >= lines
}

/// Checks the column count of a row against the header; `None` when the row is usable.
/// Extra trailing empty fields (a common export quirk) are tolerated.
pub(crate) fn ragged_row_issue(table: &CsvTable, row: &CsvRow) -> Option<RowIssue> {
    if let Some(field) = row
        .record
        .iter()
        .find(|f| swallowed_rows(f, table.delimiter))
    {
        let swallowed = field.lines().count() - 1;
        return Some(RowIssue {
            line: row.line,
            row: row.number,
            column: None,
            message: messages::msg(
                "domain.import.row.unclosed_quote",
                vec![("n", swallowed.to_string())],
            ),
        });
    }
    let want = table.headers.len();
    let got = row.record.len();
    let extra_blank = got > want && row.record.iter().skip(want).all(|f| f.trim().is_empty());
    if got == want || extra_blank {
        return None;
    }
    Some(RowIssue {
        line: row.line,
        row: row.number,
        column: None,
        message: messages::msg(
            "domain.import.row.column_count",
            vec![("got", got.to_string()), ("want", want.to_string())],
        ),
    })
}

#[cfg(test)]
mod tests;
