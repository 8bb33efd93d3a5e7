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
use crate::domain::address::{address_block, one_line};
use crate::domain::model::{Appointment, Channel, Person, PracticeSettings};
use crate::domain::salutation::push_anrede;
use crate::domain::template::Language;

/// Number of catalogue entries, i.e. of slots in a context.
const N: usize = CATALOGUE.len();

/// Where a value is.
#[derive(Clone, Debug, Default)]
enum Slot {
    #[default]
    Empty,
    /// A range of the context's own text.
    Own(u32, u32),
    /// A value shared by the contexts of a batch.
    Shared(Arc<str>),
}

#[derive(Debug, Default)]
struct Inner {
    /// The recipient's own values, one after another.
    text: String,
    slots: [Slot; N],
}

impl Inner {
    fn get(&self, i: usize) -> Option<&str> {
        match &self.slots[i] {
            Slot::Empty => None,
            Slot::Own(a, b) => Some(&self.text[*a as usize..*b as usize]),
            Slot::Shared(s) => Some(s),
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
        match &self.slots[i] {
            Slot::Empty => None,
            Slot::Own(a, b) => Some(Value::from(&self.text[*a as usize..*b as usize])),
            Slot::Shared(s) => Some(Value::from(s.clone())),
        }
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
            let present = CATALOGUE.iter().enumerate().any(|(i, p)| {
                p.name.split_once('.').map(|x| x.0) == Some(g.prefix())
                    && self.inner.get(i).is_some()
            });
            present.then(|| {
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
    shared: [Slot; N],
    weekdays: [Arc<str>; 7],
    default_label: Arc<str>,
    /// The practice's message labels by appointment type.
    labels: Vec<(&'a str, Arc<str>)>,
}

fn shared(s: &str) -> Slot {
    Slot::Shared(Arc::from(s.trim()))
}

impl<'a> ContextBuilder<'a> {
    pub fn new(
        practice: &'a PracticeSettings,
        channel: Channel,
        language: Language,
        today: NaiveDate,
    ) -> Self {
        let mut s: [Slot; N] = Default::default();
        s[PRAXIS_NAME] = shared(&practice.name);
        s[PRAXIS_TELEFON] = shared(&practice.phone);
        s[PRAXIS_EMAIL] = shared(&practice.email);
        s[PRAXIS_ADRESSE] = shared(&one_line(&practice.address));
        s[PRAXIS_WEBSEITE] = shared(&practice.web);
        s[HEUTE] = shared(&format_date(today, language));
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
            shared: s,
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
        let lang = self.language;
        let mut c = Inner {
            text: String::with_capacity(160),
            slots: self.shared.clone(),
        };
        c.own(ANREDE, |t| push_anrede(t, person, lang));
        c.own_str(TITEL, &person.title);
        c.own_str(VORNAME, &person.first_name);
        c.own_str(NACHNAME, &person.last_name);
        c.own(NAME, |t| person.push_full_name(t));
        if let Some(a) = appointment {
            c.own(TERMIN_DATUM, |t| push_date(t, a.start.date(), lang));
            c.slots[TERMIN_WOCHENTAG] = Slot::Shared(
                self.weekdays[a.start.weekday().num_days_from_monday() as usize].clone(),
            );
            c.own(TERMIN_UHRZEIT, |t| push_time(t, a.start));
            c.own(TERMIN_ENDE, |t| push_time(t, a.end));
            c.slots[TERMIN_BEZEICHNUNG] = Slot::Shared(self.label(&a.kind));
            c.own_str(TERMIN_ORT, &a.location);
            if self.practice.therapist_in_messages {
                c.own_str(TERMIN_BEHANDLER, &a.therapist);
            }
        }
        match self.channel {
            Channel::Letter => {
                c.own(ANSCHRIFT, |t| {
                    for (i, line) in address_block(person).iter().enumerate() {
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
