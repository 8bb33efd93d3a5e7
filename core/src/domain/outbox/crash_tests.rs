//! A 500-message send against a fake relay that remembers ids, with a crash (reload) injected
//! at every step, a relay outage, and a retry of the failed ones: every message is delivered
//! exactly once.

use super::*;
use crate::domain::model::{Channel, Evidence, Person, PersonId, Purpose};
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::{BTreeMap, BTreeSet};

fn t0() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 26)
        .unwrap()
        .and_hms_opt(14, 0, 0)
        .unwrap()
}

/// The relay: accepts ids idempotently, delivers queued ones on `tick`, rejects the ids
/// in `reject` (permanent failure), can be down.
#[derive(Default)]
struct FakeRelay {
    known: BTreeMap<String, (RelayState, Option<String>)>,
    deliveries: BTreeMap<String, u32>,
    reject: BTreeSet<String>,
    /// Number of upcoming requests that fail as "unreachable".
    down_for: u32,
}

impl FakeRelay {
    fn reachable(&mut self) -> bool {
        if self.down_for > 0 {
            self.down_for -= 1;
            return false;
        }
        true
    }

    fn report(&self, id: &str, at: NaiveDateTime) -> RelayReport {
        let (state, reason) = self.known[id].clone();
        RelayReport {
            id: id.into(),
            state,
            reason,
            next_attempt: None,
            at,
        }
    }

    fn submit(
        &mut self,
        msgs: &[&OutboxMessage],
        at: NaiveDateTime,
    ) -> Result<Vec<RelayReport>, ()> {
        if !self.reachable() {
            return Err(());
        }
        for m in msgs {
            self.known
                .entry(m.id.clone())
                .or_insert((RelayState::Queued, None));
        }
        Ok(msgs.iter().map(|m| self.report(&m.id, at)).collect())
    }

    fn tick(&mut self) {
        for (id, (state, reason)) in self.known.iter_mut() {
            if *state == RelayState::Queued {
                if self.reject.contains(id) {
                    *state = RelayState::Failed;
                    *reason = Some("550 5.1.1 Empfänger unbekannt".into());
                } else {
                    *state = RelayState::Sent;
                    *self.deliveries.entry(id.clone()).or_default() += 1;
                }
            }
        }
    }

    fn status(
        &mut self,
        ids: &[String],
        at: NaiveDateTime,
    ) -> Result<(Vec<RelayReport>, Vec<String>), ()> {
        if !self.reachable() {
            return Err(());
        }
        let mut reports = Vec::new();
        let mut unknown = Vec::new();
        for id in ids {
            if self.known.contains_key(id) {
                reports.push(self.report(id, at));
                // A late "sending" echo after the final state must be ignored.
                reports.push(RelayReport {
                    id: id.clone(),
                    state: RelayState::Sending,
                    reason: None,
                    next_attempt: None,
                    at,
                });
            } else {
                unknown.push(id.clone());
            }
        }
        Ok((reports, unknown))
    }
}

struct Crash;

/// The app's send loop. `storage` is what survives a reload; every persisted write is one
/// transaction. Crashes (returns `Err`) right before step number `crash_at`; returns the
/// number of steps when it finished.
fn run(
    storage: &mut Vec<OutboxMessage>,
    batches: &[Batch],
    relay: &mut FakeRelay,
    crash_at: Option<u32>,
    chunk: usize,
) -> Result<u32, Crash> {
    let mut step = 0u32;
    let mut check = || {
        step += 1;
        if Some(step) == crash_at {
            Err(Crash)
        } else {
            Ok(step)
        }
    };
    let at = t0();
    for _round in 0..100 {
        let mut mem = storage.clone(); // reload
        let p = plan(batches, &mem, chunk);
        if p.is_idle() {
            return check();
        }
        let index: BTreeMap<String, usize> = mem
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), i))
            .collect();
        for ids in &p.transmit {
            for id in ids {
                assert!(mem[index[id]].begin_submit());
            }
            check()?;
            *storage = mem.clone();
            check()?;
            let msgs: Vec<&OutboxMessage> = ids.iter().map(|id| &mem[index[id]]).collect();
            let answer = relay.submit(&msgs, at);
            check()?;
            match answer {
                Ok(reports) => {
                    let s = apply_reports(&mut mem, &reports);
                    assert!(s.refused.is_empty(), "{:?}", s.refused);
                    *storage = mem.clone();
                }
                Err(()) => break, // relay unreachable: wait, try again next round
            }
            check()?;
        }
        relay.tick();
        for ids in &p.poll {
            let answer = relay.status(ids, at);
            check()?;
            let Ok((reports, unknown)) = answer else {
                break;
            };
            let s = apply_reports(&mut mem, &reports);
            assert!(s.refused.is_empty(), "{:?}", s.refused);
            for id in unknown {
                mem[index[&id]].relay_unknown(at);
            }
            *storage = mem.clone();
            check()?;
        }
    }
    panic!("send loop did not settle");
}

