//! Consents as an append-only history per channel × purpose cell.
//!
//! Each cell keeps its events — granted or withdrawn, the date, how the consent is proven
//! ([`Evidence`], grants only), where the event came from ([`ConsentSource`]) and a free
//! note. Nothing is overwritten or removed: a new grant after a withdrawal, or a change of
//! date or evidence, is a new event. The current state ([`ConsentStatus`]) is derived from
//! the events: events are kept in date order (same date: in the order they were recorded),
//! and the last one decides.
//!
//! Stored records of the first format (one consent per cell with `given_at`, `evidence`,
//! `withdrawn_at`, `withdrawn_source`) still deserialize: the grant becomes one event
//! (source "Praxis": the old format did not record where a grant came from), and a
//! withdrawal a second one with its recorded source.
//!
//! [`proof`] writes the "Einwilligungsnachweis" of one person (Art. 7 (1) GDPR).

pub mod proof;
pub mod proof_sheet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{Channel, Purpose};

/// How a consent was given (the practice must be able to prove it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    WrittenForm,
    OnlineForm,
    DoubleOptIn,
    Verbal,
}

impl Evidence {
    pub const ALL: [Evidence; 4] = [
        Evidence::WrittenForm,
        Evidence::OnlineForm,
        Evidence::DoubleOptIn,
        Evidence::Verbal,
    ];

    pub fn label_de(self) -> &'static str {
        match self {
            Evidence::WrittenForm => "schriftlich",
            Evidence::OnlineForm => "Online-Formular",
            Evidence::DoubleOptIn => "Double-Opt-in",
            Evidence::Verbal => "mündlich",
        }
    }

    /// Strong enough for advertising e-mails without a warning: a written consent or a
    /// confirmed double opt-in.
    pub fn is_strong(self) -> bool {
        matches!(self, Evidence::WrittenForm | Evidence::DoubleOptIn)
    }

    /// Stable key (storage, form values).
    pub fn key(self) -> &'static str {
        match self {
            Evidence::WrittenForm => "written_form",
            Evidence::OnlineForm => "online_form",
            Evidence::DoubleOptIn => "double_opt_in",
            Evidence::Verbal => "verbal",
        }
    }
}

/// Who or what recorded a consent event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// Entered by the practice (the person said or signed so).
    Practice,
    /// The person clicked the unsubscribe link of an e-mail ("Abmeldelink").
    UnsubscribeLink,
    /// A CSV import from the practice software.
    Import,
    /// The person confirmed a double opt-in e-mail.
    DoubleOptIn,
}

impl ConsentSource {
    pub const ALL: [ConsentSource; 4] = [
        ConsentSource::Practice,
        ConsentSource::UnsubscribeLink,
        ConsentSource::Import,
        ConsentSource::DoubleOptIn,
    ];

    pub fn label_de(self) -> &'static str {
        match self {
            ConsentSource::Practice => "Praxis",
            ConsentSource::UnsubscribeLink => "Abmeldelink",
            ConsentSource::Import => "Import",
            ConsentSource::DoubleOptIn => "Double-Opt-in",
        }
    }
}

/// Granted or withdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    Granted,
    Withdrawn,
}

impl ConsentAction {
    pub fn label_de(self) -> &'static str {
        match self {
            ConsentAction::Granted => "erteilt",
            ConsentAction::Withdrawn => "widerrufen",
        }
    }
}

/// One event of a consent cell. Build with [`ConsentEvent::granted`] or
/// [`ConsentEvent::withdrawn`]: a grant always has its evidence, a withdrawal none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    pub action: ConsentAction,
    /// The day the person gave or withdrew the consent (not necessarily the day it was
    /// recorded).
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    pub source: ConsentSource,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl ConsentEvent {
    pub fn granted(date: NaiveDate, evidence: Evidence, source: ConsentSource) -> ConsentEvent {
        ConsentEvent {
            action: ConsentAction::Granted,
            date,
            evidence: Some(evidence),
            source,
            note: String::new(),
        }
    }

    pub fn withdrawn(date: NaiveDate, source: ConsentSource) -> ConsentEvent {
        ConsentEvent {
            action: ConsentAction::Withdrawn,
            date,
            evidence: None,
            source,
            note: String::new(),
        }
    }

    /// The same event with a free note (trimmed).
    pub fn with_note(mut self, note: &str) -> ConsentEvent {
        self.note = note.trim().to_string();
        self
    }
}

/// An active or past grant, as derived from the events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub given_at: NaiveDate,
    pub evidence: Evidence,
    pub source: ConsentSource,
}

