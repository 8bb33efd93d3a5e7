//! Mixed families: who a message goes to, for every channel, through the one consent gate
//! (`outbox::admit`), the review's rows, the letter's address block and the salutation.

use super::*;
use crate::domain::address::guardian_address_block;
use crate::domain::model::{
    Channel, ConsentSource, Evidence, Gender, Person, PersonId, PersonRecord, PostalAddress,
    Purpose, Sensitive,
};
use crate::domain::outbox::{admit, SkipReason};
use crate::domain::placeholders::{build_context_to, ContextInput};
use crate::domain::review::{
    ConsentOverride, Contact, Handover, HandoverRecipient, Review, RowTo, Unreachable,
};
use crate::domain::salutation::{anrede, push_guardian_anrede};
use crate::domain::selection::Recipient;
use crate::domain::template::Language;
use crate::domain::PracticeSettings;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The day of sending.
fn send_day() -> NaiveDate {
    d(2026, 12, 5)
}

fn rule() -> MinorRule {
    MinorRule::new(DEFAULT_MINOR_AGE, send_day())
}

const PURPOSE: Purpose = Purpose::Recall;

fn home() -> PostalAddress {
    PostalAddress {
        street: "Lindenweg".into(),
        house_number: "3".into(),
        postcode: "50667".into(),
        city: "Köln".into(),
        ..Default::default()
    }
}

fn elsewhere() -> PostalAddress {
    PostalAddress {
        street: "Ringstraße".into(),
        house_number: "12".into(),
        postcode: "53111".into(),
        city: "Bonn".into(),
        ..Default::default()
    }
}

/// Consents for every channel (for the purpose) given on `day`.
fn all_channels() -> crate::domain::Consents {
    let mut c = crate::domain::Consents::default();
    for ch in Channel::ALL {
        c.grant(ch, PURPOSE, d(2025, 3, 1), Evidence::WrittenForm);
    }
    c
}

fn guardian(first: &str, last: &str, gender: Gender, tag: &str) -> Guardian {
    Guardian {
        first_name: first.into(),
        last_name: last.into(),
        gender,
        email: format!("{tag}@eltern.example"),
        mobile: "0171 5550001".into(),
        consents: all_channels(),
        ..Default::default()
    }
}

/// A child or adult of the Weber family at `home()`, with their own contact and consents.
fn person(
    id: &str,
    first: &str,
    birth: Option<NaiveDate>,
    guardians: Vec<Guardian>,
) -> PersonRecord {
    PersonRecord {
        person: Person {
            id: PersonId(id.into()),
            first_name: first.into(),
            last_name: "Weber".into(),
            gender: Gender::Male,
            address: home(),
            email: format!("{id}@kind.example"),
            mobile: "0171 5559999".into(),
            consents: all_channels(),
            guardians,
            ..Default::default()
        },
        sensitive: Sensitive {
            birth_date: birth,
            ..Default::default()
        },
    }
}

/// The family table. Every row: the person and, per channel, who the message goes to.
fn families() -> Vec<PersonRecord> {
    let anna = guardian("Anna", "Weber", Gender::Female, "anna");
    let mut only_email = guardian("Jan", "Weber", Gender::Male, "jan");
    only_email.consents = crate::domain::Consents::default();
    only_email.consents.grant(
        Channel::Email,
        PURPOSE,
        d(2025, 3, 1),
        Evidence::WrittenForm,
    );
    only_email.mobile = "0171 5550002".into();
    let mut sms_second = guardian("Eva", "Weber", Gender::Female, "eva");
    sms_second.mobile = "0171 5550003".into();
    let mut away = guardian("Jonas", "Weber", Gender::Male, "jonas");
    away.address = Some(elsewhere());
    let mut withdrawn = guardian("Lea", "Weber", Gender::Female, "lea");
    withdrawn.consents.withdraw(
        Channel::Email,
        PURPOSE,
        d(2026, 1, 10),
        ConsentSource::Practice,
    );
    let parents = Guardian {
        email: "familie@eltern.example".into(),
        mobile: "0171 5550004".into(),
        consents: all_channels(),
        ..Default::default()
    };
    let mut no_consent = guardian("Max", "Weber", Gender::Male, "max");
    no_consent.consents = crate::domain::Consents::default();
    vec![
        // 0: an adult.
        person("adult", "Paul", Some(d(1980, 4, 2)), vec![]),
        // 1: a minor with one guardian.
        person("one", "Tim", Some(d(2015, 6, 1)), vec![anna.clone()]),
        // 2: two guardians, only the second consented to SMS (the first only to e-mail).
        person(
            "two",
            "Ben",
            Some(d(2014, 1, 1)),
            vec![only_email, sms_second],
        ),
        // 3: a minor without guardians.
        person("none", "Mia", Some(d(2016, 2, 2)), vec![]),
        // 4: the guardian lives elsewhere.
        person("away", "Leo", Some(d(2013, 9, 9)), vec![away]),
        // 5: 16th birthday on the day of sending: no longer a minor.
        person("sixteen", "Finn", Some(d(2010, 12, 5)), vec![anna.clone()]),
        // 6: 16 tomorrow: still a minor.
        person("fifteen", "Emil", Some(d(2010, 12, 6)), vec![anna.clone()]),
        // 7: no birth date: an adult.
        person("nobirth", "Noah", None, vec![anna.clone()]),
        // 8: a guardian without a name ("An die Eltern von …").
        person("parents", "Tim", Some(d(2015, 6, 1)), vec![parents]),
        // 9: the only guardian withdrew the e-mail consent.
        person("withdrawn", "Ida", Some(d(2015, 6, 1)), vec![withdrawn]),
        // 10: the child consented itself, the guardian did not: the child's consent does
        // not count.
        person("childonly", "Ole", Some(d(2015, 6, 1)), vec![no_consent]),
    ]
}

