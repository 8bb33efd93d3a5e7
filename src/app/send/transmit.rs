//! The browser side of sending: the transmit loop (persist `begin_submit` → POST → persist
//! answers → poll) and the actions of the send panel and the log page (queue, pause, resume,
//! cancel, retry, opt-outs).
//!
//! The loop keeps no outbox data of its own: each step reads the outbox fresh from the store
//! under the outbox lock (`repo::outbox::update`), and every change is written before the
//! next network step, so a reload resumes from the store with nothing lost and, because the
//! message id is the relay's idempotency key, nothing sent twice. A restore or "Demodaten
//! entfernen" holds the same lock, so the loop never writes back what it read before.
//!
//! One tab of the browser runs the loop: the one holding [`sync::TRANSMIT_LOCK`]. The other
//! tabs wait for that lock (and take over when the sending tab goes away); meanwhile they
//! show the progress from the store and the sending tab's announced [`Link`].

use crate::app::error::AppError;
use crate::app::repo::{self, outbox::Touched};
use crate::app::send::relay_client::{self as relay, RelayConfig, RelayError};
use crate::app::state::AppState;
use crate::app::sync::{self, Change};
use crate::domain::outbox::{
    self, apply_reports, cancel_batch, retry_failed, Batch, BatchFile, ConfirmationNotice,
    MessageState, OptOutNotice, OutboxMessage, StateKind,
};
use crate::i18n::{t, tf};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Messages per POST (the relay takes up to `wire::MAX_BATCH`); smaller chunks keep each
/// step short on the main thread and make progress visible.
pub const CHUNK: usize = 250;

/// Longest idle wait before the loop looks at the store again unasked (a change by this or
/// another tab wakes it at once).
const IDLE_MS: i32 = 30_000;

/// What the transmit loop is doing, for the UI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "link", content = "error", rename_all = "snake_case")]
pub enum Link {
    /// Nothing to do.
    Idle,
    Working,
    /// The relay does not answer; the loop retries by itself.
    Waiting(String),
    /// The relay answers with an error that needs the user (token, configuration).
    Error(String),
    /// The data is locked: the loop cannot read the outbox and waits for the unlock.
    Locked,
}

impl Link {
    fn label(&self) -> String {
        match self {
            Link::Idle => t("transmit.idle").into(),
            Link::Working => t("transmit.working").into(),
            Link::Waiting(e) => tf("transmit.waiting", &[("error", &e)]),
            Link::Error(e) => tf("transmit.stopped", &[("error", &e)]),
            Link::Locked => t("transmit.locked").into(),
        }
    }
}

/// The loop's state as the UI shows it: in the sending tab its own, in the others the
/// sending tab's (they only watch).
pub fn link_label(state: AppState) -> String {
    let label = state.link.get().label();
    if state.sending_here.get() {
        label
    } else {
        tf("transmit.other_tab", &[("state", &label)])
    }
}

fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

fn set_link(state: AppState, link: Link) {
    if state.link.get_untracked() != link {
        state.link.set(link.clone());
        sync::announce(&Change::Link { link });
    }
}

/// Wakes this tab's loop early (it reads the store again).
pub fn wake(state: AppState) {
    state.wake.update(|w| *w += 1);
}

