//! The pure core: every rule of praxisbote, with no browser, no clock and no randomness it is
//! not given. Tested natively with `cargo test`.
pub mod email_html;
pub mod model;
pub mod placeholders;
pub mod render;
pub mod salutation;
pub mod sms;
pub mod template;

pub use model::*;
