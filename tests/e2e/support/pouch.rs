//! A real CouchDB-protocol server for the sync tests: `pouchdb-server` (npm, installed by
//! `cargo xtask` into the tools cache; `cargo xtask test` passes its path in
//! `PRAXISBOTE_POUCHDB_SERVER`), in memory, on a free port, with
//!
//! - CORS for the app's origin (`PB_APP_URL`; the app calls the server with `fetch` from
//!   another port, with an `Authorization` header and JSON bodies),
//! - CouchDB's own authentication: a server admin ([`ADMIN`]) and one database user
//!   ([`USER`] / [`PASSWORD`]) who is the only member of the database ([`DB`], `_security`),
//!   so a request without the user's Basic auth gets 401, as with Apache CouchDB set up as in
//!   `docs/sync.md`.
//!
//! Killed on drop. HTTP here is a minimal blocking HTTP/1.0 client (no runtime needed, so
//! it works in `Drop` and between WebDriver calls).

// A harness for the sync tests: not every helper is used by every test yet.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The database the app syncs with.
pub const DB: &str = "praxis";
/// The database user the app logs in with (member of [`DB`] only; no server admin).
pub const USER: &str = "geraet";
pub const PASSWORD: &str = "geraete-passwort";
/// The server admin (creates the database, the user and the security object; the test's
/// scans of everything on the server use it too).
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-passwort";

/// CORS values (the same as `docs/sync.md` gives for Apache CouchDB).
pub const CORS_METHODS: &str = "GET, HEAD, POST, PUT, DELETE";
pub const CORS_HEADERS: &str = "accept, authorization, content-type, origin, referer";

/// The pouchdb-server launcher: `PRAXISBOTE_POUCHDB_SERVER`, else the tools cache. Missing
/// is a failure, not a skip.
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

/// The origin (`scheme://host:port`) of a URL such as `PB_APP_URL`.
pub fn origin_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    u.origin().ascii_serialization()
}

/// One document body as the server stores it.
#[derive(Debug, Clone)]
pub struct RawDoc {
    /// Document id (`_local/…` for local documents, `_security` for the security object).
    pub id: String,
    /// Revision (empty for `_local` documents and `_security`).
    pub rev: String,
    /// The JSON text exactly as the server sent it.
    pub body: String,
}

/// A running pouchdb-server (in memory), killed on drop.
pub struct PouchServer {
    child: Option<Child>,
    pub port: u16,
    origins: Vec<String>,
    dir: PathBuf,
}

impl PouchServer {
    /// On a free port, with CORS for the app's origin (`PB_APP_URL`), the user and the
    /// database created.
    pub fn start() -> PouchServer {
        let app = std::env::var("PB_APP_URL").unwrap_or_else(|_| {
            panic!("PB_APP_URL is not set: run the end-to-end tests with `cargo xtask test`")
        });
        PouchServer::start_for(&[&origin_of(&app)])
    }

    /// Like [`PouchServer::start`], with CORS for these origins (e.g. an app served by a
    /// second relay: `origin_of(&world.base())`).
    pub fn start_for(origins: &[&str]) -> PouchServer {
        PouchServer::start_on(free_port(), origins.iter().map(|o| o.to_string()).collect())
    }

    fn start_on(port: u16, origins: Vec<String>) -> PouchServer {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "praxisbote-e2e-pouchdb-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("pouchdb-server dir");
        let mut s = PouchServer {
            child: None,
            port,
            origins,
            dir,
        };
        s.spawn();
        s
    }

