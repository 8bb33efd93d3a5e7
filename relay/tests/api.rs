//! The router tested in-process (tower `oneshot`), demo mode and token mode.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use praxisbote_core::domain::{Channel, PersonId, Purpose};
use praxisbote_core::wire::*;
use praxisbote_relay::config::Config;
use praxisbote_relay::{api, prepare, Args, Prepared};
use serde_json::Value;
use tower::ServiceExt;

const LOOPBACK: ([u8; 4], u16) = ([127, 0, 0, 1], 40000);
const REMOTE: ([u8; 4], u16) = ([192, 0, 2, 7], 40000);

fn setup(cfg: Config, dir: &Path, static_dir: Option<&Path>) -> Prepared {
    let args = Args {
        config: None,
        listen: None,
        static_dir: static_dir.map(Path::to_path_buf),
        data_dir: Some(dir.to_path_buf()),
        check_config: None,
    };
    prepare(&args, cfg, "127.0.0.1:8080".parse().unwrap()).unwrap()
}

fn app(p: &Prepared, peer: ([u8; 4], u16)) -> Router {
    api::router(p.state.clone(), p.static_dir.clone())
        .layer(MockConnectInfo(SocketAddr::from(peer)))
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, body.to_vec())
}

fn json(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(b)))
}

/// Every request names the relay's host, as browsers do (demo mode checks it).
const HOST: &str = "127.0.0.1:8080";

fn post(uri: &str, body: &impl serde::Serialize, token: Option<&str>) -> Request<Body> {
    let mut b = Request::post(uri)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri).header(header::HOST, HOST);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::empty()).unwrap()
}

fn email(id: &str, purpose: Purpose) -> OutgoingMessage {
    OutgoingMessage {
        client_id: id.into(),
        channel: Channel::Email,
        purpose,
        recipient: "erika@example.org".into(),
        recipient_name: Some("Erika Müller".into()),
        subject: "Einladung zum Gesundheitstag".into(),
        text: "Liebe Frau Müller, ...".into(),
        html: None,
        attachments: Vec::new(),
        sender: None,
        person_id: Some(PersonId("person-1".into())),
        optin: None,
    }
}

fn sms(id: &str, to: &str) -> OutgoingMessage {
    OutgoingMessage {
        client_id: id.into(),
        channel: Channel::Sms,
        purpose: Purpose::AppointmentReminder,
        recipient: to.into(),
        recipient_name: None,
        subject: String::new(),
        text: "Erinnerung: Termin morgen 9:00".into(),
        html: None,
        attachments: Vec::new(),
        sender: None,
        person_id: None,
        optin: None,
    }
}

