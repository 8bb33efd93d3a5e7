use super::*;
use crate::domain::model::{
    AppointmentId, Channel, ConsentAction, ConsentSource, ConsentStatus, Consents, Evidence,
    Person, PersonId, Purpose,
};
use crate::domain::review::ConsentOverride;
use chrono::{NaiveDate, NaiveDateTime};

fn t(h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 26)
        .unwrap()
        .and_hms_opt(h, m, 0)
        .unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn batch(id: &str, channel: Channel) -> Batch {
    Batch {
        claim: None,
        id: id.into(),
        created_at: t(14, 5),
        channel,
        purpose: Purpose::AppointmentReminder,
        template_name: "Terminerinnerung".into(),
        template_version: 3,
        paused: false,
        files: Vec::new(),
    }
}

fn item(id: &str) -> QueueItem {
    QueueItem {
        id: id.into(),
        person_id: PersonId(format!("p-{id}")),
        appointment_id: None,
        recipient_name: format!("Müller, {id}"),
        address: format!("{id}@example.org"),
        content: Content {
            subject: Some("Ihr Termin".into()),
            text: "Guten Tag".into(),
            html: None,
            calendar: None,
        },
        consent: ConsentBasis::Consent {
            given_at: d(2026, 1, 2),
            evidence: Evidence::WrittenForm,
        },
    }
}

fn queued(channel: Channel, ids: &[&str]) -> (Batch, Vec<OutboxMessage>) {
    let b = batch("b1", channel);
    let ms = queue_batch(&b, ids.iter().map(|i| item(i)).collect()).unwrap();
    (b, ms)
}

fn msg(channel: Channel) -> OutboxMessage {
    queued(channel, &["m1"]).1.remove(0)
}

fn with_state(channel: Channel, s: StateKind) -> OutboxMessage {
    let mut m = msg(channel);
    m.state = example_state(s);
    m
}

fn example_state(s: StateKind) -> MessageState {
    match s {
        StateKind::Queued => MessageState::Queued,
        StateKind::Transmitted => MessageState::Transmitted,
        StateKind::Retrying => MessageState::Retrying {
            next_attempt: Some(t(15, 0)),
            reason: Some("421 try later".into()),
        },
        StateKind::Sent => MessageState::Sent,
        StateKind::Failed => MessageState::Failed {
            reason: "550 no such user".into(),
        },
        StateKind::Printed => MessageState::Printed,
        StateKind::Cancelled => MessageState::Cancelled,
    }
}

fn report(id: &str, state: RelayState, at: NaiveDateTime) -> RelayReport {
    RelayReport {
        id: id.into(),
        state,
        reason: match state {
            RelayState::Failed => Some("550 5.1.1 unknown user".into()),
            RelayState::Retrying => Some("421 busy".into()),
            _ => None,
        },
        next_attempt: (state == RelayState::Retrying).then(|| t(16, 0)),
        at,
    }
}

/// Every allowed edge, written out by hand: (channel, from, to).
const ALLOWED: &[(Channel, StateKind, StateKind)] = {
    use Channel::*;
    use StateKind::*;
    &[
        (Letter, Queued, Printed),
        (Letter, Queued, Cancelled),
        (Sms, Queued, Transmitted),
        (Sms, Queued, Failed),
        (Sms, Queued, Cancelled),
        (Sms, Transmitted, Sent),
        (Sms, Transmitted, Failed),
        (Sms, Transmitted, Retrying),
        (Sms, Retrying, Retrying),
        (Sms, Retrying, Sent),
        (Sms, Retrying, Failed),
        (Email, Queued, Transmitted),
        (Email, Queued, Failed),
        (Email, Queued, Cancelled),
        (Email, Transmitted, Sent),
        (Email, Transmitted, Failed),
        (Email, Transmitted, Retrying),
        (Email, Retrying, Retrying),
        (Email, Retrying, Sent),
        (Email, Retrying, Failed),
    ]
};

