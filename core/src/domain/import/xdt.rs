//! GDT and BDT ("xDT"): the exchange formats of German practice software, published by the
//! Qualitätsring Medizinische Software (QMS).
//!
//! A file is a sequence of lines `LLLFFFFcontent\r\n`: a 3-digit length of the whole line in
//! bytes (including the length itself and the CR LF), a 4-digit field id, the content. A
//! record starts with field 8000 (record type) and runs to the next 8000; 8100 may give the
//! record's length in bytes. The character set is field 9206 (1 = 7 bit DIN 66003,
//! 2 = IBM code page 437, the default, 3 = ISO 8859-1), the version 9218 (GDT) or 9212 (BDT).
//!
//! Only patient master data is read — records 6100 (BDT "Patientenstamm") and 6301 (GDT
//! "Stammdaten übermitteln"), fields 3000 patient number, 3100 name suffix, 3101 last name,
//! 3102 first name, 3103 birth date (TTMMJJJJ), 3104 title, 3106 postcode + city or
//! 3112/3113, 3107 street, 3110 sex (1 male, 2 female, 3 diverse), 3618 mobile,
//! 3619 e-mail. Every other record type (treatment data, findings, diagnoses) and every other
//! field (e.g. 3105 insurance number) is skipped and counted in [`XdtInfo::skipped`]; their
//! contents are never decoded into the table.
//!
//! The result is a [`CsvTable`] (one row per patient, one column per field) so the mapping
//! preview, validation, duplicate detection and atomic apply of the CSV import are used
//! unchanged. Every cell knows its own line, so findings name the line of the field.

use std::fmt;

use super::mapping::{ColumnMapping, Field, ImportKind, Mapping};
use super::messages::msg;
use super::{CsvRow, CsvTable, TableSource, TextEncoding, MAX_ROWS};
use crate::domain::message::Msg;

/// The character set of field 9206.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XdtCharset {
    /// 1: 7 bit, German reference version of ISO 646 (DIN 66003): `[\]{|}~@` are `ÄÖÜäöüß§`.
    SevenBit,
    /// 2: IBM code page 437 (the default when 9206 is missing).
    Ibm437,
    /// 3: ISO 8859-1.
    Iso8859_1,
}

impl XdtCharset {
    /// The character set's name (the same in every language).
    pub fn name(self) -> &'static str {
        match self {
            XdtCharset::SevenBit => "7 Bit (DIN 66003)",
            XdtCharset::Ibm437 => "IBM 437",
            XdtCharset::Iso8859_1 => "ISO 8859-1",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code.trim() {
            "1" => Some(XdtCharset::SevenBit),
            "2" => Some(XdtCharset::Ibm437),
            "3" => Some(XdtCharset::Iso8859_1),
            _ => None,
        }
    }
}

/// GDT (device data transfer, records 63xx) or BDT (treatment data transfer, records 0020,
/// 6100, 6200 …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XdtFormat {
    Gdt,
    Bdt,
}

impl XdtFormat {
    pub fn label(self) -> &'static str {
        match self {
            XdtFormat::Gdt => "GDT",
            XdtFormat::Bdt => "BDT",
        }
    }
}

/// What was skipped: a record type (with all its fields) or a field of a master-data record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// "Satzart" for record types, else the field id.
    pub record_type: bool,
    pub id: String,
    /// The name in the QMS catalogue, where known.
    pub name: &'static str,
    pub count: usize,
}

impl fmt::Display for Skipped {
    /// "6200 Behandlungsdaten (3×)", "3105 Versichertennummer (2×)", "8402 (1×)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            write!(f, "{} ({}×)", self.id, self.count)
        } else {
            write!(f, "{} {} ({}×)", self.id, self.name, self.count)
        }
    }
}

/// What the file said about itself, and what was left out.
#[derive(Clone, Debug, PartialEq)]
pub struct XdtInfo {
    pub format: XdtFormat,
    pub charset: XdtCharset,
    /// Field 9218 (GDT) or 9212 (BDT), e.g. "03.00"; empty when missing.
    pub version: String,
    pub records: usize,
    pub skipped: Vec<Skipped>,
}

/// Master-data record types.
const MASTER_RECORDS: [&str; 2] = ["6100", "6301"];

