//! The metric inputs of a period answered in SQL from the projections
//! (`projections.rs`): every query is a range scan of one time-ordered
//! index, so its cost follows the rows of the period, not the workspace.
//! The results equal `dealflow_core::metrics::{activity_inputs,
//! stage_inputs}` over the replayed facts (proved by
//! `tests/metric_projections.rs`); the engine's formulas turn them into
//! figures.

use crate::projections::{bucket_span, buckets, quote};
use crate::{Engine, Store, StoreError};
use dealflow_core::metrics::{ActivityInputs, ClosedSums, OutreachCounts, Period, Slice, StageInputs};
use sqlx::any::AnyRow;

/// `AND …` conditions for the deal dimensions of a slice. Ids that do not
/// parse match nothing (as a slice on an unknown id does in the engine).
fn deal_filter(s: &Slice) -> String {
    let mut f = String::new();
    if let Some(p) = &s.pipeline {
        f += &id_eq("pipeline_id", p);
    }
    if let Some(o) = &s.owner {
        f += &id_eq("owner_id", o);
    }
    if let Some(src) = &s.source {
        f += &format!(" AND source = {}", quote(src));
    }
    f
}

/// `AND …` conditions for the outreach dimensions of a slice.
fn outreach_filter(s: &Slice) -> String {
    let mut f = String::new();
    if let Some(c) = &s.campaign {
        f += &id_eq("campaign_id", c);
    }
    if let Some(ch) = &s.channel {
        f += &format!(" AND channel = {}", quote(ch));
    }
    f
}

/// An optional id column equal to `v` (the engine's text form: "" = none).
fn id_eq(column: &str, v: &str) -> String {
    if v.is_empty() {
        return format!(" AND {column} IS NULL");
    }
    match v.parse::<i64>() {
        Ok(id) => format!(" AND {column} = {id}"),
        Err(_) => " AND 1 = 0".to_string(),
    }
}

/// A count or sum as a non-null BIGINT on both engines (PostgreSQL sums
/// BIGINT into NUMERIC, which `Any` cannot decode).
fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

fn u(r: &AnyRow, i: usize) -> Result<u64, StoreError> {
    Ok(sqlx::Row::try_get::<i64, _>(r, i)?.max(0) as u64)
}

fn i(r: &AnyRow, i: usize) -> Result<i64, StoreError> {
    Ok(sqlx::Row::try_get::<i64, _>(r, i)?)
}

