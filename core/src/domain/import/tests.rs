//! Table-driven tests of the CSV import; fixtures live in `tests/fixtures/import/` (workspace root)
//! (the non-UTF-8 ones are made by `generate.py` there).

use super::*;
use crate::domain::model::*;
use chrono::NaiveDate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn today() -> NaiveDate {
    d(2026, 11, 26)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ids() -> impl FnMut() -> PersonId {
    let mut n = 0;
    move || {
        n += 1;
        PersonId(format!("00000000-0000-4000-8000-{n:012}"))
    }
}

fn plan(bytes: &[u8], existing: &[PersonRecord], options: &ImportOptions) -> ImportPlan {
    let table = read_table(bytes).expect("readable");
    let mapping = Mapping::auto(&table.headers, ImportKind::Persons);
    plan_person_import(&table, &mapping, existing, options, &mut ids()).expect("plan")
}

fn find<'a>(recs: &'a [PersonRecord], last: &str) -> &'a PersonRecord {
    recs.iter()
        .find(|r| r.person.last_name == last)
        .unwrap_or_else(|| panic!("{last} not found"))
}

#[test]
fn encodings_and_delimiters_of_fixtures() {
    // (file, encoding, delimiter, data rows, a last name that must come through intact)
    let cases: &[(&str, TextEncoding, u8, usize, &str)] = &[
        (
            "patients_utf8_semicolon.csv",
            TextEncoding::Utf8,
            b';',
            8,
            "Wiśniewski",
        ),
        (
            "patients_utf8_bom_comma.csv",
            TextEncoding::Utf8Bom,
            b',',
            3,
            "Schröder",
        ),
        ("patients_tab.tsv", TextEncoding::Utf8, b'\t', 2, "Çelik"),
        (
            "patients_cp1252.csv",
            TextEncoding::Windows1252,
            b';',
            3,
            "Öztürk",
        ),
        (
            "patients_latin1.csv",
            TextEncoding::Windows1252,
            b';',
            3,
            "Weiß",
        ),
        (
            "patients_utf16le_bom.csv",
            TextEncoding::Utf16Le,
            b'\t',
            8,
            "Yılmaz",
        ),
        (
            "patients_utf16be_bom.csv",
            TextEncoding::Utf16Be,
            b';',
            8,
            "Doğan-Şahin",
        ),
        (
            "patients_utf16le_nobom.csv",
            TextEncoding::Utf16Le,
            b';',
            8,
            "Kowalska",
        ),
    ];
    for &(file, enc, delim, rows, last) in cases {
        let table = read_table(&fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(table.encoding, enc, "{file}");
        assert_eq!(table.delimiter, delim, "{file}");
        assert_eq!(table.rows.len(), rows, "{file}");
        let p = plan(&fixture(file), &[], &ImportOptions::new(today()));
        assert!(
            p.inserts.iter().any(|r| r.person.last_name == last),
            "{file}: {last} missing in {:?}",
            p.inserts
                .iter()
                .map(|r| &r.person.last_name)
                .collect::<Vec<_>>()
        );
        assert!(p.errors.is_empty(), "{file}: {:?}", p.errors);
    }
}

#[test]
fn windows_1252_specials_survive() {
    let table = read_table(&fixture("patients_cp1252.csv")).unwrap();
    assert_eq!(table.rows[0].get(6), "„sehr nett“ – 5 € Rabatt");
    assert_eq!(table.rows[0].get(2), "Hauptstraße 12");
}

#[test]
fn full_semicolon_export_is_mapped_and_validated() {
    let p = plan(
        &fixture("patients_utf8_semicolon.csv"),
        &[],
        &ImportOptions::new(today()),
    );
    assert_eq!(p.inserts.len(), 8, "{:?}", p.errors);
    assert_eq!(p.treatment_columns, vec!["Diagnose".to_string()]);
    let anna = find(&p.inserts, "Müller");
    assert_eq!(anna.person.external_id.as_deref(), Some("1001"));
    assert_eq!(anna.person.title, "Dr.");
    assert_eq!(anna.person.gender, Gender::Female);
    assert_eq!(anna.person.address.street, "Hauptstraße");
    assert_eq!(anna.person.address.house_number, "12a");
    assert_eq!(anna.person.address.postcode, "50667");
    assert_eq!(anna.person.mobile, "0171 1234567");
    assert_eq!(anna.person.landline, "0221 4710123");
    assert_eq!(anna.sensitive.birth_date, Some(d(1980, 11, 26)));
    assert_eq!(anna.sensitive.insurance_kind, InsuranceKind::Statutory);
    assert_eq!(anna.sensitive.insurance_number, "A123456780");
    assert_eq!(anna.sensitive.profession, "Lehrerin");
    for c in Channel::ALL {
        assert!(
            anna.person.consents.allows(c, Purpose::AppointmentReminder),
            "{c:?}"
        );
        assert!(!anna.person.consents.allows(c, Purpose::Birthday));
    }
    assert_eq!(
        anna.person
            .consents
            .events(Channel::Sms, Purpose::AppointmentReminder),
        [ConsentEvent::granted(
            today(),
            Evidence::WrittenForm,
            ConsentSource::Import
        )]
    );
    // The treatment text is nowhere in the plan.
    let json = serde_json::to_string(&p.inserts).unwrap();
    assert!(!json.contains("Lumbago") && !json.contains("chronisch"));

    let juergen = find(&p.inserts, "Weiß");
    assert_eq!(juergen.sensitive.birth_date, Some(d(1955, 2, 1)));
    assert_eq!(juergen.sensitive.insurance_kind, InsuranceKind::Private);
    assert!(juergen.person.consents.is_empty());
    assert_eq!(juergen.person.address.street, "Schloßstraße");

    let m = find(&p.inserts, "Kowalska");
    assert_eq!(m.sensitive.birth_date, Some(d(1984, 2, 29)));
    assert_eq!(m.person.address.postcode, "01067", "leading zero restored");
    assert_eq!(m.person.address.house_number, "3-5");
    assert_eq!(m.person.address.street, "Am Weißen Haus");

    let b = find(&p.inserts, "Öztürk");
    assert_eq!(b.person.address.street, "Straße des 17. Juni");
    assert_eq!(b.person.address.house_number, "5");
    assert_eq!(b.sensitive.insurance_kind, InsuranceKind::SelfPay);
    assert_eq!(b.person.gender, Gender::Unknown);

    let l = find(&p.inserts, "Wiśniewski");
    assert_eq!(l.person.title, "Prof. Dr.");
    let a = find(&p.inserts, "Doğan-Şahin");
    assert_eq!(a.person.gender, Gender::Diverse);
    assert_eq!(a.person.address.street, "Bonner Str.");
    assert_eq!(a.person.address.house_number, "7 b");
    assert_eq!(a.sensitive.birth_date, None);

    // The row after the multi-line quoted field reports its real line number.
    assert_eq!(
        p.warnings
            .iter()
            .find(|w| w.message.contains("01067"))
            .map(|w| (w.line, w.row)),
        Some((7, 5))
    );
    let text = p.warnings[0].to_string();
    assert!(
        text.starts_with("Zeile 7 (Datensatz 5), Spalte „PLZ“:"),
        "{text}"
    );
}

#[test]
fn english_headers_full_names_and_quotes() {
    let p = plan(
        &fixture("patients_utf8_bom_comma.csv"),
        &[],
        &ImportOptions::new(today()),
    );
    assert_eq!(p.treatment_columns, vec!["Notes".to_string()]);
    let anna = find(&p.inserts, "Müller");
    assert_eq!(anna.person.first_name, "Anna");
    assert_eq!(anna.person.external_id.as_deref(), Some("A-1"));
    let j = find(&p.inserts, "Schröder");
    assert_eq!(
        (j.person.title.as_str(), j.person.first_name.as_str()),
        ("Dr.", "Jörg")
    );
    assert_eq!(j.person.gender, Gender::Male);
    let b = find(&p.inserts, "von Bülow");
    assert_eq!(b.person.first_name, "Anna");
    assert_eq!(b.sensitive.birth_date, Some(d(1977, 7, 7)));
    assert_eq!(b.person.address.street, "Rosenweg 1, Hinterhaus");
}

#[test]
fn broken_files_give_clear_messages() {
    let mut big = Vec::new();
    big.resize(50 * 1024 * 1024, b'a');
    // (name, bytes, expected error, a word the German message must contain)
    let cases: Vec<(&str, Vec<u8>, ImportError, &str)> = vec![
        ("empty", fixture("empty.csv"), ImportError::Empty, "leer"),
        (
            "blank lines",
            fixture("blank_lines.csv"),
            ImportError::Empty,
            "leer",
        ),
        (
            "header only",
            fixture("header_only.csv"),
            ImportError::NoRows { header_line: 1 },
            "keine Datensätze",
        ),
        (
            "binary",
            fixture("binary_garbage.csv"),
            ImportError::Binary { line: 0 },
            "keine Textdatei",
        ),
        (
            "mixed encoding",
            fixture("mixed_encoding.csv"),
            ImportError::MixedEncoding { line: 5 },
            "Zeile 5",
        ),
        (
            "broken UTF-16",
            vec![0xFF, 0xFE, b'a', 0, b';', 0, 0x00, 0xD8, b'\n', 0],
            ImportError::InvalidEncoding {
                encoding: "UTF-16 LE",
                line: 1,
            },
            "UTF-16",
        ),
        (
            "one column",
            "Name\nMüller\n".as_bytes().to_vec(),
            ImportError::NoDelimiter { line: 1 },
            "Trennzeichen",
        ),
        (
            "50 MB",
            big,
            ImportError::TooLarge {
                size_mb: 50,
                max_mb: 32,
            },
            "zu groß",
        ),
        (
            "double-encoded UTF-8",
            "Nachname;Ort\nMüller;Köln\nMÃ¼ller;KÃ¶ln\n"
                .as_bytes()
                .to_vec(),
            ImportError::DoubleEncoded {
                line: 3,
                sample: "MÃ¼ller".into(),
            },
            "doppelt",
        ),
        (
            "PDF",
            b"%PDF-1.7\n\x00\x01\x02binary".to_vec(),
            ImportError::Binary { line: 2 },
            "Zeile 2",
        ),
    ];
    for (name, bytes, want, word) in cases {
        let err = read_table(&bytes).expect_err(name);
        match (&err, &want) {
            // Binary garbage: the line depends on where the first bad byte is.
            (ImportError::Binary { .. }, ImportError::Binary { line: 0 }) => {}
            _ => assert_eq!(err, want, "{name}"),
        }
        let msg = err.to_string();
        assert!(msg.contains(word), "{name}: {msg}");
    }
    assert!(check_file_size(50 * 1024 * 1024).is_err());
    assert!(check_file_size(1024).is_ok());
}

#[test]
fn ragged_rows_are_reported_per_line() {
    let p = plan(&fixture("ragged.csv"), &[], &ImportOptions::new(today()));
    let names: Vec<_> = p
        .inserts
        .iter()
        .map(|r| r.person.last_name.as_str())
        .collect();
    // "Klein" has one extra *empty* field: tolerated.
    assert_eq!(names, vec!["Müller", "Klein", "Groß"]);
    let lines: Vec<_> = p.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4]);
    assert!(
        p.errors[0].to_string().contains("2 Spalten statt 3"),
        "{}",
        p.errors[0]
    );
    assert!(p.errors[1].to_string().contains("4 Spalten statt 3"));
}

