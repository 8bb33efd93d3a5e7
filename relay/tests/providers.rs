//! SMS providers and SendGrid against local HTTP servers started by the test.
//!
//! These servers are STUBS of the providers' public APIs: they check the documented request
//! format (path, auth, fields) and answer with the documented success and error shapes. They
//! are not the real services.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use praxisbote_core::domain::{Channel, PersonId, Purpose};
use praxisbote_core::wire::*;
use praxisbote_relay::config::Config;
use praxisbote_relay::{api, prepare, Args};
use serde_json::{json, Value};
use tower::ServiceExt;

#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<(String, HeaderMap, String)>>>);

impl Seen {
    fn push(&self, who: &str, h: &HeaderMap, body: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push((who.into(), h.clone(), String::from_utf8_lossy(body).into()));
    }
    fn of(&self, who: &str) -> Vec<(HeaderMap, String)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(w, ..)| w == who)
            .map(|(_, h, b)| (h.clone(), b.clone()))
            .collect()
    }
}

fn form(body: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{body}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn basic(h: &HeaderMap) -> String {
    let v = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let b = v.strip_prefix("Basic ").unwrap_or("");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b)
            .unwrap_or_default(),
    )
    .unwrap_or_default()
}

fn bearer(h: &HeaderMap) -> &str {
    h.get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
}

// Twilio: POST /2010-04-01/Accounts/{Sid}/Messages.json, form To/From/Body, Basic Sid:Token.
async fn twilio(State(s): State<Seen>, h: HeaderMap, body: Bytes) -> Response {
    s.push("twilio", &h, &body);
    if basic(&h) != "AC0123:twilio-token" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
        )
            .into_response();
    }
    let f = form(std::str::from_utf8(&body).unwrap());
    let to = f.get("To").cloned().unwrap_or_default();
    if !f.contains_key("Body")
        || (!f.contains_key("From") && !f.contains_key("MessagingServiceSid"))
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 21602, "message": "Message body is required.", "status": 400})),
        )
            .into_response();
    }
    if to.ends_with("0000") {
        return (StatusCode::BAD_REQUEST, Json(json!({"code": 21211, "message": format!("The 'To' number {to} is not a valid phone number."), "status": 400}))).into_response();
    }
    if to.ends_with("4290") {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"code": 20429, "message": "Too Many Requests", "status": 429})),
        )
            .into_response();
    }
    (
        StatusCode::CREATED,
        Json(json!({"sid": "SM0123456789abcdef", "status": "queued", "to": to})),
    )
        .into_response()
}

// seven.io: POST /api/sms, X-Api-Key, form to/text/from/foreign_id/json=1; HTTP 200 with a
// return code in "success" (100 = ok, 202 = invalid recipient).
async fn seven(State(s): State<Seen>, h: HeaderMap, body: Bytes) -> Response {
    s.push("seven", &h, &body);
    if h.get("x-api-key").map(|v| v != "seven-key").unwrap_or(true) {
        return Json(json!({"success": "900"})).into_response();
    }
    let f = form(std::str::from_utf8(&body).unwrap());
    let to = f.get("to").cloned().unwrap_or_default();
    if to.ends_with("0000") {
        return Json(json!({"success": "202", "messages": [{"id": null, "recipient": to, "success": false, "error": "202"}]})).into_response();
    }
    Json(json!({"success": "100", "total_price": 0.075, "messages": [{"id": "77229135982", "recipient": to, "text": f["text"], "success": true, "error": null}]})).into_response()
}

// sipgate: POST /v2/sessions/sms, Basic tokenId:token, JSON smsId/recipient/message → 204.
async fn sipgate(State(s): State<Seen>, h: HeaderMap, body: Bytes) -> Response {
    s.push("sipgate", &h, &body);
    if basic(&h) != "token-id:sipgate-pat" {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if v["smsId"] != "s0" || v["recipient"].as_str().is_none() || v["message"].as_str().is_none() {
        return (StatusCode::BAD_REQUEST, "invalid request").into_response();
    }
    if v["recipient"].as_str().unwrap().ends_with("5030") {
        return (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}

// websms / LINK Mobility: POST /rest/smsmessaging/text, Bearer, JSON; statusCode 2000 = ok.
async fn websms(State(s): State<Seen>, h: HeaderMap, body: Bytes) -> Response {
    s.push("websms", &h, &body);
    if bearer(&h) != "websms-token" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"statusCode": 4001, "statusMessage": "Invalid credentials"})),
        )
            .into_response();
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = v["recipientAddressList"][0].as_str().unwrap_or("");
    if to.ends_with("0000") {
        return Json(json!({"statusCode": 4023, "statusMessage": "Invalid recipient"}))
            .into_response();
    }
    Json(json!({"statusCode": 2000, "statusMessage": "OK", "transferId": "005f1d3a000000000001"}))
        .into_response()
}

