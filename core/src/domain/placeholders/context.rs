//! The context of one recipient's message: exactly the values the channel may use, built
//! from a [`Person`] (never its sensitive part), and its minijinja view.
//!
//! A context is a fixed array with one slot per catalogue entry. The practice's values and
//! today's date are the same for every recipient of a batch: a [`ContextBuilder`] formats
//! them once and shares them (reference-counted) with every context it builds. For
//! rendering, the context is handed to minijinja as an object that looks values up by name
//! on access ([`MessageContext::to_value`]) instead of being copied into maps first.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use minijinja::value::{Enumerator, Object, Value};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::format::{format_date, format_time, weekday_name};
use super::labels::default_label;
use super::{lookup, CATALOGUE};
use crate::domain::address::{address_block, one_line};
use crate::domain::model::{Appointment, Channel, Person, PracticeSettings};
use crate::domain::salutation::anrede;
use crate::domain::template::Language;

/// Number of catalogue entries, i.e. of slots in a context.
const N: usize = CATALOGUE.len();

type Slots = [Option<Arc<str>>; N];

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

impl Group {
    fn slot(self, attr: &str) -> Option<usize> {
        Some(match (self, attr) {
            (Group::Praxis, "name") => PRAXIS_NAME,
            (Group::Praxis, "telefon") => PRAXIS_TELEFON,
            (Group::Praxis, "email") => PRAXIS_EMAIL,
            (Group::Praxis, "adresse") => PRAXIS_ADRESSE,
            (Group::Praxis, "webseite") => PRAXIS_WEBSEITE,
            (Group::Termin, "datum") => TERMIN_DATUM,
            (Group::Termin, "wochentag") => TERMIN_WOCHENTAG,
            (Group::Termin, "uhrzeit") => TERMIN_UHRZEIT,
            (Group::Termin, "ende") => TERMIN_ENDE,
            (Group::Termin, "bezeichnung") => TERMIN_BEZEICHNUNG,
            (Group::Termin, "ort") => TERMIN_ORT,
            (Group::Termin, "behandler") => TERMIN_BEHANDLER,
            _ => return None,
        })
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
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MessageContext {
    slots: Arc<Slots>,
}

impl MessageContext {
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = CATALOGUE.iter().position(|p| p.name == name)?;
        self.slots[i].as_deref()
    }

    /// The values present, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        CATALOGUE
            .iter()
            .zip(self.slots.iter())
            .filter_map(|(p, v)| Some((p.name, v.as_deref()?)))
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
        let mut slots: Slots = Default::default();
        for (k, v) in pairs {
            if let Some(i) = CATALOGUE.iter().position(|p| p.name == k.as_ref()) {
                if CATALOGUE[i].channels.contains(&channel) {
                    slots[i] = Some(Arc::from(v.as_ref()));
                }
            }
        }
        MessageContext {
            slots: Arc::new(slots),
        }
    }

    pub fn has_appointment(&self) -> bool {
        self.iter().any(|(k, _)| k.starts_with("termin."))
    }

