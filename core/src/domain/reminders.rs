//! Daily reminders: on opening the app, tomorrow's appointments and who of them can be
//! reminded — with consent and a contact, on the first channel of the practice's order
//! (default: SMS, else e-mail, else none).
//!
//! Consent and reachability are decided by the one consent gate, [`outbox::admit`], exactly
//! as for the batch that is later sent; this module only chooses the channel per person and
//! counts. Nothing here sends: the app offers the result and the practice clicks.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{
    Appointment, AppointmentId, AppointmentStatus, Channel, PersonId, PersonRecord, Purpose,
};
use super::outbox::{admit, MessageState, OutboxMessage};
use super::review::{Contact, Handover, HandoverRecipient, MinorRule};
use super::selection::Recipient;
use super::template::{shipped_id, Language};

/// The channels a reminder for tomorrow can go by (a letter would not arrive in time).
pub const REMINDER_CHANNELS: [Channel; 2] = [Channel::Sms, Channel::Email];

/// The practice's reminder settings (stored as a Meta document of the store).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderSettings {
    /// The channels tried per person, in order; a person is reminded on the first one with
    /// consent and a contact. Only SMS and e-mail count; empty = no reminders offered.
    #[serde(default = "default_order")]
    pub order: Vec<Channel>,
    /// The template of an SMS reminder (template id).
    #[serde(default = "default_sms_template")]
    pub sms_template: String,
    /// The template of an e-mail reminder (template id).
    #[serde(default = "default_email_template")]
    pub email_template: String,
    /// The day the notice was dismissed ("not today"); it shows again the next day.
    #[serde(default)]
    pub dismissed_on: Option<NaiveDate>,
}

fn default_order() -> Vec<Channel> {
    REMINDER_CHANNELS.to_vec()
}

fn default_sms_template() -> String {
    shipped_id(Language::De, Channel::Sms, Purpose::AppointmentReminder)
}

fn default_email_template() -> String {
    shipped_id(Language::De, Channel::Email, Purpose::AppointmentReminder)
}

impl Default for ReminderSettings {
    fn default() -> Self {
        ReminderSettings {
            order: default_order(),
            sms_template: default_sms_template(),
            email_template: default_email_template(),
            dismissed_on: None,
        }
    }
}

impl ReminderSettings {
    /// The template id for reminders on `channel` (`None` for a letter).
    pub fn template_for(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Sms => Some(&self.sms_template),
            Channel::Email => Some(&self.email_template),
            Channel::Letter => None,
        }
    }

    /// The order as used: reminder channels only, each once.
    pub fn channels(&self) -> Vec<Channel> {
        let mut out: Vec<Channel> = Vec::with_capacity(2);
        for c in &self.order {
            if REMINDER_CHANNELS.contains(c) && !out.contains(c) {
                out.push(*c);
            }
        }
        out
    }

    /// Whether the notice was dismissed for `today`.
    pub fn dismissed(&self, today: NaiveDate) -> bool {
        self.dismissed_on == Some(today)
    }
}

/// The recipients of one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelGroup {
    pub channel: Channel,
    /// One per appointment, in time order.
    pub recipients: Vec<Recipient>,
}

/// Tomorrow's appointments and who of them can be reminded on which channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TomorrowReminders {
    /// The day after `today`.
    pub day: NaiveDate,
    /// Planned appointments on that day.
    pub appointments: usize,
    /// Of these, appointments a reminder is already queued or sent for (left out of the
    /// groups, so a second click reminds nobody twice).
    pub already_reminded: usize,
    /// Per channel of the order (only channels with recipients), the appointments reminded
    /// on it.
    pub groups: Vec<ChannelGroup>,
}

impl TomorrowReminders {
    /// Appointments whose person can be reminded (with consent and contact) on some channel.
    pub fn reachable(&self) -> usize {
        self.groups.iter().map(|g| g.recipients.len()).sum()
    }

    /// The recipients of `channel`.
    pub fn group(&self, channel: Channel) -> Option<&ChannelGroup> {
        self.groups.iter().find(|g| g.channel == channel)
    }

    /// Whether the notice is offered: someone to remind tomorrow and not dismissed today.
    pub fn offered(&self, settings: &ReminderSettings, today: NaiveDate) -> bool {
        self.reachable() > 0 && !settings.dismissed(today)
    }
}

