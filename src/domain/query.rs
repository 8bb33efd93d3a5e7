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

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

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

/// Per-person facts derived from appointments, aligned with the persons slice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VisitFacts {
    /// Day of the last non-cancelled appointment before today.
    pub last_visit: Option<NaiveDate>,
    /// Day of the next non-cancelled appointment on or after today.
    pub next_appointment: Option<NaiveDate>,
}

/// Everything a query needs besides the persons: `today` and per-person visit facts.
/// Build once (O(persons + appointments)) and reuse for any number of queries.
#[derive(Clone, Debug)]
pub struct QueryContext {
    pub today: NaiveDate,
    pub visits: Vec<VisitFacts>,
}

impl QueryContext {
    pub fn new(persons: &[PersonRecord], appointments: &[Appointment], today: NaiveDate) -> Self {
        let mut index: HashMap<&str, u32> = HashMap::with_capacity(persons.len());
        for (i, p) in persons.iter().enumerate() {
            index.insert(p.person.id.0.as_str(), i as u32);
        }
        let mut visits = vec![VisitFacts::default(); persons.len()];
        for a in appointments {
            if a.status == AppointmentStatus::Cancelled {
                continue;
            }
            let Some(&i) = index.get(a.person_id.0.as_str()) else {
                continue;
            };
            let v = &mut visits[i as usize];
            let day = a.day();
            if day < today {
                if v.last_visit.is_none_or(|d| day > d) {
                    v.last_visit = Some(day);
                }
            } else if v.next_appointment.is_none_or(|d| day < d) {
                v.next_appointment = Some(day);
            }
        }
        QueryContext { today, visits }
    }
}

/// Birthdays as (month, day) packed into a u16 for fast window checks.
fn md_key(month: u32, day: u32) -> u16 {
    (month * 32 + day) as u16
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
        on: NaiveDate,
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
        let leap = NaiveDate::from_ymd_opt(year, 2, 29).is_some();
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
                Condition::BirthdayNextDays { days } => compile_birthday(
                    today,
                    today
                        .checked_add_days(chrono::Days::new(u64::from(days.saturating_sub(1))))
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
                        on,
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
            .collect();
        CompiledQuery { conditions }
    }

    /// Whether one person matches. `scratch` is reused for folding.
    fn matches(&self, r: &PersonRecord, facts: &VisitFacts, scratch: &mut String) -> bool {
        self.conditions.iter().all(|c| match c {
            Compiled::Nothing => false,
            Compiled::Birthday(segs) => {
                let Some(birth) = r.sensitive.birth_date else {
                    return false;
                };
                let (bm, bd) = (birth.month(), birth.day());
                segs.iter().any(|s| {
                    if s.year <= birth.year() {
                        return false;
                    }
                    let key = if bm == 2 && bd == 29 && !s.leap {
                        md_key(2, 28)
                    } else {
                        md_key(bm, bd)
                    };
                    key >= s.lo && key <= s.hi
                })
            }
            Compiled::Recall {
                before,
                include_never,
            } => {
                facts.next_appointment.is_none()
                    && match facts.last_visit {
                        Some(d) => d < *before,
                        None => *include_never,
                    }
            }
            Compiled::Age { on, min, max } => {
                let Some(birth) = r.sensitive.birth_date else {
                    return false;
                };
                let Some(age) = age_on(birth, *on) else {
                    return false;
                };
                min.is_none_or(|m| age >= m) && max.is_none_or(|m| age <= m)
            }
            Compiled::Tags { tags, mode } => {
                let has = |t: &String| {
                    r.person.tags.iter().any(|pt| {
                        scratch.clear();
                        fold_into(pt.trim(), scratch);
                        scratch == t
                    })
                };
                match mode {
                    TagMode::Any => tags.iter().any(has),
                    TagMode::All => tags.iter().all(has),
                    TagMode::None => !tags.iter().any(has),
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
                scratch.clear();
                fold_into(r.person.address.city.trim(), scratch);
                cities.iter().any(|c| c == scratch)
            }
            Compiled::Insurance(kinds) => kinds.contains(&r.sensitive.insurance_kind),
            Compiled::Kind(k) => r.person.kind == *k,
            Compiled::Consent(ch, pu) => r.person.consents.allows(*ch, *pu),
        })
    }

    /// Indices (into `persons`) of all matching persons, in order.
    pub fn evaluate(&self, persons: &[PersonRecord], ctx: &QueryContext) -> Vec<usize> {
        assert_eq!(
            persons.len(),
            ctx.visits.len(),
            "context built for other persons"
        );
        let mut scratch = String::with_capacity(32);
        persons
            .iter()
            .zip(&ctx.visits)
            .enumerate()
            .filter(|(_, (r, v))| self.matches(r, v, &mut scratch))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Convenience: compile and evaluate in one go (builds the context; for repeated queries
/// keep a [`QueryContext`] and use [`CompiledQuery::evaluate`]).
pub fn evaluate(
    query: &SavedQuery,
    persons: &[PersonRecord],
    appointments: &[Appointment],
    today: NaiveDate,
) -> Vec<usize> {
    let ctx = QueryContext::new(persons, appointments, today);
    CompiledQuery::new(query, today).evaluate(persons, &ctx)
}
