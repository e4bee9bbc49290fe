//! Metric projections: narrow tables, indexed by time, that the metric
//! queries (`metric_queries.rs`) read instead of replaying every deal.
//!
//! - `metric_deals`: one row per live deal — current slice fields, outcome,
//!   close time, its reach count and first conversation, meeting and
//!   proposal reach times.
//! - `metric_stays`: every ended stay of a live deal in a stage.
//! - `metric_open_spans`: the spans during which a deal was open.
//! - `metric_forecast_entries`: when a won deal had last entered each stage
//!   before its win, and the stage an open deal sits in (the forecast at
//!   "now" reads these, `forecast_inputs.rs`).
//! - `metric_outreach`: live messages to live people, each with the send
//!   time of the same person's previous message (distinct people become a
//!   range count).
//! - `metric_rollup`: daily sums of the rows above, kept in step with them
//!   (subtracted before a deal's or person's rows are rewritten, added
//!   after), so whole days of a period cost one row per day and key.
//!
//! Rows are computed by `dealflow_core::metrics::project_deal`, the same
//! replay the engine uses, and rewritten in the transaction of every write
//! that changes their inputs (deal writes, deletes and restores, owner
//! reassignment, stage edits, outreach and person changes). A property
//! test (`tests/metric_projections.rs`) proves the answers equal a fresh
//! replay. A workspace created before the projections existed (or after a
//! change of their shape) is rebuilt once at start-up: see [`VERSION`].

mod delta;
mod placed;
mod rollups;
mod written;

pub(crate) use placed::{PendingRollups, add_placed};
pub(crate) use rollups::{DAY, kind};
pub(crate) use written::refresh_written;

use crate::row::*;
use crate::sql::{Arg, Sql};
use crate::{Store, StoreError};
use dealflow_core::ids::{DealId, PipelineId, StageId, UserId};
use dealflow_core::metrics::{DealEvent, DealFact, DealProjection, StageInfo, project_deal};
use dealflow_core::model::DealStatus;
use rollups::{drop_zero_sums, roll_deals, roll_outreach};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// The shape of the projection rows; a stored lower number means rebuild.
pub(crate) const VERSION: i64 = 4;

/// The projection tables that hold rows per deal (deleted and rewritten
/// whole when the deal changes).
pub(crate) const DEAL_TABLES: [&str; 4] =
    ["metric_deals", "metric_stays", "metric_open_spans", "metric_forecast_entries"];

/// Spans longer than this many hours all share the last length class.
const MAX_BUCKET: i64 = 20;
const HOUR: i64 = 3_600_000;

/// The length class of a span `[start, end]`: 0 below an hour, else
/// `b` with `2^(b−1) ≤ hours < 2^b`, capped at [`MAX_BUCKET`]. A query for
/// spans that contain a moment `t` then only scans, per class, the starts
/// in `(t − 2^b hours, t)`: about as many rows as it counts.
pub(crate) fn bucket(len: i64) -> i64 {
    if len < HOUR { 0 } else { (64 - i64::from((len / HOUR).leading_zeros())).min(MAX_BUCKET) }
}

/// The longest span of class `b` (exclusive), `None` for the last class.
pub(crate) fn bucket_span(b: i64) -> Option<i64> {
    (b < MAX_BUCKET).then(|| HOUR << b)
}

/// All length classes, for the queries that visit each one.
pub(crate) fn buckets() -> std::ops::RangeInclusive<i64> {
    0..=MAX_BUCKET
}

/// The class of a stay's duration: 0 below a minute, then four classes
/// per doubling of the minutes. Classes grow with the duration, so
/// counting stays per class locates the class that holds a given rank.
pub(crate) fn dur_bucket(ms: i64) -> i64 {
    let minutes = ms / 60_000;
    if minutes < 1 {
        return 0;
    }
    let e = 63 - i64::from(minutes.leading_zeros());
    // The two bits after the leading one (shifted in from the right below 4).
    let frac = if e >= 2 { (minutes >> (e - 2)) & 3 } else { (minutes << (2 - e)) & 3 };
    1 + 4 * e + frac
}

