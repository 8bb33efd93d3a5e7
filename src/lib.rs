//! praxisbote: offline-first serial letters, SMS and e-mail for small practices.
pub mod domain;
pub mod storage;
pub mod wire;
