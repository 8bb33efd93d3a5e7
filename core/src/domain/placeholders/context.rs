//! The context of one recipient's message: exactly the values the channel may use, built
//! from a [`Person`] (never its sensitive part), and its minijinja view.
//!
//! A context is one slot per catalogue entry. The practice's values and today's date are the
//! same for every recipient of a batch: a [`ContextBuilder`] formats them once and shares them
//! (reference-counted) with every context it builds; the recipient's own values are written
//! one after another into one string, and a slot holds their range. For rendering, the context
//! is handed to minijinja as an object that looks values up by name on access
//! ([`MessageContext::to_value`]) instead of being copied into maps first. (Building the
//! contexts of a batch cost more than rendering them while each value was its own string in
//! a map.)

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use minijinja::value::{Enumerator, Object, Value};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::format::{format_date, push_date, push_time, weekday_name};
use super::labels::default_label;
use super::{lookup, CATALOGUE};
use crate::domain::address::{address_block, guardian_address_block, one_line};
use crate::domain::model::{Appointment, Channel, Guardian, Person, PracticeSettings};
use crate::domain::salutation::{push_anrede, push_guardian_anrede};
use crate::domain::template::Language;

/// Number of catalogue entries, i.e. of slots in a context.
const N: usize = CATALOGUE.len();

/// Where a value is (small and `Copy`: a context is an array of these, no reference count
/// per value).
#[derive(Clone, Copy, Debug, Default)]
enum Slot {
    #[default]
    Empty,
    /// A range of the context's own text.
    Own(u32, u32),
    /// An entry of the batch's shared values.
    Shared(u32),
}

#[derive(Debug, Default)]
struct Inner {
    /// Values shared by the contexts of a batch (practice, today, weekdays, labels).
    shared: Arc<[Arc<str>]>,
    /// The recipient's own values, one after another.
    text: String,
    slots: [Slot; N],
}

impl Inner {
    fn get(&self, i: usize) -> Option<&str> {
        match self.slots[i] {
            Slot::Empty => None,
            Slot::Own(a, b) => Some(&self.text[a as usize..b as usize]),
            Slot::Shared(k) => Some(&self.shared[k as usize]),
        }
    }

    /// Appends what `write` writes to the text and puts its range into slot `i`.
    fn own(&mut self, i: usize, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        self.slots[i] = Slot::Own(start as u32, self.text.len() as u32);
    }

    /// A trimmed value of the recipient.
    fn own_str(&mut self, i: usize, s: &str) {
        self.own(i, |t| t.push_str(s.trim()));
    }

    fn value(&self, i: usize) -> Option<Value> {
        match self.slots[i] {
            Slot::Empty => None,
            Slot::Own(a, b) => Some(Value::from(&self.text[a as usize..b as usize])),
            Slot::Shared(k) => Some(Value::from(&self.shared[k as usize])),
        }
    }

