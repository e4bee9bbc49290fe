//! Insights: "compute the metrics for these parameters", in one place for
//! the API (`/api/v1/metrics`, `/metrics/stages`, `/forecast`, `/planner`),
//! the web pages, goals, exports and the CLI (`dealflow metrics`, `forecast`,
//! `plan`), so all give the same figures for the same question. It sits
//! below the server (it knows nothing of HTTP) and above the store.
//!
//! Each function checks its parameters, resolves the period in the
//! workspace's time zone, reads what it needs from the store, runs the
//! formulas of `dealflow_core::metrics`, and wraps the result with its
//! period and currency. Activity and stage metrics (and goal progress) read
//! the inputs the store answers in SQL from its projections
//! (`Store::activity_inputs`, `Store::stage_inputs`), and so does the
//! planner; the forecast and backtests replay the facts
//! (`Store::metric_facts`), which is heavy, so they run behind
//! [`HeavyReads`] and only after every parameter was checked. Parameter
//! problems come back as [`InsightsError::Invalid`] naming the parameter.

mod error;
mod forecast;
mod gate;

pub use error::{InsightsError, InsightsResult};
pub use forecast::{
    BacktestQuery, BacktestRow, ForecastQuery, ForecastReport, Step, backtest_series, forecast, forecast_by_replay,
};
pub use gate::{DEFAULT_HEAVY_READS, DEFAULT_HEAVY_WAIT, HeavyPermit, HeavyReads};

use dealflow_core::metrics::{
    ActivityMetrics, DAY_MS, GoalPlan, Ms, Period, PlannerInput, PlannerInputs, Slice, StageCompliance, StageFigures,
    StageMetrics, activity_from, compliance, pace_period, plan_from, stages_from,
};
use dealflow_core::model::{Channel, Milestone, Settings};
use dealflow_core::time::{Date, TimeZone, Timestamp};
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
    pub from: Option<Date>,
    /// Day after the period (exclusive). Default: now.
    pub to: Option<Date>,
    pub pipeline_id: Option<PipelineId>,
    /// The deal's current owner.
    pub owner_id: Option<UserId>,
    #[param(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub source: Option<String>,
    pub campaign_id: Option<CampaignId>,
    pub channel: Option<Channel>,
    /// `/metrics/stages` only: also list the stages of archived pipelines
    /// (default false; a `pipeline_id` naming an archived pipeline lists it
    /// anyway).
    pub include_archived: Option<bool>,
}

impl MetricsQuery {
    pub fn slice(&self) -> Slice {
        Slice {
            pipeline: self.pipeline_id,
            owner: self.owner_id,
            source: self.source.clone().filter(|s| !s.is_empty()),
            campaign: self.campaign_id,
            channel: self.channel,
        }
    }
}

/// The half-open period `[from, to)` a figure covers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodInfo {
    pub from: Timestamp,
    pub to: Timestamp,
    /// The time zone the date bounds were read in.
    pub time_zone: TimeZone,
}

impl PeriodInfo {
    fn new(p: Period, settings: &Settings) -> Self {
        PeriodInfo { from: Timestamp(p.from), to: Timestamp(p.to), time_zone: settings.time_zone }
    }
}

/// `GET /metrics`: the activity figures (docs/metrics.md key names, at the top
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
    /// Whether the pipeline is archived (its stages are listed only with
    /// `include_archived=true` or a `pipeline_id` naming it).
    pub pipeline_archived: bool,
    pub stage_id: String,
    pub name: String,
    pub position: i64,
    pub milestone: Option<Milestone>,
    #[serde(flatten)]
    pub figures: StageFigures,
    /// Playbook compliance of the forward exits from the stage in the period.
    #[serde(flatten)]
    pub playbook: StageCompliance,
}

/// Overrides of one deal owner in the period (forward exits made past open
/// required steps, counted by the deal's current owner).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnerOverrideRow {
    /// Null for deals without an owner.
    pub owner_id: Option<String>,
    pub owner: Option<String>,
    pub overrides: u64,
}

/// `GET /metrics/stages`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StagesReport {
    pub period: PeriodInfo,
    /// Stages of the (sliced) pipelines, in pipeline and stage order;
    /// archived pipelines only when asked for.
    pub stages: Vec<StageRow>,
    /// Overrides per deal owner in the period, most first (owners without
    /// one left out).
    pub overrides_by_owner: Vec<OwnerOverrideRow>,
}

/// Parameters of `/planner`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Revenue target in minor units of the base currency.
    #[param(minimum = 0)]
    pub target: i64,
    /// Length of the future period in weeks (at least 1).
    #[param(minimum = 1)]
    pub weeks: i64,
    /// Days before now whose rates are used (default 90).
    #[param(minimum = 1, maximum = 3650)]
    pub lookback_days: Option<i64>,
}

