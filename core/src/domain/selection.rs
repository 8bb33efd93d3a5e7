//! Selection sources and gestures: recipients, the appointment list filter, and a
//! row selection with shift-click ranges, select all / none.

use std::hash::Hash;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::hashing::{fast_set, FastSet};
use super::model::{Appointment, AppointmentId, AppointmentStatus, PersonId};

/// One selected recipient: a person, plus the appointment when the source is an
/// appointment list (reminders need it for their placeholders).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recipient {
    pub person_id: PersonId,
    #[serde(default)]
    pub appointment_id: Option<AppointmentId>,
}

impl Recipient {
    pub fn person(id: PersonId) -> Recipient {
        Recipient {
            person_id: id,
            appointment_id: None,
        }
    }

    pub fn of_appointment(a: &Appointment) -> Recipient {
        Recipient {
            person_id: a.person_id.clone(),
            appointment_id: Some(a.id.clone()),
        }
    }
}

/// Filter of the appointment list source. Empty lists mean "any".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentFilter {
    /// First day (inclusive).
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    #[serde(default)]
    pub therapists: Vec<String>,
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub include_cancelled: bool,
}

impl AppointmentFilter {
    /// All (not cancelled) appointments of one day.
    pub fn day(day: NaiveDate) -> AppointmentFilter {
        AppointmentFilter::range(day, day)
    }

    pub fn range(from: NaiveDate, to: NaiveDate) -> AppointmentFilter {
        AppointmentFilter {
            from,
            to,
            therapists: Vec::new(),
            locations: Vec::new(),
            kinds: Vec::new(),
            include_cancelled: false,
        }
    }

    /// The default of the appointment list: tomorrow (reminders the day before).
    pub fn tomorrow(today: NaiveDate) -> AppointmentFilter {
        AppointmentFilter::day(today.succ_opt().unwrap_or(today))
    }

    pub fn matches(&self, a: &Appointment) -> bool {
        let day = a.day();
        day >= self.from
            && day <= self.to
            && (self.include_cancelled || a.status != AppointmentStatus::Cancelled)
            && (self.therapists.is_empty() || self.therapists.contains(&a.therapist))
            && (self.locations.is_empty() || self.locations.contains(&a.location))
            && (self.kinds.is_empty() || self.kinds.contains(&a.kind))
    }

    /// Indices of matching appointments, sorted by start time (then id, for stability).
    pub fn apply(&self, appointments: &[Appointment]) -> Vec<usize> {
        let mut hits: Vec<usize> = appointments
            .iter()
            .enumerate()
            .filter(|(_, a)| self.matches(a))
            .map(|(i, _)| i)
            .collect();
        hits.sort_by(|&x, &y| {
            let (a, b) = (&appointments[x], &appointments[y]);
            a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id))
        });
        hits
    }
}

/// Distinct values of a field, sorted, for the filter drop-downs.
pub fn distinct_values<'a>(
    appointments: &'a [Appointment],
    field: impl Fn(&'a Appointment) -> &'a str,
) -> Vec<String> {
    let mut v: Vec<&str> = appointments
        .iter()
        .map(field)
        .filter(|s| !s.is_empty())
        .collect();
    v.sort_unstable();
    v.dedup();
    v.into_iter().map(str::to_string).collect()
}

/// A set of selected rows, keyed by a stable row key (person or appointment id), so that
/// re-sorting the table keeps the selection. Range operations take the rows in their
/// current display order.
#[derive(Clone, Debug)]
pub struct Selection<K: Eq + Hash + Clone> {
    selected: FastSet<K>,
    /// Index (in display order) of the last plain click, the start of shift-click ranges.
    anchor: Option<usize>,
}

impl<K: Eq + Hash + Clone> Default for Selection<K> {
    fn default() -> Self {
        Selection {
            selected: fast_set(0),
            anchor: None,
        }
    }
}

