//! The counts and sums every activity and stage figure is computed from.
//!
//! Two producers fill these: [`activity_inputs`] and [`stage_inputs`] replay
//! the facts in memory (the reference, used by tests, forecasts and the
//! planner), and the store answers the same questions in SQL from its
//! projections (the fast path behind the API). The formulas in
//! `activity.rs` and `stages.rs` read only these values, so both paths give
//! the same figures; a property test in the store proves the inputs equal.

use super::facts::{DealFact, Facts, Ms, Period, Slice, StageInfo};
use super::history::{StageIndex, Timeline, open_before};
use crate::ids::{PipelineId, StageId};
use crate::model::{DealStatus, Milestone, Sentiment};
use std::collections::{BTreeMap, HashSet};

/// Outreach figures of a period: messages sent, those with a reply (whenever
/// it came), positive replies, and distinct people contacted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutreachCounts {
    pub sent: u64,
    pub replies: u64,
    pub positive: u64,
    pub prospects: u64,
}

/// Deals closed in a period with one outcome, currency and contract length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClosedSums {
    pub deals: u64,
    /// Σ value, minor units of the group's currency.
    pub value: i64,
    /// Σ (closed_at − created_at), milliseconds.
    pub cycle_ms: i64,
}

/// `(won, currency, contract_months)`: the key of a [`ClosedSums`] group.
pub type ClosedKey = (bool, String, Option<i64>);

/// What the activity formulas read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityInputs {
    pub outreach: OutreachCounts,
    /// Deals that first reached a `conversation` stage in the period (the
    /// planner's pace reads it; no activity metric does).
    pub conversations_started: u64,
    pub meetings_booked: u64,
    pub proposals_sent: u64,
    pub closed: BTreeMap<ClosedKey, ClosedSums>,
    pub pipeline_deals: u64,
    pub open_deals: u64,
}

/// What the stage formulas read. A deal's *reach count* is how many of its
/// pipeline's leading stages (in order) it reached: reaching is always a
/// prefix, since entering a stage reaches every stage before it and a win
/// reaches them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageInputs {
    /// `(pipeline, reach count, won)` → deals closed in the period.
    pub closed: BTreeMap<(PipelineId, i64, bool), u64>,
    /// `(pipeline, reach count)` → deals created in the period.
    pub created: BTreeMap<(PipelineId, i64), u64>,
    /// Stage id → the stays that ended in the period, as the order
    /// statistics the time-in-stage percentiles read.
    pub stays: BTreeMap<StageId, StayRanks>,
}

/// The percentiles time in stage reports (median and 90th).
pub const STAY_QUANTILES: [f64; 2] = [0.5, 0.9];

/// How many stays ended in a period and, for the ranks the percentiles
/// interpolate between, their durations: all a percentile needs, so the
/// store can answer without reading every stay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StayRanks {
    pub count: u64,
    /// 0-based rank in ascending order → duration, ms.
    pub at: BTreeMap<u64, i64>,
}

