//! A virtualised table: renders only the rows in view (plus a margin), so 100,000 hits scroll
//! smoothly and nothing is silently cut off.

use leptos::html;
use leptos::prelude::*;

/// Row height in CSS pixels (matches `table.data td { height: 44px }`).
const ROW_H: f64 = 44.0;
const OVERSCAN: usize = 10;

#[component]
pub fn VirtualTable<T, H, HV, R, RV>(
    rows: Memo<Vec<T>>,
    label: &'static str,
    header: H,
    row: R,
) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + 'static,
    H: Fn() -> HV + Send + Sync + 'static,
    HV: IntoView + 'static,
    R: Fn(T) -> RV + Clone + Send + Sync + 'static,
    RV: IntoView + 'static,
{
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport = RwSignal::new(800.0_f64);
    let container = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = container.get() {
            viewport.set(f64::from(el.client_height().max(300)));
        }
    });
    let window = Memo::new(move |_| {
        let n = rows.with(Vec::len);
        let first = ((scroll_top.get() / ROW_H) as usize)
            .saturating_sub(OVERSCAN)
            .min(n);
        let count = (viewport.get() / ROW_H) as usize + 2 * OVERSCAN;
        (first, (first + count).min(n), n)
    });
    view! {
        <div class="table-scroll" node_ref=container tabindex="0" role="region" aria-label=label
            on:scroll=move |ev| {
                let el: web_sys::Element = event_target(&ev);
                scroll_top.set(f64::from(el.scroll_top()));
                viewport.set(f64::from(el.client_height().max(300)));
            }>
            <table class="data" aria-rowcount=move || rows.with(Vec::len) + 1>
                <thead><tr>{header()}</tr></thead>
                <tbody>
                    {move || {
                        let (first, last, n) = window.get();
                        let row = row.clone();
                        let top = format!("height:{}px", first as f64 * ROW_H);
                        let bottom = format!("height:{}px", (n - last) as f64 * ROW_H);
                        let slice: Vec<T> = rows.with(|r| r[first..last].to_vec());
                        view! {
                            <tr aria-hidden="true" style=top></tr>
                            {slice.into_iter().map(row).collect_view()}
                            <tr aria-hidden="true" style=bottom></tr>
                        }
                    }}
                </tbody>
            </table>
        </div>
    }
}
