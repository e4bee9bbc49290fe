//! Copying a whole workspace, history included, from one store to another:
//! SQLite to PostgreSQL and back, or SQLite to SQLite.
//!
//! The source is read inside one read transaction, so the copy is one
//! consistent snapshot even while a server keeps writing to it; the target is
//! written inside one write transaction, so a copy that fails half-way leaves
//! the target exactly as it was. Rows are streamed in batches by keyset
//! pagination on `id`, so memory stays flat whatever the workspace size.
//! Afterwards every table is verified by row count and a SHA-256 over a
//! canonical text of its rows in `id` order.

use crate::{Engine, Store, StoreError, Tx};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{AnyConnection, Column, Row};
use std::collections::HashSet;

/// Every table of the workspace, parents before children (foreign-key
/// order). `schema_migrations` is not copied: the target migrates itself.
pub const TABLES: &[&str] = &[
    "settings",
    "users",
    "sessions",
    "api_tokens",
    "pipelines",
    "stages",
    "lost_reasons",
    "custom_fields",
    "organizations",
    "people",
    "deals",
    "stage_events",
    "field_history",
    "activities",
    "notes",
    "campaigns",
    "outreach_messages",
    "import_keys",
    "goals",
    "audit_log",
    "jobs",
    "playbook_steps",
    "deal_steps",
    "deal_step_ticks",
    "campaign_members",
    "webhook_subscriptions",
    "webhook_messages",
    "webhook_attempts",
    "forms",
    "form_submissions",
    "connections",
    "email_events",
    "ingest_tokens",
    "email_replies",
    "scoring_models",
    "scoring_model_versions",
    "score_entries",
    "deal_scores",
    "deal_answers",
    "score_firings",
    "pipeline_audits",
    "pipeline_audit_items",
];

/// Projection tables: derived from the tables above, so they are not
/// copied but rebuilt in the target inside the copy's transaction.
pub const DERIVED_TABLES: &[&str] = &[
    "metric_projection",
    "metric_deals",
    "metric_stays",
    "metric_open_spans",
    "metric_forecast_entries",
    "metric_outreach",
    "metric_rollup",
];

/// Tables whose rows mean someone has used the workspace, with how the
/// refusal names one row and several. A fresh workspace only holds the
/// defaults (settings, pipeline, stages, lost reasons, the playbook and
/// the campaign it points to), which a copy may replace without asking.
const USER_DATA: &[(&str, &str, &str)] = &[
    ("users", "user", "users"),
    ("organizations", "organization", "organizations"),
    ("people", "person", "people"),
    ("deals", "deal", "deals"),
    ("activities", "activity", "activities"),
    ("notes", "note", "notes"),
    ("campaigns", "campaign", "campaigns"),
    ("outreach_messages", "outreach message", "outreach messages"),
];

/// Rows read per batch.
const BATCH: usize = 1_000;

/// Most placeholders in one INSERT; SQLite allows 32,766 and PostgreSQL
/// 65,535, so this leaves room under both.
const MAX_PARAMS: usize = 30_000;

/// What a copy did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    pub table: String,
    /// Rows in the source snapshot.
    pub rows: u64,
    /// Hex SHA-256 of the source rows (see the module docs).
    pub checksum: String,
    /// Whether the target has the same row count and checksum after commit.
    pub matches: bool,
}

/// The result of [`copy_workspace`]: one entry per table, in copy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<TableReport>,
    /// Every table matches.
    pub ok: bool,
}

impl CopyReport {
    /// Total rows copied.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// Copies every row of `from` into `to`, replacing whatever `to` held, then
/// verifies both sides table by table.
///
/// Refuses (changing nothing) when the two schemas are at different
/// migration versions, when the source has a table this version does not
/// know, or when the target already holds user data and `overwrite` is false.
/// A verification mismatch is not an error: it comes back as `ok == false`.
pub async fn copy_workspace(from: &Store, to: &Store, overwrite: bool) -> Result<CopyReport, StoreError> {
    // Everything read through `src` below is one point in time.
    let mut src = from.snapshot().await?;
    let from_version = schema_version(&mut src).await?;
    let to_version = schema_version_of(to).await?;
    if from_version != to_version {
        return Err(StoreError::Config(format!(
            "the source schema is at version {from_version} and the target at version {to_version}; \
             copy with the dealflow release that created the newer one (it upgrades the other first)"
        )));
    }
    check_known_tables(from.engine(), &mut src).await?;

    let mut dst = to.write().await?;
    if !overwrite {
        refuse_if_in_use(&mut dst).await?;
    }
    // Children before parents, so no foreign key is ever left dangling. This
    // also removes the defaults a freshly created target made for itself.
    for table in TABLES.iter().rev() {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *dst).await?;
    }
    let rows_per_insert = to.engine().copy_rows_per_insert(BATCH);
    let mut copied = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let (rows, checksum) = stream_table(&mut src, table, Some((&mut dst, rows_per_insert))).await?;
        copied.push((*table, rows, checksum));
    }
    crate::projections::rebuild(&mut dst).await?;
    dst.commit().await?;
    // Nothing was written through the snapshot; ending it lets SQLite
    // checkpoint past it.
    src.rollback().await?;

    let mut check = to.pool().begin().await?;
    let mut tables = Vec::with_capacity(copied.len());
    for (table, rows, checksum) in copied {
        let (target_rows, target_checksum) = stream_table(&mut check, table, None).await?;
        let matches = target_rows == rows && target_checksum == checksum;
        if !matches {
            tracing::warn!(table, rows, target_rows, "copied table does not match its source");
        }
        tables.push(TableReport { table: table.to_string(), rows, checksum, matches });
    }
    check.rollback().await?;
    let ok = tables.iter().all(|t| t.matches);
    Ok(CopyReport { tables, ok })
}

