//! Actions that touch storage. Every write goes to the store first and updates the signals
//! only when the store accepted it, so the UI never shows data that is not persisted.

pub mod outbox;

use crate::app::error::AppError;
use crate::app::state::{AppState, Gate, Page};
use crate::app::sync::{self, Change};
use crate::domain::query::SavedQuery;
use crate::domain::template::{shipped_templates, Template};
use crate::domain::{self, PersonId, PersonRecord, PracticeSettings};
use crate::storage::crypto::{self, KdfParams, LockState};
use crate::storage::{idb::IdbStore, Collection, Store, StoreError, StoreExt, WriteBatch};
use leptos::prelude::{GetUntracked, Set, Update};
use std::cell::RefCell;
use std::rc::Rc;

const DB_NAME: &str = "praxisbote";
const DEMO_FLAG: &str = "demo";
/// Meta key of the practice's lock settings (`domain::lock::LockSettings`).
const LOCK_SETTINGS: &str = "lock_settings";
const REMINDER_SETTINGS: &str = "reminder_settings";
/// Meta key of the practice's letterhead (`domain::Letterhead`: logo, details block,
/// business details). A Meta document of its own, apart from the settings record.
const LETTERHEAD: &str = "letterhead";

/// Bounds that cover every appointment a practice keeps (keys are ISO date strings, so the
/// extreme `NaiveDate::MIN/MAX` would not sort).
const ALL_FROM: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
const ALL_TO: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2999, 12, 31).unwrap();

thread_local! {
    static STORE: RefCell<Option<Rc<dyn Store>>> = const { RefCell::new(None) };
    /// The same store as its IndexedDB type (a handle): the device sync's document store
    /// lives in the same database.
    static IDB: RefCell<Option<Rc<IdbStore>>> = const { RefCell::new(None) };
}

/// This device's id: the instance id of its sync document store (random, made once with the
/// database). Names the device in batch claims and in the replication ids.
pub async fn device_id() -> Result<String, AppError> {
    use praxisbote_sync::Local;
    // A store installed without IndexedDB (the send benchmark) is the only device.
    let Some(idb) = IDB.with(|s| s.borrow().clone()) else {
        return Ok("this-device".into());
    };
    crate::storage::idb::IdbLocal::new(&idb)
        .instance_id()
        .await
        .map_err(|e| AppError::msg("devices.err_device_id", [("error", e)]))
}

/// The opened store as an IndexedDB store. Panics before [`boot`] has opened it.
pub fn idb_store() -> Rc<IdbStore> {
    IDB.with(|s| s.borrow().clone())
        .expect("store opened in boot()")
}

/// A storage error as the UI layer's error (translated only when shown).
pub(crate) fn store_err(e: StoreError) -> AppError {
    AppError::Store(e)
}

/// The opened store. Panics before [`boot`] has opened it (a programming error).
pub fn store() -> Rc<dyn Store> {
    STORE
        .with(|s| s.borrow().clone())
        .expect("store opened in boot()")
}

