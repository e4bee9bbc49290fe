//! `dealflow bench jobs`: how fast the background job runner drains a
//! backlog. It schedules N due `sessions.prune` jobs (a cheap real kind:
//! one delete in its own write transaction) on a fresh SQLite file, starts
//! the runner `serve` uses, and reports how long it takes until none is
//! pending or running. A figure, never a pass or fail.
//!
//! With `--email-sink HOST:PORT` the jobs are playbook e-mails instead:
//! N deals enter a stage with an automatic e-mail step due at once, each
//! scheduling its `playbook.email` job the way a move does, and the runner
//! sends them all over plain SMTP to the server at that address (a local
//! sink; never a real mail server), recording each send.

use anyhow::Context;
use clap::Args;
use dealflow_core::time::Timestamp;
use dealflow_server::jobs::{Handlers, Runner, RunnerConfig, SESSIONS_PRUNE};
use dealflow_store::{Actor, JobFilter, JobStatus, NewJob, Page, PoolSettings, Store};
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct JobsBench {
    /// Due jobs to schedule before the runner starts.
    #[arg(long, default_value_t = 10_000)]
    pub jobs: usize,
    /// Jobs the runner runs at once (as `serve --job-workers`).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// Drain playbook e-mail jobs, sent to the SMTP server at this address
    /// (e.g. a local sink at `127.0.0.1:2525`), instead of session prunes.
    #[arg(long, value_name = "HOST:PORT")]
    pub email_sink: Option<String>,
}

impl JobsBench {
    pub async fn run(self) -> anyhow::Result<()> {
        super::bench::on_temp_sqlite(|url| async move { self.measure(&url).await }).await
    }

    async fn measure(&self, url: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let started = Instant::now();
        let what = match &self.email_sink {
            Some(addr) => {
                email_jobs(&store, addr, self.jobs).await?;
                "due e-mail jobs (one deal created each)"
            }
            None => {
                let due = Timestamp::now();
                for _ in 0..self.jobs {
                    store.enqueue(&NewJob::new(SESSIONS_PRUNE, serde_json::json!({}), due)).await?;
                }
                "due jobs"
            }
        };
        let enqueued = started.elapsed();
        println!(
            "scheduled {} {what} in {:.2} s ({:.0} per second, one transaction each)",
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

/// Points the workspace at the sink, gives the first stage an automatic
/// e-mail step due at once, and creates `n` deals of one person there.
async fn email_jobs(store: &Store, addr: &str, n: usize) -> anyhow::Result<()> {
    let (host, port) = addr.rsplit_once(':').context("--email-sink takes HOST:PORT")?;
    let port: u16 = port.parse().context("--email-sink: the port is a number")?;
    let a = Actor::cli();
    let version = store.settings().await?.version;
    let patch = json!({"version": version, "smtp_host": host, "smtp_port": port, "smtp_security": "none",
                       "mail_from": "bench@example.com"});
    store.update_settings(&a, serde_json::from_value(patch)?).await?;
    let stage = store.pipelines().await?.first().and_then(|p| p.stages.first()).context("no stage")?.id;
    let spec = json!({"title": "Welcome", "kind": "email", "send": "auto",
        "template": {"subject": "Welcome, {{person.first_name}}", "body": "Hello {{person.name}}, about {{deal.title}}."},
        "due": {"anchor": "stage_entered", "offset_minutes": 0}});
    store.create_step(&a, stage, serde_json::from_value(spec)?).await?;
    let person = json!({"name": "Bench Person", "emails": ["person@example.com"]});
    let person = store.create_person(&a, serde_json::from_value(person)?).await?;
    for i in 0..n {
        let deal = json!({"title": format!("Deal {i}"), "value": 100, "person_id": person.id});
        store.create_deal(&a, serde_json::from_value(deal)?).await?;
    }
    Ok(())
}

/// Whether any job is in `status`.
async fn busy(store: &Store, status: JobStatus) -> anyhow::Result<bool> {
    let f = JobFilter { status: Some(status), ..Default::default() };
    Ok(!store.jobs(&f, Page { limit: 1, before: None }).await?.items.is_empty())
}
