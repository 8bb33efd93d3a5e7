//! The template text editor of the composer and the "Vorlagen" page: placeholders as named
//! chips inside the text («Anrede», «Termin: Datum»), optional lines as a switch
//! "nur wenn vorhanden" on their chip, and the raw template in the "Expertenansicht".
//!
//! One source of truth: the template string in the draft. The chip view is drawn from it
//! ([`chips::parse`]) and every edit in it is read back from the page and written into the
//! draft as a string ([`chips::serialise`]); it is drawn again only when the draft differs
//! from what it shows (another template chosen, an edit in the Expertenansicht, a switch).
//! The rules (what a channel may use) stay with the template check.
//!
//! The chip view is a `contenteditable` text box. A chip is a non-editable span, so the
//! caret passes it in one step and Backspace deletes it as one unit; screen readers read its
//! name. The palette inserts chips at the caret (the last one the text box had), the switches
//! are ordinary buttons with `role="switch"` below the text.

use crate::domain::chips::{
    self, expert_kind, may_be_missing, ChipDoc, ExpertKind, Node as ChipNode, Unit,
    DU_CHOICE_SOURCE,
};
use crate::domain::placeholders::{catalogue, Availability, PlaceholderInfo, DU};
use crate::domain::template::{has_subject, Template};
use crate::i18n::{self, tf};
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, Node, Range};

fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document")
}

/// A chip text box: its element, its last caret and where its edits go.
#[derive(Clone, Copy)]
struct ChipField {
    root: NodeRef<html::Div>,
    saved: StoredValue<Option<Range>, LocalStorage>,
    on_change: Callback<String>,
    multiline: bool,
}

impl ChipField {
    fn new(on_change: Callback<String>, multiline: bool) -> Self {
        ChipField {
            root: NodeRef::new(),
            saved: StoredValue::new_local(None),
            on_change,
            multiline,
        }
    }

    /// Remembers the caret while it is inside the text box.
    fn save_caret(&self) {
        if let Some(root) = self.root.get_untracked() {
            if let Some(r) = range_inside(&root) {
                self.saved.set_value(Some(r));
            }
        }
    }

    /// Reads the text box back into the draft (and redraws it when the reading had to
    /// normalise: a segment whose chip was deleted, pasted markup).
    fn sync(&self) {
        let Some(root) = self.root.get_untracked() else {
            return;
        };
        let mut units = Vec::new();
        read_units(&root, &mut units);
        let doc = ChipDoc::from_units(&units);
        if doc.units() != units {
            draw(&root, &doc);
        } else {
            ensure_end_break(&root, &doc);
        }
        self.on_change.run(chips::serialise(&doc));
        self.save_caret();
    }

    /// Puts `node` at the caret (or the end) and reads the text box back.
    fn insert(&self, node: &Node) {
        let Some(root) = self.root.get_untracked() else {
            return;
        };
        let range = range_inside(&root)
            .or_else(|| {
                self.saved.get_value().filter(|r| {
                    r.common_ancestor_container()
                        .is_ok_and(|c| root.contains(Some(&c)))
                })
            })
            .or_else(|| {
                let r = document().create_range().ok()?;
                r.select_node_contents(&root).ok()?;
                // Before the line-end marker, if there is one.
                match root.last_child() {
                    Some(last) if is_end_break(&last) => r.set_end_before(&last).ok()?,
                    _ => {}
                }
                r.collapse_with_to_start(false);
                Some(r)
            });
        let Some(range) = range else { return };
        let _ = range.delete_contents();
        if range.insert_node(node).is_err() {
            return;
        }
        let _ = range.set_start_after(node);
        range.collapse_with_to_start(true);
        let _ = root.focus();
        if let Some(sel) = web_sys::window().and_then(|w| w.get_selection().ok().flatten()) {
            let _ = sel.remove_all_ranges();
            let _ = sel.add_range(&range);
        }
        self.sync();
    }

    fn insert_text(&self, text: &str) {
        let text = if self.multiline {
            text.replace("\r\n", "\n")
        } else {
            text.replace(['\r', '\n'], " ")
        };
        let node = document().create_text_node(&text);
        self.insert(&node);
    }

