use super::*;
use crate::domain::model::{Person, PersonId};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

const SMS_REMINDER: (Channel, Purpose) = (Channel::Sms, Purpose::AppointmentReminder);
const MAIL_BIRTHDAY: (Channel, Purpose) = (Channel::Email, Purpose::Birthday);

#[test]
fn consent_is_per_channel_and_purpose() {
    let mut c = Consents::default();
    c.grant(
        Channel::Sms,
        Purpose::AppointmentReminder,
        d(2026, 1, 2),
        Evidence::WrittenForm,
    );
    assert!(c.allows(Channel::Sms, Purpose::AppointmentReminder));
    assert!(!c.allows(Channel::Sms, Purpose::Recall));
    assert!(!c.allows(Channel::Email, Purpose::AppointmentReminder));
    assert_eq!(
        c.status(Channel::Sms, Purpose::Recall),
        ConsentStatus::Missing
    );
}

/// Table: a sequence of events recorded into one cell → the derived state.
#[test]
fn the_state_is_derived_from_the_events() {
    use ConsentSource::*;
    let g = |day, ev| ConsentEvent::granted(d(2026, 1, day), ev, Practice);
    let w = |day, src| ConsentEvent::withdrawn(d(2026, 1, day), src);
    let grant = |day, evidence, source| Grant {
        given_at: d(2026, 1, day),
        evidence,
        source,
    };
    let cases: Vec<(Vec<ConsentEvent>, ConsentStatus)> = vec![
        (vec![], ConsentStatus::Missing),
        (
            vec![g(2, Evidence::Verbal)],
            ConsentStatus::Granted(grant(2, Evidence::Verbal, Practice)),
        ),
        (
            vec![g(2, Evidence::Verbal), w(5, UnsubscribeLink)],
            ConsentStatus::Withdrawn {
                grant: Some(grant(2, Evidence::Verbal, Practice)),
                withdrawn_at: d(2026, 1, 5),
                source: UnsubscribeLink,
            },
        ),
        // A new grant after a withdrawal: granted again, the withdrawal stays in the history.
        (
            vec![
                g(2, Evidence::Verbal),
                w(5, Practice),
                g(9, Evidence::WrittenForm),
            ],
            ConsentStatus::Granted(grant(9, Evidence::WrittenForm, Practice)),
        ),
        // Recorded late but dated earlier: the later withdrawal still decides.
        (
            vec![w(5, Practice), g(2, Evidence::WrittenForm)],
            ConsentStatus::Withdrawn {
                grant: Some(grant(2, Evidence::WrittenForm, Practice)),
                withdrawn_at: d(2026, 1, 5),
                source: Practice,
            },
        ),
        // Same day: the one recorded last decides.
        (
            vec![g(5, Evidence::Verbal), w(5, Practice)],
            ConsentStatus::Withdrawn {
                grant: Some(grant(5, Evidence::Verbal, Practice)),
                withdrawn_at: d(2026, 1, 5),
                source: Practice,
            },
        ),
        (
            vec![w(5, Practice), g(5, Evidence::DoubleOptIn)],
            ConsentStatus::Granted(grant(5, Evidence::DoubleOptIn, Practice)),
        ),
        // A changed evidence is a new grant, the old one stays.
        (
            vec![g(2, Evidence::Verbal), g(3, Evidence::WrittenForm)],
            ConsentStatus::Granted(grant(3, Evidence::WrittenForm, Practice)),
        ),
    ];
    for (events, want) in cases {
        let mut c = Consents::default();
        for e in &events {
            c.record(MAIL_BIRTHDAY.0, MAIL_BIRTHDAY.1, e.clone());
        }
        assert_eq!(
            c.status(MAIL_BIRTHDAY.0, MAIL_BIRTHDAY.1),
            want,
            "{events:?}"
        );
        // Nothing recorded is lost, and the events are in date order.
        let stored = c.events(MAIL_BIRTHDAY.0, MAIL_BIRTHDAY.1);
        assert_eq!(stored.len(), events.len());
        assert!(stored.windows(2).all(|w| w[0].date <= w[1].date));
        // The state survives storage.
        let back: Consents = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}

#[test]
fn withdraw_only_an_active_consent_and_status_on_a_day() {
    let mut c = Consents::default();
    assert!(!c.withdraw(
        SMS_REMINDER.0,
        SMS_REMINDER.1,
        d(2026, 5, 6),
        ConsentSource::Practice
    ));
    assert!(c.is_empty());
    c.grant(
        SMS_REMINDER.0,
        SMS_REMINDER.1,
        d(2025, 3, 4),
        Evidence::WrittenForm,
    );
    assert!(c.withdraw(
        SMS_REMINDER.0,
        SMS_REMINDER.1,
        d(2026, 5, 6),
        ConsentSource::UnsubscribeLink
    ));
    assert!(!c.withdraw(
        SMS_REMINDER.0,
        SMS_REMINDER.1,
        d(2026, 5, 7),
        ConsentSource::Practice
    ));
    let h = c.history(SMS_REMINDER.0, SMS_REMINDER.1).unwrap();
    assert_eq!(h.events().len(), 2);
    assert!(h.status_on(d(2026, 5, 5)).allows());
    assert!(!h.status_on(d(2026, 5, 6)).allows());
    assert_eq!(h.status_on(d(2025, 3, 3)), ConsentStatus::Missing);
    assert_eq!(h.status().withdrawn_at(), Some(d(2026, 5, 6)));
}

/// The stored JSON of the first format (one consent per cell) still reads, converted to
/// events. The sample is a person record as the app stored it before the history.
#[test]
fn old_single_cell_records_deserialize_into_events() {
    let old = r#"{
        "id": "p-1", "kind": "patient", "title": "", "first_name": "Anna",
        "last_name": "Müller", "gender": "female",
        "address": {"street": "Hauptstraße", "house_number": "5", "extra": "",
                    "postcode": "80331", "city": "München", "country": ""},
        "email": "anna@example.org", "mobile": "0171 1234567", "landline": "", "tags": [],
        "consents": [
            {"channel": "sms", "purpose": "appointment_reminder", "given_at": "2025-01-02",
             "evidence": "written_form", "withdrawn_at": null, "withdrawn_source": null},
            {"channel": "email", "purpose": "birthday", "given_at": "2025-03-04",
             "evidence": "double_opt_in", "withdrawn_at": "2026-05-06",
             "withdrawn_source": "unsubscribe_link"},
            {"channel": "letter", "purpose": "recall", "given_at": "2024-07-08",
             "evidence": "verbal"}
        ],
        "external_id": null
    }"#;
    let p: Person = serde_json::from_str(old).unwrap();
    assert_eq!(p.id, PersonId("p-1".into()));
    let c = &p.consents;
    assert_eq!(
        c.events(Channel::Sms, Purpose::AppointmentReminder),
        [ConsentEvent::granted(
            d(2025, 1, 2),
            Evidence::WrittenForm,
            ConsentSource::Practice
        )]
    );
    assert!(c.allows(Channel::Letter, Purpose::Recall));
    assert_eq!(
        c.events(Channel::Email, Purpose::Birthday),
        [
            ConsentEvent::granted(
                d(2025, 3, 4),
                Evidence::DoubleOptIn,
                ConsentSource::Practice
            ),
            ConsentEvent::withdrawn(d(2026, 5, 6), ConsentSource::UnsubscribeLink),
        ]
    );
    assert_eq!(
        c.status(Channel::Email, Purpose::Birthday),
        ConsentStatus::Withdrawn {
            grant: Some(Grant {
                given_at: d(2025, 3, 4),
                evidence: Evidence::DoubleOptIn,
                source: ConsentSource::Practice
            }),
            withdrawn_at: d(2026, 5, 6),
            source: ConsentSource::UnsubscribeLink,
        }
    );
    // Written back in the current format, which reads back the same.
    let json = serde_json::to_string(&p).unwrap();
    assert!(
        json.contains(r#""events""#) && !json.contains("given_at"),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Person>(&json).unwrap(), p);
}

#[test]
fn cells_are_sorted_and_duplicates_merged_on_read() {
    let json = r#"[
        {"channel": "sms", "purpose": "recall", "events": [
            {"action": "granted", "date": "2025-01-02", "evidence": "verbal", "source": "import"}]},
        {"channel": "letter", "purpose": "birthday", "events": []},
        {"channel": "sms", "purpose": "recall", "events": [
            {"action": "withdrawn", "date": "2025-02-03", "source": "practice", "note": "Anruf"}]}
    ]"#;
    let c: Consents = serde_json::from_str(json).unwrap();
    let keys: Vec<_> = c.cells().iter().map(|h| (h.channel, h.purpose)).collect();
    assert_eq!(
        keys,
        [
            (Channel::Letter, Purpose::Birthday),
            (Channel::Sms, Purpose::Recall)
        ]
    );
    let events = c.events(Channel::Sms, Purpose::Recall);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].note, "Anruf");
    assert_eq!(events[0].source, ConsentSource::Import);
    assert!(!c.allows(Channel::Sms, Purpose::Recall));
}

