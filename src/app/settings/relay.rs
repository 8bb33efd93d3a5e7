//! Settings of the relay connection (stored only in this browser): URL, token, sender per
//! channel, "Verbindung testen" and a test send.

use crate::app::send::relay_client::{self as relay, RelayConfig};
use crate::app::send::transmit;
use crate::app::state::AppState;
use crate::domain::{Channel, Purpose};
use crate::i18n::{labels, t, tf};
use crate::wire::{OutgoingMessage, SenderInfo};
use leptos::prelude::*;

#[component]
pub fn RelaySettings() -> impl IntoView {
    let state = expect_context::<AppState>();
    let shown = state.relay.get_untracked();
    let draft = RwSignal::new(shown.clone());
    // The settings are read at boot (and again when another tab saved them): show them when
    // they really changed — a notification with the same settings (a re-read) must not throw
    // away what is being typed.
    Effect::new(move |before: Option<RelayConfig>| {
        let now = state.relay.get();
        if before.as_ref().unwrap_or(&shown) != &now {
            draft.set(now.clone());
        }
        now
    });
    let senders = RwSignal::new(Vec::<SenderInfo>::new());
    let message = RwSignal::new(None::<String>);
    let test_to = RwSignal::new(String::new());
    let test_channel = RwSignal::new(Channel::Email);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut cfg = draft.get_untracked();
        let saved = state.relay.get_untracked();
        cfg.optouts_since = saved.optouts_since;
        cfg.optouts_after = saved.optouts_after;
        cfg.confirmations_after = saved.confirmations_after;
        leptos::task::spawn_local(async move {
            message.set(Some(match transmit::set_config(state, cfg).await {
                Ok(()) => t("relay.saved").into(),
                Err(e) => tf("common.not_saved", &[("error", &e)]),
            }));
        });
    };
    let test = move |_| {
        let cfg = draft.get_untracked();
        message.set(Some(t("relay.checking").into()));
        leptos::task::spawn_local(async move {
            let h = match relay::health(&cfg).await {
                Ok(h) => h,
                Err(e) => {
                    message.set(Some(tf("relay.no_connection", &[("error", &e)])));
                    return;
                }
            };
            match relay::senders(&cfg).await {
                Ok(s) => {
                    message.set(Some(if h.demo {
                        tf(
                            "relay.ok_demo",
                            &[
                                ("version", &h.version),
                                ("senders", &s.senders.len()),
                                ("pending", &h.pending),
                            ],
                        )
                    } else {
                        tf(
                            "relay.ok",
                            &[
                                ("version", &h.version),
                                ("senders", &s.senders.len()),
                                ("pending", &h.pending),
                            ],
                        )
                    }));
                    senders.set(s.senders);
                }
                Err(e) => message.set(Some(tf("relay.reachable_but", &[("error", &e)]))),
            }
        });
    };
    let test_send = move |_| {
        let cfg = draft.get_untracked();
        let channel = test_channel.get_untracked();
        let to = test_to.get_untracked().trim().to_string();
        if to.is_empty() {
            message.set(Some(t("relay.enter_own_address").into()));
            return;
        }
        let msg = OutgoingMessage {
            client_id: crate::app::repo::new_id(),
            channel,
            purpose: Purpose::Other,
            recipient: to,
            recipient_name: None,
            subject: t("relay.test_subject").into(),
            text: t("relay.test_text").into(),
            html: None,
            attachments: Vec::new(),
            sender: cfg.sender_for(channel),
            person_id: None,
            optin: None,
        };
        leptos::task::spawn_local(async move {
            message.set(Some(match relay::submit(&cfg, vec![msg]).await {
                Ok(r) => tf(
                    "relay.test_submitted",
                    &[(
                        "state",
                        &r.messages
                            .first()
                            .map(|m| labels::delivery_state(m.state))
                            .unwrap_or("?"),
                    )],
                ),
                Err(e) => tf("relay.test_failed", &[("error", &e)]),
            }));
        });
    };
    let sender_select = move |channel: Channel, label: &'static str| {
        view! {
            <label>
                {label}
                <select aria-label=label on:change=move |ev| {
                    let v = event_target_value(&ev);
                    draft.update(|d| match channel {
                        Channel::Sms => d.sms_sender = v,
                        _ => d.email_sender = v,
                    });
                }>
                    <option value="">{t("relay.default_sender")}</option>
                    {move || {
                        let current = draft.with(|d| d.sender_for(channel).unwrap_or_default());
                        senders.get().into_iter().filter(|s| s.channel == channel).map(|s| {
                            let sel = s.name == current;
                            view! { <option value=s.name.clone() selected=sel>{format!("{} ({})", s.name, s.from)}</option> }
                        }).collect_view()
                    }}
                </select>
            </label>
        }
    };
    let text_field = move |label: &'static str,
                           get: fn(&RelayConfig) -> String,
                           set: fn(&mut RelayConfig, String)| {
        view! {
            <label>
                {label}
                <input type="text" prop:value=move || draft.with(get)
                    on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| set(d, v)) } />
            </label>
        }
    };
    view! {
        <h2>{t("relay.title")}</h2>
        <form class="person card" on:submit=save aria-label=t("relay.aria")>
            <p class="wide muted">{t("relay.intro")}</p>
            {text_field(t("relay.url"), |c| c.url.clone(), |c, v| c.url = v)}
            {text_field(t("relay.token"), |c| c.token.clone(), |c, v| c.token = v)}
            {sender_select(Channel::Email, t("relay.sender_email"))}
            {sender_select(Channel::Sms, t("relay.sender_sms"))}
            <label>
                {t("relay.optin_days")}
                <input type="number" min="1" max="365" aria-label=t("relay.optin_days")
                    prop:value=move || draft.with(|c| c.optin_expiry_days().to_string())
                    on:input=move |ev| {
                        let v = event_target_value(&ev).trim().parse::<u32>().ok();
                        draft.update(|c| c.optin_expiry_days = v);
                    } />
            </label>
            <div class="wide actions">
                <button type="submit">{t("relay.save")}</button>
                <button type="button" class="secondary" on:click=test>{t("relay.test")}</button>
            </div>
            <label>
                {t("relay.test_to")}
                <input type="text" aria-label=t("relay.test_to") prop:value=move || test_to.get()
                    on:input=move |ev| test_to.set(event_target_value(&ev)) />
            </label>
            <label>
                {t("log.col.channel")}
                <select aria-label=t("relay.test_channel") on:change=move |ev| test_channel.set(if event_target_value(&ev) == "sms" { Channel::Sms } else { Channel::Email })>
                    <option value="email">{labels::channel(Channel::Email)}</option>
                    <option value="sms">{labels::channel(Channel::Sms)}</option>
                </select>
            </label>
            <div class="wide actions">
                <button type="button" class="secondary" on:click=test_send>{t("relay.test_send")}</button>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
    }
}
