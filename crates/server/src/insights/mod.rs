//! Insights: "compute the metrics for these parameters", in one place for
//! the API (`/api/v1/metrics`, `/metrics/stages`, `/forecast`, `/planner`)
//! and the CLI (`dealflow metrics`, `forecast`, `plan`), so both give the
//! same figures for the same question.
//!
//! Each function resolves the period in the workspace's time zone, reads
//! what it needs from the store, runs the formulas of
//! `dealflow_core::metrics`, and wraps the result with its period and
//! currency. Activity and stage metrics (and goal progress) read the
//! inputs the store answers in SQL from its projections
//! (`Store::activity_inputs`, `Store::stage_inputs`), and so does the
//! planner; the forecast and backtests replay the facts
//! (`Store::metric_facts`). Parameter problems come back as 422 naming the
//! parameter.

mod forecast;

pub use forecast::{BacktestRow, ForecastQuery, ForecastReport, Step, backtest_series, forecast};

use crate::error::ApiError;
use chrono::NaiveDate;
use dealflow_core::metrics::{
    ActivityMetrics, DAY_MS, GoalPlan, Ms, Period, PlannerInput, PlannerInputs, Slice, StageFigures, StageMetrics,
    activity_from, pace_period, plan_from, stages_from,
};
use dealflow_core::model::{Channel, Milestone, Settings};
use dealflow_core::time::Timestamp;
use dealflow_core::{CampaignId, Invalid, PipelineId, UserId};
use dealflow_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The default length of a period and of the planner's lookback.
pub const DEFAULT_DAYS: i64 = 90;

/// Parameters of `/metrics` and `/metrics/stages`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// First day of the period (`YYYY-MM-DD`, from midnight in the workspace
    /// time zone). Default: 90 days before `to`.
    pub from: Option<String>,
    /// Day after the period (exclusive). Default: now.
    pub to: Option<String>,
    pub pipeline_id: Option<PipelineId>,
    /// The deal's current owner.
    pub owner_id: Option<UserId>,
    pub source: Option<String>,
    pub campaign_id: Option<CampaignId>,
    pub channel: Option<Channel>,
}

impl MetricsQuery {
    pub fn slice(&self) -> Slice {
        Slice {
            pipeline: self.pipeline_id.map(|p| p.to_string()),
            owner: self.owner_id.map(|o| o.to_string()),
            source: self.source.clone().filter(|s| !s.is_empty()),
            campaign: self.campaign_id.map(|c| c.to_string()),
            channel: self.channel.map(|c| c.as_str().to_string()),
        }
    }
}

/// The half-open period `[from, to)` a figure covers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodInfo {
    pub from: Timestamp,
    pub to: Timestamp,
    /// The time zone the date bounds were read in.
    pub time_zone: String,
}

impl PeriodInfo {
    fn new(p: Period, settings: &Settings) -> Self {
        PeriodInfo { from: Timestamp(p.from), to: Timestamp(p.to), time_zone: settings.time_zone.clone() }
    }
}

/// `GET /metrics`: the activity figures (METRICS.md key names, at the top
/// level) with their period and the currency of the money figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetricsReport {
    pub period: PeriodInfo,
    /// Base currency: money figures are in its minor units.
    pub currency: String,
    #[serde(flatten)]
    pub metrics: ActivityMetrics,
}

/// One stage's figures, with the names a reader needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageRow {
    pub pipeline_id: String,
    pub pipeline: String,
    pub stage_id: String,
    pub name: String,
    pub position: i64,
    pub milestone: Option<Milestone>,
    #[serde(flatten)]
    pub figures: StageFigures,
}

/// `GET /metrics/stages`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StagesReport {
    pub period: PeriodInfo,
    /// Stages of the (sliced) pipelines, in pipeline and stage order.
    pub stages: Vec<StageRow>,
}

/// Parameters of `/planner`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Revenue target in minor units of the base currency.
    pub target: i64,
    /// Length of the future period in weeks (at least 1).
    pub weeks: i64,
    /// Days before now whose rates are used (default 90).
    pub lookback_days: Option<i64>,
}

/// `GET /planner`: the goal plan (METRICS.md "Goal planner").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanReport {
    pub target_minor: i64,
    pub weeks: i64,
    pub currency: String,
    pub lookback: PeriodInfo,
    #[serde(flatten)]
    pub plan: GoalPlan,
}

/// A date parameter as midnight of that day in the workspace time zone;
/// 422 naming `field` when it is not a date.
pub fn day_bound(field: &str, value: &str, settings: &Settings) -> Result<Ms, ApiError> {
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::one(field, format!("`{value}` is not a date; use YYYY-MM-DD")))?;
    Ok(dealflow_store::local_midnight(&settings.time_zone, date)?)
}

/// Resolves optional date bounds: a missing `to` is `default_to`, a missing
/// `from` is `default_days` before `to`; `from` must come before `to`.
pub fn resolve_period(
    from: Option<&str>,
    to: Option<&str>,
    default_to: Ms,
    default_days: i64,
    settings: &Settings,
) -> Result<Period, ApiError> {
    let to = match to.filter(|s| !s.trim().is_empty()) {
        Some(s) => day_bound("to", s, settings)?,
        None => default_to,
    };
    let from = match from.filter(|s| !s.trim().is_empty()) {
        Some(s) => day_bound("from", s, settings)?,
        None => to - default_days * DAY_MS,
    };
    if from >= to {
        return Err(Invalid::one("from", "must be a day before `to` (the period is [from, to))").into());
    }
    Ok(Period::new(from, to))
}

