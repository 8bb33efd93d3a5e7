//! Imports a lazily loaded wasm-bindgen module (the template engine).

use crate::app::error::AppError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/module_loader.js")]
extern "C" {
    fn pb_import_module(url: &str) -> js_sys::Promise;
}

/// Imports and initialises the wasm-bindgen module at `url` (once; later calls get the same
/// module). The error ("could not be loaded") carries the browser's reason.
pub async fn import(url: &str) -> Result<JsValue, AppError> {
    wasm_bindgen_futures::JsFuture::from(pb_import_module(url))
        .await
        .map_err(|e| {
            let detail = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .or_else(|| e.as_string())
                .unwrap_or_default();
            AppError::msg("engine.load_failed", [("detail", detail)])
        })
}
