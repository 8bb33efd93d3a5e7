//! Query conditions described in the UI language (`domain::query::Condition::describe_de`
//! keeps the German text; the German catalogue values give exactly it, tested).

use super::{labels, t, tf};
use crate::domain::query::{Condition, TagMode};
use chrono::NaiveDate;

pub fn describe(c: &Condition) -> String {
    let fmt = |d: &NaiveDate| d.format(t("format.date_numeric")).to_string();
    match c {
        Condition::BirthdayWindow { from, to } => {
            tf("query.describe.birthday", &[("from", from), ("to", to)])
        }
        Condition::BirthdayNextDays { days } => {
            tf("query.describe.birthday_next_days", &[("days", days)])
        }
        Condition::BirthdayBetween { from, to } => tf(
            "query.describe.birthday",
            &[("from", &fmt(from)), ("to", &fmt(to))],
        ),
        Condition::Recall {
            last_visit_before, ..
        } => tf(
            "query.describe.recall",
            &[("date", &fmt(last_visit_before))],
        ),
        Condition::AgeRange { min, max, .. } => match (min, max) {
            (Some(a), Some(b)) => tf("query.describe.age_range", &[("min", a), ("max", b)]),
            (Some(a), None) => tf("query.describe.age_min", &[("min", a)]),
            (None, Some(b)) => tf("query.describe.age_max", &[("max", b)]),
            (None, None) => t("query.describe.age_any").into(),
        },
        Condition::Tags { tags, mode } => {
            let tags = tags.join(", ");
            match mode {
                TagMode::Any => tf("query.describe.tags_any", &[("tags", &tags)]),
                TagMode::All => tf("query.describe.tags_all", &[("tags", &tags)]),
                TagMode::None => tf("query.describe.tags_none", &[("tags", &tags)]),
            }
        }
        Condition::PostcodeRange { from, to } => {
            tf("query.describe.postcode", &[("from", from), ("to", to)])
        }
        Condition::City { cities } => tf("query.describe.city", &[("cities", &cities.join(", "))]),
        Condition::Insurance { kinds } => tf(
            "query.describe.insurance",
            &[(
                "kinds",
                &kinds
                    .iter()
                    .map(|k| labels::insurance(*k))
                    .collect::<Vec<_>>()
                    .join(", "),
            )],
        ),
        Condition::Kind { kind } => tf("query.describe.kind", &[("kind", &labels::kind(*kind))]),
        Condition::HasConsent { channel, purpose } => tf(
            "query.describe.consent",
            &[
                ("channel", &labels::channel(*channel)),
                ("purpose", &labels::purpose(*purpose)),
            ],
        ),
    }
}
