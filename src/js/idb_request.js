// Imported by wasm-bindgen (`module = "/src/js/idb_request.js"`). A file, not inline JS: each
// wasm module built from this crate gets the same snippet path, so their copies never clash.
export function pb_request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
