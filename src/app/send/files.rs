//! "Anhänge" of an e-mail batch in the send panel: PDF, PNG or JPEG files that go with every
//! e-mail of the batch. The rules (allowed kinds by content, count and total size) are
//! `domain::outbox::attach_file`; this component reads the chosen files and shows the list,
//! the total against the limit, and why a file was refused.

use crate::domain::outbox::{attach_file, total_bytes, BatchFile, FileError, MAX_TOTAL_BYTES};
use crate::i18n::{self, tf};
use leptos::prelude::*;

/// Kilobytes, rounded up (a 1-byte file is "1 KB").
fn kb(bytes: u64) -> u64 {
    bytes.div_ceil(1024)
}

fn refused(e: &FileError) -> String {
    match e {
        FileError::Kind { name } => tf("files.kind", &[("name", name)]),
        FileError::Empty { name } => tf("files.empty", &[("name", name)]),
        FileError::Duplicate { name } => tf("files.duplicate", &[("name", name)]),
        FileError::TooMany { max } => tf("files.too_many", &[("max", max)]),
        FileError::TooLarge { name, total, max } => tf(
            "files.too_large",
            &[
                ("name", name),
                ("kb", &kb(*total)),
                ("max_mb", &(max / 1024 / 1024)),
            ],
        ),
    }
}

/// The attachment list with "Datei anhängen"; `files` is what the batch will carry.
#[component]
pub fn AttachedFiles(files: RwSignal<Vec<BatchFile>>, disabled: Signal<bool>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let on_change = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(list) = input.files() else { return };
        let chosen: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.item(i)).collect();
        input.set_value("");
        leptos::task::spawn_local(async move {
            let mut problems = Vec::new();
            for file in chosen {
                // A file far above the limit is refused before it is read into memory.
                let name = file.name();
                let size = file.size() as u64;
                let now = files.with_untracked(|f| total_bytes(f));
                if now + size > MAX_TOTAL_BYTES {
                    problems.push(refused(&FileError::TooLarge {
                        name: crate::domain::outbox::clean_name(&name),
                        total: now + size,
                        max: MAX_TOTAL_BYTES,
                    }));
                    continue;
                }
                let Ok(buf) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await
                else {
                    problems.push(tf("files.read_failed", &[("name", &name)]));
                    continue;
                };
                let bytes = js_sys::Uint8Array::new(&buf).to_vec();
                match files.with_untracked(|f| attach_file(f, &name, &bytes)) {
                    Ok(f) => files.update(|all| all.push(f)),
                    Err(e) => problems.push(refused(&e)),
                }
            }
            error.set((!problems.is_empty()).then(|| problems.join(" ")));
        });
    };
    view! {
        <fieldset class="attachments">
            <legend>{i18n::t("files.legend")}</legend>
            <ul aria-label=i18n::t("files.list_aria")>
                <For each=move || files.get() key=|f| f.sha256.clone() let:f>
                    {
                        let sha = f.sha256.clone();
                        let remove_label = tf("files.remove_aria", &[("name", &f.name)]);
                        view! {
                            <li>
                                "📎 " {f.name.clone()} " · " {tf("files.size", &[("kb", &kb(f.size))])} " "
                                <button type="button" class="secondary" aria-label=remove_label
                                    disabled=move || disabled.get()
                                    on:click=move |_| files.update(|all| all.retain(|x| x.sha256 != sha))>"✕"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <label>{i18n::t("files.add")} " "
                <input type="file" multiple=true accept=".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"
                    disabled=move || disabled.get() on:change=on_change />
            </label>
            <p class="muted" role="status">{move || tf("files.total", &[
                ("n", &files.with(Vec::len)),
                ("kb", &kb(files.with(|f| total_bytes(f)))),
                ("max_mb", &(MAX_TOTAL_BYTES / 1024 / 1024)),
            ])}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </fieldset>
    }
}
