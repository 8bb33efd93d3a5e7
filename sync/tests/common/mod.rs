//! Test harness: a real pouchdb-server (npm, installed by `cargo xtask` set-up, path in
//! `PRAXISBOTE_POUCHDB_SERVER`) on a free port, and a [`Remote`] over reqwest that counts
//! its requests and can fail or run a hook before a chosen one.

#![allow(dead_code)]

use praxisbote_sync::{Method, Remote, Request, Response};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The pouchdb-server launcher. Missing is a failure, not a skip: `cargo xtask test`
/// installs it (xtask/src/setup.rs).
pub fn pouchdb_server_bin() -> PathBuf {
    let path = std::env::var_os("PRAXISBOTE_POUCHDB_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home =
                std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
            home.join(".cache/praxisbote-tools/node_modules/.bin/pouchdb-server")
        });
    assert!(
        path.exists(),
        "pouchdb-server not found at {} (cargo xtask test installs it; or set PRAXISBOTE_POUCHDB_SERVER)",
        path.display()
    );
    path
}

pub fn scratch_dir(label: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "praxisbote-sync-{label}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running pouchdb-server, killed on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    cwd: PathBuf,
}

impl Server {
    /// In memory (`--in-memory`, no native module): everything is gone when it stops.
    pub fn in_memory() -> Server {
        Server::start(free_port(), scratch_dir("mem"))
    }

    fn start(port: u16, cwd: PathBuf) -> Server {
        let mut cmd = Command::new(pouchdb_server_bin());
        // It writes config.json and log.txt into its working directory.
        cmd.current_dir(&cwd)
            .args([
                "--port",
                &port.to_string(),
                "--host",
                "127.0.0.1",
                "--no-stdout-logs",
                "--in-memory",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("start pouchdb-server");
        let s = Server {
            child: Some(child),
            port,
            cwd,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(body) = blocking_get(self.port, "/") {
                if body.contains("Welcome") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "pouchdb-server did not answer on port {} within 30 s",
            self.port
        );
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the process (as a crash would).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        let fresh = Server::start(self.port, self.cwd.clone());
        let mut old = std::mem::replace(self, fresh);
        // The directory now belongs to the new process.
        old.cwd = PathBuf::new();
    }
}

impl Drop for Server {
    /// Kills the process and removes its directories.
    fn drop(&mut self) {
        self.kill();
        if !self.cwd.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.cwd);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.0 GET for the readiness check (no runtime needed).
fn blocking_get(port: u16, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Creates a database (`PUT /{db}`) and returns its URL.
pub async fn create_db(server_url: &str, name: &str) -> String {
    let url = format!("{server_url}/{name}");
    let r = reqwest::Client::new().put(&url).send().await.unwrap();
    assert!(r.status().is_success(), "PUT {url}: {}", r.status());
    url
}

/// A hook run before request number N.
pub type Hook = (usize, Box<dyn FnMut()>);

/// A [`Remote`] over reqwest with a request log.
pub struct HttpRemote {
    client: reqwest::Client,
    pub db_url: String,
    /// Every request sent: method, path, body.
    pub log: RefCell<Vec<(Method, String, Option<serde_json::Value>)>>,
    /// Fail (no answer) from this request number on (1-based count of all requests).
    pub fail_from: Cell<Option<usize>>,
    /// Runs before request number N (e.g. kills the server).
    pub before: RefCell<Option<Hook>>,
}

impl HttpRemote {
    pub fn new(db_url: &str) -> HttpRemote {
        HttpRemote {
            // pouchdb-server ignores longpoll's `timeout`: no test request may hang.
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
            db_url: db_url.to_string(),
            log: RefCell::new(Vec::new()),
            fail_from: Cell::new(None),
            before: RefCell::new(None),
        }
    }

    /// Requests whose path starts with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.log
            .borrow()
            .iter()
            .filter(|(_, p, _)| p.starts_with(prefix))
            .count()
    }

    /// Revisions asked for in all `_bulk_get` requests.
    pub fn revisions_fetched(&self) -> usize {
        self.log
            .borrow()
            .iter()
            .filter(|(_, p, _)| p.starts_with("_bulk_get"))
            .map(|(_, _, b)| b.as_ref().unwrap()["docs"].as_array().unwrap().len())
            .sum()
    }

    /// The `since` of each `_changes` request, in order.
    pub fn changes_since(&self) -> Vec<String> {
        self.log
            .borrow()
            .iter()
            .filter(|(_, p, _)| p.starts_with("_changes"))
            .map(|(_, p, _)| {
                p.split('&')
                    .find_map(|kv| kv.strip_prefix("since="))
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    pub fn reset_log(&self) {
        self.log.borrow_mut().clear();
    }
}

impl Remote for HttpRemote {
    async fn send(&self, request: Request) -> Result<Response, String> {
        let n = {
            let mut log = self.log.borrow_mut();
            log.push((
                request.method,
                request.path.clone(),
                request
                    .body
                    .as_ref()
                    .map(|b| serde_json::from_slice(b).unwrap()),
            ));
            log.len()
        };
        if let Some((at, hook)) = self.before.borrow_mut().as_mut() {
            if *at == n {
                hook();
            }
        }
        if self.fail_from.get().is_some_and(|f| n >= f) {
            return Err(format!("injected failure at request {n}"));
        }
        let url = if request.path.is_empty() {
            self.db_url.clone()
        } else {
            format!("{}/{}", self.db_url, request.path)
        };
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Put => reqwest::Method::PUT,
            Method::Post => reqwest::Method::POST,
        };
        let mut rb = self
            .client
            .request(method, url)
            .header("Accept", "application/json");
        if let Some(body) = request.body {
            rb = rb.header("Content-Type", "application/json").body(body);
        }
        let r = rb.send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let body = r.bytes().await.map_err(|e| e.to_string())?.to_vec();
        Ok(Response { status, body })
    }
}
