//! The metric inputs of a period answered in SQL from the projections
//! (`projections/`). Two ways, always the same answer:
//!
//! - whole UTC days of an unsliced (or pipeline-sliced) question come from
//!   the daily rollups (`metric_rollups.rs`), with only the partial days at
//!   either end read row by row;
//! - any other question (owner, source, campaign or channel slices, periods
//!   shorter than a day) scans the period's rows through one time-ordered
//!   index per query.
//!
//! The results equal `dealflow_core::metrics::{activity_inputs,
//! stage_inputs}` over the replayed facts (proved by
//! `tests/metric_projections.rs`); the engine's formulas turn them into
//! figures.
//!
//! Slice values (pipeline, owner and campaign ids, source, channel) reach
//! SQL as bound parameters ([`Filter`]), ids as integers; times are
//! formatted from `i64`, so no user text is ever part of the statement.

use crate::projections::{DAY, bucket_span, buckets};
use crate::{Store, StoreError};
use dealflow_core::ids::{PipelineId, StageId};
use dealflow_core::metrics::{
    ActivityInputs, ClosedKey, ClosedSums, OutreachCounts, Period, Slice, StageInputs, StayRanks,
};
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// `AND …` conditions of a slice, with its values bound as `$1`, `$2`, …:
/// a query that appends a filter has no other placeholders, and may append
/// it several times (both engines let `$n` repeat).
#[derive(Debug, Default)]
pub(crate) struct Filter {
    sql: String,
    args: Vec<Arg>,
}

/// A bound value of a [`Filter`]: ids bind as integers, to compare with
/// the BIGINT id columns as they are.
#[derive(Debug)]
enum Arg {
    Int(i64),
    Text(String),
}

/// The filter of a question without slice conditions.
pub(crate) static UNFILTERED: Filter = Filter { sql: String::new(), args: Vec::new() };

impl Filter {
    fn text_eq(&mut self, column: &str, v: &str) {
        self.push(column, Arg::Text(v.to_string()));
    }

    fn id_eq(&mut self, column: &str, id: i64) {
        self.push(column, Arg::Int(id));
    }

    fn push(&mut self, column: &str, v: Arg) {
        self.args.push(v);
        self.sql += &format!(" AND {column} = ${}", self.args.len());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sql.is_empty()
    }

    /// A query of `sql` (which contains this filter) with its values bound.
    fn query<'q>(&'q self, sql: &'q str) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in &self.args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sql)
    }
}

/// Refuses slice text the engines cannot compare (PostgreSQL cannot hold
/// a NUL in text at all), as 422 naming the parameter.
fn check_slice(s: &Slice) -> Result<(), StoreError> {
    if let Some(v) = &s.source {
        dealflow_core::validate::plain_chars("source", v, false)?;
    }
    Ok(())
}

/// `AND …` conditions for the deal dimensions of a slice. An owner slice
/// never matches an unassigned deal (NULL equals nothing), as in the engine.
pub(crate) fn deal_filter(s: &Slice) -> Filter {
    let mut f = pipeline_filter(s);
    if let Some(o) = s.owner {
        f.id_eq("owner_id", o.0);
    }
    if let Some(src) = &s.source {
        f.text_eq("source", src);
    }
    f
}

/// The `AND pipeline_id = …` condition of a pipeline slice (the one slice
/// the daily rollups keep), or nothing.
pub(crate) fn pipeline_filter(s: &Slice) -> Filter {
    let mut f = Filter::default();
    if let Some(p) = s.pipeline {
        f.id_eq("pipeline_id", p.0);
    }
    f
}

/// `AND …` conditions for the outreach dimensions of a slice.
fn outreach_filter(s: &Slice) -> Filter {
    let mut f = Filter::default();
    if let Some(c) = s.campaign {
        f.id_eq("campaign_id", c.0);
    }
    if let Some(ch) = s.channel {
        f.text_eq("channel", ch.as_str());
    }
    f
}

/// A count or sum as a non-null BIGINT on both engines (PostgreSQL sums
/// BIGINT into NUMERIC, which `Any` cannot decode).
pub(crate) fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

pub(crate) fn u(r: &AnyRow, i: usize) -> Result<u64, StoreError> {
    Ok(sqlx::Row::try_get::<i64, _>(r, i)?.max(0) as u64)
}

pub(crate) fn i(r: &AnyRow, i: usize) -> Result<i64, StoreError> {
    Ok(sqlx::Row::try_get::<i64, _>(r, i)?)
}

