//! Blinded birthday index keys (issue 17, docs/design/encryption-at-rest.md).
//!
//! A store indexes persons by their birthday key. In a plain store that is "MM-DD"; in an
//! encrypted one it is blinded: `base64(HMAC-SHA-256(index key, "MM-DD")[..16])` (22
//! characters), where the index key is derived from the data key with HKDF-SHA-256 and
//! the label [`INDEX_LABEL`]. Equal birthdays still share a key (that is what makes it an
//! index); without the data key a key says nothing about the day. The index key lives in
//! the [`Sealer`](super::Sealer) of the data key, in memory only, and is never stored.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::{b64, Keys};
use crate::storage::keys::{self, FIRST_DAY, LAST_DAY};

/// HKDF `info` of the index key (a new label means a new index).
const INDEX_LABEL: &[u8] = b"praxisbote birthday index v1";

/// Bytes of the HMAC kept in a blinded key (128 bits; 366 possible values).
const BLIND_LEN: usize = 16;

/// The birthday index key of one data key: blinds "MM-DD" texts.
pub(crate) struct IndexKey {
    mac: Hmac<Sha256>,
    /// "MM-DD" → blinded key for every day of the year, built at first use.
    days: OnceCell<HashMap<String, String>>,
}

impl IndexKey {
    /// The index key derived from `data_key` (HKDF-SHA-256, no salt: the data key is
    /// uniformly random).
    pub(crate) fn derive(data_key: &[u8; 32]) -> IndexKey {
        let mut okm = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, data_key)
            .expand(INDEX_LABEL, &mut okm[..])
            .expect("32 bytes is a valid HKDF-SHA-256 output length");
        IndexKey {
            mac: Hmac::new_from_slice(&okm[..]).expect("HMAC takes keys of any length"),
            days: OnceCell::new(),
        }
    }

    fn blind(&self, plain: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(plain.as_bytes());
        b64(&mac.finalize().into_bytes()[..BLIND_LEN])
    }

    /// "MM-DD" → blinded key, for every day-month (29.02. included).
    pub(crate) fn days(&self) -> &HashMap<String, String> {
        self.days.get_or_init(|| {
            keys::days_of(FIRST_DAY, LAST_DAY)
                .into_iter()
                .map(|d| {
                    let plain = keys::month_day_key(d);
                    let blinded = self.blind(&plain);
                    (plain, blinded)
                })
                .collect()
        })
    }

    /// The blinded key of `plain` ("MM-DD"; any other text is blinded too).
    pub(crate) fn key(&self, plain: &str) -> Cow<'_, str> {
        match self.days().get(plain) {
            Some(k) => Cow::Borrowed(k),
            None => Cow::Owned(self.blind(plain)),
        }
    }
}

impl Drop for IndexKey {
    fn drop(&mut self) {
        if let Some(days) = self.days.get_mut() {
            for (_, blinded) in days.iter_mut() {
                blinded.zeroize();
            }
        }
    }
}

impl Keys {
    /// The birthday index key stored for the day-month key `plain` ("MM-DD", "" = no
    /// birth date): as it is in a plain store, blinded in an encrypted one.
    pub fn birthday_index_key<'a>(&'a self, plain: &'a str) -> Cow<'a, str> {
        match self {
            Keys::Sealed(sealer) if !plain.is_empty() => sealer.index_key().key(plain),
            _ => Cow::Borrowed(plain),
        }
    }

    /// "MM-DD" → blinded key for every day of the year; `None` in a plain store (whose keys
    /// are "MM-DD" themselves).
    pub fn birthday_blinding(&self) -> Option<&HashMap<String, String>> {
        match self {
            Keys::Sealed(sealer) => Some(sealer.index_key().days()),
            Keys::Plain => None,
        }
    }
}