impl<K: Eq + Hash + Clone> Selection<K> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.selected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.selected.is_empty()
    }

    pub fn contains(&self, key: &K) -> bool {
        self.selected.contains(key)
    }

    pub fn anchor(&self) -> Option<usize> {
        self.anchor
    }

    /// Checkbox click on row `index`: toggles it and makes it the anchor.
    pub fn toggle(&mut self, rows: &[K], index: usize) {
        let Some(key) = rows.get(index) else {
            return;
        };
        if !self.selected.remove(key) {
            self.selected.insert(key.clone());
        }
        self.anchor = Some(index);
    }

    /// Shift-click on row `target`: every row between the anchor and `target` (inclusive)
    /// takes the anchor's state (selected or not), as in common file managers. Without an
    /// anchor this is a plain toggle. The anchor stays, so the range can be adjusted.
    pub fn shift_click(&mut self, rows: &[K], target: usize) {
        let anchor = match self.anchor {
            Some(a) if a < rows.len() => a,
            _ => return self.toggle(rows, target),
        };
        if target >= rows.len() {
            return;
        }
        let select = self.selected.contains(&rows[anchor]);
        let (lo, hi) = if anchor <= target {
            (anchor, target)
        } else {
            (target, anchor)
        };
        for key in &rows[lo..=hi] {
            if select {
                self.selected.insert(key.clone());
            } else {
                self.selected.remove(key);
            }
        }
    }

    /// Select every row (button or Ctrl/Cmd-A).
    pub fn select_all(&mut self, rows: &[K]) {
        self.selected.reserve(rows.len());
        self.selected.extend(rows.iter().cloned());
    }

    pub fn select_none(&mut self) {
        self.selected.clear();
        self.anchor = None;
    }

    /// Drops keys that are no longer among the rows (after the source changed).
    pub fn retain_rows(&mut self, rows: &[K]) {
        let mut present: FastSet<&K> = fast_set(rows.len());
        present.extend(rows.iter());
        self.selected.retain(|k| present.contains(k));
        if self.anchor.is_some_and(|a| a >= rows.len()) {
            self.anchor = None;
        }
    }

    /// The selected keys in display order.
    pub fn in_order(&self, rows: &[K]) -> Vec<K> {
        rows.iter()
            .filter(|k| self.selected.contains(k))
            .cloned()
            .collect()
    }
}

