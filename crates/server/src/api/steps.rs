//! Playbooks over HTTP: the steps of a stage (admins edit, everyone
//! reads), a deal's checklist with its ticks, the moves a deal may make
//! now, and the overrides recorded.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::model::Role;
use dealflow_core::playbook::view::{ChecklistItem, Move, OverrideRecord};
use dealflow_core::playbook::{Step, StepSpec, Template};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, Invalid, StageId, StepId};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_steps, create_step))
        .routes(routes!(update_step, delete_step))
        .routes(routes!(preview_template))
        .routes(routes!(deal_steps))
        .routes(routes!(step_done))
        .routes(routes!(step_undone))
        .routes(routes!(step_skip))
        .routes(routes!(deal_moves))
        .routes(routes!(list_overrides))
}

/// Refuses (403) a role the workspace setting `override_roles` does not
/// name: only those may move a deal on with an `override_reason`. It is
/// about the caller, not the deal, so the API checks it, not the decision.
pub async fn check_override(st: &AppState, role: Role) -> ApiResult<()> {
    let settings = st.store.settings().await?;
    if settings.may_override(role) {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "a {} may not override the playbook rules: {} may (the workspace setting `override_roles`); \
         do the open steps, or ask one of them",
        role.as_str(),
        settings.override_who()
    )))
}

