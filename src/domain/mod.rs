//! The pure core: every rule of praxisbote, with no browser, no clock and no randomness it is
//! not given. Tested natively with `cargo test`.
pub mod backup;
pub mod demo;
pub mod import;
pub mod model;

pub mod address;
pub mod email;
pub mod hashing;
pub mod phone;
pub mod query;
pub mod review;
pub mod search;
pub mod selection;
pub mod synthetic;

pub use model::*;
