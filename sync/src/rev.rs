//! Revision ids `N-hash`: N is the generation (1 for a new document, parent + 1 for an edit),
//! hash is 32 lowercase hex digits of an MD5, as CouchDB writes them. CouchDB hashes its own
//! Erlang term encoding of (deleted, parent, body); this crate hashes a canonical JSON text of
//! the same three things, so equal edits on two devices give the same id (as in CouchDB),
//! and different edits different ids. Servers store foreign ids as they are
//! (`new_edits=false`), so the exact hash input is ours to choose.

use md5::{Digest, Md5};
use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;

/// One revision id, e.g. `3-917fa2381192822767f010b95b45325b`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rev {
    pub pos: u64,
    pub hash: String,
}

impl Rev {
    pub fn parse(s: &str) -> Option<Rev> {
        let (pos, hash) = s.split_once('-')?;
        let pos: u64 = pos.parse().ok()?;
        if pos == 0 || hash.is_empty() {
            return None;
        }
        Some(Rev {
            pos,
            hash: hash.to_string(),
        })
    }

    /// The id of a new revision: generation `parent + 1` (1 without a parent), hash over
    /// the deletion flag, the parent id and the body in canonical JSON (keys sorted).
    pub fn next(parent: Option<&Rev>, deleted: bool, body: &Value) -> Rev {
        let mut text = String::new();
        text.push_str(if deleted { "1\n" } else { "0\n" });
        if let Some(p) = parent {
            text.push_str(&p.to_string());
        }
        text.push('\n');
        canonical_json(body, &mut text);
        Rev {
            pos: parent.map_or(1, |p| p.pos + 1),
            hash: md5_hex(text.as_bytes()),
        }
    }
}

impl fmt::Display for Rev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.pos, self.hash)
    }
}

/// CouchDB's order of revisions: generation first, then the hash as text.
impl Ord for Rev {
    fn cmp(&self, other: &Self) -> Ordering {
        self.pos
            .cmp(&other.pos)
            .then_with(|| self.hash.cmp(&other.hash))
    }
}

impl PartialOrd for Rev {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for Rev {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Rev {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Rev::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad revision id {s:?}")))
    }
}

pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    let digest = Md5::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON text with object keys sorted, whatever order the map kept (serde_json's
/// `preserve_order` feature may be on in the workspace).
fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_prints() {
        let r = Rev::parse("12-abc").unwrap();
        assert_eq!((r.pos, r.hash.as_str()), (12, "abc"));
        assert_eq!(r.to_string(), "12-abc");
        assert!(Rev::parse("0-abc").is_none());
        assert!(Rev::parse("x-abc").is_none());
        assert!(Rev::parse("3-").is_none());
        assert!(Rev::parse("3").is_none());
    }

    #[test]
    fn orders_by_generation_then_hash() {
        let r = |s| Rev::parse(s).unwrap();
        assert!(r("2-a") > r("1-z"));
        assert!(r("10-a") > r("9-z"));
        assert!(r("2-b") > r("2-a"));
    }

    #[test]
    fn new_ids_are_deterministic_and_depend_on_every_input() {
        let body = json!({"b": 1, "a": [1, {"y": 2, "x": 1}]});
        let same_keys_other_order = json!({"a": [1, {"x": 1, "y": 2}], "b": 1});
        let r1 = Rev::next(None, false, &body);
        assert_eq!(r1.pos, 1);
        assert_eq!(r1.hash.len(), 32);
        assert!(r1.hash.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(r1, Rev::next(None, false, &same_keys_other_order));
        assert_ne!(r1, Rev::next(None, true, &body));
        assert_ne!(r1, Rev::next(None, false, &json!({"b": 2})));
        let r2 = Rev::next(Some(&r1), false, &body);
        assert_eq!(r2.pos, 2);
        assert_ne!(r2.hash, r1.hash);
    }
}
