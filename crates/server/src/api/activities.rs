//! `/api/v1/activities`: calls, meetings, e-mails, tasks and LinkedIn
//! touches, planned (with `due_at`) or done (with `done_at`).

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::ActivityId;
use dealflow_core::model::{Activity, ActivityPatch, NewActivity};
use dealflow_store::ActivityFilter;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_activities, create_activity)).routes(routes!(
        get_activity,
        update_activity,
        delete_activity
    ))
}

/// List activities, newest first.
#[utoipa::path(get, path = "/activities", tag = "activities", params(ActivityFilter, PageQuery),
    responses((status = 200, body = Page<Activity>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_activities(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<ActivityFilter>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Activity>>> {
    let page = page.page()?;
    Ok(Json(st.store.list_activities(&f, page).await?.into()))
}

/// Create an activity. `kind` defaults to `task` and the owner to the
/// caller; `done_at` and `created_at` may lie in the past, not the future.
#[utoipa::path(post, path = "/activities", tag = "activities", request_body = NewActivity,
    responses((status = 201, body = Activity), (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn create_activity(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewActivity>,
) -> ApiResult<(StatusCode, Json<Activity>)> {
    let a = st.store.create_activity(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Get an activity.
#[utoipa::path(get, path = "/activities/{id}", tag = "activities", params(("id" = ActivityId, Path)),
    responses((status = 200, body = Activity), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_activity(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<ActivityId>,
) -> ApiResult<Json<Activity>> {
    Ok(Json(st.store.activity(id).await?))
}

/// Change an activity: set `done_at` to complete it, `due_at` to
/// reschedule it (`null` clears either). `version` must be current.
#[utoipa::path(patch, path = "/activities/{id}", tag = "activities", params(("id" = ActivityId, Path)), request_body = ActivityPatch,
    responses((status = 200, body = Activity), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_activity(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<ActivityId>,
    Json(p): Json<ActivityPatch>,
) -> ApiResult<Json<Activity>> {
    Ok(Json(st.store.update_activity(&u.actor(), id, p).await?))
}

/// Delete an activity for good.
#[utoipa::path(delete, path = "/activities/{id}", tag = "activities", params(("id" = ActivityId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_activity(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<ActivityId>,
) -> ApiResult<StatusCode> {
    st.store.delete_activity(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
