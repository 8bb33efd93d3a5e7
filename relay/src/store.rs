//! The durable queue: SQLite in WAL mode with `synchronous=FULL`.
//!
//! A message row moves `queued → sending → sent | retrying | failed | ambiguous`. `sending`
//! is committed before the delivery attempt, with a lease (`lease_until`). After a crash such
//! rows are retried one at a time (`suspect`), or end `failed` once they used up
//! `max_attempts` (a message that crashes the relay does not loop forever). A row whose lease
//! ran out while the relay kept running is treated the same way by the reaper.
//!
//! Idempotency keys are scoped per token name (`scope`); every read is filtered by scope or
//! practice, so one relay can serve several practices.
//!
//! Two connections: one writer (behind a mutex, every write is one transaction) and one
//! reader, so `GET /v1/health` and status polls never wait behind a large insert (WAL).

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use praxisbote_core::domain::{Channel, PersonId, Purpose};
use praxisbote_core::wire::{
    Confirmation, DeliveryState, MessageStatus, OptInRequest, OptOut, OptOutChoice, OutgoingMessage,
};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn to_dt(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub const DAY_MS: i64 = 86_400_000;

/// Canonical JSON of a message (what is stored) and its SHA-256 (the idempotency
/// fingerprint), computed from one serialisation.
pub fn payload_and_hash(m: &OutgoingMessage) -> (String, String) {
    let mut json = serde_json::to_string(m).expect("serialisable");
    // The buffer grew by doubling; a batch keeps up to 1,000 of these until it is stored.
    json.shrink_to_fit();
    let hash = hex::encode(Sha256::digest(json.as_bytes()));
    (json, hash)
}

/// A message handed to a worker.
#[derive(Debug, Clone)]
pub struct Job {
    pub seq: i64,
    /// The token name the message was submitted with (the scope of its uploaded files).
    pub scope: String,
    pub msg: OutgoingMessage,
    /// The message's link token: of its unsubscribe link, or of its confirmation link when
    /// the message is a double opt-in request (`msg.optin`).
    pub unsub_token: Option<String>,
    /// Attempts including this one; with `seq` the identity of this claim.
    pub attempts: u32,
    pub lease_until: i64,
}

/// Outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent {
        provider_id: Option<String>,
    },
    /// Not delivered, safe to retry (the server or provider cannot have taken it).
    Transient(String),
    Permanent(String),
    /// The server or provider may have taken it (connection lost or timeout after the body
    /// was handed over). Never retried as transient.
    Ambiguous(String),
    /// Not attempted (shutdown, lease too short): back to the queue, the attempt not counted.
    Release,
}

/// What [`Store::complete`] needs besides the outcomes.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_s: u64,
    pub max_s: u64,
    /// One more attempt after an ambiguous one.
    pub retry_ambiguous: bool,
}

impl RetryPolicy {
    /// Exponential backoff: base · 2^(attempts−1), capped.
    pub fn backoff_ms(&self, attempts: u32) -> i64 {
        let exp = attempts.saturating_sub(1).min(30);
        let secs = self.base_s.saturating_mul(1u64 << exp).min(self.max_s);
        (secs * 1000) as i64
    }
}

/// A message to insert, already validated, with its resolved sender. The rendered message
/// is kept only as its stored JSON (`payload`), so a large batch is held once in memory.
pub struct NewMessage {
    pub client_id: String,
    pub channel: Channel,
    pub purpose: Purpose,
    pub recipient: String,
    pub person_id: Option<PersonId>,
    pub payload: String,
    pub hash: String,
    pub sender: String,
    /// The link token: unsubscribe link (advertising) or confirmation link (`optin`).
    pub unsub_token: Option<String>,
    /// A double opt-in request: `unsub_token` is the token of its confirmation link.
    pub optin: Option<OptInRequest>,
}

/// Result of a batch insert.
#[derive(Debug)]
pub enum InsertResult {
    Ok(Vec<MessageStatus>),
    /// Same client id, different payload.
    Conflict(String),
    /// The token's daily quota would be exceeded (nothing inserted): (quota, used today).
    QuotaExceeded(u32, u64),
}

/// `synchronous` of the queue database. FULL is the default: an acknowledged batch and a
/// recorded outcome survive power loss. NORMAL exists only for benchmarks (before/after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Full,
    Normal,
}

impl Durability {
    /// `PRAXISBOTE_RELAY_SQLITE_SYNCHRONOUS=normal` (benchmarks only).
    pub fn from_env() -> Durability {
        match std::env::var("PRAXISBOTE_RELAY_SQLITE_SYNCHRONOUS").as_deref() {
            Ok("normal") => Durability::Normal,
            _ => Durability::Full,
        }
    }
}

/// Where rows of a queue written by relay 0.1 (no scope/practice columns) go.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub durability: Durability,
    pub legacy_scope: String,
    pub legacy_practice: String,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            durability: Durability::Full,
            legacy_scope: "demo".into(),
            legacy_practice: crate::config::DEFAULT_PRACTICE.into(),
        }
    }
}

/// What an unsubscribe link was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeTarget {
    pub recipient: String,
    pub channel: Channel,
    pub purpose: Purpose,
}

/// What a confirmation link was made for, and whether it can still be confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptInTarget {
    pub recipient: String,
    pub channel: Channel,
    pub purposes: Vec<Purpose>,
    pub expires_at: DateTime<Utc>,
    /// Confirmed already (then confirming again records nothing new).
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl OptInTarget {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.confirmed_at.is_none() && now >= self.expires_at
    }
}

/// The answer to a confirmation click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmResult {
    /// Recorded now, or already confirmed earlier (idempotent).
    Confirmed,
    Expired,
    Unknown,
}

/// What a purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub bodies: usize,
    pub messages: usize,
    pub links: usize,
    pub optouts: usize,
}

#[derive(Clone)]
pub struct Store {
    writer: Arc<Mutex<Connection>>,
    reader: Arc<Mutex<Connection>>,
    durability: Durability,
}

const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  scope TEXT NOT NULL,
  practice TEXT NOT NULL,
  client_id TEXT NOT NULL,
  payload_hash TEXT NOT NULL,
  channel TEXT NOT NULL,
  sender TEXT NOT NULL,
  payload TEXT,
  unsub_token TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  lease_until INTEGER,
  suspect INTEGER NOT NULL DEFAULT 0,
  ambiguous INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  provider_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE(scope, client_id)
);
-- Waiting rows per account in queue order (claims walk it; final rows leave it).
DROP INDEX IF EXISTS messages_due;
CREATE INDEX IF NOT EXISTS messages_ready ON messages(sender, suspect, seq)
  WHERE state IN ('queued','retrying');
