//! Installs what the build and the tests need, when missing. Never downloads a prebuilt
//! binary: Rust tools come from crates.io sources, wasm-opt from npm's binaryen package,
//! pouchdb-server (the CouchDB-compatible server of the sync tests) from npm, browsers and
//! servers from Debian's packages.

use crate::util::{self, cargo, cmd, output, run, succeeds, Result};
use std::process::Command;

pub const TRUNK_VERSION: &str = "0.21.14";
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
pub const BINARYEN_VERSION: &str = "132";
/// axe-core runs inside the test browser (accessibility test); from npm, like binaryen.
pub const AXE_VERSION: &str = "4.11.0";
/// pouchdb-server: the CouchDB-protocol server the replication tests of `sync/` run against
/// (always `--in-memory`, which needs no native module). Installed from npm with
/// `--ignore-scripts` (npm 11 blocks install scripts anyway): nothing is compiled, and the
/// prebuilt addon that leveldown carries for the on-disk mode is never loaded.
pub const POUCHDB_SERVER_VERSION: &str = "4.2.0";
/// PouchDB (the browser build `dist/pouchdb.min.js`): the peer of the sync benchmark, whose
/// replicator runs in headless Chromium against the same pouchdb-server. Installed from npm
/// with `--ignore-scripts` into its own directory of the tools cache
/// (`<tools cache>/pouchdb-browser`), apart from pouchdb-server's older PouchDB modules.
pub const POUCHDB_VERSION: &str = "9.0.0";

/// Peer baselines of the benchmarks, pinned, installed with pip into a virtualenv in the
/// tools cache by [`python_baselines`]: Jinja2 (`bench render`), ReportLab (`bench letters`).
pub const PYTHON_BASELINES: &[(&str, &str)] = &[("Jinja2", "3.1.6"), ("reportlab", "4.4.10")];

/// Debian packages the tests need: browser + driver, fonts for PDFs, poppler for PDF checks,
/// aiosmtpd as a real SMTP server, postfix for its smtp-sink, Node.js/npm for binaryen.
pub const TEST_PACKAGES: &[&str] = &[
    "chromium",
    "chromium-driver",
    "fonts-dejavu-core",
    "poppler-utils",
    "python3-aiosmtpd",
    "postfix",
];

pub fn ensure_build_tools() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let has_version = |prog: &str, want: &str| {
        output(cmd(prog).arg("--version")).is_some_and(|v| v.contains(want))
    };
    if !has_version("trunk", TRUNK_VERSION) {
        eprintln!("Installing trunk {TRUNK_VERSION} (from source, takes several minutes) …");
        run(cargo().args(["install", "--locked", &format!("trunk@{TRUNK_VERSION}")]))?;
    }
    if !has_version("wasm-bindgen", WASM_BINDGEN_VERSION) {
        eprintln!("Installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (from source) …");
        // Not --locked: its lockfile asks for a crate version the registry lacks.
        run(cargo().args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN_VERSION,
        ]))?;
    }
    if !succeeds(Command::new("npm").arg("--version")) {
        apt_install(&["nodejs", "npm"])?;
    }
    if !has_version("wasm-opt", &format!("version {BINARYEN_VERSION}")) {
        let dir = util::tools_dir();
        std::fs::create_dir_all(&dir)?;
        run(cmd("npm").current_dir(&dir).args([
            "install",
            "--no-audit",
            "--no-fund",
            &format!("binaryen@{BINARYEN_VERSION}"),
        ]))?;
    }
    Ok(())
}

pub fn ensure_test_packages() -> Result<()> {
    let missing: Vec<&str> = TEST_PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            !output(Command::new("dpkg-query").args(["-W", "-f=${Status}", p]))
                .is_some_and(|s| s.contains("install ok installed"))
        })
        .collect();
    if !missing.is_empty() {
        apt_install(&missing)?;
    }
    if !axe_js().exists() {
        npm_install(&format!("axe-core@{AXE_VERSION}"), &[])?;
    }
    ensure_pouchdb_server()
}

/// pouchdb-server in the tools cache (`cargo xtask start` runs one for the demo of two
/// devices; the sync tests start their own).
pub fn ensure_pouchdb_server() -> Result<()> {
    if !pouchdb_server_installed() {
        npm_install(
            &format!("pouchdb-server@{POUCHDB_SERVER_VERSION}"),
            &["--ignore-scripts"],
        )?;
        if !pouchdb_server_installed() {
            return Err(format!(
                "npm did not install pouchdb-server {POUCHDB_SERVER_VERSION} into {}",
                util::tools_dir().display()
            )
            .into());
        }
    }
    Ok(())
}

/// Installs one pinned npm package into the tools cache (Node.js and npm from Debian first).
fn npm_install(package: &str, extra: &[&str]) -> Result<()> {
    npm_install_in(&util::tools_dir(), package, extra)
}

