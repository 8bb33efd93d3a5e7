//! Delivery transports: SMTP (lettre, pooled), SendGrid, demo Maildir / SMS file.
//! SMS providers are in `sms.rs`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use base64::Engine;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use praxisbote_core::wire::OutgoingMessage;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::config::{Account, AccountDetail, SmtpTls};
use crate::email::{self, FromIdentity};
use crate::store::Outcome;

/// What a transport gets for one attempt.
pub struct Delivery<'a> {
    pub msg: &'a OutgoingMessage,
    /// The message's link: its unsubscribe URL (advertising) or its confirmation URL (double
    /// opt-in request); `email::bodies` puts it where it belongs.
    pub link_url: Option<&'a str>,
}

#[async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, d: &Delivery<'_>) -> Outcome;
}

/// Builds the transport for an account.
pub fn for_account(a: &Account, data_dir: &std::path::Path) -> Result<Box<dyn Transport>, String> {
    Ok(match &a.detail {
        AccountDetail::Smtp { .. } => Box::new(Smtp::new(a)?),
        AccountDetail::Sendgrid { .. } => Box::new(Sendgrid::new(a)?),
        AccountDetail::Sms { .. } => Box::new(crate::sms::SmsTransport::new(a)?),
        AccountDetail::DemoMaildir => Box::new(DemoMaildir::new(a, data_dir.join("maildir"))?),
        AccountDetail::DemoSmsFile => Box::new(DemoSmsFile {
            path: data_dir.join("sms.jsonl"),
            from: a.from.clone(),
            lock: tokio::sync::Mutex::new(()),
        }),
    })
}

// ---------------------------------------------------------------- SMTP

/// SMTP over our own small pool of lettre connections. Plain and STARTTLS sockets are opened
/// with TCP_NODELAY (lettre writes the body and the final `.` separately; with Nagle and the
/// server's delayed ACK that costs ~40 ms per message on loopback/LAN); implicit TLS uses
/// lettre's connector.
///
/// The envelope is sent command by command, so a failure is classified by where it
/// happened: before the body was handed over it is safe to retry (a stale pooled connection
/// failing at MAIL FROM is retried once right away on a fresh connection); a lost connection
/// or timeout while sending the body or waiting for the final answer is *ambiguous* (the
/// server may have queued the message) and is never retried as transient.
pub struct Smtp {
    pool: SmtpPool,
    id: FromIdentity,
}

enum Mode {
    Plain,
    Starttls(TlsParameters),
    Implicit(TlsParameters),
}

pub struct SmtpPool {
    host: String,
    port: u16,
    mode: Mode,
    credentials: Option<Credentials>,
    hello: ClientId,
    idle: std::sync::Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    max_idle: usize,
    timeout: Duration,
}

/// Where an SMTP attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Mail,
    Envelope,
    Body,
}

/// Pooled connections idle longer than this are closed instead of reused.
const SMTP_IDLE: Duration = Duration::from_secs(50);

/// Why one SMTP step failed.
enum Failure {
    Timeout,
    Smtp(lettre::transport::smtp::Error),
    /// Refused before anything was sent (e.g. the server lacks SMTPUTF8).
    Refused(String),
}

impl Failure {
    /// The server's reply code, if it answered.
    fn has_status(&self) -> bool {
        matches!(self, Failure::Smtp(e) if e.status().is_some())
    }
}

async fn step<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, f).await {
        Err(_) => Err(Failure::Timeout),
        Ok(r) => r.map_err(Failure::Smtp),
    }
}

