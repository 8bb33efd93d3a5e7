//! The storage conformance suite (praxisbote-testkit) against `MemoryStore`, natively. The
//! same cases run against IndexedDB in headless Chromium (`tests/storage_idb.rs`).
#![cfg(not(target_arch = "wasm32"))]

use praxisbote::storage::memory::MemoryStore;
use praxisbote_testkit::conformance;

macro_rules! memory_case {
    ($name:ident) => {
        #[test]
        fn $name() {
            pollster::block_on(conformance::$name(&MemoryStore::new()));
        }
    };
}

praxisbote_testkit::for_each_storage_case!(memory_case);
