//! The metrics engine: pure functions from workspace facts to the figures
//! defined in `docs/metrics.md` (activity metrics, stage metrics,
//! forecast with P10/P50/P90 and backtest, goal planner).
//!
//! Nothing here does I/O: the store loads [`Facts`] (deleted rows already
//! left out) and the server serializes the results, whose JSON key names are
//! exactly those of docs/metrics.md. Times are Unix milliseconds; a [`Period`] is
//! half-open `[from, to)`; durations are fractional days.
//!
//! Readings chosen where docs/metrics.md is silent (also tested):
//! - A deal moved between pipelines is judged against its current pipeline;
//!   entries into stages of another pipeline do not count as reaching.
//! - A slice on a dimension a fact does not carry leaves that fact's figures
//!   workspace-wide, and the result says so (`outreach_workspace_wide`,
//!   `deals_workspace_wide`).
//! - Money: a deal's value is converted to the base currency and rounded to
//!   a whole minor unit; deals without a rate are left out of money figures
//!   and counted in `unconverted` (counts such as `deals_won` keep them).
//! - Rates between different populations (`meeting_booking_rate`,
//!   `close_rate_vs_*`) can exceed 100; true shares stay within 0–100.

pub mod activity;
pub mod compliance;
pub mod facts;
pub mod forecast;
mod history;
pub mod inputs;
pub mod montecarlo;
pub mod planner;
pub mod stages;

#[cfg(test)]
mod tests;

pub use activity::{ActivityMetrics, activity_from, activity_metrics};
pub use compliance::{Compliance, ComplianceInputs, OwnerOverrides, StageCompliance, compliance};
pub use facts::*;
pub use forecast::{
    Backtest, DealFields, DealForecast, Forecast, ForecastInputs, ForecastOptions, ProbabilitySource, backtest,
    current_fields, facts_as_of, forecast, forecast_from_inputs, forecast_with_fields,
};
pub use inputs::{
    ActivityInputs, ClosedKey, ClosedSums, DealProjection, OutreachCounts, STAY_QUANTILES, StageInputs, StayRanks,
    activity_inputs, project_deal, stage_inputs,
};
pub use montecarlo::{
    OutcomeRange, RangeMethod, SplitMix64, exact_distribution, exact_percentiles, simulate_percentiles, won_value_range,
};
pub use planner::{GoalPlan, Pace, PerWeek, PlannerInput, PlannerInputs, pace_period, plan_from, plan_goal};
pub use stages::{StageFigures, StageMetrics, stage_metrics, stages_from};

/// `num / den × 100`, or `None` when the denominator is 0 (docs/metrics.md: a
/// rate with a zero denominator is null, never 0 or NaN).
pub(crate) fn pct(num: u64, den: u64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64 * 100.0)
}

/// Milliseconds as fractional days.
pub(crate) fn days(ms: i64) -> f64 {
    ms as f64 / facts::DAY_MS as f64
}

/// The spreadsheet PERCENTILE.INC: rank `q × (n − 1)` over the sorted
/// values, interpolating linearly between the two closest ranks.
pub fn percentile_inc(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    // `lo` ≤ rank ≤ n − 1, so both indices are in bounds.
    Some(v[lo] + (rank - lo as f64) * (v[hi] - v[lo]))
}
