//! Conditions and saved queries (what the user builds).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::DayMonth;
use crate::domain::model::{Channel, InsuranceKind, Kind, Purpose};

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
