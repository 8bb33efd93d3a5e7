//! Benchmark: the costs of encryption at rest in headless Chromium (issue 17). Prints
//! figures; asserts only that things round-trip. Ignored by default; run it with
//!
//! `WASM_BINDGEN_TEST_TIMEOUT=900 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --release --target wasm32-unknown-unknown
//!  --test bench_crypto -- --include-ignored --nocapture`
//!
//! Lines:
//! - `argon2id …`: the key derivation of `unlock` (RustCrypto `argon2` in wasm) with the
//!   app's parameters and two stronger ones.
//! - `pbkdf2-sha256 600000 (WebCrypto)`: the alternative the issue names.
//! - `seal/open 100,000 person records (aes-gcm in wasm)`: sealing as the store does it
//!   (encode, seal with origin + version as associated data, base64).
//! - `WebCrypto AES-GCM encrypt 100,000 bodies`: the same bodies through `SubtleCrypto`
//!   (all promises at once), for comparison.
//! - `put_persons 100,000 plain / encrypted`: the IndexedDB bulk write, in the same run.
#![cfg(target_arch = "wasm32")]

use praxisbote::storage::crypto::{self, KdfParams, Keys, Sealer};
use praxisbote::storage::idb::IdbStore;
use praxisbote::storage::records::{self, Origin};
use praxisbote::storage::Store;
use praxisbote_testkit::sample::sample_persons;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function pb_now() { return performance.now(); }
export async function pb_pbkdf2_ms(iterations) {
  const enc = new TextEncoder();
  const base = await crypto.subtle.importKey("raw", enc.encode("Praxis am Markt 2026!"),
    "PBKDF2", false, ["deriveBits"]);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const t0 = performance.now();
  await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, 256);
  return performance.now() - t0;
}
export async function pb_webcrypto_gcm_ms(bodies) {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false,
    ["encrypt"]);
  const enc = new TextEncoder();
  const t0 = performance.now();
  await Promise.all(bodies.map((b, i) => crypto.subtle.encrypt(
    { name: "AES-GCM", iv: crypto.getRandomValues(new Uint8Array(12)),
      additionalData: enc.encode("persons/" + i) }, key, enc.encode(b))));
  return performance.now() - t0;
}
"#)]
extern "C" {
    fn pb_now() -> f64;
    async fn pb_pbkdf2_ms(iterations: u32) -> JsValue;
    async fn pb_webcrypto_gcm_ms(bodies: js_sys::Array) -> JsValue;
}

fn line(what: &str, ms: f64) {
    web_sys::console::log_1(&format!("{what}: {ms:.1} ms").into());
}

#[wasm_bindgen_test]
#[ignore]
async fn bench_crypto() {
    for (name, p) in [
        ("argon2id m=19 MiB t=2 p=1 (app)", KdfParams::APP),
        (
            "argon2id m=46 MiB t=1 p=1",
            KdfParams {
                m_kib: 46 * 1024,
                t: 1,
                p: 1,
            },
        ),
        (
            "argon2id m=64 MiB t=3 p=1",
            KdfParams {
                m_kib: 64 * 1024,
                t: 3,
                p: 1,
            },
        ),
    ] {
        for _ in 0..2 {
            let t0 = pb_now();
            p.derive("Praxis am Markt 2026!", b"0123456789abcdef")
                .unwrap();
            line(name, pb_now() - t0);
        }
    }
    for _ in 0..2 {
        let ms = pb_pbkdf2_ms(600_000).await.as_f64().unwrap();
        line("pbkdf2-sha256 600000 (WebCrypto)", ms);
    }

    let persons = sample_persons(0, 100_000);
    let stored: Vec<_> = persons
        .iter()
        .map(|p| records::person::encode(p).unwrap())
        .collect();
    let bytes: usize = stored.iter().map(|s| s.body.len()).sum();
    web_sys::console::log_1(&format!("person bodies: {bytes} bytes").into());
    let keys = Keys::Sealed(std::rc::Rc::new(Sealer::new(&[7; 32])));
    let t0 = pb_now();
    let sealed: Vec<_> = persons
        .iter()
        .zip(&stored)
        .map(|(p, s)| {
            keys.seal(&Origin::Person(p.person.id.clone()), s.clone())
                .unwrap()
        })
        .collect();
    line(
        "seal 100,000 person records (aes-gcm in wasm)",
        pb_now() - t0,
    );
    let t0 = pb_now();
    for (p, s) in persons.iter().zip(&sealed) {
        keys.open(&Origin::Person(p.person.id.clone()), s).unwrap();
    }
    line(
        "open 100,000 person records (aes-gcm in wasm)",
        pb_now() - t0,
    );
    let bodies: js_sys::Array = stored.iter().map(|s| JsValue::from_str(&s.body)).collect();
    let ms = pb_webcrypto_gcm_ms(bodies).await.as_f64().unwrap();
    line("WebCrypto AES-GCM encrypt 100,000 bodies", ms);
    drop(stored);

    for encrypted in [false, true] {
        let name = format!("pb-bench-{}", uuid::Uuid::new_v4());
        let store = IdbStore::open(&name).await.unwrap();
        if encrypted {
            crypto::set_up(&store, "Praxis am Markt 2026!", KdfParams::TESTING)
                .await
                .unwrap();
        }
        let t0 = pb_now();
        store.put_persons(&persons).await.unwrap();
        let put = pb_now() - t0;
        let t0 = pb_now();
        let all = store.all_persons().await.unwrap();
        let read = pb_now() - t0;
        assert_eq!(all.len(), persons.len());
        let what = if encrypted { "encrypted" } else { "plain" };
        line(&format!("put_persons 100,000 {what}"), put);
        line(&format!("all_persons 100,000 {what}"), read);
        store.close();
        IdbStore::delete_database(&name).await.unwrap();
    }
}
