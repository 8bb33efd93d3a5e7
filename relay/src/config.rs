//! The TOML configuration: parsing, secret resolution and validation.
//!
//! Every error names the offending key and is given in German and English. Secrets are held
//! as [`SecretString`], so `{:?}` of a config never prints them.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use praxisbote_core::domain::Channel;
use praxisbote_core::wire::SenderKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// A configuration error naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub de: String,
    pub en: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, de: impl Into<String>, en: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            de: de.into(),
            en: en.into(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Konfigurationsfehler bei `{}`: {}\nConfiguration error at `{}`: {}",
            self.key, self.de, self.key, self.en
        )
    }
}

impl std::error::Error for ConfigError {}

// ---------------------------------------------------------------- file format

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// Base URL under which browsers/mail clients reach the relay (for unsubscribe links).
    pub public_url: Option<String>,
    /// Plain HTTP on a non-loopback address is allowed only behind a TLS-terminating proxy.
    #[serde(default)]
    pub behind_tls_proxy: bool,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: Option<usize>,
    /// Request bodies held in memory at once (further requests wait).
    pub body_memory_bytes: Option<usize>,
    pub retention_days: Option<u32>,
    pub message_retention_days: Option<u32>,
    pub optout_retention_days: Option<u32>,
    pub requests_per_minute: Option<u32>,
    pub messages_per_minute: Option<u32>,
    pub daily_quota: Option<u32>,
    pub sms_max_segments: Option<u32>,
    pub sms_countries: Option<Vec<String>>,
    pub max_attempts: Option<u32>,
    pub retry_base_seconds: Option<u64>,
    pub retry_max_seconds: Option<u64>,
    #[serde(default)]
    pub retry_ambiguous: bool,
    /// Demo mode (training installs): Maildir + sms.jsonl, loopback only.
    #[serde(default)]
    pub demo: bool,
    pub tls: Option<TlsFile>,
    #[serde(default)]
    pub tokens: Vec<TokenFile>,
    #[serde(default)]
    pub smtp: Vec<SmtpFile>,
    #[serde(default)]
    pub sendgrid: Vec<SendgridFile>,
    #[serde(default)]
    pub sms: Vec<SmsFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFile {
    pub name: String,
    pub practice: Option<String>,
    pub token: Option<String>,
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
    pub daily_quota: Option<u32>,
    pub messages_per_minute: Option<u32>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    Implicit,
    Starttls,
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    pub name: String,
    pub practice: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub tls: SmtpTls,
    /// PEM file with an extra CA (e.g. the practice's own CA) trusted for this server.
    pub ca_file: Option<PathBuf>,
    pub timeout_seconds: Option<u64>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub from: String,
    #[serde(default)]
    pub from_name: String,
    pub reply_to: Option<String>,
    pub pool_size: Option<u32>,
    pub rate_per_second: Option<f64>,
    pub advertising: Option<bool>,
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendgridFile {
    pub name: String,
    pub practice: Option<String>,
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key_file: Option<PathBuf>,
    #[serde(default)]
    pub eu: bool,
    /// Override of the API host (a proxy or a test server); only from config.
    pub base_url: Option<String>,
    pub from: String,
    #[serde(default)]
    pub from_name: String,
    pub reply_to: Option<String>,
    pub concurrency: Option<u32>,
    pub rate_per_second: Option<f64>,
    pub advertising: Option<bool>,
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmsProvider {
    Twilio,
    Seven,
    Sipgate,
    Websms,
    Generic,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsFile {
    pub name: String,
    pub practice: Option<String>,
    pub provider: SmsProvider,
    /// Sender id (≤ 11 alphanumeric or ≤ 16 digits).
    #[serde(default)]
    pub from: String,
    /// Twilio account SID, sipgate token id.
    pub account: Option<String>,
    /// Twilio messaging service SID (instead of `from`).
    pub messaging_service_sid: Option<String>,
    /// sipgate SMS extension id (`s0`).
    pub sms_id: Option<String>,
    pub token: Option<String>,
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
    /// Override of the API host (a proxy or a test server); only from config.
    pub base_url: Option<String>,
    /// Generic provider: full URL, method, headers, body template.
    pub url: Option<String>,
    pub method: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body_template: Option<String>,
    pub content_type: Option<String>,
    pub concurrency: Option<u32>,
    pub rate_per_second: Option<f64>,
    #[serde(default)]
    pub default: bool,
}

// ---------------------------------------------------------------- resolved config

/// The practice of tokens and accounts that name none.
pub const DEFAULT_PRACTICE: &str = "standard";

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub public_url: Option<String>,
    pub behind_tls_proxy: bool,
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub body_memory_bytes: usize,
    /// Days after its final state until a message's rendered body is deleted.
    pub retention_days: u32,
    /// Days after its last change until a message row (status, reason, idempotency key) is
    /// deleted.
    pub message_retention_days: u32,
    /// Days until an unsubscribe link stops working and a recorded opt-out is deleted.
    pub optout_retention_days: u32,
    pub requests_per_minute: u32,
    pub max_attempts: u32,
    pub retry_base_seconds: u64,
    pub retry_max_seconds: u64,
    /// One more attempt after an ambiguous one (the recipient may then get it twice).
    pub retry_ambiguous: bool,
    pub sms_max_segments: u32,
    /// Allowed SMS destinations: (ISO code, calling code).
    pub sms_countries: Vec<(String, u16)>,
    pub demo: bool,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub tokens: Vec<Token>,
    pub accounts: Vec<Account>,
    /// The config text itself holds a secret (then the file must be private).
    pub inline_secrets: bool,
}

/// An API token (only its digest is kept).
#[derive(Debug, Clone)]
pub struct Token {
    /// Scope of idempotency keys and message visibility; keep the name when rotating.
    pub name: String,
    pub practice: String,
    pub digest: [u8; 32],
    pub daily_quota: u32,
    pub messages_per_minute: u32,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub practice: String,
    pub kind: SenderKind,
    pub channel: Channel,
    pub from: String,
    pub from_name: String,
    pub reply_to: Option<String>,
    pub default: bool,
    pub concurrency: u32,
    pub rate_per_second: Option<f64>,
    /// May send advertising (birthday, invitation, recall): needs working unsubscribe links.
    pub advertising: bool,
    pub detail: AccountDetail,
}

#[derive(Debug, Clone)]
pub enum AccountDetail {
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        ca_file: Option<PathBuf>,
        timeout: Duration,
        user: Option<String>,
        password: Option<SecretString>,
    },
    Sendgrid {
        api_key: SecretString,
        base_url: String,
    },
    Sms {
        provider: SmsProvider,
        account: Option<String>,
        messaging_service_sid: Option<String>,
        sms_id: Option<String>,
        token: Option<SecretString>,
        base_url: String,
        /// Generic provider URL (may carry a key in its query).
        url: Option<SecretString>,
        method: String,
        headers: Vec<(String, SecretString)>,
        body_template: Option<String>,
        content_type: String,
    },
    DemoMaildir,
    DemoSmsFile,
}

pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(60);
/// The app re-sends a message the relay reports as unknown; rows must outlive the time an
/// app can stay closed with unconfirmed messages.
pub const MIN_MESSAGE_RETENTION_DAYS: u32 = 30;

/// Calling codes of the ISO codes accepted in `sms_countries` (prefix-free by E.164).
pub fn calling_code(iso: &str) -> Option<u16> {
    use praxisbote_core::domain::phone::COUNTRIES;
    if iso == "DE" {
        return Some(49);
    }
    COUNTRIES.iter().find(|c| c.iso == iso).map(|c| c.code)
}

impl Config {
    /// Demo mode: nothing configured, e-mails to a Maildir, SMS to a JSON-lines file.
    pub fn demo() -> Config {
        Config {
            listen: None,
            data_dir: None,
            public_url: None,
            behind_tls_proxy: false,
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY,
            body_memory_bytes: 2 * DEFAULT_MAX_BODY,
            retention_days: 7,
            message_retention_days: 90,
            optout_retention_days: 365,
            requests_per_minute: 6000,
            max_attempts: 8,
            retry_base_seconds: 30,
            retry_max_seconds: 3600,
            retry_ambiguous: false,
            sms_max_segments: 3,
            sms_countries: default_countries(),
            demo: true,
            tls: None,
            tokens: Vec::new(),
            accounts: demo_accounts(),
            inline_secrets: false,
        }
    }

    /// Loads and validates a config file. A file that holds a secret itself (`token = …`,
    /// `password = …`) must not be readable by group or others.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                path.display().to_string(),
                format!("Datei kann nicht gelesen werden: {e}"),
                format!("cannot read file: {e}"),
            )
        })?;
        let cfg = Config::parse(&text, &|name| std::env::var(name).ok())?;
        if cfg.inline_secrets {
            check_private(&path.display().to_string(), path)?;
        }
        Ok(cfg)
    }

    /// Parses and validates config text; `env` resolves `*_env` secrets.
    pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_owned();
            let key = unknown_key(&msg).unwrap_or_else(|| "(Datei/file)".to_owned());
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .map(|l| format!(" (Zeile/line {l})"))
                .unwrap_or_default();
            ConfigError::new(
                key,
                format!("ungültiges TOML{line}: {msg}"),
                format!("invalid TOML{line}: {msg}"),
            )
        })?;
        validate(file, env)
    }

    /// Checks the address the relay will listen on (from the config or `--listen`):
    /// demo mode only on loopback; plain HTTP on another address only behind a TLS proxy.
    pub fn check_listen(&self, listen: SocketAddr) -> Result<(), ConfigError> {
        let loopback = listen.ip().is_loopback();
        if self.demo && !loopback {
            return Err(ConfigError::new(
                "listen",
                format!("Demo-Modus nur auf 127.0.0.1 oder [::1], nicht auf {listen}: im Demo-Modus gibt es keine Zugangsprüfung"),
                format!("demo mode only on 127.0.0.1 or [::1], not on {listen}: demo mode has no access control"),
            ));
        }
        if !loopback && self.tls.is_none() && !self.behind_tls_proxy {
            return Err(ConfigError::new(
                "listen",
                format!("{listen} ist aus dem Netz erreichbar, aber ohne [tls]: API-Token und Patientendaten gingen unverschlüsselt durchs Netz. [tls] einrichten oder, nur hinter einem TLS-Proxy, behind_tls_proxy = true setzen"),
                format!("{listen} is reachable from the network but has no [tls]: tokens and patient data would cross the network unencrypted. Configure [tls] or, only behind a TLS proxy, set behind_tls_proxy = true"),
            ));
        }
        if !self.demo && self.public_url.is_none() && self.accounts.iter().any(|a| a.advertising) {
            // Checked in `validate` already; kept here for configs built in code.
            return Err(advertising_needs_public_url());
        }
        Ok(())
    }

    /// The accounts a practice may use.
    pub fn accounts_of<'a>(&'a self, practice: &'a str) -> impl Iterator<Item = &'a Account> {
        self.accounts.iter().filter(move |a| a.practice == practice)
    }

    /// Human-readable summary for `--check-config` (no secrets).
    pub fn summary(&self, listen: SocketAddr) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let _ = writeln!(s, "Adresse / listen:        {scheme}://{listen}");
        if self.behind_tls_proxy {
            let _ = writeln!(s, "hinter TLS-Proxy / behind TLS proxy: ja/yes");
        }
        if self.demo {
            let _ = writeln!(
                s,
                "Modus / mode:            Demo (E-Mails nach maildir/, SMS nach sms.jsonl)"
            );
        }
        if let Some(u) = &self.public_url {
            let _ = writeln!(s, "public_url:              {u}");
        }
        let _ = writeln!(
            s,
            "Aufbewahrung / retention: Texte {} Tage, Nachrichten {} Tage, Abmeldungen {} Tage",
            self.retention_days, self.message_retention_days, self.optout_retention_days
        );
        let _ = writeln!(
            s,
            "SMS: höchstens {} Teile, Länder {}",
            self.sms_max_segments,
            self.sms_countries
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for t in &self.tokens {
            let _ = writeln!(
                s,
                "Token „{}“ (Praxis {}): {} Nachrichten/Tag, {} Nachrichten/Minute",
                t.name, t.practice, t.daily_quota, t.messages_per_minute
            );
        }
        for a in &self.accounts {
            let target = match &a.detail {
                AccountDetail::Smtp {
                    host, port, tls, ..
                } => {
                    format!("SMTP {host}:{port} ({tls:?})")
                }
                AccountDetail::Sendgrid { base_url, .. } => format!("SendGrid {base_url}"),
                AccountDetail::Sms {
                    provider, base_url, ..
                } => {
                    format!("SMS {provider:?} {base_url}")
                }
                AccountDetail::DemoMaildir => "Demo-Maildir".into(),
                AccountDetail::DemoSmsFile => "Demo-SMS-Datei".into(),
            };
            let _ = writeln!(
                s,
                "Konto „{}“ (Praxis {}{}{}): {target}, Absender {}, {} parallel",
                a.name,
                a.practice,
                if a.default { ", Standard" } else { "" },
                if a.advertising { ", Werbung" } else { "" },
                a.from,
                a.concurrency
            );
        }
        s
    }
}