/// Tomorrow's (the day after `today`) planned appointments and, per person, the first channel
/// of the practice's order on which [`admit`] lets a reminder through (consent for
/// appointment reminders on that channel and a usable contact). `persons` finds a person by
/// id (the caller reads them fresh); an appointment whose person is unknown is counted but
/// not reachable. `reminded` tells appointments a reminder is already out for
/// ([`reminded_appointments`]); they are counted but not reminded again. Reminders for
/// minors (below `minor_age` today) go to a guardian, through [`admit`] too.
pub fn tomorrow<'p>(
    today: NaiveDate,
    minor_age: u8,
    appointments: &[Appointment],
    persons: impl Fn(&PersonId) -> Option<&'p PersonRecord>,
    reminded: impl Fn(&AppointmentId) -> bool,
    settings: &ReminderSettings,
) -> TomorrowReminders {
    let day = today.succ_opt().unwrap_or(today);
    let planned: Vec<&Appointment> = appointments
        .iter()
        .filter(|a| a.status == AppointmentStatus::Planned && a.start.date() == day)
        .collect();
    let count = planned.len();
    let mut due: Vec<&Appointment> = planned.into_iter().filter(|a| !reminded(&a.id)).collect();
    let already_reminded = count - due.len();
    due.sort_by(|a, b| (a.start, &a.id.0).cmp(&(b.start, &b.id.0)));
    let recipients: Vec<HandoverRecipient> = due
        .iter()
        .map(|a| HandoverRecipient {
            person_id: a.person_id.clone(),
            appointment_id: Some(a.id.clone()),
            contact: Contact::Raw(String::new()),
            consent_override: false,
        })
        .collect();
    let mut chosen: Vec<Option<Channel>> = vec![None; due.len()];
    for channel in settings.channels() {
        let handover = Handover {
            channel,
            purpose: Purpose::AppointmentReminder,
            recipients: recipients.clone(),
            overrides: Vec::new(),
            minors: MinorRule::new(minor_age, today),
        };
        for (i, slot) in chosen.iter_mut().enumerate() {
            if slot.is_none() && admit(&handover, i, &persons).is_ok() {
                *slot = Some(channel);
            }
        }
    }
    let groups = settings
        .channels()
        .into_iter()
        .map(|channel| ChannelGroup {
            channel,
            recipients: due
                .iter()
                .zip(&chosen)
                .filter(|(_, c)| **c == Some(channel))
                .map(|(a, _)| Recipient {
                    person_id: a.person_id.clone(),
                    appointment_id: Some(a.id.clone()),
                })
                .collect(),
        })
        .filter(|g| !g.recipients.is_empty())
        .collect();
    TomorrowReminders {
        day,
        appointments: count,
        already_reminded,
        groups,
    }
}

