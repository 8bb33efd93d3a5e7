//! Serial letters as one PDF, made in the browser: renders every recipient's letter, hands the
//! batch to the PDF Web Worker (its own wasm with printpdf, started on first use), shows the
//! progress with "Abbrechen", then an in-app preview with "Herunterladen" and "Drucken", and
//! records the batch in the send log as "gedruckt" per recipient. Optionally sorted by
//! postcode for bulk mail; labels and envelopes for the same recipients ([`super::labels`]).
//!
//! Worker protocol: see `docs/design/pdf-worker.md` (ready / generate / cancel / progress / done /
//! cancelled / error).

use crate::app::error::AppError;
use crate::app::repo;
use crate::app::send::labels::{LabelOutput, RegionCounts};
use crate::app::send::queue;
use crate::app::state::AppState;
use crate::domain::address::{address_block, guardian_address_block};
use crate::domain::bulkmail::postcode_order;
use crate::domain::outbox::{Batch, QueueItem};
use crate::domain::print::{document_title, download_name, letter_from_text, PrintJob};
use crate::domain::template::Template;
use crate::i18n::{self, tf};
use js_sys::{Array, Object, Reflect};
use leptos::html;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

/// The worker's loader (Trunk `data-loader-shim`; worker outputs are not hashed).
const WORKER_URL: &str = "./pdf-worker-loader.js";

/// Receives the worker's messages for the current job.
type Handler = Box<dyn Fn(&JsValue)>;

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
    static READY: Cell<bool> = const { Cell::new(false) };
    /// A job posted before the worker said "ready".
    static PENDING: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    /// The handler of the current job (replaced by the next job).
    static HANDLER: RefCell<Option<Handler>> = const { RefCell::new(None) };
    /// The blob URL of the last PDF (revoked when a new one is made).
    static LAST_URL: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub(crate) fn field(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

pub(crate) fn message(kind: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"type".into(), &kind.into());
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// Makes `h` the receiver of the worker's messages for the job about to be posted.
pub(crate) fn set_handler(h: Handler) {
    HANDLER.with(|slot| *slot.borrow_mut() = Some(h));
}

/// A blob URL for the PDF bytes of a `done` message (the previous PDF's URL is revoked).
pub(crate) fn show_pdf(pdf: &JsValue) -> Result<String, AppError> {
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type("application/pdf");
    let blob = web_sys::Blob::new_with_buffer_source_sequence_and_options(&Array::of1(pdf), &bag);
    let url = blob
        .and_then(|b| web_sys::Url::create_object_url_with_blob(&b))
        .map_err(|e| AppError::msg("letters.show_failed", [("error", format!("{e:?}"))]))?;
    if let Some(old) = LAST_URL.with(|l| l.borrow_mut().replace(url.clone())) {
        let _ = web_sys::Url::revoke_object_url(&old);
    }
    Ok(url)
}

/// The worker, started on first use.
pub(crate) fn worker() -> Result<Worker, AppError> {
    if let Some(w) = WORKER.with(|w| w.borrow().clone()) {
        return Ok(w);
    }
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let w = Worker::new_with_options(WORKER_URL, &opts)
        .map_err(|e| AppError::msg("letters.worker_start_failed", [("error", format!("{e:?}"))]))?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        let data = ev.data();
        if field(&data, "type").as_string().as_deref() == Some("ready") {
            READY.with(|r| r.set(true));
            if let Some(job) = PENDING.with(|p| p.borrow_mut().take()) {
                post(&job);
            }
            return;
        }
        HANDLER.with(|h| {
            if let Some(h) = h.borrow().as_ref() {
                h(&data)
            }
        });
    });
    w.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|_ev: web_sys::Event| {
        let m = message(
            "error",
            &[("message", i18n::t("letters.worker_load_failed").into())],
        );
        HANDLER.with(|h| {
            if let Some(h) = h.borrow().as_ref() {
                h(&m)
            }
        });
    });
    w.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    WORKER.with(|slot| *slot.borrow_mut() = Some(w.clone()));
    Ok(w)
}

fn post(m: &JsValue) {
    if let Some(w) = WORKER.with(|w| w.borrow().clone()) {
        let _ = w.post_message(m);
    }
}