/// Uses `store` without [`boot`] (benchmarks).
pub(crate) fn install_store(store: Rc<dyn Store>) {
    STORE.with(|s| *s.borrow_mut() = Some(store));
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn url_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Opens the database, loads the demo practice into an empty one (or on `?demo=reset`),
/// moves final outbox messages past the retention period into the send-log archive, and
/// reads everything into the signals.
pub async fn boot(state: AppState) -> Result<(), AppError> {
    mark("pb:boot");
    let idb = Rc::new(IdbStore::open(DB_NAME).await.map_err(store_err)?);
    IDB.with(|s| *s.borrow_mut() = Some(idb.clone()));
    let store: Rc<dyn Store> = idb;
    install_store(store.clone());
    mark("pb:store-open");
    // Ask the browser not to evict the practice's data under storage pressure.
    leptos::task::spawn_local(async {
        crate::storage::idb::request_persistent_storage().await;
    });

    // An encrypted practice opens locked: nothing is read before the lock screen unlocks
    // it (then `after_unlock` does the rest of the start). `?demo=reset` does not apply.
    if crypto::lock_state(&*store) == LockState::Locked {
        state.encrypted.set(true);
        state.gate.set(Gate::Locked);
        return Ok(());
    }
    let reset = url_param("demo").as_deref() == Some("reset");
    if reset || store.is_empty().await.map_err(store_err)? {
        {
            // Replaces the whole store: not while a tab changes the outbox.
            let _lock = sync::lock(sync::OUTBOX_LOCK).await;
            load_demo(&*store).await?;
        }
        sync::announce(&Change::Everything);
        if reset {
            // Drop the parameter so a reload does not reset again.
            if let Some(w) = web_sys::window() {
                let hash = w.location().hash().unwrap_or_default();
                let _ = w.history().and_then(|h| {
                    h.replace_state_with_url(
                        &wasm_bindgen::JsValue::NULL,
                        "",
                        Some(&format!("/{hash}")),
                    )
                });
            }
        }
    }
    start_reading(state).await
}

/// What a start does once the store can be read: archive old outbox messages, read
/// everything.
async fn start_reading(state: AppState) -> Result<(), AppError> {
    let store = store();
    // Keeps what every start reads bounded; a failure here must not stop the app.
    {
        let _lock = sync::lock(sync::OUTBOX_LOCK).await;
        if let Err(e) = crate::storage::retention::compact_outbox(&*store, now()).await {
            state.error.set(Some(store_err(e).to_string()));
        }
    }
    reload(state).await
}

fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

async fn load_demo(store: &dyn Store) -> Result<(), AppError> {
    let demo = crate::app::engine::demo(1, today()).await?;
    let flag = [crate::storage::DocOp::Put {
        collection: Collection::Meta,
        key: DEMO_FLAG.to_string(),
        value: serde_json::json!(true),
    }];
    // One transaction: an interrupted load leaves an empty database, never half a demo.
    store
        .write(WriteBatch {
            clear_all: true,
            persons: &demo.persons,
            appointments: &demo.appointments,
            settings: Some(&demo.settings),
            docs: &flag,
            ..Default::default()
        })
        .await
        .map_err(store_err)
}

/// Reads all data from the store into the signals.
pub async fn reload(state: AppState) -> Result<(), AppError> {
    reload_queries(state).await?;
    reload_templates(state).await?;
    reload_settings(state).await?;
    reload_meta(state).await?;
    reload_all_persons(state).await?;
    outbox::reload_view(state).await?;
    mark("pb:read");
    let lock_state = crypto::lock_state(&*store());
    // Only real changes notify (a re-read must not redraw what depends on these).
    let encrypted = lock_state != LockState::Plain;
    if state.encrypted.get_untracked() != encrypted {
        state.encrypted.set(encrypted);
    }
    // A real practice (not the demo) that is not encrypted yet sets its passphrase first.
    let demo = state.demo.get_untracked();
    if state.gate.get_untracked() == Gate::Open && lock_state == LockState::Plain && !demo {
        state.gate.set(Gate::SetUp);
    }
    state.loaded.set(true);
    mark("pb:loaded");
    // The patient list is shown now; the pages that use appointments wait for these.
    reload_appointments(state).await
}

/// A `performance.mark` (the start-up benchmark reads them to tell where the time goes).
fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// Reads the part of the store another tab announced as changed (nothing before the start
/// has opened the store: the start reads everything).
pub async fn refresh(state: AppState, change: Change) -> Result<(), AppError> {
    if STORE.with(|s| s.borrow().is_none()) {
        return Ok(());
    }
    // A locked tab reads nothing (and keeps nothing a read in flight brings back).
    if crypto::lock_state(&*store()).is_locked() {
        return Ok(());
    }
    let read = refresh_part(state, change).await;
    if crypto::lock_state(&*store()).is_locked() {
        forget_data(state, crypto::lock_state(&*store()) == LockState::Sending);
        return Ok(());
    }
    read
}

async fn refresh_part(state: AppState, change: Change) -> Result<(), AppError> {
    match change {
        Change::Persons { ids } => reload_persons(state, &ids).await,
        Change::People => reload_people(state).await,
        Change::Settings => reload_settings(state).await,
        Change::Queries => reload_queries(state).await,
        Change::Templates => reload_templates(state).await,
        Change::Meta => reload_meta(state).await,
        Change::Outbox { .. } => outbox::reload_view(state).await,
        Change::Everything => reload(state).await,
        Change::Link { .. } | Change::Hello | Change::Lock | Change::Reopen => Ok(()),
    }
}

/// All persons and appointments.
async fn reload_people(state: AppState) -> Result<(), AppError> {
    reload_all_persons(state).await?;
    reload_appointments(state).await
}

async fn reload_all_persons(state: AppState) -> Result<(), AppError> {
    let persons = store().all_persons().await.map_err(store_err)?;
    mark("pb:persons-read");
    state.persons.set(persons);
    mark("pb:people-shown");
    Ok(())
}

async fn reload_appointments(state: AppState) -> Result<(), AppError> {
    let appointments = store()
        .appointments_between(ALL_FROM, ALL_TO)
        .await
        .map_err(store_err)?;
    mark("pb:appointments-read");
    // Read while the tab was locked: nothing is kept.
    if crypto::lock_state(&*store()).is_locked() {
        return Ok(());
    }
    state.appointments.set(appointments);
    if !state.appointments_ready.get_untracked() {
        state.appointments_ready.set(true);
    }
    Ok(())
}

/// These persons (written or deleted elsewhere) and their appointments.
async fn reload_persons(state: AppState, ids: &[PersonId]) -> Result<(), AppError> {
    let store = store();
    let mut fresh = Vec::with_capacity(ids.len());
    let mut appointments = Vec::new();
    for id in ids {
        fresh.push((id.clone(), store.get_person(id).await.map_err(store_err)?));
        appointments.extend(store.appointments_of(id).await.map_err(store_err)?);
    }
    state.persons.update(|ps| {
        for (id, record) in fresh {
            match (ps.iter().position(|p| p.person.id == id), record) {
                (Some(i), Some(r)) => ps[i] = r,
                (Some(i), None) => {
                    ps.remove(i);
                }
                (None, Some(r)) => ps.push(r),
                (None, None) => {}
            }
        }
    });
    state.appointments.update(|all| {
        all.retain(|a| !ids.contains(&a.person_id));
        all.extend(appointments);
        all.sort_by(|a, b| (a.start, &a.id.0).cmp(&(b.start, &b.id.0)));
    });
    Ok(())
}

async fn reload_settings(state: AppState) -> Result<(), AppError> {
    let settings = store()
        .settings()
        .await
        .map_err(store_err)?
        .unwrap_or_default();
    state.settings.set(settings);
    Ok(())
}

async fn reload_queries(state: AppState) -> Result<(), AppError> {
    // Documents that do not read as their type are set aside (and counted), not dropped.
    let queries: Vec<SavedQuery> = store()
        .load_docs(Collection::Queries)
        .await
        .map_err(store_err)?;
    state.saved_queries.set(queries);
    Ok(())
}

async fn reload_templates(state: AppState) -> Result<(), AppError> {
    let stored: Vec<Template> = store()
        .load_docs(Collection::Templates)
        .await
        .map_err(store_err)?;
    state.templates.set(merge_templates(stored));
    Ok(())
}

/// The demo flag, the last backup and the relay settings.
async fn reload_meta(state: AppState) -> Result<(), AppError> {
    let store = store();
    let demo = store
        .get_doc(Collection::Meta, DEMO_FLAG)
        .await
        .map_err(store_err)?
        .is_some_and(|v| v == serde_json::json!(true));
    let last = crate::storage::transfer::last_backup(&*store)
        .await
        .map_err(store_err)?;
    let relay = outbox::relay_config().await?;
    let quarantined = store.quarantined().await.map_err(store_err)?;
    let lock_settings = store
        .get_typed(Collection::Meta, LOCK_SETTINGS)
        .await
        .map_err(store_err)?
        .unwrap_or_default();
    state.lock_settings.set(lock_settings);
    let reminders = store
        .get_typed(Collection::Meta, REMINDER_SETTINGS)
        .await
        .map_err(store_err)?
        .unwrap_or_default();
    state.reminders.set(reminders);
    state.demo.set(demo);
    state.quarantined.set(quarantined);
    state.last_backup.set(Some(last));
    state.relay.set(relay);
    Ok(())
}

/// Removes the demo practice: all persons, appointments and settings.
pub async fn remove_demo(state: AppState) -> Result<(), AppError> {
    replace(state, |store| async move {
        store.clear_all().await.map_err(store_err)
    })
    .await
}

/// Replaces the whole store with `write` while no tab changes the outbox (so nothing read
/// before can be written back), then reads everything again, here and in the other tabs.
async fn replace<F, Fut>(state: AppState, write: F) -> Result<(), AppError>
where
    F: FnOnce(Rc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    {
        let _lock = sync::lock(sync::OUTBOX_LOCK).await;
        write(store()).await?;
    }
    sync::announce(&Change::Everything);
    reload(state).await
}

pub async fn save_person(state: AppState, record: PersonRecord) -> Result<(), AppError> {
    store()
        .put_persons(std::slice::from_ref(&record))
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Persons {
        ids: vec![record.person.id.clone()],
    });
    state.persons.update(
        |ps| match ps.iter_mut().find(|p| p.person.id == record.person.id) {
            Some(p) => *p = record,
            None => ps.push(record),
        },
    );
    Ok(())
}

