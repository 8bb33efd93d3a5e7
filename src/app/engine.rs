//! Browser-side facade of the template engine. minijinja lives in its own wasm module
//! (`engine/`, built by Trunk into `dist/engine/`), imported with a dynamic `import()` on first
//! use, so it never enters the main bundle. Once loaded its exports (JSON in, JSON out) are
//! called synchronously, so pages use the same calls as before:
//! - [`validate`], [`recipient_warnings`], [`template_hints`], [`Renderer::render_message`]
//!   mirror `domain::render`; until the engine is there they answer with the German
//!   "wird geladen" state (a validation error, so nothing can be sent unchecked) and, being
//!   reactive, run again once it has loaded.
//! - [`load`] awaits the engine (send path); [`start`] begins loading without waiting.
//! - [`read_sheet`] and [`read_calendar`] read spreadsheets (calamine) and `.ics` files for
//!   the import page.
//!
//! The engine only gets the template and the context `build_context` made (which holds just
//! what the channel allows); it re-checks every name against the catalogue.

use crate::app::error::AppError;
use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

use crate::domain::placeholders::{Availability, MessageContext};
use crate::domain::render::{
    RecipientWarning, RenderError, RenderedMessage, TemplateError, TemplateErrorKind, TemplatePart,
};
use crate::domain::template::{Language, Template};

/// The engine's wasm-bindgen module (relative to the page).
const ENGINE_URL: &str = "./engine/praxisbote-engine.js";
/// The state while the engine loads.
fn loading() -> AppError {
    AppError::msg("engine.loading", [])
}

/// An error text of the engine (a JSON string; the demo generator's and the calendar
/// reader's detail).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(transparent)]
pub struct EngineText(pub String);

#[derive(Clone, Debug, PartialEq)]
enum Status {
    Loading,
    Ready,
    Failed(AppError),
}

thread_local! {
    static MODULE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
    static STATUS: ArcRwSignal<Status> = ArcRwSignal::new(Status::Loading);
}

/// Begins loading the engine (once) without waiting for it.
pub fn start() {
    if !STARTED.replace(true) {
        leptos::task::spawn_local(async {
            let _ = load().await;
        });
    }
}

/// Loads the engine if needed and waits until it can be used.
pub async fn load() -> Result<(), AppError> {
    if MODULE.with(|m| m.borrow().is_some()) {
        return Ok(());
    }
    STARTED.set(true);
    match crate::app::lazy::import(ENGINE_URL).await {
        Ok(module) => {
            MODULE.with(|m| *m.borrow_mut() = Some(module));
            STATUS.with(|s| s.set(Status::Ready));
            Ok(())
        }
        Err(message) => {
            STARTED.set(false);
            STATUS.with(|s| s.set(Status::Failed(message.clone())));
            Err(message)
        }
    }
}

/// `Ok` when the engine is loaded, otherwise its state (loading or failed). Reactive: a memo or
/// view calling this runs again when the engine has loaded.
fn ready() -> Result<(), AppError> {
    if MODULE.with(|m| m.borrow().is_some()) {
        return Ok(());
    }
    start();
    match STATUS.with(|s| s.get()) {
        Status::Ready => Ok(()),
        Status::Loading => Err(loading()),
        Status::Failed(m) => Err(m),
    }
}

fn json<T: serde::Serialize>(v: &T) -> JsValue {
    JsValue::from_str(&serde_json::to_string(v).unwrap_or_default())
}

/// Calls an export of the loaded engine and parses its JSON answer.
fn call<T: DeserializeOwned>(name: &str, args: &[JsValue]) -> Result<T, AppError> {
    ready()?;
    let module = MODULE.with(|m| m.borrow().clone()).ok_or_else(loading)?;
    let f: js_sys::Function = js_sys::Reflect::get(&module, &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| AppError::msg("engine.unknown_export", [("name", name.to_string())]))?;
    let out = f
        .apply(&JsValue::NULL, &args.iter().collect::<js_sys::Array>())
        .map_err(|_| AppError::msg("engine.crashed", []))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&out)
        .map_err(|e| AppError::msg("engine.unreadable", [("error", e.to_string())]))
}

fn state_error(message: String) -> TemplateError {
    TemplateError {
        kind: TemplateErrorKind::Syntax,
        part: TemplatePart::Body,
        placeholder: None,
        line: 1,
        column: 1,
        message,
        detail: None,
    }
}

/// [`crate::domain::render::validate`] in the engine.
pub fn validate(template: &Template, available: Availability) -> Result<(), Vec<TemplateError>> {
    call::<Result<(), Vec<TemplateError>>>("validate", &[json(template), json(&available)])
        .unwrap_or_else(|m| Err(vec![state_error(m.to_string())]))
}

/// [`crate::domain::render::recipient_warnings`] in the engine (none while it loads).
pub fn recipient_warnings(template: &Template, ctx: &MessageContext) -> Vec<RecipientWarning> {
    call("recipient_warnings", &[json(template), json(ctx)]).unwrap_or_default()
}

/// [`crate::domain::render::template_hints`] in the engine (none while it loads).
pub fn template_hints(template: &Template) -> Vec<crate::domain::render::TemplateHint> {
    call("template_hints", &[json(template)]).unwrap_or_default()
}

/// The demo practice, generated in the engine (the generator and its tables are not in the
/// main bundle). Waits for the engine.
pub async fn demo(
    seed: u32,
    today: chrono::NaiveDate,
) -> Result<crate::domain::demo::DemoPractice, AppError> {
    load().await?;
    call::<Result<_, EngineText>>("demo", &[JsValue::from(seed), json(&today)])?
        .map_err(|e| AppError::msg("engine.demo_failed", [("error", e.0)]))
}

/// Stand-in for [`crate::domain::render::Renderer`]: renders in the engine (which keeps one
/// renderer per language).
pub struct Renderer;

impl Renderer {
    pub fn new(_language: Language) -> Self {
        Renderer
    }

    /// [`crate::domain::render::Renderer::render_message`] in the engine.
    pub fn render_message(
        &self,
        template: &Template,
        ctx: &MessageContext,
    ) -> Result<RenderedMessage, RenderError> {
        call::<Result<RenderedMessage, RenderError>>("render_message", &[json(template), json(ctx)])
            .unwrap_or_else(|e| {
                Err(RenderError {
                    message: e.to_string(),
                    line: None,
                    ..Default::default()
                })
            })
    }
}

/// One sheet of a spreadsheet file (`.xlsx`, `.xls`, `.ods`), read in the engine with
/// calamine. Waits for the engine. The outer error is the engine's state, the inner one
/// the file's problem.
pub async fn read_sheet(
    bytes: &[u8],
    file_name: &str,
    sheet: u32,
) -> Result<Result<crate::domain::import::SheetData, crate::domain::import::SheetError>, AppError> {
    load().await?;
    call(
        "read_sheet",
        &[
            js_sys::Uint8Array::from(bytes).into(),
            JsValue::from_str(file_name),
            JsValue::from(sheet),
        ],
    )
}

/// The events of an iCalendar file, read in the engine. Waits for the engine.
pub async fn read_calendar(
    text: &str,
) -> Result<
    Result<Vec<crate::domain::import::CalendarEvent>, crate::domain::import::CalendarError>,
    AppError,
> {
    load().await?;
    call("read_calendar", &[JsValue::from_str(text)])
}