#[test]
fn dates_table() {
    let cases: &[(&str, bool, Option<NaiveDate>)] = &[
        ("26.11.2026", false, Some(d(2026, 11, 26))),
        ("26.11.26", false, Some(d(2026, 11, 26))),
        ("26.11.26", true, Some(d(2026, 11, 26))),
        ("27.11.26", true, Some(d(1926, 11, 27))),
        ("01.02.55", true, Some(d(1955, 2, 1))),
        ("2026-11-26", false, Some(d(2026, 11, 26))),
        ("6.1.1970", true, Some(d(1970, 1, 6))),
        ("06/01/1970", true, Some(d(1970, 1, 6))),
        ("29.02.2000", true, Some(d(2000, 2, 29))),
        ("29.02.2001", true, None),
        ("31.02.1980", true, None),
        ("26.11.1980 00:00", true, Some(d(1980, 11, 26))),
        ("gestern", true, None),
        ("1980", true, None),
        ("26.11.198", true, None),
        ("", true, None),
    ];
    for &(s, past, want) in cases {
        assert_eq!(parse_date_de(s, today(), past), want, "{s:?} past={past}");
    }
    let p = plan(&fixture("dates.csv"), &[], &ImportOptions::new(today()));
    let got: Vec<_> = p
        .inserts
        .iter()
        .map(|r| (r.person.last_name.as_str(), r.sensitive.birth_date))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Alt", Some(d(1926, 11, 26))),
            ("Kurz", Some(d(2026, 11, 26))),
            ("Iso", Some(d(2026, 11, 26))),
            ("Ohne", Some(d(1970, 1, 6))),
            ("Schalt", Some(d(2000, 2, 29))),
            ("Zeit", Some(d(1980, 11, 26))),
        ]
    );
    let errs: Vec<_> = p
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_deref()))
        .collect();
    assert_eq!(
        errs,
        vec![
            (7, Some("Geburtsdatum")),
            (8, Some("Geburtsdatum")),
            (9, Some("Geburtsdatum"))
        ]
    );
    assert!(p.errors[2].message.contains("Zukunft"));
}

