//! A thin layer over fantoccini: find by accessible name, wait, fill, click. Sync tests:
//! [`PouchServer`] (a CouchDB-protocol server) and [`Device`] (a browser with its own
//! profile; several in one test).

mod device;
mod pouch;

#[allow(unused_imports)]
pub use device::Device;
#[allow(unused_imports)]
pub use pouch::{
    base64, origin_of, PouchServer, RawDoc, ADMIN, ADMIN_PASSWORD, DB, PASSWORD, USER,
};

use fantoccini::elements::Element;
use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use std::time::Duration;

pub struct Session {
    client: Client,
    base: String,
}

const WAIT: Duration = Duration::from_secs(30);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests with `cargo xtask test`")
    })
}

/// XPath string literal for any text (handles quotes).
fn xpath_lit(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("concat('{}')", s.replace('\'', "', \"'\", '"))
    }
}

impl Session {
    pub async fn start() -> Session {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--no-first-run", "--disable-component-update",
                         "--disable-sync", "--window-size=1280,900"]
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
            base: env("PB_APP_URL"),
        }
    }

    /// Like [`Session::start`], with downloads saved into `dir` without asking.
    pub async fn start_with_download_dir(dir: &std::path::Path) -> Session {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--no-first-run", "--disable-component-update",
                         "--disable-sync", "--window-size=1280,900"],
                "prefs": {
                    "download.default_directory": dir.to_string_lossy(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true
                }
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
            base: env("PB_APP_URL"),
        }
    }

    /// Like [`Session::start`], but against an app served by another relay (own process).
    pub async fn start_at(base: &str) -> Session {
        let mut s = Session::start().await;
        s.base = base.trim_end_matches('/').to_string();
        s
    }

    /// How long a script may run (or wait for a busy page) before WebDriver gives up.
    pub async fn set_script_timeout(&self, timeout: Duration) {
        self.client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(timeout),
                None,
                None,
            ))
            .await
            .expect("set timeouts");
    }

    /// Runs an async script (the last argument is the callback) and returns its value.
    pub async fn execute_async(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> serde_json::Value {
        self.client
            .execute_async(script, args)
            .await
            .expect("execute_async")
    }

    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}/{path}", self.base))
            .await
            .expect("goto");
    }

    pub async fn reload(&self) {
        self.client.refresh().await.expect("reload");
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    pub async fn wait_for(&self, loc: Locator<'_>) -> Element {
        let what = format!("{loc:?}");
        match self.client.wait().at_most(WAIT).for_element(loc).await {
            Ok(e) => e,
            Err(e) => {
                // Show what the page says, so a failure explains itself.
                let page = match self.client.find(Locator::Css("main")).await {
                    Ok(m) => m.text().await.unwrap_or_default(),
                    Err(_) => self.client.source().await.unwrap_or_default(),
                };
                panic!("waiting for {what}: {e}\n--- page text ---\n{page}");
            }
        }
    }

    #[allow(dead_code)]
    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    pub async fn wait_css(&self, css: &str) -> Element {
        self.wait_for(Locator::Css(css)).await
    }

    /// Waits until some element contains the text.
    pub async fn wait_text(&self, text: &str) -> Element {
        let xp = format!(
            "//*[contains(normalize-space(.), {})][not(*[contains(normalize-space(.), {})])]",
            xpath_lit(text),
            xpath_lit(text)
        );
        self.wait_for(Locator::XPath(&xp)).await
    }

    /// Waits for a live region (role=status) whose text contains `needle`; returns its text.
    pub async fn wait_status_matching(&self, needle: &str) -> String {
        let xp = format!(
            "//*[@role='status'][contains(normalize-space(.), {})]",
            xpath_lit(needle)
        );
        // A live region may be redrawn between finding it and reading it: read again.
        for _ in 0..20 {
            match self.wait_for(Locator::XPath(&xp)).await.text().await {
                Ok(text) => return text,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("status text: {e}"),
            }
        }
        panic!("status {needle:?} was redrawn 20 times while being read");
    }

    pub async fn all_texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
        {
            out.push(e.text().await.unwrap_or_default());
        }
        out
    }

    async fn by_label(&self, label: &str) -> Element {
        let xp = format!(
            "//*[@aria-label={l}] | //label[normalize-space(text())={l}]//*[self::input or self::select or self::textarea]",
            l = xpath_lit(label)
        );
        self.wait_for(Locator::XPath(&xp)).await
    }

    pub async fn fill_by_label(&self, label: &str, text: &str) {
        let el = self.by_label(label).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    /// Chooses a file in the file input named `label`.
    pub async fn upload_by_label(&self, label: &str, path: &std::path::Path) {
        let el = self.by_label(label).await;
        el.send_keys(&path.to_string_lossy())
            .await
            .expect("choose file");
    }

    pub async fn click_by_label(&self, label: &str) {
        self.by_label(label).await.click().await.expect("click");
    }

    pub async fn checkbox_by_label(&self, label: &str) -> bool {
        let el = self.by_label(label).await;
        el.prop("checked").await.expect("checked").as_deref() == Some("true")
    }

    pub async fn select_by_label(&self, label: &str, option_text: &str) {
        let el = self.by_label(label).await;
        el.select_by_label(option_text)
            .await
            .expect("select option");
    }

    pub async fn text_by_label(&self, label: &str) -> String {
        self.by_label(label).await.text().await.expect("text")
    }

    pub async fn click_button(&self, name: &str) {
        let xp = format!(
            "//button[normalize-space(.)={l} or @aria-label={l}]",
            l = xpath_lit(name)
        );
        self.click_xpath(&xp, name).await;
    }

    /// Clicks the element `xp` finds. A page that is still drawing (appointments arriving
    /// after the persons) may move it between WebDriver finding its centre and clicking
    /// there: then it is found again.
    async fn click_xpath(&self, xp: &str, name: &str) {
        for attempt in 0.. {
            match self.wait_for(Locator::XPath(xp)).await.click().await {
                Ok(_) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if attempt < 20
                        && matches!(
                            e.error,
                            fantoccini::error::ErrorStatus::ElementClickIntercepted
                                | fantoccini::error::ErrorStatus::StaleElementReference
                        ) =>
                {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                Err(e) => panic!("click {name:?}: {e}"),
            }
        }
    }

    /// Opens Einstellungen and waits until the page has stopped growing: the appointment
    /// types are drawn once the appointments are read, which moves every form below them.
    pub async fn open_settings(&self) {
        self.open("#/einstellungen").await;
        self.wait_text("Termine in Nachrichten").await;
        let start = std::time::Instant::now();
        while self
            .script("return document.body.innerText.includes('Termine werden geladen')")
            .await
            .as_bool()
            .unwrap_or(false)
        {
            // A first start on a fresh profile generates the demo practice (2,000+
            // appointments) before it reads them: on a loaded 2-core machine that has taken
            // longer than WAIT once.
            if start.elapsed() > 2 * WAIT {
                // For the diagnosis: what the page shows (banners, errors) at that moment.
                let text = self.script("return document.body.innerText;").await;
                panic!(
                    "the appointments were never read; page text:\n{}",
                    text.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs a script in the page (`return …` gives a value; `arguments[0]` is the callback of
    /// `execute_async`).
    pub async fn script(&self, js: &str) -> serde_json::Value {
        self.client.execute(js, vec![]).await.expect("script")
    }

    pub async fn script_async(&self, js: &str) -> serde_json::Value {
        self.client
            .execute_async(js, vec![])
            .await
            .expect("async script")
    }

    /// On the Versand page: takes every person of a source ("Terminliste", "Interessenten" …)
    /// with "Alle auswählen" → "Aktion" → purpose → channel button into the review, and
    /// returns the review's count line ("… übernommen").
    pub async fn take_over_all(&self, source: &str, purpose: &str, channel_button: &str) -> String {
        self.click_button(source).await;
        self.wait_status_matching("Treffer").await;
        self.click_button("Alle auswählen").await;
        self.click_button("Aktion").await;
        self.select_by_label("Zweck", purpose).await;
        self.click_button(channel_button).await;
        self.wait_status_matching("übernommen").await
    }

    /// Polls a script until it returns `true` (30 s at most).
    pub async fn wait_until(&self, what: &str, js: &str) {
        self.wait_until_for(what, js, WAIT.as_secs()).await;
    }

    /// Polls a script until it returns `true` (`secs` at most).
    pub async fn wait_until_for(&self, what: &str, js: &str, secs: u64) {
        let start = std::time::Instant::now();
        loop {
            if self.script(js).await == serde_json::Value::Bool(true) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {what} ({js})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the service worker controls the page.
    pub async fn wait_for_service_worker(&self) {
        self.wait_until(
            "the service worker to control the page",
            "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);",
        )
        .await;
    }

    /// The URLs of every response in the page's Cache Storage (the service worker's precache).
    pub async fn precached_urls(&self) -> Vec<String> {
        let cached = self
            .script_async(
                "const done = arguments[0];
                 caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))
                   .then(lists => done(lists.flat().map(r => r.url)));",
            )
            .await;
        serde_json::from_value(cached).expect("url list")
    }

    /// Presses a key on whatever element has the focus (keyboard-only use).
    pub async fn press(&self, key: fantoccini::key::Key) {
        let el = self.client.active_element().await.expect("focused element");
        el.send_keys(&key.to_string()).await.expect("press key");
    }

    /// Types text into whatever element has the focus (keyboard-only use).
    pub async fn type_text(&self, text: &str) {
        let el = self.client.active_element().await.expect("focused element");
        el.send_keys(text).await.expect("type");
    }

    /// The accessible name of the focused element, roughly: aria-label, else its text.
    pub async fn focused_name(&self) -> String {
        self.script(
            "const e = document.activeElement;
             return e ? (e.getAttribute('aria-label') || e.innerText || e.value || '').trim() : '';",
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Moves the focus with Tab until the element named `name` has it (like a keyboard user).
    pub async fn tab_to(&self, name: &str) {
        let mut seen = Vec::new();
        for _ in 0..400 {
            self.press(fantoccini::key::Key::Tab).await;
            let now = self.focused_name().await;
            if now == name {
                return;
            }
            seen.push(now);
        }
        panic!("Tab never reached {name:?}; focus went through: {seen:?}");
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) -> serde_json::Value {
        self.client
            .issue_cmd(Cdp {
                cmd: cmd.to_string(),
                params,
            })
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
    }

    /// Chromium network emulation: cut the page off the network (or reconnect it).
    pub async fn set_offline(&self, offline: bool) {
        self.cdp("Network.enable", serde_json::json!({})).await;
        self.cdp(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": offline, "latency": 0,
                "downloadThroughput": -1, "uploadThroughput": -1
            }),
        )
        .await;
    }

    pub async fn click_link(&self, name: &str) {
        let xp = format!("//a[normalize-space(.)={}]", xpath_lit(name));
        self.click_xpath(&xp, name).await;
    }
}

/// chromedriver's `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Windows: a second window of one session shares the browser profile (IndexedDB, service
/// worker, `BroadcastChannel`, Web Locks) with the first, like a second tab of the app.
impl Session {
    /// Opens a new window and makes it the current one. Returns (new window, previous one).
    pub async fn new_window(&self) -> (WindowHandle, WindowHandle) {
        let before = self.client.window().await.expect("current window");
        let w = self.client.new_window(false).await.expect("new window");
        self.client
            .switch_to_window(w.handle.clone())
            .await
            .expect("switch to the new window");
        (w.handle, before)
    }

    /// Opens a new tab in front of the current one (which goes into the background: its
    /// document becomes hidden) and makes it current. Returns (new tab, previous one).
    pub async fn new_tab(&self) -> (WindowHandle, WindowHandle) {
        let before = self.client.window().await.expect("current window");
        let w = self.client.new_window(true).await.expect("new tab");
        self.client
            .switch_to_window(w.handle.clone())
            .await
            .expect("switch to the new tab");
        (w.handle, before)
    }

    /// Makes `window` the current window (commands and scripts go to it).
    pub async fn switch_to(&self, window: &WindowHandle) {
        self.client
            .switch_to_window(window.clone())
            .await
            .expect("switch window");
    }

    /// Closes the current window (its page goes away, as when a tab is closed).
    pub async fn close_window(&self) {
        self.client.close_window().await.expect("close window");
    }
}

impl Session {
    /// An attribute of the first element matching `css` (waits for the element).
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.wait_css(css)
            .await
            .attr(name)
            .await
            .expect("attribute")
    }
}

/// All unsigned numbers in a text, in order ("3 ausgewählt · 2 erreichbar" → [3, 2]).
pub fn numbers(text: &str) -> Vec<usize> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

impl Drop for Session {
    fn drop(&mut self) {
        // Close the browser session even when a test panicked (needs the multi-thread runtime).
        let client = self.client.clone();
        tokio::task::block_in_place(|| {
            let _ = tokio::runtime::Handle::current().block_on(client.close());
        });
    }
}
