//! Saved queries over persons: named lists of AND-combined conditions.
//!
//! Evaluation is pure: `today` is passed in. For speed over 100,000 persons, a
//! [`QueryContext`] is built once from persons and appointments (one pass over the
//! appointments gives each person's last visit and next appointment); a [`SavedQuery`] is
//! compiled once (dates resolved, texts folded), then each person is checked without
//! allocation.
//!
//! ## Birthdays on 29 February
//! In years without 29 February, people born on 29.02. celebrate on **28.02.** — this follows
//! §188 (3) BGB (a period that would end on a day missing in the month ends on its last day),
//! so a person born on 29.02. also turns a year older on 28.02. in those years. The same rule
//! applies to a window bound written as 29.02.: in a non-leap year it means 28.02.
//!
//! ## Day-month windows
//! A birthday window `from`–`to` of day and month ("28.12.–05.01.") wraps the year end when
//! `to` is before `from`. It is resolved against `today` to the concrete date range that is
//! current or next: it ends at the first occurrence of `to` on or after `today`, and starts
//! at the last occurrence of `from` on or before that end. So on 20.12.2026 the window
//! "28.12.–05.01." means 28.12.2026–05.01.2027, and on 02.01.2027 it means the same range.
//!
//! ## Recall
//! A visit is an appointment that is not cancelled and started before `today`. A person is
//! due for recall when the last visit was before the given date and there is no appointment
//! (not cancelled) on or after `today`. People who never had a visit only match when
//! `include_never_visited` is set.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::hashing::{fast_map, FastMap};
use super::model::{
    Appointment, AppointmentStatus, Channel, InsuranceKind, Kind, PersonRecord, Purpose,
};
use super::search::{fold, fold_into};

/// A day and month without a year ("28.12.").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DayMonth {
    pub month: u32,
    pub day: u32,
}

impl DayMonth {
    pub fn new(day: u32, month: u32) -> Option<DayMonth> {
        // 29.02. is a valid day-month (resolved to 28.02. in non-leap years).
        NaiveDate::from_ymd_opt(2000, month, day).map(|_| DayMonth { month, day })
    }

    /// Parses "28.12." or "28.12" or "5.1.".
    pub fn parse(s: &str) -> Option<DayMonth> {
        let s = s.trim().trim_end_matches('.');
        let (d, m) = s.split_once('.')?;
        DayMonth::new(d.trim().parse().ok()?, m.trim().parse().ok()?)
    }

    /// The date in `year`; 29.02. becomes 28.02. in non-leap years.
    pub fn in_year(self, year: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
            .or_else(|| NaiveDate::from_ymd_opt(year, self.month, self.day - 1))
            .expect("valid day-month")
    }

    pub fn of(date: NaiveDate) -> DayMonth {
        DayMonth {
            month: date.month(),
            day: date.day(),
        }
    }
}

impl std::fmt::Display for DayMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}.{:02}.", self.day, self.month)
    }
}

/// The date on which someone born on `birth` celebrates in `year` (29.02. → 28.02.).
pub fn birthday_in_year(birth: NaiveDate, year: i32) -> NaiveDate {
    DayMonth::of(birth).in_year(year)
}

/// Age in completed years on `on`; `None` before birth.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    if on < birth {
        return None;
    }
    let mut age = on.year() - birth.year();
    if on < birthday_in_year(birth, on.year()) {
        age -= 1;
    }
    Some(age as u32)
}

/// Whether `birth` has a birthday (age ≥ 1) within `[start, end]`.
pub fn has_birthday_between(birth: NaiveDate, start: NaiveDate, end: NaiveDate) -> bool {
    (start.year()..=end.year()).any(|y| {
        let d = birthday_in_year(birth, y);
        d > birth && d >= start && d <= end
    })
}

/// Resolves a day-month window against `today` (see the module documentation).
pub fn resolve_window(from: DayMonth, to: DayMonth, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let mut end = to.in_year(today.year());
    if end < today {
        end = to.in_year(today.year() + 1);
    }
    let mut start = from.in_year(end.year());
    if start > end {
        start = from.in_year(end.year() - 1);
    }
    (start, end)
}

/// Which tags a person must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TagMode {
    /// At least one of the tags.
    #[default]
    Any,
    /// All of the tags.
    All,
    /// None of the tags.
    None,
}

impl TagMode {
    pub const ALL: [TagMode; 3] = [TagMode::Any, TagMode::All, TagMode::None];

    pub fn label_de(self) -> &'static str {
        match self {
            TagMode::Any => "mindestens eines",
            TagMode::All => "alle",
            TagMode::None => "keines",
        }
    }
}

/// One condition of a saved query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// Birthday within a day-month window, wrapping the year end when `to` < `from`.
    BirthdayWindow {
        from: DayMonth,
        to: DayMonth,
    },
    /// Birthday within the next `days` days (today included).
    BirthdayNextDays {
        days: u32,
    },
    /// Birthday within a concrete date range (inclusive).
    BirthdayBetween {
        from: NaiveDate,
        to: NaiveDate,
    },
    /// Last visit before `last_visit_before` and no appointment from today on.
    Recall {
        last_visit_before: NaiveDate,
        #[serde(default)]
        include_never_visited: bool,
    },
    /// Age in completed years within `[min, max]` on `on` (default: today).
    AgeRange {
        #[serde(default)]
        min: Option<u32>,
        #[serde(default)]
        max: Option<u32>,
        #[serde(default)]
        on: Option<NaiveDate>,
    },
    /// Tags, compared case- and umlaut-insensitively.
    Tags {
        tags: Vec<String>,
        #[serde(default)]
        mode: TagMode,
    },
    /// German postcodes between `from` and `to`, compared by prefix: "80"–"81" covers
    /// 80000–81999. Foreign addresses never match.
    PostcodeRange {
        from: String,
        to: String,
    },
    /// City is one of these (case- and umlaut-insensitive).
    City {
        cities: Vec<String>,
    },
    /// Insurance kind is one of these.
    Insurance {
        kinds: Vec<InsuranceKind>,
    },
    Kind {
        kind: Kind,
    },
    /// Active (not withdrawn) consent for this channel and purpose.
    HasConsent {
        channel: Channel,
        purpose: Purpose,
    },
}

