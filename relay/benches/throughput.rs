//! Benchmark (prints figures; not a timed test):
//! 1. e-mails/s into postfix `smtp-sink` on loopback: a plain Python `smtplib` sender on one
//!    connection vs. the relay (pooled SMTP, durable SQLite state), in the same run: pool 8
//!    with `synchronous=NORMAL` (before) and `FULL` (the relay's setting), pool 4 with FULL;
//! 2. relay RSS with 10,000 queued messages.
//!
//! Run: `cargo bench -p praxisbote-relay --bench throughput` (N via BENCH_N, default 10000;
//! BENCH_RUNS rounds of the relay configurations, default 1).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use praxisbote_core::domain::{Channel, Purpose};
use praxisbote_core::wire::*;

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16) {
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn smtp_sink() -> (Proc, u16) {
    let port = free_port();
    let c = Command::new("/usr/sbin/smtp-sink")
        .args(["-u", "nobody", &format!("127.0.0.1:{port}"), "1000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("postfix smtp-sink");
    wait_port(port);
    (Proc(c), port)
}

fn text(i: usize) -> String {
    format!("Guten Tag Frau Müller,\nwir erinnern an Ihren Termin Nr. {i} morgen um 9:00 Uhr.\nIhre Praxis\n")
}

fn python_smtplib(port: u16, n: usize) -> f64 {
    let script = format!(
        r#"
import smtplib, time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
s = smtplib.SMTP('127.0.0.1', {port})
t = time.time()
for i in range({n}):
    m = EmailMessage()
    m['From'] = 'Praxis <info@praxis.example>'
    m['To'] = 'patient%d@example.org' % i
    m['Subject'] = 'Terminerinnerung Nr. %d für morgen' % i
    m['Date'] = formatdate()
    m['Message-ID'] = make_msgid()
    m.set_content('Guten Tag Frau Müller,\nwir erinnern an Ihren Termin Nr. %d morgen um 9:00 Uhr.\nIhre Praxis\n' % i)
    s.send_message(m)
el = time.time() - t
s.quit()
print(el)
"#
    );
    let out = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn start_relay(cfg: &std::path::Path, data: &std::path::Path, sync: &str) -> (Proc, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_praxisbote-relay"))
        .env("PRAXISBOTE_RELAY_SQLITE_SYNCHRONOUS", sync)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("praxisbote-relay listening on ")
        .unwrap()
        .to_owned();
    (Proc(c), base)
}

fn rss_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)
                .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap())
        })
        .unwrap_or(0)
}

const TOKEN: &str = "bench-token-0123456789";

fn config(port: u16, pool: u32, extra: &str) -> String {
    format!(
        "requests_per_minute = 100000\nmessages_per_minute = 100000000\ndaily_quota = 100000000\n[[tokens]]\nname = \"b\"\ntoken = \"{TOKEN}\"\n[[smtp]]\nname = \"sink\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"info@praxis.example\"\nfrom_name = \"Praxis\"\nadvertising = false\npool_size = {pool}\n{extra}\n"
    )
}

/// The config file holds the bench token, so it must be private.
fn write_private(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn batches(n: usize, prefix: &str) -> Vec<SubmitRequest> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(MAX_BATCH)
        .map(|c| SubmitRequest {
            messages: c
                .iter()
                .map(|&i| OutgoingMessage {
                    client_id: format!("{prefix}-{i:06}"),
                    channel: Channel::Email,
                    purpose: Purpose::AppointmentReminder,
                    recipient: format!("patient{i}@example.org"),
                    recipient_name: Some("Erika Müller".into()),
                    subject: format!("Terminerinnerung Nr. {i} für morgen"),
                    text: text(i),
                    html: None,
                    attachments: Vec::new(),
                    sender: None,
                    person_id: None,
                    optin: None,
                })
                .collect(),
        })
        .collect()
}

async fn relay_run(base: &str, n: usize, prefix: &str) -> f64 {
    let client = reqwest::Client::new();
    let reqs = batches(n, prefix);
    let t = Instant::now();
    for r in &reqs {
        let s = client
            .post(format!("{base}/v1/messages"))
            .bearer_auth(TOKEN)
            .json(r)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, 202);
    }
    loop {
        let h: Health = client
            .get(format!("{base}/v1/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if h.pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    t.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().unwrap();
    let (_sink, port) = smtp_sink();
    println!(
        "cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );

    let py = python_smtplib(port, n);
    println!(
        "python smtplib, 1 connection: {n} mails in {py:.2} s = {:.0} mails/s",
        n as f64 / py
    );

    // BENCH_RUNS rounds (default 1), alternating the configurations, to show the spread on
    // a shared machine.
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for (round, (pool, sync)) in
        (0..runs).flat_map(|r| [(8u32, "normal"), (8, "full"), (4, "full")].map(|c| (r, c)))
    {
        let cfg = tmp.path().join(format!("relay-{pool}-{sync}-{round}.toml"));
        write_private(&cfg, &config(port, pool, ""));
        let data = tmp.path().join(format!("data-{pool}-{sync}-{round}"));
        let (relay, base) = start_relay(&cfg, &data, sync);
        let el = relay_run(&base, n, &format!("p{pool}{sync}{round}")).await;
        let hwm = rss_kb(relay.0.id(), "VmHWM:");
        println!(
            "relay (pool {pool}, SQLite WAL synchronous={}, submit + deliver): {n} mails in {el:.2} s = {:.0} mails/s ({:.2}x python); peak RSS {} MB",
            sync.to_uppercase(),
            n as f64 / el,
            py / el,
            hwm / 1024
        );
    }

    // RSS with 10,000 queued (rate-limited account so nothing drains meanwhile).
    let cfg = tmp.path().join("relay-rss.toml");
    write_private(&cfg, &config(port, 4, "rate_per_second = 0.01"));
    let (relay, base) = start_relay(&cfg, &tmp.path().join("data-rss"), "full");
    let before = rss_kb(relay.0.id(), "VmRSS:");
    let client = reqwest::Client::new();
    for r in batches(10_000, "q") {
        assert_eq!(
            client
                .post(format!("{base}/v1/messages"))
                .bearer_auth(TOKEN)
                .json(&r)
                .send()
                .await
                .unwrap()
                .status(),
            202
        );
    }
    let h: Health = client
        .get(format!("{base}/v1/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "relay RSS: {} MB idle, {} MB with {} queued (peak {} MB)",
        before / 1024,
        rss_kb(relay.0.id(), "VmRSS:") / 1024,
        h.pending,
        rss_kb(relay.0.id(), "VmHWM:") / 1024
    );
}
