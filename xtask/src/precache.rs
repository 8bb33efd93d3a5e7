//! Fills the service worker's precache list after a Trunk build.
//!
//! Trunk gives the wasm, JS and CSS files content-hashed names, so the list of files the
//! service worker must cache for offline use can only be known after the build. This writes
//! every file of `dist/` (except the worker itself) into `dist/sw.js`, plus a version derived
//! from all file contents: a new build means a new cache and an update prompt in the app.

use std::path::{Path, PathBuf};

use crate::util::Result;

const VERSION_LINE: &str = "const PB_VERSION = \"dev\";";
pub const LIST_LINE: &str = "const PB_PRECACHE = [];";

/// Rewrites `dist/sw.js` with the file list and version. Returns the number of files.
pub fn write(dist: &Path) -> Result<usize> {
    let sw = dist.join("sw.js");
    let template = std::fs::read_to_string(&sw).map_err(|e| {
        format!(
            "{}: {e} (is public/sw.js copied by index.html?)",
            sw.display()
        )
    })?;
    let mut files = Vec::new();
    collect(dist, dist, &mut files)?;
    files.retain(|f| f != "sw.js");
    files.sort();
    let mut hash = Fnv::default();
    for f in &files {
        hash.write(f.as_bytes());
        hash.write(&std::fs::read(dist.join(f))?);
    }
    let out = fill(&template, &format!("{:016x}", hash.0), &files)?;
    std::fs::write(&sw, out)?;
    Ok(files.len())
}

/// The service worker source with version and list filled in.
fn fill(template: &str, version: &str, files: &[String]) -> Result<String> {
    if !template.contains(VERSION_LINE) || !template.contains(LIST_LINE) {
        return Err("sw.js lacks the PB_VERSION / PB_PRECACHE placeholder lines".into());
    }
    // "./" is the start URL; index.html is what navigations are answered with.
    let mut entries = vec!["\"./\"".to_string()];
    entries.extend(files.iter().map(|f| format!("{f:?}")));
    Ok(template
        .replace(VERSION_LINE, &format!("const PB_VERSION = \"{version}\";"))
        .replace(
            LIST_LINE,
            &format!("const PB_PRECACHE = [\n  {},\n];", entries.join(",\n  ")),
        ))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path: PathBuf = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root)?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// FNV-1a, 64 bit: enough to tell builds apart, no dependency.
struct Fnv(u64);
impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}
impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist_with(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = crate::test::tempdir(&format!("pb-precache-{name}")).unwrap();
        std::fs::write(
            dir.join("sw.js"),
            std::fs::read_to_string(crate::util::root().join("public/sw.js")).unwrap(),
        )
        .unwrap();
        for (name, body) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
        dir
    }

    #[test]
    fn lists_every_built_file_and_versions_by_content() {
        let files = [
            ("index.html", "<html>"),
            ("praxisbote-1a2b_bg.wasm", "wasm"),
            ("icons/icon-192.png", "png"),
        ];
        let dir = dist_with("a", &files);
        assert_eq!(write(&dir).unwrap(), 3);
        let sw = std::fs::read_to_string(dir.join("sw.js")).unwrap();
        for (name, _) in files {
            assert!(sw.contains(&format!("\"{name}\"")), "{name} missing:\n{sw}");
        }
        assert!(sw.contains("\"./\""));
        assert!(
            !sw.contains("\"sw.js\""),
            "the worker must not cache itself"
        );
        assert!(!sw.contains("PB_VERSION = \"dev\""));
        let version = |s: &str| {
            s.lines()
                .find(|l| l.starts_with("const PB_VERSION"))
                .unwrap()
                .to_string()
        };
        let v1 = version(&sw);

        // Same files, one changed byte: another version.
        let dir2 = dist_with(
            "b",
            &[
                ("index.html", "<html>"),
                ("praxisbote-1a2b_bg.wasm", "wasn"),
                ("icons/icon-192.png", "png"),
            ],
        );
        write(&dir2).unwrap();
        assert_ne!(
            v1,
            version(&std::fs::read_to_string(dir2.join("sw.js")).unwrap())
        );
    }

    #[test]
    fn refuses_a_worker_without_placeholders() {
        assert!(fill("self.addEventListener()", "1", &[]).is_err());
    }
}
