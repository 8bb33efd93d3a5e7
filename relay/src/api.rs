//! HTTP API (`/v1`), unsubscribe pages (`/u/{token}`) and static files.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::DateTime;
use praxisbote_core::domain::Channel;
use praxisbote_core::wire::{
    ApiError, Health, OptOutsResponse, OutgoingMessage, SenderInfo, SendersResponse,
    StatusResponse, SubmitRequest, SubmitResponse, DEMO_TOKEN, MAX_BATCH,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Notify;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

use crate::config::Config;
use crate::store::{InsertResult, NewMessage, Store};

pub struct AppState {
    pub cfg: Config,
    pub store: Store,
    pub wake: Arc<Notify>,
    /// Client ids of requests being processed right now (409 for a concurrent duplicate).
    pub in_flight: Mutex<HashSet<String>>,
    /// Per token: (window start, requests in window).
    pub rate: Mutex<HashMap<String, (Instant, u32)>>,
}

pub type Shared = Arc<AppState>;

pub fn err(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    err_id(status, code, message, None)
}

fn err_id(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    id: Option<String>,
) -> Response {
    (
        status,
        Json(ApiError {
            error: code.to_owned(),
            message: message.into(),
            client_id: id,
        }),
    )
        .into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    eprintln!("praxisbote-relay: interner Fehler: {e}");
    err(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Interner Fehler im Relay; bitte später erneut versuchen.",
    )
}

// ---------------------------------------------------------------- auth + rate limit

/// Which token made the request: `None` = rejected.
fn authenticate(
    st: &AppState,
    headers: &axum::http::HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<String> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if st.cfg.demo {
        let loopback = peer.map(|p| p.ip().is_loopback()).unwrap_or(false);
        let demo_token = presented
            .map(|t| bool::from(t.as_bytes().ct_eq(DEMO_TOKEN.as_bytes())))
            .unwrap_or(false);
        return (loopback || demo_token).then(|| "demo".to_owned());
    }
    let presented = presented?;
    // Compare digests so that length and content are compared in constant time; check all.
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found = None;
    for (name, want) in &st.cfg.tokens {
        if bool::from(digest.ct_eq(want)) {
            found = Some(name.clone());
        }
    }
    found
}

async fn auth_layer(State(st): State<Shared>, req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let ext = req.extensions();
    let peer = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| ext.get::<MockConnectInfo<SocketAddr>>().map(|c| c.0));
    let Some(name) = authenticate(&st, req.headers(), peer) else {
        let mut r = err(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Zugang verweigert: gültiges API-Token fehlt (Authorization: Bearer …).",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    };
    {
        let mut rate = st.rate.lock().unwrap_or_else(|p| p.into_inner());
        let e = rate.entry(name).or_insert((Instant::now(), 0));
        if e.0.elapsed().as_secs() >= 60 {
            *e = (Instant::now(), 0);
        }
        e.1 += 1;
        if e.1 > st.cfg.requests_per_minute {
            let mut r = err(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Zu viele Anfragen mit diesem Token; bitte kurz warten.",
            );
            let wait = 60u64.saturating_sub(e.0.elapsed().as_secs()).max(1);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return r;
        }
    }
    next.run(req).await
}

// ---------------------------------------------------------------- handlers

async fn health(State(st): State<Shared>) -> Response {
    let s = st.store.clone();
    match tokio::task::spawn_blocking(move || s.pending()).await {
        Ok(Ok(pending)) => Json(Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            demo: st.cfg.demo,
            pending,
        })
        .into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn senders(State(st): State<Shared>) -> Json<SendersResponse> {
    Json(SendersResponse {
        senders: st
            .cfg
            .accounts
            .iter()
            .map(|a| SenderInfo {
                name: a.name.clone(),
                kind: a.kind,
                channel: a.channel,
                from: a.from.clone(),
                from_name: a.from_name.clone(),
                default: a.default,
            })
            .collect(),
    })
}

fn has_ctl(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// Validates one message; returns the sender account name or a German error.
fn validate(st: &AppState, m: &OutgoingMessage) -> Result<String, String> {
    let id = m.client_id.trim();
    if id.is_empty() || id.len() > 100 || has_ctl(id) {
        return Err("client_id fehlt oder ist ungültig (UUID erwartet).".into());
    }
    if m.channel == Channel::Letter {
        return Err("Briefe werden gedruckt, nicht über das Relay versendet.".into());
    }
    let account = match &m.sender {
        Some(name) => st
            .cfg
            .accounts
            .iter()
            .find(|a| &a.name == name)
            .ok_or_else(|| format!("Absenderkonto „{name}“ ist im Relay nicht eingerichtet."))?,
        None => st
            .cfg
            .accounts
            .iter()
            .find(|a| a.channel == m.channel && a.default)
            .ok_or_else(|| {
                format!(
                    "Kein Absenderkonto für {} eingerichtet.",
                    m.channel.label_de()
                )
            })?,
    };
    if account.channel != m.channel {
        return Err(format!(
            "Absenderkonto „{}“ sendet {}, nicht {}.",
            account.name,
            account.channel.label_de(),
            m.channel.label_de()
        ));
    }
    if has_ctl(&m.recipient) || m.recipient_name.as_deref().is_some_and(has_ctl) {
        return Err("Empfänger enthält Steuerzeichen (z. B. Zeilenumbruch).".into());
    }
    if m.text.trim().is_empty() {
        return Err("Der Nachrichtentext ist leer.".into());
    }
    match m.channel {
        Channel::Email => {
            if m.recipient.parse::<lettre::Address>().is_err() {
                return Err(format!("Ungültige E-Mail-Adresse: {}", m.recipient));
            }
            if has_ctl(&m.subject) {
                return Err("Betreff enthält Steuerzeichen (z. B. Zeilenumbruch).".into());
            }
            if m.subject.trim().is_empty() {
                return Err("Der Betreff ist leer.".into());
            }
            if let Some(a) = &m.attachment {
                if has_ctl(&a.filename) || has_ctl(&a.content_type) || a.filename.trim().is_empty()
                {
                    return Err("Dateiname oder Typ des Anhangs ungültig.".into());
                }
                use base64::Engine;
                if base64::engine::general_purpose::STANDARD
                    .decode(a.data_base64.as_bytes())
                    .is_err()
                {
                    return Err(format!("Anhang {} ist kein gültiges Base64.", a.filename));
                }
            }
        }
        Channel::Sms => crate::sms::check_e164(&m.recipient)?,
        Channel::Letter => unreachable!("checked above"),
    }
    Ok(account.name.clone())
}

/// Releases reserved client ids when the request ends (also on early return).
pub struct Reservation<'a> {
    st: &'a AppState,
    ids: Vec<String>,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut set = self.st.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        for id in &self.ids {
            set.remove(id);
        }
    }
}

/// Reserves the ids of a request; `Err(id)` if one is in a concurrent request.
pub fn reserve<'a>(st: &'a AppState, ids: &[String]) -> Result<Reservation<'a>, String> {
    let mut set = st.in_flight.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dup) = ids.iter().find(|i| set.contains(*i)) {
        return Err(dup.clone());
    }
    for i in ids {
        set.insert(i.clone());
    }
    Ok(Reservation {
        st,
        ids: ids.to_vec(),
    })
}

