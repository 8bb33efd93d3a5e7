//! Web Worker entry for PDF letters: its own wasm, so printpdf never lands in the main bundle.
//!
//! Protocol (see docs/design/pdf-worker.md):
//! - in  `{ type: "generate", job: "<BatchJob as JSON>" }` — starts a batch.
//! - in  `{ type: "labels", job: "<LabelJob as JSON>" }` — address labels or DL envelopes
//!   (one go: no progress, they are quick); answered with `done` or `error`.
//! - in  `{ type: "recovery", job: "<RecoverySheetJob as JSON>" }` — the recovery key sheet
//!   (one page, one go); answered with `done` or `error`. The key is only in this message.
//! - in  `{ type: "proof", job: "<ConsentProofJob as JSON>" }` — one person's consent proof
//!   on the letterhead (one go); answered with `done` or `error`.
//! - in  `{ type: "cancel" }` — stops the running batch after the current chunk.
//! - out `{ type: "progress", done, total }` — after every chunk of letters.
//! - out `{ type: "done", pdf: ArrayBuffer, pages }` — the PDF; the buffer is transferred.
//! - out `{ type: "cancelled" }` / `{ type: "error", message }` (German message).
//!
//! Between chunks the worker yields to its event loop (`setTimeout(0)`), so a cancel message
//! is seen while a batch runs.

/// Letters laid out and drawn between two progress messages / cancel checks.
pub const CHUNK: usize = 25;

/// Parses a label job (the `job` field of a `labels` message).
pub fn parse_label_job(json: &str) -> Result<praxisbote_pdf::LabelJob, String> {
    serde_json::from_str(json).map_err(|e| format!("Ungültiger Auftrag: {e}"))
}

/// Parses the `job` field of a message (German message on error).
pub fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| format!("Ungültiger Auftrag: {e}"))
}

/// Parses a recovery sheet job (the `job` field of a `recovery` message).
pub fn parse_recovery_job(json: &str) -> Result<praxisbote_pdf::RecoverySheetJob, String> {
    serde_json::from_str(json).map_err(|e| format!("Ungültiger Auftrag: {e}"))
}

