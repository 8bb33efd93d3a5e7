//! Store access of the outbox and the send log (part of `repo`, the only writer).
//!
//! `Collection::Sendlog` holds one [`Batch`] per batch id, `Collection::Outbox` one
//! [`OutboxMessage`] per message id — for every channel, letters included — and
//! `Collection::Meta` the batches whose cancel waits for the relay's answer.
//!
//! Every change goes through [`update`]: under the outbox lock (shared by all tabs) it reads
//! the outbox fresh from the store, lets the caller change it, writes what changed in ONE
//! transaction and then shows the result. Nothing keeps outbox data between two updates, so a
//! restore or "Demodaten entfernen" (which take the same lock) can never be undone by a write
//! of data read before it.

use super::{store, store_err as err};
use crate::app::error::AppError;
use crate::app::send::relay_client::{RelayConfig, RELAY_KEY};
use crate::app::state::AppState;
use crate::app::sync::{self, Change};
use crate::domain::outbox::{Batch, OutboxMessage};
use crate::domain::retention::{with_archive, ArchivedBatch};
use crate::domain::{PersonId, PersonRecord};
use crate::storage::{Collection, Doc, DocOp, StoreExt, WriteBatch};
use leptos::prelude::{Set, Update};
use std::cell::Cell;
use std::collections::HashSet;
use std::future::Future;

/// Meta key of the batches whose cancel waits for the relay (JSON array of batch ids).
const CANCEL_KEY: &str = "cancel_requests";

/// The outbox as stored: batches (the send log), messages, and pending cancels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outbox {
    pub batches: Vec<Batch>,
    pub messages: Vec<OutboxMessage>,
    /// Batches the user cancelled while some of their messages may be at the relay: the
    /// transmit loop asks the relay and cancels the rest once it knows.
    pub cancel_requests: Vec<String>,
}

/// What a change of an [`Outbox`] touched: exactly this is written.
#[derive(Default)]
pub struct Touched {
    batches: HashSet<String>,
    messages: HashSet<String>,
    cancel_requests: bool,
}

impl Touched {
    pub fn batch(&mut self, id: &str) {
        self.batches.insert(id.to_string());
    }

    pub fn messages<'a>(&mut self, ids: impl IntoIterator<Item = &'a String>) {
        self.messages.extend(ids.into_iter().cloned());
    }

    pub fn cancel_requests(&mut self) {
        self.cancel_requests = true;
    }

    fn is_empty(&self) -> bool {
        self.batches.is_empty() && self.messages.is_empty() && !self.cancel_requests
    }

    /// What the announcement names: the keys, when few (a write of many, like queueing a
    /// batch, lets the sync compare everything once rather than read each).
    fn keys(&self) -> Option<sync::OutboxKeys> {
        (self.batches.len() + self.messages.len() <= sync::FEW_KEYS).then(|| sync::OutboxKeys {
            batches: self.batches.iter().cloned().collect(),
            messages: self.messages.iter().cloned().collect(),
        })
    }
}

fn json_err(e: serde_json::Error) -> AppError {
    AppError::from(e)
}

/// Every batch, message and pending cancel in the store, with the send-log archive (final
/// messages past the retention period, without content). Documents that do not read as
/// their type are set aside (counted, shown in a banner), never skipped silently.
async fn read() -> Result<Outbox, AppError> {
    let s = store();
    let batches = s.load_docs(Collection::Sendlog).await.map_err(err)?;
    let messages = s.load_docs(Collection::Outbox).await.map_err(err)?;
    let archive: Vec<ArchivedBatch> = s.load_docs(Collection::SendlogArchive).await.map_err(err)?;
    let cancel_requests = s
        .get_typed(Collection::Meta, CANCEL_KEY)
        .await
        .map_err(err)?
        .unwrap_or_default();
    Ok(Outbox {
        batches,
        messages: with_archive(messages, archive),
        cancel_requests,
    })
}

