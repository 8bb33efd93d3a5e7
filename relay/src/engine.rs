//! Delivery engine: per account a dispatcher that claims due messages (marking them `sending`
//! with a lease in a committed transaction), a worker pool with a rate limit, and one
//! completer that records outcomes in batched transactions.
//!
//! Liveness: the completer never drops outcomes (a failed write is retried until it
//! succeeds); between batches it reaps rows whose lease ran out. On shutdown the dispatchers
//! stop, the workers finish the attempt they hold, jobs they did not start are released, and
//! only then does the completer drain the rest and end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Mutex, Notify};
use tokio::task::JoinSet;

use crate::config::{Account, AccountDetail, Config};
use crate::crash;
use crate::store::{now_ms, Job, Outcome, RetryPolicy, Store};
use crate::transport::{Delivery, Transport};
use base64::Engine as _;
use praxisbote_core::wire::OutgoingMessage;

/// Spaces requests out to `rate` per second.
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    pub fn new(rate_per_second: f64) -> Self {
        RateLimiter {
            interval: Duration::from_secs_f64(1.0 / rate_per_second),
            next: Mutex::new(Instant::now()),
        }
    }

    pub async fn acquire(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// The longest one attempt of an account may take; an attempt that runs longer ends
/// ambiguous. The lease of a claim is twice that plus a minute, and a worker does not start
/// an attempt that could outlive its lease.
pub fn attempt_deadline(a: &Account) -> Duration {
    match &a.detail {
        // connect, greeting/EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA, body: each bounded.
        AccountDetail::Smtp { timeout, .. } => *timeout * 6,
        _ => crate::transport::HTTP_TIMEOUT * 2,
    }
}

fn lease_for(deadline: Duration) -> Duration {
    deadline * 2 + Duration::from_secs(60)
}

/// How long the completer gathers outcomes before one commit.
const GROUP_COMMIT: Duration = Duration::from_millis(3);

/// How often the completer looks for expired leases when idle.
const REAP_EVERY: Duration = Duration::from_secs(30);
/// An expired lease is reaped only this long after it ran out.
const REAP_GRACE_MS: i64 = 60_000;

pub struct Engine {
    pub wake: Arc<Notify>,
    shutdown: watch::Sender<bool>,
    dispatchers: JoinSet<()>,
    workers: JoinSet<()>,
    background: JoinSet<()>,
    completer: tokio::task::JoinHandle<()>,
    queues: Vec<Arc<Mutex<mpsc::Receiver<Job>>>>,
    done: mpsc::Sender<Done>,
}

type Done = (Job, Outcome);

impl Engine {
    /// Starts dispatchers and workers for every account.
    pub fn start(
        cfg: &Config,
        store: Store,
        transports: Vec<(Account, Box<dyn Transport>)>,
        public_url: String,
    ) -> Engine {
        let wake = Arc::new(Notify::new());
        let (shutdown, shut_rx) = watch::channel(false);
        // Bounded: when the completer cannot write, workers wait instead of piling up.
        let (done_tx, done_rx) = mpsc::channel::<Done>(4096);
        let policy = RetryPolicy {
            max_attempts: cfg.max_attempts,
            base_s: cfg.retry_base_seconds,
            max_s: cfg.retry_max_seconds,
            retry_ambiguous: cfg.retry_ambiguous,
        };
        let completer = tokio::spawn(completer(store.clone(), done_rx, policy, wake.clone()));

        let mut background = JoinSet::new();
        let (st, c, mut sh) = (store.clone(), cfg.clone(), shut_rx.clone());
        background.spawn(async move {
            loop {
                let s = st.clone();
                let (b, m, o) = (
                    c.retention_days,
                    c.message_retention_days,
                    c.optout_retention_days,
                );
                match tokio::task::spawn_blocking(move || s.purge(b, m, o)).await {
                    Ok(Ok(p)) if p != Default::default() => eprintln!(
                        "praxisbote-relay: Aufbewahrungsfrist: {} Texte, {} Nachrichten, {} Abmeldelinks, {} Abmeldungen gelöscht",
                        p.bodies, p.messages, p.links, p.optouts
                    ),
                    Ok(Err(e)) => eprintln!("praxisbote-relay: Aufräumen fehlgeschlagen: {e}"),
                    _ => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
                    _ = sh.changed() => return,
                }
            }
        });

        let mut dispatchers = JoinSet::new();
        let mut workers = JoinSet::new();
        let mut queues = Vec::new();
        for (acc, transport) in transports {
            let transport: Arc<dyn Transport> = Arc::from(transport);
            let deadline = attempt_deadline(&acc);
            let limiter = acc.rate_per_second.map(|r| Arc::new(RateLimiter::new(r)));
            let n = acc.concurrency as usize;
            let (job_tx, job_rx) = mpsc::channel::<Job>(n * 8);
            let job_rx = Arc::new(Mutex::new(job_rx));
            queues.push(job_rx.clone());
            for _ in 0..n {
                workers.spawn(worker(
                    store.clone(),
                    job_rx.clone(),
                    transport.clone(),
                    done_tx.clone(),
                    public_url.clone(),
                    deadline,
                    shut_rx.clone(),
                ));
            }
            dispatchers.spawn(dispatcher(Dispatch {
                store: store.clone(),
                account: acc.name.clone(),
                job_tx,
                done: done_tx.clone(),
                limiter,
                lease: lease_for(deadline),
                wake: wake.clone(),
                shut: shut_rx.clone(),
            }));
        }
        Engine {
            wake,
            shutdown,
            dispatchers,
            workers,
            background,
            completer,
            queues,
            done: done_tx,
        }
    }

    /// Stops claiming, lets workers finish the attempt they hold (up to `grace`), releases
    /// the jobs nobody started, and waits for the completer to record everything.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.shutdown.send(true);
        self.wake.notify_waiters();
        while self.dispatchers.join_next().await.is_some() {}
        self.background.abort_all();
        let workers = async { while self.workers.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, workers).await.is_err() {
            eprintln!(
                "praxisbote-relay: Sendeversuche nach {} s abgebrochen; sie werden beim nächsten Start wiederholt",
                grace.as_secs()
            );
            self.workers.abort_all();
            while self.workers.join_next().await.is_some() {}
        }
        for q in &self.queues {
            let mut rx = q.lock().await;
            rx.close();
            while let Some(job) = rx.recv().await {
                let _ = self.done.send((job, Outcome::Release)).await;
            }
        }
        drop(self.done);
        // The completer ends when every sender is gone and all outcomes are written; it
        // only gives up if the database stays unwritable.
        if tokio::time::timeout(grace + Duration::from_secs(20), &mut self.completer)
            .await
            .is_err()
        {
            eprintln!("praxisbote-relay: Status konnte nicht gespeichert werden; die betroffenen Nachrichten werden beim nächsten Start wiederholt");
            self.completer.abort();
        }
    }
}

