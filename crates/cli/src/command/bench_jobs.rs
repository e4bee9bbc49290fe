//! `dealflow bench jobs`: how fast the background job runner drains a
//! backlog. It schedules N due `sessions.prune` jobs (a cheap real kind:
//! one delete in its own write transaction) on a fresh SQLite file, starts
//! the runner `serve` uses, and reports how long it takes until none is
//! pending or running. A figure, never a pass or fail.

use anyhow::Context;
use clap::Args;
use dealflow_core::time::Timestamp;
use dealflow_server::jobs::{Handlers, Runner, RunnerConfig, SESSIONS_PRUNE};
use dealflow_store::{JobFilter, JobStatus, NewJob, Page, PoolSettings, Store};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct JobsBench {
    /// Due jobs to schedule before the runner starts.
    #[arg(long, default_value_t = 10_000)]
    pub jobs: usize,
    /// Jobs the runner runs at once (as `serve --job-workers`).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
}

impl JobsBench {
    pub async fn run(self) -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("dealflow-bench-{}", dealflow_core::ids::next_id()));
        let url = format!("sqlite:{}/bench.db", dir.display());
        let result = self.measure(&url).await;
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    async fn measure(&self, url: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let started = Instant::now();
        let due = Timestamp::now();
        for _ in 0..self.jobs {
            store.enqueue(&NewJob::new(SESSIONS_PRUNE, serde_json::json!({}), due)).await?;
        }
        let enqueued = started.elapsed();
        println!(
            "scheduled {} due jobs in {:.2} s ({:.0} per second, one transaction each)",
            self.jobs,
            enqueued.as_secs_f64(),
            self.jobs as f64 / enqueued.as_secs_f64()
        );
        let config = RunnerConfig { concurrency: usize::from(self.workers), ..Default::default() };
        let started = Instant::now();
        let runner = Runner::start(store.clone(), Handlers::standard(), config);
        while busy(&store, JobStatus::Pending).await? || busy(&store, JobStatus::Running).await? {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let drained = started.elapsed();
        runner.stop().await;
        let failed = busy(&store, JobStatus::Failed).await?;
        println!(
            "drained them with {} workers in {:.2} s ({:.0} jobs per second){}",
            self.workers,
            drained.as_secs_f64(),
            self.jobs as f64 / drained.as_secs_f64(),
            if failed { "; some FAILED, see the log" } else { "" }
        );
        store.close().await;
        Ok(())
    }
}

/// Whether any job is in `status`.
async fn busy(store: &Store, status: JobStatus) -> anyhow::Result<bool> {
    let f = JobFilter { status: Some(status), ..Default::default() };
    Ok(!store.jobs(&f, Page { limit: 1, before: None }).await?.items.is_empty())
}