    /// Writes the configuration and starts the process, then creates the user and the
    /// database (the server is in memory: after every start it is empty).
    fn spawn(&mut self) {
        // pouchdb-server reads `config.json` in its working directory (it hashes the admin
        // password in place) and writes `log.txt` there.
        let config = serde_json::json!({
            "admins": { ADMIN: ADMIN_PASSWORD },
            "httpd": { "enable_cors": true },
            "cors": {
                "origins": self.origins.join(", "),
                "credentials": true,
                "methods": CORS_METHODS,
                "headers": CORS_HEADERS,
            },
            "log": { "file": "./log.txt", "level": "info" },
        });
        let _ = std::fs::remove_file(self.dir.join("log.txt"));
        std::fs::write(
            self.dir.join("config.json"),
            serde_json::to_string_pretty(&config).unwrap(),
        )
        .expect("write config.json");
        let bin = pouchdb_server_bin();
        // Through node with unhandled rejections as warnings: pouchdb-server 4.2.0 answers
        // some unauthorised requests (PUT or DELETE of a database by a non-admin) with an
        // unhandled rejection, which would end the process under Node ≥ 15.
        let mut cmd = if is_node_script(&bin) {
            let mut c = Command::new("node");
            c.arg("--unhandled-rejections=warn").arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        cmd.current_dir(&self.dir)
            .args([
                "--port",
                &self.port.to_string(),
                "--host",
                "127.0.0.1",
                "--no-stdout-logs",
                "--in-memory",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(cmd.spawn().expect("start pouchdb-server"));
        self.wait_ready();
        self.provision();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, body)) = self.request("GET", "/", None, None) {
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

    /// The database, the user and the security object (the user is the only member).
    fn provision(&self) {
        let admin = Some((ADMIN, ADMIN_PASSWORD));
        let (st, body) = self.request("PUT", &format!("/{DB}"), None, admin).unwrap();
        assert_eq!(st, 201, "create {DB}: {body}");
        let user = serde_json::json!({
            "_id": format!("org.couchdb.user:{USER}"),
            "name": USER, "password": PASSWORD, "roles": [], "type": "user"
        });
        let (st, body) = self
            .request(
                "PUT",
                &format!("/_users/org.couchdb.user:{USER}"),
                Some(&user.to_string()),
                admin,
            )
            .unwrap();
        assert_eq!(st, 201, "create user {USER}: {body}");
        let security = serde_json::json!({
            "admins": { "names": [], "roles": [] },
            "members": { "names": [USER], "roles": [] }
        });
        let (st, body) = self
            .request(
                "PUT",
                &format!("/{DB}/_security"),
                Some(&security.to_string()),
                admin,
            )
            .unwrap();
        assert_eq!(st, 200, "security of {DB}: {body}");
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): what a user types as the CouchDB URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The database URL: `http://127.0.0.1:PORT/praxis`.
    pub fn db_url(&self) -> String {
        format!("{}/{DB}", self.url())
    }

    /// The origins CORS allows.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Stops the server (as a crash or a power cut would): requests fail until
    /// [`PouchServer::restart`].
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server if it runs and starts it again on the same port — empty (it is in
    /// memory), with the database, the user and CORS set up again, as a server that lost
    /// its data. The devices' next runs find no partner for their checkpoints and refill it.
    pub fn restart(&mut self) {
        self.stop();
        // The port was just released; the new process binds it again.
        self.spawn();
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// One request as the server admin; (status, body).
    pub fn admin(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        self.request(method, path, body, Some((ADMIN, ADMIN_PASSWORD)))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// One request as the database user; (status, body).
    pub fn as_user(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        self.request(method, path, body, Some((USER, PASSWORD)))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// The database's `doc_count`, `update_seq` … (`GET /praxis` as the admin).
    pub fn db_info(&self) -> serde_json::Value {
        let (st, body) = self.admin("GET", &format!("/{DB}"), None);
        assert_eq!(st, 200, "{body}");
        serde_json::from_str(&body).expect("db info")
    }

    /// Every document body the server holds for the database, as the server sends it: every
    /// revision it still has of every document (leaves of all branches, deleted ones and
    /// ancestors not yet compacted away), design documents, every `_local` document
    /// (replication logs: their ids are taken from the server's request log, because no
    /// listing of `_local` documents exists in pouchdb-server) and the `_security`
    /// object. For "the server sees only ciphertext" scans.
    pub fn all_docs_raw(&self) -> Vec<RawDoc> {
        let mut out = Vec::new();
        let (st, changes) = self.admin("GET", &format!("/{DB}/_changes?style=all_docs"), None);
        assert_eq!(st, 200, "_changes: {changes}");
        let changes: serde_json::Value = serde_json::from_str(&changes).unwrap();
        for row in changes["results"].as_array().expect("results") {
            let id = row["id"].as_str().expect("id");
            let enc = encode_id(id);
            let mut revs: Vec<String> = Vec::new();
            let (st, leaves) =
                self.admin("GET", &format!("/{DB}/{enc}?open_revs=all&revs=true"), None);
            assert_eq!(st, 200, "open_revs of {id}: {leaves}");
            let leaves: serde_json::Value = serde_json::from_str(&leaves).unwrap();
            for leaf in leaves.as_array().expect("open_revs list") {
                let Some(doc) = leaf.get("ok") else { continue };
                let start = doc["_revisions"]["start"].as_u64().unwrap_or(0);
                let ids = doc["_revisions"]["ids"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for (i, h) in ids.iter().enumerate() {
                    let rev = format!("{}-{}", start - i as u64, h.as_str().unwrap_or_default());
                    if !revs.contains(&rev) {
                        revs.push(rev);
                    }
                }
            }
            for rev in revs {
                let (st, body) = self.admin("GET", &format!("/{DB}/{enc}?rev={rev}"), None);
                if st == 200 {
                    out.push(RawDoc {
                        id: id.to_string(),
                        rev,
                        body,
                    });
                }
            }
        }
        for id in self.local_ids() {
            let (st, body) = self.admin("GET", &format!("/{DB}/_local/{}", encode_id(&id)), None);
            if st == 200 {
                out.push(RawDoc {
                    id: format!("_local/{id}"),
                    rev: String::new(),
                    body,
                });
            }
        }
        let (st, body) = self.admin("GET", &format!("/{DB}/_security"), None);
        assert_eq!(st, 200, "{body}");
        out.push(RawDoc {
            id: "_security".into(),
            rev: String::new(),
            body,
        });
        out
    }

    /// The stored documents (see [`PouchServer::all_docs_raw`]) whose text contains any of
    /// `needles`, as (document id, needle). Empty = the server holds none of them.
    pub fn documents_containing(&self, needles: &[&str]) -> Vec<(String, String)> {
        let mut hits = Vec::new();
        for d in self.all_docs_raw() {
            // JSON may escape non-ASCII (`\u00fc`): compare the decoded strings too.
            let decoded = unescaped(&d.body);
            for n in needles {
                if d.body.contains(n) || decoded.contains(n) {
                    hits.push((d.id.clone(), n.to_string()));
                }
            }
        }
        hits
    }

    /// Ids (without `_local/`) of the local documents of the database that the server's
    /// request log names.
    fn local_ids(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("log.txt")).unwrap_or_default();
        let prefix = format!("/{DB}/_local/");
        let mut ids: Vec<String> = Vec::new();
        for line in log.lines() {
            let Some(at) = line.find(&prefix) else {
                continue;
            };
            let rest = &line[at + prefix.len()..];
            let raw = rest
                .split(|c: char| c.is_whitespace() || c == '?')
                .next()
                .unwrap_or_default();
            let id = percent_decode(raw);
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// A blocking HTTP/1.0 request to the server with optional Basic auth.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        auth: Option<(&str, &str)>,
    ) -> std::io::Result<(u16, String)> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nAccept: application/json\r\n",
            self.port
        );
        if let Some((u, p)) = auth {
            head.push_str(&format!(
                "Authorization: Basic {}\r\n",
                base64(format!("{u}:{p}").as_bytes())
            ));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method == "PUT" || method == "POST" {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())?;
        s.write_all(body.as_bytes())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad response: {head}")))?;
        Ok((status, body.to_string()))
    }
}

impl Drop for PouchServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_node_script(path: &std::path::Path) -> bool {
    std::fs::read(path)
        .map(|b| b.starts_with(b"#!/usr/bin/env node"))
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A document id in a URL path (CouchDB: `/` and everything outside unreserved encoded).
fn encode_id(id: &str) -> String {
    let mut out = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
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

/// `\uXXXX` escapes of a JSON text resolved (a crude view for substring scans).
fn unescaped(json: &str) -> String {
    fn strings(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
                out.push_str(k);
                out.push('\n');
                strings(x, out);
            }),
            other => {
                out.push_str(&other.to_string());
                out.push('\n');
            }
        }
    }
    let mut out = String::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(json) {
        strings(&v, &mut out);
    }
    out
}

/// Standard base64 with padding (Basic auth).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}
