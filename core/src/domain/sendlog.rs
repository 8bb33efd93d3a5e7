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
    v.sort_by(|a, b| (b.batch.created_at, &b.batch.id).cmp(&(a.batch.created_at, &a.batch.id)));
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
    csv_document(
        &CSV_HEADERS,
        rows.iter().map(|r| {
            let address = if is_e164(&r.address) {
                r.address.clone()
            } else {
                safe_cell(&r.address)
            };
            vec![
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
            ]
        }),
    )
}

/// A CSV document in the export format (UTF-8 with BOM, `;`): the headers, then the rows.
/// Free-text cells must already be passed through [`safe_cell`].
pub fn csv_document(
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(headers)?;
    for r in rows {
        w.write_record(&r)?;
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

/// File name for the export: `Versandprotokoll_2026-11-26_1405.csv`.
pub fn csv_file_name(now: NaiveDateTime) -> String {
    format!("Versandprotokoll_{}.csv", now.format("%Y-%m-%d_%H%M"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Evidence, PersonId};
    use crate::domain::outbox::{
        queue_batch, ConsentBasis, Content, QueueItem, RelayReport, RelayState,
    };
    use chrono::NaiveDate;

    fn t(day: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn item(id: &str, name: &str, address: &str, consent: ConsentBasis) -> QueueItem {
        QueueItem {
            id: id.into(),
            person_id: PersonId(format!("p-{id}")),
            appointment_id: None,
            recipient_name: name.into(),
            address: address.into(),
            content: Content {
                subject: None,
                text: "Hallo".into(),
                html: None,
                calendar: None,
            },
            consent,
        }
    }

    fn fixture() -> (Vec<Batch>, Vec<OutboxMessage>) {
        let consent = ConsentBasis::Consent {
            given_at: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            evidence: Evidence::WrittenForm,
        };
        let old = Batch {
            claim: None,
            id: "b-old".into(),
            created_at: t(25, 9, 0),
            channel: Channel::Sms,
            purpose: Purpose::AppointmentReminder,
            template_name: "SMS-Erinnerung".into(),
            template_version: 2,
            paused: false,
            files: Vec::new(),
        };
        let new = Batch {
            claim: None,
            id: "b-new".into(),
            created_at: t(26, 14, 5),
            channel: Channel::Sms,
            purpose: Purpose::Recall,
            template_name: "Recall".into(),
            template_version: 1,
            paused: false,
            files: Vec::new(),
        };
        let mut ms = queue_batch(
            &old,
            vec![item(
                "o1",
                "Müller, Anna",
                "+4917112345678",
                consent.clone(),
            )],
        )
        .unwrap();
        ms.extend(
            queue_batch(
                &new,
                vec![
                    item("n1", "Yılmaz, Ece", "+4915112345678", consent.clone()),
                    item(
                        "n2",
                        "=HYPERLINK(\"x\"), Evil",
                        "+4916012345678",
                        ConsentBasis::Override {
                            reason: "Patient bat am Telefon; \"dringend\"".into(),
                            at: t(26, 13, 0),
                        },
                    ),
                ],
            )
            .unwrap(),
        );
        let rep = |id: &str, state, reason: Option<&str>, at| RelayReport {
            id: id.into(),
            state,
            reason: reason.map(str::to_string),
            next_attempt: None,
            at,
        };
        ms[0]
            .apply_report(&rep("o1", RelayState::Sent, None, t(25, 9, 1)))
            .unwrap();
        ms[1]
            .apply_report(&rep("n1", RelayState::Sent, None, t(26, 14, 6)))
            .unwrap();
        ms[2]
            .apply_report(&rep(
                "n2",
                RelayState::Failed,
                Some("Nummer nicht erreichbar"),
                t(26, 14, 7),
            ))
            .unwrap();
        (vec![old, new], ms)
    }

    #[test]
    fn rows_newest_batch_first_and_filtered() {
        let (batches, ms) = fixture();
        let rows = log_rows(&batches, &ms, None);
        let ids: Vec<_> = rows.iter().map(|r| r.message_id.as_str()).collect();
        assert_eq!(ids, ["n1", "n2", "o1"]);
        assert_eq!(rows[1].reason.as_deref(), Some("Nummer nicht erreichbar"));
        assert_eq!(rows[0].template, "Recall (v1)");
        let failed = log_rows(&batches, &ms, Some(StateKind::Failed));
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].message_id, "n2");
        assert!(log_rows(&batches, &ms, Some(StateKind::Queued)).is_empty());
        let sums = batch_summaries(&batches, &ms);
        assert_eq!(sums[0].batch.id, "b-new");
        assert_eq!((sums[0].counts.sent, sums[0].counts.failed), (1, 1));
        assert_eq!(sums[1].counts.sent, 1);
    }

    #[test]
    fn csv_export() {
        let (batches, ms) = fixture();
        let bytes = to_csv(&log_rows(&batches, &ms, None)).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let mut r = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(&bytes[3..]);
        let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(headers, CSV_HEADERS);
        let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(recs.len(), 3);
        let n2 = &recs[1];
        assert_eq!(&n2[0], "b-new");
        assert_eq!(&n2[1], "26.11.2026 14:05");
        assert_eq!(&n2[2], "SMS");
        assert_eq!(&n2[3], "Recall");
        assert_eq!(&n2[4], "Recall (v1)");
        assert_eq!(&n2[5], "'=HYPERLINK(\"x\"), Evil");
        assert_eq!(&n2[6], "+4916012345678");
        assert_eq!(&n2[7], "fehlgeschlagen");
        assert_eq!(&n2[8], "26.11.2026 14:07");
        assert_eq!(&n2[9], "Nummer nicht erreichbar");
        assert_eq!(
            &n2[10],
            "Ohne Einwilligung (26.11.2026 13:00): Patient bat am Telefon; \"dringend\""
        );
        assert_eq!(&n2[11], "n2");
        let o1 = &recs[2];
        assert_eq!(&o1[5], "Müller, Anna");
        assert_eq!(&o1[7], "gesendet");
        assert_eq!(&o1[10], "Einwilligung vom 02.01.2026 (schriftlich)");
        assert_eq!(&o1[9], "");
    }

    #[test]
    fn csv_cells_are_defused() {
        let cases = [
            ("=1+1", "'=1+1"),
            ("+49 171", "'+49 171"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("Müller", "Müller"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(safe_cell(input), want, "{input}");
        }
        assert!(is_e164("+4917112345678"));
        assert!(!is_e164("+49 171"));
        assert!(!is_e164("=+4917112345678"));
        assert_eq!(
            csv_file_name(t(26, 14, 5)),
            "Versandprotokoll_2026-11-26_1405.csv"
        );
    }
}
