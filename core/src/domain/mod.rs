//! The pure core: every rule of praxisbote, with no browser, no clock and no randomness it is
//! not given. Tested natively with `cargo test`.
pub mod address;
pub mod backup;
pub mod bulkmail;
pub mod calendar;
pub mod consent;
pub mod demo;
pub mod email;
pub mod email_html;
pub mod guardian;
pub mod hashing;
pub mod import;
pub mod labels;
pub mod letter;
pub mod lock;
pub mod message;
pub mod model;
pub mod outbox;
pub mod phone;
pub mod placeholders;
pub mod print;
pub mod query;
pub mod recovery_sheet;
pub mod reminders;
pub mod render;
pub mod retention;
pub mod review;
pub mod rng;
pub mod salutation;
pub mod search;
pub mod selection;
pub mod sendlog;
pub mod sms;
pub mod template;
pub mod text;

pub use model::*;