#[test]
fn consent_values_table() {
    let cases: &[(&str, Option<Option<bool>>)] = &[
        ("ja", Some(Some(true))),
        ("JA", Some(Some(true))),
        ("x", Some(Some(true))),
        ("X", Some(Some(true))),
        ("1", Some(Some(true))),
        ("true", Some(Some(true))),
        ("Wahr", Some(Some(true))),
        ("nein", Some(Some(false))),
        ("0", Some(Some(false))),
        ("false", Some(Some(false))),
        ("n", Some(Some(false))),
        ("", Some(None)),
        ("  ", Some(None)),
        ("vielleicht", None),
        ("2", None),
    ];
    for &(s, want) in cases {
        assert_eq!(parse_consent_value(s).ok(), want, "{s:?}");
    }
    let csv = "Nachname;SMS erlaubt;E-Mail Geburtstag erlaubt\nA;vielleicht;ja\nB;ja;nein\n";
    let p = plan(csv.as_bytes(), &[], &ImportOptions::new(today()));
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].column.as_deref(), Some("SMS erlaubt"));
    assert!(p.errors[0].message.contains("Ja/Nein"));
    let b = &p.inserts[0];
    assert!(b
        .person
        .consents
        .allows(Channel::Sms, Purpose::AppointmentReminder));
    assert!(!b.person.consents.allows(Channel::Email, Purpose::Birthday));
}

