//! The background job runner that `dealflow serve` starts beside the HTTP
//! server. It polls the `jobs` table (and wakes at once when this process
//! schedules a job or one of its jobs ends), claims due jobs under a lease
//! through the store, and runs up to `concurrency` of them at once, each
//! through the handler registered for its kind. A handler's error, an
//! unknown kind or a panic fails the attempt (retried with backoff by the
//! store); nothing in a job can stop the runner.
//!
//! A job may run more than once: when its runner dies after the work but
//! before recording it, the lease ends and another claim repeats it. So
//! handlers must be idempotent (see docs/running.md).

mod audit_brief;
mod email;
mod prune;
mod scoring;
pub mod webhooks;

pub use audit_brief::{AUDIT_BRIEF_JOB, run as run_audit_brief_job};
pub use email::{EMAIL_JOB, run as run_email_job};
pub use prune::{SESSIONS_PRUNE, ensure_daily_prune};

use dealflow_core::time::Timestamp;
use dealflow_store::{Job, Store};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// What a handler's run resolves to: the job's result, or the error that
/// fails this attempt.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// Runs jobs of one kind. Any `Fn(Store, Job) -> impl Future` is one.
pub trait Handler: Send + Sync + 'static {
    fn run(&self, store: Store, job: Job) -> HandlerFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(Store, Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, String>> + Send + 'static,
{
    fn run(&self, store: Store, job: Job) -> HandlerFuture {
        Box::pin(self(store, job))
    }
}

/// How long to wait after the `attempts`-th failed attempt, for a job kind
/// with its own retry schedule.
pub type RetrySchedule = fn(i64) -> i64;

/// The handlers by job kind, each with its retry schedule when it has one
/// (else the store's default backoff).
#[derive(Clone, Default)]
pub struct Handlers(HashMap<String, (Arc<dyn Handler>, Option<RetrySchedule>)>);

impl Handlers {
    /// The handlers of every kind dealflow schedules.
    pub fn standard() -> Self {
        let mut h = Self::default();
        h.register(SESSIONS_PRUNE, prune::run);
        h.register(EMAIL_JOB, email::run);
        h.register(webhooks::FANOUT_JOB, webhooks::fanout);
        h.register_retrying(webhooks::DELIVER_JOB, webhooks::deliver, webhooks::retry_in_ms);
        h.register(scoring::RESCORE_JOB, scoring::rescore);
        h.register(scoring::LOSE_JOB, scoring::lose);
        h.register(audit_brief::AUDIT_BRIEF_JOB, audit_brief::run);
        h
    }

    /// Adds (or replaces) the handler of `kind`.
    pub fn register(&mut self, kind: &str, handler: impl Handler) -> &mut Self {
        self.0.insert(kind.to_string(), (Arc::new(handler), None));
        self
    }

    /// Adds (or replaces) the handler of `kind`, retried on `schedule`.
    pub fn register_retrying(&mut self, kind: &str, handler: impl Handler, schedule: RetrySchedule) -> &mut Self {
        self.0.insert(kind.to_string(), (Arc::new(handler), Some(schedule)));
        self
    }

    fn get(&self, kind: &str) -> Option<(Arc<dyn Handler>, Option<RetrySchedule>)> {
        self.0.get(kind).cloned()
    }
}

/// How the runner works.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Longest wait between looks for due jobs (a job due now starts within it).
    pub poll: Duration,
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// How long a claim lasts; a job still running after it may be claimed
    /// by another runner, so it must exceed any handler's run time.
    pub lease: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self { poll: Duration::from_secs(5), concurrency: 4, lease: Duration::from_secs(300) }
    }
}

/// A running job runner; [`Runner::stop`] ends it.
pub struct Runner {
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

/// How often the runner looks for checklist steps that became overdue
/// (the `step.overdue` webhook event).
const OVERDUE_SWEEP: Duration = Duration::from_secs(60);

/// How often scores that decay are read again, so that decay carrying a
/// score across a threshold fires it (at start-up, then hourly).
const DECAY_SWEEP: Duration = Duration::from_secs(3600);

/// How long shutdown waits for jobs in flight before leaving them to their
/// lease (another start claims them again once it ends).
const STOP_GRACE: Duration = Duration::from_secs(10);

impl Runner {
    /// Starts the runner on the current tokio runtime.
    pub fn start(store: Store, handlers: Handlers, config: RunnerConfig) -> Self {
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(run_loop(store, handlers, config, stop.clone()));
        Self { stop, task }
    }

