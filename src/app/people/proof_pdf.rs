//! "Einwilligungsnachweis (PDF)": the consent events of one person as a table on the
//! practice's letterhead, made by the PDF worker (message `proof`). The events are
//! `consent::proof::event_rows` of the person as stored now, and `guardian_rows` (each
//! guardian's consents on the person's behalf under a heading); the letterhead is read
//! fresh from the store; the layout is `consent::proof_sheet`.

use leptos::prelude::*;

use crate::app::send::sheet::{request_pdf, sheet_letterhead, PdfOutcome, PdfPhase, PdfTexts};
use crate::app::state::AppState;
use crate::domain::consent::proof::{event_rows, guardian_rows, pdf_name, EVENT_HEADERS};
use crate::domain::consent::proof_sheet::{ConsentProofJob, ProofSection};
use crate::domain::PersonId;
use crate::i18n::{t, tf};

/// The button and, once made, the PDF with download, print and preview.
#[component]
pub(crate) fn ProofPdf(id: Signal<PersonId>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let phase = RwSignal::new(PdfPhase::Idle);
    let name = RwSignal::new(String::new());
    let make = move |_| {
        let Some(stored) = state.person(&id.get_untracked()) else {
            return;
        };
        phase.set(PdfPhase::Running);
        leptos::task::spawn_local(async move {
            let letterhead = sheet_letterhead(state).await;
            let Some(settings) = state.settings.try_get_untracked() else {
                return;
            };
            let now = chrono::Local::now().naive_local();
            let p = &stored.person;
            let _ = name.try_set(pdf_name(p, now.date()));
            let job = ConsentProofJob {
                title: t("proof.title").into(),
                created: now,
                practice: settings.name.clone(),
                person_line: tf(
                    "proof.person_line",
                    &[("name", &p.full_name()), ("id", &p.id.0)],
                ),
                created_line: tf(
                    "proof.created_line",
                    &[("date", &now.date().format(t("format.date")))],
                ),
                empty_line: t("proof.empty").into(),
                headers: EVENT_HEADERS.iter().map(|h| h.to_string()).collect(),
                rows: event_rows(p).into_iter().map(Vec::from).collect(),
                letterhead,
                sections: guardian_rows(p)
                    .into_iter()
                    .map(|(heading, rows)| ProofSection {
                        heading,
                        rows: rows.into_iter().map(Vec::from).collect(),
                    })
                    .collect(),
            };
            request_pdf("proof", &job, phase);
        });
    };
    let texts = PdfTexts {
        running: "proof.running",
        ready: "proof.ready",
        download: "proof.download",
        preview: "proof.preview",
    };
    view! {
        <button type="button" class="secondary" on:click=make
            disabled=move || phase.get() == PdfPhase::Running>{t("proof.button")}</button>
        <div class="wide">
            {move || view! { <PdfOutcome phase=phase name=name.get() texts=texts /> }}
        </div>
    }
}
