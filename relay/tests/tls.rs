//! HTTPS listener (rustls) with a certificate made by `openssl` for the test, and the rule
//! that the API never goes over the network in plain text.

mod common;

use common::*;
use praxisbote_core::wire::Health;

#[tokio::test]
async fn serves_https_with_configured_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key, ca) = practice_ca(tmp.path());
    let cfg = tmp.path().join("relay.toml");
    std::fs::write(
        &cfg,
        format!(
            "demo = true\n[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let data = tmp.path().join("data");
    let relay = Relay::start(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
        &tmp.path().join("relay.log"),
    );
    assert!(
        relay.base.starts_with("https://127.0.0.1:"),
        "{}",
        relay.base
    );
    let pem = std::fs::read(&ca).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let h: Health = client
        .get(format!("{}/v1/health", relay.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h.status, "ok");
    // Plain HTTP on the TLS port does not get an API answer.
    let plain = relay.base.replace("https://", "http://");
    let r = reqwest::get(format!("{plain}/v1/health")).await;
    assert!(r.map(|r| !r.status().is_success()).unwrap_or(true));
}

/// Regression: the relay listened in plain HTTP on a network address (tokens and patient
/// data unencrypted through the practice network), and demo mode could be reached from it.
#[test]
fn plain_http_off_loopback_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("relay.toml");
    let data = tmp.path().join("data");
    write_private(&cfg, &smtp_config(25, ""));
    let run = |listen: &str, cfg_path: Option<&std::path::Path>| {
        let mut args = vec!["--listen", listen, "--data-dir", data.to_str().unwrap()];
        if let Some(c) = cfg_path {
            args.extend(["--config", c.to_str().unwrap()]);
        }
        run_relay(&args, &[])
    };
    let (status, out, err) = run("0.0.0.0:0", Some(&cfg));
    assert!(!status.success());
    assert!(out.is_empty(), "must not claim to listen: {out}");
    assert!(
        err.contains("`listen`") && err.contains("[tls]") && err.contains("behind_tls_proxy"),
        "{err}"
    );
    // Demo mode (no config) off loopback.
    let (status, _, err) = run("0.0.0.0:0", None);
    assert!(!status.success());
    assert!(err.contains("Demo-Modus nur auf 127.0.0.1"), "{err}");
    assert!(!data.join("queue.sqlite").exists(), "nothing opened");
}

/// With `behind_tls_proxy = true` the admin states that a TLS proxy is in front.
#[test]
fn behind_tls_proxy_allows_a_network_address() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("relay.toml");
    write_private(
        &cfg,
        &format!("behind_tls_proxy = true\n{}", smtp_config(25, "")),
    );
    let data = tmp.path().join("data");
    let (status, out, err) = run_relay(
        &[
            "--check-config",
            cfg.to_str().unwrap(),
            "--listen",
            "0.0.0.0:8443",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    assert!(status.success(), "{err}");
    assert!(out.contains("http://0.0.0.0:8443"), "{out}");
    assert!(out.contains("TLS-Proxy"), "{out}");
}