impl SmtpPool {
    async fn connect(&self) -> Result<AsyncSmtpConnection, Outcome> {
        let net = |e: String| {
            Outcome::Transient(format!(
                "SMTP-Verbindung zu {}:{}: {e}",
                self.host, self.port
            ))
        };
        let tcp = match &self.mode {
            Mode::Implicit(_) => None,
            Mode::Plain | Mode::Starttls(_) => {
                let tcp = tokio::time::timeout(
                    self.timeout,
                    tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
                )
                .await
                .map_err(|_| net("Zeitüberschreitung".into()))?
                .map_err(|e| net(e.to_string()))?;
                let _ = tcp.set_nodelay(true);
                Some(tcp)
            }
        };
        let setup = async {
            let mut conn = match (&self.mode, tcp) {
                (Mode::Implicit(tls), _) => {
                    AsyncSmtpConnection::connect_tokio1(
                        (self.host.as_str(), self.port),
                        Some(self.timeout),
                        &self.hello,
                        Some(tls.clone()),
                        None,
                    )
                    .await?
                }
                (_, tcp) => {
                    let tcp = tcp.expect("connected above");
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?
                }
            };
            if let Mode::Starttls(tls) = &self.mode {
                // Refuses a server that does not offer STARTTLS: never plain text instead.
                conn.starttls(tls.clone(), &self.hello).await?;
            }
            if let Some(c) = &self.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], c).await?;
            }
            Ok::<_, lettre::transport::smtp::Error>(conn)
        };
        match tokio::time::timeout(self.timeout * 2, setup).await {
            Err(_) => Err(net("Zeitüberschreitung".into())),
            Ok(Err(e)) => Err(classify_smtp(&e)),
            Ok(Ok(c)) => Ok(c),
        }
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((c, at)) = idle.pop() {
            if at.elapsed() < SMTP_IDLE {
                return Some(c);
            }
        }
        None
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push((conn, Instant::now()));
        }
    }

    async fn attempt(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &lettre::address::Envelope,
        body: &[u8],
    ) -> Result<(), (Stage, Failure)> {
        let t = self.timeout;
        let mut opts = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err((
                    Stage::Mail,
                    Failure::Refused(
                        "Adresse mit Umlauten, aber der SMTP-Server kann kein SMTPUTF8".into(),
                    ),
                ));
            }
            opts.push(MailParameter::SmtpUtfEight);
        }
        if !body.is_ascii() {
            opts.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        step(t, conn.command(Mail::new(envelope.from().cloned(), opts)))
            .await
            .map_err(|e| (Stage::Mail, e))?;
        for to in envelope.to() {
            step(t, conn.command(Rcpt::new(to.clone(), vec![])))
                .await
                .map_err(|e| (Stage::Envelope, e))?;
        }
        step(t, conn.command(Data))
            .await
            .map_err(|e| (Stage::Envelope, e))?;
        // From here on the server may take the message.
        step(t, conn.message(body))
            .await
            .map_err(|e| (Stage::Body, e))?;
        Ok(())
    }

    async fn send(&self, m: &lettre::Message) -> Outcome {
        let envelope = m.envelope().clone();
        let body = m.formatted();
        let reused = self.take_idle();
        let was_reused = reused.is_some();
        let mut conn = match reused {
            Some(c) => c,
            None => match self.connect().await {
                Ok(c) => c,
                Err(o) => return o,
            },
        };
        let mut res = self.attempt(&mut conn, &envelope, &body).await;
        // A pooled connection the server closed meanwhile fails at MAIL FROM without an
        // SMTP answer; nothing was handed over, so try once more on a fresh connection.
        if was_reused && matches!(&res, Err((Stage::Mail, f)) if !f.has_status()) {
            conn = match self.connect().await {
                Ok(c) => c,
                Err(o) => return o,
            };
            res = self.attempt(&mut conn, &envelope, &body).await;
        }
        match res {
            Ok(()) => {
                self.put_back(conn);
                Outcome::Sent { provider_id: None }
            }
            Err((stage, f)) => {
                let answered = f.has_status();
                let outcome = match (stage, f) {
                    (_, Failure::Refused(r)) => Outcome::Permanent(r),
                    // A negative reply (also to the final dot): the server refused it.
                    (_, Failure::Smtp(e)) if e.status().is_some() => classify_smtp(&e),
                    (Stage::Body, Failure::Timeout) => Outcome::Ambiguous(
                        "SMTP-Server antwortet nach dem Nachrichtentext nicht (Zeitüberschreitung)"
                            .into(),
                    ),
                    (Stage::Body, Failure::Smtp(e)) => Outcome::Ambiguous(format!(
                        "Verbindung zum SMTP-Server nach dem Nachrichtentext abgebrochen: {e}"
                    )),
                    (_, Failure::Timeout) => Outcome::Transient(
                        "SMTP-Server antwortet nicht (Zeitüberschreitung)".into(),
                    ),
                    (_, Failure::Smtp(e)) => classify_smtp(&e),
                };
                if answered {
                    // The server answered; the connection stays usable after RSET.
                    if step(self.timeout, conn.command(Rset)).await.is_ok() {
                        self.put_back(conn);
                    }
                }
                outcome
            }
        }
    }
}