fn advertising_needs_public_url() -> ConfigError {
    ConfigError::new(
        "public_url",
        "ein Konto darf Werbung senden (Geburtstag, Einladung, Vorsorge): die Abmeldelinks brauchen public_url = \"https://…\" (vom Internet erreichbar); sonst advertising = false am Konto setzen",
        "an account may send advertising (birthday, invitation, recall): the unsubscribe links need public_url = \"https://…\" (reachable from the internet); otherwise set advertising = false on the account",
    )
}

fn default_countries() -> Vec<(String, u16)> {
    ["DE", "AT", "CH"]
        .iter()
        .map(|c| ((*c).to_owned(), calling_code(c).expect("known")))
        .collect()
}

fn unknown_key(msg: &str) -> Option<String> {
    let rest = msg.split("unknown field `").nth(1)?;
    Some(rest.split('`').next()?.to_owned())
}

pub fn demo_accounts() -> Vec<Account> {
    vec![
        Account {
            name: "demo-mail".into(),
            practice: DEFAULT_PRACTICE.into(),
            kind: SenderKind::DemoMaildir,
            channel: Channel::Email,
            from: "praxis@demo.invalid".into(),
            from_name: "Praxis (Demo)".into(),
            reply_to: None,
            default: true,
            concurrency: 2,
            rate_per_second: None,
            advertising: true,
            detail: AccountDetail::DemoMaildir,
        },
        Account {
            name: "demo-sms".into(),
            practice: DEFAULT_PRACTICE.into(),
            kind: SenderKind::DemoSmsFile,
            channel: Channel::Sms,
            from: "Praxis".into(),
            from_name: String::new(),
            reply_to: None,
            default: true,
            concurrency: 1,
            rate_per_second: None,
            advertising: true,
            detail: AccountDetail::DemoSmsFile,
        },
    ]
}

