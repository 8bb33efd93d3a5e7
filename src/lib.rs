//! praxisbote: offline-first serial letters, SMS and e-mail for small practices.
//!
//! - [`domain`] and [`wire`]: re-exported from `praxisbote-core` (every rule, pure and natively
//!   tested; the JSON types exchanged with praxisbote-relay).
//! - [`storage`]: one storage trait, in-memory and IndexedDB implementations.
//! - [`i18n`]: the UI string catalogue and the translation of domain messages.
//! - `app` (wasm32 only): the Leptos user interface, thin on top of the above.
pub use praxisbote_core::{domain, wire};
pub mod i18n;
pub mod storage;

#[cfg(target_arch = "wasm32")]
pub mod app;
