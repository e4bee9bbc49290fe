//! Background jobs: work stored in the `jobs` table with a due time, so it
//! survives restarts and is shared by every process on the database. This
//! module schedules (`enqueue_in`, inside the caller's write transaction, so
//! a job exists exactly when the change that caused it committed), lists and
//! retries jobs; `claim.rs` hands due jobs to runners under a lease and
//! records how they ended.

mod claim;
#[cfg(test)]
mod tests;

pub use claim::{JOB_BACKOFF_BASE_MS, JOB_BACKOFF_CAP_MS, backoff_ms};

use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Store, StoreError, Tx};
use dealflow_core::DealId;
use dealflow_core::time::Timestamp;
use sqlx::any::AnyRow;

/// Attempts a job gets unless its scheduler says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// Longest error text kept for a job; a handler's error may quote a remote
/// answer, and the list must stay small.
const MAX_ERROR_CHARS: usize = 2_000;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for its due time (or for a retry after a failed attempt).
    Pending,
    /// Claimed by a runner whose lease has not ended.
    Running,
    /// Finished; `result` holds what the handler returned.
    Done,
    /// Gave up after its last attempt; `last_error` says why.
    Failed,
    /// No longer wanted before it ran (a playbook e-mail whose deal left
    /// the stage); it never runs.
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(JobStatus::Pending),
            "running" => Ok(JobStatus::Running),
            "done" => Ok(JobStatus::Done),
            "failed" => Ok(JobStatus::Failed),
            "cancelled" => Ok(JobStatus::Cancelled),
            other => Err(format!("unknown job status {other:?}")),
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    /// Which handler runs it, e.g. `sessions.prune`.
    pub kind: String,
    /// The handler's input (JSON).
    pub payload: serde_json::Value,
    pub due_at: Timestamp,
    pub status: JobStatus,
    /// Claims so far, this one included while running.
    pub attempts: i64,
    pub max_attempts: i64,
    /// While running: when the claim ends and another runner may take it.
    pub lease_until: Option<Timestamp>,
    /// While running: the runner that claimed it.
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    /// What the handler returned (JSON), once done.
    pub result: Option<serde_json::Value>,
    pub dedupe_key: Option<String>,
    /// The deal the job belongs to, for display.
    pub deal_id: Option<DealId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub done_at: Option<Timestamp>,
}

/// A job to schedule.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub due_at: Timestamp,
    pub max_attempts: i64,
    /// Scheduling a job with a key already used yields no second job.
    pub dedupe_key: Option<String>,
    pub deal_id: Option<DealId>,
}

impl NewJob {
    /// A job of `kind` due at `due_at`, with the default attempts and no
    /// dedupe key or deal.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value, due_at: Timestamp) -> Self {
        Self { kind: kind.into(), payload, due_at, max_attempts: DEFAULT_MAX_ATTEMPTS, dedupe_key: None, deal_id: None }
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn deal(mut self, deal: DealId) -> Self {
        self.deal_id = Some(deal);
        self
    }
}

/// Filters of the job list: `GET /api/v1/jobs` reads it from the query string.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub status: Option<JobStatus>,
    /// Only jobs of this kind (e.g. `sessions.prune`).
    pub kind: Option<String>,
    /// Only jobs that belong to this deal.
    pub deal_id: Option<DealId>,
}

pub(crate) fn from_row(r: &AnyRow) -> R<Job> {
    Ok(Job {
        id: i64_(r, "id")?,
        kind: text(r, "kind")?,
        payload: json(r, "payload")?,
        due_at: ts(r, "due_at")?,
        status: enum_(r, "status", JobStatus::parse)?,
        attempts: i64_(r, "attempts")?,
        max_attempts: i64_(r, "max_attempts")?,
        lease_until: opt_ts(r, "lease_until")?,
        leased_by: opt_text(r, "leased_by")?,
        last_error: opt_text(r, "last_error")?,
        result: match opt_text(r, "result")? {
            Some(s) => Some(
                serde_json::from_str(&s)
                    .map_err(|e| sqlx::Error::ColumnDecode { index: "result".into(), source: e.to_string().into() })?,
            ),
            None => None,
        },
        dedupe_key: opt_text(r, "dedupe_key")?,
        deal_id: opt_i64(r, "deal_id")?.map(DealId),
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        done_at: opt_ts(r, "done_at")?,
    })
}