    fn has_any(&self, slots: &[usize]) -> bool {
        slots.iter().any(|&i| !matches!(self.slots[i], Slot::Empty))
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The slot of a catalogue name (checked when compiling: an unknown name does not build).
const fn slot(name: &str) -> usize {
    let mut i = 0;
    while i < N {
        if same(CATALOGUE[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("placeholder not in the catalogue");
}

const ANREDE: usize = slot("anrede");
const DU: usize = slot(super::DU);
const TITEL: usize = slot("titel");
const VORNAME: usize = slot("vorname");
const NACHNAME: usize = slot("nachname");
const NAME: usize = slot("name");
const PRAXIS_NAME: usize = slot("praxis.name");
const PRAXIS_TELEFON: usize = slot("praxis.telefon");
const PRAXIS_EMAIL: usize = slot("praxis.email");
const PRAXIS_ADRESSE: usize = slot("praxis.adresse");
const PRAXIS_WEBSEITE: usize = slot("praxis.webseite");
const HEUTE: usize = slot("heute");
const TERMIN_DATUM: usize = slot("termin.datum");
const TERMIN_WOCHENTAG: usize = slot("termin.wochentag");
const TERMIN_UHRZEIT: usize = slot("termin.uhrzeit");
const TERMIN_ENDE: usize = slot("termin.ende");
const TERMIN_BEZEICHNUNG: usize = slot("termin.bezeichnung");
const TERMIN_ORT: usize = slot("termin.ort");
const TERMIN_BEHANDLER: usize = slot("termin.behandler");
const ANSCHRIFT: usize = slot("anschrift");
const ABMELDELINK: usize = slot("abmeldelink");

/// The slot of a top-level name.
fn root_slot(key: &str) -> Option<usize> {
    Some(match key {
        "anrede" => ANREDE,
        "du" => DU,
        "titel" => TITEL,
        "vorname" => VORNAME,
        "nachname" => NACHNAME,
        "name" => NAME,
        "heute" => HEUTE,
        "anschrift" => ANSCHRIFT,
        "abmeldelink" => ABMELDELINK,
        _ => return None,
    })
}

/// The two objects of the context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Praxis,
    Termin,
}

const PRAXIS_SLOTS: &[usize] = &[
    PRAXIS_NAME,
    PRAXIS_TELEFON,
    PRAXIS_EMAIL,
    PRAXIS_ADRESSE,
    PRAXIS_WEBSEITE,
];
const TERMIN_SLOTS: &[usize] = &[
    TERMIN_DATUM,
    TERMIN_WOCHENTAG,
    TERMIN_UHRZEIT,
    TERMIN_ENDE,
    TERMIN_BEZEICHNUNG,
    TERMIN_ORT,
    TERMIN_BEHANDLER,
];

impl Group {
    fn slot(self, attr: &str) -> Option<usize> {
        Some(match self {
            Group::Praxis => match attr {
                "name" => PRAXIS_NAME,
                "telefon" => PRAXIS_TELEFON,
                "email" => PRAXIS_EMAIL,
                "adresse" => PRAXIS_ADRESSE,
                "webseite" => PRAXIS_WEBSEITE,
                _ => return None,
            },
            Group::Termin => match attr {
                "datum" => TERMIN_DATUM,
                "wochentag" => TERMIN_WOCHENTAG,
                "uhrzeit" => TERMIN_UHRZEIT,
                "ende" => TERMIN_ENDE,
                "bezeichnung" => TERMIN_BEZEICHNUNG,
                "ort" => TERMIN_ORT,
                "behandler" => TERMIN_BEHANDLER,
                _ => return None,
            },
        })
    }

    /// The slots of the group's attributes.
    fn slots(self) -> &'static [usize] {
        match self {
            Group::Praxis => PRAXIS_SLOTS,
            Group::Termin => TERMIN_SLOTS,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Group::Praxis => "praxis",
            Group::Termin => "termin",
        }
    }
}

/// The values of one recipient's message, one slot per catalogue entry. Build it with
/// [`build_context`] or a [`ContextBuilder`]; it only ever holds what the channel allows.
/// Plain strings (no template-engine types), so the main app builds and sends a context
/// without linking the engine; [`MessageContext::to_value`] makes the engine's view.
#[derive(Clone, Debug, Default)]
pub struct MessageContext {
    inner: Arc<Inner>,
}

impl PartialEq for MessageContext {
    /// Equal when they hold the same values (however they are stored).
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for MessageContext {}

impl MessageContext {
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = CATALOGUE.iter().position(|p| p.name == name)?;
        self.inner.get(i)
    }

    /// The values present, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        CATALOGUE
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.name, self.inner.get(i)?)))
    }

    /// Rebuilds a context from name/value pairs (e.g. one sent as JSON to the template engine).
    /// Only catalogue placeholders that exist for `channel` are taken; anything else is
    /// dropped, so a context can never carry more than [`build_context`] would put in it.
    pub fn from_pairs<I, K, V>(channel: Channel, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut inner = Inner::default();
        for (k, v) in pairs {
            if let Some(i) = CATALOGUE.iter().position(|p| p.name == k.as_ref()) {
                if CATALOGUE[i].channels.contains(&channel) {
                    inner.own(i, |t| t.push_str(v.as_ref()));
                }
            }
        }
        MessageContext {
            inner: Arc::new(inner),
        }
    }

    pub fn has_appointment(&self) -> bool {
        self.iter().any(|(k, _)| k.starts_with("termin."))
    }

    /// The minijinja view: an object that finds values by name on access (`praxis` and
    /// `termin` are objects of their own). Cheap: no value is copied.
    pub fn to_value(&self) -> Value {
        let group = |g: Group| {
            self.inner.has_any(g.slots()).then(|| {
                Value::from_object(GroupObject {
                    ctx: self.inner.clone(),
                    group: g,
                })
            })
        };
        Value::from_object(RootObject {
            ctx: self.inner.clone(),
            praxis: group(Group::Praxis),
            termin: group(Group::Termin),
        })
    }
}

