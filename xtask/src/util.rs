//! Small helpers: paths, running commands, building the app and the relay.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The workspace root (the directory above `xtask/`). `cargo xtask` (`cargo run`) sets
/// `CARGO_MANIFEST_DIR` at run time: that one wins over the compile-time path, because two
/// checkouts sharing one target dir share one `xtask` binary too.
pub fn root() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("Cargo.toml").exists() && d.ends_with("xtask"))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    Path::new(&dir)
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// Shared cargo target dir outside the clone, so fresh clones build warm.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache/praxisbote-target"))
}

/// Where npm-installed tools (binaryen's wasm-opt) live.
pub fn tools_dir() -> PathBuf {
    home().join(".cache/praxisbote-tools")
}

/// PATH with cargo's bin dir and the npm tools first.
pub fn path_env() -> std::ffi::OsString {
    let mut dirs = vec![
        home().join(".cargo/bin"),
        tools_dir().join("node_modules/.bin"),
    ];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).expect("valid PATH")
}

/// A command with the project's environment (PATH, target dir) and the root as cwd.
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root())
        .env("PATH", path_env())
        .env("CARGO_TARGET_DIR", target_dir());
    c
}

pub fn cargo() -> Command {
    cmd(&std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs a command, inheriting stdio; error when it fails.
pub fn run(c: &mut Command) -> Result<()> {
    eprintln!("$ {}", show(c));
    let status = c.status().map_err(|e| format!("{}: {e}", show(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed with {status}", show(c)).into())
    }
}

/// True when the command runs and exits 0 (output discarded).
pub fn succeeds(c: &mut Command) -> bool {
    c.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Captured stdout of a command, or None when it cannot run or fails.
pub fn output(c: &mut Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn show(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Builds the web app into `dist/` with Trunk (offline, pinned tools).
pub fn build_dist(release: bool) -> Result<()> {
    run(cargo().args(["fetch", "--quiet"]))?;
    let mut c = cmd("trunk");
    c.arg("build");
    if release {
        c.arg("--release");
    }
    run(&mut c)?;
    let n = crate::precache::write(&root().join("dist"))?;
    eprintln!("service worker: {n} files precached");
    Ok(())
}

/// Builds the web app of another commit (e.g. the one before a change) outside the
/// repository, for benchmarks that compare both builds in one run: `git archive REV`
/// unpacked into `$TMPDIR/praxisbote-baseline-REV`, built there with Trunk (release, the
/// same pinned tools and target dir) and its service-worker list filled. A finished build is
/// reused. Returns its `dist/`.
pub fn build_baseline(rev: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("praxisbote-baseline-{rev}"));
    let dist = dir.join("dist");
    let filled = std::fs::read_to_string(dist.join("sw.js"))
        .is_ok_and(|sw| !sw.contains(crate::precache::LIST_LINE));
    if filled {
        return Ok(dist);
    }
    if !dir.join("Cargo.toml").exists() {
        std::fs::create_dir_all(&dir)?;
        run(cmd("sh").arg("-c").arg(format!(
            "git archive '{rev}' | tar -x -C '{}'",
            dir.display()
        )))?;
    }
    run(cmd("trunk").args(["build", "--release"]).current_dir(&dir))?;
    let n = crate::precache::write(&dist)?;
    eprintln!("baseline {rev}: {n} files precached");
    Ok(dist)
}

/// Builds the relay (debug profile, shared with the tests) and returns its binary path.
pub fn build_relay() -> Result<PathBuf> {
    run(cargo().args(["build", "--quiet", "-p", "praxisbote-relay"]))?;
    Ok(target_dir().join("debug/praxisbote-relay"))
}

/// A free TCP port on loopback.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
