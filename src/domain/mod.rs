//! The pure core: every rule of praxisbote, with no browser, no clock and no randomness it is
//! not given. Tested natively with `cargo test`.
pub mod letter;
pub mod model;

pub use model::*;
