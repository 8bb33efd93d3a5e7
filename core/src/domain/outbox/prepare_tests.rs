//! `prepare_batch`, table-driven, for every channel: who is queued with which consent basis,
//! who is skipped and why.

use super::*;
use crate::domain::address::address_block;
use crate::domain::model::{
    AppointmentId, Channel, ConsentSource, Evidence, Gender, Person, PersonId, PersonRecord,
    PostalAddress, Purpose,
};
use crate::domain::render::RenderError;
use crate::domain::review::{ConsentOverride, Contact, Handover, HandoverRecipient, Unreachable};
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn review_time() -> NaiveDateTime {
    d(2026, 11, 26).and_hms_opt(10, 0, 0).unwrap()
}

const PURPOSE: Purpose = Purpose::Birthday;

/// Nobody here has a birth date: everyone is an adult (minors: `guardian::tests`).
fn adults() -> crate::domain::guardian::MinorRule {
    crate::domain::guardian::MinorRule::new(16, d(2026, 11, 26))
}

fn record(p: &Person) -> PersonRecord {
    PersonRecord {
        person: p.clone(),
        ..Default::default()
    }
}

fn records(ps: &[Person]) -> Vec<PersonRecord> {
    ps.iter().map(record).collect()
}

/// A person every channel can reach, without any consent.
fn reachable(id: &str) -> Person {
    Person {
        id: PersonId(id.into()),
        first_name: "Anna".into(),
        last_name: format!("Test-{id}"),
        gender: Gender::Female,
        address: PostalAddress {
            street: "Hauptstraße".into(),
            house_number: "5".into(),
            extra: String::new(),
            postcode: "80331".into(),
            city: "München".into(),
            country: String::new(),
        },
        email: format!("{id}@example.org"),
        mobile: "0171 1234567".into(),
        ..Default::default()
    }
}

fn granted(id: &str, channel: Channel, purpose: Purpose) -> Person {
    let mut p = reachable(id);
    p.consents
        .grant(channel, purpose, d(2025, 1, 2), Evidence::WrittenForm);
    p
}

fn override_for(id: &str, channel: Channel, at: NaiveDateTime) -> ConsentOverride {
    ConsentOverride {
        person_id: PersonId(id.into()),
        appointment_id: None,
        channel,
        purpose: PURPOSE,
        reason: "Einwilligung liegt auf Papier vor".into(),
        at,
    }
}

fn content(text: &str) -> RenderedMessage {
    Some(Ok(Content {
        subject: Some("Alles Gute".into()),
        text: text.into(),
        html: None,
        calendar: None,
    }))
}

/// The rendered message of one recipient, as `prepare_batch` takes it.
type RenderedMessage = Option<Result<Content, RenderError>>;

fn render_error(message: &str) -> RenderError {
    RenderError {
        message: message.into(),
        ..Default::default()
    }
}

