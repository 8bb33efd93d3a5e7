//! HTTP API (`/v1`), unsubscribe pages (`/u/{token}`) and static files.
//!
//! Every authenticated request runs as a [`Caller`]: its token name scopes idempotency keys
//! and message visibility, its practice the sender accounts and opt-outs.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::DateTime;
use http_body_util::BodyExt;
use praxisbote_core::domain::{sms, Channel, Purpose};
use praxisbote_core::wire::{
    is_file_id, ApiError, ConfirmationsResponse, FileInfo, Health, OptOutChoice, OptOutsResponse,
    OutgoingMessage, SenderInfo, SendersResponse, StatusResponse, SubmitRequest, SubmitResponse,
    MAX_ATTACHMENTS, MAX_BATCH, MAX_OPTIN_EXPIRY_DAYS,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::{Notify, Semaphore};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

use crate::config::{Account, Config, DEFAULT_PRACTICE};
use crate::crash;
use crate::store::{
    now_ms, payload_and_hash, ConfirmResult, InsertResult, NewMessage, OptInTarget, Store,
    UnsubscribeTarget,
};

pub struct AppState {
    pub cfg: Config,
    pub store: Store,
    pub wake: Arc<Notify>,
    /// (scope, client id) of requests being processed right now (409 for a concurrent
    /// duplicate).
    pub in_flight: Mutex<HashSet<(String, String)>>,
    /// Per token: (window start, requests in window).
    pub rate: Mutex<HashMap<String, (Instant, u32)>>,
    /// Per token: (window start, messages in window).
    pub message_rate: Mutex<HashMap<String, (Instant, u32)>>,
    /// Request bodies held in memory at once, in KiB (`body_memory_bytes`).
    pub bodies: Arc<Semaphore>,
}

impl AppState {
    pub fn new(cfg: Config, store: Store, wake: Arc<Notify>) -> AppState {
        let kib = (cfg.body_memory_bytes / 1024).clamp(1, Semaphore::MAX_PERMITS);
        AppState {
            cfg,
            store,
            wake,
            in_flight: Mutex::new(HashSet::new()),
            rate: Mutex::new(HashMap::new()),
            message_rate: Mutex::new(HashMap::new()),
            bodies: Arc::new(Semaphore::new(kib)),
        }
    }
}

pub type Shared = Arc<AppState>;

/// Who made an authenticated request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token name: scope of idempotency keys and of the messages it may see.
    pub scope: String,
    pub practice: String,
    pub daily_quota: Option<u32>,
    pub messages_per_minute: u32,
}

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

fn retry_after(mut r: Response, secs: u64) -> Response {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    r
}

async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> rusqlite::Result<R> + Send + 'static,
) -> Result<R, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(internal(e)),
        Err(e) => Err(internal(e)),
    }
}

// ---------------------------------------------------------------- demo host check

