//! What the server sees of a record: an opaque document id and a sealed body.
//!
//! - **Document id**: `HMAC-SHA-256(id key, "<store>/<key>")`, 32 hex digits. The id key is
//!   derived from the practice data key with HKDF, so every device of the practice names a
//!   record alike, and the server learns neither the kind of record nor its key.
//! - **Body**: `{"v": 1, "c": base64(nonce ‖ AES-256-GCM ciphertext ‖ tag)}` under the data
//!   key, with the document id as associated data (the server cannot move a body to another
//!   document). The nonce is synthetic: the first 96 bits of `HMAC-SHA-256(nonce key, id ‖
//!   plaintext)`. The same plaintext therefore seals to the same body (the server can tell
//!   that two revisions of a document are equal, nothing more), which makes revision ids
//!   deterministic: two devices settling a conflict alike write one revision. A nonce is
//!   reused only for the very same plaintext of the same document, which reveals nothing.
//! - **Key id**: a fingerprint of the data key (HKDF, 16 bytes hex) stored with the keyring
//!   document on the server, so a device holding another key is refused before it writes.
//! - **Keyring authenticator**: `HMAC-SHA-256(keyring key, canonical keyring JSON)`, base64,
//!   with the keyring key derived (HKDF) from the data key like the others. It rides with the
//!   keyring document on the server (`sync::keyring`): only a device holding the data key
//!   can make it, so the server cannot slip in a keyring of its own or an older one with a
//!   raised generation.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::storage::crypto::{b64, unb64};

const ID_LABEL: &[u8] = b"praxisbote sync document id v1";
const NONCE_LABEL: &[u8] = b"praxisbote sync nonce v1";
const KEY_ID_LABEL: &[u8] = b"praxisbote sync key id v1";
const KEYRING_LABEL: &[u8] = b"praxisbote sync keyring authenticator v1";
const ENVELOPE_VERSION: u64 = 1;
const NONCE_LEN: usize = 12;

/// The sync keys of one data key (in memory only, derived on demand).
pub struct SyncKeys {
    id_mac: Hmac<Sha256>,
    nonce_mac: Hmac<Sha256>,
    keyring_mac: Hmac<Sha256>,
    cipher: Aes256Gcm,
    key_id: String,
}

