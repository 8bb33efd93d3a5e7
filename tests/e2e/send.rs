//! Sending from the app (issue 7) against real processes: the relay binary (`PB_RELAY_BIN`)
//! serving the built app (`PB_DIST`) with a TOML config whose SMTP account points at a real
//! SMTP server, Debian's aiosmtpd (`python3 -m aiosmtpd -c aiosmtpd.handlers.Mailbox DIR`,
//! a Maildir). Each test starts its own SMTP server and relay on a fixed port (the app's
//! origin, so IndexedDB survives a relay restart) and stops them when it ends.

use crate::support::{self, Session};
use praxisbote::domain::outbox::{
    queue_batch, Batch, ConsentBasis, Content, OutboxMessage, QueueItem,
};
use praxisbote::domain::{Channel, PersonId, Purpose};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const TOKEN: &str = "e2e-send-token-0123456789";

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with `cargo xtask test`"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "pb-e2e-send-{tag}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A child process, stopped on drop.
struct Proc(Child);

impl Proc {
    /// SIGTERM (graceful shutdown) and wait.
    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_smtp(port: u16) {
    use std::io::{Read, Write};
    let t = Instant::now();
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 512];
            if let Ok(n) = s.read(&mut buf) {
                if buf[..n].starts_with(b"220") {
                    let _ = s.write_all(b"QUIT\r\n");
                    let _ = s.read(&mut buf);
                    return;
                }
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "aiosmtpd on {port} not ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const REJECTING_SERVER: &str = r#"
import asyncio, os, sys, itertools
from aiosmtpd.controller import Controller
base = sys.argv[2]
counter = itertools.count()
class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('reject') and os.path.exists(os.path.join(base, 'reject.flag')):
            return '550 5.1.1 <%s>: Recipient address rejected: User unknown' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'
    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        tmp = os.path.join(base, 'maildir', 'tmp.%d' % n)
        with open(tmp, 'wb') as f:
            f.write(('X-RcptTo: %s\r\n' % ','.join(envelope.rcpt_tos)).encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(base, 'maildir', 'new', '%06d.eml' % n))
        return '250 2.0.0 Ok: queued'
c = Controller(Handler(), hostname='127.0.0.1', port=int(sys.argv[1]))
c.start()
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
"#;

const SMS_STUB: &str = r#"
import http.server, sys, json
out = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        if self.path != '/gateway/send' or self.headers.get('X-Auth') != 'gen-secret':
            self.send_response(403); self.end_headers(); return
        json.loads(body)
        with open(out, 'ab') as f:
            f.write(body.replace(b'\n', b' ') + b'\n')
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
"#;

/// The test world: aiosmtpd (Maildir), a relay config and the relay process.
pub(crate) struct World {
    pub(crate) dir: PathBuf,
    port: u16,
    _smtp: Proc,
    _sms: Proc,
    relay: Option<Proc>,
}

impl World {
    /// `rate`: the SMTP account's messages per second (slow enough to reload mid-send).
    pub(crate) fn start(tag: &str, rate: Option<u32>) -> World {
        World::start_with(tag, rate, false)
    }

    /// `rejecting`: instead of the stock Mailbox handler, a small aiosmtpd handler that writes
    /// the same Maildir format and answers `550` for `reject*` recipients while the file
    /// `reject.flag` exists in the test directory (like a real server refusing a mailbox).
    fn start_with(tag: &str, rate: Option<u32>, rejecting: bool) -> World {
        let dir = temp_dir(tag);
        let smtp_port = free_port();
        let mut cmd = Command::new("/usr/bin/python3");
        if rejecting {
            std::fs::create_dir_all(dir.join("maildir").join("new")).unwrap();
            std::fs::write(dir.join("reject.flag"), "").unwrap();
            std::fs::write(dir.join("server.py"), REJECTING_SERVER).unwrap();
            cmd.arg(dir.join("server.py"))
                .arg(smtp_port.to_string())
                .arg(&dir);
        } else {
            cmd.args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{smtp_port}"))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(dir.join("maildir"));
        }
        let smtp = Proc(
            cmd.stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3-aiosmtpd (Debian) must be installed"),
        );
        wait_smtp(smtp_port);
        // SMS: a local STUB of a generic HTTP SMS gateway (the relay's `provider = "generic"`,
        // docs/design/sms-providers.md): POST /gateway/send, header X-Auth, the JSON body of the
        // configured template; 200 = accepted. It appends every body to sms.jsonl.
        let sms_port = free_port();
        std::fs::write(dir.join("sms_stub.py"), SMS_STUB).unwrap();
        let sms = Proc(
            Command::new("/usr/bin/python3")
                .arg(dir.join("sms_stub.py"))
                .arg(sms_port.to_string())
                .arg(dir.join("sms.jsonl"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3"),
        );
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", sms_port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(20), "SMS stub not ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        let port = free_port();
        let rate = rate
            .map(|r| format!("rate_per_second = {r}\n"))
            .unwrap_or_default();
        std::fs::write(
            dir.join("relay.toml"),
            format!(
                r#"allowed_origins = ["http://127.0.0.1:{port}"]
public_url = "http://127.0.0.1:{port}"
retry_base_seconds = 1
retry_max_seconds = 2
max_attempts = 3
requests_per_minute = 100000
[[tokens]]
name = "e2e"
token = "{TOKEN}"
[[smtp]]
name = "praxis"
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "info@praxis.example"
from_name = "Praxis Dr. Müller"
pool_size = 4
{rate}
[[sms]]
name = "gateway"
provider = "generic"
url = "http://127.0.0.1:{sms_port}/gateway/send"
headers = {{ X-Auth = "gen-secret" }}
body_template = '{{"number":"{{{{to}}}}","message":"{{{{text}}}}","ref":"{{{{id}}}}"}}'
"#
            ),
        )
        .unwrap();
        // The config holds the token: the relay refuses a config others can read.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.join("relay.toml"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        let mut w = World {
            dir,
            port,
            _smtp: smtp,
            _sms: sms,
            relay: None,
        };
        w.start_relay();
        w
    }

    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn start_relay(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("relay.log"))
            .unwrap();
        let mut child = Command::new(env("PB_RELAY_BIN"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--static-dir")
            .arg(env("PB_DIST"))
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .env("PRAXISBOTE_RELAY_CONFIG", self.dir.join("relay.toml"))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start relay");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(l)) = lines.next() {
                let _ = tx.send(l);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "relay did not start: {}",
                    std::fs::read_to_string(self.dir.join("relay.log")).unwrap_or_default()
                )
            });
        assert!(line.contains("listening on"), "{line}");
        self.relay = Some(Proc(child));
    }

    pub(crate) fn stop_relay(&mut self) {
        if let Some(mut p) = self.relay.take() {
            p.terminate();
        }
    }

    pub(crate) fn mails(&self) -> Vec<Mail> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.join("maildir").join("new"))
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v.iter().map(|p| Mail::read(p)).collect()
    }

    /// Waits until the Maildir holds `n` messages, then a little longer to see extra ones.
    pub(crate) fn wait_mails(&self, n: usize, secs: u64) -> Vec<Mail> {
        let t = Instant::now();
        while self.mails().len() < n && t.elapsed() < Duration::from_secs(secs) {
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_millis(1500));
        self.mails()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop_relay();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One message from the Maildir, headers and decoded text part.
pub(crate) struct Mail {
    headers: BTreeMap<String, String>,
    pub(crate) text: String,
    /// The `text/calendar` attachment, decoded.
    pub(crate) calendar: Option<String>,
    /// The MIME body as received (LF line ends).
    body: String,
}

/// The first MIME part of `content_type` in `body`, decoded.
fn decoded_part(body: &str, content_type: &str) -> Option<String> {
    body.split(&format!("Content-Type: {content_type}"))
        .nth(1)
        .map(|part| {
            let (ph, pb) = part.split_once("\n\n").unwrap_or(("", part));
            let pb = pb.split("\n--").next().unwrap_or("");
            let bytes = if ph.contains("base64") {
                b64(pb)
            } else if ph.contains("quoted-printable") {
                quoted_printable(pb)
            } else {
                pb.as_bytes().to_vec()
            };
            String::from_utf8_lossy(&bytes).into_owned()
        })
}

fn b64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn quoted_printable(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

impl Mail {
    fn read(p: &Path) -> Mail {
        let raw = std::fs::read_to_string(p).unwrap().replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let mut headers = BTreeMap::new();
        let mut last = String::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = headers.get_mut(&last) {
                    *v = format!("{v} {}", line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                last = k.trim().to_ascii_lowercase();
                headers.insert(last.clone(), v.trim().to_string());
            }
        }
        let text = decoded_part(body, "text/plain").unwrap_or_default();
        let calendar = decoded_part(body, "text/calendar");
        Mail {
            headers,
            text,
            calendar,
            body: body.to_string(),
        }
    }

    /// The content of the base64 part with `filename="{name}"`.
    pub(crate) fn attachment(&self, name: &str) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let at = self.body.find(&format!("filename=\"{name}\""))?;
        let part = &self.body[at..];
        let start = part.find("\n\n")? + 2;
        let end = part[start..].find("\n--").map_or(part.len(), |e| e + start);
        let b64: String = part[start..end].split_whitespace().collect();
        base64::engine::general_purpose::STANDARD.decode(b64).ok()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// Stores the relay token in the settings (the relay of these tests requires one).
pub(crate) async fn configure_relay(s: &Session) {
    s.open_settings().await;
    s.wait_text("Demodaten").await;
    save_relay_token(s).await;
    s.click_button("Verbindung testen").await;
    s.wait_status_matching("Verbindung in Ordnung").await;
}

/// On the settings page: saves [`TOKEN`] as the relay's access key (no connection test).
pub(crate) async fn save_relay_token(s: &Session) {
    s.fill_by_label("Zugangsschlüssel", TOKEN).await;
    s.click_button("Relay speichern").await;
    s.wait_status_matching("Relay-Einstellungen gespeichert")
        .await;
}

/// Rows of the open batch in the Protokoll page: cells (name, address, state, time, reason).
pub(crate) async fn log_rows(s: &Session) -> Vec<Vec<String>> {
    let v = s
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            done(Array.from(document.querySelectorAll("table[aria-label='Empfänger der Sendung'] tbody tr"))
              .map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim())));"#,
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("rows")
}

/// Demo practice → tomorrow's appointments → e-mail reminder → review → compose → "Senden":
/// the Maildir holds exactly one personalised message per included recipient (name,
/// appointment time, headers) and the log says "gesendet" for each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_reminders_for_tomorrow_arrive_once_each_and_the_log_says_sent() {
    let w = World::start("happy", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;

    s.open("#/versand").await;
    let counts = s
        .take_over_all("Terminliste", "Terminerinnerung", "E-Mail senden …")
        .await;
    let included = support::numbers(&counts)[3];
    assert!(included >= 2, "{counts}");
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;
    s.wait_text("Anhang: termin.ics").await;
    s.click_button("Senden").await;
    s.wait_status_matching(&format!("{included} von {included} abgeschlossen"))
        .await;

    let mails = w.wait_mails(included, 30);
    assert_eq!(mails.len(), included, "one e-mail per included recipient");
    let ids: BTreeSet<&str> = mails.iter().map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), included, "Message-IDs not unique");
    // Addresses as the Maildir saw them (a person with two appointments tomorrow, or two
    // persons sharing an address, get one reminder per included row).
    let mut rcpts = BTreeMap::<String, usize>::new();
    for m in &mails {
        *rcpts
            .entry(m.header("X-RcptTo").to_lowercase())
            .or_default() += 1;
    }

    // The log lists every recipient as sent, with the address the e-mail went to.
    s.click_link("Zum Protokoll").await;
    s.click_button("Details").await;
    s.wait_status_matching(&format!("{included} Empfänger"))
        .await;
    let rows = log_rows(&s).await;
    assert_eq!(rows.len(), included);
    let mut logged = BTreeMap::<String, usize>::new();
    for r in &rows {
        *logged.entry(r[1].to_lowercase()).or_default() += 1;
    }
    assert_eq!(logged, rcpts, "Maildir and log disagree (address → count)");
    for r in &rows {
        assert_eq!(r[2], "gesendet", "{r:?}");
        let addr = r[1].to_lowercase();
        let to_addr: Vec<&Mail> = mails
            .iter()
            .filter(|m| m.header("X-RcptTo").to_lowercase() == addr)
            .collect();
        // Personalised: the recipient's last name and an appointment time in the text.
        let last = r[0].split_whitespace().last().unwrap_or("");
        let Some(mail) = to_addr.iter().find(|m| m.text.contains(last)) else {
            panic!(
                "no e-mail to {addr} names {last}: {:?}",
                to_addr.iter().map(|m| &m.text).collect::<Vec<_>>()
            );
        };
        assert!(
            mail.text.contains("Uhr"),
            "no appointment time: {}",
            mail.text
        );
        // The calendar entry: the appointment time of the text, the practice as the place.
        let ics = mail
            .calendar
            .as_deref()
            .unwrap_or_else(|| panic!("no calendar entry in the e-mail to {addr}: {}", mail.text));
        let start = ics
            .lines()
            .find_map(|l| l.strip_prefix("DTSTART;TZID=Europe/Berlin:"))
            .unwrap_or_else(|| panic!("no DTSTART: {ics}"));
        let hhmm = format!("{}:{}", &start[9..11], &start[11..13]);
        assert!(mail.text.contains(&hhmm), "{hhmm} not in: {}", mail.text);
        assert!(ics.contains("SUMMARY:Termin – "), "{ics}");
        assert!(
            ics.contains("BEGIN:VEVENT") && ics.contains("LOCATION:"),
            "{ics}"
        );
        assert!(mail.header("From").contains("info@praxis.example"));
        assert!(mail.header("Message-ID").ends_with("@praxis.example>"));
        assert!(!mail.header("Subject").is_empty());
    }
}