impl Smtp {
    pub fn new(a: &Account) -> Result<Smtp, String> {
        let AccountDetail::Smtp {
            host,
            port,
            tls,
            ca_file,
            timeout,
            user,
            password,
        } = &a.detail
        else {
            unreachable!()
        };
        let params = || -> Result<TlsParameters, String> {
            let mut b = TlsParameters::builder(host.clone());
            if let Some(ca) = ca_file {
                let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
                let cert =
                    Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", ca.display()))?;
                b = b.add_root_certificate(cert);
            }
            b.build().map_err(|e| format!("TLS für {host}: {e}"))
        };
        let credentials = match (user, password) {
            (Some(u), Some(p)) => Some(Credentials::new(u.clone(), p.expose_secret().to_owned())),
            _ => None,
        };
        let mode = match tls {
            SmtpTls::Implicit => Mode::Implicit(params()?),
            SmtpTls::Starttls => Mode::Starttls(params()?),
            SmtpTls::None => Mode::Plain,
        };
        Ok(Smtp {
            pool: SmtpPool {
                host: host.clone(),
                port: *port,
                mode,
                credentials,
                hello: ClientId::default(),
                idle: std::sync::Mutex::new(Vec::new()),
                max_idle: a.concurrency as usize,
                timeout: *timeout,
            },
            id: FromIdentity::new(&a.from, &a.from_name, a.reply_to.as_deref())?,
        })
    }
}

/// Classifies an SMTP error from before the body was handed over (or a negative final
/// reply): 4xx and network problems are transient, 5xx permanent.
pub fn classify_smtp(e: &lettre::transport::smtp::Error) -> Outcome {
    let text = e.to_string();
    if e.is_permanent() {
        Outcome::Permanent(format!("SMTP-Server lehnt ab: {text}"))
    } else if e.is_transient() {
        Outcome::Transient(format!("SMTP-Server vorübergehend: {text}"))
    } else if e.is_tls() || e.is_client() {
        // Configuration-level problems (no STARTTLS offered, untrusted certificate): retried,
        // the admin can fix them meanwhile; the message never goes out unencrypted.
        Outcome::Transient(format!("SMTP-Verbindung: {text}"))
    } else {
        Outcome::Transient(format!("SMTP-Netzwerkfehler: {text}"))
    }
}

#[async_trait]
impl Transport for Smtp {
    async fn send(&self, d: &Delivery<'_>) -> Outcome {
        let m = match email::build(d.msg, &self.id, d.link_url, SystemTime::now()) {
            Ok(m) => m,
            Err(e) => return Outcome::Permanent(e),
        };
        match self.pool.send(&m).await {
            Outcome::Sent { .. } => Outcome::Sent {
                provider_id: Some(email::message_id(&d.msg.client_id, &self.id.from)),
            },
            other => other,
        }
    }
}

// ---------------------------------------------------------------- HTTP helpers

