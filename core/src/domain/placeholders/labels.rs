//! Message labels of appointment types. The type of an appointment ("Lymphdrainage",
//! "Manuelle Therapie") can tell an SMS provider or a mail server what a patient is treated
//! for, so a message never shows it. It shows the label the practice set for the type in the
//! settings instead — "Termin" unless the practice chose another ("Rückenschule" →
//! "Kurs Rückenschule").

use std::collections::BTreeMap;

use crate::domain::model::{Appointment, PracticeSettings};
use crate::domain::search::fold;
use crate::domain::template::Language;

/// The label of a type without an entry, in German templates.
pub const DEFAULT_MESSAGE_LABEL_DE: &str = "Termin";
/// The label of a type without an entry, in English templates.
pub const DEFAULT_MESSAGE_LABEL_EN: &str = "Appointment";

/// The default label in a template language.
pub fn default_label(lang: Language) -> &'static str {
    match lang {
        Language::De => DEFAULT_MESSAGE_LABEL_DE,
        Language::En => DEFAULT_MESSAGE_LABEL_EN,
    }
}

/// What messages show for an appointment of type `kind`: the practice's label for it, else
/// the default of the language. Never the type itself (unless the practice chose exactly that).
pub fn message_label<'a>(practice: &'a PracticeSettings, kind: &str, lang: Language) -> &'a str {
    practice
        .appointment_labels
        .get(kind.trim())
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .unwrap_or(default_label(lang))
}

/// Sets (or, with an empty label, removes) the label of a type.
pub fn set_message_label(practice: &mut PracticeSettings, kind: &str, label: &str) {
    let (kind, label) = (kind.trim(), label.trim());
    if kind.is_empty() {
        return;
    }
    if label.is_empty() {
        practice.appointment_labels.remove(kind);
    } else {
        practice
            .appointment_labels
            .insert(kind.to_string(), label.to_string());
    }
}

/// One appointment type as the settings list it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppointmentType {
    /// The type as the appointments carry it (trimmed).
    pub kind: String,
    /// What messages show for it.
    pub label: String,
    /// How many appointments have this type.
    pub appointments: usize,
}

/// How many appointments there are of each type (trimmed, empty types left out), by type.
pub fn count_appointment_types(appointments: &[Appointment]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for a in appointments {
        let kind = a.kind.trim();
        if !kind.is_empty() {
            *counts.entry(kind).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect()
}

/// Every appointment type of the practice — those counted in the appointments
/// ([`count_appointment_types`]) and those that have a label — with its message label,
/// sorted by type (umlaut- and case-insensitive).
pub fn appointment_types(
    counts: &[(String, usize)],
    practice: &PracticeSettings,
) -> Vec<AppointmentType> {
    let mut all: BTreeMap<&str, usize> = counts.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    for kind in practice.appointment_labels.keys() {
        all.entry(kind.as_str()).or_default();
    }
    let mut types: Vec<AppointmentType> = all
        .into_iter()
        .map(|(kind, appointments)| AppointmentType {
            kind: kind.to_string(),
            label: message_label(practice, kind, Language::De).to_string(),
            appointments,
        })
        .collect();
    types.sort_by_cached_key(|t| (fold(&t.kind), t.kind.clone()));
    types
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{AppointmentId, AppointmentStatus, PersonId};
    use chrono::NaiveDate;

    fn appt(kind: &str) -> Appointment {
        let start = NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        Appointment {
            id: AppointmentId(kind.into()),
            person_id: PersonId("p".into()),
            start,
            end: start,
            therapist: String::new(),
            location: String::new(),
            kind: kind.into(),
            status: AppointmentStatus::Planned,
        }
    }

    #[test]
    fn labels_default_to_termin_and_follow_the_settings() {
        let mut p = PracticeSettings::default();
        assert_eq!(message_label(&p, "Lymphdrainage", Language::De), "Termin");
        assert_eq!(
            message_label(&p, "Lymphdrainage", Language::En),
            "Appointment"
        );
        set_message_label(&mut p, " Rückenschule ", " Kurs Rückenschule ");
        assert_eq!(
            message_label(&p, "Rückenschule", Language::De),
            "Kurs Rückenschule"
        );
        assert_eq!(
            message_label(&p, "Rückenschule ", Language::En),
            "Kurs Rückenschule"
        );
        // An empty label removes the entry.
        set_message_label(&mut p, "Rückenschule", "  ");
        assert!(p.appointment_labels.is_empty());
        assert_eq!(message_label(&p, "Rückenschule", Language::De), "Termin");
    }

    #[test]
    fn types_of_appointments_and_labels_sorted() {
        let mut p = PracticeSettings::default();
        set_message_label(&mut p, "Rückenschule", "Kurs Rückenschule");
        set_message_label(&mut p, "Alte Art", "Termin alt");
        let all = [
            appt("Lymphdrainage"),
            appt("Rückenschule"),
            appt(" Lymphdrainage"),
            appt(""),
            appt("manuelle Therapie"),
        ];
        let types = appointment_types(&count_appointment_types(&all), &p);
        let view: Vec<(&str, &str, usize)> = types
            .iter()
            .map(|t| (t.kind.as_str(), t.label.as_str(), t.appointments))
            .collect();
        assert_eq!(
            view,
            vec![
                ("Alte Art", "Termin alt", 0),
                ("Lymphdrainage", "Termin", 2),
                ("manuelle Therapie", "Termin", 1),
                ("Rückenschule", "Kurs Rückenschule", 1),
            ]
        );
    }

    #[test]
    fn old_settings_without_labels_still_load() {
        let old = r#"{"name":"Praxis","letter_form":"b"}"#;
        let p: PracticeSettings = serde_json::from_str(old).unwrap();
        assert!(p.appointment_labels.is_empty());
        assert!(!p.therapist_in_messages);
    }
}
