//! The TOML configuration: parsing, secret resolution and validation.
//!
//! Every error names the offending key and is given in German and English.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use praxisbote_core::domain::Channel;
use praxisbote_core::wire::SenderKind;
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
    fn new(key: impl Into<String>, de: impl Into<String>, en: impl Into<String>) -> Self {
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
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: Option<usize>,
    pub retention_days: Option<u32>,
    pub requests_per_minute: Option<u32>,
    pub max_attempts: Option<u32>,
    pub retry_base_seconds: Option<u64>,
    pub retry_max_seconds: Option<u64>,
    /// Force demo mode even with a config file (training installs).
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
    pub token: Option<String>,
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
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
    pub host: String,
    pub port: Option<u16>,
    pub tls: SmtpTls,
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
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendgridFile {
    pub name: String,
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

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub public_url: Option<String>,
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub retention_days: u32,
    pub requests_per_minute: u32,
    pub max_attempts: u32,
    pub retry_base_seconds: u64,
    pub retry_max_seconds: u64,
    pub demo: bool,
    pub tls: Option<(PathBuf, PathBuf)>,
    /// (name, SHA-256 of the token).
    pub tokens: Vec<(String, [u8; 32])>,
    pub accounts: Vec<Account>,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub kind: SenderKind,
    pub channel: Channel,
    pub from: String,
    pub from_name: String,
    pub reply_to: Option<String>,
    pub default: bool,
    pub concurrency: u32,
    pub rate_per_second: Option<f64>,
    pub detail: AccountDetail,
}

#[derive(Debug, Clone)]
pub enum AccountDetail {
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        user: Option<String>,
        password: Option<String>,
    },
    Sendgrid {
        api_key: String,
        base_url: String,
    },
    Sms {
        provider: SmsProvider,
        account: Option<String>,
        messaging_service_sid: Option<String>,
        sms_id: Option<String>,
        token: Option<String>,
        base_url: String,
        url: Option<String>,
        method: String,
        headers: Vec<(String, String)>,
        body_template: Option<String>,
        content_type: String,
    },
    DemoMaildir,
    DemoSmsFile,
}

pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;

impl Config {
    /// Demo mode: nothing configured, e-mails to a Maildir, SMS to a JSON-lines file.
    pub fn demo() -> Config {
        Config {
            listen: None,
            data_dir: None,
            public_url: None,
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY,
            retention_days: 7,
            requests_per_minute: 6000,
            max_attempts: 8,
            retry_base_seconds: 30,
            retry_max_seconds: 3600,
            demo: true,
            tls: None,
            tokens: Vec::new(),
            accounts: demo_accounts(),
        }
    }

    /// Loads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                path.display().to_string(),
                format!("Datei kann nicht gelesen werden: {e}"),
                format!("cannot read file: {e}"),
            )
        })?;
        Config::parse(&text, &|name| std::env::var(name).ok())
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
}

fn unknown_key(msg: &str) -> Option<String> {
    let rest = msg.split("unknown field `").nth(1)?;
    Some(rest.split('`').next()?.to_owned())
}

pub fn demo_accounts() -> Vec<Account> {
    vec![
        Account {
            name: "demo-mail".into(),
            kind: SenderKind::DemoMaildir,
            channel: Channel::Email,
            from: "praxis@demo.invalid".into(),
            from_name: "Praxis (Demo)".into(),
            reply_to: None,
            default: true,
            concurrency: 2,
            rate_per_second: None,
            detail: AccountDetail::DemoMaildir,
        },
        Account {
            name: "demo-sms".into(),
            kind: SenderKind::DemoSmsFile,
            channel: Channel::Sms,
            from: "Praxis".into(),
            from_name: String::new(),
            reply_to: None,
            default: true,
            concurrency: 1,
            rate_per_second: None,
            detail: AccountDetail::DemoSmsFile,
        },
    ]
}

fn secret(
    key: &str,
    value: &Option<String>,
    env_name: &Option<String>,
    file: &Option<PathBuf>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
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
        return Ok(Some(v.clone()));
    }
    if let Some(name) = env_name {
        return match env(name) {
            Some(v) if !v.is_empty() => Ok(Some(v)),
            _ => Err(ConfigError::new(
                format!("{key}_env"),
                format!("Umgebungsvariable {name} ist nicht gesetzt"),
                format!("environment variable {name} is not set"),
            )),
        };
    }
    if let Some(path) = file {
        return match std::fs::read_to_string(path) {
            Ok(v) => Ok(Some(v.trim_end_matches(['\r', '\n']).to_owned())),
            Err(e) => Err(ConfigError::new(
                format!("{key}_file"),
                format!("Datei {} nicht lesbar: {e}", path.display()),
                format!("cannot read file {}: {e}", path.display()),
            )),
        };
    }
    Ok(None)
}

