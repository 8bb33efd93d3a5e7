//! Printing serial letters from the composer: a rendered letter text becomes a [`Letter`]
//! (salutation, body, closing, signature), the batch becomes a [`PrintJob`] for the PDF
//! worker, the download gets its file name, and the printed batch becomes outbox records in
//! the state "gedruckt".
//!
//! Pure: dates, times and ids are given by the caller.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::letter::Letter;
use super::model::{Letterhead, PracticeSettings};
use super::outbox::{queue_batch, Batch, OutboxError, OutboxMessage, QueueItem};

/// What the PDF worker gets (the JSON shape of `praxisbote_pdf::BatchJob`; the logo travels
/// inside `letterhead`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrintJob {
    /// Document title, e.g. "Serienbrief Geburtstag".
    pub title: String,
    pub created: NaiveDateTime,
    pub practice: PracticeSettings,
    pub letters: Vec<Letter>,
    /// A blank page after letters with an odd page count (duplex printing).
    pub duplex: bool,
    /// The practice's letterhead from the settings; `None` prints the plain one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letterhead: Option<Letterhead>,
}

/// Document title of a serial letter: "Serienbrief Terminerinnerung".
pub fn document_title(topic: &str) -> String {
    let t = topic.trim();
    if t.is_empty() {
        "Serienbrief".into()
    } else {
        format!("Serienbrief {t}")
    }
}

/// Download name: `Serienbrief_Terminerinnerung_2026-11-27.pdf`. Characters that file systems
/// dislike are replaced by `_`.
pub fn download_name(topic: &str, date: NaiveDate) -> String {
    let mut t: String = topic
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while t.contains("__") {
        t = t.replace("__", "_");
    }
    let t = t.trim_matches('_');
    if t.is_empty() {
        format!("Serienbrief_{}.pdf", date.format("%Y-%m-%d"))
    } else {
        format!("Serienbrief_{t}_{}.pdf", date.format("%Y-%m-%d"))
    }
}

/// Paragraphs of a text: separated by blank lines; lines inside a paragraph are kept (a `\n`
/// is a hard break in the layout).
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(cur.join("\n"));
                cur.clear();
            }
        } else {
            cur.push(line);
        }
    }
    if !cur.is_empty() {
        out.push(cur.join("\n"));
    }
    out
}

