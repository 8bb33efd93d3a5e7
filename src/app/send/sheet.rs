//! One-go PDFs of the PDF worker besides letter batches: the recovery key sheet (`recovery`)
//! and a person's consent proof (`proof`). Posts the job, follows the worker's answer in a
//! [`PdfPhase`] and shows the result (download, print, preview). The blob URL is revoked when
//! the view goes away.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::app::error::AppError;
use crate::app::send::letters::{field, message, post_when_ready, set_handler, show_pdf, worker};
use crate::app::state::AppState;
use crate::i18n::t;

/// Where a one-go PDF stands.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PdfPhase {
    Idle,
    Running,
    Ready(String),
    Failed(String),
}

/// Posts `job` (serialised) to the PDF worker as a `kind` message of one go; `on_result` gets
/// the blob URL and page count of the PDF, or the German error.
pub(crate) fn post_job<J: serde::Serialize>(
    kind: &'static str,
    job: &J,
    on_result: impl Fn(Result<(String, u32), AppError>) + 'static,
) {
    let json = match serde_json::to_string(job) {
        Ok(j) => j,
        Err(e) => {
            return on_result(Err(AppError::msg(
                "letters.job_failed",
                [("error", e.to_string())],
            )))
        }
    };
    if let Err(e) = worker() {
        return on_result(Err(e));
    }
    set_handler(Box::new(move |data: &JsValue| {
        match field(data, "type").as_string().as_deref() {
            Some("done") => {
                let pages = field(data, "pages").as_f64().unwrap_or(0.0) as u32;
                on_result(show_pdf(&field(data, "pdf")).map(|url| (url, pages)));
            }
            Some("error") => {
                let m = field(data, "message")
                    .as_string()
                    .unwrap_or_else(|| t("letters.unknown_error").into());
                on_result(Err(AppError::msg("letters.worker_failed", [("error", m)])));
            }
            _ => {}
        }
    }));
    post_when_ready(message(kind, &[("job", json.into())]));
}

/// [`post_job`] with its outcome in `phase`.
pub(crate) fn request_pdf<J: serde::Serialize>(
    kind: &'static str,
    job: &J,
    phase: RwSignal<PdfPhase>,
) {
    let _ = phase.try_set(PdfPhase::Running);
    post_job(kind, job, move |r| {
        let _ = phase.try_set(match r {
            Ok((url, _)) => PdfPhase::Ready(url),
            Err(e) => PdfPhase::Failed(e.to_string()),
        });
    });
}

/// The practice's letterhead as stored now (read fresh, as the letters do) with the practice
/// settings, for a one-go sheet; `None` without a stored letterhead or when it cannot be read
/// (the sheet is then made plain).
pub(crate) async fn sheet_letterhead(
    state: AppState,
) -> Option<crate::domain::recovery_sheet::SheetLetterhead> {
    let letterhead = crate::app::repo::letterhead().await.ok().flatten()?;
    Some(crate::domain::recovery_sheet::SheetLetterhead {
        settings: state.settings.try_get_untracked()?,
        letterhead,
    })
}

/// The catalogue keys a [`PdfOutcome`] shows.
#[derive(Clone, Copy)]
pub(crate) struct PdfTexts {
    pub running: &'static str,
    pub ready: &'static str,
    pub download: &'static str,
    pub preview: &'static str,
}

/// Status, download link, print button and preview of a one-go PDF.
#[component]
pub(crate) fn PdfOutcome(
    phase: RwSignal<PdfPhase>,
    name: String,
    texts: PdfTexts,
) -> impl IntoView {
    let frame = NodeRef::<leptos::html::Iframe>::new();
    on_cleanup(move || {
        if let Some(PdfPhase::Ready(url)) = phase.try_get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    let print = move |_| {
        if let Some(w) = frame.get().and_then(|f| f.content_window()) {
            let _ = w.print();
        }
    };
    move || {
        match phase.get() {
        PdfPhase::Idle => ().into_any(),
        PdfPhase::Running => view! { <p role="status">{t(texts.running)}</p> }.into_any(),
        PdfPhase::Failed(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        PdfPhase::Ready(url) => view! {
            <p role="status">{t(texts.ready)}</p>
            <div class="actions">
                <a class="button" href=url.clone() download=name.clone() aria-label=t(texts.download)>{t(texts.download)}</a>
                <button type="button" class="secondary" on:click=print>{t("lock.pdf_print")}</button>
            </div>
            <iframe node_ref=frame class="pdf-preview" title=t(texts.preview) src=url
                style="width: 100%; height: 50vh; border: 1px solid var(--line);"></iframe>
        }.into_any(),
    }
    }
}
