//! Delivery transports: SMTP (lettre, pooled), SendGrid, demo Maildir / SMS file.
//! SMS providers are in `sms.rs`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::Engine;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use praxisbote_core::wire::OutgoingMessage;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::config::{Account, AccountDetail, SmtpTls};
use crate::email::{self, FromIdentity};
use crate::store::Outcome;

/// What a transport gets for one attempt.
pub struct Delivery<'a> {
    pub msg: &'a OutgoingMessage,
    pub unsubscribe_url: Option<&'a str>,
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

pub struct Smtp {
    backend: SmtpBackend,
    id: FromIdentity,
}

enum SmtpBackend {
    /// lettre's pooled transport (implicit TLS).
    Lettre(AsyncSmtpTransport<Tokio1Executor>),
    /// Own pool of lettre connections on sockets with TCP_NODELAY (plain and STARTTLS).
    /// lettre writes the body and the final `.` separately; with Nagle's algorithm and the
    /// server's delayed ACK that costs ~40 ms per message on loopback/LAN.
    Own(NodelayPool),
}

pub struct NodelayPool {
    host: String,
    port: u16,
    starttls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
    idle: std::sync::Mutex<Vec<AsyncSmtpConnection>>,
    max_idle: usize,
}

const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

impl NodelayPool {
    async fn connect(&self) -> Result<AsyncSmtpConnection, Outcome> {
        let net = |e: String| {
            Outcome::Transient(format!(
                "SMTP-Verbindung zu {}:{}: {e}",
                self.host, self.port
            ))
        };
        let tcp = tokio::time::timeout(
            SMTP_TIMEOUT,
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| net("Zeitüberschreitung".into()))?
        .map_err(|e| net(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let setup = async {
            let mut conn =
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?;
            if let Some(tls) = &self.starttls {
                conn.starttls(tls.clone(), &self.hello).await?;
            }
            if let Some(c) = &self.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], c).await?;
            }
            Ok::<_, lettre::transport::smtp::Error>(conn)
        };
        match tokio::time::timeout(SMTP_TIMEOUT, setup).await {
            Err(_) => Err(net("Zeitüberschreitung".into())),
            Ok(Err(e)) => Err(classify_smtp(&e)),
            Ok(Ok(c)) => Ok(c),
        }
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    async fn attempt(
        &self,
        conn: &mut AsyncSmtpConnection,
        m: &lettre::Message,
    ) -> Result<(), Option<lettre::transport::smtp::Error>> {
        match tokio::time::timeout(SMTP_TIMEOUT, conn.send(m.envelope(), &m.formatted())).await {
            Err(_) => Err(None),
            Ok(Err(e)) => Err(Some(e)),
            Ok(Ok(_)) => Ok(()),
        }
    }

    async fn send(&self, m: &lettre::Message) -> Outcome {
        let reused = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let was_reused = reused.is_some();
        let mut conn = match reused {
            Some(c) => c,
            None => match self.connect().await {
                Ok(c) => c,
                Err(o) => return o,
            },
        };
        let mut res = self.attempt(&mut conn, m).await;
        // A pooled connection the server closed meanwhile fails without an SMTP answer:
        // try once more on a fresh connection.
        if was_reused && matches!(&res, Err(Some(e)) if e.status().is_none()) {
            conn = match self.connect().await {
                Ok(c) => c,
                Err(o) => return o,
            };
            res = self.attempt(&mut conn, m).await;
        }
        match res {
            Ok(()) => {
                self.put_back(conn);
                Outcome::Sent { provider_id: None }
            }
            Err(None) => {
                Outcome::Transient("SMTP-Server antwortet nicht (Zeitüberschreitung)".into())
            }
            Err(Some(e)) => classify_smtp(&e),
        }
    }
}

impl Smtp {
    pub fn new(a: &Account) -> Result<Smtp, String> {
        let AccountDetail::Smtp {
            host,
            port,
            tls,
            user,
            password,
        } = &a.detail
        else {
            unreachable!()
        };
        let params =
            || TlsParameters::new(host.clone()).map_err(|e| format!("TLS für {host}: {e}"));
        let credentials = match (user, password) {
            (Some(u), Some(p)) => Some(Credentials::new(u.clone(), p.clone())),
            _ => None,
        };
        let backend = match tls {
            SmtpTls::Implicit => {
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
                    .port(*port)
                    .tls(Tls::Wrapper(params()?))
                    .timeout(Some(Duration::from_secs(30)))
                    .pool_config(
                        PoolConfig::new()
                            .max_size(a.concurrency)
                            .idle_timeout(Duration::from_secs(60)),
                    );
                if let Some(c) = credentials {
                    b = b.credentials(c);
                }
                SmtpBackend::Lettre(b.build())
            }
            SmtpTls::Starttls | SmtpTls::None => SmtpBackend::Own(NodelayPool {
                host: host.clone(),
                port: *port,
                starttls: if *tls == SmtpTls::Starttls {
                    Some(params()?)
                } else {
                    None
                },
                credentials,
                hello: ClientId::default(),
                idle: std::sync::Mutex::new(Vec::new()),
                max_idle: a.concurrency as usize,
            }),
        };
        Ok(Smtp {
            backend,
            id: FromIdentity::new(&a.from, &a.from_name, a.reply_to.as_deref())?,
        })
    }
}

