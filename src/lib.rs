//! praxisbote: offline-first serial letters, SMS and e-mail for small practices.
//!
//! - [`domain`]: every rule, pure and natively tested.
//! - [`storage`]: one storage trait, in-memory and IndexedDB implementations.
//! - [`wire`]: the JSON types exchanged with praxisbote-relay (shared with the relay crate).
//! - `app` (wasm32 only): the Leptos user interface, thin on top of the above.
pub mod domain;
pub mod i18n;
pub mod storage;
pub mod wire;

#[cfg(target_arch = "wasm32")]
pub mod app;
