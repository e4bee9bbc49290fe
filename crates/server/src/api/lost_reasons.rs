//! `/api/v1/lost-reasons`: the list a lost deal picks its reason from.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::LostReasonId;
use dealflow_core::model::{LostReason, LostReasonPatch, NewLostReason};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_lost_reasons, create_lost_reason)).routes(routes!(
        get_lost_reason,
        update_lost_reason,
        delete_lost_reason
    ))
}

/// All lost reasons in order.
#[utoipa::path(get, path = "/lost-reasons", tag = "lost reasons",
    responses((status = 200, body = Vec<LostReason>), (status = 401, body = Problem)))]
async fn list_lost_reasons(State(st): State<AppState>, _u: CurrentUser) -> ApiResult<Json<Vec<LostReason>>> {
    Ok(Json(st.store.lost_reasons().await?))
}

/// Add a lost reason (admins).
#[utoipa::path(post, path = "/lost-reasons", tag = "lost reasons", request_body = NewLostReason,
    responses((status = 201, body = LostReason), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_lost_reason(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewLostReason>,
) -> ApiResult<(StatusCode, Json<LostReason>)> {
    Ok((StatusCode::CREATED, Json(st.store.create_lost_reason(&u.actor(), n).await?)))
}

/// Get a lost reason.
#[utoipa::path(get, path = "/lost-reasons/{id}", tag = "lost reasons", params(("id" = LostReasonId, Path)),
    responses((status = 200, body = LostReason), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_lost_reason(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<LostReasonId>,
) -> ApiResult<Json<LostReason>> {
    Ok(Json(st.store.lost_reason(id).await?))
}

/// Rename, reorder or archive a lost reason (admins).
#[utoipa::path(patch, path = "/lost-reasons/{id}", tag = "lost reasons", params(("id" = LostReasonId, Path)), request_body = LostReasonPatch,
    responses((status = 200, body = LostReason), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_lost_reason(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<LostReasonId>,
    Json(p): Json<LostReasonPatch>,
) -> ApiResult<Json<LostReason>> {
    Ok(Json(st.store.update_lost_reason(&u.actor(), id, p).await?))
}

/// Remove a lost reason from the list (admins); deals keep their text.
#[utoipa::path(delete, path = "/lost-reasons/{id}", tag = "lost reasons", params(("id" = LostReasonId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_lost_reason(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<LostReasonId>,
) -> ApiResult<StatusCode> {
    st.store.delete_lost_reason(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