/// Classifies an SMTP error: 4xx and network problems are transient, 5xx permanent.
pub fn classify_smtp(e: &lettre::transport::smtp::Error) -> Outcome {
    let text = e.to_string();
    if e.is_permanent() {
        Outcome::Permanent(format!("SMTP-Server lehnt ab: {text}"))
    } else if e.is_transient() {
        Outcome::Transient(format!("SMTP-Server vorübergehend: {text}"))
    } else if e.is_tls() || e.is_client() {
        // Configuration-level problems: retried, the admin can fix them meanwhile.
        Outcome::Transient(format!("SMTP-Verbindung: {text}"))
    } else {
        Outcome::Transient(format!("SMTP-Netzwerkfehler: {text}"))
    }
}

#[async_trait]
impl Transport for Smtp {
    async fn send(&self, d: &Delivery<'_>) -> Outcome {
        let m = match email::build(d.msg, &self.id, d.unsubscribe_url, SystemTime::now()) {
            Ok(m) => m,
            Err(e) => return Outcome::Permanent(e),
        };
        let outcome = match &self.backend {
            SmtpBackend::Lettre(t) => match t.send(m).await {
                Ok(_) => Outcome::Sent { provider_id: None },
                Err(e) => classify_smtp(&e),
            },
            SmtpBackend::Own(p) => p.send(&m).await,
        };
        match outcome {
            Outcome::Sent { .. } => Outcome::Sent {
                provider_id: Some(email::message_id(&d.msg.client_id, &self.id.from)),
            },
            other => other,
        }
    }
}

// ---------------------------------------------------------------- HTTP helpers

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
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

pub fn classify_reqwest(e: &reqwest::Error, provider: &str) -> Outcome {
    // Network-level: the request may or may not have arrived; retry (at-least-once).
    Outcome::Transient(format!("{provider}: Netzwerkfehler: {e}"))
}

// ---------------------------------------------------------------- SendGrid

pub struct Sendgrid {
    client: reqwest::Client,
    url: String,
    api_key: String,
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
            from: a.from.clone(),
            from_name: a.from_name.clone(),
            reply_to: a.reply_to.clone(),
        })
    }

    /// The v3 mail-send JSON body.
    pub fn body(&self, d: &Delivery<'_>) -> serde_json::Value {
        let m = d.msg;
        let mut to = json!({ "email": m.recipient });
        if let Some(n) = m.recipient_name.as_ref().filter(|n| !n.is_empty()) {
            to["name"] = json!(n);
        }
        let mut content = vec![json!({"type": "text/plain", "value": m.text})];
        if let Some(h) = &m.html {
            content.push(json!({"type": "text/html", "value": h}));
        }
        let mut from = json!({ "email": self.from });
        if !self.from_name.is_empty() {
            from["name"] = json!(self.from_name);
        }
        let mut body = json!({
            "personalizations": [{ "to": [to], "custom_args": { "client_id": m.client_id } }],
            "from": from,
            "subject": m.subject,
            "content": content,
        });
        if let Some(r) = &self.reply_to {
            body["reply_to"] = json!({ "email": r });
        }
        if let Some(a) = &m.attachment {
            body["attachments"] = json!([{
                "content": a.data_base64,
                "filename": a.filename,
                "type": a.content_type,
                "disposition": "attachment",
            }]);
        }
        if let (Some(url), true) = (d.unsubscribe_url, m.purpose.is_advertising()) {
            body["headers"] = json!({
                "List-Unsubscribe": format!("<{url}>"),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            });
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
            .bearer_auth(&self.api_key)
            .json(&self.body(d))
            .send()
            .await;
        match res {
            Err(e) => classify_reqwest(&e, "SendGrid"),
            Ok(r) if r.status().is_success() => Outcome::Sent {
                provider_id: r
                    .headers()
                    .get("x-message-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
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
        let m = match email::build(d.msg, &self.id, d.unsubscribe_url, SystemTime::now()) {
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