pub async fn delete_person(state: AppState, id: PersonId) -> Result<(), AppError> {
    store().delete_person(&id).await.map_err(store_err)?;
    sync::announce(&Change::Persons {
        ids: vec![id.clone()],
    });
    state.persons.update(|ps| ps.retain(|p| p.person.id != id));
    state
        .appointments
        .update(|a| a.retain(|a| a.person_id != id));
    Ok(())
}

pub async fn save_settings(state: AppState, settings: PracticeSettings) -> Result<(), AppError> {
    store().put_settings(&settings).await.map_err(store_err)?;
    sync::announce(&Change::Settings);
    state.settings.set(settings);
    Ok(())
}

/// The letterhead as stored now (read fresh where a letter is made); `None` when the
/// practice has none.
pub async fn letterhead() -> Result<Option<domain::Letterhead>, AppError> {
    store()
        .get_typed(Collection::Meta, LETTERHEAD)
        .await
        .map_err(store_err)
}

/// Stores the letterhead.
pub async fn save_letterhead(letterhead: &domain::Letterhead) -> Result<(), AppError> {
    store()
        .put_typed(Collection::Meta, LETTERHEAD, letterhead)
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Meta);
    Ok(())
}

/// These persons as stored now (for decisions that must see the latest consents); unknown
/// ids are left out.
pub async fn persons_by_id(ids: &[PersonId]) -> Result<Vec<PersonRecord>, AppError> {
    Ok(store()
        .get_persons(ids)
        .await
        .map_err(store_err)?
        .into_iter()
        .flatten()
        .collect())
}

