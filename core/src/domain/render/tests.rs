use super::*;
use crate::domain::model::{Gender, Person, PracticeSettings, Purpose};
use crate::domain::placeholders::{build_context, Availability, ContextInput};
use chrono::NaiveDate;

fn ctx(channel: Channel) -> MessageContext {
    let person = Person {
        first_name: "Anna".into(),
        last_name: "Müller".into(),
        gender: Gender::Female,
        ..Default::default()
    };
    let practice = PracticeSettings {
        name: "Praxis Sonnenschein".into(),
        ..Default::default()
    };
    build_context(ContextInput {
        person: &person,
        practice: &practice,
        appointment: None,
        channel,
        language: Language::De,
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        unsubscribe_link: Some("https://praxis.example/u/abc"),
    })
}

fn avail(appointments: bool) -> Availability {
    Availability {
        appointments,
        therapist_names: false,
    }
}

#[test]
fn therapist_names_follow_the_setting() {
    let on = Availability {
        appointments: true,
        therapist_names: true,
    };
    let src = "bei {{ termin.behandler }}";
    assert!(validate_source(src, Channel::Sms, on, TemplatePart::Body).is_empty());
    let errs = validate_source(src, Channel::Sms, avail(true), TemplatePart::Body);
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].message,
        "Text, Zeile 1, Spalte 8: Platzhalter „termin.behandler“ – Behandlernamen erscheinen in \
         Nachrichten nur, wenn „Behandlername in Nachrichten“ in den Einstellungen eingeschaltet \
         ist."
    );
    let errs = validate_source("{{ termin.art }}", Channel::Sms, on, TemplatePart::Body);
    assert!(
        errs[0].message.contains("termin.bezeichnung"),
        "{}",
        errs[0].message
    );
}

#[test]
fn geburtsdatum_is_rejected_with_position_and_reason() {
    let errs = validate_source(
        "Hallo {{ vorname }},\nalles Gute zum {{ geburtsdatum }}!",
        Channel::Email,
        avail(false),
        TemplatePart::Body,
    );
    assert_eq!(errs.len(), 1);
    let e = &errs[0];
    assert_eq!(e.kind, TemplateErrorKind::Forbidden);
    assert_eq!((e.line, e.column), (2, 19));
    assert_eq!(e.placeholder.as_deref(), Some("geburtsdatum"));
    assert_eq!(
        e.message,
        "Text, Zeile 2, Spalte 19: Platzhalter „geburtsdatum“ – Geburtsdatum ist beim \
         Serienversand aus Datenschutzgründen nicht verfügbar."
    );
}

#[test]
fn validation_table() {
    use TemplateErrorKind::*;
    let cases: &[(&str, Channel, bool, &[TemplateErrorKind])] = &[
        ("{{ anrede }}, {{ praxis.name }}", Channel::Sms, false, &[]),
        ("{{ telefon }}", Channel::Letter, false, &[Forbidden]),
        ("{{ email }}", Channel::Letter, false, &[Forbidden]),
        ("{{ anschrift }}", Channel::Sms, false, &[NotInChannel]),
        ("{{ anschrift }}", Channel::Letter, false, &[]),
        ("{{ abmeldelink }}", Channel::Sms, false, &[NotInChannel]),
        ("{{ abmeldelink }}", Channel::Email, false, &[]),
        // Treatment data: the appointment type is never available, the label is.
        ("{{ termin.art }}", Channel::Sms, true, &[Forbidden]),
        ("{{ termin.typ }}", Channel::Letter, true, &[Forbidden]),
        ("{{ terminart }}", Channel::Email, true, &[Forbidden]),
        ("{{ termin.bezeichnung }}", Channel::Sms, true, &[]),
        // The therapist only when the practice switched it on.
        (
            "{{ termin.behandler }}",
            Channel::Sms,
            true,
            &[TherapistOff],
        ),
        (
            "{% if termin.behandler %}x{% endif %}",
            Channel::Email,
            true,
            &[TherapistOff],
        ),
        (
            "{{ termin.datum }}",
            Channel::Sms,
            false,
            &[NeedsAppointment],
        ),
        ("{{ termin.datum }}", Channel::Sms, true, &[]),
        ("{{ termin.farbe }}", Channel::Sms, true, &[Unknown]),
        ("{{ termin['datum'] }}", Channel::Sms, true, &[]),
        ("{{ lieblingsfarbe }}", Channel::Email, false, &[Unknown]),
        ("{{ debug() }}", Channel::Email, false, &[Unknown]),
        (
            "{{ versicherungsnummer }}",
            Channel::Email,
            false,
            &[Forbidden],
        ),
        ("{{ diagnose }}", Channel::Letter, false, &[Forbidden]),
        (
            "{% for k in beruf %}{{ k }}{% endfor %}",
            Channel::Letter,
            false,
            &[Forbidden],
        ),
        (
            "{{ vorname|upper }} {{ heute|datum('lang') }}",
            Channel::Letter,
            false,
            &[],
        ),
        ("{% set x = vorname %}{{ x }}", Channel::Letter, false, &[]),
        ("{% include 'x' %}", Channel::Letter, false, &[Include]),
        ("{{ vorname ", Channel::Letter, false, &[Syntax]),
        (
            "{# {{ geburtsdatum }} #}{{ vorname }}",
            Channel::Letter,
            false,
            &[],
        ),
        (
            "{% raw %}{{ geburtsdatum }}{% endraw %}",
            Channel::Letter,
            false,
            &[],
        ),
    ];
    for (src, ch, appt, kinds) in cases {
        let got: Vec<_> = validate_source(src, *ch, avail(*appt), TemplatePart::Body)
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(&got, kinds, "{src} ({ch:?}, appointments: {appt})");
    }
}

