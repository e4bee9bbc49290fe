//! Storage for dealflow. [`Store`] is the one interface everything above it
//! uses; it runs the same portable SQL on SQLite (the default, embedded) and
//! PostgreSQL through sqlx's `Any` driver, chosen by the URL scheme. Each
//! operation that changes several rows runs in one transaction, and the
//! domain rules it applies come from `dealflow-core`.

mod activities;
mod board;
mod campaigns;
mod copy;
mod custom_fields;
mod deal_timeline;
mod deals;
mod error;
mod facts;
pub mod generate;
mod goals;
mod import;
mod lists;
mod lost_reasons;
mod metric_queries;
mod metric_rollups;
mod migrate;
mod parties;
mod pipelines;
mod projections;
mod row;
mod settings;
mod sql;
pub mod testing;
mod users;

pub use activities::{ActivityFilter, NoteFilter};
pub use board::{BoardFilter, Card, StageTotals};
pub use campaigns::{CampaignFilter, OutreachFilter};
pub use copy::{CopyReport, DERIVED_TABLES, TableReport, copy_workspace};
pub use deal_timeline::{DealTimelineItem, DealTimelineKind};
pub use deals::DealFilter;
pub use error::StoreError;
pub use facts::{FieldHistory, local_midnight, minor_rates};
pub use goals::{GOAL_METRICS, Goal, GoalFilter, GoalPatch, NewGoal, goal_metric};
pub use import::{ImportOptions, ImportReport};
pub use lists::{DealRow, ListQuery, OrganizationRow, PersonRow, Slice, SortKey, TimelineItem};
pub use parties::{OrganizationFilter, PersonFilter};
pub use sql::{ListPage, Page};
pub use users::{AuthUser, NewSession, UserChange};

use dealflow_core::UserId;
use dealflow_core::time::Timestamp;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Transaction};
use std::time::Duration;

/// Which SQL engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Who performs a write, for history and ownership defaults.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: Option<UserId>,
    /// The moment the operation counts as happening.
    pub now: Timestamp,
}

impl Actor {
    pub fn user(user_id: UserId) -> Self {
        Self { user_id: Some(user_id), now: Timestamp::now() }
    }

    pub fn system() -> Self {
        Self { user_id: None, now: Timestamp::now() }
    }
}

/// Connection-pool settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(5) }
    }
}

/// The storage handle: cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
}

pub type Tx = Transaction<'static, Any>;

impl Store {
    /// Connects to `url` (`sqlite:PATH` or `postgres://…`), creating a SQLite
    /// file and its folder when missing, and applies pending migrations.
    pub async fn open(url: &str, pool: &PoolSettings) -> Result<Self, StoreError> {
        let (engine, url) = normalize_url(url)?;
        install_default_drivers();
        let mut opts =
            AnyPoolOptions::new().max_connections(pool.max_connections).acquire_timeout(pool.acquire_timeout);
        if engine == Engine::Sqlite {
            // Foreign keys are per connection in SQLite; sqlx turns them on by
            // default, and the busy timeout lets writers queue instead of
            // failing at once.
            opts = opts.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                    )
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            });
        }
        if engine == Engine::Postgres {
            // One direct connection first: the pool would only report that
            // it timed out, hiding "connection refused" or a bad password.
            let conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.map_err(StoreError::connect)?;
            let _ = sqlx::Connection::close(conn).await;
        }
        let pool = opts.connect(&url).await.map_err(StoreError::connect)?;
        if engine == Engine::Sqlite {
            // WAL is a property of the file, so setting it once is enough.
            sqlx::raw_sql("PRAGMA journal_mode = WAL;").execute(&pool).await.map_err(StoreError::connect)?;
        }
        let store = Self { pool, engine };
        migrate::run(&store).await?;
        store.ensure_defaults().await?;
        store.ensure_projections().await?;
        Ok(store)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that later writes fails
    /// with SQLITE_BUSY when another writer got there first.
    pub(crate) async fn write(&self) -> Result<Tx, StoreError> {
        let tx = match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        };
        tx.map_err(StoreError::from)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Creates the settings row, the default pipeline and lost reasons when
    /// the workspace is new. Idempotent.
    async fn ensure_defaults(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let have: Option<i64> =
            sqlx::query_scalar("SELECT id FROM settings WHERE id = 1").fetch_optional(&mut *tx).await?;
        if have.is_none() {
            settings::insert_default(&mut tx).await?;
            pipelines::insert_default(&mut tx).await?;
            lost_reasons::insert_default(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Picks the engine from the URL scheme; a bare path means a SQLite file.
fn normalize_url(url: &str) -> Result<(Engine, String), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Engine::Postgres, url.to_string()));
    }
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if url.contains("://") {
        let scheme = url.split("://").next().unwrap_or("");
        return Err(StoreError::Config(format!(
            "unsupported database URL scheme `{scheme}`; use sqlite:PATH or postgres://USER@HOST/DB"
        )));
    } else {
        url
    };
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    if path != ":memory:"
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Config(format!("cannot create the data folder {}: {e}", dir.display())))?;
    }
    let mut q = if query.is_empty() { String::new() } else { format!("{query}&") };
    if !q.contains("mode=") {
        q.push_str("mode=rwc");
    }
    Ok((Engine::Sqlite, format!("sqlite://{path}?{}", q.trim_end_matches('&'))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(normalize_url("postgres://x/y").unwrap().0, Engine::Postgres);
        assert!(normalize_url("mysql://x").unwrap_err().to_string().contains("unsupported"));
        let (e, u) = normalize_url("sqlite::memory:").unwrap();
        assert_eq!(e, Engine::Sqlite);
        assert_eq!(u, "sqlite://:memory:?mode=rwc");
    }
}