impl Store {
    async fn count(&self, sql: String) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(self.pool()).await?;
        Ok(n.max(0) as u64)
    }

    async fn rows(&self, sql: String) -> Result<Vec<AnyRow>, StoreError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?)
    }

    /// The activity inputs of `p` under `slice` (METRICS.md "Activity metrics").
    pub async fn activity_inputs(&self, slice: &Slice, p: Period) -> Result<ActivityInputs, StoreError> {
        let (from, to) = (p.from, p.to);
        // Outreach carries no deal dimension, nor deals an outreach one.
        let df = deal_filter(slice);
        let (outreach, meetings_booked, proposals_sent, closed, pipeline_deals, open_deals) = tokio::try_join!(
            self.outreach_counts(slice, p),
            self.count(format!(
                "SELECT COUNT(*) FROM metric_deals WHERE meeting_at >= {from} AND meeting_at < {to}{df}"
            )),
            self.count(format!(
                "SELECT COUNT(*) FROM metric_deals WHERE proposal_at >= {from} AND proposal_at < {to}{df}"
            )),
            self.closed_sums(&df, p),
            self.pipeline_deals(&df, p),
            self.open_deals(&df, to),
        )?;
        Ok(ActivityInputs { outreach, meetings_booked, proposals_sent, closed, pipeline_deals, open_deals })
    }

    async fn outreach_counts(&self, slice: &Slice, p: Period) -> Result<OutreachCounts, StoreError> {
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
        let r = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(self.pool()).await?;
        Ok(OutreachCounts { sent: u(&r, 0)?, replies: u(&r, 1)?, positive: u(&r, 2)?, prospects: u(&r, 3)? })
    }

    async fn closed_sums(
        &self,
        df: &str,
        p: Period,
    ) -> Result<std::collections::BTreeMap<dealflow_core::metrics::ClosedKey, ClosedSums>, StoreError> {
        let sql = format!(
            "SELECT won, currency, contract_months, COUNT(*), {}, {} FROM metric_deals
             WHERE closed_at >= {} AND closed_at < {}{df} GROUP BY won, currency, contract_months",
            sum("value"),
            sum("closed_at - created_at"),
            p.from,
            p.to
        );
        let mut out = std::collections::BTreeMap::new();
        for r in self.rows(sql).await? {
            let key = (i(&r, 0)? == 1, sqlx::Row::try_get::<String, _>(&r, 1)?, sqlx::Row::try_get(&r, 2)?);
            out.insert(key, ClosedSums { deals: u(&r, 3)?, value: i(&r, 4)?, cycle_ms: i(&r, 5)? });
        }
        Ok(out)
    }

    /// Deals open at any moment of `p` by current values: those created in
    /// P (and not closed before `from`), plus those whose life
    /// `[created_at, closed_at]` spans `from`.
    async fn pipeline_deals(&self, df: &str, p: Period) -> Result<u64, StoreError> {
        let (from, to) = (p.from, p.to);
        let mut parts = vec![
            format!(
                "SELECT COUNT(*) AS n FROM metric_deals WHERE created_at >= {from} AND created_at < {to}
                 AND (closed_at IS NULL OR closed_at >= {from}){df}"
            ),
            format!("SELECT COUNT(*) AS n FROM metric_deals WHERE life_bucket = -1 AND created_at < {from}{df}"),
        ];
        for b in buckets() {
            let low = bucket_span(b).map_or_else(String::new, |s| format!(" AND created_at > {}", from - s));
            parts.push(format!(
                "SELECT COUNT(*) AS n FROM metric_deals WHERE life_bucket = {b}{low} AND created_at < {from}
                 AND closed_at >= {from}{df}"
            ));
        }
        self.count(format!("SELECT {} FROM ({}) c", sum("n"), parts.join(" UNION ALL "))).await
    }

    /// Deals open at the instant `t`, replayed from the events before it:
    /// the open spans with `opened_at < t <= closes_at`.
    async fn open_deals(&self, df: &str, t: i64) -> Result<u64, StoreError> {
        let mut parts =
            vec![format!("SELECT COUNT(*) AS n FROM metric_open_spans WHERE bucket = -1 AND opened_at < {t}{df}")];
        for b in buckets() {
            let low = bucket_span(b).map_or_else(String::new, |s| format!(" AND opened_at > {}", t - s));
            parts.push(format!(
                "SELECT COUNT(*) AS n FROM metric_open_spans WHERE bucket = {b}{low} AND opened_at < {t}
                 AND closes_at >= {t}{df}"
            ));
        }
        self.count(format!("SELECT {} FROM ({}) c", sum("n"), parts.join(" UNION ALL "))).await
    }

    /// The stage inputs of `p` under `slice` (METRICS.md "Stage metrics").
    pub async fn stage_inputs(&self, slice: &Slice, p: Period) -> Result<StageInputs, StoreError> {
        let (from, to) = (p.from, p.to);
        let df = deal_filter(slice);
        let closed = format!(
            "SELECT pipeline_id, reach_count, won, COUNT(*) FROM metric_deals
             WHERE closed_at >= {from} AND closed_at < {to}{df} GROUP BY pipeline_id, reach_count, won"
        );
        let created = format!(
            "SELECT pipeline_id, reach_count, COUNT(*) FROM metric_deals
             WHERE created_at >= {from} AND created_at < {to}{df} GROUP BY pipeline_id, reach_count"
        );
        // One text per stage carries all its durations: far fewer rows
        // through the driver than one per stay.
        let list = match self.engine() {
            Engine::Sqlite => "group_concat(duration, ',')",
            Engine::Postgres => "string_agg(CAST(duration AS TEXT), ',')",
        };
        let stays = format!(
            "SELECT stage_id, {list} FROM metric_stays WHERE ended_at >= {from} AND ended_at < {to}{df} GROUP BY stage_id"
        );
        let (closed, created, stays) = tokio::try_join!(self.rows(closed), self.rows(created), self.rows(stays))?;
        let mut out = StageInputs::default();
        for r in &closed {
            out.closed.insert((i(r, 0)?.to_string(), i(r, 1)?, i(r, 2)? == 1), u(r, 3)?);
        }
        for r in &created {
            out.created.insert((i(r, 0)?.to_string(), i(r, 1)?), u(r, 2)?);
        }
        for r in &stays {
            let text: String = sqlx::Row::try_get(r, 1)?;
            let mut v = text
                .split(',')
                .map(|x| x.parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::Config(format!("a stay duration did not read back: {e}")))?;
            v.sort_unstable();
            out.stays.insert(i(r, 0)?.to_string(), v);
        }
        Ok(out)
    }
}