#[derive(Debug, PartialEq)]
enum Want {
    /// Admitted: the name and address stored with the message, the guardian.
    To(&'static str, &'static str, Option<usize>),
    Skip(SkipReason),
}

fn guardian_skip(name: &str, reason: SkipReason) -> Want {
    Want::Skip(SkipReason::Guardian {
        name: name.into(),
        reason: Box::new(reason),
    })
}

fn handover(
    channel: Channel,
    records: &[PersonRecord],
    overrides: Vec<ConsentOverride>,
) -> Handover {
    Handover {
        channel,
        purpose: PURPOSE,
        recipients: records
            .iter()
            .map(|r| HandoverRecipient {
                person_id: r.person.id.clone(),
                appointment_id: None,
                contact: Contact::Raw(String::new()),
                consent_override: false,
            })
            .collect(),
        overrides,
        minors: rule(),
    }
}

fn admitted_table(channel: Channel, records: &[PersonRecord]) -> Vec<Want> {
    let h = handover(channel, records, vec![]);
    let lookup = |id: &PersonId| records.iter().find(|r| &r.person.id == id);
    (0..records.len())
        .map(|i| match admit(&h, i, &lookup) {
            Ok(a) => Want::To(
                Box::leak(a.name.into_boxed_str()),
                Box::leak(a.address.into_boxed_str()),
                a.guardian,
            ),
            Err(s) => Want::Skip(s.reason),
        })
        .collect()
}

#[test]
fn e_mail_goes_to_the_guardian_of_a_minor() {
    let want = vec![
        Want::To("Paul Weber", "adult@kind.example", None),
        Want::To("Anna Weber", "anna@eltern.example", Some(0)),
        Want::To("Jan Weber", "jan@eltern.example", Some(0)),
        Want::Skip(SkipReason::MinorWithoutGuardian),
        Want::To("Jonas Weber", "jonas@eltern.example", Some(0)),
        Want::To("Finn Weber", "sixteen@kind.example", None),
        Want::To("Anna Weber", "anna@eltern.example", Some(0)),
        Want::To("Noah Weber", "nobirth@kind.example", None),
        Want::To("Eltern von Tim Weber", "familie@eltern.example", Some(0)),
        guardian_skip(
            "Lea Weber",
            SkipReason::ConsentWithdrawn { at: d(2026, 1, 10) },
        ),
        guardian_skip("Max Weber", SkipReason::NoConsent),
    ];
    assert_eq!(admitted_table(Channel::Email, &families()), want);
}

#[test]
fn sms_goes_to_the_first_guardian_with_sms_consent() {
    let got = admitted_table(Channel::Sms, &families());
    // Ben's first guardian consented to e-mail only: the SMS goes to the second.
    assert_eq!(got[2], Want::To("Eva Weber", "+491715550003", Some(1)));
    assert_eq!(got[1], Want::To("Anna Weber", "+491715550001", Some(0)));
    assert_eq!(got[0], Want::To("Paul Weber", "+491715559999", None));
    assert_eq!(got[3], Want::Skip(SkipReason::MinorWithoutGuardian));
}

