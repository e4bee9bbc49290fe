//! Command-line interface: global options and the subcommands.

mod audit;
mod backup;
mod bench;
// The generator ships in the store only with its `generate` feature (on by
// default here), so a build without it has no `bench metrics`.
#[cfg(feature = "generate")]
mod bench_api;
#[cfg(feature = "generate")]
mod bench_api_load;
#[cfg(feature = "generate")]
mod bench_audit;
#[cfg(feature = "generate")]
mod bench_export;
#[cfg(feature = "generate")]
mod bench_forecast;
mod bench_gate;
mod bench_import;
mod bench_ingest;
mod bench_jobs;
#[cfg(feature = "generate")]
mod bench_metrics;
#[cfg(feature = "generate")]
mod bench_scoring;
mod copy;
mod forecast;
mod import;
mod metrics;
mod migrate;
mod model;
mod plan;
mod score;
mod serve;
mod token;
mod user;

use anyhow::Context;
use clap::{Parser, Subcommand};
use dealflow_store::{Durability, PoolSettings, Store};

/// SQLite's `synchronous` level, as the command line names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Synchronous {
    Normal,
    Full,
}

/// dealflow: a fast, self-hosted sales pipeline CRM.
#[derive(Debug, Parser)]
#[command(name = "dealflow", version, about, long_about = None)]
pub struct Cli {
    /// Database URL: `sqlite:PATH` (the default is a file under ./dealflow-data/)
    /// or `postgres://USER:PASS@HOST/DB`.
    #[arg(long, global = true, env = "DEALFLOW_DATABASE_URL", default_value = "sqlite:dealflow-data/dealflow.db")]
    pub database: String,

    /// Most database connections to keep open.
    #[arg(long, global = true, env = "DEALFLOW_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,

    /// Seconds a request waits for a free database connection before it
    /// gets 503.
    #[arg(long, global = true, env = "DEALFLOW_DB_ACQUIRE_TIMEOUT", default_value_t = 5)]
    pub db_acquire_timeout: u64,

    /// SQLite only: `normal` keeps every commit when dealflow crashes or is
    /// killed, but may lose the last ones on a power failure; `full` also
    /// survives a power failure, at one disk flush per write.
    #[arg(long, global = true, env = "DEALFLOW_SQLITE_SYNCHRONOUS", value_enum, default_value = "normal")]
    pub sqlite_synchronous: Synchronous,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (API and app).
    Serve(serve::Serve),
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Benchmarks on generated data (figures, never pass/fail).
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Copy a whole workspace to another database (e.g. SQLite to PostgreSQL), then verify it.
    Copy(copy::Copy),
    /// Import deals, people, organizations or activities from a CSV file under a JSON mapping.
    Import(import::Import),
    /// Pipeline metrics of a period (outreach, meetings, wins, rates, velocity).
    Metrics(metrics::Metrics),
    /// Forecast of the open deals (P10/P50/P90), or a backtest over past dates.
    Forecast(forecast::Forecast),
    /// Goal planner: what it takes to win a revenue target in N weeks.
    Plan(plan::Plan),
    /// Lead scores: explain a deal's score from its ledger.
    #[command(subcommand)]
    Score(score::ScoreCmd),
    /// The learned win probability: backtest it against stage weights.
    #[command(subcommand)]
    Model(model::ModelCmd),
    /// Weekly pipeline audits: take one, or print one.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Back up the workspace to a new SQLite file (a consistent copy while serving), then verify it.
    Backup(backup::Backup),
    /// Restore a backup file into an empty database, then verify it.
    Restore(backup::Restore),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let pool = PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: std::time::Duration::from_secs(self.db_acquire_timeout),
            durability: match self.sqlite_synchronous {
                Synchronous::Normal => Durability::Normal,
                Synchronous::Full => Durability::Full,
            },
        };
        let command = match self.command {
            // Copy opens its own two databases; opening (and creating) the
            // global one would be a surprising side effect.
            Command::Copy(c) => return c.run(&pool).await,
            // Benchmarks make their own throwaway database.
            Command::Bench(b) => return b.run(&self.database).await,
            other => other,
        };
        let store = open(&self.database, &pool).await?;
        let result = match command {
            Command::Serve(s) => s.run(store.clone()).await,
            Command::Migrate => migrate::run(&store).await,
            Command::User(u) => u.run(&store).await,
            Command::Token(t) => t.run(&store).await,
            Command::Import(i) => i.run(&store).await,
            Command::Metrics(m) => m.run(&store).await,
            Command::Forecast(f) => f.run(&store).await,
            Command::Plan(p) => p.run(&store).await,
            Command::Score(s) => s.run(&store).await,
            Command::Model(m) => m.run(&store).await,
            Command::Audit(a) => a.run(&store).await,
            Command::Backup(b) => b.run(&store, &pool).await,
            Command::Restore(r) => r.run(&store, &pool).await,
            // Handled above, before any database was opened.
            Command::Copy(_) | Command::Bench(_) => Ok(()),
        };
        store.close().await;
        result
    }
}

/// Opens (and migrates) the store at `url`, naming it without its password on failure.
async fn open(url: &str, pool: &PoolSettings) -> anyhow::Result<Store> {
    Store::open(url, pool).await.with_context(|| format!("cannot open the database at {}", redact(url)))
}

/// Hides the password of a database URL in messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("sqlite:x.db"), "sqlite:x.db");
    }
}