/// One row of the table: recipient id, appointment, rendered message, expected outcome.
type Row = (&'static str, Option<AppointmentId>, RenderedMessage, Want);

/// Expected outcome of one row.
#[derive(Debug, PartialEq)]
enum Want {
    Consent,
    Override,
    Skip(SkipReason),
}

#[test]
fn every_channel_queues_only_with_a_consent_or_a_logged_override() {
    for channel in Channel::ALL {
        let other_channel = Channel::ALL.into_iter().find(|c| *c != channel).unwrap();
        let mut withdrawn = granted("withdrawn", channel, PURPOSE);
        withdrawn
            .consents
            .withdraw(channel, PURPOSE, d(2026, 11, 26), ConsentSource::Practice);
        let mut withdrawn_before_override = granted("withdrawn_before", channel, PURPOSE);
        withdrawn_before_override.consents.withdraw(
            channel,
            PURPOSE,
            d(2026, 11, 1),
            ConsentSource::UnsubscribeLink,
        );
        let mut unreachable = granted("unreachable", channel, PURPOSE);
        unreachable.email.clear();
        unreachable.mobile.clear();
        unreachable.address.city.clear();
        let persons = [
            granted("ok", channel, PURPOSE),
            reachable("none"),
            reachable("override"),
            reachable("override_other_appointment"),
            withdrawn,
            withdrawn_before_override,
            granted("other_purpose", channel, Purpose::Recall),
            granted("other_channel", other_channel, PURPOSE),
            unreachable,
            granted("render_error", channel, PURPOSE),
            granted("empty", channel, PURPOSE),
            granted("not_rendered", channel, PURPOSE),
        ];
        // (recipient id, appointment, rendered, expected)
        let appt = Some(AppointmentId("t-1".into()));
        let rows: Vec<Row> = vec![
            ("ok", None, content("Hallo"), Want::Consent),
            (
                "none",
                None,
                content("Hallo"),
                Want::Skip(SkipReason::NoConsent),
            ),
            ("override", None, content("Hallo"), Want::Override),
            (
                "override_other_appointment",
                appt.clone(),
                content("Hallo"),
                Want::Skip(SkipReason::NoConsent),
            ),
            (
                "withdrawn",
                None,
                content("Hallo"),
                Want::Skip(SkipReason::ConsentWithdrawn {
                    at: d(2026, 11, 26),
                }),
            ),
            ("withdrawn_before", None, content("Hallo"), Want::Override),
            (
                "other_purpose",
                None,
                content("Hallo"),
                Want::Skip(SkipReason::NoConsent),
            ),
            (
                "other_channel",
                None,
                content("Hallo"),
                Want::Skip(SkipReason::NoConsent),
            ),
            (
                "unreachable",
                None,
                content("Hallo"),
                Want::Skip(SkipReason::Unreachable(match channel {
                    Channel::Letter => Unreachable::IncompleteAddress(
                        crate::domain::address::address_problems(&persons[8].address),
                    ),
                    Channel::Sms => Unreachable::NoMobile,
                    Channel::Email => Unreachable::NoEmail,
                })),
            ),
            (
                "render_error",
                None,
                Some(Err(render_error("undefined value"))),
                Want::Skip(SkipReason::RenderFailed(Box::new(render_error(
                    "undefined value",
                )))),
            ),
            (
                "empty",
                None,
                content("  \n "),
                Want::Skip(SkipReason::EmptyMessage),
            ),
            (
                "not_rendered",
                None,
                None,
                Want::Skip(SkipReason::NotRendered),
            ),
            ("gone", None, None, Want::Skip(SkipReason::UnknownPerson)),
        ];
        let mut other_appointment =
            override_for("override_other_appointment", channel, review_time());
        other_appointment.appointment_id = Some(AppointmentId("t-2".into()));
        let handover = Handover {
            channel,
            purpose: PURPOSE,
            recipients: rows
                .iter()
                .map(|(id, a, _, _)| HandoverRecipient {
                    person_id: PersonId(id.to_string()),
                    appointment_id: a.clone(),
                    contact: Contact::Raw(String::new()),
                    consent_override: false,
                })
                .collect(),
            minors: adults(),
            overrides: vec![
                override_for("override", channel, review_time()),
                other_appointment,
                override_for("withdrawn_before", channel, review_time()),
                // Logged on the day of the withdrawal: it does not count.
                override_for("withdrawn", channel, review_time()),
            ],
        };
        let records = records(&persons);
        let by_id: BTreeMap<&PersonId, &PersonRecord> =
            records.iter().map(|r| (&r.person.id, r)).collect();
        let rendered: Vec<_> = rows.iter().map(|(_, _, r, _)| r.clone()).collect();
        let mut n = 0;
        let out = prepare_batch(
            &handover,
            |id| by_id.get(id).copied(),
            &rendered,
            || {
                n += 1;
                format!("m-{n}")
            },
        );
        let mut got: BTreeMap<usize, Want> = BTreeMap::new();
        for p in &out.items {
            let want = match &p.item.consent {
                ConsentBasis::Consent { given_at, evidence } => {
                    assert_eq!(
                        (*given_at, *evidence),
                        (d(2025, 1, 2), Evidence::WrittenForm)
                    );
                    Want::Consent
                }
                ConsentBasis::Override { reason, at } => {
                    assert_eq!(
                        (reason.as_str(), *at),
                        ("Einwilligung liegt auf Papier vor", review_time())
                    );
                    Want::Override
                }
                ConsentBasis::OptInRequest => panic!("a hand-over never makes an opt-in request"),
            };
            got.insert(p.index, want);
        }
        for s in &out.skipped {
            assert!(!s.reason.message_de().is_empty());
            got.insert(s.index, Want::Skip(s.reason.clone()));
        }
        let want: BTreeMap<usize, Want> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (_, _, _, w))| (i, w))
            .collect();
        assert_eq!(got, want, "{channel:?}");
        // Ids in order, items in hand-over order, the address from the person now.
        let ids: Vec<&str> = out.items.iter().map(|p| p.item.id.as_str()).collect();
        assert_eq!(ids, ["m-1", "m-2", "m-3"], "{channel:?}");
        let ok = &out.items[0].item;
        assert_eq!(
            ok.address,
            match channel {
                Channel::Letter => address_block(&persons[0]).join(", "),
                Channel::Sms => "+491711234567".into(),
                Channel::Email => "ok@example.org".into(),
            }
        );
        assert_eq!(out.queue_items().len(), 3);
        assert!(queue_batch(
            &Batch {
                claim: None,
                id: "b".into(),
                created_at: review_time(),
                channel,
                purpose: PURPOSE,
                template_name: "Geburtstag".into(),
                template_version: 1,
                paused: false,
                files: Vec::new(),
            },
            out.queue_items()
        )
        .is_ok());
    }
}

/// Fresh data wins over what the review saw: a consent withdrawn after the hand-over, or a
/// changed e-mail address.
#[test]
fn the_persons_passed_in_decide_not_the_review() {
    let before = granted("p", Channel::Email, PURPOSE);
    let handover = Handover {
        channel: Channel::Email,
        purpose: PURPOSE,
        recipients: vec![HandoverRecipient {
            person_id: before.id.clone(),
            appointment_id: None,
            contact: Contact::Email("p@example.org".into()),
            consent_override: false,
        }],
        overrides: vec![],
        minors: adults(),
    };
    let rendered = [content("Hallo")];
    let mut now = before.clone();
    now.email = "neu@example.org".into();
    let rec = record(&now);
    let out = prepare_batch(&handover, |_| Some(&rec), &rendered, || "m".into());
    assert_eq!(out.items[0].item.address, "neu@example.org");
    now.consents.withdraw(
        Channel::Email,
        PURPOSE,
        d(2026, 11, 27),
        ConsentSource::Practice,
    );
    let rec = record(&now);
    let out = prepare_batch(&handover, |_| Some(&rec), &rendered, || "m".into());
    assert!(out.items.is_empty());
    assert_eq!(
        out.skipped[0].reason,
        SkipReason::ConsentWithdrawn {
            at: d(2026, 11, 27)
        }
    );
    assert_eq!(
        out.skipped[0].reason.message_de(),
        "Einwilligung am 27.11.2026 widerrufen"
    );
}