/// Cuts an error message to the length kept, on a character boundary.
pub(crate) fn clip_error(e: &str) -> String {
    e.chars().take(MAX_ERROR_CHARS).collect()
}

/// Schedules `job` inside the caller's write transaction, so it exists
/// exactly when that transaction commits. Returns the new job's id, or
/// `None` when a job with the same dedupe key already exists (scheduling
/// the same thing twice is not an error). Call [`Store::jobs_enqueued`]
/// after the commit to wake this process's runner at once.
pub async fn enqueue_in(tx: &mut Tx, job: &NewJob, now: Timestamp) -> Result<Option<i64>, StoreError> {
    if job.kind.trim().is_empty() {
        return Err(StoreError::invalid("kind", "is required: the name of the handler that runs the job"));
    }
    if job.max_attempts < 1 {
        return Err(StoreError::invalid("max_attempts", "must be at least 1"));
    }
    let id = dealflow_core::ids::next_id();
    let done = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, due_at, status, attempts, max_attempts, dedupe_key, deal_id,
                           created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7, $8, $8)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(id)
    .bind(job.kind.clone())
    .bind(job.payload.to_string())
    .bind(job.due_at.0)
    .bind(job.max_attempts)
    .bind(job.dedupe_key.clone())
    .bind(job.deal_id.map(|d| d.0))
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

impl Store {
    /// Schedules one job in its own transaction (see [`enqueue_in`]) and
    /// wakes this process's runner.
    pub async fn enqueue(&self, job: &NewJob) -> Result<Option<i64>, StoreError> {
        let mut tx = self.write().await?;
        let id = enqueue_in(&mut tx, job, Timestamp::now()).await?;
        tx.commit().await?;
        self.jobs_enqueued();
        Ok(id)
    }

    /// Wakes this process's job runner: a job was just committed. Other
    /// processes find it at their next poll.
    pub fn jobs_enqueued(&self) {
        self.job_wake.notify_one();
    }

    /// Wakes the runner when a write scheduled a job (`wake`), and only
    /// then: a wake costs the runner a claim.
    pub(crate) fn woken(&self, wake: bool) {
        if wake {
            self.jobs_enqueued();
        }
    }

    /// Resolves when [`Store::jobs_enqueued`] was called since the last wait.
    pub async fn job_enqueued_wait(&self) {
        self.job_wake.notified().await;
    }

    pub async fn job(&self, id: i64) -> Result<Job, StoreError> {
        crate::records::load(self.pool(), "jobs", "job", id, from_row).await
    }

    /// Jobs newest first, filtered and paged.
    pub async fn jobs(&self, f: &JobFilter, page: Page) -> Result<ListPage<Job>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM jobs WHERE 1 = 1");
        if let Some(s) = f.status {
            sql.push(" AND status = ").bind(s.as_str());
        }
        if let Some(k) = &f.kind {
            sql.push(" AND kind = ").bind(k.as_str());
        }
        if let Some(d) = f.deal_id {
            sql.push(" AND deal_id = ").bind(d.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }

    /// Makes a failed job pending again, due now, with its attempts reset
    /// (its last error stays until the next attempt ends). Only a failed job
    /// can be retried: a pending or running one will run anyway, and a done
    /// one did its work.
    pub async fn retry_job(&self, id: i64, now: Timestamp) -> Result<Job, StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(
            "UPDATE jobs SET status = 'pending', due_at = $2, attempts = 0, lease_until = NULL, leased_by = NULL,
                             done_at = NULL, updated_at = $2
             WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            let job = crate::records::load(&mut *tx, "jobs", "job", id, from_row).await?;
            return Err(StoreError::InUse(format!(
                "job {id} is {}; only a failed job can be retried",
                job.status.as_str()
            )));
        }
        let job = crate::records::load(&mut *tx, "jobs", "job", id, from_row).await?;
        // A playbook e-mail step that failed with this job waits for it again.
        sqlx::query(
            "UPDATE deal_steps SET status = 'waiting', reason = NULL, updated_at = $2 WHERE job_id = $1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.jobs_enqueued();
        Ok(job)
    }
}