/// Fields that describe the file or the record, not a patient: never reported as skipped.
const STRUCTURAL_FIELDS: [&str; 9] = [
    "8000", "8100", "9206", "9218", "9212", "8315", "8316", "9103", "0102",
];

/// The columns of the table: (field id, header, field of the mapping).
const COLUMNS: [(&str, &str, Field); 12] = [
    ("3000", "3000 Patientennummer", Field::ExternalId),
    ("3104", "3104 Titel", Field::Title),
    ("3102", "3102 Vorname", Field::FirstName),
    // 3100 (name suffix, "von") is put in front of the last name.
    ("3101", "3100/3101 Name", Field::LastName),
    ("3103", "3103 Geburtsdatum", Field::BirthDate),
    ("3110", "3110 Geschlecht", Field::Gender),
    ("3107", "3107 Straße", Field::Street),
    ("3106", "3106 PLZ Ort", Field::PostcodeCity),
    ("3112", "3112 PLZ", Field::Postcode),
    ("3113", "3113 Ort", Field::City),
    ("3618", "3618 Mobiltelefon", Field::Mobile),
    ("3619", "3619 E-Mail", Field::Email),
];

/// Names of record types and fields in the QMS catalogues, for the report.
fn catalogue_name(record_type: bool, id: &str) -> &'static str {
    if record_type {
        match id {
            "6200" => "Behandlungsdaten",
            "6300" => "Stammdaten anfordern",
            "6302" => "Neue Untersuchung anfordern",
            "6310" => "Daten einer Untersuchung übermitteln",
            "6311" => "Daten einer Untersuchung zeigen",
            "0010" | "0020" | "0021" | "0022" | "0030" => "Datenträger/Praxis",
            _ => "",
        }
    } else {
        match id {
            "3105" => "Versichertennummer",
            "3108" => "Versichertenart",
            "3111" => "Geburtsname",
            "3114" => "Wohnsitzländercode",
            "3622" => "Größe",
            "3623" => "Gewicht",
            "3626" => "Telefonnummer",
            "3628" => "Muttersprache",
            "6200" => "Tag der Behandlung",
            "6205" => "Aktuelle Diagnose",
            "6220" => "Befund",
            "6227" => "Kommentar",
            "8402" => "Geräte- und verfahrensspezifisches Kennfeld",
            "8410" => "Test-Ident",
            "8420" => "Ergebnis-Wert",
            _ => "",
        }
    }
}

/// True when the bytes start like an xDT file (first line `LLL8000…`).
pub fn looks_like_xdt(bytes: &[u8]) -> bool {
    bytes.len() >= 9 && bytes[..3].iter().all(u8::is_ascii_digit) && &bytes[3..7] == b"8000"
}

/// One physical line of the file.
struct RawLine<'a> {
    line: u64,
    field: &'a str,
    content: &'a [u8],
}

fn err(key: &'static str, args: &[(&'static str, String)]) -> Msg {
    msg(key, args.to_vec())
}

