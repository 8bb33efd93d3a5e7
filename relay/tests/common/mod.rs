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
/// `reject*@` → 550 (permanent), `busy*@` → 451 on the first attempt (transient).
pub fn aiosmtpd_raw(dir: &Path) -> (Proc, u16) {
    std::fs::create_dir_all(dir.join("new")).unwrap();
    let script = dir.join("server.py");
    std::fs::write(
        &script,
        r#"
import asyncio, os, sys, itertools
from aiosmtpd.controller import Controller
out = sys.argv[2]
counter = itertools.count()
seen = set()
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
        n = next(counter)
        tmp = os.path.join(out, 'tmp.%d' % n)
        with open(tmp, 'wb') as f:
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(out, 'new', '%06d.eml' % n))
        return '250 2.0.0 Ok: queued'
c = Controller(Handler(), hostname='127.0.0.1', port=int(sys.argv[1]))
c.start()
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
"#,
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(PYTHON)
        .arg(&script)
        .arg(port.to_string())
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3-aiosmtpd (Debian) must be installed");
    let p = Proc(child);
    wait_smtp(port);
    (p, port)
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
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_praxisbote-relay"));
        cmd.args(args)
            .env_remove("PRAXISBOTE_RELAY_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            ));
        for (k, v) in env {
            cmd.env(k, v);
        }
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
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "relay did not start; log: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                )
            });
        let base = line
            .strip_prefix("praxisbote-relay listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        Relay { proc, base }
    }

    pub fn kill9(&mut self) {
        let _ = self.proc.0.kill(); // SIGKILL on Unix
        let _ = self.proc.0.wait();
    }
}

pub fn smtp_config(port: u16, extra: &str) -> String {
    format!(
        r#"
retry_base_seconds = 1
retry_max_seconds = 2
max_attempts = 3
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