#[test]
fn a_grant_without_evidence_proves_nothing() {
    let json = r#"[{"channel": "sms", "purpose": "recall", "events": [
        {"action": "granted", "date": "2025-01-02", "source": "practice"}]}]"#;
    let c: Consents = serde_json::from_str(json).unwrap();
    assert!(!c.allows(Channel::Sms, Purpose::Recall));
}

/// An editor works on a copy; meanwhile an opt-out is stored. Saving keeps both.
#[test]
fn rebase_keeps_what_was_recorded_meanwhile() {
    let mut base = Consents::default();
    base.grant(
        MAIL_BIRTHDAY.0,
        MAIL_BIRTHDAY.1,
        d(2025, 1, 1),
        Evidence::DoubleOptIn,
    );
    let mut draft = base.clone();
    draft.record(
        SMS_REMINDER.0,
        SMS_REMINDER.1,
        ConsentEvent::granted(
            d(2026, 1, 3),
            Evidence::WrittenForm,
            ConsentSource::Practice,
        )
        .with_note("  Anmeldebogen  "),
    );
    let mut current = base.clone();
    assert!(current.withdraw(
        MAIL_BIRTHDAY.0,
        MAIL_BIRTHDAY.1,
        d(2026, 1, 2),
        ConsentSource::UnsubscribeLink
    ));
    let added = draft.added_since(&base);
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].2.note, "Anmeldebogen");
    let saved = draft.rebase(&base, &current);
    assert!(saved.extends(&current) && saved.extends(&base));
    assert!(!saved.allows(MAIL_BIRTHDAY.0, MAIL_BIRTHDAY.1));
    assert!(saved.allows(SMS_REMINDER.0, SMS_REMINDER.1));
    // Discarding the draft's change of one cell.
    let mut undone = draft.clone();
    undone.restore_cell(SMS_REMINDER.0, SMS_REMINDER.1, &base);
    assert_eq!(undone, base);
    // A draft that lost an event does not remove it.
    let shrunk = Consents::default();
    assert!(!shrunk.extends(&current));
    assert_eq!(shrunk.rebase(&base, &current), current);
}

