//! The data key also as a WebCrypto `CryptoKey`, for sealing many records at once BEFORE an
//! IndexedDB write transaction opens (docs/design/encryption-at-rest.md, "Two AES-GCM
//! implementations, one format").
//!
//! - [`WebKey`]: when the vault opens ([`Sealer::with_web`](super::Sealer::with_web): set-up,
//!   unlock, passphrase change) the raw data key is imported once as a non-extractable AES-GCM
//!   key (encrypt only). It lives only in memory, inside the [`Sealer`] of
//!   [`Keys::Sealed`]; it is dropped with it when the vault locks. Natively (and where
//!   WebCrypto is missing) there is none and everything is sealed with RustCrypto.
//! - [`BulkSealer`] seals many records with `crypto.subtle.encrypt` (`src/js/web_seal.js`):
//!   chunks of [`CHUNK`] encryptions in flight at once, at most two chunks outstanding, so
//!   the browser encrypts one chunk while the next is encoded. The sealed bodies stay in a JS
//!   array ([`SealedBodies`]) and are put into the rows from there.
//! - The output is byte for byte the format of [`Sealer::seal`](super::Sealer) (nonce ‖
//!   ciphertext ‖ tag, base64 without padding, `aesgcm1:` prefix, the same associated data),
//!   so [`Keys::open`](super::Keys::open) (RustCrypto) opens it; tested in `tests/web_seal.rs`.

#[cfg(target_arch = "wasm32")]
pub(super) use imp::WebKey;
#[cfg(target_arch = "wasm32")]
pub use imp::{web_sealed_count, BulkSealer, SealedBodies, CHUNK};