pub async fn set_config(state: AppState, cfg: RelayConfig) -> Result<(), AppError> {
    repo::outbox::save_relay_config(state, cfg).await?;
    wake(state);
    Ok(())
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
async fn nap(state: AppState, ms: i32) {
    let woken = state.wake.get_untracked();
    let mut left = ms;
    while left > 0 {
        if state.wake.get_untracked() != woken {
            return;
        }
        sleep(left.min(100)).await;
        left -= 100;
    }
}

/// Runs the transmit loop in this tab once it holds the transmit lock (at once, unless
/// another tab of the browser sends; then when that tab goes away). Called once at start.
pub fn start(state: AppState) {
    leptos::task::spawn_local(async move {
        let _sending = sync::lock(sync::TRANSMIT_LOCK).await;
        state.sending_here.set(true);
        sync::announce(&Change::Link {
            link: state.link.get_untracked(),
        });
        // Wait for boot to open the store.
        while !state.loaded.get_untracked() {
            sleep(if state.error.get_untracked().is_some() {
                500
            } else {
                50
            })
            .await;
        }
        run(state).await;
    });
}

// ---------------------------------------------------------------------------------------------
// Actions

/// Writes a new batch with all its messages in one transaction, then wakes the loop.
pub async fn queue(
    state: AppState,
    batch: Batch,
    messages: Vec<OutboxMessage>,
) -> Result<(), AppError> {
    repo::outbox::queue(state, batch, messages).await?;
    wake(state);
    Ok(())
}

async fn set_paused(state: AppState, batch_id: &str, paused: bool) -> Result<(), AppError> {
    repo::outbox::update(state, |mut o| async move {
        let mut w = Touched::default();
        let b = o
            .batches
            .iter_mut()
            .find(|b| b.id == batch_id)
            .ok_or_else(|| AppError::msg("transmit.batch_not_found", []))?;
        b.paused = paused;
        w.batch(batch_id);
        if !paused && o.cancel_requests.iter().any(|x| x == batch_id) {
            o.cancel_requests.retain(|x| x != batch_id);
            w.cancel_requests();
        }
        Ok((o, w, ()))
    })
    .await?;
    wake(state);
    Ok(())
}

pub async fn pause(state: AppState, batch_id: &str) -> Result<(), AppError> {
    set_paused(state, batch_id, true).await
}

pub async fn resume(state: AppState, batch_id: &str) -> Result<(), AppError> {
    set_paused(state, batch_id, false).await
}

/// Stops what has not been transmitted. Messages that may already be at the relay are
/// asked about first (the batch stays paused, the cancel is stored as requested) and
/// cancelled by the loop when the relay does not know them. Returns (cancelled now, still
/// being checked).
pub async fn cancel(state: AppState, batch_id: &str) -> Result<(usize, usize), AppError> {
    let r = repo::outbox::update(state, |mut o| async move {
        let mut w = Touched::default();
        let b = o
            .batches
            .iter_mut()
            .find(|b| b.id == batch_id)
            .ok_or_else(|| AppError::msg("transmit.batch_not_found", []))?;
        b.paused = true;
        w.batch(batch_id);
        let (done, open) = cancel_now(&mut o, &mut w, batch_id);
        if open > 0 && !o.cancel_requests.iter().any(|x| x == batch_id) {
            o.cancel_requests.push(batch_id.to_string());
            w.cancel_requests();
        }
        Ok((o, w, (done, open)))
    })
    .await?;
    wake(state);
    Ok(r)
}

/// Cancels what can be cancelled of a batch; drops its cancel request when nothing is left
/// to ask the relay about. Returns (cancelled, still open).
fn cancel_now(o: &mut repo::outbox::Outbox, w: &mut Touched, batch_id: &str) -> (usize, usize) {
    let (done, uncertain) = cancel_batch(&mut o.messages, batch_id, now());
    w.messages(&done);
    if uncertain.is_empty() && o.cancel_requests.iter().any(|x| x == batch_id) {
        o.cancel_requests.retain(|x| x != batch_id);
        w.cancel_requests();
    }
    (done.len(), uncertain.len())
}

/// "nur Fehlgeschlagene erneut senden": new queued messages for the failed ones of a batch,
/// with each person's consent read fresh from the store. Returns (re-sent, skipped with
/// reasons).
pub async fn retry(
    state: AppState,
    batch_id: &str,
) -> Result<(usize, Vec<(String, String)>), AppError> {
    let r = repo::outbox::update(state, |mut o| async move {
        let ids: HashSet<_> = o
            .messages
            .iter()
            .filter(|m| m.batch_id == batch_id && m.kind() == StateKind::Failed)
            .map(|m| m.person_id.clone())
            .collect();
        let ids: Vec<_> = ids.into_iter().collect();
        let persons = repo::persons_by_id(&ids).await?;
        let by_id: HashMap<_, _> = persons
            .iter()
            .map(|r| (r.person.id.clone(), &r.person))
            .collect();
        let out = retry_failed(
            &mut o.messages,
            batch_id,
            |id| by_id.get(id).copied(),
            now(),
        );
        let mut w = Touched::default();
        w.messages(
            o.messages
                .iter()
                .filter(|m| m.kind() == StateKind::Failed && m.retried_as.is_some())
                .filter(|m| m.batch_id == batch_id)
                .map(|m| &m.id),
        );
        w.messages(out.new_messages.iter().map(|m| &m.id));
        if let Some(b) = o.batches.iter_mut().find(|b| b.id == batch_id) {
            b.paused = false;
            w.batch(batch_id);
        }
        let n = out.new_messages.len();
        o.messages.extend(out.new_messages);
        Ok((o, w, (n, out.skipped)))
    })
    .await?;
    wake(state);
    Ok(r)
}

/// Fetches opt-outs from the relay and withdraws the consents (source "Abmeldelink") of the
/// persons, read fresh from the store, for exactly the purposes of the recipient's choice
/// (`wire::OptOut::scope`: the clicked purpose, or every advertising purpose of the
/// channel). Returns how many persons changed.
pub async fn fetch_optouts(state: AppState) -> Result<usize, AppError> {
    let mut cfg = repo::outbox::relay_config().await?;
    let resp = relay::optouts(&cfg, cfg.optouts_after, cfg.optouts_since.as_deref()).await?;
    let Some(newest) = resp.optouts.iter().map(|o| o.at).max() else {
        return Ok(0);
    };
    let notices: Vec<OptOutNotice> = resp
        .optouts
        .iter()
        .map(|o| OptOutNotice {
            person_id: o.person_id.clone(),
            channel: o.channel,
            scope: o.scope(),
            at: relay::local(o.at),
            recipient: o.recipient.clone(),
        })
        .collect();
    let ids = notices.iter().map(|n| n.person_id.clone()).collect();
    let n = apply_to_stored_persons(state, ids, |persons| {
        outbox::apply_opt_outs(persons, &notices)
    })
    .await?;
    cfg.optouts_since = Some(newest.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    // A relay that reports sequence numbers (seq > 0) is asked by sequence from now on.
    cfg.optouts_after = resp
        .optouts
        .iter()
        .map(|o| o.seq)
        .max()
        .filter(|s| *s > 0)
        .or(cfg.optouts_after);
    set_config(state, cfg).await?;
    Ok(n)
}

/// Fetches double opt-in confirmations from the relay and records each as a consent event
/// (evidence and source "Double-Opt-in", the confirmation's date and time) through
/// `outbox::apply_confirmations`, on the persons read inside the same storage transaction
/// that writes them (a change by another tab in between is never overwritten). Idempotent:
/// a confirmation fetched twice changes nothing. Returns how many persons changed.
pub async fn fetch_confirmations(state: AppState) -> Result<usize, AppError> {
    let mut cfg = repo::outbox::relay_config().await?;
    let resp = relay::confirmations(&cfg, cfg.confirmations_after.unwrap_or(0)).await?;
    let Some(newest) = resp.confirmations.iter().map(|c| c.seq).max() else {
        return Ok(0);
    };
    let notices: Vec<ConfirmationNotice> = resp
        .confirmations
        .iter()
        .map(|c| ConfirmationNotice {
            person_id: c.person_id.clone(),
            channel: c.channel,
            purposes: c.purposes.clone(),
            at: relay::local(c.at),
        })
        .collect();
    let ids = notices.iter().map(|n| n.person_id.clone()).collect();
    let n = apply_to_stored_persons(state, ids, |persons| {
        outbox::apply_confirmations(persons, &notices)
    })
    .await?;
    cfg.confirmations_after = Some(newest);
    set_config(state, cfg).await?;
    Ok(n)
}

/// Applies relay notices (opt-outs, confirmations) to the persons they name: read, changed
/// and written in one store transaction, so an edit of the same person in another tab is
/// neither overwritten nor missed. Returns how many persons changed.
async fn apply_to_stored_persons(
    state: AppState,
    mut ids: Vec<crate::domain::PersonId>,
    apply: impl FnOnce(&mut [crate::domain::Person]) -> Vec<crate::domain::PersonId>,
) -> Result<usize, AppError> {
    use crate::storage::{OwnedWriteBatch, StoreError, StoreExt};
    ids.sort();
    ids.dedup();
    let changed = repo::store()
        .update_with(&ids, |records| {
            let records: Vec<_> = records.iter().flatten().cloned().collect();
            let mut persons: Vec<_> = records.iter().map(|r| r.person.clone()).collect();
            let changed = apply(&mut persons);
            let out: Vec<_> = records
                .into_iter()
                .zip(persons)
                .filter(|(_, p)| changed.contains(&p.id))
                .map(|(mut r, p)| {
                    r.person = p;
                    r
                })
                .collect();
            Ok::<_, StoreError>((
                OwnedWriteBatch {
                    persons: out.clone(),
                    ..Default::default()
                },
                out,
            ))
        })
        .await
        .map_err(repo::store_err)?;
    let n = changed.len();
    repo::outbox::persons_written(state, changed);
    Ok(n)
}

/// "Bestätigung anfordern": queues the shipped confirmation e-mail ("Bestätigung Ihrer
/// Einwilligung") for `ids` and `purposes` through the outbox (one batch, one message with
/// its own id per person; the transmit loop sends it exactly once). The persons are read
/// from the store now; who has no usable e-mail address is left out with the reason.
/// Returns (queued, left out: name and reason).
pub async fn request_confirmation(
    state: AppState,
    ids: &[crate::domain::PersonId],
    purposes: &[crate::domain::Purpose],
) -> Result<(usize, Vec<(String, String)>), AppError> {
    use crate::domain::placeholders::{build_context, ContextInput};
    use crate::domain::template::Language;
    let cfg = repo::outbox::relay_config().await?;
    let records = repo::persons_by_id(ids).await?;
    let practice = state.settings.get_untracked();
    let now = chrono::Local::now().naive_local();
    let days = cfg.optin_expiry_days();
    let valid_until = now.date() + chrono::Duration::days(i64::from(days) - 1);
    let template = outbox::optin_template(Language::De);
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for r in &records {
        if let Err(why) = outbox::check_optin(&r.person, purposes) {
            let reason = match why {
                outbox::OptInRefusal::NoPurpose => t("optin.need_purpose").to_string(),
                outbox::OptInRefusal::Unreachable(u) => crate::i18n::review::unreachable(&u),
            };
            skipped.push((r.person.full_name(), reason));
            continue;
        }
        let ctx = build_context(ContextInput {
            person: &r.person,
            practice: &practice,
            appointment: None,
            channel: crate::domain::Channel::Email,
            language: Language::De,
            today: now.date(),
            unsubscribe_link: None,
        });
        items.push(outbox::OptInItem {
            person: &r.person,
            id: repo::new_id(),
            content: outbox::confirmation_content(&template, &ctx, purposes, valid_until),
        });
    }
    if items.is_empty() {
        return Ok((0, skipped));
    }
    let batch = Batch {
        claim: None,
        id: repo::new_id(),
        created_at: now,
        channel: crate::domain::Channel::Email,
        purpose: purposes[0],
        template_name: template.name.clone(),
        template_version: template.version,
        paused: false,
        files: Vec::new(),
    };
    let request = crate::wire::OptInRequest {
        purposes: purposes.to_vec(),
        expiry_days: days,
    };
    let messages = outbox::queue_optin_requests(&batch, items, &request)?;
    let n = messages.len();
    repo::outbox::queue(state, batch, messages).await?;
    wake(state);
    Ok((n, skipped))
}

// ---------------------------------------------------------------------------------------------
// The loop

/// What one look at the stored outbox found to do.
enum Next {
    Idle,
    /// These messages are recorded as being submitted: POST them (with their batches'
    /// attached files, by batch id).
    Transmit(Vec<OutboxMessage>, HashMap<String, Vec<BatchFile>>),
    /// Ask the relay about these ids.
    Poll(Vec<Vec<String>>),
}

async fn run(state: AppState) {
    let mut backoff = 500;
    loop {
        // While locked the outbox cannot be read: sending pauses and goes on after unlock.
        // Locked for sending ("Versand während Sperre fortsetzen"): the loop goes on with
        // the send records until the outbox is done, then drops the key.
        use crate::storage::crypto::{self, LockState};
        let locked = crypto::lock_state(&*repo::store());
        if locked == LockState::Locked {
            set_link(state, Link::Locked);
            nap(state, 1000).await;
            continue;
        }
        let step = match plan_step(state).await {
            Err(e) => Err(saved(e)),
            Ok(Next::Idle) if locked == LockState::Sending => {
                // `domain::lock::sending_done`: nothing left to transmit or poll.
                crypto::lock(&*repo::store());
                continue;
            }
            Ok(Next::Idle) => {
                set_link(state, Link::Idle);
                nap(state, IDLE_MS).await;
                continue;
            }
            Ok(Next::Transmit(begun, files)) => transmit(state, begun, files).await,
            Ok(Next::Poll(chunks)) => poll(state, &chunks).await,
        };
        match step {
            Ok(moved) => {
                backoff = 500;
                set_link(state, Link::Working);
                if !moved {
                    nap(state, 400).await;
                }
            }
            Err(AppError::Relay(RelayError::Unreachable(e))) => {
                set_link(state, Link::Waiting(e));
                nap(state, backoff).await;
                backoff = (backoff * 2).min(4000);
            }
            Err(e) => {
                set_link(state, Link::Error(e.to_string()));
                nap(state, 3000).await;
            }
        }
    }
}

/// Reads the outbox, plans, and for a transmit step persists `begin_submit` of the first
/// chunk (before the POST) in the same locked update.
async fn plan_step(state: AppState) -> Result<Next, AppError> {
    let device = repo::device_id().await?;
    let now = chrono::Local::now().naive_local();
    repo::outbox::update(state, |mut o| async move {
        let mut w = Touched::default();
        // Only the batches this device holds (several devices share the outbox when the
        // practice syncs): renewed or taken claims are written with this step.
        let claimed = outbox::claim_batches(&o.batches, &o.messages, &device, now);
        for b in claimed.write {
            w.batch(&b.id);
            if let Some(slot) = o.batches.iter_mut().find(|x| x.id == b.id) {
                *slot = b;
            }
        }
        let mine: Vec<OutboxMessage> = o
            .messages
            .iter()
            .filter(|m| claimed.mine.contains(&m.batch_id))
            .cloned()
            .collect();
        let plan = outbox::plan(&o.batches, &mine, CHUNK);
        let next = if let Some(chunk) = plan.transmit.first() {
            let want: HashSet<&str> = chunk.iter().map(String::as_str).collect();
            let begun: Vec<OutboxMessage> = o
                .messages
                .iter_mut()
                .filter(|m| want.contains(m.id.as_str()))
                .filter_map(|m| m.begin_submit().then(|| m.clone()))
                .collect();
            w.messages(begun.iter().map(|m| &m.id));
            let files = o
                .batches
                .iter()
                .filter(|b| !b.files.is_empty() && begun.iter().any(|m| m.batch_id == b.id))
                .map(|b| (b.id.clone(), b.files.clone()))
                .collect();
            Next::Transmit(begun, files)
        } else if !plan.poll.is_empty() {
            Next::Poll(plan.poll)
        } else {
            Next::Idle
        };
        Ok((o, w, next))
    })
    .await
}

/// The outbox could not be saved: the loop stops with this error.
fn saved(e: AppError) -> AppError {
    AppError::context("transmit.save_failed", e)
}

/// POSTs messages whose `begin_submit` is stored and persists the answer; their batches'
/// files are uploaded first where the relay does not have them. Ok(true) = progress.
async fn transmit(
    state: AppState,
    begun: Vec<OutboxMessage>,
    files: HashMap<String, Vec<BatchFile>>,
) -> Result<bool, AppError> {
    if begun.is_empty() {
        return Ok(false);
    }
    let cfg = state.relay.get_untracked();
    for f in files.values().flatten() {
        relay::ensure_file(&cfg, f).await?;
    }
    let wire: Vec<_> = begun
        .iter()
        .map(|m| {
            let batch_files = files.get(&m.batch_id).map_or(&[][..], Vec::as_slice);
            relay::outgoing(m, batch_files, cfg.sender_for(m.channel))
        })
        .collect();
    drop(begun);
    match relay::submit(&cfg, wire).await {
        Ok(resp) => {
            let reports: Vec<_> = resp.messages.iter().map(relay::report).collect();
            apply(state, reports, Vec::new()).await?;
            Ok(true)
        }
        Err(RelayError::Api { status, error }) if error.client_id.is_some() && status < 500 => {
            // The relay refused one message (nothing of the chunk was queued): it fails,
            // the others are transmitted again in the next step.
            let id = error.client_id.clone().unwrap_or_default();
            repo::outbox::update(state, |mut o| async move {
                let mut w = Touched::default();
                if let Some(m) = o.messages.iter_mut().find(|m| m.id == id) {
                    let failed = MessageState::Failed {
                        reason: error.message.clone(),
                    };
                    if m.transition(failed, now()).is_ok() {
                        w.messages([&m.id]);
                    }
                }
                Ok((o, w, ()))
            })
            .await
            .map_err(saved)?;
            Ok(true)
        }
        Err(RelayError::Api { status: 409, .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Asks the relay about transmitted and unconfirmed messages and persists the answers, then
/// finishes the cancels that waited for them.
async fn poll(state: AppState, chunks: &[Vec<String>]) -> Result<bool, AppError> {
    let cfg = state.relay.get_untracked();
    let (mut reports, mut unknown) = (Vec::new(), Vec::new());
    let mut failed = None;
    for ids in chunks {
        match relay::status(&cfg, ids).await {
            Ok(resp) => {
                reports.extend(resp.messages.iter().map(relay::report));
                unknown.extend(resp.unknown);
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // What was answered is kept even when a later chunk failed.
    let moved = apply(state, reports, unknown).await?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    // The view (read from the store) tells whether a cancel waits; the update reads again.
    if state
        .outbox
        .with_untracked(|o| !o.cancel_requests.is_empty())
    {
        repo::outbox::update(state, |mut o| async move {
            let mut w = Touched::default();
            for b in o.cancel_requests.clone() {
                cancel_now(&mut o, &mut w, &b);
            }
            Ok((o, w, ()))
        })
        .await
        .map_err(saved)?;
    }
    Ok(moved)
}

/// Applies reports and "unknown" ids to the stored messages and persists what changed.
async fn apply(
    state: AppState,
    reports: Vec<outbox::RelayReport>,
    unknown: Vec<String>,
) -> Result<bool, AppError> {
    if reports.is_empty() && unknown.is_empty() {
        return Ok(false);
    }
    repo::outbox::update(state, |mut o| async move {
        let at = now();
        let summary = apply_reports(&mut o.messages, &reports);
        let mut ids: HashSet<String> = summary.changed.into_iter().collect();
        if !unknown.is_empty() {
            let unk: HashSet<&str> = unknown.iter().map(String::as_str).collect();
            for m in o.messages.iter_mut() {
                if unk.contains(m.id.as_str()) && m.relay_unknown(at) {
                    ids.insert(m.id.clone());
                }
            }
        }
        let moved = !ids.is_empty();
        let mut w = Touched::default();
        w.messages(&ids);
        Ok((o, w, moved))
    })
    .await
    .map_err(saved)
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
/// is transmitted and until every message is final (as the view, read from the store, shows).
#[doc(hidden)]
pub async fn bench(
    store: std::rc::Rc<dyn crate::storage::Store>,
    relay_url: &str,
    batch: Batch,
    messages: Vec<OutboxMessage>,
) -> Result<BenchFigures, Box<dyn std::error::Error>> {
    repo::install_store(store);
    let state = AppState::new();
    state.relay.set(RelayConfig {
        url: relay_url.to_string(),
        ..Default::default()
    });
    state.loaded.set(true);
    let perf = web_sys::window()
        .and_then(|w| w.performance())
        .ok_or("no performance")?;
    let t0 = perf.now();
    queue(state, batch, messages).await?;
    let queued_ms = perf.now() - t0;
    wasm_bindgen_futures::spawn_local(run(state));
    let mut transmitted_ms = None;
    loop {
        let (open, untransmitted) = state.outbox.with_untracked(|o| {
            (
                o.messages.iter().filter(|m| !m.kind().is_final()).count(),
                o.messages
                    .iter()
                    .filter(|m| m.kind() == StateKind::Queued)
                    .count(),
            )
        });
        if untransmitted == 0 && transmitted_ms.is_none() {
            transmitted_ms = Some(perf.now() - t0);
        }
        if open == 0 {
            break;
        }
        if perf.now() - t0 > 300_000.0 {
            return Err(format!("not done after 300 s: {:?}", state.link.get_untracked()).into());
        }
        sleep(20).await;
    }
    Ok(BenchFigures {
        queued_ms,
        transmitted_ms: transmitted_ms.unwrap_or_default(),
        final_ms: perf.now() - t0,
    })
}
