//! "Senden" for e-mail and SMS in the composer: renders every recipient's message, writes
//! them into the outbox in one transaction and shows the batch's progress with pause,
//! resume and cancel. The transmitting itself is done by [`crate::app::send::transmit`].

use crate::app::error::AppError;
use crate::app::send::queue;
use crate::app::send::relay_client::{self as relay};
use crate::app::send::transmit::{self, Link};
use crate::app::state::{AppState, Page};
use crate::domain::outbox::{queue_batch, BatchCounts, BatchFile};
use crate::domain::template::Template;
use crate::domain::Channel;
use crate::i18n::{self, tf};
use leptos::prelude::*;

/// Renders and queues the handed-over recipients (through [`queue::prepare`]). Returns the
/// batch id and the list of recipients left out, with their reasons.
async fn queue_all(
    state: AppState,
    t: Template,
    files: Vec<BatchFile>,
) -> Result<(String, Vec<String>), AppError> {
    let mut p = queue::prepare(state, &t).await?;
    p.batch.files = files;
    let skipped = queue::skipped_texts(&p.prepared.skipped);
    if p.prepared.items.is_empty() {
        return Err(if skipped.is_empty() {
            AppError::msg("send_panel.nothing_to_send", [])
        } else {
            AppError::msg(
                "send_panel.nothing_to_send_skipped",
                [("list", skipped.join("; "))],
            )
        });
    }
    let messages = queue_batch(&p.batch, p.prepared.queue_items())?;
    let id = p.batch.id.clone();
    transmit::queue(state, p.batch, messages).await?;
    Ok((id, skipped))
}

/// The send panel under the composer's warnings.
#[component]
pub fn SendPanel(draft: RwSignal<Option<Template>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let batch_id = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    // E-mail: files that go with every message of the batch.
    let files = RwSignal::new(Vec::<BatchFile>::new());
    let is_email = state
        .handover
        .with_untracked(|h| h.as_ref().is_some_and(|h| h.channel == Channel::Email));
    // Is a relay there? (None = still asking.)
    let reachable = RwSignal::new(None::<Result<bool, AppError>>);
    leptos::task::spawn_local(async move {
        let cfg = state.relay.get_untracked();
        reachable.set(Some(match relay::health(&cfg).await {
            Ok(h) => Ok(h.demo),
            Err(e) => Err(e.into()),
        }));
    });
    let send = move |_| {
        let Some(t) = draft.get_untracked() else {
            return;
        };
        busy.set(true);
        message.set(Some(i18n::t("send_panel.rendering").into()));
        leptos::task::spawn_local(async move {
            match queue_all(state, t, files.get_untracked()).await {
                Ok((id, skipped)) => {
                    batch_id.set(Some(id));
                    message.set(Some(if skipped.is_empty() {
                        i18n::t("send_panel.all_queued").into()
                    } else {
                        tf(
                            "send_panel.queued_skipped",
                            &[("n", &skipped.len()), ("list", &skipped.join("; "))],
                        )
                    }));
                }
                Err(e) => {
                    busy.set(false);
                    message.set(Some(tf("send_panel.not_sent", &[("error", &e)])));
                }
            }
        });
    };
    view! {
        <section aria-label=i18n::t("send_panel.aria") class="send-panel">
            {move || match reachable.get() {
                None => view! { <p class="muted">{i18n::t("send_panel.relay_checking")}</p> }.into_any(),
                Some(Ok(true)) => view! { <p class="muted">{i18n::t("send_panel.relay_demo")}</p> }.into_any(),
                Some(Ok(false)) => view! { <p class="ok">{i18n::t("send_panel.relay_ok")}</p> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="error" role="note">
                        <p>{i18n::t("send_panel.relay_intro")} " "
                           {i18n::t("send_panel.relay_unreachable")} " " {e.to_string()}</p>
                        <p>{i18n::t("send_panel.setup_1")} " " <code>"cargo xtask start"</code> " " {i18n::t("send_panel.setup_2")} " "
                           <a href=Page::Settings.hash()>{i18n::t("nav.settings")}</a> " " {i18n::t("send_panel.setup_3")} " "
                           {i18n::t("send_panel.setup_4")}</p>
                    </div>
                }.into_any(),
            }}
            {is_email.then(|| view! {
                <super::files::AttachedFiles files=files disabled=Signal::derive(move || busy.get()) />
            })}
            <div class="actions">
                <button on:click=send disabled=move || busy.get() || draft.with(Option::is_none)>{i18n::t("send_panel.send")}</button>
                <span role="status">{move || message.get()}</span>
            </div>
            {move || batch_id.get().map(|id| view! { <BatchProgress batch_id=id /> })}
        </section>
    }
}

