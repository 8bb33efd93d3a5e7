//! Delivery engine: per account a dispatcher that claims due messages (marking them `sending`
//! in a committed transaction), a worker pool with a rate limit, and one completer that
//! records outcomes in batched transactions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Mutex, Notify};
use tokio::task::JoinSet;

use crate::config::{Account, Config};
use crate::store::{now_ms, Job, Outcome, Store};
use crate::transport::{Delivery, Transport};

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

/// Exponential backoff: base · 2^(attempts−1), capped.
pub fn backoff_ms(base_s: u64, max_s: u64, attempts: u32) -> i64 {
    let exp = attempts.saturating_sub(1).min(30);
    let secs = base_s.saturating_mul(1u64 << exp).min(max_s);
    (secs * 1000) as i64
}

pub struct Engine {
    pub wake: Arc<Notify>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

type Done = (i64, u32, Outcome);

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
        let (done_tx, done_rx) = mpsc::unbounded_channel::<Done>();
        let mut tasks = JoinSet::new();

        let (base, max, max_attempts) = (
            cfg.retry_base_seconds,
            cfg.retry_max_seconds,
            cfg.max_attempts,
        );
        tasks.spawn(completer(
            store.clone(),
            done_rx,
            max_attempts,
            base,
            max,
            wake.clone(),
        ));

        // Rendered bodies are deleted `retention_days` after their final state.
        let (st, days, mut sh) = (store.clone(), cfg.retention_days, shut_rx.clone());
        tasks.spawn(async move {
            loop {
                let s = st.clone();
                match tokio::task::spawn_blocking(move || s.purge_bodies(days)).await {
                    Ok(Ok(n)) if n > 0 => eprintln!(
                        "praxisbote-relay: {n} Nachrichtentexte nach Aufbewahrungsfrist gelöscht"
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

        for (acc, transport) in transports {
            let transport: Arc<dyn Transport> = Arc::from(transport);
            let limiter = acc.rate_per_second.map(|r| Arc::new(RateLimiter::new(r)));
            let workers = acc.concurrency as usize;
            let (job_tx, job_rx) = mpsc::channel::<Job>(workers * 8);
            let job_rx = Arc::new(Mutex::new(job_rx));
            for _ in 0..workers {
                tasks.spawn(worker(
                    job_rx.clone(),
                    transport.clone(),
                    limiter.clone(),
                    done_tx.clone(),
                    public_url.clone(),
                ));
            }
            tasks.spawn(dispatcher(
                store.clone(),
                acc.name.clone(),
                job_tx,
                wake.clone(),
                shut_rx.clone(),
            ));
        }
        Engine {
            wake,
            shutdown,
            tasks,
        }
    }

    /// Stops claiming, lets workers finish what they hold (bounded), flushes outcomes.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.shutdown.send(true);
        self.wake.notify_waiters();
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            self.tasks.abort_all();
        }
    }
}

async fn dispatcher(
    store: Store,
    account: String,
    job_tx: mpsc::Sender<Job>,
    wake: Arc<Notify>,
    mut shut: watch::Receiver<bool>,
) {
    loop {
        if *shut.borrow() {
            return;
        }
        // Wait for room first, so that only messages a worker will pick soon are `sending`.
        let permit = tokio::select! {
            p = job_tx.reserve() => match p { Ok(p) => p, Err(_) => return },
            _ = shut.changed() => return,
        };
        let room = job_tx.capacity() + 1;
        let st = store.clone();
        let acc = account.clone();
        let jobs = tokio::task::spawn_blocking(move || st.claim(&acc, room))
            .await
            .ok()
            .and_then(|r| {
                r.map_err(|e| eprintln!("praxisbote-relay: Warteschlange: {e}"))
                    .ok()
            })
            .unwrap_or_default();
        if jobs.is_empty() {
            drop(permit);
            let st = store.clone();
            let acc = account.clone();
            let due = tokio::task::spawn_blocking(move || st.next_due(&acc))
                .await
                .ok()
                .and_then(|r| r.ok())
                .flatten();
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
        let mut it = jobs.into_iter();
        permit.send(it.next().expect("non-empty"));
        for job in it {
            if job_tx.send(job).await.is_err() {
                return;
            }
        }
    }
}

async fn worker(
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    transport: Arc<dyn Transport>,
    limiter: Option<Arc<RateLimiter>>,
    done: mpsc::UnboundedSender<Done>,
    public_url: String,
) {
    loop {
        let job = { jobs.lock().await.recv().await };
        let Some(job) = job else { return };
        if let Some(l) = &limiter {
            l.acquire().await;
        }
        let url = job
            .unsub_token
            .as_ref()
            .map(|t| format!("{public_url}/u/{t}"));
        let outcome = transport
            .send(&Delivery {
                msg: &job.msg,
                unsubscribe_url: url.as_deref(),
            })
            .await;
        if done.send((job.seq, job.attempts, outcome)).is_err() {
            return;
        }
    }
}

async fn completer(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Done>,
    max_attempts: u32,
    base: u64,
    max: u64,
    wake: Arc<Notify>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 2000 {
            match rx.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let retry = batch
            .iter()
            .any(|(_, _, o)| matches!(o, Outcome::Transient(_)));
        let st = store.clone();
        let res = tokio::task::spawn_blocking(move || {
            st.complete(&batch, max_attempts, &|a| backoff_ms(base, max, a))
        })
        .await;
        if let Ok(Err(e)) = res {
            eprintln!("praxisbote-relay: Status nicht gespeichert: {e}");
        }
        if retry {
            wake.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let got: Vec<i64> = (1..=6).map(|a| backoff_ms(30, 300, a)).collect();
        assert_eq!(
            got,
            vec![30_000, 60_000, 120_000, 240_000, 300_000, 300_000]
        );
        assert_eq!(backoff_ms(1, 3600, 40), 3_600_000);
    }

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
