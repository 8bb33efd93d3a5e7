//! The leak property: whatever template a user writes, no value outside the channel's
//! catalogue ever reaches the output. Every forbidden field is filled with a sentinel — among
//! them the appointment type (treatment data), the therapist (the practice has not switched
//! therapist names on), the insurance kind, the profession and the birth date (year, and day
//! and month in every printed form) — and many generated templates try to reach them (loops
//! over the context, `|tojson`, `|pprint`, `debug()`, attribute and item access, macros,
//! includes). Errors are fine, leaks are not. `the_detector_catches_every_sentinel` proves
//! that each sentinel, printed the way a leak would print it, is caught.
#![cfg(not(target_arch = "wasm32"))]

use chrono::NaiveDate;
use praxisbote_core::domain::placeholders::{
    build_context, format_date, format_date_long, ContextInput, MessageContext,
};
use praxisbote_core::domain::render::Renderer;
use praxisbote_core::domain::template::Language;
use praxisbote_core::domain::{
    Appointment, AppointmentId, AppointmentStatus, Channel, Consents, Evidence, Gender,
    InsuranceKind, Kind, Person, PersonId, PersonRecord, PostalAddress, PracticeSettings, Purpose,
    SenderNames, Sensitive,
};
use proptest::prelude::*;

/// Every string sentinel contains this marker (checked case-insensitively, so `|upper` /
/// `|lower` cannot hide it).
const MARK: &str = "sentinel";
/// The appointment type: treatment data, never in a message.
const APPOINTMENT_TYPE: &str = "Lymphdrainage SENTINEL_TERMINART";
/// The therapist: not in a message while "Behandlername in Nachrichten" is off.
const THERAPIST: &str = "Frau SENTINEL_BEHANDLER";
/// Insurance kind of the record: private.
const INSURANCE: InsuranceKind = InsuranceKind::Private;

fn birth_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1911, 7, 19).unwrap()
}

/// What no output may contain (lower case): the marker, the appointment type's words, the
/// insurance kind, and the birth date's year and its day and month as dates are printed.
/// No other date of the context (today 26.11., appointment 27.11.) shares day and month.
const FORBIDDEN: &[&str] = &[
    MARK,
    "lymphdrainage",
    "privat",
    "1911",
    "19.07",
    "19.7.",
    "07-19",
    "19/07",
    "07/19",
    "19. juli",
    "19 july",
    "july 19",
];

fn record(channel: Channel) -> PersonRecord {
    let mut consents = Consents::default();
    consents.grant(
        Channel::Sms,
        Purpose::Recall,
        NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        Evidence::WrittenForm,
    );
    let address = if channel == Channel::Letter {
        // The letter may print the address, so it holds ordinary values there.
        PostalAddress {
            street: "Lindenstraße".into(),
            house_number: "12".into(),
            extra: String::new(),
            postcode: "10115".into(),
            city: "Berlin".into(),
            country: String::new(),
        }
    } else {
        PostalAddress {
            street: "SENTINEL_STRASSE".into(),
            house_number: "SENTINEL_HNR".into(),
            extra: "SENTINEL_ZUSATZ".into(),
            postcode: "SENTINEL_PLZ".into(),
            city: "SENTINEL_ORT".into(),
            country: "SENTINEL_LAND".into(),
        }
    };
    PersonRecord {
        person: Person {
            id: PersonId("SENTINEL_ID".into()),
            kind: Kind::Patient,
            title: "Dr.".into(),
            first_name: "Anna".into(),
            last_name: "Müller".into(),
            gender: Gender::Female,
            address,
            email: "SENTINEL_EMAIL@example.org".into(),
            mobile: "+49171SENTINEL".into(),
            landline: "030SENTINEL".into(),
            tags: vec!["SENTINEL_TAG".into()],
            consents,
            external_id: Some("SENTINEL_EXTERN".into()),
            // Salutation and the Du flag are meant for templates: no sentinel.
            salutation: String::new(),
            du: true,
            guardians: Vec::new(),
        },
        sensitive: Sensitive {
            birth_date: Some(birth_date()),
            profession: "SENTINEL_BERUF".into(),
            insurance_kind: INSURANCE,
            insurance_number: "SENTINEL_VERSICHERUNG".into(),
        },
    }
}