/// `n` queued e-mails as "Senden" writes them (the demo practice has fewer recipients).
pub(crate) fn seeded_batch(n: usize) -> (Batch, Vec<OutboxMessage>) {
    let at = chrono::Local::now().naive_local();
    let batch = Batch {
        claim: None,
        id: format!("seed-batch-{n}"),
        created_at: at,
        channel: Channel::Email,
        purpose: Purpose::Other,
        template_name: "Praxisinformation".into(),
        template_version: 1,
        paused: false,
        files: Vec::new(),
    };
    let items = (0..n)
        .map(|i| QueueItem {
            id: format!("00000000-0000-4000-8000-{i:012}"),
            person_id: PersonId(format!("seed-person-{i}")),
            appointment_id: None,
            recipient_name: format!("Empfänger {i}"),
            address: format!("empfaenger{i}@example.org"),
            content: Content {
                subject: Some(format!("Information {i}")),
                text: format!("Guten Tag, Nachricht Nummer {i}."),
                html: None,
                calendar: None,
            },
            consent: ConsentBasis::Override {
                reason: "E2E-Test".into(),
                at,
            },
        })
        .collect();
    let messages = queue_batch(&batch, items).unwrap();
    (batch, messages)
}

/// Writes a batch into the app's IndexedDB like `repo::outbox::queue` (rows `{key, json}`).
pub(crate) async fn seed_outbox(s: &Session, batch: &Batch, messages: &[OutboxMessage]) {
    let rows: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| serde_json::json!({"key": m.id, "json": serde_json::to_string(m).unwrap()}))
        .collect();
    let batch_row =
        serde_json::json!({"key": batch.id, "json": serde_json::to_string(batch).unwrap()});
    let r = s
        .execute_async(
            r#"const [batchRow, rows, done] = arguments;
            const open = indexedDB.open('praxisbote');
            open.onerror = () => done('open failed');
            open.onsuccess = () => {
              const db = open.result;
              const tx = db.transaction(['outbox', 'sendlog'], 'readwrite');
              tx.objectStore('sendlog').put(batchRow);
              const os = tx.objectStore('outbox');
              for (const r of rows) os.put(r);
              tx.oncomplete = () => { db.close(); done('ok'); };
              tx.onerror = () => done('tx failed: ' + tx.error);
            };"#,
            vec![batch_row, serde_json::Value::Array(rows)],
        )
        .await;
    assert_eq!(r, serde_json::json!("ok"));
}

