//! Benchmark (issue 7): queue 5,000 rendered e-mails into the IndexedDB outbox (one
//! transaction, as "Senden" does) and transmit them with the app's own loop
//! (`praxisbote::app::send::transmit`) to praxisbote-relay in demo mode; main-thread long tasks
//! (> 50 ms, PerformanceObserver 'longtask') during that time. Prints figures; asserts only
//! that every message arrived in a final state. Ignored by default; `cargo xtask bench send`
//! starts a demo relay and runs it with the relay's URL in `PB_BENCH_RELAY` (compile time).
#![cfg(target_arch = "wasm32")]

use praxisbote::domain::outbox::{queue_batch, Batch, ConsentBasis, Content, QueueItem};
use praxisbote::domain::{Channel, PersonId, Purpose};
use praxisbote::storage::idb::IdbStore;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
let longtasks = [];
let observer = null;
export function pb_longtasks_start() {
  longtasks = [];
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longtasks.push(e.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
}
export function pb_longtasks_stop() {
  if (observer) { for (const e of observer.takeRecords()) longtasks.push(e.duration); observer.disconnect(); }
  return Float64Array.from(longtasks);
}
"#)]
extern "C" {
    fn pb_longtasks_start();
    fn pb_longtasks_stop() -> Vec<f64>;
}

const N: usize = 5000;

#[wasm_bindgen_test]
#[ignore]
async fn bench_queue_and_transmit_5000_emails() {
    let Some(relay) = option_env!("PB_BENCH_RELAY") else {
        panic!("PB_BENCH_RELAY is not set: run `cargo xtask bench send`");
    };
    let at = chrono::Local::now().naive_local();
    let batch = Batch {
        claim: None,
        id: uuid::Uuid::new_v4().to_string(),
        created_at: at,
        channel: Channel::Email,
        purpose: Purpose::AppointmentReminder,
        template_name: "Terminerinnerung".into(),
        template_version: 1,
        paused: false,
        files: Vec::new(),
    };
    let items = (0..N)
        .map(|i| QueueItem {
            id: uuid::Uuid::new_v4().to_string(),
            person_id: PersonId(format!("p{i}")),
            appointment_id: None,
            recipient_name: format!("Erika Mustermann {i}"),
            address: format!("erika{i}@example.org"),
            content: Content {
                subject: Some("Ihr Termin morgen um 09:30 Uhr".into()),
                text: format!(
                    "Sehr geehrte Frau Mustermann {i},\n\nwir erinnern Sie an Ihren Termin \
                     morgen, 27.11.2026, um 09:30 Uhr in der Praxis Dr. Müller.\n\nBitte sagen \
                     Sie ab, falls Sie verhindert sind: 030 1234567.\n\nMit freundlichen Grüßen\n\
                     Ihr Praxisteam"
                ),
                html: None,
                calendar: None,
            },
            consent: ConsentBasis::Override {
                reason: "Benchmark".into(),
                at,
            },
        })
        .collect();
    let messages = queue_batch(&batch, items).unwrap();
    let store = IdbStore::open(&format!("pb-bench-send-{}", uuid::Uuid::new_v4()))
        .await
        .unwrap();
    pb_longtasks_start();
    let f = praxisbote::app::send::transmit::bench(Rc::new(store), relay, batch, messages)
        .await
        .unwrap();
    let long = pb_longtasks_stop();
    let over100 = long.iter().filter(|d| **d > 100.0).count();
    let max = long.iter().cloned().fold(0.0, f64::max);
    let line = format!(
        "bench_send: {N} e-mails, relay demo mode at {relay}\n  \
         queued (queue_batch + one IndexedDB transaction): {:.0} ms  (goal ≤ 1000 ms)\n  \
         all transmitted (relay answered 202 for every message): {:.0} ms  (goal ≤ 10000 ms)\n  \
         all final (relay reported sent): {:.0} ms\n  \
         long tasks > 50 ms: {}, of them > 100 ms: {over100}, longest {max:.0} ms  (goal: none > 100 ms)",
        f.queued_ms,
        f.transmitted_ms,
        f.final_ms,
        long.len()
    );
    web_sys::console::log_1(&line.clone().into());
    wasm_bindgen_test::console_log!("{line}");
}
