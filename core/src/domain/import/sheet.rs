//! Spreadsheets (`.xlsx`, `.xls`, `.ods`): the cells of one sheet as text rows, read by the
//! engine wasm with `calamine` (`engine/src/sheet.rs`), turned into a [`CsvTable`] here so the
//! mapping, validation and apply of the CSV import are used unchanged.
//!
//! The engine writes cells the way the import's parsers read them: whole numbers without
//! decimals (patient numbers, postcodes), dates as `TT.MM.JJJJ` (with ` HH:MM` when they
//! have a time).

use serde::{Deserialize, Serialize};

use super::{CsvRow, CsvTable, ImportError, TableSource, TextEncoding, MAX_ROWS};

/// The kind of spreadsheet file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SheetFormat {
    Xlsx,
    Xls,
    Ods,
}

impl SheetFormat {
    /// From a file name's extension.
    pub fn from_name(name: &str) -> Option<SheetFormat> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "xlsx" | "xlsm" => Some(SheetFormat::Xlsx),
            "xls" => Some(SheetFormat::Xls),
            "ods" => Some(SheetFormat::Ods),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SheetFormat::Xlsx => "Excel (.xlsx)",
            SheetFormat::Xls => "Excel 97–2003 (.xls)",
            SheetFormat::Ods => "OpenDocument (.ods)",
        }
    }
}

/// One non-empty row of a sheet: its row number as the spreadsheet shows it (1-based) and
/// the cells as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// One sheet as the engine read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetData {
    pub format: SheetFormat,
    /// Names of all sheets of the workbook.
    pub sheets: Vec<String>,
    /// Index of the sheet in `rows`.
    pub sheet: usize,
    pub rows: Vec<SheetRow>,
}

/// A workbook the engine could not read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SheetError {
    #[error(
        "Die Datei ist keine lesbare Tabelle ({format}): {detail}. Ist sie beschädigt oder \
         mit einem Kennwort geschützt?"
    )]
    Unreadable { format: String, detail: String },
    #[error("Die Arbeitsmappe enthält keine Tabellenblätter.")]
    NoSheets,
    #[error("Das Tabellenblatt Nr. {n} gibt es nicht.")]
    NoSuchSheet { n: usize },
    #[error("Das Tabellenblatt „{sheet}“ ist leer.")]
    EmptySheet { sheet: String },
    #[error("Unbekanntes Tabellenformat: „{name}“ (erwartet .xlsx, .xls oder .ods).")]
    UnknownFormat { name: String },
}

impl crate::domain::message::UiMessage for SheetError {
    fn key(&self) -> &'static str {
        match self {
            SheetError::Unreadable { .. } => "domain.import.sheet.unreadable",
            SheetError::NoSheets => "domain.import.sheet.no_sheets",
            SheetError::NoSuchSheet { .. } => "domain.import.sheet.no_such_sheet",
            SheetError::EmptySheet { .. } => "domain.import.sheet.empty",
            SheetError::UnknownFormat { .. } => "domain.import.sheet.unknown_format",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            SheetError::Unreadable { format, detail } => {
                vec![("format", format.clone()), ("detail", detail.clone())]
            }
            SheetError::NoSheets => vec![],
            SheetError::NoSuchSheet { n } => vec![("n", n.to_string())],
            SheetError::EmptySheet { sheet } => vec![("sheet", sheet.clone())],
            SheetError::UnknownFormat { name } => vec![("name", name.clone())],
        }
    }
}

/// The sheet as a table: the first non-empty row is the header, blank rows are skipped.
pub fn table_from_sheet(data: SheetData) -> Result<CsvTable, ImportError> {
    let sheet = data.sheets.get(data.sheet).cloned().unwrap_or_default();
    let mut rows_iter = data
        .rows
        .into_iter()
        .filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()));
    let Some(header) = rows_iter.next() else {
        return Err(ImportError::Empty);
    };
    let header_line = header.line;
    let mut headers: Vec<String> = header.cells.iter().map(|h| h.trim().to_string()).collect();
    // Trailing header cells without a name carry no column.
    while headers.last().is_some_and(|h| h.is_empty()) {
        headers.pop();
    }
    let width = headers.len();
    let mut rows = Vec::new();
    for r in rows_iter {
        if rows.len() >= MAX_ROWS {
            return Err(ImportError::TooManyRows {
                max: MAX_ROWS,
                line: r.line,
            });
        }
        let mut cells = r.cells;
        // Cells right of the header are empty in a sheet unless someone typed there; keep
        // them so the row-shape check reports them.
        if cells.len() < width {
            cells.resize(width, String::new());
        }
        while cells.len() > width && cells.last().is_some_and(|c| c.trim().is_empty()) {
            cells.pop();
        }
        rows.push(CsvRow {
            line: r.line,
            number: rows.len() + 1,
            record: csv::StringRecord::from(cells),
            cell_lines: Vec::new(),
        });
    }
    if rows.is_empty() {
        return Err(ImportError::NoRows { header_line });
    }
    Ok(CsvTable {
        encoding: TextEncoding::Utf8,
        delimiter: 0,
        header_line,
        headers,
        rows,
        source: TableSource::Sheet {
            format: data.format,
            sheet,
            sheets: data.sheets,
        },
    })
}
