//! `/api/v1/metrics`, `/metrics/stages`, `/forecast` and `/planner`: the
//! pipeline metrics of docs/metrics.md. The handlers only read parameters and
//! answer; the computing is in the insights crate (`dealflow_insights`),
//! shared with the pages and the CLI.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query};
use crate::insights::{
    self, ForecastQuery, ForecastReport, MetricsQuery, MetricsReport, PlanQuery, PlanReport, StagesReport,
};
use axum::extract::State;
use dealflow_core::time::Timestamp;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_metrics))
        .routes(routes!(get_stage_metrics))
        .routes(routes!(get_forecast))
        .routes(routes!(get_planner))
}

/// Activity metrics of a period (default: the last 90 days). Dates are
/// `YYYY-MM-DD`, read as midnight in the workspace time zone; the period is
/// `[from, to)`. Rates with a zero denominator are `null`.
#[utoipa::path(get, path = "/metrics", tag = "metrics", params(MetricsQuery),
    responses((status = 200, body = MetricsReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn get_metrics(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<Json<MetricsReport>> {
    Ok(Json(insights::metrics(&st.store, &q, Timestamp::now()).await?))
}

/// Per-stage close rate, cohort reach and time in stage, with stage names.
/// Archived pipelines are left out unless `include_archived=true` (or
/// `pipeline_id` names one); each row says whether its pipeline is archived.
#[utoipa::path(get, path = "/metrics/stages", tag = "metrics", params(MetricsQuery),
    responses((status = 200, body = StagesReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn get_stage_metrics(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<Json<StagesReport>> {
    Ok(Json(insights::stages(&st.store, &q, Timestamp::now()).await?))
}

/// The forecast of the deals open at `as_of` (default now): weighted
/// pipeline (total and per month of expected close), each deal's win
/// probability with its source, unforecastable deals, and the P10/P50/P90
/// of the won value for `[from, to)` (default the 90 days from `as_of`).
/// Forecasts are computed a few at a time: when all slots stay taken for a
/// few seconds the answer is 503 with `Retry-After`.
#[utoipa::path(get, path = "/forecast", tag = "metrics", params(ForecastQuery),
    responses((status = 200, body = ForecastReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn get_forecast(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<ForecastQuery>,
) -> ApiResult<Json<ForecastReport>> {
    Ok(Json(insights::forecast(&st.store, &q, Timestamp::now(), &st.heavy).await?))
}

/// The goal planner: what it takes to win `target` (minor units of the
/// base currency) in `weeks`, at the rates of the last `lookback_days`.
#[utoipa::path(get, path = "/planner", tag = "metrics", params(PlanQuery),
    responses((status = 200, body = PlanReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn get_planner(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<PlanQuery>,
) -> ApiResult<Json<PlanReport>> {
    Ok(Json(insights::plan(&st.store, &q, Timestamp::now()).await?))
}
