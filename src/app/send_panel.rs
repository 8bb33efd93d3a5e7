//! "Senden" for e-mail and SMS in the composer: renders every recipient's message, writes
//! them into the outbox in one transaction and shows the batch's progress with pause,
//! resume and cancel. The transmitting itself is done by [`super::transmit`].

use super::engine::Renderer;
use super::relay_client::{self as relay};
use super::state::{AppState, Page};
use super::transmit::{self, Link};
use crate::domain::outbox::{consent_basis, queue_batch, Batch, BatchCounts, Content, QueueItem};
use crate::domain::placeholders::{build_context, ContextInput};
use crate::domain::template::Template;
use leptos::prelude::*;

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

/// Renders and queues the handed-over recipients. Returns the batch id and how many
/// recipients were skipped (with German reasons).
async fn queue_all(state: AppState, t: Template) -> Result<(String, Vec<String>), String> {
    let handover = state
        .handover
        .get_untracked()
        .ok_or("Keine Empfänger übernommen.")?;
    let now = chrono::Local::now().naive_local();
    let batch = Batch {
        id: super::repo::new_id(),
        created_at: now,
        channel: handover.channel,
        purpose: handover.purpose,
        template_name: t.name.clone(),
        template_version: t.version,
        paused: false,
    };
    let practice = state.settings.get_untracked();
    let today = now.date();
    super::engine::load().await?;
    let renderer = Renderer::new(t.language);
    let mut items = Vec::with_capacity(handover.recipients.len());
    let mut skipped = Vec::new();
    for (i, r) in handover.recipients.iter().enumerate() {
        if i > 0 && i % RENDER_SLICE == 0 {
            yield_now().await;
        }
        let Some(record) = state.person(&r.person_id) else {
            skipped.push(format!("{}: Person nicht gefunden", r.person_id.0));
            continue;
        };
        let name = record.person.full_name();
        let Some(consent) = consent_basis(
            &record.person,
            r.appointment_id.as_ref(),
            handover.channel,
            handover.purpose,
            &handover.overrides,
        ) else {
            skipped.push(format!("{name}: keine Einwilligung"));
            continue;
        };
        let appointment = r.appointment_id.as_ref().and_then(|id| {
            state
                .appointments
                .with_untracked(|a| a.iter().find(|a| &a.id == id).cloned())
        });
        let ctx = build_context(ContextInput {
            person: &record.person,
            practice: &practice,
            appointment: appointment.as_ref(),
            channel: t.channel,
            language: t.language,
            today,
            unsubscribe_link: None,
        });
        let rendered = match renderer.render_message(&t, &ctx) {
            Ok(m) => m,
            Err(e) => {
                skipped.push(format!("{name}: {e}"));
                continue;
            }
        };
        let address = r.contact.display();
        if address.trim().is_empty() {
            skipped.push(format!("{name}: keine Adresse"));
            continue;
        }
        items.push(QueueItem {
            id: super::repo::new_id(),
            person_id: record.person.id.clone(),
            appointment_id: r.appointment_id.clone(),
            recipient_name: name,
            address,
            content: Content {
                subject: rendered.subject,
                text: rendered.body,
                html: rendered.html,
            },
            consent,
        });
    }
    if items.is_empty() {
        return Err("Keine Nachricht zu senden.".into());
    }
    let messages = queue_batch(&batch, items).map_err(|e| e.message_de())?;
    let id = batch.id.clone();
    transmit::queue(batch, messages).await?;
    Ok((id, skipped))
}