fn derive(data_key: &[u8; 32], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, data_key)
        .expand(label, &mut okm[..])
        .expect("32 bytes is a valid HKDF-SHA-256 output length");
    okm
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SyncKeys {
    pub fn new(data_key: &[u8; 32]) -> SyncKeys {
        let mac = |label| {
            Hmac::<Sha256>::new_from_slice(&derive(data_key, label)[..])
                .expect("HMAC takes keys of any length")
        };
        SyncKeys {
            id_mac: mac(ID_LABEL),
            nonce_mac: mac(NONCE_LABEL),
            keyring_mac: mac(KEYRING_LABEL),
            cipher: Aes256Gcm::new(data_key.into()),
            key_id: hex(&derive(data_key, KEY_ID_LABEL)[..16]),
        }
    }

    /// The fingerprint of the data key (not secret, not reversible).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The authenticator of a keyring given as its canonical JSON (base64).
    pub fn keyring_auth(&self, canonical: &[u8]) -> String {
        let mut mac = self.keyring_mac.clone();
        mac.update(canonical);
        b64(&mac.finalize().into_bytes())
    }

    /// Whether `auth` is the authenticator of the keyring `canonical` under this key
    /// (compared in constant time).
    pub fn keyring_auth_ok(&self, canonical: &[u8], auth: &str) -> bool {
        let Some(tag) = unb64(auth) else {
            return false;
        };
        let mut mac = self.keyring_mac.clone();
        mac.update(canonical);
        mac.verify_slice(&tag).is_ok()
    }

    /// The opaque document id of the record `store/key`.
    pub fn doc_id(&self, store: &str, key: &str) -> String {
        let mut mac = self.id_mac.clone();
        mac.update(store.as_bytes());
        mac.update(b"/");
        mac.update(key.as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// The sealed body of `plain` in document `id`.
    pub fn seal(&self, id: &str, plain: &[u8]) -> Map<String, Value> {
        let mut mac = self.nonce_mac.clone();
        mac.update(id.as_bytes());
        mac.update(&[0]);
        mac.update(plain);
        let tag = mac.finalize().into_bytes();
        let nonce: [u8; NONCE_LEN] = tag[..NONCE_LEN].try_into().expect("12 of 32 bytes");
        let ct = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: id.as_bytes(),
                },
            )
            .expect("AES-GCM encrypts any message of this size");
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        match json!({"v": ENVELOPE_VERSION, "c": b64(&out)}) {
            Value::Object(m) => m,
            _ => unreachable!("an object literal"),
        }
    }

    /// The plaintext of a sealed body of document `id`; `None` when it is not one of ours,
    /// was altered, belongs to another document or another key.
    pub fn open(&self, id: &str, body: &Map<String, Value>) -> Option<Vec<u8>> {
        if body.get("v")?.as_u64()? != ENVELOPE_VERSION {
            return None;
        }
        let bytes = unb64(body.get("c")?.as_str()?)?;
        if bytes.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: id.as_bytes(),
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_is_deterministic_opaque_and_bound_to_the_document() {
        let keys = SyncKeys::new(&[7u8; 32]);
        let other = SyncKeys::new(&[8u8; 32]);
        let id = keys.doc_id("persons", "p-1");
        assert_eq!(id.len(), 32);
        assert_ne!(id, keys.doc_id("persons", "p-2"));
        assert_ne!(id, keys.doc_id("appointments", "p-1"));
        assert_ne!(id, other.doc_id("persons", "p-1"));
        assert!(!id.contains("p-1"));

        let plain = br#"{"name":"Erika Mustermann"}"#;
        let a = keys.seal(&id, plain);
        assert_eq!(a, keys.seal(&id, plain), "same plaintext, same body");
        assert_ne!(a, keys.seal(&id, br#"{"name":"Erika Musterfrau"}"#));
        assert!(!Value::Object(a.clone()).to_string().contains("Erika"));
        assert_eq!(keys.open(&id, &a).as_deref(), Some(&plain[..]));
        let other_id = keys.doc_id("persons", "p-2");
        assert_eq!(keys.open(&other_id, &a), None, "bound to its document");
        assert_eq!(other.open(&id, &a), None, "bound to its key");
        let mut altered = a.clone();
        let c = altered["c"].as_str().unwrap().replace('A', "B");
        altered.insert("c".into(), json!(c));
        assert_eq!(keys.open(&id, &altered), None);
        assert_ne!(keys.key_id(), other.key_id());
        assert_eq!(keys.key_id(), SyncKeys::new(&[7u8; 32]).key_id());
    }

    #[test]
    fn a_keyring_authenticator_verifies_only_with_its_key_and_its_keyring() {
        let keys = SyncKeys::new(&[7u8; 32]);
        let other = SyncKeys::new(&[8u8; 32]);
        let keyring = br#"{"gen":2,"passphrase_wrap":"abc"}"#;
        let auth = keys.keyring_auth(keyring);
        assert_eq!(auth, SyncKeys::new(&[7u8; 32]).keyring_auth(keyring));
        assert!(keys.keyring_auth_ok(keyring, &auth));
        assert!(!other.keyring_auth_ok(keyring, &auth), "another key");
        assert!(!other.keyring_auth_ok(keyring, &other.keyring_auth(b"x")));
        assert!(!keys.keyring_auth_ok(br#"{"gen":3,"passphrase_wrap":"abc"}"#, &auth));
        assert!(!keys.keyring_auth_ok(keyring, ""), "no authenticator");
        assert!(!keys.keyring_auth_ok(keyring, "not base64!"));
        assert!(
            !keys.keyring_auth_ok(keyring, &auth[..auth.len() - 4]),
            "cut short"
        );
    }
}
