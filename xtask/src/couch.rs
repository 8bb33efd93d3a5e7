//! A local pouchdb-server (in memory) for `cargo xtask start`: the CouchDB-protocol server of
//! the demo of two devices (issue 18), set up like Apache CouchDB in `docs/sync.md` — a server
//! admin, one database, one user who is its only member, CORS for the app's origin.

use crate::setup;
use crate::util::{self, Result};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const DB: &str = "praxis";
pub const USER: &str = "geraet";
pub const PASSWORD: &str = "geraete-passwort";
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-passwort";
/// The port CouchDB uses; the demo takes the next free one when it is taken.
pub const PREFERRED_PORT: u16 = 5984;
/// CORS values the app needs (the same as `docs/sync.md` gives for Apache CouchDB).
pub const CORS_METHODS: &str = "GET, HEAD, POST, PUT, DELETE";
pub const CORS_HEADERS: &str = "accept, authorization, content-type, origin, referer";

/// A running pouchdb-server, killed on drop.
pub struct Couch {
    child: Child,
    pub host: String,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Couch {
    /// Starts pouchdb-server `--in-memory` on `host` at [`PREFERRED_PORT`] or the next free
    /// port, with CORS for `origins` (`*` = any origin), then creates the admin, the user
    /// and the database.
    pub fn start(host: &str, origins: &[String]) -> Result<Couch> {
        setup::ensure_pouchdb_server()?;
        let port = (PREFERRED_PORT..PREFERRED_PORT + 100)
            .find(|p| std::net::TcpListener::bind((host, *p)).is_ok())
            .ok_or("no free port from 5984 to 6083")?;
        // One directory per port: a demo ended with Ctrl-C leaves its directory behind, and
        // the next demo on that port starts from a clean one.
        let dir = std::env::temp_dir().join(format!("praxisbote-demo-couchdb-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        // pouchdb-server reads config.json in its working directory (and hashes the admin
        // password there); its log goes to log.txt beside it.
        let config = format!(
            "{{\n  \"admins\": {{\"{ADMIN}\": \"{ADMIN_PASSWORD}\"}},\n  \"httpd\": {{\"enable_cors\": true}},\n  \"cors\": {{\"origins\": \"{}\", \"credentials\": true, \"methods\": \"{CORS_METHODS}\", \"headers\": \"{CORS_HEADERS}\"}},\n  \"log\": {{\"file\": \"./log.txt\"}}\n}}\n",
            origins.join(", ")
        );
        std::fs::write(dir.join("config.json"), config)?;
        // Through node, with unhandled rejections as warnings: pouchdb-server 4.2.0 would
        // end on some refused requests (e.g. a non-admin creating a database).
        let child = Command::new("node")
            .arg("--unhandled-rejections=warn")
            .arg(setup::pouchdb_server())
            .args(["--port", &port.to_string(), "--host", host])
            .args(["--no-stdout-logs", "--in-memory"])
            .current_dir(&dir)
            .env("PATH", util::path_env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let couch = Couch {
            child,
            host: host.to_string(),
            port,
            dir,
        };
        couch.wait_ready()?;
        couch.provision()?;
        Ok(couch)
    }

    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, body)) = self.request("GET", "/", None, None) {
                if body.contains("Welcome") {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "pouchdb-server did not answer on port {} within 30 s",
            self.port
        )
        .into())
    }

    fn provision(&self) -> Result<()> {
        let admin = Some((ADMIN, ADMIN_PASSWORD));
        let steps = [
            ("PUT", format!("/{DB}"), String::new(), 201),
            (
                "PUT",
                format!("/_users/org.couchdb.user:{USER}"),
                format!(
                    "{{\"_id\": \"org.couchdb.user:{USER}\", \"name\": \"{USER}\", \"password\": \"{PASSWORD}\", \"roles\": [], \"type\": \"user\"}}"
                ),
                201,
            ),
            (
                "PUT",
                format!("/{DB}/_security"),
                format!(
                    "{{\"admins\": {{\"names\": [], \"roles\": []}}, \"members\": {{\"names\": [\"{USER}\"], \"roles\": []}}}}"
                ),
                200,
            ),
        ];
        for (method, path, body, want) in steps {
            let body = (!body.is_empty()).then_some(body.as_str());
            let (status, answer) = self.request(method, &path, body, admin)?;
            if status != want {
                return Err(format!("{method} {path}: {status} {answer}").into());
            }
        }
        Ok(())
    }

    /// The server URL as a device enters it (loopback name for a loopback server).
    pub fn url(&self) -> String {
        let host = match self.host.as_str() {
            "0.0.0.0" | "::" => "127.0.0.1",
            h => h,
        };
        format!("http://{host}:{}", self.port)
    }

    /// A blocking HTTP/1.0 request with optional Basic auth: (status, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        auth: Option<(&str, &str)>,
    ) -> Result<(u16, String)> {
        request(self.port, method, path, body, auth)
    }
}