/// The send panel under the composer's warnings.
#[component]
pub fn SendPanel(draft: RwSignal<Option<Template>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let batch_id = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    // Is a relay there? (None = still asking.)
    let reachable = RwSignal::new(None::<Result<bool, String>>);
    leptos::task::spawn_local(async move {
        let cfg = transmit::config();
        reachable.set(Some(match relay::health(&cfg).await {
            Ok(h) => Ok(h.demo),
            Err(e) => Err(e.message_de()),
        }));
    });
    let send = move |_| {
        let Some(t) = draft.get_untracked() else {
            return;
        };
        busy.set(true);
        message.set(Some("Nachrichten werden erstellt …".into()));
        leptos::task::spawn_local(async move {
            match queue_all(state, t).await {
                Ok((id, skipped)) => {
                    batch_id.set(Some(id));
                    message.set(Some(if skipped.is_empty() {
                        "Alle Nachrichten sind im Postausgang.".into()
                    } else {
                        format!(
                            "Im Postausgang. Nicht aufgenommen ({}): {}",
                            skipped.len(),
                            skipped.join("; ")
                        )
                    }));
                }
                Err(e) => {
                    busy.set(false);
                    message.set(Some(format!("Nicht gesendet: {e}")));
                }
            }
        });
    };
    view! {
        <section aria-label="Versand" class="send-panel">
            {move || match reachable.get() {
                None => view! { <p class="muted">"Verbindung zum Relay wird geprüft …"</p> }.into_any(),
                Some(Ok(true)) => view! { <p class="muted">"Relay im Demomodus: Nachrichten verlassen diesen Rechner nicht."</p> }.into_any(),
                Some(Ok(false)) => view! { <p class="ok">"Relay verbunden."</p> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="error" role="note">
                        <p>"E-Mails und SMS werden über praxisbote-relay versendet, einen kleinen Dienst in der Praxis oder beim IT-Dienstleister. "
                           "Er ist gerade nicht erreichbar: " {e}</p>
                        <p>"Zum Einrichten: Relay starten (z. B. " <code>"cargo xtask start"</code> " für den Demomodus) und unter "
                           <a href=Page::Settings.hash()>"Einstellungen"</a> " Adresse und Zugangsschlüssel eintragen. "
                           "Gesendete Nachrichten warten im Postausgang, bis der Relay antwortet. Briefe funktionieren ohne Relay."</p>
                    </div>
                }.into_any(),
            }}
            <div class="actions">
                <button on:click=send disabled=move || busy.get() || draft.with(Option::is_none)>"Senden"</button>
                <span role="status">{move || message.get()}</span>
            </div>
            {move || batch_id.get().map(|id| view! { <BatchProgress batch_id=id /> })}
        </section>
    }
}

/// Progress bar, counts per state and pause/resume/cancel of one batch.
#[component]
pub fn BatchProgress(batch_id: String) -> impl IntoView {
    let ctl = transmit::ctl();
    let id = StoredValue::new(batch_id);
    let counts = Memo::new(move |_| {
        ctl.rev.track();
        id.with_value(|id| {
            transmit::with(|_, ms| BatchCounts::of(ms.iter().filter(|m| &m.batch_id == id)))
        })
    });
    let paused = Memo::new(move |_| {
        ctl.rev.track();
        id.with_value(|id| transmit::with(|bs, _| bs.iter().any(|b| &b.id == id && b.paused)))
    });
    let note = RwSignal::new(None::<String>);
    let act = move |what: &'static str| {
        let id = id.get_value();
        leptos::task::spawn_local(async move {
            let r = match what {
                "pause" => transmit::pause(&id)
                    .await
                    .map(|_| "Angehalten.".to_string()),
                "resume" => transmit::resume(&id)
                    .await
                    .map(|_| "Fortgesetzt.".to_string()),
                _ => transmit::cancel(&id).await.map(|(n, open)| {
                    if open == 0 {
                        format!("{n} noch nicht übertragene Nachrichten abgebrochen.")
                    } else {
                        format!("{n} abgebrochen; {open} werden noch beim Relay geprüft.")
                    }
                }),
            };
            note.set(Some(r.unwrap_or_else(|e| format!("Fehler: {e}"))));
        });
    };
    view! {
        <div class="batch-progress">
            <progress aria-label="Fortschritt"
                max=move || counts.get().total().max(1) as f64
                value=move || counts.get().finished() as f64></progress>
            <p role="status" aria-label="Versandstand">{move || {
                let c = counts.get();
                let mut parts = vec![
                    format!("{} von {} abgeschlossen", c.finished(), c.total()),
                    format!("Warteschlange {}", c.queued),
                    format!("übertragen {}", c.transmitted + c.retrying),
                    format!("gesendet {}", c.sent),
                    format!("fehlgeschlagen {}", c.failed),
                ];
                if c.cancelled > 0 {
                    parts.push(format!("abgebrochen {}", c.cancelled));
                }
                if c.printed > 0 {
                    parts.push(format!("gedruckt {}", c.printed));
                }
                parts.join(" · ")
            }}</p>
            <p aria-label="Verbindung" class=move || match ctl.link.get() { Link::Waiting(_) | Link::Error(_) => "error", _ => "muted" }>
                {move || if paused.get() { "Angehalten.".to_string() } else { ctl.link.get().label_de() }}
            </p>
            <div class="actions">
                <Show when=move || !paused.get() && !counts.get().is_done()
                    fallback=move || view! {
                        <Show when=move || paused.get()>
                            <button class="secondary" on:click=move |_| act("resume")>"Fortsetzen"</button>
                        </Show>
                    }>
                    <button class="secondary" on:click=move |_| act("pause")>"Pausieren"</button>
                </Show>
                <Show when=move || { counts.get().queued > 0 }>
                    <button class="danger" on:click=move |_| act("cancel")>"Abbrechen"</button>
                </Show>
                <a href=Page::Log.hash()>"Zum Protokoll"</a>
                <span role="status">{move || note.get()}</span>
            </div>
        </div>
    }
}