impl Condition {
    /// A short German description for lists of saved queries.
    pub fn describe_de(&self) -> String {
        let fmt = |d: &NaiveDate| d.format("%d.%m.%Y").to_string();
        match self {
            Condition::BirthdayWindow { from, to } => format!("Geburtstag {from}–{to}"),
            Condition::BirthdayNextDays { days } => {
                format!("Geburtstag in den nächsten {days} Tagen")
            }
            Condition::BirthdayBetween { from, to } => {
                format!("Geburtstag {}–{}", fmt(from), fmt(to))
            }
            Condition::Recall {
                last_visit_before, ..
            } => format!(
                "Letzter Besuch vor {}, kein künftiger Termin",
                fmt(last_visit_before)
            ),
            Condition::AgeRange { min, max, .. } => match (min, max) {
                (Some(a), Some(b)) => format!("Alter {a}–{b}"),
                (Some(a), None) => format!("Alter ab {a}"),
                (None, Some(b)) => format!("Alter bis {b}"),
                (None, None) => "Alter beliebig".into(),
            },
            Condition::Tags { tags, mode } => {
                let how = match mode {
                    TagMode::Any => "eines von",
                    TagMode::All => "alle von",
                    TagMode::None => "keines von",
                };
                format!("Merkmal {how}: {}", tags.join(", "))
            }
            Condition::PostcodeRange { from, to } => format!("PLZ {from}–{to}"),
            Condition::City { cities } => format!("Ort: {}", cities.join(", ")),
            Condition::Insurance { kinds } => format!(
                "Versicherung: {}",
                kinds
                    .iter()
                    .map(|k| k.label_de())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Condition::Kind { kind } => format!("Art: {}", kind.label_de()),
            Condition::HasConsent { channel, purpose } => format!(
                "Einwilligung {} für {}",
                channel.label_de(),
                purpose.label_de()
            ),
        }
    }
}

/// A named query; conditions combine with AND. No conditions selects everyone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SavedQuery {
    pub name: String,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

impl SavedQuery {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serialisable")
    }

    pub fn from_json(s: &str) -> Result<SavedQuery, serde_json::Error> {
        serde_json::from_str(s)
    }
}

/// Per-person facts, aligned with the persons slice: visits derived from appointments and
/// the birth date packed for fast birthday and age checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersonFacts {
    /// Day of the last non-cancelled appointment before today.
    pub last_visit: Option<NaiveDate>,
    /// Day of the next non-cancelled appointment on or after today.
    pub next_appointment: Option<NaiveDate>,
    /// Birth year (meaningless when `birth_md` is 0).
    pub birth_year: i32,
    /// Birth month and day as `month * 32 + day`; 0 without birth date.
    pub birth_md: u16,
}

/// Everything a query needs besides the persons: `today` and per-person facts.
/// Build once (O(persons + appointments)) and reuse for any number of queries.
#[derive(Clone, Debug)]
pub struct QueryContext {
    pub today: NaiveDate,
    pub facts: Vec<PersonFacts>,
    /// Whether visits were derived from appointments (false for [`QueryContext::persons_only`]).
    pub has_visits: bool,
}

impl QueryContext {
    /// Full context: birth facts and visits from the appointments.
    pub fn new(persons: &[PersonRecord], appointments: &[Appointment], today: NaiveDate) -> Self {
        let mut ctx = QueryContext::persons_only(persons, today);
        let mut index: FastMap<&str, u32> = fast_map(persons.len());
        for (i, p) in persons.iter().enumerate() {
            index.insert(p.person.id.0.as_str(), i as u32);
        }
        for a in appointments {
            if a.status == AppointmentStatus::Cancelled {
                continue;
            }
            let Some(&i) = index.get(a.person_id.0.as_str()) else {
                continue;
            };
            let v = &mut ctx.facts[i as usize];
            let day = a.day();
            if day < today {
                if v.last_visit.is_none_or(|d| day > d) {
                    v.last_visit = Some(day);
                }
            } else if v.next_appointment.is_none_or(|d| day < d) {
                v.next_appointment = Some(day);
            }
        }
        ctx.has_visits = true;
        ctx
    }

    /// Cheap context without visits, enough for every query without a recall condition
    /// (see [`CompiledQuery::needs_appointments`]).
    pub fn persons_only(persons: &[PersonRecord], today: NaiveDate) -> Self {
        let facts = persons
            .iter()
            .map(|p| {
                let (birth_year, birth_md) = match p.sensitive.birth_date {
                    Some(b) => (b.year(), md_key(b.month(), b.day())),
                    None => (0, 0),
                };
                PersonFacts {
                    birth_year,
                    birth_md,
                    ..Default::default()
                }
            })
            .collect();
        QueryContext {
            today,
            facts,
            has_visits: false,
        }
    }
}

/// Birthdays as (month, day) packed into a u16 for fast window checks.
fn md_key(month: u32, day: u32) -> u16 {
    (month * 32 + day) as u16
}

const LEAP_DAY: u16 = 2 * 32 + 29;

fn is_leap(year: i32) -> bool {
    NaiveDate::from_ymd_opt(year, 2, 29).is_some()
}

/// One concrete year segment of a birthday range: celebrated dates with key in [lo, hi] in
/// year `year` match.
#[derive(Clone, Copy, Debug)]
struct YearSegment {
    year: i32,
    lo: u16,
    hi: u16,
    leap: bool,
}

#[derive(Clone, Debug)]
enum Compiled {
    Birthday(Vec<YearSegment>),
    Recall {
        before: NaiveDate,
        include_never: bool,
    },
    Age {
        on_year: i32,
        on_md: u16,
        on_leap: bool,
        min: Option<u32>,
        max: Option<u32>,
    },
    Tags {
        tags: Vec<String>,
        mode: TagMode,
    },
    Postcode {
        from: String,
        to: String,
    },
    City(Vec<String>),
    Insurance(Vec<InsuranceKind>),
    Kind(Kind),
    Consent(Channel, Purpose),
    Nothing,
}

impl Compiled {
    /// Rough relative cost of checking one person, to order the AND chain.
    fn cost(&self) -> u8 {
        match self {
            Compiled::Nothing => 0,
            Compiled::Kind(_) | Compiled::Insurance(_) => 1,
            Compiled::Recall { .. } | Compiled::Age { .. } => 2,
            Compiled::Birthday(_) | Compiled::Postcode { .. } => 3,
            Compiled::Consent(..) => 4,
            Compiled::City(_) => 5,
            Compiled::Tags { .. } => 6,
        }
    }
}

fn compile_birthday(start: NaiveDate, end: NaiveDate) -> Compiled {
    if end < start {
        return Compiled::Nothing;
    }
    let mut segs = Vec::new();
    for year in start.year()..=end.year() {
        let lo = if year == start.year() {
            md_key(start.month(), start.day())
        } else {
            md_key(1, 1)
        };
        let hi = if year == end.year() {
            md_key(end.month(), end.day())
        } else {
            md_key(12, 31)
        };
        let leap = is_leap(year);
        segs.push(YearSegment { year, lo, hi, leap });
    }
    Compiled::Birthday(segs)
}

