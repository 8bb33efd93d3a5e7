//! The composer (after "Übernahme"): choose a template, edit it with the placeholder palette
//! (in the chip view of [`super::chip_editor`], or the raw template in its Expertenansicht),
//! preview every recipient's exact message, see warnings before output.

use crate::app::engine::{recipient_warnings, template_hints, validate, Renderer};
use crate::app::state::{AppState, Page};
use crate::domain::calendar;
use crate::domain::outbox::admit;
use crate::domain::placeholders::{build_context_to, Availability, ContextInput, MessageContext};
use crate::domain::review::Handover;
use crate::domain::sms;
use crate::domain::template::Template;
use crate::domain::{Channel, PersonId, PersonRecord};
use crate::i18n::{self, labels, tf};
use leptos::prelude::*;

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// Shown instead of the real link in previews; the relay issues the real one when sending.
const PREVIEW_UNSUBSCRIBE: &str = "https://abmelden.example/u/VORSCHAU";

/// The context of the hand-over's recipient `index`, built only from the template-safe
/// `Person`; for a minor addressed to the guardian the consent gate chooses, as when the
/// batch is queued (`queue::prepare`).
pub(super) fn context_for(
    state: AppState,
    handover: &Handover,
    index: usize,
    template: &Template,
) -> Option<MessageContext> {
    let r = handover.recipients.get(index)?;
    let record: PersonRecord = state.person(&r.person_id)?;
    let lookup = |id: &PersonId| (*id == record.person.id).then_some(&record);
    let admitted = admit(handover, index, &lookup).ok();
    let guardian = admitted.as_ref().and_then(|a| a.guardian());
    let appointment = r.appointment_id.as_ref().and_then(|id| {
        state
            .appointments
            .with_untracked(|a| a.iter().find(|a| &a.id == id).cloned())
    });
    let practice = state.settings.get_untracked();
    Some(build_context_to(
        ContextInput {
            person: &record.person,
            practice: &practice,
            appointment: appointment.as_ref(),
            channel: template.channel,
            language: template.language,
            today: today(),
            unsubscribe_link: Some(PREVIEW_UNSUBSCRIBE),
        },
        guardian,
    ))
}

#[component]
pub fn ComposePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || state.handover.with(Option::is_some) fallback=move || view! {
            <h1>{i18n::t("compose.title")}</h1>
            <p>{i18n::t("compose.no_recipients")} " " <a href=Page::Send.hash()>{i18n::t("compose.to_selection")}</a></p>
        }>
            <Composer />
        </Show>
    }
}