fn json_rejection(e: JsonRejection) -> Response {
    match e {
        JsonRejection::BytesRejection(_) => err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "Anfrage zu groß für das Relay (max_body_bytes).",
        ),
        other => err(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("Ungültige Anfrage: {}", other.body_text()),
        ),
    }
}

async fn post_messages(
    State(st): State<Shared>,
    body: Result<Json<SubmitRequest>, JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(r)) => r,
        Err(e) => return json_rejection(e),
    };
    if req.messages.is_empty() || req.messages.len() > MAX_BATCH {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_batch",
            format!("Ein Auftrag muss 1 bis {MAX_BATCH} Nachrichten enthalten."),
        );
    }
    let mut seen = HashSet::new();
    let mut batch = Vec::with_capacity(req.messages.len());
    for m in req.messages {
        if !seen.insert(m.client_id.clone()) {
            return err_id(
                StatusCode::BAD_REQUEST,
                "duplicate_in_batch",
                "Dieselbe client_id kommt im Auftrag mehrfach vor.",
                Some(m.client_id),
            );
        }
        let sender = match validate(&st, &m) {
            Ok(s) => s,
            Err(msg) => {
                return err_id(
                    StatusCode::BAD_REQUEST,
                    "invalid_message",
                    msg,
                    Some(m.client_id),
                )
            }
        };
        let unsub_token =
            (m.channel == Channel::Email && m.purpose.is_advertising() && m.person_id.is_some())
                .then(|| {
                    let mut b = [0u8; 16];
                    rand::thread_rng().fill_bytes(&mut b);
                    hex::encode(b)
                });
        batch.push(NewMessage {
            msg: m,
            sender,
            unsub_token,
        });
    }
    let ids: Vec<String> = batch.iter().map(|n| n.msg.client_id.clone()).collect();
    let _reservation = match reserve(&st, &ids) {
        Ok(r) => r,
        Err(id) => {
            return err_id(
                StatusCode::CONFLICT,
                "in_flight",
                "Diese Nachricht wird gerade in einer anderen Anfrage angenommen; bitte gleich erneut abfragen.",
                Some(id),
            )
        }
    };
    let store = st.store.clone();
    let res = tokio::task::spawn_blocking(move || store.insert_batch(batch)).await;
    match res {
        Ok(Ok(InsertResult::Ok(statuses))) => {
            st.wake.notify_waiters();
            (StatusCode::ACCEPTED, Json(SubmitResponse { messages: statuses })).into_response()
        }
        Ok(Ok(InsertResult::Conflict(id))) => err_id(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_conflict",
            "Diese client_id wurde schon mit einem anderen Inhalt übermittelt; der Auftrag wurde nicht angenommen.",
            Some(id),
        ),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

#[derive(serde::Deserialize)]
struct IdsQuery {
    ids: Option<String>,
}

async fn get_messages(State(st): State<Shared>, Query(q): Query<IdsQuery>) -> Response {
    let ids: Vec<String> = q
        .ids
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_ids",
            format!("Parameter ids: 1 bis {MAX_BATCH} client_ids, durch Komma getrennt."),
        );
    }
    let store = st.store.clone();
    let q_ids = ids.clone();
    match tokio::task::spawn_blocking(move || store.statuses(&q_ids)).await {
        Ok(Ok(found)) => {
            let mut messages = Vec::new();
            let mut unknown = Vec::new();
            for (id, s) in ids.into_iter().zip(found) {
                match s {
                    Some(s) => messages.push(s),
                    None => unknown.push(id),
                }
            }
            Json(StatusResponse { messages, unknown }).into_response()
        }
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

#[derive(serde::Deserialize)]
struct SinceQuery {
    since: Option<String>,
}

async fn optouts(State(st): State<Shared>, Query(q): Query<SinceQuery>) -> Response {
    let since = match q.since.as_deref() {
        None | Some("") => 0,
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.timestamp_millis(),
            Err(_) => {
                return err(
                    StatusCode::BAD_REQUEST,
                    "bad_since",
                    "Parameter since: Zeitpunkt im Format RFC 3339 erwartet (z. B. 2026-11-26T10:00:00Z).",
                )
            }
        },
    };
    let store = st.store.clone();
    match tokio::task::spawn_blocking(move || store.optouts_since(since)).await {
        Ok(Ok(optouts)) => Json(OptOutsResponse { optouts }).into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

// ---------------------------------------------------------------- unsubscribe (RFC 8058)

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>body{{font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em}}\
button{{font-size:1.1em;padding:.5em 1em}}</style></head><body><h1>{title}</h1>{body}</body></html>"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn valid_token(t: &str) -> bool {
    t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit())
}

