//! The server side: one async trait that sends an HTTP request to the database URL and
//! returns the answer. The app implements it with the browser's `fetch`, native tests with
//! an HTTP client; authentication (CouchDB's basic or cookie auth) is the implementor's.
//! [`Couch`] builds the replication protocol's requests on top of it.

use crate::doc::RevDoc;
use crate::error::SyncError;
use crate::rev::Rev;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
        }
    }
}

/// A request relative to the database URL: `path` is e.g. `""` (the database itself),
/// `"_changes?since=0&limit=100"` or `"_local/abc"`. A body is JSON
/// (`Content-Type: application/json`); answers are asked for as JSON too.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends requests to one CouchDB database. No `Send` bound: the browser's futures are not.
#[allow(async_fn_in_trait)]
pub trait Remote {
    /// `Err` only when no answer came (the text says why); any HTTP status is an answer.
    async fn send(&self, request: Request) -> Result<Response, String>;
}

/// One change of the server's `_changes` feed (`style=all_docs`: every leaf).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: Value,
    pub id: String,
    pub leaves: Vec<Rev>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    pub results: Vec<Change>,
    pub last_seq: Value,
    /// Changes left after this batch, when the server says (CouchDB 2+ does).
    pub pending: Option<u64>,
}

/// The replication protocol's requests to one database.
pub struct Couch<'a, R: Remote> {
    remote: &'a R,
}

impl<'a, R: Remote> Couch<'a, R> {
    pub fn new(remote: &'a R) -> Self {
        Couch { remote }
    }