fn setup(n: usize) -> (Vec<Batch>, Vec<OutboxMessage>) {
    let b = Batch {
        claim: None,
        id: "batch-1".into(),
        created_at: t0(),
        channel: Channel::Email,
        purpose: Purpose::AppointmentReminder,
        template_name: "Terminerinnerung".into(),
        template_version: 1,
        paused: false,
        files: Vec::new(),
    };
    let items = (0..n)
        .map(|i| QueueItem {
            id: format!("00000000-0000-4000-8000-{i:012}"),
            person_id: PersonId(format!("p{i}")),
            appointment_id: None,
            recipient_name: format!("Person {i}"),
            address: format!("p{i}@example.org"),
            content: Content {
                subject: Some("Ihr Termin morgen".into()),
                text: format!("Guten Tag Person {i}, …"),
                html: None,
                calendar: None,
            },
            consent: ConsentBasis::Consent {
                given_at: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                evidence: Evidence::WrittenForm,
            },
        })
        .collect();
    let ms = queue_batch(&b, items).unwrap();
    (vec![b], ms)
}

fn assert_exactly_once(storage: &[OutboxMessage], relay: &FakeRelay, rejected: usize) {
    assert_eq!(relay.deliveries.len() + rejected, storage.len());
    for m in storage {
        match m.kind() {
            StateKind::Sent => assert_eq!(relay.deliveries.get(&m.id), Some(&1), "{}", m.id),
            StateKind::Failed => assert!(!relay.deliveries.contains_key(&m.id)),
            other => panic!("{} ended {other:?}", m.id),
        }
    }
    assert!(relay.deliveries.values().all(|&n| n == 1));
}

const N: usize = 500;
const CHUNK: usize = 50;

#[test]
fn crash_at_every_step_delivers_each_message_exactly_once() {
    let (batches, queued) = setup(N);
    let mut storage = queued.clone();
    let mut relay = FakeRelay::default();
    let steps = run(&mut storage, &batches, &mut relay, None, CHUNK)
        .ok()
        .unwrap();
    assert_exactly_once(&storage, &relay, 0);
    assert!(steps > 40, "{steps}");
    for crash in 1..=steps {
        let mut storage = queued.clone();
        let mut relay = FakeRelay::default();
        assert!(run(&mut storage, &batches, &mut relay, Some(crash), CHUNK).is_err());
        // A second crash a few steps into the resumed run.
        let _ = run(&mut storage, &batches, &mut relay, Some(3), CHUNK);
        run(&mut storage, &batches, &mut relay, None, CHUNK)
            .ok()
            .unwrap();
        assert_exactly_once(&storage, &relay, 0);
    }
}

#[test]
fn relay_outage_and_retry_of_failed_deliver_exactly_once() {
    let (batches, queued) = setup(N);
    let mut storage = queued.clone();
    let mut relay = FakeRelay {
        down_for: 3,
        ..Default::default()
    };
    relay.reject = storage.iter().step_by(50).map(|m| m.id.clone()).collect();
    // Crash in the middle, with the relay down at first.
    assert!(run(&mut storage, &batches, &mut relay, Some(7), CHUNK).is_err());
    run(&mut storage, &batches, &mut relay, None, CHUNK)
        .ok()
        .unwrap();
    assert_exactly_once(&storage, &relay, 10);
    let counts = BatchCounts::of(&storage);
    assert_eq!((counts.sent, counts.failed), (490, 10));
    // Replaying an old id returns its old failure: only new ids can be re-sent.
    let old = storage
        .iter()
        .find(|m| m.kind() == StateKind::Failed)
        .unwrap();
    let replay = relay.submit(&[old], t0()).unwrap();
    assert_eq!(replay[0].state, RelayState::Failed);
    // "nur Fehlgeschlagene erneut senden" (the address was corrected in the meantime:
    // the relay accepts the new ids).
    let persons: Vec<Person> = (0..N)
        .map(|i| {
            let mut p = Person {
                id: PersonId(format!("p{i}")),
                ..Default::default()
            };
            p.consents.grant(
                Channel::Email,
                Purpose::AppointmentReminder,
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                Evidence::WrittenForm,
            );
            p
        })
        .collect();
    let out = retry_failed(
        &mut storage,
        "batch-1",
        |id| persons.iter().find(|p| &p.id == id),
        t0(),
    );
    assert_eq!(out.new_messages.len(), 10);
    storage.extend(out.new_messages);
    assert!(run(&mut storage, &batches, &mut relay, Some(4), CHUNK).is_err());
    run(&mut storage, &batches, &mut relay, None, CHUNK)
        .ok()
        .unwrap();
    let counts = BatchCounts::of(&storage);
    assert_eq!(
        (counts.sent, counts.failed, counts.superseded),
        (500, 0, 10)
    );
    // Every person got exactly one message.
    let mut per_person: BTreeMap<&PersonId, u32> = BTreeMap::new();
    for m in &storage {
        *per_person.entry(&m.person_id).or_default() +=
            relay.deliveries.get(&m.id).copied().unwrap_or(0);
    }
    assert_eq!(per_person.len(), N);
    assert!(per_person.values().all(|&n| n == 1));
}

#[test]
fn relay_that_lost_messages_gets_them_again() {
    let (batches, queued) = setup(120);
    let mut storage = queued;
    let mut relay = FakeRelay::default();
    // Crash right after the first chunk's answer is persisted.
    assert!(run(&mut storage, &batches, &mut relay, Some(4), CHUNK).is_err());
    let transmitted = storage
        .iter()
        .filter(|m| m.kind() == StateKind::Transmitted)
        .count();
    assert_eq!(transmitted, CHUNK);
    // The relay loses its store before delivering anything.
    relay.known.clear();
    run(&mut storage, &batches, &mut relay, None, CHUNK)
        .ok()
        .unwrap();
    assert_exactly_once(&storage, &relay, 0);
}
