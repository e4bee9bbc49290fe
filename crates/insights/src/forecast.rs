//! The forecast at a moment (default now) and the backtest series: the
//! forecast "as of" each step of a range of earlier dates beside what was
//! really won. Field values at that moment come from the field history, so
//! a forecast as of last March does not see April's edits.
//!
//! A forecast at a moment after every recorded fact (the usual "now") reads
//! the open deals and the year's wins from the store's projections. An
//! earlier moment and the backtest load every deal and the whole field
//! history, so they check every parameter first (an invalid one never costs
//! a load) and then take a [`HeavyReads`] permit before loading.

use super::{DEFAULT_DAYS, PeriodInfo, check_slice, day_bound, resolve_period};
use crate::error::{InsightsError, InsightsResult};
use crate::gate::HeavyReads;
use chrono::{Months, NaiveDate};
use dealflow_core::metrics::{
    DAY_MS, Forecast, ForecastOptions, Period, Slice, backtest, forecast_from_inputs, forecast_with_fields, stages_from,
};
use dealflow_core::model::ForecastSource;
use dealflow_core::time::{Date, Timestamp};
use dealflow_core::{DealId, Invalid, PipelineId, UserId};
use dealflow_store::{FieldHistory, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// Simulation runs and seed: fixed, so the same question gets the same range.
const RUNS: u64 = 20_000;
const SEED: u64 = 20_260_101;

/// Parameters of `/forecast`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForecastQuery {
    /// The moment of the forecast (`YYYY-MM-DD`: midnight in the workspace
    /// time zone); default now. Not in the future.
    pub as_of: Option<Date>,
    /// First day of the period of the P10/P50/P90 range; default `as_of`.
    pub from: Option<Date>,
    /// Day after that period; default 90 days after `from`.
    pub to: Option<Date>,
    pub pipeline_id: Option<PipelineId>,
    pub owner_id: Option<UserId>,
}

/// `GET /forecast`: the engine's forecast (weighted pipeline, per month,
/// each open deal's probability and its source, unforecastable deals, the
/// P10/P50/P90 range) with the range's period and the currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastReport {
    pub period: PeriodInfo,
    pub currency: String,
    #[serde(flatten)]
    pub forecast: Forecast,
}

fn options(slice: Slice, period: Period, model: HashMap<DealId, f64>) -> ForecastOptions {
    ForecastOptions { slice, period: Some(period), runs: RUNS, seed: SEED, model }
}

/// The learned probabilities at each of `points` of the open deals of the
/// pipelines (of the slice) whose forecast source is `model`; one map per
/// point, empty where no pipeline uses the model.
async fn learned(
    store: &Store,
    pipeline: Option<PipelineId>,
    points: &[Timestamp],
) -> InsightsResult<Vec<HashMap<DealId, f64>>> {
    let mut out = vec![HashMap::new(); points.len()];
    let pipelines = store.pipelines().await?;
    let using =
        pipelines.iter().filter(|p| p.forecast_source == ForecastSource::Model && pipeline.is_none_or(|id| id == p.id));
    for p in using {
        for (map, learned) in out.iter_mut().zip(store.learned_probabilities(p.id, points).await?) {
            map.extend(learned);
        }
    }
    Ok(out)
}

/// The forecast for `q`: parameters first (period, pipeline and owner
/// exist), then the projections when the moment lies after every recorded
/// fact, else a heavy-read permit from `gate` and the replay.
pub async fn forecast(
    store: &Store,
    q: &ForecastQuery,
    now: Timestamp,
    gate: &HeavyReads,
) -> InsightsResult<ForecastReport> {
    compute(store, q, now, gate, false).await
}

/// The same forecast always computed the old way, by replaying every
/// deal: `dealflow bench forecast` compares the two.
pub async fn forecast_by_replay(
    store: &Store,
    q: &ForecastQuery,
    now: Timestamp,
    gate: &HeavyReads,
) -> InsightsResult<ForecastReport> {
    compute(store, q, now, gate, true).await
}

async fn compute(
    store: &Store,
    q: &ForecastQuery,
    now: Timestamp,
    gate: &HeavyReads,
    replay: bool,
) -> InsightsResult<ForecastReport> {
    let settings = store.settings().await?;
    let as_of = match q.as_of {
        Some(d) => day_bound(d, &settings),
        None => now.0,
    };
    if as_of > now.0 {
        return Err(InsightsError::invalid("as_of", "lies in the future; omit it for a forecast as of now"));
    }
    // The range's period starts at `as_of` unless `from` says otherwise.
    let period = match q.from {
        None => {
            let to = q.to.map(|d| day_bound(d, &settings));
            let to = to.unwrap_or(as_of + DEFAULT_DAYS * DAY_MS);
            if as_of >= to {
                return Err(InsightsError::invalid("to", "must lie after as_of"));
            }
            Period::new(as_of, to)
        }
        Some(from) => {
            let from_ms = day_bound(from, &settings);
            resolve_period(Some(from), q.to, from_ms + DEFAULT_DAYS * DAY_MS, 0, &settings)?
        }
    };
    check_slice(store, q.pipeline_id, q.owner_id).await?;
    let slice = Slice { pipeline: q.pipeline_id, owner: q.owner_id, ..Slice::default() };
    let model = learned(store, q.pipeline_id, &[Timestamp(as_of)]).await?.pop().unwrap_or_default();
    let opts = options(slice, period, model);
    let inputs = if replay { None } else { store.forecast_inputs(as_of).await? };
    let forecast = match inputs {
        // After every recorded fact (the usual "now"): the projections answer.
        Some(inputs) => {
            // The stage figures of the year over the pipelines the inputs hold.
            let year = store.stage_inputs(&Slice::default(), Period::year_before(as_of)).await?;
            let history = stages_from(&year, &inputs.pipelines, &Slice::default());
            forecast_from_inputs(&inputs, &history, as_of, &opts)
        }
        // An earlier moment: the facts as they stood then, replayed.
        None => {
            let _permit = gate.acquire().await?;
            let (facts, history) = tokio::try_join!(store.metric_facts(), store.deal_field_history_all())?;
            let fields = |d: &_, t| history.fields_at(d, t);
            forecast_with_fields(&facts, as_of, &fields, &opts)
        }
    };
    Ok(ForecastReport {
        period: PeriodInfo::new(period, &settings),
        currency: settings.base_currency.as_str().to_string(),
        forecast,
    })
}