/// Demo mode trusts the local machine; a page on another site must not reach it through
/// DNS rebinding, so the Host header has to name this machine.
pub fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inner, port)) if port.is_empty() || port.starts_with(':') => {
                return inner == "::1" && port.chars().skip(1).all(|c| c.is_ascii_digit())
            }
            _ => return false,
        }
    } else {
        match host.split_once(':') {
            Some((n, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => n,
            Some(_) => return false,
            None => host,
        }
    };
    name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1"
}

async fn demo_host_layer(req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    if !host.as_deref().is_some_and(loopback_host) {
        return err(
            StatusCode::MISDIRECTED_REQUEST,
            "bad_host",
            "Das Relay im Demo-Modus antwortet nur unter 127.0.0.1, localhost oder [::1].",
        );
    }
    next.run(req).await
}

// ---------------------------------------------------------------- auth + rate limit

/// Which token made the request: `None` = rejected.
fn authenticate(st: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<Caller> {
    if st.cfg.demo {
        // Demo mode listens on loopback only (config check) and needs no token.
        return peer.is_some_and(|p| p.ip().is_loopback()).then(|| Caller {
            scope: "demo".into(),
            practice: DEFAULT_PRACTICE.into(),
            daily_quota: None,
            messages_per_minute: u32::MAX,
        });
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)?;
    // Compare digests so that length and content are compared in constant time; check all.
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found = None;
    for t in &st.cfg.tokens {
        if bool::from(digest.ct_eq(&t.digest)) {
            found = Some(Caller {
                scope: t.name.clone(),
                practice: t.practice.clone(),
                daily_quota: Some(t.daily_quota),
                messages_per_minute: t.messages_per_minute,
            });
        }
    }
    found
}

/// A fixed one-minute window per key; `Err(seconds to wait)` when `n` more would exceed
/// `limit` (a first request in a window always passes, so one full batch always fits).
fn window_take(
    map: &Mutex<HashMap<String, (Instant, u32)>>,
    key: &str,
    n: u32,
    limit: u32,
) -> Result<(), u64> {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    let e = m.entry(key.to_owned()).or_insert((Instant::now(), 0));
    if e.0.elapsed().as_secs() >= 60 {
        *e = (Instant::now(), 0);
    }
    if e.1 > 0 && e.1.saturating_add(n) > limit {
        return Err(60u64.saturating_sub(e.0.elapsed().as_secs()));
    }
    e.1 = e.1.saturating_add(n);
    Ok(())
}

async fn auth_layer(State(st): State<Shared>, mut req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let ext = req.extensions();
    let peer = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| ext.get::<MockConnectInfo<SocketAddr>>().map(|c| c.0));
    let Some(caller) = authenticate(&st, req.headers(), peer) else {
        let mut r = err(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Zugang verweigert: gültiges API-Token fehlt (Authorization: Bearer …).",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    };
    if let Err(wait) = window_take(&st.rate, &caller.scope, 1, st.cfg.requests_per_minute) {
        return retry_after(
            err(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Zu viele Anfragen mit diesem Token; bitte kurz warten.",
            ),
            wait,
        );
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

// ---------------------------------------------------------------- handlers

async fn health(State(st): State<Shared>) -> Response {
    let s = st.store.clone();
    match blocking(move || s.pending()).await {
        Ok(pending) => Json(Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            demo: st.cfg.demo,
            pending,
        })
        .into_response(),
        Err(r) => r,
    }
}

async fn senders(
    State(st): State<Shared>,
    Extension(c): Extension<Caller>,
) -> Json<SendersResponse> {
    Json(SendersResponse {
        senders: st
            .cfg
            .accounts_of(&c.practice)
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

/// Checks standard base64 without decoding it into memory (attachments can be large).
fn valid_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// Validates one message for the caller's practice; returns its sender account or a German
/// error.
fn validate<'a>(st: &'a AppState, c: &Caller, m: &OutgoingMessage) -> Result<&'a Account, String> {
    let id = m.client_id.trim();
    if id.is_empty() || id.len() > 100 || has_ctl(id) {
        return Err("client_id fehlt oder ist ungültig (UUID erwartet).".into());
    }
    if m.channel == Channel::Letter {
        return Err("Briefe werden gedruckt, nicht über das Relay versendet.".into());
    }
    let mut mine = st.cfg.accounts.iter().filter(|a| a.practice == c.practice);
    let account = match &m.sender {
        Some(name) => mine
            .find(|a| &a.name == name)
            .ok_or_else(|| format!("Absenderkonto „{name}“ ist im Relay nicht eingerichtet."))?,
        None => mine
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
    if m.channel == Channel::Email && m.purpose.is_advertising() && !account.advertising {
        return Err(format!(
            "Absenderkonto „{}“ ist nicht für Werbung ({}) freigegeben.",
            account.name,
            m.purpose.label_de()
        ));
    }
    if let Some(o) = &m.optin {
        if m.channel != Channel::Email || m.person_id.is_none() {
            return Err(
                "Eine Bestätigungsanfrage (Double-Opt-in) geht nur per E-Mail an eine Person."
                    .into(),
            );
        }
        if o.purposes.is_empty() {
            return Err("Die Bestätigungsanfrage nennt keinen Zweck.".into());
        }
        if !(1..=MAX_OPTIN_EXPIRY_DAYS).contains(&o.expiry_days) {
            return Err(format!(
                "Gültigkeit des Bestätigungslinks: 1 bis {MAX_OPTIN_EXPIRY_DAYS} Tage."
            ));
        }
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
            if m.attachments.len() > MAX_ATTACHMENTS {
                return Err(format!("Höchstens {MAX_ATTACHMENTS} Anhänge je E-Mail."));
            }
            for a in &m.attachments {
                if has_ctl(&a.filename) || has_ctl(&a.content_type) || a.filename.trim().is_empty()
                {
                    return Err("Dateiname oder Typ des Anhangs ungültig.".into());
                }
                match &a.file {
                    Some(f) if !a.data_base64.is_empty() || !is_file_id(f) => {
                        return Err(format!(
                            "Anhang {}: entweder Inhalt oder Datei-Kennung (SHA-256), nicht beides.",
                            a.filename
                        ));
                    }
                    Some(_) => {}
                    None if !valid_base64(&a.data_base64) => {
                        return Err(format!("Anhang {} ist kein gültiges Base64.", a.filename));
                    }
                    None => {}
                }
            }
        }
        Channel::Sms => {
            crate::sms::check_e164(&m.recipient)?;
            let allowed = &st.cfg.sms_countries;
            if !allowed
                .iter()
                .any(|(_, code)| m.recipient[1..].starts_with(&code.to_string()))
            {
                let list: Vec<&str> = allowed.iter().map(|(c, _)| c.as_str()).collect();
                return Err(format!(
                    "SMS an {} nicht erlaubt: nur in diese Länder ({}); sms_countries in der Relay-Konfiguration.",
                    m.recipient,
                    list.join(", ")
                ));
            }
            let parts = sms::analyse(&m.text).parts;
            if parts > st.cfg.sms_max_segments as usize {
                return Err(format!(
                    "SMS zu lang: {parts} Teile, erlaubt sind höchstens {} (sms_max_segments).",
                    st.cfg.sms_max_segments
                ));
            }
        }
        Channel::Letter => unreachable!("checked above"),
    }
    Ok(account)
}

/// Releases reserved client ids when the request ends (also on early return).
pub struct Reservation<'a> {
    st: &'a AppState,
    ids: Vec<(String, String)>,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut set = self.st.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        for id in &self.ids {
            set.remove(id);
        }
    }
}

/// Reserves the ids of a request of `scope`; `Err(id)` if one is in a concurrent request.
pub fn reserve<'a>(
    st: &'a AppState,
    scope: &str,
    ids: &[String],
) -> Result<Reservation<'a>, String> {
    let mut set = st.in_flight.lock().unwrap_or_else(|p| p.into_inner());
    let keys: Vec<(String, String)> = ids.iter().map(|i| (scope.to_owned(), i.clone())).collect();
    if let Some(dup) = keys.iter().find(|k| set.contains(*k)) {
        return Err(dup.1.clone());
    }
    for k in &keys {
        set.insert(k.clone());
    }
    Ok(Reservation { st, ids: keys })
}

fn too_large() -> Response {
    err(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "Anfrage zu groß für das Relay (max_body_bytes).",
    )
}

/// Reads a request body of at most `max_body_bytes`, waiting for memory budget first
/// (released with the returned permit).
async fn read_body(
    st: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<u8>, tokio::sync::OwnedSemaphorePermit), Response> {
    // Bound the memory held by request bodies: wait for budget before reading.
    let max = st.cfg.max_body_bytes;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let kib = (announced.unwrap_or(max) / 1024 + 1).min(st.cfg.body_memory_bytes / 1024);
    let Ok(budget) = st.bodies.clone().acquire_many_owned(kib as u32).await else {
        return Err(internal("body budget closed"));
    };
    // Read into one buffer of the announced size (collecting chunks and joining them
    // would hold the body twice).
    let mut bytes = Vec::with_capacity(announced.unwrap_or(0));
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "bad_body",
                "Anfrage unvollständig übertragen.",
            ));
        };
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > max {
                return Err(too_large());
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok((bytes, budget))
}