impl Serialize for MessageContext {
    /// `{"values": {"anrede": "…", …}}`, the shape the template engine reads.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Values<'a>(&'a MessageContext);
        impl Serialize for Values<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(None)?;
                for (k, v) in self.0.iter() {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
        let mut st = s.serialize_struct("MessageContext", 1)?;
        st.serialize_field("values", &Values(self))?;
        st.end()
    }
}

#[derive(Debug)]
struct RootObject {
    ctx: Arc<Inner>,
    praxis: Option<Value>,
    termin: Option<Value>,
}

impl Object for RootObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        match key {
            "praxis" => self.praxis.clone(),
            "termin" => self.termin.clone(),
            // The Du flag is a boolean to templates; always there, so `{% if du %}` never
            // meets an undefined value.
            super::DU => Some(Value::from(self.ctx.get(DU).is_some_and(|v| !v.is_empty()))),
            _ => self.ctx.value(root_slot(key)?),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = Vec::new();
        for (i, p) in CATALOGUE.iter().enumerate() {
            if self.ctx.get(i).is_none() {
                continue;
            }
            let key = p.name.split_once('.').map_or(p.name, |(group, _)| group);
            if !keys.iter().any(|k| k.as_str() == Some(key)) {
                keys.push(Value::from(key));
            }
        }
        Enumerator::Values(keys)
    }
}

#[derive(Debug)]
struct GroupObject {
    ctx: Arc<Inner>,
    group: Group,
}

impl Object for GroupObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.ctx.value(self.group.slot(key)?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let prefix = self.group.prefix();
        let keys = CATALOGUE
            .iter()
            .enumerate()
            .filter(|(i, _)| self.ctx.get(*i).is_some())
            .filter_map(|(_, p)| {
                let (group, attr) = p.name.split_once('.')?;
                (group == prefix).then(|| Value::from(attr))
            })
            .collect();
        Enumerator::Values(keys)
    }
}

/// Everything the context builder needs for one recipient.
#[derive(Clone, Copy, Debug)]
pub struct ContextInput<'a> {
    pub person: &'a Person,
    pub practice: &'a PracticeSettings,
    pub appointment: Option<&'a Appointment>,
    pub channel: Channel,
    pub language: Language,
    pub today: NaiveDate,
    /// The recipient's unsubscribe link (e-mail only; ignored for other channels).
    pub unsubscribe_link: Option<&'a str>,
}

/// Builds the context of one recipient's message with exactly the values the channel may use.
pub fn build_context(input: ContextInput<'_>) -> MessageContext {
    build_context_to(input, None)
}

/// [`build_context`] for a message to a guardian of `input.person` (a minor): the salutation
/// and the letter's address are the guardian's, everything else (names, appointment) stays
/// the minor's. `None`: to the person.
pub fn build_context_to(input: ContextInput<'_>, guardian: Option<&Guardian>) -> MessageContext {
    ContextBuilder::new(input.practice, input.channel, input.language, input.today).build_to(
        input.person,
        guardian,
        input.appointment,
        input.unsubscribe_link,
    )
}

/// Builds the contexts of a batch: one practice, channel, language and date. What is the
/// same for every recipient is formatted once, here, and shared by every context.
#[derive(Clone, Debug)]
pub struct ContextBuilder<'a> {
    practice: &'a PracticeSettings,
    channel: Channel,
    language: Language,
    /// The practice's values, today, the weekdays, the default label and the practice's labels.
    shared: Arc<[Arc<str>]>,
    /// The slots of the practice's values and of today.
    fixed: [Slot; N],
    /// The message labels by appointment type (index into `shared`).
    labels: Vec<(&'a str, u32)>,
}

/// Indices into the shared values after the fixed ones.
const WEEKDAYS_AT: u32 = 6;
const DEFAULT_LABEL_AT: u32 = WEEKDAYS_AT + 7;