/// `GET /planner`: the goal plan (docs/metrics.md "Goal planner").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanReport {
    pub target_minor: i64,
    pub weeks: i64,
    pub currency: String,
    pub lookback: PeriodInfo,
    #[serde(flatten)]
    pub plan: GoalPlan,
}

/// A day as its midnight in the workspace time zone.
pub fn day_bound(date: Date, settings: &Settings) -> Ms {
    settings.time_zone.midnight(date.0)
}

/// Resolves optional date bounds: a missing `to` is `default_to`, a missing
/// `from` is `default_days` before `to`; `from` must come before `to`.
pub fn resolve_period(
    from: Option<Date>,
    to: Option<Date>,
    default_to: Ms,
    default_days: i64,
    settings: &Settings,
) -> InsightsResult<Period> {
    let to = match to {
        Some(d) => day_bound(d, settings),
        None => default_to,
    };
    let from = match from {
        Some(d) => day_bound(d, settings),
        None => to - default_days * DAY_MS,
    };
    if from >= to {
        return Err(Invalid::one("from", "must be a day before `to` (the period is [from, to))").into());
    }
    Ok(Period::new(from, to))
}

/// 422 when a slice names a pipeline or owner that does not exist: an
/// empty answer would read as "no activity" instead of "wrong id".
pub async fn check_slice(store: &Store, pipeline: Option<PipelineId>, owner: Option<UserId>) -> InsightsResult<()> {
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
pub async fn metrics(store: &Store, q: &MetricsQuery, now: Timestamp) -> InsightsResult<MetricsReport> {
    let settings = store.settings().await?;
    let period = resolve_period(q.from, q.to, now.0, DEFAULT_DAYS, &settings)?;
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
) -> InsightsResult<ActivityMetrics> {
    let inputs = store.activity_inputs(slice, period).await?;
    let rates = dealflow_store::minor_rates(&settings.base_currency, &settings.exchange_rates);
    Ok(activity_from(&inputs, &rates, slice))
}

/// The stage metrics of `period` under `slice`, from the store's projections.
pub async fn stage_figures(store: &Store, slice: &Slice, period: Period) -> InsightsResult<StageMetrics> {
    let (inputs, pipelines) = tokio::try_join!(store.stage_inputs(slice, period), store.metric_pipelines())?;
    Ok(stages_from(&inputs, &pipelines, slice))
}

/// The stage metrics for `q`, each stage named.
pub async fn stages(store: &Store, q: &MetricsQuery, now: Timestamp) -> InsightsResult<StagesReport> {
    let settings = store.settings().await?;
    let period = resolve_period(q.from, q.to, now.0, DEFAULT_DAYS, &settings)?;
    check_slice(store, q.pipeline_id, q.owner_id).await?;
    let slice = q.slice();
    let (figures, inputs, users) = tokio::try_join!(
        stage_figures(store, &slice, period),
        async { store.compliance_inputs(&slice, period).await.map_err(InsightsError::from) },
        async { store.users().await.map_err(InsightsError::from) },
    )?;
    let mut figures = figures.stages;
    let comp = compliance(&inputs, period);
    let mut rows = Vec::new();
    let include_archived = q.include_archived.unwrap_or(false) || q.pipeline_id.is_some();
    for p in store.pipelines().await?.into_iter().filter(|p| include_archived || !p.archived) {
        for s in &p.stages {
            // The engine reports only the stages of the sliced pipelines.
            if let Some(f) = figures.remove(&s.id) {
                rows.push(StageRow {
                    pipeline_id: p.id.to_string(),
                    pipeline: p.name.clone(),
                    pipeline_archived: p.archived,
                    stage_id: s.id.to_string(),
                    name: s.name.clone(),
                    position: s.position,
                    milestone: s.milestone,
                    figures: f,
                    playbook: comp.stages.get(&s.id).cloned().unwrap_or_default(),
                });
            }
        }
    }
    let overrides_by_owner = comp
        .overrides_by_owner
        .into_iter()
        .map(|o| OwnerOverrideRow {
            owner_id: o.owner_id.map(|u| u.to_string()),
            owner: o.owner_id.and_then(|u| users.iter().find(|x| x.id == u)).map(|x| x.name.clone()),
            overrides: o.overrides,
        })
        .collect();
    Ok(StagesReport { period: PeriodInfo::new(period, &settings), stages: rows, overrides_by_owner })
}

/// The goal plan for `target` (base minor units) over `weeks`, learning
/// from the `lookback_days` before `now`.
pub async fn plan(store: &Store, q: &PlanQuery, now: Timestamp) -> InsightsResult<PlanReport> {
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