CREATE INDEX IF NOT EXISTS messages_state ON messages(state);
CREATE INDEX IF NOT EXISTS messages_quota ON messages(scope, created_at);
CREATE TABLE IF NOT EXISTS unsubscribe(
  token TEXT PRIMARY KEY,
  practice TEXT NOT NULL,
  person_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL,
  recipient TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
-- One row per link and choice (`wire::OptOutChoice`): a recipient who first unsubscribed from
-- one kind of message and later from all advertising gets a second row (a new seq the app
-- fetches).
CREATE TABLE IF NOT EXISTS optouts(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  practice TEXT NOT NULL,
  token TEXT NOT NULL,
  person_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL,
  recipient TEXT NOT NULL,
  at INTEGER NOT NULL,
  choice TEXT NOT NULL DEFAULT 'purpose',
  UNIQUE(token, choice)
);
DROP INDEX IF EXISTS optouts_lookup;
CREATE INDEX IF NOT EXISTS optouts_recipient ON optouts(practice, channel, lower(recipient));
-- Double opt-in: one row per confirmation link (`purposes` is a JSON array of purpose keys);
-- a confirmation is one row in `confirmations` (seq = the app's cursor), at most one per link.
CREATE TABLE IF NOT EXISTS optin_links(
  token TEXT PRIMARY KEY,
  practice TEXT NOT NULL,
  person_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  purposes TEXT NOT NULL,
  recipient TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
-- Files uploaded once and attached to many e-mails by their SHA-256 (`wire::Attachment::file`);
-- purged with the bodies once no stored body refers to them.
CREATE TABLE IF NOT EXISTS files(
  scope TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  data BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY(scope, sha256)
);
CREATE TABLE IF NOT EXISTS confirmations(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  practice TEXT NOT NULL,
  token TEXT NOT NULL UNIQUE,
  person_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  purposes TEXT NOT NULL,
  recipient TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  at INTEGER NOT NULL
);
";

/// Schema 1 (relay 0.1) → 2: scope/practice/lease columns, idempotency per scope.
fn migrate_v1(tx: &rusqlite::Transaction<'_>, o: &OpenOptions) -> rusqlite::Result<()> {
    let now = now_ms();
    tx.execute_batch(
        "DROP INDEX IF EXISTS messages_due;
         ALTER TABLE messages RENAME TO messages_v1;
         ALTER TABLE unsubscribe RENAME TO unsubscribe_v1;
         ALTER TABLE optouts RENAME TO optouts_v1;",
    )?;
    tx.execute_batch(SCHEMA)?;
    tx.execute(
        "INSERT INTO messages(seq, scope, practice, client_id, payload_hash, channel, sender,
           payload, unsub_token, state, attempts, next_attempt, reason, provider_id,
           created_at, updated_at)
         SELECT seq, ?1, ?2, client_id, payload_hash, channel, sender, payload, unsub_token,
           state, attempts, next_attempt, reason, provider_id, created_at, updated_at
         FROM messages_v1",
        params![o.legacy_scope, o.legacy_practice],
    )?;
    tx.execute(
        "INSERT INTO unsubscribe(token, practice, person_id, channel, purpose, recipient, created_at)
         SELECT token, ?1, person_id, channel, purpose, recipient, ?2 FROM unsubscribe_v1",
        params![o.legacy_practice, now],
    )?;
    tx.execute(
        "INSERT INTO optouts(seq, practice, token, person_id, channel, purpose, recipient, at)
         SELECT seq, ?1, token, person_id, channel, purpose, recipient, at FROM optouts_v1",
        params![o.legacy_practice],
    )?;
    tx.execute_batch("DROP TABLE messages_v1; DROP TABLE unsubscribe_v1; DROP TABLE optouts_v1;")
}

/// Schema 2 → 3: opt-outs carry the recipient's choice (one row per link and choice).
fn migrate_v2(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DROP INDEX IF EXISTS optouts_lookup;
         ALTER TABLE optouts RENAME TO optouts_v2;",
    )?;
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(
        "INSERT INTO optouts(seq, practice, token, person_id, channel, purpose, recipient, at)
         SELECT seq, practice, token, person_id, channel, purpose, recipient, at FROM optouts_v2;
         DROP TABLE optouts_v2;",
    )
}

fn enum_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn enum_parse<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// A JSON array of purpose keys (unknown keys are left out).
fn parse_purposes(json: &str) -> Vec<Purpose> {
    serde_json::from_str::<Vec<String>>(json)
        .unwrap_or_default()
        .iter()
        .filter_map(|k| Purpose::ALL.into_iter().find(|p| p.key() == k))
        .collect()
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

/// Start of the current UTC day in ms (daily quota window).
pub fn day_start(ms: i64) -> i64 {
    ms - ms.rem_euclid(DAY_MS)
}

impl Store {
    pub fn open(path: &Path, o: &OpenOptions) -> rusqlite::Result<Store> {
        // Create the file private before SQLite does; its -wal and -shm files inherit the
        // database file's permissions.
        #[cfg(unix)]
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path);
        }
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before the relay answers 202 or records an outcome, so
        // power loss cannot roll back an acknowledged batch or a `sent` row.
        let sync = match o.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        conn.pragma_update(None, "cache_size", -8192)?;
        // Deleted content (purged bodies, expired rows) is overwritten, not left in free pages.
        conn.pragma_update(None, "secure_delete", "ON")?;
        if let Ok(p) = std::env::var("PRAXISBOTE_RELAY_MAX_PAGE_COUNT") {
            // Tests only: a tiny database limit stands in for a full disk.
            conn.pragma_update(None, "max_page_count", p.parse::<i64>().unwrap_or(0))?;
        }
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let old_v1: bool = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name='client_id'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)?
            && conn
                .query_row(
                    "SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name='scope'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n == 0)?;
        let tx = conn.transaction()?;
        if version < SCHEMA_VERSION && old_v1 {
            migrate_v1(&tx, o)?;
        } else if version == 2 {
            migrate_v2(&tx)?;
        } else {
            tx.execute_batch(SCHEMA)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.pragma_update(None, "busy_timeout", 5000)?;
        reader.pragma_update(None, "cache_size", -8192)?;
        Ok(Store {
            writer: Arc::new(Mutex::new(conn)),
            reader: Arc::new(Mutex::new(reader)),
            durability: o.durability,
        })
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<R> {
        let mut c = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c)
    }

    fn read<R>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> rusqlite::Result<R> {
        let c = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&c)
    }

    /// `PRAGMA synchronous` of the writer (1 = NORMAL, 2 = FULL).
    pub fn synchronous(&self) -> rusqlite::Result<i64> {
        self.with(|c| c.pragma_query_value(None, "synchronous", |r| r.get(0)))
    }

    /// After a restart: attempts interrupted by a crash are retried one at a time
    /// (`suspect`); those that used up `max_attempts` end `failed`. Returns (retried, failed).
    pub fn recover(&self, max_attempts: u32) -> rusqlite::Result<(usize, usize)> {
        let now = now_ms();
        self.with(|c| {
            let tx = c.transaction()?;
            let (retried, failed) = reset_sending(
                &tx,
                now,
                i64::MAX,
                max_attempts,
                "Relay wurde während des Sendens beendet; neuer Versuch",
                "Relay brach bei jedem Sendeversuch ab",
            )?;
            tx.commit()?;
            Ok((retried, failed))
        })
    }

    /// Rows whose lease ran out more than `grace_ms` ago (their outcome was lost while the
    /// relay kept running) are handled like after a crash. Returns (retried, failed).
    pub fn reap(&self, max_attempts: u32, grace_ms: i64) -> rusqlite::Result<(usize, usize)> {
        let now = now_ms();
        self.with(|c| {
            let tx = c.transaction()?;
            let r = reset_sending(
                &tx,
                now,
                now - grace_ms,
                max_attempts,
                "Sendeversuch ohne Ergebnis abgelaufen; neuer Versuch",
                "Sendeversuche ohne Ergebnis abgelaufen",
            )?;
            tx.commit()?;
            Ok(r)
        })
    }

    /// The stored state of known ids of `scope` (hash for the idempotency check).
    pub fn existing(
        &self,
        scope: &str,
        ids: &[String],
    ) -> rusqlite::Result<Vec<Option<(String, MessageStatus)>>> {
        self.read(|c| {
            let mut q = c.prepare_cached(&format!(
                "SELECT payload_hash, {STATUS_COLS} FROM messages WHERE scope=?1 AND client_id=?2"
            ))?;
            ids.iter()
                .map(|id| {
                    q.query_row(params![scope, id], |r| {
                        Ok((r.get::<_, String>(0)?, status_from_row(r)?))
                    })
                    .optional()
                })
                .collect()
        })
    }

    /// Stores an uploaded file under its SHA-256 (checked by the caller); `false` when it
    /// was there already.
    pub fn put_file(&self, scope: &str, sha256: &str, data: &[u8]) -> rusqlite::Result<bool> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO files(scope, sha256, data, created_at) VALUES(?1, ?2, ?3, ?4)",
                params![scope, sha256, data, now_ms()],
            )
            .map(|n| n == 1)
        })
    }

    /// The size of an uploaded file, if there is one.
    pub fn file_size(&self, scope: &str, sha256: &str) -> rusqlite::Result<Option<u64>> {
        self.read(|c| {
            c.query_row(
                "SELECT length(data) FROM files WHERE scope=?1 AND sha256=?2",
                params![scope, sha256],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|n| n.map(|n| n as u64))
        })
    }

    /// The content of an uploaded file.
    pub fn file(&self, scope: &str, sha256: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.read(|c| {
            c.query_row(
                "SELECT data FROM files WHERE scope=?1 AND sha256=?2",
                params![scope, sha256],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Messages of `scope` accepted since the start of the UTC day.
    pub fn today_count(&self, scope: &str) -> rusqlite::Result<u64> {
        let start = day_start(now_ms());
        self.read(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM messages WHERE scope=?1 AND created_at>=?2",
                params![scope, start],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
    }

    /// Inserts a batch of `scope` atomically; replays return the stored state. With a
    /// `daily_quota`, a batch whose new messages would exceed it is refused as a whole.
    pub fn insert_batch(
        &self,
        scope: &str,
        practice: &str,
        batch: Vec<NewMessage>,
        daily_quota: Option<u32>,
    ) -> rusqlite::Result<InsertResult> {
        let now = now_ms();
        self.with(|c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(batch.len());
            {
                let mut find = tx.prepare_cached(&format!(
                    "SELECT payload_hash, {STATUS_COLS} FROM messages WHERE scope=?1 AND client_id=?2"
                ))?;
                let mut ins = tx.prepare_cached(
                    "INSERT INTO messages(scope, practice, client_id, payload_hash, channel, sender,
                     payload, unsub_token, state, attempts, next_attempt, created_at, updated_at)
                     VALUES(?1,?2,?3,?4,?5,?6,?7,?8,'queued',0,?9,?9,?9)",
                )?;
                let mut optout = tx.prepare_cached(
                    "SELECT purpose, choice, at FROM optouts WHERE practice=?1
                     AND channel=?2 AND lower(recipient)=lower(?3)",
                )?;
                let mut unsub = tx.prepare_cached(
                    "INSERT OR IGNORE INTO unsubscribe(token, practice, person_id, channel, purpose,
                     recipient, created_at) VALUES(?1,?2,?3,?4,?5,?6,?7)",
                )?;
                let mut optin = tx.prepare_cached(
                    "INSERT OR IGNORE INTO optin_links(token, practice, person_id, channel, purposes,
                     recipient, created_at, expires_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                )?;
                let mut fresh = 0u64;
                for nm in batch {
                    let existing = find
                        .query_row(params![scope, nm.client_id], |r| {
                            Ok((r.get::<_, String>(0)?, status_from_row(r)?))
                        })
                        .optional()?;
                    if let Some((h, st)) = existing {
                        if h != nm.hash {
                            return Ok(InsertResult::Conflict(nm.client_id));
                        }
                        out.push(st);
                        continue;
                    }
                    fresh += 1;
                    // Safety net: advertising to a recipient who unsubscribed from this
                    // kind of message, or from all advertising on this channel, is not sent,
                    // even if the app has not synced yet. The same rule as the app's
                    // (`OptOutScope::covers`). A double opt-in request is no advertising: it
                    // asks for consent, so it may reach someone who opted out earlier.
                    let opted_out: Option<(i64, OptOutChoice)> = if nm.purpose.is_advertising()
                        && nm.optin.is_none()
                    {
                        let rows = optout.query_map(
                            params![practice, nm.channel.key(), nm.recipient],
                            |r| {
                                Ok((
                                    r.get::<_, String>(0)?,
                                    r.get::<_, String>(1)?,
                                    r.get::<_, i64>(2)?,
                                ))
                            },
                        )?;
                        let mut first: Option<(i64, OptOutChoice)> = None;
                        for row in rows {
                            let (pu, ch, at) = row?;
                            let (Some(pu), Some(ch)) =
                                (enum_parse::<Purpose>(&pu), OptOutChoice::parse(&ch))
                            else {
                                continue;
                            };
                            if ch.scope(pu).covers(nm.purpose)
                                && first.is_none_or(|(t, _)| at < t)
                            {
                                first = Some((at, ch));
                            }
                        }
                        first
                    } else {
                        None
                    };
                    ins.execute(params![
                        scope,
                        practice,
                        nm.client_id,
                        nm.hash,
                        nm.channel.key(),
                        nm.sender,
                        nm.payload,
                        nm.unsub_token,
                        now
                    ])?;
                    if let Some((at, choice)) = opted_out {
                        let what = match choice {
                            OptOutChoice::Purpose => "von dieser Art Nachricht",
                            OptOutChoice::AllAdvertising => "von aller Werbung über diesen Kanal",
                        };
                        let reason = format!(
                            "Empfänger hat sich am {} {what} abgemeldet; nicht gesendet",
                            to_dt(at).format("%d.%m.%Y")
                        );
                        tx.execute(
                            "UPDATE messages SET state='failed', reason=?3, payload=NULL
                             WHERE scope=?1 AND client_id=?2",
                            params![scope, nm.client_id, reason],
                        )?;
                        out.push(MessageStatus {
                            client_id: nm.client_id,
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
                    if let (Some(t), Some(p), Some(o)) = (&nm.unsub_token, &nm.person_id, &nm.optin)
                    {
                        let purposes: Vec<&str> = o.purposes.iter().map(|p| p.key()).collect();
                        optin.execute(params![
                            t,
                            practice,
                            p.0,
                            nm.channel.key(),
                            serde_json::to_string(&purposes).expect("serialisable"),
                            nm.recipient,
                            now,
                            now + i64::from(o.expiry_days) * DAY_MS
                        ])?;
                    } else if let (Some(t), Some(p)) = (&nm.unsub_token, &nm.person_id) {
                        unsub.execute(params![
                            t,
                            practice,
                            p.0,
                            nm.channel.key(),
                            enum_str(&nm.purpose),
                            nm.recipient,
                            now
                        ])?;
                    }
                    out.push(MessageStatus {
                        client_id: nm.client_id,
                        state: DeliveryState::Queued,
                        reason: None,
                        next_attempt: None,
                        attempts: 0,
                        sender: nm.sender,
                        provider_id: None,
                        updated_at: to_dt(now),
                    });
                }
                if let Some(quota) = daily_quota {
                    if fresh > 0 {
                        let used: i64 = tx.query_row(
                            "SELECT COUNT(*) FROM messages WHERE scope=?1 AND created_at>=?2",
                            params![scope, day_start(now)],
                            |r| r.get(0),
                        )?;
                        if used as u64 > u64::from(quota) {
                            // Dropping the transaction rolls the batch back.
                            return Ok(InsertResult::QuotaExceeded(
                                quota,
                                used as u64 - fresh,
                            ));
                        }
                    }
                }
            }
            tx.commit()?;
            Ok(InsertResult::Ok(out))
        })
    }

    pub fn statuses(
        &self,
        scope: &str,
        ids: &[String],
    ) -> rusqlite::Result<Vec<Option<MessageStatus>>> {
        self.read(|c| {
            let mut q = c.prepare_cached(&format!(
                "SELECT {STATUS_COLS} FROM messages WHERE scope=?1 AND client_id=?2"
            ))?;
            ids.iter()
                .map(|id| q.query_row(params![scope, id], status_from_row).optional())
                .collect()
        })
    }

    /// Marks up to `limit` due messages of `sender` as `sending` with a lease (committed)
    /// and returns them. Messages interrupted by a crash (`suspect`) are not taken here.
    pub fn claim(&self, sender: &str, limit: usize, lease_ms: i64) -> rusqlite::Result<Vec<Job>> {
        self.claim_where(sender, limit, lease_ms, false)
    }

    /// One message interrupted by a crash, if no other such message of `sender` is in
    /// flight: a message that crashes the relay only takes itself down.
    pub fn claim_suspect(&self, sender: &str, lease_ms: i64) -> rusqlite::Result<Vec<Job>> {
        self.claim_where(sender, 1, lease_ms, true)
    }

    fn claim_where(
        &self,
        sender: &str,
        limit: usize,
        lease_ms: i64,
        suspect: bool,
    ) -> rusqlite::Result<Vec<Job>> {
        let now = now_ms();
        let lease = now + lease_ms;
        let sql = if suspect {
            "UPDATE messages SET state='sending', attempts=attempts+1, updated_at=?1, lease_until=?4
             WHERE seq IN (SELECT seq FROM messages WHERE sender=?2 AND suspect=1
               AND state IN ('queued','retrying') AND next_attempt<=?1 AND payload IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM messages WHERE sender=?2 AND state='sending' AND suspect=1)
               ORDER BY seq LIMIT ?3)
             RETURNING seq, payload, unsub_token, attempts, scope"
        } else {
            "UPDATE messages SET state='sending', attempts=attempts+1, updated_at=?1, lease_until=?4
             WHERE seq IN (SELECT seq FROM messages WHERE sender=?2
               AND state IN ('queued','retrying') AND next_attempt<=?1 AND payload IS NOT NULL
               AND suspect=0 ORDER BY seq LIMIT ?3)
             RETURNING seq, payload, unsub_token, attempts, scope"
        };
        let durable = self.durability;
        self.with(|c| {
            // A claim need not survive power loss: a lost claim puts the rows back to
            // `queued`, which is what happens to claimed rows after a crash anyway (rows in
            // flight are sent again). Its WAL frames reach the disk with the next FULL commit
            // (the outcomes). So the claim skips its own fsync.
            if durable == Durability::Full {
                c.pragma_update(None, "synchronous", "NORMAL")?;
            }
            let res = Store::claim_tx(c, sql, now, sender, limit, lease);
            if durable == Durability::Full {
                c.pragma_update(None, "synchronous", "FULL")?;
            }
            res
        })
    }

    fn claim_tx(
        c: &mut Connection,
        sql: &str,
        now: i64,
        sender: &str,
        limit: usize,
        lease: i64,
    ) -> rusqlite::Result<Vec<Job>> {
        {
            let tx = c.transaction()?;
            let mut jobs = Vec::new();
            {
                let mut q = tx.prepare_cached(sql)?;
                let rows = q.query_map(params![now, sender, limit as i64, lease], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?;
                let mut broken = Vec::new();
                for row in rows {
                    let (seq, payload, unsub_token, attempts, scope) = row?;
                    match payload.and_then(|p| serde_json::from_str(&p).ok()) {
                        Some(msg) => jobs.push(Job {
                            seq,
                            scope,
                            msg,
                            unsub_token,
                            attempts: attempts as u32,
                            lease_until: lease,
                        }),
                        None => broken.push(seq),
                    }
                }
                for seq in broken {
                    tx.execute(
                        "UPDATE messages SET state='failed', lease_until=NULL,
                         reason='Gespeicherte Nachricht ist unlesbar' WHERE seq=?1",
                        params![seq],
                    )?;
                }
            }
            tx.commit()?;
            jobs.sort_by_key(|j| j.seq);
            Ok(jobs)
        }
    }

    /// Earliest `next_attempt` of a waiting message of `sender`.
    pub fn next_due(&self, sender: &str) -> rusqlite::Result<Option<i64>> {
        self.read(|c| {
            c.query_row(
                "SELECT MIN(next_attempt) FROM messages WHERE sender=?1 AND state IN ('queued','retrying')",
                params![sender],
                |r| r.get(0),
            )
        })
    }

    /// Records outcomes in one transaction. An outcome only applies to the claim it belongs
    /// to (`seq` + `attempts`, still `sending`); returns how many were stale.
    pub fn complete(&self, results: &[(Job, Outcome)], p: &RetryPolicy) -> rusqlite::Result<usize> {
        let now = now_ms();
        self.with(|c| {
            let tx = c.transaction()?;
            let mut stale = 0;
            {
                let mut cur = tx.prepare_cached(
                    "SELECT ambiguous, reason FROM messages WHERE seq=?1 AND attempts=?2 AND state='sending'",
                )?;
                let mut upd = tx.prepare_cached(
                    "UPDATE messages SET state=?2, reason=?3, provider_id=COALESCE(?4, provider_id),
                     next_attempt=?5, updated_at=?6, attempts=?7, ambiguous=?8, suspect=0,
                     lease_until=NULL WHERE seq=?1",
                )?;
                for (job, outcome) in results {
                    let Some((amb, prev_reason)) = cur
                        .query_row(params![job.seq, job.attempts], |r| {
                            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
                        })
                        .optional()?
                    else {
                        stale += 1;
                        continue;
                    };
                    let d = decide(job.attempts, amb, prev_reason, outcome, p, now);
                    upd.execute(params![
                        job.seq,
                        d.state,
                        d.reason,
                        d.provider_id,
                        d.next,
                        now,
                        d.attempts,
                        d.ambiguous
                    ])?;
                }
            }
            tx.commit()?;
            Ok(stale)
        })
    }

    /// Messages not in a final state.
    pub fn pending(&self) -> rusqlite::Result<u64> {
        self.read(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM messages WHERE state IN ('queued','sending','retrying')",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
    }

    /// Retention: rendered bodies of final messages after `body_days`, whole message rows
    /// (reason, status, idempotency key) after `message_days`, unsubscribe links and
    /// opt-outs after `optout_days`. With `secure_delete` on and the WAL truncated afterwards
    /// the deleted content is in neither file.
    pub fn purge(
        &self,
        body_days: u32,
        message_days: u32,
        optout_days: u32,
    ) -> rusqlite::Result<Purged> {
        self.purge_before(
            now_ms() - i64::from(body_days) * DAY_MS,
            now_ms() - i64::from(message_days) * DAY_MS,
            now_ms() - i64::from(optout_days) * DAY_MS,
        )
    }

    /// [`Store::purge`] with explicit cutoffs (ms).
    pub fn purge_before(
        &self,
        body_cutoff: i64,
        message_cutoff: i64,
        optout_cutoff: i64,
    ) -> rusqlite::Result<Purged> {
        let purged = self.with(|c| {
            let tx = c.transaction()?;
            let bodies = tx.execute(
                "UPDATE messages SET payload=NULL WHERE payload IS NOT NULL
                 AND state IN ('sent','failed','ambiguous') AND updated_at < ?1",
                params![body_cutoff],
            )?;
            let messages = tx.execute(
                "DELETE FROM messages WHERE state IN ('sent','failed','ambiguous') AND updated_at < ?1",
                params![message_cutoff],
            )?;
            // A file goes with the last stored body that refers to it.
            tx.execute(
                "DELETE FROM files WHERE created_at < ?1 AND NOT EXISTS (
                   SELECT 1 FROM messages m WHERE m.scope = files.scope
                   AND m.payload IS NOT NULL AND instr(m.payload, files.sha256) > 0)",
                params![body_cutoff],
            )?;
            let links = tx.execute(
                "DELETE FROM unsubscribe WHERE created_at < ?1",
                params![optout_cutoff],
            )?;
            let links = links
                + tx.execute(
                    "DELETE FROM optin_links WHERE created_at < ?1",
                    params![optout_cutoff],
                )?;
            let optouts = tx.execute("DELETE FROM optouts WHERE at < ?1", params![optout_cutoff])?
                + tx.execute(
                    "DELETE FROM confirmations WHERE at < ?1",
                    params![optout_cutoff],
                )?;
            tx.commit()?;
            Ok(Purged {
                bodies,
                messages,
                links,
                optouts,
            })
        })?;
        if purged != Purged::default() {
            self.checkpoint()?;
        }
        Ok(purged)
    }

    /// Copies the WAL into the database and truncates it to zero bytes.
    pub fn checkpoint(&self) -> rusqlite::Result<()> {
        self.with(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map(|_| ())
        })
    }

    /// The unsubscribe link target, if the token is known.
    pub fn unsubscribe_target(&self, token: &str) -> rusqlite::Result<Option<UnsubscribeTarget>> {
        self.read(|c| {
            c.query_row(
                "SELECT recipient, channel, purpose FROM unsubscribe WHERE token=?1",
                params![token],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
            .map(|t| {
                t.and_then(|(recipient, ch, pu)| {
                    Some(UnsubscribeTarget {
                        recipient,
                        channel: enum_parse(&ch)?,
                        purpose: enum_parse(&pu)?,
                    })
                })
            })
        })
    }

    /// Records the recipient's `choice` for a token (idempotent per choice: the same choice
    /// again records nothing new). Returns false for an unknown token.
    pub fn record_optout(&self, token: &str, choice: OptOutChoice) -> rusqlite::Result<bool> {
        let now = now_ms();
        self.with(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO optouts(practice, token, person_id, channel, purpose, recipient, at, choice)
                 SELECT practice, token, person_id, channel, purpose, recipient, ?2, ?3 FROM unsubscribe WHERE token=?1",
                params![token, now, choice.as_str()],
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

    /// Opt-outs of `practice` with a sequence number above `after`, in sequence order.
    pub fn optouts_after(&self, practice: &str, after: i64) -> rusqlite::Result<Vec<OptOut>> {
        self.optouts_where(practice, "seq > ?2", after)
    }

    /// Opt-outs of `practice` strictly after `since_ms` (the older time cursor).
    pub fn optouts_since(&self, practice: &str, since_ms: i64) -> rusqlite::Result<Vec<OptOut>> {
        self.optouts_where(practice, "at > ?2", since_ms)
    }

    fn optouts_where(&self, practice: &str, cond: &str, v: i64) -> rusqlite::Result<Vec<OptOut>> {
        self.read(|c| {
            let mut q = c.prepare_cached(&format!(
                "SELECT seq, person_id, channel, purpose, recipient, at, choice FROM optouts
                 WHERE practice=?1 AND {cond} ORDER BY seq"
            ))?;
            let rows = q.query_map(params![practice, v], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, p, ch, pu, rec, at, choice) = row?;
                if let (Some(channel), Some(purpose), Some(choice)) = (
                    enum_parse(&ch),
                    enum_parse(&pu),
                    OptOutChoice::parse(&choice),
                ) {
                    out.push(OptOut {
                        seq: seq as u64,
                        person_id: PersonId(p),
                        channel,
                        purpose,
                        recipient: rec,
                        at: to_dt(at),
                        choice,
                    });
                }
            }
            Ok(out)
        })
    }

    /// The confirmation link of `token`, if known.
    pub fn optin_target(&self, token: &str) -> rusqlite::Result<Option<OptInTarget>> {
        self.read(|c| {
            c.query_row(
                "SELECT l.recipient, l.channel, l.purposes, l.expires_at, c.at FROM optin_links l
                 LEFT JOIN confirmations c ON c.token = l.token WHERE l.token=?1",
                params![token],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                },
            )
            .optional()
            .map(|t| {
                t.and_then(|(recipient, ch, pu, exp, at)| {
                    Some(OptInTarget {
                        recipient,
                        channel: enum_parse(&ch)?,
                        purposes: parse_purposes(&pu),
                        expires_at: to_dt(exp),
                        confirmed_at: at.map(to_dt),
                    })
                })
            })
        })
    }

    /// Records the confirmation of a link at `now_ms` (idempotent: a confirmed link stays
    /// confirmed with its first time). An expired link records nothing.
    pub fn confirm_optin(&self, token: &str, now: i64) -> rusqlite::Result<ConfirmResult> {
        self.with(|c| {
            let tx = c.transaction()?;
            let link: Option<(i64, bool)> = tx
                .query_row(
                    "SELECT l.expires_at, EXISTS(SELECT 1 FROM confirmations c WHERE c.token=l.token)
                     FROM optin_links l WHERE l.token=?1",
                    params![token],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let res = match link {
                None => ConfirmResult::Unknown,
                Some((_, true)) => ConfirmResult::Confirmed,
                Some((exp, false)) if now >= exp => ConfirmResult::Expired,
                Some(_) => {
                    tx.execute(
                        "INSERT OR IGNORE INTO confirmations(practice, token, person_id, channel,
                         purposes, recipient, requested_at, at)
                         SELECT practice, token, person_id, channel, purposes, recipient, created_at, ?2
                         FROM optin_links WHERE token=?1",
                        params![token, now],
                    )?;
                    ConfirmResult::Confirmed
                }
            };
            tx.commit()?;
            Ok(res)
        })
    }

    /// Confirmations of `practice` with a sequence number above `after`, in sequence order.
    pub fn confirmations_after(
        &self,
        practice: &str,
        after: i64,
    ) -> rusqlite::Result<Vec<Confirmation>> {
        self.read(|c| {
            let mut q = c.prepare_cached(
                "SELECT seq, person_id, channel, purposes, recipient, requested_at, at
                 FROM confirmations WHERE practice=?1 AND seq > ?2 ORDER BY seq",
            )?;
            let rows = q.query_map(params![practice, after], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, p, ch, pu, recipient, req, at) = row?;
                if let Some(channel) = enum_parse(&ch) {
                    out.push(Confirmation {
                        seq: seq as u64,
                        person_id: PersonId(p),
                        channel,
                        purposes: parse_purposes(&pu),
                        recipient,
                        requested_at: to_dt(req),
                        at: to_dt(at),
                    });
                }
            }
            Ok(out)
        })
    }

    /// Count of rows per state (tests and benchmarks).
    pub fn count_state(&self, state: DeliveryState) -> rusqlite::Result<u64> {
        self.read(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM messages WHERE state=?1",
                params![state.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
    }
}

/// Sets `sending` rows whose lease ended before `lease_before` back to `retrying` as
/// suspects, or `failed` when they used up `max_attempts`.
fn reset_sending(
    tx: &rusqlite::Transaction<'_>,
    now: i64,
    lease_before: i64,
    max_attempts: u32,
    retry_reason: &str,
    fail_reason: &str,
) -> rusqlite::Result<(usize, usize)> {
    let failed = tx.execute(
        "UPDATE messages SET state='failed', lease_until=NULL, suspect=0, updated_at=?1,
         reason=?3 || ' (' || attempts || ' Versuche); nicht mehr gesendet'
         WHERE state='sending' AND COALESCE(lease_until, 0) < ?2 AND attempts >= ?4",
        params![now, lease_before, fail_reason, max_attempts],
    )?;
    let retried = tx.execute(
        "UPDATE messages SET state='retrying', lease_until=NULL, suspect=1, next_attempt=?1,
         updated_at=?1, reason=?3
         WHERE state='sending' AND COALESCE(lease_until, 0) < ?2",
        params![now, lease_before, retry_reason],
    )?;
    Ok((retried, failed))
}

struct Decision {
    state: &'static str,
    reason: Option<String>,
    provider_id: Option<String>,
    next: i64,
    attempts: u32,
    ambiguous: i64,
}

const AMBIGUOUS_NOTE: &str = "Die Nachricht ist möglicherweise angekommen; sie wird nicht noch einmal gesendet. Bitte bei Bedarf beim Empfänger nachfragen.";

/// The state an outcome leads to. A message with an ambiguous attempt never ends plain
/// `sent` or `failed`: it ends `ambiguous`, with the whole story in `reason`.
fn decide(
    attempts: u32,
    ambiguous: i64,
    prev_reason: Option<String>,
    outcome: &Outcome,
    p: &RetryPolicy,
    now: i64,
) -> Decision {
    let earlier = || prev_reason.clone().unwrap_or_default();
    let d = |state, reason: Option<String>, next, amb| Decision {
        state,
        reason,
        provider_id: None,
        next,
        attempts,
        ambiguous: amb,
    };
    match outcome {
        Outcome::Release => Decision {
            state: if attempts <= 1 { "queued" } else { "retrying" },
            reason: prev_reason,
            provider_id: None,
            next: now,
            attempts: attempts.saturating_sub(1),
            ambiguous,
        },
        Outcome::Sent { provider_id } if ambiguous > 0 => Decision {
            provider_id: provider_id.clone(),
            ..d(
                "ambiguous",
                Some(format!(
                    "Zugestellt beim {attempts}. Versuch; ein früherer Versuch war unklar ({}), die Nachricht kann doppelt angekommen sein.",
                    earlier()
                )),
                now,
                ambiguous,
            )
        },
        Outcome::Sent { provider_id } => Decision {
            provider_id: provider_id.clone(),
            ..d("sent", None, now, 0)
        },
        Outcome::Permanent(r) if ambiguous > 0 => d(
            "ambiguous",
            Some(format!(
                "Früherer Versuch unklar ({}); erneuter Versuch abgelehnt: {r}",
                earlier()
            )),
            now,
            ambiguous,
        ),
        Outcome::Permanent(r) => d("failed", Some(r.clone()), now, 0),
        Outcome::Ambiguous(r) => {
            if p.retry_ambiguous && ambiguous == 0 && attempts < p.max_attempts {
                d(
                    "retrying",
                    Some(format!("Zustellung unklar: {r}; ein weiterer Versuch")),
                    now + p.backoff_ms(attempts),
                    ambiguous + 1,
                )
            } else {
                d(
                    "ambiguous",
                    Some(format!("Zustellung unklar: {r}. {AMBIGUOUS_NOTE}")),
                    now,
                    ambiguous + 1,
                )
            }
        }
        Outcome::Transient(r) if attempts >= p.max_attempts && ambiguous > 0 => d(
            "ambiguous",
            Some(format!(
                "Früherer Versuch unklar ({}); danach aufgegeben nach {attempts} Versuchen: {r}",
                earlier()
            )),
            now,
            ambiguous,
        ),
        Outcome::Transient(r) if attempts >= p.max_attempts => d(
            "failed",
            Some(format!("Aufgegeben nach {attempts} Versuchen: {r}")),
            now,
            0,
        ),
        Outcome::Transient(r) => d(
            "retrying",
            Some(r.clone()),
            now + p.backoff_ms(attempts),
            ambiguous,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            attachments: Vec::new(),
            sender: None,
            person_id: Some(PersonId("p1".into())),
            optin: None,
        }
    }

    pub fn nm(id: &str, text: &str) -> NewMessage {
        let m = msg(id, text);
        let (payload, hash) = payload_and_hash(&m);
        NewMessage {
            client_id: m.client_id,
            channel: m.channel,
            purpose: m.purpose,
            recipient: m.recipient,
            person_id: m.person_id,
            payload,
            hash,
            sender: "acc".into(),
            unsub_token: Some(format!("tok-{id}")),
            optin: None,
        }
    }

    const P: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        base_s: 0,
        max_s: 0,
        retry_ambiguous: false,
    };

    fn open(dir: &Path) -> Store {
        Store::open(&dir.join("q.sqlite"), &OpenOptions::default()).unwrap()
    }

    fn ok(r: InsertResult) -> Vec<MessageStatus> {
        match r {
            InsertResult::Ok(v) => v,
            other => panic!("{other:?}"),
        }
    }

    fn state(s: &Store, scope: &str, id: &str) -> MessageStatus {
        s.statuses(scope, &[id.into()]).unwrap()[0].clone().unwrap()
    }

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy {
            max_attempts: 8,
            base_s: 30,
            max_s: 300,
            retry_ambiguous: false,
        };
        let got: Vec<i64> = (1..=6).map(|a| p.backoff_ms(a)).collect();
        assert_eq!(
            got,
            vec![30_000, 60_000, 120_000, 240_000, 300_000, 300_000]
        );
    }

    /// Regression: the queue ran with synchronous=NORMAL (power loss could roll back an
    /// acknowledged batch). Both connections must see FULL on the writer.
    #[test]
    fn synchronous_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        assert_eq!(s.synchronous().unwrap(), 2, "2 = FULL");
    }

    #[cfg(unix)]
    #[test]
    fn queue_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        ok(s.insert_batch("t", "p", vec![nm("1", "a")], None).unwrap());
        for f in ["q.sqlite", "q.sqlite-wal"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{f}: {mode:o}");
        }
    }

    #[test]
    fn lifecycle_idempotency_retry_and_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let r = ok(s
            .insert_batch("t", "p", vec![nm("1", "a"), nm("2", "b")], None)
            .unwrap());
        assert_eq!(r.len(), 2);
        // Replay: same state; different payload: conflict, nothing inserted.
        let r = ok(s.insert_batch("t", "p", vec![nm("1", "a")], None).unwrap());
        assert_eq!(r[0].state, DeliveryState::Queued);
        match s
            .insert_batch("t", "p", vec![nm("3", "c"), nm("1", "changed")], None)
            .unwrap()
        {
            InsertResult::Conflict(id) => assert_eq!(id, "1"),
            other => panic!("conflict expected: {other:?}"),
        }
        assert_eq!(s.statuses("t", &["3".into()]).unwrap()[0], None);

        let jobs = s.claim("acc", 10, 60_000).unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(s.claim("acc", 10, 60_000).unwrap().len(), 0);
        assert_eq!(s.count_state(DeliveryState::Sending).unwrap(), 2);
        let stale = s
            .complete(
                &[
                    (
                        jobs[0].clone(),
                        Outcome::Sent {
                            provider_id: Some("<x>".into()),
                        },
                    ),
                    (jobs[1].clone(), Outcome::Transient("451 busy".into())),
                ],
                &P,
            )
            .unwrap();
        assert_eq!(stale, 0);
        assert_eq!(state(&s, "t", "1").state, DeliveryState::Sent);
        let st = state(&s, "t", "2");
        assert_eq!(st.state, DeliveryState::Retrying);
        assert_eq!(st.reason.as_deref(), Some("451 busy"));
        // The same outcome again belongs to a finished claim: stale, ignored.
        assert_eq!(
            s.complete(&[(jobs[0].clone(), Outcome::Permanent("x".into()))], &P)
                .unwrap(),
            1
        );
        assert_eq!(state(&s, "t", "1").state, DeliveryState::Sent);

        // Crash while sending → recovered to retrying, as a suspect.
        let jobs = s.claim("acc", 10, 60_000).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].attempts, 2);
        drop(s);
        let s = open(dir.path());
        assert_eq!(s.recover(3).unwrap(), (1, 0));
        assert!(
            s.claim("acc", 10, 60_000).unwrap().is_empty(),
            "suspects wait"
        );
        let jobs = s.claim_suspect("acc", 60_000).unwrap();
        assert_eq!(jobs.len(), 1);
        s.complete(&[(jobs[0].clone(), Outcome::Transient("451".into()))], &P)
            .unwrap();
        let st = state(&s, "t", "2");
        assert_eq!(st.state, DeliveryState::Failed);
        assert!(st.reason.as_ref().unwrap().contains("3 Versuchen"));
        assert_eq!(s.pending().unwrap(), 0);

        // Opt-outs.
        assert!(s.record_optout("tok-1", OptOutChoice::Purpose).unwrap());
        assert!(s.record_optout("tok-1", OptOutChoice::Purpose).unwrap());
        assert!(!s.record_optout("nope", OptOutChoice::Purpose).unwrap());
        let o = s.optouts_after("p", 0).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].person_id, PersonId("p1".into()));
        assert_eq!(o[0].purpose, Purpose::Birthday);
        assert!(s.optouts_after("p", o[0].seq as i64).unwrap().is_empty());
        assert!(s.optouts_after("other", 0).unwrap().is_empty(), "tenancy");

        // A later advertising message of the same kind to that recipient is not sent;
        // an appointment reminder still is; another practice is not affected.
        let mut reminder = nm("5", "r");
        reminder.purpose = Purpose::AppointmentReminder;
        let mut upper = nm("4", "d");
        upper.recipient = "A@B.example".into();
        let r = ok(s
            .insert_batch("t", "p", vec![upper, reminder], None)
            .unwrap());
        assert_eq!(r[0].state, DeliveryState::Failed);
        assert!(r[0].reason.as_ref().unwrap().contains("abgemeldet"));
        assert_eq!(r[1].state, DeliveryState::Queued);
        let r = ok(s.insert_batch("u", "q", vec![nm("4", "d")], None).unwrap());
        assert_eq!(r[0].state, DeliveryState::Queued);
        assert_eq!(s.claim("acc", 10, 60_000).unwrap().len(), 2);
    }

    /// Regression: two opt-outs in the same millisecond — a time cursor skipped the second.
    #[test]
    fn optout_cursor_is_the_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        ok(
            s.insert_batch("t", "p", vec![nm("1", "a"), nm("2", "b")], None)
                .unwrap(),
        );
        s.record_optout("tok-1", OptOutChoice::Purpose).unwrap();
        s.record_optout("tok-2", OptOutChoice::Purpose).unwrap();
        // Force both into the same millisecond, as two quick clicks can be.
        s.with(|c| c.execute("UPDATE optouts SET at=1700000000000", []))
            .unwrap();
        let first = s.optouts_after("p", 0).unwrap();
        assert_eq!(first.len(), 2);
        assert!(first[0].seq < first[1].seq);
        // The app applied the first one only, then asks again with its cursor.
        let rest = s.optouts_after("p", first[0].seq as i64).unwrap();
        assert_eq!(
            rest.len(),
            1,
            "the second opt-out of that millisecond is not skipped"
        );
        // The old time cursor would have lost it.
        assert!(s
            .optouts_since("p", first[0].at.timestamp_millis())
            .unwrap()
            .is_empty());
    }

    /// Idempotency keys are per token: the same id from another token is another message,
    /// and neither token sees the other's.
    #[test]
    fn scopes_are_separate() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        ok(s.insert_batch("a", "p", vec![nm("1", "x")], None).unwrap());
        let r = ok(s
            .insert_batch("b", "p", vec![nm("1", "other text")], None)
            .unwrap());
        assert_eq!(
            r[0].state,
            DeliveryState::Queued,
            "no conflict across tokens"
        );
        assert_eq!(s.claim("acc", 10, 60_000).unwrap().len(), 2);
        assert!(s.statuses("c", &["1".into()]).unwrap()[0].is_none());
    }

    #[test]
    fn daily_quota_refuses_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        ok(
            s.insert_batch("t", "p", vec![nm("1", "a"), nm("2", "b")], Some(3))
                .unwrap(),
        );
        match s
            .insert_batch("t", "p", vec![nm("3", "c"), nm("4", "d")], Some(3))
            .unwrap()
        {
            InsertResult::QuotaExceeded(q, used) => assert_eq!((q, used), (3, 2)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            s.today_count("t").unwrap(),
            2,
            "nothing of the batch stored"
        );
        // Replays do not count; another token has its own quota.
        ok(
            s.insert_batch("t", "p", vec![nm("1", "a"), nm("3", "c")], Some(3))
                .unwrap(),
        );
        ok(s.insert_batch("u", "p", vec![nm("9", "x")], Some(1))
            .unwrap());
    }

    /// Regression: `recover()` ignored `max_attempts`, so a message that crashes the relay
    /// looped forever. And a crash must not use up the attempts of its neighbours.
    #[test]
    fn poison_message_ends_failed_and_neighbours_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        {
            let s = open(&path);
            let batch = (0..5).map(|i| nm(&format!("m{i}"), "x")).collect();
            ok(s.insert_batch("t", "p", batch, None).unwrap());
            // First crash: all five were claimed together.
            assert_eq!(s.claim("acc", 10, 60_000).unwrap().len(), 5);
        }
        // Each restart: suspects go one at a time; m0 is the poison (it "crashes" every time
        // it is attempted), the others are delivered when their turn comes.
        for _ in 0..10 {
            let s = open(&path);
            s.recover(P.max_attempts).unwrap();
            let Some(job) = s.claim_suspect("acc", 60_000).unwrap().pop() else {
                break;
            };
            if job.msg.client_id == "m0" {
                continue; // crash: nothing recorded
            }
            s.complete(&[(job, Outcome::Sent { provider_id: None })], &P)
                .unwrap();
        }
        let s = open(&path);
        s.recover(P.max_attempts).unwrap();
        let poison = state(&s, "t", "m0");
        assert_eq!(poison.state, DeliveryState::Failed, "{poison:?}");
        assert!(poison.reason.unwrap().contains("brach"));
        for i in 1..5 {
            assert_eq!(state(&s, "t", &format!("m{i}")).state, DeliveryState::Sent);
        }
    }

    /// The lease: a row whose outcome was lost while the relay kept running leaves
    /// `sending` by itself.
    #[test]
    fn reaper_frees_expired_leases_only() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        ok(
            s.insert_batch("t", "p", vec![nm("1", "a"), nm("2", "b")], None)
                .unwrap(),
        );
        let short = s.claim("acc", 1, -10_000).unwrap(); // lease already over
        let long = s.claim("acc", 1, 600_000).unwrap();
        assert_eq!((short.len(), long.len()), (1, 1));
        assert_eq!(s.reap(3, 1_000).unwrap(), (1, 0));
        assert_eq!(state(&s, "t", "1").state, DeliveryState::Retrying);
        assert_eq!(state(&s, "t", "2").state, DeliveryState::Sending);
        // The late outcome of the reaped claim is stale and changes nothing.
        assert_eq!(
            s.complete(
                &[(short[0].clone(), Outcome::Sent { provider_id: None })],
                &P
            )
            .unwrap(),
            1
        );
    }

    #[test]
    fn release_does_not_count_an_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        ok(s.insert_batch("t", "p", vec![nm("1", "a")], None).unwrap());
        let j = s.claim("acc", 1, 60_000).unwrap();
        s.complete(&[(j[0].clone(), Outcome::Release)], &P).unwrap();
        let st = state(&s, "t", "1");
        assert_eq!((st.state, st.attempts), (DeliveryState::Queued, 0));
    }

    #[test]
    fn ambiguous_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        ok(
            s.insert_batch("t", "p", vec![nm("1", "a"), nm("2", "b")], None)
                .unwrap(),
        );
        let j = s.claim("acc", 2, 60_000).unwrap();
        // Default: never retried.
        s.complete(
            &[(
                j[0].clone(),
                Outcome::Ambiguous("Verbindung abgebrochen".into()),
            )],
            &P,
        )
        .unwrap();
        let st = state(&s, "t", "1");
        assert_eq!(st.state, DeliveryState::Ambiguous);
        assert!(st.reason.unwrap().contains("möglicherweise angekommen"));
        // With retry_ambiguous: one more attempt, and the end state stays "ambiguous".
        let p = RetryPolicy {
            retry_ambiguous: true,
            ..P
        };
        s.complete(
            &[(
                j[1].clone(),
                Outcome::Ambiguous("Zeitüberschreitung".into()),
            )],
            &p,
        )
        .unwrap();
        assert_eq!(state(&s, "t", "2").state, DeliveryState::Retrying);
        let j = s.claim("acc", 2, 60_000).unwrap();
        s.complete(&[(j[0].clone(), Outcome::Sent { provider_id: None })], &p)
            .unwrap();
        let st = state(&s, "t", "2");
        assert_eq!(st.state, DeliveryState::Ambiguous);
        assert!(st.reason.unwrap().contains("doppelt"), "shown as such");
    }

    /// Retention: after the purge a unique body marker is in neither the database file nor
    /// the WAL; rows, links and opt-outs expire.
    #[test]
    fn purge_leaves_no_trace_of_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let marker = "UNIQUE-BODY-MARKER-7c1f0e9a";
        let body = format!("{marker} {}", "Sehr geehrte Frau Müller, ".repeat(400));
        ok(s.insert_batch(
            "t",
            "p",
            vec![nm("1", &body), nm("2", &format!("{marker} kurz"))],
            None,
        )
        .unwrap());
        let j = s.claim("acc", 2, 60_000).unwrap();
        s.complete(
            &j.iter()
                .map(|j| (j.clone(), Outcome::Sent { provider_id: None }))
                .collect::<Vec<_>>(),
            &P,
        )
        .unwrap();
        s.record_optout("tok-1", OptOutChoice::Purpose).unwrap();
        let grep = |name: &str| {
            std::fs::read(dir.path().join(name))
                .map(|b| b.windows(marker.len()).any(|w| w == marker.as_bytes()))
                .unwrap_or(false)
        };
        assert!(
            grep("q.sqlite") || grep("q.sqlite-wal"),
            "the marker is stored first"
        );
        let future = now_ms() + 1000;
        let p = s.purge_before(future, 0, 0).unwrap();
        assert_eq!(p.bodies, 2);
        assert_eq!(p.messages, 0);
        assert!(!grep("q.sqlite"), "body marker left in the database file");
        assert!(!grep("q.sqlite-wal"), "body marker left in the WAL");
        assert_eq!(state(&s, "t", "1").state, DeliveryState::Sent);
        // Rows and opt-outs expire later.
        let p = s.purge_before(future, future, future).unwrap();
        assert_eq!((p.messages, p.links, p.optouts), (2, 2, 1));
        assert!(s.statuses("t", &["1".into()]).unwrap()[0].is_none());
        assert!(s.unsubscribe_target("tok-2").unwrap().is_none());
    }

    /// An uploaded file stays while a stored body refers to it and goes with the last one;
    /// a file of another scope is neither seen nor purged through this one's bodies.
    #[test]
    fn files_are_kept_while_a_body_refers_to_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let sha = "c0".repeat(32);
        assert!(s.put_file("t", &sha, b"%PDF-1").unwrap());
        assert!(!s.put_file("t", &sha, b"%PDF-1").unwrap(), "stored once");
        assert!(s.put_file("other", &sha, b"%PDF-1").unwrap());
        assert_eq!(s.file_size("t", &sha).unwrap(), Some(6));
        assert_eq!(s.file("t", &sha).unwrap().as_deref(), Some(&b"%PDF-1"[..]));
        assert_eq!(s.file_size("t", &"d0".repeat(32)).unwrap(), None);
        let mut m = msg("1", "Hallo");
        m.attachments.push(praxisbote_core::wire::Attachment {
            filename: "f.pdf".into(),
            content_type: "application/pdf".into(),
            data_base64: String::new(),
            file: Some(sha.clone()),
        });
        let (payload, hash) = payload_and_hash(&m);
        let mut n = nm("1", "Hallo");
        (n.payload, n.hash) = (payload, hash);
        ok(s.insert_batch("t", "p", vec![n], None).unwrap());
        let future = now_ms() + 1000;
        // The body is still queued: its file stays.
        s.purge_before(future, 0, 0).unwrap();
        assert_eq!(s.file_size("t", &sha).unwrap(), Some(6));
        let j = s.claim("acc", 1, 60_000).unwrap();
        assert_eq!(j[0].scope, "t");
        s.complete(&[(j[0].clone(), Outcome::Sent { provider_id: None })], &P)
            .unwrap();
        s.purge_before(future, 0, 0).unwrap();
        assert_eq!(s.file_size("t", &sha).unwrap(), None);
        // No body of "other" ever referred to its copy: it goes by age alone.
        assert_eq!(s.file_size("other", &sha).unwrap(), None);
    }

    /// A queue written by relay 0.1 keeps its rows (under the configured scope).
    #[test]
    fn migrates_schema_1() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE messages(seq INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT NOT NULL UNIQUE,
                  payload_hash TEXT NOT NULL, channel TEXT NOT NULL, sender TEXT NOT NULL, payload TEXT,
                  unsub_token TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                  next_attempt INTEGER NOT NULL, reason TEXT, provider_id TEXT,
                  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                 CREATE INDEX messages_due ON messages(sender, state, next_attempt);
                 CREATE TABLE unsubscribe(token TEXT PRIMARY KEY, person_id TEXT NOT NULL,
                  channel TEXT NOT NULL, purpose TEXT NOT NULL, recipient TEXT NOT NULL);
                 CREATE TABLE optouts(seq INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL UNIQUE,
                  person_id TEXT NOT NULL, channel TEXT NOT NULL, purpose TEXT NOT NULL,
                  recipient TEXT NOT NULL, at INTEGER NOT NULL);
                 INSERT INTO messages(client_id, payload_hash, channel, sender, state, next_attempt, created_at, updated_at)
                  VALUES('old-1','h','email','acc','sent',1,1,1);
                 INSERT INTO unsubscribe VALUES('tok','p1','email','birthday','a@b.example');
                 INSERT INTO optouts(token, person_id, channel, purpose, recipient, at)
                  VALUES('tok','p1','email','birthday','a@b.example',5);",
            )
            .unwrap();
        }
        let s = Store::open(
            &path,
            &OpenOptions {
                legacy_scope: "praxis".into(),
                legacy_practice: "standard".into(),
                ..OpenOptions::default()
            },
        )
        .unwrap();
        assert_eq!(state(&s, "praxis", "old-1").state, DeliveryState::Sent);
        assert_eq!(s.optouts_after("standard", 0).unwrap().len(), 1);
        assert!(s.unsubscribe_target("tok").unwrap().is_some());
        drop(s);
        // Opening again does not migrate twice.
        let s = open(dir.path());
        assert_eq!(state(&s, "praxis", "old-1").state, DeliveryState::Sent);
    }

    /// A queue of schema 2 keeps its opt-outs (as "this kind of message") and their
    /// sequence; the same link can then record the broader choice as a new opt-out.
    #[test]
    fn migrates_schema_2_optouts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE unsubscribe(token TEXT PRIMARY KEY, practice TEXT NOT NULL,
                  person_id TEXT NOT NULL, channel TEXT NOT NULL, purpose TEXT NOT NULL,
                  recipient TEXT NOT NULL, created_at INTEGER NOT NULL);
                 CREATE TABLE optouts(seq INTEGER PRIMARY KEY AUTOINCREMENT, practice TEXT NOT NULL,
                  token TEXT NOT NULL UNIQUE, person_id TEXT NOT NULL, channel TEXT NOT NULL,
                  purpose TEXT NOT NULL, recipient TEXT NOT NULL, at INTEGER NOT NULL);
                 CREATE INDEX optouts_lookup ON optouts(practice, channel, purpose, lower(recipient));
                 INSERT INTO unsubscribe VALUES('tok','p','p1','email','birthday','a@b.example',1);
                 INSERT INTO optouts(seq, practice, token, person_id, channel, purpose, recipient, at)
                  VALUES(7,'p','tok','p1','email','birthday','a@b.example',5);
                 PRAGMA user_version=2;",
            )
            .unwrap();
        }
        let s = open(dir.path());
        let o = s.optouts_after("p", 0).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!((o[0].seq, o[0].choice), (7, OptOutChoice::Purpose));
        assert!(s
            .record_optout("tok", OptOutChoice::AllAdvertising)
            .unwrap());
        let o = s.optouts_after("p", 7).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].choice, OptOutChoice::AllAdvertising);
        assert!(o[0].seq > 7);
        // The same choice again records nothing new.
        assert!(s
            .record_optout("tok", OptOutChoice::AllAdvertising)
            .unwrap());
        assert!(s.record_optout("tok", OptOutChoice::Purpose).unwrap());
        assert_eq!(s.optouts_after("p", 0).unwrap().len(), 2);
        drop(s);
        let s = open(dir.path());
        assert_eq!(s.optouts_after("p", 0).unwrap().len(), 2);
    }
}