#[test]
fn header_mapping_table() {
    use Field::*;
    let cases: &[(&str, Field)] = &[
        ("Name", FullName),
        ("Nachname", LastName),
        ("Vorname", FirstName),
        ("Anrede", Salutation),
        ("Eigene Anrede", OwnSalutation),
        ("Persönliche Anrede", OwnSalutation),
        ("Duzen", Du),
        ("Du", Du),
        ("Geschlecht", Gender),
        ("Titel", Title),
        ("Straße", Street),
        ("Strasse", Street),
        ("Str.", Street),
        ("Hausnummer", HouseNumber),
        ("Hausnr.", HouseNumber),
        ("PLZ", Postcode),
        ("Postleitzahl", Postcode),
        ("Ort", City),
        ("PLZ/Ort", PostcodeCity),
        ("Land", Country),
        ("E-Mail", Email),
        ("E-Mail-Adresse", Email),
        ("Handy", Mobile),
        ("Mobil", Mobile),
        ("Mobiltelefon", Mobile),
        ("Telefon", Landline),
        ("Tel. privat", Landline),
        ("Geburtsdatum", BirthDate),
        ("Geb.-Datum", BirthDate),
        ("Beruf", Profession),
        ("Versicherung", InsuranceKind),
        ("Krankenkasse", InsuranceKind),
        ("Versichertennummer", InsuranceNumber),
        ("Patientennummer", ExternalId),
        ("Pat.-Nr.", ExternalId),
        ("ID", ExternalId),
        ("SMS erlaubt", Consent(Channel::Sms, None)),
        ("E-Mail erlaubt", Consent(Channel::Email, None)),
        ("Brief erlaubt", Consent(Channel::Letter, None)),
        ("Post erlaubt", Consent(Channel::Letter, None)),
        (
            "Einwilligung SMS Terminerinnerung",
            Consent(Channel::Sms, Some(Purpose::AppointmentReminder)),
        ),
        (
            "E-Mail Recall erlaubt",
            Consent(Channel::Email, Some(Purpose::Recall)),
        ),
        ("Einwilligung erteilt am", ConsentDate),
        ("Merkmale", Tags),
        ("Diagnose", Treatment),
        ("Diagnosen", Treatment),
        ("Anamnese", Treatment),
        ("Therapie", Treatment),
        ("Befund", Treatment),
        ("Behandlung", Treatment),
        ("Medikation", Treatment),
        ("ICD-10", Treatment),
        ("Bemerkung", Treatment),
        ("Notes", Treatment),
        ("First name", FirstName),
        ("Last name", LastName),
        ("Date of birth", BirthDate),
        ("Zip", Postcode),
        ("Phone", Landline),
        ("Email", Email),
        ("Lieblingsfarbe", Ignore),
    ];
    for &(h, want) in cases {
        let m = Mapping::auto(&[h.to_string()], ImportKind::Persons);
        assert_eq!(m.columns[0].field, want, "{h}");
    }
    // "Name" is the last name when a first-name column exists.
    let m = Mapping::auto(
        &["Vorname".to_string(), "Name".to_string()],
        ImportKind::Persons,
    );
    assert_eq!(m.columns[1].field, LastName);
    // Appointments: therapist is not treatment data.
    for (h, want) in [
        ("Therapeut", Therapist),
        ("Behandler", Therapist),
        ("Raum", Location),
        ("Datum", Date),
        ("Uhrzeit", StartTime),
        ("Befund", Treatment),
        ("Patientennummer", PersonRef),
    ] {
        let m = Mapping::auto(&[h.to_string()], ImportKind::Appointments);
        assert_eq!(m.columns[0].field, want, "{h}");
    }
}

