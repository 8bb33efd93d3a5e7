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

mod compile;
mod condition;
mod context;
mod dates;

pub use compile::{evaluate, CompiledQuery};
pub use condition::{Condition, SavedQuery, TagMode};
pub use context::{PersonFacts, QueryContext};
pub use dates::{age_on, birthday_in_year, has_birthday_between, resolve_window, DayMonth};

#[cfg(test)]
mod tests;