/// Refuses a secret file that group or others may read (Unix); on Windows the ACL of the
/// data and config directories is the admin's job (docs/relay.md).
pub fn check_private(key: &str, path: &Path) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(ConfigError::new(
                    key,
                    format!(
                        "{} enthält ein Geheimnis, ist aber für Gruppe/andere lesbar (Rechte {mode:o}); `chmod 600 {}`",
                        path.display(),
                        path.display()
                    ),
                    format!(
                        "{} holds a secret but is readable by group/others (mode {mode:o}); run `chmod 600 {}`",
                        path.display(),
                        path.display()
                    ),
                ));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (key, path);
    Ok(())
}

struct Secrets<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    inline: bool,
}

impl Secrets<'_> {
    fn get(
        &mut self,
        key: &str,
        value: &Option<String>,
        env_name: &Option<String>,
        file: &Option<PathBuf>,
    ) -> Result<Option<SecretString>, ConfigError> {
        let set = [value.is_some(), env_name.is_some(), file.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if set > 1 {
            return Err(ConfigError::new(
                key,
                "nur eine Quelle angeben: Wert, `_env` oder `_file`",
                "give only one source: value, `_env` or `_file`",
            ));
        }
        if let Some(v) = value {
            self.inline = true;
            return Ok(Some(SecretString::from(v.clone())));
        }
        if let Some(name) = env_name {
            return match (self.env)(name) {
                Some(v) if !v.is_empty() => Ok(Some(SecretString::from(v))),
                _ => Err(ConfigError::new(
                    format!("{key}_env"),
                    format!("Umgebungsvariable {name} ist nicht gesetzt"),
                    format!("environment variable {name} is not set"),
                )),
            };
        }
        if let Some(path) = file {
            let fkey = format!("{key}_file");
            check_private(&fkey, path)?;
            return match std::fs::read_to_string(path) {
                Ok(v) => Ok(Some(SecretString::from(
                    v.trim_end_matches(['\r', '\n']).to_owned(),
                ))),
                Err(e) => Err(ConfigError::new(
                    fkey,
                    format!("Datei {} nicht lesbar: {e}", path.display()),
                    format!("cannot read file {}: {e}", path.display()),
                )),
            };
        }
        Ok(None)
    }
}

pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

fn check_email(key: &str, addr: &str) -> Result<(), ConfigError> {
    if addr.parse::<lettre::Address>().is_err() {
        return Err(ConfigError::new(
            key,
            format!("„{addr}“ ist keine gültige E-Mail-Adresse"),
            format!("\"{addr}\" is not a valid e-mail address"),
        ));
    }
    Ok(())
}