impl StayRanks {
    /// The ranks PERCENTILE.INC reads for `count` values: for each quantile
    /// q, `floor(q × (count − 1))` and the next one (capped at the last).
    pub fn ranks(count: u64) -> Vec<u64> {
        if count == 0 {
            return Vec::new();
        }
        let mut r: Vec<u64> = STAY_QUANTILES
            .iter()
            .flat_map(|q| {
                let lo = (q * (count - 1) as f64).floor() as u64;
                [lo, (lo + 1).min(count - 1)]
            })
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// From every duration, ascending.
    pub fn from_sorted(v: &[i64]) -> Self {
        let count = v.len() as u64;
        // Each rank is below `count`, so the index is in bounds.
        let at = Self::ranks(count).into_iter().map(|r| (r, v[r as usize])).collect();
        StayRanks { count, at }
    }

    /// PERCENTILE.INC of the durations in fractional days, exactly as
    /// `percentile_inc` computes it over the whole list.
    pub fn percentile_days(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * (self.count - 1) as f64;
        let lo = rank.floor() as u64;
        let hi = (lo + 1).min(self.count - 1);
        let (a, b) = (super::days(*self.at.get(&lo)?), super::days(*self.at.get(&hi)?));
        Some(a + (rank - lo as f64) * (b - a))
    }
}

/// One deal's replayed history in the shape the store keeps as projections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealProjection {
    pub reach_count: i64,
    /// First reach of the first stage with each milestone, in
    /// order conversation, meeting, proposal.
    pub milestone_at: [Option<Ms>; 3],
    /// Stays that ended: `(stage id, start, end)`.
    pub stays: Vec<(StageId, Ms, Ms)>,
    /// Spans during which the deal was open: it counts as open at `t` when
    /// `opened < t ≤ closes` (`None`: still open), as [`open_before`] says.
    pub open_spans: Vec<(Ms, Option<Ms>)>,
    /// What the forecast's expected close date learns from, per stage of
    /// the current pipeline: `(stage id, last entered, Some(won))` for each
    /// stage a won deal had entered before its standing win, and
    /// `(stage id, entered, None)` for the stage an open deal sits in.
    pub forecast_entries: Vec<(StageId, Ms, Option<Ms>)>,
}

/// Replays one deal against its pipeline's stages (any order; `order` decides).
pub fn project_deal(deal: &DealFact, stages: &[StageInfo]) -> DealProjection {
    let mut ordered: Vec<&StageInfo> = stages.iter().collect();
    ordered.sort_by_key(|s| s.order);
    let t = Timeline::with_stages(deal, &ordered);
    let milestone_at = [Milestone::Conversation, Milestone::Meeting, Milestone::Proposal].map(|m| t.milestone_reach(m));
    let stays = t.stays.iter().filter_map(|s| s.end.map(|end| (ordered[s.stage].id, s.start, end))).collect();
    DealProjection {
        reach_count: reach_count(&t),
        milestone_at,
        stays,
        open_spans: open_spans(deal),
        forecast_entries: forecast_entries(&t, &ordered),
    }
}