/// The additive activity inputs of a period, read row by row. Its
/// `outreach.prospects` counts people new to the period's own start.
pub(crate) struct RowPart {
    pub outreach: OutreachCounts,
    pub conversations_started: u64,
    pub meetings_booked: u64,
    pub proposals_sent: u64,
    pub closed: BTreeMap<ClosedKey, ClosedSums>,
    /// Deals created in the period.
    pub created: u64,
}

/// Deals open at some moment of P by current values: those created in P
/// (less those closed before P started) and those created before and still
/// open at its start.
pub(crate) fn pipeline_deals(created: u64, closed_before_created: u64, straddlers: u64) -> u64 {
    created - closed_before_created.min(created) + straddlers
}

/// Stays per stage id, as duration lists (ms, in no order).
pub(crate) type StayLists = BTreeMap<StageId, Vec<i64>>;

/// A period's whole UTC days `[d0, d1)` (day numbers) and the partial
/// days before and after them, when it covers at least one whole day.
pub(crate) struct DaySplit {
    pub days: (i64, i64),
    pub edges: Vec<Period>,
}

impl DaySplit {
    pub(crate) fn of(p: Period) -> Option<Self> {
        let d0 = p.from.div_euclid(DAY) + i64::from(p.from.rem_euclid(DAY) != 0);
        let d1 = p.to.div_euclid(DAY);
        (d0 < d1).then(|| DaySplit {
            days: (d0, d1),
            edges: [Period::new(p.from, d0 * DAY), Period::new(d1 * DAY, p.to)]
                .into_iter()
                .filter(|e| e.from < e.to)
                .collect(),
        })
    }
}

/// Whether the rollups can answer `slice`: they keep the pipeline of deal
/// facts, but no owner, source, campaign or channel.
fn rollups_answer(s: &Slice) -> bool {
    s.owner.is_none() && s.source.is_none() && s.campaign.is_none() && s.channel.is_none()
}

impl Store {
    /// The count `sql` (which holds the filter `f`, or [`UNFILTERED`]) returns.
    pub(crate) async fn count(&self, sql: String, f: &Filter) -> Result<u64, StoreError> {
        let r = f.query(&sql).fetch_one(self.pool()).await?;
        u(&r, 0)
    }

    /// The one row of an aggregate without GROUP BY.
    pub(crate) async fn one_row(&self, sql: String, f: &Filter) -> Result<AnyRow, StoreError> {
        Ok(f.query(&sql).fetch_one(self.pool()).await?)
    }

    pub(crate) async fn rows(&self, sql: String, f: &Filter) -> Result<Vec<AnyRow>, StoreError> {
        Ok(f.query(&sql).fetch_all(self.pool()).await?)
    }

    /// The activity inputs of `p` under `slice` (docs/metrics.md "Activity metrics").
    #[tracing::instrument(skip_all, fields(from = p.from, to = p.to))]
    pub async fn activity_inputs(&self, slice: &Slice, p: Period) -> Result<ActivityInputs, StoreError> {
        check_slice(slice)?;
        if rollups_answer(slice)
            && let Some(split) = DaySplit::of(p)
        {
            return self.activity_from_rollups(slice, p, &split).await;
        }
        let df = deal_filter(slice);
        let (rows, weird, straddlers, open_deals) = tokio::try_join!(
            self.activity_rows(slice, &df, p),
            self.closed_before_created(&df, p),
            self.straddlers(&df, p.from),
            self.open_deals(&df, p.to),
        )?;
        Ok(ActivityInputs {
            outreach: rows.outreach,
            conversations_started: rows.conversations_started,
            meetings_booked: rows.meetings_booked,
            proposals_sent: rows.proposals_sent,
            closed: rows.closed,
            pipeline_deals: pipeline_deals(rows.created, weird, straddlers),
            open_deals,
        })
    }

    /// The activity inputs of `p` that add up over sub-periods, row by row
    /// (the whole question, or a partial day of a rollup question).
    pub(crate) async fn activity_rows(&self, slice: &Slice, df: &Filter, p: Period) -> Result<RowPart, StoreError> {
        let (outreach, conversations_started, meetings_booked, proposals_sent, closed, created) = tokio::try_join!(
            self.outreach_rows(slice, p),
            self.reached_rows("conversation_at", df, p),
            self.reached_rows("meeting_at", df, p),
            self.reached_rows("proposal_at", df, p),
            self.closed_rows(df, p),
            self.count(
                format!(
                    "SELECT COUNT(*) FROM metric_deals WHERE created_at >= {} AND created_at < {}{df}",
                    p.from, p.to
                ),
                df
            ),
        )?;
        Ok(RowPart { outreach, conversations_started, meetings_booked, proposals_sent, closed, created })
    }

