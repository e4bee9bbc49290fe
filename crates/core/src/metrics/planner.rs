//! The goal planner (METRICS.md "Goal planner"): from a revenue target, the
//! wins, milestone deals, prospects and outreach needed, using the rates of
//! a lookback period, each also per week beside the current weekly pace.
//!
//! Every `ceil` is taken of an exact ratio of integer counts (in i128), never
//! of a rounded float: `ceil(5 / 0.05)` is computed as `ceil(5 × 100 / 5)`.

use super::activity::won_money;
use super::facts::{DAY_MS, Facts, Ms, Period, Slice};
use super::history::{StageIndex, Timeline};
use super::inputs::{ClosedKey, ClosedSums, closed_in, first_reached_in, outreach_counts, sliced_deals};
use super::stages::milestone_conversion;
use crate::model::{DealStatus, Milestone};
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
    pub from: Ms,
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

/// The goal plan for `input` over `facts`.
pub fn plan_goal(facts: &Facts, input: &PlannerInput) -> GoalPlan {
    let (p, slice) = (input.lookback, &input.slice);
    let mut missing = Vec::new();

    // wins = ceil(target / avg_deal_value) = ceil(target × n / Σ value),
    // with the won value converted as `won_value` is.
    let mut closed: BTreeMap<ClosedKey, ClosedSums> = BTreeMap::new();
    for d in closed_in(sliced_deals(facts, slice), p, DealStatus::Won) {
        let g = closed.entry((true, d.currency.clone(), d.contract_months)).or_default();
        g.deals += 1;
        g.value += d.value;
    }
    let (won_n, won_value, _, _) = won_money(&closed, &facts.rates);
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
        let (closed, won, exists) = milestone_conversion(facts, slice, p, m);
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

    let index = StageIndex::new(facts);
    let tls: Vec<Timeline<'_>> = sliced_deals(facts, slice).map(|d| Timeline::build(d, &index)).collect();
    let oc = outreach_counts(facts, slice, p);
    let meetings = first_reached_in(&tls, Milestone::Meeting, p);
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
        current_pace: pace(facts, slice, &tls, input.now),
        missing,
    }
}

/// The weekly pace over the last 4 full weeks before `now`.
fn pace(facts: &Facts, slice: &Slice, tls: &[Timeline<'_>], now: Ms) -> Pace {
    let to = week_start(now);
    let p = Period::new(to - 28 * DAY_MS, to);
    let oc = outreach_counts(facts, slice, p);
    let wins = closed_in(sliced_deals(facts, slice), p, DealStatus::Won).count();
    Pace {
        from: p.from,
        to: p.to,
        wins: wins as f64 / 4.0,
        reached: Milestone::ALL
            .iter()
            .map(|m| (m.as_str().to_string(), first_reached_in(tls, *m, p) as f64 / 4.0))
            .collect(),
        prospects_contacted: oc.prospects as f64 / 4.0,
        outreach_sent: oc.sent as f64 / 4.0,
    }
}
