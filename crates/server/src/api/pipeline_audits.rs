//! Weekly pipeline audits over HTTP: take one (managers and admins), read
//! it, decide on its items (reps on their own deals), sign it off, export
//! it. What each fact and flag means: docs/metrics.md "Audit facts"; the
//! meeting: docs/audits.md.

use super::exports::FormatQuery;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::roles::Grant;
use crate::error::{ApiResult, Problem};
use crate::export;
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dealflow_core::pipeline_audit::Decision;
use dealflow_core::{DealId, PipelineAuditId, PipelineId, UserId};
use dealflow_store::{AuditItem, PipelineAudit};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audits, create_audit))
        .routes(routes!(get_audit))
        .routes(routes!(decide))
        .routes(routes!(sign_off))
        .routes(routes!(export_audit))
}

/// Body of `POST /api/v1/audits`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAudit {
    pub pipeline_id: PipelineId,
    /// Only this owner's deals.
    pub owner_id: Option<UserId>,
}

/// Take an audit of a pipeline: a snapshot of every open deal (of one
/// owner when `owner_id` is given) in stage order, each with its last
/// contact, whether it is still qualified, its next action, its flags and
/// what changed since the previous audit.
#[utoipa::path(post, path = "/audits", tag = "audits", request_body = NewAudit,
    responses((status = 201, body = PipelineAudit), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_audit(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewAudit>,
) -> ApiResult<(StatusCode, Json<PipelineAudit>)> {
    let a = st.store.create_audit(&u.actor(), n.pipeline_id, n.owner_id).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Filters of `GET /audits`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    pub pipeline_id: Option<PipelineId>,
    /// At most 200; 50 by default.
    pub limit: Option<i64>,
}

/// The audits, newest first, with their progress and summaries (items left out).
#[utoipa::path(get, path = "/audits", tag = "audits", params(AuditListQuery),
    responses((status = 200, body = Vec<PipelineAudit>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_audits(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<AuditListQuery>,
) -> ApiResult<Json<Vec<PipelineAudit>>> {
    Ok(Json(st.store.audits(q.pipeline_id, q.limit.unwrap_or(50)).await?))
}

/// An audit with its items in stage order, its `status` (`open` or
/// `signed_off`), progress and, once signed off, its summary.
#[utoipa::path(get, path = "/audits/{id}", tag = "audits", params(("id" = PipelineAuditId, Path)),
    responses((status = 200, body = PipelineAudit), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_audit(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<PipelineAuditId>,
) -> ApiResult<Json<PipelineAudit>> {
    Ok(Json(st.store.audit(id).await?))
}

/// Decide on a deal of an open audit: `keep` (with an optional
/// `next_action` that becomes a task), `disqualify` (loses the deal,
/// `lost_reason` optional), `move` (`stage_id`; the playbook gate applies,
/// `override_reason` for roles that may override), `reassign` (`owner_id`)
/// or `update_close_date` (`expected_close_date`), each with an optional
/// `note`. The deal changes through the same path as any edit. Reps decide
/// on their own deals' items. A signed-off audit, an item already decided,
/// or a deal deleted or closed since the snapshot get 409.
#[utoipa::path(post, path = "/audits/{id}/items/{deal_id}/decision", tag = "audits",
    params(("id" = PipelineAuditId, Path), ("deal_id" = DealId, Path)), request_body = Decision,
    responses((status = 200, body = AuditItem), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn decide(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Path((id, deal)): Path<(PipelineAuditId, DealId)>,
    Json(d): Json<Decision>,
) -> ApiResult<Json<AuditItem>> {
    if grant.own_only() {
        let item = st.store.audit_item(id, deal).await?;
        let now_owner = st.store.deal(deal).await.ok().and_then(|d| d.owner_id);
        let mine = item.facts.owner_id == Some(u.user.id) || now_owner == Some(u.user.id);
        grant.check_own(mine, "a rep decides only on the audit items of deals they own")?;
    }
    if d.override_reason.as_deref().is_some_and(|r| !r.trim().is_empty()) {
        super::steps::check_override(&st, u.user.role).await?;
    }
    Ok(Json(st.store.decide_audit_item(&u.actor(), id, deal, d).await?))
}

/// Sign an audit off: later decisions get 409; undecided items stay
/// undecided and are counted in the summary, which is kept with the audit
/// and sent as the `audit.signed_off` webhook event.
#[utoipa::path(post, path = "/audits/{id}/sign-off", tag = "audits", params(("id" = PipelineAuditId, Path)),
    responses((status = 200, body = PipelineAudit), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn sign_off(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<PipelineAuditId>,
) -> ApiResult<Json<PipelineAudit>> {
    Ok(Json(st.store.sign_off_audit(&u.actor(), id).await?))
}

/// Download an audit as CSV or XLSX: one row per deal with its facts and
/// the decision.
#[utoipa::path(get, path = "/audits/{id}/export", tag = "audits", params(("id" = PipelineAuditId, Path), FormatQuery),
    responses((status = 200, description = "The file (text/csv or XLSX), as an attachment"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn export_audit(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<PipelineAuditId>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult<Response> {
    let a = st.store.audit(id).await?;
    let (pipeline, users, settings) =
        tokio::try_join!(st.store.pipeline(a.pipeline_id), st.store.users(), st.store.settings())?;
    export::audit(&a, &pipeline.stages, &users, &settings, fmt.format.unwrap_or_default())?.into_response()
}