// A generic HTTP SMS gateway configured with URL, headers and a body template.
async fn generic(State(s): State<Seen>, h: HeaderMap, body: Bytes) -> Response {
    s.push("generic", &h, &body);
    if h.get("x-auth").map(|v| v != "gen-secret").unwrap_or(true) {
        return StatusCode::FORBIDDEN.into_response();
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(_) => StatusCode::OK.into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "bad json").into_response(),
    }
}

// SendGrid v3: POST /v3/mail/send, Bearer, JSON → 202 + X-Message-Id; errors {"errors":[...]}.
async fn sendgrid(State(s): State<Seen>, h: HeaderMap, body: Bytes) -> Response {
    s.push("sendgrid", &h, &body);
    if bearer(&h) != "SG.key" {
        return (StatusCode::UNAUTHORIZED, Json(json!({"errors": [{"message": "The provided authorization grant is invalid, expired, or revoked", "field": null}]}))).into_response();
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = v["personalizations"][0]["to"][0]["email"]
        .as_str()
        .unwrap_or("");
    if to.starts_with("bounce") {
        return (StatusCode::BAD_REQUEST, Json(json!({"errors": [{"message": "Does not contain a valid address.", "field": "personalizations.0.to.0.email"}]}))).into_response();
    }
    if to.starts_with("slow") {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"errors": [{"message": "too many requests", "field": null}]})),
        )
            .into_response();
    }
    ([("x-message-id", "sg-abc123")], StatusCode::ACCEPTED).into_response()
}