/// A query prepared for evaluation against one [`QueryContext`].
#[derive(Clone, Debug)]
pub struct CompiledQuery {
    conditions: Vec<Compiled>,
}

impl CompiledQuery {
    pub fn new(query: &SavedQuery, today: NaiveDate) -> CompiledQuery {
        let conditions = query
            .conditions
            .iter()
            .map(|c| match c {
                Condition::BirthdayWindow { from, to } => {
                    let (s, e) = resolve_window(*from, *to, today);
                    compile_birthday(s, e)
                }
                Condition::BirthdayNextDays { days: 0 } => Compiled::Nothing,
                Condition::BirthdayNextDays { days } => compile_birthday(
                    today,
                    today
                        .checked_add_days(chrono::Days::new(u64::from(days - 1)))
                        .unwrap_or(today),
                ),
                Condition::BirthdayBetween { from, to } => compile_birthday(*from, *to),
                Condition::Recall {
                    last_visit_before,
                    include_never_visited,
                } => Compiled::Recall {
                    before: *last_visit_before,
                    include_never: *include_never_visited,
                },
                Condition::AgeRange { min, max, on } => {
                    let on = on.unwrap_or(today);
                    Compiled::Age {
                        on_year: on.year(),
                        on_md: md_key(on.month(), on.day()),
                        on_leap: is_leap(on.year()),
                        min: *min,
                        max: *max,
                    }
                }
                Condition::Tags { tags, mode } => Compiled::Tags {
                    tags: tags.iter().map(|t| fold(t.trim())).collect(),
                    mode: *mode,
                },
                Condition::PostcodeRange { from, to } => Compiled::Postcode {
                    from: from.trim().to_string(),
                    to: to.trim().to_string(),
                },
                Condition::City { cities } => {
                    Compiled::City(cities.iter().map(|c| fold(c.trim())).collect())
                }
                Condition::Insurance { kinds } => Compiled::Insurance(kinds.clone()),
                Condition::Kind { kind } => Compiled::Kind(*kind),
                Condition::HasConsent { channel, purpose } => Compiled::Consent(*channel, *purpose),
            })
            .collect::<Vec<_>>();
        // AND is order-independent: check cheap conditions first.
        let mut conditions = conditions;
        conditions.sort_by_key(Compiled::cost);
        CompiledQuery { conditions }
    }

    /// Whether one person matches. `memo` caches folded comparisons of raw city and tag
    /// strings (a practice has few distinct values), so folding happens once per value.
    fn matches<'a>(&self, r: &'a PersonRecord, f: &PersonFacts, memo: &mut Memo<'a>) -> bool {
        self.conditions.iter().enumerate().all(|(ci, c)| match c {
            Compiled::Nothing => false,
            Compiled::Birthday(segs) => {
                if f.birth_md == 0 {
                    return false;
                }
                segs.iter().any(|s| {
                    let key = if f.birth_md == LEAP_DAY && !s.leap {
                        LEAP_DAY - 1
                    } else {
                        f.birth_md
                    };
                    s.year > f.birth_year && key >= s.lo && key <= s.hi
                })
            }
            Compiled::Recall {
                before,
                include_never,
            } => {
                f.next_appointment.is_none()
                    && match f.last_visit {
                        Some(d) => d < *before,
                        None => *include_never,
                    }
            }
            Compiled::Age {
                on_year,
                on_md,
                on_leap,
                min,
                max,
            } => {
                if f.birth_md == 0 || (*on_year, *on_md) < (f.birth_year, f.birth_md) {
                    return false;
                }
                let celebrated = if f.birth_md == LEAP_DAY && !on_leap {
                    LEAP_DAY - 1
                } else {
                    f.birth_md
                };
                let age = (on_year - f.birth_year - i32::from(*on_md < celebrated)) as u32;
                min.is_none_or(|m| age >= m) && max.is_none_or(|m| age <= m)
            }
            Compiled::Tags { tags, mode } => {
                // Bit i set: query tag i is among the person's tags.
                let mut mask = 0u64;
                for pt in &r.person.tags {
                    mask |= memo.lookup(ci, pt, |folded| {
                        tags.iter()
                            .enumerate()
                            .filter(|(_, t)| t.as_str() == folded)
                            .fold(0u64, |m, (i, _)| m | (1u64 << (i % 64)))
                    });
                }
                let n = tags.len().min(64);
                let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                match mode {
                    TagMode::Any => mask != 0,
                    TagMode::All => mask & all == all,
                    TagMode::None => mask == 0,
                }
            }
            Compiled::Postcode { from, to } => {
                let a = &r.person.address;
                if !a.is_domestic() {
                    return false;
                }
                let pc = a.postcode.trim();
                if pc.len() != 5 || !pc.bytes().all(|b| b.is_ascii_digit()) {
                    return false;
                }
                let lo = &pc[..from.len().min(5)];
                let hi = &pc[..to.len().min(5)];
                lo >= from.as_str() && hi <= to.as_str()
            }
            Compiled::City(cities) => {
                memo.lookup(ci, &r.person.address.city, |folded| {
                    u64::from(cities.iter().any(|c| c == folded))
                }) != 0
            }
            Compiled::Insurance(kinds) => kinds.contains(&r.sensitive.insurance_kind),
            Compiled::Kind(k) => r.person.kind == *k,
            Compiled::Consent(ch, pu) => r.person.consents.allows(*ch, *pu),
        })
    }

    /// The day-month ranges (inclusive, each `from <= to`, sorted, not overlapping) that hold
    /// the birth day-month of every person this query can match, or `None` when it has no
    /// birthday condition. Storage can pre-select persons with its birthday index; the query
    /// must still be evaluated on them (a range is a superset: years and ages are not checked).
    /// A range covering 28.02. also covers 29.02. (celebrated on 28.02. in non-leap years).
    pub fn birthday_ranges(&self) -> Option<Vec<(DayMonth, DayMonth)>> {
        let segs = self.conditions.iter().find_map(|c| match c {
            Compiled::Birthday(segs) => Some(segs),
            _ => None,
        })?;
        let feb28 = md_key(2, 28);
        let mut keys: Vec<(u16, u16)> = segs
            .iter()
            .map(|s| {
                let hi = if s.lo <= feb28 && feb28 <= s.hi {
                    s.hi.max(LEAP_DAY)
                } else {
                    s.hi
                };
                (s.lo, hi)
            })
            .collect();
        keys.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::new();
        for (lo, hi) in keys {
            match merged.last_mut() {
                Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        let dm = |k: u16| DayMonth {
            month: u32::from(k / 32),
            day: u32::from(k % 32),
        };
        Some(
            merged
                .into_iter()
                .map(|(lo, hi)| (dm(lo), dm(hi)))
                .collect(),
        )
    }

    /// Whether the query has a recall condition, which needs a context with visits.
    pub fn needs_appointments(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| matches!(c, Compiled::Recall { .. }))
    }

    /// Indices (into `persons`) of all matching persons, in order.
    ///
    /// Panics when `ctx` was built for a different number of persons, or without visits
    /// while the query needs them — both are programming errors.
    pub fn evaluate(&self, persons: &[PersonRecord], ctx: &QueryContext) -> Vec<usize> {
        assert_eq!(
            persons.len(),
            ctx.facts.len(),
            "context built for other persons"
        );
        assert!(
            ctx.has_visits || !self.needs_appointments(),
            "recall query needs QueryContext::new with appointments"
        );
        let mut memo = Memo::new(self.conditions.len());
        persons
            .iter()
            .zip(&ctx.facts)
            .enumerate()
            .filter(|(_, (r, v))| self.matches(r, v, &mut memo))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Per-condition cache: raw string → result computed from its folded form.
struct Memo<'a> {
    maps: Vec<FastMap<&'a str, u64>>,
    scratch: String,
}

impl<'a> Memo<'a> {
    fn new(conditions: usize) -> Memo<'a> {
        Memo {
            maps: (0..conditions).map(|_| fast_map(16)).collect(),
            scratch: String::with_capacity(32),
        }
    }

    fn lookup(&mut self, condition: usize, raw: &'a str, compute: impl Fn(&str) -> u64) -> u64 {
        if let Some(&v) = self.maps[condition].get(raw) {
            return v;
        }
        self.scratch.clear();
        fold_into(raw.trim(), &mut self.scratch);
        let v = compute(self.scratch.trim_end());
        self.maps[condition].insert(raw, v);
        v
    }
}