#[test]
fn letters_go_to_the_guardians_address() {
    let got = admitted_table(Channel::Letter, &families());
    assert_eq!(
        got[1],
        Want::To(
            "Weber, Tim (an Anna Weber)",
            "Frau, Anna Weber, Lindenweg 3, 50667 Köln",
            Some(0)
        )
    );
    // The guardian's own address.
    assert_eq!(
        got[4],
        Want::To(
            "Weber, Leo (an Jonas Weber)",
            "Herrn, Jonas Weber, Ringstraße 12, 53111 Bonn",
            Some(0)
        )
    );
    // Without a guardian's name: to the parents of the child.
    assert_eq!(
        got[8],
        Want::To(
            "Weber, Tim (an Eltern von Tim Weber)",
            "An die Eltern von, Tim Weber, Lindenweg 3, 50667 Köln",
            Some(0)
        )
    );
    assert_eq!(
        got[5],
        Want::To(
            "Weber, Finn",
            "Herrn, Finn Weber, Lindenweg 3, 50667 Köln",
            None
        )
    );
}

#[test]
fn a_guardian_without_contact_for_the_channel_is_passed_over() {
    let mut fam = families();
    // Tim's first guardian has no e-mail; the second has and consented.
    let mut no_mail = guardian("Anna", "Weber", Gender::Female, "anna");
    no_mail.email.clear();
    fam[1].person.guardians.insert(0, no_mail);
    let got = admitted_table(Channel::Email, &fam[..2]);
    assert_eq!(
        got[1],
        Want::To("Anna Weber", "anna@eltern.example", Some(1))
    );
    // Nobody reachable: the first guardian's reason.
    fam[1].person.guardians[1].email.clear();
    let got = admitted_table(Channel::Email, &fam[..2]);
    assert_eq!(
        got[1],
        guardian_skip("Anna Weber", SkipReason::Unreachable(Unreachable::NoEmail))
    );
}

#[test]
fn an_override_of_the_review_admits_a_minor_without_guardian_to_their_own_contact() {
    let fam = families();
    let at = send_day().and_hms_opt(9, 0, 0).unwrap();
    let ov = |id: &str| ConsentOverride {
        person_id: PersonId(id.into()),
        appointment_id: None,
        channel: Channel::Email,
        purpose: PURPOSE,
        reason: "Mutter hat telefonisch zugestimmt".into(),
        at,
    };
    let h = handover(Channel::Email, &fam, vec![ov("none"), ov("childonly")]);
    let lookup = |id: &PersonId| fam.iter().find(|r| &r.person.id == id);
    let a = admit(&h, 3, &lookup).expect("override");
    assert_eq!(
        (a.address.as_str(), a.guardian),
        ("none@kind.example", None)
    );
    // An override of a row with a guardian applies to that guardian.
    let a = admit(&h, 10, &lookup).expect("override");
    assert_eq!(
        (a.address.as_str(), a.guardian),
        ("max@eltern.example", Some(0))
    );
    assert!(matches!(
        a.consent,
        crate::domain::outbox::ConsentBasis::Override { .. }
    ));
}

#[test]
fn the_review_row_shows_the_guardian() {
    let fam = families();
    let recipients: Vec<Recipient> = fam
        .iter()
        .map(|r| Recipient {
            person_id: r.person.id.clone(),
            appointment_id: None,
        })
        .collect();
    let review = Review::build_from_records(Channel::Sms, PURPOSE, &recipients, rule(), &fam);
    let rows = review.rows();
    assert_eq!(rows[0].to, RowTo::Person);
    assert_eq!(
        rows[2].to,
        RowTo::Guardian {
            index: 1,
            name: "Eva Weber".into()
        }
    );
    assert_eq!(rows[2].contact, Contact::Mobile("+491715550003".into()));
    assert!(rows[2].consent.allowed && rows[2].included);
    assert_eq!(rows[3].to, RowTo::MinorWithoutGuardian);
    assert!(!rows[3].consent.allowed && !rows[3].included);
    assert_eq!(rows[5].to, RowTo::Person);
    assert!(matches!(rows[6].to, RowTo::Guardian { .. }));
    assert_eq!(rows[7].to, RowTo::Person);
    // The child consented, the guardian did not: NEIN.
    assert!(!rows[10].consent.allowed);
    // Letters: the guardian's block, exactly as printed.
    let review = Review::build_from_records(Channel::Letter, PURPOSE, &recipients, rule(), &fam);
    assert_eq!(
        review.rows()[4].contact,
        Contact::Postal(vec![
            "Herrn".into(),
            "Jonas Weber".into(),
            "Ringstraße 12".into(),
            "53111 Bonn".into()
        ])
    );
    // What the review includes is what the gate admits, on every channel.
    let lookup = |id: &PersonId| fam.iter().find(|r| &r.person.id == id);
    for channel in Channel::ALL {
        let h = handover(channel, &fam, vec![]);
        let review = Review::build_from_records(channel, PURPOSE, &recipients, rule(), &fam);
        for (i, row) in review.rows().iter().enumerate() {
            let admitted = admit(&h, i, &lookup);
            assert_eq!(row.included, admitted.is_ok(), "{channel:?} row {i}");
            if let Ok(a) = admitted {
                assert_eq!(row.contact.display(), a.address, "{channel:?} row {i}");
            }
        }
    }
}