    fn insert_source(&self, src: &str) {
        let doc = chips::parse(src);
        if let Some(n) = doc.nodes.first() {
            if let Some(el) = node_element(n) {
                self.insert(&el);
            }
        }
    }
}

/// The selection's range when it lies inside `root`.
fn range_inside(root: &HtmlElement) -> Option<Range> {
    let sel = web_sys::window()?.get_selection().ok()??;
    if sel.range_count() == 0 {
        return None;
    }
    let r = sel.get_range_at(0).ok()?;
    let c = r.common_ancestor_container().ok()?;
    root.contains(Some(&c)).then_some(r)
}

fn is_end_break(n: &Node) -> bool {
    n.dyn_ref::<Element>()
        .is_some_and(|e| e.tag_name() == "BR" && e.has_attribute("data-end"))
}

/// Reads the caret units of the text box (the reverse of [`draw`]; markup the browser or a
/// paste added is read by its text, `<br>` and block elements as line breaks).
fn read_units(parent: &Node, out: &mut Vec<Unit>) {
    let children = parent.child_nodes();
    for k in 0..children.length() {
        let Some(n) = children.item(k) else { continue };
        match n.node_type() {
            Node::TEXT_NODE => out.extend(
                n.text_content()
                    .unwrap_or_default()
                    .chars()
                    .map(|c| if c == '\u{a0}' { ' ' } else { c })
                    .map(Unit::Char),
            ),
            Node::ELEMENT_NODE => {
                let el: &Element = n.unchecked_ref();
                if let Some(src) = el.get_attribute("data-src") {
                    match el.get_attribute("data-ph") {
                        Some(name) => out.push(Unit::Chip { name, src }),
                        None => out.push(Unit::Expert(src)),
                    }
                } else if let (Some(cond), Some(open), Some(close)) = (
                    el.get_attribute("data-cond"),
                    el.get_attribute("data-open"),
                    el.get_attribute("data-close"),
                ) {
                    out.push(Unit::Open { cond, src: open });
                    read_units(&n, out);
                    out.push(Unit::Close(close));
                } else if el.tag_name() == "BR" {
                    if !el.has_attribute("data-end") {
                        out.push(Unit::Char('\n'));
                    }
                } else if matches!(el.tag_name().as_str(), "DIV" | "P") {
                    if !out.is_empty() && out.last() != Some(&Unit::Char('\n')) {
                        out.push(Unit::Char('\n'));
                    }
                    read_units(&n, out);
                } else {
                    read_units(&n, out);
                }
            }
            _ => {}
        }
    }
}

/// The name a chip shows and screen readers read.
fn chip_name(n: &ChipNode) -> String {
    match n {
        ChipNode::Chip { name, .. } => i18n::render::chip_label(name),
        ChipNode::Expert(src) => match expert_kind(src) {
            ExpertKind::DuChoice { du, sie } => {
                let form = |s: &str| {
                    if s.trim().is_empty() {
                        i18n::t("chip.empty_form").to_string()
                    } else {
                        s.trim().to_string()
                    }
                };
                tf(
                    "chip.du_choice",
                    &[("du", &form(&du)), ("sie", &form(&sie))],
                )
            }
            ExpertKind::Other => i18n::t("chip.expert").to_string(),
        },
        _ => String::new(),
    }
}