/// The persons of `ids` as stored now, by id — for decisions made at the moment of
/// consequence (hand-over, queueing, printing), not on the tab's copy. The records: the
/// birth date decides who is a minor (messages go to a guardian); templates get only the
/// `Person`.
pub async fn persons_now(
    ids: &[PersonId],
) -> Result<std::collections::HashMap<PersonId, PersonRecord>, AppError> {
    Ok(persons_by_id(ids)
        .await?
        .into_iter()
        .map(|r| (r.person.id.clone(), r))
        .collect())
}

/// A new random id for a person or appointment.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Saves a query under its name (replacing one of the same name).
pub async fn save_query(state: AppState, query: SavedQuery) -> Result<(), AppError> {
    let value = serde_json::to_value(&query)?;
    store()
        .put_docs(
            Collection::Queries,
            &[crate::storage::Doc {
                key: query.name.clone(),
                value,
            }],
        )
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Queries);
    state.saved_queries.update(|qs| {
        qs.retain(|q| q.name != query.name);
        qs.push(query);
        qs.sort_by(|a, b| a.name.cmp(&b.name));
    });
    Ok(())
}

/// Shipped templates with stored ones of the same id replacing them, plus the practice's own.
fn merge_templates(stored: Vec<Template>) -> Vec<Template> {
    let mut all = shipped_templates();
    for t in stored {
        match all.iter_mut().find(|s| s.id == t.id) {
            Some(s) => *s = t,
            None => all.push(t),
        }
    }
    all
}

