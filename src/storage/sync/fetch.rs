//! [`FetchRemote`]: `praxisbote_sync::Remote` over the browser's `fetch` (window or worker).
//!
//! - The database URL, with CouchDB's own authentication: HTTP Basic with user and password
//!   (given, or taken out of the URL's `user:password@` — `fetch` refuses URLs that carry
//!   credentials). Over https in production; the header is sent on every request, no cookie
//!   (`credentials: "omit"`), no HTTP cache (`cache: "no-store"`).
//! - JSON bodies; the answer is its status and body, whatever the status.
//! - A deadline per request (an `AbortController` aborts the request and the reading of its
//!   body): [`FetchRemote::timeout_ms`], 60 s by default; a longpoll
//!   (`_changes?feed=longpoll&timeout=…`) gets its own timeout plus 5 s, because
//!   pouchdb-server ignores `timeout` and a dead connection would otherwise hang forever.
//! - No answer (offline, refused, CORS, deadline) is `Err` with a message that names the
//!   database without credentials. A longpoll past its deadline is an `Err` too
//!   ("longpoll without answer"): with pouchdb-server that is the normal end of a longpoll
//!   without changes, so `wait_for_changes` returns `Err(Transport)` there where CouchDB
//!   gives `Ok(false)`; a live-sync loop treats both as "no news" and pulls or polls again.
//! - The server must allow the app's origin (CORS with the headers `authorization` and
//!   `content-type`): CouchDB's `[cors]`, pouchdb-server's `httpd.enable_cors` + `cors`.

use base64::Engine;
use praxisbote_sync::{Remote, Request, Response};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/src/js/sync_fetch.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn pb_sync_fetch(
        url: &str,
        method: &str,
        auth: Option<String>,
        body: JsValue,
        timeout_ms: f64,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// The default deadline of a request.
pub const DEFAULT_TIMEOUT_MS: u32 = 60_000;
/// What a longpoll's deadline adds to the timeout it asks the server for.
pub const LONGPOLL_GRACE_MS: u32 = 5_000;

/// One CouchDB database reached with `fetch`.
#[derive(Clone)]
pub struct FetchRemote {
    /// The database URL without credentials and without a trailing `/`.
    url: String,
    /// `Basic …`, when there are credentials.
    auth: Option<String>,
    timeout_ms: u32,
}

impl std::fmt::Debug for FetchRemote {
    // Never prints the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchRemote")
            .field("url", &self.url)
            .field("auth", &self.auth.is_some())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl FetchRemote {
    /// The database at `url` (e.g. `https://couch.example.org/praxis`), with `credentials`
    /// (user, password) or the ones in the URL; `Err` when `url` is no absolute http(s) URL.
    pub fn new(url: &str, credentials: Option<(&str, &str)>) -> Result<FetchRemote, String> {
        let parsed = web_sys::Url::new(url.trim()).map_err(|_| format!("no URL: {url}"))?;
        let scheme = parsed.protocol();
        if scheme != "http:" && scheme != "https:" {
            return Err(format!("not an http(s) URL: {url}"));
        }
        let decode = |s: String| {
            js_sys::decode_uri_component(&s)
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or(s)
        };
        let in_url = (!parsed.username().is_empty())
            .then(|| (decode(parsed.username()), decode(parsed.password())));
        parsed.set_username("");
        parsed.set_password("");
        let mut base = parsed.href();
        // The query and fragment are no part of a database URL.
        if let Some(i) = base.find(['?', '#']) {
            base.truncate(i);
        }
        while base.ends_with('/') {
            base.pop();
        }
        let auth = match credentials {
            Some((user, password)) => Some(basic(user, password)),
            None => in_url.map(|(user, password)| basic(&user, &password)),
        };
        Ok(FetchRemote {
            url: base,
            auth,
            timeout_ms: DEFAULT_TIMEOUT_MS,
        })
    }

    /// The deadline of a request (a longpoll's is its own timeout plus
    /// [`LONGPOLL_GRACE_MS`]).
    pub fn timeout_ms(mut self, ms: u32) -> FetchRemote {
        self.timeout_ms = ms.max(1);
        self
    }

    /// The database URL without credentials: the remote's name in the replication ids
    /// (`praxisbote_sync::Options::remote_name`) and in messages.
    pub fn name(&self) -> &str {
        &self.url
    }

    /// Whether requests carry a Basic authorization.
    pub fn has_credentials(&self) -> bool {
        self.auth.is_some()
    }

    /// The deadline of a request to `path`.
    pub fn deadline_ms(&self, path: &str) -> u32 {
        match (
            param(path, "feed"),
            param(path, "timeout").and_then(|t| t.parse::<u32>().ok()),
        ) {
            (Some("longpoll"), Some(t)) => t.saturating_add(LONGPOLL_GRACE_MS),
            _ => self.timeout_ms,
        }
    }

    fn url_of(&self, path: &str) -> String {
        if path.is_empty() {
            self.url.clone()
        } else {
            format!("{}/{}", self.url, path.trim_start_matches('/'))
        }
    }
}

/// A query parameter of a request path, as it is written.
fn param<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

impl Remote for FetchRemote {
    async fn send(&self, request: Request) -> Result<Response, String> {
        let url = self.url_of(&request.path);
        let deadline = self.deadline_ms(&request.path);
        let body = match &request.body {
            Some(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).into(),
            None => JsValue::UNDEFINED,
        };
        let what = || format!("{} {}", request.method.as_str(), self.name());
        let failed = |e: JsValue| {
            let (name, message) = match e.dyn_ref::<js_sys::Error>() {
                Some(err) => (String::from(err.name()), String::from(err.message())),
                None => (String::new(), e.as_string().unwrap_or_default()),
            };
            let secs = deadline.div_ceil(1000);
            if name == "Timeout" && param(&request.path, "feed") == Some("longpoll") {
                // pouchdb-server ignores the longpoll's timeout; CouchDB answers in time.
                format!("{}: longpoll without answer after {secs} s", what())
            } else if name == "Timeout" {
                format!(
                    "{}: no answer within {secs} s (server or network too slow)",
                    what()
                )
            } else {
                format!("{}: no connection (offline?): {name} {message}", what())
            }
        };
        let promise = pb_sync_fetch(
            &url,
            request.method.as_str(),
            self.auth.clone(),
            body,
            f64::from(deadline),
        )
        .map_err(failed)?;
        let answer = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(failed)?;
        let field = |f: &str| js_sys::Reflect::get(&answer, &JsValue::from_str(f));
        let status = field("status")
            .ok()
            .and_then(|s| s.as_f64())
            .ok_or_else(|| format!("{}: an answer without status", what()))?;
        let body = field("body")
            .ok()
            .and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok())
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Ok(Response {
            status: status as u16,
            body,
        })
    }
}
