//! "Vorlagen": the practice's templates — shipped defaults and its own; create, duplicate,
//! edit, delete, restore.

use crate::app::common::Confirm;
use crate::app::engine::validate;
use crate::app::repo;
use crate::app::send::chip_editor::TemplateTextEditor;
use crate::app::state::AppState;
use crate::domain::placeholders::Availability;
use crate::domain::template::{Language, Template};
use crate::domain::{Channel, Purpose};
use crate::i18n::{self, labels};
use leptos::prelude::*;

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let channel = RwSignal::new(None::<Channel>);
    let editing = RwSignal::new(None::<Template>);
    let confirm_delete = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let list = Memo::new(move |_| {
        let ch = channel.get();
        state.templates.with(|all| {
            let mut v: Vec<Template> = all
                .iter()
                .filter(|t| ch.is_none_or(|c| t.channel == c))
                .cloned()
                .collect();
            v.sort_by(|a, b| {
                (a.channel, a.purpose, a.language.key(), &a.name).cmp(&(
                    b.channel,
                    b.purpose,
                    b.language.key(),
                    &b.name,
                ))
            });
            v
        })
    });
    let editing_key = Memo::new(move |_| editing.with(|t| t.as_ref().map(|t| t.id.clone())));
    // Any recipients, the practice's settings (therapist names shown or not).
    let available = Memo::new(move |_| state.settings.with(|s| Availability::new(true, s)));
    let errors = Memo::new(move |_| {
        editing.with(|t| {
            t.as_ref()
                .map(|t| {
                    let available = available.get();
                    validate(t, available).err().unwrap_or_default()
                })
                .unwrap_or_default()
        })
    });
    let save = move |_| {
        let Some(mut t) = editing.get() else { return };
        if t.name.trim().is_empty() {
            message.set(Some(i18n::t("templates.need_name").into()));
            return;
        }
        if !errors.with(Vec::is_empty) {
            message.set(Some(i18n::t("templates.has_errors").into()));
            return;
        }
        t.version += 1;
        leptos::task::spawn_local(async move {
            match repo::save_template(state, t.clone()).await {
                Ok(()) => {
                    editing.set(Some(t));
                    message.set(Some(i18n::t("templates.saved").into()));
                }
                Err(e) => message.set(Some(i18n::tf("common.not_saved", &[("error", &e)]))),
            }
        });
    };
    let delete = move |_| {
        confirm_delete.set(false);
        let Some(t) = editing.get() else { return };
        leptos::task::spawn_local(async move {
            match repo::delete_template(state, &t).await {
                Ok(restored) => {
                    message.set(Some(
                        if restored {
                            i18n::t("templates.restored")
                        } else {
                            i18n::t("templates.deleted")
                        }
                        .into(),
                    ));
                    editing.set(None);
                }
                Err(e) => message.set(Some(i18n::tf("common.not_deleted", &[("error", &e)]))),
            }
        });
    };
    let new_template = move |_| {
        editing.set(Some(Template {
            id: repo::new_id(),
            name: i18n::t("templates.new_name").into(),
            channel: channel.get().unwrap_or(Channel::Email),
            purpose: Purpose::Other,
            language: Language::De,
            subject: String::new(),
            body: "{{ anrede }},\n\n\n\nMit freundlichen Grüßen\n{{ praxis.name }}".into(),
            shipped: false,
            version: 0,
        }));
    };
    let field = move |label: &'static str,
                      get: fn(&Template) -> String,
                      set: fn(&mut Template, String)| {
        view! {
            <label class="field">{label}
                <input type="text" aria-label=label prop:value=move || editing.with(|t| t.as_ref().map(get).unwrap_or_default())
                    on:input=move |ev| { let v = event_target_value(&ev); editing.update(|t| if let Some(t) = t { set(t, v) }) } />
            </label>
        }
    };

    view! {
        <h1>{i18n::t("templates.title")}</h1>
        <div class="toolbar" role="group" aria-label=i18n::t("templates.channel")>
            <button class:secondary=move || channel.get().is_some() on:click=move |_| channel.set(None)>{i18n::t("templates.all")}</button>
            {Channel::ALL.into_iter().map(|c| view! {
                <button class:secondary=move || channel.get() != Some(c) on:click=move |_| channel.set(Some(c))>{labels::channel(c)}</button>
            }).collect_view()}
            <button on:click=new_template>{i18n::t("templates.new")}</button>
        </div>
        <p role="status">{move || message.get()}</p>
        <div class="compose">
            <div class="table-scroll" tabindex="0" role="region" aria-label=i18n::t("templates.list_region")>
                <table class="data" aria-label=i18n::t("templates.table")>
                    <thead><tr><th scope="col">{i18n::t("common.name")}</th><th scope="col">{i18n::t("templates.channel")}</th><th scope="col">{i18n::t("templates.purpose")}</th><th scope="col">{i18n::t("templates.language")}</th></tr></thead>
                    <tbody>
                        {move || list.get().into_iter().map(|t| {
                            let t2 = t.clone();
                            view! {
                                <tr on:click=move |_| { message.set(None); editing.set(Some(t2.clone())) }>
                                    <td><button class="secondary" aria-label=i18n::tf("templates.edit_aria", &[("name", &t.name)])>{t.name.clone()}</button></td>
                                    <td>{labels::channel(t.channel)}</td>
                                    <td>{labels::purpose(t.purpose)}</td>
                                    <td>{labels::template_language(t.language)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            // Drawn anew for another template only: the editor keeps its caret while typing.
            {move || editing_key.get().and_then(|_| editing.get_untracked()).map(|t| {
                let shipped = t.shipped;
                view! {
                    <div class="card editor">
                        {field(i18n::t("common.name"), |t| t.name.clone(), |t, v| t.name = v)}
                        <div class="toolbar">
                            <label class="field">{i18n::t("templates.channel")}
                                <select on:change=move |ev| { let v = event_target_value(&ev);
                                    if let Some(c) = Channel::ALL.into_iter().find(|c| c.key() == v) { editing.update(|t| if let Some(t) = t { t.channel = c }) } }>
                                    {Channel::ALL.into_iter().map(|c| view! { <option value=c.key() selected=t.channel == c>{labels::channel(c)}</option> }).collect_view()}
                                </select>
                            </label>
                            <label class="field">{i18n::t("templates.purpose")}
                                <select on:change=move |ev| { let v = event_target_value(&ev);
                                    if let Some(p) = Purpose::ALL.into_iter().find(|p| p.key() == v) { editing.update(|t| if let Some(t) = t { t.purpose = p }) } }>
                                    {Purpose::ALL.into_iter().map(|p| view! { <option value=p.key() selected=t.purpose == p>{labels::purpose(p)}</option> }).collect_view()}
                                </select>
                            </label>
                            <label class="field">{i18n::t("templates.language")}
                                <select on:change=move |ev| { let v = event_target_value(&ev);
                                    if let Some(l) = Language::ALL.into_iter().find(|l| l.key() == v) { editing.update(|t| if let Some(t) = t { t.language = l }) } }>
                                    {Language::ALL.into_iter().map(|l| view! { <option value=l.key() selected=t.language == l>{labels::template_language(l)}</option> }).collect_view()}
                                </select>
                            </label>
                        </div>
                        <TemplateTextEditor draft=editing available=available
                            body_label=i18n::t("templates.text_aria") subject_label=i18n::t("templates.subject") />
                        <ul>{move || errors.get().into_iter().map(|e| view! { <li class="error" role="alert">{i18n::render::template_error(&e)}</li> }).collect_view()}</ul>
                        <div class="actions">
                            <button on:click=save>{i18n::t("common.save")}</button>
                            <button class="secondary" on:click=move |_| editing.update(|t| if let Some(x) = t {
                                *x = x.duplicate(repo::new_id(), i18n::tf("templates.copy_name", &[("name", &x.name)]));
                            })>{i18n::t("templates.duplicate")}</button>
                            <button class="danger" on:click=move |_| confirm_delete.set(true)>
                                {if shipped { i18n::t("templates.restore") } else { i18n::t("common.delete") }}
                            </button>
                        </div>
                    </div>
                }
            })}
        </div>
        <Confirm open=confirm_delete title=i18n::t("templates.delete.title")
            text=i18n::t("templates.delete.text")
            confirm_label=i18n::t("templates.delete.confirm") on_confirm=delete />
    }
}
