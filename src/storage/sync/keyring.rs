//! The practice's keyring document on the sync server ([`KEYRING_DOC`](super::KEYRING_DOC)):
//! `{"keyring": <the keyring>, "key_id": <fingerprint of the data key>, "auth": <authenticator>}`.
//!
//! The keyring carries a generation (`Keyring::gen`, one more with every passphrase
//! change). The authenticator is `SyncKeys::keyring_auth` over the keyring's [`canonical`]
//! JSON (the parsed keyring serialized again, never the server's text): only a device that
//! holds the data key can make it. Every sync round ([`super::publish`]) reads the document
//! and [`decide`]s:
//!
//! - a higher generation on the server, authentic: this device **takes** it
//!   (`crypto::take_keyring`; no data is touched, the key in memory stays, the next unlock
//!   needs the new passphrase);
//! - a lower generation on the server: this device **puts** its own over it;
//! - the same generation with other contents (two devices changed the passphrase at the
//!   same time): the larger canonical JSON wins on every device, so all converge;
//! - a document without an authenticator (written before there were any, generation 0) or
//!   with one that does not verify: never taken; this device puts its own keyring (with its
//!   authenticator) over it.

use serde_json::{json, Value};

use super::envelope::SyncKeys;
use crate::storage::crypto::Keyring;

/// The keyring as the authenticator covers it: the parsed keyring serialized again (field
/// order of the struct), never the text the server sent.
pub fn canonical(keyring: &Keyring) -> Vec<u8> {
    serde_json::to_vec(keyring).expect("a keyring serializes to JSON")
}

/// The keyring document's body for `keyring` (without `_id` and `_rev`).
pub fn document(keys: &SyncKeys, keyring: &Keyring) -> Value {
    json!({
        "keyring": keyring,
        "key_id": keys.key_id(),
        "auth": keys.keyring_auth(&canonical(keyring)),
    })
}

/// The server's keyring document as this device's keys see it.
#[derive(Clone, Debug, PartialEq)]
pub enum OnServer {
    /// Its authenticator verifies: made by a device holding the data key.
    Authentic(Keyring),
    /// No authenticator and generation 0: written before there were authenticators.
    Legacy(Keyring),
    /// Not a keyring, or its authenticator is missing (generation above 0) or wrong.
    Forged,
}

/// Reads the server's keyring document `doc` with this device's `keys`.
pub fn read(keys: &SyncKeys, doc: &Value) -> OnServer {
    let Some(keyring) = doc
        .get("keyring")
        .and_then(|k| serde_json::from_value::<Keyring>(k.clone()).ok())
    else {
        return OnServer::Forged;
    };
    match doc.get("auth") {
        None | Some(Value::Null) if keyring.gen == 0 => OnServer::Legacy(keyring),
        Some(Value::String(auth)) if keys.keyring_auth_ok(&canonical(&keyring), auth) => {
            OnServer::Authentic(keyring)
        }
        _ => OnServer::Forged,
    }
}

/// What a device does about the server's keyring (of its own data key).
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// The server holds this device's keyring: nothing to do.
    Keep,
    /// This device's keyring (with its authenticator) goes over the server's.
    Put,
    /// This device takes the server's keyring.
    Take(Keyring),
}

/// The decision of the module docs, for this device's keyring `local`.
pub fn decide(local: &Keyring, server: OnServer) -> Step {
    let OnServer::Authentic(theirs) = server else {
        return Step::Put;
    };
    match theirs.gen.cmp(&local.gen) {
        std::cmp::Ordering::Greater => Step::Take(theirs),
        std::cmp::Ordering::Less => Step::Put,
        std::cmp::Ordering::Equal => {
            match canonical(&shared(&theirs)).cmp(&canonical(&shared(local))) {
                std::cmp::Ordering::Equal => Step::Keep,
                std::cmp::Ordering::Greater => Step::Take(theirs),
                std::cmp::Ordering::Less => Step::Put,
            }
        }
    }
}