/// The distance between two backtest steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Days(u32),
    Months(u32),
}

impl Step {
    /// `1month`, `3months`, `2weeks`, `7days` (also `1m`, `2w`, `7d`).
    pub fn parse(s: &str) -> Result<Step, String> {
        let s = s.trim().to_ascii_lowercase();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (n, unit) = s.split_at(split);
        let n: u32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("`{s}`: start with a count above 0"))?;
        match unit.trim() {
            "d" | "day" | "days" => Ok(Step::Days(n)),
            "w" | "week" | "weeks" => Ok(Step::Days(n * 7)),
            "m" | "month" | "months" => Ok(Step::Months(n)),
            other => Err(format!("`{other}` is not a unit; use days, weeks or months (e.g. 1month)")),
        }
    }

    fn after(self, d: NaiveDate) -> Option<NaiveDate> {
        match self {
            Step::Days(n) => d.checked_add_days(chrono::Days::new(u64::from(n))),
            Step::Months(n) => d.checked_add_months(Months::new(n)),
        }
    }
}

/// One step of a backtest: the forecast as of `as_of` for `[as_of, to)`
/// beside what the deals it covered really won in that period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestRow {
    pub as_of: Timestamp,
    pub to: Timestamp,
    pub forecast_p10: Option<f64>,
    pub forecast_p50: Option<f64>,
    pub forecast_p90: Option<f64>,
    /// Σ value × p over all open deals at `as_of`.
    pub weighted_pipeline: f64,
    /// The same sum over the deals expected to close in the period.
    pub weighted_in_period: f64,
    pub actual_won_deals: u64,
    pub actual_won_value: i64,
}

/// Parameters of a backtest.
#[derive(Debug, Clone)]
pub struct BacktestQuery {
    /// The first `as_of` day.
    pub from: Date,
    /// The day the series ends (exclusive).
    pub to: Date,
    pub step: Step,
    pub pipeline_id: Option<PipelineId>,
    pub owner_id: Option<UserId>,
}

/// The backtest from `from` to `to` (exclusive) in steps of `step`; steps
/// whose `as_of` lies after `now` are left out. Parameters are checked
/// before a heavy-read permit is taken from `gate` and the facts load.
pub async fn backtest_series(
    store: &Store,
    q: &BacktestQuery,
    now: Timestamp,
    gate: &HeavyReads,
) -> InsightsResult<Vec<BacktestRow>> {
    let (from, to, step) = (q.from.0, q.to.0, q.step);
    if from >= to {
        return Err(InsightsError::invalid("from", "must be a day before `to`"));
    }
    check_slice(store, q.pipeline_id, q.owner_id).await?;
    let slice = Slice { pipeline: q.pipeline_id, owner: q.owner_id, ..Slice::default() };
    let settings = store.settings().await?;
    let _permit = gate.acquire().await?;
    let (facts, history): (_, FieldHistory) = tokio::try_join!(store.metric_facts(), store.deal_field_history_all())?;
    let fields = |d: &_, t| history.fields_at(d, t);
    // The points first, so the learned probabilities read their histories once.
    let mut points = Vec::new();
    let mut day = from;
    while day < to {
        let next = step.after(day).ok_or_else(|| Invalid::one("step", "runs past the calendar"))?;
        let as_of = settings.time_zone.midnight(day);
        if as_of > now.0 {
            break;
        }
        points.push((as_of, next));
        day = next;
    }
    let at: Vec<Timestamp> = points.iter().map(|(t, _)| Timestamp(*t)).collect();
    let models = learned(store, q.pipeline_id, &at).await?;
    let mut rows = Vec::new();
    for ((as_of, next), model) in points.into_iter().zip(models) {
        let period = Period::new(as_of, settings.time_zone.midnight(next));
        let b = backtest(&facts, as_of, period, &fields, &options(slice.clone(), period, model));
        let f = &b.forecast;
        let weighted_in_period = f
            .deal_probability
            .values()
            .filter(|d| d.expected_close_at.is_some_and(|c| period.contains(c)))
            .filter_map(|d| d.value.map(|v| v as f64 * d.p / 100.0))
            .sum();
        rows.push(BacktestRow {
            as_of: Timestamp(as_of),
            to: Timestamp(period.to),
            forecast_p10: f.range.as_ref().map(|r| r.forecast_p10),
            forecast_p50: f.range.as_ref().map(|r| r.forecast_p50),
            forecast_p90: f.range.as_ref().map(|r| r.forecast_p90),
            weighted_pipeline: f.weighted_pipeline,
            weighted_in_period,
            actual_won_deals: b.actual_won_deals,
            actual_won_value: b.actual_won_value,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::Step;

    #[test]
    fn steps_parse() {
        assert_eq!(Step::parse("1month"), Ok(Step::Months(1)));
        assert_eq!(Step::parse("2weeks"), Ok(Step::Days(14)));
        assert_eq!(Step::parse("7d"), Ok(Step::Days(7)));
        assert!(Step::parse("0month").is_err());
        assert!(Step::parse("month").is_err());
        assert!(Step::parse("3years").is_err());
    }
}
