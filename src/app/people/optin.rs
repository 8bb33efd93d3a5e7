//! "Bestätigung anfordern": the double opt-in request of the person form. The user chooses
//! the purposes; the confirmation e-mail goes through the outbox and the relay like every
//! message (`transmit::request_confirmation`), the confirmation comes back with
//! "Bestätigungen abrufen" (send log).

use crate::app::send::transmit;
use crate::app::state::AppState;
use crate::domain::{PersonId, Purpose};
use crate::i18n::{labels, t, tf};
use leptos::prelude::*;

/// The purposes a confirmation can be asked for: the advertising ones.
pub fn optin_purposes() -> Vec<Purpose> {
    Purpose::ALL
        .into_iter()
        .filter(|p| p.is_advertising())
        .collect()
}

/// Purpose checkboxes and the "Bestätigung anfordern" button for `ids` (one person in the
/// person form, or a selection). `has_email` says whether the button can work at all.
#[component]
pub fn OptInRequest(
    ids: Signal<Vec<PersonId>>,
    #[prop(into)] has_email: Signal<bool>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let chosen = RwSignal::new(Vec::<Purpose>::new());
    let busy = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    let request = move |_| {
        let purposes = chosen.get_untracked();
        if purposes.is_empty() {
            note.set(Some(t("optin.need_purpose").into()));
            return;
        }
        let ids = ids.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            note.set(Some(
                match transmit::request_confirmation(state, &ids, &purposes).await {
                    Ok((n, skipped)) if skipped.is_empty() => tf("optin.queued", &[("n", &n)]),
                    Ok((n, skipped)) => tf(
                        "optin.queued_skipped",
                        &[
                            ("n", &n),
                            (
                                "list",
                                &skipped
                                    .iter()
                                    .map(|(name, why)| {
                                        tf("queue.skipped_item", &[("name", name), ("reason", why)])
                                    })
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            ),
                        ],
                    ),
                    Err(e) => tf("common.error", &[("error", &e)]),
                },
            ));
            busy.set(false);
        });
    };
    view! {
        <section class="wide card" aria-label=t("optin.title")>
            <h2>{t("optin.title")}</h2>
            <p class="muted">{t("optin.hint")}</p>
            <fieldset>
                <legend>{t("optin.purposes")}</legend>
                {optin_purposes().into_iter().map(|p| view! {
                    <label>
                        <input type="checkbox" aria-label=labels::purpose(p)
                            prop:checked=move || chosen.with(|c| c.contains(&p))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|c| {
                                    c.retain(|x| *x != p);
                                    if on {
                                        c.push(p);
                                        c.sort_by_key(|x| Purpose::ALL.iter().position(|y| y == x));
                                    }
                                });
                            } />
                        " " {labels::purpose(p)}
                    </label>
                }).collect_view()}
            </fieldset>
            <Show when=move || !has_email.get()>
                <p class="muted">{t("optin.no_email")}</p>
            </Show>
            <div class="actions">
                <button type="button" on:click=request
                    disabled=move || busy.get() || !has_email.get()>{t("optin.request")}</button>
                <span role="status" aria-label=t("optin.status")>{move || note.get()}</span>
            </div>
        </section>
    }
}