#[test]
fn evidence_strength_for_advertising_e_mails() {
    let strong: Vec<Evidence> = Evidence::ALL
        .into_iter()
        .filter(|e| e.is_strong())
        .collect();
    assert_eq!(strong, [Evidence::WrittenForm, Evidence::DoubleOptIn]);
}

#[test]
fn proof_lists_every_event_with_the_state_after_it() {
    let mut p = Person {
        id: PersonId("p-7".into()),
        first_name: "Jürgen".into(),
        last_name: "Groß-Müller".into(),
        ..Default::default()
    };
    p.consents.grant(
        Channel::Email,
        Purpose::Birthday,
        d(2025, 3, 4),
        Evidence::DoubleOptIn,
    );
    p.consents.withdraw(
        Channel::Email,
        Purpose::Birthday,
        d(2026, 5, 6),
        ConsentSource::UnsubscribeLink,
    );
    p.consents.record(
        Channel::Sms,
        Purpose::AppointmentReminder,
        ConsentEvent::granted(d(2026, 1, 2), Evidence::WrittenForm, ConsentSource::Import)
            .with_note("=HYPERLINK(\"x\")"),
    );
    // A guardian's consent on the person's behalf comes after the person's own events.
    let mut g = crate::domain::Guardian {
        first_name: "Anna".into(),
        last_name: "Groß".into(),
        ..Default::default()
    };
    g.consents.grant(
        Channel::Letter,
        Purpose::Recall,
        d(2026, 2, 3),
        Evidence::WrittenForm,
    );
    p.guardians = vec![crate::domain::Guardian::default(), g];
    let today = d(2026, 11, 26);
    let bytes = proof::to_csv(&p, today).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    assert_eq!(r.headers().unwrap(), proof::HEADERS.as_slice());
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    let want: Vec<Vec<&str>> = vec![
        vec![
            "Groß-Müller, Jürgen",
            "p-7",
            "SMS",
            "Terminerinnerung",
            "erteilt",
            "02.01.2026",
            "schriftlich",
            "Import",
            "'=HYPERLINK(\"x\")",
            "erteilt",
            "26.11.2026",
            "Person selbst",
        ],
        vec![
            "Groß-Müller, Jürgen",
            "p-7",
            "E-Mail",
            "Geburtstag",
            "erteilt",
            "04.03.2025",
            "Double-Opt-in",
            "Praxis",
            "",
            "erteilt",
            "26.11.2026",
            "Person selbst",
        ],
        vec![
            "Groß-Müller, Jürgen",
            "p-7",
            "E-Mail",
            "Geburtstag",
            "widerrufen",
            "06.05.2026",
            "",
            "Abmeldelink",
            "",
            "widerrufen",
            "26.11.2026",
            "Person selbst",
        ],
        vec![
            "Groß-Müller, Jürgen",
            "p-7",
            "Brief",
            "Recall",
            "erteilt",
            "03.02.2026",
            "schriftlich",
            "Praxis",
            "",
            "erteilt",
            "26.11.2026",
            "Erziehungsberechtigte Anna Groß",
        ],
    ];
    assert_eq!(rows, want);
    assert_eq!(
        proof::file_name(&p, today),
        "Einwilligungsnachweis_Gross_Mueller_Juergen_2026-11-26.csv"
    );
    assert_eq!(
        proof::file_name(&Person::default(), today),
        "Einwilligungsnachweis_Person_2026-11-26.csv"
    );
}
