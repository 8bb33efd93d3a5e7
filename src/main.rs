//! Thin entry point: mounts the web app.

#[cfg(target_arch = "wasm32")]
fn main() {
    praxisbote::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("praxisbote is a web app; run `cargo xtask start` to build and serve it.");
}
