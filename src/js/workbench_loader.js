// Imported by wasm-bindgen (`module = "/src/js/workbench_loader.js"`). A file, not inline JS: each
// wasm module built from this crate gets the same snippet path, so their copies never clash.
let loading = null;
export function pb_workbench_load(url) {
  if (!loading) {
    loading = import(new URL(url, document.baseURI).href).then(async (m) => {
      await m.default();
      m.start();
      return true;
    });
    loading.catch(() => { loading = null; });
  }
  return loading;
}