/// `PUT /v1/files/{sha256}`: stores a file once (e.g. a PDF attached to every e-mail of a
/// batch); messages refer to it by its SHA-256 (`wire::Attachment::file`). Idempotent.
async fn put_file(
    State(st): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !is_file_id(&sha) {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_file_id",
            "Datei-Kennung muss die SHA-256 in Kleinbuchstaben-Hex sein.",
        );
    }
    let (bytes, _budget) = match read_body(&st, &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if hex::encode(Sha256::digest(&bytes)) != sha {
        return err(
            StatusCode::BAD_REQUEST,
            "file_hash_mismatch",
            "Die Datei passt nicht zu ihrer SHA-256; bitte erneut hochladen.",
        );
    }
    let size = bytes.len() as u64;
    let (store, scope, id) = (st.store.clone(), caller.scope.clone(), sha.clone());
    match blocking(move || store.put_file(&scope, &id, &bytes)).await {
        Ok(new) => {
            let status = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(FileInfo { sha256: sha, size })).into_response()
        }
        Err(r) => r,
    }
}

/// `GET /v1/files/{sha256}`: whether the relay has the file (its size), so the app uploads
/// a batch's files only once.
async fn get_file(
    State(st): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(sha): Path<String>,
) -> Response {
    let (store, scope, id) = (st.store.clone(), caller.scope.clone(), sha.clone());
    match blocking(move || store.file_size(&scope, &id)).await {
        Ok(Some(size)) => Json(FileInfo { sha256: sha, size }).into_response(),
        Ok(None) => err(
            StatusCode::NOT_FOUND,
            "unknown_file",
            "Diese Datei ist auf dem Relay nicht (mehr) vorhanden.",
        ),
        Err(r) => r,
    }
}

