//! Application state shared by all pages (signals, provided as context) and hash routing.
//!
//! One `AppState` per tab: every datum the pages show is read from the store into it once
//! (and again when another tab announces a change, see `sync`), and derived views are
//! computed from it.

use crate::app::repo::outbox::Outbox;
use crate::app::send::relay_client::RelayConfig;
use crate::app::send::transmit::Link;
use crate::domain::query::SavedQuery;
use crate::domain::review::{Handover, Review};
use crate::domain::search::SearchKey;
use crate::domain::template::Template;
use crate::domain::{Appointment, Kind, PersonId, PersonRecord, PracticeSettings};
use chrono::NaiveDate;
use leptos::prelude::*;

/// The pages of the app; the URL hash mirrors the current page (`#/patienten`, …).
#[derive(Clone, Debug, PartialEq)]
pub enum Page {
    Persons(Kind),
    PersonEdit(PersonId),
    PersonNew(Kind),
    Appointments,
    Send,
    Review,
    Compose,
    Log,
    Templates,
    Settings,
    Import,
    Backup,
}

impl Page {
    /// Pages that show or use appointments: they wait until the start has read them.
    pub fn needs_appointments(&self) -> bool {
        matches!(
            self,
            Page::Appointments | Page::Send | Page::Review | Page::Compose | Page::Import
        )
    }

    pub fn hash(&self) -> String {
        match self {
            Page::Persons(Kind::Patient) => "#/patienten".into(),
            Page::Persons(Kind::Prospect) => "#/interessenten".into(),
            Page::PersonEdit(id) => format!("#/person/{id}"),
            Page::PersonNew(Kind::Patient) => "#/neu/patient".into(),
            Page::PersonNew(Kind::Prospect) => "#/neu/interessent".into(),
            Page::Appointments => "#/termine".into(),
            Page::Send => "#/versand".into(),
            Page::Review => "#/versand/pruefen".into(),
            Page::Compose => "#/versand/vorlage".into(),
            Page::Log => "#/protokoll".into(),
            Page::Templates => "#/vorlagen".into(),
            Page::Settings => "#/einstellungen".into(),
            Page::Import => "#/import".into(),
            Page::Backup => "#/sicherung".into(),
        }
    }

    pub fn from_hash(hash: &str) -> Page {
        let h = hash.trim_start_matches('#').trim_start_matches('/');
        let mut parts = h.splitn(2, '/');
        match (parts.next().unwrap_or(""), parts.next()) {
            ("interessenten", _) => Page::Persons(Kind::Prospect),
            ("person", Some(id)) if !id.is_empty() => Page::PersonEdit(PersonId(id.to_string())),
            ("neu", Some("interessent")) => Page::PersonNew(Kind::Prospect),
            ("neu", _) => Page::PersonNew(Kind::Patient),
            ("termine", _) => Page::Appointments,
            ("versand", Some("pruefen")) => Page::Review,
            ("versand", Some("vorlage")) => Page::Compose,
            ("versand", _) => Page::Send,
            ("protokoll", _) => Page::Log,
            ("vorlagen", _) => Page::Templates,
            ("einstellungen", _) => Page::Settings,
            ("import", _) => Page::Import,
            ("sicherung", _) => Page::Backup,
            _ => Page::Persons(Kind::Patient),
        }
    }

    /// Which navigation entry is highlighted for this page.
    pub fn nav_group(&self) -> String {
        match self {
            Page::PersonEdit(_) | Page::PersonNew(Kind::Patient) => {
                Page::Persons(Kind::Patient).hash()
            }
            Page::PersonNew(Kind::Prospect) => Page::Persons(Kind::Prospect).hash(),
            Page::Review | Page::Compose => Page::Send.hash(),
            p => p.hash(),
        }
    }
}

/// What the app shows instead of its pages (issue 17): nothing (`Open`), the passphrase
/// set-up of a real (non-demo) unencrypted practice, the recovery key once after the set-up,
/// or the lock screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Gate {
    Open,
    SetUp,
    /// The recovery key in its text form, shown once until confirmed.
    Recovery(String),
    Locked,
}