/// The appointments an appointment reminder is out for: queued, at the relay, sent or
/// printed (a failed or cancelled one does not count).
pub fn reminded_appointments(
    messages: &[OutboxMessage],
) -> std::collections::BTreeSet<AppointmentId> {
    messages
        .iter()
        .filter(|m| m.purpose == Purpose::AppointmentReminder)
        .filter(|m| {
            !matches!(
                m.state,
                MessageState::Failed { .. } | MessageState::Cancelled
            )
        })
        .filter_map(|m| m.appointment_id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Person;
    use crate::domain::model::{AppointmentId, ConsentEvent, ConsentSource, Evidence, Gender};
    use chrono::NaiveDateTime;
    use std::collections::HashMap;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(day: NaiveDate, h: u32, min: u32) -> NaiveDateTime {
        day.and_hms_opt(h, min, 0).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 12, 31);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    fn records(persons: &[Person]) -> Vec<PersonRecord> {
        persons
            .iter()
            .map(|p| PersonRecord {
                person: p.clone(),
                ..Default::default()
            })
            .collect()
    }

    /// A person with the given contacts and reminder consents.
    fn person(id: &str, mobile: &str, email: &str, consents: &[Channel]) -> Person {
        let mut p = Person {
            id: PersonId(id.into()),
            first_name: "Vor".into(),
            last_name: id.into(),
            gender: Gender::Female,
            mobile: mobile.into(),
            email: email.into(),
            ..Default::default()
        };
        for c in consents {
            p.consents.record(
                *c,
                Purpose::AppointmentReminder,
                ConsentEvent::granted(
                    d(2025, 1, 1),
                    Evidence::WrittenForm,
                    ConsentSource::Practice,
                ),
            );
        }
        p
    }

    fn appt(id: &str, person: &str, start: NaiveDateTime) -> Appointment {
        Appointment {
            id: AppointmentId(id.into()),
            person_id: PersonId(person.into()),
            start,
            end: start + chrono::Duration::minutes(30),
            therapist: String::new(),
            location: String::new(),
            kind: "Physiotherapie".into(),
            status: AppointmentStatus::Planned,
        }
    }

    fn ids(g: Option<&ChannelGroup>) -> Vec<&str> {
        g.map(|g| {
            g.recipients
                .iter()
                .map(|r| r.appointment_id.as_ref().unwrap().0.as_str())
                .collect()
        })
        .unwrap_or_default()
    }

    fn run(
        persons: &[Person],
        appointments: &[Appointment],
        settings: &ReminderSettings,
    ) -> TomorrowReminders {
        let recs = records(persons);
        let map: HashMap<&PersonId, &PersonRecord> =
            recs.iter().map(|r| (&r.person.id, r)).collect();
        tomorrow(
            today(),
            16,
            appointments,
            |id| map.get(id).copied(),
            |_| false,
            settings,
        )
    }

    const MOBILE: &str = "+49 151 23456789";

    fn practice() -> (Vec<Person>, Vec<Appointment>) {
        let tomorrow = d(2027, 1, 1);
        let persons = vec![
            // SMS and e-mail consent and both contacts: SMS first.
            person(
                "both",
                MOBILE,
                "both@example.org",
                &[Channel::Sms, Channel::Email],
            ),
            // Only e-mail consent, both contacts: e-mail.
            person("mail", MOBILE, "mail@example.org", &[Channel::Email]),
            // SMS consent but no mobile, e-mail consent: e-mail.
            person(
                "nomobile",
                "",
                "nomobile@example.org",
                &[Channel::Sms, Channel::Email],
            ),
            // Contacts but no consent: not reachable.
            person("noconsent", MOBILE, "x@example.org", &[]),
            // Consent but no contact: not reachable.
            person("nocontact", "", "", &[Channel::Sms, Channel::Email]),
            // SMS consent withdrawn, e-mail consent: e-mail.
            {
                let mut p = person(
                    "withdrawn",
                    MOBILE,
                    "w@example.org",
                    &[Channel::Sms, Channel::Email],
                );
                p.consents.record(
                    Channel::Sms,
                    Purpose::AppointmentReminder,
                    ConsentEvent::withdrawn(d(2026, 6, 1), ConsentSource::UnsubscribeLink),
                );
                p
            },
            // Only SMS.
            person("sms", MOBILE, "", &[Channel::Sms]),
        ];
        let mut appointments = vec![
            // The day boundary: midnight tomorrow counts, 23:59 today and midnight the day
            // after do not.
            appt("t-both", "both", at(tomorrow, 0, 0)),
            appt("t-mail", "mail", at(tomorrow, 9, 0)),
            appt("t-nomobile", "nomobile", at(tomorrow, 10, 0)),
            appt("t-noconsent", "noconsent", at(tomorrow, 11, 0)),
            appt("t-nocontact", "nocontact", at(tomorrow, 12, 0)),
            appt("t-withdrawn", "withdrawn", at(tomorrow, 13, 0)),
            appt("t-sms", "sms", at(tomorrow, 23, 59)),
            appt("t-gone", "unknown-person", at(tomorrow, 14, 0)),
            appt("t-today", "both", at(today(), 23, 59)),
            appt("t-after", "both", at(d(2027, 1, 2), 0, 0)),
        ];
        let mut cancelled = appt("t-cancelled", "sms", at(tomorrow, 15, 0));
        cancelled.status = AppointmentStatus::Cancelled;
        appointments.push(cancelled);
        (persons, appointments)
    }

    #[test]
    fn counts_tomorrow_and_chooses_sms_else_email() {
        let (persons, appointments) = practice();
        let r = run(&persons, &appointments, &ReminderSettings::default());
        // Across the year boundary: 31 December → 1 January.
        assert_eq!(r.day, d(2027, 1, 1));
        // Eight planned appointments tomorrow (cancelled, today and the day after left out).
        assert_eq!(r.appointments, 8);
        assert_eq!(r.reachable(), 5);
        assert_eq!(ids(r.group(Channel::Sms)), ["t-both", "t-sms"]);
        assert_eq!(
            ids(r.group(Channel::Email)),
            ["t-mail", "t-nomobile", "t-withdrawn"]
        );
        assert!(r.offered(&ReminderSettings::default(), today()));
    }

    #[test]
    fn the_order_is_the_practice_s() {
        let (persons, appointments) = practice();
        let email_first = ReminderSettings {
            order: vec![Channel::Email, Channel::Sms],
            ..Default::default()
        };
        let r = run(&persons, &appointments, &email_first);
        assert_eq!(r.reachable(), 5);
        assert_eq!(
            ids(r.group(Channel::Email)),
            ["t-both", "t-mail", "t-nomobile", "t-withdrawn"]
        );
        assert_eq!(ids(r.group(Channel::Sms)), ["t-sms"]);
        assert_eq!(r.groups[0].channel, Channel::Email);

        // Only SMS (letters and duplicates ignored): e-mail-only persons are not reachable.
        let sms_only = ReminderSettings {
            order: vec![Channel::Letter, Channel::Sms, Channel::Sms],
            ..Default::default()
        };
        assert_eq!(sms_only.channels(), [Channel::Sms]);
        let r = run(&persons, &appointments, &sms_only);
        assert_eq!(r.appointments, 8);
        assert_eq!(r.reachable(), 2);
        assert!(r.group(Channel::Email).is_none());

        // No channel: counted, nobody reachable.
        let none = ReminderSettings {
            order: vec![],
            ..Default::default()
        };
        let r = run(&persons, &appointments, &none);
        assert_eq!((r.appointments, r.reachable()), (8, 0));
        assert!(r.groups.is_empty());
    }

    #[test]
    fn nothing_tomorrow_or_dismissed_today_is_not_offered() {
        let (persons, appointments) = practice();
        let settings = ReminderSettings::default();
        // The day after: nothing on 2 January … 3 January has nothing.
        let recs = records(&persons);
        let map: HashMap<&PersonId, &PersonRecord> =
            recs.iter().map(|r| (&r.person.id, r)).collect();
        let r = tomorrow(
            d(2027, 1, 2),
            16,
            &appointments,
            |id| map.get(id).copied(),
            |_| false,
            &settings,
        );
        assert_eq!(r.appointments, 0);
        assert!(!r.offered(&settings, d(2027, 1, 2)));

        let r = run(&persons, &appointments, &settings);
        let dismissed = ReminderSettings {
            dismissed_on: Some(today()),
            ..Default::default()
        };
        assert!(!r.offered(&dismissed, today()));
        // Dismissed yesterday: offered again today.
        let yesterday = ReminderSettings {
            dismissed_on: today().pred_opt(),
            ..Default::default()
        };
        assert!(r.offered(&yesterday, today()));
    }

    #[test]
    fn the_count_agrees_with_the_review_of_the_same_recipients() {
        // What the notice counts is what the review of that channel admits.
        let (persons, appointments) = practice();
        let r = run(&persons, &appointments, &ReminderSettings::default());
        let recs = records(&persons);
        let map: HashMap<&PersonId, &PersonRecord> =
            recs.iter().map(|r| (&r.person.id, r)).collect();
        for g in &r.groups {
            let review = crate::domain::review::Review::build(
                g.channel,
                Purpose::AppointmentReminder,
                &g.recipients,
                MinorRule::new(16, today()),
                |id| map.get(id).copied(),
            );
            assert_eq!(
                review.counts().included,
                g.recipients.len(),
                "{:?}",
                g.channel
            );
        }
    }

    #[test]
    fn old_or_partial_settings_read_with_defaults() {
        let s: ReminderSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, ReminderSettings::default());
        assert_eq!(
            s.template_for(Channel::Sms),
            Some("shipped:de:sms:appointment_reminder")
        );
        let s: ReminderSettings =
            serde_json::from_str(r#"{"order":["email"],"dismissed_on":"2026-12-31"}"#).unwrap();
        assert_eq!(s.channels(), [Channel::Email]);
        assert!(s.dismissed(today()));
    }

    #[test]
    fn appointments_already_reminded_are_counted_not_reminded_again() {
        let (persons, appointments) = practice();
        let recs = records(&persons);
        let map: HashMap<&PersonId, &PersonRecord> =
            recs.iter().map(|r| (&r.person.id, r)).collect();
        let done = |id: &AppointmentId| id.0 == "t-both" || id.0 == "t-mail";
        let r = tomorrow(
            today(),
            16,
            &appointments,
            |id| map.get(id).copied(),
            done,
            &ReminderSettings::default(),
        );
        assert_eq!(
            (r.appointments, r.already_reminded, r.reachable()),
            (8, 2, 3)
        );
        assert_eq!(ids(r.group(Channel::Sms)), ["t-sms"]);
        assert_eq!(ids(r.group(Channel::Email)), ["t-nomobile", "t-withdrawn"]);
        // Everyone reminded: nothing is offered.
        let r = tomorrow(
            today(),
            16,
            &appointments,
            |id| map.get(id).copied(),
            |_| true,
            &ReminderSettings::default(),
        );
        assert_eq!(
            (r.appointments, r.already_reminded, r.reachable()),
            (8, 8, 0)
        );
        assert!(!r.offered(&ReminderSettings::default(), today()));
    }
}