/// Splits the file into lines and checks every length field.
fn split_lines(bytes: &[u8]) -> Result<Vec<RawLine<'_>>, Msg> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut line = 0u64;
    while pos < bytes.len() {
        line += 1;
        let rest = &bytes[pos..];
        // A DOS end-of-file mark (Ctrl-Z) after the last line is tolerated.
        if rest.iter().all(|&b| b == 0x1a) {
            break;
        }
        let end = rest.iter().position(|&b| b == b'\n');
        let phys = match end {
            Some(i) => &rest[..=i],
            None => rest,
        };
        let head_ok = phys.len() >= 7 && phys[..7].iter().all(u8::is_ascii_digit);
        if !head_ok {
            if end.is_none() {
                return Err(err(
                    "domain.import.xdt.truncated",
                    &[("line", line.to_string())],
                ));
            }
            return Err(err(
                "domain.import.xdt.not_a_line",
                &[("line", line.to_string())],
            ));
        }
        let given_str = std::str::from_utf8(&phys[..3]).unwrap_or("0");
        let given: usize = given_str.parse().unwrap_or(0);
        let field = std::str::from_utf8(&rest[3..7]).unwrap_or("0000");
        if given > rest.len() || (end.is_none() && given != rest.len()) {
            // The file ends before the line does.
            return Err(err(
                "domain.import.xdt.truncated",
                &[("line", line.to_string())],
            ));
        }
        let line_end = &rest[..given];
        if given < 9 || !line_end.ends_with(b"\r\n") {
            let actual_with_crlf = match end {
                Some(i) if i > 0 && rest[i - 1] == b'\r' => i + 1,
                Some(i) => {
                    // LF alone: the lengths count CR LF, so every line is one byte off.
                    if given == i + 2 {
                        return Err(err(
                            "domain.import.xdt.lf_only",
                            &[("line", line.to_string())],
                        ));
                    }
                    i + 1
                }
                None => rest.len(),
            };
            return Err(err(
                "domain.import.xdt.bad_length",
                &[
                    ("line", line.to_string()),
                    ("field", field.to_string()),
                    ("given", given_str.to_string()),
                    ("actual", actual_with_crlf.to_string()),
                ],
            ));
        }
        // A CR LF inside the declared length would mean the length is too long.
        if line_end[..given - 2].contains(&b'\n') {
            let actual = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            return Err(err(
                "domain.import.xdt.bad_length",
                &[
                    ("line", line.to_string()),
                    ("field", field.to_string()),
                    ("given", given_str.to_string()),
                    ("actual", actual.to_string()),
                ],
            ));
        }
        out.push(RawLine {
            line,
            field,
            content: &line_end[7..given - 2],
        });
        pos += given;
    }
    Ok(out)
}

/// IBM code page 437, bytes 0x80–0xFF.
const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

/// Decodes one field's content; `None` when a 7-bit file has a byte above 127.
fn decode(content: &[u8], charset: XdtCharset) -> Option<String> {
    let mut s = String::with_capacity(content.len());
    for &b in content {
        let c = match charset {
            XdtCharset::SevenBit => match b {
                0x80.. => return None,
                b'@' => '§',
                b'[' => 'Ä',
                b'\\' => 'Ö',
                b']' => 'Ü',
                b'{' => 'ä',
                b'|' => 'ö',
                b'}' => 'ü',
                b'~' => 'ß',
                _ => b as char,
            },
            XdtCharset::Ibm437 if b >= 0x80 => CP437_HIGH[(b - 0x80) as usize],
            XdtCharset::Ibm437 | XdtCharset::Iso8859_1 => b as char,
        };
        s.push(c);
    }
    Some(s)
}

fn ascii(content: &[u8]) -> String {
    String::from_utf8_lossy(content).trim().to_string()
}

/// One record: its record type and lines.
struct Record<'a> {
    line: u64,
    kind: String,
    lines: Vec<RawLine<'a>>,
}

