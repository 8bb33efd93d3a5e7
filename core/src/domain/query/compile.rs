//! Compiled queries (dates resolved, texts folded) and their evaluation.

use chrono::{Datelike, NaiveDate};

use super::dates::{is_leap, md_key, LEAP_DAY};
use super::{resolve_window, Condition, DayMonth, PersonFacts, QueryContext, SavedQuery, TagMode};
use crate::domain::hashing::{fast_map, FastMap};
use crate::domain::model::{Appointment, Channel, InsuranceKind, Kind, PersonRecord, Purpose};
use crate::domain::search::{fold, fold_into};

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