/// 422 when a slice names a pipeline or owner that does not exist: an
/// empty answer would read as "no activity" instead of "wrong id".
pub async fn check_slice(store: &Store, pipeline: Option<PipelineId>, owner: Option<UserId>) -> Result<(), ApiError> {
    if let Some(p) = pipeline {
        match store.pipeline(p).await {
            Err(StoreError::NotFound { .. }) => {
                return Err(Invalid::one("pipeline_id", format!("pipeline {p} does not exist")).into());
            }
            other => {
                other?;
            }
        }
    }
    if let Some(o) = owner {
        match store.user(o).await {
            Err(StoreError::NotFound { .. }) => {
                return Err(Invalid::one("owner_id", format!("user {o} does not exist")).into());
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// The activity metrics for `q` (default period: the 90 days before `now`).
pub async fn metrics(store: &Store, q: &MetricsQuery, now: Timestamp) -> Result<MetricsReport, ApiError> {
    let settings = store.settings().await?;
    let period = resolve_period(q.from.as_deref(), q.to.as_deref(), now.0, DEFAULT_DAYS, &settings)?;
    check_slice(store, q.pipeline_id, q.owner_id).await?;
    Ok(MetricsReport {
        period: PeriodInfo::new(period, &settings),
        currency: settings.base_currency.as_str().to_string(),
        metrics: activity(store, &q.slice(), period, &settings).await?,
    })
}

/// The activity metrics of `period` under `slice`, from the store's projections.
pub async fn activity(
    store: &Store,
    slice: &Slice,
    period: Period,
    settings: &Settings,
) -> Result<ActivityMetrics, ApiError> {
    let inputs = store.activity_inputs(slice, period).await?;
    let rates = dealflow_store::minor_rates(&settings.base_currency, &settings.exchange_rates);
    Ok(activity_from(&inputs, &rates, slice))
}

/// The stage metrics of `period` under `slice`, from the store's projections.
pub async fn stage_figures(store: &Store, slice: &Slice, period: Period) -> Result<StageMetrics, ApiError> {
    let (inputs, pipelines) = tokio::try_join!(store.stage_inputs(slice, period), store.metric_pipelines())?;
    Ok(stages_from(&inputs, &pipelines, slice))
}

/// The stage metrics for `q`, each stage named.
pub async fn stages(store: &Store, q: &MetricsQuery, now: Timestamp) -> Result<StagesReport, ApiError> {
    let settings = store.settings().await?;
    let period = resolve_period(q.from.as_deref(), q.to.as_deref(), now.0, DEFAULT_DAYS, &settings)?;
    check_slice(store, q.pipeline_id, q.owner_id).await?;
    let mut figures = stage_figures(store, &q.slice(), period).await?.stages;
    let mut rows = Vec::new();
    for p in store.pipelines().await? {
        for s in &p.stages {
            // The engine reports only the stages of the sliced pipelines.
            if let Some(f) = figures.remove(&s.id.to_string()) {
                rows.push(StageRow {
                    pipeline_id: p.id.to_string(),
                    pipeline: p.name.clone(),
                    stage_id: s.id.to_string(),
                    name: s.name.clone(),
                    position: s.position,
                    milestone: s.milestone,
                    figures: f,
                });
            }
        }
    }
    Ok(StagesReport { period: PeriodInfo::new(period, &settings), stages: rows })
}

/// The goal plan for `target` (base minor units) over `weeks`, learning
/// from the `lookback_days` before `now`.
pub async fn plan(store: &Store, q: &PlanQuery, now: Timestamp) -> Result<PlanReport, ApiError> {
    let mut errs = Invalid::new();
    if q.target < 0 {
        errs.add("target", "must be zero or more (minor units of the base currency)");
    }
    if q.weeks <= 0 {
        errs.add("weeks", "must be at least 1");
    }
    let lookback_days = q.lookback_days.unwrap_or(DEFAULT_DAYS);
    if !(1..=3650).contains(&lookback_days) {
        errs.add("lookback_days", "must be between 1 and 3650");
    }
    errs.into_result()?;
    let settings = store.settings().await?;
    let lookback = Period::new(now.0 - lookback_days * DAY_MS, now.0);
    let input =
        PlannerInput { target_minor: q.target, weeks: q.weeks as f64, lookback, now: now.0, slice: Slice::default() };
    let slice = &input.slice;
    let (activity, stages, pace, pipelines) = tokio::try_join!(
        store.activity_inputs(slice, lookback),
        store.stage_inputs(slice, lookback),
        store.activity_inputs(slice, pace_period(now.0)),
        store.metric_pipelines(),
    )?;
    let rates = dealflow_store::minor_rates(&settings.base_currency, &settings.exchange_rates);
    let inputs =
        PlannerInputs { lookback: &activity, stages: &stages, pace: &pace, pipelines: &pipelines, rates: &rates };
    Ok(PlanReport {
        target_minor: q.target,
        weeks: q.weeks,
        currency: settings.base_currency.as_str().to_string(),
        lookback: PeriodInfo::new(lookback, &settings),
        plan: plan_from(&inputs, &input),
    })
}