/// The latest applied migration of the store behind `conn`.
async fn schema_version(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT CAST(MAX(version) AS BIGINT) FROM schema_migrations").fetch_one(&mut *conn).await?;
    Ok(v.unwrap_or(0))
}

async fn schema_version_of(store: &Store) -> Result<i64, StoreError> {
    let mut conn = store.pool().acquire().await?;
    schema_version(&mut conn).await
}

/// Refuses a source holding a table missing from [`TABLES`]: copying
/// without it would silently drop data.
async fn check_known_tables(engine: Engine, conn: &mut AnyConnection) -> Result<(), StoreError> {
    let known: HashSet<&str> = TABLES.iter().chain(DERIVED_TABLES).copied().chain(["schema_migrations"]).collect();
    let unknown: Vec<String> =
        list_tables(engine, conn).await?.into_iter().filter(|t| !known.contains(t.as_str())).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(StoreError::Config(format!(
        "the source has tables this version of dealflow cannot copy: {}",
        unknown.join(", ")
    )))
}

/// The base tables of the store's schema, as the engine's catalog lists them.
async fn list_tables(engine: Engine, conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(engine.list_tables()).fetch_all(&mut *conn).await?)
}

async fn refuse_if_in_use(dst: &mut Tx) -> Result<(), StoreError> {
    let found = user_data(dst).await?;
    if found.is_empty() {
        return Ok(());
    }
    Err(StoreError::InUse(format!(
        "the target workspace is not empty ({}); pass --overwrite to replace it",
        found.join(", ")
    )))
}

/// What user data `dst` holds, as "3 users", "1 deal", …; empty for a
/// fresh workspace. A restore refuses the same rows as a copy.
pub(crate) async fn user_data(dst: &mut Tx) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    for (table, one, many) in USER_DATA {
        // A new workspace's playbook comes with its "Nurture" campaign: a
        // campaign a step points to is configuration, like the stage.
        let only = match *table {
            "campaigns" => " WHERE id NOT IN (SELECT campaign_id FROM playbook_steps WHERE campaign_id IS NOT NULL)",
            _ => "",
        };
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}{only}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **dst).await?;
        if n > 0 {
            found.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    Ok(found)
}

/// One column value, typed the way `Any` hands it over.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Int(i64),
    Float(f64),
    Text(String),
    /// A NULL, bound with the type of its column: PostgreSQL checks the
    /// type of every parameter, even a NULL one.
    Null(NullKind),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NullKind {
    Int,
    Float,
    Text,
}

pub(crate) fn decode(row: &AnyRow, i: usize) -> Result<Val, StoreError> {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return Ok(v.map_or_else(|| Val::Null(null_kind(row, i)), Val::Int));
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return Ok(v.map_or(Val::Null(NullKind::Float), Val::Float));
    }
    match row.try_get::<Option<String>, _>(i) {
        Ok(v) => Ok(v.map_or(Val::Null(NullKind::Text), Val::Text)),
        Err(e) => {
            let name = row.columns().get(i).map(|c| c.name().to_string()).unwrap_or_default();
            Err(StoreError::Config(format!("column {name} holds a value copy cannot carry: {e}")))
        }
    }
}

/// Picks the NULL's type from its column's type. An unknown type binds as
/// an integer, which PostgreSQL still assigns to a TEXT column (integer to
/// text is an assignment cast) and SQLite never minds.
fn null_kind(row: &AnyRow, i: usize) -> NullKind {
    match row.columns().get(i).map(|c| c.type_info().kind()) {
        Some(AnyTypeInfoKind::Text) => NullKind::Text,
        Some(AnyTypeInfoKind::Real | AnyTypeInfoKind::Double) => NullKind::Float,
        _ => NullKind::Int,
    }
}

