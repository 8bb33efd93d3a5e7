//! The send log ("Protokoll"): one row per recipient and message, filterable by state, and
//! a CSV export for audits.
//!
//! CSV format: UTF-8 with byte-order mark, `;` as separator (what German spreadsheet
//! programs expect), German headers, dates as `26.11.2026 14:05`. Cells of free text that
//! start with `=`, `+`, `-`, `@`, tab or CR get a leading `'` so a spreadsheet does not run
//! them as formulas (CSV injection); E.164 numbers (`+49…`) in the address column are kept.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::model::{Channel, Purpose};
use super::outbox::{Batch, BatchCounts, OutboxMessage, StateKind};

/// Column headers of the CSV export.
pub const CSV_HEADERS: [&str; 13] = [
    "Sendung",
    "Datum",
    "Kanal",
    "Zweck",
    "Vorlage",
    "Empfänger",
    "Adresse",
    "Status",
    "Zeit",
    "Fehlergrund",
    "Einwilligung",
    "Nachrichten-ID",
    "Erneut gesendet als",
];

/// One row of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    pub batch_id: String,
    pub batch_date: NaiveDateTime,
    pub channel: Channel,
    pub purpose: Purpose,
    /// "Terminerinnerung (v3)".
    pub template: String,
    pub recipient_name: String,
    pub address: String,
    pub state: StateKind,
    pub time: NaiveDateTime,
    pub reason: Option<String>,
    pub consent: String,
    pub message_id: String,
    pub retried_as: Option<String>,
}

/// One batch in the log overview.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchSummary {
    pub batch: Batch,
    pub counts: BatchCounts,
}

/// Batches with their counts, newest first.
pub fn batch_summaries(batches: &[Batch], messages: &[OutboxMessage]) -> Vec<BatchSummary> {
    let mut by_batch: BTreeMap<&str, Vec<&OutboxMessage>> = BTreeMap::new();
    for m in messages {
        by_batch.entry(m.batch_id.as_str()).or_default().push(m);
    }
    let mut v: Vec<BatchSummary> = batches
        .iter()
        .map(|b| BatchSummary {
            batch: b.clone(),
            counts: BatchCounts::of(by_batch.get(b.id.as_str()).into_iter().flatten().copied()),
        })
        .collect();
    v.sort_by(|a, b| {
        (b.batch.created_at, &b.batch.id).cmp(&(a.batch.created_at, &a.batch.id))
    });
    v
}

/// Log rows of all messages (whose batch is known), batches newest first, within a batch in
/// queue order; `filter` keeps only one state.
pub fn log_rows(
    batches: &[Batch],
    messages: &[OutboxMessage],
    filter: Option<StateKind>,
) -> Vec<LogRow> {
    let by_id: BTreeMap<&str, &Batch> = batches.iter().map(|b| (b.id.as_str(), b)).collect();
    let mut ms: Vec<(&Batch, &OutboxMessage)> = messages
        .iter()
        .filter(|m| filter.is_none_or(|f| m.kind() == f))
        .filter_map(|m| by_id.get(m.batch_id.as_str()).map(|b| (*b, m)))
        .collect();
    ms.sort_by(|(ba, a), (bb, b)| {
        (bb.created_at, &bb.id)
            .cmp(&(ba.created_at, &ba.id))
            .then((a.seq, &a.id).cmp(&(b.seq, &b.id)))
    });
    ms.into_iter()
        .map(|(b, m)| LogRow {
            batch_id: b.id.clone(),
            batch_date: b.created_at,
            channel: m.channel,
            purpose: m.purpose,
            template: format!("{} (v{})", m.template_name, m.template_version),
            recipient_name: m.recipient_name.clone(),
            address: m.address.clone(),
            state: m.kind(),
            time: m.updated_at,
            reason: m.state.reason().map(str::to_string),
            consent: m.consent.label_de(),
            message_id: m.id.clone(),
            retried_as: m.retried_as.clone(),
        })
        .collect()
}

fn is_e164(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Neutralises a free-text cell against formula execution in spreadsheets.
pub fn safe_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The CSV export of log rows.
pub fn to_csv(rows: &[LogRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::with_capacity(64 + rows.len() * 200));
    w.write_record(CSV_HEADERS)?;
    for r in rows {
        let address = if is_e164(&r.address) {
            r.address.clone()
        } else {
            safe_cell(&r.address)
        };
        w.write_record([
            safe_cell(&r.batch_id),
            r.batch_date.format("%d.%m.%Y %H:%M").to_string(),
            r.channel.label_de().to_string(),
            r.purpose.label_de().to_string(),
            safe_cell(&r.template),
            safe_cell(&r.recipient_name),
            address,
            r.state.label_de().to_string(),
            r.time.format("%d.%m.%Y %H:%M").to_string(),
            safe_cell(r.reason.as_deref().unwrap_or("")),
            safe_cell(&r.consent),
            safe_cell(&r.message_id),
            safe_cell(r.retried_as.as_deref().unwrap_or("")),
        ])?;
    }
    let body = w.into_inner().map_err(|e| e.into_error())?;
    let mut out = Vec::with_capacity(body.len() + 3);
    out.extend_from_slice(b"\xEF\xBB\xBF");
    out.extend_from_slice(&body);
    Ok(out)
}

/// File name for the export: `Versandprotokoll_2026-11-26_1405.csv`.
pub fn csv_file_name(now: NaiveDateTime) -> String {
    format!("Versandprotokoll_{}.csv", now.format("%Y-%m-%d_%H%M"))
}
