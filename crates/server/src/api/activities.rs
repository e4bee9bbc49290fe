//! `/api/v1/activities`: calls, meetings, e-mails, tasks and LinkedIn
//! touches, planned (with `due_at`) or done (with `done_at`).

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::model::{Activity, ActivityPatch, NewActivity};
use dealflow_core::time::Timestamp;
use dealflow_core::{ActivityId, DealId, OrganizationId, PersonId, UserId};
use dealflow_store::ActivityFilter;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_activities, create_activity)).routes(routes!(
        get_activity,
        update_activity,
        delete_activity
    ))
}

/// Filters of the activity list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    pub deal_id: Option<DealId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    pub owner_id: Option<UserId>,
    /// `true`: only done activities; `false`: only open ones.
    pub done: Option<bool>,
    /// Only activities due strictly before this time.
    pub due_before: Option<Timestamp>,
    /// Only activities due at or after this time.
    pub due_after: Option<Timestamp>,
    /// Only activities changed at or after this time.
    pub updated_since: Option<Timestamp>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List activities, newest first.
#[utoipa::path(get, path = "/activities", tag = "activities", params(ActivityQuery),
    responses((status = 200, body = Page<Activity>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_activities(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<ActivityQuery>,
) -> ApiResult<Json<Page<Activity>>> {
    let page = PageQuery { limit: q.limit, cursor: q.cursor.clone() }.page()?;
    let f = ActivityFilter {
        deal_id: q.deal_id,
        person_id: q.person_id,
        organization_id: q.organization_id,
        owner_id: q.owner_id,
        done: q.done,
        due_before: q.due_before,
        due_after: q.due_after,
        updated_since: q.updated_since,
    };
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
