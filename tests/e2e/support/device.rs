//! Devices of one practice: each a headless Chromium with its own profile directory
//! (`--user-data-dir`), so each has its own IndexedDB, service worker and storage, like a
//! reception PC and a tablet. One test can drive several at once; each can be cut off the
//! network and reconnected ([`Session::set_offline`], Chromium's network emulation) and
//! restarted with the same profile ([`Device::restart_browser`]).

// A harness for the sync tests: not every helper is used by every test yet.
#![allow(dead_code)]

use super::pouch::{PouchServer, PASSWORD, USER};
use super::{env, Session};
use fantoccini::ClientBuilder;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A browser with its own profile. Derefs to its [`Session`].
pub struct Device {
    session: Option<Session>,
    pub name: String,
    profile: PathBuf,
    base: String,
}

impl Device {
    /// A fresh device (empty profile) that opens the app at `PB_APP_URL`.
    pub async fn start(name: &str) -> Device {
        Device::start_at(name, &env("PB_APP_URL")).await
    }

    /// A fresh device that opens the app served at `base` (e.g. a second relay's URL).
    pub async fn start_at(name: &str, base: &str) -> Device {
        static N: AtomicU32 = AtomicU32::new(0);
        let profile = std::env::temp_dir().join(format!(
            "praxisbote-e2e-device-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("profile dir");
        let base = base.trim_end_matches('/').to_string();
        let session = Some(session_with_profile(&profile, &base).await);
        Device {
            session,
            name: name.to_string(),
            profile,
            base,
        }
    }

    /// The profile directory (IndexedDB lives below it).
    pub fn profile(&self) -> &Path {
        &self.profile
    }

    /// Closes the browser (as when the device is switched off mid-work) and starts it again
    /// with the same profile: its IndexedDB and service worker are still there. The new
    /// browser shows a blank page; call `open` next.
    pub async fn restart_browser(&mut self) {
        drop(self.session.take());
        self.session = Some(session_with_profile(&self.profile, &self.base).await);
    }

    /// A request from the page to the CouchDB server with `fetch` (cross-origin, with the
    /// database user's Basic auth and, with a body, `Content-Type: application/json`):
    /// (status, parsed JSON body). Status 0 = the request failed (offline, CORS refused);
    /// the body is then `{"error": message}`.
    pub async fn couch_fetch(
        &self,
        server: &PouchServer,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        self.couch_fetch_as(server, method, path, body, Some((USER, PASSWORD)))
            .await
    }

    /// Like [`Device::couch_fetch`] with other credentials (`None`: no Authorization header).
    pub async fn couch_fetch_as(
        &self,
        server: &PouchServer,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        auth: Option<(&str, &str)>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}/{}", server.url(), path.trim_start_matches('/'));
        let auth = auth.map(|(u, p)| format!("{u}:{p}"));
        let r = self
            .execute_async(
                "const [url, method, body, auth, done] = arguments;
                 const headers = {'Accept': 'application/json'};
                 if (auth !== null) headers['Authorization'] = 'Basic ' + btoa(auth);
                 const init = {method, headers, cache: 'no-store'};
                 if (body !== null) {
                   headers['Content-Type'] = 'application/json';
                   init.body = JSON.stringify(body);
                 }
                 fetch(url, init)
                   .then(r => r.text().then(t => {
                     let j; try { j = JSON.parse(t); } catch (e) { j = {text: t}; }
                     done([r.status, j]);
                   }))
                   .catch(e => done([0, {error: String(e)}]));",
                vec![
                    url.into(),
                    method.into(),
                    body.unwrap_or(serde_json::Value::Null),
                    auth.map_or(serde_json::Value::Null, serde_json::Value::from),
                ],
            )
            .await;
        let status = r[0].as_u64().unwrap_or(0) as u16;
        (status, r[1].clone())
    }
}

impl std::ops::Deref for Device {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session.as_ref().expect("the device's browser runs")
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // The browser first (it holds the profile), then its directory.
        drop(self.session.take());
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A WebDriver session whose Chromium uses `profile` as its user data directory.
async fn session_with_profile(profile: &Path, base: &str) -> Session {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--no-first-run", "--disable-component-update",
                     "--disable-sync", "--window-size=1280,900",
                     format!("--user-data-dir={}", profile.display())]
        }),
    );
    let client = ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&env("PB_WEBDRIVER_URL"))
        .await
        .expect("connect to chromedriver");
    Session {
        client,
        base: base.to_string(),
    }
}
