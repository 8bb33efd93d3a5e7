//! praxisbote-relay: the small send service for e-mail and SMS.
//!
//! `run` is the whole program; the binary only parses the command line.

pub mod api;
pub mod config;
pub mod crash;
pub mod email;
pub mod engine;
pub mod sms;
pub mod store;
pub mod transport;

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    /// TOML configuration file; without one the relay runs in demo mode (loopback only).
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
    /// Validate this configuration file, print what would run, and exit (0 = valid).
    #[arg(long, value_name = "FILE")]
    pub check_config: Option<PathBuf>,
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
    /// Held for the process's lifetime: one relay per data directory.
    pub lock: File,
}

pub fn listen_addr(args: &Args, cfg: &Config) -> SocketAddr {
    args.listen
        .or(cfg.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)))
}

pub fn data_dir(args: &Args, cfg: &Config) -> PathBuf {
    args.data_dir
        .clone()
        .or(cfg.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("relay-data"))
}

/// Files the relay creates are private (queue, WAL, demo Maildir): umask 077.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates the data directory (0700) or tightens an existing one, and takes its lock file:
/// a second relay on the same directory would hand out the first one's rows again.
pub fn open_data_dir(dir: &Path) -> Result<File, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("Datenverzeichnis {} nicht anlegbar: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("Datenverzeichnis {}: {e}", dir.display()))?;
        for f in ["queue.sqlite", "queue.sqlite-wal", "queue.sqlite-shm"] {
            let p = dir.join(f);
            if p.exists() {
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    let path = dir.join("relay.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("Sperrdatei {}: {e}", path.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "Ein anderer praxisbote-relay arbeitet schon mit dem Datenverzeichnis {} (Sperrdatei relay.lock); dieser startet nicht.",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(format!("Sperrdatei {}: {e}", path.display()))
        }
    }
}

/// Opens the queue, recovers interrupted attempts, starts the engine.
/// Must run inside a tokio runtime. `bound` is the address actually bound (port 0
/// resolved), used in unsubscribe links in demo mode.
pub fn prepare(args: &Args, cfg: Config, bound: SocketAddr) -> Result<Prepared, String> {
    let data_dir = data_dir(args, &cfg);
    let lock = open_data_dir(&data_dir)?;
    if let Some(d) = &args.static_dir {
        if !d.join("index.html").is_file() {
            return Err(format!(
                "--static-dir {}: index.html fehlt (erst die App bauen)",
                d.display()
            ));
        }
    }
    let durability = store::Durability::from_env();
    if durability != store::Durability::Full {
        eprintln!("praxisbote-relay: WARNUNG: synchronous=NORMAL (nur für Messungen); bei Stromausfall können angenommene Nachrichten verloren gehen");
    }
    let open = store::OpenOptions {
        durability,
        legacy_scope: cfg
            .tokens
            .first()
            .map(|t| t.name.clone())
            .unwrap_or_else(|| "demo".into()),
        legacy_practice: cfg
            .tokens
            .first()
            .map(|t| t.practice.clone())
            .unwrap_or_else(|| config::DEFAULT_PRACTICE.into()),
    };
    let store = store::Store::open(&data_dir.join("queue.sqlite"), &open)
        .map_err(|e| format!("Warteschlange {}: {e}", data_dir.display()))?;
    let (retried, failed) = store.recover(cfg.max_attempts).map_err(|e| e.to_string())?;
    if retried > 0 {
        eprintln!(
            "praxisbote-relay: {retried} unterbrochene Sendungen werden einzeln erneut versucht"
        );
    }
    if failed > 0 {
        eprintln!(
            "praxisbote-relay: {failed} Sendungen aufgegeben: das Relay brach bei jedem Versuch ab"
        );
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
        .unwrap_or_else(|| format!("{scheme}://{bound}"));
    let engine = engine::Engine::start(&cfg, store.clone(), transports, public_url);
    let state = Arc::new(api::AppState::new(cfg, store, engine.wake.clone()));
    Ok(Prepared {
        state,
        engine,
        listen: bound,
        static_dir: args.static_dir.clone(),
        data_dir,
        lock,
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

/// `--check-config FILE`: validates without starting anything and describes what would run.
pub fn check_config(args: &Args, path: &Path) -> Result<String, String> {
    let cfg = Config::load(path).map_err(|e| e.to_string())?;
    let listen = listen_addr(args, &cfg);
    cfg.check_listen(listen).map_err(|e| e.to_string())?;
    for a in &cfg.accounts {
        transport::for_account(a, &std::env::temp_dir())
            .map_err(|e| format!("Konto {}: {e}", a.name))?;
    }
    Ok(format!(
        "Konfiguration in Ordnung / configuration valid: {}\n{}Datenverzeichnis / data dir: {}\n",
        path.display(),
        cfg.summary(listen),
        data_dir(args, &cfg).display()
    ))
}

/// Runs the relay until Ctrl-C / SIGTERM.
pub async fn run(args: Args) -> Result<(), String> {
    if let Some(path) = args.check_config.clone() {
        print!("{}", check_config(&args, &path)?);
        return Ok(());
    }
    private_umask();
    let cfg = load_config(&args).map_err(|e| e.to_string())?;
    let tls = cfg.tls.clone();
    let demo = cfg.demo;
    let listen = listen_addr(&args, &cfg);
    cfg.check_listen(listen).map_err(|e| e.to_string())?;
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
    p.engine.stop(Duration::from_secs(20)).await;
    drop(p.lock);
    Ok(())
}
