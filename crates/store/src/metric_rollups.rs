//! Metric inputs from the daily rollups (`metric_rollup`, kept by
//! `projections/rollups.rs`): the whole UTC days of a period cost one row per day
//! and key, and only the partial days at either end are read row by row
//! (`metric_queries.rs`). Only for questions without an owner, source,
//! campaign or channel slice: the rollups keep no such key.
//!
//! Two inputs are not plain sums and get their own reasoning below:
//! distinct people contacted (from the pairs of a message and the same
//! person's previous one) and the ranks of stay durations (a histogram of
//! duration classes locates each rank; only that class's stays are read).

use crate::metric_queries::{
    DaySplit, Filter, RowPart, StayLists, UNFILTERED, deal_filter, i, parse_list, pipeline_deals, pipeline_filter, sum,
    u,
};
use crate::projections::{DAY, dur_bucket, kind};
use crate::{Store, StoreError};
use dealflow_core::ids::{PipelineId, StageId};
use dealflow_core::metrics::{ActivityInputs, ClosedSums, OutreachCounts, Period, Slice, StageInputs, StayRanks};
use std::collections::BTreeMap;

impl Store {
    /// `SELECT … FROM metric_rollup` over the whole days of `split` for one kind.
    fn rollup_sql(&self, select: &str, k: i64, split: &DaySplit, pf: &str, group: &str) -> String {
        let (d0, d1) = split.days;
        let group = if group.is_empty() { String::new() } else { format!(" GROUP BY {group}") };
        format!("SELECT {select} FROM metric_rollup WHERE kind = {k} AND day >= {d0} AND day < {d1}{pf}{group}")
    }

    async fn rollup_count(&self, k: i64, split: &DaySplit, pf: &Filter) -> Result<u64, StoreError> {
        self.count(self.rollup_sql(&sum("n"), k, split, &pf.to_string(), ""), pf).await
    }

    pub(crate) async fn activity_from_rollups(
        &self,
        slice: &Slice,
        p: Period,
        split: &DaySplit,
    ) -> Result<ActivityInputs, StoreError> {
        let df = deal_filter(slice);
        // The pipeline is the one slice the rollups keep; outreach has none.
        let pf = pipeline_filter(slice);
        let d1 = split.days.1;
        let closed_sql = self.rollup_sql(
            &format!("k1, k2, k3, {}, {}, {}", sum("n"), sum("s1"), sum("s2")),
            kind::CLOSED,
            split,
            &pf.to_string(),
            "k1, k2, k3",
        );
        let sent_sql =
            self.rollup_sql(&format!("{}, {}, {}", sum("n"), sum("s1"), sum("s2")), kind::SENT, split, "", "");
        let pairs_sql = self.rollup_sql(&sum("n"), kind::PAIR, split, &format!(" AND k1 < {d1}"), "");
        let (
            closed_rows,
            sent,
            pairs,
            conversations,
            meetings,
            proposals,
            created,
            weird,
            straddlers,
            open_deals,
            edges,
        ) = tokio::try_join!(
            self.rows(closed_sql, &pf),
            self.one_row(sent_sql, &UNFILTERED),
            self.count(pairs_sql, &UNFILTERED),
            self.rollup_count(kind::CONVERSATION, split, &pf),
            self.rollup_count(kind::MEETING, split, &pf),
            self.rollup_count(kind::PROPOSAL, split, &pf),
            self.rollup_count(kind::CREATED, split, &pf),
            self.closed_before_created(&df, p),
            self.straddlers(&df, p.from),
            self.open_deals(&df, p.to),
            self.activity_edges(slice, &df, p, split),
        )?;

        let mut closed = BTreeMap::new();
        for r in &closed_rows {
            let g = ClosedSums { deals: u(r, 3)?, value: i(r, 4)?, cycle_ms: i(r, 5)? };
            if g.deals > 0 {
                let months = i(r, 1)?;
                let key = (i(r, 0)? == 1, sqlx::Row::try_get::<String, _>(r, 2)?, (months != 0).then_some(months));
                closed.insert(key, g);
            }
        }
        let mut outreach =
            OutreachCounts { sent: u(&sent, 0)?, replies: u(&sent, 1)?, positive: u(&sent, 2)?, prospects: 0 };
        let mut out = ActivityInputs {
            outreach,
            conversations_started: conversations,
            meetings_booked: meetings,
            proposals_sent: proposals,
            closed,
            pipeline_deals: 0,
            open_deals,
        };
        let mut created_all = created;
        for e in edges.parts {
            outreach.sent += e.outreach.sent;
            outreach.replies += e.outreach.replies;
            outreach.positive += e.outreach.positive;
            out.conversations_started += e.conversations_started;
            out.meetings_booked += e.meetings_booked;
            out.proposals_sent += e.proposals_sent;
            created_all += e.created;
            for (k, g) in e.closed {
                let t = out.closed.entry(k).or_default();
                t.deals += g.deals;
                t.value += g.value;
                t.cycle_ms += g.cycle_ms;
            }
        }
        // A person counts once: at the first of their messages in P. Every
        // other message of P has its previous message in P too, and a
        // message with its previous one in P lies in P itself.
        outreach.prospects = outreach.sent - (pairs + edges.pairs).min(outreach.sent);
        out.outreach = outreach;
        out.pipeline_deals = pipeline_deals(created_all, weird, straddlers);
        Ok(out)
    }