/// Progress bar, counts per state and pause/resume/cancel of one batch.
#[component]
pub fn BatchProgress(batch_id: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let id = StoredValue::new(batch_id);
    let counts = Memo::new(move |_| {
        id.with_value(|id| {
            state
                .outbox
                .with(|o| BatchCounts::of(o.messages.iter().filter(|m| &m.batch_id == id)))
        })
    });
    let paused = Memo::new(move |_| {
        id.with_value(|id| {
            state
                .outbox
                .with(|o| o.batches.iter().any(|b| &b.id == id && b.paused))
        })
    });
    let note = RwSignal::new(None::<String>);
    let act = move |what: &'static str| {
        let id = id.get_value();
        leptos::task::spawn_local(async move {
            let r = match what {
                "pause" => transmit::pause(state, &id)
                    .await
                    .map(|_| i18n::t("send_panel.paused").to_string()),
                "resume" => transmit::resume(state, &id)
                    .await
                    .map(|_| i18n::t("send_panel.resumed").to_string()),
                _ => transmit::cancel(state, &id).await.map(|(n, open)| {
                    if open == 0 {
                        tf("send_panel.cancelled", &[("n", &n)])
                    } else {
                        tf("send_panel.cancelled_open", &[("n", &n), ("open", &open)])
                    }
                }),
            };
            note.set(Some(
                r.unwrap_or_else(|e| tf("common.error", &[("error", &e)])),
            ));
        });
    };
    view! {
        <div class="batch-progress">
            <progress aria-label=i18n::t("send_panel.progress_aria")
                max=move || counts.get().total().max(1) as f64
                value=move || counts.get().finished() as f64></progress>
            <p role="status" aria-label=i18n::t("send_panel.state_aria")>{move || {
                let c = counts.get();
                let mut parts = vec![
                    tf("send_panel.count.finished", &[("done", &c.finished()), ("total", &c.total())]),
                    tf("send_panel.count.queued", &[("n", &c.queued)]),
                    tf("send_panel.count.transmitted", &[("n", &(c.transmitted + c.retrying))]),
                    tf("send_panel.count.sent", &[("n", &c.sent)]),
                    tf("send_panel.count.failed", &[("n", &c.failed)]),
                ];
                if c.cancelled > 0 {
                    parts.push(tf("send_panel.count.cancelled", &[("n", &c.cancelled)]));
                }
                if c.printed > 0 {
                    parts.push(tf("send_panel.count.printed", &[("n", &c.printed)]));
                }
                parts.join(" · ")
            }}</p>
            <p aria-label=i18n::t("send_panel.link_aria") class=move || match state.link.get() { Link::Waiting(_) | Link::Error(_) => "error", _ => "muted" }>
                {move || if paused.get() { i18n::t("send_panel.paused").to_string() } else { transmit::link_label(state) }}
            </p>
            <div class="actions">
                <Show when=move || !paused.get() && !counts.get().is_done()
                    fallback=move || view! {
                        <Show when=move || paused.get()>
                            <button class="secondary" on:click=move |_| act("resume")>{i18n::t("send_panel.resume")}</button>
                        </Show>
                    }>
                    <button class="secondary" on:click=move |_| act("pause")>{i18n::t("send_panel.pause")}</button>
                </Show>
                <Show when=move || { counts.get().queued > 0 }>
                    <button class="danger" on:click=move |_| act("cancel")>{i18n::t("common.cancel")}</button>
                </Show>
                <a href=Page::Log.hash()>{i18n::t("send_panel.to_log")}</a>
                <span role="status">{move || note.get()}</span>
            </div>
        </div>
    }
}
