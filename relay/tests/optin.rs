//! Double opt-in through the relay binary over real HTTP, into a real SMTP server
//! (aiosmtpd): the confirmation e-mail carries the link, GET only shows the page, POST
//! confirms, the app fetches the confirmation; an expired link records nothing.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use praxisbote_core::domain::{Channel, PersonId, Purpose};
use praxisbote_core::wire::*;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn request(id: &str, to: &str, expiry_days: u32) -> OutgoingMessage {
    OutgoingMessage {
        client_id: id.into(),
        channel: Channel::Email,
        purpose: Purpose::Birthday,
        recipient: to.into(),
        recipient_name: Some("Erika Müller".into()),
        subject: "Bestätigung Ihrer Einwilligung".into(),
        text: format!(
            "Bitte bestätigen Sie: {CONFIRMATION_LINK_MARKER}\nKein Abmeldelink: [{UNSUBSCRIBE_LINK_MARKER}]\n"
        ),
        html: Some(format!(
            "<p><a href=\"{CONFIRMATION_LINK_MARKER}\">Bestätigen</a></p>"
        )),
        attachments: Vec::new(),
        sender: None,
        person_id: Some(PersonId("p-7".into())),
        optin: Some(OptInRequest {
            purposes: vec![Purpose::Birthday, Purpose::Invitation],
            expiry_days,
        }),
    }
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

async fn confirmations(base: &str, after: u64) -> Vec<Confirmation> {
    let r = client()
        .get(format!("{base}/v1/confirmations?after={after}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<ConfirmationsResponse>()
        .await
        .unwrap()
        .confirmations
}

/// Undoes quoted-printable (soft line breaks and `=XX`), enough to read the bodies.
fn unqp(raw: &str) -> String {
    let s = raw.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The confirmation link of the one e-mail to `to` in the mailbox (waits for it), and the
/// mail with its bodies decoded.
async fn link_in_mail(mbox: &Path, to: &str) -> (String, String) {
    let t = std::time::Instant::now();
    loop {
        for f in maildir_files(mbox) {
            let raw = unqp(&std::fs::read_to_string(&f).unwrap());
            if raw.contains(&format!("X-RcptTo: {to}")) {
                let at = raw
                    .find("https://relay.praxis.example/b/")
                    .unwrap_or_else(|| panic!("no link: {raw}"));
                let link: String = raw[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || ":/._-".contains(*c))
                    .collect();
                return (link, raw);
            }
        }
        assert!(t.elapsed() < Duration::from_secs(20), "no mail to {to}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start(tmp: &Path) -> (Proc, Relay, std::path::PathBuf) {
    let mbox = tmp.join("mbox");
    let (smtp, port) = aiosmtpd_mailbox(&mbox);
    let cfg = tmp.join("relay.toml");
    write_private(&cfg, &smtp_config(port, ""));
    let data = tmp.join("data");
    let relay = Relay::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[("PRAXISBOTE_RELAY_CONFIG", cfg.to_str().unwrap())],
        &tmp.join("relay.log"),
    );
    (smtp, relay, mbox)
}

#[tokio::test]
async fn confirmation_link_get_shows_post_confirms_app_fetches() {
    let tmp = tempfile::tempdir().unwrap();
    let (_smtp, relay, mbox) = start(tmp.path());
    let base = relay.base.clone();
    let (code, body) = submit(
        &base,
        vec![request(
            "d01e0000-0000-4000-8000-000000000001",
            "erika@example.org",
            30,
        )],
    )
    .await;
    assert_eq!(code, 202, "{body}");
    let (link, raw) = link_in_mail(&mbox, "erika@example.org").await;
    // The marker is replaced in text and HTML; no unsubscribe link or header.
    assert!(!raw.contains(CONFIRMATION_LINK_MARKER), "{raw}");
    assert!(!raw.contains(UNSUBSCRIBE_LINK_MARKER), "{raw}");
    assert!(raw.contains("Kein Abmeldelink: []"), "{raw}");
    assert!(!raw.contains("List-Unsubscribe"), "{raw}");
    assert!(raw.contains(&format!("href=\"{link}\"")), "{raw}");
    let path = link.strip_prefix("https://relay.praxis.example").unwrap();

    // GET (a link scanner, or the recipient opening the page) confirms nothing.
    for _ in 0..2 {
        let r = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(page.contains("Einwilligung bestätigen"), "{page}");
        assert!(page.contains("erika@example.org"), "{page}");
        assert!(
            page.contains("Geburtstagsgrüße und Einladungen per E-Mail"),
            "{page}"
        );
        assert!(page.contains("<form method=\"post\">"), "{page}");
    }
    assert!(confirmations(&base, 0).await.is_empty());

    // The button POSTs: recorded once, however often it is pressed.
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    for _ in 0..2 {
        let r = client().post(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(page.contains("Einwilligung bestätigt"), "{page}");
    }
    let c = confirmations(&base, 0).await;
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].person_id, PersonId("p-7".into()));
    assert_eq!(c[0].channel, Channel::Email);
    assert_eq!(c[0].purposes, [Purpose::Birthday, Purpose::Invitation]);
    assert_eq!(c[0].recipient, "erika@example.org");
    assert!(c[0].at >= before && c[0].at <= chrono::Utc::now(), "{c:?}");
    assert!(c[0].requested_at <= c[0].at);
    // Incremental: nothing after the last seq; other practices' tokens see nothing.
    assert!(confirmations(&base, c[0].seq).await.is_empty());
    let r = client()
        .get(format!("{base}/v1/confirmations"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the list needs the token");
    // The page now says it is done.
    let page = client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Bereits bestätigt"), "{page}");
    // Unknown token: clear page, nothing recorded.
    let r = client()
        .post(format!("{base}/b/0123456789abcdef0123456789abcdef"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("ungültig"));
    assert_eq!(confirmations(&base, 0).await.len(), 1);
}

#[tokio::test]
async fn expired_link_records_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (_smtp, relay, mbox) = start(tmp.path());
    let base = relay.base.clone();
    let (code, body) = submit(
        &base,
        vec![request(
            "d01e0000-0000-4000-8000-000000000002",
            "bert@example.org",
            1,
        )],
    )
    .await;
    assert_eq!(code, 202, "{body}");
    let (link, _) = link_in_mail(&mbox, "bert@example.org").await;
    let token = link.rsplit('/').next().unwrap().to_owned();
    // The link was made valid for one day, from the request's expiry_days.
    let db = tmp.path().join("data").join("queue.sqlite");
    let c = rusqlite::Connection::open(&db).unwrap();
    let (created, expires): (i64, i64) = c
        .query_row(
            "SELECT created_at, expires_at FROM optin_links WHERE token=?1",
            [&token],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(expires - created, 86_400_000);
    // A day later (the clock moved on): the link has expired.
    c.execute(
        "UPDATE optin_links SET created_at=created_at-86400001, expires_at=expires_at-86400001",
        [],
    )
    .unwrap();
    for get in [true, false] {
        let url = format!("{base}/b/{token}");
        let r = if get {
            client().get(url).send().await.unwrap()
        } else {
            client().post(url).send().await.unwrap()
        };
        assert_eq!(r.status(), 410);
        let page = r.text().await.unwrap();
        assert!(page.contains("Link abgelaufen"), "{page}");
        assert!(page.contains("nicht</strong> gespeichert"), "{page}");
    }
    assert!(confirmations(&base, 0).await.is_empty());
}

#[tokio::test]
async fn bad_optin_requests_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (_smtp, relay, _mbox) = start(tmp.path());
    for (i, (m, what)) in [
        (
            {
                let mut m = request("x", "a@example.org", 0);
                m.client_id = "d01e0000-0000-4000-8000-00000000000a".into();
                m
            },
            "Tage",
        ),
        (
            {
                let mut m = request("d01e0000-0000-4000-8000-00000000000b", "a@example.org", 30);
                m.optin.as_mut().unwrap().purposes.clear();
                m
            },
            "Zweck",
        ),
        (
            {
                let mut m = request("d01e0000-0000-4000-8000-00000000000c", "a@example.org", 30);
                m.person_id = None;
                m
            },
            "Person",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (code, body) = submit(&relay.base, vec![m]).await;
        assert_eq!(code, 400, "{i}: {body}");
        assert!(body.contains(what), "{i}: {body}");
    }
}
