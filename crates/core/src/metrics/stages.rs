//! Stage metrics (docs/metrics.md "Stage metrics"): per-stage close rate, cohort
//! reach, and time spent in the stage.

use super::facts::{Facts, Period, PipelineInfo, Slice};
use super::inputs::{STAY_QUANTILES, StageInputs, stage_inputs};
use super::pct;
use crate::ids::StageId;
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
    pub stages: BTreeMap<StageId, StageFigures>,
}

/// The stage metrics of `facts` for period `p` under `slice` (pipeline,
/// owner and source filter deals; outreach slices do not apply here).
pub fn stage_metrics(facts: &Facts, slice: &Slice, p: Period) -> StageMetrics {
    stages_from(&stage_inputs(facts, slice, p), &facts.pipelines, slice)
}

/// The stage figures from their inputs, for every stage of the sliced pipelines.
pub fn stages_from(i: &StageInputs, pipelines: &[PipelineInfo], slice: &Slice) -> StageMetrics {
    let mut stages = BTreeMap::new();
    for pipeline in pipelines {
        if slice.pipeline.is_some_and(|id| id != pipeline.id) {
            continue;
        }
        // Deals with a reach count above `i` reached the stage at position `i`.
        let at_least = |pos: usize, won: Option<bool>| -> u64 {
            i.closed
                .range((pipeline.id, pos as i64 + 1, false)..)
                .take_while(|((pl, _, _), _)| *pl == pipeline.id)
                .filter(|((_, _, w), _)| won.is_none_or(|x| x == *w))
                .map(|(_, n)| *n)
                .sum()
        };
        let cohort = |pos: i64| -> u64 {
            i.created.range((pipeline.id, pos)..).take_while(|((pl, _), _)| *pl == pipeline.id).map(|(_, n)| *n).sum()
        };
        for (pos, stage) in pipeline.ordered_stages().into_iter().enumerate() {
            let (closed_reached, won_reached) = (at_least(pos, None), at_least(pos, Some(true)));
            let stays = i.stays.get(&stage.id);
            let pct_days = |q: f64| stays.and_then(|s| s.percentile_days(q));
            let figures = StageFigures {
                stage_conversion: pct(won_reached, closed_reached),
                stage_reach: pct(cohort(pos as i64 + 1), cohort(0)),
                time_in_stage_days_median: pct_days(STAY_QUANTILES[0]),
                time_in_stage_days_p90: pct_days(STAY_QUANTILES[1]),
                closed_reached,
                won_reached,
            };
            stages.insert(stage.id, figures);
        }
    }
    StageMetrics { stages }
}
