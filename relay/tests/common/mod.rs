//! Test helpers: free ports, the relay binary, a real SMTP server (Debian python3-aiosmtpd).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PYTHON: &str = "/usr/bin/python3";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_port(port: u16) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "port {port} never opened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until an SMTP server on `port` sends its 220 greeting (fully ready).
pub fn wait_smtp(port: u16) {
    use std::io::{Read, Write};
    let t = Instant::now();
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
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
            "SMTP server on {port} not ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// aiosmtpd started exactly as documented: `python3 -m aiosmtpd -n -l 127.0.0.1:PORT
/// -c aiosmtpd.handlers.Mailbox DIR` (messages land in DIR/new).
pub fn aiosmtpd_mailbox(dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let child = Command::new(PYTHON)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3-aiosmtpd (Debian) must be installed");
    let p = Proc(child);
    wait_smtp(port);
    (p, port)
}

/// aiosmtpd with a small handler that stores the raw DATA bytes exactly as received
/// (DIR/new/N.eml) and answers like real servers do for some recipients:
/// `reject*@` → 550 (permanent), `busy*@` → 451 on the first attempt (transient),
/// `slow*@` → 250 after 0.3 s, `drop*@` → stores the message, then drops the connection
/// without the final reply, `stall*@` → stores the message, then never replies.
pub fn aiosmtpd_raw(dir: &Path) -> (Proc, u16) {
    aiosmtpd_script(dir, None)
}

/// [`aiosmtpd_raw`] offering STARTTLS with this certificate and key (PEM files).
pub fn aiosmtpd_starttls(dir: &Path, cert: &Path, key: &Path) -> (Proc, u16) {
    aiosmtpd_script(dir, Some((cert, key)))
}

fn aiosmtpd_script(dir: &Path, tls: Option<(&Path, &Path)>) -> (Proc, u16) {
    std::fs::create_dir_all(dir.join("new")).unwrap();
    let script = dir.join("server.py");
    std::fs::write(
        &script,
        r#"
import asyncio, os, sys, itertools, ssl
from aiosmtpd.controller import Controller
out = sys.argv[2]
counter = itertools.count()
seen = set()
def store(envelope):
    n = next(counter)
    tmp = os.path.join(out, 'tmp.%d' % n)
    with open(tmp, 'wb') as f:
        f.write(envelope.original_content)
    os.rename(tmp, os.path.join(out, 'new', '%06d.eml' % n))
class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('reject'):
            return '550 5.1.1 <%s>: Recipient address rejected: User unknown' % address
        if address.startswith('busy') and address not in seen:
            seen.add(address)
            return '451 4.3.0 Try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'
    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        if rcpt.startswith('slow'):
            await asyncio.sleep(0.3)
        store(envelope)
        if rcpt.startswith('drop'):
            server.transport.abort()
            await asyncio.sleep(3600)
        if rcpt.startswith('stall'):
            await asyncio.sleep(3600)
        return '250 2.0.0 Ok: queued'
kw = {}
if len(sys.argv) > 4:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    kw['tls_context'] = ctx
c = Controller(Handler(), hostname='127.0.0.1', port=int(sys.argv[1]), **kw)
c.start()
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
"#,
    )
    .unwrap();
    let port = free_port();
    let mut cmd = Command::new(PYTHON);
    cmd.arg(&script).arg(port.to_string()).arg(dir);
    if let Some((cert, key)) = tls {
        cmd.arg(cert).arg(key);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3-aiosmtpd (Debian) must be installed");
    let p = Proc(child);
    wait_smtp(port);
    (p, port)
}

/// Runs `openssl` with `args` in `dir`.
pub fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "openssl {args:?}");
}

/// A test CA (`ca.pem`, `ca.key`) and a server certificate for 127.0.0.1 signed by it
/// (`cert.pem`, `key.pem`) in `dir`; returns (cert, key, ca).
pub fn practice_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let split = |s: &str| -> Vec<String> { s.split(' ').map(String::from).collect() };
    for cmd in [
        format!("req -x509 {ec} -days 1 -subj /CN=Praxis-CA -keyout ca.key -out ca.pem"),
        format!("req {ec} -subj /CN=127.0.0.1 -keyout key.pem -out srv.csr"),
        "x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out cert.pem".to_owned(),
    ] {
        let args = split(&cmd);
        openssl(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    private(&dir.join("key.pem"));
    (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    )
}

fn private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// A self-signed server certificate for 127.0.0.1 in `dir`: (cert, key).
pub fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            "ss.key",
            "-out",
            "ss.pem",
        ],
    );
    private(&dir.join("ss.key"));
    (dir.join("ss.pem"), dir.join("ss.key"))
}

/// Writes a file readable by its owner only (configs with secrets must be).
pub fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    private(path);
}

/// Message-IDs (client ids) of the files in a Maildir, with how often each arrived.
pub fn copies(dir: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for f in maildir_files(dir) {
        let raw = std::fs::read_to_string(&f).unwrap();
        let id = raw
            .replace("\r\n", "\n")
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: <"))
            .and_then(|l| l.split('@').next())
            .unwrap_or_else(|| panic!("no Message-ID in {}", f.display()))
            .to_owned();
        *seen.entry(id).or_default() += 1;
    }
    seen
}

