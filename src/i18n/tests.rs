use super::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn keys(lang: Lang) -> BTreeSet<&'static str> {
    lang.catalogue().keys().copied().collect()
}

#[test]
fn both_catalogues_parse() {
    for lang in Lang::ALL {
        let entries = parse(lang.source()).unwrap_or_else(|e| panic!("{}: {e}", lang.code()));
        assert!(
            entries.len() > 50,
            "{}: only {} keys",
            lang.code(),
            entries.len()
        );
    }
}

#[test]
fn every_key_exists_in_every_language() {
    let mut problems = Vec::new();
    for a in Lang::ALL {
        for b in Lang::ALL {
            for key in keys(a).difference(&keys(b)) {
                problems.push(format!(
                    "key {key:?} is in {}.txt but missing in {}.txt",
                    a.code(),
                    b.code()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_value_is_empty() {
    let mut empty = Vec::new();
    for lang in Lang::ALL {
        for (key, value) in lang.catalogue() {
            if value.trim().is_empty() {
                empty.push(format!("{}.txt: {key}", lang.code()));
            }
        }
    }
    assert!(empty.is_empty(), "empty values: {empty:?}");
}

#[test]
fn placeholders_match_between_languages() {
    let mut problems = Vec::new();
    for (key, de) in Lang::De.catalogue() {
        if let Some(en) = Lang::En.catalogue().get(key) {
            let (pd, pe) = (placeholders(de), placeholders(en));
            if pd != pe {
                problems.push(format!("{key}: de has {pd:?}, en has {pe:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn parse_rejects_broken_lines_and_names_them() {
    let cases: &[(&'static str, &str)] = &[
        ("a = 1\nno equals sign\n", "line 2"),
        ("a = 1\nA.b = 2\n", "invalid key"),
        ("a = 1\n# c\na = 2\n", "duplicate key \"a\""),
        ("= x\n", "invalid key"),
    ];
    for (text, want) in cases {
        let err = parse(text).expect_err(text);
        assert!(err.contains(want), "{text:?}: {err}");
    }
    assert_eq!(
        parse("# comment\n\n a.b_1 =  x = y \n").unwrap(),
        vec![("a.b_1", "x = y")]
    );
}

#[test]
fn fill_replaces_named_placeholders() {
    let cases: &[(&str, &str)] = &[
        ("{n} Treffer", "42 Treffer"),
        ("{a}-{n}-{a}", "x-42-x"),
        ("kein Platzhalter", "kein Platzhalter"),
        ("{unbekannt} bleibt", "{unbekannt} bleibt"),
        ("offen {n", "offen {n"),
        ("", ""),
    ];
    for (template, want) in cases {
        assert_eq!(
            fill(template, &[("n", &42), ("a", &"x")]),
            *want,
            "{template}"
        );
    }
}

#[test]
fn placeholders_are_found() {
    assert_eq!(placeholders("{b} und {a}, {b}"), vec!["a", "b"]);
    assert_eq!(placeholders("keine"), Vec::<&str>::new());
    assert_eq!(placeholders("{ nicht } {x}"), vec!["x"]);
}

#[test]
fn t_follows_the_current_language_and_unknown_keys_show_as_themselves() {
    assert_eq!(t_in(Lang::De, "nav.patients"), "Patienten");
    assert_eq!(t_in(Lang::En, "nav.patients"), "Patients");
    assert_eq!(Lang::from_code("EN"), Some(Lang::En));
    assert_eq!(Lang::from_code("de"), Some(Lang::De));
    assert_eq!(Lang::from_code("fr"), None);
    // The language is per thread natively, so this does not disturb other tests.
    assert_eq!(lang(), Lang::De);
    set_lang(Lang::En);
    assert_eq!(lang(), Lang::En);
    assert_eq!(tf("persons.hits", &[("n", &3)]), "3 matches");
    set_lang(Lang::De);
    assert_eq!(tf("persons.hits", &[("n", &3)]), "3 Treffer");
    let missing = std::panic::catch_unwind(|| t_in(Lang::De, "gibt.es.nicht"));
    if cfg!(debug_assertions) {
        assert!(
            missing.is_err(),
            "a missing key must trip the debug assertion"
        );
    } else {
        assert_eq!(missing.unwrap(), "gibt.es.nicht");
    }
}

/// German enum labels in the catalogue equal the domain's `label_de()`, so German screens stay
/// exactly as they were.
#[test]
fn german_enum_labels_equal_the_domain_labels() {
    use crate::domain::template::Language;
    use crate::domain::*;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let keys_of = |src: &'static str| -> Vec<String> {
        keys_used_in(src)
            .into_iter()
            .filter(|k| k.starts_with("label."))
            .collect()
    };
    // Each mapping function is checked against label_de() through its variants.
    for k in Kind::ALL {
        pairs.push((k.label_de(), super::labels::kind(k)));
    }
    for g in Gender::ALL {
        pairs.push((g.label_de(), super::labels::gender(g)));
    }
    for c in Channel::ALL {
        pairs.push((c.label_de(), super::labels::channel(c)));
    }
    for p in Purpose::ALL {
        pairs.push((p.label_de(), super::labels::purpose(p)));
    }
    for e in Evidence::ALL {
        pairs.push((e.label_de(), super::labels::evidence(e)));
    }
    for s in ConsentSource::ALL {
        pairs.push((s.label_de(), super::labels::consent_source(s)));
    }
    for a in [ConsentAction::Granted, ConsentAction::Withdrawn] {
        pairs.push((a.label_de(), super::labels::consent_action(a)));
    }
    for i in InsuranceKind::ALL {
        pairs.push((i.label_de(), super::labels::insurance(i)));
    }
    for s in [
        AppointmentStatus::Planned,
        AppointmentStatus::Cancelled,
        AppointmentStatus::Done,
    ] {
        pairs.push((s.label_de(), super::labels::appointment_status(s)));
    }
    for e in [
        crate::domain::sms::Encoding::Gsm7,
        crate::domain::sms::Encoding::Ucs2,
    ] {
        pairs.push((e.label_de(), super::labels::sms_encoding(e)));
    }
    for d in [
        crate::wire::DeliveryState::Queued,
        crate::wire::DeliveryState::Sending,
        crate::wire::DeliveryState::Sent,
        crate::wire::DeliveryState::Failed,
        crate::wire::DeliveryState::Retrying,
        crate::wire::DeliveryState::Ambiguous,
    ] {
        pairs.push((d.label_de(), super::labels::delivery_state(d)));
    }
    for l in Language::ALL {
        pairs.push((l.label_de(), super::labels::template_language(l)));
    }
    for s in crate::domain::outbox::StateKind::ALL {
        pairs.push((s.label_de(), super::labels::state_kind(s)));
    }
    assert_eq!(lang(), Lang::De);
    for (domain, ui) in &pairs {
        assert_eq!(domain, ui);
    }
    // And every label key is used by exactly one variant (no copy-paste slip).
    let used = keys_of(include_str!("labels.rs"));
    assert_eq!(used.len(), pairs.len());
    let distinct: BTreeSet<_> = used.iter().collect();
    assert_eq!(distinct.len(), used.len(), "a label key is used twice");
    for k in &used {
        assert!(Lang::De.catalogue().contains_key(k.as_str()), "{k}");
    }
}

#[test]
fn keys_used_in_finds_calls() {
    let src = "view! { {t(\"a.b\")} {tf(\"c.d\", &[(\"n\", &1)])} }\n\
               tf(\n    \"e.f\",\n) fn test_it(x) { t (\"no\") } st(\"no.st\") t(key) \
               AppError::msg(\"g.h\", []) AppError::context(\n \"i.j\", e) i18n::msg(&e)";
    assert_eq!(keys_used_in(src), vec!["a.b", "c.d", "e.f", "g.h", "i.j"]);
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every key the UI code uses exists in every catalogue (names the file, key and language),
/// and every catalogue key is used somewhere.
#[test]
fn every_key_used_in_the_source_exists_and_none_is_unused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root.join("app"), &mut files);
    files.push(root.join("i18n/labels.rs"));
    files.push(root.join("i18n/review.rs"));
    files.push(root.join("i18n/import.rs"));
    files.push(root.join("i18n/outbox.rs"));
    files.push(root.join("i18n/query.rs"));
    files.push(root.join("i18n/render.rs"));
    let mut used = BTreeSet::new();
    let mut missing = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("read source");
        // Keys named as data (`UiMessage::key` of the UI's own errors, key tables).
        for lit in string_literals(&source) {
            if Lang::De.catalogue().contains_key(lit.text) {
                used.insert(lit.text.to_string());
            }
        }
        for key in keys_used_in(&source) {
            for lang in Lang::ALL {
                if !lang.catalogue().contains_key(key.as_str()) {
                    missing.push(format!(
                        "{}: key {key:?} missing in {}.txt",
                        file.strip_prefix(&root).unwrap_or(file).display(),
                        lang.code()
                    ));
                }
            }
            used.insert(key);
        }
    }
    // Keys of domain and storage messages (`UiMessage::key`) are string literals in
    // core/src/domain and src/storage.
    let mut domain_files = Vec::new();
    rust_files(&root.join("../core/src/domain"), &mut domain_files);
    rust_files(&root.join("storage"), &mut domain_files);
    for file in &domain_files {
        let source = std::fs::read_to_string(file).expect("read source");
        for lit in string_literals(&source) {
            let prefixed = lit.text.starts_with("domain.") || lit.text.starts_with("storage.");
            if prefixed && !lit.text.contains(' ') {
                used.insert(lit.text.to_string());
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    assert!(used.len() > 50, "the scan found only {} keys", used.len());
    let unused: Vec<_> = keys(Lang::De)
        .into_iter()
        .filter(|k| !used.contains(*k))
        .collect();
    assert!(unused.is_empty(), "catalogue keys used nowhere: {unused:?}");
}

#[test]
fn string_literals_are_found_with_their_context() {
    let src = "let a = \"eins\"; // \"kommentar\"\n/* \"block\" */ let c = '\"'; fn f<'a>() {}\n\
               let r = r#\"roh \"x\"\"#; let e = \"esc \\\" q\"; t(\"k.ey\")";
    let lits: Vec<(usize, &str)> = string_literals(src)
        .iter()
        .map(|l| (l.line, l.text))
        .collect();
    assert_eq!(
        lits,
        vec![
            (1, "eins"),
            (3, "roh \"x\""),
            (3, "esc \\\" q"),
            (3, "k.ey")
        ]
    );
}

#[test]
fn ui_text_is_told_apart_from_keys_attributes_and_developer_messages() {
    let cases: &[(&str, bool)] = &[
        ("view! { <p>\"Senden\"</p> }", true),
        ("view! { <p>\"noch keine Sendungen\"</p> }", true),
        ("format!(\"{n} Empfänger\")", true),
        ("x.ok_or(\"kein Dokument\")", true),
        ("<input aria-label=\"Suche\" />", true),
        ("<input placeholder=\"Name, Ort\" />", true),
        ("{t(\"send.title\")}", false),
        ("tf(\n    \"send.counts\", &[(\"n\", &n)])", false),
        ("<div class=\"card toolbar\">", false),
        ("<input type=\"checkbox\" />", false),
        ("<tr data-state=\"Warte Schlange\">", false),
        ("x.expect(\"shown only with a handover\")", false),
        ("format!(\"{} ({})\", a, b)", false),
        ("d.format(\"%d.%m.%Y\")", false),
        ("opts.set_type(\"text/csv;charset=utf-8\")", false),
        ("<option value=\"appointments\">", false),
    ];
    for (src, want) in cases {
        let lits = string_literals(src);
        let got = lits.iter().any(looks_like_ui_text);
        assert_eq!(got, *want, "{src}: {lits:?}");
    }
}

/// The UI source files whose strings all come from the catalogue: a literal that looks like
/// UI text (German letters, several words, a capitalised word) fails this test, naming the
/// file and line. Add the text to de.txt/en.txt and use `t("…")`/`tf("…")` instead.
#[test]
fn converted_ui_files_contain_no_literal_ui_text() {
    // (file, literal) pairs that look like text but are not UI strings.
    const ENGINE_JS: &str = "\nlet loading = null;\nexport function pb_engine_load(url) {\n  if (!loading) {\n    loading = import(new URL(url, document.baseURI).href).then(async (m) => {\n      await m.default();\n      return m;\n    });\n    loading.catch(() => { loading = null; });\n  }\n  return loading;\n}\n";
    const ALLOWED: &[(&str, &str)] = &[
        // Brand name and the language names (each in its own language, on purpose).
        ("app/mod.rs", "praxisbote"),
        ("app/language.rs", "Deutsch"),
        ("app/language.rs", "English"),
        // Preview-only unsubscribe link, replaced by the relay's real link when sending.
        ("app/send/compose.rs", "https://abmelden.example/u/VORSCHAU"),
        // A command name, HTTP header names and values.
        ("app/send/panel.rs", "cargo xtask start"),
        ("app/send/relay_client.rs", "Accept"),
        ("app/send/relay_client.rs", "Content-Type"),
        ("app/send/relay_client.rs", "Authorization"),
        ("app/send/relay_client.rs", "Bearer {}"),
        ("app/send/relay_client.rs", "HTTP {status}"),
        // A new template's body: template text in the template's own language.
        (
            "app/templates/mod.rs",
            "{{ anrede }},\\n\\n\\n\\nMit freundlichen Grüßen\\n{{ praxis.name }}",
        ),
        // Stored consent reason of a letter recipient (data, not shown as UI text).
        ("app/send/letters.rs", "In der Überprüfung übernommen."),
        // The engine loader's JavaScript (code, not text).
        ("app/engine.rs", ENGINE_JS),
        // Message of a benchmark helper.
        ("app/send/transmit.rs", "not done after 300 s: {:?}"),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root.join("app"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let source = std::fs::read_to_string(file).expect("read source");
        // Test modules may use any strings.
        let source = source.split("#[cfg(test)]").next().unwrap_or("");
        for lit in string_literals(source) {
            if looks_like_ui_text(&lit) && !ALLOWED.contains(&(rel.as_str(), lit.text)) {
                found.push(format!("{rel}:{}: {:?}", lit.line, lit.text));
            }
        }
    }
    assert!(
        found.is_empty(),
        "literal UI text outside the catalogue (use t(\"…\")/tf(\"…\")):\n{}",
        found.join("\n")
    );
}

/// Domain messages: every key exists in every language, the German text filled with the
/// arguments equals the domain's German `Display`, and English differs from German.
#[test]
fn domain_messages_translate_and_german_equals_display() {
    use crate::domain::address::AddressProblem;
    use crate::domain::backup::BackupError;
    use crate::domain::email::EmailError;
    use crate::domain::import::ImportError;
    use crate::domain::message::UiMessage;
    use crate::domain::phone::PhoneError;
    use crate::domain::sms::SenderIdError;
    let samples: Vec<Box<dyn UiMessage>> = vec![
        Box::new(SenderIdError::Empty),
        Box::new(SenderIdError::AlphanumericTooLong { len: 12 }),
        Box::new(SenderIdError::NumericTooLong { len: 17 }),
        Box::new(SenderIdError::InvalidCharacter('ä')),
        Box::new(BackupError::NotJson { line: 3, column: 7 }),
        Box::new(BackupError::NotABackup),
        Box::new(BackupError::TooNew {
            found: 9,
            supported: 2,
        }),
        Box::new(BackupError::UnknownVersion(0)),
        Box::new(BackupError::Invalid("missing field `persons`".into())),
        Box::new(EmailError::Empty),
        Box::new(EmailError::MissingAt),
        Box::new(EmailError::SeveralAt),
        Box::new(EmailError::Whitespace),
        Box::new(EmailError::SeveralAddresses),
        Box::new(EmailError::EmptyLocal),
        Box::new(EmailError::LocalTooLong),
        Box::new(EmailError::InvalidLocalChar('ß')),
        Box::new(EmailError::LocalDots),
        Box::new(EmailError::EmptyDomain),
        Box::new(EmailError::MissingTld),
        Box::new(EmailError::InvalidTld),
        Box::new(EmailError::InvalidDomainChar('_')),
        Box::new(EmailError::DomainDots),
        Box::new(EmailError::DomainHyphen),
        Box::new(EmailError::LabelTooLong),
        Box::new(EmailError::DomainTooLong),
        Box::new(PhoneError::Empty),
        Box::new(PhoneError::InvalidCharacter('x')),
        Box::new(PhoneError::MissingPrefix),
        Box::new(PhoneError::UnknownCountryCode),
        Box::new(PhoneError::TooShort),
        Box::new(PhoneError::TooLong),
        Box::new(PhoneError::InvalidNumber),
        Box::new(AddressProblem::MissingStreet),
        Box::new(AddressProblem::MissingHouseNumber),
        Box::new(AddressProblem::MissingPostcode),
        Box::new(AddressProblem::PostcodeNotFiveDigits),
        Box::new(AddressProblem::InvalidPostcode),
        Box::new(AddressProblem::ForeignPostcodeFormat("AT".into())),
        Box::new(AddressProblem::MissingCity),
        Box::new(AddressProblem::InvalidCountry),
        Box::new(ImportError::Empty),
        Box::new(ImportError::TooLarge {
            size_mb: 40,
            max_mb: 32,
        }),
        Box::new(ImportError::TooManyRows {
            max: 250_000,
            line: 250_002,
        }),
        Box::new(ImportError::Binary { line: 4 }),
        Box::new(ImportError::MixedEncoding { line: 5 }),
        Box::new(ImportError::InvalidEncoding {
            encoding: "UTF-16 LE",
            line: 6,
        }),
        Box::new(ImportError::DoubleEncoded {
            line: 7,
            sample: "MÃ¼ller".into(),
        }),
        Box::new(ImportError::NoRows { header_line: 1 }),
        Box::new(ImportError::NoDelimiter { line: 2 }),
        Box::new(ImportError::Csv {
            line: 8,
            detail: "bad".into(),
        }),
        Box::new(crate::domain::import::SheetError::Unreadable {
            format: "Excel (.xlsx)".into(),
            detail: "zip".into(),
        }),
        Box::new(crate::domain::import::SheetError::NoSheets),
        Box::new(crate::domain::import::SheetError::NoSuchSheet { n: 2 }),
        Box::new(crate::domain::import::SheetError::EmptySheet {
            sheet: "Tabelle1".into(),
        }),
        Box::new(crate::domain::import::SheetError::UnknownFormat {
            name: "a.numbers".into(),
        }),
        Box::new(crate::domain::import::CalendarError::NotACalendar),
        Box::new(crate::domain::import::CalendarError::Unreadable {
            detail: "line 3: expected ':'".into(),
        }),
    ];
    let mut samples = samples;
    for e in crate::storage::error_samples() {
        samples.push(Box::new(e));
    }
    let mut keys_seen = BTreeSet::new();
    for m in &samples {
        for lang in Lang::ALL {
            assert!(
                lang.catalogue().contains_key(m.key()),
                "{} missing in {}.txt",
                m.key(),
                lang.code()
            );
        }
        let names: Vec<&str> = m.args().iter().map(|(k, _)| *k).collect();
        for p in placeholders(t_in(Lang::De, m.key())) {
            assert!(names.contains(&p), "{}: no argument for {{{p}}}", m.key());
        }
        assert_eq!(msg_in(Lang::De, m.as_ref()), m.to_string(), "{}", m.key());
        let en = msg_in(Lang::En, m.as_ref());
        assert_ne!(en, m.to_string(), "{}", m.key());
        assert!(
            !en.contains('{'),
            "{}: unfilled placeholder in {en}",
            m.key()
        );
        keys_seen.insert(m.key());
    }
    assert_eq!(keys_seen.len(), samples.len(), "two variants share a key");
    assert_eq!(
        msg_in(Lang::En, &SenderIdError::AlphanumericTooLong { len: 12 }),
        "An alphanumeric sender ID may have at most 11 characters (now 12)."
    );
}

/// The review's texts in German equal the domain's `*_de` texts; in English they differ.
#[test]
fn review_texts_in_german_equal_the_domain_texts() {
    use super::review;
    use crate::domain::address::AddressProblem;
    use crate::domain::email::EmailError;
    use crate::domain::phone::PhoneError;
    use crate::domain::review::{ConsentCell, ReviewError, RowFlags, Unreachable};
    use crate::domain::{Channel, Evidence};
    let d = |m: u32, day: u32| chrono::NaiveDate::from_ymd_opt(2026, m, day);
    let cells = [
        ConsentCell {
            allowed: true,
            given_at: d(1, 2),
            evidence: Some(Evidence::WrittenForm),
            withdrawn_at: None,
        },
        ConsentCell {
            allowed: false,
            given_at: d(1, 2),
            evidence: None,
            withdrawn_at: d(3, 4),
        },
        ConsentCell {
            allowed: false,
            given_at: d(5, 6),
            evidence: Some(Evidence::Verbal),
            withdrawn_at: d(7, 8),
        },
        ConsentCell {
            allowed: false,
            given_at: None,
            evidence: None,
            withdrawn_at: None,
        },
    ];
    let flags = [
        RowFlags {
            shared_contact_with: 1,
            person_rows: 1,
            weak_consent: None,
        },
        RowFlags {
            shared_contact_with: 3,
            person_rows: 2,
            weak_consent: Some(Evidence::Verbal),
        },
        RowFlags {
            shared_contact_with: 0,
            person_rows: 4,
            weak_consent: Some(Evidence::OnlineForm),
        },
        RowFlags::default(),
    ];
    let unreachable = [
        Unreachable::UnknownPerson,
        Unreachable::NoEmail,
        Unreachable::InvalidEmail(EmailError::MissingAt),
        Unreachable::NoMobile,
        Unreachable::LandlineOnly,
        Unreachable::InvalidNumber(PhoneError::TooShort),
        Unreachable::IncompleteAddress(vec![
            AddressProblem::MissingStreet,
            AddressProblem::MissingPostcode,
        ]),
    ];
    let errors = [
        ReviewError::NoSuchRow,
        ReviewError::Unreachable,
        ReviewError::NeedsConsentOverride,
        ReviewError::EmptyReason,
        ReviewError::Stale,
    ];
    for lang in Lang::ALL {
        set_lang(lang);
        let de = lang == Lang::De;
        let check = |ui: String, domain: String| {
            if de {
                assert_eq!(ui, domain);
            } else {
                assert_ne!(ui, domain);
            }
        };
        for c in &cells {
            check(review::consent(c).into(), c.label_de().into());
            check(review::consent_detail(c), c.detail_de());
        }
        for f in &flags {
            for ch in Channel::ALL {
                let (ui, domain) = (review::flags(f, ch), f.messages_de(ch));
                assert_eq!(ui.len(), domain.len());
                for (u, dm) in ui.into_iter().zip(domain) {
                    check(u, dm);
                }
            }
        }
        for u in &unreachable {
            check(review::unreachable(u), u.message_de());
        }
        for e in &errors {
            check(review::error(e).into(), e.message_de().into());
        }
    }
    set_lang(Lang::De);
}

/// Every import message template (`domain::import::messages::TEXTS`) is the German catalogue
/// value of its key; English has the same placeholders, differs and leaves none unfilled.
#[test]
fn import_messages_in_german_equal_the_domain_templates() {
    use crate::domain::import::messages::TEXTS;
    use crate::domain::message::Msg;
    let mut seen = BTreeSet::new();
    for &(key, template) in TEXTS {
        assert!(seen.insert(key), "{key} listed twice");
        assert_eq!(t_in(Lang::De, key), template, "{key}");
        let mut de_names = placeholders(template);
        let mut en_names = placeholders(t_in(Lang::En, key));
        de_names.sort();
        en_names.sort();
        assert_eq!(de_names, en_names, "{key}");
        let args: Vec<(&'static str, String)> =
            de_names.iter().map(|p| (*p, format!("<{p}>"))).collect();
        let m = Msg::new(key, template, args);
        assert!(!m.de.contains('{'), "{key}: {}", m.de);
        assert_eq!(msg_in(Lang::De, &m), m.to_string(), "{key}");
        let en = msg_in(Lang::En, &m);
        assert_ne!(en, m.to_string(), "{key}");
        assert!(!en.contains('{'), "{key}: unfilled placeholder in {en}");
        for p in &de_names {
            assert!(en.contains(&format!("<{p}>")), "{key}: {en} lacks {p}");
        }
    }
    assert!(seen.len() >= 40, "only {} import messages", seen.len());
}

/// The import page's labels, summaries, row findings and skip reasons: German equals the
/// domain (`label_de`, `summary_de`, `Display`), English differs — checked on real plans.
#[test]
fn import_texts_in_german_equal_the_domain_texts() {
    use super::import as ui;
    use crate::domain::import::*;
    use crate::domain::{AppointmentId, PersonId, PersonRecord};
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    let mut existing = PersonRecord::default();
    existing.person.id = PersonId("p-old".into());
    existing.person.external_id = Some("1".into());
    existing.person.last_name = "Alt".into();
    let existing = vec![existing];
    let csv = "Patientennummer;Nachname;Vorname;Geburtsdatum;PLZ;Ort;Geschlecht;Art;Diagnose\n\
               1;Alt;Anna;01.01.1950;10115;Berlin;w;Patient;x\n\
               2;Neu;Ben;32.13.1980;1067;Dresden;Katze;Hund;y\n\
               3;;;01.01.2090;50667;Köln;m;Patient;z\n\
               4;Kurz\n\
               5;Zwei;Zoe;02.02.1990;12345;Ort;w;Patient;q\n\
               6;Zwei;Zoe;02.02.1990;12345;Ort;w;Patient;q\n";
    let table = read_table(csv.as_bytes()).expect("table");
    let mapping = Mapping::auto(&table.headers, ImportKind::Persons);
    let mut n = 0;
    let plan = plan_person_import(
        &table,
        &mapping,
        &existing,
        &ImportOptions::new(today),
        &mut || {
            n += 1;
            PersonId(format!("p{n}"))
        },
    )
    .expect("plan");
    assert!(plan.errors.len() >= 3, "{:?}", plan.errors);
    assert!(plan.warnings.len() >= 2, "{:?}", plan.warnings);
    assert!(plan.skipped.len() >= 2, "{:?}", plan.skipped);
    assert!(!plan.treatment_columns.is_empty());
    let empty_plan = ImportPlan::default();

    let a_table = read_table(
        "Nr;Tag;Zeit\n1;01.12.2026;10:00\n9;01.12.2026;10:00\n1;32.12.2026;25:00\n".as_bytes(),
    )
    .expect("table");
    let mut a_map = Mapping::auto(&a_table.headers, ImportKind::Appointments);
    a_map.set(0, Field::PersonRef).expect("set");
    a_map.set(1, Field::Date).expect("set");
    a_map.set(2, Field::StartTime).expect("set");
    let a_plan = plan_appointment_import(
        &a_table,
        &a_map,
        &existing,
        &AppointmentImportOptions::new(today),
        &mut || AppointmentId("a".into()),
    )
    .expect("plan");
    assert_eq!(a_plan.inserts.len(), 1);
    assert!(a_plan.errors.len() >= 2, "{:?}", a_plan.errors);
    // Planner and mapping refusals.
    let mut refusals = vec![plan_appointment_import(
        &table,
        &mapping,
        &existing,
        &AppointmentImportOptions::new(today),
        &mut || AppointmentId("a".into()),
    )
    .expect_err("wrong kind")];
    let mut m2 = mapping.clone();
    refusals.push(m2.set(8, Field::Email).expect_err("treatment"));
    refusals.push(m2.set(99, Field::Email).expect_err("no column"));

    let mut fields = Field::choices(ImportKind::Persons);
    fields.extend(Field::choices(ImportKind::Appointments));
    fields.push(Field::Treatment);
    let encodings = [
        TextEncoding::Utf8,
        TextEncoding::Utf8Bom,
        TextEncoding::Windows1252,
        TextEncoding::Utf16Le,
        TextEncoding::Utf16Be,
    ];
    for lang in Lang::ALL {
        set_lang(lang);
        let de = lang == Lang::De;
        let check = |ui: String, domain: String| {
            if de {
                assert_eq!(ui, domain);
            } else {
                assert_ne!(ui, domain);
                assert!(!ui.contains('{'), "unfilled placeholder in {ui}");
            }
        };
        for f in &fields {
            check(ui::field(*f), f.label_de());
        }
        for e in encodings {
            if de {
                assert_eq!(ui::encoding(e), e.label_de());
            }
        }
        for d in [b';', b',', b'\t', b'|', b'x'] {
            let mut t = table.clone();
            t.delimiter = d;
            check(ui::delimiter(&t).into(), t.delimiter_label_de().into());
        }
        for r in [
            DuplicateReason::ExternalId,
            DuplicateReason::NameAndBirthDate,
        ] {
            check(ui::duplicate_reason(r).into(), r.label_de().into());
        }
        check(ui::summary(&plan), plan.summary_de());
        check(ui::summary(&empty_plan), empty_plan.summary_de());
        check(ui::appointment_summary(&a_plan), a_plan.summary_de());
        for i in plan
            .errors
            .iter()
            .chain(&plan.warnings)
            .chain(&a_plan.errors)
        {
            check(ui::row_issue(i), i.to_string());
        }
        for s in &plan.skipped {
            check(ui::skipped_reason(s), s.reason.to_string());
        }
        for r in &refusals {
            check(msg(r), r.to_string());
        }
    }
    set_lang(Lang::De);
}

/// Outbox refusals: German equals `OutboxError::message_de`, English differs.
#[test]
fn outbox_errors_in_german_equal_the_domain_texts() {
    use crate::domain::outbox::{OutboxError, StateKind};
    use crate::domain::Channel;
    let mut errors = vec![
        OutboxError::MaybeTransmitted,
        OutboxError::NotRelayed,
        OutboxError::WrongId,
        OutboxError::CancelledButReported,
        OutboxError::DuplicateId("m-1".into()),
        OutboxError::EmptyAddress("m-2".into()),
        OutboxError::EmptyContent("m-3".into()),
        OutboxError::WrongBatch("m-4".into()),
    ];
    for channel in Channel::ALL {
        errors.push(OutboxError::IllegalTransition {
            channel,
            from: StateKind::Sent,
            to: StateKind::Queued,
        });
    }
    german_equals_domain_english_differs(&errors, super::outbox::error, |e| e.message_de());
}

/// Why a recipient was left out of a batch: German equals `SkipReason::message_de`, English
/// differs.
#[test]
fn skip_reasons_in_german_equal_the_domain_texts() {
    use crate::domain::outbox::SkipReason;
    use crate::domain::review::Unreachable;
    let reasons = vec![
        SkipReason::UnknownPerson,
        SkipReason::NoConsent,
        SkipReason::ConsentWithdrawn {
            at: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
        },
        SkipReason::Unreachable(Unreachable::NoEmail),
        SkipReason::RenderFailed(Box::new(crate::domain::render::RenderError {
            message: "x".into(),
            ..Default::default()
        })),
        SkipReason::NotRendered,
        SkipReason::EmptyMessage,
        SkipReason::MinorWithoutGuardian,
        SkipReason::Guardian {
            name: "Anna Weber".into(),
            reason: Box::new(SkipReason::NoConsent),
        },
    ];
    german_equals_domain_english_differs(&reasons, super::outbox::skip_reason, |r| r.message_de());
}

/// Query condition descriptions: German equals `Condition::describe_de`, English differs.
#[test]
fn query_conditions_in_german_equal_the_domain_texts() {
    use crate::domain::query::{Condition, DayMonth, TagMode};
    use crate::domain::{Channel, InsuranceKind, Kind, Purpose};
    let d = |m: u32, day: u32| chrono::NaiveDate::from_ymd_opt(2026, m, day).expect("date");
    let tags = vec!["Sport".to_string(), "Kinder".to_string()];
    let mut conditions = vec![
        Condition::BirthdayWindow {
            from: DayMonth::new(28, 12).expect("dm"),
            to: DayMonth::new(3, 1).expect("dm"),
        },
        Condition::BirthdayNextDays { days: 14 },
        Condition::BirthdayBetween {
            from: d(1, 2),
            to: d(3, 4),
        },
        Condition::Recall {
            last_visit_before: d(5, 6),
            include_never_visited: true,
        },
        Condition::PostcodeRange {
            from: "80".into(),
            to: "81".into(),
        },
        Condition::City {
            cities: vec!["Köln".into(), "Bonn".into()],
        },
        Condition::Insurance {
            kinds: InsuranceKind::ALL.to_vec(),
        },
    ];
    for (min, max) in [
        (Some(18), Some(65)),
        (Some(18), None),
        (None, Some(6)),
        (None, None),
    ] {
        conditions.push(Condition::AgeRange { min, max, on: None });
    }
    for mode in [TagMode::Any, TagMode::All, TagMode::None] {
        conditions.push(Condition::Tags {
            tags: tags.clone(),
            mode,
        });
    }
    for kind in Kind::ALL {
        conditions.push(Condition::Kind { kind });
    }
    for channel in Channel::ALL {
        for purpose in Purpose::ALL {
            conditions.push(Condition::HasConsent { channel, purpose });
        }
    }
    german_equals_domain_english_differs(&conditions, super::query::describe, |c| c.describe_de());
}

/// Recipient warnings and template hints: German equals `domain::render`, English differs.
#[test]
fn render_warnings_and_hints_in_german_equal_the_domain_texts() {
    use crate::domain::model::{Gender, Person, PracticeSettings, Purpose};
    use crate::domain::placeholders::{build_context, ContextInput};
    use crate::domain::render::{recipient_warnings, template_hints};
    use crate::domain::template::{Language, Template};
    use crate::domain::Channel;
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
    let ctx = |channel| {
        build_context(ContextInput {
            person: &person,
            practice: &practice,
            appointment: None,
            channel,
            language: Language::De,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date"),
            unsubscribe_link: Some("https://praxis.example/u/abc"),
        })
    };
    let template = |channel, purpose, body: &str| Template {
        id: "t".into(),
        name: "t".into(),
        channel,
        purpose,
        language: Language::De,
        subject: "Hallo".into(),
        body: body.into(),
        shipped: false,
        version: 1,
    };
    let sms = template(
        Channel::Sms,
        Purpose::AppointmentReminder,
        "{{ titel }} {{ vorname }} {{ termin.datum }}",
    );
    let warnings = recipient_warnings(&sms, &ctx(Channel::Sms));
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    let mail = template(
        Channel::Email,
        Purpose::Birthday,
        "Alles Gute, {{ vorname }}!",
    );
    let hints = template_hints(&mail);
    assert_eq!(hints.len(), 1, "{hints:?}");
    for lang in Lang::ALL {
        set_lang(lang);
        let de = lang == Lang::De;
        let mut pairs: Vec<(String, String)> = warnings
            .iter()
            .map(|w| (super::render::recipient_warning(w), w.message.clone()))
            .collect();
        pairs.extend(
            hints
                .iter()
                .map(|h| (super::render::hint(*h), h.to_string())),
        );
        for (ui, domain) in pairs {
            if de {
                assert_eq!(ui, domain);
            } else {
                assert_ne!(ui, domain);
                assert!(
                    ui.contains("{{ abmeldelink }}") || !ui.contains('{'),
                    "{ui}"
                );
            }
        }
    }
    set_lang(Lang::De);
}

/// Template check findings: German is the domain's message; English is rebuilt for every
/// kind from the structured fields (position, placeholder, minijinja's detail) with nothing
/// German or unfilled left in it.
#[test]
fn template_errors_in_english_for_every_kind() {
    use crate::domain::model::Purpose;
    use crate::domain::render::{validate, TemplateErrorKind};
    use crate::domain::template::{Language, Template};
    use crate::domain::Channel;
    let check = |channel, body: &str, has_appointments, kind| {
        let t = Template {
            id: "t".into(),
            name: "t".into(),
            channel,
            purpose: Purpose::AppointmentReminder,
            language: Language::De,
            subject: "Hallo".into(),
            body: body.into(),
            shipped: false,
            version: 1,
        };
        let available = crate::domain::placeholders::Availability {
            appointments: has_appointments,
            therapist_names: false,
        };
        let errors = validate(&t, available).expect_err(body);
        let e = errors
            .iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| panic!("{kind:?} not in {errors:?}"));
        set_lang(Lang::De);
        assert_eq!(super::render::template_error(e), e.message);
        set_lang(Lang::En);
        let en = super::render::template_error(e);
        set_lang(Lang::De);
        assert!(
            en.contains(&format!("line {}, column {}", e.line, e.column)),
            "{en}"
        );
        if let Some(name) = &e.placeholder {
            assert!(en.contains(&format!("“{name}”")), "{en}");
        }
        for german in ["Zeile", "Spalte", "Platzhalter", "Vorlage", "nicht"] {
            assert!(!en.contains(german), "{en}");
        }
        assert!(!en.contains('{') && !en.contains('}'), "{en}");
        en
    };
    let en = check(
        Channel::Sms,
        "Hallo {{ vorname ",
        true,
        TemplateErrorKind::Syntax,
    );
    assert!(en.len() > "Text, line 1, column 1: syntax error in the template ().".len());
    check(
        Channel::Email,
        "{{ geburtsdatum }}",
        true,
        TemplateErrorKind::Forbidden,
    );
    check(
        Channel::Sms,
        "{{ anschrift }}",
        true,
        TemplateErrorKind::NotInChannel,
    );
    check(
        Channel::Email,
        "{{ termin.datum }}",
        false,
        TemplateErrorKind::NeedsAppointment,
    );
    check(
        Channel::Email,
        "{{ lieblingsfarbe }}",
        true,
        TemplateErrorKind::Unknown,
    );
    check(
        Channel::Sms,
        "bei {{ termin.behandler }}",
        true,
        TemplateErrorKind::TherapistOff,
    );
    check(
        Channel::Email,
        "{% include \"x\" %}",
        true,
        TemplateErrorKind::Include,
    );
}

/// Every placeholder of the catalogue has a description in every language; German equals
/// `domain::placeholders`, English differs.
#[test]
fn placeholder_descriptions_in_every_language() {
    use crate::domain::placeholders::CATALOGUE;
    for p in CATALOGUE {
        set_lang(Lang::De);
        assert_eq!(super::render::placeholder_description(p), p.description);
        set_lang(Lang::En);
        let en = super::render::placeholder_description(p);
        assert!(!en.is_empty() && en != p.description, "{}: {en}", p.name);
    }
    set_lang(Lang::De);
}

/// Render-time errors: German equals the domain's message, English is rebuilt from key and
/// arguments for each kind that templates can trigger (with part prefix and line).
#[test]
fn render_errors_in_every_language() {
    use crate::domain::model::{Person, PracticeSettings, Purpose};
    use crate::domain::placeholders::{build_context, ContextInput};
    use crate::domain::render::Renderer;
    use crate::domain::template::{Language, Template};
    use crate::domain::Channel;
    let person = Person {
        first_name: "Anna".into(),
        last_name: "Müller".into(),
        ..Default::default()
    };
    let practice = PracticeSettings::default();
    let ctx = build_context(ContextInput {
        person: &person,
        practice: &practice,
        appointment: None,
        channel: Channel::Email,
        language: Language::De,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date"),
        unsubscribe_link: None,
    });
    let renderer = Renderer::new(Language::De);
    let cases = [
        ("Hallo", "{{ termin.datum }}", "undefined_appointment"),
        ("Hallo", "{{ vorname|nichtda }}", "unknown_filter"),
        ("Hallo", "{{ nichtda() }}", "unknown_function"),
        ("Hallo", "{% for i in range(100000000) %}{% for j in range(100000000) %}x{% endfor %}{% endfor %}", ""),
        ("{{ termin.ort }}", "Text", "undefined_appointment"),
    ];
    let mut keys = Vec::new();
    for (subject, body, key) in cases {
        let t = Template {
            id: "t".into(),
            name: "t".into(),
            channel: Channel::Email,
            purpose: Purpose::Invitation,
            language: Language::De,
            subject: subject.into(),
            body: body.into(),
            shipped: false,
            version: 1,
        };
        let e = renderer.render_message(&t, &ctx).expect_err(body);
        if !key.is_empty() {
            assert_eq!(e.key, key, "{e:?}");
        }
        keys.push(e.key.clone());
        set_lang(Lang::De);
        assert_eq!(super::render::render_error(&e), e.message);
        set_lang(Lang::En);
        let en = super::render::render_error(&e);
        set_lang(Lang::De);
        assert_ne!(en, e.message);
        assert!(
            en.starts_with("Subject: ") || en.starts_with("Text: "),
            "{en}"
        );
        for german in ["Zeile", "Empfänger", "Vorlage", "Unbekannt", "keinen Wert"] {
            assert!(!en.contains(german), "{en}");
        }
        assert!(
            !en.contains('{') && !en.contains('}') || en.contains("{{"),
            "{en}"
        );
    }
    // The huge loop is refused by minijinja (range limit: "other" with its detail).
    assert!(!keys[3].is_empty(), "{keys:?}");
    // Without a key the message is shown as it comes.
    let plain = crate::domain::render::RenderError {
        message: "x".into(),
        ..Default::default()
    };
    set_lang(Lang::En);
    assert_eq!(super::render::render_error(&plain), "x");
    set_lang(Lang::De);
}

/// For every language: the UI text of each item equals the domain's German text in German,
/// and differs from it (with no unfilled `{placeholder}`) in every other language.
fn german_equals_domain_english_differs<T>(
    items: &[T],
    ui: impl Fn(&T) -> String,
    domain_de: impl Fn(&T) -> String,
) {
    for lang in Lang::ALL {
        set_lang(lang);
        for item in items {
            let (ui, de) = (ui(item), domain_de(item));
            if lang == Lang::De {
                assert_eq!(ui, de);
            } else {
                assert_ne!(ui, de);
                assert!(!ui.contains('{'), "{ui}");
            }
        }
    }
    set_lang(Lang::De);
}

// ---- The UI layer's error type (docs/design/errors.md) ----

/// `src/app/error.rs` is pure; compiled here natively (without the relay variant, which needs
/// the browser's client) so its rendering is tested.
#[cfg(not(target_arch = "wasm32"))]
#[allow(dead_code)]
#[path = "../app/error.rs"]
mod app_error;
#[cfg(target_arch = "wasm32")]
use crate::app::error as app_error;

/// The `Result<…, String>` types in a piece of Rust source (1-based lines): a `Result` whose
/// last generic argument is `String`, however it is nested or broken over lines.
fn string_error_results(source: &str) -> Vec<usize> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = source[from..].find("Result<") {
        let start = from + pos;
        from = start + "Result<".len();
        let prev = source[..start].chars().next_back();
        if prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        // The generic arguments up to the matching `>` (`->` inside is no bracket).
        let (mut depth, mut i, mut last_arg) = (1usize, from, from);
        while i < bytes.len() && depth > 0 {
            match bytes[i] {
                b'<' | b'(' | b'[' => depth += 1,
                b'>' if i > 0 && bytes[i - 1] == b'-' => {}
                b'>' | b')' | b']' => depth -= 1,
                b',' if depth == 1 => last_arg = i + 1,
                _ => {}
            }
            i += 1;
        }
        if depth == 0 && last_arg > from {
            let arg = source[last_arg..i - 1].trim();
            if arg == "String" || arg == "std::string::String" {
                found.push(source[..start].matches('\n').count() + 1);
            }
        }
    }
    found
}

#[test]
fn string_error_results_are_found() {
    let src = "fn a() -> Result<Vec<u8>, String> {}\n\
               fn b() -> Result<(usize, Vec<(String, String)>),\n    String> {}\n\
               fn c() -> Result<String, AppError> {}\n\
               fn d() -> io::Result<Vec<String>> {}\n\
               fn e(f: impl Fn() -> u8) -> Result<Box<dyn Fn(u8) -> u8>, String> {}\n\
               let r: Vec<Option<Result<Content, String>>> = x; MyResult<u8, String>";
    assert_eq!(string_error_results(src), vec![1, 2, 6, 7]);
}

/// The UI layer reports errors as kinds with arguments (`AppError`), never as text made where
/// the error happens: no `Result<…, String>` in `src/app`.
#[test]
fn the_app_has_no_string_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root.join("app"), &mut files);
    files.sort();
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut found = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("read source");
        for line in string_error_results(&source) {
            let rel = file.strip_prefix(&root).unwrap_or(file).display();
            found.push(format!("{rel}:{line}"));
        }
    }
    assert!(
        found.is_empty(),
        "Result<…, String> in src/app (use crate::app::error::AppError):\n{}",
        found.join("\n")
    );
}

/// An `AppError` is shown from its catalogue key and arguments, in the language current when
/// it is shown; a failed step shows its cause in the same language.
#[test]
fn app_errors_render_from_their_key_in_every_language() {
    use crate::domain::message::UiMessage;
    use crate::storage::StoreError;
    use app_error::AppError;
    let json = serde_json::from_str::<u8>("x").expect_err("not a number");
    let cases = vec![
        AppError::msg("transmit.batch_not_found", []),
        AppError::msg("engine.unknown_export", [("name", "demo".into())]),
        AppError::msg("engine.demo_failed", [("error", "x".into())]),
        AppError::from(StoreError::QuotaExceeded),
        AppError::from(json),
        AppError::from(crate::domain::outbox::OutboxError::DuplicateId("m1".into())),
        AppError::from(crate::domain::import::ImportError::Empty),
        AppError::context("transmit.save_failed", StoreError::QuotaExceeded),
    ];
    for e in &cases {
        for lang in Lang::ALL {
            assert!(
                lang.catalogue().contains_key(e.key()),
                "{} missing in {}.txt",
                e.key(),
                lang.code()
            );
        }
        // (A failed step renders its cause in the current language: compare in it.)
        set_lang(Lang::De);
        let de = e.to_string();
        assert_eq!(de, msg_in(Lang::De, e));
        set_lang(Lang::En);
        let en = e.to_string();
        assert_eq!(en, msg_in(Lang::En, e));
        set_lang(Lang::De);
        assert_ne!(de, en, "{}", e.key());
        for text in [&de, &en] {
            assert!(
                placeholders(text).is_empty(),
                "unfilled placeholder in {text}"
            );
        }
    }
    // The domain's messages keep their key and arguments.
    let empty = crate::domain::import::ImportError::Empty;
    assert_eq!(AppError::from(empty.clone()).key(), empty.key());
    // The cause of a failed step: in the text, in the language shown, and as `source()`.
    let step = AppError::context("transmit.save_failed", StoreError::QuotaExceeded);
    set_lang(Lang::En);
    let en = step.to_string();
    set_lang(Lang::De);
    assert!(
        en.contains(&msg_in(Lang::En, &StoreError::QuotaExceeded)),
        "{en}"
    );
    assert!(step
        .to_string()
        .contains(&msg_in(Lang::De, &StoreError::QuotaExceeded)));
    let source = std::error::Error::source(&step).expect("a source");
    assert_eq!(
        source.to_string(),
        AppError::from(StoreError::QuotaExceeded).to_string()
    );
    assert!(matches!(
        AppError::from(StoreError::QuotaExceeded),
        AppError::Store(StoreError::QuotaExceeded)
    ));
}