/// Pure helper for shift-click over a boolean mask: sets `mask[min..=max]` of the anchor and
/// target to the anchor's state; returns how many entries changed.
pub fn apply_range(mask: &mut [bool], anchor: usize, target: usize) -> usize {
    if anchor >= mask.len() || target >= mask.len() {
        return 0;
    }
    let state = mask[anchor];
    let (lo, hi) = if anchor <= target {
        (anchor, target)
    } else {
        (target, anchor)
    };
    let mut changed = 0;
    for m in &mut mask[lo..=hi] {
        if *m != state {
            *m = state;
            changed += 1;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn appt(
        id: &str,
        start: &str,
        therapist: &str,
        location: &str,
        kind: &str,
        status: AppointmentStatus,
    ) -> Appointment {
        let start = NaiveDateTime::parse_from_str(start, "%Y-%m-%d %H:%M").unwrap();
        Appointment {
            id: AppointmentId(id.into()),
            person_id: PersonId(format!("p-{id}")),
            start,
            end: start + chrono::Duration::minutes(30),
            therapist: therapist.into(),
            location: location.into(),
            kind: kind.into(),
            status,
        }
    }

    #[test]
    fn appointment_filter_table() {
        use AppointmentStatus::*;
        let list = vec![
            appt(
                "a1",
                "2026-11-27 10:00",
                "Weber",
                "Mitte",
                "Massage",
                Planned,
            ),
            appt("a2", "2026-11-27 08:00", "Kaya", "Nord", "Physio", Planned),
            appt(
                "a3",
                "2026-11-27 09:00",
                "Weber",
                "Nord",
                "Physio",
                Cancelled,
            ),
            appt(
                "a4",
                "2026-11-28 09:00",
                "Weber",
                "Mitte",
                "Physio",
                Planned,
            ),
            appt("a5", "2026-11-26 23:59", "Weber", "Mitte", "Physio", Done),
        ];
        let today = d(2026, 11, 26);
        let ids = |f: &AppointmentFilter| -> Vec<&str> {
            f.apply(&list)
                .iter()
                .map(|&i| list[i].id.0.as_str())
                .collect()
        };
        let tomorrow = AppointmentFilter::tomorrow(today);
        assert_eq!(ids(&tomorrow), vec!["a2", "a1"]);
        let mut with_cancelled = tomorrow.clone();
        with_cancelled.include_cancelled = true;
        assert_eq!(ids(&with_cancelled), vec!["a2", "a3", "a1"]);
        let mut weber = AppointmentFilter::range(d(2026, 11, 26), d(2026, 11, 28));
        weber.therapists = vec!["Weber".into()];
        assert_eq!(ids(&weber), vec!["a5", "a1", "a4"]);
        weber.locations = vec!["Mitte".into()];
        weber.kinds = vec!["Physio".into()];
        assert_eq!(ids(&weber), vec!["a5", "a4"]);
        assert_eq!(
            ids(&AppointmentFilter::day(d(2026, 12, 1))),
            Vec::<&str>::new()
        );
        assert_eq!(
            distinct_values(&list, |a| a.therapist.as_str()),
            vec!["Kaya", "Weber"]
        );
        let r = Recipient::of_appointment(&list[0]);
        assert_eq!(r.appointment_id, Some(AppointmentId("a1".into())));
        assert_eq!(r.person_id, PersonId("p-a1".into()));
    }

    #[test]
    fn selection_gestures() {
        let rows: Vec<u32> = (0..10).collect();
        let mut s = Selection::new();
        s.toggle(&rows, 2);
        s.shift_click(&rows, 5);
        assert_eq!(s.in_order(&rows), vec![2, 3, 4, 5]);
        // Shift-click back past the anchor: range 0..=2 takes the anchor's state (selected).
        s.shift_click(&rows, 0);
        assert_eq!(s.in_order(&rows), vec![0, 1, 2, 3, 4, 5]);
        // Deselect 4 (new anchor, unselected), shift-click 8: 4..=8 become unselected.
        s.toggle(&rows, 4);
        s.shift_click(&rows, 8);
        assert_eq!(s.in_order(&rows), vec![0, 1, 2, 3]);
        assert_eq!(s.len(), 4);
        s.select_all(&rows);
        assert_eq!(s.len(), 10);
        // Re-sorted rows keep the selection by key.
        let reversed: Vec<u32> = rows.iter().rev().copied().collect();
        s.select_none();
        assert!(s.is_empty());
        assert_eq!(s.anchor(), None);
        s.shift_click(&reversed, 0); // no anchor: plain toggle
        assert!(s.contains(&9));
        s.shift_click(&reversed, 2);
        assert_eq!(s.in_order(&reversed), vec![9, 8, 7]);
        assert_eq!(s.in_order(&rows), vec![7, 8, 9]);
        s.retain_rows(&rows[..8]);
        assert_eq!(s.in_order(&rows), vec![7]);
        // Out-of-range indices are ignored.
        s.toggle(&rows, 99);
        s.shift_click(&rows, 99);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn range_over_mask() {
        let mut m = vec![false, true, false, false, true];
        assert_eq!(apply_range(&mut m, 1, 3), 2);
        assert_eq!(m, vec![false, true, true, true, true]);
        assert_eq!(apply_range(&mut m, 0, 4), 4);
        assert_eq!(m, vec![false; 5]);
        assert_eq!(apply_range(&mut m, 0, 5), 0);
    }
}