    async fn call(
        &self,
        method: Method,
        path: String,
        body: Option<&Value>,
    ) -> Result<(u16, Value), SyncError> {
        let response = self
            .remote
            .send(Request {
                method,
                path: path.clone(),
                body: body.map(|b| b.to_string().into_bytes()),
            })
            .await
            .map_err(SyncError::Transport)?;
        let value: Value = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body)
                .map_err(|e| SyncError::Protocol(format!("{path}: {e}")))?
        };
        Ok((response.status, value))
    }

    /// A call that must answer 2xx.
    async fn ok(
        &self,
        method: Method,
        path: String,
        body: Option<&Value>,
    ) -> Result<Value, SyncError> {
        let (status, value) = self.call(method, path.clone(), body).await?;
        if (200..300).contains(&status) {
            Ok(value)
        } else {
            Err(http_error(status, path, &value))
        }
    }

    /// `GET /db`: checks that the database exists; its `update_seq` bounds the progress.
    pub async fn info(&self) -> Result<Value, SyncError> {
        self.ok(Method::Get, String::new(), None).await
    }

    /// `GET /db/_local/{id}`: a replication log, `None` when there is none yet.
    pub async fn get_local(&self, id: &str) -> Result<Option<Value>, SyncError> {
        let path = format!("_local/{}", encode(id));
        let (status, value) = self.call(Method::Get, path.clone(), None).await?;
        match status {
            200..=299 => Ok(Some(value)),
            404 => Ok(None),
            _ => Err(http_error(status, path, &value)),
        }
    }

    /// `PUT /db/_local/{id}` (the body carries the `_rev` it replaces); returns the new `_rev`.
    pub async fn put_local(&self, id: &str, doc: &Value) -> Result<String, SyncError> {
        let v = self
            .ok(Method::Put, format!("_local/{}", encode(id)), Some(doc))
            .await?;
        v.get("rev")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| SyncError::Protocol("_local PUT without rev".into()))
    }

    /// `GET /db/{id}`: a plain document (its winning revision), `None` when there is none
    /// or it is deleted.
    pub async fn get_doc(&self, id: &str) -> Result<Option<Value>, SyncError> {
        let path = encode(id);
        let (status, value) = self.call(Method::Get, path.clone(), None).await?;
        match status {
            200..=299 => Ok(Some(value)),
            404 => Ok(None),
            _ => Err(http_error(status, path, &value)),
        }
    }

    /// `PUT /db/{id}` as a normal edit (the body carries the `_rev` it replaces, none for a
    /// new document); returns the new `_rev`. A stale `_rev` is CouchDB's 409.
    pub async fn put_doc(&self, id: &str, doc: &Value) -> Result<String, SyncError> {
        let v = self.ok(Method::Put, encode(id), Some(doc)).await?;
        v.get("rev")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| SyncError::Protocol("PUT without rev".into()))
    }

    /// `GET /db/_changes?style=all_docs&since=…&limit=…`.
    pub async fn changes(&self, since: &Value, limit: usize) -> Result<Changes, SyncError> {
        let path = format!(
            "_changes?style=all_docs&since={}&limit={limit}",
            encode(&seq_text(since))
        );
        self.changes_at(path).await
    }

    /// `GET /db/_changes?feed=longpoll&…`: answers as soon as there is a change after
    /// `since`, or empty after `timeout_ms` (CouchDB; pouchdb-server ignores the timeout, so
    /// a `Remote` should bound its requests itself).
    pub async fn longpoll(&self, since: &Value, timeout_ms: u64) -> Result<Changes, SyncError> {
        let path = format!(
            "_changes?feed=longpoll&style=all_docs&since={}&timeout={timeout_ms}&limit=1",
            encode(&seq_text(since))
        );
        self.changes_at(path).await
    }

    async fn changes_at(&self, path: String) -> Result<Changes, SyncError> {
        let v = self.ok(Method::Get, path, None).await?;
        let bad = || SyncError::Protocol("_changes answer without results/last_seq".into());
        let mut results = Vec::new();
        for r in v.get("results").and_then(Value::as_array).ok_or_else(bad)? {
            let id = r.get("id").and_then(Value::as_str).ok_or_else(bad)?;
            let leaves = r
                .get("changes")
                .and_then(Value::as_array)
                .ok_or_else(bad)?
                .iter()
                .filter_map(|c| Rev::parse(c.get("rev")?.as_str()?))
                .collect();
            results.push(Change {
                seq: r.get("seq").cloned().unwrap_or(Value::Null),
                id: id.to_string(),
                leaves,
            });
        }
        Ok(Changes {
            results,
            last_seq: v.get("last_seq").cloned().ok_or_else(bad)?,
            pending: v.get("pending").and_then(Value::as_u64),
        })
    }

    /// `POST /db/_revs_diff`: which of these revisions the database lacks.
    pub async fn revs_diff(
        &self,
        revs: &BTreeMap<String, Vec<Rev>>,
    ) -> Result<BTreeMap<String, Vec<Rev>>, SyncError> {
        let body: Map<String, Value> = revs
            .iter()
            .map(|(id, rs)| (id.clone(), json!(rs)))
            .collect();
        let v = self
            .ok(
                Method::Post,
                "_revs_diff".into(),
                Some(&Value::Object(body)),
            )
            .await?;
        let mut out = BTreeMap::new();
        for (id, entry) in v.as_object().into_iter().flatten() {
            let missing: Vec<Rev> = entry
                .get("missing")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| Rev::parse(r.as_str()?))
                .collect();
            if !missing.is_empty() {
                out.insert(id.clone(), missing);
            }
        }
        Ok(out)
    }

    /// `POST /db/_bulk_get?revs=true`: these revisions with their history. Revisions the
    /// server no longer has (or never had) are left out.
    pub async fn bulk_get(&self, wanted: &[(String, Rev)]) -> Result<Vec<RevDoc>, SyncError> {
        let docs: Vec<Value> = wanted
            .iter()
            .map(|(id, rev)| json!({"id": id, "rev": rev}))
            .collect();
        let v = self
            .ok(
                Method::Post,
                "_bulk_get?revs=true".into(),
                Some(&json!({ "docs": docs })),
            )
            .await?;
        let mut out = Vec::new();
        for result in v
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for d in result
                .get("docs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(ok) = d.get("ok") {
                    out.push(RevDoc::from_couch(ok).ok_or_else(|| {
                        SyncError::Protocol("_bulk_get returned an unreadable document".into())
                    })?);
                }
            }
        }
        Ok(out)
    }

    /// `POST /db/_bulk_docs` with `new_edits=false`: stores the revisions as they are.
    /// Returns the ids the server refused (CouchDB answers only refusals).
    pub async fn bulk_docs(&self, docs: &[RevDoc]) -> Result<Vec<(String, String)>, SyncError> {
        let docs: Vec<Value> = docs.iter().map(RevDoc::to_couch).collect();
        let v = self
            .ok(
                Method::Post,
                "_bulk_docs".into(),
                Some(&json!({"docs": docs, "new_edits": false})),
            )
            .await?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let error = r.get("error")?.as_str()?;
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                Some((id.to_string(), error.to_string()))
            })
            .collect())
    }
}

/// A sequence id as it goes into a query: numbers as digits, CouchDB 2+'s strings as they are.
fn seq_text(seq: &Value) -> String {
    match seq {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn http_error(status: u16, path: String, body: &Value) -> SyncError {
    let field = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    SyncError::Http {
        status,
        path,
        error: field("error"),
        reason: field("reason"),
    }
}

/// Percent-encoding of a path segment or query value (everything but RFC 3986's unreserved
/// characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_sequence_ids_and_doc_ids() {
        assert_eq!(super::encode("12-g1AA+b/c="), "12-g1AA%2Bb%2Fc%3D");
        assert_eq!(super::encode("\"x\""), "%22x%22");
    }
}