/// The entries the forecast reads (see [`DealProjection::forecast_entries`]),
/// the same ones its replay (`forecast::CloseRule`) takes from a timeline.
fn forecast_entries(t: &Timeline<'_>, ordered: &[&StageInfo]) -> Vec<(StageId, Ms, Option<Ms>)> {
    let d = t.deal;
    match (d.status, d.closed_at) {
        (DealStatus::Won, Some(closed)) => t
            .entry_to_win
            .iter()
            .filter(|e| e.2 == closed)
            .map(|&(i, entered, won)| (ordered[i].id, entered, Some(won)))
            .collect(),
        (DealStatus::Open, _) => t.current.map(|(i, entered)| (ordered[i].id, entered, None)).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn reach_count(t: &Timeline<'_>) -> i64 {
    t.reach.iter().take_while(|r| r.is_some()).count() as i64
}

/// The open spans of a deal: from creation (or a reopen) to the next win or
/// loss. Starts are clamped to `created_at`, since a deal is never open
/// before it exists.
fn open_spans(deal: &DealFact) -> Vec<(Ms, Option<Ms>)> {
    use super::facts::DealEventKind as K;
    let mut spans = Vec::new();
    let mut open_since = Some(deal.created_at);
    for ev in &deal.events {
        match ev.kind {
            K::Won | K::Lost => {
                if let Some(s) = open_since.take() {
                    spans.push((s, Some(ev.at)));
                }
            }
            K::Reopen | K::Enter(_) => {
                if open_since.is_none() {
                    open_since = Some(ev.at.max(deal.created_at));
                }
            }
        }
    }
    if let Some(s) = open_since {
        spans.push((s, None));
    }
    spans
}

/// The deals a slice keeps (all of them under an outreach-only slice).
pub(crate) fn sliced_deals<'a>(facts: &'a Facts, slice: &'a Slice) -> impl Iterator<Item = &'a DealFact> {
    facts.deals.iter().filter(move |d| slice.keeps_deal(d))
}

pub(crate) fn outreach_counts(facts: &Facts, slice: &Slice, p: Period) -> OutreachCounts {
    let mut c = OutreachCounts::default();
    let mut people = HashSet::new();
    for o in facts.outreach.iter().filter(|o| slice.keeps_outreach(o) && p.contains(o.sent_at)) {
        c.sent += 1;
        people.insert(o.person);
        // A reply counts whenever it came, even after the period.
        if o.replied_at.is_some() {
            c.replies += 1;
            if o.sentiment == Some(Sentiment::Positive) {
                c.positive += 1;
            }
        }
    }
    c.prospects = people.len() as u64;
    c
}

/// Deals that first reached a stage with milestone `m` during `p`.
pub(crate) fn first_reached_in(tls: &[Timeline<'_>], m: Milestone, p: Period) -> u64 {
    tls.iter().filter(|t| t.milestone_reach(m).is_some_and(|at| p.contains(at))).count() as u64
}

/// The activity inputs of `facts` for `p` under `slice`, by replay.
pub fn activity_inputs(facts: &Facts, slice: &Slice, p: Period) -> ActivityInputs {
    let index = StageIndex::new(facts);
    let deals: Vec<&DealFact> = sliced_deals(facts, slice).collect();
    let tls: Vec<Timeline<'_>> = deals.iter().map(|d| Timeline::build(d, &index)).collect();
    let mut closed: BTreeMap<ClosedKey, ClosedSums> = BTreeMap::new();
    for d in &deals {
        let Some(c) = d.closed_at.filter(|c| d.status != DealStatus::Open && p.contains(*c)) else {
            continue;
        };
        let g = closed.entry((d.status == DealStatus::Won, d.currency.clone(), d.contract_months)).or_default();
        g.deals += 1;
        g.value += d.value;
        g.cycle_ms += c - d.created_at;
    }
    ActivityInputs {
        outreach: outreach_counts(facts, slice, p),
        conversations_started: first_reached_in(&tls, Milestone::Conversation, p),
        meetings_booked: first_reached_in(&tls, Milestone::Meeting, p),
        proposals_sent: first_reached_in(&tls, Milestone::Proposal, p),
        closed,
        // Open at any moment of P, judged on current values (docs/metrics.md).
        pipeline_deals: deals
            .iter()
            .filter(|d| {
                d.created_at < p.to && (d.status == DealStatus::Open || d.closed_at.is_some_and(|c| c >= p.from))
            })
            .count() as u64,
        open_deals: deals.iter().filter(|d| open_before(d, p.to)).count() as u64,
    }
}

/// The stage inputs of `facts` for `p` under `slice`, by replay.
pub fn stage_inputs(facts: &Facts, slice: &Slice, p: Period) -> StageInputs {
    let index = StageIndex::new(facts);
    let mut out = StageInputs::default();
    let mut stays: BTreeMap<StageId, Vec<i64>> = BTreeMap::new();
    for d in sliced_deals(facts, slice) {
        let t = Timeline::build(d, &index);
        let reach = reach_count(&t);
        if d.status != DealStatus::Open && d.closed_at.is_some_and(|c| p.contains(c)) {
            *out.closed.entry((d.pipeline, reach, d.status == DealStatus::Won)).or_default() += 1;
        }
        if p.contains(d.created_at) {
            *out.created.entry((d.pipeline, reach)).or_default() += 1;
        }
        for s in &t.stays {
            if let Some(end) = s.end.filter(|e| p.contains(*e)) {
                stays.entry(t.stages[s.stage].id).or_default().push(end - s.start);
            }
        }
    }
    for (stage, mut v) in stays {
        v.sort_unstable();
        out.stays.insert(stage, StayRanks::from_sorted(&v));
    }
    out
}
