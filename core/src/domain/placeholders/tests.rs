use super::*;
use crate::domain::model::{
    Appointment, AppointmentId, AppointmentStatus, Gender, Person, PersonId, PostalAddress,
};
use crate::domain::template::Language;
use chrono::NaiveDate;

fn input_parts() -> (Person, PracticeSettings, Appointment) {
    let person = Person {
        id: PersonId("p1".into()),
        title: "Dr.".into(),
        first_name: "Anna".into(),
        last_name: "Müller".into(),
        gender: Gender::Female,
        address: PostalAddress {
            street: "Lindenstraße".into(),
            house_number: "12".into(),
            postcode: "10115".into(),
            city: "Berlin".into(),
            ..Default::default()
        },
        email: "anna@example.org".into(),
        mobile: "+4917112345678".into(),
        ..Default::default()
    };
    let practice = PracticeSettings {
        name: "Praxis Sonnenschein".into(),
        phone: "030 1234567".into(),
        ..Default::default()
    };
    let start = NaiveDate::from_ymd_opt(2026, 11, 27)
        .unwrap()
        .and_hms_opt(14, 30, 0)
        .unwrap();
    let appt = Appointment {
        id: AppointmentId("a1".into()),
        person_id: PersonId("p1".into()),
        start,
        end: start + chrono::Duration::minutes(30),
        therapist: "Frau Weber".into(),
        location: "Raum 2".into(),
        kind: "Physiotherapie".into(),
        status: AppointmentStatus::Planned,
    };
    (person, practice, appt)
}

#[test]
fn catalogue_per_channel() {
    let names = |c, a: bool| {
        catalogue(
            c,
            Availability {
                appointments: a,
                therapist_names: false,
            },
        )
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
    };
    assert!(names(Channel::Letter, false).contains(&"anschrift"));
    assert!(!names(Channel::Sms, false).contains(&"anschrift"));
    assert!(!names(Channel::Email, false).contains(&"anschrift"));
    assert!(names(Channel::Email, false).contains(&"abmeldelink"));
    assert!(!names(Channel::Letter, false).contains(&"abmeldelink"));
    assert!(!names(Channel::Sms, false).contains(&"termin.datum"));
    assert!(names(Channel::Sms, true).contains(&"termin.datum"));
    assert!(CATALOGUE.iter().all(|p| !p.description.is_empty()));
    assert_eq!(
        catalogue(
            Channel::Sms,
            Availability {
                appointments: true,
                therapist_names: false
            }
        )[0]
        .insert_text(),
        "{{ anrede }}"
    );
}

#[test]
fn context_holds_only_channel_values() {
    let (person, practice, appt) = input_parts();
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    for channel in Channel::ALL {
        let ctx = build_context(ContextInput {
            person: &person,
            practice: &practice,
            appointment: Some(&appt),
            channel,
            language: Language::De,
            today,
            unsubscribe_link: Some("https://x.example/u/T"),
        });
        let all: String = ctx.iter().map(|(_, v)| v).collect();
        assert!(!all.contains("anna@example.org"), "{channel:?}");
        assert!(!all.contains("4917112345678"), "{channel:?}");
        assert_eq!(all.contains("Lindenstraße"), channel == Channel::Letter);
        assert_eq!(ctx.get("abmeldelink").is_some(), channel == Channel::Email);
        assert_eq!(ctx.get("termin.wochentag"), Some("Freitag"));
        assert_eq!(ctx.get("termin.uhrzeit"), Some("14:30"));
        assert_eq!(ctx.get("termin.ende"), Some("15:00"));
        assert_eq!(ctx.get("heute"), Some("26.11.2026"));
        assert_eq!(ctx.get("anrede"), Some("Sehr geehrte Frau Dr. Müller"));
    }
}

