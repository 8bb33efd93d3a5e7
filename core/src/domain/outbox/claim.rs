//! Which device transmits a batch. When several devices of a practice share the outbox
//! (issue 18), each batch carries a [`Claim`]: the device that transmits it and a lease. A
//! device transmits (and polls) only batches it holds; it renews its lease while work is
//! left, and takes over a batch whose lease ran out (its device went away mid-send). Claims
//! travel with the batch document, so two devices that were offline at the same time may
//! both hold one for a while: then both may POST the same messages, with the same ids, and
//! the relay's idempotency keys make sure each is delivered once. The claim keeps that rare.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::{Batch, OutboxMessage, StateKind};

/// How long a claim holds without renewal.
pub const LEASE_SECS: i64 = 120;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The device (its sync store's instance id).
    pub device: String,
    pub until: NaiveDateTime,
}

impl Claim {
    pub fn new(device: &str, now: NaiveDateTime) -> Claim {
        Claim {
            device: device.to_string(),
            until: now + Duration::seconds(LEASE_SECS),
        }
    }
}

/// The outcome of [`claim_batches`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claimed {
    /// Batches this device may transmit and poll now.
    pub mine: BTreeSet<String>,
    /// Batches whose claim this device renews or takes: to be written before anything is
    /// transmitted.
    pub write: Vec<Batch>,
}

/// Whether a batch still has messages to transmit or poll.
fn has_work(batch: &Batch, messages: &[OutboxMessage]) -> bool {
    messages.iter().any(|m| {
        m.batch_id == batch.id
            && matches!(
                m.kind(),
                StateKind::Queued | StateKind::Transmitted | StateKind::Retrying
            )
    })
}

/// The batches `device` transmits at `now`: its own (renewed when half the lease is gone),
/// unclaimed ones and ones whose lease ran out (taken). Batches without work are left as
/// they are.
pub fn claim_batches(
    batches: &[Batch],
    messages: &[OutboxMessage],
    device: &str,
    now: NaiveDateTime,
) -> Claimed {
    let mut out = Claimed::default();
    for b in batches.iter().filter(|b| has_work(b, messages)) {
        let take = match &b.claim {
            Some(c) if c.device == device => c.until - now < Duration::seconds(LEASE_SECS / 2),
            Some(c) if c.until > now => continue,
            _ => true,
        };
        out.mine.insert(b.id.clone());
        if take {
            let mut b = b.clone();
            b.claim = Some(Claim::new(device, now));
            out.write.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Channel, Purpose};
    use crate::domain::outbox::{queue_batch, ConsentBasis, Content, QueueItem};
    use crate::domain::PersonId;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn batch(id: &str, claim: Option<Claim>) -> (Batch, Vec<OutboxMessage>) {
        let b = Batch {
            id: id.into(),
            created_at: at(9, 0),
            channel: Channel::Email,
            purpose: Purpose::Recall,
            template_name: "Recall".into(),
            template_version: 1,
            paused: false,
            files: Vec::new(),
            claim,
        };
        let items = vec![QueueItem {
            id: format!("{id}-m1"),
            person_id: PersonId("p-1".into()),
            appointment_id: None,
            recipient_name: "Anna Weber".into(),
            address: "anna@example.org".into(),
            content: Content {
                subject: Some("Recall".into()),
                text: "Hallo".into(),
                html: None,
                calendar: None,
            },
            consent: ConsentBasis::Consent {
                given_at: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
                evidence: crate::domain::consent::Evidence::WrittenForm,
            },
        }];
        let ms = queue_batch(&b, items).unwrap();
        (b, ms)
    }

    #[test]
    fn a_device_keeps_its_batches_takes_free_and_expired_ones_and_leaves_others() {
        let now = at(10, 0);
        let (own, m1) = batch("own", Some(Claim::new("A", now)));
        let (old, m2) = batch("old", Some(Claim::new("A", at(9, 58))));
        let (free, m3) = batch("free", None);
        let (theirs, m4) = batch("theirs", Some(Claim::new("B", now)));
        let (gone, m5) = batch("gone", Some(Claim::new("B", at(9, 0))));
        let batches = [own, old, free, theirs, gone];
        let messages: Vec<_> = [m1, m2, m3, m4, m5].concat();
        let c = claim_batches(&batches, &messages, "A", now);
        let mine: Vec<&str> = c.mine.iter().map(String::as_str).collect();
        assert_eq!(mine, ["free", "gone", "old", "own"]);
        let written: Vec<(&str, &str)> = c
            .write
            .iter()
            .map(|b| (b.id.as_str(), b.claim.as_ref().unwrap().device.as_str()))
            .collect();
        assert_eq!(written, [("old", "A"), ("free", "A"), ("gone", "A")]);
        assert!(c
            .write
            .iter()
            .all(|b| b.claim.as_ref().unwrap().until > now));

        // B keeps its own batch and leaves A's current one; A's lease on "old" ran out
        // just now, so B may take that one too.
        let c = claim_batches(&batches, &messages, "B", now);
        let mine: Vec<&str> = c.mine.iter().map(String::as_str).collect();
        assert_eq!(mine, ["free", "gone", "old", "theirs"]);
        assert!(!c.mine.contains("own"));

        // A batch without work is nobody's business.
        let (done, _) = batch("done", None);
        assert_eq!(claim_batches(&[done], &[], "A", now), Claimed::default());
    }
}
