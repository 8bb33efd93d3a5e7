//! "Briefkopf": the practice's letterhead (logo with width and position, details block,
//! business details for the footer), stored as its own Meta document (`repo::letterhead`)
//! and read fresh whenever letters are made.

use base64::Engine;
use leptos::prelude::*;

use crate::app::repo;
use crate::app::settings::field;
use crate::domain::{
    check_logo, svg_aspect, svg_raster_size, ImageKind, Letterhead, LetterheadLogo, LogoError,
    LogoPosition, LOGO_WIDTH_RANGE_MM,
};
use crate::i18n::{t, tf};

fn logo_error(e: LogoError) -> String {
    match e {
        LogoError::TooLarge => tf(
            "letterhead.logo_too_large",
            &[("kb", &(crate::domain::MAX_LOGO_BYTES / 1024))],
        ),
        LogoError::Svg => t("letterhead.logo_svg").into(),
        LogoError::NotAnImage => t("letterhead.logo_not_image").into(),
    }
}

/// Draws an SVG logo into a PNG of [`svg_raster_size`] (the browser renders it: an SVG in an
/// `<img>` runs no script and loads nothing), so the PDF gets a sharp raster image. `None`
/// when the browser cannot draw it.
async fn svg_to_png(svg: &[u8]) -> Option<(Vec<u8>, u32, u32)> {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(svg));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("image/svg+xml");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let img = web_sys::HtmlImageElement::new().ok()?;
    img.set_src(&url);
    let decoded = wasm_bindgen_futures::JsFuture::from(img.decode()).await;
    let _ = web_sys::Url::revoke_object_url(&url);
    decoded.ok()?;
    let aspect = svg_aspect(svg).or_else(|| {
        (img.natural_width() > 0 && img.natural_height() > 0)
            .then(|| img.natural_width() as f32 / img.natural_height() as f32)
    })?;
    let (w, h) = svg_raster_size(aspect);
    let canvas: web_sys::HtmlCanvasElement = web_sys::window()?
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.draw_image_with_html_image_element_and_dw_and_dh(&img, 0.0, 0.0, w.into(), h.into())
        .ok()?;
    let url = canvas.to_data_url_with_type("image/png").ok()?;
    let b64 = url.split_once(',')?.1;
    let png = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some((png, w, h))
}

