//! `/api/v1/email-events` (what e-mail providers reported, the unmatched
//! queue and assigning from it) and `/api/v1/replies` (inbound replies and
//! their sentiment).

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use dealflow_core::{EmailEventId, PersonId, ReplyId};
use dealflow_store::{EmailEvent, EmailEventFilter, Reply, ReplyFilter, ReplyPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(list_unmatched))
        .routes(routes!(assign_event))
        .routes(routes!(list_replies))
        .routes(routes!(update_reply))
}

/// E-mail events, newest first: sends, deliveries, opens (with
/// `machine_open` for privacy-proxy opens), clicks, bounces, complaints,
/// unsubscribes and replies, as the providers reported them.
#[utoipa::path(get, path = "/email-events", tag = "connections", params(EmailEventFilter, PageQuery),
    responses((status = 200, body = Page<EmailEvent>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_events(
    State(st): State<AppState>,
    Query(f): Query<EmailEventFilter>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<EmailEvent>>> {
    Ok(Json(st.store.email_events(&f, pq.page()?).await?.into()))
}

/// The unmatched queue: events whose address matched no person, newest
/// first. They are matched when a person with that address is created, or
/// when an admin assigns them.
#[utoipa::path(get, path = "/email-events/unmatched", tag = "connections", params(PageQuery),
    responses((status = 200, body = Page<EmailEvent>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_unmatched(State(st): State<AppState>, Query(pq): Query<PageQuery>) -> ApiResult<Json<Page<EmailEvent>>> {
    Ok(Json(st.store.unmatched_events(pq.page()?).await?.into()))
}

/// Body of an assignment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    pub person_id: PersonId,
}

/// What an assignment did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assigned {
    /// Events given to the person: this one and every other waiting event
    /// from the same address.
    pub assigned: i64,
}

/// Assign a waiting event to a person (admins), with every other waiting
/// event from the same address; they then count as if they had matched.
#[utoipa::path(post, path = "/email-events/{id}/assign", tag = "connections", params(("id" = EmailEventId, Path)),
    request_body = Assign,
    responses((status = 200, body = Assigned), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn assign_event(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<EmailEventId>,
    Json(a): Json<Assign>,
) -> ApiResult<Json<Assigned>> {
    Ok(Json(Assigned { assigned: st.store.assign_event(&u.actor(), id, a.person_id).await? }))
}

/// Inbound replies, newest first.
#[utoipa::path(get, path = "/replies", tag = "connections", params(ReplyFilter, PageQuery),
    responses((status = 200, body = Page<Reply>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_replies(
    State(st): State<AppState>,
    Query(f): Query<ReplyFilter>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<Reply>>> {
    Ok(Json(st.store.replies(&f, pq.page()?).await?.into()))
}

/// Set the sentiment of a reply (positive, neutral, negative, or `null`);
/// the outreach message it answers gets the same.
#[utoipa::path(patch, path = "/replies/{id}", tag = "connections", params(("id" = ReplyId, Path)),
    request_body = ReplyPatch,
    responses((status = 200, body = Reply), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_reply(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<ReplyId>,
    Json(p): Json<ReplyPatch>,
) -> ApiResult<Json<Reply>> {
    Ok(Json(st.store.set_reply_sentiment(&u.actor(), id, p).await?))
}
