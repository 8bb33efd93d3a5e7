//! The browser side of sending: an in-memory copy of the outbox (loaded at boot), the
//! transmit loop (persist `begin_submit` → POST → persist answers → poll), and the actions of
//! the send panel and the log page (queue, pause, resume, cancel, retry, opt-outs).
//!
//! Every change is written to IndexedDB (through `repo::outbox`) before the next network
//! step, so a reload resumes from the store with nothing lost and, because the message id is
//! the relay's idempotency key, nothing sent twice.

use crate::app::repo;
use crate::app::send::relay_client::{self as relay, RelayConfig, RelayError};
use crate::app::state::AppState;
use crate::domain::outbox::{
    self, apply_reports, cancel_batch, retry_failed, Batch, MessageState, OptOutNotice,
    OptOutScope, OutboxMessage, StateKind,
};
use crate::i18n::{t, tf};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// Messages per POST (the relay takes up to `wire::MAX_BATCH`); smaller chunks keep each
/// step short on the main thread and make progress visible.
pub const CHUNK: usize = 250;

/// What the transmit loop is doing, for the UI.
#[derive(Clone, Debug, PartialEq)]
pub enum Link {
    /// Nothing to do.
    Idle,
    Working,
    /// The relay does not answer; the loop retries by itself.
    Waiting(String),
    /// The relay answers with an error that needs the user (token, configuration).
    Error(String),
}

impl Link {
    pub fn label_de(&self) -> String {
        match self {
            Link::Idle => t("transmit.idle").into(),
            Link::Working => t("transmit.working").into(),
            Link::Waiting(e) => tf("transmit.waiting", &[("error", &e)]),
            Link::Error(e) => tf("transmit.stopped", &[("error", &e)]),
        }
    }
}

/// Signals of the sending machinery (created once in [`start`]).
#[derive(Clone, Copy)]
pub struct Ctl {
    /// Bumped after every change of the outbox copy.
    pub rev: RwSignal<u64>,
    pub link: RwSignal<Link>,
    /// True once the outbox has been read from the store.
    pub ready: RwSignal<bool>,
}

#[derive(Default)]
struct Outbox {
    batches: Vec<Batch>,
    messages: Vec<OutboxMessage>,
}