/// Timeout of one provider request.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Classifies an HTTP status: 429 and 5xx are transient, other 4xx permanent.
pub fn classify_http(status: reqwest::StatusCode, provider: &str, body: &str) -> Outcome {
    let snippet: String = body.chars().take(300).collect();
    let reason = format!("{provider}: HTTP {} {}", status.as_u16(), snippet.trim());
    if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
        Outcome::Transient(reason)
    } else {
        Outcome::Permanent(reason)
    }
}

/// A request that got no answer. Only a failure to connect is safe to retry; once the
/// request went out, the provider may have read it (connection reset, timeout), so the
/// outcome is ambiguous. The reason never carries the URL (it may hold a key).
pub fn classify_reqwest(e: reqwest::Error, provider: &str) -> Outcome {
    let connect = e.is_connect();
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    let e = text;
    if connect {
        Outcome::Transient(format!("{provider}: keine Verbindung: {e}"))
    } else {
        Outcome::Ambiguous(format!(
            "{provider}: keine Antwort nach dem Senden der Anfrage: {e}"
        ))
    }
}

// ---------------------------------------------------------------- SendGrid

pub struct Sendgrid {
    client: reqwest::Client,
    url: String,
    api_key: SecretString,
    id: FromIdentity,
    from: String,
    from_name: String,
    reply_to: Option<String>,
}

impl Sendgrid {
    pub fn new(a: &Account) -> Result<Sendgrid, String> {
        let AccountDetail::Sendgrid { api_key, base_url } = &a.detail else {
            unreachable!()
        };
        Ok(Sendgrid {
            client: http_client(),
            url: format!("{base_url}/v3/mail/send"),
            api_key: api_key.clone(),
            id: FromIdentity::new(&a.from, &a.from_name, a.reply_to.as_deref())?,
            from: a.from.clone(),
            from_name: a.from_name.clone(),
            reply_to: a.reply_to.clone(),
        })
    }

    /// The v3 mail-send JSON body. Text and HTML are rendered like for SMTP
    /// ([`email::bodies`]), and the Message-ID is the same stable one.
    pub fn body(&self, d: &Delivery<'_>) -> serde_json::Value {
        let m = d.msg;
        let mut to = json!({ "email": m.recipient });
        if let Some(n) = m.recipient_name.as_ref().filter(|n| !n.is_empty()) {
            to["name"] = json!(n);
        }
        let (text, html) = email::bodies(m, d.link_url);
        let mut content = vec![json!({"type": "text/plain", "value": text})];
        if let Some(h) = html {
            content.push(json!({"type": "text/html", "value": h}));
        }
        let mut from = json!({ "email": self.from });
        if !self.from_name.is_empty() {
            from["name"] = json!(self.from_name);
        }
        let mut headers = json!({
            "Message-ID": email::message_id(&m.client_id, &self.id.from),
        });
        if let Some(url) = email::unsubscribe_link(m, d.link_url) {
            headers["List-Unsubscribe"] = json!(format!("<{url}>"));
            headers["List-Unsubscribe-Post"] = json!("List-Unsubscribe=One-Click");
        }
        let mut body = json!({
            "personalizations": [{ "to": [to], "custom_args": { "client_id": m.client_id } }],
            "from": from,
            "subject": m.subject,
            "content": content,
            "headers": headers,
        });
        if let Some(r) = &self.reply_to {
            body["reply_to"] = json!({ "email": r });
        }
        if !m.attachments.is_empty() {
            let list: Vec<_> = m
                .attachments
                .iter()
                .map(|a| {
                    json!({
                        "content": a.data_base64,
                        "filename": a.filename,
                        "type": a.content_type,
                        "disposition": "attachment",
                    })
                })
                .collect();
            body["attachments"] = json!(list);
        }
        body
    }
}

