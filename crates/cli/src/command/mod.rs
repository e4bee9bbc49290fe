//! Command-line interface: global options and the subcommands.

mod migrate;
mod serve;
mod token;
mod user;

use anyhow::Context;
use clap::{Parser, Subcommand};
use dealflow_store::{PoolSettings, Store};

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
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let store = self.open().await?;
        let result = match self.command {
            Command::Serve(s) => s.run(store.clone()).await,
            Command::Migrate => migrate::run(&store).await,
            Command::User(u) => u.run(&store).await,
            Command::Token(t) => t.run(&store).await,
        };
        store.close().await;
        result
    }

    async fn open(&self) -> anyhow::Result<Store> {
        let pool = PoolSettings { max_connections: self.db_max_connections, ..Default::default() };
        Store::open(&self.database, &pool)
            .await
            .with_context(|| format!("cannot open the database at {}", redact(&self.database)))
    }
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
