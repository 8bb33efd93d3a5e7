//! praxisbote-core: the pure part of praxisbote, with no web dependency, so the compiler (not
//! a grep) keeps it pure.
//!
//! - [`domain`]: every rule, natively tested. No browser, no UI, no storage, no clock and no
//!   randomness it is not given.
//! - [`wire`]: the JSON types exchanged between the app and praxisbote-relay.
pub mod domain;
pub mod wire;