    /// The minijinja view: an object that finds values by name on access (`praxis` and
    /// `termin` are objects of their own). Cheap: no value is copied.
    pub fn to_value(&self) -> Value {
        let has = |g: Group| {
            CATALOGUE.iter().zip(self.slots.iter()).any(|(p, v)| {
                v.is_some() && p.name.split_once('.').map(|x| x.0) == Some(g.prefix())
            })
        };
        let group = |g: Group| {
            has(g).then(|| {
                Value::from_object(GroupObject {
                    slots: self.slots.clone(),
                    group: g,
                })
            })
        };
        Value::from_object(RootObject {
            slots: self.slots.clone(),
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

fn value_at(slots: &Slots, i: usize) -> Option<Value> {
    slots[i].as_ref().map(Value::from)
}

#[derive(Debug)]
struct RootObject {
    slots: Arc<Slots>,
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
            _ => value_at(&self.slots, root_slot(key)?),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = Vec::new();
        for (p, v) in CATALOGUE.iter().zip(self.slots.iter()) {
            if v.is_none() {
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
    slots: Arc<Slots>,
    group: Group,
}

impl Object for GroupObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        value_at(&self.slots, self.group.slot(key)?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let prefix = self.group.prefix();
        let keys = CATALOGUE
            .iter()
            .zip(self.slots.iter())
            .filter(|(_, v)| v.is_some())
            .filter_map(|(p, _)| {
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
    ContextBuilder::new(input.practice, input.channel, input.language, input.today).build(
        input.person,
        input.appointment,
        input.unsubscribe_link,
    )
}

/// Builds the contexts of a batch: one practice, channel, language and date. What is the
/// same for every recipient is formatted once, here.
#[derive(Clone, Debug)]
pub struct ContextBuilder<'a> {
    practice: &'a PracticeSettings,
    channel: Channel,
    language: Language,
    /// The practice's values and today's date.
    shared: Slots,
    weekdays: [Arc<str>; 7],
    default_label: Arc<str>,
    /// The practice's message labels by appointment type.
    labels: Vec<(&'a str, Arc<str>)>,
}

fn shared_str(s: &str) -> Option<Arc<str>> {
    Some(Arc::from(s.trim()))
}

impl<'a> ContextBuilder<'a> {
    pub fn new(
        practice: &'a PracticeSettings,
        channel: Channel,
        language: Language,
        today: NaiveDate,
    ) -> Self {
        let mut shared: Slots = Default::default();
        shared[PRAXIS_NAME] = shared_str(&practice.name);
        shared[PRAXIS_TELEFON] = shared_str(&practice.phone);
        shared[PRAXIS_EMAIL] = shared_str(&practice.email);
        shared[PRAXIS_ADRESSE] = Some(Arc::from(one_line(&practice.address)));
        shared[PRAXIS_WEBSEITE] = shared_str(&practice.web);
        shared[HEUTE] = Some(Arc::from(format_date(today, language)));
        use chrono::Weekday::*;
        let weekdays =
            [Mon, Tue, Wed, Thu, Fri, Sat, Sun].map(|w| Arc::from(weekday_name(w, language)));
        let labels = practice
            .appointment_labels
            .iter()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(k, l)| (k.as_str(), Arc::from(l.trim())))
            .collect();
        ContextBuilder {
            practice,
            channel,
            language,
            shared,
            weekdays,
            default_label: Arc::from(default_label(language)),
            labels,
        }
    }

    fn label(&self, kind: &str) -> Arc<str> {
        let kind = kind.trim();
        self.labels
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or_else(|| self.default_label.clone(), |(_, l)| l.clone())
    }

    /// The context of one recipient (with their appointment, for appointment messages).
    pub fn build(
        &self,
        person: &Person,
        appointment: Option<&Appointment>,
        unsubscribe_link: Option<&str>,
    ) -> MessageContext {
        let mut v = self.shared.clone();
        v[ANREDE] = Some(Arc::from(anrede(person, self.language)));
        v[TITEL] = shared_str(&person.title);
        v[VORNAME] = shared_str(&person.first_name);
        v[NACHNAME] = shared_str(&person.last_name);
        v[NAME] = Some(Arc::from(person.full_name()));
        if let Some(a) = appointment {
            v[TERMIN_DATUM] = Some(Arc::from(format_date(a.start.date(), self.language)));
            v[TERMIN_WOCHENTAG] =
                Some(self.weekdays[a.start.weekday().num_days_from_monday() as usize].clone());
            v[TERMIN_UHRZEIT] = Some(Arc::from(format_time(a.start)));
            v[TERMIN_ENDE] = Some(Arc::from(format_time(a.end)));
            v[TERMIN_BEZEICHNUNG] = Some(self.label(&a.kind));
            v[TERMIN_ORT] = shared_str(&a.location);
            if self.practice.therapist_in_messages {
                v[TERMIN_BEHANDLER] = shared_str(&a.therapist);
            }
        }
        match self.channel {
            Channel::Letter => {
                v[ANSCHRIFT] = Some(Arc::from(address_block(person).join("\n")));
            }
            Channel::Email => {
                v[ABMELDELINK] = shared_str(unsubscribe_link.unwrap_or(""));
            }
            Channel::Sms => {}
        }
        debug_assert!(CATALOGUE.iter().zip(v.iter()).all(|(p, x)| x.is_none()
            || lookup(p.name).is_some_and(|p| p.channels.contains(&self.channel))));
        MessageContext { slots: Arc::new(v) }
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
