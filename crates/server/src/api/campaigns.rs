//! `/api/v1/campaigns`: the campaigns outreach messages belong to, and
//! their members (people enrolled by hand or by a playbook's campaign step).

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::model::{Campaign, CampaignMember, CampaignPatch, NewCampaign, NewMember};
use dealflow_core::{CampaignId, PersonId};
use dealflow_store::{CampaignFilter, MemberFilter};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(get_campaign, update_campaign, delete_campaign))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
}

/// List campaigns, newest first.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns", params(CampaignFilter, PageQuery),
    responses((status = 200, body = Page<Campaign>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_campaigns(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<CampaignFilter>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Campaign>>> {
    let page = page.page()?;
    Ok(Json(st.store.list_campaigns(&f, page).await?.into()))
}

/// Create a campaign; its `channel` becomes the default of its messages.
#[utoipa::path(post, path = "/campaigns", tag = "campaigns", request_body = NewCampaign,
    responses((status = 201, body = Campaign), (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn create_campaign(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewCampaign>,
) -> ApiResult<(StatusCode, Json<Campaign>)> {
    let c = st.store.create_campaign(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Get a campaign.
#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns", params(("id" = CampaignId, Path)),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_campaign(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<CampaignId>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(st.store.campaign(id).await?))
}

/// Rename a campaign or change its channel. `version` must be current.
#[utoipa::path(patch, path = "/campaigns/{id}", tag = "campaigns", params(("id" = CampaignId, Path)), request_body = CampaignPatch,
    responses((status = 200, body = Campaign), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_campaign(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<CampaignId>,
    Json(p): Json<CampaignPatch>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(st.store.update_campaign(&u.actor(), id, p).await?))
}

/// Delete a campaign for good, with its membership history; refused (409)
/// while messages belong to it.
#[utoipa::path(delete, path = "/campaigns/{id}", tag = "campaigns", params(("id" = CampaignId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_campaign(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<CampaignId>,
) -> ApiResult<StatusCode> {
    st.store.delete_campaign(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a campaign's members, newest first: current ones, or with
/// `include_left=true` also the memberships that ended.
#[utoipa::path(get, path = "/campaigns/{id}/members", tag = "campaigns", params(("id" = CampaignId, Path), MemberFilter, PageQuery),
    responses((status = 200, body = Page<CampaignMember>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn list_members(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<CampaignId>,
    Query(f): Query<MemberFilter>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<CampaignMember>>> {
    let page = page.page()?;
    Ok(Json(st.store.campaign_members(id, &f, page).await?.into()))
}

/// Enrol a person in a campaign: 201 with the new membership, or 200 with
/// the current one when the person already is a member.
#[utoipa::path(post, path = "/campaigns/{id}/members", tag = "campaigns", params(("id" = CampaignId, Path)), request_body = NewMember,
    responses((status = 201, body = CampaignMember), (status = 200, body = CampaignMember), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_member(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<CampaignId>,
    Json(n): Json<NewMember>,
) -> ApiResult<(StatusCode, Json<CampaignMember>)> {
    let (m, new) = st.store.add_campaign_member(&u.actor(), id, n).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, Json(m)))
}

/// Remove a person from a campaign: the membership ends now (it stays in
/// the list with `include_left=true` and in the person's timeline).
#[utoipa::path(delete, path = "/campaigns/{id}/members/{person_id}", tag = "campaigns",
    params(("id" = CampaignId, Path), ("person_id" = PersonId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn remove_member(
    State(st): State<AppState>,
    u: CurrentUser,
    Path((id, person)): Path<(CampaignId, PersonId)>,
) -> ApiResult<StatusCode> {
    st.store.remove_campaign_member(&u.actor(), id, person).await?;
    Ok(StatusCode::NO_CONTENT)
}