    /// Stops claiming, waits a little for the jobs in flight, then returns.
    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

/// A name for this process's claims, unique across processes and starts.
fn worker_id() -> String {
    format!("pid{}-{}", std::process::id(), dealflow_core::ids::next_id())
}

async fn run_loop(store: Store, handlers: Handlers, config: RunnerConfig, stop: Arc<Notify>) {
    let worker = worker_id();
    let concurrency = config.concurrency.max(1);
    let lease_ms = i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX / 4);
    let mut tasks = JoinSet::new();
    let mut prune_day = None;
    let mut swept: Option<std::time::Instant> = None;
    let mut decayed: Option<std::time::Instant> = None;
    tracing::info!(%worker, concurrency, "job runner started");
    loop {
        let now = Timestamp::now();
        prune_day = ensure_daily_prune(&store, now, prune_day).await;
        if swept.is_none_or(|at| at.elapsed() >= OVERDUE_SWEEP) {
            swept = Some(std::time::Instant::now());
            if let Err(e) = store.sweep_overdue_steps(now).await {
                tracing::warn!(error = %e, "could not look for overdue steps; trying again in a minute");
            }
            // Weekly audits whose slot has come (at start-up too: a slot
            // missed while the server was down is made once, late).
            if let Err(e) = store.run_audit_schedule(now).await {
                tracing::warn!(error = %e, "could not make the scheduled audits; trying again in a minute");
            }
        }
        if decayed.is_none_or(|at| at.elapsed() >= DECAY_SWEEP) {
            decayed = Some(std::time::Instant::now());
            if let Err(e) = store.sweep_score_decay(now).await {
                tracing::warn!(error = %e, "could not re-read decaying scores; trying again in an hour");
            }
        }
        let free = concurrency - tasks.len();
        if free > 0 {
            match store.claim_jobs(&worker, now, lease_ms, free as i64).await {
                Ok(jobs) => {
                    for job in jobs {
                        tasks.spawn(run_one(store.clone(), handlers.clone(), job));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not claim jobs; trying again at the next poll"),
            }
        }
        tokio::select! {
            _ = stop.notified() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = store.job_enqueued_wait() => {}
            _ = tokio::time::sleep(config.poll) => {}
        }
    }
    let drained = tokio::time::timeout(STOP_GRACE, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(left = tasks.len(), "jobs still running at shutdown; they run again when their lease ends");
        tasks.abort_all();
    }
    tracing::info!("job runner stopped");
}

/// Runs one claimed job and records its end. The handler runs in a task of
/// its own so that a panic becomes a failed attempt, not a dead runner.
async fn run_one(store: Store, handlers: Handlers, job: Job) {
    let found = handlers.get(&job.kind);
    let schedule = found.as_ref().and_then(|(_, s)| *s);
    let outcome = match found.map(|(h, _)| h) {
        Some(h) => match tokio::spawn(h.run(store.clone(), job.clone())).await {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => Err("the handler panicked (see the server log)".to_string()),
            Err(_) => Err("the handler was cancelled".to_string()),
        },
        None => Err(format!("no handler for job kind {:?}: this dealflow version cannot run it", job.kind)),
    };
    let now = Timestamp::now();
    let recorded = match &outcome {
        Ok(result) => store.complete_job(&job, result, now).await,
        Err(error) => {
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job attempt failed");
            match schedule {
                Some(retry_in) => store.fail_job_retry_in(&job, error, now, retry_in(job.attempts)).await,
                None => store.fail_job(&job, error, now).await,
            }
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = job.id, "job lease ended before the job did; another runner owns it now"),
        Err(e) => {
            tracing::error!(job = job.id, error = %e, "could not record the end of a job; it runs again after its lease")
        }
    }
}