/// The element of one node of the chip view.
fn node_element(n: &ChipNode) -> Option<Node> {
    let doc = document();
    match n {
        ChipNode::Text(t) => Some(doc.create_text_node(t).into()),
        ChipNode::Chip { name, src } => {
            let el = chip_span(&chip_name(n), src, "chip")?;
            el.set_attribute("data-ph", name).ok()?;
            el.set_attribute("aria-label", &tf("chip.aria", &[("name", &chip_name(n))]))
                .ok()?;
            Some(el.into())
        }
        ChipNode::Expert(src) => {
            let el = chip_span(&chip_name(n), src, "chip")?;
            el.set_attribute("data-kind", "expert").ok()?;
            el.set_attribute(
                "aria-label",
                &tf("chip.expert_aria", &[("name", &chip_name(n))]),
            )
            .ok()?;
            el.set_attribute("title", src).ok()?;
            Some(el.into())
        }
        ChipNode::Optional {
            cond,
            open,
            close,
            inner,
        } => {
            let el = doc.create_element("span").ok()?;
            el.set_attribute("class", "optional").ok()?;
            el.set_attribute("data-cond", cond).ok()?;
            el.set_attribute("data-open", open).ok()?;
            el.set_attribute("data-close", close).ok()?;
            el.set_attribute(
                "title",
                &tf(
                    "chip.optional_title",
                    &[("name", &i18n::render::chip_label(cond))],
                ),
            )
            .ok()?;
            for c in inner {
                el.append_child(&node_element(c)?).ok()?;
            }
            Some(el.into())
        }
    }
}

fn chip_span(label: &str, src: &str, class: &str) -> Option<Element> {
    let el = document().create_element("span").ok()?;
    el.set_attribute("class", class).ok()?;
    el.set_attribute("contenteditable", "false").ok()?;
    el.set_attribute("role", "img").ok()?;
    el.set_attribute("data-src", src).ok()?;
    el.set_text_content(Some(&format!("«{label}»")));
    Some(el)
}

/// Draws a document into the text box.
fn draw(root: &HtmlElement, doc: &ChipDoc) {
    root.set_text_content(None);
    for n in &doc.nodes {
        if let Some(el) = node_element(n) {
            let _ = root.append_child(&el);
        }
    }
    ensure_end_break(root, doc);
}

/// A text that ends in a line break shows its empty last line only with a `<br>` after it.
fn ensure_end_break(root: &HtmlElement, doc: &ChipDoc) {
    let ends_in_break = matches!(doc.nodes.last(), Some(ChipNode::Text(t)) if t.ends_with('\n'));
    let has = root.last_child().is_some_and(|n| is_end_break(&n));
    if ends_in_break && !has {
        if let Ok(br) = document().create_element("br") {
            let _ = br.set_attribute("data-end", "");
            let _ = root.append_child(&br);
        }
    }
}

fn read_source(root: &HtmlElement) -> String {
    let mut units = Vec::new();
    read_units(root, &mut units);
    chips::serialise(&ChipDoc::from_units(&units))
}

/// One chip text box for `value`.
#[component]
fn ChipText(
    field: ChipField,
    #[prop(into)] value: Signal<String>,
    label: String,
    #[prop(into)] on_focus: Callback<()>,
) -> impl IntoView {
    let root = field.root;
    // Drawn anew only when the draft differs from what the box shows.
    Effect::new(move |_| {
        let v = value.get();
        if let Some(el) = root.get() {
            if read_source(&el) != v {
                draw(&el, &chips::parse(&v));
            }
        }
    });
    let multiline = field.multiline;
    view! {
        <div node_ref=root class="chip-text" class:single=move || !multiline contenteditable="true" role="textbox"
            aria-multiline=multiline.to_string() aria-label=label spellcheck="true" tabindex="0"
            on:input=move |_| field.sync()
            on:focus=move |_| on_focus.run(())
            on:keyup=move |_| field.save_caret()
            on:mouseup=move |_| field.save_caret()
            on:blur=move |_| field.save_caret()
            on:keydown=move |ev: web_sys::KeyboardEvent| {
                // Enter (key code 13) inserts a line break as text, never a block element.
                if ev.key_code() == 13 {
                    ev.prevent_default();
                    if multiline {
                        field.insert_text("\n");
                    }
                }
            }
            on:paste=move |ev: web_sys::ClipboardEvent| {
                ev.prevent_default();
                if let Some(text) = ev.clipboard_data().and_then(|d| d.get_data("text/plain").ok()) {
                    field.insert_text(&text);
                }
            }
            on:drop=move |ev: web_sys::DragEvent| ev.prevent_default()></div>
    }
}