/// The practice; with `labelled`, it gave the appointment type a message label of its own.
fn practice(labelled: bool) -> PracticeSettings {
    let mut appointment_labels = std::collections::BTreeMap::new();
    appointment_labels.insert("Rückenschule".to_string(), "Kurs Rückenschule".to_string());
    if labelled {
        appointment_labels.insert(
            APPOINTMENT_TYPE.to_string(),
            "Behandlungstermin".to_string(),
        );
    }
    PracticeSettings {
        name: "Praxis Sonnenschein".into(),
        address: PostalAddress {
            street: "Lindenallee".into(),
            house_number: "5".into(),
            postcode: "10115".into(),
            city: "Berlin".into(),
            ..Default::default()
        },
        phone: "030 1234567".into(),
        email: "info@praxis.example".into(),
        web: "https://praxis.example".into(),
        sender_names: SenderNames {
            email_from_name: "SENTINEL_FROM".into(),
            sms_sender_id: "SENTINEL_SID".into(),
            letter_contact: "SENTINEL_KONTAKT".into(),
        },
        bank_details: "SENTINEL_BANK".into(),
        letter_form: Default::default(),
        appointment_labels,
        therapist_in_messages: false,
        minor_age: 16,
    }
}

fn appointment() -> Appointment {
    let start = NaiveDate::from_ymd_opt(2026, 11, 27)
        .unwrap()
        .and_hms_opt(14, 30, 0)
        .unwrap();
    Appointment {
        id: AppointmentId("SENTINEL_TERMIN_ID".into()),
        person_id: PersonId("SENTINEL_ID".into()),
        start,
        end: start + chrono::Duration::minutes(30),
        therapist: THERAPIST.into(),
        location: "Raum 2".into(),
        kind: APPOINTMENT_TYPE.into(),
        status: AppointmentStatus::Cancelled,
    }
}

fn context(channel: Channel, language: Language, with_appt: bool) -> MessageContext {
    labelled_context(channel, language, with_appt, false)
}

fn labelled_context(
    channel: Channel,
    language: Language,
    with_appt: bool,
    labelled: bool,
) -> MessageContext {
    let rec = record(channel);
    let practice = practice(labelled);
    let appt = appointment();
    build_context(ContextInput {
        // The privacy invariant under test: only the `Person` part goes in.
        person: &rec.person,
        practice: &practice,
        appointment: with_appt.then_some(&appt),
        channel,
        language,
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        unsubscribe_link: Some("https://praxis.example/u/tok"),
    })
}

/// Every name a template author (or attacker) might try.
const NAMES: &[&str] = &[
    "anrede",
    "titel",
    "vorname",
    "nachname",
    "name",
    "praxis",
    "termin",
    "heute",
    "anschrift",
    "abmeldelink",
    "geburtsdatum",
    "geburtstag",
    "beruf",
    "versicherung",
    "versichertennummer",
    "versicherungsnummer",
    "diagnose",
    "anamnese",
    "therapie",
    "befund",
    "behandlung",
    "telefon",
    "mobil",
    "email",
    "adresse",
    "strasse",
    "plz",
    "ort",
    "person",
    "sensitive",
    "record",
    "birth_date",
    "profession",
    "insurance_number",
    "insurance_kind",
    "versicherungsart",
    "art",
    "terminart",
    "typ",
    "behandler",
    "therapist",
    "bezeichnung",
    "location",
    "mobile",
    "landline",
    "tags",
    "external_id",
    "id",
    "consents",
    "address",
    "street",
    "city",
    "bank_details",
    "sender_names",
    "status",
    "person_id",
    "kind",
    "self",
    "loop",
    "context",
    "__context__",
    "_",
    "env",
    "globals",
    "config",
];
const OBJECTS: &[&str] = &[
    "praxis",
    "termin",
    "self",
    "namespace()",
    "vorname",
    "anschrift",
];

