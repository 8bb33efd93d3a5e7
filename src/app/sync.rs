//! Keeps several tabs of the app in step, and lets them take turns.
//!
//! Every tab of the app (same origin, same browser profile) shares one IndexedDB but holds
//! its own [`AppState`](crate::app::state::AppState), read from that store. After a tab has
//! written, it [`announce`]s *what* changed on a `BroadcastChannel`; the other tabs read that
//! part of the store again (`repo::refresh`), and their derived views (search keys, counts,
//! log rows) are recomputed from it. Nothing is patched from the message itself: it only
//! says what to read.
//!
//! Turns are taken with the Web Locks API ([`lock`]): one tab holds [`TRANSMIT_LOCK`] while its
//! transmit loop runs (the others wait for it and take over when that tab goes away), and
//! every read-modify-write of the outbox, and every replacement of the whole store (restore,
//! demo removed or loaded), holds [`OUTBOX_LOCK`], so no tab writes outbox data it read
//! before another tab changed it.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::app::send::transmit::Link;
use crate::domain::PersonId;
use crate::storage::sync::Scope;
use crate::storage::Collection;

/// The channel every tab of the app listens to.
const CHANNEL: &str = "praxisbote";

/// Held by the tab whose transmit loop runs, as long as it runs.
pub const TRANSMIT_LOCK: &str = "praxisbote-transmit";

/// Held around every read-modify-write of the outbox and every replacement of the store.
pub const OUTBOX_LOCK: &str = "praxisbote-outbox";

/// The most keys an announcement names. A write of more (an import, queueing a large batch,
/// a round that applied many) is announced as "many": reading each again, or comparing each
/// in the next sync round, would cost more than reading or comparing everything once.
pub const FEW_KEYS: usize = 200;

/// What a tab changed (or asks for), as announced to the other tabs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// These persons were written or deleted (with their appointments).
    Persons {
        ids: Vec<PersonId>,
    },
    /// Many persons or appointments (an import): all of them are read again.
    People,
    Settings,
    Queries,
    Templates,
    /// Small facts in the Meta collection: the demo flag, the last backup, relay settings.
    Meta,
    /// The outbox or the send log. `written`: the keys one write put, when there were few
    /// (the sync's next round compares only those); `None`: unknown or many.
    Outbox {
        #[serde(default)]
        written: Option<OutboxKeys>,
    },
    /// The whole store was replaced (restore, demo data removed or loaded).
    Everything,
    /// What the transmit loop of the sending tab is doing (for the other tabs' progress).
    Link {
        link: Link,
    },
    /// A tab has started: the sending tab answers with a [`Change::Link`].
    Hello,
    /// Someone pressed "Sperren": every tab of the app locks.
    Lock,
    /// The keyring changed (encryption set up, passphrase changed): every other tab reloads
    /// the page, so it opens the store anew (locked) and never writes with an old key state.
    Reopen,
}

/// Keys of the send log's batches and the outbox's messages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutboxKeys {
    pub batches: Vec<String>,
    pub messages: Vec<String>,
}

impl Change {
    /// The outbox changed; which of its documents is not said.
    pub const OUTBOX: Change = Change::Outbox { written: None };
}

thread_local! {
    /// This tab's end of the channel (a handle, no data).
    static PORT: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
    /// How many changes this tab has announced or heard: the device sync loop runs a round
    /// when it moves (a counter, no data).
    static SEEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Which records those changes touched, since the device sync loop last took them: the
    /// scope of its next round's own-edit step (ids, no data).
    static TOUCHED: RefCell<Scope> = RefCell::new(Scope::nothing());
}

/// The records changed (announced here or heard from other tabs) since the last call.
pub fn take_touched() -> Scope {
    TOUCHED.with(|t| std::mem::replace(&mut *t.borrow_mut(), Scope::nothing()))
}

/// The number of changes announced by this tab or heard from others so far.
pub fn changes_seen() -> u64 {
    SEEN.with(|s| s.get())
}

fn seen(change: &Change) {
    let touched = match change {
        Change::Persons { ids } => Scope::persons(ids.iter().cloned()),
        Change::Settings => Scope::settings(),
        Change::Outbox {
            written: Some(keys),
        } => {
            let batches = keys
                .batches
                .iter()
                .map(|k| (Collection::Sendlog, k.clone()));
            let messages = keys
                .messages
                .iter()
                .map(|k| (Collection::Outbox, k.clone()));
            Scope::docs(batches.chain(messages))
        }
        // Bulk changes, and collections whose deleted records only a full comparison finds.
        Change::People
        | Change::Queries
        | Change::Templates
        | Change::Outbox { written: None }
        | Change::Everything => Scope::Full,
        Change::Meta | Change::Link { .. } | Change::Hello | Change::Lock | Change::Reopen => {
            return
        }
    };
    SEEN.with(|s| s.set(s.get() + 1));
    TOUCHED.with(|t| t.borrow_mut().add(touched));
}

fn port() -> Option<web_sys::BroadcastChannel> {
    PORT.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_none() {
            *p = web_sys::BroadcastChannel::new(CHANNEL).ok();
        }
        p.clone()
    })
}

/// Tells the other tabs what changed (after a successful write). A tab does not hear its own
/// announcements.
pub fn announce(change: &Change) {
    seen(change);
    post(change);
}

/// Tells the other tabs what a sync round applied: unlike [`announce`], this tab does not
/// count it as a change of its own (the round's next own-edit step need not look at it).
pub fn announce_applied(change: &Change) {
    post(change);
}

fn post(change: &Change) {
    let (Some(port), Ok(json)) = (port(), serde_json::to_string(change)) else {
        return;
    };
    let _ = port.post_message(&JsValue::from_str(&json));
}

/// Calls `on_change` with every announcement of another tab, as long as the page lives.
pub fn listen(on_change: impl Fn(Change) + 'static) {
    let Some(port) = port() else { return };
    let handler =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if let Some(change) = ev
                .data()
                .as_string()
                .and_then(|s| serde_json::from_str::<Change>(&s).ok())
            {
                seen(&change);
                on_change(change);
            }
        });
    port.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
}

#[wasm_bindgen(module = "/src/js/tabs.js")]
extern "C" {
    fn pb_lock(name: &str) -> js_sys::Promise;
}

/// A granted Web Lock; released when dropped (or when the page goes away).
#[must_use]
pub struct Lock(Option<js_sys::Function>);

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

/// Waits until the Web Lock `name` is granted to this tab (exclusively) and holds it until
/// the returned guard is dropped.
pub async fn lock(name: &str) -> Lock {
    let release = wasm_bindgen_futures::JsFuture::from(pb_lock(name))
        .await
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    Lock(release)
}