/// A SQL literal for an optional integer (`NULL` when absent).
#[cfg(any(test, feature = "generate"))]
pub(crate) fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| "NULL".to_string(), |x| x.to_string())
}

/// The slice columns every projection row of a deal repeats.
pub(crate) struct DealKey<'a> {
    pub id: i64,
    pub pipeline: i64,
    pub owner: Option<i64>,
    pub source: &'a str,
}

/// Buffers projection rows for multi-row INSERT statements. Every value
/// is bound (`$n`), never pasted into the SQL: `source` is user text.
#[derive(Default)]
pub(crate) struct Rows {
    deals: Vec<Vec<Arg>>,
    stays: Vec<Vec<Arg>>,
    spans: Vec<Vec<Arg>>,
    entries: Vec<Vec<Arg>>,
}

/// Rows per INSERT: 500 rows of at most 15 values stay far below the
/// bound-parameter limits (32,766 on SQLite, 65,535 on PostgreSQL).
const ROWS_PER_INSERT: usize = 500;

impl Rows {
    /// Adds the rows of one live deal.
    pub(crate) fn push(&mut self, k: &DealKey<'_>, d: &DealFact, p: &DealProjection) {
        let won = i64::from(d.status == DealStatus::Won);
        let closed = d.closed_at.filter(|_| d.status != DealStatus::Open);
        let life = closed.map_or(-1, |c| if c < d.created_at { -2 } else { bucket(c - d.created_at) });
        let source = || Arg::from(k.source);
        self.deals.push(vec![
            k.id.into(),
            k.pipeline.into(),
            k.owner.into(),
            source(),
            d.currency.as_str().into(),
            d.value.into(),
            d.contract_months.into(),
            won.into(),
            d.created_at.into(),
            closed.into(),
            life.into(),
            p.reach_count.into(),
            p.milestone_at[0].into(),
            p.milestone_at[1].into(),
            p.milestone_at[2].into(),
        ]);
        for (stage, start, end) in &p.stays {
            let len = end - start;
            let stage = Some(stage.0);
            self.stays.push(vec![
                k.id.into(),
                stage.into(),
                k.pipeline.into(),
                k.owner.into(),
                source(),
                (*end).into(),
                len.into(),
                dur_bucket(len).into(),
            ]);
        }
        for (opened, closes) in &p.open_spans {
            let b = closes.map_or(-1, |c| bucket(c - opened));
            self.spans.push(vec![
                k.id.into(),
                k.pipeline.into(),
                k.owner.into(),
                source(),
                (*opened).into(),
                (*closes).into(),
                b.into(),
            ]);
        }
        for (stage, entered, won) in &p.forecast_entries {
            let stage = Some(stage.0);
            self.entries.push(vec![k.id.into(), k.pipeline.into(), stage.into(), (*entered).into(), (*won).into()]);
        }
    }

    #[cfg(any(test, feature = "generate"))]
    pub(crate) fn len(&self) -> usize {
        self.deals.len() + self.stays.len() + self.spans.len() + self.entries.len()
    }

