//! praxisbote-relay: the small send service for e-mail and SMS.
//!
//! `run` is the whole program; the binary only parses the command line.

pub mod api;
pub mod config;
pub mod email;
pub mod engine;
pub mod sms;
pub mod store;
pub mod transport;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;

use crate::config::Config;

/// Command line (kept stable: `cargo xtask start` and the e2e tests rely on it).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "praxisbote-relay",
    version,
    about = "Sendedienst für praxisbote (E-Mail und SMS)"
)]
pub struct Args {
    /// TOML configuration file; without one the relay runs in demo mode.
    #[arg(long, env = "PRAXISBOTE_RELAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address (overrides `listen` in the config). Default 127.0.0.1:8080.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serve the built web app from this directory at `/` (SPA fallback to index.html).
    #[arg(long)]
    pub static_dir: Option<PathBuf>,
    /// Queue database and demo output (overrides `data_dir`). Default ./relay-data.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// Loads the configuration named by the arguments (demo mode without one).
pub fn load_config(args: &Args) -> Result<Config, config::ConfigError> {
    match &args.config {
        Some(p) => Config::load(p),
        None => Ok(Config::demo()),
    }
}

/// Everything the server needs, opened and validated, before binding.
pub struct Prepared {
    pub state: api::Shared,
    pub engine: engine::Engine,
    pub listen: SocketAddr,
    pub static_dir: Option<PathBuf>,
    pub data_dir: PathBuf,
}

/// Opens the queue, recovers interrupted attempts, starts the engine.
/// Must run inside a tokio runtime.
pub fn listen_addr(args: &Args, cfg: &Config) -> SocketAddr {
    args.listen
        .or(cfg.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)))
}

/// `bound` is the address actually bound (port 0 resolved), used in unsubscribe links
/// unless `public_url` is configured.
pub fn prepare(args: &Args, cfg: Config, bound: SocketAddr) -> Result<Prepared, String> {
    let listen = bound;
    let data_dir = args
        .data_dir
        .clone()
        .or(cfg.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("relay-data"));
    std::fs::create_dir_all(&data_dir).map_err(|e| {
        format!(
            "Datenverzeichnis {} nicht anlegbar: {e}",
            data_dir.display()
        )
    })?;
    if let Some(d) = &args.static_dir {
        if !d.join("index.html").is_file() {
            return Err(format!(
                "--static-dir {}: index.html fehlt (erst die App bauen)",
                d.display()
            ));
        }
    }
    let store = store::Store::open(&data_dir.join("queue.sqlite"))
        .map_err(|e| format!("Warteschlange {}: {e}", data_dir.display()))?;
    let recovered = store.recover().map_err(|e| e.to_string())?;
    if recovered > 0 {
        eprintln!("praxisbote-relay: {recovered} unterbrochene Sendungen werden erneut versucht");
    }
    let mut transports = Vec::new();
    for a in &cfg.accounts {
        let t =
            transport::for_account(a, &data_dir).map_err(|e| format!("Konto {}: {e}", a.name))?;
        transports.push((a.clone(), t));
    }
    let scheme = if cfg.tls.is_some() { "https" } else { "http" };
    let public_url = cfg
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{listen}"));
    let engine = engine::Engine::start(&cfg, store.clone(), transports, public_url);
    let state = Arc::new(api::AppState {
        cfg,
        store,
        wake: engine.wake.clone(),
        in_flight: Mutex::new(Default::default()),
        rate: Mutex::new(Default::default()),
    });
    Ok(Prepared {
        state,
        engine,
        listen,
        static_dir: args.static_dir.clone(),
        data_dir,
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Runs the relay until Ctrl-C / SIGTERM.
pub async fn run(args: Args) -> Result<(), String> {
    let cfg = load_config(&args).map_err(|e| e.to_string())?;
    let tls = cfg.tls.clone();
    let demo = cfg.demo;
    let listen = listen_addr(&args, &cfg);
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| format!("Adresse {listen} nicht verfügbar: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let p = prepare(&args, cfg, addr)?;
    let app = api::router(p.state.clone(), p.static_dir.clone());
    let scheme = if tls.is_some() { "https" } else { "http" };
    if demo {
        eprintln!(
            "praxisbote-relay: Demo-Modus – E-Mails nach {}/maildir/new, SMS nach {}/sms.jsonl",
            p.data_dir.display(),
            p.data_dir.display()
        );
    }
    println!("praxisbote-relay listening on {scheme}://{addr}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => {
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
            axum::serve(listener, make)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .map_err(|e| e.to_string())?;
        }
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls_cfg = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| format!("TLS-Zertifikat/Schlüssel: {e}"))?;
            let handle = axum_server::Handle::new();
            let h2 = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                h2.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener, tls_cfg)
                .handle(handle)
                .serve(make)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    eprintln!("praxisbote-relay: wird beendet …");
    p.engine.stop(Duration::from_secs(10)).await;
    Ok(())
}
