//! Store access of the outbox and the send log (part of `repo`, the only writer).
//!
//! `Collection::Sendlog` holds one [`Batch`] per batch id, `Collection::Outbox` one
//! [`OutboxMessage`] per message id — for every channel, letters included.

use super::{store, store_err as err};
use crate::app::send::relay_client::{RelayConfig, RELAY_KEY};
use crate::app::state::AppState;
use crate::domain::outbox::{Batch, OutboxMessage};
use crate::domain::retention::{with_archive, ArchivedBatch};
use crate::domain::{PersonId, PersonRecord};
use crate::storage::{Collection, Doc, DocOp, StoreExt, WriteBatch};
use leptos::prelude::Update;

fn json_err(e: serde_json::Error) -> String {
    e.to_string()
}

/// Every batch and message in the store: the outbox and the send-log archive (final messages
/// past the retention period, without content). Documents that do not read as their type
/// are set aside (counted, shown in a banner), never skipped silently.
pub async fn load() -> Result<(Vec<Batch>, Vec<OutboxMessage>), String> {
    let s = store();
    let batches = s.load_docs(Collection::Sendlog).await.map_err(err)?;
    let messages = s.load_docs(Collection::Outbox).await.map_err(err)?;
    let archive: Vec<ArchivedBatch> = s.load_docs(Collection::SendlogArchive).await.map_err(err)?;
    Ok((batches, with_archive(messages, archive)))
}

fn message_op(m: &OutboxMessage) -> Result<DocOp, String> {
    Ok(DocOp::Put {
        collection: Collection::Outbox,
        key: m.id.clone(),
        value: serde_json::to_value(m).map_err(json_err)?,
    })
}

fn batch_op(b: &Batch) -> Result<DocOp, String> {
    Ok(DocOp::Put {
        collection: Collection::Sendlog,
        key: b.id.clone(),
        value: serde_json::to_value(b).map_err(json_err)?,
    })
}

/// Writes a batch and all its messages in ONE transaction (all or nothing).
pub async fn queue(batch: &Batch, messages: &[OutboxMessage]) -> Result<(), String> {
    let mut docs = Vec::with_capacity(messages.len() + 1);
    docs.push(batch_op(batch)?);
    for (i, m) in messages.iter().enumerate() {
        if i > 0 && i % 500 == 0 {
            // Let the browser paint between slices (the write below stays one transaction).
            yield_now().await;
        }
        docs.push(message_op(m)?);
    }
    store()
        .write(WriteBatch {
            docs: &docs,
            ..Default::default()
        })
        .await
        .map_err(err)
}

/// Writes changed messages (and optionally a batch) in one transaction.
pub async fn put(batch: Option<&Batch>, messages: &[OutboxMessage]) -> Result<(), String> {
    if batch.is_none() && messages.is_empty() {
        return Ok(());
    }
    let mut docs = Vec::with_capacity(messages.len() + 1);
    if let Some(b) = batch {
        docs.push(batch_op(b)?);
    }
    for m in messages {
        docs.push(message_op(m)?);
    }
    store()
        .write(WriteBatch {
            docs: &docs,
            ..Default::default()
        })
        .await
        .map_err(err)
}

/// The relay settings (defaults when none are stored; unreadable ones are set aside).
pub async fn relay_config() -> Result<RelayConfig, String> {
    Ok(store()
        .get_typed(Collection::Meta, RELAY_KEY)
        .await
        .map_err(err)?
        .unwrap_or_default())
}

pub async fn save_relay_config(cfg: &RelayConfig) -> Result<(), String> {
    store()
        .put_docs(
            Collection::Meta,
            &[Doc {
                key: RELAY_KEY.into(),
                value: serde_json::to_value(cfg).map_err(json_err)?,
            }],
        )
        .await
        .map_err(err)
}

/// Stores persons whose consents changed (opt-outs) and updates the signal.
pub async fn save_persons(state: AppState, changed: Vec<PersonRecord>) -> Result<(), String> {
    if changed.is_empty() {
        return Ok(());
    }
    store().put_persons(&changed).await.map_err(err)?;
    crate::app::sync::notify();
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
    Ok(())
}

async fn yield_now() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}
