//! "Einwilligungsnachweis": every consent event of one person as CSV, for a request under
//! Art. 7 (1) GDPR (the controller must be able to demonstrate the consent).
//!
//! Same CSV format as the send log (UTF-8 with BOM, `;`, German headers, free-text cells
//! defused against formula execution). One row per event, by channel, purpose and date; the
//! last column is the state of the cell that follows from its events.

use chrono::NaiveDate;

use super::Consents;
use super::{status_of, ConsentStatus};
use crate::domain::model::{Guardian, Person};
use crate::domain::sendlog::{csv_document, safe_cell};

/// Column headers of the export.
pub const HEADERS: [&str; 12] = [
    "Person",
    "Personen-ID",
    "Kanal",
    "Zweck",
    "Ereignis",
    "Datum",
    "Nachweis",
    "Quelle",
    "Notiz",
    "Stand danach",
    "Erstellt am",
    "Erteilt von",
];

fn date_de(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// "erteilt" / "widerrufen" / "keine" for the state after an event.
fn state_de(s: ConsentStatus) -> &'static str {
    match s {
        ConsentStatus::Granted(_) => "erteilt",
        ConsentStatus::Withdrawn { .. } => "widerrufen",
        ConsentStatus::Missing => "keine",
    }
}

/// The event columns of the proof (the CSV adds person, id and date of creation around
/// them; the PDF prints them as its table).
pub const EVENT_HEADERS: [&str; 8] = [
    "Kanal",
    "Zweck",
    "Ereignis",
    "Datum",
    "Nachweis",
    "Quelle",
    "Notiz",
    "Stand danach",
];

/// One row per consent event of `person` (by channel, purpose and date), in the columns of
/// [`EVENT_HEADERS`]; the note as recorded (the CSV defuses it).
pub fn event_rows(person: &Person) -> Vec<[String; 8]> {
    consent_rows(&person.consents)
}

/// Who gave the consents of [`guardian_rows`]: "Erziehungsberechtigte Anna Weber" (or
/// "Erziehungsberechtigte 2" without a name).
pub fn guardian_label(index: usize, g: &Guardian) -> String {
    let name = g.full_name();
    if name.is_empty() {
        format!("Erziehungsberechtigte {}", index + 1)
    } else {
        format!("Erziehungsberechtigte {name}")
    }
}

/// The events of the consents each guardian gave on the person's behalf, with
/// [`guardian_label`]; guardians without an event are left out.
pub fn guardian_rows(person: &Person) -> Vec<(String, Vec<[String; 8]>)> {
    person
        .guardians
        .iter()
        .enumerate()
        .map(|(i, g)| (guardian_label(i, g), consent_rows(&g.consents)))
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

fn consent_rows(consents: &Consents) -> Vec<[String; 8]> {
    let mut rows = Vec::new();
    for cell in consents.cells() {
        let events = cell.events();
        for (i, e) in events.iter().enumerate() {
            rows.push([
                cell.channel.label_de().to_string(),
                cell.purpose.label_de().to_string(),
                e.action.label_de().to_string(),
                date_de(e.date),
                e.evidence
                    .map(|x| x.label_de().to_string())
                    .unwrap_or_default(),
                e.source.label_de().to_string(),
                e.note.clone(),
                state_de(status_of(&events[..=i])).to_string(),
            ]);
        }
    }
    rows
}

/// The CSV of all consent events of `person`, made on `today`.
pub fn to_csv(person: &Person, today: NaiveDate) -> Result<Vec<u8>, csv::Error> {
    let name = safe_cell(&person.sort_name());
    let id = safe_cell(&person.id.0);
    let made = date_de(today);
    let own = (String::from("Person selbst"), event_rows(person));
    let rows: Vec<Vec<String>> = std::iter::once(own)
        .chain(guardian_rows(person))
        .flat_map(|(by, rows)| rows.into_iter().map(move |r| (by.clone(), r)))
        .map(
            |(by, [channel, purpose, event, date, evidence, source, note, state])| {
                vec![
                    name.clone(),
                    id.clone(),
                    channel,
                    purpose,
                    event,
                    date,
                    evidence,
                    source,
                    safe_cell(&note),
                    state,
                    made.clone(),
                    safe_cell(&by),
                ]
            },
        )
        .collect();
    csv_document(&HEADERS, rows)
}

/// File name: `Einwilligungsnachweis_Mueller_Anna_2026-11-26.csv` (name folded to ASCII
/// letters, digits and `_`).
pub fn file_name(person: &Person, today: NaiveDate) -> String {
    stem_name(person, today) + ".csv"
}

/// The PDF's name: `Einwilligungsnachweis_Mueller_Anna_2026-11-26.pdf`.
pub fn pdf_name(person: &Person, today: NaiveDate) -> String {
    stem_name(person, today) + ".pdf"
}

fn stem_name(person: &Person, today: NaiveDate) -> String {
    let mut stem = String::new();
    for part in [person.last_name.trim(), person.first_name.trim()] {
        if part.is_empty() {
            continue;
        }
        if !stem.is_empty() {
            stem.push('_');
        }
        for c in part.chars() {
            match c {
                'ä' => stem.push_str("ae"),
                'ö' => stem.push_str("oe"),
                'ü' => stem.push_str("ue"),
                'Ä' => stem.push_str("Ae"),
                'Ö' => stem.push_str("Oe"),
                'Ü' => stem.push_str("Ue"),
                'ß' => stem.push_str("ss"),
                c if c.is_ascii_alphanumeric() => stem.push(c),
                _ => stem.push('_'),
            }
        }
    }
    if stem.is_empty() {
        stem.push_str("Person");
    }
    format!("Einwilligungsnachweis_{stem}_{}", today.format("%Y-%m-%d"))
}
