//! End-to-end tests in headless Chromium against the built app and a running relay.
//! Run by `cargo xtask test` (feature `e2e`), which builds `dist/`, starts the relay and chromedriver.
