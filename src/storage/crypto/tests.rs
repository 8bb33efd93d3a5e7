use super::*;
use crate::domain::PersonId;

fn sealed_keys() -> Keys {
    Keys::Sealed(Rc::new(Sealer::new(&[7; 32])))
}

fn person(id: &str) -> Origin {
    Origin::Person(PersonId(id.into()))
}

fn rec(v: u32, body: &str) -> Stored {
    Stored {
        v,
        body: body.into(),
    }
}

#[test]
fn sealing_hides_the_body_and_opens_again() {
    let k = sealed_keys();
    let plain = rec(2, r#"{"name":"Müller"}"#);
    let a = k.seal(&person("a"), plain.clone()).unwrap();
    let b = k.seal(&person("a"), plain.clone()).unwrap();
    assert!(is_sealed(&a.body) && !a.body.contains("Müller"));
    assert_ne!(a.body, b.body, "a fresh nonce per write");
    assert_eq!(a.v, 2);
    assert_eq!(k.open(&person("a"), &a).unwrap().into_owned(), plain);
}

#[test]
fn a_record_cannot_move_change_version_or_be_altered() {
    let k = sealed_keys();
    let s = k.seal(&person("a"), rec(2, "{}")).unwrap();
    assert_eq!(k.open(&person("b"), &s), Err(DecodeError::Undecryptable));
    let other_store = Origin::Document(Collection::Outbox, "a".into());
    assert_eq!(k.open(&other_store, &s), Err(DecodeError::Undecryptable));
    let older = Stored { v: 1, ..s.clone() };
    assert_eq!(
        k.open(&person("a"), &older),
        Err(DecodeError::Undecryptable)
    );
    // Every single changed byte of the sealed part is detected.
    let raw = unb64(&s.body[SEALED_PREFIX.len()..]).unwrap();
    for i in 0..raw.len() {
        let mut bytes = raw.clone();
        bytes[i] ^= 0x01;
        let altered = rec(2, &format!("{SEALED_PREFIX}{}", b64(&bytes)));
        assert_eq!(
            k.open(&person("a"), &altered),
            Err(DecodeError::Undecryptable),
            "byte {i}"
        );
    }
    // Another key does not open it; a plain body in an encrypted store is refused.
    let other = Keys::Sealed(Rc::new(Sealer::new(&[8; 32])));
    assert_eq!(
        other.open(&person("a"), &s),
        Err(DecodeError::Undecryptable)
    );
    assert_eq!(
        k.open(&person("a"), &rec(2, "{}")),
        Err(DecodeError::NotSealed)
    );
}

#[test]
fn plain_keys_and_the_keyring_stay_as_they_are() {
    let plain = rec(1, "{}");
    assert_eq!(
        Keys::Plain.seal(&person("a"), plain.clone()).unwrap(),
        plain
    );
    let keyring = Origin::Document(Collection::Meta, KEYRING_KEY.into());
    assert_eq!(sealed_keys().seal(&keyring, plain.clone()).unwrap(), plain);
    assert_eq!(
        sealed_keys().open(&keyring, &plain).unwrap().into_owned(),
        plain
    );
}

#[test]
fn recovery_key_text_round_trip() {
    let k = RecoveryKey::generate().unwrap();
    let text = k.to_string();
    assert_eq!(text.len(), 52 + 12, "{text}");
    assert_eq!(text.split('-').count(), 13);
    let back = RecoveryKey::parse(&text).unwrap();
    assert_eq!(back.bytes(), k.bytes());
    // Typed in lower case, with spaces, O for 0 and l for 1.
    let typed = text
        .to_lowercase()
        .replace('-', " ")
        .replace('0', "o")
        .replace('1', "l");
    assert_eq!(RecoveryKey::parse(&typed).unwrap().bytes(), k.bytes());
    assert!(RecoveryKey::parse(&text[..text.len() - 1]).is_none());
    assert!(RecoveryKey::parse(&format!("{text}A")).is_none());
    assert!(RecoveryKey::parse("U").is_none());
}

#[test]
fn derivation_depends_on_passphrase_salt_and_parameters() {
    let p = KdfParams::TESTING;
    let a = p.derive("geheim", b"0123456789abcdef").unwrap();
    assert_eq!(a, p.derive("geheim", b"0123456789abcdef").unwrap());
    assert_ne!(a, p.derive("Geheim", b"0123456789abcdef").unwrap());
    assert_ne!(a, p.derive("geheim", b"0123456789abcdeX").unwrap());
    let q = KdfParams { t: 2, ..p };
    assert_ne!(a, q.derive("geheim", b"0123456789abcdef").unwrap());
}

#[test]
fn birthday_keys_are_blinded_with_a_key_derived_from_the_data_key() {
    let k = sealed_keys();
    // Known answer (HKDF-SHA-256 of the data key [7; 32] with the label, then HMAC-SHA-256
    // of "MM-DD", 16 bytes, base64 without padding), computed with Python's hmac/hashlib.
    assert_eq!(k.birthday_index_key("02-29"), "lmw8kfYz59Q4EFDHsw/qlg");
    assert_eq!(k.birthday_index_key("12-31"), "q7OZwrKyk+Y2IU724cWKnA");
    let all = k.birthday_blinding().unwrap();
    assert_eq!(all.len(), 366, "every day, 29.02. included");
    let distinct: std::collections::HashSet<&String> = all.values().collect();
    assert_eq!(distinct.len(), 366);
    for (plain, blinded) in all {
        assert_eq!(k.birthday_index_key(plain), blinded.as_str());
        assert_eq!(blinded.len(), 22);
        assert!(!blinded.contains(plain.as_str()));
    }
    // Another data key blinds differently; no birth date stays "".
    let other = Keys::Sealed(Rc::new(Sealer::new(&[8; 32])));
    assert_ne!(
        other.birthday_index_key("02-29"),
        k.birthday_index_key("02-29")
    );
    assert_eq!(k.birthday_index_key(""), "");
    // A plain store keeps "MM-DD".
    assert_eq!(Keys::Plain.birthday_index_key("02-29"), "02-29");
    assert!(Keys::Plain.birthday_blinding().is_none());
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn a_passphrase_change_counts_a_generation_and_another_device_takes_it_keeping_its_key() {
    use crate::storage::memory::MemoryStore;
    use crate::storage::Store;
    use pollster::block_on;

    let raw = |s: &MemoryStore| {
        let origin = Origin::Document(Collection::Meta, KEYRING_KEY.into());
        let stored = block_on(s.get_raw(&origin)).unwrap().unwrap();
        Keyring::read(&stored).unwrap()
    };
    // Two devices of one practice: B joined with A's keyring.
    let a = MemoryStore::new();
    block_on(set_up(&a, "alt", KdfParams::TESTING)).unwrap();
    assert_eq!(raw(&a).gen, 0);
    let b = MemoryStore::new();
    let joined = block_on(adopt(
        &b,
        &keyring_json(&a).unwrap(),
        Secret::Passphrase("alt"),
        Vec::new(),
        |_, _| true,
    ));
    assert_eq!(joined, Ok(true));
    block_on(b.put_docs(
        Collection::Templates,
        &[crate::storage::Doc {
            key: "t".into(),
            value: serde_json::json!({"x": 1}),
        }],
    ))
    .unwrap();

    block_on(change_passphrase(&a, "neu", KdfParams::TESTING)).unwrap();
    block_on(change_passphrase(&a, "neuer", KdfParams::TESTING)).unwrap();
    let newer = raw(&a);
    assert_eq!(newer.gen, 2);

    // B's birthday index mark is its own: kept even when the taken keyring says otherwise.
    let mut taken = newer.clone();
    taken.birthday_index = 0;
    block_on(take_keyring(&b, taken)).unwrap();
    assert_eq!(raw(&b), newer);
    assert_eq!(
        lock_state(&b),
        LockState::Unlocked,
        "the key stays in memory"
    );
    assert!(block_on(b.get_doc(Collection::Templates, "t"))
        .unwrap()
        .is_some());
    lock(&b);
    assert_eq!(
        block_on(unlock(&b, "alt")),
        Err(StoreError::WrongPassphrase)
    );
    block_on(unlock(&b, "neuer")).unwrap();
    assert!(block_on(b.get_doc(Collection::Templates, "t"))
        .unwrap()
        .is_some());

    // Only while unlocked; a refused adoption changes nothing.
    lock(&b);
    assert_eq!(
        block_on(take_keyring(&b, newer.clone())),
        Err(StoreError::Locked)
    );
    let c = MemoryStore::new();
    let refused = block_on(adopt(
        &c,
        &keyring_json(&a).unwrap(),
        Secret::Passphrase("neuer"),
        Vec::new(),
        |_, _| false,
    ));
    assert_eq!(refused, Ok(false));
    assert_eq!(lock_state(&c), LockState::Plain);
}