/// Installs one pinned npm package into `dir/node_modules`.
fn npm_install_in(dir: &std::path::Path, package: &str, extra: &[&str]) -> Result<()> {
    if !succeeds(Command::new("npm").arg("--version")) {
        apt_install(&["nodejs", "npm"])?;
    }
    std::fs::create_dir_all(dir)?;
    run(cmd("npm")
        .current_dir(dir)
        .args(["install", "--no-audit", "--no-fund", "--save-exact"])
        .args(extra)
        .arg(package))
}

/// The `pouchdb-server` launcher in the tools cache; the native tests get it in
/// `PRAXISBOTE_POUCHDB_SERVER` (`sync/tests/`).
pub fn pouchdb_server() -> std::path::PathBuf {
    util::tools_dir().join("node_modules/.bin/pouchdb-server")
}

fn pouchdb_server_installed() -> bool {
    let manifest = util::tools_dir().join("node_modules/pouchdb-server/package.json");
    pouchdb_server().exists()
        && std::fs::read_to_string(manifest)
            .is_ok_and(|t| t.contains(&format!("\"version\": \"{POUCHDB_SERVER_VERSION}\"")))
}

/// PouchDB's browser build for the sync benchmark; installs it when missing.
pub fn ensure_pouchdb_browser() -> Result<()> {
    if pouchdb_browser_installed() {
        return Ok(());
    }
    let dir = pouchdb_browser_dir();
    std::fs::create_dir_all(&dir)?;
    // Its own package.json, so npm installs here and not into the tools cache above.
    let manifest = dir.join("package.json");
    if !manifest.exists() {
        std::fs::write(
            &manifest,
            "{\n  \"name\": \"praxisbote-pouchdb-browser\",\n  \"private\": true\n}\n",
        )?;
    }
    npm_install_in(
        &dir,
        &format!("pouchdb@{POUCHDB_VERSION}"),
        &["--ignore-scripts", "--omit=optional"],
    )?;
    if !pouchdb_browser_installed() {
        return Err(format!(
            "npm did not install pouchdb {POUCHDB_VERSION} into {}",
            dir.display()
        )
        .into());
    }
    Ok(())
}

fn pouchdb_browser_dir() -> std::path::PathBuf {
    util::tools_dir().join("pouchdb-browser")
}

/// `pouchdb.min.js` (browser build) of [`POUCHDB_VERSION`]; the sync benchmark gets it in
/// `PB_POUCHDB_JS`.
pub fn pouchdb_js() -> std::path::PathBuf {
    pouchdb_browser_dir().join("node_modules/pouchdb/dist/pouchdb.min.js")
}

fn pouchdb_browser_installed() -> bool {
    let manifest = pouchdb_browser_dir().join("node_modules/pouchdb/package.json");
    pouchdb_js().exists()
        && std::fs::read_to_string(manifest)
            .is_ok_and(|t| t.contains(&format!("\"version\": \"{POUCHDB_VERSION}\"")))
}

/// The Python of the benchmarks' virtualenv (`<tools cache>/python-baselines`) with the pinned
/// [`PYTHON_BASELINES`]; creates the virtualenv and installs them with pip when missing.
pub fn python_baselines() -> Result<std::path::PathBuf> {
    let venv = util::tools_dir().join("python-baselines");
    let python = venv.join("bin/python");
    let wanted: Vec<String> = PYTHON_BASELINES
        .iter()
        .map(|(name, version)| format!("{name}=={version}"))
        .collect();
    let installed = || {
        let freeze =
            output(Command::new(&python).args(["-m", "pip", "freeze"])).unwrap_or_default();
        wanted
            .iter()
            .all(|w| freeze.lines().any(|l| l.trim().eq_ignore_ascii_case(w)))
    };
    if installed() {
        return Ok(python);
    }
    if !python.exists() {
        std::fs::create_dir_all(util::tools_dir())?;
        let mut venv_cmd = Command::new("python3");
        venv_cmd.args(["-m", "venv"]).arg(&venv);
        if !succeeds(&mut venv_cmd) {
            // Debian ships the venv module (ensurepip) separately.
            apt_install(&["python3-venv"])?;
            let _ = std::fs::remove_dir_all(&venv);
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
    }
    eprintln!(
        "Installing the benchmark baselines into {}: {}",
        venv.display(),
        wanted.join(" ")
    );
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(&wanted))?;
    if !installed() {
        return Err(format!("{} lacks {}", venv.display(), wanted.join(" ")).into());
    }
    Ok(python)
}

/// The axe-core script the accessibility test injects into the page.
pub fn axe_js() -> std::path::PathBuf {
    util::tools_dir().join("node_modules/axe-core/axe.min.js")
}

fn apt_install(packages: &[&str]) -> Result<()> {
    eprintln!("Installing Debian packages: {}", packages.join(" "));
    let sudo = output(Command::new("id").arg("-u")).is_none_or(|u| u.trim() != "0");
    let apt = |args: &[&str]| {
        let mut c = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run(&mut apt(&args))
}