const FRAGMENTS: &[&str] = &[
    "{{ debug() }}",
    "{{ debug(praxis, termin) }}",
    "{{ praxis|tojson }}",
    "{{ termin|tojson }}",
    "{{ praxis|pprint }}",
    "{{ termin|pprint }}",
    "{{ praxis|items|list }}",
    "{{ praxis|dictsort }}",
    "{{ termin|list }}",
    "{% for k in praxis %}{{ k }}={{ praxis[k] }};{% endfor %}",
    "{% for k, v in termin|items %}{{ k }}={{ v|tojson }};{% endfor %}",
    "{% for x in range(3) %}{{ loop|tojson }}{% endfor %}",
    "{{ self }}",
    "{{ self|tojson }}",
    "{% macro m(x) %}{{ x|tojson }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(praxis, termin, a=vorname) }}",
    "{% macro r(n) %}{{ debug() }}{% if n < 3 %}{{ r(n + 1) }}{% endif %}{% endmacro %}{{ r(0) }}",
    "{% call(x) m2() %}{{ x }}{% endcall %}",
    "{% include 'person' %}",
    "{% include ['sensitive', 'record'] ignore missing %}",
    "{% import 'sensitive' as s %}{{ s }}",
    "{% from 'sensitive' import birth_date %}{{ birth_date }}",
    "{% extends 'base' %}",
    "{% set ns = namespace(p=praxis, t=termin) %}{{ ns|tojson }}",
    "{{ praxis.__dict__ }}",
    "{{ vorname.__class__ }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ praxis['bank_details'] }}",
    "{{ termin['status'] }}{{ termin.id }}{{ termin.person_id }}",
    "{{ termin.art }}{{ termin.kind }}{{ termin.typ }}",
    "{{ termin.behandler }}{{ termin.therapist }}",
    "{{ termin.bezeichnung }} {{ termin['kind'] }} {{ termin|attr('therapist') }}",
    "{% if termin.behandler is defined %}{{ termin.behandler }}{% endif %}",
    "{{ termin.bezeichnung|tojson }}{{ termin.wochentag }}",
    "{{ anschrift|tojson }}",
    "{{ heute|datum('lang') }} {{ heute|wochentag }}",
    "{{ (praxis|tojson)|upper }}",
    "{{ praxis|attr('bank_details') }}",
    "{{ praxis|string }}",
    "{{ [praxis, termin]|tojson }}",
    "{{ dict(a=praxis)|tojson }}",
    "{{ vorname|safe }}<b>{{ nachname }}</b>",
    "{% filter upper %}{{ debug() }}{% endfilter %}",
    "{% set x %}{{ debug() }}{% endset %}{{ x }}",
    "{% autoescape false %}{{ praxis }}{% endautoescape %}",
    "{% with a = praxis %}{{ a|tojson }}{% endwith %}",
    "{{ range(100000)|join }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
];

fn fragment() -> impl Strategy<Value = String> {
    let name = prop::sample::select(NAMES);
    let obj = prop::sample::select(OBJECTS);
    prop_oneof![
        3 => prop::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => name.clone().prop_map(|n| format!("{{{{ {n} }}}}")),
        1 => (obj.clone(), name.clone()).prop_map(|(o, n)| format!("{{{{ {o}.{n} }}}}")),
        1 => (obj.clone(), name.clone()).prop_map(|(o, n)| format!("{{{{ {o}['{n}'] }}}}")),
        1 => (obj.clone(), name.clone()).prop_map(|(o, n)| format!("{{{{ {o}|attr('{n}')|tojson }}}}")),
        1 => name.clone().prop_map(|n| format!("{{% for x in {n} %}}{{{{ x }}}}{{% endfor %}}")),
        1 => name.prop_map(|n| format!("{{{{ {n}|default('d')|tojson }}}}")),
        1 => "[a-zA-Z {}%|.'()\\[\\]_=]{0,24}",
    ]
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(&Channel::ALL[..])
}

/// The first forbidden string in `text`, if any.
fn leak(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    FORBIDDEN.iter().copied().find(|f| lower.contains(f))
}

fn assert_no_leak(what: &str, text: &str, template: &str) {
    if let Some(f) = leak(text) {
        panic!("LEAK ({f}) in {what}\ntemplate: {template}\noutput: {text}");
    }
}

fn check(template: &str, channel: Channel, language: Language, with_appt: bool) {
    check_labelled(template, channel, language, with_appt, false);
}

