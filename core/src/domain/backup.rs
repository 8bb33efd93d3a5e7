//! The backup file: one versioned JSON document with all data of the practice, and its
//! forward migration from older format versions.
//!
//! Layout (version 3, current):
//! ```json
//! { "format": "praxisbote-backup", "version": 3, "created_at": "2026-11-26T14:00:00",
//!   "settings": {…} | null, "persons": [PersonRecord…], "appointments": [Appointment…],
//!   "documents": { "templates": […], "queries": […], "outbox": […], "sendlog": […] } }
//! ```
//! `documents` holds the stores owned by other modules as opaque JSON documents, by store
//! name, so the backup does not need to know their types.
//!
//! Version 1 (the first layout) kept the sensitive data flat on each person
//! (`birth_date`, `profession`, `insurance_kind`, `insurance_number` next to the name) and
//! the other stores as top-level arrays (`templates`, `sendlog`). Version 2 kept one consent
//! per channel × purpose (`given_at`, `evidence`, `withdrawn_at`, `withdrawn_source`);
//! version 3 keeps each cell's history of events (`domain::consent`). [`migrate`] steps a
//! document forward one version at a time; each step has its own test. Version 2 → 3 only
//! changes the version: the person records' old consent cells are read into events by
//! their deserializer (the same one the storage uses), so both paths share one conversion.
//! An older app refuses a version 3 file as "too new" instead of misreading it.

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::{Appointment, PersonRecord, PracticeSettings};

/// Value of the `format` field.
pub const FORMAT: &str = "praxisbote-backup";
/// The version [`export`] writes.
pub const CURRENT_VERSION: u64 = 3;
/// Days after which the app reminds the user to make a backup.
pub const REMINDER_DAYS: i64 = 7;

/// Everything a backup holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    pub format: String,
    pub version: u64,
    pub created_at: NaiveDateTime,
    #[serde(default)]
    pub settings: Option<PracticeSettings>,
    #[serde(default)]
    pub persons: Vec<PersonRecord>,
    #[serde(default)]
    pub appointments: Vec<Appointment>,
    /// Other stores (templates, queries, outbox, send log …) as JSON documents.
    #[serde(default)]
    pub documents: BTreeMap<String, Vec<Value>>,
}

impl Backup {
    /// A current-version backup of the given data.
    pub fn new(
        created_at: NaiveDateTime,
        settings: Option<PracticeSettings>,
        persons: Vec<PersonRecord>,
        appointments: Vec<Appointment>,
        documents: BTreeMap<String, Vec<Value>>,
    ) -> Self {
        Backup {
            format: FORMAT.to_string(),
            version: CURRENT_VERSION,
            created_at,
            settings,
            persons,
            appointments,
            documents,
        }
    }

    /// Suggested file name: `praxisbote-sicherung-2026-11-26.json`.
    pub fn file_name(&self) -> String {
        format!(
            "praxisbote-sicherung-{}.json",
            self.created_at.date().format("%Y-%m-%d")
        )
    }

    /// File name of the encrypted form: `praxisbote-sicherung-2026-11-26-verschluesselt.json`.
    pub fn encrypted_file_name(&self) -> String {
        format!(
            "praxisbote-sicherung-{}-verschluesselt.json",
            self.created_at.date().format("%Y-%m-%d")
        )
    }
}

/// Why a backup file cannot be restored (German messages).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    #[error("Die Datei ist keine gültige JSON-Datei (Zeile {line}, Spalte {column}).")]
    NotJson { line: usize, column: usize },
    #[error("Die Datei ist keine praxisbote-Sicherung.")]
    NotABackup,
    #[error(
        "Die Sicherung stammt von einer neueren Version von praxisbote (Format {found}, \
         unterstützt bis {supported}). Bitte aktualisieren Sie die App."
    )]
    TooNew { found: u64, supported: u64 },
    #[error("Die Sicherung hat ein unbekanntes Format (Version {0}).")]
    UnknownVersion(u64),
    #[error("Die Sicherung ist beschädigt: {0}")]
    Invalid(String),
}