#[cfg(not(target_arch = "wasm32"))]
pub(super) use native::WebKey;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    /// No WebCrypto outside the browser.
    pub struct WebKey;

    impl WebKey {
        pub fn none() -> WebKey {
            WebKey
        }

        pub fn import(_key: &[u8; 32]) -> WebKey {
            WebKey
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use std::cell::Cell;
    use std::rc::Rc;

    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    use super::super::{associated_data, Keys, Sealer};
    use crate::storage::records::{Origin, Stored};
    use crate::storage::{Result, StoreError};

    #[wasm_bindgen(module = "/src/js/web_seal.js")]
    extern "C" {
        fn pb_gcm_import(raw: &[u8]) -> js_sys::Promise;
        fn pb_gcm_seal(
            key: &JsValue,
            out: &js_sys::Array,
            base: u32,
            plain: &[u8],
            ends: &[u32],
            ad: &[u8],
            ad_ends: &[u32],
        ) -> js_sys::Promise;
    }

    /// Encryptions handed to WebCrypto at once.
    pub const CHUNK: usize = 1_000;

    thread_local! {
        static WEB_SEALED: Cell<u64> = const { Cell::new(0) };
    }

    /// How many records this page has sealed with WebCrypto (tests: a bulk write must not
    /// silently fall back to RustCrypto).
    #[doc(hidden)]
    pub fn web_sealed_count() -> u64 {
        WEB_SEALED.with(Cell::get)
    }

    /// The import of the data key into WebCrypto, started when the vault opens: resolves to
    /// the `CryptoKey`, or to null when WebCrypto is not available.
    pub struct WebKey(Option<js_sys::Promise>);

    impl WebKey {
        /// No WebCrypto key (key-encryption keys, tests): RustCrypto only.
        pub fn none() -> WebKey {
            WebKey(None)
        }

        pub fn import(key: &[u8; 32]) -> WebKey {
            // `&[u8]` is passed as a view into wasm memory; importKey copies it at once.
            WebKey(Some(pb_gcm_import(&key[..])))
        }

        async fn key(&self) -> Option<JsValue> {
            let key = JsFuture::from(self.0.clone()?).await.ok()?;
            (!key.is_null() && !key.is_undefined()).then_some(key)
        }
    }

    fn crypto_error(e: JsValue) -> StoreError {
        StoreError::Crypto(format!("WebCrypto: {e:?}"))
    }

    /// Seals many records with WebCrypto (module docs). Get one from [`Keys::bulk_sealer`],
    /// [`push`](BulkSealer::push) the records, then [`finish`](BulkSealer::finish).
    pub struct BulkSealer {
        key: JsValue,
        sealer: Rc<Sealer>,
        out: js_sys::Array,
        /// Records pushed so far.
        n: u32,
        /// The chunk being built: bodies and associated data, concatenated, with end offsets.
        plain: Vec<u8>,
        ends: Vec<u32>,
        ad: Vec<u8>,
        ad_ends: Vec<u32>,
        /// One body at a time (`write_into` re-validates the whole string it appends to, so
        /// appending to the chunk directly would be quadratic).
        scratch: String,
        in_flight: Option<js_sys::Promise>,
    }

    impl Keys {
        /// A [`BulkSealer`] when these keys can seal with WebCrypto; `None` for plain keys, or
        /// when WebCrypto is not available (then [`Keys::seal`] does it).
        pub async fn bulk_sealer(&self) -> Option<BulkSealer> {
            let Keys::Sealed(sealer) = self else {
                return None;
            };
            let key = sealer.web.key().await?;
            Some(BulkSealer {
                key,
                sealer: sealer.clone(),
                out: js_sys::Array::new(),
                n: 0,
                plain: Vec::new(),
                ends: Vec::with_capacity(CHUNK),
                ad: Vec::new(),
                ad_ends: Vec::with_capacity(CHUNK),
                scratch: String::new(),
                in_flight: None,
            })
        }

        /// Seals `records` with WebCrypto, in the form [`Keys::seal`] writes; `None` when
        /// these keys cannot (see [`Keys::bulk_sealer`]). The keyring is never among them.
        pub async fn seal_many(&self, records: &[(Origin, Stored)]) -> Result<Option<Vec<Stored>>> {
            let Some(mut bulk) = self.bulk_sealer().await else {
                return Ok(None);
            };
            for (origin, s) in records {
                bulk.push(origin, s.v, |out| {
                    out.push_str(&s.body);
                    Ok(())
                })
                .await?;
            }
            let sealed = bulk.finish().await?;
            Ok(Some(
                records
                    .iter()
                    .enumerate()
                    .map(|(i, (_, s))| Stored {
                        v: s.v,
                        body: sealed
                            .bodies()
                            .get(i as u32)
                            .as_string()
                            .unwrap_or_default(),
                    })
                    .collect(),
            ))
        }
    }

    impl BulkSealer {
        /// Adds the record at `origin` with version `v`, whose body `write` appends to the
        /// string it is given (and leaves it unchanged on error). Returns the index of its
        /// sealed body in [`SealedBodies::bodies`].
        pub async fn push(
            &mut self,
            origin: &Origin,
            v: u32,
            write: impl FnOnce(&mut String) -> Result<()>,
        ) -> Result<u32> {
            self.scratch.clear();
            write(&mut self.scratch)?;
            self.plain.extend_from_slice(self.scratch.as_bytes());
            self.ends.push(self.plain.len() as u32);
            self.ad.extend_from_slice(&associated_data(origin, v));
            self.ad_ends.push(self.ad.len() as u32);
            let index = self.n;
            self.n += 1;
            if self.ends.len() >= CHUNK {
                self.issue().await?;
            }
            Ok(index)
        }

        /// Hands the chunk built so far to WebCrypto, then waits for the chunk before it (so
        /// the browser encrypts this one while the caller encodes the next).
        async fn issue(&mut self) -> Result<()> {
            if self.ends.is_empty() {
                return Ok(());
            }
            let base = self.n - self.ends.len() as u32;
            // The slices are views into wasm memory, read only during this call.
            let sealing = pb_gcm_seal(
                &self.key,
                &self.out,
                base,
                &self.plain,
                &self.ends,
                &self.ad,
                &self.ad_ends,
            );
            self.plain.clear();
            self.ends.clear();
            self.ad.clear();
            self.ad_ends.clear();
            if let Some(before) = self.in_flight.replace(sealing) {
                JsFuture::from(before).await.map_err(crypto_error)?;
            }
            Ok(())
        }

        /// Seals what is left and waits for every record.
        pub async fn finish(mut self) -> Result<SealedBodies> {
            self.issue().await?;
            if let Some(last) = self.in_flight.take() {
                JsFuture::from(last).await.map_err(crypto_error)?;
            }
            WEB_SEALED.with(|c| c.set(c.get() + u64::from(self.n)));
            Ok(SealedBodies {
                sealer: self.sealer,
                bodies: self.out,
            })
        }
    }

    /// Sealed bodies made by a [`BulkSealer`], in the order pushed (JS strings).
    pub struct SealedBodies {
        sealer: Rc<Sealer>,
        bodies: js_sys::Array,
    }

    impl SealedBodies {
        /// Whether they were sealed with the key of `k` (the vault may have been locked and
        /// opened again in the meantime: then the caller seals anew).
        pub fn sealed_with(&self, k: &Keys) -> bool {
            matches!(k, Keys::Sealed(s) if Rc::ptr_eq(s, &self.sealer))
        }

        pub fn bodies(&self) -> &js_sys::Array {
            &self.bodies
        }
    }
}