#[test]
fn mapping_can_be_fixed_but_never_imports_treatment_data() {
    let headers: Vec<String> = ["Feld1", "Feld2", "Diagnose", "E-Mail"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut m = Mapping::auto(&headers, ImportKind::Persons);
    assert_eq!(m.columns[0].field, Field::Ignore);
    m.set(0, Field::LastName).unwrap();
    m.set(1, Field::FirstName).unwrap();
    let err = m.set(2, Field::Email).unwrap_err();
    assert!(err.contains("Behandlungsdaten"), "{err}");
    assert_eq!(m.columns[2].field, Field::Treatment);
    // Moving a field to another column releases the old one.
    m.set(1, Field::Email).unwrap();
    assert_eq!(m.columns[3].field, Field::Ignore);
    assert_eq!(m.columns[1].field, Field::Email);
    assert!(m.set(9, Field::City).is_err());
    assert!(
        m.set(0, Field::Therapist).is_err(),
        "appointment field in person import"
    );
    // A column the user marks as treatment data stays excluded.
    m.set(0, Field::Treatment).unwrap();
    assert_eq!(m.treatment_columns(), vec!["Feld1", "Diagnose"]);

    let csv = "Feld1;Feld2;Diagnose;E-Mail\nMüller;a@b.example;Rückenschmerz;x@y.example\n";
    let table = read_table(csv.as_bytes()).unwrap();
    let mut m = Mapping::auto(&table.headers, ImportKind::Persons);
    assert!(
        plan_person_import(&table, &m, &[], &ImportOptions::new(today()), &mut ids())
            .unwrap_err()
            .contains("Namen")
    );
    m.set(0, Field::LastName).unwrap();
    let p = plan_person_import(&table, &m, &[], &ImportOptions::new(today()), &mut ids()).unwrap();
    assert_eq!(p.inserts[0].person.email, "x@y.example");
    assert!(!format!("{:?}", p).contains("Rückenschmerz"));
    assert!(p.summary_de().contains("Diagnose"));
}

#[test]
fn preview_shows_first_rows() {
    let table = read_table(&fixture("patients_utf8_semicolon.csv")).unwrap();
    let pv = table.preview(3);
    assert_eq!(pv.len(), 3);
    assert_eq!(pv[0].len(), table.headers.len());
    assert_eq!(pv[2][3], "Ayşe");
    assert_eq!(pv[0][15], "Lumbago,\nchronisch");
    assert_eq!(table.delimiter_label_de(), "Semikolon");
}

fn existing_person(
    id: &str,
    ext: Option<&str>,
    first: &str,
    last: &str,
    bd: NaiveDate,
) -> PersonRecord {
    let mut r = PersonRecord::default();
    r.person.id = PersonId(id.into());
    r.person.first_name = first.into();
    r.person.last_name = last.into();
    r.person.external_id = ext.map(Into::into);
    r.person.email = "alt@example.com".into();
    r.person.consents.grant(
        Channel::Sms,
        Purpose::AppointmentReminder,
        d(2020, 1, 1),
        Evidence::Verbal,
    );
    r.sensitive.birth_date = Some(bd);
    r
}

#[test]
fn duplicates_update_or_skip() {
    let existing = vec![
        existing_person("e1", Some("1001"), "Anna", "Müller", d(1980, 11, 26)),
        // Matched by name + birth date (different external id absent).
        existing_person("e2", None, "jürgen", "WEISS", d(1955, 2, 1)),
        existing_person("e3", None, "Jürgen", "Weiß", d(1955, 2, 1)),
    ];
    let bytes = fixture("patients_utf8_semicolon.csv");

    // Default: skip.
    let p = plan(&bytes, &existing, &ImportOptions::new(today()));
    assert_eq!(p.inserts.len(), 6);
    assert!(p.updates.is_empty());
    assert_eq!(p.duplicates.len(), 2);
    assert_eq!(p.duplicates[0].existing, PersonId("e1".into()));
    assert_eq!(p.duplicates[0].reason, DuplicateReason::ExternalId);
    assert_eq!(p.duplicates[1].existing, PersonId("e3".into()));
    assert_eq!(p.duplicates[1].reason, DuplicateReason::NameAndBirthDate);
    assert_eq!(p.skipped.len(), 2);
    assert!(p.skipped[0].reason.contains("existiert bereits"));

    // Update, with a per-row override to skip Jürgen (data row 2).
    let mut o = ImportOptions::new(today());
    o.on_duplicate = DuplicateAction::Update;
    o.duplicate_overrides.insert(2, DuplicateAction::Skip);
    let p = plan(&bytes, &existing, &o);
    assert_eq!(p.updates.len(), 1);
    assert_eq!(p.skipped.len(), 1);
    let u = &p.updates[0];
    assert_eq!(u.person.id, PersonId("e1".into()));
    assert_eq!(u.person.email, "anna.mueller@gmx.example");
    assert_eq!(u.person.address.city, "Köln");
    // The old consent keeps its date and evidence; new ones are added.
    let sms = u
        .person
        .consents
        .status(Channel::Sms, Purpose::AppointmentReminder)
        .grant()
        .unwrap();
    assert_eq!(
        (sms.given_at, sms.evidence),
        (d(2020, 1, 1), Evidence::Verbal)
    );
    assert!(u
        .person
        .consents
        .allows(Channel::Email, Purpose::AppointmentReminder));

    // "nein" withdraws an existing consent on update.
    let mut o = ImportOptions::new(today());
    o.on_duplicate = DuplicateAction::Update;
    let p = plan(&bytes, &existing[2..], &o);
    let w = &p.updates[0];
    assert_eq!(w.person.id, PersonId("e3".into()));
    assert_eq!(
        w.person
            .consents
            .status(Channel::Sms, Purpose::AppointmentReminder),
        ConsentStatus::Withdrawn {
            grant: existing[2]
                .person
                .consents
                .status(Channel::Sms, Purpose::AppointmentReminder)
                .grant(),
            withdrawn_at: today(),
            source: ConsentSource::Import,
        }
    );
}

#[test]
fn duplicates_within_the_file_are_skipped() {
    let csv = "Nr;Vorname;Nachname;Geburtsdatum\n1;Anna;Müller;1.1.1980\n2;Anna;Müller;01.01.1980\n1;Bert;Anders;\n3;Anna;Müller;02.01.1980\n";
    let p = plan(csv.as_bytes(), &[], &ImportOptions::new(today()));
    assert_eq!(p.inserts.len(), 2);
    assert_eq!(p.skipped.len(), 2);
    assert!(
        p.skipped[0].reason.contains("wie Zeile 2"),
        "{:?}",
        p.skipped
    );
    assert!(p.skipped[1].reason.contains("Patientennummer"));
}

#[test]
fn contact_data_validation_table() {
    // (Handy, Telefon, E-Mail) → (mobile, landline, email, warnings)
    type Expected<'a> = (&'a str, &'a str, &'a str, usize);
    let cases: &[(&str, &str, &str, Expected)] = &[
        (
            "0171 1234567",
            "",
            "a@b.example",
            ("0171 1234567", "", "a@b.example", 0),
        ),
        ("", "0171/1234567", "", ("0171/1234567", "", "", 1)),
        ("0221 4710123", "", "", ("", "0221 4710123", "", 1)),
        ("+43 664 1234567", "", "", ("+43 664 1234567", "", "", 0)),
        ("0048 601 234 567", "", "", ("0048 601 234 567", "", "", 0)),
        ("weiß nicht", "", "kein@", ("", "", "", 2)),
        ("", "", "anna müller@x.example", ("", "", "", 1)),
    ];
    for &(mobile, tel, email, (wm, wl, we, nw)) in cases {
        let csv = format!("Nachname;Handy;Telefon;E-Mail\nX;{mobile};{tel};{email}\n");
        let p = plan(csv.as_bytes(), &[], &ImportOptions::new(today()));
        let r = &p.inserts[0].person;
        assert_eq!(
            (
                r.mobile.as_str(),
                r.landline.as_str(),
                r.email.as_str(),
                p.warnings.len()
            ),
            (wm, wl, we, nw),
            "{mobile:?} {tel:?} {email:?}: {:?}",
            p.warnings
        );
    }
}