async fn start_stubs(seen: Seen) -> String {
    let app = Router::new()
        .route("/2010-04-01/Accounts/AC0123/Messages.json", post(twilio))
        .route("/api/sms", post(seven))
        .route("/v2/sessions/sms", post(sipgate))
        .route("/rest/smsmessaging/text", post(websms))
        .route("/gateway/send", post(generic))
        .route("/v3/mail/send", post(sendgrid))
        .with_state(seen);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

fn config(stub: &str) -> Config {
    let text = format!(
        r#"
retry_base_seconds = 60
max_attempts = 5
public_url = "https://relay.praxis.example"
[[tokens]]
name = "t"
token = "provider-test-token-123"
[[sendgrid]]
name = "sg"
api_key = "SG.key"
base_url = "{stub}"
from = "info@praxis.example"
from_name = "Praxis Müller"
reply_to = "team@praxis.example"
[[sms]]
name = "twilio"
provider = "twilio"
account = "AC0123"
token = "twilio-token"
from = "+4930123456"
base_url = "{stub}"
[[sms]]
name = "seven"
provider = "seven"
token = "seven-key"
from = "Praxis"
base_url = "{stub}"
[[sms]]
name = "sipgate"
provider = "sipgate"
account = "token-id"
token = "sipgate-pat"
sms_id = "s0"
base_url = "{stub}"
[[sms]]
name = "websms"
provider = "websms"
token = "websms-token"
from = "Praxis"
base_url = "{stub}"
[[sms]]
name = "generic"
provider = "generic"
url = "{stub}/gateway/send"
headers = {{ X-Auth = "gen-secret" }}
body_template = '{{"number":"{{{{to}}}}","message":"{{{{text}}}}","ref":"{{{{id}}}}"}}'
"#
    );
    Config::parse(&text, &|_| None).unwrap()
}

fn sms(id: &str, sender: &str, to: &str) -> OutgoingMessage {
    OutgoingMessage {
        client_id: id.into(),
        channel: Channel::Sms,
        purpose: Purpose::AppointmentReminder,
        recipient: to.into(),
        recipient_name: None,
        subject: String::new(),
        text: "Erinnerung: Termin morgen 9:00 \"Praxis\" – bitte absagen, falls verhindert.".into(),
        html: None,
        attachments: Vec::new(),
        sender: Some(sender.into()),
        person_id: None,
        optin: None,
    }
}

#[tokio::test]
async fn providers_speak_the_documented_formats() {
    let seen = Seen::default();
    let stub = start_stubs(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let args = Args {
        config: None,
        listen: None,
        static_dir: None,
        data_dir: Some(dir.path().into()),
        check_config: None,
    };
    let p = prepare(&args, config(&stub), "127.0.0.1:8080".parse().unwrap()).unwrap();
    assert!(
        !format!("{:?}", p.state.cfg).contains("gen-secret"),
        "no secret in the config's Debug"
    );
    let app = api::router(p.state.clone(), None)
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))));

    let mut mail = OutgoingMessage {
        client_id: "sg-1".into(),
        channel: Channel::Email,
        purpose: Purpose::Birthday,
        recipient: "erika@example.org".into(),
        recipient_name: Some("Erika Müller".into()),
        subject: "Alles Gute!".into(),
        text: format!("Liebe Frau Müller\nAbmelden: {UNSUBSCRIBE_LINK_MARKER}"),
        html: Some(format!(
            "<p>Liebe Frau Müller</p><a href=\"{UNSUBSCRIBE_LINK_MARKER}\">Abmelden</a>"
        )),
        attachments: vec![Attachment {
            filename: "gruss.pdf".into(),
            content_type: "application/pdf".into(),
            data_base64: "JVBERg==".into(),
            file: None,
        }],
        sender: Some("sg".into()),
        person_id: Some(PersonId("p-7".into())),
        optin: None,
    };
    let mut bounce = mail.clone();
    bounce.client_id = "sg-2".into();
    bounce.recipient = "bounce@example.org".into();
    mail.attachments[0].filename = "gruss.pdf".into();
    let mut slow = bounce.clone();
    slow.client_id = "sg-3".into();
    slow.recipient = "slow@example.org".into();

    // (message, expected state, expected reason/provider fragment)
    let cases: Vec<(OutgoingMessage, DeliveryState, &str)> = vec![
        (
            sms("tw-1", "twilio", "+4917112345678"),
            DeliveryState::Sent,
            "SM0123456789abcdef",
        ),
        (
            sms("tw-2", "twilio", "+4917112340000"),
            DeliveryState::Failed,
            "21211",
        ),
        (
            sms("tw-3", "twilio", "+4917112344290"),
            DeliveryState::Retrying,
            "429",
        ),
        (
            sms("se-1", "seven", "+4917112345678"),
            DeliveryState::Sent,
            "77229135982",
        ),
        (
            sms("se-2", "seven", "+4917112340000"),
            DeliveryState::Failed,
            "202",
        ),
        (
            sms("si-1", "sipgate", "+4917112345678"),
            DeliveryState::Sent,
            "",
        ),
        (
            sms("si-2", "sipgate", "+4917112345030"),
            DeliveryState::Retrying,
            "503",
        ),
        (
            sms("ws-1", "websms", "+4917112345678"),
            DeliveryState::Sent,
            "005f1d3a000000000001",
        ),
        (
            sms("ws-2", "websms", "+4917112340000"),
            DeliveryState::Failed,
            "4023",
        ),
        (
            sms("ge-1", "generic", "+4917112345678"),
            DeliveryState::Sent,
            "",
        ),
        (mail, DeliveryState::Sent, "sg-abc123"),
        (bounce, DeliveryState::Failed, "valid address"),
        (slow, DeliveryState::Retrying, "429"),
    ];
    let msgs: Vec<OutgoingMessage> = cases.iter().map(|c| c.0.clone()).collect();
    let body = serde_json::to_vec(&SubmitRequest { messages: msgs }).unwrap();
    let req = axum::http::Request::post("/v1/messages")
        .header("content-type", "application/json")
        .header("authorization", "Bearer provider-test-token-123")
        .body(axum::body::Body::from(body))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    let ids: Vec<&str> = cases.iter().map(|c| c.0.client_id.as_str()).collect();
    let t = Instant::now();
    let statuses = loop {
        let req = axum::http::Request::get(format!("/v1/messages?ids={}", ids.join(",")))
            .header("authorization", "Bearer provider-test-token-123")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let b = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let r: StatusResponse = serde_json::from_slice(&b).unwrap();
        if r.messages
            .iter()
            .all(|m| m.state != DeliveryState::Queued && m.state != DeliveryState::Sending)
        {
            break r.messages;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", r.messages);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for ((m, want, frag), got) in cases.iter().zip(&statuses) {
        assert_eq!(got.state, *want, "{}: {got:?}", m.client_id);
        let text = format!("{:?} {:?}", got.reason, got.provider_id);
        assert!(text.contains(frag), "{}: {frag} not in {text}", m.client_id);
        if *want == DeliveryState::Retrying {
            assert!(got.next_attempt.unwrap() > chrono::Utc::now() + chrono::Duration::seconds(30));
        }
    }

    // Request formats as documented.
    let tw = seen.of("twilio");
    let f = form(&tw.iter().find(|(_, b)| b.contains("12345678")).unwrap().1);
    assert_eq!(f["To"], "+4917112345678");
    assert_eq!(f["From"], "+4930123456");
    assert!(f["Body"].starts_with("Erinnerung"));
    let se = seen.of("seven");
    let f = form(&se[0].1);
    assert_eq!((f["json"].as_str(), f["from"].as_str()), ("1", "Praxis"));
    assert!(f["foreign_id"].starts_with("se-"));
    let si: Value = serde_json::from_str(&seen.of("sipgate")[0].1).unwrap();
    assert_eq!(si["smsId"], "s0");
    let ws: Value = serde_json::from_str(&seen.of("websms")[0].1).unwrap();
    assert!(ws["recipientAddressList"][0]
        .as_str()
        .unwrap()
        .starts_with("49171"));
    assert!(ws["clientMessageId"].as_str().unwrap().starts_with("ws-"));
    assert_eq!(ws["senderAddress"], "Praxis");
    let ge = &seen.of("generic")[0];
    assert_eq!(ge.0["content-type"], "application/json");
    let gv: Value = serde_json::from_str(&ge.1).expect("template escaped into valid JSON");
    assert_eq!(gv["number"], "+4917112345678");
    assert_eq!(gv["ref"], "ge-1");
    assert!(gv["message"].as_str().unwrap().contains("\"Praxis\" –"));
    let sg: Value = serde_json::from_str(
        &seen
            .of("sendgrid")
            .iter()
            .find(|(_, b)| b.contains("erika@"))
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(
        sg["from"],
        json!({"email": "info@praxis.example", "name": "Praxis Müller"})
    );
    assert_eq!(sg["reply_to"]["email"], "team@praxis.example");
    assert_eq!(
        sg["personalizations"][0]["to"][0],
        json!({"email": "erika@example.org", "name": "Erika Müller"})
    );
    assert_eq!(sg["content"][0]["type"], "text/plain");
    assert_eq!(sg["content"][1]["type"], "text/html");
    assert_eq!(sg["attachments"][0]["filename"], "gruss.pdf");
    assert_eq!(sg["attachments"][0]["content"], "JVBERg==");
    let unsub = sg["headers"]["List-Unsubscribe"].as_str().unwrap();
    assert!(
        unsub.starts_with("<https://relay.praxis.example/u/"),
        "{unsub}"
    );
    // Regression: SendGrid e-mails carried the raw marker instead of the unsubscribe link.
    let url = unsub.trim_start_matches('<').trim_end_matches('>');
    let text = sg["content"][0]["value"].as_str().unwrap();
    let html = sg["content"][1]["value"].as_str().unwrap();
    assert!(!text.contains(UNSUBSCRIBE_LINK_MARKER) && !html.contains(UNSUBSCRIBE_LINK_MARKER));
    assert!(text.ends_with(&format!("Abmelden: {url}")), "{text}");
    assert!(html.contains(&format!("href=\"{url}\"")), "{html}");
    // The same stable Message-ID as over SMTP.
    assert_eq!(sg["headers"]["Message-ID"], "<sg-1@praxis.example>");
    assert_eq!(
        sg["headers"]["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    p.engine.stop(Duration::from_secs(2)).await;
}

/// A provider endpoint that reads the whole request, records it, then drops the connection
/// without an answer (as when a provider crashes or a proxy resets after reading the body).
async fn resetting_server(bodies: Arc<Mutex<Vec<String>>>) -> u16 {
    use tokio::io::AsyncReadExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = l.accept().await else {
                return;
            };
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            bodies.lock().unwrap().push(body.to_owned());
                            let _ = sock.set_zero_linger();
                            return; // dropped: RST, no answer
                        }
                    }
                }
            });
        }
    });
    port
}