/// Stores a template (an edited shipped one under its shipped id).
pub async fn save_template(state: AppState, template: Template) -> Result<(), AppError> {
    let value = serde_json::to_value(&template)?;
    store()
        .put_docs(
            Collection::Templates,
            &[crate::storage::Doc {
                key: template.id.clone(),
                value,
            }],
        )
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Templates);
    state
        .templates
        .update(|all| match all.iter_mut().find(|t| t.id == template.id) {
            Some(t) => *t = template,
            None => all.push(template),
        });
    Ok(())
}

/// Deletes an own template, or restores a shipped one to its original. Returns true when a
/// shipped original was restored.
pub async fn delete_template(state: AppState, template: &Template) -> Result<bool, AppError> {
    store()
        .delete_doc(Collection::Templates, &template.id)
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Templates);
    let original = template.shipped_original();
    state.templates.update(|all| match &original {
        Some(o) => {
            if let Some(t) = all.iter_mut().find(|t| t.id == o.id) {
                *t = o.clone();
            }
        }
        None => all.retain(|t| t.id != template.id),
    });
    Ok(original.is_some())
}

// ---- Import and backup (issue 8) ----

/// Stores an import plan (inserts and updates) in ONE transaction, then updates the signals.
/// On error nothing was stored and the signals are unchanged.
pub async fn apply_import(
    state: AppState,
    plan: crate::domain::import::ImportPlan,
) -> Result<crate::storage::transfer::ImportResult, AppError> {
    use crate::storage::transfer;
    let (records, result) = transfer::import_records(plan);
    transfer::apply_person_import(&*store(), &records, result, today())
        .await
        .map_err(store_err)?;
    sync::announce(&Change::People);
    state.persons.update(|ps| {
        let index: std::collections::HashMap<PersonId, usize> = ps
            .iter()
            .enumerate()
            .map(|(i, p)| (p.person.id.clone(), i))
            .collect();
        for r in records {
            match index.get(&r.person.id) {
                Some(&i) => ps[i] = r,
                None => ps.push(r),
            }
        }
    });
    Ok(result)
}

/// Everything the practice keeps, as one versioned backup.
pub async fn collect_backup() -> Result<domain::backup::Backup, AppError> {
    crate::storage::transfer::collect_backup(&*store(), now())
        .await
        .map_err(store_err)
}

/// The backup file to download: `(file name, text, backup)`. Sealed with the practice's
/// data key ("verschlüsselte Sicherung", `storage::crypto::seal_backup`) unless `plain`
/// (the explicit "Unverschlüsselt exportieren") or the database is unencrypted (demo).
pub async fn export_backup(
    plain: bool,
) -> Result<(String, String, domain::backup::Backup), AppError> {
    let b = collect_backup().await?;
    let json = domain::backup::export(&b);
    if !plain {
        let created = b.created_at.format("%Y-%m-%dT%H:%M:%S").to_string();
        if let Some(sealed) =
            crate::storage::crypto::seal_backup(&*store(), &json, &created).map_err(store_err)?
        {
            return Ok((b.encrypted_file_name(), sealed, b));
        }
    }
    Ok((b.file_name(), json, b))
}

