//! Keeps the two UI modules' copies of the data in step.
//!
//! The app runs as two wasm modules in one page: the shell (persons, appointments) and the
//! lazily loaded workbench (sending, log, templates, import, backup, settings). Each keeps
//! its own signals, read from the same IndexedDB. After a module has written data the other
//! one shows (persons, settings, templates, queries, the backup date), it calls [`notify`];
//! the other module hears a window event and reads the store again. Events are dispatched
//! synchronously in the same page, so nothing can slip between write and notice.

use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The DOM event both modules listen to.
const EVENT: &str = "praxisbote-data-changed";

/// Which module this is; set once at start.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Module {
    Shell,
    Workbench,
}

impl Module {
    fn code(self) -> &'static str {
        match self {
            Module::Shell => "shell",
            Module::Workbench => "workbench",
        }
    }
}

thread_local! {
    static THIS: Cell<Module> = const { Cell::new(Module::Shell) };
}

/// Dispatches the window event `name` with a text as its detail (synchronously).
fn dispatch(name: &str, detail: &str) {
    let Some(w) = web_sys::window() else { return };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&JsValue::from_str(detail));
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = w.dispatch_event(&ev);
    }
}

/// Calls `f` with the text detail of every window event `name`, as long as the page lives.
fn on(name: &str, f: impl Fn(String) + 'static) {
    let Some(w) = web_sys::window() else { return };
    let handler = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
        if let Some(detail) = ev
            .dyn_ref::<web_sys::CustomEvent>()
            .and_then(|c| c.detail().as_string())
        {
            f(detail);
        }
    });
    let _ = w.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
    handler.forget();
}

/// Tells the other module that stored data changed (call after a successful write).
pub fn notify() {
    dispatch(EVENT, THIS.get().code());
}

/// Registers this module and calls `on_change` whenever the *other* module reports a write.
pub fn listen(this: Module, on_change: impl Fn() + 'static) {
    THIS.set(this);
    on(EVENT, move |from| {
        if from != this.code() {
            on_change();
        }
    });
}

/// A banner message the workbench hands to the shell, because the page it belongs to is a
/// shell page (e.g. "Import abgeschlossen" shown on the patient list).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    Notice,
    Error,
}

impl Banner {
    fn event(self) -> &'static str {
        match self {
            Banner::Notice => "praxisbote-notice",
            Banner::Error => "praxisbote-error",
        }
    }
}

/// Hands a banner message to the shell.
pub fn forward(banner: Banner, text: &str) {
    let Some(w) = web_sys::window() else { return };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&JsValue::from_str(text));
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(banner.event(), &init) {
        let _ = w.dispatch_event(&ev);
    }
}

/// The shell's side of [`forward`]: calls `show` with each message handed over.
pub fn receive(show: impl Fn(Banner, String) + 'static) {
    let Some(w) = web_sys::window() else { return };
    let show = std::rc::Rc::new(show);
    for banner in [Banner::Notice, Banner::Error] {
        let show = show.clone();
        let handler = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
            if let Some(text) = ev
                .dyn_ref::<web_sys::CustomEvent>()
                .and_then(|c| c.detail().as_string())
            {
                show(banner, text);
            }
        });
        let _ =
            w.add_event_listener_with_callback(banner.event(), handler.as_ref().unchecked_ref());
        handler.forget();
    }
}