/// A closing formula ("Mit freundlichen Grüßen", "Kind regards"): one short line without a
/// sentence end.
fn is_closing(p: &str) -> bool {
    if p.contains('\n') || p.chars().count() > 60 {
        return false;
    }
    let t = p.trim();
    if t.ends_with(['.', '!', '?', ':', ',']) {
        return false;
    }
    let l = t.to_lowercase();
    [
        "grüß",
        "gruß",
        "grüss",
        "gruss",
        "regards",
        "sincerely",
        "yours",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// Turns a rendered letter text (salutation, paragraphs, closing, signature — the way the
/// letter templates are written) into a [`Letter`]:
/// - a first paragraph of one line ending with "," is the salutation;
/// - a closing formula followed by one last paragraph of at most four lines becomes closing
///   and signature (with room for a handwritten signature in between);
/// - everything else stays body text, in order — nothing is dropped.
pub fn letter_from_text(
    recipient: Vec<String>,
    date: NaiveDate,
    subject: &str,
    text: &str,
) -> Letter {
    let mut paras = paragraphs(text);
    let mut salutation = String::new();
    if paras
        .first()
        .is_some_and(|p| !p.contains('\n') && p.trim_end().ends_with(','))
    {
        salutation = paras.remove(0);
    }
    let mut closing = String::new();
    let mut signature = Vec::new();
    let n = paras.len();
    if n >= 2 && is_closing(&paras[n - 2]) && paras[n - 1].lines().count() <= 4 {
        signature = paras
            .pop()
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        closing = paras.pop().unwrap_or_default();
    } else if n >= 1 && is_closing(&paras[n - 1]) {
        closing = paras.pop().unwrap_or_default();
    }
    Letter {
        recipient,
        return_address: String::new(),
        date,
        subject: subject.trim().to_string(),
        salutation,
        body: paras,
        closing,
        signature,
    }
}

/// The outbox records of a printed batch: queued (the same checks as for sending) and at once
/// moved to "gedruckt" at `at`. Written in one transaction by the caller.
pub fn printed_batch(
    batch: &Batch,
    items: Vec<QueueItem>,
    at: NaiveDateTime,
) -> Result<Vec<OutboxMessage>, OutboxError> {
    let mut messages = queue_batch(batch, items)?;
    for m in &mut messages {
        m.mark_printed(at)?;
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outbox::{BatchCounts, ConsentBasis, Content, StateKind};
    use crate::domain::{Channel, PersonId, Purpose};

    fn d() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    #[test]
    fn download_name_is_safe() {
        let table = [
            (
                "Terminerinnerung",
                "Serienbrief_Terminerinnerung_2026-11-27.pdf",
            ),
            (
                "Geburtstag 2026",
                "Serienbrief_Geburtstag_2026_2026-11-27.pdf",
            ),
            ("a/b:c", "Serienbrief_a_b_c_2026-11-27.pdf"),
            ("  ", "Serienbrief_2026-11-27.pdf"),
            ("Grüße", "Serienbrief_Grüße_2026-11-27.pdf"),
        ];
        for (topic, want) in table {
            assert_eq!(download_name(topic, d()), want, "{topic}");
        }
        assert_eq!(document_title("Geburtstag"), "Serienbrief Geburtstag");
        assert_eq!(document_title(""), "Serienbrief");
    }

    #[test]
    fn splits_salutation_closing_and_signature() {
        let text = "Sehr geehrte Frau Öztürk,\n\nzu Ihrem Geburtstag gratulieren wir.\nZweite Zeile.\n\n\
                    Wir freuen uns.\n\nMit freundlichen Grüßen\n\nIhr Praxisteam\nPraxis Sonnenschein\n";
        let l = letter_from_text(vec!["Frau".into()], d(), " Betreff ", text);
        assert_eq!(l.salutation, "Sehr geehrte Frau Öztürk,");
        assert_eq!(
            l.body,
            vec![
                "zu Ihrem Geburtstag gratulieren wir.\nZweite Zeile.".to_string(),
                "Wir freuen uns.".to_string()
            ]
        );
        assert_eq!(l.closing, "Mit freundlichen Grüßen");
        assert_eq!(l.signature, vec!["Ihr Praxisteam", "Praxis Sonnenschein"]);
        assert_eq!(l.subject, "Betreff");
        assert_eq!(l.date, d());
    }

    #[test]
    fn keeps_everything_when_the_shape_is_unusual() {
        // A postscript after the signature: no closing/signature split, nothing dropped.
        let table: &[(&str, &str, usize, &str, usize)] = &[
            // text, salutation, body paragraphs, closing, signature lines
            (
                "Hallo Anna,\n\nText.\n\nMit herzlichen Grüßen\n\nIhr Team\nPraxis\n\nPS: Anruf genügt.",
                "Hallo Anna,",
                4,
                "",
                0,
            ),
            ("Nur ein Satz.", "", 1, "", 0),
            ("Guten Tag,\n\nText.\n\nKind regards", "Guten Tag,", 1, "Kind regards", 0),
            // "Grüße." ends a sentence: body, not closing.
            ("Text.\n\nViele Grüße.", "", 2, "", 0),
            // A signature of five lines is too long: body.
            ("Text.\n\nViele Grüße\n\na\nb\nc\nd\ne", "", 3, "", 0),
        ];
        for &(text, sal, body, closing, sig) in table {
            let l = letter_from_text(vec![], d(), "", text);
            assert_eq!(l.salutation, sal, "{text}");
            assert_eq!(l.body.len(), body, "{text}: {:?}", l.body);
            assert_eq!(l.closing, closing, "{text}");
            assert_eq!(l.signature.len(), sig, "{text}");
            let words = |s: &str| s.split_whitespace().count();
            let total = words(&l.salutation)
                + l.body.iter().map(|b| words(b)).sum::<usize>()
                + words(&l.closing)
                + l.signature.iter().map(|s| words(s)).sum::<usize>();
            assert_eq!(total, words(text), "text lost: {text}");
        }
    }

    #[test]
    fn printed_batch_is_gedruckt_per_recipient() {
        let at = d().and_hms_opt(10, 15, 0).unwrap();
        let batch = Batch {
            claim: None,
            id: "b1".into(),
            created_at: at,
            channel: Channel::Letter,
            purpose: Purpose::Birthday,
            template_name: "Geburtstagsgruß (Brief)".into(),
            template_version: 1,
            paused: false,
            files: Vec::new(),
        };
        let item = |id: &str, addr: &str| QueueItem {
            id: id.into(),
            person_id: PersonId(format!("p-{id}")),
            appointment_id: None,
            recipient_name: format!("Name {id}"),
            address: addr.into(),
            content: Content {
                subject: Some("Glückwunsch".into()),
                text: "Hallo".into(),
                html: None,
                calendar: None,
            },
            consent: ConsentBasis::Override {
                reason: "Brief an Bestandspatient".into(),
                at,
            },
        };
        let ms = printed_batch(
            &batch,
            vec![
                item("a", "Frau, Anna A, Weg 1, 12345 Ort"),
                item("b", "Herrn, B"),
            ],
            at,
        )
        .unwrap();
        assert_eq!(ms.len(), 2);
        assert!(ms.iter().all(|m| m.kind() == StateKind::Printed));
        assert!(ms.iter().all(|m| m.kind().label_de() == "gedruckt"));
        assert_eq!(BatchCounts::of(&ms).printed, 2);
        assert_eq!(ms[1].seq, 1);
        // Same checks as queueing: an empty address is refused.
        assert!(printed_batch(&batch, vec![item("c", " ")], at).is_err());
    }

    #[test]
    fn print_job_round_trips_as_json() {
        let job = PrintJob {
            title: document_title("Geburtstag"),
            created: d().and_hms_opt(9, 30, 0).unwrap(),
            practice: PracticeSettings::default(),
            letters: vec![letter_from_text(
                vec!["Herrn".into(), "Max Muster".into()],
                d(),
                "S",
                "Hallo,\n\nText",
            )],
            duplex: true,
            letterhead: None,
        };
        let json = serde_json::to_string(&job).unwrap();
        assert!(
            json.contains("\"created\":\"2026-11-27T09:30:00\""),
            "{json}"
        );
        let back: PrintJob = serde_json::from_str(&json).unwrap();
        assert_eq!(back, job);
    }
}
