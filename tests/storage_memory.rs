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

/// The encryption-at-rest cases (praxisbote-testkit `encryption`).
mod encryption {
    use praxisbote::storage::memory::MemoryStore;
    use praxisbote_testkit::encryption;

    macro_rules! encryption_case {
        ($name:ident) => {
            #[test]
            fn $name() {
                pollster::block_on(encryption::$name(&MemoryStore::new()));
            }
        };
    }

    praxisbote_testkit::for_each_encryption_case!(encryption_case);
}

/// The whole conformance suite against an encrypted `MemoryStore`.
mod encrypted {
    use praxisbote::storage::memory::MemoryStore;
    use praxisbote_testkit::{conformance, encryption};

    macro_rules! encrypted_case {
        ($name:ident) => {
            #[test]
            fn $name() {
                let s = MemoryStore::new();
                pollster::block_on(async {
                    encryption::encrypt(&s).await;
                    conformance::$name(&s).await;
                });
            }
        };
    }

    praxisbote_testkit::for_each_storage_case!(encrypted_case);
}
