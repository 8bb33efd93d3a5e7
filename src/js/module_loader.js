// Imported by wasm-bindgen (`module = "/src/js/module_loader.js"`, used by src/app/lazy.rs).
//
// Imports a lazily loaded wasm-bindgen module (URL relative to the page, so the service
// worker's precache serves it offline) and initialises it, once per URL; a failed load is
// forgotten so it can be tried again.
const loading = new Map();
export function pb_import_module(url) {
  let p = loading.get(url);
  if (!p) {
    p = import(new URL(url, document.baseURI).href).then(async (m) => {
      await m.default();
      return m;
    });
    p.catch(() => loading.delete(url));
    loading.set(url, p);
  }
  return p;
}