async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> rusqlite::Result<R> + Send + 'static,
) -> Result<R, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// What one account's dispatcher works with.
struct Dispatch {
    store: Store,
    account: String,
    job_tx: mpsc::Sender<Job>,
    /// For jobs that could not be queued (released unattempted).
    done: mpsc::Sender<Done>,
    limiter: Option<Arc<RateLimiter>>,
    lease: Duration,
    wake: Arc<Notify>,
    shut: watch::Receiver<bool>,
}

async fn dispatcher(d: Dispatch) {
    let Dispatch {
        store,
        account,
        job_tx,
        done,
        limiter,
        lease,
        wake,
        mut shut,
    } = d;
    let lease_ms = lease.as_millis() as i64;
    loop {
        if *shut.borrow() {
            return;
        }
        // Wait for room first, so that only messages a worker will pick soon are `sending`:
        // for half the queue, so that each claim (one synchronous=FULL commit) takes many
        // rows; with a rate limit for one, claimed when it may go out (its lease starts then).
        let want = if limiter.is_some() {
            1
        } else {
            (job_tx.max_capacity() / 2).max(1)
        };
        let permits = tokio::select! {
            p = job_tx.reserve_many(want) => match p { Ok(p) => p, Err(_) => return },
            _ = shut.changed() => return,
        };
        if let Some(l) = &limiter {
            tokio::select! {
                _ = l.acquire() => {}
                _ = shut.changed() => return,
            }
        }
        let room = if limiter.is_some() {
            1
        } else {
            job_tx.capacity() + want
        };
        let (st, acc) = (store.clone(), account.clone());
        let mut jobs = blocking(move || st.claim_suspect(&acc, lease_ms))
            .await
            .unwrap_or_else(|e| {
                eprintln!("praxisbote-relay: Warteschlange: {e}");
                Vec::new()
            });
        if jobs.is_empty() {
            let (st, acc) = (store.clone(), account.clone());
            jobs = blocking(move || st.claim(&acc, room, lease_ms))
                .await
                .unwrap_or_else(|e| {
                    eprintln!("praxisbote-relay: Warteschlange: {e}");
                    Vec::new()
                });
        }
        if jobs.is_empty() {
            drop(permits);
            let (st, acc) = (store.clone(), account.clone());
            let due = blocking(move || st.next_due(&acc)).await.ok().flatten();
            let wait = match due {
                Some(t) => Duration::from_millis((t - now_ms()).clamp(5, 1000) as u64),
                None => Duration::from_secs(1),
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shut.changed() => return,
            }
            continue;
        }
        crash::point("after_claim");
        // The claim took at most the free room, so this never waits; should it ever not
        // fit, the job goes back to the queue unattempted.
        let mut it = jobs.into_iter();
        for (permit, job) in permits.zip(it.by_ref()) {
            permit.send(job);
        }
        for job in it {
            if let Err(e) = job_tx.try_send(job) {
                let job = match e {
                    mpsc::error::TrySendError::Full(j) | mpsc::error::TrySendError::Closed(j) => j,
                };
                let _ = done.send((job, Outcome::Release)).await;
            }
        }
    }
}

