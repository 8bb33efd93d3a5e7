// Imported by wasm-bindgen (`module = "/src/js/web_seal.js"`, used by
// src/storage/crypto/web.rs). A file, not inline JS: each wasm module built from this crate
// gets the same snippet path, so their copies never clash.
//
// AES-256-GCM through WebCrypto, in exactly the form the RustCrypto path writes
// (`Sealer::seal` in src/storage/crypto/mod.rs): "aesgcm1:" + base64 (standard alphabet, no
// padding) of nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes), with the record's
// associated data. Used to seal many records BEFORE an IndexedDB write transaction opens
// (a transaction cannot wait for WebCrypto; docs/design/encryption-at-rest.md).
const PREFIX = "aesgcm1:";

// The data key as a non-extractable AES-GCM CryptoKey (encrypt only), or null when
// WebCrypto is not available here (not a secure context, old browser): then the caller
// seals with RustCrypto. `raw` may be a view into wasm memory: importKey copies it at once.
export function pb_gcm_import(raw) {
  try {
    const subtle = globalThis.crypto && globalThis.crypto.subtle;
    if (!subtle) return Promise.resolve(null);
    return subtle
      .importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt"])
      .catch(() => null);
  } catch (e) {
    return Promise.resolve(null);
  }
}

function b64(bytes) {
  if (bytes.toBase64) return bytes.toBase64({ omitPadding: true });
  let bin = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  }
  return btoa(bin).replace(/=+$/, "");
}

// Seals n records: record i has the body plain[ends[i-1]..ends[i]] and the associated data
// ad[adEnds[i-1]..adEnds[i]] (UTF-8 bytes; the arrays may be views into wasm memory, so they
// are only read before this function returns — encrypt copies its inputs). All n encryptions
// are in flight at once, each with a fresh random nonce. Resolves when out[base + i] holds
// the sealed body of record i (a string).
export function pb_gcm_seal(key, out, base, plain, ends, ad, adEnds) {
  const n = ends.length;
  const ivs = new Uint8Array(12 * n);
  // getRandomValues fills at most 65,536 bytes a call.
  for (let o = 0; o < ivs.length; o += 65536) {
    crypto.getRandomValues(ivs.subarray(o, Math.min(o + 65536, ivs.length)));
  }
  const pending = new Array(n);
  // One algorithm object for all: encrypt reads (copies) iv and additionalData at the call.
  const alg = { name: "AES-GCM", iv: null, additionalData: null };
  let p0 = 0;
  let a0 = 0;
  for (let i = 0; i < n; i++) {
    alg.iv = ivs.subarray(12 * i, 12 * i + 12);
    alg.additionalData = ad.subarray(a0, adEnds[i]);
    pending[i] = crypto.subtle.encrypt(alg, key, plain.subarray(p0, ends[i]));
    p0 = ends[i];
    a0 = adEnds[i];
  }
  return Promise.all(pending).then((cts) => {
    for (let i = 0; i < n; i++) {
      // 12 nonce bytes are exactly 16 base64 characters, so base64(nonce) + base64(ct ‖ tag)
      // is base64(nonce ‖ ct ‖ tag).
      out[base + i] = PREFIX + b64(ivs.subarray(12 * i, 12 * i + 12)) + b64(new Uint8Array(cts[i]));
    }
  });
}