impl crate::domain::message::UiMessage for BackupError {
    fn key(&self) -> &'static str {
        match self {
            BackupError::NotJson { .. } => "domain.backup.not_json",
            BackupError::NotABackup => "domain.backup.not_a_backup",
            BackupError::TooNew { .. } => "domain.backup.too_new",
            BackupError::UnknownVersion(_) => "domain.backup.unknown_version",
            BackupError::Invalid(_) => "domain.backup.invalid",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            BackupError::NotJson { line, column } => {
                vec![("line", line.to_string()), ("column", column.to_string())]
            }
            BackupError::NotABackup => vec![],
            BackupError::TooNew { found, supported } => vec![
                ("found", found.to_string()),
                ("supported", supported.to_string()),
            ],
            BackupError::UnknownVersion(v) => vec![("version", v.to_string())],
            BackupError::Invalid(e) => vec![("error", e.clone())],
        }
    }
}

/// Serialises a backup as compact JSON.
pub fn export(backup: &Backup) -> String {
    serde_json::to_string(backup).expect("backup data is always serialisable")
}

/// Parses a backup file of any supported version, migrates it to the current version and
/// checks its consistency (unique ids, appointments referencing existing persons).
pub fn parse(json: &str) -> Result<Backup, BackupError> {
    let value: Value = serde_json::from_str(json).map_err(|e| BackupError::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let value = migrate(value)?;
    let backup: Backup =
        serde_json::from_value(value).map_err(|e| BackupError::Invalid(e.to_string()))?;
    validate(&backup)?;
    Ok(backup)
}

fn version_of(v: &Value) -> Result<u64, BackupError> {
    let obj = v.as_object().ok_or(BackupError::NotABackup)?;
    if obj.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(BackupError::NotABackup);
    }
    obj.get("version")
        .and_then(Value::as_u64)
        .ok_or(BackupError::NotABackup)
}

/// Steps a backup document forward to [`CURRENT_VERSION`].
pub fn migrate(mut v: Value) -> Result<Value, BackupError> {
    loop {
        let version = version_of(&v)?;
        v = match version {
            CURRENT_VERSION => return Ok(v),
            1 => v1_to_v2(v)?,
            2 => v2_to_v3(v)?,
            n if n > CURRENT_VERSION => {
                return Err(BackupError::TooNew {
                    found: n,
                    supported: CURRENT_VERSION,
                })
            }
            n => return Err(BackupError::UnknownVersion(n)),
        };
    }
}

/// Version 1 → 2: sensitive fields move from the person into `sensitive`; top-level store
/// arrays move into `documents`.
fn v1_to_v2(v: Value) -> Result<Value, BackupError> {
    let Value::Object(mut root) = v else {
        return Err(BackupError::NotABackup);
    };
    let persons = match root.remove("persons") {
        Some(Value::Array(list)) => list,
        None => Vec::new(),
        Some(_) => return Err(BackupError::Invalid("„persons“ ist keine Liste".into())),
    };
    let mut out = Vec::with_capacity(persons.len());
    for p in persons {
        let Value::Object(mut person) = p else {
            return Err(BackupError::Invalid("eine Person ist kein Objekt".into()));
        };
        let mut sensitive = Map::new();
        for key in [
            "birth_date",
            "profession",
            "insurance_kind",
            "insurance_number",
        ] {
            if let Some(x) = person.remove(key) {
                sensitive.insert(key.to_string(), x);
            }
        }
        let mut rec = Map::new();
        rec.insert("person".into(), Value::Object(person));
        rec.insert("sensitive".into(), Value::Object(sensitive));
        out.push(Value::Object(rec));
    }
    root.insert("persons".into(), Value::Array(out));
    let mut documents = Map::new();
    for store in ["templates", "queries", "outbox", "sendlog"] {
        if let Some(x) = root.remove(store) {
            documents.insert(store.to_string(), x);
        }
    }
    root.insert("documents".into(), Value::Object(documents));
    root.insert("version".into(), Value::from(2u64));
    Ok(Value::Object(root))
}

/// Version 2 → 3: consent cells become event histories. The records keep their JSON; the
/// person deserializer converts an old cell into events.
fn v2_to_v3(v: Value) -> Result<Value, BackupError> {
    let Value::Object(mut root) = v else {
        return Err(BackupError::NotABackup);
    };
    root.insert("version".into(), Value::from(3u64));
    Ok(Value::Object(root))
}