/// Opens an encrypted backup file: with the open database's key when it is the same
/// practice's, else with `secret` (that practice's passphrase or recovery key). Reads and
/// writes nothing stored. `Err` with `StoreError::BackupNeedsKey` asks for the secret.
pub fn open_encrypted_backup(
    text: &str,
    secret: Option<crate::storage::crypto::BackupSecret<'_>>,
) -> Result<String, crate::storage::StoreError> {
    match secret {
        None => crate::storage::crypto::open_backup(&*store(), text),
        Some(secret) => crate::storage::crypto::open_backup_with(text, secret),
    }
}

/// Records today as the date of the last backup.
pub async fn mark_backup(state: AppState) -> Result<(), AppError> {
    let d = today();
    crate::storage::transfer::mark_backup(&*store(), d)
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Meta);
    state.last_backup.set(Some(Some(d)));
    Ok(())
}

/// Replaces all data with the backup's (one transaction), then reloads the signals.
pub async fn restore_backup(
    state: AppState,
    backup: domain::backup::Backup,
) -> Result<(), AppError> {
    replace(state, |store| async move {
        let last = crate::storage::transfer::last_backup(&*store)
            .await
            .map_err(store_err)?;
        crate::storage::transfer::restore_backup(&*store, &backup, last)
            .await
            .map_err(store_err)
    })
    .await
}

/// Stores imported appointments in ONE transaction, then updates the signals.
pub async fn apply_appointment_import(
    state: AppState,
    appointments: Vec<domain::Appointment>,
) -> Result<usize, AppError> {
    crate::storage::transfer::apply_appointment_import(&*store(), &appointments, today())
        .await
        .map_err(store_err)?;
    sync::announce(&Change::People);
    let n = appointments.len();
    state.appointments.update(|all| {
        all.extend(appointments);
        all.sort_by(|a, b| (a.start, &a.id.0).cmp(&(b.start, &b.id.0)));
    });
    Ok(n)
}

/// The persons whose birthday (day-month) lies in `from..=to` (wrapping the year end), read
/// fresh from the store through its birthday index.
pub async fn persons_by_birthday(
    from: crate::domain::query::DayMonth,
    to: crate::domain::query::DayMonth,
) -> Result<Vec<PersonRecord>, AppError> {
    store()
        .persons_by_birthday(from, to)
        .await
        .map_err(store_err)
}

/// Records a printed letter batch in the send log (Protokoll): the batch and one message per
/// recipient, queued and at once "gedruckt" (`domain::print::printed_batch`), in one
/// transaction, in the same collections the transmit loop uses.
pub async fn record_printed_batch(
    state: AppState,
    batch: crate::domain::outbox::Batch,
    items: Vec<crate::domain::outbox::QueueItem>,
) -> Result<(), AppError> {
    let at = now();
    let messages = crate::domain::print::printed_batch(&batch, items, at)?;
    outbox::queue(state, batch, messages).await
}

// ---- Encryption at rest: set-up, lock, unlock (issue 17) ----

/// Encrypts the practice's data with a key wrapped by `passphrase` (all stored records are
/// written again, sealed, in one transaction) and returns the recovery key's text, to be
/// shown once. The other tabs reload (they open the store anew, locked).
pub async fn set_up_encryption(state: AppState, passphrase: &str) -> Result<String, AppError> {
    let recovery = {
        let _lock = sync::lock(sync::OUTBOX_LOCK).await;
        crypto::set_up(&*store(), passphrase, KdfParams::APP)
            .await
            .map_err(store_err)?
    };
    sync::announce(&Change::Reopen);
    state.encrypted.set(true);
    Ok(recovery.to_string())
}