/// The Maildir holds each of the 500 seeded messages exactly once.
pub(crate) fn assert_exactly_once(mails: &[Mail], n: usize) {
    let mut seen = BTreeMap::<String, usize>::new();
    for m in mails {
        *seen.entry(m.header("Message-ID").to_string()).or_default() += 1;
    }
    let dupes: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(dupes.is_empty(), "sent twice: {dupes:?}");
    assert_eq!(
        seen.len(),
        n,
        "lost messages: {} of {n} arrived",
        seen.len()
    );
    for i in 0..n {
        let id = format!("<00000000-0000-4000-8000-{i:012}@praxis.example>");
        assert!(seen.contains_key(&id), "{id} missing");
    }
}

/// Reload the tab in the middle of a 500-message send: after resume every message arrives
/// exactly once and the log shows 500 sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_mid_send_of_500_resumes_and_sends_each_exactly_once() {
    const N: usize = 500;
    let w = World::start("reload", Some(60));
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (batch, messages) = seeded_batch(N);
    seed_outbox(&s, &batch, &messages).await;
    // Boot reads the outbox and starts sending.
    s.open("#/protokoll").await;
    let t = Instant::now();
    while w.mails().len() < 60 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "sending did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.reload().await;
    let mid = w.mails().len();
    assert!(mid < N, "too late for a mid-send reload: {mid}");
    s.click_button("Details").await;
    s.wait_status_matching(&format!("{N} von {N} abgeschlossen"))
        .await;
    let mails = w.wait_mails(N, 60);
    assert_exactly_once(&mails, N);
    s.wait_text(&format!("gesendet {N}")).await;
}