impl Drop for Couch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A blocking HTTP/1.0 request to 127.0.0.1:`port`: (status, body).
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    auth: Option<(&str, &str)>,
) -> Result<(u16, String)> {
    let (status, _, body) = request_with_headers(port, method, path, body, auth, &[])?;
    Ok((status, body))
}

/// Like [`request`], with extra request headers; (status, response head, body).
pub fn request_with_headers(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    auth: Option<(&str, &str)>,
    headers: &[(&str, &str)],
) -> Result<(u16, String, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
    );
    if let Some((u, p)) = auth {
        head.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(format!("{u}:{p}").as_bytes())
        ));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
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
        .ok_or_else(|| format!("bad response from port {port}: {head}"))?;
    Ok((status, head.to_string(), body.to_string()))
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo server as `cargo xtask start` sets it up: CORS answers the app's preflight
    /// (authorization + content-type) and tags responses for the app's origin only; the
    /// database needs the user's credentials. Needs pouchdb-server in the tools cache (the
    /// set-up of `cargo xtask test` installs it).
    #[test]
    fn demo_server_answers_cors_for_the_app_and_requires_the_user() {
        let app = "http://127.0.0.1:8080";
        let c = Couch::start("127.0.0.1", &[app.to_string()]).expect("start pouchdb-server");
        let lower = |s: &str| s.to_ascii_lowercase();
        let (st, head, _) = request_with_headers(
            c.port,
            "OPTIONS",
            &format!("/{DB}/_bulk_docs"),
            None,
            None,
            &[
                ("Origin", app),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "authorization,content-type",
                ),
            ],
        )
        .unwrap();
        let head = lower(&head);
        assert!(st == 200 || st == 204, "preflight: {st} {head}");
        assert!(
            head.contains(&format!("access-control-allow-origin: {app}")),
            "{head}"
        );
        assert!(
            head.contains("access-control-allow-credentials: true"),
            "{head}"
        );
        let allowed = |name: &str| {
            head.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_default()
                .to_string()
        };
        let headers = allowed("access-control-allow-headers:");
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{head}"
        );
        let methods = allowed("access-control-allow-methods:");
        assert!(
            methods.contains("post") && methods.contains("put"),
            "{head}"
        );

        // Another origin gets no CORS headers.
        let (_, head, _) = request_with_headers(
            c.port,
            "OPTIONS",
            &format!("/{DB}/_bulk_docs"),
            None,
            None,
            &[
                ("Origin", "http://evil.example"),
                ("Access-Control-Request-Method", "POST"),
            ],
        )
        .unwrap();
        assert!(
            !lower(&head).contains("access-control-allow-origin"),
            "{head}"
        );

        let (st, head, body) = request_with_headers(
            c.port,
            "GET",
            &format!("/{DB}"),
            None,
            Some((USER, PASSWORD)),
            &[("Origin", app)],
        )
        .unwrap();
        assert_eq!(st, 200, "{body}");
        assert!(body.contains(&format!("\"db_name\":\"{DB}\"")), "{body}");
        assert!(lower(&head).contains(&format!("access-control-allow-origin: {app}")));
        let (st, _) = request(c.port, "GET", &format!("/{DB}"), None, None).unwrap();
        assert_eq!(st, 401, "the database is open without credentials");
        let (st, _) = request(
            c.port,
            "GET",
            &format!("/{DB}"),
            None,
            Some((USER, "wrong")),
        )
        .unwrap();
        assert_eq!(st, 401, "a wrong password is accepted");
        let (st, _) = request(
            c.port,
            "PUT",
            &format!("/{DB}/_local/x"),
            Some("{}"),
            Some((USER, PASSWORD)),
        )
        .unwrap();
        assert_eq!(st, 201, "the user cannot write checkpoints");
    }

    #[test]
    fn base64_matches_rfc_4648_examples() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), enc);
        }
    }
}