    /// The buffered rows per table, with the table's name and INSERT head,
    /// in [`DEAL_TABLES`] order.
    fn tables(&mut self) -> [(&'static str, &mut Vec<Vec<Arg>>, &'static str); 4] {
        [
            (
                "metric_deals",
                &mut self.deals,
                "INSERT INTO metric_deals (deal_id, pipeline_id, owner_id, source, currency, value, contract_months, won,
                  created_at, closed_at, life_bucket, reach_count, conversation_at, meeting_at, proposal_at) VALUES ",
            ),
            (
                "metric_stays",
                &mut self.stays,
                "INSERT INTO metric_stays (deal_id, stage_id, pipeline_id, owner_id, source, ended_at, duration, dur_bucket)
                 VALUES ",
            ),
            (
                "metric_open_spans",
                &mut self.spans,
                "INSERT INTO metric_open_spans (deal_id, pipeline_id, owner_id, source, opened_at, closes_at, bucket) VALUES ",
            ),
            (
                "metric_forecast_entries",
                &mut self.entries,
                "INSERT INTO metric_forecast_entries (deal_id, pipeline_id, stage_id, entered_at, won_at) VALUES ",
            ),
        ]
    }

    /// The INSERT statements for the buffered rows (and empties the buffer).
    pub(crate) fn take_sql(&mut self) -> Vec<Sql> {
        self.take_sql_with(Sql::new)
    }

    /// [`Rows::take_sql`], each statement started by `make` (an import
    /// batch asks for the engine's cheapest placeholders).
    pub(crate) fn take_sql_with(&mut self, make: impl Fn(&str) -> Sql) -> Vec<Sql> {
        self.take_sql_of(&DEAL_TABLES, make)
    }

    /// The tables whose buffered rows differ between `self` and `other`.
    pub(crate) fn changed_tables(&mut self, other: &mut Rows) -> Vec<&'static str> {
        self.tables().into_iter().zip(other.tables()).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0).collect()
    }

    /// The INSERT statements for the buffered rows of `only`, each started
    /// by `make` (and empties the whole buffer).
    pub(crate) fn take_sql_of(&mut self, only: &[&str], make: impl Fn(&str) -> Sql) -> Vec<Sql> {
        let mut out = Vec::new();
        for (table, rows, head) in self.tables() {
            if only.contains(&table) {
                for chunk in rows.chunks_mut(ROWS_PER_INSERT) {
                    let mut sql = make(head);
                    for (r, row) in chunk.iter_mut().enumerate() {
                        sql.push(if r == 0 { "(" } else { ", (" });
                        for (c, v) in row.drain(..).enumerate() {
                            if c > 0 {
                                sql.push(", ");
                            }
                            sql.bind(v);
                        }
                        sql.push(")");
                    }
                    out.push(sql);
                }
            }
            rows.clear();
        }
        out
    }
}

/// Runs one statement built with its values bound.
pub(crate) async fn run(conn: &mut AnyConnection, sql: &Sql) -> Result<(), StoreError> {
    sql.query().execute(conn).await?;
    Ok(())
}

pub(super) async fn exec(conn: &mut AnyConnection, sql: String) -> Result<(), StoreError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// Rewrites the projection rows of these deals from their rows and stage
/// events (deleted deals lose theirs). Runs inside the caller's write.
pub(crate) async fn refresh_deals(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(2_000) {
        let list = crate::row::id_list(chunk.iter().copied());
        let filter = format!("deal_id IN ({list})");
        roll_deals(conn, &filter, -1).await?;
        write_deal_rows(conn, &list).await?;
        roll_deals(conn, &filter, 1).await?;
    }
    drop_zero_sums(conn).await
}

/// Deletes and rewrites the rows (not the rollups) of the deals in `list`.
async fn write_deal_rows(conn: &mut AnyConnection, list: &str) -> Result<(), StoreError> {
    for table in DEAL_TABLES {
        exec(conn, format!("DELETE FROM {table} WHERE deal_id IN ({list})")).await?;
    }
    let mut rows = Rows::default();
    project_live(conn, list, &mut rows).await?;
    for sql in rows.take_sql() {
        run(conn, &sql).await?;
    }
    Ok(())
}

