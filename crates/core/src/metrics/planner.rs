//! The goal planner (docs/metrics.md "Goal planner"): from a revenue target, the
//! wins, milestone deals, prospects and outreach needed, using the rates of
//! a lookback period, each also per week beside the current weekly pace.
//!
//! Every `ceil` is taken of an exact ratio of integer counts (in i128), never
//! of a rounded float: `ceil(5 / 0.05)` is computed as `ceil(5 × 100 / 5)`.

use super::activity::won_money;
use super::facts::{DAY_MS, ExchangeRates, Facts, Ms, Period, PipelineInfo, Slice};
use super::inputs::{ActivityInputs, StageInputs, activity_inputs, stage_inputs};
use crate::model::Milestone;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the planner is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannerInput {
    /// Revenue target in base minor units.
    pub target_minor: i64,
    /// Length of the future period, in weeks.
    pub weeks: f64,
    /// The period whose rates are used (default: the last 90 days).
    pub lookback: Period,
    /// "Now": the pace is that of the last 4 full weeks (Monday 00:00 UTC) before it.
    pub now: Ms,
    pub slice: Slice,
}

/// Figures per week (unrounded); `None` where the figure is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PerWeek {
    pub wins: Option<f64>,
    pub needed: BTreeMap<String, Option<f64>>,
    pub prospects_contacted_needed: Option<f64>,
    pub outreach_needed: Option<f64>,
}

/// What happened per week over the last 4 full weeks.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Pace {
    #[serde(serialize_with = "crate::time::ms_as_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: Ms,
    #[serde(serialize_with = "crate::time::ms_as_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub to: Ms,
    pub wins: f64,
    /// Deals that first reached each milestone.
    pub reached: BTreeMap<String, f64>,
    pub prospects_contacted: f64,
    pub outreach_sent: f64,
}

/// The plan. A figure whose inputs are missing is `None` and `missing`
/// says which input is missing.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GoalPlan {
    pub wins: Option<u64>,
    /// Deals needed per milestone (`conversation`, `meeting`, `proposal`).
    pub needed: BTreeMap<String, Option<u64>>,
    pub prospects_contacted_needed: Option<u64>,
    pub outreach_needed: Option<u64>,
    pub per_week: PerWeek,
    pub current_pace: Pace,
    pub missing: Vec<String>,
}

/// `ceil(a × b / c)` over integers; `None` when `c` is 0 or the result
/// does not fit.
fn ceil_ratio(a: u64, b: u64, c: u64) -> Option<u64> {
    if c == 0 {
        return None;
    }
    let n = a as i128 * b as i128;
    let c = c as i128;
    u64::try_from((n + c - 1) / c).ok()
}

/// The start (Monday 00:00 UTC) of the week holding `t`.
fn week_start(t: Ms) -> Ms {
    let day = t.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: three days after a Monday.
    (day - (day + 3).rem_euclid(7)) * DAY_MS
}

/// The pace window: the last 4 full weeks (Monday 00:00 UTC) before `now`.
pub fn pace_period(now: Ms) -> Period {
    let to = week_start(now);
    Period::new(to - 28 * DAY_MS, to)
}

/// What the planner reads, from either producer of inputs: the lookback
/// period's activity and stage inputs and the pace window's activity inputs.
pub struct PlannerInputs<'a> {
    pub lookback: &'a ActivityInputs,
    pub stages: &'a StageInputs,
    pub pace: &'a ActivityInputs,
    pub pipelines: &'a [PipelineInfo],
    pub rates: &'a ExchangeRates,
}

/// The goal plan for `input` over `facts`, by replay.
pub fn plan_goal(facts: &Facts, input: &PlannerInput) -> GoalPlan {
    let (p, slice) = (input.lookback, &input.slice);
    let lookback = activity_inputs(facts, slice, p);
    let stages = stage_inputs(facts, slice, p);
    let pace = activity_inputs(facts, slice, pace_period(input.now));
    let i = PlannerInputs {
        lookback: &lookback,
        stages: &stages,
        pace: &pace,
        pipelines: &facts.pipelines,
        rates: &facts.rates,
    };
    plan_from(&i, input)
}