#[component]
fn Composer() -> impl IntoView {
    let state = expect_context::<AppState>();
    let mut handover = state
        .handover
        .get_untracked()
        .expect("shown only with a handover");
    // Minors are counted on the day of sending, as when the batch is queued.
    handover.minors.on = today();
    let channel = handover.channel;
    let purpose = handover.purpose;
    let has_appointments = handover
        .recipients
        .iter()
        .any(|r| r.appointment_id.is_some());
    // What the palette offers and the check allows: appointment placeholders with appointments,
    // the therapist only when the practice shows therapist names.
    let available = Memo::new(move |_| {
        state
            .settings
            .with(|s| Availability::new(has_appointments, s))
    });
    let n = handover.recipients.len();
    let hand = StoredValue::new(handover);

    let choices = Memo::new(move |_| {
        state.templates.with(|all| {
            all.iter()
                .filter(|t| t.channel == channel && t.purpose == purpose)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    // The template asked for (the reminder notice's default per channel), else the first.
    let wanted = state.compose_template.get_untracked();
    state.compose_template.set(None);
    let draft = RwSignal::new(choices.with_untracked(|c| {
        wanted
            .and_then(|id| c.iter().find(|t| t.id == id).cloned())
            .or_else(|| c.first().cloned())
    }));
    let current = RwSignal::new(0usize);

    let errors = Memo::new(move |_| {
        draft.with(|t| match t {
            Some(t) => validate(t, available.get()).err().unwrap_or_default(),
            None => vec![],
        })
    });
    let preview = Memo::new(move |_| {
        let i = current.get();
        draft.with(|t| {
            let t = t.as_ref()?;
            if !errors.with(Vec::is_empty) {
                return None;
            }
            let (ctx, r) = hand.with_value(|h| {
                Some((context_for(state, h, i, t)?, h.recipients.get(i)?.clone()))
            })?;
            let name = state
                .person(&r.person_id)
                .map(|p| p.person.full_name())
                .unwrap_or_default();
            let rendered = Renderer::new(t.language).render_message(t, &ctx);
            let warnings = recipient_warnings(t, &ctx);
            Some((name, r.contact.display(), rendered, warnings))
        })
    });
    // Warnings across all recipients, listed before output.
    let all_warnings = Memo::new(move |_| {
        draft.with(|t| {
            let Some(t) = t else { return vec![] };
            if !errors.with(Vec::is_empty) {
                return vec![];
            }
            hand.with_value(|h| {
                h.recipients
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| {
                        let ctx = context_for(state, h, i, t)?;
                        let w = recipient_warnings(t, &ctx);
                        (!w.is_empty()).then(|| {
                            let name = state
                                .person(&r.person_id)
                                .map(|p| p.person.sort_name())
                                .unwrap_or_default();
                            (
                                i,
                                name,
                                w.into_iter()
                                    .map(|w| i18n::render::recipient_warning(&w))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            )
                        })
                    })
                    .collect::<Vec<_>>()
            })
        })
    });

    let sms_info = Memo::new(move |_| {
        if channel != Channel::Sms {
            return None;
        }
        preview.with(|p| match p {
            Some((_, _, Ok(m), _)) => Some(sms::analyse(&m.body)),
            _ => None,
        })
    });

    view! {
        <h1>{tf("compose.heading", &[("channel", &labels::channel(channel)), ("purpose", &labels::purpose(purpose)), ("n", &n)])}</h1>
        <div class="toolbar">
            <label class="field">{i18n::t("compose.template")}
                <select aria-label=i18n::t("compose.template") on:change=move |ev| {
                    let id = event_target_value(&ev);
                    draft.set(choices.with(|c| c.iter().find(|t| t.id == id).cloned()));
                }>
                    {move || choices.get().into_iter().map(|t| {
                        let selected = draft.with(|d| d.as_ref().is_some_and(|d| d.id == t.id));
                        view! { <option value=t.id.clone() selected=selected>{format!("{} ({})", t.name, labels::template_language(t.language))}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button class="secondary" on:click=move |_| state.go(Page::Review)>{i18n::t("compose.back_to_review")}</button>
        </div>
        <div class="compose">
            <div class="card editor">
                <crate::app::send::chip_editor::TemplateTextEditor draft=draft available=available
                    body_label=i18n::t("compose.body") subject_label=i18n::t("compose.subject") />
                <ul class="errors" aria-label=i18n::t("compose.errors_aria")>
                    {move || errors.get().into_iter().map(|e| view! { <li class="error" role="alert">{i18n::render::template_error(&e)}</li> }).collect_view()}
                </ul>
                <ul aria-label=i18n::t("compose.hints_aria")>
                    {move || draft.with(|t| t.as_ref().map(template_hints).unwrap_or_default()).into_iter().map(|h| view! { <li class="muted">{i18n::render::hint(h)}</li> }).collect_view()}
                </ul>
            </div>
            <div class="card preview">
                <div class="toolbar">
                    <button class="secondary" aria-label=i18n::t("compose.prev_aria") disabled=move || current.get() == 0
                        on:click=move |_| current.update(|c| *c = c.saturating_sub(1))>"◀"</button>
                    <span role="status" aria-label=i18n::t("compose.position_aria")>{move || tf("compose.position", &[("i", &(current.get() + 1)), ("n", &n)])}</span>
                    <button class="secondary" aria-label=i18n::t("compose.next_aria") disabled=move || { current.get() + 1 >= n }
                        on:click=move |_| current.update(|c| *c = (*c + 1).min(n.saturating_sub(1)))>"▶"</button>
                </div>
                {move || preview.get().map(|(name, contact, rendered, warnings)| view! {
                    <p><strong>{name}</strong> " · " {contact}</p>
                    {match rendered {
                        Ok(m) => view! {
                            <div class="message" aria-label=i18n::t("compose.preview_aria")>
                                {m.subject.map(|s| view! { <p><strong>{s}</strong></p> })}
                                <pre class="body">{m.body}</pre>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{i18n::render::render_error(&e)}</p> }.into_any(),
                    }}
                    <ul>{warnings.into_iter().map(|w| view! { <li class="error">{i18n::render::recipient_warning(&w)}</li> }).collect_view()}</ul>
                })}
                {(has_appointments && calendar::is_attached(channel, purpose)).then(|| view! {
                    <p class="muted" aria-label=i18n::t("compose.attachment_aria")>
                        {tf("compose.calendar_attached", &[("file", &calendar::FILE_NAME)])}
                    </p>
                })}
                {move || sms_info.get().map(|info| {
                    let forcing: String = info.ucs2_chars.iter().map(|c| tf("common.quoted", &[("text", c)]) + " ").collect();
                    view! {
                        <p role="status" aria-label=i18n::t("compose.sms_length_aria")>{tf("compose.sms_length",
                            &[("units", &info.units), ("encoding", &i18n::labels::sms_encoding(info.encoding)), ("parts", &info.parts), ("remaining", &info.remaining_in_part)])}</p>
                        <Show when={let empty = info.ucs2_chars.is_empty(); move || !empty}>
                            <p class="error">{tf("compose.ucs2_chars", &[("chars", &forcing)])}</p>
                            <button class="secondary" on:click=move |_| draft.update(|t| if let Some(t) = t {
                                t.body = sms::replace_typographic(&t.body);
                            })>{i18n::t("compose.replace_typographic")}</button>
                        </Show>
                    }
                })}
                {move || (channel == Channel::Sms).then(|| {
                    // Sender ID check (issue 4): the configured SMS sender from the settings.
                    let id = state.settings.with(|s| s.sender_names.sms_sender_id.trim().to_string());
                    match sms::check_sender_id(&id) {
                        Ok(()) => view! { <p class="ok" role="status" aria-label=i18n::t("compose.sender_aria")>
                            {tf("compose.sender_ok", &[("id", &id)])}</p> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert" aria-label=i18n::t("compose.sender_aria")>
                            {tf("compose.sender_invalid", &[("id", &if id.is_empty() { String::new() } else { format!(" {}", tf("common.quoted", &[("text", &id)])) }), ("error", &i18n::msg(&e))])}</p> }.into_any(),
                    }
                })}
            </div>
        </div>
        <div class="card">
            <h2>{i18n::t("compose.before_output")}</h2>
            {move || {
                let w = all_warnings.get();
                if w.is_empty() {
                    view! { <p class="ok">{i18n::t("compose.no_warnings")}</p> }.into_any()
                } else {
                    view! {
                        <ul aria-label=i18n::t("compose.warnings_aria")>
                            {w.into_iter().map(|(i, name, msg)| view! {
                                <li><button class="secondary" on:click=move |_| current.set(i)>{name}</button> " " {msg}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
            {match channel {
                Channel::Letter => view! { <crate::app::send::letters::LetterOutput draft=draft /> }.into_any(),
                _ => view! { <crate::app::send::panel::SendPanel draft=draft /> }.into_any(),
            }}
        </div>
    }
}