    /// The row-by-row parts of an activity question: its partial days, and
    /// the pairs (message, previous message) both in P that the whole-day
    /// pairs miss: previous message in a partial day, or the message itself
    /// in the last partial day.
    async fn activity_edges(
        &self,
        slice: &Slice,
        df: &Filter,
        p: Period,
        split: &DaySplit,
    ) -> Result<Edges, StoreError> {
        let (d0, d1) = split.days;
        let mut out = Edges::default();
        for e in &split.edges {
            let e = *e;
            out.parts.push(self.activity_rows(slice, df, e).await?);
            // Previous message in this partial day, message before `to`.
            out.pairs += self
                .count(format!(
                    "SELECT COUNT(*) FROM metric_outreach WHERE prev_sent_at >= {} AND prev_sent_at < {} AND sent_at < {}",
                    e.from, e.to, p.to
                ), &UNFILTERED)
                .await?;
        }
        if let Some(last) = split.edges.iter().find(|e| e.from == d1 * DAY) {
            // Message in the last partial day, previous one in the whole days.
            out.pairs += self
                .count(
                    format!(
                        "SELECT COUNT(*) FROM metric_outreach WHERE sent_at >= {} AND sent_at < {}
                     AND prev_sent_at >= {} AND prev_sent_at < {}",
                        last.from,
                        last.to,
                        d0 * DAY,
                        d1 * DAY
                    ),
                    &UNFILTERED,
                )
                .await?;
        }
        Ok(out)
    }

