//! `/api/v1/goals`: targets for a metric of docs/metrics.md over a period, for
//! the team or one owner, optionally one pipeline. Each goal comes back
//! with its `progress`: the metric's value over the goal's period and slice,
//! computed exactly as `GET /api/v1/metrics?from&to&pipeline_id&owner_id`
//! computes it, and the percent of the target reached.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::roles::Grant;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use crate::insights::{DEFAULT_DAYS, MetricsQuery, PeriodInfo, resolve_period};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::model::{GoalMetric, Settings};
use dealflow_core::time::{Date, Timestamp};
use dealflow_core::{GoalId, PipelineId, UserId};
use dealflow_store::{Goal, GoalFilter, GoalPatch, NewGoal, Store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_goals, create_goal)).routes(routes!(get_goal, update_goal, delete_goal))
}

/// A goal with its progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoalOut {
    pub id: GoalId,
    /// JSON key of a docs/metrics.md metric: `won_value`, `deals_won`,
    /// `meetings_booked`, `proposals_sent`, `outreach_sent`, `replies` or
    /// `prospects_contacted`.
    pub metric: GoalMetric,
    pub metric_label: String,
    /// Minor units of the base currency for `won_value`, a count otherwise.
    pub target: i64,
    /// First day of the period (midnight in the workspace time zone).
    pub from: Date,
    /// Day after the period (exclusive), as `to` of `/metrics`.
    pub to: Date,
    /// The deal owner the goal is for; `null` means the whole team.
    pub owner_id: Option<UserId>,
    pub pipeline_id: Option<PipelineId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    pub progress: Progress,
}

/// How far a goal has come.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    /// The metric's value over the goal's period and slice (minor units of
    /// the base currency for money).
    pub value: i64,
    /// `value / target × 100`, unrounded; `null` when the target is 0.
    pub percent: Option<f64>,
    /// The base currency, for money metrics; `null` for counts.
    pub currency: Option<String>,
    /// The period the value covers.
    pub period: PeriodInfo,
    /// True when the metric is an outreach figure under an owner or
    /// pipeline slice: outreach carries neither, so it is workspace-wide.
    pub workspace_wide: bool,
}

/// Computes a goal's progress the way `/metrics` does.
async fn progress(store: &Store, goal: &Goal, settings: &Settings) -> Result<Progress, ApiError> {
    let period = resolve_period(Some(goal.from), Some(goal.to), Timestamp::now().0, DEFAULT_DAYS, settings)?;
    let q = MetricsQuery { pipeline_id: goal.pipeline_id, owner_id: goal.owner_id, ..Default::default() };
    let m = crate::insights::activity(store, &q.slice(), period, settings).await?;
    let is_money = goal.metric.is_money();
    let outreach = goal.metric.is_outreach();
    let value = goal.metric.value(&m);
    Ok(Progress {
        value,
        percent: (goal.target != 0).then(|| value as f64 / goal.target as f64 * 100.0),
        currency: is_money.then(|| settings.base_currency.as_str().to_string()),
        period: PeriodInfo { from: Timestamp(period.from), to: Timestamp(period.to), time_zone: settings.time_zone },
        workspace_wide: outreach && m.outreach_workspace_wide,
    })
}

async fn out(store: &Store, goal: Goal, settings: &Settings) -> Result<GoalOut, ApiError> {
    let progress = progress(store, &goal, settings).await?;
    Ok(GoalOut {
        id: goal.id,
        metric_label: goal.metric.label().to_string(),
        metric: goal.metric,
        target: goal.target,
        from: goal.from,
        to: goal.to,
        owner_id: goal.owner_id,
        pipeline_id: goal.pipeline_id,
        created_at: goal.created_at,
        updated_at: goal.updated_at,
        version: goal.version,
        progress,
    })
}

async fn with_progress(store: &Store, goals: Vec<Goal>) -> Result<Vec<GoalOut>, ApiError> {
    if goals.is_empty() {
        return Ok(Vec::new());
    }
    let settings = store.settings().await?;
    let mut out_goals = Vec::with_capacity(goals.len());
    for g in goals {
        out_goals.push(out(store, g, &settings).await?);
    }
    Ok(out_goals)
}

async fn one(store: &Store, goal: Goal) -> Result<GoalOut, ApiError> {
    Ok(with_progress(store, vec![goal]).await?.remove(0))
}

/// Goals with their progress, exactly as the API shows them (for the web pages).
pub async fn goals_with_progress(store: &Store, goals: Vec<Goal>) -> Result<Vec<GoalOut>, ApiError> {
    with_progress(store, goals).await
}