/// The message with the content of its uploaded files put in (`wire::Attachment::file`);
/// borrowed as it is when it refers to none. A file no longer on the relay fails the message.
async fn with_files<'j>(
    store: &Store,
    job: &'j Job,
) -> Result<std::borrow::Cow<'j, OutgoingMessage>, Outcome> {
    if job.msg.attachments.iter().all(|a| a.file.is_none()) {
        return Ok(std::borrow::Cow::Borrowed(&job.msg));
    }
    let mut msg = job.msg.clone();
    for a in msg.attachments.iter_mut() {
        let Some(sha) = a.file.take() else { continue };
        let (st, scope) = (store.clone(), job.scope.clone());
        let data = tokio::task::spawn_blocking(move || st.file(&scope, &sha)).await;
        match data {
            Ok(Ok(Some(bytes))) => {
                a.data_base64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            }
            Ok(Ok(None)) => {
                return Err(Outcome::Permanent(format!(
                    "Anhang {} ist auf dem Relay nicht mehr vorhanden",
                    a.filename
                )))
            }
            Ok(Err(e)) => return Err(Outcome::Transient(format!("Anhang lesen: {e}"))),
            Err(e) => return Err(Outcome::Transient(format!("Anhang lesen: {e}"))),
        }
    }
    Ok(std::borrow::Cow::Owned(msg))
}

async fn worker(
    store: Store,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    transport: Arc<dyn Transport>,
    done: mpsc::Sender<Done>,
    public_url: String,
    deadline: Duration,
    mut shut: watch::Receiver<bool>,
) {
    loop {
        if *shut.borrow() {
            return;
        }
        let job = {
            let mut rx = jobs.lock().await;
            tokio::select! {
                j = rx.recv() => j,
                _ = shut.changed() => return,
            }
        };
        let Some(job) = job else { return };
        // Never start an attempt that could outlive the claim's lease: the reaper would
        // hand the message out again meanwhile.
        let outcome = if now_ms() + deadline.as_millis() as i64 > job.lease_until {
            Outcome::Release
        } else {
            let url = job.unsub_token.as_ref().map(|t| match job.msg.optin {
                Some(_) => format!("{public_url}/b/{t}"),
                None => format!("{public_url}/u/{t}"),
            });
            crash::message(&job.msg.client_id);
            match with_files(&store, &job).await {
                Err(o) => o,
                Ok(msg) => {
                    let d = Delivery {
                        msg: &msg,
                        link_url: url.as_deref(),
                    };
                    match tokio::time::timeout(deadline, transport.send(&d)).await {
                        Ok(o) => o,
                        Err(_) => Outcome::Ambiguous(format!(
                            "Sendeversuch nach {} s abgebrochen",
                            deadline.as_secs()
                        )),
                    }
                }
            }
        };
        if matches!(outcome, Outcome::Sent { .. }) {
            crash::point("after_send");
        }
        if done.send((job, outcome)).await.is_err() {
            return;
        }
    }
}

