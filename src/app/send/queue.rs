//! The one way from the review's hand-over into the outbox, for letters, e-mail and SMS:
//! take the hand-over's persons, render every recipient's message, and let the domain's
//! `outbox::prepare_batch` decide who is queued (with which consent basis) and who is left
//! out and why. `letters.rs` prints what it returns, `panel.rs` queues it for the relay.

use crate::app::engine::Renderer;
use crate::app::error::AppError;
use crate::app::repo;
use crate::app::state::AppState;
use crate::domain::calendar;
use crate::domain::outbox::{
    admit, admitted, prepare_batch, Batch, Content, PreparedBatch, Skipped,
};
use crate::domain::placeholders::{build_context_to, ContextInput};
use crate::domain::render::RenderError;
use crate::domain::review::Handover;
use crate::domain::template::Template;
use crate::domain::{
    Appointment, AppointmentId, PersonId, PersonRecord, PostalAddress, PracticeSettings,
};
use crate::i18n::{self, tf};
use chrono::NaiveDateTime;
use leptos::prelude::*;
use std::collections::HashMap;

/// Recipients rendered between two yields to the browser (keeps the page responsive).
const RENDER_SLICE: usize = 250;

async fn yield_now() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// A batch ready to be queued or printed.
pub(super) struct Prepared {
    pub batch: Batch,
    pub prepared: PreparedBatch,
    /// The persons the batch was prepared from, by id.
    pub persons: HashMap<PersonId, PersonRecord>,
    pub practice: PracticeSettings,
    pub now: NaiveDateTime,
}

/// Everything the batch reads, taken at once when it is prepared: the hand-over's persons
/// (read fresh from the store, so a consent withdrawn in another tab or after the review was
/// built is seen), their appointments and the practice settings.
struct Inputs {
    persons: HashMap<PersonId, PersonRecord>,
    appointments: HashMap<AppointmentId, Appointment>,
    practice: PracticeSettings,
}

async fn read_inputs(state: AppState, handover: &Handover) -> Result<Inputs, AppError> {
    let persons = fresh_persons(handover).await?;
    let wanted: std::collections::HashSet<&AppointmentId> = handover
        .recipients
        .iter()
        .filter_map(|r| r.appointment_id.as_ref())
        .collect();
    let appointments = state.appointments.with_untracked(|a| {
        a.iter()
            .filter(|a| wanted.contains(&a.id))
            .map(|a| (a.id.clone(), a.clone()))
            .collect()
    });
    Ok(Inputs {
        persons,
        appointments,
        practice: state.settings.get_untracked(),
    })
}

/// The hand-over's persons as stored now (one read transaction).
async fn fresh_persons(handover: &Handover) -> Result<HashMap<PersonId, PersonRecord>, AppError> {
    let mut ids: Vec<PersonId> = handover
        .recipients
        .iter()
        .map(|r| r.person_id.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    repo::persons_now(&ids).await
}

/// Where an admitted recipient's letter goes: the postal address (for sorting) and the
/// recipient block — the person's, or for a minor the guardian's.
#[derive(Clone)]
pub(super) struct Addressed {
    pub address: PostalAddress,
    pub block: Vec<String>,
}

/// The hand-over, its minors counted on the day of sending (today).
fn handover_now(state: AppState) -> Result<Handover, AppError> {
    let mut handover = state
        .handover
        .get_untracked()
        .ok_or_else(|| AppError::msg("queue.no_handover", []))?;
    handover.minors.on = chrono::Local::now().date_naive();
    Ok(handover)
}

/// The recipients of the hand-over that may be contacted (through the one consent gate,
/// `outbox::admitted`, on persons read fresh from the store) and the texts of those left
/// out — for outputs without a message of their own: address labels and envelopes.
pub(super) async fn admitted_persons(
    state: AppState,
) -> Result<(Vec<Addressed>, Vec<String>), AppError> {
    let handover = handover_now(state)?;
    let persons = fresh_persons(&handover).await?;
    let (ok, skipped) = admitted(&handover, |id| persons.get(id));
    Ok((
        ok.into_iter()
            .map(|a| Addressed {
                address: a
                    .guardian()
                    .and_then(|g| g.address.clone())
                    .unwrap_or_else(|| a.person.address.clone()),
                block: a.address_block(),
            })
            .collect(),
        skipped_texts(&skipped),
    ))
}

/// Renders the hand-over's messages with `template` and prepares the batch.
pub(super) async fn prepare(state: AppState, template: &Template) -> Result<Prepared, AppError> {
    let handover = handover_now(state)?;
    crate::app::engine::load().await?;
    let now = chrono::Local::now().naive_local();
    let stamp = chrono::Utc::now();
    let inputs = read_inputs(state, &handover).await?;
    let renderer = Renderer::new(template.language);
    let mut rendered: Vec<Option<Result<Content, RenderError>>> =
        Vec::with_capacity(handover.recipients.len());
    for (i, r) in handover.recipients.iter().enumerate() {
        if i > 0 && i % RENDER_SLICE == 0 {
            yield_now().await;
        }
        // Who the message goes to (the person, or a minor's guardian) is the gate's
        // decision; `prepare_batch` asks it again for the queue.
        let lookup = |id: &PersonId| inputs.persons.get(id);
        let Ok(admitted) = admit(&handover, i, &lookup) else {
            rendered.push(None);
            continue;
        };
        let person = admitted.person;
        let appointment = r
            .appointment_id
            .as_ref()
            .and_then(|id| inputs.appointments.get(id));
        let ctx = build_context_to(
            ContextInput {
                person,
                practice: &inputs.practice,
                appointment,
                channel: template.channel,
                language: template.language,
                today: now.date(),
                unsubscribe_link: Some(crate::wire::UNSUBSCRIBE_LINK_MARKER),
            },
            admitted.guardian(),
        );
        let message = renderer.render_message(template, &ctx);
        let calendar = appointment
            .filter(|_| calendar::is_attached(template.channel, handover.purpose))
            .map(|a| calendar::reminder_event(a, &inputs.practice, template.language, stamp));
        rendered.push(Some(message.map(|m| Content {
            subject: m.subject,
            text: m.body,
            html: m.html,
            calendar,
        })));
    }
    let prepared = prepare_batch(
        &handover,
        |id| inputs.persons.get(id),
        &rendered,
        repo::new_id,
    );
    Ok(Prepared {
        batch: Batch {
            claim: None,
            id: repo::new_id(),
            created_at: now,
            channel: handover.channel,
            purpose: handover.purpose,
            template_name: template.name.clone(),
            template_version: template.version,
            paused: false,
            files: Vec::new(),
        },
        prepared,
        persons: inputs.persons,
        practice: inputs.practice,
        now,
    })
}

/// One line per recipient left out: "Müller, Anna: Einwilligung am 27.11.2026 widerrufen".
pub(super) fn skipped_texts(skipped: &[Skipped]) -> Vec<String> {
    skipped
        .iter()
        .map(|s| {
            tf(
                "queue.skipped_item",
                &[
                    ("name", &s.name),
                    ("reason", &i18n::outbox::skip_reason(&s.reason)),
                ],
            )
        })
        .collect()
}
