//! "Konflikte": persons that two devices changed differently in the same field. Each shows
//! both values of every colliding field, side by side; the user keeps the value in use or
//! takes the other version. Read fresh from the store each time.

use leptos::prelude::*;

use crate::app::error::AppError;
use crate::app::repo;
use crate::app::state::AppState;
use crate::app::sync::{self, Change};
use crate::domain::sync_merge::field_text;
use crate::domain::PersonId;
use crate::i18n::{t, tf};
use crate::storage::sync::conflicts::{self, PersonConflict};

/// The open collisions (read fresh).
pub async fn load() -> Result<Vec<PersonConflict>, AppError> {
    conflicts::open(&*repo::store())
        .await
        .map_err(repo::store_err)
}

async fn choose(state: AppState, person: PersonId, take_other: bool) -> Result<(), AppError> {
    conflicts::choose(&*repo::store(), &person, take_other)
        .await
        .map_err(repo::store_err)?;
    let change = Change::Persons { ids: vec![person] };
    repo::refresh(state, change.clone()).await?;
    sync::announce(&change);
    Ok(())
}

/// A field path as the user knows it (the person form's labels).
fn field_label(path: &str) -> String {
    let key = match path {
        "title" => "persons.field.title",
        "first_name" => "persons.field.first_name",
        "last_name" => "persons.field.last_name",
        "gender" => "persons.field.gender",
        "address.street" => "persons.field.street",
        "address.house_number" => "persons.field.house_number",
        "address.postcode" => "persons.field.postcode",
        "address.city" => "persons.field.city",
        "email" => "persons.field.email",
        "mobile" => "persons.field.mobile",
        "landline" => "persons.field.landline",
        "tags" => "query.cond.tags",
        "salutation" => "import.field.salutation",
        _ => return path.to_string(),
    };
    t(key).to_string()
}

#[component]
pub fn ConflictList() -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = RwSignal::new(Vec::<PersonConflict>::new());
    let message = RwSignal::new(None::<String>);
    // Read again whenever a round finished (the count on the status changes with it).
    Effect::new(move |_| {
        state.devices.with(|d| (d.conflicts, d.last_ok.clone()));
        leptos::task::spawn_local(async move {
            match load().await {
                Ok(l) => list.set(l),
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    });
    let pick = move |person: PersonId, take_other: bool| {
        leptos::task::spawn_local(async move {
            match choose(state, person, take_other).await {
                Ok(()) => {
                    message.set(Some(t("devices.conflict_settled").into()));
                    if let Ok(l) = load().await {
                        list.set(l);
                    }
                    super::nudge(state);
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <Show when=move || !list.with(Vec::is_empty)>
            <h2>{t("devices.conflicts_title")}</h2>
            <section class="card" aria-label=t("devices.conflicts_title")>
                <p class="muted">{t("devices.conflicts_intro")}</p>
                {move || list.get().into_iter().map(|c| {
                    let name = format!("{} {}", c.winner.first_name, c.winner.last_name);
                    let aria = tf("devices.conflict_aria", &[("name", &name)]);
                    let (keep_id, other_id) = (c.person.clone(), c.person.clone());
                    view! {
                        <article class="conflict" aria-label=aria>
                            <h3>{name}</h3>
                            <table class="data">
                                <thead><tr>
                                    <th scope="col">{t("devices.conflict_field")}</th>
                                    <th scope="col">{t("devices.conflict_in_use")}</th>
                                    <th scope="col">{t("devices.conflict_other")}</th>
                                </tr></thead>
                                <tbody>
                                    {c.fields.iter().map(|f| view! {
                                        <tr>
                                            <td>{field_label(f)}</td>
                                            <td>{field_text(&c.winner, f)}</td>
                                            <td>{field_text(&c.loser, f)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <div class="actions">
                                <button type="button" on:click=move |_| pick(keep_id.clone(), false)>{t("devices.conflict_keep")}</button>
                                <button type="button" class="secondary" on:click=move |_| pick(other_id.clone(), true)>{t("devices.conflict_take_other")}</button>
                            </div>
                        </article>
                    }
                }).collect_view()}
            </section>
        </Show>
        <p role="status">{move || message.get()}</p>
    }
}