impl<'a> ContextBuilder<'a> {
    pub fn new(
        practice: &'a PracticeSettings,
        channel: Channel,
        language: Language,
        today: NaiveDate,
    ) -> Self {
        use chrono::Weekday::*;
        let mut shared: Vec<Arc<str>> = Vec::with_capacity(16);
        let mut fixed: [Slot; N] = Default::default();
        for (slot, value) in [
            (PRAXIS_NAME, practice.name.trim().to_string()),
            (PRAXIS_TELEFON, practice.phone.trim().to_string()),
            (PRAXIS_EMAIL, practice.email.trim().to_string()),
            (PRAXIS_ADRESSE, one_line(&practice.address)),
            (PRAXIS_WEBSEITE, practice.web.trim().to_string()),
            (HEUTE, format_date(today, language)),
        ] {
            fixed[slot] = Slot::Shared(shared.len() as u32);
            shared.push(Arc::from(value));
        }
        debug_assert_eq!(shared.len() as u32, WEEKDAYS_AT);
        shared.extend(
            [Mon, Tue, Wed, Thu, Fri, Sat, Sun].map(|w| Arc::from(weekday_name(w, language))),
        );
        shared.push(Arc::from(default_label(language)));
        let mut labels = Vec::new();
        for (kind, label) in &practice.appointment_labels {
            if !label.trim().is_empty() {
                labels.push((kind.as_str(), shared.len() as u32));
                shared.push(Arc::from(label.trim()));
            }
        }
        ContextBuilder {
            practice,
            channel,
            language,
            shared: shared.into(),
            fixed,
            labels,
        }
    }

    /// The shared value of the message label of an appointment type.
    fn label(&self, kind: &str) -> Slot {
        let kind = kind.trim();
        Slot::Shared(
            self.labels
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or(DEFAULT_LABEL_AT, |(_, i)| *i),
        )
    }

    /// The context of one recipient (with their appointment, for appointment messages).
    pub fn build(
        &self,
        person: &Person,
        appointment: Option<&Appointment>,
        unsubscribe_link: Option<&str>,
    ) -> MessageContext {
        self.build_to(person, None, appointment, unsubscribe_link)
    }

    /// The context of one recipient, addressed to `guardian` (a guardian of the minor
    /// `person`) when given: salutation and address are the guardian's, "Du" is off.
    pub fn build_to(
        &self,
        person: &Person,
        guardian: Option<&Guardian>,
        appointment: Option<&Appointment>,
        unsubscribe_link: Option<&str>,
    ) -> MessageContext {
        let lang = self.language;
        let mut c = Inner {
            shared: self.shared.clone(),
            text: String::with_capacity(160),
            slots: self.fixed,
        };
        match guardian {
            Some(g) => c.own(ANREDE, |t| push_guardian_anrede(t, person, g, lang)),
            None => c.own(ANREDE, |t| push_anrede(t, person, lang)),
        }
        let du = person.du && guardian.is_none();
        c.own_str(DU, if du { "ja" } else { "" });
        c.own_str(TITEL, &person.title);
        c.own_str(VORNAME, &person.first_name);
        c.own_str(NACHNAME, &person.last_name);
        c.own(NAME, |t| person.push_full_name(t));
        if let Some(a) = appointment {
            c.own(TERMIN_DATUM, |t| push_date(t, a.start.date(), lang));
            c.slots[TERMIN_WOCHENTAG] =
                Slot::Shared(WEEKDAYS_AT + a.start.weekday().num_days_from_monday());
            c.own(TERMIN_UHRZEIT, |t| push_time(t, a.start));
            c.own(TERMIN_ENDE, |t| push_time(t, a.end));
            c.slots[TERMIN_BEZEICHNUNG] = self.label(&a.kind);
            c.own_str(TERMIN_ORT, &a.location);
            if self.practice.therapist_in_messages {
                c.own_str(TERMIN_BEHANDLER, &a.therapist);
            }
        }
        match self.channel {
            Channel::Letter => {
                let block = match guardian {
                    Some(g) => guardian_address_block(person, g),
                    None => address_block(person),
                };
                c.own(ANSCHRIFT, |t| {
                    for (i, line) in block.iter().enumerate() {
                        if i > 0 {
                            t.push('\n');
                        }
                        t.push_str(line);
                    }
                });
            }
            Channel::Email => c.own_str(ABMELDELINK, unsubscribe_link.unwrap_or("")),
            Channel::Sms => {}
        }
        debug_assert!((0..N).all(|i| c.get(i).is_none()
            || lookup(CATALOGUE[i].name).is_some_and(|p| p.channels.contains(&self.channel))));
        MessageContext { inner: Arc::new(c) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_name_has_its_slot_in_the_engine_view() {
        for (i, p) in CATALOGUE.iter().enumerate() {
            let found = match p.name.split_once('.') {
                None => root_slot(p.name),
                Some(("praxis", attr)) => Group::Praxis.slot(attr),
                Some(("termin", attr)) => Group::Termin.slot(attr),
                Some(_) => None,
            };
            assert_eq!(found, Some(i), "{}", p.name);
        }
    }
}