async fn post_messages(
    State(st): State<Shared>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (bytes, _budget) = match read_body(&st, &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let req: SubmitRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return err(
                StatusCode::BAD_REQUEST,
                "bad_json",
                format!("Ungültige Anfrage: {e}"),
            )
        }
    };
    drop(bytes);
    if req.messages.is_empty() || req.messages.len() > MAX_BATCH {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_batch",
            format!("Ein Auftrag muss 1 bis {MAX_BATCH} Nachrichten enthalten."),
        );
    }
    let mut seen = HashSet::new();
    for m in &req.messages {
        if !seen.insert(m.client_id.as_str()) {
            return err_id(
                StatusCode::BAD_REQUEST,
                "duplicate_in_batch",
                "Dieselbe client_id kommt im Auftrag mehrfach vor.",
                Some(m.client_id.clone()),
            );
        }
    }
    let ids: Vec<String> = req.messages.iter().map(|m| m.client_id.clone()).collect();
    let _reservation = match reserve(&st, &caller.scope, &ids) {
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
    // Replays are answered from the queue even if the config changed since (an account
    // renamed, a limit lowered): only new messages are validated.
    let (store, scope, q_ids) = (st.store.clone(), caller.scope.clone(), ids.clone());
    let existing = match blocking(move || store.existing(&scope, &q_ids)).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let mut batch = Vec::with_capacity(req.messages.len());
    let mut new_files = Vec::new();
    for (m, known) in req.messages.into_iter().zip(existing) {
        let (payload, hash) = payload_and_hash(&m);
        let sender = match known {
            Some((h, _)) if h != hash => {
                return err_id(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_conflict",
                    "Diese client_id wurde schon mit einem anderen Inhalt übermittelt; der Auftrag wurde nicht angenommen.",
                    Some(m.client_id),
                )
            }
            Some((_, status)) => status.sender,
            None => match validate(&st, &caller, &m) {
                Ok(a) => {
                    new_files.extend(m.attachments.iter().filter_map(|a| {
                        a.file
                            .clone()
                            .map(|f| (m.client_id.clone(), a.filename.clone(), f))
                    }));
                    a.name.clone()
                }
                Err(msg) => {
                    return err_id(
                        StatusCode::BAD_REQUEST,
                        "invalid_message",
                        msg,
                        Some(m.client_id),
                    )
                }
            },
        };
        // One link per e-mail: a double opt-in request gets its confirmation link, advertising
        // its unsubscribe link.
        let unsub_token = (m.channel == Channel::Email
            && (m.purpose.is_advertising() || m.optin.is_some())
            && m.person_id.is_some())
        .then(|| {
            let mut b = [0u8; 16];
            rand::thread_rng().fill_bytes(&mut b);
            hex::encode(b)
        });
        // Only the stored JSON is kept; the parsed message (with its attachment) is dropped.
        batch.push(NewMessage {
            client_id: m.client_id,
            channel: m.channel,
            purpose: m.purpose,
            recipient: m.recipient,
            person_id: m.person_id,
            payload,
            hash,
            sender,
            unsub_token,
            optin: m.optin,
        });
    }
    // Files referred to by new messages must have been uploaded (replays were checked when
    // they were new; their files may be purged by now).
    let refs: Vec<(String, String, String)> = new_files;
    if !refs.is_empty() {
        let (store, scope) = (st.store.clone(), caller.scope.clone());
        let missing = blocking(move || {
            for (client_id, name, sha) in refs {
                if store.file_size(&scope, &sha)?.is_none() {
                    return Ok(Some((client_id, name)));
                }
            }
            Ok(None)
        })
        .await;
        match missing {
            Ok(None) => {}
            Ok(Some((client_id, name))) => {
                return err_id(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "missing_file",
                    format!("Anhang {name} ist auf dem Relay nicht vorhanden (erst mit PUT /v1/files hochladen)."),
                    Some(client_id),
                )
            }
            Err(r) => return r,
        }
    }
    if let Err(wait) = window_take(
        &st.message_rate,
        &caller.scope,
        batch.len() as u32,
        caller.messages_per_minute,
    ) {
        return retry_after(
            err(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "Zu viele Nachrichten mit diesem Token (höchstens {} pro Minute); bitte kurz warten.",
                    caller.messages_per_minute
                ),
            ),
            wait,
        );
    }
    let (store, c) = (st.store.clone(), caller.clone());
    let res =
        blocking(move || store.insert_batch(&c.scope, &c.practice, batch, c.daily_quota)).await;
    match res {
        Ok(InsertResult::Ok(statuses)) => {
            crash::point("after_commit");
            st.wake.notify_waiters();
            (StatusCode::ACCEPTED, Json(SubmitResponse { messages: statuses })).into_response()
        }
        Ok(InsertResult::Conflict(id)) => err_id(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_conflict",
            "Diese client_id wurde schon mit einem anderen Inhalt übermittelt; der Auftrag wurde nicht angenommen.",
            Some(id),
        ),
        Ok(InsertResult::QuotaExceeded(quota, used)) => retry_after(
            err(
                StatusCode::TOO_MANY_REQUESTS,
                "quota_exceeded",
                format!(
                    "Tageskontingent dieses Tokens erreicht: heute {used} von {quota} Nachrichten angenommen; der Auftrag wurde nicht angenommen."
                ),
            ),
            3600,
        ),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
struct IdsQuery {
    ids: Option<String>,
}

async fn get_messages(
    State(st): State<Shared>,
    Extension(c): Extension<Caller>,
    Query(q): Query<IdsQuery>,
) -> Response {
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
    let (store, q_ids) = (st.store.clone(), ids.clone());
    match blocking(move || store.statuses(&c.scope, &q_ids)).await {
        Ok(found) => {
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
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
struct OptOutQuery {
    after: Option<String>,
    since: Option<String>,
}

async fn optouts(
    State(st): State<Shared>,
    Extension(c): Extension<Caller>,
    Query(q): Query<OptOutQuery>,
) -> Response {
    enum Cursor {
        After(i64),
        Since(i64),
    }
    let cursor = match (q.after.as_deref(), q.since.as_deref()) {
        (Some(a), _) => match a.parse::<u64>() {
            Ok(n) => Cursor::After(n.min(i64::MAX as u64) as i64),
            Err(_) => {
                return err(
                    StatusCode::BAD_REQUEST,
                    "bad_after",
                    "Parameter after: die letzte bekannte Abmelde-Nummer (seq) erwartet.",
                )
            }
        },
        (None, None | Some("")) => Cursor::After(0),
        (None, Some(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Cursor::Since(t.timestamp_millis()),
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
    let res = blocking(move || match cursor {
        Cursor::After(n) => store.optouts_after(&c.practice, n),
        Cursor::Since(t) => store.optouts_since(&c.practice, t),
    })
    .await;
    match res {
        Ok(optouts) => Json(OptOutsResponse { optouts }).into_response(),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
struct AfterQuery {
    after: Option<String>,
}

/// `GET /v1/confirmations?after=SEQ`: double opt-in confirmations of the caller's practice.
async fn confirmations(
    State(st): State<Shared>,
    Extension(c): Extension<Caller>,
    Query(q): Query<AfterQuery>,
) -> Response {
    let after = match q.after.as_deref() {
        None | Some("") => 0,
        Some(a) => match a.parse::<u64>() {
            Ok(n) => n.min(i64::MAX as u64) as i64,
            Err(_) => {
                return err(
                    StatusCode::BAD_REQUEST,
                    "bad_after",
                    "Parameter after: die letzte bekannte Bestätigungs-Nummer (seq) erwartet.",
                )
            }
        },
    };
    let store = st.store.clone();
    match blocking(move || store.confirmations_after(&c.practice, after)).await {
        Ok(confirmations) => Json(ConfirmationsResponse { confirmations }).into_response(),
        Err(r) => r,
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

/// The unsubscribe page may not be framed (clickjacking of the button), loads nothing from
/// elsewhere and leaks its token-bearing URL to no one.
fn page_response(status: StatusCode, html: String) -> Response {
    let mut r = (status, Html(html)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
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

/// What the unsubscribe pages call a purpose (plural: the messages of that kind).
fn purpose_plural(p: Purpose) -> &'static str {
    match p {
        Purpose::AppointmentReminder => "Termin-Erinnerungen",
        Purpose::Birthday => "Geburtstagsgrüße",
        Purpose::Invitation => "Einladungen",
        Purpose::Recall => "Erinnerungen an Vorsorge- und Kontrolltermine",
        Purpose::Other => "sonstige Werbung der Praxis (z. B. Newsletter)",
    }
}

fn per_channel(c: Channel) -> &'static str {
    match c {
        Channel::Email => "per E-Mail",
        Channel::Sms => "per SMS",
        Channel::Letter => "per Brief",
    }
}

/// "a", "a und b", "a, b und c".
fn join_de(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} und {last}", init.join(", ")),
    }
}

/// What a choice withdraws and what it leaves alone, in German, from the one rule
/// (`OptOutScope::covers`) that the app and the relay's safety net apply.
fn choice_effect(t: &UnsubscribeTarget, choice: OptOutChoice) -> (String, String) {
    let scope = choice.scope(t.purpose);
    let (gone, kept): (Vec<Purpose>, Vec<Purpose>) =
        Purpose::ALL.into_iter().partition(|p| scope.covers(*p));
    let names =
        |ps: &[Purpose]| join_de(&ps.iter().map(|p| purpose_plural(*p)).collect::<Vec<_>>());
    (
        format!(
            "Sie erhalten keine {} mehr {}.",
            names(&gone),
            per_channel(t.channel)
        ),
        format!("Davon nicht betroffen: {}.", names(&kept)),
    )
}

async fn target(st: &Shared, token: &str) -> Option<UnsubscribeTarget> {
    if !valid_token(token) {
        return None;
    }
    let (store, token) = (st.store.clone(), token.to_owned());
    blocking(move || store.unsubscribe_target(&token))
        .await
        .ok()
        .flatten()
}

fn invalid_link() -> Response {
    page_response(
        StatusCode::NOT_FOUND,
        page(
            "Link ungültig",
            "<p>Dieser Abmelde-Link ist ungültig oder abgelaufen. Bitte wenden Sie sich direkt an die Praxis.</p>",
        ),
    )
}

async fn unsubscribe_get(State(st): State<Shared>, Path(token): Path<String>) -> Response {
    let Some(t) = target(&st, &token).await else {
        return invalid_link();
    };
    // GET never unsubscribes by itself (link scanners); the buttons POST the choice.
    let form = |choice: OptOutChoice, button: &str| {
        let (gone, kept) = choice_effect(&t, choice);
        format!(
            "<form method=\"post\"><input type=\"hidden\" name=\"choice\" value=\"{}\">\
             <button type=\"submit\">{button}</button><p>{gone} {kept}</p></form>",
            choice.as_str()
        )
    };
    page_response(
        StatusCode::OK,
        page(
            "Abmelden",
            &format!(
                "<p>Wovon möchten Sie <strong>{}</strong> abmelden?</p>{}{}",
                escape(&t.recipient),
                form(OptOutChoice::Purpose, "Nur diese Art von Nachrichten"),
                form(
                    OptOutChoice::AllAdvertising,
                    &format!("Keine Werbung mehr {}", per_channel(t.channel))
                ),
            ),
        ),
    )
}

/// The choice in a POST body (`choice=purpose|all_advertising`, form-encoded). An RFC 8058
/// one-click request (`List-Unsubscribe=One-Click`) or anything else is the narrow choice:
/// this kind of message.
fn posted_choice(body: &[u8]) -> OptOutChoice {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "choice")
        .and_then(|(_, v)| OptOutChoice::parse(v.trim()))
        .unwrap_or_default()
}

async fn unsubscribe_post(
    State(st): State<Shared>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some(t) = target(&st, &token).await else {
        return invalid_link();
    };
    let choice = posted_choice(&body);
    let store = st.store.clone();
    match blocking(move || store.record_optout(&token, choice)).await {
        Ok(true) => {}
        Ok(false) => return invalid_link(),
        Err(_) => return page_response(
            StatusCode::SERVICE_UNAVAILABLE,
            page(
                "Nicht gespeichert",
                "<p>Ihre Abmeldung konnte gerade nicht gespeichert werden. Bitte versuchen Sie es später noch einmal.</p>",
            ),
        ),
    }
    let (gone, kept) = choice_effect(&t, choice);
    page_response(
        StatusCode::OK,
        page(
            "Abgemeldet",
            &format!("<p>Sie wurden abgemeldet. {gone}</p><p>{kept}</p>"),
        ),
    )
}

// ---------------------------------------------------------------- double opt-in (`/b/{token}`)

async fn optin_target(st: &Shared, token: &str) -> Option<OptInTarget> {
    if !valid_token(token) {
        return None;
    }
    let (store, token) = (st.store.clone(), token.to_owned());
    blocking(move || store.optin_target(&token))
        .await
        .ok()
        .flatten()
}

fn invalid_confirmation_link() -> Response {
    page_response(
        StatusCode::NOT_FOUND,
        page(
            "Link ungültig",
            "<p>Dieser Bestätigungslink ist ungültig. Bitte wenden Sie sich direkt an die Praxis.</p>",
        ),
    )
}

fn expired_confirmation_link(t: &OptInTarget) -> Response {
    page_response(
        StatusCode::GONE,
        page(
            "Link abgelaufen",
            &format!(
                "<p>Dieser Bestätigungslink war bis zum {} gültig und ist abgelaufen. \
                 Ihre Einwilligung wurde <strong>nicht</strong> gespeichert.</p>\
                 <p>Wenn Sie weiterhin Nachrichten der Praxis erhalten möchten, bitten Sie die \
                 Praxis um eine neue Bestätigungs-E-Mail.</p>",
                t.expires_at.format("%d.%m.%Y")
            ),
        ),
    )
}

/// "Geburtstagsgrüße und Einladungen per E-Mail".
fn optin_what(t: &OptInTarget) -> String {
    format!(
        "{} {}",
        join_de(
            &t.purposes
                .iter()
                .map(|p| purpose_plural(*p))
                .collect::<Vec<_>>()
        ),
        per_channel(t.channel)
    )
}

async fn confirm_get(State(st): State<Shared>, Path(token): Path<String>) -> Response {
    let Some(t) = optin_target(&st, &token).await else {
        return invalid_confirmation_link();
    };
    if t.expired(chrono::Utc::now()) {
        return expired_confirmation_link(&t);
    }
    if let Some(at) = t.confirmed_at {
        return page_response(
            StatusCode::OK,
            page(
                "Bereits bestätigt",
                &format!(
                    "<p>Sie haben Ihre Einwilligung am {} bestätigt. Vielen Dank.</p>",
                    at.format("%d.%m.%Y")
                ),
            ),
        );
    }
    // GET never confirms by itself (link scanners open links); the button POSTs.
    page_response(
        StatusCode::OK,
        page(
            "Einwilligung bestätigen",
            &format!(
                "<p>Möchten Sie für <strong>{}</strong> {} von der Praxis erhalten?</p>\
                 <form method=\"post\"><button type=\"submit\">Ja, ich willige ein</button></form>\
                 <p>Wenn Sie das nicht möchten, schließen Sie diese Seite einfach; es wird nichts gespeichert. \
                 Sie können die Einwilligung jederzeit widerrufen, z. B. über den Abmeldelink in jeder E-Mail.</p>",
                escape(&t.recipient),
                optin_what(&t)
            ),
        ),
    )
}

async fn confirm_post(State(st): State<Shared>, Path(token): Path<String>) -> Response {
    let Some(t) = optin_target(&st, &token).await else {
        return invalid_confirmation_link();
    };
    let store = st.store.clone();
    match blocking(move || store.confirm_optin(&token, now_ms())).await {
        Ok(ConfirmResult::Confirmed) => page_response(
            StatusCode::OK,
            page(
                "Einwilligung bestätigt",
                &format!(
                    "<p>Vielen Dank. Sie erhalten {} von der Praxis. \
                     Sie können die Einwilligung jederzeit widerrufen, z. B. über den Abmeldelink in jeder E-Mail.</p>",
                    optin_what(&t)
                ),
            ),
        ),
        Ok(ConfirmResult::Expired) => expired_confirmation_link(&t),
        Ok(ConfirmResult::Unknown) => invalid_confirmation_link(),
        Err(_) => page_response(
            StatusCode::SERVICE_UNAVAILABLE,
            page(
                "Nicht gespeichert",
                "<p>Ihre Bestätigung konnte gerade nicht gespeichert werden. Bitte versuchen Sie es später noch einmal.</p>",
            ),
        ),
    }
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
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(3600))
}

pub fn router(st: Shared, static_dir: Option<PathBuf>) -> Router {
    let authed = Router::new()
        .route("/senders", get(senders))
        .route("/messages", get(get_messages).post(post_messages))
        .route("/optouts", get(optouts))
        .route("/confirmations", get(confirmations))
        .route("/files/{sha256}", get(get_file).put(put_file))
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
        .layer(cors(&st.cfg));
    let demo = st.cfg.demo;
    let mut app = Router::new()
        .nest("/v1", v1)
        .route("/u/{token}", get(unsubscribe_get).post(unsubscribe_post))
        .route("/b/{token}", get(confirm_get).post(confirm_post))
        .with_state(st);
    if let Some(dir) = static_dir {
        let index = dir.join("index.html");
        app = app.fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)));
    }
    if demo {
        app = app.layer(middleware::from_fn(demo_host_layer));
    }
    app
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "[::2]:80",
            "127.0.0.1:80x",
            "",
            "[::1]x",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn base64_check() {
        assert!(valid_base64("JVBERi0xLjQK"));
        assert!(valid_base64("YQ=="));
        assert!(!valid_base64("***"));
        assert!(!valid_base64("YQ="));
        assert!(!valid_base64("Y==="));
    }
}
