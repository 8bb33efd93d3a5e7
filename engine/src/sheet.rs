//! Spreadsheets (`.xlsx`, `.xls`, `.ods`) with `calamine`: one sheet's cells as text rows
//! ([`SheetData`]) for the import (`praxisbote_core::domain::import::table_from_sheet`).
//!
//! Cells are written the way the import's parsers read them: whole numbers without decimals
//! (patient numbers and postcodes stored as numbers), dates as `TT.MM.JJJJ` and date-times
//! as `TT.MM.JJJJ HH:MM`, booleans as `ja`/`nein`, error cells as empty.

use std::io::Cursor;

use calamine::{open_workbook_auto_from_rs, Data, Reader};
use praxisbote_core::domain::import::{SheetData, SheetError, SheetFormat, SheetRow};

/// One cell as text.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            }
        }
        Data::Bool(b) => if *b { "ja" } else { "nein" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_duration() => format!("{}", t.format("%H:%M")),
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%d.%m.%Y").to_string(),
            Some(t) => t.format("%d.%m.%Y %H:%M").to_string(),
            None => dt.as_f64().to_string(),
        },
        // ODS writes ISO dates ("2026-11-26", "2026-11-26T14:30:00").
        Data::DateTimeIso(s) => iso_text(s),
        Data::DurationIso(s) => s.clone(),
    }
}

fn iso_text(s: &str) -> String {
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        if t.time() == chrono::NaiveTime::MIN {
            return t.format("%d.%m.%Y").to_string();
        }
        return t.format("%d.%m.%Y %H:%M").to_string();
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.format("%d.%m.%Y").to_string();
    }
    s.to_string()
}

/// Reads sheet `sheet` (0-based) of a workbook. The format is detected from the content;
/// `name` (the file name) only labels it.
pub fn read_sheet(bytes: &[u8], name: &str, sheet: usize) -> Result<SheetData, SheetError> {
    let format = SheetFormat::from_name(name).ok_or_else(|| SheetError::UnknownFormat {
        name: name.to_string(),
    })?;
    let unreadable = |detail: String| SheetError::Unreadable {
        format: format.label().to_string(),
        detail,
    };
    let mut wb =
        open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let sheets = wb.sheet_names();
    if sheets.is_empty() {
        return Err(SheetError::NoSheets);
    }
    let sheet_name = sheets
        .get(sheet)
        .cloned()
        .ok_or(SheetError::NoSuchSheet { n: sheet + 1 })?;
    let range = wb
        .worksheet_range(&sheet_name)
        .map_err(|e| unreadable(e.to_string()))?;
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    let mut rows = Vec::new();
    for (i, r) in range.rows().enumerate() {
        let mut cells: Vec<String> = vec![String::new(); first_col];
        cells.extend(r.iter().map(cell_text));
        while cells.last().is_some_and(|c| c.is_empty()) {
            cells.pop();
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows.push(SheetRow {
            line: first_row + i as u64 + 1,
            cells,
        });
    }
    if rows.is_empty() {
        return Err(SheetError::EmptySheet { sheet: sheet_name });
    }
    Ok(SheetData {
        format,
        sheets,
        sheet,
        rows,
    })
}
