//! praxisbote-testkit: what tests and benchmarks share, kept out of the shipped library.
//!
//! - [`conformance`]: the one storage conformance suite every `Store` implementation passes
//!   (natively against `MemoryStore` in `tests/storage_memory.rs`, in headless Chromium
//!   against `IdbStore` in `tests/storage_idb.rs`), listed once by
//!   [`for_each_storage_case!`].
//! - [`encryption`]: encryption-at-rest cases every `Store` passes, and [`encryption::encrypt`]
//!   to run the conformance suite against an encrypted store.
//! - [`sample`]: sample data for tests: persons from the one person generator of praxisbote
//!   (`domain::demo::generate_person`, seeded by `domain::rng::Rng`), and small hand-made
//!   records.
//! - `legacy` (wasm32): rows in the shapes of old IndexedDB schemas, to test the upgrade steps.
pub mod conformance;
pub mod encryption;
pub mod sample;

#[cfg(target_arch = "wasm32")]
pub mod legacy;