/// Regression: an HTTP provider that read the request and then reset the connection was
/// retried as transient (the message could go out twice). Now: `ambiguous`, one copy. A
/// provider that cannot even be connected to is retried. Reasons never show the URL (a
/// generic gateway's URL may carry its key).
#[tokio::test]
async fn provider_reset_after_reading_the_body_is_ambiguous() {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let port = resetting_server(bodies.clone()).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = Config::parse(
        &format!(
            r#"
retry_base_seconds = 60
public_url = "https://relay.praxis.example"
[[tokens]]
name = "t"
token = "provider-test-token-123"
[[sendgrid]]
name = "sg"
api_key = "SG.key"
base_url = "http://127.0.0.1:{port}"
from = "info@praxis.example"
[[sms]]
name = "reset"
provider = "generic"
url = "http://127.0.0.1:{port}/send?key=SECRET-IN-URL"
body_template = '{{"to":"{{{{to}}}}","ref":"{{{{id}}}}"}}'
[[sms]]
name = "closed"
provider = "generic"
url = "http://127.0.0.1:{closed}/send?key=SECRET-IN-URL"
body_template = '{{"to":"{{{{to}}}}","ref":"{{{{id}}}}"}}'
"#
        ),
        &|_| None,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = Args {
        config: None,
        listen: None,
        static_dir: None,
        data_dir: Some(dir.path().into()),
        check_config: None,
    };
    let p = prepare(&args, cfg, "127.0.0.1:8080".parse().unwrap()).unwrap();
    let app = api::router(p.state.clone(), None)
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))));
    let mail = OutgoingMessage {
        client_id: "reset-mail".into(),
        channel: Channel::Email,
        purpose: Purpose::AppointmentReminder,
        recipient: "erika@example.org".into(),
        recipient_name: None,
        subject: "Termin".into(),
        text: "Ihr Termin".into(),
        html: None,
        attachments: Vec::new(),
        sender: Some("sg".into()),
        person_id: None,
        optin: None,
    };
    let msgs = vec![
        mail,
        sms("reset-sms", "reset", "+4917112345678"),
        sms("closed-sms", "closed", "+4917112345678"),
    ];
    let body = serde_json::to_vec(&SubmitRequest { messages: msgs }).unwrap();
    let req = axum::http::Request::post("/v1/messages")
        .header("content-type", "application/json")
        .header("authorization", "Bearer provider-test-token-123")
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let t = Instant::now();
    let st = loop {
        let req = axum::http::Request::get("/v1/messages?ids=reset-mail,reset-sms,closed-sms")
            .header("authorization", "Bearer provider-test-token-123")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let b = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let r: StatusResponse = serde_json::from_slice(&b).unwrap();
        if r.messages
            .iter()
            .all(|m| m.state != DeliveryState::Queued && m.state != DeliveryState::Sending)
        {
            break r.messages;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", r.messages);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(st[0].state, DeliveryState::Ambiguous, "{:?}", st[0]);
    assert_eq!(st[1].state, DeliveryState::Ambiguous, "{:?}", st[1]);
    assert_eq!(st[2].state, DeliveryState::Retrying, "{:?}", st[2]);
    for s in &st {
        let r = s.reason.as_deref().unwrap_or("");
        assert!(
            !r.contains("SECRET-IN-URL") && !r.contains("127.0.0.1"),
            "{r}"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = bodies.lock().unwrap().clone();
    let count = |id: &str| got.iter().filter(|b| b.contains(id)).count();
    assert_eq!(count("reset-mail"), 1, "{got:?}");
    assert_eq!(count("reset-sms"), 1, "{got:?}");
    assert_eq!(count("closed-sms"), 0);
    p.engine.stop(Duration::from_secs(2)).await;
}