thread_local! {
    /// Reads of the outbox into the view, numbered (started, shown): a read that started
    /// before the one shown is dropped, so the view never goes back to older data.
    static VIEW_READS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

fn next_read() -> u64 {
    VIEW_READS.with(|c| {
        let (started, shown) = c.get();
        c.set((started + 1, shown));
        started + 1
    })
}

/// Shows `outbox` in the view when no later read is shown already.
fn show(state: AppState, read: u64, outbox: Outbox) {
    // Locked (also while a batch goes on being sent): the page keeps no outbox data.
    if leptos::prelude::GetUntracked::get_untracked(&state.gate) != crate::app::state::Gate::Open {
        return;
    }
    let newer = VIEW_READS.with(|c| {
        let (started, shown) = c.get();
        (read > shown).then(|| c.set((started, read))).is_some()
    });
    if newer {
        state.outbox.set(outbox);
    }
}

/// Reads the outbox from the store into `state.outbox` (at start, and when another tab
/// announced a change).
pub async fn reload_view(state: AppState) -> Result<(), AppError> {
    let n = next_read();
    let outbox = read().await?;
    show(state, n, outbox);
    Ok(())
}

/// The one way to change the outbox. Under the outbox lock: reads it fresh from the store,
/// `change` changes it and marks what it touched, one transaction writes exactly that; then
/// the view shows the result and the other tabs are told. When `change` fails, nothing is
/// written.
pub async fn update<R, F, Fut>(state: AppState, change: F) -> Result<R, AppError>
where
    F: FnOnce(Outbox) -> Fut,
    Fut: Future<Output = Result<(Outbox, Touched, R), AppError>>,
{
    let _lock = sync::lock(sync::OUTBOX_LOCK).await;
    let (outbox, touched, result) = change(read().await?).await?;
    if touched.is_empty() {
        return Ok(result);
    }
    let docs = ops(&outbox, &touched).await?;
    // Numbered now: a view read that starts later sees this write.
    let n = next_read();
    store()
        .write(WriteBatch {
            docs: &docs,
            ..Default::default()
        })
        .await
        .map_err(err)?;
    show(state, n, outbox);
    sync::announce(&Change::Outbox {
        written: touched.keys(),
    });
    Ok(result)
}

/// The document writes of what `touched` names.
async fn ops(outbox: &Outbox, touched: &Touched) -> Result<Vec<DocOp>, AppError> {
    let mut docs = Vec::with_capacity(touched.batches.len() + touched.messages.len() + 1);
    for b in outbox
        .batches
        .iter()
        .filter(|b| touched.batches.contains(&b.id))
    {
        docs.push(DocOp::Put {
            collection: Collection::Sendlog,
            key: b.id.clone(),
            value: serde_json::to_value(b).map_err(json_err)?,
        });
    }
    for (i, m) in outbox
        .messages
        .iter()
        .filter(|m| touched.messages.contains(&m.id))
        .enumerate()
    {
        if i > 0 && i % 500 == 0 {
            // Let the browser paint between slices (the write stays one transaction).
            yield_now().await;
        }
        docs.push(DocOp::Put {
            collection: Collection::Outbox,
            key: m.id.clone(),
            value: serde_json::to_value(m).map_err(json_err)?,
        });
    }
    if touched.cancel_requests {
        docs.push(DocOp::Put {
            collection: Collection::Meta,
            key: CANCEL_KEY.into(),
            value: serde_json::to_value(&outbox.cancel_requests).map_err(json_err)?,
        });
    }
    Ok(docs)
}

/// Writes a new batch and all its messages in ONE transaction (all or nothing).
pub async fn queue(
    state: AppState,
    mut batch: Batch,
    messages: Vec<OutboxMessage>,
) -> Result<(), AppError> {
    // This device transmits it (`outbox::claim`).
    let device = super::device_id().await?;
    batch.claim = Some(crate::domain::outbox::Claim::new(
        &device,
        chrono::Local::now().naive_local(),
    ));
    update(state, |mut o| async move {
        let mut t = Touched::default();
        t.batch(&batch.id);
        t.messages(messages.iter().map(|m| &m.id));
        o.batches.push(batch);
        o.messages.extend(messages);
        Ok((o, t, ()))
    })
    .await
}

/// The relay settings of this browser (defaults when none are stored; unreadable ones are
/// set aside).
pub async fn relay_config() -> Result<RelayConfig, AppError> {
    Ok(store()
        .get_typed(Collection::Meta, RELAY_KEY)
        .await
        .map_err(err)?
        .unwrap_or_default())
}

pub async fn save_relay_config(state: AppState, cfg: RelayConfig) -> Result<(), AppError> {
    store()
        .put_docs(
            Collection::Meta,
            &[Doc {
                key: RELAY_KEY.into(),
                value: serde_json::to_value(&cfg).map_err(json_err)?,
            }],
        )
        .await
        .map_err(err)?;
    sync::announce(&Change::Meta);
    state.relay.set(cfg);
    Ok(())
}

/// After persons were written inside a `Store::update`: tells the other tabs and updates the
/// view.
pub fn persons_written(state: AppState, changed: Vec<PersonRecord>) {
    if changed.is_empty() {
        return;
    }
    sync::announce(&Change::Persons {
        ids: changed.iter().map(|r| r.person.id.clone()).collect(),
    });
    let ids: std::collections::HashMap<PersonId, PersonRecord> = changed
        .into_iter()
        .map(|r| (r.person.id.clone(), r))
        .collect();
    state.persons.update(|ps| {
        for p in ps.iter_mut() {
            if let Some(r) = ids.get(&p.person.id) {
                *p = r.clone();
            }
        }
    });
}

async fn yield_now() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}