/// The app starts on the patient list with an unfinished batch in the outbox: the transmit
/// loop sends every message exactly once without anyone opening a sending page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_batch_is_sent_after_a_start_on_the_patient_list() {
    const N: usize = 30;
    let w = World::start("shellstart", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (batch, messages) = seeded_batch(N);
    seed_outbox(&s, &batch, &messages).await;
    // A fresh start of the page on the patient list (not an in-app hash change).
    s.open("#/patienten").await;
    s.reload().await;
    s.wait_css("table.data tbody tr td a").await;
    let mails = w.wait_mails(N, 60);
    assert_exactly_once(&mails, N);
    assert!(s.current_url().await.ends_with("#/patienten"));
}

/// The relay is down when the app starts sending (messages wait, visibly), comes up, is
/// stopped again mid-delivery and restarted: every message arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_down_and_restarted_mid_send_every_message_exactly_once() {
    const N: usize = 500;
    let mut w = World::start("restart", Some(60));
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (batch, messages) = seeded_batch(N);
    seed_outbox(&s, &batch, &messages).await;
    // Load the page before stopping the relay (it serves the app), then stop it: the app
    // still has the page and must wait.
    w.stop_relay();
    // Opening the Protokoll (in-app navigation, no reload) reads the new batch.
    s.click_link("Protokoll").await;
    s.wait_text("Relay nicht erreichbar").await;
    assert_eq!(w.mails().len(), 0);
    w.start_relay();
    let t = Instant::now();
    while w.mails().len() < 100 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no resume after the relay came back"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    w.stop_relay();
    std::thread::sleep(Duration::from_secs(2));
    w.start_relay();
    s.click_button("Details").await;
    s.wait_status_matching(&format!("{N} von {N} abgeschlossen"))
        .await;
    let mails = w.wait_mails(N, 60);
    assert_exactly_once(&mails, N);
}

