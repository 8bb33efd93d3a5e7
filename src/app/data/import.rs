//! The import page: choose or drop a file (CSV, GDT/BDT, Excel/OpenDocument, or an `.ics`
//! calendar), check what was detected, fix the column mapping, preview, validate (with a
//! progress bar), decide on duplicates, then store everything in ONE transaction through
//! [`repo::apply_import`] — or nothing on cancel. Spreadsheets and calendars are read in the
//! engine wasm (`app::engine`); a calendar goes to its confirmation step
//! ([`super::calendar`]). All rules live in `domain::import`; this file only wires them to
//! the page.

use crate::app::error::AppError;
use crate::app::repo;
use crate::app::state::{AppState, Page};
use crate::domain::import::{
    check_file_size, decode, detect_format, plan_appointment_import, plan_calendar_import,
    read_table, table_from_sheet, xdt, AppointmentImportOptions, AppointmentPlan, CalendarOptions,
    CalendarPlan, CsvTable, DuplicateAction, Field, FileFormat, ImportKind, ImportOptions,
    ImportPlan, Mapping, PersonPlanner, RowIssue, TableSource,
};
use crate::domain::{AppointmentId, Kind, PersonId};
use crate::i18n::{self, tf};
use leptos::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Rows validated between two updates of the progress bar.
const CHUNK: usize = 5_000;
/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 5;
/// Most issues listed on the page (the summary counts all of them).
const MAX_LISTED: usize = 500;