#[test]
fn forbidden_reasons() {
    let r = forbidden_reason("geburtsdatum", Channel::Email).unwrap();
    assert_eq!(
        r,
        "Geburtsdatum ist beim Serienversand aus Datenschutzgründen nicht verfügbar."
    );
    assert!(forbidden_reason("telefon", Channel::Letter)
        .unwrap()
        .contains("im Brief"));
    assert!(forbidden_reason("anschrift", Channel::Sms)
        .unwrap()
        .contains("bei SMS"));
    assert_eq!(forbidden_reason("anschrift", Channel::Letter), None);
    assert_eq!(forbidden_reason("vorname", Channel::Sms), None);
    assert!(forbidden_reason("diagnose.text", Channel::Letter).is_some());
}

fn context_with(practice: &PracticeSettings, channel: Channel) -> MessageContext {
    let (person, _, appt) = input_parts();
    build_context(ContextInput {
        person: &person,
        practice,
        appointment: Some(&appt),
        channel,
        language: Language::De,
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        unsubscribe_link: None,
    })
}

#[test]
fn no_appointment_type_and_no_therapist_by_default() {
    let (_, practice, appt) = input_parts();
    for channel in Channel::ALL {
        let ctx = context_with(&practice, channel);
        let all: Vec<&str> = ctx.iter().map(|(_, v)| v).collect();
        assert!(!all.contains(&appt.kind.as_str()), "{channel:?}: {all:?}");
        assert!(
            !all.iter().any(|v| v.contains("Weber")),
            "{channel:?}: {all:?}"
        );
        assert_eq!(ctx.get("termin.bezeichnung"), Some("Termin"));
        assert_eq!(ctx.get("termin.behandler"), None);
        assert_eq!(ctx.get("termin.art"), None);
    }
}

#[test]
fn label_and_therapist_follow_the_practice_settings() {
    let (_, mut practice, _) = input_parts();
    set_message_label(&mut practice, "Physiotherapie", "Kurs Rückenschule");
    practice.therapist_in_messages = true;
    let ctx = context_with(&practice, Channel::Sms);
    assert_eq!(ctx.get("termin.bezeichnung"), Some("Kurs Rückenschule"));
    assert_eq!(ctx.get("termin.behandler"), Some("Frau Weber"));
    let names = |a: Availability| {
        catalogue(Channel::Sms, a)
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
    };
    let on = Availability::new(true, &practice);
    assert!(names(on).contains(&"termin.behandler"));
    practice.therapist_in_messages = false;
    let off = Availability::new(true, &practice);
    assert!(!names(off).contains(&"termin.behandler"));
    assert!(names(off).contains(&"termin.bezeichnung"));
    assert!(!CATALOGUE.iter().any(|p| p.name == "termin.art"));
}

#[test]
fn appointment_type_names_are_forbidden_with_a_pointer_to_the_label() {
    for name in ["termin.art", "termin.typ", "terminart", "Termin.Art"] {
        let r = forbidden_reason(name, Channel::Sms).unwrap_or_default();
        assert!(r.contains("termin.bezeichnung"), "{name}: {r}");
    }
    assert_eq!(forbidden_reason("termin.bezeichnung", Channel::Sms), None);
}

#[test]
fn engine_view_and_json_hold_the_same_values() {
    let (_, practice, _) = input_parts();
    let ctx = context_with(&practice, Channel::Letter);
    let json = serde_json::to_value(&ctx).unwrap();
    let values = json["values"].as_object().unwrap();
    assert_eq!(values.len(), ctx.iter().count());
    for (k, v) in ctx.iter() {
        assert_eq!(values[k], v, "{k}");
    }
    let back = MessageContext::from_pairs(
        Channel::Letter,
        values
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())),
    );
    assert_eq!(back, ctx);
    // The SMS channel drops the address block.
    let sms = MessageContext::from_pairs(Channel::Sms, ctx.iter());
    assert_eq!(sms.get("anschrift"), None);
    let env = minijinja::Environment::new();
    let out = env
        .render_str(
            "{{ praxis.name }}|{{ termin.datum }}|{{ vorname }}|{{ praxis|list|join(',') }}",
            ctx.to_value(),
        )
        .unwrap();
    assert_eq!(
        out,
        "Praxis Sonnenschein|27.11.2026|Anna|name,telefon,email,adresse,webseite"
    );
}
