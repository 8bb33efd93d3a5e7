//! German templates of the import's row and planner messages, by catalogue key. The UI shows
//! them in its language (`crate::i18n::msg`); the German catalogue (`src/i18n/de.txt`) holds
//! exactly these texts (tested in `src/i18n/tests.rs`).

use crate::domain::message::Msg;

/// `(key, German template)`; `{name}` placeholders are filled with the message's arguments.
pub const TEXTS: &[(&str, &str)] = &[
    // A row of the wrong shape.
    ("domain.import.row.unclosed_quote", "ein Anführungszeichen wird nicht geschlossen – die folgenden {n} Zeilen wurden als ein einziges Feld gelesen und nicht importiert"),
    ("domain.import.row.column_count", "{got} Spalten statt {want} wie in der Kopfzeile – die Zeile wurde nicht importiert (fehlt oder steht ein Trennzeichen oder Anführungszeichen zu viel?)"),
    // Persons.
    ("domain.import.row.kind_unknown_patient", "„{raw}“ ist weder Patient noch Interessent – als Patient übernommen"),
    ("domain.import.row.kind_unknown_prospect", "„{raw}“ ist weder Patient noch Interessent – als Interessent übernommen"),
    ("domain.import.row.gender_unknown", "„{raw}“ ist kein bekanntes Geschlecht – als „unbekannt“ übernommen"),
    ("domain.import.row.country_unknown", "Land „{raw}“ unbekannt – bitte prüfen (übernommen wie angegeben)"),
    ("domain.import.row.email_invalid", "„{raw}“ ist keine gültige E-Mail-Adresse – nicht übernommen"),
    ("domain.import.row.phone_invalid", "„{raw}“ ist keine Telefonnummer – nicht übernommen"),
    ("domain.import.row.birth_date_future", "das Geburtsdatum „{raw}“ liegt in der Zukunft"),
    ("domain.import.row.birth_date_invalid", "„{raw}“ ist kein gültiges Datum (erwartet z. B. 26.11.1980, 26.11.80 oder 1980-11-26)"),
    ("domain.import.row.consent_value_invalid", "„{raw}“ ist kein Ja/Nein-Wert (erlaubt: ja, nein, x, 1, 0, true, false)"),
    ("domain.import.row.consent_date_invalid", "„{raw}“ ist kein gültiges Einwilligungsdatum"),
    ("domain.import.row.no_house_number", "keine Hausnummer gefunden"),
    ("domain.import.row.postcode_fixed", "PLZ „{raw}“ hat nur 4 Ziffern – als „{fixed}“ übernommen"),
    ("domain.import.row.postcode_invalid", "„{raw}“ ist keine deutsche Postleitzahl (5 Ziffern) – bitte prüfen"),
    ("domain.import.row.mobile_in_landline", "Mobilnummer im Telefonfeld – als Mobilnummer übernommen"),
    ("domain.import.row.not_a_mobile", "„{raw}“ ist keine deutsche Mobilnummer (015…, 016…, 017…) – als Festnetz übernommen"),
    ("domain.import.row.name_missing", "Name fehlt (Vor- und Nachname sind leer)"),
    // Skipped rows.
    ("domain.import.skip.in_file_external_id", "doppelt in der Datei (gleiche Patientennummer, wie Zeile {line}) – nicht importiert"),
    ("domain.import.skip.in_file_name", "doppelt in der Datei (gleicher Name und gleiches Geburtsdatum, wie Zeile {line}) – nicht importiert"),
    ("domain.import.skip.existing_external_id", "existiert bereits als {name} (gleiche Patientennummer) – übersprungen"),
    ("domain.import.skip.existing_name", "existiert bereits als {name} (gleicher Name und gleiches Geburtsdatum) – übersprungen"),
    // Appointments.
    ("domain.import.row.person_ref_missing", "Patientennummer fehlt"),
    ("domain.import.row.person_not_found", "keine Person mit der Patientennummer „{raw}“ gefunden"),
    ("domain.import.row.date_invalid", "„{raw}“ ist kein gültiges Datum"),
    ("domain.import.row.time_invalid", "„{raw}“ ist keine gültige Uhrzeit"),
    ("domain.import.row.start_invalid", "„{raw}“ ist kein gültiger Zeitpunkt (z. B. 26.11.2026 14:30)"),
    ("domain.import.row.end_invalid", "„{raw}“ ist kein gültiger Zeitpunkt (z. B. 26.11.2026 15:00)"),
    ("domain.import.row.duration_invalid", "„{raw}“ ist keine gültige Dauer in Minuten"),
    ("domain.import.row.status_invalid", "„{raw}“ ist kein bekannter Status (geplant, abgesagt, erledigt)"),
    ("domain.import.row.start_missing", "Beginn fehlt (Datum und Uhrzeit)"),
    ("domain.import.row.end_not_after_start", "das Ende liegt nicht nach dem Beginn"),
    // xDT (GDT/BDT) files that cannot be read; nothing is imported.
    ("domain.import.xdt.empty", "Die Datei ist leer."),
    ("domain.import.xdt.not_a_line", "Zeile {line}: keine gültige GDT/BDT-Zeile – erwartet werden drei Ziffern Zeilenlänge, vier Ziffern Feldkennung und der Inhalt."),
    ("domain.import.xdt.truncated", "Die Datei endet mitten in Zeile {line}: die Zeile ist kürzer als ihre Längenangabe – die Datei ist unvollständig. Bitte exportieren Sie sie erneut aus der Praxissoftware."),
    ("domain.import.xdt.lf_only", "Zeile {line}: das Zeilenende ist nur LF statt CR LF, deshalb passen die Längenangaben nicht. Bitte exportieren Sie die Datei erneut aus der Praxissoftware (nicht in einem Editor speichern)."),
    ("domain.import.xdt.bad_length", "Zeile {line} (Feld {field}): die Längenangabe „{given}“ passt nicht zur Zeile, die {actual} Zeichen einschließlich Zeilenende lang ist – die Datei ist beschädigt."),
    ("domain.import.xdt.no_record_start", "Zeile {line}: die Datei beginnt nicht mit Feld 8000 (Satzart) – ist es eine GDT- oder BDT-Datei?"),
    ("domain.import.xdt.record_length", "Satz {kind} ab Zeile {line}: laut Feld 8100 ist er {given} Bytes lang, tatsächlich {actual} – die Datei ist unvollständig oder beschädigt."),
    ("domain.import.xdt.missing_trailer", "Die Datei endet ohne Abschlusssatz 0021 (letzte Zeile {line}) – sie ist unvollständig. Bitte exportieren Sie sie erneut."),
    ("domain.import.xdt.charset_unknown", "Zeile {line}: der Zeichensatz „{raw}“ in Feld 9206 ist unbekannt (erlaubt: 1 = 7 Bit, 2 = IBM 437, 3 = ISO 8859-1)."),
    ("domain.import.xdt.not_seven_bit", "Zeile {line}: laut Feld 9206 ist die Datei 7-Bit-kodiert, die Zeile enthält aber ein Zeichen über 127 – ist der Zeichensatz falsch angegeben?"),
    ("domain.import.xdt.too_many", "Die Datei enthält mehr als {max} Patienten (Satz ab Zeile {line}). Bitte teilen Sie die Datei auf."),
    ("domain.import.xdt.no_patients", "Die Datei enthält keine Patientenstammdaten (Satzart 6100 oder 6301)."),
    // Calendar (.ics) events that are not imported.
    ("domain.import.ics.cancelled", "abgesagt – nicht übernommen"),
    ("domain.import.ics.recurring", "Serientermin – nicht übernommen (bitte die einzelnen Termine exportieren)"),
    ("domain.import.ics.all_day", "ganztägiger Eintrag ohne Uhrzeit – kein Termin"),
    ("domain.import.ics.no_start", "ohne Beginn – nicht übernommen"),
    ("domain.import.ics.duplicate", "doppelt in der Datei (gleiche UID wie Termin {n}) – nicht übernommen"),
    ("domain.import.ics.already", "bereits importiert – übersprungen"),
    ("domain.import.ics.unmatched", "keine passende Person gefunden (weder E-Mail, Telefonnummer noch Name)"),
    // The user's mapping correction is refused.
    ("domain.import.mapping.no_such_column", "Spalte {n} gibt es nicht."),
    ("domain.import.mapping.treatment", "Die Spalte „{column}“ enthält Behandlungsdaten; diese werden nie importiert."),
    ("domain.import.mapping.wrong_kind", "„{field}“ passt nicht zu diesem Import."),
    // The planners refuse a mapping.
    ("domain.import.plan.not_persons", "Die Zuordnung gehört nicht zu einem Personen-Import."),
    ("domain.import.plan.no_name", "Keine Spalte ist dem Namen zugeordnet. Bitte ordnen Sie mindestens „Nachname“ oder „Name (Vor- und Nachname)“ zu."),
    ("domain.import.plan.not_appointments", "Die Zuordnung gehört nicht zu einem Termin-Import."),
    ("domain.import.plan.no_person_ref", "Keine Spalte ist der Patientennummer zugeordnet."),
    ("domain.import.plan.no_start", "Für den Beginn fehlt eine Zuordnung: entweder „Beginn (Datum und Uhrzeit)“ oder „Datum“ und „Beginn (Uhrzeit)“."),
];

/// The import message `key` with `args`.
pub fn msg(key: &'static str, args: Vec<(&'static str, String)>) -> Msg {
    Msg::from_table(TEXTS, key, args)
}

/// The message with one argument `raw` (the offending cell).
pub fn raw(key: &'static str, raw: &str) -> Msg {
    msg(key, vec![("raw", raw.to_string())])
}
