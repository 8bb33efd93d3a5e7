//! Deterministic crash points for the reliability tests.
//!
//! `PRAXISBOTE_RELAY_CRASH_AT=after_commit|after_claim|after_send[:N]` makes the process
//! abort (like a power cut or `kill -9`: no destructors, no flushing) the N-th time (default
//! the first) it passes that point:
//! - `after_commit`: a batch is committed, the 202 not yet sent;
//! - `after_claim`: rows are `sending` (committed), nothing attempted yet;
//! - `after_send`: an attempt succeeded, its outcome not yet recorded.
//!
//! Unset (production) this costs one relaxed atomic load per call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

struct Point {
    name: String,
    nth: u64,
    seen: AtomicU64,
}

fn configured() -> Option<&'static Point> {
    static P: OnceLock<Option<Point>> = OnceLock::new();
    P.get_or_init(|| {
        let v = std::env::var("PRAXISBOTE_RELAY_CRASH_AT").ok()?;
        let (name, nth) = match v.split_once(':') {
            Some((n, k)) => (n.to_owned(), k.parse().unwrap_or(1)),
            None => (v, 1),
        };
        Some(Point {
            name,
            nth: nth.max(1),
            seen: AtomicU64::new(0),
        })
    })
    .as_ref()
}

/// Aborts the process if `name` is the configured crash point and its turn has come.
pub fn point(name: &str) {
    let Some(p) = configured() else { return };
    if p.name == name && p.seen.fetch_add(1, Ordering::SeqCst) + 1 == p.nth {
        eprintln!("praxisbote-relay: CRASH_AT {name}");
        std::process::abort();
    }
}