async fn unsubscribe_get(State(st): State<Shared>, Path(token): Path<String>) -> Response {
    let store = st.store.clone();
    let t = token.clone();
    let target = if valid_token(&token) {
        tokio::task::spawn_blocking(move || store.unsubscribe_target(&t))
            .await
            .ok()
            .and_then(|r| r.ok())
            .flatten()
    } else {
        None
    };
    let Some((recipient, _purpose)) = target else {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "Link ungültig",
                "<p>Dieser Abmelde-Link ist ungültig oder abgelaufen. Bitte wenden Sie sich direkt an die Praxis.</p>",
            )),
        )
            .into_response();
    };
    // GET never unsubscribes by itself (link scanners); the button POSTs.
    Html(page(
        "Abmelden",
        &format!(
            "<p>Möchten Sie für <strong>{}</strong> keine weiteren Nachrichten dieser Art \
             (z. B. Geburtstagsgrüße, Einladungen, Erinnerungen an Vorsorge) per E-Mail erhalten?</p>\
             <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\">Ja, abmelden</button></form>",
            escape(&recipient)
        ),
    ))
    .into_response()
}

async fn unsubscribe_post(State(st): State<Shared>, Path(token): Path<String>) -> Response {
    let known = if valid_token(&token) {
        let store = st.store.clone();
        tokio::task::spawn_blocking(move || store.record_optout(&token))
            .await
            .ok()
            .and_then(|r| r.ok())
            .unwrap_or(false)
    } else {
        false
    };
    if !known {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "Link ungültig",
                "<p>Dieser Abmelde-Link ist ungültig.</p>",
            )),
        )
            .into_response();
    }
    Html(page(
        "Abgemeldet",
        "<p>Sie wurden abgemeldet und erhalten keine weiteren Nachrichten dieser Art. \
         Termin-Erinnerungen sind davon nicht betroffen.</p>",
    ))
    .into_response()
}

// ---------------------------------------------------------------- router

fn cors(cfg: &Config) -> CorsLayer {
    let origin = if cfg.demo && cfg.allowed_origins.is_empty() {
        // Demo: any loopback origin (the app served by this relay or a dev server).
        AllowOrigin::predicate(|o: &HeaderValue, _| {
            let s = o.to_str().unwrap_or("");
            ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| s == *p || s.starts_with(&format!("{p}:")))
        })
    } else {
        AllowOrigin::list(
            cfg.allowed_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(3600))
}

pub fn router(st: Shared, static_dir: Option<PathBuf>) -> Router {
    let authed = Router::new()
        .route("/senders", get(senders))
        .route("/messages", get(get_messages).post(post_messages))
        .route("/optouts", get(optouts))
        .route_layer(middleware::from_fn_with_state(st.clone(), auth_layer));
    let v1 = Router::new()
        .route("/health", get(health))
        .merge(authed)
        .fallback(|| async {
            err(
                StatusCode::NOT_FOUND,
                "not_found",
                "Unbekannte API-Adresse.",
            )
        })
        .layer(DefaultBodyLimit::max(st.cfg.max_body_bytes))
        .layer(cors(&st.cfg));
    let mut app = Router::new()
        .nest("/v1", v1)
        .route("/u/{token}", get(unsubscribe_get).post(unsubscribe_post))
        .with_state(st);
    if let Some(dir) = static_dir {
        let index = dir.join("index.html");
        app = app.fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)));
    }
    app
}