fn validate(b: &Backup) -> Result<(), BackupError> {
    let mut ids = HashSet::new();
    for p in &b.persons {
        if p.person.id.0.is_empty() {
            return Err(BackupError::Invalid("eine Person hat keine Id".into()));
        }
        if !ids.insert(&p.person.id) {
            return Err(BackupError::Invalid(format!(
                "die Person-Id {} kommt doppelt vor",
                p.person.id
            )));
        }
    }
    let mut appointment_ids = HashSet::new();
    for a in &b.appointments {
        if !appointment_ids.insert(&a.id) {
            return Err(BackupError::Invalid(format!(
                "die Termin-Id {} kommt doppelt vor",
                a.id
            )));
        }
        if !ids.contains(&a.person_id) {
            return Err(BackupError::Invalid(format!(
                "der Termin {} verweist auf die unbekannte Person {}",
                a.id, a.person_id
            )));
        }
    }
    Ok(())
}

/// True when the reminder "Letzte Sicherung ist älter als 7 Tage" should show.
pub fn backup_due(last_backup: Option<NaiveDate>, today: NaiveDate) -> bool {
    match last_backup {
        None => true,
        Some(d) => today - d > Duration::days(REMINDER_DAYS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::demo;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn sample() -> Backup {
        let d = demo::generate(21, today());
        let mut documents = BTreeMap::new();
        documents.insert(
            "templates".to_string(),
            vec![
                json!({"id": "t1", "name": "Terminerinnerung", "channel": "sms",
                        "body": "Hallo {{person.vorname}}, morgen um {{termin.uhrzeit}} …"}),
            ],
        );
        documents.insert(
            "sendlog".to_string(),
            vec![json!({"id": "s1", "person_id": d.persons[0].person.id, "status": "sent"})],
        );
        Backup::new(
            today().and_hms_opt(14, 0, 0).unwrap(),
            Some(d.settings),
            d.persons,
            d.appointments,
            documents,
        )
    }

    #[test]
    fn round_trip_keeps_everything() {
        let b = sample();
        let json = export(&b);
        let back = parse(&json).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.version, CURRENT_VERSION);
        assert_eq!(back.file_name(), "praxisbote-sicherung-2026-11-26.json");
        // Unicode survives (names with ı, ł, ß …).
        assert!(json.contains("Yılmaz"));
    }

    #[test]
    fn migrates_version_1() {
        let v1 = json!({
            "format": "praxisbote-backup",
            "version": 1,
            "created_at": "2025-03-01T10:00:00",
            "settings": null,
            "persons": [{
                "id": "p1", "kind": "patient", "first_name": "Anna", "last_name": "Müller",
                "gender": "female", "email": "anna@example.com",
                "birth_date": "1980-11-26", "profession": "Lehrerin",
                "insurance_kind": "statutory", "insurance_number": "A123456780"
            }],
            "appointments": [{
                "id": "a1", "person_id": "p1", "start": "2025-03-02T08:00:00",
                "end": "2025-03-02T08:30:00", "therapist": "Jonas Weber", "location": "Raum 1",
                "kind": "Massage", "status": "done"
            }],
            "templates": [{"id": "t1"}],
            "sendlog": [{"id": "s1"}, {"id": "s2"}]
        });
        let migrated = migrate(v1.clone()).unwrap();
        assert_eq!(migrated["version"], CURRENT_VERSION);
        assert_eq!(
            migrated["persons"][0]["sensitive"]["profession"],
            "Lehrerin"
        );
        assert!(migrated["persons"][0]["person"].get("birth_date").is_none());
        let b = parse(&v1.to_string()).unwrap();
        let p = &b.persons[0];
        assert_eq!(p.person.last_name, "Müller");
        assert_eq!(
            p.sensitive.birth_date,
            NaiveDate::from_ymd_opt(1980, 11, 26)
        );
        assert_eq!(p.sensitive.insurance_number, "A123456780");
        assert_eq!(b.documents["sendlog"].len(), 2);
        assert_eq!(b.documents["templates"][0]["id"], "t1");
        assert_eq!(b.appointments[0].person_id, p.person.id);
        // A migrated backup exports as the current version and round-trips.
        assert_eq!(parse(&export(&b)).unwrap(), b);
    }

    /// A version 2 backup as the app wrote it (one consent per cell): it restores with the
    /// consents as events.
    #[test]
    fn migrates_version_2_consents_into_events() {
        use crate::domain::model::{
            Channel, ConsentEvent, ConsentSource, ConsentStatus, Evidence, Purpose,
        };
        let v2 = r#"{"format":"praxisbote-backup","version":2,
            "created_at":"2026-01-05T09:00:00","settings":null,
            "persons":[{"person":{"id":"p1","kind":"patient","title":"","first_name":"Anna",
                "last_name":"Müller","gender":"female","address":{"street":"","house_number":"",
                "extra":"","postcode":"","city":"","country":""},"email":"anna@example.org",
                "mobile":"","landline":"","tags":[],"consents":[
                {"channel":"email","purpose":"birthday","given_at":"2025-03-04",
                 "evidence":"double_opt_in","withdrawn_at":"2025-12-24",
                 "withdrawn_source":"unsubscribe_link"},
                {"channel":"email","purpose":"appointment_reminder","given_at":"2025-03-04",
                 "evidence":"written_form","withdrawn_at":null,"withdrawn_source":null}],
                "external_id":null},
              "sensitive":{"birth_date":null,"profession":"","insurance_kind":"unknown",
                "insurance_number":""}}],
            "appointments":[],"documents":{}}"#;
        let b = parse(v2).unwrap();
        assert_eq!(b.version, CURRENT_VERSION);
        let c = &b.persons[0].person.consents;
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            c.events(Channel::Email, Purpose::Birthday),
            [
                ConsentEvent::granted(
                    d(2025, 3, 4),
                    Evidence::DoubleOptIn,
                    ConsentSource::Practice
                ),
                ConsentEvent::withdrawn(d(2025, 12, 24), ConsentSource::UnsubscribeLink),
            ]
        );
        assert!(matches!(
            c.status(Channel::Email, Purpose::Birthday),
            ConsentStatus::Withdrawn { .. }
        ));
        assert!(c.allows(Channel::Email, Purpose::AppointmentReminder));
        // Exported again: the current version with events, and it round-trips.
        let json = export(&b);
        assert!(json.contains(r#""version":3"#) && json.contains(r#""events""#));
        assert_eq!(parse(&json).unwrap(), b);
    }

    #[test]
    fn bad_files_are_refused_with_german_messages() {
        let cases: Vec<(String, BackupError)> = vec![
            (
                "{ kaputt".into(),
                BackupError::NotJson { line: 1, column: 3 },
            ),
            ("[1,2]".into(), BackupError::NotABackup),
            (
                json!({"format": "other", "version": 2}).to_string(),
                BackupError::NotABackup,
            ),
            (
                json!({"format": FORMAT, "version": 9, "created_at": "2026-01-01T00:00:00"})
                    .to_string(),
                BackupError::TooNew {
                    found: 9,
                    supported: CURRENT_VERSION,
                },
            ),
            (
                json!({"format": FORMAT, "version": 0}).to_string(),
                BackupError::UnknownVersion(0),
            ),
        ];
        for (input, want) in cases {
            let got = parse(&input).unwrap_err();
            assert_eq!(got, want, "{input}");
            assert!(!got.to_string().is_empty());
        }
        // Inconsistent content.
        let mut b = sample();
        b.persons.push(b.persons[0].clone());
        let err = parse(&export(&b)).unwrap_err();
        assert!(err.to_string().contains("doppelt"), "{err}");
        let mut b = sample();
        b.persons
            .retain(|p| p.person.id != b.appointments[0].person_id);
        let err = parse(&export(&b)).unwrap_err();
        assert!(err.to_string().contains("unbekannte Person"), "{err}");
        let mut v: Value = serde_json::from_str(&export(&sample())).unwrap();
        v["persons"][0]["person"]["gender"] = json!("robot");
        assert!(matches!(
            parse(&v.to_string()),
            Err(BackupError::Invalid(_))
        ));
    }

    #[test]
    fn reminder_after_seven_days() {
        let t = today();
        for (last, due) in [
            (None, true),
            (Some(t), false),
            (Some(t - Duration::days(7)), false),
            (Some(t - Duration::days(8)), true),
        ] {
            assert_eq!(backup_due(last, t), due, "{last:?}");
        }
    }
}
