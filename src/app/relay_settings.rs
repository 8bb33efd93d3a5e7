//! Settings of the relay connection (stored only in this browser): URL, token, sender per
//! channel, "Verbindung testen" and a test send.

use super::relay_client::{self as relay, RelayConfig};
use super::transmit;
use crate::domain::{Channel, Purpose};
use crate::wire::{OutgoingMessage, SenderInfo};
use leptos::prelude::*;

#[component]
pub fn RelaySettings() -> impl IntoView {
    let ctl = transmit::ctl();
    let draft = RwSignal::new(transmit::config());
    // The config is read at boot; show it once it is there.
    Effect::new(move |_| {
        if ctl.ready.get() {
            draft.set(transmit::config());
        }
    });
    let senders = RwSignal::new(Vec::<SenderInfo>::new());
    let message = RwSignal::new(None::<String>);
    let test_to = RwSignal::new(String::new());
    let test_channel = RwSignal::new(Channel::Email);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut cfg = draft.get_untracked();
        cfg.optouts_since = transmit::config().optouts_since;
        leptos::task::spawn_local(async move {
            message.set(Some(match transmit::set_config(cfg).await {
                Ok(()) => "Relay-Einstellungen gespeichert.".into(),
                Err(e) => format!("Nicht gespeichert: {e}"),
            }));
        });
    };
    let test = move |_| {
        let cfg = draft.get_untracked();
        message.set(Some("Verbindung wird geprüft …".into()));
        leptos::task::spawn_local(async move {
            let h = match relay::health(&cfg).await {
                Ok(h) => h,
                Err(e) => {
                    message.set(Some(format!("Keine Verbindung: {}", e.message_de())));
                    return;
                }
            };
            match relay::senders(&cfg).await {
                Ok(s) => {
                    message.set(Some(format!(
                        "Verbindung in Ordnung: Relay {}{}, {} Absenderkonten, {} Nachrichten offen.",
                        h.version,
                        if h.demo { " im Demomodus" } else { "" },
                        s.senders.len(),
                        h.pending
                    )));
                    senders.set(s.senders);
                }
                Err(e) => message.set(Some(format!("Relay erreichbar, aber: {}", e.message_de()))),
            }
        });
    };
    let test_send = move |_| {
        let cfg = draft.get_untracked();
        let channel = test_channel.get_untracked();
        let to = test_to.get_untracked().trim().to_string();
        if to.is_empty() {
            message.set(Some(
                "Bitte eine eigene Adresse oder Nummer eintragen.".into(),
            ));
            return;
        }
        let msg = OutgoingMessage {
            client_id: super::repo::new_id(),
            channel,
            purpose: Purpose::Other,
            recipient: to,
            recipient_name: None,
            subject: "Testnachricht von praxisbote".into(),
            text: "Dies ist eine Testnachricht von praxisbote. Der Versand funktioniert.".into(),
            html: None,
            attachment: None,
            sender: cfg.sender_for(channel),
            person_id: None,
        };
        leptos::task::spawn_local(async move {
            message.set(Some(match relay::submit(&cfg, vec![msg]).await {
                Ok(r) => format!(
                    "Testnachricht übergeben ({}).",
                    r.messages
                        .first()
                        .map(|m| m.state.label_de())
                        .unwrap_or("?")
                ),
                Err(e) => format!("Test fehlgeschlagen: {}", e.message_de()),
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
                    <option value="">"Standard des Relays"</option>
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
        <h2>"Versand über praxisbote-relay"</h2>
        <form class="person card" on:submit=save aria-label="Relay">
            <p class="wide muted">"E-Mails und SMS gehen über praxisbote-relay. Leer gelassen wird der Relay verwendet, der diese App ausliefert. Der Zugangsschlüssel bleibt in diesem Browser."</p>
            {text_field("Relay-Adresse", |c| c.url.clone(), |c, v| c.url = v)}
            {text_field("Zugangsschlüssel", |c| c.token.clone(), |c, v| c.token = v)}
            {sender_select(Channel::Email, "Absender E-Mail")}
            {sender_select(Channel::Sms, "Absender SMS")}
            <div class="wide actions">
                <button type="submit">"Relay speichern"</button>
                <button type="button" class="secondary" on:click=test>"Verbindung testen"</button>
            </div>
            <label>
                "Testversand an"
                <input type="text" aria-label="Testversand an" prop:value=move || test_to.get()
                    on:input=move |ev| test_to.set(event_target_value(&ev)) />
            </label>
            <label>
                "Kanal"
                <select aria-label="Testkanal" on:change=move |ev| test_channel.set(if event_target_value(&ev) == "sms" { Channel::Sms } else { Channel::Email })>
                    <option value="email">"E-Mail"</option>
                    <option value="sms">"SMS"</option>
                </select>
            </label>
            <div class="wide actions">
                <button type="button" class="secondary" on:click=test_send>"Testnachricht senden"</button>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
    }
}
