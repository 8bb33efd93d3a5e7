//! One revision of one document as it travels between replicas, and its CouchDB JSON form
//! (`_id`, `_rev`, `_deleted`, `_revisions` beside the body's own fields). Bodies are opaque
//! JSON objects to this crate; their top-level keys must not start with `_` (CouchDB
//! reserves those).

use crate::rev::Rev;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct RevDoc {
    pub id: String,
    pub rev: Rev,
    /// A tombstone: the revision deletes the document.
    pub deleted: bool,
    pub body: Map<String, Value>,
    /// Hashes of the ancestors, parent first (`_revisions.ids` without the first).
    pub ancestors: Vec<String>,
}

impl RevDoc {
    /// The revision and its known ancestors, newest first.
    pub fn history(&self) -> Vec<Rev> {
        let mut out = vec![self.rev.clone()];
        for (i, hash) in self.ancestors.iter().enumerate() {
            let Some(pos) = self.rev.pos.checked_sub(i as u64 + 1).filter(|p| *p > 0) else {
                break;
            };
            out.push(Rev {
                pos,
                hash: hash.clone(),
            });
        }
        out
    }

    /// The document as `_bulk_docs` with `new_edits=false` takes it.
    pub fn to_couch(&self) -> Value {
        let mut m = self.body.clone();
        m.insert("_id".into(), Value::String(self.id.clone()));
        m.insert("_rev".into(), Value::String(self.rev.to_string()));
        if self.deleted {
            m.insert("_deleted".into(), Value::Bool(true));
        }
        let mut ids = vec![Value::String(self.rev.hash.clone())];
        ids.extend(self.ancestors.iter().cloned().map(Value::String));
        m.insert(
            "_revisions".into(),
            json!({"start": self.rev.pos, "ids": ids}),
        );
        Value::Object(m)
    }

    /// A document as `_bulk_get?revs=true` returns it. Fields starting with `_` other than
    /// the ones above (e.g. `_conflicts`, `_attachments`) are not part of the body.
    pub fn from_couch(v: &Value) -> Option<RevDoc> {
        let m = v.as_object()?;
        let id = m.get("_id")?.as_str()?.to_string();
        let rev = Rev::parse(m.get("_rev")?.as_str()?)?;
        let deleted = m.get("_deleted").and_then(Value::as_bool).unwrap_or(false);
        let mut ancestors = Vec::new();
        if let Some(revs) = m.get("_revisions") {
            let start = revs.get("start").and_then(Value::as_u64)?;
            let ids = revs.get("ids").and_then(Value::as_array)?;
            if start != rev.pos || ids.first().and_then(Value::as_str) != Some(&rev.hash) {
                return None;
            }
            for id in ids.iter().skip(1) {
                ancestors.push(id.as_str()?.to_string());
            }
        }
        let body = m
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(RevDoc {
            id,
            rev,
            deleted,
            body,
            ancestors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_couch_json() {
        let d = RevDoc {
            id: "p-1".into(),
            rev: Rev::parse("3-ccc").unwrap(),
            deleted: true,
            body: json!({"c": "x"}).as_object().unwrap().clone(),
            ancestors: vec!["bbb".into(), "aaa".into()],
        };
        let v = d.to_couch();
        assert_eq!(
            v["_revisions"],
            json!({"start": 3, "ids": ["ccc", "bbb", "aaa"]})
        );
        assert_eq!(v["_deleted"], json!(true));
        assert_eq!(RevDoc::from_couch(&v), Some(d.clone()));
        assert_eq!(
            d.history()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["3-ccc", "2-bbb", "1-aaa"]
        );
        // A `_revisions` that does not start at `_rev` is refused.
        let mut bad = v.clone();
        bad["_revisions"]["start"] = json!(2);
        assert_eq!(RevDoc::from_couch(&bad), None);
    }
}