/// Appends one row's canonical text to the hash: columns sorted by name (the
/// engines may order them differently), each value tagged with its type and
/// strings length-prefixed, so no two different rows share a text.
fn hash_row(h: &mut Sha256, names: &[String], order: &[usize], vals: &[Val]) {
    for &i in order {
        h.update(names[i].as_bytes());
        h.update(b"=");
        match &vals[i] {
            Val::Int(v) => h.update(format!("i{v};")),
            Val::Float(v) => h.update(format!("f{:016x};", v.to_bits())),
            Val::Text(s) => {
                h.update(format!("s{}:", s.len()));
                h.update(s.as_bytes());
                h.update(b";");
            }
            Val::Null(_) => h.update(b"n;"),
        }
    }
    h.update(b"\n");
}

/// Column names of a batch and their indexes sorted by name.
fn columns(row: &AnyRow) -> (Vec<String>, Vec<usize>) {
    let names: Vec<String> = row.columns().iter().map(|c| c.name().to_string()).collect();
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| names[a].cmp(&names[b]));
    (names, order)
}

/// Reads the batch of `table` after `after` in `id` order.
async fn read_batch(conn: &mut AnyConnection, table: &str, after: i64) -> Result<Vec<AnyRow>, StoreError> {
    let sql = format!("SELECT * FROM {table} WHERE id > $1 ORDER BY id LIMIT {BATCH}");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after).fetch_all(&mut *conn).await?)
}

/// Where [`stream_table`] writes the rows it reads, if anywhere: the target
/// connection and the most rows per INSERT.
type Sink<'a> = Option<(&'a mut AnyConnection, usize)>;

/// Reads `table` batch by batch in `id` order, hashing every row and
/// inserting it into `sink` when there is one; returns the row count and the
/// hex checksum. Both the copy and the verification run through here, so they
/// cannot disagree on the canonical text.
async fn stream_table(src: &mut AnyConnection, table: &str, mut sink: Sink<'_>) -> Result<(u64, String), StoreError> {
    let mut hash = Sha256::new();
    let mut count = 0u64;
    let mut after = i64::MIN;
    loop {
        let batch = read_batch(src, table, after).await?;
        let Some(first) = batch.first() else { break };
        let (names, order) = columns(first);
        let mut rows = Vec::with_capacity(batch.len());
        for r in &batch {
            let vals = (0..names.len()).map(|i| decode(r, i)).collect::<Result<Vec<_>, _>>()?;
            hash_row(&mut hash, &names, &order, &vals);
            rows.push(vals);
        }
        after = batch_cursor(&batch)?;
        count += rows.len() as u64;
        if let Some((dst, rows_per_insert)) = sink.as_mut() {
            let per_stmt = (MAX_PARAMS / names.len().max(1)).clamp(1, (*rows_per_insert).max(1));
            for chunk in rows.chunks(per_stmt) {
                insert(dst, table, &names, chunk).await?;
            }
        }
        if batch.len() < BATCH {
            break;
        }
    }
    Ok((count, hex(&hash.finalize())))
}

/// The `id` of a batch's last row: where the next batch starts.
fn batch_cursor(batch: &[AnyRow]) -> Result<i64, StoreError> {
    match batch.last() {
        Some(r) => Ok(r.try_get::<i64, _>("id")?),
        None => Ok(i64::MIN),
    }
}

/// One multi-row INSERT with hand-numbered placeholders (`$1, $2, …`),
/// which both engines accept through `Any`.
async fn insert(dst: &mut AnyConnection, table: &str, names: &[String], rows: &[Vec<Val>]) -> Result<(), StoreError> {
    let cols: Vec<String> = names.iter().map(|n| format!("\"{}\"", n.replace('"', "\"\""))).collect();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    let mut n = 0;
    for (r, row) in rows.iter().enumerate() {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..row.len() {
            n += 1;
            sql.push_str(&if c == 0 { format!("${n}") } else { format!(", ${n}") });
        }
        sql.push(')');
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for v in rows.iter().flatten() {
        q = match v {
            Val::Int(i) => q.bind(*i),
            Val::Float(f) => q.bind(*f),
            Val::Text(s) => q.bind(s.clone()),
            Val::Null(NullKind::Int) => q.bind(None::<i64>),
            Val::Null(NullKind::Float) => q.bind(None::<f64>),
            Val::Null(NullKind::Text) => q.bind(None::<String>),
        };
    }
    // The engine's own words (which constraint, which value) name the
    // problem better than the API's generic mapping of database errors.
    q.execute(&mut *dst).await.map_err(|e| StoreError::Config(format!("cannot copy the rows of {table}: {e}")))?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
