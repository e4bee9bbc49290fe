//! `/api/v1/deals`: deals, their stage moves (through PATCH), soft delete
//! and restore, and their stage events and field history.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::DealId;
use dealflow_core::deal_change::is_history;
use dealflow_core::model::{Deal, DealPatch, FieldChange, NewDeal, Role, StageEvent};
use dealflow_core::time::Timestamp;
use dealflow_store::{DealFilter, LogCursor};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deals, create_deal))
        .routes(routes!(get_deal, update_deal, delete_deal))
        .routes(routes!(restore_deal))
        .routes(routes!(deal_events))
        .routes(routes!(deal_history))
}

/// List deals, newest first.
#[utoipa::path(get, path = "/deals", tag = "deals", params(DealFilter, PageQuery),
    responses((status = 200, body = Page<Deal>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_deals(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<DealFilter>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Deal>>> {
    let page = page.page()?;
    Ok(Json(st.store.list_deals(&f, page).await?.into()))
}

/// Create a deal. It enters the given stage (or the pipeline's first) at
/// `created_at`; admins may load history with past times (more than five
/// minutes back: 403 for others), and the events are marked `loaded`. In a
/// pipeline without skipping stages it starts in the first stage, unless a
/// role the workspace allows gives `override_reason` (403 for others).
#[utoipa::path(post, path = "/deals", tag = "deals", request_body = NewDeal,
    responses((status = 201, body = Deal), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_deal(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewDeal>,
) -> ApiResult<(StatusCode, Json<Deal>)> {
    check_history(u.user.role, &[("created_at", n.created_at), ("closed_at", n.closed_at)])?;
    if n.override_reason.as_deref().is_some_and(|r| !r.trim().is_empty()) {
        super::steps::check_override(&st, u.user.role).await?;
    }
    let d = st.store.create_deal(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// Get a deal.
#[utoipa::path(get, path = "/deals/{id}", tag = "deals", params(("id" = DealId, Path)),
    responses((status = 200, body = Deal), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_deal(State(st): State<AppState>, _u: CurrentUser, Path(id): Path<DealId>) -> ApiResult<Json<Deal>> {
    Ok(Json(st.store.deal(id).await?))
}

/// Change a deal. `stage_id`, `pipeline_id`, `status` and `lost_reason`
/// move it (checked by the stage rules); `version` must be current. A
/// forward move needs the current stage's required playbook steps done
/// (422 listing each open step under `steps`), unless a role the workspace
/// setting `override_roles` names (admins and managers by default) gives
/// `override_reason` (any other role that does gets 403).
#[utoipa::path(patch, path = "/deals/{id}", tag = "deals", params(("id" = DealId, Path)), request_body = DealPatch,
    responses((status = 200, body = Deal), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update_deal(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<DealId>,
    Json(p): Json<DealPatch>,
) -> ApiResult<Json<Deal>> {
    check_history(u.user.role, &[("at", p.at)])?;
    if p.override_reason.as_deref().is_some_and(|r| !r.trim().is_empty()) {
        super::steps::check_override(&st, u.user.role).await?;
    }
    Ok(Json(st.store.update_deal(&u.actor(), id, p).await?))
}

/// Refuses (403) a time more than five minutes in the past from anyone but
/// an admin: loading history is not working a deal, so back-dating is no
/// way round the playbook gate. Future times are the decision's to refuse.
fn check_history(role: Role, times: &[(&str, Option<Timestamp>)]) -> ApiResult<()> {
    let now = Timestamp::now();
    let Some((field, _)) = times.iter().find(|(_, t)| t.is_some_and(|t| is_history(t, now))) else { return Ok(()) };
    if role == Role::Admin {
        return Ok(());
    }
    Err(crate::error::ApiError::Forbidden(format!(
        "only admins load history: `{field}` lies more than 5 minutes in the past; leave it out to record the change \
         as happening now"
    )))
}

/// Move a deal to the trash (restorable).
#[utoipa::path(delete, path = "/deals/{id}", tag = "deals", params(("id" = DealId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_deal(State(st): State<AppState>, u: CurrentUser, Path(id): Path<DealId>) -> ApiResult<StatusCode> {
    st.store.delete_deal(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a deal from the trash.
#[utoipa::path(post, path = "/deals/{id}/restore", tag = "deals", params(("id" = DealId, Path)),
    responses((status = 200, body = Deal), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn restore_deal(State(st): State<AppState>, u: CurrentUser, Path(id): Path<DealId>) -> ApiResult<Json<Deal>> {
    Ok(Json(st.store.restore_deal(&u.actor(), id).await?))
}

/// Paging of a deal's stage log or field history: `limit` (1–500,
/// default 500) and `cursor`, the `next_cursor` of the previous page.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Entries per page, 1–500 (default 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^([0-9]{1,18}\.[0-9]{1,18})?$")]
    pub cursor: Option<String>,
}

impl LogQuery {
    fn parse(&self) -> Result<(Option<LogCursor>, i64), crate::error::ApiError> {
        let limit = self.limit.unwrap_or(dealflow_store::Page::MAX);
        if !(1..=dealflow_store::Page::MAX).contains(&limit) {
            return Err(dealflow_core::Invalid::one("limit", "must be between 1 and 500").into());
        }
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(c.parse::<LogCursor>().map_err(|_| {
                crate::error::ApiError::BadRequest(format!(
                    "`{c}` is not a cursor; pass the next_cursor of a previous page"
                ))
            })?),
        };
        Ok((after, limit))
    }
}

/// The deal's stage log, oldest first, a page at a time.
#[utoipa::path(get, path = "/deals/{id}/events", tag = "deals", params(("id" = DealId, Path), LogQuery),
    responses((status = 200, body = Page<StageEvent>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn deal_events(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<DealId>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Page<StageEvent>>> {
    let (after, limit) = q.parse()?;
    st.store.deal(id).await?;
    Ok(Json(st.store.deal_events_page(id, after, limit).await?.into()))
}

/// The deal's field history, oldest first, a page at a time.
#[utoipa::path(get, path = "/deals/{id}/history", tag = "deals", params(("id" = DealId, Path), LogQuery),
    responses((status = 200, body = Page<FieldChange>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn deal_history(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<DealId>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Page<FieldChange>>> {
    let (after, limit) = q.parse()?;
    st.store.deal(id).await?;
    Ok(Json(st.store.deal_history_page(id, after, limit).await?.into()))
}