/// Subject, text, placeholder palette and the "nur wenn vorhanden" switches of a template
/// draft, in the chip view or the Expertenansicht.
#[component]
pub fn TemplateTextEditor(
    draft: RwSignal<Option<Template>>,
    #[prop(into)] available: Signal<Availability>,
    /// Accessible name of the text (the composer's "Text", the Vorlagen page's own).
    body_label: &'static str,
    /// Accessible name of the subject line.
    subject_label: &'static str,
) -> impl IntoView {
    let expert = RwSignal::new(false);
    let last_subject = RwSignal::new(false);
    let channel = Memo::new(move |_| draft.with(|t| t.as_ref().map(|t| t.channel)));
    let shows_subject = move || channel.get().is_some_and(has_subject);
    let subject = Signal::derive(move || {
        draft.with(|t| t.as_ref().map(|t| t.subject.clone()).unwrap_or_default())
    });
    let body = Signal::derive(move || {
        draft.with(|t| t.as_ref().map(|t| t.body.clone()).unwrap_or_default())
    });
    let set_subject = Callback::new(move |v: String| {
        draft.update(|t| {
            if let Some(t) = t {
                if t.subject != v {
                    t.subject = v
                }
            }
        })
    });
    let set_body = Callback::new(move |v: String| {
        draft.update(|t| {
            if let Some(t) = t {
                if t.body != v {
                    t.body = v
                }
            }
        })
    });
    let subject_field = ChipField::new(set_subject, false);
    let body_field = ChipField::new(set_body, true);
    let subject_ref = NodeRef::<html::Input>::new();
    let body_ref = NodeRef::<html::Textarea>::new();

    // Inserts a placeholder where the field edited last has its caret.
    let insert = move |p: &'static PlaceholderInfo| {
        if !expert.get_untracked() {
            let field = if last_subject.get_untracked() && shows_subject() {
                subject_field
            } else {
                body_field
            };
            if p.name == DU {
                field.insert_source(DU_CHOICE_SOURCE);
            } else {
                field.insert_source(&chips::chip_source(p.name));
            }
            return;
        }
        let text = p.insert_text();
        if last_subject.get_untracked() {
            if let Some(el) = subject_ref.get_untracked() {
                let v = el.value();
                let pos = el
                    .selection_start()
                    .ok()
                    .flatten()
                    .unwrap_or(v.encode_utf16().count() as u32) as usize;
                let byte = utf16_to_byte(&v, pos);
                set_subject.run(format!("{}{}{}", &v[..byte], text, &v[byte..]));
            }
        } else if let Some(el) = body_ref.get_untracked() {
            let v = el.value();
            let start = el
                .selection_start()
                .ok()
                .flatten()
                .unwrap_or(v.encode_utf16().count() as u32) as usize;
            // selectionStart counts UTF-16 units.
            let byte = utf16_to_byte(&v, start);
            let caret = (start + text.encode_utf16().count()) as u32;
            set_body.run(format!("{}{}{}", &v[..byte], text, &v[byte..]));
            let _ = el.focus();
            let _ = el.set_selection_range(caret, caret);
        }
    };

    // The switches: chips that may be missing (and every one switched on).
    let switches = Memo::new(move |_| {
        body.with(|b| {
            let doc = chips::parse(b);
            let units = doc.units();
            doc.switches()
                .into_iter()
                .filter(|(_, name, on)| *on || may_be_missing(name))
                .map(|(pos, name, on)| (pos, name, on, line_of(&units, pos)))
                .collect::<Vec<_>>()
        })
    });
    let toggle = move |pos: usize| {
        let doc = chips::parse(&body.get_untracked());
        if let Ok(d) = doc.toggle_optional(pos) {
            set_body.run(chips::serialise(&d));
        }
    };

    view! {
        <div class="toolbar">
            <button class="secondary" aria-pressed=move || expert.get().to_string()
                on:click=move |_| expert.update(|e| *e = !*e)>{i18n::t("chip.expert_view")}</button>
        </div>
        <Show when=move || !expert.get() fallback=move || view! {
            <Show when=shows_subject>
                <label class="field">{subject_label}
                    <input type="text" node_ref=subject_ref aria-label=subject_label
                        prop:value=move || subject.get()
                        on:focus=move |_| last_subject.set(true)
                        on:input=move |ev| set_subject.run(event_target_value(&ev)) />
                </label>
            </Show>
            <label class="field">{body_label}
                <textarea node_ref=body_ref aria-label=body_label rows="14"
                    prop:value=move || body.get()
                    on:focus=move |_| last_subject.set(false)
                    on:input=move |ev| set_body.run(event_target_value(&ev))></textarea>
            </label>
        }>
            <Show when=shows_subject>
                <div class="field">{subject_label}
                    <ChipText field=subject_field value=subject label=subject_label.to_string()
                        on_focus=Callback::new(move |_: ()| last_subject.set(true)) />
                </div>
            </Show>
            <div class="field">{body_label}
                <ChipText field=body_field value=body label=body_label.to_string()
                    on_focus=Callback::new(move |_: ()| last_subject.set(false)) />
            </div>
            <div class="switches" role="group" aria-label=i18n::t("chip.switches_aria")>
                {move || {
                    let list = switches.get();
                    (!list.is_empty()).then(|| view! { <p class="muted">{i18n::t("chip.switches_help")}</p> })
                }}
                {move || switches.get().into_iter().map(|(pos, name, on, line)| {
                    let label = i18n::render::chip_label(&name);
                    view! {
                        <button class="switch" role="switch" aria-checked=on.to_string()
                            title=line.clone()
                            aria-label=tf("chip.switch_aria", &[("name", &label), ("line", &line)])
                            on:click=move |_| toggle(pos)>
                            <span class="chip" aria-hidden="true">{format!("«{label}»")}</span>
                            " " {i18n::t("chip.switch")} " " {if on { "✔" } else { "✗" }}
                        </button>
                    }
                }).collect_view()}
            </div>
        </Show>
        <div class="palette" role="group" aria-label=i18n::t("compose.palette_aria")>
            {move || channel.get().map(|c| catalogue(c, available.get()).into_iter().map(|p| {
                let description = i18n::render::placeholder_description(p);
                let name = move || if expert.get() { p.name.to_string() } else { i18n::render::chip_label(p.name) };
                view! {
                    <button class="secondary" title=tf("compose.placeholder_title", &[("description", &description), ("example", &p.example)])
                        aria-label=move || tf("compose.placeholder_aria", &[("name", &name()), ("description", &description)])
                        // Keeps the caret of the text box: a click does not take the focus first.
                        on:mousedown=move |ev| ev.prevent_default()
                        on:click=move |_| insert(p)>{name}</button>
                }
            }).collect_view())}
        </div>
    }
}

/// The line of the chip at `pos` as the chip view shows it (chips by name), shortened: it
/// tells the switches of two chips of one placeholder apart.
fn line_of(units: &[Unit], pos: usize) -> String {
    let is_break = |u: &Unit| *u == Unit::Char('\n');
    let start = units[..pos].iter().rposition(is_break).map_or(0, |k| k + 1);
    let end = units[pos..]
        .iter()
        .position(is_break)
        .map_or(units.len(), |k| pos + k);
    let mut line = String::new();
    for u in &units[start..end] {
        match u {
            Unit::Char(c) => line.push(*c),
            Unit::Chip { name, .. } => {
                line.push_str(&format!("«{}»", i18n::render::chip_label(name)))
            }
            Unit::Expert(src) => {
                line.push_str(&format!("«{}»", chip_name(&ChipNode::Expert(src.clone()))))
            }
            Unit::Open { .. } | Unit::Close(_) => {}
        }
    }
    let line = line.trim();
    let mut short: String = line.chars().take(40).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

fn utf16_to_byte(s: &str, units: usize) -> usize {
    let mut count = 0;
    for (i, c) in s.char_indices() {
        if count >= units {
            return i;
        }
        count += c.len_utf16();
    }
    s.len()
}