/// Projects the live deals among `list` (comma-separated ids) into `rows`.
async fn project_live(conn: &mut AnyConnection, list: &str, rows: &mut Rows) -> Result<(), StoreError> {
    let q = format!(
        "SELECT deal_id, kind, stage_id, at FROM stage_events WHERE deal_id IN ({list}) ORDER BY deal_id, at, id"
    );
    let mut events: HashMap<i64, Vec<DealEvent>> = HashMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(q)).fetch_all(&mut *conn).await? {
        events.entry(i64_(&r, "deal_id")?).or_default().push(crate::facts::deal_event(&r)?);
    }
    let q = format!(
        "SELECT id, pipeline_id, value, currency, contract_months, owner_id, source, created_at, status, closed_at
         FROM deals WHERE id IN ({list}) AND deleted_at IS NULL"
    );
    let deal_rows = sqlx::query(sqlx::AssertSqlSafe(q)).fetch_all(&mut *conn).await?;
    let mut stages: HashMap<i64, Vec<StageInfo>> = HashMap::new();
    for r in &deal_rows {
        let id = i64_(r, "id")?;
        let pipeline = i64_(r, "pipeline_id")?;
        if let std::collections::hash_map::Entry::Vacant(e) = stages.entry(pipeline) {
            e.insert(stages_of(conn, pipeline).await?);
        }
        let owner = opt_i64(r, "owner_id")?;
        let source = opt_text(r, "source")?.unwrap_or_default();
        let deal = DealFact {
            id: DealId(id),
            pipeline: PipelineId(pipeline),
            value: i64_(r, "value")?,
            currency: text(r, "currency")?,
            contract_months: opt_i64(r, "contract_months")?,
            probability: None,
            expected_close_at: None,
            owner: owner.map(UserId),
            source: source.clone(),
            created_at: i64_(r, "created_at")?,
            status: enum_(r, "status", DealStatus::parse)?,
            closed_at: opt_i64(r, "closed_at")?,
            events: events.remove(&id).unwrap_or_default(),
        };
        // Inserted just above when missing, so the lookup cannot fail.
        let p = project_deal(&deal, stages.get(&pipeline).map(Vec::as_slice).unwrap_or(&[]));
        rows.push(&DealKey { id, pipeline, owner, source: &source }, &deal, &p);
    }
    Ok(())
}

/// A pipeline's stages (archived ones too: old events point at them) in
/// the order the engine sorts them.
async fn stages_of(conn: &mut AnyConnection, pipeline: i64) -> Result<Vec<StageInfo>, StoreError> {
    let rows = sqlx::query("SELECT id, position, milestone FROM stages WHERE pipeline_id = $1 ORDER BY position, id")
        .bind(pipeline)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(StageInfo {
                id: StageId(i64_(r, "id")?),
                order: i64_(r, "position")?,
                milestone: opt_enum(r, "milestone", dealflow_core::model::Milestone::parse)?,
                probability: None,
            })
        })
        .collect()
}

/// Rewrites the projections of every deal in a pipeline: its stage order
/// or milestones changed, so reach counts and reach times may have.
pub(crate) async fn refresh_pipeline(conn: &mut AnyConnection, pipeline: i64) -> Result<(), StoreError> {
    // Take the deals' row locks first, so a concurrent deal write waits
    // instead of interleaving its own refresh (PostgreSQL).
    sqlx::query("UPDATE deals SET version = version WHERE pipeline_id = $1").bind(pipeline).execute(&mut *conn).await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM deals WHERE pipeline_id = $1 ORDER BY id")
        .bind(pipeline)
        .fetch_all(&mut *conn)
        .await?;
    refresh_deals(conn, &ids).await
}

/// The SELECT that projects outreach rows: live messages to live people,
/// each with the send time of the same person's previous live message.
fn outreach_select(filter: &str) -> String {
    format!(
        "INSERT INTO metric_outreach (message_id, person_id, campaign_id, channel, sent_at, prev_sent_at, replied, positive)
         SELECT o.id, o.person_id, o.campaign_id, o.channel, o.sent_at,
           LAG(o.sent_at) OVER (PARTITION BY o.person_id ORDER BY o.sent_at, o.id),
           CASE WHEN o.replied_at IS NULL THEN 0 ELSE 1 END,
           CASE WHEN o.replied_at IS NOT NULL AND o.sentiment = 'positive' THEN 1 ELSE 0 END
         FROM outreach_messages o JOIN people p ON p.id = o.person_id
         WHERE o.deleted_at IS NULL AND p.deleted_at IS NULL {filter}"
    )
}