#[async_trait]
impl Transport for Sendgrid {
    async fn send(&self, d: &Delivery<'_>) -> Outcome {
        if d.msg.recipient.parse::<lettre::Address>().is_err() {
            return Outcome::Permanent(format!("Ungültige E-Mail-Adresse: {}", d.msg.recipient));
        }
        let res = self
            .client
            .post(&self.url)
            .bearer_auth(self.api_key.expose_secret())
            .json(&self.body(d))
            .send()
            .await;
        match res {
            Err(e) => classify_reqwest(e, "SendGrid"),
            Ok(r) if r.status().is_success() => Outcome::Sent {
                provider_id: r
                    .headers()
                    .get("x-message-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .or_else(|| Some(email::message_id(&d.msg.client_id, &self.id.from))),
            },
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                // Documented error body: {"errors":[{"message":..,"field":..}]}
                let msg = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| {
                        v["errors"].as_array().map(|a| {
                            a.iter()
                                .filter_map(|e| e["message"].as_str())
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                    })
                    .unwrap_or(text);
                classify_http(status, "SendGrid", &msg)
            }
        }
    }
}

// ---------------------------------------------------------------- demo

static DEMO_SEQ: AtomicU64 = AtomicU64::new(0);

pub struct DemoMaildir {
    dir: PathBuf,
    id: FromIdentity,
}

impl DemoMaildir {
    pub fn new(a: &Account, dir: PathBuf) -> Result<DemoMaildir, String> {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("Maildir {}: {e}", dir.display()))?;
        }
        Ok(DemoMaildir {
            dir,
            id: FromIdentity::new(&a.from, &a.from_name, a.reply_to.as_deref())?,
        })
    }
}

#[async_trait]
impl Transport for DemoMaildir {
    async fn send(&self, d: &Delivery<'_>) -> Outcome {
        let m = match email::build(d.msg, &self.id, d.link_url, SystemTime::now()) {
            Ok(m) => m,
            Err(e) => return Outcome::Permanent(e),
        };
        let safe: String = d
            .msg
            .client_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let name = format!(
            "{}.{}.{}.eml",
            chrono::Utc::now().timestamp_millis(),
            DEMO_SEQ.fetch_add(1, Ordering::Relaxed),
            safe
        );
        let tmp = self.dir.join("tmp").join(&name);
        let dst = self.dir.join("new").join(&name);
        let res = async {
            tokio::fs::write(&tmp, m.formatted()).await?;
            tokio::fs::rename(&tmp, &dst).await
        }
        .await;
        match res {
            Ok(()) => Outcome::Sent {
                provider_id: Some(email::message_id(&d.msg.client_id, &self.id.from)),
            },
            Err(e) => Outcome::Transient(format!("Maildir nicht beschreibbar: {e}")),
        }
    }
}

pub struct DemoSmsFile {
    path: PathBuf,
    from: String,
    lock: tokio::sync::Mutex<()>,
}

#[async_trait]
impl Transport for DemoSmsFile {
    async fn send(&self, d: &Delivery<'_>) -> Outcome {
        if let Err(e) = crate::sms::check_e164(&d.msg.recipient) {
            return Outcome::Permanent(e);
        }
        let line = json!({
            "at": chrono::Utc::now().to_rfc3339(),
            "client_id": d.msg.client_id,
            "from": self.from,
            "to": d.msg.recipient,
            "text": d.msg.text,
        })
        .to_string()
            + "\n";
        let _g = self.lock.lock().await;
        let res = async {
            let mut f = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .await?;
            f.write_all(line.as_bytes()).await?;
            f.flush().await
        }
        .await;
        match res {
            Ok(()) => Outcome::Sent {
                provider_id: Some(format!("demo-{}", d.msg.client_id)),
            },
            Err(e) => Outcome::Transient(format!("SMS-Datei nicht beschreibbar: {e}")),
        }
    }
}

/// Base64 helper used by SMS/SendGrid tests.
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}
