//! For the admin: the shipped example configuration is valid (also with every commented key
//! switched on), `--check-config` validates without starting, and the relay keeps its files
//! private.

mod common;

use std::path::Path;

use common::*;
use praxisbote_core::wire::*;

const EXAMPLE: &str = include_str!("../relay.example.toml");
const CREDS: &str = "/run/credentials/praxisbote-relay.service/";

/// The example with its paths moved into `dir` (certificate and key created there) and every
/// `# key = value` line switched on when `all_keys`.
fn example_in(dir: &Path, all_keys: bool) -> std::path::PathBuf {
    let (cert, key, ca) = practice_ca(dir);
    std::fs::rename(&cert, dir.join("tls-cert.pem")).unwrap();
    std::fs::rename(&key, dir.join("tls-key.pem")).unwrap();
    let mut text = EXAMPLE
        .replace(CREDS, &format!("{}/", dir.display()))
        .replace(
            "/var/lib/praxisbote-relay",
            &dir.join("data").display().to_string(),
        )
        .replace(
            "/etc/praxisbote-relay/praxis-ca.pem",
            &ca.display().to_string(),
        );
    if all_keys {
        text = text
            .lines()
            .map(|l| {
                let rest = l.strip_prefix("# ").unwrap_or(l);
                let is_key = rest.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                });
                if is_key {
                    rest.to_owned()
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    let path = dir.join("relay.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const SECRETS: [(&str, &str); 4] = [
    (
        "PRAXISBOTE_TOKEN_EMPFANG",
        "0123456789abcdef0123456789abcdef",
    ),
    ("PRAXISBOTE_SMTP_PASSWORD", "smtp-geheim"),
    ("PRAXISBOTE_SENDGRID_API_KEY", "SG.geheim"),
    ("PRAXISBOTE_SEVEN_API_KEY", "seven-geheim"),
];

#[test]
fn example_config_is_valid_and_documents_real_keys() {
    for all_keys in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = example_in(tmp.path(), all_keys);
        let (status, out, err) = run_relay(&["--check-config", cfg.to_str().unwrap()], &SECRETS);
        assert!(status.success(), "all_keys={all_keys}: {err}");
        for needle in [
            "Konfiguration in Ordnung",
            "https://0.0.0.0:8443",
            "Konto „praxis“",
            "SMTP smtp.praxis-mueller.de:587",
            "SendGrid https://api.eu.sendgrid.com",
            "SMS Seven https://gateway.seven.io",
            "Token „empfang“",
        ] {
            assert!(out.contains(needle), "{needle} not in {out}");
        }
        for (_, secret) in SECRETS {
            assert!(!out.contains(secret), "secret printed: {out}");
        }
        assert!(
            !tmp.path().join("data").exists(),
            "--check-config starts nothing"
        );
    }
}

#[test]
fn check_config_names_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = example_in(tmp.path(), false);
    // A secret missing from the environment.
    let (status, out, err) = run_relay(&["--check-config", cfg.to_str().unwrap()], &SECRETS[..3]);
    assert!(!status.success());
    assert!(out.is_empty());
    assert!(
        err.contains("sms[0].token_env") && err.contains("PRAXISBOTE_SEVEN_API_KEY"),
        "{err}"
    );
    // No TLS on a network address.
    let text = std::fs::read_to_string(&cfg).unwrap();
    let start = text.find("\n[tls]\n").unwrap();
    let end = text.find("\n[[tokens]]\n").unwrap();
    std::fs::write(&cfg, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (status, _, err) = run_relay(&["--check-config", cfg.to_str().unwrap()], &SECRETS);
    assert!(!status.success());
    assert!(
        err.contains("`listen`") && err.contains("behind_tls_proxy"),
        "{err}"
    );
}

/// Regression: the data directory and queue were created with the default umask (readable
/// by every user of the machine).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_and_queue_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // An existing, too open directory is tightened.
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let relay = Relay::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
        &tmp.path().join("relay.log"),
    );
    let res = reqwest::Client::new()
        .post(format!("{}/v1/messages", relay.base))
        .json(&SubmitRequest {
            messages: vec![reminder("perm", "patient", 0)],
        })
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    wait_idle(&relay.base, 20).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let mut files = vec![
        data.join("queue.sqlite"),
        data.join("queue.sqlite-wal"),
        data.join("relay.lock"),
    ];
    files.extend(maildir_files(&data.join("maildir")));
    assert!(files.len() > 3, "a demo mail was written");
    for f in files {
        assert_eq!(mode(&f) & 0o077, 0, "{}: {:o}", f.display(), mode(&f));
    }
}