pub fn maildir_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("new"))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The relay binary, started with `args`; waits for the `listening on` line.
pub struct Relay {
    pub proc: Proc,
    pub base: String,
}

impl Relay {
    pub fn start(args: &[&str], env: &[(&str, &str)], log: &Path) -> Relay {
        Relay::spawn(Relay::command(args, env), log)
    }

    fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_praxisbote-relay"));
        cmd.args(args).env_remove("PRAXISBOTE_RELAY_CONFIG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts `cmd` (the relay binary, possibly behind a wrapper such as `unshare`).
    pub fn spawn(cmd: Command, log: &Path) -> Relay {
        Relay::try_spawn(cmd, log).unwrap_or_else(|| {
            panic!(
                "relay did not start; log: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        })
    }

    /// Like [`Relay::start`], but `None` when the process ends before it listens (a crash
    /// point can hit during start-up).
    pub fn try_start(args: &[&str], env: &[(&str, &str)], log: &Path) -> Option<Relay> {
        Relay::try_spawn(Relay::command(args, env), log)
    }

    fn try_spawn(mut cmd: Command, log: &Path) -> Option<Relay> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        ));
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(l)) = lines.next() {
                let _ = tx.send(l);
            }
            // Keep draining so the relay never blocks on stdout.
            for _ in lines {}
        });
        let proc = Proc(child);
        // The sender is dropped when stdout closes (the process ended).
        let line = rx.recv_timeout(Duration::from_secs(60)).ok()?;
        let base = line
            .strip_prefix("praxisbote-relay listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        Some(Relay { proc, base })
    }

    pub fn kill9(&mut self) {
        let _ = self.proc.0.kill(); // SIGKILL on Unix
        let _ = self.proc.0.wait();
    }

    pub fn pid(&self) -> u32 {
        self.proc.0.id()
    }

    /// SIGTERM, then waits for the exit (returns its status).
    pub fn terminate(&mut self, secs: u64) -> std::process::ExitStatus {
        assert!(Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap()
            .success());
        self.wait_exit(secs)
    }

    pub fn wait_exit(&mut self, secs: u64) -> std::process::ExitStatus {
        let t = Instant::now();
        loop {
            if let Some(status) = self.proc.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "relay did not exit"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub const RELAY_BIN: &str = env!("CARGO_BIN_EXE_praxisbote-relay");

/// Waits until the relay reports no pending message (then lets the SMTP server finish).
pub async fn wait_idle(base: &str, secs: u64) {
    let t = Instant::now();
    loop {
        let h: praxisbote_core::wire::Health = reqwest::get(format!("{base}/v1/health"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if h.pending == 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "still pending: {}",
            h.pending
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// POSTs a batch with the test token; `true` only for a 202 (the relay acknowledged it).
pub async fn post_batch(base: &str, batch: &[praxisbote_core::wire::OutgoingMessage]) -> bool {
    reqwest::Client::new()
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&praxisbote_core::wire::SubmitRequest {
            messages: batch.to_vec(),
        })
        .send()
        .await
        .map(|r| r.status() == 202)
        .unwrap_or(false)
}

/// A plain appointment reminder e-mail `{prefix}-{i}` to `{to}{i}@example.org`.
pub fn reminder(prefix: &str, to: &str, i: usize) -> praxisbote_core::wire::OutgoingMessage {
    use praxisbote_core::domain::{Channel, Purpose};
    praxisbote_core::wire::OutgoingMessage {
        client_id: format!("{prefix}-{i:05}"),
        channel: Channel::Email,
        purpose: Purpose::AppointmentReminder,
        recipient: format!("{to}{i}@example.org"),
        recipient_name: None,
        subject: format!("Terminerinnerung {i}"),
        text: format!("Guten Tag, Ihr Termin Nr. {i} ist morgen."),
        html: None,
        attachments: Vec::new(),
        sender: None,
        person_id: None,
        optin: None,
    }
}

/// Runs the relay binary to its end (for start-up errors): (exit status, stdout, stderr).
pub fn run_relay(
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::ExitStatus, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_praxisbote-relay"));
    cmd.args(args).env_remove("PRAXISBOTE_RELAY_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Number of rows of the queue in `state`.
pub fn rows_in(db: &Path, state: &str) -> u64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(
        "SELECT COUNT(*) FROM messages WHERE state=?1",
        [state],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as u64
}

pub fn smtp_config(port: u16, extra: &str) -> String {
    format!(
        r#"
retry_base_seconds = 1
retry_max_seconds = 2
max_attempts = 3
public_url = "https://relay.praxis.example"
[[tokens]]
name = "test"
token = "test-token-0123456789"
[[smtp]]
name = "praxis"
host = "127.0.0.1"
port = {port}
tls = "none"
from = "info@praxis.example"
from_name = "Praxis Dr. Müller"
reply_to = "team@praxis.example"
pool_size = 4
{extra}
"#
    )
}

pub const TOKEN: &str = "test-token-0123456789";