/// Closed deals of the lookback that reached milestone `m` (the first stage
/// with it in their pipeline), the won among them, and whether any sliced
/// pipeline has such a stage.
fn milestone_counts(i: &PlannerInputs<'_>, slice: &Slice, m: Milestone) -> (u64, u64, bool) {
    let (mut closed, mut won, mut exists) = (0, 0, false);
    for pl in i.pipelines.iter().filter(|pl| slice.pipeline.as_ref().is_none_or(|id| *id == pl.id)) {
        let Some(pos) = pl.ordered_stages().iter().position(|s| s.milestone == Some(m)) else { continue };
        exists = true;
        for ((_, _, w), n) in i.stages.closed.iter().filter(|((p, r, _), _)| *p == pl.id && *r > pos as i64) {
            closed += n;
            if *w {
                won += n;
            }
        }
    }
    (closed, won, exists)
}

/// The goal plan for `input` from its inputs.
pub fn plan_from(i: &PlannerInputs<'_>, input: &PlannerInput) -> GoalPlan {
    let slice = &input.slice;
    let mut missing = Vec::new();

    // wins = ceil(target / avg_deal_value) = ceil(target × n / Σ value),
    // with the won value converted as `won_value` is.
    let money = won_money(&i.lookback.closed, i.rates);
    let (won_n, won_value) = (money.converted, money.value);
    let wins = if won_n == 0 {
        missing.push("avg_deal_value: no wins in the lookback period".to_string());
        None
    } else if won_value <= 0 {
        missing.push("avg_deal_value: the won deals have no value".to_string());
        None
    } else {
        // `won_value` > 0 here, so the cast is exact.
        ceil_ratio(input.target_minor.max(0) as u64, won_n, won_value as u64)
    };

    let mut needed = BTreeMap::new();
    for m in Milestone::ALL.iter().copied() {
        let (closed, won, exists) = milestone_counts(i, slice, m);
        let figure = if !exists {
            missing.push(format!("stage_conversion[{m}]: no stage with milestone {m}"));
            None
        } else if won == 0 {
            missing.push(format!("stage_conversion[{m}]: 0 or no closed deals reached it"));
            None
        } else {
            wins.and_then(|w| ceil_ratio(w, closed, won))
        };
        needed.insert(m.as_str().to_string(), figure);
    }

    let oc = i.lookback.outreach;
    let meetings = i.lookback.meetings_booked;
    if oc.prospects == 0 {
        missing.push("meeting_booking_rate: no outreach in the lookback period".to_string());
    } else if meetings == 0 {
        missing.push("meeting_booking_rate: 0 (no meetings booked)".to_string());
    }
    let needed_meeting = needed.get(Milestone::Meeting.as_str()).copied().flatten();
    // ceil(needed[meeting] / (meetings / prospects)).
    let prospects_contacted_needed = needed_meeting.and_then(|n| ceil_ratio(n, oc.prospects, meetings));
    // ceil(prospects needed × outreach_sent / prospects_contacted).
    let outreach_needed = prospects_contacted_needed.and_then(|n| ceil_ratio(n, oc.sent, oc.prospects));

    let per = |x: Option<u64>| x.filter(|_| input.weeks > 0.0).map(|x| x as f64 / input.weeks);
    let per_week = PerWeek {
        wins: per(wins),
        needed: needed.iter().map(|(k, v)| (k.clone(), per(*v))).collect(),
        prospects_contacted_needed: per(prospects_contacted_needed),
        outreach_needed: per(outreach_needed),
    };
    missing.dedup();
    GoalPlan {
        wins,
        needed,
        prospects_contacted_needed,
        outreach_needed,
        per_week,
        current_pace: pace(i.pace, input.now),
        missing,
    }
}

/// The weekly pace over the last 4 full weeks before `now`.
fn pace(p: &ActivityInputs, now: Ms) -> Pace {
    let window = pace_period(now);
    let wins: u64 = p.closed.iter().filter(|(k, _)| k.0).map(|(_, g)| g.deals).sum();
    let reached = |m: Milestone| match m {
        Milestone::Conversation => p.conversations_started,
        Milestone::Meeting => p.meetings_booked,
        Milestone::Proposal => p.proposals_sent,
    };
    Pace {
        from: window.from,
        to: window.to,
        wins: wins as f64 / 4.0,
        reached: Milestone::ALL.iter().map(|m| (m.as_str().to_string(), reached(*m) as f64 / 4.0)).collect(),
        prospects_contacted: p.outreach.prospects as f64 / 4.0,
        outreach_sent: p.outreach.sent as f64 / 4.0,
    }
}
