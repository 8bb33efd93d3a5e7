//! Outbox retention, the write: at start the app moves final messages past the retention
//! period from the outbox into the send-log archive (which messages, and how: the pure
//! `domain::retention`). One transaction reads the outbox and the archive and writes the
//! result, so no message is lost or archived twice, whatever else runs.

use chrono::NaiveDateTime;

use super::{Collection, DocOp, OwnedWriteBatch, Result, Store, StoreExt};
use crate::domain::outbox::OutboxMessage;
use crate::domain::retention::{compact, ArchivedBatch, Retention};

/// Meta key of the retention setting ([`Retention`]; missing: the default, 12 months).
pub const RETENTION_KEY: &str = "retention";

/// The retention setting.
pub async fn retention(store: &dyn Store) -> Result<Retention> {
    Ok(store
        .get_typed(Collection::Meta, RETENTION_KEY)
        .await?
        .unwrap_or_default())
}

/// Stores the retention setting.
pub async fn set_retention(store: &dyn Store, retention: Retention) -> Result<()> {
    store
        .put_typed(Collection::Meta, RETENTION_KEY, &retention)
        .await
}

/// Moves the final outbox messages past the retention period into the send-log archive, in
/// one transaction. Returns how many messages moved. Documents that do not read as outbox
/// messages or archive documents are left where they are (the app's reads set them aside);
/// the messages of a batch whose archive document does not read stay in the outbox, so
/// nothing overwrites it.
pub async fn compact_outbox(store: &dyn Store, now: NaiveDateTime) -> Result<usize> {
    let cutoff = retention(store).await?.cutoff(now);
    let mut moved = 0;
    store
        .update_docs(
            &[Collection::Outbox, Collection::SendlogArchive],
            &mut |read| {
                let mut unreadable_archive = Vec::new();
                let archive: Vec<ArchivedBatch> = read[1]
                    .iter()
                    .filter_map(|d| match serde_json::from_value(d.value.clone()) {
                        Ok(a) => Some(a),
                        Err(_) => {
                            unreadable_archive.push(d.key.as_str());
                            None
                        }
                    })
                    .collect();
                let messages: Vec<OutboxMessage> = read[0]
                    .iter()
                    .filter_map(|d| serde_json::from_value::<OutboxMessage>(d.value.clone()).ok())
                    .filter(|m| !unreadable_archive.contains(&m.batch_id.as_str()))
                    .collect();
                let c = compact(&messages, &archive, cutoff);
                moved = c.remove.len();
                let mut docs = Vec::with_capacity(c.archive.len() + c.remove.len());
                for a in &c.archive {
                    docs.push(DocOp::put(Collection::SendlogArchive, &a.batch_id, a)?);
                }
                docs.extend(
                    c.remove
                        .iter()
                        .map(|id| DocOp::delete(Collection::Outbox, id)),
                );
                Ok(OwnedWriteBatch {
                    docs,
                    ..Default::default()
                })
            },
        )
        .await?;
    Ok(moved)
}
