//! Stage metrics (METRICS.md "Stage metrics"): per-stage close rate, cohort
//! reach, and time spent in the stage.

use super::activity::sliced_deals;
use super::facts::{DealFact, Facts, Period, Slice};
use super::history::{StageIndex, Timeline};
use super::{days, pct, percentile_inc};
use crate::model::{DealStatus, Milestone};
use serde::Serialize;
use std::collections::BTreeMap;

/// The figures of one stage; all percentages or fractional days, `None`
/// when there is nothing to measure.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageFigures {
    /// Of the deals closed in P that reached the stage, the share won.
    pub stage_conversion: Option<f64>,
    /// Of the deals created in P, the share that reached the stage by now.
    pub stage_reach: Option<f64>,
    pub time_in_stage_days_median: Option<f64>,
    pub time_in_stage_days_p90: Option<f64>,
    /// Deals closed in P that reached the stage (the conversion's denominator).
    pub closed_reached: u64,
    /// Of those, the deals won (the conversion's numerator).
    pub won_reached: u64,
}

/// Stage figures keyed by stage id, for every stage of the sliced pipelines.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageMetrics {
    pub stages: BTreeMap<String, StageFigures>,
}

/// Closed-in-P counts for a conversion: `(reached, won among them)`.
pub(crate) fn conversion_counts<'t>(
    tls: impl Iterator<Item = &'t Timeline<'t>>,
    p: Period,
    reached: impl Fn(&Timeline<'_>) -> bool,
) -> (u64, u64) {
    let mut closed = 0;
    let mut won = 0;
    for t in tls {
        let d: &DealFact = t.deal;
        if d.status == DealStatus::Open || !d.closed_at.is_some_and(|c| p.contains(c)) || !reached(t) {
            continue;
        }
        closed += 1;
        if d.status == DealStatus::Won {
            won += 1;
        }
    }
    (closed, won)
}

/// The stage metrics of `facts` for period `p` under `slice` (pipeline,
/// owner and source filter deals; outreach slices do not apply here).
pub fn stage_metrics(facts: &Facts, slice: &Slice, p: Period) -> StageMetrics {
    let index = StageIndex::new(facts);
    let deals: Vec<&DealFact> = sliced_deals(facts, slice).collect();
    let tls: Vec<Timeline<'_>> = deals.iter().map(|d| Timeline::build(d, &index)).collect();
    let mut stages = BTreeMap::new();
    for pipeline in &facts.pipelines {
        if slice.pipeline.as_ref().is_some_and(|id| *id != pipeline.id) {
            continue;
        }
        let mine: Vec<&Timeline<'_>> = tls.iter().filter(|t| t.deal.pipeline == pipeline.id).collect();
        for (i, stage) in pipeline.ordered_stages().into_iter().enumerate() {
            stages.insert(stage.id.clone(), figures_of(&mine, i, p));
        }
    }
    StageMetrics { stages }
}

/// The figures of the stage at position `i` over one pipeline's timelines.
/// Every timeline here belongs to that pipeline, so its `reach` has one
/// entry per stage and `reach[i]` is in bounds.
fn figures_of(tls: &[&Timeline<'_>], i: usize, p: Period) -> StageFigures {
    let (closed_reached, won_reached) = conversion_counts(tls.iter().copied(), p, |t| t.reach[i].is_some());

    // Cohort funnel: reaching is judged over the whole known history.
    let cohort: Vec<&&Timeline<'_>> = tls.iter().filter(|t| p.contains(t.deal.created_at)).collect();
    let reached = cohort.iter().filter(|t| t.reach[i].is_some()).count() as u64;

    // Stays in this stage that ended in P (a reopen started a new stay).
    let stays: Vec<f64> = tls
        .iter()
        .flat_map(|t| t.stays.iter())
        .filter(|s| s.stage == i)
        .filter_map(|s| s.end.filter(|e| p.contains(*e)).map(|e| days(e - s.start)))
        .collect();

    StageFigures {
        stage_conversion: pct(won_reached, closed_reached),
        stage_reach: pct(reached, cohort.len() as u64),
        time_in_stage_days_median: percentile_inc(&stays, 0.5),
        time_in_stage_days_p90: percentile_inc(&stays, 0.9),
        closed_reached,
        won_reached,
    }
}

/// Closed-in-P counts for a milestone across all sliced pipelines:
/// `(closed deals that reached it, won among them, some stage has it)`.
pub(crate) fn milestone_conversion(facts: &Facts, slice: &Slice, p: Period, m: Milestone) -> (u64, u64, bool) {
    let index = StageIndex::new(facts);
    let tls: Vec<Timeline<'_>> = sliced_deals(facts, slice).map(|d| Timeline::build(d, &index)).collect();
    let exists = facts
        .pipelines
        .iter()
        .filter(|pl| slice.pipeline.as_ref().is_none_or(|id| *id == pl.id))
        .any(|pl| pl.stages.iter().any(|s| s.milestone == Some(m)));
    let (closed, won) = conversion_counts(tls.iter(), p, |t| t.milestone_reach(m).is_some());
    (closed, won, exists)
}
