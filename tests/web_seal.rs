//! The two AES-GCM implementations of one sealed format (docs/design/encryption-at-rest.md):
//! what WebCrypto seals (bulk writes, `Keys::bulk_sealer`) RustCrypto opens (every read,
//! `Keys::open`), and what RustCrypto seals (`Keys::seal`) WebCrypto opens; tampering is
//! detected either way. In headless Chromium:
//!
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_seal`
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use praxisbote::domain::PersonId;
use praxisbote::storage::crypto::{web_sealed_count, Keys, Sealer, WEB_SEAL_CHUNK};
use praxisbote::storage::records::DecodeError;
use praxisbote::storage::{Collection, Origin, Stored};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// An independent WebCrypto opener (its own import of the raw key, for decrypting), written
// from the format: "aesgcm1:" + base64 without padding of nonce ‖ ciphertext ‖ tag.
#[wasm_bindgen(inline_js = r#"
export async function pb_test_web_open(raw, sealed, ad) {
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
  if (!sealed.startsWith("aesgcm1:")) return null;
  let b64 = sealed.slice(8);
  b64 += "=".repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: new TextEncoder().encode(ad) },
      key, bytes.subarray(12));
    return new TextDecoder().decode(plain);
  } catch (e) {
    return null;
  }
}
"#)]
extern "C" {
    async fn pb_test_web_open(raw: &[u8], sealed: &str, ad: &str) -> JsValue;
}

const KEY: [u8; 32] = [7; 32];

fn person(id: &str) -> Origin {
    Origin::Person(PersonId(id.into()))
}

/// The associated data of a record, as the format defines it.
fn ad(origin: &Origin, v: u32) -> String {
    format!(
        "praxisbote record v={v};store={};key={}",
        origin.store_name(),
        origin.key()
    )
}

fn rec(v: u32, body: &str) -> Stored {
    Stored {
        v,
        body: body.into(),
    }
}

/// Records of every kind of body: empty, ASCII, umlauts and emoji, a large one, and more
/// than two chunks of ordinary ones (the last chunk partly filled).
fn records() -> Vec<(Origin, Stored)> {
    let mut v = vec![
        (person("empty"), rec(3, "")),
        (person("a"), rec(3, r#"{"last_name":"Müller"}"#)),
        (person("emoji"), rec(1, r#"{"note":"Grüße 😀 ĳ 東京"}"#)),
        (
            Origin::Document(Collection::Outbox, "msg-1".into()),
            rec(2, r#"{"to":"hildegard@example.org"}"#),
        ),
        (person("large"), rec(3, &"Zwiebelmeier ".repeat(20_000))),
    ];
    for i in 0..(2 * WEB_SEAL_CHUNK + 37) {
        v.push((
            person(&format!("p-{i:05}")),
            rec(3, &format!(r#"{{"first_name":"Anna {i}","city":"Köln"}}"#)),
        ));
    }
    v
}

#[wasm_bindgen_test]
async fn webcrypto_seals_what_rustcrypto_opens() {
    let web = Keys::Sealed(Rc::new(Sealer::with_web(&KEY)));
    let rust_only = Keys::Sealed(Rc::new(Sealer::new(&KEY)));
    let records = records();
    let before = web_sealed_count();
    let sealed = web
        .seal_many(&records)
        .await
        .unwrap()
        .expect("WebCrypto is available in Chromium");
    assert_eq!(web_sealed_count() - before, records.len() as u64);
    assert_eq!(sealed.len(), records.len());

    for ((origin, plain), s) in records.iter().zip(&sealed) {
        assert_eq!(s.v, plain.v);
        assert!(s.body.starts_with("aesgcm1:"), "{}", s.body);
        assert!(!s.body.ends_with('='), "base64 without padding");
        assert!(!s.body.contains("Müller") && !s.body.contains("Zwiebel"));
        // Nonce ‖ ciphertext ‖ tag: 12 + len + 16 bytes, base64 without padding.
        let bytes = 12 + plain.body.len() + 16;
        assert_eq!(s.body.len() - 8, (bytes * 4).div_ceil(3));
        for k in [&web, &rust_only] {
            assert_eq!(k.open(origin, s).unwrap().into_owned(), *plain);
        }
    }
    // A fresh nonce per record: equal bodies seal differently.
    let twice = web
        .seal_many(&[(person("a"), rec(3, "{}")), (person("a"), rec(3, "{}"))])
        .await
        .unwrap()
        .unwrap();
    assert_ne!(twice[0].body, twice[1].body);
    assert_ne!(twice[0].body[8..24], twice[1].body[8..24]);

    // Tampering, moving and re-versioning are detected by the RustCrypto open.
    let (origin, s) = (&records[1].0, &sealed[1]);
    let mut altered = s.body.clone().into_bytes();
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = Stored {
        v: s.v,
        body: String::from_utf8(altered).unwrap(),
    };
    assert_eq!(
        rust_only.open(origin, &altered),
        Err(DecodeError::Undecryptable)
    );
    assert_eq!(
        rust_only.open(&person("b"), s),
        Err(DecodeError::Undecryptable)
    );
    let other_store = Origin::Document(Collection::Outbox, "a".into());
    assert_eq!(
        rust_only.open(&other_store, s),
        Err(DecodeError::Undecryptable)
    );
    let older = Stored { v: 2, ..s.clone() };
    assert_eq!(
        rust_only.open(origin, &older),
        Err(DecodeError::Undecryptable)
    );
    let other_key = Keys::Sealed(Rc::new(Sealer::new(&[8; 32])));
    assert_eq!(other_key.open(origin, s), Err(DecodeError::Undecryptable));
    // The independent WebCrypto opener reads it too.
    let opened = pb_test_web_open(&KEY, &s.body, &ad(origin, s.v)).await;
    assert_eq!(
        opened.as_string().as_deref(),
        Some(records[1].1.body.as_str())
    );
}

#[wasm_bindgen_test]
async fn rustcrypto_seals_what_webcrypto_opens() {
    let rust_only = Keys::Sealed(Rc::new(Sealer::new(&KEY)));
    for (origin, plain) in records().iter().take(8) {
        let s = rust_only.seal(origin, plain.clone()).unwrap();
        let opened = pb_test_web_open(&KEY, &s.body, &ad(origin, s.v)).await;
        assert_eq!(opened.as_string().as_deref(), Some(plain.body.as_str()));

        // Altered, moved to another id, or another version: WebCrypto refuses it.
        let mut altered = s.body.clone().into_bytes();
        let at = altered.len() - 3;
        altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        let refused = |v: JsValue| v.is_null();
        assert!(refused(
            pb_test_web_open(&KEY, &altered, &ad(origin, s.v)).await
        ));
        assert!(refused(
            pb_test_web_open(&KEY, &s.body, &ad(&person("moved"), s.v)).await
        ));
        assert!(refused(
            pb_test_web_open(&KEY, &s.body, &ad(origin, s.v + 1)).await
        ));
        assert!(refused(
            pb_test_web_open(&[8; 32], &s.body, &ad(origin, s.v)).await
        ));
    }
}

#[wasm_bindgen_test]
async fn no_bulk_sealing_without_a_webcrypto_key() {
    // Key-encryption keys and plain stores: RustCrypto only (the caller seals in the
    // transaction).
    let rust_only = Keys::Sealed(Rc::new(Sealer::new(&KEY)));
    assert!(rust_only.bulk_sealer().await.is_none());
    assert!(Keys::Plain.bulk_sealer().await.is_none());
    assert_eq!(
        rust_only
            .seal_many(&[(person("a"), rec(3, "{}"))])
            .await
            .unwrap(),
        None
    );
}