#[test]
fn positions_of_attributes() {
    let errs = validate_source(
        "Termin:\n  am {{ termin.datum }} um {{ termin.foo }}",
        Channel::Sms,
        avail(true),
        TemplatePart::Body,
    );
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].line, errs[0].column), (2, 31));
}

#[test]
fn filters() {
    let r = Renderer::new(Language::De);
    let c = ctx(Channel::Sms);
    let out = r
        .render(
            "{{ heute|datum('lang') }} {{ heute|wochentag }} {{ '2026-11-27T09:05'|uhrzeit }} {{ '2026-11-27'|datum }}",
            &c,
        )
        .unwrap();
    assert_eq!(out, "26. November 2026 Donnerstag 09:05 27.11.2026");
    let en = Renderer::new(Language::En);
    assert_eq!(
        en.render(
            "{{ '2026-11-27'|datum('lang') }}, {{ '27.11.2026'|wochentag }}",
            &c
        )
        .unwrap(),
        "27 November 2026, Friday"
    );
    assert!(r.render("{{ vorname|datum }}", &c).is_err());
}

#[test]
fn strict_undefined_and_limits_give_german_errors() {
    let r = Renderer::new(Language::De);
    let c = ctx(Channel::Sms);
    let e = r.render("{{ termin.datum }}", &c).unwrap_err();
    assert!(
        e.message
            .starts_with("„termin.datum“ hat für diesen Empfänger keinen Wert"),
        "{}",
        e.message
    );
    let e = r
        .render(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            &c,
        )
        .unwrap_err();
    assert!(e.message.contains("zu aufwendig"), "{}", e.message);
    let e = r
        .render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", &c)
        .unwrap_err();
    assert!(
        e.message.contains("verschachtelt") || e.message.contains("zu aufwendig"),
        "{}",
        e.message
    );
    let e = r.render("{% include 'anything' %}", &c).unwrap_err();
    assert!(e.message.contains("Einbinden"), "{}", e.message);
}

#[test]
fn html_part_escapes_values_and_formats_text() {
    let person = Person {
        first_name: "<script>alert(1)</script>".into(),
        last_name: "**Fett**".into(),
        gender: Gender::Female,
        ..Default::default()
    };
    let practice = PracticeSettings::default();
    let c = build_context(ContextInput {
        person: &person,
        practice: &practice,
        appointment: None,
        channel: Channel::Email,
        language: Language::De,
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        unsubscribe_link: Some("https://praxis.example/u/abc?x=1&y=2"),
    });
    let r = Renderer::new(Language::De);
    let html = r
        .render_html(
            "Hallo **{{ vorname }}** {{ nachname|safe }}\n\nAbmelden: {{ abmeldelink }}",
            &c,
        )
        .unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains("<strong>&lt;script"), "{html}");
    assert!(html.contains("**Fett**"), "{html}");
    assert!(
        html.contains("<a href=\"https://praxis.example/u/abc?x=1&amp;y=2\">"),
        "{html}"
    );
    assert!(!html.contains('\u{E000}'));
}

#[test]
fn warnings_for_empty_values_and_missing_appointment() {
    let t = Template {
        id: "t".into(),
        name: "t".into(),
        channel: Channel::Sms,
        purpose: Purpose::AppointmentReminder,
        language: Language::De,
        subject: String::new(),
        body: "{{ titel }} {{ vorname }} {{ termin.datum }}".into(),
        shipped: false,
        version: 1,
    };
    let w = recipient_warnings(&t, &ctx(Channel::Sms));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].message.contains("kein Termin"));
    assert_eq!(w[1].placeholder.as_deref(), Some("titel"));
}

/// A person's own salutation and the Du flag, through the context into every channel.
fn personal_ctx(channel: Channel, salutation: &str, du: bool) -> MessageContext {
    let person = Person {
        first_name: "Tim".into(),
        last_name: "Weber".into(),
        gender: Gender::Male,
        salutation: salutation.into(),
        du,
        ..Default::default()
    };
    let practice = PracticeSettings {
        name: "Praxis Sonnenschein".into(),
        ..Default::default()
    };
    build_context(ContextInput {
        person: &person,
        practice: &practice,
        appointment: None,
        channel,
        language: Language::De,
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        unsubscribe_link: Some("https://praxis.example/u/abc"),
    })
}