/// An http(s) URL; with `https_unless_loopback`, plain http only to this machine.
fn check_url(key: &str, url: &str, https_unless_loopback: bool) -> Result<String, ConfigError> {
    let parsed = reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    let Some(parsed) = parsed else {
        return Err(ConfigError::new(
            key,
            format!("„{url}“ ist keine gültige http(s)-URL"),
            format!("\"{url}\" is not a valid http(s) URL"),
        ));
    };
    if https_unless_loopback
        && parsed.scheme() != "https"
        && !is_loopback_host(parsed.host_str().unwrap_or(""))
    {
        return Err(ConfigError::new(
            key,
            "nur https:// (http:// nur zu 127.0.0.1/localhost)".to_owned(),
            "https:// only (http:// only to 127.0.0.1/localhost)".to_owned(),
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn check_rate(key: &str, rate: Option<f64>) -> Result<(), ConfigError> {
    if let Some(r) = rate {
        if !(r.is_finite() && r > 0.0) {
            return Err(ConfigError::new(
                key,
                "muss eine positive Zahl sein",
                "must be a positive number",
            ));
        }
    }
    Ok(())
}

fn check_sender_id(key: &str, from: &str) -> Result<(), ConfigError> {
    let digits = from.trim_start_matches('+');
    let numeric = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    let alnum = from.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
    let ok = from.is_empty() || (numeric && digits.len() <= 16) || (alnum && from.len() <= 11);
    if !ok {
        return Err(ConfigError::new(
            key,
            "Absenderkennung: höchstens 11 Buchstaben/Ziffern oder 16 Ziffern",
            "sender id: at most 11 alphanumeric characters or 16 digits",
        ));
    }
    Ok(())
}

fn at_least(key: &str, v: u32, min: u32) -> Result<u32, ConfigError> {
    if v < min {
        return Err(ConfigError::new(
            key,
            format!("muss mindestens {min} sein"),
            format!("must be at least {min}"),
        ));
    }
    Ok(v)
}

fn practice_of(key: &str, p: &Option<String>) -> Result<String, ConfigError> {
    match p {
        None => Ok(DEFAULT_PRACTICE.to_owned()),
        Some(p) if !p.trim().is_empty() && !p.chars().any(char::is_control) => Ok(p.clone()),
        Some(_) => Err(ConfigError::new(
            format!("{key}.practice"),
            "Praxisname leer oder ungültig",
            "practice name empty or invalid",
        )),
    }
}

fn validate(f: FileConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let mut secrets = Secrets { env, inline: false };
    let listen = match &f.listen {
        None => None,
        Some(s) => Some(s.parse::<SocketAddr>().map_err(|_| {
            ConfigError::new(
                "listen",
                format!("„{s}“ ist keine Adresse der Form IP:PORT (z. B. 0.0.0.0:8443)"),
                format!("\"{s}\" is not an IP:PORT address (e.g. 0.0.0.0:8443)"),
            )
        })?),
    };
    let public_url = match &f.public_url {
        Some(u) => Some(check_url("public_url", u, true)?),
        None => None,
    };
    let mut allowed_origins = Vec::new();
    for (i, o) in f.allowed_origins.iter().enumerate() {
        let key = format!("allowed_origins[{i}]");
        let url = check_url(&key, o, false)?;
        let parsed = reqwest::Url::parse(&url).expect("checked");
        if parsed.path() != "/" || parsed.query().is_some() {
            return Err(ConfigError::new(
                key,
                "ein Origin besteht nur aus Schema, Host und Port (ohne Pfad)",
                "an origin is scheme, host and port only (no path)",
            ));
        }
        allowed_origins.push(url);
    }
    let tls = match &f.tls {
        None => None,
        Some(t) => {
            for (key, p) in [
                ("tls.cert_file", &t.cert_file),
                ("tls.key_file", &t.key_file),
            ] {
                if !p.is_file() {
                    return Err(ConfigError::new(
                        key,
                        format!("Datei {} existiert nicht", p.display()),
                        format!("file {} does not exist", p.display()),
                    ));
                }
            }
            check_private("tls.key_file", &t.key_file)?;
            Some((t.cert_file.clone(), t.key_file.clone()))
        }
    };
    let max_body_bytes = f.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY);
    if max_body_bytes < 1024 {
        return Err(ConfigError::new(
            "max_body_bytes",
            "muss mindestens 1024 sein",
            "must be at least 1024",
        ));
    }
    let body_memory_bytes = f.body_memory_bytes.unwrap_or(2 * max_body_bytes);
    if body_memory_bytes < max_body_bytes {
        return Err(ConfigError::new(
            "body_memory_bytes",
            "muss mindestens max_body_bytes sein",
            "must be at least max_body_bytes",
        ));
    }
    let max_attempts = at_least("max_attempts", f.max_attempts.unwrap_or(8), 1)?;
    let retention_days = f.retention_days.unwrap_or(7);
    let message_retention_days = at_least(
        "message_retention_days",
        f.message_retention_days.unwrap_or(90),
        MIN_MESSAGE_RETENTION_DAYS.max(retention_days),
    )?;
    let optout_retention_days = at_least(
        "optout_retention_days",
        f.optout_retention_days.unwrap_or(365),
        30,
    )?;
    let daily_quota = at_least("daily_quota", f.daily_quota.unwrap_or(20_000), 1)?;
    let messages_per_minute = at_least(
        "messages_per_minute",
        f.messages_per_minute.unwrap_or(10_000),
        1,
    )?;
    let sms_max_segments = at_least("sms_max_segments", f.sms_max_segments.unwrap_or(3), 1)?;
    let sms_countries = match &f.sms_countries {
        None => default_countries(),
        Some(list) => {
            let mut out = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let iso = c.trim().to_ascii_uppercase();
                let code = calling_code(&iso).ok_or_else(|| {
                    ConfigError::new(
                        format!("sms_countries[{i}]"),
                        format!("unbekanntes Land „{c}“ (ISO-Code wie DE, AT, CH, NL, FR …)"),
                        format!("unknown country \"{c}\" (ISO code such as DE, AT, CH, NL, FR …)"),
                    )
                })?;
                out.push((iso, code));
            }
            out
        }
    };

    let mut tokens = Vec::new();
    let mut token_names = HashSet::new();
    for (i, t) in f.tokens.iter().enumerate() {
        let key = format!("tokens[{i}]");
        if t.name.trim().is_empty() || !token_names.insert(t.name.clone()) {
            return Err(ConfigError::new(
                format!("{key}.name"),
                "Name fehlt oder ist doppelt",
                "name missing or duplicate",
            ));
        }
        let tok = secrets
            .get(
                &format!("{key}.token"),
                &t.token,
                &t.token_env,
                &t.token_file,
            )?
            .ok_or_else(|| {
                ConfigError::new(
                    format!("{key}.token"),
                    "Token fehlt (token, token_env oder token_file)",
                    "token missing (token, token_env or token_file)",
                )
            })?;
        if tok.expose_secret().len() < 16 {
            return Err(ConfigError::new(
                format!("{key}.token"),
                "Token zu kurz (mindestens 16 Zeichen)",
                "token too short (at least 16 characters)",
            ));
        }
        tokens.push(Token {
            name: t.name.clone(),
            practice: practice_of(&key, &t.practice)?,
            digest: Sha256::digest(tok.expose_secret().as_bytes()).into(),
            daily_quota: at_least(
                &format!("{key}.daily_quota"),
                t.daily_quota.unwrap_or(daily_quota),
                1,
            )?,
            messages_per_minute: at_least(
                &format!("{key}.messages_per_minute"),
                t.messages_per_minute.unwrap_or(messages_per_minute),
                1,
            )?,
        });
    }

    let mut accounts = Vec::new();
    for (i, s) in f.smtp.iter().enumerate() {
        let key = format!("smtp[{i}]");
        if s.host.trim().is_empty() {
            return Err(ConfigError::new(
                format!("{key}.host"),
                "Host fehlt",
                "host missing",
            ));
        }
        if s.tls == SmtpTls::None && !is_loopback_host(&s.host) {
            return Err(ConfigError::new(
                format!("{key}.tls"),
                "tls = \"none\" ist nur für einen Server auf diesem Rechner (127.0.0.1/localhost) erlaubt; sonst \"starttls\" oder \"implicit\"",
                "tls = \"none\" is only allowed for a server on this machine (127.0.0.1/localhost); use \"starttls\" or \"implicit\"",
            ));
        }
        if let Some(ca) = &s.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                ConfigError::new(
                    format!("{key}.ca_file"),
                    format!("Datei {} nicht lesbar: {e}", ca.display()),
                    format!("cannot read file {}: {e}", ca.display()),
                )
            })?;
            if lettre::transport::smtp::client::Certificate::from_pem(&pem).is_err() {
                return Err(ConfigError::new(
                    format!("{key}.ca_file"),
                    format!("{} ist kein PEM-Zertifikat", ca.display()),
                    format!("{} is not a PEM certificate", ca.display()),
                ));
            }
        }
        check_email(&format!("{key}.from"), &s.from)?;
        if let Some(r) = &s.reply_to {
            check_email(&format!("{key}.reply_to"), r)?;
        }
        check_rate(&format!("{key}.rate_per_second"), s.rate_per_second)?;
        let password = secrets.get(
            &format!("{key}.password"),
            &s.password,
            &s.password_env,
            &s.password_file,
        )?;
        if s.user.is_some() != password.is_some() {
            return Err(ConfigError::new(
                format!("{key}.password"),
                "Benutzer und Passwort nur gemeinsam angeben",
                "give user and password together",
            ));
        }
        let port = s.port.unwrap_or(match s.tls {
            SmtpTls::Implicit => 465,
            SmtpTls::Starttls => 587,
            SmtpTls::None => 25,
        });
        let timeout = s
            .timeout_seconds
            .map(|t| Duration::from_secs(t.clamp(1, 600)))
            .unwrap_or(DEFAULT_SMTP_TIMEOUT);
        accounts.push(Account {
            name: s.name.clone(),
            practice: practice_of(&key, &s.practice)?,
            kind: SenderKind::Smtp,
            channel: Channel::Email,
            from: s.from.clone(),
            from_name: s.from_name.clone(),
            reply_to: s.reply_to.clone(),
            default: s.default,
            concurrency: s.pool_size.unwrap_or(4).clamp(1, 64),
            rate_per_second: s.rate_per_second,
            advertising: s.advertising.unwrap_or(true),
            detail: AccountDetail::Smtp {
                host: s.host.clone(),
                port,
                tls: s.tls,
                ca_file: s.ca_file.clone(),
                timeout,
                user: s.user.clone(),
                password,
            },
        });
    }
    for (i, s) in f.sendgrid.iter().enumerate() {
        let key = format!("sendgrid[{i}]");
        check_email(&format!("{key}.from"), &s.from)?;
        if let Some(r) = &s.reply_to {
            check_email(&format!("{key}.reply_to"), r)?;
        }
        check_rate(&format!("{key}.rate_per_second"), s.rate_per_second)?;
        let api_key = secrets
            .get(
                &format!("{key}.api_key"),
                &s.api_key,
                &s.api_key_env,
                &s.api_key_file,
            )?
            .ok_or_else(|| {
                ConfigError::new(
                    format!("{key}.api_key"),
                    "API-Schlüssel fehlt",
                    "API key missing",
                )
            })?;
        let base_url = match &s.base_url {
            Some(u) => check_url(&format!("{key}.base_url"), u, true)?,
            None if s.eu => "https://api.eu.sendgrid.com".to_owned(),
            None => "https://api.sendgrid.com".to_owned(),
        };
        accounts.push(Account {
            name: s.name.clone(),
            practice: practice_of(&key, &s.practice)?,
            kind: SenderKind::Sendgrid,
            channel: Channel::Email,
            from: s.from.clone(),
            from_name: s.from_name.clone(),
            reply_to: s.reply_to.clone(),
            default: s.default,
            concurrency: s.concurrency.unwrap_or(4).clamp(1, 64),
            rate_per_second: s.rate_per_second,
            advertising: s.advertising.unwrap_or(true),
            detail: AccountDetail::Sendgrid { api_key, base_url },
        });
    }
    for (i, s) in f.sms.iter().enumerate() {
        let key = format!("sms[{i}]");
        check_rate(&format!("{key}.rate_per_second"), s.rate_per_second)?;
        check_sender_id(&format!("{key}.from"), &s.from)?;
        let token = secrets.get(
            &format!("{key}.token"),
            &s.token,
            &s.token_env,
            &s.token_file,
        )?;
        let need = |field: &str, present: bool| -> Result<(), ConfigError> {
            if !present {
                return Err(ConfigError::new(
                    format!("{key}.{field}"),
                    "fehlt (für diesen Anbieter erforderlich)",
                    "missing (required for this provider)",
                ));
            }
            Ok(())
        };
        let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
        let has_token = token
            .as_ref()
            .is_some_and(|t| !t.expose_secret().trim().is_empty());
        let (kind, default_base) = match s.provider {
            SmsProvider::Twilio => {
                need("account", given(&s.account))?;
                need("token", has_token)?;
                if s.from.is_empty() && s.messaging_service_sid.is_none() {
                    need("from", false)?;
                }
                (SenderKind::Twilio, "https://api.twilio.com")
            }
            SmsProvider::Seven => {
                need("token", has_token)?;
                (SenderKind::Seven, "https://gateway.seven.io")
            }
            SmsProvider::Sipgate => {
                need("account", given(&s.account))?;
                need("token", has_token)?;
                need("sms_id", given(&s.sms_id))?;
                (SenderKind::Sipgate, "https://api.sipgate.com")
            }
            SmsProvider::Websms => {
                need("token", has_token)?;
                (SenderKind::Websms, "https://api.linkmobility.eu")
            }
            SmsProvider::Generic => {
                need("url", given(&s.url))?;
                need("body_template", given(&s.body_template))?;
                (SenderKind::GenericHttp, "")
            }
        };
        let url = match &s.url {
            Some(u) => {
                secrets.inline |= reqwest::Url::parse(u).is_ok_and(|p| p.query().is_some());
                Some(SecretString::from(check_url(
                    &format!("{key}.url"),
                    u,
                    true,
                )?))
            }
            None => None,
        };
        let base_url = match &s.base_url {
            Some(u) => check_url(&format!("{key}.base_url"), u, true)?,
            None => default_base.to_owned(),
        };
        let method = s
            .method
            .clone()
            .unwrap_or_else(|| "POST".into())
            .to_uppercase();
        if !["POST", "PUT", "GET"].contains(&method.as_str()) {
            return Err(ConfigError::new(
                format!("{key}.method"),
                "nur POST, PUT oder GET",
                "only POST, PUT or GET",
            ));
        }
        let mut headers = Vec::new();
        for (h, v) in &s.headers {
            let ok = reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_ok()
                && reqwest::header::HeaderValue::from_str(v).is_ok();
            if !ok {
                return Err(ConfigError::new(
                    format!("{key}.headers.{h}"),
                    "ungültiger HTTP-Header",
                    "invalid HTTP header",
                ));
            }
            // Header values of a generic gateway usually carry its key.
            secrets.inline = true;
            headers.push((h.clone(), SecretString::from(v.clone())));
        }
        accounts.push(Account {
            name: s.name.clone(),
            practice: practice_of(&key, &s.practice)?,
            kind,
            channel: Channel::Sms,
            from: s.from.clone(),
            from_name: String::new(),
            reply_to: None,
            default: s.default,
            concurrency: s.concurrency.unwrap_or(2).clamp(1, 32),
            rate_per_second: s.rate_per_second,
            // SMS carry no unsubscribe link; consent is checked by the app.
            advertising: false,
            detail: AccountDetail::Sms {
                provider: s.provider,
                account: s.account.clone(),
                messaging_service_sid: s.messaging_service_sid.clone(),
                sms_id: s.sms_id.clone(),
                token,
                base_url,
                url,
                method,
                headers,
                body_template: s.body_template.clone(),
                content_type: s
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/json".into()),
            },
        });
    }

    // Names unique and non-empty; at most one default per practice and channel.
    let mut names = HashSet::new();
    for a in &accounts {
        if a.name.trim().is_empty() || !names.insert(a.name.clone()) {
            return Err(ConfigError::new(
                format!("name = \"{}\"", a.name),
                "Kontoname fehlt oder ist doppelt",
                "account name missing or duplicate",
            ));
        }
    }
    let practices: Vec<String> = {
        let mut p: Vec<String> = accounts.iter().map(|a| a.practice.clone()).collect();
        p.sort();
        p.dedup();
        p
    };
    for practice in &practices {
        for ch in [Channel::Email, Channel::Sms] {
            let of = |a: &Account| &a.practice == practice && a.channel == ch;
            let defaults: Vec<_> = accounts.iter().filter(|a| of(a) && a.default).collect();
            if defaults.len() > 1 {
                return Err(ConfigError::new(
                    format!("name = \"{}\" default", defaults[1].name),
                    format!(
                        "mehr als ein Standardkonto für {} in Praxis {practice}",
                        ch.label_de()
                    ),
                    format!(
                        "more than one default account for {} in practice {practice}",
                        ch.key()
                    ),
                ));
            }
            // The first account of a channel is its default when none is marked.
            if defaults.is_empty() {
                if let Some(a) = accounts.iter_mut().find(|a| of(a)) {
                    a.default = true;
                }
            }
        }
    }

    let demo = f.demo;
    if demo {
        if !accounts.is_empty() || !tokens.is_empty() {
            return Err(ConfigError::new(
                "demo",
                "demo = true verträgt sich nicht mit Konten oder Tokens (im Demo-Modus verlässt nichts den Rechner)",
                "demo = true cannot be combined with accounts or tokens (in demo mode nothing leaves the machine)",
            ));
        }
        accounts = demo_accounts();
    } else {
        if accounts.is_empty() {
            return Err(ConfigError::new(
                "smtp",
                "kein Absenderkonto eingerichtet ([[smtp]], [[sendgrid]] oder [[sms]]); für eine Schulung demo = true setzen",
                "no sender account configured ([[smtp]], [[sendgrid]] or [[sms]]); for training set demo = true",
            ));
        }
        if tokens.is_empty() {
            return Err(ConfigError::new(
                "tokens",
                "mindestens ein API-Token ist erforderlich, wenn Konten konfiguriert sind",
                "at least one API token is required when accounts are configured",
            ));
        }
        for (i, t) in tokens.iter().enumerate() {
            if !accounts.iter().any(|a| a.practice == t.practice) {
                return Err(ConfigError::new(
                    format!("tokens[{i}].practice"),
                    format!("Praxis „{}“ hat kein Absenderkonto", t.practice),
                    format!("practice \"{}\" has no sender account", t.practice),
                ));
            }
        }
        if public_url.is_none() && accounts.iter().any(|a| a.advertising) {
            return Err(advertising_needs_public_url());
        }
    }
    Ok(Config {
        listen,
        data_dir: f.data_dir,
        public_url,
        behind_tls_proxy: f.behind_tls_proxy,
        allowed_origins,
        max_body_bytes,
        body_memory_bytes,
        retention_days,
        message_retention_days,
        optout_retention_days,
        requests_per_minute: f.requests_per_minute.unwrap_or(600).max(1),
        max_attempts,
        retry_base_seconds: f.retry_base_seconds.unwrap_or(30).max(1),
        retry_max_seconds: f.retry_max_seconds.unwrap_or(3600).max(1),
        retry_ambiguous: f.retry_ambiguous,
        sms_max_segments,
        sms_countries,
        demo,
        tls,
        tokens,
        accounts,
        inline_secrets: secrets.inline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SMTP_PW" => Some("geheim-smtp-passwort".into()),
            "RELAY_TOKEN" => Some("0123456789abcdef0123".into()),
            _ => None,
        }
    }

    const GOOD: &str = r#"