#[test]
fn names_and_streets_table() {
    let names: &[(&str, (&str, &str, &str))] = &[
        ("Müller, Anna", ("", "Anna", "Müller")),
        ("Müller, Dr. Anna", ("Dr.", "Anna", "Müller")),
        ("Dr. Anna Müller", ("Dr.", "Anna", "Müller")),
        (
            "Prof. Dr. Jürgen Weißmüller",
            ("Prof. Dr.", "Jürgen", "Weißmüller"),
        ),
        ("Anna Maria Schmidt", ("", "Anna Maria", "Schmidt")),
        ("Anna von Bülow", ("", "Anna", "von Bülow")),
        ("Yılmaz", ("", "", "Yılmaz")),
    ];
    for &(s, (t, f, l)) in names {
        let (a, b, c) = split_full_name(s);
        assert_eq!((a.as_str(), b.as_str(), c.as_str()), (t, f, l), "{s}");
    }
    let streets: &[(&str, (&str, &str))] = &[
        ("Hauptstraße 12", ("Hauptstraße", "12")),
        ("Hauptstraße 12a", ("Hauptstraße", "12a")),
        ("Hauptstr. 12 a", ("Hauptstr.", "12 a")),
        ("Am Weißen Haus 3-5", ("Am Weißen Haus", "3-5")),
        ("Straße des 17. Juni 5", ("Straße des 17. Juni", "5")),
        ("Straße des 17. Juni", ("Straße des 17. Juni", "")),
        ("Q 7 12", ("Q 7", "12")),
        ("Marktplatz", ("Marktplatz", "")),
    ];
    for &(s, (st, nr)) in streets {
        let (a, b) = split_street(s);
        assert_eq!((a.as_str(), b.as_str()), (st, nr), "{s}");
    }
    assert_eq!(
        split_postcode_city("50667 Köln"),
        ("50667".to_string(), "Köln".to_string())
    );
    for (s, g) in [
        ("w", Some(Gender::Female)),
        ("Männlich", Some(Gender::Male)),
        ("d", Some(Gender::Diverse)),
        ("unbekannt", Some(Gender::Unknown)),
        ("", None),
    ] {
        assert_eq!(parse_gender(s).unwrap(), g, "{s}");
    }
    assert!(parse_gender("Katze").is_err());
}

#[test]
fn appointment_import() {
    let persons = plan(
        &fixture("patients_utf8_semicolon.csv"),
        &[],
        &ImportOptions::new(today()),
    )
    .inserts;
    let table = read_table(&fixture("appointments.csv")).unwrap();
    let mapping = Mapping::auto(&table.headers, ImportKind::Appointments);
    assert_eq!(mapping.treatment_columns(), vec!["Befund"]);
    let mut n = 0;
    let p = plan_appointment_import(
        &table,
        &mapping,
        &persons,
        &AppointmentImportOptions::new(today()),
        &mut || {
            n += 1;
            AppointmentId(format!("a{n}"))
        },
    )
    .unwrap();
    assert_eq!(p.inserts.len(), 3, "{:?}", p.errors);
    let a = &p.inserts[0];
    assert_eq!(a.person_id, find(&persons, "Müller").person.id);
    assert_eq!(a.start, d(2026, 11, 27).and_hms_opt(8, 30, 0).unwrap());
    assert_eq!(a.end, d(2026, 11, 27).and_hms_opt(9, 0, 0).unwrap());
    assert_eq!(a.therapist, "Sabine Sonnenberg");
    assert_eq!(a.location, "Raum 1");
    assert_eq!(p.inserts[1].status, AppointmentStatus::Cancelled);
    assert_eq!(
        p.inserts[1].end - p.inserts[1].start,
        chrono::Duration::minutes(45)
    );
    assert_eq!(
        p.inserts[2].start,
        d(2026, 11, 28).and_hms_opt(11, 0, 0).unwrap()
    );
    assert_eq!(p.inserts[2].status, AppointmentStatus::Done);
    let errs: Vec<_> = p
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_deref()))
        .collect();
    assert_eq!(errs, vec![(4, Some("Patientennummer")), (5, Some("Datum"))]);
    assert!(p.errors[0].message.contains("9999"));
    assert!(!format!("{p:?}").contains("nicht importieren"));
}