fn goal_id(id: &str) -> Result<GoalId, ApiError> {
    id.trim().parse().map_err(|_| ApiError::NotFound(format!("no goal `{id}`: ids are numbers")))
}

/// Body of `POST /api/v1/goals`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGoalBody {
    pub metric: String,
    /// Minor units of the base currency for money metrics, a count
    /// otherwise; zero or more.
    pub target: i64,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Day after the period (exclusive), `YYYY-MM-DD`; after `from`.
    pub to: String,
    /// Omit (or `null`) for a team goal.
    pub owner_id: Option<UserId>,
    pub pipeline_id: Option<PipelineId>,
}

/// Body of `PATCH /api/v1/goals/{id}`: absent fields stay, `null` clears
/// `owner_id` / `pipeline_id`; `version` must be current.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalPatchBody {
    pub version: i64,
    pub metric: Option<String>,
    pub target: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(default, deserialize_with = "dealflow_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub owner_id: Option<Option<UserId>>,
    #[serde(default, deserialize_with = "dealflow_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub pipeline_id: Option<Option<PipelineId>>,
}

/// List goals, newest first, each with its progress.
#[utoipa::path(get, path = "/goals", tag = "goals", params(GoalFilter, PageQuery),
    responses((status = 200, body = Page<GoalOut>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_goals(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<GoalFilter>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<GoalOut>>> {
    let page = pq.page()?;
    let list = st.store.list_goals(&f, page).await?;
    Ok(Json(Page { items: with_progress(&st.store, list.items).await?, next_cursor: list.next_cursor }))
}

/// Create a goal. Unknown `metric`, a negative `target` or `from` not
/// before `to` are 422 naming the field. A rep creates goals only for
/// themselves (403 for a team goal or someone else's).
#[utoipa::path(post, path = "/goals", tag = "goals", request_body = NewGoalBody,
    responses((status = 201, body = GoalOut), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn create_goal(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Json(b): Json<NewGoalBody>,
) -> ApiResult<(StatusCode, Json<GoalOut>)> {
    grant.check_own(
        b.owner_id == Some(u.user.id),
        "a rep may create goals only for themselves; set `owner_id` to your id",
    )?;
    let n = NewGoal {
        metric: b.metric,
        target: b.target,
        from: b.from,
        to: b.to,
        owner_id: b.owner_id,
        pipeline_id: b.pipeline_id,
    };
    let g = st.store.create_goal(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(one(&st.store, g).await?)))
}

/// Get a goal with its progress.
#[utoipa::path(get, path = "/goals/{id}", tag = "goals", params(("id" = String, Path)),
    responses((status = 200, body = GoalOut), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_goal(State(st): State<AppState>, _u: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<GoalOut>> {
    let g = st.store.goal(goal_id(&id)?).await?;
    Ok(Json(one(&st.store, g).await?))
}

/// Change a goal (its owner, managers and admins); `version` must be
/// current (409 if not).
#[utoipa::path(patch, path = "/goals/{id}", tag = "goals", params(("id" = String, Path)), request_body = GoalPatchBody,
    responses((status = 200, body = GoalOut), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_goal(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Path(id): Path<String>,
    Json(b): Json<GoalPatchBody>,
) -> ApiResult<Json<GoalOut>> {
    let p = GoalPatch {
        version: b.version,
        metric: b.metric,
        target: b.target,
        from: b.from,
        to: b.to,
        owner_id: b.owner_id,
        pipeline_id: b.pipeline_id,
    };
    let id = goal_id(&id)?;
    may_change_goal(&u, grant, &st.store.goal(id).await?)?;
    if grant.own_only() && p.owner_id.is_some_and(|o| o != Some(u.user.id)) {
        return Err(ApiError::Forbidden("a rep may not hand a goal to someone else or to the team".into()));
    }
    let g = st.store.update_goal(&u.actor(), id, p).await?;
    Ok(Json(one(&st.store, g).await?))
}

/// Only the goal's owner, managers and admins may change or delete a
/// goal; a team goal (no owner) is theirs alone. (The role matrix's rule:
/// reps own only.)
fn may_change_goal(u: &CurrentUser, grant: Grant, goal: &Goal) -> Result<(), ApiError> {
    grant.check_own(
        goal.owner_id == Some(u.user.id),
        "only the goal's owner, a manager or an admin may change or delete this goal; ask one of them",
    )
}

/// Delete a goal (its owner, managers and admins).
#[utoipa::path(delete, path = "/goals/{id}", tag = "goals", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_goal(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = goal_id(&id)?;
    may_change_goal(&u, grant, &st.store.goal(id).await?)?;
    st.store.delete_goal(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
