//! `dealflow serve`: run the server and the background job runner until
//! SIGINT/SIGTERM, then finish the requests and jobs in flight and close the
//! database.

use anyhow::Context;
use clap::Args;
use dealflow_server::{AppState, Config};
use dealflow_store::Store;

#[derive(Debug, Args)]
pub struct Serve {
    /// Address to listen on.
    #[arg(long, env = "DEALFLOW_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Seed a demo workspace (once) and print its login and an API token.
    #[arg(long)]
    pub demo: bool,
    /// Pretend today is this date (YYYY-MM-DD) when seeding demo data.
    #[arg(long, requires = "demo")]
    pub now: Option<String>,
    /// Mark cookies Secure (set when served behind HTTPS).
    #[arg(long, env = "DEALFLOW_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Forecasts and backtests computed at once (each loads every deal);
    /// further ones wait a few seconds, then get 503 with Retry-After.
    #[arg(long, env = "DEALFLOW_HEAVY_READS", default_value_t = dealflow_insights::DEFAULT_HEAVY_READS as u16,
        value_parser = clap::value_parser!(u16).range(1..))]
    pub heavy_reads: u16,
    /// Record exports (deals, people, organizations) sent at once; further
    /// ones wait a few seconds, then get 503 with Retry-After.
    #[arg(long, env = "DEALFLOW_EXPORT_STREAMS", default_value_t = dealflow_server::DEFAULT_EXPORT_STREAMS as u16,
        value_parser = clap::value_parser!(u16).range(1..))]
    pub export_streams: u16,
    /// Days audit-log entries are kept; older ones are deleted at start-up
    /// and once a day.
    #[arg(long, env = "DEALFLOW_AUDIT_RETENTION_DAYS", default_value_t = dealflow_store::audit::DEFAULT_RETENTION_DAYS,
        value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub audit_retention_days: u32,
    /// Background jobs run at once by this process.
    #[arg(long, env = "DEALFLOW_JOB_WORKERS", default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=64))]
    pub job_workers: u16,
    /// Longest wait, in seconds, between looks for due background jobs.
    #[arg(long, env = "DEALFLOW_JOB_POLL_SECS", default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(1..=10))]
    pub job_poll_secs: u64,
}

impl Serve {
    pub async fn run(self, store: Store) -> anyhow::Result<()> {
        if self.demo {
            let today = match self.now.as_deref() {
                Some(d) => Some(dealflow_core::time::Date::parse(d).map_err(anyhow::Error::msg)?.0),
                None => None,
            };
            let started = std::time::Instant::now();
            let demo = dealflow_server::demo::ensure(&store, today).await?;
            if demo.seeded {
                println!("seeded the demo workspace in {:.1} s", started.elapsed().as_secs_f64());
            } else {
                println!("demo data already present; not seeding again");
            }
            println!("demo login: {} / {}", demo.email, demo.password);
            println!("demo API token: {}", demo.token);
        }
        let days = self.audit_retention_days;
        let pruned = store.prune_audit_log_older_than(days, dealflow_core::time::Timestamp::now()).await?;
        tracing::info!(removed = pruned, days, "pruned the audit log");
        let pruner = dealflow_store::audit::prune_daily(store.clone(), days);
        let listener = tokio::net::TcpListener::bind(&self.bind)
            .await
            .with_context(|| format!("cannot listen on {}", self.bind))?;
        let addr = listener.local_addr().context("cannot read the bound address")?;
        tracing::info!(%addr, "dealflow is serving");
        println!("dealflow is running at http://{addr}");
        let config = Config {
            secure_cookies: self.secure_cookies,
            heavy_reads: usize::from(self.heavy_reads),
            export_streams: usize::from(self.export_streams),
            ..Config::default()
        };
        let runner = dealflow_server::jobs::Runner::start(
            store.clone(),
            dealflow_server::jobs::Handlers::standard(),
            dealflow_server::jobs::RunnerConfig {
                poll: std::time::Duration::from_secs(self.job_poll_secs),
                concurrency: usize::from(self.job_workers),
                ..Default::default()
            },
        );
        let served = dealflow_server::serve(listener, AppState::new(store, config), shutdown_signal()).await;
        pruner.abort();
        runner.stop().await;
        served.context("the server stopped with an error")?;
        tracing::info!("shut down cleanly");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