/// Unlocks with the passphrase, or with the recovery key (`recovery`), then reads
/// everything from the store (nothing was kept while locked).
pub async fn unlock(state: AppState, secret: &str, recovery: bool) -> Result<(), AppError> {
    let store = store();
    mark("pb:unlock");
    if recovery {
        crypto::unlock_with_recovery(&*store, secret).await
    } else {
        crypto::unlock(&*store, secret).await
    }
    .map_err(store_err)?;
    mark("pb:key-unwrapped");
    state.gate.set(Gate::Open);
    let read = start_reading(state).await;
    crate::app::send::transmit::wake(state);
    read
}

/// Locks this tab: the data key is wiped, every datum read from the store is dropped from
/// the signals, and the page shown afterwards is the patient list (no view of a person
/// stays open behind the lock screen). `announce`: lock the other tabs too ("Sperren").
pub fn lock(state: AppState, announce: bool) {
    // Not before encryption is set up, and not while the recovery key is shown once (it
    // would be lost); that screen shows no person.
    if !state.encrypted.get_untracked() || matches!(state.gate.get_untracked(), Gate::Recovery(_)) {
        return;
    }
    use crate::domain::lock::{key_on_lock, KeyOnLock};
    let keep = key_on_lock(
        &state.lock_settings.get_untracked(),
        state.sending_here.get_untracked(),
    ) == KeyOnLock::KeepForSending;
    if STORE.with(|s| s.borrow().is_some()) {
        if keep {
            // The transmit loop drops the key once the outbox (read fresh) is done.
            crypto::lock_for_sending(&*store());
            crate::app::send::transmit::wake(state);
        } else {
            crypto::lock(&*store());
        }
    }
    forget_data(state, keep);
    state.gate.set(Gate::Locked);
    if state.page.get_untracked() != Page::Persons(crate::domain::Kind::Patient) {
        state.go(Page::Persons(crate::domain::Kind::Patient));
    }
    if announce {
        sync::announce(&Change::Lock);
    }
}

/// Drops everything read from the store (one source of truth: after unlocking it is read
/// again, not restored from a copy).
///
/// `sending` (locked for sending): the relay settings stay for the transmit loop (its
/// address and access key, no patient datum); everything else goes.
fn forget_data(state: AppState, sending: bool) {
    use crate::app::repo::outbox::Outbox;
    state.loaded.set(false);
    state.persons.set(Vec::new());
    state.appointments.set(Vec::new());
    state.appointments_ready.set(false);
    state.settings.set(PracticeSettings::default());
    state.review.set(None);
    state.handover.set(None);
    state.saved_queries.set(Vec::new());
    state.templates.set(shipped_templates());
    state.quarantined.set(0);
    state.last_backup.set(None);
    state.outbox.set(Outbox::default());
    if !sending {
        state.relay.set(Default::default());
    }
    state.error.set(None);
    state.notice.set(None);
}

/// Sets a new passphrase after checking the current one (the data key is wrapped anew; no
/// record is rewritten). The other tabs reload and are locked.
pub async fn change_passphrase(current: &str, new: &str) -> Result<(), AppError> {
    let store = store();
    crypto::check_passphrase(&*store, current)
        .await
        .map_err(store_err)?;
    crypto::change_passphrase(&*store, new, KdfParams::APP)
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Reopen);
    Ok(())
}

/// Stores the practice's lock settings.
pub async fn save_lock_settings(
    state: AppState,
    settings: crate::domain::lock::LockSettings,
) -> Result<(), AppError> {
    store()
        .put_typed(Collection::Meta, LOCK_SETTINGS, &settings)
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Meta);
    state.lock_settings.set(settings);
    Ok(())
}

/// Stores the daily-reminder settings (channel order, templates, the day the notice was
/// dismissed).
pub async fn save_reminder_settings(
    state: AppState,
    settings: crate::domain::reminders::ReminderSettings,
) -> Result<(), AppError> {
    store()
        .put_typed(Collection::Meta, REMINDER_SETTINGS, &settings)
        .await
        .map_err(store_err)?;
    sync::announce(&Change::Meta);
    state.reminders.set(settings);
    Ok(())
}