/// Rewrites the outreach projection of one person (a message of theirs, or
/// the person, was written, deleted or restored).
pub(crate) async fn refresh_person(conn: &mut AnyConnection, person: i64) -> Result<(), StoreError> {
    // The person's row lock serializes concurrent refreshes (PostgreSQL).
    sqlx::query("UPDATE people SET version = version WHERE id = $1").bind(person).execute(&mut *conn).await?;
    let filter = format!("person_id = {person}");
    roll_outreach(conn, &filter, -1).await?;
    sqlx::query("DELETE FROM metric_outreach WHERE person_id = $1").bind(person).execute(&mut *conn).await?;
    exec(conn, outreach_select(&format!("AND o.person_id = {person}"))).await?;
    roll_outreach(conn, &filter, 1).await?;
    drop_zero_sums(conn).await
}

/// Rebuilds every projection from the source tables, in one transaction.
pub(crate) async fn rebuild(conn: &mut AnyConnection) -> Result<(), StoreError> {
    for table in DEAL_TABLES.iter().chain(&["metric_outreach", "metric_rollup"]) {
        exec(conn, format!("DELETE FROM {table}")).await?;
    }
    let mut last = i64::MIN;
    loop {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM deals WHERE id > $1 ORDER BY id LIMIT 2000")
            .bind(last)
            .fetch_all(&mut *conn)
            .await?;
        let Some(&end) = ids.last() else { break };
        write_deal_rows(conn, &crate::row::id_list(ids.iter().copied())).await?;
        last = end;
    }
    finish_rebuild(conn).await
}

/// After every deal's rows are written: the outreach rows, then every
/// rollup from the rows, then the version mark. The generator calls this
/// after writing the deal rows itself.
pub(crate) async fn finish_rebuild(conn: &mut AnyConnection) -> Result<(), StoreError> {
    exec(conn, "DELETE FROM metric_outreach".to_string()).await?;
    exec(conn, outreach_select("")).await?;
    exec(conn, "DELETE FROM metric_rollup".to_string()).await?;
    roll_deals(conn, "1 = 1", 1).await?;
    roll_outreach(conn, "1 = 1", 1).await?;
    mark_built(conn).await
}

/// Records that the projections have the current shape.
pub(crate) async fn mark_built(conn: &mut AnyConnection) -> Result<(), StoreError> {
    exec(conn, "DELETE FROM metric_projection".to_string()).await?;
    exec(conn, format!("INSERT INTO metric_projection (version) VALUES ({VERSION})")).await
}

impl Store {
    /// Rebuilds the metric projections when they are missing or of an older
    /// shape (a workspace from before they existed). Called at start-up.
    pub(crate) async fn ensure_projections(&self) -> Result<(), StoreError> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT version FROM metric_projection").fetch_optional(self.pool()).await?;
        if v == Some(VERSION) {
            return Ok(());
        }
        let mut tx = self.write().await?;
        rebuild(&mut tx).await?;
        tx.commit().await?;
        tracing::info!("rebuilt the metric projections");
        Ok(())
    }

    /// Rebuilds the metric projections from scratch (`dealflow` never needs
    /// this in normal use; tests and repairs do).
    pub async fn rebuild_projections(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        rebuild(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_their_spans() {
        for len in [-5, 0, HOUR - 1, HOUR, 2 * HOUR - 1, 2 * HOUR, 1000 * HOUR, 400 * 24 * 365 * HOUR] {
            let b = bucket(len);
            assert!((0..=MAX_BUCKET).contains(&b), "{len}");
            if let Some(span) = bucket_span(b) {
                assert!(len < span, "{len} in bucket {b}");
            }
            if b > 0 {
                assert!(len >= HOUR << (b - 1), "{len} in bucket {b}");
            }
        }
        assert_eq!(bucket(HOUR), 1);
        assert_eq!(bucket(3 * HOUR), 2);
    }

    #[test]
    fn duration_classes_grow_with_the_duration() {
        let mut last = -1;
        for minutes in (0..5_000).chain([1 << 20, (1 << 20) + 1, 1 << 40]) {
            let b = dur_bucket(minutes * 60_000);
            assert!(b >= last, "{minutes} min: class {b} after {last}");
            last = b;
        }
        assert_eq!(dur_bucket(-5), 0);
        assert_ne!(dur_bucket(4 * 60_000), dur_bucket(5 * 60_000), "four classes per doubling");
    }
}