thread_local! {
    static OUTBOX: RefCell<Outbox> = RefCell::new(Outbox::default());
    static CTL: Cell<Option<Ctl>> = const { Cell::new(None) };
    static CONFIG: RefCell<RelayConfig> = RefCell::new(RelayConfig::default());
    static WAKE: Cell<bool> = const { Cell::new(false) };
    static CANCEL: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

pub fn ctl() -> Ctl {
    CTL.with(Cell::get).expect("transmit::start ran")
}

fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

fn bump() {
    let c = ctl();
    c.rev.update(|r| *r += 1);
}

fn wake() {
    WAKE.with(|w| w.set(true));
}

pub fn config() -> RelayConfig {
    CONFIG.with(|c| c.borrow().clone())
}

pub async fn set_config(cfg: RelayConfig) -> Result<(), String> {
    repo::outbox::save_relay_config(&cfg).await?;
    CONFIG.with(|c| *c.borrow_mut() = cfg);
    wake();
    Ok(())
}

/// Read access to the outbox copy.
pub fn with<R>(f: impl FnOnce(&[Batch], &[OutboxMessage]) -> R) -> R {
    OUTBOX.with(|o| {
        let o = o.borrow();
        f(&o.batches, &o.messages)
    })
}

fn with_mut<R>(f: impl FnOnce(&mut Outbox) -> R) -> R {
    OUTBOX.with(|o| f(&mut o.borrow_mut()))
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// Sleeps up to `ms`, returning early when something woke the loop.
async fn nap(ms: i32) {
    let mut left = ms;
    while left > 0 {
        if WAKE.with(|w| w.replace(false)) {
            return;
        }
        sleep(left.min(100)).await;
        left -= 100;
    }
}

/// Creates the signals, loads the outbox and the relay settings and starts the loop.
/// Called once by the app after the store is open.
pub fn start(state: AppState) {
    let c = Ctl {
        rev: RwSignal::new(0),
        link: RwSignal::new(Link::Idle),
        ready: RwSignal::new(false),
    };
    CTL.with(|x| x.set(Some(c)));
    leptos::task::spawn_local(async move {
        // Wait for boot to open the store.
        while !state.loaded.get_untracked() {
            if state.error.get_untracked().is_some() {
                sleep(500).await;
            } else {
                sleep(50).await;
            }
        }
        match repo::outbox::load().await {
            Ok((batches, messages)) => with_mut(|o| {
                o.batches = batches;
                o.messages = messages;
            }),
            Err(e) => state
                .error
                .set(Some(tf("transmit.outbox_unreadable", &[("error", &e)]))),
        }
        if let Ok(cfg) = repo::outbox::relay_config().await {
            CONFIG.with(|c| *c.borrow_mut() = cfg);
        }
        c.ready.set(true);
        bump();
        run().await;
    });
}

/// Adds documents another part of the app wrote into the store (e.g. printed letters) to
/// the copy; what the copy already has is kept (the loop owns those).
pub async fn refresh_from_store() -> Result<(), String> {
    let (batches, messages) = repo::outbox::load().await?;
    with_mut(|o| {
        let known_b: std::collections::HashSet<String> =
            o.batches.iter().map(|b| b.id.clone()).collect();
        let known_m: std::collections::HashSet<String> =
            o.messages.iter().map(|m| m.id.clone()).collect();
        o.batches
            .extend(batches.into_iter().filter(|b| !known_b.contains(&b.id)));
        o.messages
            .extend(messages.into_iter().filter(|m| !known_m.contains(&m.id)));
    });
    bump();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Actions

/// Writes a new batch with all its messages in one transaction, then wakes the loop.
pub async fn queue(batch: Batch, messages: Vec<OutboxMessage>) -> Result<(), String> {
    repo::outbox::queue(&batch, &messages).await?;
    with_mut(|o| {
        o.batches.push(batch);
        o.messages.extend(messages);
    });
    bump();
    wake();
    Ok(())
}

async fn set_paused(batch_id: &str, paused: bool) -> Result<(), String> {
    let Some(mut b) = with(|bs, _| bs.iter().find(|b| b.id == batch_id).cloned()) else {
        return Err(t("transmit.batch_not_found").into());
    };
    b.paused = paused;
    repo::outbox::put(Some(&b), &[]).await?;
    with_mut(|o| {
        if let Some(x) = o.batches.iter_mut().find(|x| x.id == batch_id) {
            x.paused = paused;
        }
    });
    bump();
    wake();
    Ok(())
}

pub async fn pause(batch_id: &str) -> Result<(), String> {
    set_paused(batch_id, true).await
}

pub async fn resume(batch_id: &str) -> Result<(), String> {
    CANCEL.with(|c| c.borrow_mut().retain(|x| x != batch_id));
    set_paused(batch_id, false).await
}

/// Stops what has not been transmitted. Messages that may already be at the relay are
/// asked about first (the batch stays paused) and cancelled when the relay does not know
/// them. Returns (cancelled now, still being checked).
pub async fn cancel(batch_id: &str) -> Result<(usize, usize), String> {
    set_paused(batch_id, true).await?;
    CANCEL.with(|c| {
        let mut c = c.borrow_mut();
        if !c.iter().any(|x| x == batch_id) {
            c.push(batch_id.to_string());
        }
    });
    let (n, open) = cancel_now(batch_id).await?;
    Ok((n, open))
}

async fn cancel_now(batch_id: &str) -> Result<(usize, usize), String> {
    let at = now();
    let (changed, open) = with_mut(|o| {
        let (done, uncertain) = cancel_batch(&mut o.messages, batch_id, at);
        let changed: Vec<OutboxMessage> = o
            .messages
            .iter()
            .filter(|m| done.contains(&m.id))
            .cloned()
            .collect();
        (changed, uncertain.len())
    });
    repo::outbox::put(None, &changed).await?;
    if open == 0 {
        CANCEL.with(|c| c.borrow_mut().retain(|x| x != batch_id));
    }
    bump();
    Ok((changed.len(), open))
}

/// "nur Fehlgeschlagene erneut senden": new queued messages for the failed ones of a batch.
/// Returns (re-sent, skipped with reasons).
pub async fn retry(
    state: AppState,
    batch_id: &str,
) -> Result<(usize, Vec<(String, String)>), String> {
    let persons = state.persons.get_untracked();
    let by_id: HashMap<_, _> = persons
        .iter()
        .map(|r| (r.person.id.clone(), &r.person))
        .collect();
    let mut messages = with(|_, ms| {
        ms.iter()
            .filter(|m| m.batch_id == batch_id)
            .cloned()
            .collect::<Vec<_>>()
    });
    let out = retry_failed(&mut messages, batch_id, |id| by_id.get(id).copied(), now());
    let linked: Vec<OutboxMessage> = messages
        .into_iter()
        .filter(|m| m.kind() == StateKind::Failed && m.retried_as.is_some())
        .collect();
    let mut write = linked.clone();
    write.extend(out.new_messages.iter().cloned());
    let batch = with(|bs, _| bs.iter().find(|b| b.id == batch_id).cloned()).map(|mut b| {
        b.paused = false;
        b
    });
    repo::outbox::put(batch.as_ref(), &write).await?;
    let n = out.new_messages.len();
    with_mut(|o| {
        for l in linked {
            if let Some(m) = o.messages.iter_mut().find(|m| m.id == l.id) {
                *m = l;
            }
        }
        o.messages.extend(out.new_messages);
        if let Some(b) = batch {
            if let Some(x) = o.batches.iter_mut().find(|x| x.id == b.id) {
                *x = b;
            }
        }
    });
    bump();
    wake();
    Ok((n, out.skipped))
}

/// Fetches opt-outs from the relay and withdraws the consents (source "Abmeldelink").
/// Returns how many persons changed.
pub async fn fetch_optouts(state: AppState) -> Result<usize, String> {
    let mut cfg = config();
    let resp = relay::optouts(&cfg, cfg.optouts_after, cfg.optouts_since.as_deref())
        .await
        .map_err(|e| e.message_de())?;
    let Some(newest) = resp.optouts.iter().map(|o| o.at).max() else {
        return Ok(0);
    };
    let notices: Vec<OptOutNotice> = resp
        .optouts
        .iter()
        .map(|o| OptOutNotice {
            person_id: o.person_id.clone(),
            channel: o.channel,
            scope: OptOutScope::Purpose(o.purpose),
            at: relay::local(o.at),
        })
        .collect();
    let mut records = state.persons.get_untracked();
    let mut persons: Vec<_> = records.iter().map(|r| r.person.clone()).collect();
    let changed = outbox::apply_opt_outs(&mut persons, &notices);
    let mut out = Vec::new();
    for (r, p) in records.iter_mut().zip(persons) {
        if changed.contains(&p.id) {
            r.person = p;
            out.push(r.clone());
        }
    }
    let n = out.len();
    repo::outbox::save_persons(state, out).await?;
    cfg.optouts_since = Some(newest.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    // A relay that reports sequence numbers (seq > 0) is asked by sequence from now on.
    cfg.optouts_after = resp
        .optouts
        .iter()
        .map(|o| o.seq)
        .max()
        .filter(|s| *s > 0)
        .or(cfg.optouts_after);
    set_config(cfg).await?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// The loop

async fn run() {
    let c = ctl();
    let mut backoff = 500;
    loop {
        let plan = with(|b, m| outbox::plan(b, m, CHUNK));
        if plan.is_idle() {
            if c.link.get_untracked() != Link::Idle {
                c.link.set(Link::Idle);
            }
            nap(2000).await;
            continue;
        }
        let cfg = config();
        let step = if let Some(chunk) = plan.transmit.first() {
            transmit(&cfg, chunk).await
        } else {
            poll(&cfg, &plan.poll).await
        };
        match step {
            Ok(moved) => {
                backoff = 500;
                if c.link.get_untracked() != Link::Working {
                    c.link.set(Link::Working);
                }
                if !moved {
                    nap(400).await;
                }
            }
            Err(RelayError::Unreachable(e)) => {
                c.link.set(Link::Waiting(e));
                nap(backoff).await;
                backoff = (backoff * 2).min(4000);
            }
            Err(e) => {
                c.link.set(Link::Error(e.message_de()));
                nap(3000).await;
            }
        }
    }
}

/// Persists `begin_submit`, POSTs the chunk and persists the answer. Ok(true) = progress.
async fn transmit(cfg: &RelayConfig, ids: &[String]) -> Result<bool, RelayError> {
    let want: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    let begun: Vec<OutboxMessage> = with_mut(|o| {
        o.messages
            .iter_mut()
            .filter(|m| want.contains(m.id.as_str()))
            .filter_map(|m| m.begin_submit().then(|| m.clone()))
            .collect()
    });
    if begun.is_empty() {
        return Ok(false);
    }
    if let Err(e) = repo::outbox::put(None, &begun).await {
        return Err(RelayError::Protocol(tf(
            "transmit.save_failed",
            &[("error", &e)],
        )));
    }
    let wire: Vec<_> = begun
        .iter()
        .map(|m| relay::outgoing(m, cfg.sender_for(m.channel)))
        .collect();
    drop(begun);
    match relay::submit(cfg, wire).await {
        Ok(resp) => {
            let reports: Vec<_> = resp.messages.iter().map(relay::report).collect();
            apply(&reports, &[]).await?;
            Ok(true)
        }
        Err(RelayError::Api { status, error }) if error.client_id.is_some() && status < 500 => {
            // The relay refused one message (nothing of the chunk was queued): it fails,
            // the others are transmitted again in the next step.
            let id = error.client_id.clone().unwrap_or_default();
            let at = now();
            let changed = with_mut(|o| {
                o.messages.iter_mut().find(|m| m.id == id).and_then(|m| {
                    m.transition(
                        MessageState::Failed {
                            reason: error.message.clone(),
                        },
                        at,
                    )
                    .ok()
                    .map(|_| m.clone())
                })
            });
            let changed: Vec<_> = changed.into_iter().collect();
            repo::outbox::put(None, &changed)
                .await
                .map_err(RelayError::Protocol)?;
            bump();
            Ok(true)
        }
        Err(RelayError::Api { status: 409, .. }) => Ok(false),
        Err(e) => {
            bump();
            Err(e)
        }
    }
}

/// Asks the relay about transmitted and unconfirmed messages.
async fn poll(cfg: &RelayConfig, chunks: &[Vec<String>]) -> Result<bool, RelayError> {
    let mut moved = false;
    for ids in chunks {
        let resp = relay::status(cfg, ids).await?;
        let reports: Vec<_> = resp.messages.iter().map(relay::report).collect();
        moved |= apply(&reports, &resp.unknown).await?;
    }
    // Cancels waiting for a poll.
    let pending: Vec<String> = CANCEL.with(|c| c.borrow().clone());
    for b in pending {
        let _ = cancel_now(&b).await;
    }
    Ok(moved)
}

/// Applies reports and "unknown" ids to the copy and persists what changed.
async fn apply(reports: &[outbox::RelayReport], unknown: &[String]) -> Result<bool, RelayError> {
    let at = now();
    let changed: Vec<OutboxMessage> = with_mut(|o| {
        let summary = apply_reports(&mut o.messages, reports);
        let mut ids: std::collections::HashSet<String> = summary.changed.into_iter().collect();
        if !unknown.is_empty() {
            let unk: std::collections::HashSet<&str> = unknown.iter().map(String::as_str).collect();
            for m in o.messages.iter_mut() {
                if unk.contains(m.id.as_str()) && m.relay_unknown(at) {
                    ids.insert(m.id.clone());
                }
            }
        }
        o.messages
            .iter()
            .filter(|m| ids.contains(&m.id))
            .cloned()
            .collect()
    });
    if changed.is_empty() {
        return Ok(false);
    }
    repo::outbox::put(None, &changed)
        .await
        .map_err(RelayError::Protocol)?;
    bump();
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Benchmark hook

/// Figures of [`bench`], in milliseconds from the start of the queue write.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct BenchFigures {
    pub queued_ms: f64,
    pub transmitted_ms: f64,
    pub final_ms: f64,
}

/// Used by `tests/bench_send.rs`: queues `messages` (one transaction, like "Senden") into
/// `store`, runs the loop against the relay at `relay_url` and measures until every message
/// is transmitted and until every message is final.
#[doc(hidden)]
pub async fn bench(
    store: std::rc::Rc<dyn crate::storage::Store>,
    relay_url: &str,
    batch: Batch,
    messages: Vec<OutboxMessage>,
) -> Result<BenchFigures, String> {
    repo::install_store(store);
    CTL.with(|x| {
        x.set(Some(Ctl {
            rev: RwSignal::new(0),
            link: RwSignal::new(Link::Idle),
            ready: RwSignal::new(true),
        }))
    });
    CONFIG.with(|c| {
        *c.borrow_mut() = RelayConfig {
            url: relay_url.to_string(),
            ..Default::default()
        }
    });
    let perf = web_sys::window()
        .and_then(|w| w.performance())
        .ok_or("no performance")?;
    let t0 = perf.now();
    queue(batch, messages).await?;
    let queued_ms = perf.now() - t0;
    wasm_bindgen_futures::spawn_local(run());
    let mut transmitted_ms = None;
    loop {
        let (open, untransmitted) = with(|_, ms| {
            (
                ms.iter().filter(|m| !m.kind().is_final()).count(),
                ms.iter().filter(|m| m.kind() == StateKind::Queued).count(),
            )
        });
        if untransmitted == 0 && transmitted_ms.is_none() {
            transmitted_ms = Some(perf.now() - t0);
        }
        if open == 0 {
            break;
        }
        if perf.now() - t0 > 300_000.0 {
            return Err(format!(
                "not done after 300 s: {:?}",
                ctl().link.get_untracked()
            ));
        }
        sleep(20).await;
    }
    Ok(BenchFigures {
        queued_ms,
        transmitted_ms: transmitted_ms.unwrap_or_default(),
        final_ms: perf.now() - t0,
    })
}
