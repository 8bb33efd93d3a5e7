//! SMTP delivery through the relay binary into a real SMTP server (Debian python3-aiosmtpd),
//! checking the received bytes.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use praxisbote_core::domain::{Channel, PersonId, Purpose};
use praxisbote_core::wire::*;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn submit(base: &str, msgs: Vec<OutgoingMessage>) -> (u16, String) {
    let r = client()
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&SubmitRequest { messages: msgs })
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn statuses(base: &str, ids: &[String]) -> Vec<MessageStatus> {
    let r: StatusResponse = client()
        .get(format!("{base}/v1/messages?ids={}", ids.join(",")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r.messages
}

async fn wait_final(base: &str, ids: &[String], secs: u64) -> Vec<MessageStatus> {
    let t = std::time::Instant::now();
    loop {
        let s = statuses(base, ids).await;
        if s.len() == ids.len() && s.iter().all(|m| m.state.is_final()) {
            return s;
        }
        assert!(t.elapsed() < Duration::from_secs(secs), "not final: {s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

fn invitation(id: &str, to: &str) -> OutgoingMessage {
    OutgoingMessage {
        client_id: id.into(),
        channel: Channel::Email,
        purpose: Purpose::Invitation,
        recipient: to.into(),
        recipient_name: Some("Jürgen Öztürk".into()),
        subject: "Einladung: Rückenschule für Groß und Klein".into(),
        text: "Guten Tag Jürgen Öztürk,\r\nwir laden Sie herzlich ein.\r\n".into(),
        html: Some("<p>Guten Tag Jürgen Öztürk,<br>wir laden Sie herzlich ein.</p>".into()),
        attachments: vec![Attachment {
            filename: "Einladung.pdf".into(),
            content_type: "application/pdf".into(),
            data_base64: base64::engine::general_purpose::STANDARD.encode(PDF),
            file: None,
        }],
        sender: None,
        person_id: Some(PersonId("p-42".into())),
        optin: None,
    }
}

/// A header's value, unfolded.
fn header(head: &str, name: &str) -> Option<String> {
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

/// Minimal RFC 2047 decoder (utf-8, B encoding) for checking the Subject.
fn decode_2047(v: &str) -> String {
    let mut out = String::new();
    let mut prev_encoded = false;
    for (i, w) in v.split(' ').enumerate() {
        let enc = w
            .strip_prefix("=?utf-8?b?")
            .and_then(|w| w.strip_suffix("?="))
            .map(|inner| {
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(inner)
                        .unwrap(),
                )
                .unwrap()
            });
        if i > 0 && !(prev_encoded && enc.is_some()) {
            out.push(' ');
        }
        prev_encoded = enc.is_some();
        out.push_str(enc.as_deref().unwrap_or(w));
    }
    out
}

/// aiosmtpd writing into `{tmp}/mbox` and a relay (data in `{tmp}/data`) that sends to it;
/// `log` names the relay's log file (a restart gets a new one).
fn mailbox_relay(tmp: &std::path::Path, smtp_port: u16, log: &str) -> Relay {
    let cfg = tmp.join("relay.toml");
    write_private(&cfg, &smtp_config(smtp_port, ""));
    let data = tmp.join("data");
    Relay::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[("PRAXISBOTE_RELAY_CONFIG", cfg.to_str().unwrap())],
        &tmp.join(log),
    )
}

#[tokio::test]
async fn delivers_to_aiosmtpd_mailbox_with_correct_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("mbox");
    let (_smtp, port) = aiosmtpd_mailbox(&mbox);
    let relay = mailbox_relay(tmp.path(), port, "relay.log");
    assert!(relay.base.starts_with("http://127.0.0.1:"));
    let (code, body) = submit(
        &relay.base,
        vec![invitation(
            "c0ffee00-0000-4000-8000-000000000001",
            "juergen@example.org",
        )],
    )
    .await;
    assert_eq!(code, 202, "{body}");
    let st = wait_final(
        &relay.base,
        &["c0ffee00-0000-4000-8000-000000000001".into()],
        20,
    )
    .await;
    assert_eq!(st[0].state, DeliveryState::Sent, "{st:?}");
    assert_eq!(st[0].attempts, 1, "{st:?}");

    let files = maildir_files(&mbox);
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(&files[0])
        .unwrap()
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n");
    let head = raw.split("\r\n\r\n").next().unwrap();
    assert_eq!(
        header(head, "Message-ID").as_deref(),
        Some("<c0ffee00-0000-4000-8000-000000000001@praxis.example>")
    );
    assert_eq!(
        header(head, "X-RcptTo").as_deref(),
        Some("juergen@example.org")
    );
    assert_eq!(
        header(head, "X-MailFrom").as_deref(),
        Some("info@praxis.example")
    );
    let subject = header(head, "Subject").unwrap();
    assert!(
        subject.contains("=?utf-8?b?") && subject.is_ascii(),
        "RFC 2047: {subject}"
    );
    assert_eq!(
        decode_2047(&subject),
        "Einladung: Rückenschule für Groß und Klein"
    );
    assert!(header(head, "From")
        .unwrap()
        .ends_with("<info@praxis.example>"));
    assert!(header(head, "To")
        .unwrap()
        .ends_with("<juergen@example.org>"));
    assert_eq!(
        header(head, "Reply-To").as_deref(),
        Some("team@praxis.example")
    );
    assert!(header(head, "Date").is_some());
    assert!(header(head, "List-Unsubscribe")
        .unwrap()
        .starts_with("<https://relay.praxis.example/u/"));
    assert_eq!(
        header(head, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(header(head, "Content-Type")
        .unwrap()
        .starts_with("multipart/mixed"));
}

#[tokio::test]
async fn raw_bytes_permanent_and_transient_failures_and_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("raw");
    let (_smtp, port) = aiosmtpd_raw(&mbox);
    let cfg = tmp.path().join("relay.toml");
    write_private(&cfg, &smtp_config(port, ""));
    let data = tmp.path().join("data");
    let mut relay = Relay::start(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
        &tmp.path().join("relay.log"),
    );
    let ok_id = "11111111-0000-4000-8000-000000000001".to_string();
    let rej_id = "11111111-0000-4000-8000-000000000002".to_string();
    let busy_id = "11111111-0000-4000-8000-000000000003".to_string();
    let mut plain = invitation(&rej_id, "reject-me@example.org");
    plain.purpose = Purpose::AppointmentReminder;
    plain.html = None;
    plain.attachments.clear();
    let mut busy = plain.clone();
    busy.client_id = busy_id.clone();
    busy.recipient = "busy@example.org".into();
    let (code, body) = submit(
        &relay.base,
        vec![invitation(&ok_id, "juergen@example.org"), plain, busy],
    )
    .await;
    assert_eq!(code, 202, "{body}");
    let st = wait_final(
        &relay.base,
        &[ok_id.clone(), rej_id.clone(), busy_id.clone()],
        30,
    )
    .await;
    assert_eq!(st[0].state, DeliveryState::Sent);
    assert_eq!(st[1].state, DeliveryState::Failed, "{:?}", st[1]);
    let reason = st[1].reason.as_deref().unwrap();
    assert!(
        reason.contains("550") && reason.contains("User unknown"),
        "{reason}"
    );
    assert_eq!(st[1].attempts, 1, "permanent errors are not retried");
    assert_eq!(st[2].state, DeliveryState::Sent, "{:?}", st[2]);
    assert_eq!(st[2].attempts, 2, "451 is retried");

    let files = maildir_files(&mbox);
    assert_eq!(files.len(), 2);
    let raw = std::fs::read(
        files
            .iter()
            .find(|f| std::fs::read_to_string(f).unwrap().contains(&ok_id))
            .unwrap(),
    )
    .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    // Every line ends in CRLF, none is longer than 998 octets, only ASCII on the wire.
    assert!(raw.is_ascii());
    let bare: Vec<&str> = raw.split("\r\n").filter(|l| l.contains('\n')).collect();
    assert!(bare.is_empty(), "bare LF: {bare:?}");
    assert!(raw.split("\r\n").all(|l| l.len() <= 998));
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("\r\nMIME-Version: 1.0") || head.starts_with("MIME-Version: 1.0"));
    let subject = header(head, "Subject").unwrap();
    assert_eq!(
        decode_2047(&subject),
        "Einladung: Rückenschule für Groß und Klein"
    );
    // MIME structure: mixed( alternative( text/plain, text/html ), application/pdf ).
    let ct = header(head, "Content-Type").unwrap();
    let outer = ct
        .split("boundary=\"")
        .nth(1)
        .unwrap()
        .trim_end_matches('"');
    let parts: Vec<&str> = body.split(&format!("--{outer}")).collect();
    assert_eq!(parts.len(), 4, "preamble, 2 parts, epilogue");
    assert!(parts[3].starts_with("--"), "closing boundary");
    let alt = parts[1];
    assert!(alt
        .trim_start()
        .starts_with("Content-Type: multipart/alternative"));
    let inner = alt
        .split("boundary=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let alt_parts: Vec<&str> = alt.split(&format!("--{inner}")).collect();
    assert_eq!(alt_parts.len(), 4);
    assert!(alt_parts[1].contains("Content-Type: text/plain; charset=utf-8"));
    assert!(alt_parts[2].contains("Content-Type: text/html; charset=utf-8"));
    let pdf = parts[2];
    assert!(pdf.contains("Content-Type: application/pdf"));
    assert!(pdf.contains("Content-Disposition: attachment; filename=\"Einladung.pdf\""));
    assert!(pdf.contains("Content-Transfer-Encoding: base64"));
    let b64: String = pdf
        .split_once("\r\n\r\n")
        .unwrap()
        .1
        .split("\r\n")
        .collect();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .unwrap(),
        PDF
    );

    // Graceful shutdown on SIGTERM: exit code 0.
    let pid = relay.proc.0.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let t = std::time::Instant::now();
    loop {
        if let Some(status) = relay.proc.0.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "no graceful shutdown"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = &mut relay;
}

#[test]
fn bad_config_exits_with_key_in_error() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bad.toml");
    write_private(
        &cfg,
        &smtp_config(25, "").replace("host = \"127.0.0.1\"", "host = \"smtp.example.org\""),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_praxisbote-relay"))
        .args(["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(tmp.path().join("d"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("smtp[0].tls")
            && err.contains("Konfigurationsfehler")
            && err.contains("Configuration error"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "must not claim to listen");
}

/// TLS negatives: with `tls = "starttls"` a server that offers no STARTTLS and one with a
/// self-signed certificate never get the message (it ends `failed` with the reason, nothing
/// arrives); a server whose certificate comes from the practice's own CA is trusted once that
/// CA is configured (`ca_file`), and not without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_refuses_plain_and_untrusted_servers_and_trusts_a_practice_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (cert, key, ca) = practice_ca(d);
    let (ss_cert, ss_key) = self_signed(d);
    let (_plain, plain_port) = aiosmtpd_raw(&d.join("plain"));
    let (_ss, ss_port) = aiosmtpd_starttls(&d.join("selfsigned"), &ss_cert, &ss_key);
    let (_ca_srv, ca_port) = aiosmtpd_starttls(&d.join("praxis-ca"), &cert, &key);
    let (_ca_srv2, ca_port2) = aiosmtpd_starttls(&d.join("no-ca-file"), &cert, &key);
    let account = |name: &str, port: u16, extra: &str| {
        format!(
            "[[smtp]]\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"starttls\"\nfrom = \"info@praxis.example\"\n{extra}\n"
        )
    };
    let cfg = format!(
        "retry_base_seconds = 1\nretry_max_seconds = 1\nmax_attempts = 2\npublic_url = \"https://relay.praxis.example\"\n\
         [[tokens]]\nname = \"test\"\ntoken = \"{TOKEN}\"\n{}{}{}{}",
        account("plain", plain_port, ""),
        account("selfsigned", ss_port, ""),
        account("praxis-ca", ca_port, &format!("ca_file = \"{}\"", ca.display())),
        account("no-ca-file", ca_port2, ""),
    );
    let cfg_path = d.join("relay.toml");
    write_private(&cfg_path, &cfg);
    let data = d.join("data");
    let relay = Relay::start(
        &[
            "--config",
            cfg_path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
        &d.join("relay.log"),
    );
    let names = ["plain", "selfsigned", "praxis-ca", "no-ca-file"];
    let msgs: Vec<OutgoingMessage> = names
        .iter()
        .map(|n| {
            let mut m = invitation(&format!("tls-{n}"), "juergen@example.org");
            m.purpose = Purpose::AppointmentReminder;
            m.sender = Some((*n).into());
            m
        })
        .collect();
    let (code, body) = submit(&relay.base, msgs).await;
    assert_eq!(code, 202, "{body}");
    let ids: Vec<String> = names.iter().map(|n| format!("tls-{n}")).collect();
    let st = wait_final(&relay.base, &ids, 30).await;
    let reason = |i: usize| st[i].reason.clone().unwrap_or_default();
    assert_eq!(st[0].state, DeliveryState::Failed, "{:?}", st[0]);
    assert!(reason(0).contains("STARTTLS"), "{}", reason(0));
    assert_eq!(st[1].state, DeliveryState::Failed, "{:?}", st[1]);
    assert!(
        reason(1).to_lowercase().contains("certificate"),
        "{}",
        reason(1)
    );
    assert_eq!(st[2].state, DeliveryState::Sent, "{:?}", st[2]);
    assert_eq!(st[3].state, DeliveryState::Failed, "{:?}", st[3]);
    for (dir, n) in [
        ("plain", 0),
        ("selfsigned", 0),
        ("praxis-ca", 1),
        ("no-ca-file", 0),
    ] {
        assert_eq!(maildir_files(&d.join(dir)).len(), n, "{dir}");
    }
}

/// The content of the MIME part with `filename="{name}"` (base64 body), decoded.
fn attachment_part(raw: &str, name: &str) -> Option<Vec<u8>> {
    let at = raw.find(&format!("filename=\"{name}\""))?;
    let body = &raw[at..];
    let start = body.find("\r\n\r\n")? + 4;
    let end = body[start..].find("\r\n--")? + start;
    let b64: String = body[start..end].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// A file uploaded once (`PUT /v1/files/{sha256}`) is attached to every e-mail that refers to
/// it, next to an inline attachment; it is stored once, survives a restart, and a message
/// referring to a file the relay does not have is refused.
#[tokio::test]
async fn an_uploaded_file_goes_with_every_email_that_refers_to_it() {
    use sha2::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("mbox");
    let (_smtp, port) = aiosmtpd_mailbox(&mbox);
    let mut relay = mailbox_relay(tmp.path(), port, "relay.log");

    // 300 KB that are not text: the bytes must arrive exactly.
    let file: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let sha = hex::encode(sha2::Sha256::digest(&file));
    let url = |base: &str, sha: &str| format!("{base}/v1/files/{sha}");
    let put = |base: String, sha: String, body: Vec<u8>| async move {
        client()
            .put(url(&base, &sha))
            .bearer_auth(TOKEN)
            .body(body)
            .send()
            .await
            .unwrap()
    };
    let get = client().get(url(&relay.base, &sha)).bearer_auth(TOKEN);
    assert_eq!(get.send().await.unwrap().status().as_u16(), 404);
    let wrong = put(relay.base.clone(), "0".repeat(64), file.clone()).await;
    assert_eq!(wrong.status().as_u16(), 400);
    assert!(wrong.text().await.unwrap().contains("file_hash_mismatch"));
    let unauth = client().put(url(&relay.base, &sha)).body(file.clone());
    assert_eq!(unauth.send().await.unwrap().status().as_u16(), 401);

    let refer = |id: &str, to: &str| {
        let mut m = invitation(id, to);
        m.attachments.push(Attachment {
            filename: "Praxisinfo.png".into(),
            content_type: "image/png".into(),
            data_base64: String::new(),
            file: Some(sha.clone()),
        });
        m
    };
    // Not uploaded yet: refused, naming the message and the file.
    let (code, body) = submit(
        &relay.base,
        vec![refer(
            "f11e0000-0000-4000-8000-000000000000",
            "a@example.org",
        )],
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body.contains("missing_file") && body.contains("Praxisinfo.png"),
        "{body}"
    );
    assert!(
        body.contains("f11e0000-0000-4000-8000-000000000000"),
        "{body}"
    );

    let first = put(relay.base.clone(), sha.clone(), file.clone()).await;
    assert_eq!(first.status().as_u16(), 201);
    let info: FileInfo = first.json().await.unwrap();
    assert_eq!((info.sha256.as_str(), info.size), (sha.as_str(), 300_000));
    let again = put(relay.base.clone(), sha.clone(), file.clone()).await;
    assert_eq!(again.status().as_u16(), 200, "idempotent");

    // A restart keeps the file.
    relay.terminate(10);
    let relay = mailbox_relay(tmp.path(), port, "relay2.log");
    let again = client().get(url(&relay.base, &sha)).bearer_auth(TOKEN);
    let info: FileInfo = again.send().await.unwrap().json().await.unwrap();
    assert_eq!(info.size, 300_000);

    let ids: Vec<String> = (1..=3)
        .map(|i| format!("f11e0000-0000-4000-8000-00000000000{i}"))
        .collect();
    let msgs = ids
        .iter()
        .enumerate()
        .map(|(i, id)| refer(id, &format!("p{i}@example.org")))
        .collect();
    let (code, body) = submit(&relay.base, msgs).await;
    assert_eq!(code, 202, "{body}");
    let st = wait_final(&relay.base, &ids, 20).await;
    assert!(st.iter().all(|s| s.state == DeliveryState::Sent), "{st:?}");

    let mails = maildir_files(&mbox);
    assert_eq!(mails.len(), 3);
    for f in mails {
        let raw = std::fs::read_to_string(&f)
            .unwrap()
            .replace('\n', "\r\n")
            .replace("\r\r\n", "\r\n");
        assert_eq!(
            attachment_part(&raw, "Praxisinfo.png").as_deref(),
            Some(&file[..])
        );
        assert_eq!(attachment_part(&raw, "Einladung.pdf").as_deref(), Some(PDF));
    }
    // Held once: the stored bodies refer to the file, they do not contain it.
    let db = rusqlite::Connection::open(tmp.path().join("data").join("queue.sqlite")).unwrap();
    let (files, longest): (i64, i64) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM files), (SELECT MAX(length(payload)) FROM messages)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(files, 1);
    assert!(longest < 5_000, "{longest}");
}
