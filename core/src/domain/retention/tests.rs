use chrono::{NaiveDate, NaiveDateTime};

use super::*;
use crate::domain::model::{Channel, Evidence, PersonId, Purpose};
use crate::domain::outbox::{queue_batch, Batch, ConsentBasis, MessageState, QueueItem};
use crate::domain::sendlog::{batch_summaries, log_rows, to_csv};

fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

fn batch(id: &str, created: NaiveDateTime) -> Batch {
    Batch {
        claim: None,
        id: id.into(),
        created_at: created,
        channel: Channel::Email,
        purpose: Purpose::AppointmentReminder,
        template_name: "Terminerinnerung".into(),
        template_version: 2,
        paused: false,
        files: Vec::new(),
    }
}

/// `n` messages of a batch, all queued at its creation.
fn messages(b: &Batch, n: usize) -> Vec<OutboxMessage> {
    let items = (0..n)
        .map(|i| QueueItem {
            id: format!("{}-m{i}", b.id),
            person_id: PersonId(format!("p{i}")),
            appointment_id: None,
            recipient_name: format!("Müller, Anna {i}"),
            address: format!("anna{i}@example.org"),
            content: Content {
                subject: Some("Ihr Termin".into()),
                text: "Guten Tag, wir erinnern an Ihren Termin.".into(),
                html: Some("<p>Guten Tag</p>".into()),
                calendar: None,
            },
            consent: ConsentBasis::Consent {
                given_at: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
                evidence: Evidence::WrittenForm,
            },
        })
        .collect();
    queue_batch(b, items).unwrap()
}

fn set(m: &mut OutboxMessage, state: MessageState, when: NaiveDateTime) {
    m.state = state;
    m.updated_at = when;
}

#[test]
fn cutoff_is_now_minus_the_months() {
    let r = Retention::default();
    assert_eq!(r.outbox_months, 12);
    assert_eq!(r.cutoff(at(2026, 11, 26)), at(2025, 11, 26));
    // Month ends and leap days clamp to the last day of the month.
    assert_eq!(r.cutoff(at(2028, 2, 29)), at(2027, 2, 28));
    let three = Retention { outbox_months: 3 };
    assert_eq!(three.cutoff(at(2026, 5, 31)), at(2026, 2, 28));
    // Zero months would compact everything at once: at least one month.
    let zero = Retention { outbox_months: 0 };
    assert_eq!(zero.cutoff(at(2026, 5, 15)), at(2026, 4, 15));
    // A missing setting field means the default.
    let parsed: Retention = serde_json::from_str("{}").unwrap();
    assert_eq!(parsed, Retention::default());
}

#[test]
fn only_old_final_messages_that_cannot_be_resent_are_compactable() {
    let b = batch("b", at(2024, 1, 1));
    let cutoff = at(2025, 1, 1);
    let old = at(2024, 6, 1);
    let new = at(2025, 6, 1);
    let cases: &[(MessageState, Option<&str>, NaiveDateTime, bool)] = &[
        (MessageState::Sent, None, old, true),
        (MessageState::Sent, None, new, false),
        (MessageState::Printed, None, old, true),
        (MessageState::Cancelled, None, old, true),
        // A failed message keeps its content until it was re-sent.
        (
            MessageState::Failed {
                reason: "550".into(),
            },
            None,
            old,
            false,
        ),
        (
            MessageState::Failed {
                reason: "550".into(),
            },
            Some("b-m0~r1"),
            old,
            true,
        ),
        (MessageState::Queued, None, old, false),
        (MessageState::Transmitted, None, old, false),
        (
            MessageState::Retrying {
                next_attempt: None,
                reason: None,
            },
            None,
            old,
            false,
        ),
    ];
    for (state, retried_as, when, want) in cases {
        let mut m = messages(&b, 1).remove(0);
        set(&mut m, state.clone(), *when);
        m.retried_as = retried_as.map(str::to_string);
        assert_eq!(
            compactable(&m, cutoff),
            *want,
            "{state:?} {retried_as:?} {when}"
        );
    }
    // Exactly at the cutoff is not before it.
    let mut m = messages(&b, 1).remove(0);
    set(&mut m, MessageState::Sent, cutoff);
    assert!(!compactable(&m, cutoff));
}