    /// Deals created in `p` but closed before `p` starts: only a deal closed
    /// before it was created (life class -2) can be.
    pub(crate) async fn closed_before_created(&self, df: &Filter, p: Period) -> Result<u64, StoreError> {
        self.count(
            format!(
                "SELECT COUNT(*) FROM metric_deals WHERE life_bucket = -2 AND created_at >= {} AND created_at < {}
             AND closed_at < {}{df}",
                p.from, p.to, p.from
            ),
            df,
        )
        .await
    }

    /// Outreach counts of the messages sent in `p`, row by row.
    pub(crate) async fn outreach_rows(&self, slice: &Slice, p: Period) -> Result<OutreachCounts, StoreError> {
        let of = outreach_filter(slice);
        // Unsliced, a person is new to the period at the first of their
        // messages in it: the one whose previous message came before
        // `from`. Under a campaign or channel slice "previous" would have
        // to be within the slice, so count distinct people instead.
        let prospects = if of.is_empty() {
            sum(&format!("CASE WHEN prev_sent_at IS NULL OR prev_sent_at < {} THEN 1 ELSE 0 END", p.from))
        } else {
            "COUNT(DISTINCT person_id)".to_string()
        };
        let sql = format!(
            "SELECT COUNT(*), {}, {}, {prospects} FROM metric_outreach WHERE sent_at >= {} AND sent_at < {}{of}",
            sum("replied"),
            sum("positive"),
            p.from,
            p.to
        );
        let r = self.one_row(sql, &of).await?;
        Ok(OutreachCounts { sent: u(&r, 0)?, replies: u(&r, 1)?, positive: u(&r, 2)?, prospects: u(&r, 3)? })
    }

    /// Deals whose first reach of a milestone (`column`) lies in `p`.
    pub(crate) async fn reached_rows(&self, column: &str, df: &Filter, p: Period) -> Result<u64, StoreError> {
        self.count(
            format!("SELECT COUNT(*) FROM metric_deals WHERE {column} >= {} AND {column} < {}{df}", p.from, p.to),
            df,
        )
        .await
    }

    /// Deals closed in `p`, by outcome, currency and contract length.
    pub(crate) async fn closed_rows(
        &self,
        df: &Filter,
        p: Period,
    ) -> Result<BTreeMap<ClosedKey, ClosedSums>, StoreError> {
        let sql = format!(
            "SELECT won, currency, contract_months, COUNT(*), {}, {} FROM metric_deals
             WHERE closed_at >= {} AND closed_at < {}{df} GROUP BY won, currency, contract_months",
            sum("value"),
            sum("closed_at - created_at"),
            p.from,
            p.to
        );
        let mut out = BTreeMap::new();
        for r in self.rows(sql, df).await? {
            let key = (i(&r, 0)? == 1, sqlx::Row::try_get::<String, _>(&r, 1)?, sqlx::Row::try_get(&r, 2)?);
            out.insert(key, ClosedSums { deals: u(&r, 3)?, value: i(&r, 4)?, cycle_ms: i(&r, 5)? });
        }
        Ok(out)
    }

    /// Deals created before `t` whose life `[created_at, closed_at]` (by
    /// current values; still open: unbounded) reaches `t`.
    pub(crate) async fn straddlers(&self, df: &Filter, t: i64) -> Result<u64, StoreError> {
        let mut parts =
            vec![format!("SELECT COUNT(*) AS n FROM metric_deals WHERE life_bucket = -1 AND created_at < {t}{df}")];
        for b in buckets() {
            let low = bucket_span(b).map_or_else(String::new, |s| format!(" AND created_at > {}", t - s));
            parts.push(format!(
                "SELECT COUNT(*) AS n FROM metric_deals WHERE life_bucket = {b}{low} AND created_at < {t}
                 AND closed_at >= {t}{df}"
            ));
        }
        self.count(format!("SELECT {} FROM ({}) c", sum("n"), parts.join(" UNION ALL ")), df).await
    }