    pub(crate) async fn stages_from_rollups(&self, slice: &Slice, split: &DaySplit) -> Result<StageInputs, StoreError> {
        let df = deal_filter(slice);
        let pf = pipeline_filter(slice);
        let pf_sql = pf.to_string();
        let closed_sql = self.rollup_sql(
            &format!("pipeline_id, k1, k2, {}", sum("n")),
            kind::CLOSED_REACH,
            split,
            &pf_sql,
            "pipeline_id, k1, k2",
        );
        let created_sql = self.rollup_sql(
            &format!("pipeline_id, k1, {}", sum("n")),
            kind::CREATED,
            split,
            &pf_sql,
            "pipeline_id, k1",
        );
        let hist_sql = self.rollup_sql(&format!("k1, k2, {}", sum("n")), kind::STAY, split, &pf_sql, "k1, k2");
        let (closed_rows, created_rows, hist_rows) =
            tokio::try_join!(self.rows(closed_sql, &pf), self.rows(created_sql, &pf), self.rows(hist_sql, &pf))?;

        let mut out = StageInputs::default();
        for r in &closed_rows {
            let n = u(r, 3)?;
            if n > 0 {
                *out.closed.entry((PipelineId(i(r, 0)?), i(r, 1)?, i(r, 2)? == 1)).or_default() += n;
            }
        }
        for r in &created_rows {
            let n = u(r, 2)?;
            if n > 0 {
                *out.created.entry((PipelineId(i(r, 0)?), i(r, 1)?)).or_default() += n;
            }
        }
        // Stage → duration class → stays in the whole days.
        let mut hist: BTreeMap<i64, BTreeMap<i64, u64>> = BTreeMap::new();
        for r in &hist_rows {
            let n = u(r, 2)?;
            if n > 0 {
                *hist.entry(i(r, 0)?).or_default().entry(i(r, 1)?).or_default() += n;
            }
        }
        let mut edge_stays: StayLists = BTreeMap::new();
        for e in &split.edges {
            let (closed, created, stays) = tokio::try_join!(
                self.reach_closed_rows(&df, *e),
                self.reach_created_rows(&df, *e),
                self.stay_rows(&df, *e)
            )?;
            for (k, n) in closed {
                *out.closed.entry(k).or_default() += n;
            }
            for (k, n) in created {
                *out.created.entry(k).or_default() += n;
            }
            for (stage, v) in stays {
                edge_stays.entry(stage).or_default().extend(v);
            }
        }
        let stages: Vec<i64> = hist
            .keys()
            .copied()
            .chain(edge_stays.keys().map(|s| s.0))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for stage in stages {
            let edges = edge_stays.remove(&StageId(stage)).unwrap_or_default();
            let ranks = self.stay_ranks(stage, hist.remove(&stage).unwrap_or_default(), edges, split).await?;
            if ranks.count > 0 {
                out.stays.insert(StageId(stage), ranks);
            }
        }
        Ok(out)
    }

    /// The order statistics of one stage's stays: whole-day stays counted
    /// per duration class, partial-day stays listed. Each rank falls in one
    /// class (classes grow with the duration); only that class's whole-day
    /// stays are read, merged with the listed ones of the same class.
    async fn stay_ranks(
        &self,
        stage: i64,
        mut hist: BTreeMap<i64, u64>,
        edges: Vec<i64>,
        split: &DaySplit,
    ) -> Result<StayRanks, StoreError> {
        let mut edge_by_class: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for d in edges {
            edge_by_class.entry(dur_bucket(d)).or_default().push(d);
        }
        let whole = hist.clone();
        for (c, v) in &edge_by_class {
            *hist.entry(*c).or_default() += v.len() as u64;
        }
        let count: u64 = hist.values().sum();
        let mut at = BTreeMap::new();
        let mut loaded: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for rank in StayRanks::ranks(count) {
            // The class holding `rank`, and how many stays come before it.
            let mut before = 0;
            let mut class = None;
            for (c, n) in &hist {
                if rank < before + n {
                    class = Some(*c);
                    break;
                }
                before += n;
            }
            let Some(c) = class else { continue };
            if let std::collections::btree_map::Entry::Vacant(slot) = loaded.entry(c) {
                let mut v = edge_by_class.get(&c).cloned().unwrap_or_default();
                if whole.get(&c).is_some_and(|n| *n > 0) {
                    let (d0, d1) = split.days;
                    let sql = format!(
                        "SELECT {} FROM metric_stays WHERE stage_id = {stage} AND dur_bucket = {c}
                         AND ended_at >= {} AND ended_at < {}",
                        self.list_agg("duration"),
                        d0 * DAY,
                        d1 * DAY
                    );
                    let text: Option<String> =
                        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(self.pool()).await?;
                    v.extend(parse_list(text.as_deref().unwrap_or(""))?);
                }
                v.sort_unstable();
                slot.insert(v);
            }
            // `rank - before` < the class's count, which is the list's length.
            if let Some(d) = loaded.get(&c).and_then(|v| v.get((rank - before) as usize)) {
                at.insert(rank, *d);
            }
        }
        Ok(StayRanks { count, at })
    }
}

/// What the partial days add to an activity question.
#[derive(Default)]
struct Edges {
    parts: Vec<RowPart>,
    /// Pairs (message, previous message) in P the whole-day pairs miss.
    pairs: u64,
}
