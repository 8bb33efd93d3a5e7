//! HTTP client of praxisbote-relay (`/v1`, wire types from `crate::wire`) over the browser's
//! `fetch`, plus the locally stored relay settings.

use crate::domain::calendar;
use crate::domain::message::UiMessage;
use crate::domain::outbox::{BatchFile, OutboxMessage, RelayReport, RelayState};
use crate::domain::Channel;
use crate::i18n::t;
use crate::wire::{
    ApiError, Attachment, ConfirmationsResponse, FileInfo, Health, MessageStatus, OptOutsResponse,
    OutgoingMessage, SendersResponse, StatusResponse, SubmitRequest, SubmitResponse,
    DEFAULT_OPTIN_EXPIRY_DAYS,
};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Relay settings of this browser (stored in `Collection::Meta` under [`RELAY_KEY`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayConfig {
    /// Base URL; empty = the relay that serves this app (same origin).
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub token: String,
    /// Sender account per channel; empty = the relay's default account.
    #[serde(default)]
    pub email_sender: String,
    #[serde(default)]
    pub sms_sender: String,
    /// Newest opt-out already applied (RFC 3339), for `GET /v1/optouts?since=`.
    #[serde(default)]
    pub optouts_since: Option<String>,
    /// Sequence number of the newest opt-out applied, for `GET /v1/optouts?after=` (two
    /// opt-outs in the same millisecond are never skipped); preferred over `optouts_since`.
    #[serde(default)]
    pub optouts_after: Option<u64>,
    /// Sequence number of the newest double opt-in confirmation applied, for
    /// `GET /v1/confirmations?after=`.
    #[serde(default)]
    pub confirmations_after: Option<u64>,
    /// How many days a confirmation link of "Bestätigung anfordern" is valid (default 30).
    #[serde(default)]
    pub optin_expiry_days: Option<u32>,
}

pub const RELAY_KEY: &str = "relay";

impl RelayConfig {
    pub fn base(&self) -> String {
        let url = self.url.trim().trim_end_matches('/');
        if url.is_empty() {
            web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default()
        } else {
            url.to_string()
        }
    }

    /// Validity of new confirmation links in days (setting, default 30).
    pub fn optin_expiry_days(&self) -> u32 {
        self.optin_expiry_days
            .filter(|d| (1..=crate::wire::MAX_OPTIN_EXPIRY_DAYS).contains(d))
            .unwrap_or(DEFAULT_OPTIN_EXPIRY_DAYS)
    }

    pub fn sender_for(&self, channel: Channel) -> Option<String> {
        let s = match channel {
            Channel::Email => &self.email_sender,
            Channel::Sms => &self.sms_sender,
            Channel::Letter => return None,
        };
        (!s.trim().is_empty()).then(|| s.trim().to_string())
    }
}

/// Why a request did not give the expected answer.
#[derive(Clone, Debug, PartialEq)]
pub enum RelayError {
    /// No answer at all (relay down, network, CORS).
    Unreachable(String),
    /// An answer with an error status.
    Api { status: u16, error: ApiError },
    /// An answer that is not what the API documents.
    Protocol(String),
}

/// A catalogue key and its arguments; the text is made when shown (`crate::i18n::msg`).
impl UiMessage for RelayError {
    fn key(&self) -> &'static str {
        match self {
            RelayError::Unreachable(_) => "relay_client.unreachable",
            RelayError::Api { .. } => "relay_client.api",
            RelayError::Protocol(_) => "relay_client.protocol",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            RelayError::Unreachable(e) | RelayError::Protocol(e) => vec![("error", e.clone())],
            RelayError::Api { status, error } => vec![
                ("status", status.to_string()),
                ("error", error.message.clone()),
            ],
        }
    }
}

/// The text in the current language.
impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::i18n::msg(self))
    }
}

impl std::error::Error for RelayError {}

/// A request body: JSON text, or the raw bytes of an uploaded file.
enum ReqBody {
    Json(String),
    Bytes(Vec<u8>),
}

async fn request(
    cfg: &RelayConfig,
    method: &str,
    path: &str,
    body: Option<ReqBody>,
) -> Result<(u16, String), RelayError> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    match &body {
        Some(ReqBody::Json(b)) => init.set_body(&JsValue::from_str(b)),
        Some(ReqBody::Bytes(b)) => init.set_body(&js_sys::Uint8Array::from(&b[..])),
        None => {}
    }
    let url = format!("{}{}", cfg.base(), path);
    let req = web_sys::Request::new_with_str_and_init(&url, &init)
        .map_err(|e| RelayError::Unreachable(format!("{e:?}")))?;
    let headers = req.headers();
    let _ = headers.set("Accept", "application/json");
    match body {
        Some(ReqBody::Json(_)) => {
            let _ = headers.set("Content-Type", "application/json");
        }
        Some(ReqBody::Bytes(_)) => {
            let _ = headers.set("Content-Type", "application/octet-stream");
        }
        None => {}
    }
    if !cfg.token.trim().is_empty() {
        let _ = headers.set("Authorization", &format!("Bearer {}", cfg.token.trim()));
    }
    let window = web_sys::window()
        .ok_or_else(|| RelayError::Unreachable(t("relay_client.no_window").into()))?;
    let resp = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(|e| {
            RelayError::Unreachable(
                e.dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .unwrap_or_else(|| t("relay_client.network").into()),
            )
        })?;
    let resp: web_sys::Response = resp
        .dyn_into()
        .map_err(|_| RelayError::Protocol(t("relay_client.no_response").into()))?;
    let status = resp.status();
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .map_err(|_| RelayError::Unreachable(t("relay_client.aborted").into()))?
            .as_string()
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok((status, text))
}