/// Posts a message now, or when the worker is ready.
pub(crate) fn post_when_ready(m: JsValue) {
    if READY.with(|r| r.get()) {
        post(&m);
    } else {
        PENDING.with(|p| *p.borrow_mut() = Some(m));
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    /// Rendering and checking the recipients.
    Preparing,
    Running {
        done: u32,
        total: u32,
    },
    Ready {
        url: String,
        pages: u32,
        letters: usize,
        ms: f64,
    },
    Cancelled,
    Failed(String),
}

/// Everything prepared for one PDF: the job for the worker, the send-log items and who was
/// left out (with the reasons, for the page).
struct Prepared {
    job: PrintJob,
    batch: Batch,
    items: Vec<QueueItem>,
    skipped: Vec<String>,
}

/// Prepares the batch through the one queue path ([`queue::prepare`]: consent, fresh
/// address, rendering) and lays out a letter for every queued item, in postcode order for
/// bulk mail when `by_postcode`.
async fn prepare(
    state: AppState,
    template: &Template,
    duplex: bool,
    by_postcode: bool,
) -> Result<Prepared, AppError> {
    let mut p = queue::prepare(state, template).await?;
    if by_postcode {
        let empty = Default::default();
        let addrs: Vec<_> = p
            .prepared
            .items
            .iter()
            .map(|it| {
                p.persons.get(&it.item.person_id).map_or(&empty, |x| {
                    // A minor's letter goes to the guardian's address.
                    it.guardian
                        .and_then(|g| x.person.guardians.get(g))
                        .and_then(|g| g.address.as_ref())
                        .unwrap_or(&x.person.address)
                })
            })
            .collect();
        let order = postcode_order(&addrs);
        let mut items: Vec<Option<_>> = std::mem::take(&mut p.prepared.items)
            .into_iter()
            .map(Some)
            .collect();
        p.prepared.items = order.into_iter().filter_map(|i| items[i].take()).collect();
    }
    let skipped = queue::skipped_texts(&p.prepared.skipped);
    let today = p.now.date();
    let mut letters = Vec::with_capacity(p.prepared.items.len());
    for it in &p.prepared.items {
        let Some(record) = p.persons.get(&it.item.person_id) else {
            continue;
        };
        let person = &record.person;
        let block = match it.guardian.and_then(|g| person.guardians.get(g)) {
            Some(g) => guardian_address_block(person, g),
            None => address_block(person),
        };
        let c = &it.item.content;
        letters.push(letter_from_text(
            block,
            today,
            c.subject.as_deref().unwrap_or_default(),
            &c.text,
        ));
    }
    if letters.is_empty() {
        return Err(if skipped.is_empty() {
            AppError::msg("letters.nothing", [])
        } else {
            AppError::msg(
                "letters.skipped",
                [
                    ("n", skipped.len().to_string()),
                    ("list", skipped.join("; ")),
                ],
            )
        });
    }
    let topic = p.batch.purpose.label_de();
    let letterhead = crate::app::repo::letterhead().await?;
    Ok(Prepared {
        job: PrintJob {
            title: document_title(topic),
            created: p.now,
            practice: p.practice,
            letters,
            duplex,
            letterhead,
        },
        items: p.prepared.queue_items(),
        batch: p.batch,
        skipped,
    })
}

/// Hands the job to the PDF worker and follows it: progress, the finished PDF (shown, then
/// the batch recorded as "gedruckt" in the send log), cancel or error.
fn start_job(
    state: AppState,
    job: PrintJob,
    batch: Batch,
    items: Vec<QueueItem>,
    phase: RwSignal<Phase>,
    logged: RwSignal<Option<String>>,
) {
    let json = match serde_json::to_string(&job) {
        Ok(j) => j,
        Err(e) => {
            phase.set(Phase::Failed(tf("letters.job_failed", &[("error", &e)])));
            return;
        }
    };
    let total = job.letters.len() as u32;
    let letters = job.letters.len();
    if let Err(e) = worker() {
        phase.set(Phase::Failed(e.to_string()));
        return;
    }
    logged.set(None);
    phase.set(Phase::Running { done: 0, total });
    let started = now_ms();
    let pending = RefCell::new(Some((batch, items)));
    set_handler(Box::new(move |data: &JsValue| {
        match field(data, "type").as_string().as_deref() {
            Some("progress") => {
                let done = field(data, "done").as_f64().unwrap_or(0.0) as u32;
                let total = field(data, "total").as_f64().unwrap_or(0.0) as u32;
                let _ = phase.try_set(Phase::Running { done, total });
            }
            Some("done") => {
                let ms = now_ms() - started;
                let pages = field(data, "pages").as_f64().unwrap_or(0.0) as u32;
                match show_pdf(&field(data, "pdf")) {
                    Ok(url) => {
                        let _ = phase.try_set(Phase::Ready {
                            url,
                            pages,
                            letters,
                            ms,
                        });
                        if let Some((batch, items)) = pending.borrow_mut().take() {
                            let n = items.len();
                            leptos::task::spawn_local(async move {
                                let text =
                                    match repo::record_printed_batch(state, batch, items).await {
                                        Ok(()) => tf("letters.logged", &[("n", &n)]),
                                        Err(e) => tf("letters.not_logged", &[("error", &e)]),
                                    };
                                let _ = logged.try_set(Some(text));
                            });
                        }
                    }
                    Err(e) => {
                        let _ = phase.try_set(Phase::Failed(e.to_string()));
                    }
                }
            }
            Some("cancelled") => {
                let _ = phase.try_set(Phase::Cancelled);
            }
            Some("error") => {
                let m = field(data, "message")
                    .as_string()
                    .unwrap_or_else(|| i18n::t("letters.unknown_error").into());
                let _ = phase.try_set(Phase::Failed(m));
            }
            _ => {}
        }
    }));
    post_when_ready(message("generate", &[("job", json.into())]));
}

/// The output section of the composer for letters.
#[component]
pub fn LetterOutput(draft: RwSignal<Option<Template>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let phase = RwSignal::new(Phase::Idle);
    let duplex = RwSignal::new(false);
    let logged = RwSignal::new(None::<String>);
    let skipped_note = RwSignal::new(None::<String>);
    let by_postcode = RwSignal::new(false);
    let frame = NodeRef::<html::Iframe>::new();
    let file_name = StoredValue::new(String::new());
    let topic = state
        .handover
        .with_untracked(|h| h.as_ref().map(|h| h.purpose.label_de()).unwrap_or_default());

    let generate = move |_| {
        let Some(template) = draft.get_untracked() else {
            phase.set(Phase::Failed(i18n::t("letters.choose_template").into()));
            return;
        };
        phase.set(Phase::Preparing);
        logged.set(None);
        skipped_note.set(None);
        leptos::task::spawn_local(async move {
            let prepared = prepare(
                state,
                &template,
                duplex.get_untracked(),
                by_postcode.get_untracked(),
            )
            .await;
            let Prepared {
                job,
                batch,
                items,
                skipped,
            } = match prepared {
                Ok(p) => p,
                Err(e) => {
                    let _ = phase.try_set(Phase::Failed(e.to_string()));
                    return;
                }
            };
            if !skipped.is_empty() {
                let _ = skipped_note.try_set(Some(tf(
                    "letters.skipped",
                    &[("n", &skipped.len()), ("list", &skipped.join("; "))],
                )));
            }
            file_name.set_value(download_name(topic, job.created.date()));
            start_job(state, job, batch, items, phase, logged);
        });
    };
    let cancel = move |_| post(&message("cancel", &[]));
    let print = move |_| {
        if let Some(w) = frame.get().and_then(|f| f.content_window()) {
            let _ = w.print();
        }
    };
    let running = move || matches!(phase.get(), Phase::Running { .. } | Phase::Preparing);

    view! {
        <div class="letter-output" role="group" aria-label=i18n::t("letters.aria")>
            <div class="toolbar">
                <label class="field-inline">
                    <input type="checkbox" aria-label=i18n::t("letters.duplex_aria")
                        prop:checked=move || duplex.get()
                        on:change=move |ev| duplex.set(event_target_checked(&ev)) />
                    " " {i18n::t("letters.duplex")}
                </label>
                <label class="field-inline">
                    <input type="checkbox" aria-label=i18n::t("labels.sort_aria")
                        prop:checked=move || by_postcode.get()
                        on:change=move |ev| by_postcode.set(event_target_checked(&ev)) />
                    " " {i18n::t("labels.sort")}
                </label>
                <button on:click=generate disabled=move || running() || draft.with(Option::is_none)>{i18n::t("letters.generate")}</button>
            </div>
            {move || match phase.get() {
                Phase::Idle => view! { <p class="muted">{i18n::t("letters.idle")}</p> }.into_any(),
                Phase::Preparing => view! { <p role="status">{i18n::t("letters.preparing")}</p> }.into_any(),
                Phase::Running { done, total } => view! {
                    <div class="toolbar">
                        <progress aria-label=i18n::t("letters.progress_aria") max=total.max(1).to_string() value=done.to_string()></progress>
                        <span role="status">{tf("letters.progress", &[("done", &done), ("total", &total)])}</span>
                        <button class="secondary" on:click=cancel>{i18n::t("common.cancel")}</button>
                    </div>
                }.into_any(),
                Phase::Cancelled => view! { <p role="status">{i18n::t("letters.cancelled")}</p> }.into_any(),
                Phase::Failed(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Phase::Ready { url, pages, letters, ms } => {
                    let name = file_name.get_value();
                    view! {
                        <p role="status" aria-label=i18n::t("letters.result_aria") data-ms=format!("{ms:.0}")>
                            {tf("letters.ready", &[("letters", &letters), ("pages", &pages), ("seconds", &format!("{:.1}", ms / 1000.0))])}
                        </p>
                        <div class="toolbar">
                            <a class="button" href=url.clone() download=name.clone() aria-label=i18n::t("letters.download")>{i18n::t("letters.download")}</a>
                            <button class="secondary" on:click=print>{i18n::t("letters.print")}</button>
                            <span class="muted">{name}</span>
                        </div>
                        <iframe node_ref=frame class="pdf-preview" title=i18n::t("letters.preview") src=url
                            style="width: 100%; height: 70vh; border: 1px solid var(--line);"></iframe>
                    }.into_any()
                }
            }}
            {move || skipped_note.get().map(|t| view! { <p role="status" aria-label=i18n::t("letters.skipped_aria")>{t}</p> })}
            {move || logged.get().map(|t| view! { <p role="status" aria-label=i18n::t("nav.log")>{t}</p> })}
            {move || by_postcode.get().then(|| view! { <RegionCounts /> })}
            <LabelOutput by_postcode=by_postcode />
        </div>
    }
}
