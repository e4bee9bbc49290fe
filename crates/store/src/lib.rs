//! Storage for dealflow. [`Store`] is the one interface everything above it
//! uses; it runs the same portable SQL on SQLite (the default, embedded) and
//! PostgreSQL through sqlx's `Any` driver, chosen by the URL scheme. Each
//! operation that changes several rows runs in one transaction, and the
//! domain rules it applies come from `dealflow-core`.

mod activities;
pub mod audit;
mod backup;
mod board;
mod campaigns;
mod compliance;
mod connect;
mod consistency;
mod contact;
mod copy;
mod custom_fields;
mod deal_timeline;
mod deals;
mod dialect;
mod error;
mod facts;
mod forecast_inputs;
mod forms;
#[cfg(any(test, feature = "generate"))]
pub mod generate;
mod goals;
mod import;
mod jobs;
mod lists;
mod lost_reasons;
mod metric_queries;
mod metric_rollups;
mod migrate;
mod names;
mod parties;
mod party_deal_events;
mod pipeline_audits;
mod pipelines;
mod playbooks;
mod projections;
mod records;
mod row;
pub mod scoring;
mod settings;
mod sql;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod token_cache;
mod tx;
mod users;
mod webhooks;

pub use activities::{ActivityFilter, NoteFilter};
pub use audit::{AuditEntry, AuditFilter, Credential, Origin};
pub use backup::{backup_to_file, restore_from_file};
pub use board::{BoardFilter, Card, StageTotals};
pub use campaigns::{CampaignFilter, MemberFilter, OutreachFilter};
pub use connect::{
    Connection, ConnectionKeys, ConnectionPatch, ConnectionWithSecrets, EmailEntry, EmailEvent, EmailEventFilter,
    EmailEventType, InboundMail, IncomingEvent, IngestError, IngestReport, MATERIAL_MAX, MATERIAL_PATTERN,
    NewConnection, P256_SPKI_PREFIX, Provider, Reply, ReplyFilter, ReplyPatch, p256_point, reply_preview,
};
pub use consistency::ConsistencyReport;
pub use copy::{CopyReport, DERIVED_TABLES, TABLES, TableReport, copy_workspace};
pub use deal_timeline::{DealTimelineItem, DealTimelineKind};
pub use deals::{DealFilter, LogCursor};
pub use dialect::{Durability, Engine};
pub use error::StoreError;
pub use facts::{FieldHistory, minor_rates};
pub use forms::{
    FORM_FIELDS, FREE_MAIL_DOMAINS, Form, FormPatch, FormSubmission, FormWithSecret, NewForm, OwnerMode, Paid,
    REDIRECT_PATTERN, Submitted, SubmittedOutcome,
};
pub use goals::{Goal, GoalFilter, GoalPatch, NewGoal};
pub use import::{ImportOptions, ImportReport, ImportRows};
pub use jobs::{
    DEFAULT_MAX_ATTEMPTS, JOB_BACKOFF_BASE_MS, JOB_BACKOFF_CAP_MS, Job, JobFilter, JobStatus, NewJob, backoff_ms,
    enqueue_in,
};
pub use lists::{DealRow, ListQuery, OrganizationRow, PersonRow, Slice, SortKey, TimelineItem};
pub use parties::{OrganizationFilter, PersonFilter};
pub use party_deal_events::PartyDealEvent;
pub use pipeline_audits::{AUDIT_BRIEF_JOB, AuditItem, AuditProgress, ItemDecision, PipelineAudit, Review};
pub use playbooks::{EMAIL_JOB, EmailPlan, OVERDUE_SETTLE_MS, Outgoing};
pub use scoring::{NewScoringModel, ScoringModel, ScoringModelPatch};
pub use settings::SmtpConfig;
pub use sql::{ListPage, Page};
pub use users::{AuthUser, NewSession, UserChange};
pub use webhooks::{
    DELIVER_JOB, Delivery, FANOUT_JOB, MAX_WEBHOOKS, NewWebhook, PREVIOUS_SECRET_MS, WEBHOOK_EVENTS,
    WEBHOOK_MAX_ATTEMPTS, WEBHOOK_URL_MAX, WEBHOOK_URL_PATTERN, Webhook, WebhookAttempt, WebhookPatch,
    WebhookWithSecret,
};

use dealflow_core::UserId;
use dealflow_core::time::Timestamp;
use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use std::time::Duration;

/// Who performs a write, for history, ownership defaults and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: Option<UserId>,
    /// The moment the operation counts as happening.
    pub now: Timestamp,
    /// Where the change came from (credential and address), for the audit log.
    pub origin: Origin,
}

impl Actor {
    /// A user acting through the command line.
    pub fn user(user_id: UserId) -> Self {
        Self { user_id: Some(user_id), now: Timestamp::now(), origin: Origin::of(Credential::Cli) }
    }