/// The consent state of one channel × purpose cell, derived from its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentStatus {
    Granted(Grant),
    Withdrawn {
        /// The last grant before the withdrawal (none when a withdrawal was recorded for a
        /// cell that had no grant).
        grant: Option<Grant>,
        withdrawn_at: NaiveDate,
        source: ConsentSource,
    },
    Missing,
}

impl ConsentStatus {
    pub fn allows(&self) -> bool {
        matches!(self, ConsentStatus::Granted(_))
    }

    /// The active grant, or the last one before a withdrawal.
    pub fn grant(&self) -> Option<Grant> {
        match self {
            ConsentStatus::Granted(g) => Some(*g),
            ConsentStatus::Withdrawn { grant, .. } => *grant,
            ConsentStatus::Missing => None,
        }
    }

    pub fn withdrawn_at(&self) -> Option<NaiveDate> {
        match self {
            ConsentStatus::Withdrawn { withdrawn_at, .. } => Some(*withdrawn_at),
            _ => None,
        }
    }
}

/// The events of one channel × purpose cell, in date order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredCell")]
pub struct ConsentHistory {
    pub channel: Channel,
    pub purpose: Purpose,
    events: Vec<ConsentEvent>,
}

impl ConsentHistory {
    /// A cell with the given events (put into date order; same date keeps their order).
    pub fn new(channel: Channel, purpose: Purpose, mut events: Vec<ConsentEvent>) -> Self {
        events.sort_by_key(|e| e.date);
        ConsentHistory {
            channel,
            purpose,
            events,
        }
    }

    /// The events, oldest first.
    pub fn events(&self) -> &[ConsentEvent] {
        &self.events
    }

    /// Adds an event after every event of the same or an earlier date.
    fn record(&mut self, event: ConsentEvent) {
        let at = self.events.partition_point(|e| e.date <= event.date);
        self.events.insert(at, event);
    }

    /// The state derived from all events.
    pub fn status(&self) -> ConsentStatus {
        status_of(&self.events)
    }

    /// The state as it was at the end of `day` (events dated after it are ignored).
    pub fn status_on(&self, day: NaiveDate) -> ConsentStatus {
        status_of(&self.events[..self.events.partition_point(|e| e.date <= day)])
    }
}

fn status_of(events: &[ConsentEvent]) -> ConsentStatus {
    let mut status = ConsentStatus::Missing;
    for e in events {
        status = match (e.action, e.evidence) {
            (ConsentAction::Granted, Some(evidence)) => ConsentStatus::Granted(Grant {
                given_at: e.date,
                evidence,
                source: e.source,
            }),
            // A grant without evidence cannot be built through the API; a stored one (edited
            // by hand) proves nothing and changes nothing.
            (ConsentAction::Granted, None) => continue,
            (ConsentAction::Withdrawn, _) => ConsentStatus::Withdrawn {
                grant: status.grant(),
                withdrawn_at: e.date,
                source: e.source,
            },
        };
    }
    status
}

/// A cell as stored: the current format (`events`) or the first one (one consent with
/// `given_at`, `evidence` and an optional withdrawal).
#[derive(Deserialize)]
struct StoredCell {
    channel: Channel,
    purpose: Purpose,
    #[serde(default)]
    events: Option<Vec<ConsentEvent>>,
    #[serde(default)]
    given_at: Option<NaiveDate>,
    #[serde(default)]
    evidence: Option<Evidence>,
    #[serde(default)]
    withdrawn_at: Option<NaiveDate>,
    #[serde(default)]
    withdrawn_source: Option<ConsentSource>,
}

impl From<StoredCell> for ConsentHistory {
    fn from(s: StoredCell) -> Self {
        let events = match s.events {
            Some(events) => events,
            None => {
                let mut events = Vec::with_capacity(2);
                if let (Some(date), Some(evidence)) = (s.given_at, s.evidence) {
                    events.push(ConsentEvent::granted(
                        date,
                        evidence,
                        ConsentSource::Practice,
                    ));
                }
                if let Some(date) = s.withdrawn_at {
                    events.push(ConsentEvent::withdrawn(
                        date,
                        s.withdrawn_source.unwrap_or(ConsentSource::Practice),
                    ));
                }
                events
            }
        };
        ConsentHistory::new(s.channel, s.purpose, events)
    }
}

/// The consent matrix of one person: at most one history per channel × purpose, sorted by
/// (channel, purpose).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Vec<ConsentHistory>")]
pub struct Consents(Vec<ConsentHistory>);

impl From<Vec<ConsentHistory>> for Consents {
    /// Sorts the cells and merges cells that occur twice (their events, in date order).
    fn from(mut cells: Vec<ConsentHistory>) -> Self {
        cells.sort_by_key(|c| (c.channel, c.purpose));
        let mut out: Vec<ConsentHistory> = Vec::with_capacity(cells.len());
        for c in cells {
            match out.last_mut() {
                Some(last) if (last.channel, last.purpose) == (c.channel, c.purpose) => {
                    for e in c.events {
                        last.record(e);
                    }
                }
                _ => out.push(c),
            }
        }
        Consents(out)
    }
}

