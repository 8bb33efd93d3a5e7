//! The collisions a sync round could not settle (two devices changed the same field of a
//! person differently), kept in Meta ([`CONFLICTS_KEY`]) on each device until someone
//! chooses under "Konflikte". Every device lists them: the revision that settled the
//! conflict carries the collision, and applying it lists the person. The value in use
//! meanwhile is the winner's (CouchDB's rule, the same on every device); choosing (either
//! way) is an edit of the person — a revision without the collision — which the next round
//! sends to the other devices, and applying it takes the person off their lists.

use crate::domain::sync_merge::take_fields;
use crate::domain::PersonId;
use crate::storage::{Collection, DocOp, OwnedWriteBatch, Result, Store, StoreExt};

pub use super::round::{PersonConflict, CONFLICTS_KEY};

/// The open collisions, oldest first.
pub async fn open(store: &dyn Store) -> Result<Vec<PersonConflict>> {
    Ok(store
        .get_typed(Collection::Meta, CONFLICTS_KEY)
        .await?
        .unwrap_or_default())
}

/// Settles the collision of `person`: with `take_other`, the colliding fields get the other
/// version's values (every other field and the consent history stay as they are now);
/// otherwise the values in use stay. The entry goes in the same write.
pub async fn choose(store: &dyn Store, person: &PersonId, take_other: bool) -> Result<()> {
    let mut rest = open(store).await?;
    let Some(i) = rest.iter().position(|c| &c.person == person) else {
        return Ok(());
    };
    let chosen = rest.remove(i);
    store
        .update_with(std::slice::from_ref(person), |current| {
            let mut batch = OwnedWriteBatch::default();
            if let (true, Some(Some(record))) = (take_other, current.first()) {
                let mut record = record.clone();
                record.person = take_fields(&record.person, &chosen.loser, &chosen.fields);
                batch.persons.push(record);
            }
            batch
                .docs
                .push(DocOp::put(Collection::Meta, CONFLICTS_KEY, &rest)?);
            Ok((batch, ()))
        })
        .await
}