#[test]
fn transitions_exhaustive() {
    let mut checked = 0;
    for channel in Channel::ALL {
        for from in StateKind::ALL {
            for to in StateKind::ALL {
                let expected = ALLOWED.contains(&(channel, from, to));
                assert_eq!(
                    can_transition(channel, from, to),
                    expected,
                    "{channel:?} {from:?} → {to:?}"
                );
                let mut m = with_state(channel, from);
                let before = m.clone();
                let r = m.transition(example_state(to), t(15, 30));
                if expected {
                    assert_eq!(r, Ok(()));
                    assert_eq!(m.kind(), to);
                    assert_eq!(m.updated_at, t(15, 30));
                } else {
                    assert_eq!(r, Err(OutboxError::IllegalTransition { channel, from, to }));
                    assert_eq!(m, before, "a refused transition changes nothing");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * 7 * 7);
}

#[test]
fn final_states() {
    let finals: Vec<_> = StateKind::ALL
        .into_iter()
        .filter(|s| s.is_final())
        .collect();
    assert_eq!(
        finals,
        [
            StateKind::Sent,
            StateKind::Failed,
            StateKind::Printed,
            StateKind::Cancelled
        ]
    );
    // No edge leaves a final state.
    for (_, from, _) in ALLOWED {
        assert!(!from.is_final());
    }
}

#[test]
fn report_mapping() {
    let cases = [
        (RelayState::Queued, StateKind::Transmitted),
        (RelayState::Sending, StateKind::Transmitted),
        (RelayState::Retrying, StateKind::Retrying),
        (RelayState::Sent, StateKind::Sent),
        (RelayState::Failed, StateKind::Failed),
        (RelayState::Ambiguous, StateKind::Failed),
    ];
    for (rs, kind) in cases {
        assert_eq!(report("m1", rs, t(15, 0)).domain_state().kind(), kind);
    }
    let mut r = report("m1", RelayState::Failed, t(15, 0));
    r.reason = Some("  ".into());
    assert_eq!(
        r.domain_state(),
        MessageState::Failed {
            reason: "Unbekannter Fehler".into()
        }
    );
}

#[test]
fn reports_are_idempotent_and_never_go_backwards() {
    use RelayState::*;
    // (sequence of relay states, expected outcomes, final kind)
    let cases: &[(&[RelayState], &[ReportOutcome], StateKind)] = {
        use ReportOutcome::*;
        &[
            (&[Queued], &[Changed], StateKind::Transmitted),
            (
                &[Queued, Queued],
                &[Changed, Unchanged],
                StateKind::Transmitted,
            ),
            (
                &[Queued, Sending, Sent],
                &[Changed, Unchanged, Changed],
                StateKind::Sent,
            ),
            (&[Sent, Sending], &[Changed, Stale], StateKind::Sent),
            (&[Sent, Sent], &[Changed, Unchanged], StateKind::Sent),
            (&[Sent, Failed], &[Changed, Stale], StateKind::Sent),
            (&[Failed, Sent], &[Changed, Stale], StateKind::Failed),
            (&[Failed, Queued], &[Changed, Stale], StateKind::Failed),
            (&[Retrying, Sending], &[Changed, Stale], StateKind::Retrying),
            (
                &[Retrying, Retrying],
                &[Changed, Unchanged],
                StateKind::Retrying,
            ),
            (
                &[Retrying, Sent, Retrying],
                &[Changed, Changed, Stale],
                StateKind::Sent,
            ),
            (
                &[Sending, Retrying, Failed],
                &[Changed, Changed, Changed],
                StateKind::Failed,
            ),
        ]
    };
    for (seq, outcomes, end) in cases {
        let mut m = msg(Channel::Email);
        for (i, (rs, want)) in seq.iter().zip(outcomes.iter()).enumerate() {
            let got = m.apply_report(&report("m1", *rs, t(15, i as u32))).unwrap();
            assert_eq!(got, *want, "{seq:?} step {i}");
        }
        assert_eq!(m.kind(), *end, "{seq:?}");
        assert!(m.transmitted_at.is_some());
    }
}

#[test]
fn report_on_queued_final_sets_transmitted_time_and_reason() {
    let mut m = msg(Channel::Sms);
    m.apply_report(&report("m1", RelayState::Failed, t(15, 7)))
        .unwrap();
    assert_eq!(m.transmitted_at, Some(t(15, 7)));
    assert_eq!(m.state.reason(), Some("550 5.1.1 unknown user"));
}

#[test]
fn retrying_updates_only_with_newer_reports() {
    let mut m = msg(Channel::Email);
    m.apply_report(&report("m1", RelayState::Retrying, t(15, 10)))
        .unwrap();
    let mut newer = report("m1", RelayState::Retrying, t(15, 20));
    newer.next_attempt = Some(t(17, 0));
    assert_eq!(m.apply_report(&newer), Ok(ReportOutcome::Changed));
    let mut older = report("m1", RelayState::Retrying, t(15, 15));
    older.next_attempt = Some(t(16, 30));
    assert_eq!(m.apply_report(&older), Ok(ReportOutcome::Stale));
    assert_eq!(
        m.state,
        MessageState::Retrying {
            next_attempt: Some(t(17, 0)),
            reason: Some("421 busy".into())
        }
    );
}

#[test]
fn refused_reports() {
    let mut m = msg(Channel::Email);
    assert_eq!(
        m.apply_report(&report("other", RelayState::Sent, t(15, 0))),
        Err(OutboxError::WrongId)
    );
    let mut letter = msg(Channel::Letter);
    assert_eq!(
        letter.apply_report(&report("m1", RelayState::Sent, t(15, 0))),
        Err(OutboxError::NotRelayed)
    );
    m.cancel(t(15, 0)).unwrap();
    assert_eq!(
        m.apply_report(&report("m1", RelayState::Sent, t(15, 1))),
        Err(OutboxError::CancelledButReported)
    );
    assert_eq!(m.kind(), StateKind::Cancelled);
}

#[test]
fn cancel_only_what_was_not_transmitted() {
    let mut m = msg(Channel::Email);
    assert!(m.begin_submit());
    assert!(m.is_unconfirmed());
    assert_eq!(m.cancel(t(15, 0)), Err(OutboxError::MaybeTransmitted));
    // The relay says it never got it: now it can be cancelled.
    assert!(m.relay_unknown(t(15, 1)));
    assert_eq!(m.cancel(t(15, 2)), Ok(()));
    assert!(!m.begin_submit(), "cancelled messages are never submitted");

    let mut sent = with_state(Channel::Email, StateKind::Transmitted);
    assert!(sent.cancel(t(15, 0)).is_err());

    // Batch cancel: clean queued → cancelled, unconfirmed → to poll, others untouched.
    let (b, mut ms) = queued(Channel::Sms, &["a", "b", "c", "d"]);
    ms[1].begin_submit();
    ms[2]
        .apply_report(&report("c", RelayState::Sent, t(15, 0)))
        .unwrap();
    let (done, uncertain) = cancel_batch(&mut ms, &b.id, t(15, 5));
    assert_eq!(done, ["a", "d"]);
    assert_eq!(uncertain, ["b"]);
    let kinds: Vec<_> = ms.iter().map(OutboxMessage::kind).collect();
    assert_eq!(
        kinds,
        [
            StateKind::Cancelled,
            StateKind::Queued,
            StateKind::Sent,
            StateKind::Cancelled
        ]
    );
}

#[test]
fn relay_forgetting_a_message_requeues_it() {
    let mut m = with_state(Channel::Email, StateKind::Transmitted);
    assert!(m.relay_unknown(t(15, 0)));
    assert_eq!(m.kind(), StateKind::Queued);
    let mut s = with_state(Channel::Email, StateKind::Sent);
    assert!(!s.relay_unknown(t(15, 0)));
    assert_eq!(s.kind(), StateKind::Sent);
}

#[test]
fn letters_are_printed_not_transmitted() {
    let (b, mut ms) = queued(Channel::Letter, &["a", "b"]);
    assert!(chunks_to_transmit(std::slice::from_ref(&b), &ms, MAX_CHUNK).is_empty());
    assert!(!ms[0].begin_submit());
    ms[0].mark_printed(t(14, 30)).unwrap();
    assert_eq!(ms[0].kind(), StateKind::Printed);
    let c = BatchCounts::of(&ms);
    assert_eq!((c.printed, c.queued, c.total()), (1, 1, 2));
    assert!(plan(&[b], &ms, MAX_CHUNK).is_idle());
}

#[test]
fn queue_batch_validates_and_numbers() {
    let b = batch("b1", Channel::Email);
    let ms = queue_batch(&b, vec![item("x"), item("y")]).unwrap();
    assert_eq!(ms[1].seq, 1);
    assert_eq!(ms[1].batch_id, "b1");
    assert_eq!(ms[1].template_version, 3);
    assert_eq!(ms[1].state, MessageState::Queued);
    assert_eq!(
        queue_batch(&b, vec![item("x"), item("x")]),
        Err(OutboxError::DuplicateId("x".into()))
    );
    let mut no_addr = item("z");
    no_addr.address = " ".into();
    assert_eq!(
        queue_batch(&b, vec![no_addr]),
        Err(OutboxError::EmptyAddress("z".into()))
    );
    let mut no_text = item("z");
    no_text.content.text.clear();
    assert_eq!(
        queue_batch(&b, vec![no_text]),
        Err(OutboxError::EmptyContent("z".into()))
    );
}

#[test]
fn chunking_is_stable_and_limited() {
    let ids: Vec<String> = (0..2500).map(|i| format!("id{i:05}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let (b, mut ms) = queued(Channel::Email, &refs);
    // Stored order must not matter.
    ms.reverse();
    let chunks = chunks_to_transmit(std::slice::from_ref(&b), &ms, MAX_CHUNK);
    let sizes: Vec<_> = chunks.iter().map(Vec::len).collect();
    assert_eq!(sizes, [1000, 1000, 500]);
    let flat: Vec<&str> = chunks.iter().flatten().map(|m| m.id.as_str()).collect();
    assert_eq!(flat, refs);
    // Transmitted/final ones drop out; unconfirmed ones stay in.
    for m in ms.iter_mut() {
        match m.seq % 4 {
            0 => {
                m.apply_report(&report(&m.id.clone(), RelayState::Queued, t(15, 0)))
                    .unwrap();
            }
            1 => {
                m.begin_submit();
            }
            2 => m.cancel(t(15, 0)).unwrap(),
            _ => {}
        }
    }
    let again = chunks_to_transmit(std::slice::from_ref(&b), &ms, MAX_CHUNK);
    let n: usize = again.iter().map(Vec::len).sum();
    assert_eq!(n, 1250);
    assert!(again
        .iter()
        .flatten()
        .all(|m| m.seq % 4 == 1 || m.seq % 4 == 3));
    // Paused batch: nothing to transmit, but the transmitted ones and the unconfirmed ones
    // are polled.
    let mut paused = b.clone();
    paused.paused = true;
    let p = plan(&[paused], &ms, MAX_CHUNK);
    assert!(p.transmit.is_empty());
    assert_eq!(p.poll.iter().map(Vec::len).sum::<usize>(), 1250);
    assert!(p.poll.iter().all(|c| c.len() <= POLL_CHUNK));
}

#[test]
fn counts_and_progress() {
    let (_, mut ms) = queued(Channel::Email, &["a", "b", "c", "d", "e"]);
    assert_eq!(BatchCounts::of(&ms).progress(), 0.0);
    ms[0]
        .apply_report(&report("a", RelayState::Sent, t(15, 0)))
        .unwrap();
    ms[1]
        .apply_report(&report("b", RelayState::Failed, t(15, 0)))
        .unwrap();
    ms[2]
        .apply_report(&report("c", RelayState::Sending, t(15, 0)))
        .unwrap();
    ms[3]
        .apply_report(&report("d", RelayState::Retrying, t(15, 0)))
        .unwrap();
    let c = BatchCounts::of(&ms);
    assert_eq!(
        c,
        BatchCounts {
            queued: 1,
            transmitted: 1,
            retrying: 1,
            sent: 1,
            failed: 1,
            ..Default::default()
        }
    );
    assert!((c.progress() - 0.4).abs() < 1e-9);
    assert!(!c.is_done());
    assert_eq!(BatchCounts::of(&[]).progress(), 1.0);
}

#[test]
fn retry_ids() {
    let cases = [
        ("abc", "abc-r1"),
        ("abc-r1", "abc-r2"),
        ("abc-r9", "abc-r10"),
        ("abc-r0", "abc-r0-r1"),
        ("abc-r01", "abc-r01-r1"),
        ("abc-rx", "abc-rx-r1"),
        ("abc-r", "abc-r-r1"),
        ("2f1c-rr-r3", "2f1c-rr-r4"),
    ];
    for (id, want) in cases {
        assert_eq!(retry_id(id), want, "{id}");
    }
    assert_eq!(split_retry_id("x-r12"), ("x", 12));
    assert_eq!(split_retry_id("x"), ("x", 0));
}

fn person(id: &str, consent: bool) -> Person {
    let mut p = Person {
        id: PersonId(id.into()),
        ..Default::default()
    };
    if consent {
        p.consents.grant(
            Channel::Email,
            Purpose::AppointmentReminder,
            d(2026, 3, 1),
            Evidence::DoubleOptIn,
        );
    }
    p
}

#[test]
fn retry_only_failed_with_new_ids_and_links() {
    let (b, mut ms) = queued(Channel::Email, &["a", "b", "c", "d"]);
    for (i, st) in [
        RelayState::Sent,
        RelayState::Failed,
        RelayState::Failed,
        RelayState::Failed,
    ]
    .into_iter()
    .enumerate()
    {
        let id = ms[i].id.clone();
        ms[i].apply_report(&report(&id, st, t(15, 0))).unwrap();
    }
    let mut persons = [
        person("p-a", true),
        person("p-b", true),
        person("p-c", true),
    ];
    // d: person deleted; c: withdrew in the meantime.
    persons[2].consents.withdraw(
        Channel::Email,
        Purpose::AppointmentReminder,
        d(2026, 11, 26),
        ConsentSource::UnsubscribeLink,
    );
    let lookup = |id: &PersonId| persons.iter().find(|p| &p.id == id);
    let out = retry_failed(&mut ms, &b.id, lookup, t(16, 0));
    let new_ids: Vec<_> = out.new_messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(new_ids, ["b-r1"]);
    assert_eq!(
        out.skipped,
        [
            ("c".to_string(), "Einwilligung widerrufen".to_string()),
            ("d".to_string(), "Person nicht mehr vorhanden".to_string())
        ]
    );
    let r = &out.new_messages[0];
    assert_eq!(r.retry_of.as_deref(), Some("b"));
    assert_eq!(r.state, MessageState::Queued);
    assert_eq!(r.seq, 4);
    assert_eq!(r.queued_at, t(16, 0));
    assert_eq!(
        r.consent,
        ConsentBasis::Consent {
            given_at: d(2026, 3, 1),
            evidence: Evidence::DoubleOptIn
        }
    );
    assert_eq!(ms[1].retried_as.as_deref(), Some("b-r1"));
    assert_eq!(ms[1].kind(), StateKind::Failed, "the old one stays failed");
    ms.extend(out.new_messages);
    // Counts: b superseded by b-r1 (queued).
    let c = BatchCounts::of(&ms);
    assert_eq!((c.sent, c.failed, c.superseded, c.queued), (1, 2, 1, 1));
    // Clicking again creates nothing new.
    let again = retry_failed(&mut ms, &b.id, lookup, t(16, 1));
    assert!(again.new_messages.is_empty());
    // The retry fails too: the next retry gets -r2.
    let i = ms.iter().position(|m| m.id == "b-r1").unwrap();
    ms[i]
        .apply_report(&report("b-r1", RelayState::Failed, t(16, 5)))
        .unwrap();
    let third = retry_failed(&mut ms, &b.id, lookup, t(16, 10));
    assert_eq!(third.new_messages[0].id, "b-r2");
    assert_eq!(third.new_messages[0].retry_of.as_deref(), Some("b-r1"));
}

#[test]
fn retry_links_a_leftover_instead_of_duplicating() {
    let (b, mut ms) = queued(Channel::Email, &["a"]);
    ms[0]
        .apply_report(&report("a", RelayState::Failed, t(15, 0)))
        .unwrap();
    let persons = [person("p-a", true)];
    let lookup = |id: &PersonId| persons.iter().find(|p| &p.id == id);
    let mut copy = ms.clone();
    let out = retry_failed(&mut copy, &b.id, lookup, t(16, 0));
    // Simulate: the new message was stored, the link on the old one was lost.
    ms.extend(out.new_messages);
    let again = retry_failed(&mut ms, &b.id, lookup, t(16, 1));
    assert!(again.new_messages.is_empty());
    assert_eq!(ms[0].retried_as.as_deref(), Some("a-r1"));
}

#[test]
fn retry_keeps_override_basis_when_consent_still_missing() {
    let (b, mut ms) = queued(Channel::Email, &["a"]);
    ms[0].consent = ConsentBasis::Override {
        reason: "Termin verschoben, Patient bat telefonisch um Nachricht".into(),
        at: t(13, 0),
    };
    ms[0]
        .apply_report(&report("a", RelayState::Failed, t(15, 0)))
        .unwrap();
    let persons = [person("p-a", false)];
    let out = retry_failed(
        &mut ms,
        &b.id,
        |id| persons.iter().find(|p| &p.id == id),
        t(16, 0),
    );
    assert_eq!(out.new_messages.len(), 1);
    assert_eq!(out.new_messages[0].consent, ms[0].consent);
}

#[test]
fn consent_basis_rules() {
    let ov = |reason: &str, at: NaiveDateTime| ConsentOverride {
        person_id: PersonId("p".into()),
        appointment_id: None,
        channel: Channel::Email,
        purpose: Purpose::AppointmentReminder,
        reason: reason.into(),
        at,
    };
    let granted = person("p", true);
    let missing = person("p", false);
    let mut withdrawn = person("p", true);
    withdrawn.consents.withdraw(
        Channel::Email,
        Purpose::AppointmentReminder,
        d(2026, 11, 20),
        ConsentSource::UnsubscribeLink,
    );
    let early = NaiveDate::from_ymd_opt(2026, 11, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let same_day = d(2026, 11, 20).and_hms_opt(18, 0, 0).unwrap();
    let cases: Vec<(&Person, Vec<ConsentOverride>, Option<&str>)> = vec![
        (
            &granted,
            vec![],
            Some("Einwilligung vom 01.03.2026 (Double-Opt-in)"),
        ),
        (&missing, vec![], None),
        (&missing, vec![ov("  ", t(14, 0))], None),
        (
            &missing,
            vec![ov("Patient bat darum", t(14, 0))],
            Some("Ohne Einwilligung (26.11.2026 14:00): Patient bat darum"),
        ),
        (&withdrawn, vec![ov("alt", early)], None),
        // Same day as the withdrawal: it may have come after the override.
        (&withdrawn, vec![ov("gleicher Tag", same_day)], None),
        (
            &withdrawn,
            vec![ov("alt", early), ov("neu bestätigt", t(14, 0))],
            Some("Ohne Einwilligung (26.11.2026 14:00): neu bestätigt"),
        ),
    ];
    for (p, ovs, want) in cases {
        let got = consent_basis(p, None, Channel::Email, Purpose::AppointmentReminder, &ovs);
        assert_eq!(got.map(|b| b.label_de()).as_deref(), want);
    }
    // An override for another appointment does not count.
    let mut o = ov("x", t(14, 0));
    o.appointment_id = Some(AppointmentId("a1".into()));
    let other = AppointmentId("a2".into());
    assert!(consent_basis(
        &missing,
        Some(&other),
        Channel::Email,
        Purpose::AppointmentReminder,
        &[o]
    )
    .is_none());
}

#[test]
fn opt_outs_withdraw_idempotently() {
    let mut a = Person {
        id: PersonId("a".into()),
        ..Default::default()
    };
    let mut c = Consents::default();
    for p in Purpose::ALL {
        c.grant(Channel::Email, p, d(2026, 1, 1), Evidence::OnlineForm);
    }
    c.grant(
        Channel::Sms,
        Purpose::Recall,
        d(2026, 1, 1),
        Evidence::OnlineForm,
    );
    a.consents = c;
    let mut b = a.clone();
    b.id = PersonId("b".into());
    // c re-consented at the practice after clicking the link.
    let mut late = a.clone();
    late.id = PersonId("c".into());
    late.consents.grant(
        Channel::Email,
        Purpose::Recall,
        d(2026, 11, 27),
        Evidence::WrittenForm,
    );
    let mut persons = vec![a, b, late];
    let at = t(9, 30);
    let optouts = vec![
        OptOutNotice {
            person_id: PersonId("a".into()),
            channel: Channel::Email,
            scope: OptOutScope::AllAdvertising,
            at,
            recipient: String::new(),
        },
        OptOutNotice {
            person_id: PersonId("b".into()),
            channel: Channel::Email,
            scope: OptOutScope::Purpose(Purpose::Recall),
            at,
            recipient: String::new(),
        },
        OptOutNotice {
            person_id: PersonId("c".into()),
            channel: Channel::Email,
            scope: OptOutScope::Purpose(Purpose::Recall),
            at,
            recipient: String::new(),
        },
        OptOutNotice {
            person_id: PersonId("unknown".into()),
            channel: Channel::Email,
            scope: OptOutScope::AllAdvertising,
            at,
            recipient: String::new(),
        },
    ];
    let changed = apply_opt_outs(&mut persons, &optouts);
    // c's history gets the withdrawal too (it happened), before the later grant.
    assert_eq!(
        changed,
        [
            PersonId("a".into()),
            PersonId("b".into()),
            PersonId("c".into())
        ]
    );
    let c_events: Vec<(ConsentAction, NaiveDate)> = persons[2]
        .consents
        .events(Channel::Email, Purpose::Recall)
        .iter()
        .map(|e| (e.action, e.date))
        .collect();
    assert_eq!(
        c_events,
        [
            (ConsentAction::Granted, d(2026, 1, 1)),
            (ConsentAction::Withdrawn, d(2026, 11, 26)),
            (ConsentAction::Granted, d(2026, 11, 27)),
        ]
    );
    let a = &persons[0];
    for p in Purpose::ALL {
        assert_eq!(
            a.consents.allows(Channel::Email, p),
            !p.is_advertising(),
            "{p:?}"
        );
    }
    assert!(a.consents.allows(Channel::Sms, Purpose::Recall));
    let rec = a.consents.status(Channel::Email, Purpose::Birthday);
    assert_eq!(rec.withdrawn_at(), Some(d(2026, 11, 26)));
    assert!(matches!(
        rec,
        ConsentStatus::Withdrawn {
            source: ConsentSource::UnsubscribeLink,
            ..
        }
    ));
    assert!(!persons[1].consents.allows(Channel::Email, Purpose::Recall));
    assert!(persons[1]
        .consents
        .allows(Channel::Email, Purpose::Birthday));
    assert!(persons[2].consents.allows(Channel::Email, Purpose::Recall));
    // Applying again changes nothing.
    let snapshot = persons.clone();
    assert!(apply_opt_outs(&mut persons, &optouts).is_empty());
    assert_eq!(persons, snapshot);
}

#[test]
fn stored_message_is_open_reads_the_state_of_the_stored_json() {
    for kind in StateKind::ALL {
        let mut m = msg(Channel::Email);
        m.state = example_state(kind);
        let doc = serde_json::to_value(&m).unwrap();
        assert_eq!(stored_message_is_open(&doc), !kind.is_final(), "{kind:?}");
    }
    assert!(stored_message_is_open(&serde_json::json!({"id": "x"})));
    assert!(stored_message_is_open(
        &serde_json::json!({"state": {"state": "unknown"}})
    ));
}

#[test]
fn serde_roundtrip() {
    let mut m = msg(Channel::Email);
    m.state = example_state(StateKind::Retrying);
    let back: OutboxMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}

/// A minor's e-mail went to a guardian: the guardian's unsubscribe click withdraws that
/// guardian's consent (the one that counts), not the other guardian's.
#[test]
fn an_opt_out_withdraws_the_consent_of_the_guardian_the_message_went_to() {
    let granted = || {
        let mut c = Consents::default();
        c.grant(
            Channel::Email,
            Purpose::Recall,
            d(2026, 1, 1),
            Evidence::WrittenForm,
        );
        c
    };
    let guardian = |email: &str| crate::domain::Guardian {
        first_name: "Anna".into(),
        last_name: "Weber".into(),
        email: email.into(),
        consents: granted(),
        ..Default::default()
    };
    let mut minor = Person {
        id: PersonId("tim".into()),
        email: "tim@example.org".into(),
        ..Default::default()
    };
    minor.guardians = vec![
        guardian("mutter@example.org"),
        guardian("vater@example.org"),
    ];
    let mut persons = vec![minor];
    let notice = OptOutNotice {
        person_id: PersonId("tim".into()),
        channel: Channel::Email,
        scope: OptOutScope::Purpose(Purpose::Recall),
        at: t(9, 30),
        recipient: " Vater@Example.org".into(),
    };
    let changed = apply_opt_outs(&mut persons, std::slice::from_ref(&notice));
    assert_eq!(changed, [PersonId("tim".into())]);
    let allows = |c: &Consents| {
        c.history(Channel::Email, Purpose::Recall)
            .is_some_and(|h| h.status_on(d(2026, 12, 1)).allows())
    };
    assert!(
        allows(&persons[0].guardians[0].consents),
        "the mother's stays"
    );
    assert!(
        !allows(&persons[0].guardians[1].consents),
        "the father's is withdrawn"
    );
    // Applied again: nothing changes.
    assert!(apply_opt_outs(&mut persons, &[notice]).is_empty());
}