    /// The server itself (defaults, the demo seeder).
    pub fn system() -> Self {
        Self { user_id: None, now: Timestamp::now(), origin: Origin::of(Credential::System) }
    }

    /// The command line, acting for no particular user.
    pub fn cli() -> Self {
        Self { user_id: None, now: Timestamp::now(), origin: Origin::of(Credential::Cli) }
    }

    /// The same actor, seen coming from `origin`.
    pub fn via(self, origin: Origin) -> Self {
        Self { origin, ..self }
    }
}

/// Connection-pool settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// SQLite only: the durability of a commit (see [`Durability`]).
    pub durability: Durability,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(5), durability: Durability::Normal }
    }
}

/// The storage handle: cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// SQLite's writers, served one at a time in arrival order (`tx.rs`).
    writers: Option<tx::WriterQueue>,
    /// Wakes this process's job runner when a job is scheduled here.
    job_wake: std::sync::Arc<tokio::sync::Notify>,
    /// API tokens recently resolved (`token_cache.rs`).
    tokens: std::sync::Arc<token_cache::TokenCache>,
}

pub use token_cache::TTL as TOKEN_CACHE_TTL;
pub use tx::Tx;

impl Store {
    /// Connects to `url` (`sqlite:PATH` or `postgres://…`), creating a SQLite
    /// file and its folder when missing, and applies pending migrations.
    pub async fn open(url: &str, pool: &PoolSettings) -> Result<Self, StoreError> {
        let (engine, url) = Engine::from_url(url)?;
        install_default_drivers();
        let options = |max: u32| {
            let mut opts = AnyPoolOptions::new().max_connections(max).acquire_timeout(pool.acquire_timeout);
            if let Some(sql) = engine.per_connection(pool.durability) {
                opts = opts.after_connect(move |conn, _| {
                    Box::pin(async move {
                        sqlx::raw_sql(sql).execute(conn).await?;
                        Ok(())
                    })
                });
            }
            opts
        };
        if engine.probe_before_pool() {
            let conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.map_err(StoreError::connect)?;
            let _ = sqlx::Connection::close(conn).await;
        }
        // Migrations run on a connection of their own, closed before the
        // pool opens: a pooled connection that had read the schema between
        // two migrations could prepare `SELECT *` against its stale copy, and
        // SQLite's silent re-prepare then returns more columns than sqlx
        // described (a panic in its worker, seen under load).
        let migrating = options(1).connect(&url).await.map_err(StoreError::connect)?;
        if let Some(sql) = engine.on_open() {
            sqlx::raw_sql(sql).execute(&migrating).await.map_err(StoreError::connect)?;
        }
        let once =
            Self { pool: migrating, engine, writers: None, job_wake: Default::default(), tokens: Default::default() };
        migrate::run(&once).await?;
        once.pool.close().await;
        let pool = options(pool.max_connections).connect(&url).await.map_err(StoreError::connect)?;
        let writers = engine.one_writer().then(tx::WriterQueue::default);
        let store = Self { pool, engine, writers, job_wake: Default::default(), tokens: Default::default() };
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

    /// Starts a write transaction, the way the engine needs
    /// ([`Engine::begin_write`]).
    pub(crate) async fn write(&self) -> Result<Tx, StoreError> {
        // The turn comes before the connection, so writers waiting in the
        // queue hold no pooled connection that readers could use.
        let turn = match &self.writers {
            Some(q) => Some(q.turn().await?),
            None => None,
        };
        let tx = match self.engine.begin_write() {
            Some(begin) => self.pool.begin_with(begin).await,
            None => self.pool.begin().await,
        };
        Ok(Tx::new(tx?, turn))
    }

    /// Starts a plain transaction for reads that share helpers with writes
    /// (they take `&mut Tx`); it takes no writer turn.
    pub(crate) async fn read(&self) -> Result<Tx, StoreError> {
        Ok(Tx::new(self.pool.begin().await?, None))
    }

    /// Starts a read transaction that sees one point in time
    /// ([`Engine::begin_snapshot`]).
    pub(crate) async fn snapshot(&self) -> Result<Tx, StoreError> {
        let tx = match self.engine.begin_snapshot() {
            Some(begin) => self.pool.begin_with(begin).await,
            None => self.pool.begin().await,
        };
        Ok(Tx::new(tx?, None))
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Creates the settings row, the default pipeline, lost reasons and
    /// playbook (with its "Nurture" campaign) when the workspace is new.
    /// Idempotent.
    async fn ensure_defaults(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let have: Option<i64> =
            sqlx::query_scalar("SELECT id FROM settings WHERE id = 1").fetch_optional(&mut *tx).await?;
        if have.is_none() {
            settings::insert_default(&mut tx).await?;
            pipelines::insert_default(&mut tx).await?;
            lost_reasons::insert_default(&mut tx).await?;
            playbooks::defaults::insert_default(&mut tx, dealflow_core::time::Timestamp::now().0).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