#[test]
fn demo_practice_round_trips_through_csv() {
    let demo = crate::domain::demo::generate(3, today());
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    w.write_record([
        "Pat.-Nr.",
        "Titel",
        "Vorname",
        "Nachname",
        "Geschlecht",
        "Straße",
        "PLZ",
        "Ort",
        "Geburtsdatum",
        "Handy",
        "Telefon",
        "E-Mail",
    ])
    .unwrap();
    for r in &demo.persons {
        let p = &r.person;
        let g = match p.gender {
            Gender::Female => "w",
            Gender::Male => "m",
            Gender::Diverse => "d",
            Gender::Unknown => "",
        };
        let street = format!("{} {}", p.address.street, p.address.house_number);
        w.write_record([
            p.external_id.as_deref().unwrap_or(""),
            &p.title,
            &p.first_name,
            &p.last_name,
            g,
            street.trim(),
            &p.address.postcode,
            &p.address.city,
            &r.sensitive
                .birth_date
                .map(|d| d.format("%d.%m.%Y").to_string())
                .unwrap_or_default(),
            &p.mobile,
            &p.landline,
            &p.email,
        ])
        .unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let p = plan(&bytes, &[], &ImportOptions::new(today()));
    assert!(
        p.errors.is_empty(),
        "{:?}",
        &p.errors[..p.errors.len().min(5)]
    );
    // Only the person entered twice is skipped (same name + birth date).
    assert_eq!(p.inserts.len() + p.skipped.len(), demo.persons.len());
    assert_eq!(p.skipped.len(), 1, "{:?}", p.skipped);
    for (a, b) in demo
        .persons
        .iter()
        .filter(|r| r.person.external_id.as_deref() != Some("P-19999"))
        .zip(&p.inserts)
    {
        assert_eq!(a.person.first_name, b.person.first_name);
        assert_eq!(a.person.last_name, b.person.last_name);
        assert_eq!(a.person.gender, b.person.gender);
        assert_eq!(a.sensitive.birth_date, b.sensitive.birth_date);
        assert_eq!(a.person.email, b.person.email);
        assert_eq!(a.person.address.street, b.person.address.street);
    }
}

#[test]
fn chunked_planning_equals_one_shot() {
    let bytes = fixture("patients_utf8_semicolon.csv");
    let table = read_table(&bytes).unwrap();
    let mapping = Mapping::auto(&table.headers, ImportKind::Persons);
    let existing = vec![existing_person("e1", Some("1002"), "X", "Y", d(1950, 1, 1))];
    let mut o = ImportOptions::new(today());
    o.on_duplicate = DuplicateAction::Update;
    let whole = plan_person_import(&table, &mapping, &existing, &o, &mut ids()).unwrap();
    let mut planner = PersonPlanner::new(&table, &mapping, &existing, &o).unwrap();
    let mut next = ids();
    for chunk in table.rows.chunks(3) {
        planner.process(chunk, &mut next);
    }
    assert_eq!(planner.processed(), table.rows.len());
    let chunked = planner.finish();
    assert_eq!(chunked, whole);
    assert_eq!(whole.updates.len(), 1);
    assert_eq!(whole.inserts.len(), 7);
}

#[test]
fn utf8_input_is_not_copied() {
    let bytes = "Nachname;Ort\nMüller;Köln\n".as_bytes();
    let decoded = decode(bytes).unwrap();
    assert!(matches!(decoded.text, std::borrow::Cow::Borrowed(_)));
    let decoded = decode(&[0xFF, 0xFE, b'a', 0]).unwrap();
    assert_eq!(decoded.text, "a");
    assert_eq!(decoded.encoding.label_de(), "UTF-16 LE");
}

#[test]
fn ascii_utf16_without_bom_is_not_binary() {
    let text = "Nachname;Ort\r\nMueller;Koeln\r\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    for (bytes, enc) in [(le, TextEncoding::Utf16Le), (be, TextEncoding::Utf16Be)] {
        let t = read_table(&bytes).unwrap();
        assert_eq!(t.encoding, enc);
        assert_eq!(t.rows[0].get(0), "Mueller");
    }
}