    /// Deals open at the instant `t`, replayed from the events before it:
    /// the open spans with `opened_at < t <= closes_at`.
    pub(crate) async fn open_deals(&self, df: &Filter, t: i64) -> Result<u64, StoreError> {
        let mut parts =
            vec![format!("SELECT COUNT(*) AS n FROM metric_open_spans WHERE bucket = -1 AND opened_at < {t}{df}")];
        for b in buckets() {
            let low = bucket_span(b).map_or_else(String::new, |s| format!(" AND opened_at > {}", t - s));
            parts.push(format!(
                "SELECT COUNT(*) AS n FROM metric_open_spans WHERE bucket = {b}{low} AND opened_at < {t}
                 AND closes_at >= {t}{df}"
            ));
        }
        self.count(format!("SELECT {} FROM ({}) c", sum("n"), parts.join(" UNION ALL ")), df).await
    }

    /// The stage inputs of `p` under `slice` (docs/metrics.md "Stage metrics").
    #[tracing::instrument(skip_all, fields(from = p.from, to = p.to))]
    pub async fn stage_inputs(&self, slice: &Slice, p: Period) -> Result<StageInputs, StoreError> {
        check_slice(slice)?;
        if rollups_answer(slice)
            && let Some(split) = DaySplit::of(p)
        {
            return self.stages_from_rollups(slice, &split).await;
        }
        let df = deal_filter(slice);
        let (closed, created, stays) =
            tokio::try_join!(self.reach_closed_rows(&df, p), self.reach_created_rows(&df, p), self.stay_rows(&df, p))?;
        let stays = stays
            .into_iter()
            .map(|(stage, mut v)| {
                v.sort_unstable();
                (stage, StayRanks::from_sorted(&v))
            })
            .collect();
        Ok(StageInputs { closed, created, stays })
    }

    /// Deals closed in `p` by pipeline, reach count and outcome.
    pub(crate) async fn reach_closed_rows(
        &self,
        df: &Filter,
        p: Period,
    ) -> Result<BTreeMap<(PipelineId, i64, bool), u64>, StoreError> {
        let sql = format!(
            "SELECT pipeline_id, reach_count, won, COUNT(*) FROM metric_deals
             WHERE closed_at >= {} AND closed_at < {}{df} GROUP BY pipeline_id, reach_count, won",
            p.from, p.to
        );
        let mut out = BTreeMap::new();
        for r in &self.rows(sql, df).await? {
            out.insert((PipelineId(i(r, 0)?), i(r, 1)?, i(r, 2)? == 1), u(r, 3)?);
        }
        Ok(out)
    }

    /// Deals created in `p` by pipeline and reach count.
    pub(crate) async fn reach_created_rows(
        &self,
        df: &Filter,
        p: Period,
    ) -> Result<BTreeMap<(PipelineId, i64), u64>, StoreError> {
        let sql = format!(
            "SELECT pipeline_id, reach_count, COUNT(*) FROM metric_deals
             WHERE created_at >= {} AND created_at < {}{df} GROUP BY pipeline_id, reach_count",
            p.from, p.to
        );
        let mut out = BTreeMap::new();
        for r in &self.rows(sql, df).await? {
            out.insert((PipelineId(i(r, 0)?), i(r, 1)?), u(r, 2)?);
        }
        Ok(out)
    }

    /// Durations of the stays that ended in `p`, per stage.
    pub(crate) async fn stay_rows(&self, df: &Filter, p: Period) -> Result<StayLists, StoreError> {
        // The duration-class index does not cover the slice columns.
        let index = self.engine().index_hint("metric_stays_ended");
        let sql = format!(
            "SELECT stage_id, {} FROM metric_stays{index} WHERE ended_at >= {} AND ended_at < {}{df} GROUP BY stage_id",
            self.list_agg("duration"),
            p.from,
            p.to
        );
        let mut out = BTreeMap::new();
        for r in &self.rows(sql, df).await? {
            out.insert(StageId(i(r, 0)?), parse_list(&sqlx::Row::try_get::<String, _>(r, 1)?)?);
        }
        Ok(out)
    }

    /// An aggregate joining a BIGINT column's values into one text
    /// ([`crate::Engine::list_agg`]).
    pub(crate) fn list_agg(&self, column: &str) -> String {
        self.engine().list_agg(column)
    }
}

/// The values of a [`Store::list_agg`] text.
pub(crate) fn parse_list(text: &str) -> Result<Vec<i64>, StoreError> {
    text.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| x.parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Config(format!("a stay duration did not read back: {e}")))
}