/// The steps of a stage, in order.
#[utoipa::path(get, path = "/stages/{id}/steps", tag = "playbooks", params(("id" = StageId, Path)),
    responses((status = 200, body = Vec<Step>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn list_steps(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<StageId>,
) -> ApiResult<Json<Vec<Step>>> {
    Ok(Json(st.store.stage_steps(id).await?))
}

/// Add a step to the end of a stage's checklist (admins).
#[utoipa::path(post, path = "/stages/{id}/steps", tag = "playbooks", params(("id" = StageId, Path)), request_body = StepSpec,
    responses((status = 201, body = Step), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_step(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<StageId>,
    Json(spec): Json<StepSpec>,
) -> ApiResult<(StatusCode, Json<Step>)> {
    Ok((StatusCode::CREATED, Json(st.store.create_step(&u.actor(), id, spec).await?)))
}

/// Change a step (admins): `version` and the properties to change;
/// `position` reorders. The whole step is checked again.
#[utoipa::path(patch, path = "/steps/{id}", tag = "playbooks", params(("id" = StepId, Path)), request_body = Object,
    responses((status = 200, body = Step), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update_step(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<StepId>,
    Json(patch): Json<Value>,
) -> ApiResult<Json<Step>> {
    Ok(Json(st.store.update_step(&u.actor(), id, &patch).await?))
}

/// Remove a step (admins). Deals keep its history; it no longer gates.
#[utoipa::path(delete, path = "/steps/{id}", tag = "playbooks", params(("id" = StepId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_step(State(st): State<AppState>, u: CurrentUser, Path(id): Path<StepId>) -> ApiResult<StatusCode> {
    st.store.delete_step(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /api/v1/steps/preview`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The e-mail template to fill in, as a step would carry it.
    pub template: Template,
    /// A deal whose values fill the placeholders; sample values without one.
    pub deal_id: Option<DealId>,
}

/// Fill in an e-mail template (admins, for the step editor's live
/// preview): from the deal's values when `deal_id` is given, otherwise
/// with sample values that show what each placeholder stands for. An
/// unknown placeholder is a 422 naming it, as when the step is saved.
#[utoipa::path(post, path = "/steps/preview", tag = "playbooks", request_body = PreviewRequest,
    responses((status = 200, body = Template), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn preview_template(
    State(st): State<AppState>,
    _u: CurrentUser,
    Json(req): Json<PreviewRequest>,
) -> ApiResult<Json<Template>> {
    Ok(Json(st.store.preview_template(&req.template, req.deal_id).await?))
}

/// The checklist of the deal's current stage.
#[utoipa::path(get, path = "/deals/{id}/steps", tag = "playbooks", params(("id" = DealId, Path)),
    responses((status = 200, body = Vec<ChecklistItem>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn deal_steps(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<DealId>,
) -> ApiResult<Json<Vec<ChecklistItem>>> {
    Ok(Json(st.store.deal_checklist(id).await?))
}

/// Tick a step of the deal's current stage done: a task step completes its
/// task, an e-mail step counts as sent by hand. Answers the checklist.
#[utoipa::path(post, path = "/deals/{id}/steps/{step_id}/done", tag = "playbooks",
    params(("id" = DealId, Path), ("step_id" = StepId, Path)),
    responses((status = 200, body = Vec<ChecklistItem>), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn step_done(
    State(st): State<AppState>,
    u: CurrentUser,
    Path((id, step)): Path<(DealId, StepId)>,
) -> ApiResult<Json<Vec<ChecklistItem>>> {
    st.store.tick_step(&u.actor(), id, step, true).await?;
    Ok(Json(st.store.deal_checklist(id).await?))
}

/// Untick a step: it is open again, and so is its task; a skipped step is
/// reopened. Answers the checklist.
#[utoipa::path(post, path = "/deals/{id}/steps/{step_id}/undone", tag = "playbooks",
    params(("id" = DealId, Path), ("step_id" = StepId, Path)),
    responses((status = 200, body = Vec<ChecklistItem>), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn step_undone(
    State(st): State<AppState>,
    u: CurrentUser,
    Path((id, step)): Path<(DealId, StepId)>,
) -> ApiResult<Json<Vec<ChecklistItem>>> {
    st.store.tick_step(&u.actor(), id, step, false).await?;
    Ok(Json(st.store.deal_checklist(id).await?))
}

/// Body of `POST /api/v1/deals/{id}/steps/{step_id}/skip`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipBody {
    /// Why the step need not be done (required, at most 500 characters).
    pub reason: String,
}

/// Mark a step of the deal's current stage skipped with a reason (managers
/// and admins): it counts as done for the gate, and the checklist shows
/// who skipped it, when and why. `/undone` reopens it. Answers the checklist.
#[utoipa::path(post, path = "/deals/{id}/steps/{step_id}/skip", tag = "playbooks",
    params(("id" = DealId, Path), ("step_id" = StepId, Path)), request_body = SkipBody,
    responses((status = 200, body = Vec<ChecklistItem>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn step_skip(
    State(st): State<AppState>,
    u: CurrentUser,
    Path((id, step)): Path<(DealId, StepId)>,
    Json(body): Json<SkipBody>,
) -> ApiResult<Json<Vec<ChecklistItem>>> {
    st.store.skip_step(&u.actor(), id, step, &body.reason).await?;
    Ok(Json(st.store.deal_checklist(id).await?))
}

/// For every stage of the deal's pipeline and for won: whether the deal
/// may move there now, and the open required steps that block it.
#[utoipa::path(get, path = "/deals/{id}/moves", tag = "playbooks", params(("id" = DealId, Path)),
    responses((status = 200, body = Vec<Move>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn deal_moves(State(st): State<AppState>, _u: CurrentUser, Path(id): Path<DealId>) -> ApiResult<Json<Vec<Move>>> {
    Ok(Json(st.store.deal_moves(id).await?))
}

/// The period of `GET /api/v1/overrides`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverridesQuery {
    /// Start (RFC 3339, inclusive), like the audit log's. Default: 7 days before `to`.
    pub from: Option<Timestamp>,
    /// End (RFC 3339, inclusive). Default: now.
    pub to: Option<Timestamp>,
}

/// Moves made past open required steps in a period, oldest first (at most
/// 10,000).
#[utoipa::path(get, path = "/overrides", tag = "playbooks", params(OverridesQuery),
    responses((status = 200, body = Vec<OverrideRecord>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_overrides(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<OverridesQuery>,
) -> ApiResult<Json<Vec<OverrideRecord>>> {
    let mut errs = Invalid::new();
    let to = q.to.unwrap_or_else(Timestamp::now);
    let from = q.from.unwrap_or(Timestamp(to.0 - 7 * 86_400_000));
    if from > to {
        errs.add("from", "lies after `to`");
    }
    errs.into_result().map_err(ApiError::from)?;
    Ok(Json(st.store.overrides(from, to).await?))
}