async fn completer(
    store: Store,
    mut rx: mpsc::Receiver<Done>,
    policy: RetryPolicy,
    wake: Arc<Notify>,
) {
    let mut batch: Vec<Done> = Vec::new();
    let mut closed = false;
    let mut failures = 0u32;
    let mut last_reap = Instant::now();
    loop {
        if batch.is_empty() {
            if closed {
                return;
            }
            tokio::select! {
                d = rx.recv() => match d {
                    Some(d) => batch.push(d),
                    None => closed = true,
                },
                _ = tokio::time::sleep(REAP_EVERY) => {}
            }
        }
        // Group commit: gather what arrives within a few milliseconds, so that one
        // synchronous=FULL commit (an fsync) records many outcomes.
        let gather_until = tokio::time::Instant::now() + GROUP_COMMIT;
        while !closed && !batch.is_empty() && batch.len() < 2000 {
            match rx.try_recv() {
                Ok(d) => batch.push(d),
                Err(mpsc::error::TryRecvError::Disconnected) => closed = true,
                Err(mpsc::error::TryRecvError::Empty) => {
                    match tokio::time::timeout_at(gather_until, rx.recv()).await {
                        Ok(Some(d)) => batch.push(d),
                        Ok(None) => closed = true,
                        Err(_) => break,
                    }
                }
            }
        }
        if !batch.is_empty() {
            let retry = batch
                .iter()
                .any(|(_, o)| !matches!(o, Outcome::Sent { .. } | Outcome::Permanent(_)));
            let (st, b) = (store.clone(), std::mem::take(&mut batch));
            let res = tokio::task::spawn_blocking(move || {
                let r = st.complete(&b, &policy);
                (b, r)
            })
            .await;
            match res {
                Ok((_, Ok(stale))) => {
                    failures = 0;
                    if stale > 0 {
                        eprintln!("praxisbote-relay: {stale} verspätete Ergebnisse ignoriert");
                    }
                    if retry {
                        wake.notify_waiters();
                    }
                }
                Ok((b, Err(e))) => {
                    // Keep the outcomes and try again: dropping them would leave the rows
                    // `sending` and send them again later.
                    failures += 1;
                    eprintln!(
                        "praxisbote-relay: Status von {} Sendungen nicht gespeichert ({e}); neuer Versuch",
                        b.len()
                    );
                    batch = b;
                    tokio::time::sleep(Duration::from_millis(50u64 << failures.min(6))).await;
                    continue;
                }
                Err(e) => {
                    eprintln!("praxisbote-relay: Status-Schreiber: {e}");
                    return;
                }
            }
        }
        if !closed && last_reap.elapsed() >= REAP_EVERY {
            last_reap = Instant::now();
            let st = store.clone();
            let max = policy.max_attempts;
            match blocking(move || st.reap(max, REAP_GRACE_MS)).await {
                Ok((0, 0)) => {}
                Ok((r, f)) => {
                    eprintln!(
                        "praxisbote-relay: {r} Sendungen ohne Ergebnis erneut eingeplant, {f} aufgegeben"
                    );
                    wake.notify_waiters();
                }
                Err(e) => {
                    eprintln!("praxisbote-relay: Aufräumen der Sendungen fehlgeschlagen: {e}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rate_limiter_spaces_calls() {
        let l = RateLimiter::new(50.0);
        let t = Instant::now();
        for _ in 0..6 {
            l.acquire().await;
        }
        let el = t.elapsed();
        assert!(el >= Duration::from_millis(95), "{el:?}");
    }
}