/// Parses a job (the `job` field of a `generate` message).
pub fn parse_job(json: &str) -> Result<praxisbote_pdf::BatchJob, String> {
    serde_json::from_str(json).map_err(|e| format!("Ungültiger Auftrag: {e}"))
}

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::cell::Cell;

    use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
    use praxisbote_pdf::BatchBuilder;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    thread_local! {
        static CANCEL: Cell<bool> = const { Cell::new(false) };
        static BUSY: Cell<bool> = const { Cell::new(false) };
    }

    fn scope() -> DedicatedWorkerGlobalScope {
        js_sys::global().unchecked_into()
    }

    fn msg(kind: &str, fields: &[(&str, JsValue)]) -> JsValue {
        let o = Object::new();
        let _ = Reflect::set(&o, &"type".into(), &kind.into());
        for (k, v) in fields {
            let _ = Reflect::set(&o, &(*k).into(), v);
        }
        o.into()
    }

    fn post(m: &JsValue) {
        let _ = scope().post_message(m);
    }

    fn post_error(message: String) {
        post(&msg("error", &[("message", message.into())]));
    }

    #[wasm_bindgen(start)]
    pub fn start() {
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
            let data = ev.data();
            let kind = Reflect::get(&data, &"type".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            match kind.as_str() {
                "cancel" => CANCEL.with(|c| c.set(true)),
                "generate" => {
                    if BUSY.with(|b| b.get()) {
                        post_error("Es läuft bereits eine PDF-Erstellung.".into());
                        return;
                    }
                    let job = Reflect::get(&data, &"job".into())
                        .ok()
                        .and_then(|v| v.as_string())
                        .unwrap_or_default();
                    CANCEL.with(|c| c.set(false));
                    BUSY.with(|b| b.set(true));
                    wasm_bindgen_futures::spawn_local(async move {
                        run(job).await;
                        BUSY.with(|b| b.set(false));
                    });
                }
                "labels" => {
                    let job = Reflect::get(&data, &"job".into())
                        .ok()
                        .and_then(|v| v.as_string())
                        .unwrap_or_default();
                    labels(&job);
                }
                "recovery" => {
                    let job = Reflect::get(&data, &"job".into())
                        .ok()
                        .and_then(|v| v.as_string())
                        .unwrap_or_default();
                    recovery(&job);
                }
                "proof" => {
                    let job = Reflect::get(&data, &"job".into())
                        .ok()
                        .and_then(|v| v.as_string())
                        .unwrap_or_default();
                    proof(&job);
                }
                other => post_error(format!("Unbekannte Nachricht: {other}")),
            }
        });
        scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        post(&msg("ready", &[]));
    }

    /// Posts a finished PDF (the buffer is transferred, not copied).
    fn post_pdf(bytes: &[u8], pages: u32) {
        let arr = Uint8Array::from(bytes);
        let buf = arr.buffer();
        let m = msg(
            "done",
            &[("pdf", buf.clone().into()), ("pages", pages.into())],
        );
        if let Err(e) = scope().post_message_with_transfer(&m, &Array::of1(&buf)) {
            post_error(format!("PDF konnte nicht übergeben werden: {e:?}"));
        }
    }

    fn labels(job_json: &str) {
        let job = match super::parse_label_job(job_json) {
            Ok(j) => j,
            Err(e) => return post_error(e),
        };
        match praxisbote_pdf::generate_labels(&job) {
            Ok((bytes, pages)) => post_pdf(&bytes, pages as u32),
            Err(e) => post_error(e.to_string()),
        }
    }

    fn recovery(job_json: &str) {
        let job = match super::parse_recovery_job(job_json) {
            Ok(j) => j,
            Err(e) => return post_error(e),
        };
        match praxisbote_pdf::generate_recovery_sheet(&job) {
            Ok(bytes) => post_pdf(&bytes, 1),
            Err(e) => post_error(e.to_string()),
        }
    }

    fn proof(job_json: &str) {
        let job: praxisbote_pdf::ConsentProofJob = match super::parse(job_json) {
            Ok(j) => j,
            Err(e) => return post_error(e),
        };
        match praxisbote_pdf::generate_consent_proof(&job) {
            Ok((bytes, pages)) => post_pdf(&bytes, pages as u32),
            Err(e) => post_error(e.to_string()),
        }
    }

    async fn yield_now() {
        let p = Promise::new(&mut |resolve, _reject| {
            let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    }

    async fn run(job_json: String) {
        let job = match super::parse_job(&job_json) {
            Ok(j) => j,
            Err(e) => return post_error(e),
        };
        let mut b = match BatchBuilder::new(&job) {
            Ok(b) => b,
            Err(e) => return post_error(e.to_string()),
        };
        let total = b.total();
        loop {
            let mut more = true;
            for _ in 0..super::CHUNK {
                match b.add_next() {
                    Ok(true) => {}
                    Ok(false) => {
                        more = false;
                        break;
                    }
                    Err(e) => return post_error(e.to_string()),
                }
            }
            post(&msg(
                "progress",
                &[
                    ("done", (b.done() as u32).into()),
                    ("total", (total as u32).into()),
                ],
            ));
            yield_now().await;
            if CANCEL.with(|c| c.get()) {
                post(&msg("cancelled", &[]));
                return;
            }
            if !more {
                break;
            }
        }
        let pages = b.page_count() as u32;
        let bytes = match b.finish() {
            Ok(bytes) => bytes,
            Err(e) => return post_error(e.to_string()),
        };
        post_pdf(&bytes, pages);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rejects_bad_jobs_in_german() {
        let e = super::parse_job("{}").unwrap_err();
        assert!(e.starts_with("Ungültiger Auftrag"), "{e}");
        let ok = super::parse_job(
            r#"{"title":"T","created":"2026-11-26T09:00:00","practice":{"name":"P"},
               "letters":[{"recipient":["A"],"date":"2026-11-26","subject":"S",
               "salutation":"Hallo,","body":["x"],"closing":"Gruß"}]}"#,
        )
        .unwrap();
        assert_eq!(ok.letters.len(), 1);
        assert!(!ok.duplex);
    }

    #[test]
    fn label_jobs_parse_and_draw() {
        use praxisbote_core::domain::labels::{LabelFormat, LabelJob, LabelKind};
        let job = LabelJob {
            title: "Adressetiketten".into(),
            created: chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap(),
            practice: Default::default(),
            kind: LabelKind::Sheet(LabelFormat::A4x21),
            addresses: vec![vec![
                "Frau".into(),
                "Ayşe Yılmaz".into(),
                "12345 Ort".into(),
            ]],
            skip: 2,
        };
        let parsed = super::parse_label_job(&serde_json::to_string(&job).unwrap()).unwrap();
        assert_eq!(parsed, job);
        let (pdf, pages) = praxisbote_pdf::generate_labels(&parsed).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(pages, 1);
        assert!(super::parse_label_job("{}")
            .unwrap_err()
            .starts_with("Ungültiger Auftrag"));
    }

    #[test]
    fn recovery_jobs_parse_and_draw_one_page() {
        use praxisbote_core::domain::recovery_sheet::RecoverySheetJob;
        let job = RecoverySheetJob {
            title: "Notfallschlüssel".into(),
            created: chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap(),
            practice: "Praxis".into(),
            created_line: "Erstellt am 05.12.2026".into(),
            key: "ABCD-EFGH".into(),
            paragraphs: vec!["Text".into()],
            letterhead: None,
        };
        let parsed = super::parse_recovery_job(&serde_json::to_string(&job).unwrap()).unwrap();
        assert_eq!(parsed, job);
        let pdf = praxisbote_pdf::generate_recovery_sheet(&parsed).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(super::parse_recovery_job("{}")
            .unwrap_err()
            .starts_with("Ungültiger Auftrag"));
    }

    #[test]
    fn the_apps_print_job_is_a_valid_batch_job() {
        use praxisbote_core::domain::print::{document_title, letter_from_text, PrintJob};
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let job = PrintJob {
            title: document_title("Geburtstag"),
            created: d.and_hms_opt(9, 30, 0).unwrap(),
            practice: Default::default(),
            letters: vec![letter_from_text(
                vec!["Frau".into(), "Ayşe Yılmaz".into(), "12345 Ort".into()],
                d,
                "Glückwunsch",
                "Liebe Frau Yılmaz,\n\nText.\n\nViele Grüße\n\nPraxis",
            )],
            duplex: true,
            letterhead: Some(praxisbote_core::domain::Letterhead {
                logo: Some(praxisbote_core::domain::LetterheadLogo {
                    bytes: vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2],
                    width_mm: 35.0,
                    position: praxisbote_core::domain::LogoPosition::Left,
                }),
                details: vec!["Praxis für Physiotherapie".into()],
                business: praxisbote_core::domain::BusinessDetails {
                    iban: "DE02 1203 0000 0000 2020 51".into(),
                    ..Default::default()
                },
            }),
        };
        let json = serde_json::to_string(&job).unwrap();
        // Logo bytes travel as base64 text, not as a number array.
        assert!(json.contains("\"bytes\":\"/9j/4AEC\""), "{json}");
        let parsed = super::parse_job(&json).unwrap();
        assert_eq!(parsed.letterhead, job.letterhead);
        assert_eq!(parsed.title, "Serienbrief Geburtstag");
        assert_eq!(parsed.created, job.created);
        assert!(parsed.duplex);
        assert_eq!(parsed.letters, job.letters);
        assert!(parsed.logo_png.is_none());
    }
}
