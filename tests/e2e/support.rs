//! A thin layer over fantoccini: find by accessible name, wait, fill, click.

use fantoccini::elements::Element;
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
        self.wait_for(Locator::XPath(&xp))
            .await
            .text()
            .await
            .expect("status text")
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
        self.wait_for(Locator::XPath(&xp))
            .await
            .click()
            .await
            .expect("click button");
    }

    pub async fn click_link(&self, name: &str) {
        let xp = format!("//a[normalize-space(.)={}]", xpath_lit(name));
        self.wait_for(Locator::XPath(&xp))
            .await
            .click()
            .await
            .expect("click link");
    }
}

impl Session {
    /// Runs an asynchronous script in the page (the last argument is the callback).
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
