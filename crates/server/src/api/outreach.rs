//! `/api/v1/outreach`: messages sent to people and their replies, with
//! soft delete and restore.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::OutreachId;
use dealflow_core::model::{NewOutreachMessage, OutreachMessage, OutreachPatch};
use dealflow_store::OutreachFilter;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_outreach, create_outreach))
        .routes(routes!(get_outreach, update_outreach, delete_outreach))
        .routes(routes!(restore_outreach))
}

/// List outreach messages, newest first.
#[utoipa::path(get, path = "/outreach", tag = "outreach", params(OutreachFilter, PageQuery),
    responses((status = 200, body = Page<OutreachMessage>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_outreach(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<OutreachFilter>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<OutreachMessage>>> {
    let page = page.page()?;
    Ok(Json(st.store.list_outreach(&f, page).await?.into()))
}

/// Record a message sent to a person. `channel` defaults to the campaign's,
/// else `email`; `sent_at` to now. A reply (`replied_at`, `sentiment`) may
/// be given at once when loading history.
#[utoipa::path(post, path = "/outreach", tag = "outreach", request_body = NewOutreachMessage,
    responses((status = 201, body = OutreachMessage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn create_outreach(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewOutreachMessage>,
) -> ApiResult<(StatusCode, Json<OutreachMessage>)> {
    let m = st.store.create_outreach(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// Get an outreach message.
#[utoipa::path(get, path = "/outreach/{id}", tag = "outreach", params(("id" = OutreachId, Path)),
    responses((status = 200, body = OutreachMessage), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_outreach(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<OutreachId>,
) -> ApiResult<Json<OutreachMessage>> {
    Ok(Json(st.store.outreach(id).await?))
}

/// Change a message, typically to record a reply: `replied_at` must not lie
/// before `sent_at` nor in the future, and `sentiment` needs a reply.
/// `version` must be current.
#[utoipa::path(patch, path = "/outreach/{id}", tag = "outreach", params(("id" = OutreachId, Path)), request_body = OutreachPatch,
    responses((status = 200, body = OutreachMessage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_outreach(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<OutreachId>,
    Json(p): Json<OutreachPatch>,
) -> ApiResult<Json<OutreachMessage>> {
    Ok(Json(st.store.update_outreach(&u.actor(), id, p).await?))
}

/// Move a message to the trash (restorable).
#[utoipa::path(delete, path = "/outreach/{id}", tag = "outreach", params(("id" = OutreachId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_outreach(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<OutreachId>,
) -> ApiResult<StatusCode> {
    st.store.delete_outreach(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a message from the trash.
#[utoipa::path(post, path = "/outreach/{id}/restore", tag = "outreach", params(("id" = OutreachId, Path)),
    responses((status = 200, body = OutreachMessage), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn restore_outreach(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<OutreachId>,
) -> ApiResult<Json<OutreachMessage>> {
    Ok(Json(st.store.restore_outreach(&u.actor(), id).await?))
}