fn personal_template(channel: Channel) -> Template {
    Template {
        id: "t".into(),
        name: "Gruß".into(),
        channel,
        purpose: Purpose::AppointmentReminder,
        language: Language::De,
        subject: if channel == Channel::Sms {
            String::new()
        } else {
            "{% if du %}Dein{% else %}Ihr{% endif %} Termin".into()
        },
        body: "{{ anrede }},\n{% if du %}wir freuen uns auf dich.{% else %}wir freuen uns auf \
               Sie.{% endif %}"
            .into(),
        shipped: false,
        version: 1,
    }
}

#[test]
fn own_salutation_is_used_in_letter_email_and_sms() {
    let r = Renderer::new(Language::De);
    for channel in Channel::ALL {
        let t = personal_template(channel);
        assert_eq!(validate(&t, avail(false)), Ok(()), "{channel:?}");
        let m = r
            .render_message(&t, &personal_ctx(channel, "Hallo Tim", false))
            .unwrap();
        assert_eq!(
            m.body.lines().next(),
            Some("Hallo Tim,"),
            "{channel:?}: {}",
            m.body
        );
        assert!(m.body.contains("auf Sie."), "{channel:?}: {}", m.body);
        if let Some(html) = m.html {
            assert!(html.contains("Hallo Tim"), "{html}");
        }
        // Blank override: the salutation by etiquette.
        let m = r
            .render_message(&t, &personal_ctx(channel, "  ", false))
            .unwrap();
        assert!(
            m.body.starts_with("Sehr geehrter Herr Weber,"),
            "{channel:?}: {}",
            m.body
        );
    }
}

#[test]
fn du_flag_chooses_the_informal_variant() {
    let r = Renderer::new(Language::De);
    for channel in Channel::ALL {
        let t = personal_template(channel);
        let du = r
            .render_message(&t, &personal_ctx(channel, "Hallo Tim", true))
            .unwrap();
        assert!(du.body.contains("auf dich."), "{channel:?}: {}", du.body);
        let sie = r
            .render_message(&t, &personal_ctx(channel, "", false))
            .unwrap();
        assert!(sie.body.contains("auf Sie."), "{channel:?}: {}", sie.body);
        if channel != Channel::Sms {
            assert_eq!(du.subject.as_deref(), Some("Dein Termin"));
            assert_eq!(sie.subject.as_deref(), Some("Ihr Termin"));
        }
        // The flag survives the JSON trip to the template engine.
        let ctx = personal_ctx(channel, "", true);
        let back = MessageContext::from_pairs(channel, ctx.iter());
        assert_eq!(
            r.render("{% if du %}du{% else %}Sie{% endif %}", &back)
                .unwrap(),
            "du"
        );
        // An empty flag is no warning ("leer bei diesem Empfänger").
        assert!(recipient_warnings(&t, &personal_ctx(channel, "", false)).is_empty());
    }
}

#[test]
fn the_shipped_german_email_reminder_offers_the_du_form() {
    use crate::domain::model::{Appointment, AppointmentId, AppointmentStatus, PersonId};
    let t = crate::domain::template::shipped_template(&crate::domain::template::shipped_id(
        Language::De,
        Channel::Email,
        Purpose::AppointmentReminder,
    ))
    .unwrap();
    let start = NaiveDate::from_ymd_opt(2026, 11, 27)
        .unwrap()
        .and_hms_opt(14, 30, 0)
        .unwrap();
    let appt = Appointment {
        id: AppointmentId("t".into()),
        person_id: PersonId("p".into()),
        start,
        end: start + chrono::Duration::minutes(30),
        therapist: String::new(),
        location: String::new(),
        kind: "Massage".into(),
        status: AppointmentStatus::Planned,
    };
    let practice = PracticeSettings::default();
    let r = Renderer::new(Language::De);
    for (du, salutation, want, not) in [
        (
            true,
            "Hallo Tim",
            "Hallo Tim,\n\nwir erinnern dich an deinen nächsten Termin",
            "Sie",
        ),
        (
            false,
            "",
            "Sehr geehrter Herr Weber,\n\nwir erinnern Sie an Ihren nächsten Termin",
            "dich",
        ),
    ] {
        let person = Person {
            first_name: "Tim".into(),
            last_name: "Weber".into(),
            gender: Gender::Male,
            salutation: salutation.into(),
            du,
            ..Default::default()
        };
        let ctx = build_context(ContextInput {
            person: &person,
            practice: &practice,
            appointment: Some(&appt),
            channel: Channel::Email,
            language: Language::De,
            today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            unsubscribe_link: None,
        });
        let m = r.render_message(&t, &ctx).unwrap();
        assert!(m.body.starts_with(want), "{}", m.body);
        let reply = m.body.split("Praxisteam").next().unwrap();
        assert!(!reply.contains(&format!(" {not} ")), "{}", m.body);
    }
}