fn is_loopback_host(host: &str) -> bool {
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

fn check_url(key: &str, url: &str) -> Result<String, ConfigError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && reqwest::Url::parse(url).is_ok();
    if !ok {
        return Err(ConfigError::new(
            key,
            format!("„{url}“ ist keine gültige http(s)-URL"),
            format!("\"{url}\" is not a valid http(s) URL"),
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

fn validate(f: FileConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
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
        Some(u) => Some(check_url("public_url", u)?),
        None => None,
    };
    let mut allowed_origins = Vec::new();
    for (i, o) in f.allowed_origins.iter().enumerate() {
        let key = format!("allowed_origins[{i}]");
        let url = check_url(&key, o)?;
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
    let max_attempts = f.max_attempts.unwrap_or(8);
    if max_attempts == 0 {
        return Err(ConfigError::new(
            "max_attempts",
            "muss mindestens 1 sein",
            "must be at least 1",
        ));
    }

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
        let tok = secret(
            &format!("{key}.token"),
            &t.token,
            &t.token_env,
            &t.token_file,
            env,
        )?
        .ok_or_else(|| {
            ConfigError::new(
                format!("{key}.token"),
                "Token fehlt (token, token_env oder token_file)",
                "token missing (token, token_env or token_file)",
            )
        })?;
        if tok.len() < 16 {
            return Err(ConfigError::new(
                format!("{key}.token"),
                "Token zu kurz (mindestens 16 Zeichen)",
                "token too short (at least 16 characters)",
            ));
        }
        tokens.push((t.name.clone(), Sha256::digest(tok.as_bytes()).into()));
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
        check_email(&format!("{key}.from"), &s.from)?;
        if let Some(r) = &s.reply_to {
            check_email(&format!("{key}.reply_to"), r)?;
        }
        check_rate(&format!("{key}.rate_per_second"), s.rate_per_second)?;
        let password = secret(
            &format!("{key}.password"),
            &s.password,
            &s.password_env,
            &s.password_file,
            env,
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
        accounts.push(Account {
            name: s.name.clone(),
            kind: SenderKind::Smtp,
            channel: Channel::Email,
            from: s.from.clone(),
            from_name: s.from_name.clone(),
            reply_to: s.reply_to.clone(),
            default: s.default,
            concurrency: s.pool_size.unwrap_or(4).clamp(1, 64),
            rate_per_second: s.rate_per_second,
            detail: AccountDetail::Smtp {
                host: s.host.clone(),
                port,
                tls: s.tls,
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
        let api_key = secret(
            &format!("{key}.api_key"),
            &s.api_key,
            &s.api_key_env,
            &s.api_key_file,
            env,
        )?
        .ok_or_else(|| {
            ConfigError::new(
                format!("{key}.api_key"),
                "API-Schlüssel fehlt",
                "API key missing",
            )
        })?;
        let base_url = match &s.base_url {
            Some(u) => check_url(&format!("{key}.base_url"), u)?,
            None if s.eu => "https://api.eu.sendgrid.com".to_owned(),
            None => "https://api.sendgrid.com".to_owned(),
        };
        accounts.push(Account {
            name: s.name.clone(),
            kind: SenderKind::Sendgrid,
            channel: Channel::Email,
            from: s.from.clone(),
            from_name: s.from_name.clone(),
            reply_to: s.reply_to.clone(),
            default: s.default,
            concurrency: s.concurrency.unwrap_or(4).clamp(1, 64),
            rate_per_second: s.rate_per_second,
            detail: AccountDetail::Sendgrid { api_key, base_url },
        });
    }
    for (i, s) in f.sms.iter().enumerate() {
        let key = format!("sms[{i}]");
        check_rate(&format!("{key}.rate_per_second"), s.rate_per_second)?;
        check_sender_id(&format!("{key}.from"), &s.from)?;
        let token = secret(
            &format!("{key}.token"),
            &s.token,
            &s.token_env,
            &s.token_file,
            env,
        )?;
        let need = |field: &str, v: &Option<String>| -> Result<(), ConfigError> {
            if v.as_deref().map(str::trim).unwrap_or("").is_empty() {
                return Err(ConfigError::new(
                    format!("{key}.{field}"),
                    "fehlt (für diesen Anbieter erforderlich)",
                    "missing (required for this provider)",
                ));
            }
            Ok(())
        };
        let (kind, default_base) = match s.provider {
            SmsProvider::Twilio => {
                need("account", &s.account)?;
                need("token", &token)?;
                if s.from.is_empty() && s.messaging_service_sid.is_none() {
                    need("from", &None)?;
                }
                (SenderKind::Twilio, "https://api.twilio.com")
            }
            SmsProvider::Seven => {
                need("token", &token)?;
                (SenderKind::Seven, "https://gateway.seven.io")
            }
            SmsProvider::Sipgate => {
                need("account", &s.account)?;
                need("token", &token)?;
                need("sms_id", &s.sms_id)?;
                (SenderKind::Sipgate, "https://api.sipgate.com")
            }
            SmsProvider::Websms => {
                need("token", &token)?;
                (SenderKind::Websms, "https://api.linkmobility.eu")
            }
            SmsProvider::Generic => {
                need("url", &s.url)?;
                need("body_template", &s.body_template)?;
                (SenderKind::GenericHttp, "")
            }
        };
        let url = match &s.url {
            Some(u) => Some(check_url(&format!("{key}.url"), u)?),
            None => None,
        };
        let base_url = match &s.base_url {
            Some(u) => check_url(&format!("{key}.base_url"), u)?,
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
            headers.push((h.clone(), v.clone()));
        }
        accounts.push(Account {
            name: s.name.clone(),
            kind,
            channel: Channel::Sms,
            from: s.from.clone(),
            from_name: String::new(),
            reply_to: None,
            default: s.default,
            concurrency: s.concurrency.unwrap_or(2).clamp(1, 32),
            rate_per_second: s.rate_per_second,
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

    // Names unique and non-empty; at most one default per channel.
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
    for ch in [Channel::Email, Channel::Sms] {
        let defaults: Vec<_> = accounts
            .iter()
            .filter(|a| a.channel == ch && a.default)
            .collect();
        if defaults.len() > 1 {
            return Err(ConfigError::new(
                format!("name = \"{}\" default", defaults[1].name),
                format!("mehr als ein Standardkonto für {}", ch.label_de()),
                format!("more than one default account for {}", ch.key()),
            ));
        }
        // The first account of a channel is its default when none is marked.
        if defaults.is_empty() {
            if let Some(a) = accounts.iter_mut().find(|a| a.channel == ch) {
                a.default = true;
            }
        }
    }

    let demo = f.demo || accounts.is_empty();
    if !demo && tokens.is_empty() {
        return Err(ConfigError::new(
            "tokens",
            "mindestens ein API-Token ist erforderlich, wenn Konten konfiguriert sind",
            "at least one API token is required when accounts are configured",
        ));
    }
    if demo {
        accounts = demo_accounts();
    }
    Ok(Config {
        listen,
        data_dir: f.data_dir,
        public_url,
        allowed_origins,
        max_body_bytes,
        retention_days: f.retention_days.unwrap_or(7),
        requests_per_minute: f.requests_per_minute.unwrap_or(600).max(1),
        max_attempts,
        retry_base_seconds: f.retry_base_seconds.unwrap_or(30).max(1),
        retry_max_seconds: f.retry_max_seconds.unwrap_or(3600).max(1),
        demo,
        tls,
        tokens,
        accounts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SMTP_PW" => Some("geheim".into()),
            "RELAY_TOKEN" => Some("0123456789abcdef0123".into()),
            _ => None,
        }
    }

    const GOOD: &str = r#"
listen = "127.0.0.1:8443"
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
token = "abc"
from = "Praxis"
"#;

    #[test]
    fn good_config_resolves() {
        let c = Config::parse(GOOD, &env).unwrap();
        assert!(!c.demo);
        assert_eq!(c.accounts.len(), 2);
        assert!(c.accounts.iter().all(|a| a.default));
        match &c.accounts[0].detail {
            AccountDetail::Smtp { port, password, .. } => {
                assert_eq!(*port, 587);
                assert_eq!(password.as_deref(), Some("geheim"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.tokens.len(), 1);
    }

    #[test]
    fn empty_config_is_demo() {
        let c = Config::parse("", &env).unwrap();
        assert!(c.demo);
        assert_eq!(c.accounts.len(), 2);
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
                &GOOD.replace("token = \"abc\"\n", ""),
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
        ];
        for (text, key, needle) in cases {
            let err = Config::parse(text, &env).expect_err(text);
            assert_eq!(&err.key, key, "{text}");
            let shown = err.to_string();
            assert!(shown.contains("Konfigurationsfehler"), "{shown}");
            assert!(shown.contains(needle), "{needle} not in {shown}");
        }
    }
}