/// Sends the invitation e-mail to every prospect with consent and returns the unsubscribe
/// link of the first mail that arrived, its recipient and how many were included.
async fn send_invitations(w: &World, s: &Session) -> (String, String, usize) {
    s.open("#/versand").await;
    let counts = s
        .take_over_all("Interessenten", "Einladung", "E-Mail senden …")
        .await;
    let included = support::numbers(&counts)[3];
    assert!(included >= 1, "{counts}");
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;
    s.click_button("Senden").await;
    s.wait_status_matching(&format!("{included} von {included} abgeschlossen"))
        .await;
    let mails = w.wait_mails(included, 30);
    let mail = mails.first().expect("an invitation arrived");
    let link = mail
        .header("List-Unsubscribe")
        .trim_matches(['<', '>'])
        .to_string();
    assert!(
        link.starts_with(&format!("{}/u/", w.base())),
        "unsubscribe link: {link}"
    );
    // The e-mail text holds the same link (the template's `abmeldelink`, filled by the relay).
    assert!(
        mail.text.contains(&link),
        "unsubscribe link {link} not in the text: {}",
        mail.text
    );
    assert!(!mail.text.contains("pb-abmeldelink"), "{}", mail.text);
    (link, mail.header("X-RcptTo").to_string(), included)
}