#[derive(Clone, Debug, PartialEq)]
enum Stage {
    Choose,
    Reading,
    Mapping,
    Checking,
    Review,
    Saving,
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// Gives the browser a turn (repaint the progress bar) before continuing.
pub async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Reads a file's bytes (after the size check, so a huge file is never read).
pub async fn read_file_bytes(file: &web_sys::File) -> Result<Vec<u8>, AppError> {
    check_file_size(file.size() as u64)?;
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| AppError::msg("import.read_failed", []))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

fn issue_list(label: &'static str, issues: &[RowIssue]) -> impl IntoView {
    let more = issues.len().saturating_sub(MAX_LISTED);
    let items: Vec<String> = issues
        .iter()
        .take(MAX_LISTED)
        .map(i18n::import::row_issue)
        .collect();
    view! {
        <ul class="issues" aria-label=label>
            {items.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
        </ul>
        {(more > 0).then(|| view! { <p class="muted">{tf("import.more", &[("n", &more)])}</p> })}
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let stage = RwSignal::new(Stage::Choose);
    let file_name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let table = RwSignal::new(None::<Arc<CsvTable>>);
    let mapping = RwSignal::new(None::<Mapping>);
    let plan = RwSignal::new(None::<Arc<ImportPlan>>);
    let import_kind = RwSignal::new(ImportKind::Persons);
    let appt_plan = RwSignal::new(None::<Arc<AppointmentPlan>>);
    let progress = RwSignal::new((0usize, 0usize));
    let default_kind = RwSignal::new(Kind::Patient);
    let on_duplicate = RwSignal::new(DuplicateAction::Skip);
    let overrides = RwSignal::new(HashMap::<usize, DuplicateAction>::new());
    // Incremented on cancel/new file: a running validation notices and stops.
    let run = RwSignal::new(0u64);
    // A calendar file waiting for its confirmation step.
    let calendar = RwSignal::new(None::<Arc<CalendarPlan>>);
    // The bytes and name of a spreadsheet (to read another of its sheets).
    let workbook = StoredValue::new(None::<(Arc<Vec<u8>>, String)>);

    let reset = move || {
        run.update(|r| *r += 1);
        calendar.set(None);
        workbook.set_value(None);
        table.set(None);
        mapping.set(None);
        plan.set(None);
        appt_plan.set(None);
        overrides.set(HashMap::new());
        progress.set((0, 0));
        stage.set(Stage::Choose);
    };

    let load_file = move |file: web_sys::File| {
        reset();
        error.set(None);
        file_name.set(file.name());
        stage.set(Stage::Reading);
        let my_run = run.get_untracked();
        let name = file.name();
        leptos::task::spawn_local(async move {
            yield_to_browser().await;
            let parsed = match read_file_bytes(&file).await {
                Ok(bytes) => read_any(state, name, bytes, workbook).await,
                Err(e) => Err(e),
            };
            // The page may have been left meanwhile (signals disposed): then stop quietly.
            if run.try_get_untracked() != Some(my_run) {
                return;
            }
            match parsed {
                Ok(Read::Calendar(plan)) => {
                    calendar.set(Some(Arc::new(plan)));
                    stage.set(Stage::Review);
                }
                Ok(Read::Table(t)) => {
                    if matches!(t.source, TableSource::Xdt(_)) {
                        import_kind.set(ImportKind::Persons);
                    }
                    mapping.set(Some(t.initial_mapping(import_kind.get_untracked())));
                    table.set(Some(Arc::new(t)));
                    stage.set(Stage::Mapping);
                }
                Err(e) => {
                    error.set(Some(tf("import.nothing_imported", &[("error", &e)])));
                    stage.set(Stage::Choose);
                }
            }
        });
    };

    // Validates all rows in chunks (progress bar), then shows the report.
    let check = move || {
        let (Some(t), Some(m)) = (table.get_untracked(), mapping.get_untracked()) else {
            return;
        };
        run.update(|r| *r += 1);
        let my_run = run.get_untracked();
        plan.set(None);
        appt_plan.set(None);
        error.set(None);
        stage.set(Stage::Checking);
        progress.set((0, t.rows.len()));
        if m.kind == ImportKind::Appointments {
            leptos::task::spawn_local(async move {
                yield_to_browser().await;
                let persons = state.persons.get_untracked();
                let result = plan_appointment_import(
                    &t,
                    &m,
                    &persons,
                    &AppointmentImportOptions::new(today()),
                    &mut || AppointmentId(repo::new_id()),
                );
                if run.try_get_untracked() != Some(my_run) {
                    return;
                }
                match result {
                    Ok(p) => {
                        appt_plan.set(Some(Arc::new(p)));
                        stage.set(Stage::Review);
                    }
                    Err(e) => {
                        error.set(Some(i18n::msg(&e)));
                        stage.set(Stage::Mapping);
                    }
                }
            });
            return;
        }
        let mut options = ImportOptions::new(today());
        options.default_kind = default_kind.get_untracked();
        options.on_duplicate = on_duplicate.get_untracked();
        options.duplicate_overrides = overrides.get_untracked();
        leptos::task::spawn_local(async move {
            yield_to_browser().await;
            let existing = state.persons.get_untracked();
            let mut planner = match PersonPlanner::new(&t, &m, &existing, &options) {
                Ok(p) => p,
                Err(e) => {
                    error.set(Some(i18n::msg(&e)));
                    stage.set(Stage::Mapping);
                    return;
                }
            };
            for chunk in t.rows.chunks(CHUNK) {
                planner.process(chunk, &mut || PersonId(repo::new_id()));
                progress.set((planner.processed(), t.rows.len()));
                yield_to_browser().await;
                if run.try_get_untracked() != Some(my_run) {
                    return;
                }
            }
            plan.set(Some(Arc::new(planner.finish())));
            stage.set(Stage::Review);
        });
    };

    let apply = move |_| {
        let Some(p) = plan.get_untracked() else {
            return;
        };
        stage.set(Stage::Saving);
        plan.set(None);
        let p = Arc::try_unwrap(p).unwrap_or_else(|a| (*a).clone());
        let kind = default_kind.get_untracked();
        leptos::task::spawn_local(async move {
            yield_to_browser().await;
            match repo::apply_import(state, p).await {
                Ok(r) => {
                    reset();
                    state.notice.set(Some(tf(
                        "import.done",
                        &[("inserted", &r.inserted), ("updated", &r.updated)],
                    )));
                    state.go(Page::Persons(kind));
                }
                Err(e) => {
                    error.set(Some(tf("import.not_saved", &[("error", &e)])));
                    stage.set(Stage::Mapping);
                }
            }
        });
    };

    let apply_appointments = move |_| {
        let Some(p) = appt_plan.get_untracked() else {
            return;
        };
        stage.set(Stage::Saving);
        appt_plan.set(None);
        let list = Arc::try_unwrap(p)
            .map(|p| p.inserts)
            .unwrap_or_else(|a| a.inserts.clone());
        leptos::task::spawn_local(async move {
            yield_to_browser().await;
            match repo::apply_appointment_import(state, list).await {
                Ok(n) => {
                    reset();
                    state
                        .notice
                        .set(Some(tf("import.done_appointments", &[("n", &n)])));
                    state.go(Page::Appointments);
                }
                Err(e) => {
                    error.set(Some(tf("import.not_saved", &[("error", &e)])));
                    stage.set(Stage::Mapping);
                }
            }
        });
    };

    let cancel = move |_| {
        reset();
        error.set(None);
        state
            .notice
            .set(Some(i18n::t("import.cancelled").to_string()));
    };

    let on_file_input = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(f) = input.files().and_then(|fs| fs.item(0)) {
            load_file(f);
        }
        // Choosing the same file again should load it again.
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(f) = ev
            .data_transfer()
            .and_then(|dt| dt.files())
            .and_then(|fs| fs.item(0))
        {
            load_file(f);
        }
    };

    let busy = move || {
        matches!(
            stage.get(),
            Stage::Reading | Stage::Checking | Stage::Saving
        )
    };

    view! {
        <h1>{i18n::t("nav.import")}</h1>
        <p class="muted">
            {i18n::t("import.intro")} " "
            {i18n::t("import.intro_treatment")}
        </p>
        <div class="card dropzone"
            on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=on_drop>
            <label>
                {i18n::t("import.choose_or_drop")}
                <input type="file" accept=ACCEPT
                    aria-label=i18n::t("import.choose_aria") disabled=busy on:change=on_file_input />
            </label>
            {move || (!file_name.get().is_empty()).then(|| view! {
                <p>{i18n::t("import.file")} " " <strong>{file_name.get()}</strong></p>
            })}
        </div>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || (stage.get() == Stage::Reading).then(|| view! {
            <p role="status">{i18n::t("import.reading")}</p>
        })}
        {move || calendar.get().map(|plan| view! {
            <super::calendar::CalendarReview plan=plan on_done=move || reset() />
        })}
        {move || table.get().map(|t| {
            let t2 = t.clone();
            let not_imported = t.not_imported();
            view! {
                <section class="card" aria-label=i18n::t("import.detected_aria")>
                    <p role="status">{detected(&t)}</p>
                    {sheet_choice(&t, move |i| {
                        let Some((bytes, name)) = workbook.get_value() else { return };
                        let my_run = run.get_untracked();
                        stage.set(Stage::Reading);
                        leptos::task::spawn_local(async move {
                            let r = read_workbook(&bytes, &name, i).await;
                            if run.try_get_untracked() != Some(my_run) {
                                return;
                            }
                            match r {
                                Ok(t) => {
                                    mapping.set(Some(t.initial_mapping(import_kind.get_untracked())));
                                    plan.set(None);
                                    appt_plan.set(None);
                                    table.set(Some(Arc::new(t)));
                                    error.set(None);
                                }
                                Err(e) => error.set(Some(tf("import.nothing_imported", &[("error", &e)]))),
                            }
                            stage.set(Stage::Mapping);
                        });
                    })}
                </section>
                {(!not_imported.is_empty()).then(|| view! {
                    <div class="banner" role="note" aria-label=i18n::t("import.xdt_skipped_aria")>
                        <strong>{i18n::t("import.xdt_skipped_title")} " "</strong>
                        <span>{not_imported.join(", ")}</span>
                    </div>
                })}
                <MappingSection table=t2 kind=import_kind.get() mapping=mapping on_change=move || {
                    appt_plan.set(None);
                    plan.set(None);
                    if stage.get_untracked() == Stage::Review { stage.set(Stage::Mapping); }
                } />
            }
        })}
        {move || mapping.get().map(|m| {
            let cols = m.treatment_columns();
            (!cols.is_empty()).then(|| view! {
                <div class="banner" role="note" aria-label=i18n::t("import.treatment_aria")>
                    <strong>{i18n::t("import.treatment_title")} " "</strong>
                    <span>{tf(
                        "import.treatment_columns",
                        &[("columns", &cols.iter().map(|c| tf("common.quoted", &[("text", c)])).collect::<Vec<_>>().join(", "))]
                    )}</span>
                </div>
            })
        })}
        {move || table.get().is_some().then(|| view! {
            <div class="card options">
                <label>
                    {i18n::t("import.kind")}
                    <select on:change=move |ev| {
                        let k = if event_target_value(&ev) == "appointments" { ImportKind::Appointments } else { ImportKind::Persons };
                        import_kind.set(k);
                        plan.set(None);
                        appt_plan.set(None);
                        if let Some(t) = table.get_untracked() {
                            mapping.set(Some(t.initial_mapping(k)));
                        }
                        if stage.get_untracked() == Stage::Review { stage.set(Stage::Mapping); }
                    }>
                        <option value="persons" selected=move || import_kind.get() == ImportKind::Persons>{i18n::t("import.kind.persons")}</option>
                        <option value="appointments" selected=move || import_kind.get() == ImportKind::Appointments>{i18n::t("import.kind.appointments")}</option>
                    </select>
                </label>
                <label hidden=move || import_kind.get() == ImportKind::Appointments>
                    {i18n::t("import.default_kind")}
                    <select on:change=move |ev| {
                        default_kind.set(if event_target_value(&ev) == "prospect" { Kind::Prospect } else { Kind::Patient });
                        plan.set(None);
                    }>
                        <option value="patient" selected=move || default_kind.get() == Kind::Patient>{i18n::t("nav.patients")}</option>
                        <option value="prospect" selected=move || default_kind.get() == Kind::Prospect>{i18n::t("nav.prospects")}</option>
                    </select>
                </label>
                <label hidden=move || import_kind.get() == ImportKind::Appointments>
                    {i18n::t("import.existing")}
                    <select on:change=move |ev| {
                        on_duplicate.set(if event_target_value(&ev) == "update" { DuplicateAction::Update } else { DuplicateAction::Skip });
                        overrides.set(HashMap::new());
                        if plan.get_untracked().is_some() { check(); }
                    }>
                        <option value="skip" selected=move || on_duplicate.get() == DuplicateAction::Skip>{i18n::t("import.skip")}</option>
                        <option value="update" selected=move || on_duplicate.get() == DuplicateAction::Update>{i18n::t("import.update")}</option>
                    </select>
                </label>
                <div class="actions">
                    <button on:click=move |_| check() disabled=busy>{i18n::t("import.check")}</button>
                    <button class="secondary" on:click=cancel>{i18n::t("common.cancel")}</button>
                </div>
            </div>
        })}
        {move || matches!(stage.get(), Stage::Checking | Stage::Saving).then(|| {
            let (done, total) = progress.get();
            let saving = stage.get() == Stage::Saving;
            view! {
                <div class="card">
                    <progress aria-label=i18n::t("import.progress_aria")
                        max=total.max(1).to_string() value=if saving { total.max(1) } else { done }.to_string()></progress>
                    <p role="status">{if saving {
                        i18n::t("import.saving").to_string()
                    } else {
                        tf("import.progress", &[("done", &done), ("total", &total)])
                    }}</p>
                </div>
            }
        })}
        {move || plan.get().map(|p| view! {
            <Report plan=p overrides=overrides on_duplicate=on_duplicate recheck=check />
            <div class="actions">
                <button on:click=apply disabled=busy>{
                    let n = plan.with(|p| p.as_ref().map(|p| p.inserts.len() + p.updates.len()).unwrap_or(0));
                    tf("import.apply", &[("n", &n)])
                }</button>
                <button class="secondary" on:click=cancel>{i18n::t("common.cancel")}</button>
            </div>
        })}
        {move || appt_plan.get().map(|p| {
            let n = p.inserts.len();
            view! {
                <section class="card" aria-label=i18n::t("import.result")>
                    <h2>{i18n::t("import.result")}</h2>
                    <p role="status">{i18n::import::appointment_summary(&p)}</p>
                    {(!p.errors.is_empty()).then(|| view! {
                        <h3>{tf("import.errors_heading", &[("n", &p.errors.len())])}</h3>
                        {issue_list(i18n::t("import.errors"), &p.errors)}
                    })}
                    {(!p.warnings.is_empty()).then(|| view! {
                        <details>
                            <summary>{tf("import.warnings_heading", &[("n", &p.warnings.len())])}</summary>
                            {issue_list(i18n::t("import.warnings"), &p.warnings)}
                        </details>
                    })}
                </section>
                <div class="actions">
                    <button on:click=apply_appointments disabled=busy>{tf("import.apply_appointments", &[("n", &n)])}</button>
                    <button class="secondary" on:click=cancel>{i18n::t("common.cancel")}</button>
                </div>
            }
        })}
    }
}

#[component]
fn MappingSection<F>(
    table: Arc<CsvTable>,
    kind: ImportKind,
    mapping: RwSignal<Option<Mapping>>,
    on_change: F,
) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let choices = Arc::new(Field::choices(kind));
    let preview = table.preview(PREVIEW_ROWS);
    let headers = table.headers.clone();
    let problem = RwSignal::new(None::<String>);
    let columns = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let choices = choices.clone();
            let h = h.clone();
            let is_treatment = move || {
                mapping.with(|m| {
                    m.as_ref()
                        .is_some_and(|m| m.columns[i].field == Field::Treatment)
                })
            };
            view! {
                <tr>
                    <th scope="row">{h.clone()}</th>
                    <td>{move || if is_treatment() {
                        view! { <span class="error">{i18n::t("import.treatment_never")}</span> }.into_any()
                    } else {
                        let choices = choices.clone();
                        let current = mapping.with(|m| m.as_ref().map(|m| m.columns[i].field));
                        let label = tf("import.mapping_aria", &[("column", &h)]);
                        view! {
                            <select aria-label=label on:change={
                                let choices = choices.clone();
                                move |ev| {
                                    let idx: usize = event_target_value(&ev).parse().unwrap_or(0);
                                    let field = choices.get(idx).copied().unwrap_or(Field::Ignore);
                                    let mut res = Ok(());
                                    mapping.update(|m| if let Some(m) = m { res = m.set(i, field); });
                                    problem.set(res.err().map(|e| i18n::msg(&e)));
                                    on_change();
                                }
                            }>
                                {choices.iter().enumerate().map(|(k, f)| view! {
                                    <option value=k.to_string() selected=Some(*f) == current>{i18n::import::field(*f)}</option>
                                }).collect_view()}
                            </select>
                        }.into_any()
                    }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-label=i18n::t("import.mapping")>
            <h2>{i18n::t("import.mapping")}</h2>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            <table class="data mapping">
                <thead><tr><th>{i18n::t("import.col.column")}</th><th>{i18n::t("import.col.field")}</th></tr></thead>
                <tbody>{columns}</tbody>
            </table>
        </section>
        <section class="card" aria-label=i18n::t("compose.preview_aria")>
            <h2>{tf("import.preview", &[("n", &preview.len())])}</h2>
            <div class="scroll">
                <table class="data preview">
                    <thead><tr>{headers.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}</tr></thead>
                    <tbody>{preview.into_iter().map(|r| view! {
                        <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
                    }).collect_view()}</tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn Report<F>(
    plan: Arc<ImportPlan>,
    overrides: RwSignal<HashMap<usize, DuplicateAction>>,
    on_duplicate: RwSignal<DuplicateAction>,
    recheck: F,
) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let summary = i18n::import::summary(&plan);
    let duplicates = plan.duplicates.clone();
    let skipped: Vec<String> = plan
        .skipped
        .iter()
        .take(MAX_LISTED)
        .map(|s| {
            tf(
                "import.skipped_row",
                &[
                    ("line", &s.line),
                    ("row", &s.row),
                    ("reason", &i18n::import::skipped_reason(s)),
                ],
            )
        })
        .collect();
    view! {
        <section class="card" aria-label=i18n::t("import.result")>
            <h2>{i18n::t("import.result")}</h2>
            <p role="status">{summary}</p>
            {(!plan.errors.is_empty()).then(|| view! {
                <h3>{tf("import.errors_heading", &[("n", &plan.errors.len())])}</h3>
                {issue_list(i18n::t("import.errors"), &plan.errors)}
            })}
            {(!duplicates.is_empty()).then(|| view! {
                <h3>{tf("import.duplicates", &[("n", &duplicates.len())])}</h3>
                <table class="data duplicates">
                    <thead><tr><th>{i18n::t("import.col.line")}</th><th>{i18n::t("import.col.existing")}</th><th>{i18n::t("import.col.matched_by")}</th><th>{i18n::t("send.action")}</th></tr></thead>
                    <tbody>{duplicates.into_iter().map(|d| {
                        let row = d.row;
                        let label = tf("import.action_aria", &[("line", &d.line)]);
                        view! {
                            <tr>
                                <td>{d.line}</td>
                                <td>{d.existing_name.clone()}</td>
                                <td>{i18n::import::duplicate_reason(d.reason)}</td>
                                <td>
                                    <select aria-label=label on:change=move |ev| {
                                        let a = if event_target_value(&ev) == "update" { DuplicateAction::Update } else { DuplicateAction::Skip };
                                        overrides.update(|o| {
                                            if a == on_duplicate.get_untracked() { o.remove(&row); } else { o.insert(row, a); }
                                        });
                                        recheck();
                                    }>
                                        <option value="skip" selected=d.action == DuplicateAction::Skip>{i18n::t("import.skip")}</option>
                                        <option value="update" selected=d.action == DuplicateAction::Update>{i18n::t("import.update")}</option>
                                    </select>
                                </td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            })}
            {(!skipped.is_empty()).then(|| view! {
                <h3>{tf("import.skipped", &[("n", &plan.skipped.len())])}</h3>
                <ul class="issues" aria-label=i18n::t("import.skipped_aria")>
                    {skipped.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
                </ul>
            })}
            {(!plan.warnings.is_empty()).then(|| view! {
                <details>
                    <summary>{tf("import.warnings_heading", &[("n", &plan.warnings.len())])}</summary>
                    {issue_list(i18n::t("import.warnings"), &plan.warnings)}
                </details>
            })}
        </section>
    }
}

/// File types the input offers.
const ACCEPT: &str =
    ".csv,.txt,.tsv,.gdt,.bdt,.xlsx,.xls,.ods,.ics,text/csv,text/plain,text/calendar";

/// What a chosen file became.
enum Read {
    Table(CsvTable),
    Calendar(CalendarPlan),
}

/// Sheet `sheet` of a workbook, read in the engine, as a table.
async fn read_workbook(bytes: &[u8], name: &str, sheet: u32) -> Result<CsvTable, AppError> {
    let data = crate::app::engine::read_sheet(bytes, name, sheet).await??;
    Ok(table_from_sheet(data)?)
}

/// Reads a file in the format it has (see `domain::import::detect_format`).
async fn read_any(
    state: AppState,
    name: String,
    bytes: Vec<u8>,
    workbook: StoredValue<Option<(Arc<Vec<u8>>, String)>>,
) -> Result<Read, AppError> {
    match detect_format(&name, &bytes) {
        FileFormat::Csv => Ok(read_table(&bytes).map(Read::Table)?),
        FileFormat::Xdt => Ok(xdt::read_xdt(&bytes).map(Read::Table)?),
        FileFormat::Sheet(_) => {
            let t = read_workbook(&bytes, &name, 0).await?;
            workbook.set_value(Some((Arc::new(bytes), name)));
            Ok(Read::Table(t))
        }
        FileFormat::Calendar => {
            let text = decode(&bytes)?.text.into_owned();
            let events = crate::app::engine::read_calendar(&text).await??;
            let plan = plan_calendar_import(
                events,
                &state.persons.get_untracked(),
                &state.appointments.get_untracked(),
                &CalendarOptions::default(),
            );
            Ok(Read::Calendar(plan))
        }
    }
}

/// The "Erkannt: …" line for each kind of table.
fn detected(t: &CsvTable) -> String {
    match &t.source {
        TableSource::Csv => tf(
            "import.detected",
            &[
                ("encoding", &i18n::import::encoding(t.encoding)),
                ("delimiter", &i18n::import::delimiter(t)),
                ("rows", &t.rows.len()),
                ("columns", &t.headers.len()),
            ],
        ),
        TableSource::Xdt(info) => tf(
            "import.detected_xdt",
            &[
                ("format", &info.format.label()),
                ("version", &info.version),
                ("charset", &info.charset.name()),
                ("rows", &t.rows.len()),
                ("records", &info.records),
            ],
        ),
        TableSource::Sheet { format, sheet, .. } => tf(
            "import.detected_sheet",
            &[
                ("format", &format.label()),
                ("sheet", sheet),
                ("rows", &t.rows.len()),
                ("columns", &t.headers.len()),
            ],
        ),
    }
}

/// A choice of the workbook's sheets (only when it has more than one).
fn sheet_choice(t: &CsvTable, on_choose: impl Fn(u32) + 'static) -> Option<impl IntoView> {
    let TableSource::Sheet { sheet, sheets, .. } = &t.source else {
        return None;
    };
    if sheets.len() < 2 {
        return None;
    }
    let current = sheet.clone();
    let options = sheets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            view! { <option value=i.to_string() selected=*s == current>{s.clone()}</option> }
        })
        .collect_view();
    Some(view! {
        <label>
            {i18n::t("import.sheet")} " "
            <select on:change=move |ev| on_choose(event_target_value(&ev).parse().unwrap_or(0))>
                {options}
            </select>
        </label>
    })
}

/// Used by the file inputs of this page and the backup page.
pub fn first_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    ev.target()?
        .dyn_into::<web_sys::HtmlInputElement>()
        .ok()?
        .files()?
        .item(0)
}