async fn json<T: for<'de> Deserialize<'de>>(
    cfg: &RelayConfig,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<T, RelayError> {
    answer(request(cfg, method, path, body.map(ReqBody::Json)).await?)
}

/// The JSON of a 2xx answer, else the relay's error.
fn answer<T: for<'de> Deserialize<'de>>((status, text): (u16, String)) -> Result<T, RelayError> {
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|e| RelayError::Protocol(e.to_string()))
    } else {
        let error = serde_json::from_str::<ApiError>(&text).unwrap_or(ApiError {
            error: "http".into(),
            message: if text.trim().is_empty() {
                format!("HTTP {status}")
            } else {
                text.chars().take(200).collect()
            },
            client_id: None,
        });
        Err(RelayError::Api { status, error })
    }
}

pub async fn health(cfg: &RelayConfig) -> Result<Health, RelayError> {
    json(cfg, "GET", "/v1/health", None).await
}

pub async fn senders(cfg: &RelayConfig) -> Result<SendersResponse, RelayError> {
    json(cfg, "GET", "/v1/senders", None).await
}

pub async fn submit(
    cfg: &RelayConfig,
    messages: Vec<OutgoingMessage>,
) -> Result<SubmitResponse, RelayError> {
    let body = serde_json::to_string(&SubmitRequest { messages })
        .map_err(|e| RelayError::Protocol(e.to_string()))?;
    json(cfg, "POST", "/v1/messages", Some(body)).await
}

pub async fn status(cfg: &RelayConfig, ids: &[String]) -> Result<StatusResponse, RelayError> {
    let q = js_sys::encode_uri_component(&ids.join(","));
    json(cfg, "GET", &format!("/v1/messages?ids={q}"), None).await
}

pub async fn optouts(
    cfg: &RelayConfig,
    after: Option<u64>,
    since: Option<&str>,
) -> Result<OptOutsResponse, RelayError> {
    let path = match (after, since) {
        (Some(n), _) => format!("/v1/optouts?after={n}"),
        (None, Some(s)) => format!("/v1/optouts?since={}", js_sys::encode_uri_component(s)),
        (None, None) => "/v1/optouts".into(),
    };
    json(cfg, "GET", &path, None).await
}

/// Double opt-in confirmations after sequence number `after`.
pub async fn confirmations(
    cfg: &RelayConfig,
    after: u64,
) -> Result<ConfirmationsResponse, RelayError> {
    json(
        cfg,
        "GET",
        &format!("/v1/confirmations?after={after}"),
        None,
    )
    .await
}

/// Makes sure the relay holds a batch's file (`GET /v1/files/{sha256}`, uploaded with `PUT`
/// only when it is missing), so that messages can refer to it.
pub async fn ensure_file(cfg: &RelayConfig, file: &BatchFile) -> Result<(), RelayError> {
    let path = format!("/v1/files/{}", file.sha256);
    match json::<FileInfo>(cfg, "GET", &path, None).await {
        Ok(_) => Ok(()),
        Err(RelayError::Api { status: 404, .. }) => {
            let put = request(cfg, "PUT", &path, Some(ReqBody::Bytes(file.bytes()))).await?;
            answer::<FileInfo>(put).map(|_| ())
        }
        Err(e) => Err(e),
    }
}

/// The wire form of an outbox message (see docs/design/outbox-idempotency.md, "Wire mapping"),
/// with its batch's `files` referred to by their SHA-256.
pub fn outgoing(m: &OutboxMessage, files: &[BatchFile], sender: Option<String>) -> OutgoingMessage {
    OutgoingMessage {
        client_id: m.id.clone(),
        channel: m.channel,
        purpose: m.purpose,
        recipient: m.address.clone(),
        recipient_name: Some(m.recipient_name.clone()).filter(|n| !n.trim().is_empty()),
        subject: m.content.subject.clone().unwrap_or_default(),
        text: m.content.text.clone(),
        html: m.content.html.clone(),
        attachments: m
            .content
            .calendar
            .iter()
            .map(|ics| Attachment {
                filename: calendar::FILE_NAME.to_owned(),
                content_type: calendar::CONTENT_TYPE.to_owned(),
                data_base64: base64::engine::general_purpose::STANDARD.encode(ics),
                file: None,
            })
            .chain(files.iter().map(BatchFile::reference))
            .collect(),
        sender,
        person_id: Some(m.person_id.clone()),
        optin: m.optin.clone(),
    }
}

pub fn local(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    t.with_timezone(&chrono::Local).naive_local()
}

/// The domain report of a wire status.
pub fn report(s: &MessageStatus) -> RelayReport {
    use crate::wire::DeliveryState as D;
    RelayReport {
        id: s.client_id.clone(),
        state: match s.state {
            D::Queued => RelayState::Queued,
            D::Sending => RelayState::Sending,
            D::Sent => RelayState::Sent,
            D::Failed => RelayState::Failed,
            D::Retrying => RelayState::Retrying,
            D::Ambiguous => RelayState::Ambiguous,
        },
        reason: s.reason.clone(),
        next_attempt: s.next_attempt.map(local),
        at: local(s.updated_at),
    }
}