/// Files attached in the send panel go with every e-mail of the batch, byte for byte; a file
/// of another kind is refused with a message naming it; a removed file does not go out; the
/// relay holds the file once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composer_attachments_arrive_with_every_email() {
    let w = World::start("files", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    s.open("#/versand").await;
    let counts = s
        .take_over_all("Interessenten", "Einladung", "E-Mail senden …")
        .await;
    let included = support::numbers(&counts)[3];
    assert!(included >= 2, "{counts}");
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;

    let dir = w.dir.join("upload");
    std::fs::create_dir_all(&dir).unwrap();
    // A PDF with binary content (every byte value), and a PNG that is removed again.
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    pdf.extend((0..120_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
    let files = [
        ("Praxisflyer.pdf", pdf.clone()),
        ("Anfahrt.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        ("notiz.txt", b"Diagnose: nichts".to_vec()),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let label = "Datei anhängen (PDF, PNG oder JPEG):";
    s.upload_by_label(label, &dir.join("notiz.txt")).await;
    s.wait_text("notiz.txt: nur PDF-, PNG- oder JPEG-Dateien können angehängt werden.")
        .await;
    s.upload_by_label(label, &dir.join("Praxisflyer.pdf")).await;
    s.wait_status_matching(&format!(
        "Anhänge: 1, zusammen {} KB von höchstens 10 MB.",
        pdf.len().div_ceil(1024)
    ))
    .await;
    s.upload_by_label(label, &dir.join("Anfahrt.png")).await;
    s.wait_status_matching("Anhänge: 2, zusammen").await;
    s.click_by_label("Anhang Anfahrt.png entfernen").await;
    s.wait_status_matching("Anhänge: 1, zusammen").await;

    s.click_button("Senden").await;
    s.wait_status_matching(&format!("{included} von {included} abgeschlossen"))
        .await;
    let mails = w.wait_mails(included, 30);
    assert_eq!(mails.len(), included);
    for m in &mails {
        assert_eq!(
            m.attachment("Praxisflyer.pdf").as_deref(),
            Some(&pdf[..]),
            "to {}",
            m.header("X-RcptTo")
        );
        assert!(m.attachment("Anfahrt.png").is_none());
        assert!(m.attachment("notiz.txt").is_none());
    }
    let db = w.dir.join("data").join("queue.sqlite");
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*), max(length(data)) from files').fetchone())",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("(1, {})", pdf.len()),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Opens the person form of the prospect with this e-mail address.
pub(crate) async fn open_prospect(s: &Session, rcpt: &str) {
    s.click_link("Interessenten").await;
    s.fill_by_label("Interessenten durchsuchen", rcpt).await;
    s.wait_status_matching("1 Treffer").await;
    s.wait_css("table.data tbody tr td a")
        .await
        .click()
        .await
        .unwrap();
    s.wait_text("Einwilligungen").await;
}

/// The recipient follows the link (the relay's page), presses `button`, and the app fetches
/// the opt-out ("Abmeldungen abrufen"). Returns the page's answer.
async fn unsubscribe_and_fetch(s: &Session, link: &str, button: &str) -> String {
    s.script(&format!(
        "window.location.href = {};",
        serde_json::json!(link)
    ))
    .await;
    s.click_button(button).await;
    s.wait_text("Sie wurden abgemeldet").await;
    let answer = s.script("return document.body.innerText;").await;
    let answer = answer.as_str().unwrap_or_default().replace('\n', " ");
    s.open("#/protokoll").await;
    s.click_link("Protokoll").await;
    s.click_button("Abmeldungen abrufen").await;
    s.wait_status_matching("1 Abmeldungen übernommen").await;
    answer
}

/// State (JA/NEIN) and detail of the e-mail consent cell of `purpose` in the person form.
pub(crate) async fn email_cell(s: &Session, purpose: &str) -> (String, String) {
    let v = s
        .execute_async(
            r#"const [label, done] = arguments;
            const st = document.querySelector(`[aria-label="${label}"]`);
            done(st ? [st.textContent.trim(), (st.nextElementSibling || {}).textContent || ''] : null);"#,
            vec![serde_json::json!(format!("Einwilligung E-Mail – {purpose}"))],
        )
        .await;
    let v = v.as_array().expect("consent cell");
    (
        v[0].as_str().unwrap().to_string(),
        v[1].as_str().unwrap().to_string(),
    )
}

/// An advertising e-mail (invitation to prospects) carries the relay's unsubscribe link;
/// "Nur diese Art von Nachrichten" on the relay's page is fetched by "Abmeldungen abrufen"
/// and withdraws that person's invitation consent by e-mail (source "Abmeldelink"), and only
/// that one: what the page said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_click_withdraws_the_consent() {
    let w = World::start("optout", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (link, rcpt, included) = send_invitations(&w, &s).await;
    // So that "only this kind" is visible: a birthday consent by e-mail that must stay.
    open_prospect(&s, &rcpt).await;
    grant_email(&s, &["Geburtstag"]).await;
    let answer = unsubscribe_and_fetch(&s, &link, "Nur diese Art von Nachrichten").await;
    assert!(
        answer.contains("Sie erhalten keine Einladungen mehr per E-Mail."),
        "{answer}"
    );
    // The person's invitation consent is withdrawn, with the source; the birthday one stays.
    open_prospect(&s, &rcpt).await;
    let (state, detail) = email_cell(&s, "Einladung").await;
    assert_eq!(state, "NEIN");
    assert!(detail.contains("(Abmeldelink)"), "{detail}");
    assert_eq!(email_cell(&s, "Geburtstag").await.0, "JA");

    // The next invitation e-mail: the review shows that person as not consented (NEIN) and
    // leaves them out.
    s.open("#/versand").await;
    s.take_over_all("Interessenten", "Einladung", "E-Mail senden …")
        .await;
    let t = Instant::now();
    let row = loop {
        let v = s
            .execute_async(
                r#"const [rcpt, done] = arguments;
                const rows = Array.from(document.querySelectorAll("[aria-label='Empfänger prüfen'] table tbody tr"))
                  .map(tr => ({cells: Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim()),
                               checked: !!(tr.querySelector('input[type=checkbox]') || {}).checked}));
                const counts = (document.querySelector("[role=status].count") || {}).textContent || '';
                done({row: rows.find(r => (r.cells[2] || '').toLowerCase() === rcpt.toLowerCase()) || null, counts});"#,
                vec![serde_json::json!(rcpt)],
            )
            .await;
        let counts = v["counts"].as_str().unwrap_or("").to_string();
        // One recipient less: the person who unsubscribed is not included any more.
        if support::numbers(&counts).get(3) == Some(&(included - 1)) {
            break v["row"].clone();
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "review: {v} (expected {} übernommen)",
            included - 1
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The review table is virtualised: the row is checked when it is rendered.
    if !row.is_null() {
        assert_eq!(row["cells"][3], "NEIN", "{row}");
        assert_eq!(row["checked"], false, "{row}");
    }
}

/// Records an e-mail consent (evidence "schriftlich", today) for each purpose that is not
/// granted yet, and saves the person form.
async fn grant_email(s: &Session, purposes: &[&str]) {
    for purpose in purposes {
        let cell = format!("E-Mail – {purpose}");
        if email_cell(s, purpose).await.0 != "JA" {
            s.click_button(&format!("Einwilligung erfassen: {cell}"))
                .await;
            s.select_by_label("Nachweis der Einwilligung", "schriftlich")
                .await;
            s.click_button("Erfassen").await;
        }
        assert_eq!(email_cell(s, purpose).await.0, "JA", "{cell}");
    }
    s.click_button("Speichern").await;
    s.wait_status_matching("Gespeichert").await;
}

/// "Keine Werbung mehr per E-Mail" on the relay's page withdraws every advertising consent
/// of the person by e-mail (birthday, invitation, recall, other; source "Abmeldelink") and
/// leaves the appointment reminder granted — what the page said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_from_all_advertising_withdraws_every_advertising_consent() {
    let w = World::start("optout-all", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    let (link, rcpt, _) = send_invitations(&w, &s).await;
    open_prospect(&s, &rcpt).await;
    let advertising = ["Geburtstag", "Einladung", "Recall", "Sonstiges"];
    grant_email(&s, &[&advertising[..], &["Terminerinnerung"]].concat()).await;
    let answer = unsubscribe_and_fetch(&s, &link, "Keine Werbung mehr per E-Mail").await;
    assert!(
        answer.contains(
            "Sie erhalten keine Geburtstagsgrüße, Einladungen, Erinnerungen an Vorsorge- und \
             Kontrolltermine und sonstige Werbung der Praxis (z. B. Newsletter) mehr per E-Mail."
        ),
        "{answer}"
    );
    assert!(
        answer.contains("Davon nicht betroffen: Termin-Erinnerungen."),
        "{answer}"
    );
    open_prospect(&s, &rcpt).await;
    for purpose in advertising {
        let (state, detail) = email_cell(&s, purpose).await;
        assert_eq!(state, "NEIN", "{purpose}: {detail}");
        assert!(detail.contains("(Abmeldelink)"), "{purpose}: {detail}");
    }
    let (state, detail) = email_cell(&s, "Terminerinnerung").await;
    assert_eq!(
        state, "JA",
        "appointment reminders are not advertising: {detail}"
    );
}

/// A rejected address (SMTP 550) shows as failed with the server's reason; "nur
/// Fehlgeschlagene erneut senden" sends only that one again (the others stay delivered once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_address_fails_with_smtp_reason_and_only_it_is_retried() {
    let w = World::start_with("reject", None, true);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    // A real person of the demo practice (the retry re-checks the person's consent).
    s.open("#/patienten").await;
    let href = s
        .wait_css("table.data tbody tr td a")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    let person = href.rsplit('/').next().unwrap().to_string();
    let (batch, mut messages) = seeded_batch(5);
    for m in &mut messages {
        m.person_id = PersonId(person.clone());
    }
    messages[2].address = "reject-2@example.org".into();
    seed_outbox(&s, &batch, &messages).await;
    s.click_link("Protokoll").await;
    s.click_button("Details").await;
    s.wait_status_matching("5 von 5 abgeschlossen").await;
    s.wait_text("fehlgeschlagen 1").await;
    let rows = log_rows(&s).await;
    let failed: Vec<_> = rows.iter().filter(|r| r[2] == "fehlgeschlagen").collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert_eq!(failed[0][1], "reject-2@example.org");
    assert!(
        failed[0][4].contains("550"),
        "SMTP reason expected: {:?}",
        failed[0]
    );
    assert_eq!(w.wait_mails(4, 20).len(), 4);

    std::fs::remove_file(w.dir.join("reject.flag")).unwrap();
    s.click_button("nur Fehlgeschlagene erneut senden").await;
    s.wait_status_matching("1 Nachrichten werden erneut gesendet")
        .await;
    s.wait_text("gesendet 5").await;
    let mails = w.wait_mails(5, 30);
    assert_eq!(mails.len(), 5, "only the failed one is sent again");
    let mut per_rcpt = BTreeMap::<String, usize>::new();
    for m in &mails {
        *per_rcpt
            .entry(m.header("X-RcptTo").to_string())
            .or_default() += 1;
    }
    assert!(per_rcpt.values().all(|c| *c == 1), "{per_rcpt:?}");
    assert_eq!(per_rcpt.get("reject-2@example.org"), Some(&1));
}

/// The same for SMS: tomorrow's appointments → SMS reminder → review → compose → "Senden":
/// the gateway stub received exactly one SMS per included row, to the E.164 numbers the log
/// lists as "gesendet".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_reminders_for_tomorrow_reach_the_gateway_once_each() {
    let w = World::start("sms", None);
    let s = Session::start_at(&w.base()).await;
    configure_relay(&s).await;
    s.open("#/versand").await;
    let counts = s
        .take_over_all("Terminliste", "Terminerinnerung", "SMS senden …")
        .await;
    let included = support::numbers(&counts)[3];
    assert!(included >= 1, "{counts}");
    s.click_button("Übernahme").await;
    s.wait_status_matching("Vorschau 1 von").await;
    assert!(
        !s.source().await.contains("termin.ics"),
        "an SMS has no calendar attachment"
    );
    s.click_button("Senden").await;
    s.wait_status_matching(&format!("{included} von {included} abgeschlossen"))
        .await;
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(w.dir.join("sms.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("gateway body is JSON"))
        .collect();
    assert_eq!(lines.len(), included, "one SMS per included recipient");
    let refs: BTreeSet<&str> = lines.iter().filter_map(|l| l["ref"].as_str()).collect();
    assert_eq!(refs.len(), included, "an SMS was sent twice");
    let mut sent = BTreeMap::<String, usize>::new();
    for l in &lines {
        let n = l["number"].as_str().unwrap_or("");
        assert!(n.starts_with('+'), "not E.164: {n}");
        assert!(!l["message"].as_str().unwrap_or("").trim().is_empty());
        *sent.entry(n.to_string()).or_default() += 1;
    }
    s.click_link("Zum Protokoll").await;
    s.click_button("Details").await;
    s.wait_status_matching(&format!("{included} Empfänger"))
        .await;
    let rows = log_rows(&s).await;
    let mut logged = BTreeMap::<String, usize>::new();
    for r in &rows {
        assert_eq!(r[2], "gesendet", "{r:?}");
        *logged.entry(r[1].clone()).or_default() += 1;
    }
    assert_eq!(logged, sent, "gateway and log disagree (number → count)");
}