/// `data:` URL of the logo for the preview.
fn data_url(bytes: &[u8]) -> String {
    let mime = match ImageKind::sniff(bytes) {
        Some(ImageKind::Jpeg) => "image/jpeg",
        _ => "image/png",
    };
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[component]
pub fn LetterheadSettings() -> impl IntoView {
    let draft = RwSignal::new(Letterhead::default());
    let message = RwSignal::new(None::<String>);
    leptos::task::spawn_local(async move {
        match repo::letterhead().await {
            Ok(Some(l)) => draft.set(l),
            Ok(None) => {}
            Err(e) => message.set(Some(tf("letterhead.load_failed", &[("error", &e)]))),
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|fs| fs.item(0)) else {
            return;
        };
        input.set_value("");
        if file.size() as usize > crate::domain::MAX_LOGO_BYTES {
            message.set(Some(logo_error(LogoError::TooLarge)));
            return;
        }
        leptos::task::spawn_local(async move {
            let Ok(buf) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await else {
                message.set(Some(t("letterhead.logo_not_image").into()));
                return;
            };
            let mut bytes = js_sys::Uint8Array::new(&buf).to_vec();
            let mut converted = None;
            if check_logo(&bytes) == Err(LogoError::Svg) {
                match svg_to_png(&bytes).await {
                    Some((png, w, h)) => {
                        converted =
                            Some(tf("letterhead.logo_svg_converted", &[("w", &w), ("h", &h)]));
                        bytes = png;
                    }
                    None => {
                        message.set(Some(t("letterhead.logo_svg").into()));
                        return;
                    }
                }
            }
            match check_logo(&bytes) {
                Ok(_) => {
                    draft.update(|d| {
                        let (width_mm, position) = d
                            .logo
                            .as_ref()
                            .map(|l| (l.width_mm, l.position))
                            .unwrap_or((40.0, LogoPosition::Right));
                        d.logo = Some(LetterheadLogo {
                            bytes,
                            width_mm,
                            position,
                        });
                    });
                    message.set(converted);
                }
                Err(e) => message.set(Some(logo_error(e))),
            }
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = draft.get();
        leptos::task::spawn_local(async move {
            message.set(Some(match repo::save_letterhead(&l).await {
                Ok(()) => t("common.saved").into(),
                Err(e) => tf("common.not_saved", &[("error", &e)]),
            }));
        });
    };
    let has_logo = move || draft.with(|d| d.logo.is_some());
    let detail =
        move |i: usize| move || draft.with(|d| d.details.get(i).cloned().unwrap_or_default());
    let set_detail = move |i: usize, v: String| {
        draft.update(|d| {
            if d.details.len() <= i {
                d.details.resize(i + 1, String::new());
            }
            d.details[i] = v;
        })
    };
    view! {
        <h2>{t("letterhead.title")}</h2>
        <form class="person card" on:submit=save aria-label=t("letterhead.title")>
            <p class="wide muted">{t("letterhead.hint")}</p>
            <label>
                {t("letterhead.logo")}
                <input type="file" accept="image/png,image/jpeg,image/svg+xml,.svg" on:change=on_file />
            </label>
            {move || draft.with(|d| d.logo.as_ref().map(|l| data_url(&l.bytes))).map(|src| view! {
                <img class="logo-preview" src=src alt=t("letterhead.logo_preview")
                    style="max-width: 60mm; max-height: 25mm;" />
            })}
            <label>
                {tf("letterhead.logo_width", &[("min", &LOGO_WIDTH_RANGE_MM.0), ("max", &LOGO_WIDTH_RANGE_MM.1)])}
                <input type="number" min="10" max="80" step="1"
                    disabled=move || !has_logo()
                    prop:value=move || draft.with(|d| d.logo.as_ref().map(|l| l.width_mm.to_string()).unwrap_or_default())
                    on:input=move |ev| {
                        if let Ok(w) = event_target_value(&ev).trim().replace(',', ".").parse::<f32>() {
                            draft.update(|d| if let Some(l) = d.logo.as_mut() { l.width_mm = w });
                        }
                    } />
            </label>
            <label>
                {t("letterhead.logo_position")}
                <select disabled=move || !has_logo() on:change=move |ev| {
                    let p = if event_target_value(&ev) == "left" { LogoPosition::Left } else { LogoPosition::Right };
                    draft.update(|d| if let Some(l) = d.logo.as_mut() { l.position = p });
                }>
                    <option value="right" selected=move || draft.with(|d| d.logo.as_ref().is_none_or(|l| l.position == LogoPosition::Right))>{t("letterhead.right")}</option>
                    <option value="left" selected=move || draft.with(|d| d.logo.as_ref().is_some_and(|l| l.position == LogoPosition::Left))>{t("letterhead.left")}</option>
                </select>
            </label>
            <div class="wide">
                <button type="button" disabled=move || !has_logo()
                    on:click=move |_| draft.update(|d| d.logo = None)>{t("letterhead.logo_remove")}</button>
            </div>
            <label>
                {t("letterhead.details_1")}
                <input type="text" prop:value=detail(0)
                    on:input=move |ev| set_detail(0, event_target_value(&ev)) />
            </label>
            <label>
                {t("letterhead.details_2")}
                <input type="text" prop:value=detail(1)
                    on:input=move |ev| set_detail(1, event_target_value(&ev)) />
            </label>
            {field(draft, t("letterhead.bank"), |l| l.business.bank.clone(), |l, v| l.business.bank = v)}
            {field(draft, t("letterhead.iban"), |l| l.business.iban.clone(), |l, v| l.business.iban = v)}
            {field(draft, t("letterhead.bic"), |l| l.business.bic.clone(), |l, v| l.business.bic = v)}
            {field(draft, t("letterhead.tax_number"), |l| l.business.tax_number.clone(), |l, v| l.business.tax_number = v)}
            {field(draft, t("letterhead.register"), |l| l.business.register.clone(), |l, v| l.business.register = v)}
            <div class="wide actions">
                <button type="submit">{t("letterhead.save")}</button>
                <span role="status">{move || message.get()}</span>
            </div>
        </form>
    }
}