/// Reads an xDT file into a table of its patients' master data. Errors name the line (wrong
/// length fields, a truncated file, an unknown character set) and nothing is imported.
pub fn read_xdt(bytes: &[u8]) -> Result<CsvTable, Msg> {
    if bytes.is_empty() {
        return Err(err("domain.import.xdt.empty", &[]));
    }
    let lines = split_lines(bytes)?;
    let Some(first) = lines.first() else {
        return Err(err("domain.import.xdt.empty", &[]));
    };
    if first.field != "8000" {
        return Err(err(
            "domain.import.xdt.no_record_start",
            &[("line", first.line.to_string())],
        ));
    }
    // Records and their byte lengths (8100).
    let mut records: Vec<Record> = Vec::new();
    for l in lines {
        if l.field == "8000" {
            records.push(Record {
                line: l.line,
                kind: ascii(l.content),
                lines: Vec::new(),
            });
        }
        if let Some(r) = records.last_mut() {
            r.lines.push(l);
        }
    }
    for r in &records {
        if let Some(len_line) = r.lines.iter().find(|l| l.field == "8100") {
            let given: usize = ascii(len_line.content).parse().unwrap_or(0);
            let actual: usize = r.lines.iter().map(|l| l.content.len() + 9).sum();
            if given != actual {
                return Err(err(
                    "domain.import.xdt.record_length",
                    &[
                        ("line", r.line.to_string()),
                        ("kind", r.kind.clone()),
                        ("given", given.to_string()),
                        ("actual", actual.to_string()),
                    ],
                ));
            }
        }
    }
    // A BDT file ends with its closing record 0021: without it the file was cut off.
    let is_bdt = records
        .iter()
        .any(|r| matches!(r.kind.as_str(), "0020" | "0022" | "6100" | "6200"));
    if records.first().is_some_and(|r| r.kind == "0020")
        && records.last().is_some_and(|r| r.kind != "0021")
    {
        let last = records
            .last()
            .and_then(|r| r.lines.last())
            .map_or(0, |l| l.line);
        return Err(err(
            "domain.import.xdt.missing_trailer",
            &[("line", last.to_string())],
        ));
    }
    let all = || records.iter().flat_map(|r| r.lines.iter());
    let charset = match all().find(|l| l.field == "9206") {
        Some(l) => XdtCharset::from_code(&ascii(l.content)).ok_or_else(|| {
            err(
                "domain.import.xdt.charset_unknown",
                &[("line", l.line.to_string()), ("raw", ascii(l.content))],
            )
        })?,
        None => XdtCharset::Ibm437,
    };
    let version = all()
        .find(|l| l.field == "9218")
        .or_else(|| all().find(|l| l.field == "9212"))
        .map(|l| ascii(l.content))
        .unwrap_or_default();

    let mut skipped: Vec<Skipped> = Vec::new();
    let mut skip = |record_type: bool, id: &str| match skipped
        .iter_mut()
        .find(|s| s.record_type == record_type && s.id == id)
    {
        Some(s) => s.count += 1,
        None => skipped.push(Skipped {
            record_type,
            id: id.to_string(),
            name: catalogue_name(record_type, id),
            count: 1,
        }),
    };
    let headers: Vec<String> = COLUMNS.iter().map(|(_, h, _)| h.to_string()).collect();
    let mut rows: Vec<CsvRow> = Vec::new();
    for r in &records {
        if !MASTER_RECORDS.contains(&r.kind.as_str()) {
            if !r.kind.starts_with("00") {
                skip(true, &r.kind);
            }
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(err(
                "domain.import.xdt.too_many",
                &[("max", MAX_ROWS.to_string()), ("line", r.line.to_string())],
            ));
        }
        let mut cells = vec![String::new(); COLUMNS.len()];
        let mut cell_lines = vec![0u64; COLUMNS.len()];
        let mut suffix = String::new();
        for l in &r.lines {
            let col = COLUMNS.iter().position(|(id, _, _)| *id == l.field);
            if col.is_none() && l.field != "3100" {
                if !STRUCTURAL_FIELDS.contains(&l.field) {
                    skip(false, l.field);
                }
                continue;
            }
            let text = decode(l.content, charset).ok_or_else(|| {
                err(
                    "domain.import.xdt.not_seven_bit",
                    &[("line", l.line.to_string())],
                )
            })?;
            let mut text = text.trim().to_string();
            // DIN 66003 has "§" where ASCII has "@"; an e-mail address never holds a "§".
            if l.field == "3619" && charset == XdtCharset::SevenBit {
                text = text.replace('§', "@");
            }
            let Some(col) = col else {
                suffix = text;
                continue;
            };
            // A repeated field keeps its first value.
            if !cells[col].is_empty() {
                continue;
            }
            cells[col] = match l.field {
                "3103" => birth_date(&text),
                "3110" => sex(&text),
                _ => text,
            };
            cell_lines[col] = l.line;
        }
        if !suffix.is_empty() {
            let last = COLUMNS.iter().position(|(id, _, _)| *id == "3101");
            if let Some(c) = last {
                cells[c] = format!("{suffix} {}", cells[c]).trim().to_string();
            }
        }
        rows.push(CsvRow {
            line: r.line,
            number: rows.len() + 1,
            record: csv::StringRecord::from(cells),
            cell_lines,
        });
    }
    if rows.is_empty() {
        return Err(err("domain.import.xdt.no_patients", &[]));
    }
    let info = XdtInfo {
        format: if is_bdt {
            XdtFormat::Bdt
        } else {
            XdtFormat::Gdt
        },
        charset,
        version,
        records: records.len(),
        skipped,
    };
    Ok(CsvTable {
        encoding: match charset {
            XdtCharset::Iso8859_1 => TextEncoding::Windows1252,
            // The UI shows the xDT charset itself; this is only the closest CSV encoding.
            XdtCharset::SevenBit | XdtCharset::Ibm437 => TextEncoding::Utf8,
        },
        delimiter: 0,
        header_line: 0,
        headers,
        rows,
        source: TableSource::Xdt(info),
    })
}

