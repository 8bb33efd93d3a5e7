//! Deterministic crash points for the reliability tests.
//!
//! `PRAXISBOTE_RELAY_CRASH_AT=after_commit|after_claim|after_send[:N]` makes the process
//! abort (like a power cut or `kill -9`: no destructors, no flushing) the N-th time (default
//! the first) it passes that point:
//! - `after_commit`: a batch is committed, the 202 not yet sent;
//! - `after_claim`: rows are `sending` (committed), nothing attempted yet;
//! - `after_send`: an attempt succeeded, its outcome not yet recorded.
//!
//! `PRAXISBOTE_RELAY_CRASH_AT=on_message:CLIENT_ID` aborts every time an attempt of that
//! message starts (a "poison" message).
//!
//! Unset (production) this costs one check of a `OnceLock` per call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

struct Point {
    name: String,
    arg: String,
    seen: AtomicU64,
}

fn configured() -> Option<&'static Point> {
    static P: OnceLock<Option<Point>> = OnceLock::new();
    P.get_or_init(|| {
        let v = std::env::var("PRAXISBOTE_RELAY_CRASH_AT").ok()?;
        let (name, arg) = v.split_once(':').unwrap_or((&v, ""));
        Some(Point {
            name: name.to_owned(),
            arg: arg.to_owned(),
            seen: AtomicU64::new(0),
        })
    })
    .as_ref()
}

fn abort(what: &str) -> ! {
    eprintln!("praxisbote-relay: CRASH_AT {what}");
    std::process::abort();
}

/// Aborts the process if `name` is the configured crash point and its turn has come.
pub fn point(name: &str) {
    let Some(p) = configured() else { return };
    let nth: u64 = p.arg.parse().unwrap_or(1).max(1);
    if p.name == name && p.seen.fetch_add(1, Ordering::SeqCst) + 1 == nth {
        abort(name);
    }
}

/// Aborts the process when an attempt of the configured poison message starts.
pub fn message(client_id: &str) {
    let Some(p) = configured() else { return };
    if p.name == "on_message" && p.arg == client_id {
        abort(client_id);
    }
}
