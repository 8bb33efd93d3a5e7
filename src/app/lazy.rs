//! Imports a lazily loaded wasm-bindgen module (the template engine).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/module_loader.js")]
extern "C" {
    fn pb_import_module(url: &str) -> js_sys::Promise;
}

/// Imports and initialises the wasm-bindgen module at `url` (once; later calls get the same
/// module). The error is the browser's reason (for the user's "could not be loaded" message).
pub async fn import(url: &str) -> Result<JsValue, String> {
    wasm_bindgen_futures::JsFuture::from(pb_import_module(url))
        .await
        .map_err(|e| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .or_else(|| e.as_string())
                .unwrap_or_default()
        })
}