async fn wait_final(app: &Router, ids: &[&str], token: Option<&str>) -> Vec<MessageStatus> {
    let uri = format!("/v1/messages?ids={}", ids.join(","));
    for _ in 0..200 {
        let (s, _, b) = call(app, get(&uri, token)).await;
        assert_eq!(s, StatusCode::OK);
        let r: StatusResponse = serde_json::from_slice(&b).unwrap();
        if r.messages.len() == ids.len() && r.messages.iter().all(|m| m.state.is_final()) {
            return r.messages;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("messages did not reach a final state");
}

#[tokio::test]
async fn demo_flow_idempotency_and_optouts() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(Config::demo(), dir.path(), None);
    let app = app(&p, LOOPBACK);

    let (s, _, b) = call(&app, get("/v1/health", None)).await;
    assert_eq!(s, StatusCode::OK);
    let h: Health = serde_json::from_slice(&b).unwrap();
    assert!(h.demo);
    assert_eq!(h.status, "ok");

    let (s, _, b) = call(&app, get("/v1/senders", None)).await;
    assert_eq!(s, StatusCode::OK);
    let senders: SendersResponse = serde_json::from_slice(&b).unwrap();
    let kinds: Vec<_> = senders
        .senders
        .iter()
        .map(|s| (s.kind, s.channel))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (SenderKind::DemoMaildir, Channel::Email),
            (SenderKind::DemoSmsFile, Channel::Sms)
        ]
    );

    let req = SubmitRequest {
        messages: vec![
            email("m-1", Purpose::Invitation),
            email("m-2", Purpose::AppointmentReminder),
            sms("s-1", "+4917112345678"),
        ],
    };
    let (s, _, b) = call(&app, post("/v1/messages", &req, None)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&b));
    let r: SubmitResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        r.messages
            .iter()
            .map(|m| m.client_id.as_str())
            .collect::<Vec<_>>(),
        ["m-1", "m-2", "s-1"]
    );
    assert_eq!(r.messages[0].sender, "demo-mail");
    assert_eq!(r.messages[2].sender, "demo-sms");

    let done = wait_final(&app, &["m-1", "m-2", "s-1"], None).await;
    assert!(
        done.iter().all(|m| m.state == DeliveryState::Sent),
        "{done:?}"
    );
    assert_eq!(done[0].provider_id.as_deref(), Some("<m-1@demo.invalid>"));

    // Replay: same result, nothing sent twice.
    let (s, _, b) = call(&app, post("/v1/messages", &req, None)).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let r: SubmitResponse = serde_json::from_slice(&b).unwrap();
    assert!(r.messages.iter().all(|m| m.state == DeliveryState::Sent));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mails: Vec<_> = std::fs::read_dir(dir.path().join("maildir/new"))
        .unwrap()
        .collect();
    assert_eq!(mails.len(), 2);
    let sms_lines = std::fs::read_to_string(dir.path().join("sms.jsonl")).unwrap();
    assert_eq!(sms_lines.lines().count(), 1);
    let line: Value = serde_json::from_str(sms_lines.lines().next().unwrap()).unwrap();
    assert_eq!(line["to"], "+4917112345678");
    assert_eq!(line["client_id"], "s-1");

    // Same id, different payload: 422 and nothing of the batch is accepted.
    let mut changed = email("m-1", Purpose::Invitation);
    changed.text = "anderer Text".into();
    let bad = SubmitRequest {
        messages: vec![email("m-3", Purpose::Recall), changed],
    };
    let (s, _, b) = call(&app, post("/v1/messages", &bad, None)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let e: ApiError = serde_json::from_slice(&b).unwrap();
    assert_eq!(e.error, "idempotency_conflict");
    assert_eq!(e.client_id.as_deref(), Some("m-1"));
    let (_, _, b) = call(&app, get("/v1/messages?ids=m-3", None)).await;
    let st: StatusResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(st.unknown, vec!["m-3".to_string()]);

    // Still in flight in a concurrent request: 409.
    let held = api::reserve(&p.state, "demo", &["m-9".to_string()]).unwrap();
    let (s, _, b) = call(
        &app,
        post(
            "/v1/messages",
            &SubmitRequest {
                messages: vec![email("m-9", Purpose::Other)],
            },
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(json(&b)["error"], "in_flight");
    drop(held);
    let (s, _, _) = call(
        &app,
        post(
            "/v1/messages",
            &SubmitRequest {
                messages: vec![email("m-9", Purpose::Other)],
            },
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);

    // Unsubscribe: only the advertising e-mail has a List-Unsubscribe link.
    let mut invitation = None;
    for f in std::fs::read_dir(dir.path().join("maildir/new")).unwrap() {
        let raw = std::fs::read_to_string(f.unwrap().path()).unwrap();
        if raw.contains("Message-ID: <m-1@") {
            invitation = Some(raw);
        } else {
            assert!(!raw.contains("List-Unsubscribe"));
        }
    }
    let raw = invitation.expect("invitation mail");
    let url = raw
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .unwrap()
        .trim_end_matches('>');
    assert!(url.starts_with("http://127.0.0.1:8080/u/"), "{url}");
    let path = &url["http://127.0.0.1:8080".len()..];
    let (s, _, b) = call(&app, get(path, None)).await;
    assert_eq!(s, StatusCode::OK);
    let page = String::from_utf8(b).unwrap();
    assert!(page.contains("erika@example.org") && page.contains("<form method=\"post\""));
    let (_, _, b) = call(&app, get("/v1/optouts", None)).await;
    assert_eq!(
        json(&b)["optouts"].as_array().unwrap().len(),
        0,
        "GET must not unsubscribe"
    );
    let one_click = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    let (s, _, b) = call(&app, one_click).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8(b).unwrap().contains("abgemeldet"));
    let (_, _, b) = call(&app, get("/v1/optouts?since=2020-01-01T00:00:00Z", None)).await;
    let o: OptOutsResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(o.optouts.len(), 1);
    // The sequence cursor: `after` the opt-out's seq there is nothing new.
    assert!(o.optouts[0].seq > 0);
    let (_, _, b) = call(
        &app,
        get(&format!("/v1/optouts?after={}", o.optouts[0].seq), None),
    )
    .await;
    assert_eq!(json(&b)["optouts"].as_array().unwrap().len(), 0);
    let (_, _, b) = call(&app, get("/v1/optouts?after=0", None)).await;
    assert_eq!(json(&b)["optouts"].as_array().unwrap().len(), 1);
    assert_eq!(o.optouts[0].person_id, PersonId("person-1".into()));
    assert_eq!(o.optouts[0].purpose, Purpose::Invitation);
    // A mail program's one-click request is the narrow choice: this kind of message.
    assert_eq!(o.optouts[0].choice, OptOutChoice::Purpose);
    let later = (o.optouts[0].at + chrono::Duration::milliseconds(1)).to_rfc3339();
    let (_, _, b) = call(
        &app,
        get(
            &format!("/v1/optouts?since={}", later.replace('+', "%2B")),
            None,
        ),
    )
    .await;
    assert_eq!(json(&b)["optouts"].as_array().unwrap().len(), 0);
    let (s, _, _) = call(&app, get("/u/00000000000000000000000000000000", None)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    p.engine.stop(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(Config::demo(), dir.path(), None);
    let app = app(&p, LOOPBACK);
    let mut crlf = email("x-1", Purpose::Other);
    crlf.subject = "Hallo\r\nBcc: evil@example.org".into();
    let mut wrong_sender = email("x-2", Purpose::Other);
    wrong_sender.sender = Some("demo-sms".into());
    let mut unknown_sender = email("x-3", Purpose::Other);
    unknown_sender.sender = Some("smtp.evil.example".into());
    let mut letter = email("x-4", Purpose::Other);
    letter.channel = Channel::Letter;
    let mut bad_att = email("x-5", Purpose::Other);
    bad_att.attachments = vec![Attachment {
        filename: "a.pdf".into(),
        content_type: "application/pdf".into(),
        data_base64: "***".into(),
        file: None,
    }];
    let cases: Vec<(Vec<OutgoingMessage>, &str, &str)> = vec![
        (vec![crlf], "invalid_message", "Steuerzeichen"),
        (vec![wrong_sender], "invalid_message", "sendet SMS"),
        (
            vec![unknown_sender],
            "invalid_message",
            "nicht eingerichtet",
        ),
        (vec![sms("x-6", "0171 1234567")], "invalid_message", "E.164"),
        (vec![letter], "invalid_message", "gedruckt"),
        (vec![bad_att], "invalid_message", "Base64"),
        (
            vec![email("x-7", Purpose::Other), email("x-7", Purpose::Other)],
            "duplicate_in_batch",
            "mehrfach",
        ),
        (vec![], "bad_batch", "1 bis 1000"),
        (
            (0..1001)
                .map(|i| sms(&format!("b-{i}"), "+4917112345678"))
                .collect(),
            "bad_batch",
            "1 bis 1000",
        ),
    ];
    for (msgs, code, needle) in cases {
        let n = msgs.len();
        let (s, _, b) = call(
            &app,
            post("/v1/messages", &SubmitRequest { messages: msgs }, None),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{code} ({n})");
        let e: ApiError = serde_json::from_slice(&b).unwrap();
        assert_eq!(e.error, code);
        assert!(e.message.contains(needle), "{} lacks {needle}", e.message);
    }
    let raw = Request::post("/v1/messages")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"messages":[{"client_id":"a"}]}"#))
        .unwrap();
    let (s, _, b) = call(&app, raw).await;
    assert!(s.is_client_error());
    assert_eq!(json(&b)["error"], "bad_json");
    let (s, _, b) = call(&app, get("/v1/optouts?since=gestern", None)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(json(&b)["error"], "bad_since");
    let (s, _, b) = call(&app, get("/v1/nothing", None)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(json(&b)["error"], "not_found");
    // Nothing of the rejected requests was queued.
    let (_, _, b) = call(&app, get("/v1/health", None)).await;
    assert_eq!(json(&b)["pending"], 0);
    p.engine.stop(Duration::from_secs(2)).await;
}

const TOKEN: &str = "s3cr3t-token-for-tests-0123";

fn token_config(max_body: usize, per_minute: u32) -> Config {
    Config::parse(
        &format!(
            r#"
allowed_origins = ["https://app.praxis.example"]
public_url = "https://relay.praxis.example"
max_body_bytes = {max_body}
requests_per_minute = {per_minute}
[[tokens]]
name = "praxis"
token = "{TOKEN}"
[[smtp]]
name = "praxis-mail"
host = "127.0.0.1"
port = 9
tls = "none"
from = "info@praxis.example"
"#
        ),
        &|_| None,
    )
    .unwrap()
}

#[tokio::test]
async fn auth_cors_body_limit_and_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(token_config(4096, 5), dir.path(), None);
    let app = app(&p, LOOPBACK);
    // Health is open; everything else needs the token, also from loopback.
    let (s, _, _) = call(&app, get("/v1/health", None)).await;
    assert_eq!(s, StatusCode::OK);
    for t in [
        None,
        Some("wrong"),
        Some(&TOKEN[..TOKEN.len() - 1]),
        Some(DEMO_TOKEN),
    ] {
        let (s, h, b) = call(&app, get("/v1/senders", t)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{t:?}");
        assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(json(&b)["error"], "unauthorized");
    }
    let (s, _, b) = call(&app, get("/v1/senders", Some(TOKEN))).await;
    assert_eq!(s, StatusCode::OK);
    let senders: SendersResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(senders.senders[0].name, "praxis-mail");
    assert!(
        !String::from_utf8_lossy(&b).contains("127.0.0.1"),
        "no server details leak"
    );

    // CORS: allowed origin gets the header, others do not.
    let pre = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/messages")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let (_, h, _) = call(&app, pre("https://app.praxis.example")).await;
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.praxis.example"
    );
    let (_, h, _) = call(&app, pre("https://evil.example")).await;
    assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // Body limit.
    let mut big = email("big-1", Purpose::Other);
    big.text = "x".repeat(5000);
    let (s, _, b) = call(
        &app,
        post(
            "/v1/messages",
            &SubmitRequest {
                messages: vec![big],
            },
            Some(TOKEN),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(&b)["error"], "too_large");

    // Rate limit per token: 5 per minute, 3 used above (senders, senders ... ) → soon 429.
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(call(&app, get("/v1/senders", Some(TOKEN))).await.0);
    }
    assert!(codes.contains(&StatusCode::TOO_MANY_REQUESTS), "{codes:?}");
    p.engine.stop(Duration::from_secs(2)).await;
}

/// Regression: demo mode trusted the public demo token from anywhere and had no Host check
/// (a web page could reach it through DNS rebinding).
#[tokio::test]
async fn demo_mode_is_loopback_only_and_checks_host() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(Config::demo(), dir.path(), None);
    let remote = app(&p, REMOTE);
    let (s, _, _) = call(&remote, get("/v1/senders", None)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = call(&remote, get("/v1/senders", Some(DEMO_TOKEN))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the demo token opens nothing");
    let local = app(&p, LOOPBACK);
    for host in ["localhost:8080", "[::1]:8080", "127.0.0.1"] {
        let req = Request::get("/v1/senders")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        assert_eq!(call(&local, req).await.0, StatusCode::OK, "{host}");
    }
    // A rebinding page: loopback peer, foreign name; also for static files and /u/.
    for path in [
        "/v1/senders",
        "/v1/health",
        "/u/00000000000000000000000000000000",
        "/",
    ] {
        let req = Request::get(path)
            .header(header::HOST, "attacker.example:8080")
            .body(Body::empty())
            .unwrap();
        let (s, _, b) = call(&local, req).await;
        assert_eq!(s, StatusCode::MISDIRECTED_REQUEST, "{path}");
        assert_eq!(json(&b)["error"], "bad_host");
    }
    let no_host = Request::get("/v1/senders").body(Body::empty()).unwrap();
    assert_eq!(
        call(&local, no_host).await.0,
        StatusCode::MISDIRECTED_REQUEST
    );
    // Demo CORS: loopback origins only.
    let pre = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/messages")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .unwrap()
    };
    let (_, h, _) = call(&local, pre("http://127.0.0.1:8081")).await;
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://127.0.0.1:8081"
    );
    let (_, h, _) = call(&local, pre("http://localhost.evil.example")).await;
    assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    p.engine.stop(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn static_files_spa_fallback_and_wasm_mime() {
    let dir = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<html>praxisbote app</html>",
    )
    .unwrap();
    std::fs::write(dist.path().join("praxisbote_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.path().join("praxisbote.js"), "export default 1;").unwrap();
    let p = setup(Config::demo(), dir.path(), Some(dist.path()));
    let app = app(&p, LOOPBACK);
    let (s, _, b) = call(&app, get("/", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, b"<html>praxisbote app</html>");
    let (s, h, b) = call(&app, get("/praxisbote_bg.wasm", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(&b[..4], b"\0asm");
    let (_, h, _) = call(&app, get("/praxisbote.js", None)).await;
    assert!(h[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
    // Client-side route → index.html.
    let (s, h, b) = call(&app, get("/kampagnen/neu", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(b, b"<html>praxisbote app</html>");
    // The API is not shadowed by the SPA.
    let (s, _, b) = call(&app, get("/v1/health", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&b)["status"], "ok");
    let (s, _, _) = call(&app, get("/v1/unknown", None)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    p.engine.stop(Duration::from_secs(2)).await;
}

const TOKEN_B: &str = "zahnarzt-token-0123456789";

/// Two practices on one relay, with limits.
fn tenancy_config(extra_a: &str) -> Config {
    Config::parse(
        &format!(
            r#"
public_url = "https://relay.praxis.example"
sms_max_segments = 2
[[tokens]]
name = "praxis"
token = "{TOKEN}"
{extra_a}
[[tokens]]
name = "zahnarzt"
practice = "zahn"
token = "{TOKEN_B}"
[[smtp]]
name = "praxis-mail"
host = "127.0.0.1"
port = 9
tls = "none"
from = "info@praxis.example"
[[smtp]]
name = "zahn-mail"
practice = "zahn"
host = "127.0.0.1"
port = 9
tls = "none"
from = "info@zahn.example"
advertising = false
[[sms]]
name = "praxis-sms"
provider = "generic"
url = "http://127.0.0.1:9/send"
body_template = "{{}}"
"#
        ),
        &|_| None,
    )
    .unwrap()
}

fn submit(id: &str) -> SubmitRequest {
    SubmitRequest {
        messages: vec![email(id, Purpose::AppointmentReminder)],
    }
}

/// Regression: one relay could not serve several practices; every token saw every message,
/// opt-out and sender account, and idempotency keys were global.
#[tokio::test]
async fn each_token_sees_only_its_practice() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(tenancy_config(""), dir.path(), None);
    let app = app(&p, LOOPBACK);
    let (_, _, b) = call(&app, get("/v1/senders", Some(TOKEN))).await;
    let names: Vec<String> = serde_json::from_slice::<SendersResponse>(&b)
        .unwrap()
        .senders
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["praxis-mail", "praxis-sms"]);
    let (_, _, b) = call(&app, get("/v1/senders", Some(TOKEN_B))).await;
    let zahn: SendersResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(zahn.senders.len(), 1);
    assert_eq!(zahn.senders[0].name, "zahn-mail");
    assert!(zahn.senders[0].default);

    // The same client id from both tokens: two messages, each on its own account; no 422.
    let (s, _, b) = call(&app, post("/v1/messages", &submit("same-id"), Some(TOKEN))).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["messages"][0]["sender"], "praxis-mail");
    let mut other = submit("same-id");
    other.messages[0].text = "ganz anderer Text".into();
    let (s, _, b) = call(&app, post("/v1/messages", &other, Some(TOKEN_B))).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["messages"][0]["sender"], "zahn-mail");
    // Only its own message is visible to a token.
    let (s, _, b) = call(&app, post("/v1/messages", &submit("only-a"), Some(TOKEN))).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&b));
    let (_, _, b) = call(&app, get("/v1/messages?ids=only-a,same-id", Some(TOKEN_B))).await;
    let st: StatusResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(st.unknown, ["only-a"]);
    assert_eq!(st.messages[0].sender, "zahn-mail");
    // Another practice's account cannot be named.
    let mut foreign = submit("foreign");
    foreign.messages[0].sender = Some("praxis-mail".into());
    let (s, _, b) = call(&app, post("/v1/messages", &foreign, Some(TOKEN_B))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(json(&b)["message"]
        .as_str()
        .unwrap()
        .contains("nicht eingerichtet"));
    // An account without advertising refuses advertising.
    let ad = SubmitRequest {
        messages: vec![email("ad-1", Purpose::Invitation)],
    };
    let (s, _, b) = call(&app, post("/v1/messages", &ad, Some(TOKEN_B))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(json(&b)["message"].as_str().unwrap().contains("Werbung"));

    // Opt-outs: one practice's unsubscribe is not reported to the other.
    let (s, _, _) = call(&app, post("/v1/messages", &ad, Some(TOKEN))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let token: String = rusqlite::Connection::open(dir.path().join("queue.sqlite"))
        .unwrap()
        .query_row("SELECT token FROM unsubscribe", [], |r| r.get(0))
        .unwrap();
    let click = Request::post(format!("/u/{token}"))
        .header(header::HOST, HOST)
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    assert_eq!(call(&app, click).await.0, StatusCode::OK);
    let (_, _, b) = call(&app, get("/v1/optouts", Some(TOKEN))).await;
    assert_eq!(json(&b)["optouts"].as_array().unwrap().len(), 1);
    let (_, _, b) = call(&app, get("/v1/optouts", Some(TOKEN_B))).await;
    assert_eq!(json(&b)["optouts"].as_array().unwrap().len(), 0);
    p.engine.stop(Duration::from_secs(2)).await;
}

/// Abuse limits: SMS segment cap and country allowlist, daily quota, message-based rate
/// limit (a request of 1,000 messages is not one request's worth).
#[tokio::test]
async fn abuse_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(
        tenancy_config("daily_quota = 5\nmessages_per_minute = 4"),
        dir.path(),
        None,
    );
    let app = app(&p, LOOPBACK);
    let mut long = sms("long", "+4917112345678");
    long.text = "x".repeat(161 * 2);
    let cases = [
        (long, "3 Teile"),
        (
            sms("us", "+12025550123"),
            "nur in diese Länder (DE, AT, CH)",
        ),
        (sms("fr", "+33612345678"), "Länder"),
    ];
    for (m, needle) in cases {
        let (s, _, b) = call(
            &app,
            post(
                "/v1/messages",
                &SubmitRequest { messages: vec![m] },
                Some(TOKEN),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let msg = json(&b)["message"].as_str().unwrap().to_owned();
        assert!(msg.contains(needle), "{needle} not in {msg}");
    }
    for ok in ["+4917112345678", "+436641234567", "+41791234567"] {
        let (s, _, b) = call(
            &app,
            post(
                "/v1/messages",
                &SubmitRequest {
                    messages: vec![sms(&format!("ok{ok}"), ok)],
                },
                Some(TOKEN),
            ),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::ACCEPTED,
            "{ok}: {}",
            String::from_utf8_lossy(&b)
        );
    }
    // 3 messages in this minute so far: 2 more exceed 4 per minute.
    let two = SubmitRequest {
        messages: vec![
            email("r-1", Purpose::AppointmentReminder),
            email("r-2", Purpose::AppointmentReminder),
        ],
    };
    let (s, h, b) = call(&app, post("/v1/messages", &two, Some(TOKEN))).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json(&b)["error"], "rate_limited");
    assert!(h.contains_key(header::RETRY_AFTER));
    // The other practice's token has its own budget.
    let (s, _, _) = call(&app, post("/v1/messages", &two, Some(TOKEN_B))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    // Daily quota (5): counted in the queue, so it holds across restarts of the relay.
    p.engine.stop(Duration::from_secs(2)).await;
    drop(p.lock);
    let p = setup(tenancy_config("daily_quota = 5"), dir.path(), None);
    let app = self::app(&p, LOOPBACK);
    let (s, _, b) = call(&app, post("/v1/messages", &two, Some(TOKEN))).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&b));
    let (s, _, b) = call(&app, post("/v1/messages", &submit("r-3"), Some(TOKEN))).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json(&b)["error"], "quota_exceeded");
    assert!(json(&b)["message"].as_str().unwrap().contains("5 von 5"));
    // A replay still answers (it is not a new message).
    let (s, _, _) = call(&app, post("/v1/messages", &two, Some(TOKEN))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    p.engine.stop(Duration::from_secs(2)).await;
}

/// Regression: a replay after a config change (sender account renamed) was validated again
/// and refused, so the app could never learn the message's state.
#[tokio::test]
async fn replay_after_config_change_answers_from_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(tenancy_config(""), dir.path(), None);
    let app = app(&p, LOOPBACK);
    let mut m = submit("replay-1");
    m.messages[0].sender = Some("praxis-mail".into());
    let (s, _, _) = call(&app, post("/v1/messages", &m, Some(TOKEN))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    p.engine.stop(Duration::from_secs(2)).await;
    drop(p.lock);
    // The account is renamed and SMS lengths are tightened.
    let mut cfg = tenancy_config("");
    for a in &mut cfg.accounts {
        if a.name == "praxis-mail" {
            a.name = "neues-konto".into();
        }
    }
    let p = setup(cfg, dir.path(), None);
    let app = self::app(&p, LOOPBACK);
    let (s, _, b) = call(&app, post("/v1/messages", &m, Some(TOKEN))).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["messages"][0]["sender"], "praxis-mail");
    // A new message naming the old account is refused.
    let mut new = submit("replay-2");
    new.messages[0].sender = Some("praxis-mail".into());
    assert_eq!(
        call(&app, post("/v1/messages", &new, Some(TOKEN))).await.0,
        StatusCode::BAD_REQUEST
    );
    p.engine.stop(Duration::from_secs(2)).await;
}

/// The unsubscribe page cannot be framed and leaks nothing.
#[tokio::test]
async fn unsubscribe_page_sends_csp() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(Config::demo(), dir.path(), None);
    let app = app(&p, LOOPBACK);
    let (s, _, _) = call(
        &app,
        post(
            "/v1/messages",
            &SubmitRequest {
                messages: vec![email("u-1", Purpose::Invitation)],
            },
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let token: String = rusqlite::Connection::open(dir.path().join("queue.sqlite"))
        .unwrap()
        .query_row("SELECT token FROM unsubscribe", [], |r| r.get(0))
        .unwrap();
    for path in [format!("/u/{token}"), "/u/nonsense".to_owned()] {
        let (_, h, _) = call(&app, get(&path, None)).await;
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
    }
    p.engine.stop(Duration::from_secs(2)).await;
}

fn form_post(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// The two choices of the unsubscribe page: what the page offers, what it says afterwards,
/// what `GET /v1/optouts` reports and what the relay's safety net refuses later are the
/// same for "nur diese Art von Nachrichten" and "keine Werbung mehr per E-Mail".
#[tokio::test]
async fn unsubscribe_choices_record_what_the_page_says() {
    let dir = tempfile::tempdir().unwrap();
    let p = setup(Config::demo(), dir.path(), None);
    let app = app(&p, LOOPBACK);
    let to = |id: &str, rcpt: &str, person: &str, purpose: Purpose| {
        let mut m = email(id, purpose);
        m.recipient = rcpt.into();
        m.person_id = Some(PersonId(person.into()));
        m
    };
    let (s, _, _) = call(
        &app,
        post(
            "/v1/messages",
            &SubmitRequest {
                messages: vec![
                    to("a-1", "anna@example.org", "anna", Purpose::Invitation),
                    to("b-1", "bert@example.org", "bert", Purpose::Invitation),
                ],
            },
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let db = rusqlite::Connection::open(dir.path().join("queue.sqlite")).unwrap();
    let token = |rcpt: &str| -> String {
        db.query_row(
            "SELECT token FROM unsubscribe WHERE recipient=?1",
            [rcpt],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (anna, bert) = (
        format!("/u/{}", token("anna@example.org")),
        format!("/u/{}", token("bert@example.org")),
    );
    let only_this = "Sie erhalten keine Einladungen mehr per E-Mail.";
    let all = "Sie erhalten keine Geburtstagsgrüße, Einladungen, Erinnerungen an Vorsorge- und \
               Kontrolltermine und sonstige Werbung der Praxis (z. B. Newsletter) mehr per E-Mail.";
    let (s, _, b) = call(&app, get(&anna, None)).await;
    assert_eq!(s, StatusCode::OK);
    let page = String::from_utf8(b).unwrap();
    for expected in [
        "anna@example.org",
        "name=\"choice\" value=\"purpose\"",
        ">Nur diese Art von Nachrichten</button>",
        only_this,
        "name=\"choice\" value=\"all_advertising\"",
        ">Keine Werbung mehr per E-Mail</button>",
        all,
        "Davon nicht betroffen: Termin-Erinnerungen.",
    ] {
        assert!(page.contains(expected), "{expected:?} not in {page}");
    }

    // Anna: only this kind of message.
    let (s, _, b) = call(&app, form_post(&anna, "choice=purpose")).await;
    assert_eq!(s, StatusCode::OK);
    let done = String::from_utf8(b).unwrap();
    assert!(done.contains("Sie wurden abgemeldet."), "{done}");
    assert!(done.contains(only_this), "{done}");
    assert!(done.contains(
        "Davon nicht betroffen: Termin-Erinnerungen, Geburtstagsgrüße, Erinnerungen an \
         Vorsorge- und Kontrolltermine und sonstige Werbung der Praxis (z. B. Newsletter)."
    ));
    // Bert: no advertising any more on this channel.
    let (s, _, b) = call(&app, form_post(&bert, "choice=all_advertising")).await;
    assert_eq!(s, StatusCode::OK);
    let done = String::from_utf8(b).unwrap();
    assert!(done.contains(all), "{done}");
    assert!(done.contains("Davon nicht betroffen: Termin-Erinnerungen."));

    let (_, _, b) = call(&app, get("/v1/optouts?after=0", None)).await;
    let o: OptOutsResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(o.optouts.len(), 2);
    assert_eq!(o.optouts[0].person_id, PersonId("anna".into()));
    assert_eq!(o.optouts[0].choice, OptOutChoice::Purpose);
    assert_eq!(o.optouts[0].scope().purposes(), [Purpose::Invitation]);
    assert_eq!(o.optouts[1].person_id, PersonId("bert".into()));
    assert_eq!(o.optouts[1].choice, OptOutChoice::AllAdvertising);
    assert_eq!(
        o.optouts[1].scope().purposes(),
        [
            Purpose::Birthday,
            Purpose::Invitation,
            Purpose::Recall,
            Purpose::Other
        ]
    );

    // The safety net refuses exactly what each page said.
    let mut batch = Vec::new();
    for (i, purpose) in Purpose::ALL.into_iter().enumerate() {
        batch.push(to(
            &format!("a-{}", i + 2),
            "Anna@Example.org",
            "anna",
            purpose,
        ));
        batch.push(to(
            &format!("b-{}", i + 2),
            "bert@example.org",
            "bert",
            purpose,
        ));
    }
    let (s, _, b) = call(
        &app,
        post("/v1/messages", &SubmitRequest { messages: batch }, None),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let r: SubmitResponse = serde_json::from_slice(&b).unwrap();
    for (i, purpose) in Purpose::ALL.into_iter().enumerate() {
        let (a, b) = (&r.messages[2 * i], &r.messages[2 * i + 1]);
        let anna_refused = purpose == Purpose::Invitation;
        assert_eq!(a.state == DeliveryState::Failed, anna_refused, "{a:?}");
        assert_eq!(
            b.state == DeliveryState::Failed,
            purpose.is_advertising(),
            "{b:?}"
        );
        if anna_refused {
            assert!(a
                .reason
                .as_deref()
                .unwrap()
                .contains("von dieser Art Nachricht"));
        }
        if purpose.is_advertising() {
            assert!(b
                .reason
                .as_deref()
                .unwrap()
                .contains("von aller Werbung über diesen Kanal"));
        }
    }

    // Anna comes back through the same link and chooses more: a new opt-out the app
    // fetches with its cursor; the same choice again records nothing new.
    let seen = o.optouts[1].seq;
    let (s, _, _) = call(&app, form_post(&anna, "choice=all_advertising")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&app, form_post(&anna, "choice=all_advertising")).await;
    assert_eq!(s, StatusCode::OK);
    let (_, _, b) = call(&app, get(&format!("/v1/optouts?after={seen}"), None)).await;
    let o: OptOutsResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(o.optouts.len(), 1);
    assert_eq!(o.optouts[0].person_id, PersonId("anna".into()));
    assert_eq!(o.optouts[0].choice, OptOutChoice::AllAdvertising);
    p.engine.stop(Duration::from_secs(2)).await;
}
