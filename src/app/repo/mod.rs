//! Actions that touch storage. Every write goes to the store first and updates the signals
//! only when the store accepted it, so the UI never shows data that is not persisted.

pub mod outbox;

use crate::app::state::AppState;
use crate::domain::query::SavedQuery;
use crate::domain::template::{shipped_templates, Template};
use crate::domain::{self, PersonId, PersonRecord, PracticeSettings};
use crate::storage::{idb::IdbStore, Collection, Store, StoreError, StoreExt, WriteBatch};
use leptos::prelude::{Set, Update};
use std::cell::RefCell;
use std::rc::Rc;

const DB_NAME: &str = "praxisbote";
const DEMO_FLAG: &str = "demo";

/// Bounds that cover every appointment a practice keeps (keys are ISO date strings, so the
/// extreme `NaiveDate::MIN/MAX` would not sort).
const ALL_FROM: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
const ALL_TO: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2999, 12, 31).unwrap();

thread_local! {
    static STORE: RefCell<Option<Rc<dyn Store>>> = const { RefCell::new(None) };
}

/// A storage error in the UI language (its catalogue key and arguments).
pub(crate) fn store_err(e: StoreError) -> String {
    crate::i18n::msg(&e)
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
pub async fn boot(state: AppState) -> Result<(), String> {
    let store = open_store().await?;
    // Ask the browser not to evict the practice's data under storage pressure.
    leptos::task::spawn_local(async {
        crate::storage::idb::request_persistent_storage().await;
    });

    let reset = url_param("demo").as_deref() == Some("reset");
    if reset || store.is_empty().await.map_err(store_err)? {
        load_demo(&*store).await?;
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
    // Keeps what every start reads bounded; a failure here must not stop the app.
    if let Err(e) = crate::storage::retention::compact_outbox(&*store, now()).await {
        state.error.set(Some(store_err(e)));
    }
    reload(state).await
}

fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

async fn open_store() -> Result<Rc<dyn Store>, String> {
    let store: Rc<dyn Store> = Rc::new(IdbStore::open(DB_NAME).await.map_err(store_err)?);
    STORE.with(|s| *s.borrow_mut() = Some(store.clone()));
    Ok(store)
}

/// The workbench's start: opens the database the shell has already opened (and migrated,
/// and filled with the demo practice when it was empty) and reads everything into the
/// workbench's signals.
pub async fn attach(state: AppState) -> Result<(), String> {
    open_store().await?;
    reload(state).await
}

/// Whether the outbox holds a message the transmit loop still has to carry (the shell then
/// loads the workbench at start, so an interrupted batch resumes after a reload).
pub async fn outbox_open() -> Result<bool, String> {
    Ok(store()
        .list_docs(Collection::Outbox)
        .await
        .map_err(store_err)?
        .iter()
        .any(|d| crate::domain::outbox::stored_message_is_open(&d.value)))
}

async fn load_demo(store: &dyn Store) -> Result<(), String> {
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
pub async fn reload(state: AppState) -> Result<(), String> {
    let store = store();
    let persons = store.all_persons().await.map_err(store_err)?;
    let appointments = store
        .appointments_between(ALL_FROM, ALL_TO)
        .await
        .map_err(store_err)?;
    let settings = store
        .settings()
        .await
        .map_err(store_err)?
        .unwrap_or_default();
    let demo = store
        .get_doc(Collection::Meta, DEMO_FLAG)
        .await
        .map_err(store_err)?
        .is_some_and(|v| v == serde_json::json!(true));
    // Documents that do not read as their type are set aside (and counted), not dropped.
    let queries: Vec<SavedQuery> = store
        .load_docs(Collection::Queries)
        .await
        .map_err(store_err)?;
    state.saved_queries.set(queries);
    let stored: Vec<Template> = store
        .load_docs(Collection::Templates)
        .await
        .map_err(store_err)?;
    let quarantined = store.quarantined().await.map_err(store_err)?;
    state.templates.set(merge_templates(stored));
    state.persons.set(persons);
    state.appointments.set(appointments);
    state.settings.set(settings);
    state.demo.set(demo);
    state.quarantined.set(quarantined);
    state.loaded.set(true);
    Ok(())
}

/// Removes the demo practice: all persons, appointments and settings.
pub async fn remove_demo(state: AppState) -> Result<(), String> {
    store().clear_all().await.map_err(store_err)?;
    crate::app::sync::notify();
    reload(state).await
}

pub async fn save_person(state: AppState, record: PersonRecord) -> Result<(), String> {
    store()
        .put_persons(std::slice::from_ref(&record))
        .await
        .map_err(store_err)?;
    crate::app::sync::notify();
    state.persons.update(
        |ps| match ps.iter_mut().find(|p| p.person.id == record.person.id) {
            Some(p) => *p = record,
            None => ps.push(record),
        },
    );
    Ok(())
}

pub async fn delete_person(state: AppState, id: PersonId) -> Result<(), String> {
    store().delete_person(&id).await.map_err(store_err)?;
    crate::app::sync::notify();
    state.persons.update(|ps| ps.retain(|p| p.person.id != id));
    state
        .appointments
        .update(|a| a.retain(|a| a.person_id != id));
    Ok(())
}

pub async fn save_settings(state: AppState, settings: PracticeSettings) -> Result<(), String> {
    store().put_settings(&settings).await.map_err(store_err)?;
    crate::app::sync::notify();
    state.settings.set(settings);
    Ok(())
}

/// A new random id for a person or appointment.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Saves a query under its name (replacing one of the same name).
pub async fn save_query(state: AppState, query: SavedQuery) -> Result<(), String> {
    let value = serde_json::to_value(&query).map_err(|e| e.to_string())?;
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
    crate::app::sync::notify();
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
pub async fn save_template(state: AppState, template: Template) -> Result<(), String> {
    let value = serde_json::to_value(&template).map_err(|e| e.to_string())?;
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
    crate::app::sync::notify();
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
pub async fn delete_template(state: AppState, template: &Template) -> Result<bool, String> {
    store()
        .delete_doc(Collection::Templates, &template.id)
        .await
        .map_err(store_err)?;
    crate::app::sync::notify();
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
) -> Result<crate::storage::transfer::ImportResult, String> {
    use crate::storage::transfer;
    let (records, result) = transfer::import_records(plan);
    transfer::apply_person_import(&*store(), &records, result, today())
        .await
        .map_err(store_err)?;
    crate::app::sync::notify();
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
pub async fn collect_backup() -> Result<domain::backup::Backup, String> {
    crate::storage::transfer::collect_backup(&*store(), now())
        .await
        .map_err(store_err)
}

/// The date of the last backup download.
pub async fn last_backup() -> Result<Option<chrono::NaiveDate>, String> {
    crate::storage::transfer::last_backup(&*store())
        .await
        .map_err(store_err)
}

/// Records today as the date of the last backup; returns it.
pub async fn mark_backup() -> Result<chrono::NaiveDate, String> {
    let d = today();
    crate::storage::transfer::mark_backup(&*store(), d)
        .await
        .map_err(store_err)?;
    crate::app::sync::notify();
    Ok(d)
}

/// Replaces all data with the backup's (one transaction), then reloads the signals.
pub async fn restore_backup(state: AppState, backup: domain::backup::Backup) -> Result<(), String> {
    let store = store();
    let last = crate::storage::transfer::last_backup(&*store)
        .await
        .map_err(store_err)?;
    crate::storage::transfer::restore_backup(&*store, &backup, last)
        .await
        .map_err(store_err)?;
    crate::app::sync::notify();
    reload(state).await
}

/// Stores imported appointments in ONE transaction, then updates the signals.
pub async fn apply_appointment_import(
    state: AppState,
    appointments: Vec<domain::Appointment>,
) -> Result<usize, String> {
    crate::storage::transfer::apply_appointment_import(&*store(), &appointments, today())
        .await
        .map_err(store_err)?;
    crate::app::sync::notify();
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
) -> Result<Vec<PersonRecord>, String> {
    store()
        .persons_by_birthday(from, to)
        .await
        .map_err(store_err)
}

/// Records a printed letter batch in the send log (Protokoll): the batch and one message per
/// recipient, queued and at once "gedruckt" (`domain::print::printed_batch`), in one
/// transaction, in the same collections the transmit loop uses; then the loop's copy learns
/// about it so the Protokoll shows it.
pub async fn record_printed_batch(
    batch: &crate::domain::outbox::Batch,
    items: Vec<crate::domain::outbox::QueueItem>,
) -> Result<(), String> {
    let at = chrono::Local::now().naive_local();
    let messages = crate::domain::print::printed_batch(batch, items, at)
        .map_err(|e| crate::i18n::outbox::error(&e))?;
    outbox::queue(batch, &messages).await?;
    crate::app::send::transmit::refresh_from_store().await
}