/// All app-wide signals. `Copy`, so closures capture it freely.
#[derive(Clone, Copy)]
pub struct AppState {
    pub page: RwSignal<Page>,
    pub persons: RwSignal<Vec<PersonRecord>>,
    /// Folded search haystacks, parallel to `persons` (recomputed when persons change).
    pub search_keys: Memo<Vec<SearchKey>>,
    pub appointments: RwSignal<Vec<Appointment>>,
    /// False until the start has read the appointments: they are read after the persons,
    /// once the patient list is shown (at 100,000 persons they take longer than the
    /// persons); pages that use them wait (`Page::needs_appointments`).
    pub appointments_ready: RwSignal<bool>,
    pub settings: RwSignal<PracticeSettings>,
    /// The review window of the current send flow (built by "Aktion").
    pub review: RwSignal<Option<Review>>,
    /// What "Übernahme" handed to the composer.
    pub handover: RwSignal<Option<Handover>>,
    pub saved_queries: RwSignal<Vec<SavedQuery>>,
    /// Shipped templates, overridden or extended by the practice's own (stored) ones.
    pub templates: RwSignal<Vec<Template>>,
    /// True while the loaded data is the generated demo practice.
    pub demo: RwSignal<bool>,
    /// How many stored records could not be read and are set aside (quarantine).
    pub quarantined: RwSignal<usize>,
    /// Date of the last backup download: `None` = not read yet, `Some(None)` = never.
    pub last_backup: RwSignal<Option<Option<NaiveDate>>>,
    /// The outbox and the send log as stored (every channel, letters included).
    pub outbox: RwSignal<Outbox>,
    /// The relay settings of this browser.
    pub relay: RwSignal<RelayConfig>,
    /// What the transmit loop is doing (this tab's, or the sending tab's as announced).
    pub link: RwSignal<Link>,
    /// True while this tab runs the transmit loop (one tab of the browser does).
    pub sending_here: RwSignal<bool>,
    /// Bumped to wake the transmit loop early (new batch, resume, new settings).
    pub wake: RwSignal<u64>,
    /// False until the database has been opened and read (again false while locked).
    pub loaded: RwSignal<bool>,
    /// Set-up, recovery key, lock screen, or the pages.
    pub gate: RwSignal<Gate>,
    /// True when the practice's data is encrypted (then "Sperren" is offered).
    pub encrypted: RwSignal<bool>,
    /// Automatic lock after idle time (read from the store with the rest).
    pub lock_settings: RwSignal<crate::domain::lock::LockSettings>,
    /// Daily reminders: channel order, templates, dismissal (read from the store with the
    /// rest).
    pub reminders: RwSignal<crate::domain::reminders::ReminderSettings>,
    /// The template the composer opens with (set by the reminder notice; taken once).
    pub compose_template: RwSignal<Option<String>>,
    pub error: RwSignal<Option<String>>,
    /// A short confirmation shown after an action ("Gespeichert.").
    pub notice: RwSignal<Option<String>>,
    /// The device sync of this practice (`devices`): status and progress of the loop.
    pub devices: RwSignal<crate::app::devices::DeviceSync>,
    /// Bumped to make the device sync loop run a round soon.
    pub devices_wake: RwSignal<u64>,
}

impl AppState {
    pub fn new() -> Self {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        let persons = RwSignal::new(Vec::<PersonRecord>::new());
        let search_keys =
            Memo::new(move |_| persons.with(|ps| ps.iter().map(SearchKey::of).collect()));
        AppState {
            page: RwSignal::new(Page::from_hash(&hash)),
            persons,
            search_keys,
            appointments: RwSignal::new(Vec::new()),
            appointments_ready: RwSignal::new(false),
            settings: RwSignal::new(PracticeSettings::default()),
            review: RwSignal::new(None),
            handover: RwSignal::new(None),
            saved_queries: RwSignal::new(Vec::new()),
            templates: RwSignal::new(crate::domain::template::shipped_templates()),
            demo: RwSignal::new(false),
            quarantined: RwSignal::new(0),
            last_backup: RwSignal::new(None),
            outbox: RwSignal::new(Outbox::default()),
            relay: RwSignal::new(RelayConfig::default()),
            link: RwSignal::new(Link::Idle),
            sending_here: RwSignal::new(false),
            wake: RwSignal::new(0),
            loaded: RwSignal::new(false),
            gate: RwSignal::new(Gate::Open),
            encrypted: RwSignal::new(false),
            lock_settings: RwSignal::new(Default::default()),
            reminders: RwSignal::new(Default::default()),
            compose_template: RwSignal::new(None),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            devices: RwSignal::new(Default::default()),
            devices_wake: RwSignal::new(0),
        }
    }

    pub fn listen_to_hash(self) {
        let handle = window_event_listener(leptos::ev::hashchange, move |_| {
            let hash = web_sys::window()
                .and_then(|w| w.location().hash().ok())
                .unwrap_or_default();
            self.page.set(Page::from_hash(&hash));
        });
        // The listener lives as long as the app.
        std::mem::forget(handle);
    }

    pub fn go(self, page: Page) {
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&page.hash());
        }
        self.page.set(page);
    }

    pub fn person(self, id: &PersonId) -> Option<PersonRecord> {
        self.persons
            .with(|ps| ps.iter().find(|p| &p.person.id == id).cloned())
    }
}
