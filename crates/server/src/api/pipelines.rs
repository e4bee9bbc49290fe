//! `/api/v1/pipelines` and `/api/v1/stages`: the sales process.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::model::{NewPipeline, NewStage, Pipeline, PipelinePatch, Stage, StagePatch};
use dealflow_core::{PipelineId, StageId};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_pipelines, create_pipeline))
        .routes(routes!(get_pipeline, update_pipeline))
        .routes(routes!(add_stage))
        .routes(routes!(get_stage, update_stage, delete_stage))
}

/// All pipelines with their stages, in order.
#[utoipa::path(get, path = "/pipelines", tag = "pipelines",
    responses((status = 200, body = Vec<Pipeline>), (status = 401, body = Problem)))]
async fn list_pipelines(State(st): State<AppState>, _u: CurrentUser) -> ApiResult<Json<Vec<Pipeline>>> {
    Ok(Json(st.store.pipelines().await?))
}

/// Create a pipeline with its stages (admins).
#[utoipa::path(post, path = "/pipelines", tag = "pipelines", request_body = NewPipeline,
    responses((status = 201, body = Pipeline), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_pipeline(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewPipeline>,
) -> ApiResult<(StatusCode, Json<Pipeline>)> {
    Ok((StatusCode::CREATED, Json(st.store.create_pipeline(&u.actor(), n).await?)))
}

/// Get a pipeline with its stages.
#[utoipa::path(get, path = "/pipelines/{id}", tag = "pipelines", params(("id" = PipelineId, Path)),
    responses((status = 200, body = Pipeline), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_pipeline(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<PipelineId>,
) -> ApiResult<Json<Pipeline>> {
    Ok(Json(st.store.pipeline(id).await?))
}

/// Rename, reorder or archive a pipeline (admins).
#[utoipa::path(patch, path = "/pipelines/{id}", tag = "pipelines", params(("id" = PipelineId, Path)), request_body = PipelinePatch,
    responses((status = 200, body = Pipeline), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_pipeline(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<PipelineId>,
    Json(p): Json<PipelinePatch>,
) -> ApiResult<Json<Pipeline>> {
    Ok(Json(st.store.update_pipeline(&u.actor(), id, p).await?))
}

/// Add a stage to a pipeline (admins).
#[utoipa::path(post, path = "/pipelines/{id}/stages", tag = "pipelines", params(("id" = PipelineId, Path)), request_body = NewStage,
    responses((status = 201, body = Stage), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_stage(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<PipelineId>,
    Json(n): Json<NewStage>,
) -> ApiResult<(StatusCode, Json<Stage>)> {
    Ok((StatusCode::CREATED, Json(st.store.add_stage(&u.actor(), id, n).await?)))
}

/// Get a stage.
#[utoipa::path(get, path = "/stages/{id}", tag = "pipelines", params(("id" = StageId, Path)),
    responses((status = 200, body = Stage), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_stage(State(st): State<AppState>, _u: CurrentUser, Path(id): Path<StageId>) -> ApiResult<Json<Stage>> {
    Ok(Json(st.store.stage(id).await?))
}

/// Rename, reorder, archive a stage or set its probability, rotting days
/// and milestone (admins).
#[utoipa::path(patch, path = "/stages/{id}", tag = "pipelines", params(("id" = StageId, Path)), request_body = StagePatch,
    responses((status = 200, body = Stage), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_stage(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<StageId>,
    Json(p): Json<StagePatch>,
) -> ApiResult<Json<Stage>> {
    Ok(Json(st.store.update_stage(&u.actor(), id, p).await?))
}

/// Delete a stage no deal was ever in (admins); otherwise archive it.
#[utoipa::path(delete, path = "/stages/{id}", tag = "pipelines", params(("id" = StageId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem, description = "The pipeline's last active stage")))]
async fn delete_stage(State(st): State<AppState>, u: CurrentUser, Path(id): Path<StageId>) -> ApiResult<StatusCode> {
    st.store.delete_stage(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