/// What the devices share of a keyring: the birthday index mark is each database's own.
fn shared(keyring: &Keyring) -> Keyring {
    Keyring {
        birthday_index: 0,
        ..keyring.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::crypto::KdfParams;

    fn keyring(gen: u64, wrap: &str) -> Keyring {
        Keyring {
            version: 1,
            kdf: "argon2id".into(),
            params: KdfParams::TESTING,
            salt: "c2FsdA".into(),
            passphrase_wrap: wrap.into(),
            recovery_wrap: "recovery".into(),
            birthday_index: 1,
            gen,
        }
    }

    #[test]
    fn a_document_reads_as_authentic_only_with_its_data_key_and_unaltered() {
        let keys = SyncKeys::new(&[7u8; 32]);
        let other = SyncKeys::new(&[8u8; 32]);
        let k = keyring(2, "wrap-new");
        let doc = document(&keys, &k);
        assert_eq!(doc["key_id"], keys.key_id());
        assert_eq!(read(&keys, &doc), OnServer::Authentic(k.clone()));
        assert_eq!(
            read(&other, &doc),
            OnServer::Forged,
            "another practice's key"
        );

        // The server's text may differ in order and spacing: the parsed keyring counts.
        let mut reordered: serde_json::Map<String, Value> = serde_json::Map::new();
        let fields = doc["keyring"].as_object().unwrap();
        for (name, value) in fields.iter().rev() {
            reordered.insert(name.clone(), value.clone());
        }
        let mut moved = doc.clone();
        moved["keyring"] = Value::Object(reordered);
        assert_eq!(read(&keys, &moved), OnServer::Authentic(k.clone()));

        // Another passphrase wrap, a raised generation, a dropped authenticator.
        let mut wrap = doc.clone();
        wrap["keyring"]["passphrase_wrap"] = json!("wrap-of-the-server");
        assert_eq!(read(&keys, &wrap), OnServer::Forged);
        let mut gen = doc.clone();
        gen["keyring"]["gen"] = json!(3);
        assert_eq!(read(&keys, &gen), OnServer::Forged);
        let mut dropped = doc.clone();
        dropped.as_object_mut().unwrap().remove("auth");
        assert_eq!(read(&keys, &dropped), OnServer::Forged, "generation 2");
        assert_eq!(read(&keys, &json!({"keyring": "x"})), OnServer::Forged);

        // A document from before authenticators: generation 0, no "auth".
        let old = json!({"keyring": keyring(0, "w"), "key_id": keys.key_id()});
        assert_eq!(read(&keys, &old), OnServer::Legacy(keyring(0, "w")));
    }

    #[test]
    fn the_higher_generation_wins_and_equal_ones_converge() {
        let keys = SyncKeys::new(&[7u8; 32]);
        let on_server = |k: &Keyring| read(&keys, &document(&keys, k));
        let mine = keyring(1, "mine");
        assert_eq!(
            decide(&mine, on_server(&keyring(2, "new"))),
            Step::Take(keyring(2, "new"))
        );
        assert_eq!(decide(&mine, on_server(&keyring(0, "old"))), Step::Put);
        assert_eq!(decide(&mine, on_server(&mine)), Step::Keep);
        let mut other_mark = mine.clone();
        other_mark.birthday_index = 0;
        assert_eq!(
            decide(&mine, on_server(&other_mark)),
            Step::Keep,
            "the birthday index mark is each device's own"
        );

        // Two devices changed the passphrase at once: both pick the same keyring.
        let (x, y) = (keyring(2, "xxx"), keyring(2, "yyy"));
        let x_sees = decide(&x, on_server(&y));
        let y_sees = decide(&y, on_server(&x));
        assert_eq!(x_sees, Step::Take(y.clone()));
        assert_eq!(y_sees, Step::Put);

        // Never taken, whatever its generation: forged or from before authenticators.
        assert_eq!(decide(&mine, OnServer::Forged), Step::Put);
        assert_eq!(decide(&mine, OnServer::Legacy(keyring(0, "w"))), Step::Put);
        let mut raised = document(&keys, &keyring(1, "mine"));
        raised["keyring"]["gen"] = json!(9);
        assert_eq!(decide(&mine, read(&keys, &raised)), Step::Put);
    }
}
