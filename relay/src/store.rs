//! The durable queue: SQLite in WAL mode.
//!
//! A message row moves `queued → sending → sent | retrying | failed`. `sending` is committed
//! before the delivery attempt; after a crash such rows are set back to `retrying`
//! (at-least-once; the Message-ID stays the same so duplicates can be recognised).

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use praxisbote_core::domain::PersonId;
use praxisbote_core::wire::{DeliveryState, MessageStatus, OptOut, OutgoingMessage};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn to_dt(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Hash of a message's canonical JSON: the idempotency fingerprint.
pub fn payload_hash(m: &OutgoingMessage) -> String {
    let json = serde_json::to_vec(m).expect("serialisable");
    hex::encode(Sha256::digest(&json))
}

/// A message handed to a worker.
#[derive(Debug, Clone)]
pub struct Job {
    pub seq: i64,
    pub msg: OutgoingMessage,
    pub unsub_token: Option<String>,
    pub attempts: u32,
}

/// Outcome of one delivery attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent { provider_id: Option<String> },
    Transient(String),
    Permanent(String),
}

/// A message to insert, already validated, with its resolved sender.
pub struct NewMessage {
    pub msg: OutgoingMessage,
    pub sender: String,
    pub unsub_token: Option<String>,
}

/// Result of a batch insert.
pub enum InsertResult {
    Ok(Vec<MessageStatus>),
    /// Same client id, different payload.
    Conflict(String),
}

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id TEXT NOT NULL UNIQUE,
  payload_hash TEXT NOT NULL,
  channel TEXT NOT NULL,
  sender TEXT NOT NULL,
  payload TEXT,
  unsub_token TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  reason TEXT,
  provider_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_due ON messages(sender, state, next_attempt);