impl Consents {
    /// The cells that have events, sorted by (channel, purpose).
    pub fn cells(&self) -> &[ConsentHistory] {
        &self.0
    }

    /// No event in any cell.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|c| c.events.is_empty())
    }

    pub fn history(&self, channel: Channel, purpose: Purpose) -> Option<&ConsentHistory> {
        self.0
            .binary_search_by_key(&(channel, purpose), |c| (c.channel, c.purpose))
            .ok()
            .map(|i| &self.0[i])
    }

    /// The events of a cell, oldest first (empty when none).
    pub fn events(&self, channel: Channel, purpose: Purpose) -> &[ConsentEvent] {
        self.history(channel, purpose)
            .map(ConsentHistory::events)
            .unwrap_or(&[])
    }

    pub fn status(&self, channel: Channel, purpose: Purpose) -> ConsentStatus {
        self.history(channel, purpose)
            .map_or(ConsentStatus::Missing, ConsentHistory::status)
    }

    pub fn allows(&self, channel: Channel, purpose: Purpose) -> bool {
        self.status(channel, purpose).allows()
    }

    /// Appends an event to a cell (kept in date order). Nothing is ever removed.
    pub fn record(&mut self, channel: Channel, purpose: Purpose, event: ConsentEvent) {
        match self
            .0
            .binary_search_by_key(&(channel, purpose), |c| (c.channel, c.purpose))
        {
            Ok(i) => self.0[i].record(event),
            Err(i) => self
                .0
                .insert(i, ConsentHistory::new(channel, purpose, vec![event])),
        }
    }

    /// Records a grant entered by the practice (source "Praxis").
    pub fn grant(
        &mut self,
        channel: Channel,
        purpose: Purpose,
        given_at: NaiveDate,
        evidence: Evidence,
    ) {
        self.record(
            channel,
            purpose,
            ConsentEvent::granted(given_at, evidence, ConsentSource::Practice),
        );
    }

    /// Records a withdrawal when the cell is granted; returns false (and records nothing)
    /// when there is no active consent.
    pub fn withdraw(
        &mut self,
        channel: Channel,
        purpose: Purpose,
        at: NaiveDate,
        source: ConsentSource,
    ) -> bool {
        if !self.allows(channel, purpose) {
            return false;
        }
        self.record(channel, purpose, ConsentEvent::withdrawn(at, source));
        true
    }

    /// The events of `self` that `base` does not have, per cell (what an editor added to a
    /// copy of `base`).
    pub fn added_since<'a>(&'a self, base: &Consents) -> Vec<(Channel, Purpose, &'a ConsentEvent)> {
        let mut out = Vec::new();
        for cell in &self.0 {
            let mut old: Vec<&ConsentEvent> =
                base.events(cell.channel, cell.purpose).iter().collect();
            for e in &cell.events {
                match old.iter().position(|o| *o == e) {
                    Some(i) => {
                        old.remove(i);
                    }
                    None => out.push((cell.channel, cell.purpose, e)),
                }
            }
        }
        out
    }

    /// The consents to store when an editor started from `base`, changed it into `self`,
    /// and the stored record meanwhile became `current` (e.g. an opt-out was applied): the
    /// events the editor added, appended to `current`. Nothing recorded in between is lost.
    pub fn rebase(&self, base: &Consents, current: &Consents) -> Consents {
        let mut out = current.clone();
        for (channel, purpose, e) in self.added_since(base) {
            out.record(channel, purpose, e.clone());
        }
        out
    }

    /// Discards what an editor added to one cell of a copy of `base`: the cell is `base`'s
    /// again. (For an unsaved draft only; [`Consents::rebase`] never removes a stored event.)
    pub fn restore_cell(&mut self, channel: Channel, purpose: Purpose, base: &Consents) {
        self.0
            .retain(|c| (c.channel, c.purpose) != (channel, purpose));
        if let Some(cell) = base.history(channel, purpose) {
            self.record_cell(cell.clone());
        }
    }

    fn record_cell(&mut self, cell: ConsentHistory) {
        match self
            .0
            .binary_search_by_key(&(cell.channel, cell.purpose), |c| (c.channel, c.purpose))
        {
            Ok(i) => self.0[i] = cell,
            Err(i) => self.0.insert(i, cell),
        }
    }

    /// Whether `self` keeps every event of `older` (an append-only successor of it).
    pub fn extends(&self, older: &Consents) -> bool {
        older.added_since(self).is_empty()
    }
}

#[cfg(test)]
mod tests;
