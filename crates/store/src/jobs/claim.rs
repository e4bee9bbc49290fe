//! Handing due jobs to runners and recording how they ended. A claim marks
//! jobs running with a lease (who, until when) and counts an attempt, in one
//! write transaction: on PostgreSQL the due rows are locked with
//! `FOR UPDATE SKIP LOCKED`, so concurrent claimers in several processes
//! take disjoint jobs without waiting for each other; SQLite has one writer
//! at a time, and its write transaction (`BEGIN IMMEDIATE`) serializes the
//! claims. A job whose lease ended (its runner died) is due again.
//!
//! Completing or failing a job checks that the claim is still the caller's
//! (same runner, same attempt, still running): once a lease ended and
//! another runner re-claimed the job, the first runner's word is refused.

use super::{Job, clip_error, from_row};
use crate::sql::Sql;
use crate::{Store, StoreError};
use dealflow_core::time::Timestamp;

/// Wait before the second attempt; each further one doubles it.
pub const JOB_BACKOFF_BASE_MS: i64 = 30_000;
/// The longest wait between attempts (one hour).
pub const JOB_BACKOFF_CAP_MS: i64 = 3_600_000;

/// How long to wait after the `attempts`-th attempt failed:
/// 30 s · 2^(attempts − 1), at most an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = (attempts - 1).clamp(0, 20) as u32;
    JOB_BACKOFF_BASE_MS.saturating_mul(1_i64 << doublings).min(JOB_BACKOFF_CAP_MS)
}

impl Store {
    /// Claims at most `limit` due jobs for `worker`: pending ones whose due
    /// time has come, oldest due first, and running ones whose lease ended
    /// before `now`. Each is marked running until `now + lease_ms`, its
    /// attempts counted, and returned as claimed.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Job>, StoreError> {
        let mut tx = self.write().await?;
        let limit = limit.max(1);
        // Two picks, each answered by its index: jobs of crashed runners
        // first (they have waited longest), then pending ones in due order.
        let lock = self.engine().lock_skip_locked();
        let expired = format!(
            "SELECT id FROM jobs WHERE status = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT $2{lock}"
        );
        let mut ids: Vec<i64> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(expired)).bind(now.0).bind(limit).fetch_all(&mut *tx).await?;
        let room = limit - ids.len() as i64;
        if room > 0 {
            let due = format!(
                "SELECT id FROM jobs WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT $2{lock}"
            );
            let more: Vec<i64> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(due)).bind(now.0).bind(room).fetch_all(&mut *tx).await?;
            ids.extend(more);
        }
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let mut update = Sql::new("UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = ");
        update.bind(now.0 + lease_ms).push(", leased_by = ").bind(worker).push(", updated_at = ").bind(now.0);
        let mut select = Sql::new("SELECT * FROM jobs");
        for (i, id) in ids.iter().enumerate() {
            let head = if i == 0 { " WHERE id IN (" } else { ", " };
            update.push(head).bind(*id);
            select.push(head).bind(*id);
        }
        update.push(")");
        select.push(") ORDER BY due_at, id");
        update.query().execute(&mut *tx).await?;
        let rows = select.query().fetch_all(&mut *tx).await?;
        let jobs = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok(jobs)
    }

    /// Records that a claimed job succeeded with `result`. `false` when the
    /// claim is no longer the caller's (the lease ended and the job was
    /// claimed again, or it was already completed): nothing is changed then.
    pub async fn complete_job(
        &self,
        job: &Job,
        result: &serde_json::Value,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = 'done', result = $4, lease_until = NULL, done_at = $5, updated_at = $5
             WHERE id = $1 AND status = 'running' AND leased_by = $2 AND attempts = $3",
        )
        .bind(job.id)
        .bind(job.leased_by.clone())
        .bind(job.attempts)
        .bind(result.to_string())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that a claimed job's attempt failed with `error`: pending
    /// again after [`backoff_ms`] while attempts remain, else `failed`.
    /// `false` when the claim is no longer the caller's (nothing changed).
    pub async fn fail_job(&self, job: &Job, error: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.fail_job_retry_in(job, error, now, backoff_ms(job.attempts)).await
    }

    /// As [`Store::fail_job`], with the wait before the next attempt chosen
    /// by the caller (a job kind with its own retry schedule).
    pub async fn fail_job_retry_in(
        &self,
        job: &Job,
        error: &str,
        now: Timestamp,
        retry_in_ms: i64,
    ) -> Result<bool, StoreError> {
        let give_up = job.attempts >= job.max_attempts;
        let mut tx = self.write().await?;
        let sql = if give_up {
            "UPDATE jobs SET status = 'failed', last_error = $4, lease_until = NULL, done_at = $5, updated_at = $5
             WHERE id = $1 AND status = 'running' AND leased_by = $2 AND attempts = $3"
        } else {
            "UPDATE jobs SET status = 'pending', last_error = $4, lease_until = NULL, leased_by = NULL,
                             due_at = $6, updated_at = $5
             WHERE id = $1 AND status = 'running' AND leased_by = $2 AND attempts = $3"
        };
        let mut q = sqlx::query(sql)
            .bind(job.id)
            .bind(job.leased_by.clone())
            .bind(job.attempts)
            .bind(clip_error(error))
            .bind(now.0);
        if !give_up {
            q = q.bind(now.0 + retry_in_ms.max(0));
        }
        let done = q.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod unit {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(3), 120_000);
        assert_eq!(backoff_ms(8), 3_600_000);
        assert_eq!(backoff_ms(60), 3_600_000);
        assert_eq!(backoff_ms(0), 30_000);
    }
}