/// The outbox of the tests: an old finished batch, an old batch with a message still failed
/// (not re-sent) and a re-sent one, and a recent batch.
fn outbox() -> (Vec<Batch>, Vec<OutboxMessage>) {
    let old = batch("b-old", at(2024, 3, 1));
    let mixed = batch("b-mixed", at(2024, 4, 1));
    let recent = batch("b-recent", at(2026, 10, 1));
    let mut all = Vec::new();
    let mut ms = messages(&old, 4);
    for m in &mut ms {
        set(m, MessageState::Sent, at(2024, 3, 2));
    }
    all.extend(ms);
    let mut ms = messages(&mixed, 3);
    set(&mut ms[0], MessageState::Sent, at(2024, 4, 2));
    set(
        &mut ms[1],
        MessageState::Failed {
            reason: "Postfach voll".into(),
        },
        at(2024, 4, 2),
    );
    set(
        &mut ms[2],
        MessageState::Failed {
            reason: "unbekannt".into(),
        },
        at(2024, 4, 2),
    );
    ms[2].retried_as = Some("b-mixed-m2~r1".into());
    let mut retry = ms[2].clone();
    retry.id = "b-mixed-m2~r1".into();
    retry.seq = 3;
    retry.retry_of = Some("b-mixed-m2".into());
    retry.retried_as = None;
    set(&mut retry, MessageState::Sent, at(2024, 4, 3));
    all.extend(ms);
    all.push(retry);
    let mut ms = messages(&recent, 2);
    set(&mut ms[0], MessageState::Sent, at(2026, 10, 2));
    all.extend(ms);
    (vec![old, mixed, recent], all)
}

/// Applies a compaction the way the storage write does.
fn apply(
    messages: &[OutboxMessage],
    archive: &[ArchivedBatch],
    c: &Compaction,
) -> (Vec<OutboxMessage>, Vec<ArchivedBatch>) {
    let left: Vec<OutboxMessage> = messages
        .iter()
        .filter(|m| !c.remove.contains(&m.id))
        .cloned()
        .collect();
    let mut arch: Vec<ArchivedBatch> = archive
        .iter()
        .filter(|a| !c.archive.iter().any(|n| n.batch_id == a.batch_id))
        .cloned()
        .collect();
    arch.extend(c.archive.iter().cloned());
    (left, arch)
}

#[test]
fn compaction_moves_old_final_messages_without_content_and_the_log_is_unchanged() {
    let (batches, ms) = outbox();
    let now = at(2026, 11, 26);
    let cutoff = Retention::default().cutoff(now);
    let c = compact(&ms, &[], cutoff);
    let mut removed = c.remove.clone();
    removed.sort();
    assert_eq!(
        removed,
        [
            "b-mixed-m0",
            "b-mixed-m2",
            "b-mixed-m2~r1",
            "b-old-m0",
            "b-old-m1",
            "b-old-m2",
            "b-old-m3"
        ]
    );
    let ids = |a: &ArchivedBatch| a.messages.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
    assert_eq!(c.archive.len(), 2);
    assert_eq!(c.archive[0].batch_id, "b-mixed");
    assert_eq!(
        ids(&c.archive[0]),
        ["b-mixed-m0", "b-mixed-m2", "b-mixed-m2~r1"]
    );
    assert_eq!(
        ids(&c.archive[1]),
        ["b-old-m0", "b-old-m1", "b-old-m2", "b-old-m3"]
    );
    for m in c.archive.iter().flat_map(|a| &a.messages) {
        assert_eq!(m.content, Content::default(), "{}", m.id);
    }

    // The send log shows exactly the same rows, counts and CSV before and after.
    let (left, archive) = apply(&ms, &[], &c);
    assert_eq!(left.len(), ms.len() - 7);
    let after = with_archive(left.clone(), archive.clone());
    assert_eq!(
        log_rows(&batches, &after, None),
        log_rows(&batches, &ms, None)
    );
    assert_eq!(
        batch_summaries(&batches, &after),
        batch_summaries(&batches, &ms)
    );
    assert_eq!(
        to_csv(&log_rows(&batches, &after, None)).unwrap(),
        to_csv(&log_rows(&batches, &ms, None)).unwrap()
    );

    // A second run has nothing to do.
    assert!(compact(&left, &archive, cutoff).is_empty());

    // Later the failed message is re-sent and everything is old: it joins its batch's
    // archive document, the earlier archived messages stay.
    let mut later = left.clone();
    let failed = later.iter_mut().find(|m| m.id == "b-mixed-m1").unwrap();
    failed.retried_as = Some("b-mixed-m1~r1".into());
    let c2 = compact(&later, &archive, at(2027, 12, 1));
    assert_eq!(c2.remove.len(), 2, "{:?}", c2.remove);
    let mixed = c2.archive.iter().find(|a| a.batch_id == "b-mixed").unwrap();
    assert_eq!(
        ids(mixed),
        ["b-mixed-m0", "b-mixed-m1", "b-mixed-m2", "b-mixed-m2~r1"]
    );
    let (left2, archive2) = apply(&later, &archive, &c2);
    assert_eq!(
        log_rows(&batches, &with_archive(left2, archive2), None),
        log_rows(&batches, &with_archive(later, archive), None)
    );
}

#[test]
fn nothing_to_compact_in_a_young_outbox() {
    let (_, ms) = outbox();
    assert!(compact(&ms, &[], at(2024, 1, 1)).is_empty());
    assert!(compact(&[], &[], at(2030, 1, 1)).is_empty());
}