#[test]
fn unclosed_quote_is_reported() {
    let mut csv = String::from("Nachname;Vorname;Ort\nMüller;\"Anna;Köln\n");
    for i in 0..30 {
        csv.push_str(&format!("Name{i};Vorname{i};Bonn\n"));
    }
    let p = plan(csv.as_bytes(), &[], &ImportOptions::new(today()));
    assert!(p.inserts.is_empty());
    assert_eq!(p.errors.len(), 1);
    let msg = p.errors[0].to_string();
    assert!(msg.starts_with("Zeile 2"), "{msg}");
    assert!(
        msg.contains("Anführungszeichen wird nicht geschlossen"),
        "{msg}"
    );
    assert!(msg.contains("30 Zeilen"), "{msg}");
    // Also when the quote is in the last column (the row has the right column count).
    let mut csv = String::from("Nachname;Vorname;Ort\nMüller;Anna;\"Köln\n");
    for i in 0..30 {
        csv.push_str(&format!("Name{i};Vorname{i};Bonn\n"));
    }
    let p = plan(csv.as_bytes(), &[], &ImportOptions::new(today()));
    assert!(p.inserts.is_empty());
    assert!(p.errors[0].message.contains("nicht geschlossen"));
    // A long multi-line note without delimiters is fine.
    let note = (0..30)
        .map(|i| format!("Notizzeile {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    let csv = format!("Nachname;Vorname;Adresszusatz\nMüller;Anna;\"{note}\"\n");
    let p = plan(csv.as_bytes(), &[], &ImportOptions::new(today()));
    assert_eq!(p.inserts.len(), 1);
}

#[test]
fn legitimate_a_tilde_is_not_double_encoding() {
    let t = read_table("Nachname;Ort\nSÃO;Lisboa\nJoÃo;Porto\n".as_bytes()).unwrap();
    assert_eq!(t.rows[0].get(0), "SÃO");
}

/// Windows exports end lines with CRLF: rows must still report their physical line.
#[test]
fn crlf_line_numbers_match_lf() {
    for (text, want) in [
        (&b"a;b\r\nx;1\r\ny;2\r\n\r\nz;3\r\n"[..], vec![2u64, 3, 5]),
        (&b"a;b\nx;1\ny;2\n\nz;3\n"[..], vec![2, 3, 5]),
        (&b"a;b\r\nx;\"1\r\n2\"\r\ny;2\r\n"[..], vec![2, 4]),
    ] {
        let t = read_table(text).unwrap();
        assert_eq!(t.header_line, 1);
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, want, "{}", String::from_utf8_lossy(text));
    }
}

#[test]
fn file_formats_are_detected_from_content_then_name() {
    let gdt = xdt::line("8000", b"6301");
    let cases: &[(&str, &[u8], FileFormat)] = &[
        ("export.txt", &gdt, FileFormat::Xdt),
        ("PATIENT.GDT", b"garbage", FileFormat::Xdt),
        ("daten.bdt", b"", FileFormat::Xdt),
        ("kalender.ics", b"", FileFormat::Calendar),
        (
            "export.txt",
            b"BEGIN:VCALENDAR\r\nVERSION:2.0",
            FileFormat::Calendar,
        ),
        (
            "\u{feff}x.txt",
            b"\xef\xbb\xbfBEGIN:VCALENDAR",
            FileFormat::Calendar,
        ),
        (
            "Liste.XLSX",
            b"PK\x03\x04",
            FileFormat::Sheet(SheetFormat::Xlsx),
        ),
        ("liste.xls", b"", FileFormat::Sheet(SheetFormat::Xls)),
        ("liste.ods", b"", FileFormat::Sheet(SheetFormat::Ods)),
        ("liste.csv", b"Name;Vorname", FileFormat::Csv),
        ("liste", b"Name;Vorname", FileFormat::Csv),
    ];
    for &(name, bytes, want) in cases {
        assert_eq!(detect_format(name, bytes), want, "{name}");
    }
}

#[test]
fn own_salutation_and_du_columns() {
    let csv = "Nachname;Vorname;Geburtsdatum;Eigene Anrede;Duzen\n\
               Weber;Tim;01.02.1990;Hallo Tim;ja\n\
               Krause;Eva;01.01.1980;;nein\n\
               Kurz;Ole;03.03.1970;Moin Ole;vielleicht\n";
    let p = plan(csv.as_bytes(), &[], &ImportOptions::new(today()));
    let tim = find(&p.inserts, "Weber");
    assert_eq!(
        (tim.person.salutation.as_str(), tim.person.du),
        ("Hallo Tim", true)
    );
    let eva = find(&p.inserts, "Krause");
    assert_eq!((eva.person.salutation.as_str(), eva.person.du), ("", false));
    // Not a yes/no value: the row is reported, not imported.
    assert!(p.inserts.iter().all(|r| r.person.last_name != "Kurz"));
    assert_eq!(p.errors.len(), 1);

    // An update sets them; an empty cell keeps what is stored.
    let mut existing = existing_person("e1", None, "Eva", "Krause", d(1980, 1, 1));
    existing.person.salutation = "Liebe Eva".into();
    existing.person.du = true;
    let mut o = ImportOptions::new(today());
    o.on_duplicate = DuplicateAction::Update;
    let p = plan(csv.as_bytes(), &[existing], &o);
    assert_eq!(p.updates.len(), 1, "{:?}", p.duplicates);
    let u = &p.updates[0];
    assert_eq!(u.person.salutation, "Liebe Eva");
    assert!(!u.person.du, "'nein' switches Du off");
}