fn check_labelled(
    template: &str,
    channel: Channel,
    language: Language,
    with_appt: bool,
    labelled: bool,
) {
    let ctx = labelled_context(channel, language, with_appt, labelled);
    let r = Renderer::new(language);
    match r.render(template, &ctx) {
        Ok(out) => assert_no_leak("text", &out, template),
        Err(e) => assert_no_leak("text error", &e.message, template),
    }
    match r.render_html(template, &ctx) {
        Ok(out) => assert_no_leak("html", &out, template),
        Err(e) => assert_no_leak("html error", &e.message, template),
    }
}

#[test]
fn the_context_itself_holds_no_sentinel() {
    for ch in Channel::ALL {
        for lang in Language::ALL {
            for labelled in [false, true] {
                let ctx = labelled_context(ch, lang, true, labelled);
                for (k, v) in ctx.iter() {
                    assert_no_leak(k, v, "-");
                }
                let label = ctx.get("termin.bezeichnung");
                let want = match (labelled, lang) {
                    (true, _) => "Behandlungstermin",
                    (false, Language::De) => "Termin",
                    (false, Language::En) => "Appointment",
                };
                assert_eq!(label, Some(want));
            }
        }
    }
}

/// The detector must catch each sentinel printed the way a leak would print it; otherwise
/// the property below could pass while data leaks.
#[test]
fn the_detector_catches_every_sentinel() {
    let rec = record(Channel::Sms);
    let b = birth_date();
    let mut printed: Vec<String> = vec![
        APPOINTMENT_TYPE.into(),
        "Lymphdrainage".into(),
        THERAPIST.into(),
        rec.sensitive.profession.clone(),
        rec.sensitive.insurance_number.clone(),
        INSURANCE.label_de().into(),
        format!("{INSURANCE:?}"),
        serde_json::to_string(&INSURANCE).unwrap(),
        b.to_string(),
        serde_json::to_string(&rec.sensitive).unwrap(),
        "19.07.".into(),
        "am 19.7. geboren".into(),
    ];
    for lang in Language::ALL {
        printed.push(format_date(b, lang));
        printed.push(format_date_long(b, lang));
        // Day and month without the year (a birthday greeting "zum 19.07." would leak them).
        let without_year = format_date(b, lang);
        printed.push(without_year[..5].to_string());
    }
    printed.push("July 19".into());
    for p in &printed {
        assert!(leak(p).is_some(), "not caught: {p}");
        assert!(leak(&p.to_uppercase()).is_some(), "not caught: {p}");
    }
    // And nothing an allowed context prints is caught.
    for ch in Channel::ALL {
        for lang in Language::ALL {
            let out = Renderer::new(lang)
                .render(
                    "{{ debug() }}{{ praxis|tojson }}{{ termin|tojson }}",
                    &context(ch, lang, true),
                )
                .unwrap();
            assert_eq!(leak(&out), None, "{out}");
        }
    }
}

#[test]
fn every_fragment_alone_on_every_channel() {
    let mut rendered_ok = 0;
    for f in FRAGMENTS {
        for ch in Channel::ALL {
            for appt in [false, true] {
                check(f, ch, Language::De, appt);
                if Renderer::new(Language::De)
                    .render(f, &context(ch, Language::De, appt))
                    .is_ok()
                {
                    rendered_ok += 1;
                }
            }
        }
    }
    // The test is only meaningful if many of the probes actually render.
    assert!(
        rendered_ok > FRAGMENTS.len() * 2,
        "only {rendered_ok} renders succeeded"
    );
}

#[test]
fn dumps_do_render_the_allowed_values() {
    // Sanity check that the probes reach the context at all: a dump shows allowed values.
    let ctx = context(Channel::Email, Language::De, true);
    let out = Renderer::new(Language::De)
        .render("{{ debug() }}{{ praxis|tojson }}{{ termin|tojson }}", &ctx)
        .unwrap();
    assert!(out.contains("Praxis Sonnenschein"), "{out}");
    assert!(out.contains("abmeldelink"), "{out}");
    assert!(out.contains("\"bezeichnung\": \"Termin\""), "{out}");
    assert!(out.contains("Raum 2"), "{out}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn generated_templates_never_leak(
        parts in prop::collection::vec(fragment(), 1..8),
        channel in channel(),
        en in any::<bool>(),
        with_appt in any::<bool>(),
        labelled in any::<bool>(),
    ) {
        let template = parts.join("\n");
        let language = if en { Language::En } else { Language::De };
        check_labelled(&template, channel, language, with_appt, labelled);
    }
}