/// TTMMJJJJ → TT.MM.JJJJ (anything else stays as written, so validation names it).
fn birth_date(s: &str) -> String {
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}.{}.{}", &s[..2], &s[2..4], &s[4..])
    } else {
        s.to_string()
    }
}

/// 3110: 1 male, 2 female, 3 diverse (GDT 3.x also writes M/W/D, X = undetermined).
fn sex(s: &str) -> String {
    match s {
        "1" => "m".into(),
        "2" => "w".into(),
        "3" => "d".into(),
        "X" | "x" => "u".into(),
        _ => s.to_string(),
    }
}

/// The fixed mapping of the xDT columns (the user may still change it).
pub fn mapping(headers: &[String]) -> Mapping {
    Mapping {
        kind: ImportKind::Persons,
        columns: headers
            .iter()
            .map(|h| ColumnMapping {
                header: h.clone(),
                field: COLUMNS
                    .iter()
                    .find(|(_, name, _)| name == h)
                    .map_or(Field::Ignore, |(_, _, f)| *f),
            })
            .collect(),
    }
}

/// Builds one xDT line `LLLFFFFcontent\r\n` from already encoded content (for tests and
/// fixtures).
pub fn line(field: &str, content: &[u8]) -> Vec<u8> {
    let len = content.len() + 9;
    let mut out = format!("{len:03}{field}").into_bytes();
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import::{plan_person_import, ImportOptions};
    use crate::domain::model::{Gender, PersonId};
    use chrono::NaiveDate;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../tests/fixtures/import/xdt/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn plan(table: &CsvTable) -> crate::domain::import::ImportPlan {
        let mapping = table.initial_mapping(ImportKind::Persons);
        let mut n = 0;
        plan_person_import(
            table,
            &mapping,
            &[],
            &ImportOptions::new(today()),
            &mut || {
                n += 1;
                PersonId(format!("p{n}"))
            },
        )
        .expect("plan")
    }

    /// Every charset and both formats give the same three patients, umlauts intact, and
    /// report the skipped treatment records and fields.
    #[test]
    fn fixtures_in_every_charset_read_the_same_patients() {
        // (file, format, charset, version, skipped as the report shows them)
        let cases: &[(&str, XdtFormat, XdtCharset, &str, &[&str])] = &[
            (
                "bdt_iso8859.bdt",
                XdtFormat::Bdt,
                XdtCharset::Iso8859_1,
                "02.90",
                &[
                    "3105 Versichertennummer (2×)",
                    "3108 Versichertenart (3×)",
                    "6200 Behandlungsdaten (3×)",
                ],
            ),
            (
                "bdt_ibm437.bdt",
                XdtFormat::Bdt,
                XdtCharset::Ibm437,
                "02.90",
                &[
                    "3105 Versichertennummer (2×)",
                    "3108 Versichertenart (3×)",
                    "6200 Behandlungsdaten (3×)",
                ],
            ),
            (
                "gdt21_ibm437.gdt",
                XdtFormat::Gdt,
                XdtCharset::Ibm437,
                "02.10",
                &["3105 Versichertennummer (2×)"],
            ),
            (
                "gdt21_7bit.gdt",
                XdtFormat::Gdt,
                XdtCharset::SevenBit,
                "02.10",
                &["3105 Versichertennummer (2×)"],
            ),
            (
                "gdt30_iso8859.gdt",
                XdtFormat::Gdt,
                XdtCharset::Iso8859_1,
                "03.00",
                &[
                    "3105 Versichertennummer (2×)",
                    "6310 Daten einer Untersuchung übermitteln (3×)",
                ],
            ),
        ];
        for &(file, format, charset, version, skipped) in cases {
            let bytes = fixture(file);
            assert!(looks_like_xdt(&bytes), "{file}");
            let table = read_xdt(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            let TableSource::Xdt(info) = &table.source else {
                panic!("{file}: not xDT")
            };
            assert_eq!(info.format, format, "{file}");
            assert_eq!(info.charset, charset, "{file}");
            assert_eq!(info.version, version, "{file}");
            let mut got: Vec<String> = table.not_imported();
            got.sort();
            assert_eq!(got, skipped, "{file}");
            assert_eq!(table.rows.len(), 3, "{file}");

            let p = plan(&table);
            assert!(p.errors.is_empty(), "{file}: {:?}", p.errors);
            assert_eq!(p.inserts.len(), 3, "{file}");
            let anna = &p.inserts[0];
            assert_eq!(anna.person.external_id.as_deref(), Some("1001"), "{file}");
            assert_eq!(anna.person.title, "Dr.");
            assert_eq!(anna.person.first_name, "Anna");
            assert_eq!(anna.person.last_name, "Müller", "{file}");
            assert_eq!(anna.person.gender, Gender::Female);
            assert_eq!(anna.person.address.street, "Hauptstraße", "{file}");
            assert_eq!(anna.person.address.house_number, "12a");
            assert_eq!(anna.person.address.postcode, "50667");
            assert_eq!(anna.person.address.city, "Köln", "{file}");
            assert_eq!(anna.person.mobile, "0171 1234567");
            assert_eq!(anna.person.email, "anna.mueller@example.de");
            assert_eq!(
                anna.sensitive.birth_date,
                NaiveDate::from_ymd_opt(1980, 11, 26)
            );
            // 3105 is reported, never stored.
            assert_eq!(anna.sensitive.insurance_number, "", "{file}");
            let juergen = &p.inserts[1];
            assert_eq!(juergen.person.last_name, "von Bülow", "{file}");
            assert_eq!(juergen.person.first_name, "Jürgen", "{file}");
            assert_eq!(juergen.person.gender, Gender::Male);
            assert_eq!(juergen.person.address.street, "Schloßstraße", "{file}");
            assert_eq!(juergen.person.address.city, "München");
            let uelkue = &p.inserts[2];
            assert_eq!(uelkue.person.last_name, "Öztürk", "{file}");
            assert_eq!(uelkue.person.first_name, "Ülkü", "{file}");
            assert_eq!(uelkue.person.gender, Gender::Diverse);
            assert_eq!(uelkue.person.address.postcode, "01067");
            assert_eq!(uelkue.person.address.street, "Straße des 17. Juni");
            // No treatment text anywhere in the plan or the table.
            let json = serde_json::to_string(&p.inserts).unwrap();
            assert!(
                !json.contains("Lumbago") && !json.contains("Befund"),
                "{file}"
            );
            assert!(
                table
                    .rows
                    .iter()
                    .all(|r| r.record.iter().all(|c| !c.contains("Lumbago"))),
                "{file}"
            );
            // The summary names what was skipped, like the CSV treatment columns.
            assert!(
                p.summary_de().contains("3105 Versichertennummer"),
                "{file}: {}",
                p.summary_de()
            );
        }
    }

    /// Broken files: a German message naming the line, nothing imported.
    #[test]
    fn broken_files_name_the_line() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "bad_length.bdt",
                "domain.import.xdt.bad_length",
                "Zeile 14 (Feld 3000): die Längenangabe „014“",
            ),
            (
                "truncated_midline.bdt",
                "domain.import.xdt.truncated",
                "Die Datei endet mitten in Zeile 20",
            ),
            (
                "truncated_no_trailer.bdt",
                "domain.import.xdt.missing_trailer",
                "ohne Abschlusssatz 0021 (letzte Zeile 32)",
            ),
            (
                "lf_only.gdt",
                "domain.import.xdt.lf_only",
                "Zeile 1: das Zeilenende ist nur LF",
            ),
        ];
        for &(file, key, text) in cases {
            let e = read_xdt(&fixture(file)).expect_err(file);
            assert_eq!(e.key, key, "{file}: {e}");
            assert!(e.contains(text), "{file}: {e}");
        }
    }

    fn file(records: &[&[(&str, &[u8])]]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            for (f, c) in *r {
                out.extend(line(f, c));
            }
        }
        out
    }

    #[test]
    fn table_of_line_level_errors() {
        let patient: &[(&str, &[u8])] = &[("8000", b"6301"), ("3000", b"7"), ("3101", b"Weiss")];
        let mut wrong_8100 = file(&[&[("8000", b"6301"), ("8100", b"00099"), ("3101", b"X")]]);
        wrong_8100.extend(file(&[patient]));
        let mut not_seven = file(&[&[("8000", b"6301"), ("9206", b"1"), ("3101", b"M\xfcller")]]);
        not_seven.extend(b"");
        let mut garbage = file(&[patient]);
        garbage.extend(b"hello world\r\n");
        let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
            (
                "record length",
                wrong_8100,
                "domain.import.xdt.record_length",
                "Satz 6301 ab Zeile 1: laut Feld 8100 ist er 99 Bytes lang, tatsächlich 37",
            ),
            (
                "charset",
                file(&[&[("8000", b"6301"), ("9206", b"7"), ("3101", b"X")]]),
                "domain.import.xdt.charset_unknown",
                "Zeile 2: der Zeichensatz „7“",
            ),
            (
                "7 bit",
                not_seven,
                "domain.import.xdt.not_seven_bit",
                "Zeile 3: laut Feld 9206",
            ),
            (
                "no 8000",
                file(&[&[("3101", b"X")]]),
                "domain.import.xdt.no_record_start",
                "Zeile 1:",
            ),
            (
                "no patients",
                file(&[&[("8000", b"6310"), ("3000", b"1"), ("8420", b"72")]]),
                "domain.import.xdt.no_patients",
                "keine Patientenstammdaten",
            ),
            (
                "not a line",
                garbage,
                "domain.import.xdt.not_a_line",
                "Zeile 4: keine gültige GDT/BDT-Zeile",
            ),
            ("empty", Vec::new(), "domain.import.xdt.empty", "leer"),
        ];
        for (name, bytes, key, text) in cases {
            let e = read_xdt(&bytes).expect_err(name);
            assert_eq!(e.key, key, "{name}: {e}");
            assert!(e.contains(text), "{name}: {e}");
        }
    }

    /// Field values are validated like CSV cells; findings name the line of the field.
    #[test]
    fn bad_values_are_reported_with_the_fields_line() {
        let bytes = file(&[
            &[
                ("8000", b"6301"),
                ("9206", b"3"),
                ("3000", b"1"),
                ("3101", b"Gro\xdflich"),
                ("3103", b"31021970"),
                ("3110", b"9"),
            ],
            &[("8000", b"6301"), ("3000", b"2"), ("3102", b"Ohne")],
            &[("8000", b"6301"), ("3000", b"3")],
        ]);
        let table = read_xdt(&bytes).unwrap();
        let p = plan(&table);
        let errors: Vec<String> = p.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[0]
                .starts_with("Zeile 5 (Datensatz 1), Spalte „3103 Geburtsdatum“: „31.02.1970“"),
            "{errors:#?}"
        );
        assert!(
            errors[1].starts_with("Zeile 10 (Datensatz 3)"),
            "{errors:#?}"
        );
        assert!(errors[1].contains("Name fehlt"), "{errors:#?}");
        let warnings: Vec<String> = p.warnings.iter().map(|e| e.to_string()).collect();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("Zeile 6 (Datensatz 1), Spalte „3110 Geschlecht“")),
            "{warnings:#?}"
        );
        assert_eq!(p.inserts.len(), 1);
        assert_eq!(p.inserts[0].person.first_name, "Ohne");
    }

    #[test]
    fn seven_bit_and_cp437_tables() {
        assert_eq!(
            decode(b"[\\]{|}~@", XdtCharset::SevenBit).unwrap(),
            "ÄÖÜäöüß§"
        );
        assert_eq!(
            decode(
                &[0x8e, 0x99, 0x9a, 0x84, 0x94, 0x81, 0xe1],
                XdtCharset::Ibm437
            )
            .unwrap(),
            "ÄÖÜäöüß"
        );
        assert_eq!(
            decode(
                &[0xc4, 0xd6, 0xdc, 0xe4, 0xf6, 0xfc, 0xdf],
                XdtCharset::Iso8859_1
            )
            .unwrap(),
            "ÄÖÜäöüß"
        );
    }
}