listen = "127.0.0.1:8443"
public_url = "https://relay.praxis.example"
allowed_origins = ["https://app.praxis.example"]
[[tokens]]
name = "praxis"
token_env = "RELAY_TOKEN"
[[smtp]]
name = "praxis"
host = "smtp.praxis.example"
tls = "starttls"
user = "info"
password_env = "SMTP_PW"
from = "info@praxis.example"
from_name = "Praxis Müller"
[[sms]]
name = "seven"
provider = "seven"
token = "abc-sms-secret"
from = "Praxis"
"#;

    #[test]
    fn good_config_resolves() {
        let c = Config::parse(GOOD, &env).unwrap();
        assert!(!c.demo);
        assert_eq!(c.accounts.len(), 2);
        assert!(c.accounts.iter().all(|a| a.default));
        assert!(c.accounts.iter().all(|a| a.practice == DEFAULT_PRACTICE));
        match &c.accounts[0].detail {
            AccountDetail::Smtp { port, password, .. } => {
                assert_eq!(*port, 587);
                assert_eq!(
                    password.as_ref().map(|p| p.expose_secret()),
                    Some("geheim-smtp-passwort")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.tokens.len(), 1);
        assert_eq!(c.tokens[0].daily_quota, 20_000);
        assert_eq!(c.message_retention_days, 90);
        assert_eq!(c.optout_retention_days, 365);
        assert_eq!(
            c.sms_countries,
            vec![("DE".into(), 49), ("AT".into(), 43), ("CH".into(), 41)]
        );
        assert!(c.inline_secrets, "the SMS token is inline");
    }

    /// Regression: `{:?}` of the config printed passwords and API keys.
    #[test]
    fn debug_never_prints_secrets() {
        let text = format!(
            "{GOOD}\n[[sendgrid]]\nname = \"sg\"\napi_key = \"SG.very-secret-key\"\nfrom = \"n@praxis.example\"\n\
             [[sms]]\nname = \"gen\"\nprovider = \"generic\"\nurl = \"https://gw.example/send?key=url-secret-key\"\n\
             headers = {{ X-Auth = \"header-secret\" }}\nbody_template = \"{{}}\"\n"
        );
        let c = Config::parse(&text, &env).unwrap();
        let shown = format!("{c:?}");
        for secret in [
            "geheim-smtp-passwort",
            "abc-sms-secret",
            "SG.very-secret-key",
            "url-secret-key",
            "header-secret",
            "0123456789abcdef0123",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(!c.summary("127.0.0.1:1".parse().unwrap()).contains("secret"));
    }

    #[test]
    fn empty_config_is_an_error_and_demo_is_explicit() {
        let e = Config::parse("", &env).unwrap_err();
        assert_eq!(e.key, "smtp");
        let c = Config::parse("demo = true", &env).unwrap();
        assert!(c.demo);
        assert_eq!(c.accounts.len(), 2);
    }

    /// Regression: tokens but no accounts silently meant demo mode.
    #[test]
    fn tokens_without_accounts_is_an_error() {
        let e = Config::parse(
            "[[tokens]]\nname = \"a\"\ntoken = \"0123456789abcdef0123\"\n",
            &env,
        )
        .unwrap_err();
        assert_eq!(e.key, "smtp");
        let e = Config::parse(
            "demo = true\n[[tokens]]\nname = \"a\"\ntoken = \"0123456789abcdef0123\"\n",
            &env,
        )
        .unwrap_err();
        assert_eq!(e.key, "demo");
    }

    /// Regression: plain HTTP on a network address and demo mode off loopback were accepted.
    #[test]
    fn listen_rules() {
        let c = Config::parse(GOOD, &env).unwrap();
        let lan: SocketAddr = "192.168.1.5:8443".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8443".parse().unwrap();
        assert!(c.check_listen("127.0.0.1:8443".parse().unwrap()).is_ok());
        assert!(c.check_listen("[::1]:8443".parse().unwrap()).is_ok());
        for addr in [lan, any] {
            let e = c.check_listen(addr).unwrap_err();
            assert_eq!(e.key, "listen");
            assert!(e.to_string().contains("behind_tls_proxy"), "{e}");
        }
        let proxied = Config::parse(&format!("behind_tls_proxy = true\n{GOOD}"), &env).unwrap();
        assert!(proxied.check_listen(lan).is_ok());
        let demo = Config::demo();
        assert!(demo.check_listen("127.0.0.1:8080".parse().unwrap()).is_ok());
        let e = demo.check_listen(any).unwrap_err();
        assert!(e.to_string().contains("Demo-Modus"), "{e}");
    }

    #[test]
    fn bad_configs_name_the_key() {
        let cases: &[(&str, &str, &str)] = &[
            ("listen = \"nowhere\"", "listen", "IP:PORT"),
            ("lisen = \"1\"", "lisen", "unknown field"),
            (
                &GOOD.replace("tls = \"starttls\"", "tls = \"none\""),
                "smtp[0].tls",
                "127.0.0.1",
            ),
            (
                &GOOD.replace("SMTP_PW", "MISSING_PW"),
                "smtp[0].password_env",
                "MISSING_PW",
            ),
            (
                &GOOD.replace("info@praxis.example", "kein-at"),
                "smtp[0].from",
                "kein-at",
            ),
            (
                &GOOD.replace("https://app.praxis.example", "ftp://x"),
                "allowed_origins[0]",
                "ftp://x",
            ),
            (
                &GOOD.replace("from = \"Praxis\"", "from = \"Praxis Mueller GmbH\""),
                "sms[0].from",
                "11",
            ),
            (
                &GOOD.replace("token = \"abc-sms-secret\"\n", ""),
                "sms[0].token",
                "missing",
            ),
            (
                &GOOD.replace("name = \"seven\"", "name = \"praxis\""),
                "name = \"praxis\"",
                "duplicate",
            ),
            (
                &GOOD.replace("token_env = \"RELAY_TOKEN\"", "token = \"kurz\""),
                "tokens[0].token",
                "16",
            ),
            (
                &GOOD.replace(
                    "[[tokens]]\nname = \"praxis\"\ntoken_env = \"RELAY_TOKEN\"\n",
                    "",
                ),
                "tokens",
                "token",
            ),
            // Unsubscribe links must work: advertising needs an https public_url.
            (
                &GOOD.replace("public_url = \"https://relay.praxis.example\"\n", ""),
                "public_url",
                "https",
            ),
            (
                &GOOD.replace(
                    "https://relay.praxis.example",
                    "http://relay.praxis.example",
                ),
                "public_url",
                "https",
            ),
            // Provider URLs: https except to this machine.
            (
                &format!("{GOOD}base_url = \"http://gateway.seven.io\"\n"),
                "sms[0].base_url",
                "https",
            ),
            (
                &GOOD.replace("[[tokens]]", "message_retention_days = 7\n[[tokens]]"),
                "message_retention_days",
                "30",
            ),
            (
                &GOOD.replace("[[tokens]]", "sms_countries = [\"DE\", \"XX\"]\n[[tokens]]"),
                "sms_countries[1]",
                "XX",
            ),
            (
                &GOOD.replace(
                    "token_env = \"RELAY_TOKEN\"",
                    "token_env = \"RELAY_TOKEN\"\npractice = \"andere\"",
                ),
                "tokens[0].practice",
                "andere",
            ),
        ];
        for (text, key, needle) in cases {
            let err = Config::parse(text, &env).expect_err(text);
            assert_eq!(&err.key, key, "{text}");
            let shown = err.to_string();
            assert!(shown.contains("Konfigurationsfehler"), "{shown}");
            assert!(shown.contains(needle), "{needle} not in {shown}");
        }
        // http to a provider on this machine (a local gateway, tests) is fine.
        let local = format!("{GOOD}base_url = \"http://127.0.0.1:9000\"\n");
        assert!(Config::parse(&local, &env).is_ok());
        // Without advertising no public_url is needed.
        let no_ads = GOOD
            .replace("public_url = \"https://relay.praxis.example\"\n", "")
            .replace("from_name = \"Praxis Müller\"", "advertising = false");
        assert!(Config::parse(&no_ads, &env).is_ok());
    }

    /// Regression: secret files readable by everyone were accepted.
    #[cfg(unix)]
    #[test]
    fn world_readable_secret_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "geheim\n").unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = GOOD.replace(
            "password_env = \"SMTP_PW\"",
            &format!("password_file = \"{}\"", pw.display()),
        );
        let e = Config::parse(&text, &env).unwrap_err();
        assert_eq!(e.key, "smtp[0].password_file");
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = Config::parse(&text, &env).unwrap();
        match &c.accounts[0].detail {
            AccountDetail::Smtp { password, .. } => {
                assert_eq!(password.as_ref().unwrap().expose_secret(), "geheim")
            }
            other => panic!("{other:?}"),
        }
        // A config file with an inline secret must be private too.
        let cfg = dir.path().join("relay.toml");
        std::fs::write(&cfg, GOOD).unwrap();
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::env::set_var("RELAY_TOKEN", "0123456789abcdef0123");
        std::env::set_var("SMTP_PW", "x");
        let e = Config::load(&cfg).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(&cfg).is_ok());
    }

    #[test]
    fn tenancy_defaults_per_practice() {
        let text = format!(
            "{GOOD}\n[[tokens]]\nname = \"zweite\"\npractice = \"zahnarzt\"\ntoken = \"abcdefabcdefabcdef12\"\n\
             [[smtp]]\nname = \"zahn\"\npractice = \"zahnarzt\"\nhost = \"smtp.zahn.example\"\ntls = \"implicit\"\nfrom = \"info@zahn.example\"\n"
        );
        let c = Config::parse(&text, &env).unwrap();
        let zahn: Vec<_> = c.accounts_of("zahnarzt").collect();
        assert_eq!(zahn.len(), 1);
        assert!(
            zahn[0].default,
            "first account of its practice is its default"
        );
        assert!(c.accounts_of(DEFAULT_PRACTICE).all(|a| a.name != "zahn"));
    }
}