#[test]
fn age_counts_from_the_birthday() {
    let r = rule();
    assert!(!r.is_minor(None));
    assert!(!r.is_minor(Some(d(2010, 12, 5))), "16 today");
    assert!(r.is_minor(Some(d(2010, 12, 6))), "16 tomorrow");
    assert!(
        r.is_minor(Some(d(2027, 1, 1))),
        "born after the day: a data error, a minor"
    );
    assert!(!MinorRule::new(0, send_day()).is_minor(Some(d(2026, 1, 1))));
    assert!(MinorRule::new(18, send_day()).is_minor(Some(d(2009, 1, 1))));
    // Born on 29 February: a year older on 1 March in a common year.
    assert_eq!(age_on(d(2012, 2, 29), d(2028, 2, 28)), Some(15));
    assert_eq!(age_on(d(2012, 2, 29), d(2028, 2, 29)), Some(16));
    assert_eq!(age_on(d(2011, 2, 28), d(2027, 2, 28)), Some(16));
}

#[test]
fn salutation_and_address_block_for_guardians() {
    let fam = families();
    let tim = &fam[1].person;
    let s = |g: &Guardian, lang| {
        let mut out = String::new();
        push_guardian_anrede(&mut out, tim, g, lang);
        out
    };
    let anna = &tim.guardians[0];
    assert_eq!(s(anna, Language::De), "Sehr geehrte Frau Weber");
    assert_eq!(s(anna, Language::En), "Dear Ms Weber");
    let parents = &fam[8].person.guardians[0];
    assert_eq!(s(parents, Language::De), "Liebe Eltern von Tim Weber");
    assert_eq!(s(parents, Language::En), "Dear parents of Tim Weber");
    assert_eq!(
        guardian_address_block(&fam[8].person, parents),
        [
            "An die Eltern von",
            "Tim Weber",
            "Lindenweg 3",
            "50667 Köln"
        ]
    );
    // The child's own salutation is not the guardian's.
    let mut child = tim.clone();
    child.salutation = "Hallo Tim".into();
    child.du = true;
    assert_eq!(anrede(&child, Language::De), "Hallo Tim");
    let mut out = String::new();
    push_guardian_anrede(&mut out, &child, anna, Language::De);
    assert_eq!(out, "Sehr geehrte Frau Weber");
}

#[test]
fn the_context_of_a_message_to_a_guardian() {
    let fam = families();
    let mut tim = fam[1].person.clone();
    tim.du = true;
    let practice = PracticeSettings::default();
    let ctx = build_context_to(
        ContextInput {
            person: &tim,
            practice: &practice,
            appointment: None,
            channel: Channel::Letter,
            language: Language::De,
            today: send_day(),
            unsubscribe_link: None,
        },
        Some(&tim.guardians[0]),
    );
    let json = serde_json::to_string(&ctx).unwrap();
    assert!(json.contains("Sehr geehrte Frau Weber"), "{json}");
    assert!(json.contains("Frau\\nAnna Weber\\nLindenweg 3"), "{json}");
    // The names are the child's; "Du" is the child's, not the parents'.
    assert!(json.contains(r#""vorname":"Tim""#), "{json}");
    assert!(!json.contains(r#""du":"ja""#), "{json}");
    // The birth date never reaches a message.
    assert!(!json.contains("2015"), "{json}");
}