/// Convenience: compile and evaluate in one go (builds the context — with visits only when
/// the query needs them; for repeated queries keep a [`QueryContext`] and use
/// [`CompiledQuery::evaluate`]).
pub fn evaluate(
    query: &SavedQuery,
    persons: &[PersonRecord],
    appointments: &[Appointment],
    today: NaiveDate,
) -> Vec<usize> {
    let compiled = CompiledQuery::new(query, today);
    let ctx = if compiled.needs_appointments() {
        QueryContext::new(persons, appointments, today)
    } else {
        QueryContext::persons_only(persons, today)
    };
    compiled.evaluate(persons, &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::demo::generate_large as generate;
    use crate::domain::model::*;
    use crate::domain::rng::Rng;
    use crate::domain::search::folded_eq;
    use chrono::{NaiveDateTime, NaiveTime};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn dm(day: u32, month: u32) -> DayMonth {
        DayMonth::new(day, month).unwrap()
    }

    fn person(id: &str, birth: Option<NaiveDate>) -> PersonRecord {
        PersonRecord {
            person: Person {
                id: PersonId(id.into()),
                first_name: id.into(),
                last_name: "Test".into(),
                ..Default::default()
            },
            sensitive: Sensitive {
                birth_date: birth,
                ..Default::default()
            },
        }
    }

    fn appt(person: &str, day: NaiveDate, status: AppointmentStatus) -> Appointment {
        let start = NaiveDateTime::new(day, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        Appointment {
            id: AppointmentId(format!("{person}-{day}")),
            person_id: PersonId(person.into()),
            start,
            end: start,
            therapist: "T".into(),
            location: "L".into(),
            kind: "K".into(),
            status,
        }
    }

    fn run(
        q: &[Condition],
        persons: &[PersonRecord],
        appts: &[Appointment],
        today: NaiveDate,
    ) -> Vec<String> {
        let query = SavedQuery {
            name: "t".into(),
            conditions: q.to_vec(),
        };
        evaluate(&query, persons, appts, today)
            .into_iter()
            .map(|i| persons[i].person.id.0.clone())
            .collect()
    }

    #[test]
    fn day_month_parsing_and_leap_day() {
        assert_eq!(DayMonth::parse("28.12."), Some(dm(28, 12)));
        assert_eq!(DayMonth::parse(" 5.1 "), Some(dm(5, 1)));
        assert_eq!(DayMonth::parse("29.02."), Some(dm(29, 2)));
        assert_eq!(DayMonth::parse("30.02."), None);
        assert_eq!(DayMonth::parse("12"), None);
        assert_eq!(dm(5, 1).to_string(), "05.01.");
        assert_eq!(dm(29, 2).in_year(2027), d(2027, 2, 28));
        assert_eq!(dm(29, 2).in_year(2028), d(2028, 2, 29));
        assert_eq!(birthday_in_year(d(1980, 2, 29), 2027), d(2027, 2, 28));
    }

    #[test]
    fn window_resolution_table() {
        let cases = [
            // (from, to, today, start, end)
            (
                dm(28, 12),
                dm(5, 1),
                d(2026, 12, 20),
                d(2026, 12, 28),
                d(2027, 1, 5),
            ),
            (
                dm(28, 12),
                dm(5, 1),
                d(2027, 1, 2),
                d(2026, 12, 28),
                d(2027, 1, 5),
            ),
            (
                dm(28, 12),
                dm(5, 1),
                d(2027, 1, 5),
                d(2026, 12, 28),
                d(2027, 1, 5),
            ),
            (
                dm(28, 12),
                dm(5, 1),
                d(2027, 1, 6),
                d(2027, 12, 28),
                d(2028, 1, 5),
            ),
            (
                dm(1, 3),
                dm(10, 3),
                d(2026, 6, 15),
                d(2027, 3, 1),
                d(2027, 3, 10),
            ),
            (
                dm(1, 3),
                dm(10, 3),
                d(2026, 3, 5),
                d(2026, 3, 1),
                d(2026, 3, 10),
            ),
            (
                dm(1, 1),
                dm(31, 12),
                d(2026, 7, 1),
                d(2026, 1, 1),
                d(2026, 12, 31),
            ),
            (
                dm(29, 2),
                dm(29, 2),
                d(2027, 1, 1),
                d(2027, 2, 28),
                d(2027, 2, 28),
            ),
            (
                dm(29, 2),
                dm(29, 2),
                d(2028, 1, 1),
                d(2028, 2, 29),
                d(2028, 2, 29),
            ),
        ];
        for (from, to, today, start, end) in cases {
            assert_eq!(
                resolve_window(from, to, today),
                (start, end),
                "{from}–{to} on {today}"
            );
        }
    }

    #[test]
    fn birthday_window_wraps_year_end() {
        let persons = vec![
            person("dec30", Some(d(1980, 12, 30))),
            person("jan03", Some(d(1990, 1, 3))),
            person("dec27", Some(d(1970, 12, 27))),
            person("jan06", Some(d(1985, 1, 6))),
            person("dec28", Some(d(1975, 12, 28))),
            person("jan05", Some(d(1975, 1, 5))),
            person("none", None),
            // Born inside the window itself: no birthday yet (age 0 is not a birthday).
            person("newborn", Some(d(2026, 12, 30))),
        ];
        let q = [Condition::BirthdayWindow {
            from: dm(28, 12),
            to: dm(5, 1),
        }];
        let expected = vec!["dec30", "jan03", "dec28", "jan05"];
        assert_eq!(run(&q, &persons, &[], d(2026, 12, 20)), expected);
        assert_eq!(run(&q, &persons, &[], d(2027, 1, 4)), expected);
        // Concrete range and "next days" give the same answer.
        let q2 = [Condition::BirthdayBetween {
            from: d(2026, 12, 28),
            to: d(2027, 1, 5),
        }];
        assert_eq!(run(&q2, &persons, &[], d(2026, 12, 1)), expected);
        let q3 = [Condition::BirthdayNextDays { days: 9 }];
        assert_eq!(run(&q3, &persons, &[], d(2026, 12, 28)), expected);
        let q0 = [Condition::BirthdayNextDays { days: 0 }];
        assert!(run(&q0, &persons, &[], d(2026, 12, 28)).is_empty());
        let q4 = [Condition::BirthdayNextDays { days: 8 }];
        assert_eq!(
            run(&q4, &persons, &[], d(2026, 12, 28)),
            vec!["dec30", "jan03", "dec28"]
        );
        // An inverted concrete range selects nobody.
        let q5 = [Condition::BirthdayBetween {
            from: d(2027, 1, 5),
            to: d(2026, 12, 28),
        }];
        assert!(run(&q5, &persons, &[], d(2026, 12, 1)).is_empty());
    }

    #[test]
    fn leap_day_births_celebrate_on_28_february() {
        let persons = vec![
            person("leap", Some(d(1980, 2, 29))),
            person("feb28", Some(d(1981, 2, 28))),
            person("mar01", Some(d(1981, 3, 1))),
        ];
        let window = |from, to| {
            [Condition::BirthdayWindow {
                from: dm(from, 2),
                to: dm(to, 2),
            }]
        };
        // Non-leap 2027: 29.02. people celebrate on 28.02.
        assert_eq!(
            run(&window(28, 28), &persons, &[], d(2027, 1, 1)),
            vec!["leap", "feb28"]
        );
        // Leap 2028: they celebrate on 29.02., not on 28.02.
        assert_eq!(
            run(&window(28, 28), &persons, &[], d(2028, 1, 1)),
            vec!["feb28"]
        );
        assert_eq!(
            run(&window(29, 29), &persons, &[], d(2028, 1, 1)),
            vec!["leap"]
        );
        // A window bound 29.02. means 28.02. in a non-leap year.
        assert_eq!(
            run(&window(29, 29), &persons, &[], d(2027, 1, 1)),
            vec!["leap", "feb28"]
        );
        let march = [Condition::BirthdayWindow {
            from: dm(1, 3),
            to: dm(5, 3),
        }];
        assert_eq!(run(&march, &persons, &[], d(2027, 1, 1)), vec!["mar01"]);
        // Age: a year older on 28.02. in non-leap years, on 29.02. in leap years.
        for (on, age) in [
            (d(2021, 2, 27), 40),
            (d(2021, 2, 28), 41),
            (d(2024, 2, 28), 43),
            (d(2024, 2, 29), 44),
            (d(1980, 2, 29), 0),
        ] {
            assert_eq!(age_on(d(1980, 2, 29), on), Some(age), "{on}");
        }
        assert_eq!(age_on(d(1980, 2, 29), d(1980, 2, 28)), None);
    }

    #[test]
    fn recall_needs_old_last_visit_and_no_future_appointment() {
        use AppointmentStatus::*;
        let today = d(2026, 11, 26);
        let ids = [
            "due",
            "booked",
            "cancelled_future",
            "recent",
            "never",
            "only_cancelled",
            "today",
            "planned_past",
        ];
        let persons: Vec<PersonRecord> = ids.iter().map(|i| person(i, None)).collect();
        let appts = vec![
            appt("due", d(2025, 3, 1), Done),
            appt("due", d(2026, 1, 10), Done),
            appt("booked", d(2026, 1, 10), Done),
            appt("booked", d(2026, 12, 5), Planned),
            appt("cancelled_future", d(2026, 1, 10), Done),
            appt("cancelled_future", d(2026, 12, 5), Cancelled),
            appt("recent", d(2026, 1, 10), Done),
            appt("recent", d(2026, 9, 1), Done),
            appt("only_cancelled", d(2026, 1, 10), Cancelled),
            appt("today", d(2026, 1, 10), Done),
            appt("today", today, Planned),
            // A past appointment never marked done still counts as a visit.
            appt("planned_past", d(2026, 2, 1), Planned),
            appt("unknown-person", d(2026, 2, 1), Done),
        ];
        let q = |never| {
            [Condition::Recall {
                last_visit_before: d(2026, 6, 1),
                include_never_visited: never,
            }]
        };
        assert_eq!(
            run(&q(false), &persons, &appts, today),
            vec!["due", "cancelled_future", "planned_past"]
        );
        assert_eq!(
            run(&q(true), &persons, &appts, today),
            vec![
                "due",
                "cancelled_future",
                "never",
                "only_cancelled",
                "planned_past"
            ]
        );
        let ctx = QueryContext::new(&persons, &appts, today);
        assert_eq!(ctx.facts[0].last_visit, Some(d(2026, 1, 10)));
        assert_eq!(ctx.facts[1].next_appointment, Some(d(2026, 12, 5)));
        assert_eq!(ctx.facts[6].next_appointment, Some(today));
    }

    fn rich(id: &str) -> PersonRecord {
        person(id, Some(d(1980, 6, 15)))
    }

    #[test]
    fn attribute_conditions_table() {
        let mut a = rich("a");
        a.person.tags = vec!["Rücken".into(), "Sport".into()];
        a.person.address.postcode = "80331".into();
        a.person.address.city = "München".into();
        a.sensitive.insurance_kind = InsuranceKind::Private;
        a.person.consents.grant(
            Channel::Sms,
            Purpose::Birthday,
            d(2025, 1, 1),
            Evidence::WrittenForm,
        );
        let mut b = rich("b");
        b.sensitive.birth_date = Some(d(2010, 6, 15));
        b.person.kind = crate::domain::model::Kind::Prospect;
        b.person.tags = vec!["sport".into()];
        b.person.address.postcode = "81999".into();
        b.person.address.city = "Muenchen".into();
        b.sensitive.insurance_kind = InsuranceKind::Statutory;
        b.person.consents.grant(
            Channel::Sms,
            Purpose::Birthday,
            d(2025, 1, 1),
            Evidence::OnlineForm,
        );
        b.person.consents.withdraw(
            Channel::Sms,
            Purpose::Birthday,
            d(2026, 1, 1),
            WithdrawalSource::UnsubscribeLink,
        );
        let mut c = rich("c");
        c.sensitive.birth_date = None;
        c.person.address.postcode = "1010".into();
        c.person.address.city = "Wien".into();
        c.person.address.country = "AT".into();
        let mut e = rich("e");
        e.person.address.postcode = "82000".into();
        e.person.address.city = "Bad Tölz".into();
        e.person.consents.grant(
            Channel::Email,
            Purpose::Birthday,
            d(2025, 1, 1),
            Evidence::DoubleOptIn,
        );
        let persons = vec![a, b, c, e];
        let today = d(2026, 11, 26);
        use Condition::*;
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cases: Vec<(Vec<Condition>, Vec<&str>)> = vec![
            (vec![], vec!["a", "b", "c", "e"]),
            (
                vec![AgeRange {
                    min: Some(18),
                    max: None,
                    on: None,
                }],
                vec!["a", "e"],
            ),
            (
                vec![AgeRange {
                    min: None,
                    max: Some(17),
                    on: None,
                }],
                vec!["b"],
            ),
            (
                vec![AgeRange {
                    min: Some(16),
                    max: Some(16),
                    on: Some(d(2026, 6, 15)),
                }],
                vec!["b"],
            ),
            (
                vec![AgeRange {
                    min: Some(16),
                    max: Some(16),
                    on: Some(d(2026, 6, 14)),
                }],
                vec![],
            ),
            (
                vec![AgeRange {
                    min: None,
                    max: None,
                    on: None,
                }],
                vec!["a", "b", "e"],
            ),
            (
                vec![Tags {
                    tags: s(&["ruecken"]),
                    mode: TagMode::Any,
                }],
                vec!["a"],
            ),
            (
                vec![Tags {
                    tags: s(&["SPORT"]),
                    mode: TagMode::Any,
                }],
                vec!["a", "b"],
            ),
            (
                vec![Tags {
                    tags: s(&["sport", "rücken"]),
                    mode: TagMode::All,
                }],
                vec!["a"],
            ),
            (
                vec![Tags {
                    tags: s(&["sport", "rücken"]),
                    mode: TagMode::Any,
                }],
                vec!["a", "b"],
            ),
            (
                vec![Tags {
                    tags: s(&["sport"]),
                    mode: TagMode::None,
                }],
                vec!["c", "e"],
            ),
            (
                vec![PostcodeRange {
                    from: "80".into(),
                    to: "81".into(),
                }],
                vec!["a", "b"],
            ),
            (
                vec![PostcodeRange {
                    from: "80000".into(),
                    to: "81998".into(),
                }],
                vec!["a"],
            ),
            (
                vec![PostcodeRange {
                    from: "81".into(),
                    to: "82".into(),
                }],
                vec!["b", "e"],
            ),
            (
                vec![PostcodeRange {
                    from: "0".into(),
                    to: "9".into(),
                }],
                vec!["a", "b", "e"],
            ),
            (
                vec![City {
                    cities: s(&["münchen"]),
                }],
                vec!["a", "b"],
            ),
            (
                vec![City {
                    cities: s(&["MUENCHEN", "bad toelz"]),
                }],
                vec!["a", "b", "e"],
            ),
            (
                vec![City {
                    cities: s(&["Wien"]),
                }],
                vec!["c"],
            ),
            (
                vec![Insurance {
                    kinds: vec![InsuranceKind::Private, InsuranceKind::Statutory],
                }],
                vec!["a", "b"],
            ),
            (
                vec![Insurance {
                    kinds: vec![InsuranceKind::Unknown],
                }],
                vec!["c", "e"],
            ),
            (
                vec![Kind {
                    kind: crate::domain::model::Kind::Prospect,
                }],
                vec!["b"],
            ),
            (
                vec![Kind {
                    kind: crate::domain::model::Kind::Patient,
                }],
                vec!["a", "c", "e"],
            ),
            (
                vec![HasConsent {
                    channel: Channel::Sms,
                    purpose: Purpose::Birthday,
                }],
                vec!["a"],
            ),
            (
                vec![HasConsent {
                    channel: Channel::Email,
                    purpose: Purpose::Birthday,
                }],
                vec!["e"],
            ),
            (
                vec![HasConsent {
                    channel: Channel::Sms,
                    purpose: Purpose::Recall,
                }],
                vec![],
            ),
            // AND: München and adult.
            (
                vec![
                    City {
                        cities: s(&["München"]),
                    },
                    AgeRange {
                        min: Some(18),
                        max: None,
                        on: None,
                    },
                ],
                vec!["a"],
            ),
        ];
        for (conds, expected) in cases {
            assert_eq!(run(&conds, &persons, &[], today), expected, "{conds:?}");
            for c in &conds {
                assert!(!c.describe_de().is_empty());
            }
        }
    }

    #[test]
    fn saved_query_round_trips_through_json() {
        let q = SavedQuery {
            name: "Geburtstage Jahreswechsel".into(),
            conditions: vec![
                Condition::BirthdayWindow {
                    from: dm(28, 12),
                    to: dm(5, 1),
                },
                Condition::BirthdayNextDays { days: 7 },
                Condition::BirthdayBetween {
                    from: d(2026, 1, 1),
                    to: d(2026, 2, 1),
                },
                Condition::Recall {
                    last_visit_before: d(2026, 1, 1),
                    include_never_visited: false,
                },
                Condition::AgeRange {
                    min: Some(18),
                    max: Some(65),
                    on: None,
                },
                Condition::Tags {
                    tags: vec!["Rücken".into()],
                    mode: TagMode::All,
                },
                Condition::PostcodeRange {
                    from: "80".into(),
                    to: "81".into(),
                },
                Condition::City {
                    cities: vec!["München".into()],
                },
                Condition::Insurance {
                    kinds: vec![InsuranceKind::Private],
                },
                Condition::Kind {
                    kind: crate::domain::model::Kind::Patient,
                },
                Condition::HasConsent {
                    channel: Channel::Sms,
                    purpose: Purpose::Birthday,
                },
            ],
        };
        let described: Vec<String> = q.conditions.iter().map(Condition::describe_de).collect();
        assert_eq!(described[0], "Geburtstag 28.12.–05.01.");
        assert_eq!(
            described[3],
            "Letzter Besuch vor 01.01.2026, kein künftiger Termin"
        );
        assert_eq!(described[5], "Merkmal alle von: Rücken");
        assert_eq!(described[10], "Einwilligung SMS für Geburtstag");
        assert_eq!(
            TagMode::ALL.map(TagMode::label_de),
            ["mindestens eines", "alle", "keines"]
        );
        let json = q.to_json();
        assert!(json.contains(r#""type":"birthday_window""#), "{json}");
        assert!(json.contains(r#""channel":"sms""#), "{json}");
        assert_eq!(SavedQuery::from_json(&json).unwrap(), q);
        // Defaults for optional fields.
        let minimal = r#"{"name":"x","conditions":[{"type":"tags","tags":["a"]},{"type":"recall","last_visit_before":"2026-01-01"}]}"#;
        let parsed = SavedQuery::from_json(minimal).unwrap();
        assert_eq!(
            parsed.conditions[0],
            Condition::Tags {
                tags: vec!["a".into()],
                mode: TagMode::Any
            }
        );
        assert!(SavedQuery::from_json(r#"{"name":"x","conditions":[{"type":"nope"}]}"#).is_err());
    }

    #[test]
    fn persons_only_context_serves_queries_without_recall() {
        let persons = vec![person("a", Some(d(1980, 12, 30))), person("b", None)];
        let appts = vec![appt("a", d(2026, 1, 1), AppointmentStatus::Done)];
        let today = d(2026, 12, 20);
        let birthday = CompiledQuery::new(
            &SavedQuery {
                name: "b".into(),
                conditions: vec![Condition::BirthdayNextDays { days: 14 }],
            },
            today,
        );
        assert!(!birthday.needs_appointments());
        let light = QueryContext::persons_only(&persons, today);
        assert!(!light.has_visits);
        assert_eq!(birthday.evaluate(&persons, &light), vec![0]);
        let recall = CompiledQuery::new(
            &SavedQuery {
                name: "r".into(),
                conditions: vec![Condition::Recall {
                    last_visit_before: d(2026, 6, 1),
                    include_never_visited: false,
                }],
            },
            today,
        );
        assert!(recall.needs_appointments());
        let full = QueryContext::new(&persons, &appts, today);
        assert_eq!(recall.evaluate(&persons, &full), vec![0]);
        let result = std::panic::catch_unwind(|| recall.evaluate(&persons, &light));
        assert!(
            result.is_err(),
            "recall on a context without visits must not silently match"
        );
    }

    // ----- reference implementation for the property test: deliberately naive -----

    fn naive_window(from: DayMonth, to: DayMonth, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let is = |x: DayMonth, day: NaiveDate| {
            DayMonth::of(day) == x
                || (x == dm(29, 2)
                    && day.month() == 2
                    && day.day() == 28
                    && day.with_day(29).is_none())
        };
        let mut end = today;
        while !is(to, end) {
            end = end.succ_opt().unwrap();
        }
        let mut start = end;
        while !is(from, start) {
            start = start.pred_opt().unwrap();
        }
        (start, end)
    }

    fn naive_birthday(birth: NaiveDate, start: NaiveDate, end: NaiveDate) -> bool {
        let mut day = start;
        while day <= end {
            let celebrated = if birth.month() == 2 && birth.day() == 29 {
                day.month() == 2
                    && (day.day() == 29 || (day.day() == 28 && day.with_day(29).is_none()))
            } else {
                day.month() == birth.month() && day.day() == birth.day()
            };
            if celebrated && day.year() > birth.year() {
                return true;
            }
            day = day.succ_opt().unwrap();
        }
        false
    }

    fn naive_age(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
        if on < birth {
            return None;
        }
        let mut age = 0;
        for y in birth.year() + 1..=on.year() {
            if birthday_in_year(birth, y) <= on {
                age += 1;
            }
        }
        Some(age)
    }

    fn naive_matches(
        c: &Condition,
        r: &PersonRecord,
        appts: &[Appointment],
        today: NaiveDate,
    ) -> bool {
        let p = &r.person;
        let birth = r.sensitive.birth_date;
        match c {
            Condition::BirthdayWindow { from, to } => {
                let (s, e) = naive_window(*from, *to, today);
                birth.is_some_and(|b| naive_birthday(b, s, e))
            }
            Condition::BirthdayNextDays { days } => {
                let end = today + chrono::Duration::days(i64::from(*days) - 1);
                *days > 0 && birth.is_some_and(|b| naive_birthday(b, today, end))
            }
            Condition::BirthdayBetween { from, to } => {
                birth.is_some_and(|b| naive_birthday(b, *from, *to))
            }
            Condition::Recall {
                last_visit_before,
                include_never_visited,
            } => {
                let mine = appts
                    .iter()
                    .filter(|a| a.person_id == p.id && a.status != AppointmentStatus::Cancelled);
                let mut last = None;
                for a in mine.clone() {
                    if a.day() >= today {
                        return false;
                    }
                    last = last.max(Some(a.day()));
                }
                match last {
                    Some(l) => l < *last_visit_before,
                    None => *include_never_visited,
                }
            }
            Condition::AgeRange { min, max, on } => {
                let Some(age) = birth.and_then(|b| naive_age(b, on.unwrap_or(today))) else {
                    return false;
                };
                min.is_none_or(|m| age >= m) && max.is_none_or(|m| age <= m)
            }
            Condition::Tags { tags, mode } => {
                let has = |t: &String| p.tags.iter().any(|pt| folded_eq(pt, t));
                match mode {
                    TagMode::Any => tags.iter().any(has),
                    TagMode::All => tags.iter().all(has),
                    TagMode::None => !tags.iter().any(has),
                }
            }
            Condition::PostcodeRange { from, to } => {
                let pc = p.address.postcode.trim();
                if !p.address.is_domestic() || pc.len() != 5 || pc.parse::<u32>().is_err() {
                    return false;
                }
                let lo: u32 = format!("{from:0<5}").parse().unwrap();
                let hi: u32 = format!("{to:9<5}").parse().unwrap();
                (lo..=hi).contains(&pc.parse().unwrap())
            }
            Condition::City { cities } => cities.iter().any(|c| folded_eq(c, &p.address.city)),
            Condition::Insurance { kinds } => kinds.contains(&r.sensitive.insurance_kind),
            Condition::Kind { kind } => p.kind == *kind,
            Condition::HasConsent { channel, purpose } => p.consents.0.iter().any(|c| {
                c.channel == *channel && c.purpose == *purpose && c.withdrawn_at.is_none()
            }),
        }
    }

    fn random_condition(rng: &mut Rng, today: NaiveDate) -> Condition {
        // The generator's vocabulary, in other spellings too (folded comparisons).
        let tags = [
            "Pilates",
            "pilates",
            "Rückenschule",
            "rueckenschule",
            "Kinder",
            "VIP",
        ];
        let cities = ["Köln", "koeln", "KÖLN", "Bad Tölz", "Hürth"];
        let rand_dm = |rng: &mut Rng| {
            let date = d(2000, 1, 1) + chrono::Duration::days(rng.below(366) as i64);
            DayMonth::of(date)
        };
        match rng.below(11) {
            0 => Condition::BirthdayWindow {
                from: rand_dm(rng),
                to: rand_dm(rng),
            },
            1 => Condition::BirthdayNextDays {
                days: rng.below(40) as u32,
            },
            2 => {
                let from = today + chrono::Duration::days(rng.below(400) as i64 - 200);
                Condition::BirthdayBetween {
                    from,
                    to: from + chrono::Duration::days(rng.below(60) as i64),
                }
            }
            3 => Condition::Recall {
                last_visit_before: today - chrono::Duration::days(rng.below(900) as i64),
                include_never_visited: rng.chance(30),
            },
            4 => {
                let min = rng.chance(70).then(|| rng.below(60) as u32);
                let max = rng.chance(70).then(|| 10 + rng.below(80) as u32);
                let on = rng.chance(30).then(|| {
                    d(2027 + rng.below(2) as i32, 2, 27)
                        + chrono::Duration::days(rng.below(4) as i64)
                });
                Condition::AgeRange { min, max, on }
            }
            5 => Condition::Tags {
                tags: (0..1 + rng.below(2))
                    .map(|_| rng.pick(&tags).to_string())
                    .collect(),
                mode: *rng.pick(&[TagMode::Any, TagMode::All, TagMode::None]),
            },
            6 => {
                let a = rng.below(100);
                let b = a + rng.below(100 - a);
                Condition::PostcodeRange {
                    from: format!("{a:02}"),
                    to: format!("{b:02}"),
                }
            }
            7 => Condition::City {
                cities: vec![rng.pick(&cities).to_string()],
            },
            8 => Condition::Insurance {
                kinds: vec![*rng.pick(&InsuranceKind::ALL)],
            },
            9 => Condition::Kind {
                kind: *rng.pick(&crate::domain::model::Kind::ALL),
            },
            _ => Condition::HasConsent {
                channel: *rng.pick(&Channel::ALL),
                purpose: *rng.pick(&Purpose::ALL),
            },
        }
    }

    #[test]
    fn birthday_ranges_cover_the_windows() {
        let ranges = |conditions: Vec<Condition>, today| {
            CompiledQuery::new(
                &SavedQuery {
                    name: "q".into(),
                    conditions,
                },
                today,
            )
            .birthday_ranges()
        };
        let kind = Condition::Kind {
            kind: crate::domain::model::Kind::Patient,
        };
        assert_eq!(ranges(vec![kind.clone()], d(2026, 5, 1)), None);
        // Wrapping the year end: two ranges.
        assert_eq!(
            ranges(
                vec![
                    kind,
                    Condition::BirthdayWindow {
                        from: dm(28, 12),
                        to: dm(5, 1)
                    }
                ],
                d(2026, 12, 20)
            ),
            Some(vec![(dm(1, 1), dm(5, 1)), (dm(28, 12), dm(31, 12))])
        );
        let between = |from, to| vec![Condition::BirthdayBetween { from, to }];
        let cases = [
            // 28.02. in a non-leap year covers 29.02. births.
            (
                between(d(2027, 2, 20), d(2027, 2, 28)),
                Some(vec![(dm(20, 2), dm(29, 2))]),
            ),
            // Several years: the ranges merge into the whole year.
            (
                between(d(2026, 6, 1), d(2027, 6, 30)),
                Some(vec![(dm(1, 1), dm(31, 12))]),
            ),
            // An empty window matches nobody: no range at all.
            (between(d(2027, 3, 2), d(2027, 3, 1)), None),
        ];
        for (conditions, want) in cases {
            assert_eq!(
                ranges(conditions.clone(), d(2027, 1, 1)),
                want,
                "{conditions:?}"
            );
        }
    }

    #[test]
    fn query_results_equal_naive_reference() {
        let mut rng = Rng::new(42);
        let mut checked_non_empty = 0;
        for (seed, today) in [
            (1, d(2026, 12, 20)),
            (2, d(2028, 2, 20)),
            (3, d(2027, 2, 27)),
        ] {
            let data = generate(1500, seed, today);
            let ctx = QueryContext::new(&data.persons, &data.appointments, today);
            for _ in 0..60 {
                let n = 1 + rng.below(3) as usize;
                let query = SavedQuery {
                    name: "zufall".into(),
                    conditions: (0..n).map(|_| random_condition(&mut rng, today)).collect(),
                };
                let fast = CompiledQuery::new(&query, today).evaluate(&data.persons, &ctx);
                let naive: Vec<usize> = data
                    .persons
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| {
                        query
                            .conditions
                            .iter()
                            .all(|c| naive_matches(c, r, &data.appointments, today))
                    })
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(fast, naive, "{query:?} on {today}");
                // The birthday pre-selection never loses a match.
                if let Some(ranges) = CompiledQuery::new(&query, today).birthday_ranges() {
                    for &i in &fast {
                        let b = DayMonth::of(data.persons[i].sensitive.birth_date.unwrap());
                        assert!(
                            ranges.iter().any(|(lo, hi)| *lo <= b && b <= *hi),
                            "{b} outside {ranges:?} for {query:?} on {today}"
                        );
                    }
                }
                checked_non_empty += usize::from(!fast.is_empty());
            }
        }
        // The random queries must actually select people, or the comparison proves little.
        assert!(
            checked_non_empty > 60,
            "only {checked_non_empty} non-empty results"
        );
    }
}
