//! The workbench module: a thin entry point. All code lives in the `praxisbote` library
//! (`app::start_workbench`); this crate only makes it a wasm of its own, so the shell's main
//! bundle does not carry it. The shell imports it on first use (`src/app/workbench.rs`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

/// Mounts the workbench into the shell's `#werkbank` element.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn start() {
    praxisbote::app::start_workbench();
}
