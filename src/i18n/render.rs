//! Recipient warnings and template hints (`domain::render`, computed in the engine wasm) in
//! the UI language, rebuilt from their structured data. The German catalogue values give
//! exactly the domain's German texts (tested). The placeholder descriptions inside the
//! warnings (`domain::placeholders`) stay German.

use super::{t, tf};
use crate::domain::placeholders::lookup;
use crate::domain::render::{RecipientWarning, HINT_UNSUBSCRIBE_DE};

/// A warning about one recipient: no appointment, or a placeholder empty for them.
pub fn recipient_warning(w: &RecipientWarning) -> String {
    match &w.placeholder {
        None => t("render.warning.no_appointment").into(),
        Some(name) => tf(
            "render.warning.empty_value",
            &[
                ("name", name),
                ("desc", &lookup(name).map_or("", |p| p.description)),
            ],
        ),
    }
}

/// A template hint; hints the UI does not know are shown as they come.
pub fn hint(h: &str) -> String {
    if h == HINT_UNSUBSCRIBE_DE {
        tf("render.hint.unsubscribe", &[("link", &"{{ abmeldelink }}")])
    } else {
        h.to_string()
    }
}
