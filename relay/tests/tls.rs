//! HTTPS listener (rustls) with a self-signed certificate made by `openssl` for the test.

mod common;

use common::*;
use praxisbote_core::wire::Health;

#[tokio::test]
async fn serves_https_with_configured_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (cert, key, ca) = (d.join("cert.pem"), d.join("key.pem"), d.join("ca.pem"));
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    // A test CA and a server certificate for 127.0.0.1 signed by it.
    let steps: Vec<Vec<String>> = vec![
        [
            &["req", "-x509"][..],
            &ec[..],
            &[
                "-days",
                "1",
                "-subj",
                "/CN=Test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ][..],
        ]
        .concat(),
        [
            &["req"][..],
            &ec[..],
            &[
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "key.pem",
                "-out",
                "srv.csr",
            ][..],
        ]
        .concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
            "-out",
            "cert.pem",
        ],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    for args in steps {
        let ok = std::process::Command::new("openssl")
            .args(&args)
            .current_dir(d)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "openssl {args:?}");
    }
    let cfg = tmp.path().join("relay.toml");
    std::fs::write(
        &cfg,
        format!(
            "[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
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