CREATE TABLE IF NOT EXISTS unsubscribe(
  token TEXT PRIMARY KEY,
  person_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL,
  recipient TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS optouts(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  token TEXT NOT NULL UNIQUE,
  person_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL,
  recipient TEXT NOT NULL,
  at INTEGER NOT NULL
);
";

fn enum_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn enum_parse<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn status_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<MessageStatus> {
    let state: String = row.get("state")?;
    let state = DeliveryState::parse(&state).unwrap_or(DeliveryState::Queued);
    let next: i64 = row.get("next_attempt")?;
    Ok(MessageStatus {
        client_id: row.get("client_id")?,
        state,
        reason: row.get("reason")?,
        next_attempt: (state == DeliveryState::Retrying).then(|| to_dt(next)),
        attempts: row.get::<_, i64>("attempts")? as u32,
        sender: row.get("sender")?,
        provider_id: row.get("provider_id")?,
        updated_at: to_dt(row.get("updated_at")?),
    })
}

const STATUS_COLS: &str =
    "client_id, state, reason, next_attempt, attempts, sender, provider_id, updated_at";

impl Store {
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode: committed transactions survive a process crash (kill -9);
        // only an OS crash/power loss may lose the last transactions.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<R> {
        let mut c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c)
    }

    /// After a restart: attempts interrupted by a crash are retried now.
    pub fn recover(&self) -> rusqlite::Result<usize> {
        let now = now_ms();
        self.with(|c| {
            c.execute(
                "UPDATE messages SET state='retrying', next_attempt=?1, updated_at=?1,
                 reason='Relay wurde während des Sendens beendet; neuer Versuch'
                 WHERE state='sending'",
                params![now],
            )
        })
    }

    /// Inserts a batch atomically; replays return the stored state.
    pub fn insert_batch(&self, batch: Vec<NewMessage>) -> rusqlite::Result<InsertResult> {
        let now = now_ms();
        self.with(|c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(batch.len());
            {
                let mut find = tx.prepare_cached(&format!(
                    "SELECT payload_hash, {STATUS_COLS} FROM messages WHERE client_id=?1"
                ))?;
                let mut ins = tx.prepare_cached(
                    "INSERT INTO messages(client_id, payload_hash, channel, sender, payload,
                     unsub_token, state, attempts, next_attempt, created_at, updated_at)
                     VALUES(?1,?2,?3,?4,?5,?6,'queued',0,?7,?7,?7)",
                )?;
                let mut optout = tx.prepare_cached(
                    "SELECT MAX(at) FROM optouts WHERE lower(recipient)=lower(?1)
                     AND channel=?2 AND purpose=?3 HAVING COUNT(*) > 0",
                )?;
                let mut unsub = tx.prepare_cached(
                    "INSERT OR IGNORE INTO unsubscribe(token, person_id, channel, purpose, recipient)
                     VALUES(?1,?2,?3,?4,?5)",
                )?;
                for nm in batch {
                    let hash = payload_hash(&nm.msg);
                    let existing = find
                        .query_row(params![nm.msg.client_id], |r| {
                            Ok((r.get::<_, String>(0)?, status_from_row(r)?))
                        })
                        .optional()?;
                    if let Some((h, st)) = existing {
                        if h != hash {
                            return Ok(InsertResult::Conflict(nm.msg.client_id));
                        }
                        out.push(st);
                        continue;
                    }
                    // Safety net: advertising to a recipient who unsubscribed from this
                    // kind of message is not sent, even if the app has not synced yet.
                    let opted_out: Option<i64> = if nm.msg.purpose.is_advertising() {
                        optout
                            .query_row(
                                params![
                                    nm.msg.recipient,
                                    nm.msg.channel.key(),
                                    enum_str(&nm.msg.purpose)
                                ],
                                |r| r.get(0),
                            )
                            .optional()?
                    } else {
                        None
                    };
                    let payload = serde_json::to_string(&nm.msg).expect("serialisable");
                    ins.execute(params![
                        nm.msg.client_id,
                        hash,
                        nm.msg.channel.key(),
                        nm.sender,
                        payload,
                        nm.unsub_token,
                        now
                    ])?;
                    if let Some(at) = opted_out {
                        let reason = format!(
                            "Empfänger hat sich am {} von dieser Art Nachricht abgemeldet; nicht gesendet",
                            to_dt(at).format("%d.%m.%Y")
                        );
                        tx.execute(
                            "UPDATE messages SET state='failed', reason=?2 WHERE client_id=?1",
                            params![nm.msg.client_id, reason],
                        )?;
                        out.push(MessageStatus {
                            client_id: nm.msg.client_id,
                            state: DeliveryState::Failed,
                            reason: Some(reason),
                            next_attempt: None,
                            attempts: 0,
                            sender: nm.sender,
                            provider_id: None,
                            updated_at: to_dt(now),
                        });
                        continue;
                    }
                    if let (Some(t), Some(p)) = (&nm.unsub_token, &nm.msg.person_id) {
                        unsub.execute(params![
                            t,
                            p.0,
                            nm.msg.channel.key(),
                            enum_str(&nm.msg.purpose),
                            nm.msg.recipient
                        ])?;
                    }
                    out.push(MessageStatus {
                        client_id: nm.msg.client_id,
                        state: DeliveryState::Queued,
                        reason: None,
                        next_attempt: None,
                        attempts: 0,
                        sender: nm.sender,
                        provider_id: None,
                        updated_at: to_dt(now),
                    });
                }
            }
            tx.commit()?;
            Ok(InsertResult::Ok(out))
        })
    }

    pub fn statuses(&self, ids: &[String]) -> rusqlite::Result<Vec<Option<MessageStatus>>> {
        self.with(|c| {
            let mut q = c.prepare_cached(&format!(
                "SELECT {STATUS_COLS} FROM messages WHERE client_id=?1"
            ))?;
            ids.iter()
                .map(|id| q.query_row(params![id], status_from_row).optional())
                .collect()
        })
    }

    /// Marks up to `limit` due messages of `sender` as `sending` (committed) and returns them.
    pub fn claim(&self, sender: &str, limit: usize) -> rusqlite::Result<Vec<Job>> {
        let now = now_ms();
        self.with(|c| {
            let mut q = c.prepare_cached(
                "UPDATE messages SET state='sending', attempts=attempts+1, updated_at=?1
                 WHERE seq IN (SELECT seq FROM messages WHERE sender=?2
                   AND state IN ('queued','retrying') AND next_attempt<=?1 AND payload IS NOT NULL
                   ORDER BY seq LIMIT ?3)
                 RETURNING seq, payload, unsub_token, attempts",
            )?;
            let rows = q.query_map(params![now, sender, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            let mut jobs = Vec::new();
            for row in rows {
                let (seq, payload, unsub_token, attempts) = row?;
                // Payloads are only purged in final states, so this always parses.
                if let Some(msg) = payload.and_then(|p| serde_json::from_str(&p).ok()) {
                    jobs.push(Job {
                        seq,
                        msg,
                        unsub_token,
                        attempts: attempts as u32,
                    });
                }
            }
            Ok(jobs)
        })
    }

    /// Earliest `next_attempt` of a waiting message of `sender`.
    pub fn next_due(&self, sender: &str) -> rusqlite::Result<Option<i64>> {
        self.with(|c| {
            c.query_row(
                "SELECT MIN(next_attempt) FROM messages WHERE sender=?1 AND state IN ('queued','retrying')",
                params![sender],
                |r| r.get(0),
            )
        })
    }

    /// Records outcomes in one transaction. `backoff(attempts)` gives the retry delay in ms.
    pub fn complete(
        &self,
        results: &[(i64, u32, Outcome)],
        max_attempts: u32,
        backoff: &dyn Fn(u32) -> i64,
    ) -> rusqlite::Result<()> {
        let now = now_ms();
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut upd = tx.prepare_cached(
                    "UPDATE messages SET state=?2, reason=?3, provider_id=COALESCE(?4, provider_id),
                     next_attempt=?5, updated_at=?6 WHERE seq=?1",
                )?;
                for (seq, attempts, outcome) in results {
                    let (state, reason, pid, next) = match outcome {
                        Outcome::Sent { provider_id } => ("sent", None, provider_id.clone(), now),
                        Outcome::Permanent(r) => ("failed", Some(r.clone()), None, now),
                        Outcome::Transient(r) if *attempts >= max_attempts => (
                            "failed",
                            Some(format!("Aufgegeben nach {attempts} Versuchen: {r}")),
                            None,
                            now,
                        ),
                        Outcome::Transient(r) => {
                            ("retrying", Some(r.clone()), None, now + backoff(*attempts))
                        }
                    };
                    upd.execute(params![seq, state, reason, pid, next, now])?;
                }
            }
            tx.commit()
        })
    }

    /// Messages not in a final state.
    pub fn pending(&self) -> rusqlite::Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM messages WHERE state NOT IN ('sent','failed')",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
    }

    /// Deletes rendered bodies of messages final for longer than `days`.
    pub fn purge_bodies(&self, days: u32) -> rusqlite::Result<usize> {
        let cutoff = now_ms() - i64::from(days) * 86_400_000;
        self.with(|c| {
            c.execute(
                "UPDATE messages SET payload=NULL WHERE payload IS NOT NULL
                 AND state IN ('sent','failed') AND updated_at < ?1",
                params![cutoff],
            )
        })
    }

    /// The unsubscribe link target, if the token is known.
    pub fn unsubscribe_target(&self, token: &str) -> rusqlite::Result<Option<(String, String)>> {
        self.with(|c| {
            c.query_row(
                "SELECT recipient, purpose FROM unsubscribe WHERE token=?1",
                params![token],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    /// Records an opt-out for a token (idempotent). Returns false for an unknown token.
    pub fn record_optout(&self, token: &str) -> rusqlite::Result<bool> {
        let now = now_ms();
        self.with(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO optouts(token, person_id, channel, purpose, recipient, at)
                 SELECT token, person_id, channel, purpose, recipient, ?2 FROM unsubscribe WHERE token=?1",
                params![token, now],
            )?;
            if n > 0 {
                return Ok(true);
            }
            let known: Option<i64> = c
                .query_row(
                    "SELECT 1 FROM unsubscribe WHERE token=?1",
                    params![token],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(known.is_some())
        })
    }

    pub fn optouts_since(&self, since_ms: i64) -> rusqlite::Result<Vec<OptOut>> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT person_id, channel, purpose, recipient, at FROM optouts WHERE at > ?1 ORDER BY at, seq",
            )?;
            let rows = q.query_map(params![since_ms], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (p, ch, pu, rec, at) = row?;
                if let (Some(channel), Some(purpose)) = (enum_parse(&ch), enum_parse(&pu)) {
                    out.push(OptOut {
                        person_id: PersonId(p),
                        channel,
                        purpose,
                        recipient: rec,
                        at: to_dt(at),
                    });
                }
            }
            Ok(out)
        })
    }

    /// Count of rows per state (tests and benchmarks).
    pub fn count_state(&self, state: DeliveryState) -> rusqlite::Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM messages WHERE state=?1",
                params![state.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use praxisbote_core::domain::{Channel, Purpose};

    fn msg(id: &str, text: &str) -> OutgoingMessage {
        OutgoingMessage {
            client_id: id.into(),
            channel: Channel::Email,
            purpose: Purpose::Birthday,
            recipient: "a@b.example".into(),
            recipient_name: None,
            subject: "s".into(),
            text: text.into(),
            html: None,
            attachment: None,
            sender: None,
            person_id: Some(PersonId("p1".into())),
        }
    }

    fn nm(id: &str, text: &str) -> NewMessage {
        NewMessage {
            msg: msg(id, text),
            sender: "acc".into(),
            unsub_token: Some(format!("tok-{id}")),
        }
    }

    #[test]
    fn lifecycle_idempotency_retry_and_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("q.sqlite")).unwrap();
        let InsertResult::Ok(r) = s.insert_batch(vec![nm("1", "a"), nm("2", "b")]).unwrap() else {
            panic!()
        };
        assert_eq!(r.len(), 2);
        // Replay: same state; different payload: conflict, nothing inserted.
        let InsertResult::Ok(r) = s.insert_batch(vec![nm("1", "a")]).unwrap() else {
            panic!()
        };
        assert_eq!(r[0].state, DeliveryState::Queued);
        match s
            .insert_batch(vec![nm("3", "c"), nm("1", "changed")])
            .unwrap()
        {
            InsertResult::Conflict(id) => assert_eq!(id, "1"),
            InsertResult::Ok(_) => panic!("conflict expected"),
        }
        assert_eq!(s.statuses(&["3".into()]).unwrap()[0], None);

        let jobs = s.claim("acc", 10).unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(s.claim("acc", 10).unwrap().len(), 0);
        assert_eq!(s.count_state(DeliveryState::Sending).unwrap(), 2);
        s.complete(
            &[
                (
                    jobs[0].seq,
                    1,
                    Outcome::Sent {
                        provider_id: Some("<x>".into()),
                    },
                ),
                (jobs[1].seq, 1, Outcome::Transient("451 busy".into())),
            ],
            3,
            &|_| 0,
        )
        .unwrap();
        let st = s.statuses(&["1".into(), "2".into()]).unwrap();
        assert_eq!(st[0].as_ref().unwrap().state, DeliveryState::Sent);
        assert_eq!(st[1].as_ref().unwrap().state, DeliveryState::Retrying);
        assert_eq!(st[1].as_ref().unwrap().reason.as_deref(), Some("451 busy"));

        // Crash while sending → recovered to retrying.
        let jobs = s.claim("acc", 10).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].attempts, 2);
        drop(s);
        let s = Store::open(&dir.path().join("q.sqlite")).unwrap();
        assert_eq!(s.recover().unwrap(), 1);
        let jobs = s.claim("acc", 10).unwrap();
        s.complete(
            &[(jobs[0].seq, 3, Outcome::Transient("451".into()))],
            3,
            &|_| 0,
        )
        .unwrap();
        let st = s.statuses(&["2".into()]).unwrap();
        assert_eq!(st[0].as_ref().unwrap().state, DeliveryState::Failed);
        assert!(st[0]
            .as_ref()
            .unwrap()
            .reason
            .as_ref()
            .unwrap()
            .contains("3 Versuchen"));
        assert_eq!(s.pending().unwrap(), 0);

        // Retention: bodies of final messages are deleted, statuses stay.
        assert_eq!(s.purge_bodies(1).unwrap(), 0);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(s.purge_bodies(0).unwrap(), 2);
        assert_eq!(
            s.statuses(&["1".into()]).unwrap()[0]
                .as_ref()
                .unwrap()
                .state,
            DeliveryState::Sent
        );

        // Opt-outs.
        assert!(s.record_optout("tok-1").unwrap());
        assert!(s.record_optout("tok-1").unwrap());
        assert!(!s.record_optout("nope").unwrap());
        let o = s.optouts_since(0).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].person_id, PersonId("p1".into()));
        assert_eq!(o[0].purpose, Purpose::Birthday);
        assert!(s
            .optouts_since(o[0].at.timestamp_millis())
            .unwrap()
            .is_empty());

        // A later advertising message of the same kind to that recipient is not sent;
        // an appointment reminder still is.
        let mut reminder = nm("5", "r");
        reminder.msg.purpose = Purpose::AppointmentReminder;
        let mut upper = nm("4", "d");
        upper.msg.recipient = "A@B.example".into();
        let InsertResult::Ok(r) = s.insert_batch(vec![upper, reminder]).unwrap() else {
            panic!()
        };
        assert_eq!(r[0].state, DeliveryState::Failed);
        assert!(r[0].reason.as_ref().unwrap().contains("abgemeldet"));
        assert_eq!(r[1].state, DeliveryState::Queued);
        assert_eq!(s.claim("acc", 10).unwrap().len(), 1);
    }
}
